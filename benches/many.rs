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
//! peak RSS and CPU. A link emulator (benches/common/link.rs) in front of the emulator adds
//! the round trip (half of it each way) and counts TCP connections. The SDKs are installed into a temp
//! dir (pinned: `openrouter==1.3.84` from PyPI, `@openrouter/sdk@1.3.19` from npm); when that
//! fails the rows say so and the rest runs. `OPENROUTER_BENCH_PYTHON` (a Python with the SDK)
//! and `OPENROUTER_BENCH_NODE_SDK` (a directory with it in node_modules) skip the install.
//! The benchmark fails if a scenario errors, never on timings.

mod common;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use common::link::{Link, Shape};
use common::peers::{Ctx, Summary, Tool, emulator_addr, met, summarize};
use common::sdk::install_sdks;
use common::{Res, start_server};

struct Settings {
    runs: usize,
    files: usize,
    file_bytes: usize,
    in_flight: Vec<usize>,
    latencies_ms: Vec<u64>,
    list_files: usize,
}

fn main() -> ExitCode {
    common::run_main(common::peers::scenario, bench)
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
    if let Some(runs) = common::option(args, "--runs")? {
        settings.runs = runs;
    }
    common::in_scratch_dir("many", |work| run_all(&settings, work))
}

fn run_all(settings: &Settings, work: &Path) -> Res {
    let sdks = install_sdks(work);
    let me = std::env::current_exe()?.to_string_lossy().into_owned();
    let path = common::write_text_file(&work.join("small.txt"), settings.file_bytes)?;
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
        let relay = Link::start(upstream, Shape::rtt(Duration::from_millis(latency)))?;
        let ctx = Ctx {
            me: me.clone(),
            base: format!("http://{}/api/v1", relay.addr),
            key: server.key.clone(),
            relay: &relay,
            sdks: &sdks,
            work,
            ca: None,
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
    let relay = Link::start(emulator_addr(&server.base)?, Shape::default())?;
    let ctx = Ctx {
        me,
        base: format!("http://{}/api/v1", relay.addr),
        key: server.key.clone(),
        relay: &relay,
        sdks: &sdks,
        work,
        ca: None,
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
