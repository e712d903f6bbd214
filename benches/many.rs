//! Many small files and long listings: this crate's [`Batch`](openrouter_files::Batch) against
//! `curl -Z`, the official Python SDK (asyncio + semaphore) and the official TypeScript SDK
//! (promise pool), on the same loopback emulator, in the same run.
//!
//! ```text
//! cargo bench --bench many              # 500 × 4 KB at 1, 8, 32 in flight, 0 and 10 ms; list 100,000
//! cargo bench --bench many -- --quick   # 60 files, 1 and 8 in flight, list 3,000 (CI)
//! cargo bench --bench many -- --runs 1  # the full set, once
//! ```
//!
//! Each row is one process (ours: this binary with `--scenario`), timed with GNU time for
//! peak RSS and CPU. A relay in front of the emulator adds the latency (every server byte
//! arrives that much later) and counts TCP connections. The SDKs are installed into a temp
//! dir (pinned: `openrouter==1.3.84` from PyPI, `@openrouter/sdk@1.3.19` from npm); when that
//! fails the rows say so and the rest runs. `OPENROUTER_BENCH_PYTHON` (a Python with the SDK)
//! and `OPENROUTER_BENCH_NODE_SDK` (a directory with it in node_modules) skip the install.
//! The benchmark fails if a scenario errors, never on timings.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use common::{Relay, Res, Sample, measure, median, start_server};

const PY_SDK: &str = "openrouter==1.3.84";
const TS_SDK: &str = "@openrouter/sdk@1.3.19";

struct Settings {
    runs: usize,
    files: usize,
    file_bytes: usize,
    in_flight: Vec<usize>,
    latencies_ms: Vec<u64>,
    list_files: usize,
}

fn main() -> ExitCode {
    common::run_main(scenario, bench)
}

/// Child mode: ours, one measured job.
fn scenario(args: &[String]) -> Res {
    let (name, base, key) = (&args[0], &args[1], &args[2]);
    let client = common::client(base, key)?;
    match name.as_str() {
        "many" => {
            let files: usize = args[3].parse()?;
            let workers: usize = args[4].parse()?;
            let paths = vec![PathBuf::from(&args[5]); files];
            let batch = || client.batch().concurrency(workers);
            let uploaded = batch().upload_paths(&paths);
            if let Some(e) = uploaded.first_error() {
                return Err(format!("upload: {e}").into());
            }
            let ids: Vec<&str> = uploaded.done().map(|(_, f)| f.id.as_str()).collect();
            if let Some(e) = batch().retrieve(&ids).first_error() {
                return Err(format!("retrieve: {e}").into());
            }
            if let Some(e) = batch().delete(&ids).first_error() {
                return Err(format!("delete: {e}").into());
            }
        }
        "list" => {
            let mut count = 0usize;
            for file in client.list().page_size(args[3].parse()?) {
                file?;
                count += 1;
            }
            println!("{count}");
        }
        other => return Err(format!("unknown scenario {other}").into()),
    }
    Ok(())
}

fn bench(args: &[String]) -> Res {
    let quick = args.iter().any(|a| a == "--quick");
    let mut settings = if quick {
        Settings {
            runs: 1,
            files: 60,
            file_bytes: 4096,
            in_flight: vec![1, 8],
            latencies_ms: vec![0, 10],
            list_files: 3_000,
        }
    } else {
        Settings {
            runs: 3,
            files: 500,
            file_bytes: 4096,
            in_flight: vec![1, 8, 32],
            latencies_ms: vec![0, 10],
            list_files: 100_000,
        }
    };
    if let Some(runs) = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
    {
        settings.runs = runs.parse()?;
    }
    let work = std::env::temp_dir().join(format!("openrouter-files-many-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let result = run_all(&settings, &work);
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// The tools compared, each a way to run one job.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tool {
    Ours,
    Curl,
    Python,
    TypeScript,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Ours => "openrouter-files",
            Tool::Curl => "curl -Z",
            Tool::Python => "Python SDK",
            Tool::TypeScript => "TypeScript SDK",
        }
    }
}

/// Where the SDKs are, or why they are not.
struct Sdks {
    python: Result<String, String>,
    node: Result<String, String>,
}

