//! The large-download rows: nginx (sendfile, one worker) serves a file at the path a download
//! asks for, and ours (the library and the CLI's release binary), curl and a raw `TcpStream`
//! read loop each read it to nowhere. The client's CPU time is what these rows are about.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use crate::Settings;
use crate::common::{self, Filler, Res, Sample, measure, median, nginx, span};

/// One way to read the file, run as a measured process.
type Reader<'a> = &'a dyn Fn() -> Res<(Sample, String)>;

/// The path nginx serves the file at: the content URL of id `big` under `/api/v1`.
const ID: &str = "big";

/// nginx serving a file of `bytes` at the content URL of [`ID`], and its port.
fn start(work: &Path, bytes: u64) -> Res<Option<(nginx::Nginx, u16)>> {
    if let Err(why) = nginx::binary() {
        println!("\nnginx rows skipped: {why}");
        return Ok(None);
    }
    let dir = work.join("nginx");
    let content = dir.join(format!("www/api/v1/files/{ID}/content"));
    std::fs::create_dir_all(content.parent().ok_or("no parent")?)?;
    std::io::copy(
        &mut Filler::new(bytes),
        &mut std::fs::File::create(&content)?,
    )?;
    let port = nginx::free_port()?;
    let d = dir.to_string_lossy();
    let http = format!(
        "  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  default_type application/octet-stream;\n\
         server {{ listen 127.0.0.1:{port}; root {d}/www; }}"
    );
    let probe = ([127, 0, 0, 1], port).into();
    Ok(Some((nginx::start(&dir, &http, probe, &[])?, port)))
}

/// Child mode: reads `GET {base}/files/{id}/content` with a bare socket and a 256 KiB buffer;
/// returns the body bytes.
pub fn raw_read(base: &str, id: &str) -> Res<u64> {
    let rest = base.trim_start_matches("http://");
    let (host, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let mut stream = TcpStream::connect(host)?;
    write!(
        stream,
        "GET /{prefix}/files/{id}/content HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    let mut head_end = None;
    let mut head = Vec::new();
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if head_end.is_none() {
            head.extend_from_slice(&buf[..n]);
            if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                head_end = Some(i + 4);
                total += (head.len() - i - 4) as u64;
            }
        } else {
            total += n as u64;
        }
    }
    Ok(total)
}

/// The rows: ours (`Download` into `io::sink`), curl (`-o /dev/null`), the raw reader.
pub fn bench(settings: &Settings, work: &Path) -> Res {
    let Some((server, port)) = start(work, settings.big_bytes)? else {
        return Ok(());
    };
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let me = std::env::current_exe()?.to_string_lossy().into_owned();
    let url = format!("{base}/files/{ID}/content");
    let scenario = |name: &str| {
        let args: Vec<String> = ["--scenario", name, &base, "unused-key", ID]
            .map(str::to_string)
            .to_vec();
        measure(&me, &args, &[])
    };
    let curl = || {
        let args: Vec<String> = ["-sS", "--fail", "-o", "/dev/null", &url]
            .map(str::to_string)
            .to_vec();
        measure("curl", &args, &[])
    };
    // The CLI as released: `log`'s `release_max_level_debug` compiles `trace!` out of it,
    // ureq-proto's per-16-bytes `log_data` included (the bench's own build keeps it).
    let cli = common::cli_binary();
    let cli_env = [
        ("OPENROUTER_API_KEY", "unused-key"),
        ("OPENROUTER_BASE_URL", &*base),
    ];
    let cli_get = |cli: &str| {
        let args: Vec<String> = ["-q", "get", ID, "-o", "/dev/null"]
            .map(str::to_string)
            .to_vec();
        measure(cli, &args, &cli_env)
    };
    let (read, raw) = (|| scenario("read"), || scenario("raw"));
    let mut tools: Vec<(&str, Reader<'_>)> = vec![
        ("openrouter-files (Download → sink)", &read),
        ("curl -o /dev/null", &curl),
        ("raw TcpStream read loop, 256 KiB", &raw),
    ];
    let cli_row = cli.as_ref().map(|cli| move || cli_get(cli));
    match &cli_row {
        Ok(row) => tools.push(("openrouter-files CLI (get -o /dev/null)", row)),
        Err(e) => println!("CLI row skipped: {e}"),
    }
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); tools.len()];
    let warmups = usize::from(settings.runs > 1);
    for run in 0..warmups + settings.runs {
        for (i, (_, tool)) in tools.iter().enumerate() {
            let (sample, out) = tool()?;
            if !out.is_empty() && out.trim() != settings.big_bytes.to_string() {
                return Err(format!("read {} bytes of {}", out.trim(), settings.big_bytes).into());
            }
            if run >= warmups {
                samples[i].push(sample);
            }
        }
    }
    let gb = settings.big_bytes as f64 / 1e9;
    println!(
        "\n## {:.2} GB download from nginx (sendfile), {} run(s); median (min–max)\n",
        gb, settings.runs
    );
    println!(
        "| reader | wall s | CPU s (user+sys) | CPU s/GB | vs curl CPU | vs raw CPU | peak RSS | target |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let cpu = |v: &[Sample]| median(v.iter().map(|s| s.cpu).collect());
    let curl_cpu = cpu(&samples[1]);
    let raw_cpu = cpu(&samples[2]);
    for ((name, _), runs) in tools.iter().zip(&samples) {
        let secs: Vec<f64> = runs.iter().map(|s| s.secs).collect();
        let rss = runs.iter().map(|s| s.rss_kib).max().unwrap_or(0) as f64 / 1024.0;
        let target = if name.contains("CLI") {
            let ratio = cpu(runs) / raw_cpu.max(1e-9);
            format!(
                "CPU ≤1.3× raw: {}",
                if ratio <= 1.3 { "met" } else { "missed" }
            )
        } else {
            String::new()
        };
        println!(
            "| {name} | {} | {:.3} | {:.3} | {:.2}× | {:.2}× | {rss:.1} MB | {target} |",
            span(&secs),
            cpu(runs),
            cpu(runs) / gb,
            cpu(runs) / curl_cpu.max(1e-9),
            cpu(runs) / raw_cpu.max(1e-9),
        );
    }
    drop(server);
    Ok(())
}
