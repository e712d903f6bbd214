//! Transfers against curl on the same loopback emulator, in the same run: 100 MB upload and
//! download, listing, sequential retrieves; then a 1 GB download from nginx (a static server
//! that is not the bottleneck) next to curl and a raw socket reader.
//!
//! ```text
//! cargo bench --bench transfer              # 100 MB transfers, 5,000 files, 1 GB from nginx
//! cargo bench --bench transfer -- --quick   # small sizes, 1 run (what CI runs)
//! ```
//!
//! The emulator runs in its own process (this binary with `--serve`), and each measured run
//! is its own process too (this binary with `--scenario …`, or curl), timed by GNU time
//! (`/usr/bin/time`), which reports the peak RSS and CPU; wall time is measured around the
//! process. After one warm-up of each, 6 counted runs of each alternate in ABBA order (ours,
//! curl, curl, ours, …). nginx is installed with apt-get when it is missing and the bench
//! runs as root; otherwise its rows are skipped with a note. The benchmark fails if a
//! scenario errors, never on timings.

mod common;
#[path = "transfer/nginx.rs"]
mod nginx;

use std::path::Path;
use std::process::ExitCode;

use common::{Filler, Res, Sample, measure, median, span, start_server, stats};
use openrouter_files::{FilesClient, Upload};

pub struct Settings {
    runs: usize,
    bytes: u64,
    files: usize,
    retrieves: usize,
    /// The size of the file nginx serves.
    big_bytes: u64,
}

fn main() -> ExitCode {
    common::run_main(scenario, bench)
}

/// Child mode: one measured operation through the client.
fn scenario(args: &[String]) -> Res {
    let (name, base, key) = (&args[0], &args[1], &args[2]);
    let client = common::client(base, key)?;
    match name.as_str() {
        "upload" => {
            client.upload(Upload::path(&args[3]))?;
        }
        "download" => {
            client.download_to(&args[3], &args[4])?;
        }
        "download-nosync" => {
            // Diagnostic: the same transfer into a plain file, without the temp file, fsync
            // and rename that `download_to` does for atomicity (curl does none of them).
            let mut file = std::fs::File::create(&args[4])?;
            std::io::copy(&mut client.download(&args[3])?, &mut file)?;
        }
        "list" => {
            let pages = client.list().page_size(args[3].parse()?).pages().count();
            println!("{pages}");
        }
        "retrieve" => {
            for _ in 0..args[4].parse::<usize>()? {
                client.retrieve(&args[3])?;
            }
        }
        "read" => {
            // The download reader alone: the body into the void.
            let bytes = std::io::copy(&mut client.download(&args[3])?, &mut std::io::sink())?;
            println!("{bytes}");
        }
        "raw" => println!("{}", nginx::raw_read(base, &args[3])?),
        other => return Err(format!("unknown scenario {other}").into()),
    }
    Ok(())
}