fn install_sdks(work: &Path) -> Sdks {
    let python = match std::env::var("OPENROUTER_BENCH_PYTHON") {
        Ok(p) => Ok(p),
        Err(_) => {
            let venv = work.join("py");
            let ok = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .is_ok_and(|s| s.success())
                && Command::new(venv.join("bin/pip"))
                    .args(["install", "-q", PY_SDK])
                    .status()
                    .is_ok_and(|s| s.success());
            let python = venv.join("bin/python").to_string_lossy().into_owned();
            if ok {
                Ok(python)
            } else {
                Err(format!("could not install {PY_SDK} from PyPI"))
            }
        }
    };
    let node = match std::env::var("OPENROUTER_BENCH_NODE_SDK") {
        Ok(d) => Ok(d),
        Err(_) => {
            let dir = work.join("ts");
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(dir.join("package.json"), r#"{"private":true}"#);
            let ok = Command::new("npm")
                .args(["install", "--silent", "--no-audit", "--no-fund", TS_SDK])
                .current_dir(&dir)
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                Ok(dir.to_string_lossy().into_owned())
            } else {
                Err(format!("could not install {TS_SDK} from npm"))
            }
        }
    };
    for (name, sdk) in [("Python", &python), ("TypeScript", &node)] {
        if let Err(why) = sdk {
            println!("{name} SDK rows skipped: {why}");
        }
    }
    Sdks { python, node }
}

