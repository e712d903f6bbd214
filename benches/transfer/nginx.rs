//! The large-download rows: nginx (sendfile, one worker) serves a file at the path a download
//! asks for, and ours, curl and a raw `TcpStream` read loop each read it to nowhere. The
//! client's CPU time is what these rows are about.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Settings;
use crate::common::{Filler, Res, Sample, measure, median, span};

/// One way to read the file, run as a measured process.
type Reader<'a> = &'a dyn Fn() -> Res<(Sample, String)>;

/// The path nginx serves the file at: the content URL of id `big` under `/api/v1`.
const ID: &str = "big";

struct Nginx {
    child: Child,
    port: u16,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx's binary, installed with apt-get when it is missing and we are root.
fn nginx_binary() -> Option<&'static str> {
    const BIN: &str = "/usr/sbin/nginx";
    if !Path::new(BIN).exists() {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        if root {
            println!("installing nginx with apt-get…");
            let _ = Command::new("apt-get")
                .args(["install", "-y", "-qq", "nginx-light"])
                .stdout(Stdio::null())
                .status();
        }
    }
    Path::new(BIN).exists().then_some(BIN)
}

fn start(work: &Path, bytes: u64) -> Res<Option<Nginx>> {
    let Some(bin) = nginx_binary() else {
        return Ok(None);
    };
    let dir = work.join("nginx");
    let content = dir.join(format!("www/api/v1/files/{ID}/content"));
    std::fs::create_dir_all(content.parent().ok_or("no parent")?)?;
    std::fs::create_dir_all(dir.join("tmp"))?;
    std::io::copy(
        &mut Filler::new(bytes),
        &mut std::fs::File::create(&content)?,
    )?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let d = dir.to_string_lossy();
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\nerror_log {d}/error.log;\npid {d}/nginx.pid;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  default_type application/octet-stream;\n\
         client_body_temp_path {d}/tmp;\n  proxy_temp_path {d}/tmp;\n  fastcgi_temp_path {d}/tmp;\n\
         uwsgi_temp_path {d}/tmp;\n  scgi_temp_path {d}/tmp;\n\
         server {{ listen 127.0.0.1:{port}; root {d}/www; }}\n}}\n"
    );
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf)?;
    let child = Command::new(bin)
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(&conf_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let nginx = Nginx { child, port };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err("nginx did not start listening".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(Some(nginx))
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
    let Some(nginx) = start(work, settings.big_bytes)? else {
        println!("\nnginx rows skipped: nginx is not installed and could not be installed");
        return Ok(());
    };
    let base = format!("http://127.0.0.1:{}/api/v1", nginx.port);
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
    let tools: [(&str, Reader<'_>); 3] = [
        ("openrouter-files (Download → sink)", &|| scenario("read")),
        ("curl -o /dev/null", &curl),
        ("raw TcpStream read loop, 256 KiB", &|| scenario("raw")),
    ];
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
    println!("| reader | wall s | CPU s (user+sys) | CPU s/GB | vs curl CPU | peak RSS |");
    println!("|---|---|---|---|---|---|");
    let cpu = |v: &[Sample]| median(v.iter().map(|s| s.cpu).collect());
    let curl_cpu = cpu(&samples[1]);
    for ((name, _), runs) in tools.iter().zip(&samples) {
        let secs: Vec<f64> = runs.iter().map(|s| s.secs).collect();
        let rss = runs.iter().map(|s| s.rss_kib).max().unwrap_or(0) as f64 / 1024.0;
        println!(
            "| {name} | {} | {:.3} | {:.3} | {:.2}× | {rss:.1} MB |",
            span(&secs),
            cpu(runs),
            cpu(runs) / gb,
            cpu(runs) / curl_cpu.max(1e-9),
        );
    }
    drop(nginx);
    Ok(())
}