fn bench(args: &[String]) -> Res {
    let quick = args.iter().any(|a| a == "--quick");
    let settings = if quick {
        Settings {
            runs: 1,
            bytes: 5_000_000,
            files: 500,
            retrieves: 20,
            big_bytes: 50_000_000,
        }
    } else {
        Settings {
            runs: 6,
            bytes: 100_000_000,
            files: 5_000,
            retrieves: 200,
            big_bytes: 1_000_000_000,
        }
    };
    let work = std::env::temp_dir().join(format!("openrouter-files-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let result = run_all(&settings, &work).and_then(|()| nginx::bench(&settings, &work));
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// A measured pair series: ours and curl alternate; returns samples and per-run
/// (connections, requests) deltas for ours.
struct Series {
    name: String,
    ours: Vec<Sample>,
    curl: Vec<Sample>,
    ours_conns: Vec<u64>,
    ours_requests: Vec<u64>,
    curl_conns: Vec<u64>,
    note: String,
    target: Target,
}

/// The goal a scenario is held to.
#[derive(Clone, Copy)]
enum Target {
    /// Wall time ≤ 1.10 × curl and peak RSS ≤ 16 MB.
    Transfer,
    /// Wall time ≤ 1.2 × curl over exactly one connection.
    Retrieves,
    /// Wall time ≤ 1.2 × curl in exactly this many requests.
    List(u64),
    /// No target: shown to explain another row.
    Diagnostic,
}

impl Series {
    fn with_target(mut self, target: Target) -> Series {
        self.target = target;
        self
    }
}

impl Target {
    fn verdict(self, ratio: f64, rss_mb: f64, conns: u64, requests: u64) -> String {
        let (goal, met) = match self {
            Target::Transfer => ("≤1.10× curl, ≤16 MB", ratio <= 1.10 && rss_mb <= 16.0),
            Target::Retrieves => ("≤1.2× curl, 1 connection", ratio <= 1.2 && conns == 1),
            Target::List(n) => {
                return format!(
                    "≤1.2× curl, {n} requests: {}",
                    if ratio <= 1.2 && requests == n {
                        "met"
                    } else {
                        "missed"
                    }
                );
            }
            Target::Diagnostic => return "–".to_string(),
        };
        format!("{goal}: {}", if met { "met" } else { "missed" })
    }
}

fn series(
    name: &str,
    settings: &Settings,
    server: &common::Server,
    ours: &dyn Fn() -> Res<(Sample, String)>,
    curl: &dyn Fn() -> Res<(Sample, String)>,
    after: &dyn Fn() -> Res,
) -> Res<Series> {
    let mut s = Series {
        name: name.to_string(),
        ours: Vec::new(),
        curl: Vec::new(),
        ours_conns: Vec::new(),
        ours_requests: Vec::new(),
        curl_conns: Vec::new(),
        note: String::new(),
        target: Target::Diagnostic,
    };
    let warmups = if settings.runs > 1 { 1 } else { 0 };
    for run in 0..warmups + settings.runs {
        let counted = run >= warmups;
        // ABBA order (ours first on even runs, curl first on odd ones), so that neither
        // side always runs right after the other's writes.
        let measured = |which: &dyn Fn() -> Res<(Sample, String)>| -> Res<_> {
            let before = stats(&server.base)?;
            let (sample, out) = which()?;
            let end = stats(&server.base)?;
            after()?;
            // Each stats call opens one connection and is one request itself.
            Ok((sample, out, end.0 - before.0 - 1, end.1 - before.1 - 1))
        };
        let (ours_run, curl_run) = if run % 2 == 0 {
            let o = measured(ours)?;
            (o, measured(curl)?)
        } else {
            let c = measured(curl)?;
            (measured(ours)?, c)
        };
        if counted {
            s.ours.push(ours_run.0);
            s.curl.push(curl_run.0);
            s.ours_conns.push(ours_run.2);
            s.ours_requests.push(ours_run.3);
            s.curl_conns.push(curl_run.2);
            s.note = ours_run.1.trim().to_string();
        }
    }
    Ok(s)
}

fn run_all(settings: &Settings, work: &Path) -> Res {
    let me = std::env::current_exe()?.to_string_lossy().into_owned();
    let server = start_server(settings.files, settings.bytes)?;
    let admin = FilesClient::builder()
        .api_key(&server.key)
        .base_url(&server.base)
        .build()?;
    let upload_path = work.join("upload.bin");
    std::io::copy(
        &mut Filler::new(settings.bytes),
        &mut std::fs::File::create(&upload_path)?,
    )?;
    let auth = format!("Authorization: Bearer {}", server.key);
    let base = server.base.clone();
    let mb = settings.bytes / 1_000_000;
    // Our side: this binary in scenario mode, against the server.
    let ours = |scenario: &str, args: &[String]| {
        let mut all = vec![
            "--scenario".into(),
            scenario.into(),
            base.clone(),
            server.key.clone(),
        ];
        all.extend_from_slice(args);
        measure(&me, &all, &[])
    };
    // curl's side: always with the key, failing on HTTP errors.
    let curl = |args: &[String]| {
        let mut all = vec!["-sS".into(), "--fail".into(), "-H".into(), auth.clone()];
        all.extend_from_slice(args);
        measure("curl", &all, &[])
    };
    let clean_uploads = || -> Res { common::delete_named(&admin, "upload.bin") };
    let out = work.join("download.bin").to_string_lossy().into_owned();
    let clean_download = || -> Res {
        let _ = std::fs::remove_file(&out);
        Ok(())
    };
    let nothing = || -> Res { Ok(()) };
    let up = upload_path.to_string_lossy().into_owned();
    let content_url = format!("{base}/files/{}/content", server.big_id);
    let curl_download = || curl(&["-o".into(), out.clone(), content_url.clone()]);
    let mut all = vec![
        series(
            &format!("upload {mb} MB (curl -F)"),
            settings,
            &server,
            &|| ours("upload", std::slice::from_ref(&up)),
            &|| {
                curl(&[
                    "-o".into(),
                    "/dev/null".into(),
                    "-F".into(),
                    format!("file=@{up}"),
                    format!("{base}/files"),
                ])
            },
            &clean_uploads,
        )?
        .with_target(Target::Transfer),
        series(
            &format!("download {mb} MB to a file"),
            settings,
            &server,
            &|| ours("download", &[server.big_id.clone(), out.clone()]),
            &curl_download,
            &clean_download,
        )?
        .with_target(Target::Transfer),
        series(
            &format!("download {mb} MB, no fsync (diagnostic)"),
            settings,
            &server,
            &|| ours("download-nosync", &[server.big_id.clone(), out.clone()]),
            &curl_download,
            &clean_download,
        )?,
    ];

    for limit in [1000usize, 100] {
        // curl cannot follow cursors: give it the same URLs, found beforehand, in one process.
        let mut urls = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut request = admin.list().page_size(limit as u32);
            let mut url = format!("{base}/files?limit={limit}");
            if let Some(c) = &cursor {
                request = request.cursor(c);
                url.push_str(&format!("&cursor={c}"));
            }
            urls.push(url);
            let page = request.page()?;
            if !page.has_more {
                break;
            }
            cursor = page.cursor;
        }
        let config = curl_config(work, &format!("list-{limit}"), &urls)?;
        let mut series = series(
            &format!("list {} files, limit {limit}", settings.files + 1),
            settings,
            &server,
            &|| ours("list", &[limit.to_string()]),
            &|| curl(&["-K".into(), config.clone()]),
            &nothing,
        )?;
        series.note = format!("{} pages", series.note);
        all.push(series.with_target(Target::List((settings.files + 1).div_ceil(limit) as u64)));
    }

    let urls = vec![format!("{base}/files/{}", server.big_id); settings.retrieves];
    let config = curl_config(work, "retrieve", &urls)?;
    all.push(
        series(
            &format!("{} sequential retrieves", settings.retrieves),
            settings,
            &server,
            &|| {
                ours(
                    "retrieve",
                    &[server.big_id.clone(), settings.retrieves.to_string()],
                )
            },
            &|| curl(&["-K".into(), config.clone()]),
            &nothing,
        )?
        .with_target(Target::Retrieves),
    );

    report(settings, &all);
    Ok(())
}

/// A curl config file that fetches `urls` in order, in one process (so over kept-alive
/// connections), discarding the bodies.
fn curl_config(work: &Path, name: &str, urls: &[String]) -> Res<String> {
    let path = work.join(format!("{name}.curl"));
    let mut text = String::new();
    for url in urls {
        text.push_str(&format!("url = \"{url}\"\noutput = \"/dev/null\"\n"));
    }
    std::fs::write(&path, text)?;
    Ok(path.to_string_lossy().into_owned())
}

fn report(settings: &Settings, all: &[Series]) {
    println!(
        "\n{} counted runs each after a warm-up, ABBA order; wall seconds median (min–max); ratio = ours/curl per pair, median.",
        settings.runs
    );
    println!(
        "| scenario | ours s | curl s | ratio | ours CPU s | curl CPU s | ours peak RSS | curl peak RSS | ours conns / requests per run | curl conns | target |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for s in all {
        let ours: Vec<f64> = s.ours.iter().map(|x| x.secs).collect();
        let curl: Vec<f64> = s.curl.iter().map(|x| x.secs).collect();
        let ratios: Vec<f64> = ours
            .iter()
            .zip(&curl)
            .map(|(o, c)| o / c.max(0.001))
            .collect();
        let ratio = median(ratios);
        let rss = |v: &[Sample]| v.iter().map(|x| x.rss_kib).max().unwrap_or(0) as f64 / 1024.0;
        let conns = *s.ours_conns.iter().max().unwrap_or(&0);
        let requests = *s.ours_requests.iter().max().unwrap_or(&0);
        let requests = if s.note.is_empty() {
            requests.to_string()
        } else {
            format!("{requests} ({})", s.note)
        };
        let cpu = |v: &[Sample]| median(v.iter().map(|x| x.cpu).collect());
        println!(
            "| {} | {} | {} | {ratio:.2} | {:.2} | {:.2} | {:.1} MB | {:.1} MB | {conns} / {requests} | {} | {} |",
            s.name,
            span(&ours),
            span(&curl),
            cpu(&s.ours),
            cpu(&s.curl),
            rss(&s.ours),
            rss(&s.curl),
            s.curl_conns.iter().max().unwrap_or(&0),
            s.target.verdict(
                ratio,
                rss(&s.ours),
                conns,
                *s.ours_requests.iter().max().unwrap_or(&0)
            ),
        );
    }
}
