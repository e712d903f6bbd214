//! What the benchmarks share: the emulator child process, timing a process under GNU time,
//! filler bytes, statistics; a link emulator ([`link`]), nginx ([`nginx`]), the official SDKs
//! ([`sdk`]) and the CLI's binary ([`cli_binary`]).
#![allow(dead_code)]

pub mod link;
pub mod nginx;
pub mod peers;
pub mod sdk;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Instant;

use openrouter_files::{FilesClient, RetryPolicy};
use openrouter_files_emulator::{DEFAULT_WORKSPACE, Emulator};

pub type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// One measured process.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sample {
    /// Wall seconds, measured around the process.
    pub secs: f64,
    /// Peak RSS in KiB (GNU time).
    pub rss_kib: u64,
    /// User + system CPU seconds (GNU time).
    pub cpu: f64,
}

/// Runs `program args` (with `envs`) under GNU time; returns the sample and the stdout.
pub fn measure(program: &str, args: &[String], envs: &[(&str, &str)]) -> Res<(Sample, String)> {
    measure_with(program, args, envs, Stdio::piped())
}

/// As [`measure`], with the child's stdout going to `stdout` (the returned text is empty unless
/// it is piped).
pub fn measure_with(
    program: &str,
    args: &[String],
    envs: &[(&str, &str)],
    stdout: Stdio,
) -> Res<(Sample, String)> {
    if !Path::new("/usr/bin/time").exists() {
        return Err("GNU time is needed at /usr/bin/time (Debian package `time`)".into());
    }
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "BENCH %e %M %U %S", program])
        .args(args)
        .envs(envs.iter().copied())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()?
        .wait_with_output()?;
    let secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let tail: String = stderr.lines().rev().take(8).collect::<Vec<_>>().join(" | ");
        return Err(format!("{program} failed: {tail}").into());
    }
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("BENCH "))
        .ok_or("no timing")?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let rss_kib: u64 = fields.get(2).ok_or("no rss")?.parse()?;
    let user: f64 = fields.get(3).ok_or("no user")?.parse()?;
    let sys: f64 = fields.get(4).ok_or("no sys")?.parse()?;
    Ok((
        Sample {
            secs,
            rss_kib,
            cpu: user + sys,
        },
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

/// Deterministic, non-text filler bytes.
pub struct Filler {
    state: u64,
    left: u64,
}

impl Filler {
    pub fn new(len: u64) -> Filler {
        Filler {
            state: 0x9E37_79B9_7F4A_7C15,
            left: len,
        }
    }
}

impl Read for Filler {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.left as usize);
        for chunk in buf[..n].chunks_mut(8) {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            chunk.copy_from_slice(&self.state.to_le_bytes()[..chunk.len()]);
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Child mode (`--serve FILES BYTES`): an emulator with `files` small files and one
/// downloadable file of `bytes`; prints `base key big_id` and runs until stdin closes.
pub fn serve(args: &[String]) -> Res {
    let files: usize = args[0].parse()?;
    let bytes: u64 = args[1].parse()?;
    // Ranges, so that a download cut by the link emulator can resume.
    let emulator = Emulator::builder()
        .accept_any_content(true)
        .range_requests(true)
        .start()?;
    for i in 0..files {
        emulator.seed_file_in(DEFAULT_WORKSPACE, &format!("f{i:06}.txt"), b"small file\n")?;
    }
    let big = emulator.seed_reader_in(DEFAULT_WORKSPACE, "big.bin", Filler::new(bytes))?;
    println!("{} {} {}", emulator.base_url(), emulator.api_key(), big);
    std::io::stdout().flush()?;
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    Ok(())
}

/// The emulator child process; stopped when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    pub key: String,
    pub big_id: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// Starts this benchmark binary in `--serve` mode.
pub fn start_server(files: usize, bytes: u64) -> Res<Server> {
    start_server_in(files, bytes, &[])
}

/// As [`start_server`], run through `wrapper` (for example `ip netns exec NAME`).
pub fn start_server_in(files: usize, bytes: u64, wrapper: &[String]) -> Res<Server> {
    let me = std::env::current_exe()?;
    let mut command = match wrapper.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(me);
            c
        }
        None => Command::new(me),
    };
    let mut child = command
        .args(["--serve", &files.to_string(), &bytes.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().ok_or("no stdout")?).read_line(&mut line)?;
    let mut parts = line.split_whitespace().map(str::to_string);
    let (Some(base), Some(key), Some(big_id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("emulator did not start: {line:?}").into());
    };
    Ok(Server {
        child,
        base,
        key,
        big_id,
    })
}

/// Connections and requests the emulator has seen so far.
pub fn stats(base: &str) -> Res<(u64, u64)> {
    let root = base.trim_end_matches("/api/v1");
    let text = ureq::get(format!("{root}/_emulator/stats"))
        .call()?
        .body_mut()
        .read_to_string()?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    Ok((
        v["connections"].as_u64().unwrap_or(0),
        v["requests"].as_u64().unwrap_or(0),
    ))
}

pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// `median (min–max)`.
pub fn span(v: &[f64]) -> String {
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(0.0, f64::max);
    format!("{:.3} ({:.3}–{:.3})", median(v.to_vec()), min, max)
}

/// A benchmark's `main`: `--serve` runs the emulator child, `--scenario` one measured job of
/// ours, anything else the benchmark itself.
pub fn run_main(scenario: fn(&[String]) -> Res, bench: fn(&[String]) -> Res) -> ExitCode {
    let args = args();
    let result = match args.first().map(String::as_str) {
        Some("--serve") => serve(&args[1..]),
        Some("--scenario") => scenario(&args[1..]),
        _ => bench(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The client a measured job uses: no retries, so that a failure shows; trusting the CA
/// named by [`peers::CA_ENV`] when it is set.
pub fn client(base: &str, key: &str) -> Res<FilesClient> {
    let mut builder = FilesClient::builder()
        .api_key(key)
        .base_url(base)
        .retry(RetryPolicy::none());
    if let Ok(ca) = std::env::var(peers::CA_ENV) {
        builder = builder.add_root_certificate(std::fs::read(ca)?);
    }
    Ok(builder.build()?)
}

/// The CLI's release binary, built with cargo (the one running this benchmark) first.
/// Its `log` features (no `trace!`) reach this benchmark's own build too, by unification.
pub fn cli_binary() -> Res<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    // What cargo sets for the running benchmark would reach build scripts (ring reruns when
    // CARGO_MANIFEST_DIR changes) and rebuild half the tree each time.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
                "OUT_DIR",
            ]
            .contains(&&*name)
        {
            command.env_remove(&*name);
        }
    }
    let out = command
        .args([
            "build",
            "--release",
            "--quiet",
            // The workspace's default members, as `cargo bench` selects them: the same
            // features, so neither build undoes the other's.
            "--bin",
            "openrouter-files",
            "--message-format=json",
            "--manifest-path",
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
        ])
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err("building the CLI failed".into());
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|v| v["target"]["name"] == "openrouter-files")
        .find_map(|v| v["executable"].as_str().map(str::to_string))
        .ok_or_else(|| "cargo named no CLI executable".into())
}

/// The arguments after the ones cargo adds (`--bench`).
pub fn args() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect()
}

