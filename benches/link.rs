//! On a real link, not loopback: TLS (nginx, HTTP/1.1 and HTTP/2, a CA made at run time) in
//! front of the emulator, behind a link emulator that delays each direction, at 20 ms, 50 ms
//! (with 200 Mbit/s) and 150 ms round trips. Ours against `curl -Z` (HTTP/2 and HTTP/1.1) and
//! the official Python and TypeScript SDKs: many small files (upload + retrieve + delete at 1,
//! 8 and 32 in flight), 100 MB up and down, listing 10,000 files, and 200 sequential CLI `info`
//! invocations against 200 `curl` invocations.
//!
//! ```text
//! cargo bench --bench link              # every profile and scenario (about 15 minutes)
//! cargo bench --bench link -- --quick   # one profile (50 ms, 200 Mbit/s), small sizes (CI)
//! ```
//!
//! Every row prints its floor (round trips × RTT ÷ workers + handshakes, or bytes ÷ rate) and
//! the ratio to it, and the TLS handshakes nginx saw (and how many resumed a session). As root
//! with `ip`, the emulator and nginx run in their own network namespace behind a veth pair
//! whose ends carry a `tbf` rate limit; otherwise everything is on loopback and the link
//! emulator paces the bytes itself (the output says which). What a userspace relay cannot show
//! is printed with the results and explained in BENCHMARKS.md, with the `tc netem` commands
//! for a kernel that has it. The benchmark fails if a scenario errors, never on timings.

mod common;
#[path = "link/invocations.rs"]
mod invocations;
#[path = "link/netns.rs"]
mod netns;
#[path = "link/tls.rs"]
mod tls;

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use common::link::{Link, Shape};
use common::nginx::{Nginx, free_port};
use common::peers::{Ctx, Row, Tool, emulator_addr, met, summarize};
use common::sdk::{Sdks, install_sdks};
use common::{Res, Sample, measure, median, start_server_in};
use openrouter_files::{FilesClient, Upload};

/// A link's round trip and rate.
#[derive(Clone, Copy)]
pub struct Profile {
    rtt_ms: u64,
    rate_mbit: Option<u64>,
}

impl Profile {
    fn rtt(&self) -> f64 {
        self.rtt_ms as f64 / 1000.0
    }

    fn name(&self) -> String {
        match self.rate_mbit {
            Some(mbit) => format!("{} ms, {mbit} Mbit/s", self.rtt_ms),
            None => format!("{} ms", self.rtt_ms),
        }
    }
}

pub struct Settings {
    runs: usize,
    profiles: Vec<Profile>,
    files: usize,
    file_bytes: usize,
    in_flight: Vec<usize>,
    big_bytes: u64,
    list_files: usize,
    invocations: usize,
}

fn main() -> ExitCode {
    common::run_main(scenario, bench)
}

/// Prints `what` on standard error with the seconds since the benchmark started.
fn progress(what: &str) {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let start = START.get_or_init(std::time::Instant::now);
    eprintln!("[{:6.1} s] {what}", start.elapsed().as_secs_f64());
}

/// Child mode: ours, one measured job (`upload`, `download`, or a many-files job).
fn scenario(args: &[String]) -> Res {
    match args[0].as_str() {
        "upload" => {
            common::client(&args[1], &args[2])?.upload(Upload::path(&args[3]))?;
            Ok(())
        }
        "download" => {
            common::client(&args[1], &args[2])?.download_to(&args[3], &args[4])?;
            Ok(())
        }
        "download-retrying" => {
            // The client's default retry policy: a broken transfer resumes with a range.
            let mut builder = FilesClient::builder().api_key(&args[2]).base_url(&args[1]);
            if let Ok(ca) = std::env::var(common::peers::CA_ENV) {
                builder = builder.add_root_certificate(std::fs::read(ca)?);
            }
            builder.build()?.download_to(&args[3], &args[4])?;
            let got = std::fs::metadata(&args[4])?.len();
            println!("{got}");
            Ok(())
        }
        _ => common::peers::scenario(args),
    }
}