fn sdk_script(name: &str) -> String {
    format!("{}/benches/sdk/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// One job run by one tool: its sample (curl's three phases summed) and connections used.
struct Row {
    sample: Sample,
    conns: usize,
    stdout: String,
}

struct Ctx<'a> {
    me: String,
    base: String,
    key: String,
    relay: &'a Relay,
    sdks: &'a Sdks,
    work: &'a Path,
}

impl Ctx<'_> {
    /// Runs `tool` on a job given by its arguments (`many FILES N PATH` or `list LIMIT`);
    /// `Ok(None)` when the tool is not available.
    fn run(&self, tool: Tool, job: &[String]) -> Res<Option<Row>> {
        let before = self.relay.accepted();
        // `first job-name base key job-args…`
        let argv = |first: String| {
            let mut all = vec![first, job[0].clone(), self.base.clone(), self.key.clone()];
            all.extend_from_slice(&job[1..]);
            all
        };
        let (sample, stdout) = match tool {
            Tool::Ours => measure(&self.me, &argv("--scenario".into()), &[])?,
            Tool::Python => {
                let Ok(python) = &self.sdks.python else {
                    return Ok(None);
                };
                measure(python, &argv(sdk_script("many.py")), &[])?
            }
            Tool::TypeScript => {
                let Ok(dir) = &self.sdks.node else {
                    return Ok(None);
                };
                measure("node", &argv(sdk_script("many.mjs")), &[("SDK_DIR", dir)])?
            }
            Tool::Curl => {
                if job[0] != "many" {
                    return Ok(None);
                }
                self.curl_many(job[1].parse()?, job[2].parse()?, &job[3])?
            }
        };
        Ok(Some(Row {
            sample,
            conns: self.relay.accepted() - before,
            stdout,
        }))
    }

    /// curl's upload, retrieve and delete phases, each one `curl -Z` process; summed.
    fn curl_many(&self, files: usize, workers: usize, path: &str) -> Res<(Sample, String)> {
        let base = &self.base;
        let auth = format!("header = \"Authorization: Bearer {}\"\n", self.key);
        let blocks = |each: &dyn Fn(usize) -> String| {
            (0..files).map(each).collect::<Vec<_>>().join("next\n")
        };
        let uploads = blocks(&|i| {
            format!("url = \"{base}/files\"\n{auth}form = \"file=@{path};filename=f{i:04}.txt\"\n")
        });
        let (up, out) = self.curl(&uploads, workers, "upload")?;
        let ids: Vec<String> = out
            .split("\"id\":\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .map(str::to_string)
            .collect();
        if ids.len() != files {
            return Err(format!("curl uploaded {} of {files} files", ids.len()).into());
        }
        let retrieves = blocks(&|i| {
            format!(
                "url = \"{base}/files/{}\"\n{auth}output = \"/dev/null\"\n",
                ids[i]
            )
        });
        let (get, _) = self.curl(&retrieves, workers, "retrieve")?;
        let deletes = blocks(&|i| {
            format!(
                "url = \"{base}/files/{}\"\n{auth}request = \"DELETE\"\noutput = \"/dev/null\"\n",
                ids[i]
            )
        });
        let (del, _) = self.curl(&deletes, workers, "delete")?;
        let sum = Sample {
            secs: up.secs + get.secs + del.secs,
            rss_kib: up.rss_kib.max(get.rss_kib).max(del.rss_kib),
            cpu: up.cpu + get.cpu + del.cpu,
        };
        Ok((sum, String::new()))
    }

    fn curl(&self, config: &str, workers: usize, name: &str) -> Res<(Sample, String)> {
        let path = self.work.join(format!("{name}.curl"));
        std::fs::write(&path, config)?;
        let args = [
            "-sS".to_string(),
            "--fail".into(),
            "-Z".into(),
            "--parallel-max".into(),
            workers.to_string(),
            "-K".into(),
            path.to_string_lossy().into_owned(),
        ];
        measure("curl", &args, &[])
    }
}

/// Medians over the runs of one tool on one job.
struct Summary {
    tool: Tool,
    secs: f64,
    rss_mb: f64,
    cpu: f64,
    conns: usize,
}

fn summarize(tool: Tool, rows: &[Row]) -> Summary {
    Summary {
        tool,
        secs: median(rows.iter().map(|r| r.sample.secs).collect()),
        rss_mb: rows.iter().map(|r| r.sample.rss_kib).max().unwrap_or(0) as f64 / 1024.0,
        cpu: median(rows.iter().map(|r| r.sample.cpu).collect()),
        conns: rows.iter().map(|r| r.conns).max().unwrap_or(0),
    }
}

fn run_all(settings: &Settings, work: &Path) -> Res {
    let sdks = install_sdks(work);
    let me = std::env::current_exe()?.to_string_lossy().into_owned();
    let file = work.join("small.txt");
    let line = "the quick brown fox jumps over the lazy dog 0123456789\n";
    std::fs::write(
        &file,
        &line.repeat(settings.file_bytes / line.len() + 1).as_bytes()[..settings.file_bytes],
    )?;
    let path = file.to_string_lossy().into_owned();
    let tools = [Tool::Ours, Tool::Curl, Tool::Python, Tool::TypeScript];
    let mut failures = Vec::new();

    println!(
        "\n## {} files of {} bytes: upload, retrieve, delete ({} requests); median of {} run(s)\n",
        settings.files,
        settings.file_bytes,
        settings.files * 3,
        settings.runs
    );
    println!(
        "| latency | in flight | tool | wall s | req/s | peak RSS | CPU s | TCP conns | target |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let server = start_server(0, 1)?;
    let upstream = emulator_addr(&server.base)?;
    for &latency in &settings.latencies_ms {
        let relay = Relay::start(upstream, Duration::from_millis(latency))?;
        let ctx = Ctx {
            me: me.clone(),
            base: format!("http://{}/api/v1", relay.addr),
            key: server.key.clone(),
            relay: &relay,
            sdks: &sdks,
            work,
        };
        for &n in &settings.in_flight {
            let job = [
                "many".to_string(),
                settings.files.to_string(),
                n.to_string(),
                path.clone(),
            ];
            let mut results = Vec::new();
            for tool in tools {
                let mut rows = Vec::new();
                for _ in 0..settings.runs {
                    match ctx.run(tool, &job) {
                        Ok(Some(row)) => rows.push(row),
                        Ok(None) => break,
                        Err(e) => {
                            failures.push(format!(
                                "{} at {latency} ms, {n} in flight: {e}",
                                tool.name()
                            ));
                            break;
                        }
                    }
                }
                if !rows.is_empty() {
                    results.push(summarize(tool, &rows));
                }
            }
            let requests = (settings.files * 3) as f64;
            for s in &results {
                let verdict = if s.tool == Tool::Ours {
                    many_verdict(s, &results, latency, n, requests)
                } else {
                    String::new()
                };
                println!(
                    "| {latency} ms | {n} | {} | {:.3} | {:.0} | {:.1} MB | {:.2} | {} | {verdict} |",
                    s.tool.name(),
                    s.secs,
                    requests / s.secs.max(1e-9),
                    s.rss_mb,
                    s.cpu,
                    s.conns,
                );
            }
        }
    }
    drop(server);

    println!(
        "\n## list {} files; median of {} run(s)\n",
        settings.list_files, settings.runs
    );
    println!("| limit | tool | wall s | peak RSS | CPU s | files seen | target |");
    println!("|---|---|---|---|---|---|---|");
    let server = start_server(settings.list_files - 1, 1)?;
    let relay = Relay::start(emulator_addr(&server.base)?, Duration::ZERO)?;
    let ctx = Ctx {
        me,
        base: format!("http://{}/api/v1", relay.addr),
        key: server.key.clone(),
        relay: &relay,
        sdks: &sdks,
        work,
    };
    for limit in [1000usize, 100] {
        let job = ["list".to_string(), limit.to_string()];
        let mut results = Vec::new();
        for tool in [Tool::Ours, Tool::Python, Tool::TypeScript] {
            let mut rows = Vec::new();
            for _ in 0..settings.runs {
                match ctx.run(tool, &job) {
                    Ok(Some(row)) => {
                        let seen: usize = row.stdout.trim().parse().unwrap_or(0);
                        if seen != settings.list_files {
                            failures.push(format!(
                                "{} listed {seen} of {} files",
                                tool.name(),
                                settings.list_files
                            ));
                        }
                        rows.push(row);
                    }
                    Ok(None) => break,
                    Err(e) => {
                        failures.push(format!("{} list at limit {limit}: {e}", tool.name()));
                        break;
                    }
                }
            }
            if !rows.is_empty() {
                let seen = rows[0].stdout.trim().to_string();
                results.push((summarize(tool, &rows), seen));
            }
        }
        for (s, seen) in &results {
            let verdict = if s.tool == Tool::Ours {
                let ahead = results
                    .iter()
                    .filter(|(o, _)| o.tool != Tool::Ours)
                    .all(|(o, _)| s.secs < o.secs);
                format!("ahead of both SDKs: {}", met(ahead))
            } else {
                String::new()
            };
            println!(
                "| {limit} | {} | {:.3} | {:.1} MB | {:.2} | {seen} | {verdict} |",
                s.tool.name(),
                s.secs,
                s.rss_mb,
                s.cpu,
            );
        }
    }
    println!("\nOne shared machine: timings are indicative; compare rows of the same run only.");
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("scenarios failed:\n  {}", failures.join("\n  ")).into())
    }
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "missed" }
}