/// The value after `--NAME` on the command line, parsed; `None` when the option is absent.
pub fn option<T: std::str::FromStr>(args: &[String], name: &str) -> Res<Option<T>>
where
    T::Err: std::error::Error + 'static,
{
    match args
        .iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
    {
        Some(value) => Ok(Some(value.parse()?)),
        None => Ok(None),
    }
}

/// Runs `bench` in a fresh scratch directory named for `name` and this process, removed after.
pub fn in_scratch_dir(name: &str, bench: impl FnOnce(&std::path::Path) -> Res) -> Res {
    let work = std::env::temp_dir().join(format!("openrouter-files-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let result = bench(&work);
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// Deletes every file named `filename` that `admin` lists: what a bench uploaded.
pub fn delete_named(admin: &FilesClient, filename: &str) -> Res {
    let ids: Vec<String> = admin
        .list()
        .page_size(1000)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|f| f.filename == filename)
        .map(|f| f.id)
        .collect();
    for id in ids {
        admin.delete(&id)?;
    }
    Ok(())
}

/// Writes a text file of exactly `bytes` bytes at `path` (a line repeated, cut to size) and
/// returns the path as a string, for the peers' command lines.
pub fn write_text_file(path: &std::path::Path, bytes: usize) -> Res<String> {
    let line = "the quick brown fox jumps over the lazy dog 0123456789\n";
    std::fs::write(
        path,
        &line.repeat(bytes / line.len() + 1).as_bytes()[..bytes],
    )?;
    Ok(path.to_string_lossy().into_owned())
}