fn bench(args: &[String]) -> Res {
    let quick = args.iter().any(|a| a == "--quick");
    let mut settings = if quick {
        Settings {
            runs: 1,
            profiles: vec![Profile {
                rtt_ms: 50,
                rate_mbit: Some(200),
            }],
            files: 16,
            file_bytes: 4096,
            in_flight: vec![1, 8],
            big_bytes: 5_000_000,
            list_files: 2_000,
            invocations: 20,
        }
    } else {
        Settings {
            runs: 1,
            profiles: vec![
                Profile {
                    rtt_ms: 20,
                    rate_mbit: None,
                },
                Profile {
                    rtt_ms: 50,
                    rate_mbit: Some(200),
                },
                Profile {
                    rtt_ms: 150,
                    rate_mbit: None,
                },
            ],
            files: 64,
            file_bytes: 4096,
            in_flight: vec![1, 8, 32],
            big_bytes: 100_000_000,
            list_files: 10_000,
            invocations: 200,
        }
    };
    if let Some(runs) = common::option(args, "--runs")? {
        settings.runs = runs;
    }
    common::in_scratch_dir("link", |work| run_all(&settings, work))
}

/// The server side: the emulator and nginx with TLS in front of it, in a namespace when
/// there is one.
struct Servers {
    nginx: Nginx,
    /// Where nginx listens, as seen from the link emulator.
    tls_addr: SocketAddr,
    server: common::Server,
    // Dropped last: the processes in the namespace are stopped first.
    netns: Option<netns::Netns>,
}

fn start_servers(settings: &Settings, work: &Path, pki: &Path) -> Res<Servers> {
    let netns = match netns::Netns::create() {
        Ok(ns) => {
            println!(
                "server side: emulator and nginx in network namespace at {}, rate limits by tbf on its veth pair",
                ns.addr
            );
            Some(ns)
        }
        Err(why) => {
            println!(
                "server side on loopback, rate limits paced by the link emulator (kernel tbf part skipped: {why})"
            );
            None
        }
    };
    let wrapper = netns.as_ref().map(|n| n.wrapper()).unwrap_or_default();
    let server = start_server_in(settings.list_files - 1, settings.big_bytes, &wrapper)?;
    let ip = netns
        .as_ref()
        .map_or([127, 0, 0, 1].into(), |n| std::net::IpAddr::V4(n.addr));
    let tls_addr = SocketAddr::new(ip, free_port()?);
    let nginx = tls::start(
        &work.join("nginx"),
        pki,
        tls_addr,
        emulator_addr(&server.base)?,
        &wrapper,
    )?;
    Ok(Servers {
        nginx,
        tls_addr,
        server,
        netns,
    })
}

/// What one profile's rows run against.
struct Env<'a> {
    profile: Profile,
    /// The shape of `link`.
    link_shape: Shape,
    servers: &'a Servers,
    link: Link,
    base: String,
    ca: String,
    sdks: &'a Sdks,
    work: &'a Path,
    me: String,
    log_offset: std::cell::Cell<u64>,
}

impl Env<'_> {
    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            me: self.me.clone(),
            base: self.base.clone(),
            key: self.servers.server.key.clone(),
            relay: &self.link,
            sdks: self.sdks,
            work: self.work,
            ca: Some(self.ca.clone()),
        }
    }

    /// The handshakes nginx logged since the last call.
    fn handshakes(&self) -> Res<tls::Handshakes> {
        let (h, end) = tls::handshakes_since(&self.servers.nginx, self.log_offset.get())?;
        self.log_offset.set(end);
        Ok(h)
    }

    /// A client over the link for set-up and clean-up, trusting the CA.
    fn admin(&self) -> Res<FilesClient> {
        Ok(FilesClient::builder()
            .api_key(&self.servers.server.key)
            .base_url(&self.base)
            .add_root_certificate(std::fs::read(&self.ca)?)
            .build()?)
    }
}