/// The issue's targets for ours in a many-files row.
fn many_verdict(ours: &Summary, all: &[Summary], latency: u64, n: usize, requests: f64) -> String {
    let mut parts = Vec::new();
    let others = |tool: Tool| all.iter().find(|s| s.tool == tool).map(|s| s.secs);
    if latency > 0 && n > 1 {
        let bound = requests * latency as f64 / 1000.0 / n as f64;
        parts.push(format!(
            "{:.2}× latency bound {bound:.2} s (≤1.15): {}",
            ours.secs / bound,
            met(ours.secs <= 1.15 * bound)
        ));
        if let Some(curl) = others(Tool::Curl) {
            parts.push(format!("≤ curl: {}", met(ours.secs <= curl)));
        }
    }
    let sdks: Vec<f64> = [Tool::Python, Tool::TypeScript]
        .into_iter()
        .filter_map(others)
        .collect();
    if !sdks.is_empty() {
        parts.push(format!(
            "ahead of SDKs: {}",
            met(sdks.iter().all(|&s| ours.secs < s))
        ));
    }
    if n == 32 {
        parts.push(format!("RSS < 16 MB: {}", met(ours.rss_mb < 16.0)));
    }
    parts.push(format!("conns = workers: {}", met(ours.conns == n)));
    parts.join("; ")
}

/// The emulator's socket address from its base URL.
fn emulator_addr(base: &str) -> Res<std::net::SocketAddr> {
    let host = base
        .trim_start_matches("http://")
        .split('/')
        .next()
        .ok_or("bad base URL")?;
    Ok(host.parse()?)
}
