//! Runs the local OpenRouter Files API emulator until killed, for curl, other SDKs and
//! benchmarks.
//!
//! ```text
//! cargo run --features emulator --example emulator -- --port 8089 --seed-downloadable big.bin:100000000
//! ```

use std::io::{self, Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use openrouter_files::emulator::{ApiVersion, DEFAULT_WORKSPACE, Emulator};

const USAGE: &str =
    "usage: emulator [--port N] [--api-key KEY] [--api-version 2026-07-19|2026-08-22]
                [--upload-limit BYTES] [--accept-any-content] [--seed-downloadable NAME:BYTES]...
                [--seed-files N] [--max-connections N] [--read-timeout-ms MS]
                [--latency-ms MS] [--range-requests] [--request-log-limit N]";

/// Deterministic filler bytes for a seeded file of a given size (xorshift, so it is not text).
struct Filler {
    state: u64,
    left: u64,
}

impl Read for Filler {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.left as usize);
        for byte in &mut buf[..n] {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            *byte = self.state as u8;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("emulator: {message}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut builder = Emulator::builder();
    let mut seeds = Vec::new();
    let mut seed_files = 0usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--port" => {
                builder = builder.port(value()?.parse().map_err(|e| format!("--port: {e}"))?)
            }
            "--api-key" => builder = builder.api_key(&value()?),
            "--upload-limit" => {
                builder = builder.upload_limit(
                    value()?
                        .parse()
                        .map_err(|e| format!("--upload-limit: {e}"))?,
                )
            }
            "--api-version" => {
                builder = builder.api_version(match value()?.as_str() {
                    "2026-07-19" => ApiVersion::V2026_07_19,
                    "2026-08-22" => ApiVersion::V2026_08_22,
                    other => return Err(format!("unknown API version {other}")),
                })
            }
            "--accept-any-content" => builder = builder.accept_any_content(true),
            "--range-requests" => builder = builder.range_requests(true),
            "--max-connections" => {
                builder = builder.max_connections(
                    value()?
                        .parse()
                        .map_err(|e| format!("--max-connections: {e}"))?,
                )
            }
            "--request-log-limit" => {
                builder = builder.request_log_limit(
                    value()?
                        .parse()
                        .map_err(|e| format!("--request-log-limit: {e}"))?,
                )
            }
            "--read-timeout-ms" => {
                let ms = value()?
                    .parse()
                    .map_err(|e| format!("--read-timeout-ms: {e}"))?;
                builder = builder
                    .read_timeout(Duration::from_millis(ms))
                    .write_timeout(Duration::from_millis(ms));
            }
            "--latency-ms" => {
                let ms = value()?.parse().map_err(|e| format!("--latency-ms: {e}"))?;
                builder = builder.latency(Duration::from_millis(ms));
            }
            "--seed-files" => {
                seed_files = value()?.parse().map_err(|e| format!("--seed-files: {e}"))?;
            }
            "--seed-downloadable" => {
                let spec = value()?;
                let (name, size) = spec
                    .rsplit_once(':')
                    .ok_or("--seed-downloadable takes NAME:BYTES")?;
                let size: u64 = size
                    .parse()
                    .map_err(|e| format!("--seed-downloadable: {e}"))?;
                seeds.push((name.to_string(), size));
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let emulator = builder.start().map_err(|e| format!("cannot start: {e}"))?;
    for (name, size) in seeds {
        let filler = Filler {
            state: 0x2545_F491_4F6C_DD1D,
            left: size,
        };
        let id = emulator
            .seed_reader_in(DEFAULT_WORKSPACE, &name, filler)
            .map_err(|e| format!("cannot seed {name}: {e}"))?;
        println!("seeded {id} {name} {size}");
    }
    for i in 0..seed_files {
        let name = format!("seed-{i:05}.txt");
        emulator
            .seed_file_in(
                DEFAULT_WORKSPACE,
                &name,
                format!("seed file {i}\n").as_bytes(),
            )
            .map_err(|e| format!("cannot seed {name}: {e}"))?;
    }
    if seed_files > 0 {
        println!("seeded {seed_files} small files");
    }
    println!("base_url {}", emulator.base_url());
    println!("api_key {}", emulator.api_key());
    let _ = io::stdout().flush();
    loop {
        std::thread::park();
    }
}