fn run_all(settings: &Settings, work: &Path) -> Res {
    progress("installing the SDKs");
    let sdks = install_sdks(work);
    let pki = work.join("pki");
    let ca = tls::make_pki(&pki)?;
    progress("starting the emulator and nginx");
    let servers = start_servers(settings, work, &pki)?;
    let me = std::env::current_exe()?.to_string_lossy().into_owned();
    let small = common::write_text_file(&work.join("small.txt"), settings.file_bytes)?;
    progress("building the CLI");
    let cli = common::cli_binary();
    if let Err(e) = &cli {
        println!("CLI rows skipped: {e}");
    }
    let mut failures = Vec::new();
    let mut tables = Tables::default();
    for &profile in &settings.profiles {
        let mut shape = Shape::rtt(Duration::from_millis(profile.rtt_ms));
        match (&servers.netns, profile.rate_mbit) {
            (Some(ns), rate) => ns.rate(rate)?,
            (None, Some(mbit)) => shape = shape.rate_mbit(mbit),
            (None, None) => {}
        }
        let link = Link::start(servers.tls_addr, shape)?;
        let env = Env {
            profile,
            link_shape: shape,
            servers: &servers,
            base: format!("https://127.0.0.1:{}/api/v1", link.addr.port()),
            link,
            ca: ca.clone(),
            sdks: &sdks,
            work,
            me: me.clone(),
            log_offset: std::cell::Cell::new(0),
        };
        env.handshakes()?;
        progress(&format!("{}: many small files", profile.name()));
        many_rows(settings, &env, &small, &mut tables, &mut failures)?;
        progress(&format!("{}: transfers", profile.name()));
        transfer_rows(settings, &env, &mut tables, &mut failures)?;
        progress(&format!("{}: listing", profile.name()));
        list_rows(settings, &env, &mut tables, &mut failures)?;
        if let Ok(cli) = &cli {
            progress(&format!("{}: CLI invocations", profile.name()));
            invocations::rows(settings, &env, cli, &mut tables.cli, &mut failures)?;
        }
    }
    progress("done");
    tables.print(settings);
    print_limits(servers.netns.is_some());
    drop(servers);
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("scenarios failed:\n  {}", failures.join("\n  ")).into())
    }
}

/// The printed rows, collected per table so each table is printed whole at the end.
#[derive(Default)]
pub struct Tables {
    many: Vec<String>,
    transfer: Vec<String>,
    list: Vec<String>,
    pub cli: Vec<String>,
}

impl Tables {
    fn print(&self, settings: &Settings) {
        println!(
            "\n## {} files of {} bytes over TLS: upload, retrieve, delete ({} requests); median of {} run(s)\n",
            settings.files,
            settings.file_bytes,
            settings.files * 3,
            settings.runs
        );
        println!(
            "floor = (3 × ⌈files ÷ in flight⌉ + 1) × RTT: every request one round trip, plus the TLS 1.3 handshake once (the relay answers TCP handshakes locally).\n"
        );
        println!(
            "| link | in flight | tool | wall s | floor s | × floor | TLS handshakes (resumed) | HTTP | peak RSS | CPU s | target |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|");
        for row in &self.many {
            println!("{row}");
        }
        println!(
            "\n## {} MB over TLS, one transfer; median of {} run(s)\n",
            settings.big_bytes / 1_000_000,
            settings.runs
        );
        println!(
            "floor = bytes × 8 ÷ rate + 2 RTT (TLS handshake, request); without a rate, 2 RTT only (the ratio to curl is what counts).\n"
        );
        println!(
            "| link | transfer | tool | wall s | floor s | × floor | MB/s | CPU s | peak RSS | TLS handshakes | target |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|");
        for row in &self.transfer {
            println!("{row}");
        }
        println!(
            "\n## list {} files over TLS, 1,000 per page; median of {} run(s)\n",
            settings.list_files, settings.runs
        );
        println!("floor = (pages + 1) × RTT (one request per page, the TLS handshake).\n");
        println!(
            "| link | tool | wall s | floor s | × floor | files seen | TLS handshakes | CPU s | target |"
        );
        println!("|---|---|---|---|---|---|---|---|---|");
        for row in &self.list {
            println!("{row}");
        }
        invocations::print(settings, &self.cli);
    }
}

/// Runs `once` `runs` times, `after` after each; the rows and the handshakes of the last run
/// (`after`'s not counted).
fn repeat(
    env: &Env,
    runs: usize,
    what: &str,
    failures: &mut Vec<String>,
    mut once: impl FnMut() -> Res<Option<Row>>,
    after: &dyn Fn() -> Res,
) -> Res<Option<(Vec<Row>, tls::Handshakes)>> {
    let mut rows = Vec::new();
    let mut handshakes = None;
    for _ in 0..runs {
        match once() {
            Ok(Some(row)) => rows.push(row),
            Ok(None) => return Ok(None),
            Err(e) => {
                failures.push(format!("{what} at {}: {e}", env.profile.name()));
                env.handshakes()?;
                return Ok(None);
            }
        }
        handshakes = Some(env.handshakes()?);
        after()?;
        env.handshakes()?;
    }
    Ok(handshakes.map(|h| (rows, h)))
}

fn many_rows(
    settings: &Settings,
    env: &Env,
    small: &str,
    tables: &mut Tables,
    failures: &mut Vec<String>,
) -> Res {
    let ctx = env.ctx();
    let rtt = env.profile.rtt();
    for &n in &settings.in_flight {
        let job = [
            "many".to_string(),
            settings.files.to_string(),
            n.to_string(),
            small.to_string(),
        ];
        let floor = (3 * settings.files.div_ceil(n) + 1) as f64 * rtt;
        let tools = [
            Tool::Ours,
            Tool::Curl,
            Tool::CurlHttp1,
            Tool::Python,
            Tool::TypeScript,
        ];
        let mut results = Vec::new();
        for tool in tools {
            let what = format!("{}, {n} in flight", tool.name());
            if let Some((rows, h)) = repeat(
                env,
                settings.runs,
                &what,
                failures,
                || ctx.run(tool, &job),
                &|| Ok(()),
            )? {
                results.push((summarize(tool, &rows), h));
            }
        }
        // Ours over a link without delay: process start, TLS set-up and the server's time,
        // which the floor leaves out.
        let direct = Link::start(env.servers.tls_addr, Shape::default())?;
        let direct_ctx = Ctx {
            base: format!("https://127.0.0.1:{}/api/v1", direct.addr.port()),
            relay: &direct,
            ..env.ctx()
        };
        let overhead = match direct_ctx.run(Tool::Ours, &job) {
            Ok(Some(row)) => Some(row.sample.secs),
            Ok(None) => None,
            Err(e) => {
                failures.push(format!("ours without delay, {n} in flight: {e}"));
                None
            }
        };
        env.handshakes()?;
        let curl = results
            .iter()
            .find(|(s, _)| s.tool == Tool::Curl)
            .map(|(s, _)| s.secs);
        for (s, h) in &results {
            let target = if s.tool == Tool::Ours {
                let mut parts = vec![format!("≤1.15× floor: {}", met(s.secs <= 1.15 * floor))];
                if let (Some(curl), true) = (curl, n > 1) {
                    parts.push(format!("≤ curl -Z HTTP/2: {}", met(s.secs <= curl)));
                }
                parts.push(format!(
                    "one TLS connection per worker for the batch: {}",
                    met(h.connections == n)
                ));
                if let Some(overhead) = overhead {
                    parts.push(format!(
                        "the same without delay takes {overhead:.3} s (floor + that: {:.2}×)",
                        s.secs / (floor + overhead)
                    ));
                }
                parts.join("; ")
            } else {
                String::new()
            };
            tables.many.push(format!(
                "| {} | {n} | {} | {:.3} | {floor:.3} | {:.2} | {} ({}) | {} | {:.1} MB | {:.2} | {target} |",
                env.profile.name(),
                s.tool.name(),
                s.secs,
                s.secs / floor,
                h.connections,
                h.resumed,
                h.protocol,
                s.rss_mb,
                s.cpu,
            ));
        }
    }
    Ok(())
}

/// The largest upload `curl` makes over HTTP/2 here (it is CPU-bound at about 1 MB/s).
const H2_UPLOAD_MAX: u64 = 10_000_000;

/// One way to move the big file, run as a measured process.
type Runner<'a> = Box<dyn Fn() -> Res<(Sample, String)> + 'a>;

/// Ours, `curl` (HTTP/2 by ALPN) and `curl --http1.1`, each moving the big file up or down.
fn transfer_rows(
    settings: &Settings,
    env: &Env,
    tables: &mut Tables,
    failures: &mut Vec<String>,
) -> Res {
    let admin = env.admin()?;
    let key = &env.servers.server.key;
    let upload = env.work.join("upload.bin");
    std::io::copy(
        &mut common::Filler::new(settings.big_bytes),
        &mut std::fs::File::create(&upload)?,
    )?;
    let up = upload.to_string_lossy().into_owned();
    let out = env.work.join("download.bin").to_string_lossy().into_owned();
    let big = &env.servers.server.big_id;
    let curl_args = |http1: bool, rest: &[String]| {
        let mut args: Vec<String> = ["-sS", "--fail", "--cacert", &env.ca, "-H"]
            .map(str::to_string)
            .to_vec();
        args.push(format!("Authorization: Bearer {key}"));
        if http1 {
            args.push("--http1.1".into());
        }
        args.extend_from_slice(rest);
        args
    };
    let clean = || -> Res {
        let _ = std::fs::remove_file(&out);
        common::delete_named(&admin, "upload.bin")
    };
    let rtt = env.profile.rtt();
    let bytes = settings.big_bytes as f64;
    let floor = 2.0 * rtt
        + env
            .profile
            .rate_mbit
            .map_or(0.0, |m| bytes * 8.0 / (m as f64 * 1e6));
    let env_ca = [(common::peers::CA_ENV, env.ca.as_str())];
    for direction in ["upload", "download"] {
        let ours_args: Vec<String> = match direction {
            "upload" => vec![up.clone()],
            _ => vec![big.clone(), out.clone()],
        };
        let curl_rest: Vec<String> = match direction {
            "upload" => vec![
                "-o".into(),
                "/dev/null".into(),
                "-F".into(),
                format!("file=@{up}"),
                format!("{}/files", env.base),
            ],
            _ => vec![
                "-o".into(),
                out.clone(),
                format!("{}/files/{big}/content", env.base),
            ],
        };
        let runners: [(&str, Runner); 3] = [
            (
                "openrouter-files",
                Box::new(|| {
                    let mut all = vec![
                        "--scenario".to_string(),
                        direction.to_string(),
                        env.base.clone(),
                        key.clone(),
                    ];
                    all.extend_from_slice(&ours_args);
                    measure(&env.me, &all, &env_ca)
                }),
            ),
            (
                "curl (HTTP/2)",
                Box::new(|| measure("curl", &curl_args(false, &curl_rest), &[])),
            ),
            (
                "curl --http1.1",
                Box::new(|| measure("curl", &curl_args(true, &curl_rest), &[])),
            ),
        ];
        let mut results = Vec::new();
        for (name, run) in &runners {
            if direction == "upload"
                && *name == "curl (HTTP/2)"
                && settings.big_bytes > H2_UPLOAD_MAX
            {
                println!(
                    "curl (HTTP/2) upload of {} MB skipped: curl 7.88 uploads over HTTP/2 at about 1 MB/s, CPU-bound (the --quick variant measures it on {} MB)",
                    settings.big_bytes / 1_000_000,
                    H2_UPLOAD_MAX / 1_000_000
                );
                continue;
            }
            let what = format!("{name} {direction}");
            let measured = repeat(
                env,
                settings.runs,
                &what,
                failures,
                || {
                    Ok(Some(Row {
                        sample: run()?.0,
                        conns: 0,
                        stdout: String::new(),
                    }))
                },
                &clean,
            )?;
            if let Some((rows, h)) = measured {
                results.push((*name, rows, h));
            }
        }
        let curl_best = results
            .iter()
            .filter(|(name, _, _)| name.starts_with("curl"))
            .map(|(_, rows, _)| median(rows.iter().map(|r| r.sample.secs).collect()))
            .fold(f64::INFINITY, f64::min);
        for (name, rows, h) in &results {
            let secs = median(rows.iter().map(|r| r.sample.secs).collect());
            let cpu = median(rows.iter().map(|r| r.sample.cpu).collect());
            let rss = rows.iter().map(|r| r.sample.rss_kib).max().unwrap_or(0) as f64 / 1024.0;
            let target = if *name == "openrouter-files" && curl_best.is_finite() {
                format!(
                    "≤1.05× the faster curl ({:.2}×): {}",
                    secs / curl_best,
                    met(secs <= 1.05 * curl_best)
                )
            } else {
                String::new()
            };
            tables.transfer.push(format!(
                "| {} | {direction} {} MB | {name} | {secs:.3} | {floor:.3} | {:.2} | {:.1} | {cpu:.2} | {rss:.1} MB | {} {} | {target} |",
                env.profile.name(),
                settings.big_bytes / 1_000_000,
                secs / floor,
                bytes / 1e6 / secs,
                h.connections,
                h.protocol,
            ));
        }
    }
    let _ = std::fs::remove_file(&upload);
    cut_row(settings, env, &out, tables, failures)
}

/// Ours downloading the big file over a link that cuts the first connection halfway: the
/// client's default retry policy resumes with a range on a new connection.
fn cut_row(
    settings: &Settings,
    env: &Env,
    out: &str,
    tables: &mut Tables,
    failures: &mut Vec<String>,
) -> Res {
    let mut shape = env.link_shape;
    shape.cut_after = Some(settings.big_bytes / 2);
    let cut = Link::start(env.servers.tls_addr, shape)?;
    let base = format!("https://127.0.0.1:{}/api/v1", cut.addr.port());
    let args: Vec<String> = [
        "--scenario",
        "download-retrying",
        &base,
        &env.servers.server.key,
        &env.servers.server.big_id,
        out,
    ]
    .map(str::to_string)
    .to_vec();
    let measured = measure(&env.me, &args, &[(common::peers::CA_ENV, env.ca.as_str())]);
    let _ = std::fs::remove_file(out);
    let h = env.handshakes()?;
    let (sample, stdout) = match measured {
        Ok(m) => m,
        Err(e) => {
            failures.push(format!(
                "download cut halfway at {}: {e}",
                env.profile.name()
            ));
            return Ok(());
        }
    };
    if stdout.trim() != settings.big_bytes.to_string() {
        failures.push(format!(
            "download cut halfway wrote {} bytes of {}",
            stdout.trim(),
            settings.big_bytes
        ));
    }
    let bytes = settings.big_bytes as f64;
    let rtt = env.profile.rtt();
    // Two connections: two handshakes and two requests, the bytes once.
    let floor = 4.0 * rtt
        + env
            .profile
            .rate_mbit
            .map_or(0.0, |m| bytes * 8.0 / (m as f64 * 1e6));
    tables.transfer.push(format!(
        "| {} | download {} MB, first connection cut halfway | openrouter-files (default retries: resumes with Range) | {:.3} | {floor:.3} | {:.2} | {:.1} | {:.2} | {:.1} MB | {} ({} requests) {} | resumed on a second connection, file complete: {} |",
        env.profile.name(),
        settings.big_bytes / 1_000_000,
        sample.secs,
        sample.secs / floor,
        bytes / 1e6 / sample.secs,
        sample.cpu,
        sample.rss_kib as f64 / 1024.0,
        h.connections,
        h.requests,
        h.protocol,
        met(h.connections == 2 && stdout.trim() == settings.big_bytes.to_string()),
    ));
    Ok(())
}

fn list_rows(
    settings: &Settings,
    env: &Env,
    tables: &mut Tables,
    failures: &mut Vec<String>,
) -> Res {
    let ctx = env.ctx();
    let job = ["list".to_string(), "1000".to_string()];
    let pages = settings.list_files.div_ceil(1000) as f64;
    let floor = (pages + 1.0) * env.profile.rtt();
    let mut results = Vec::new();
    for tool in [Tool::Ours, Tool::Python, Tool::TypeScript] {
        let what = format!("{} list", tool.name());
        if let Some((rows, h)) = repeat(
            env,
            settings.runs,
            &what,
            failures,
            || ctx.run(tool, &job),
            &|| Ok(()),
        )? {
            let seen: usize = rows[0].stdout.trim().parse().unwrap_or(0);
            if seen != settings.list_files {
                failures.push(format!(
                    "{} listed {seen} of {} files",
                    tool.name(),
                    settings.list_files
                ));
            }
            results.push((summarize(tool, &rows), seen, h));
        }
    }
    for (s, seen, h) in &results {
        let target = if s.tool == Tool::Ours {
            let ahead = results
                .iter()
                .filter(|(o, _, _)| o.tool != Tool::Ours)
                .all(|(o, _, _)| s.secs < o.secs);
            format!("ahead of both SDKs: {}", met(ahead))
        } else {
            String::new()
        };
        tables.list.push(format!(
            "| {} | {} | {:.3} | {floor:.3} | {:.2} | {seen} | {} {} | {:.2} | {target} |",
            env.profile.name(),
            s.tool.name(),
            s.secs,
            s.secs / floor,
            h.connections,
            h.protocol,
            s.cpu,
        ));
    }
    Ok(())
}

/// What the link emulator cannot show, printed with every run.
fn print_limits(kernel_rate: bool) {
    println!(
        "\nWhat this link cannot show: the link emulator is a userspace relay, so each side's TCP \
         talks to a loopback peer: TCP handshakes complete locally (no round trip), the \
         congestion window, slow start and loss recovery never see the delay, and nothing is lost (bytes are delayed{}, never dropped). Rows of large \
         transfers are therefore an upper bound on what a real path of this RTT allows. A kernel \
         with sch_netem shows those too: `tc qdisc add dev VETH root netem delay 25ms 2ms rate \
         200mbit` on both ends of a veth pair (see BENCHMARKS.md).",
        if kernel_rate {
            " and rate-limited by tbf in the kernel"
        } else {
            " and paced in userspace"
        }
    );
}
