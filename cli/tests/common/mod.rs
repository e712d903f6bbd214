//! Helpers for the CLI's tests: the binary run as a subprocess against an emulator on
//! 127.0.0.1, with the key checked absent from every output.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use openrouter_files_emulator::Emulator;

/// The key every test emulator accepts; no output may ever contain it.
pub const KEY: &str = "sk-or-cli-secret-7f3a";

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_openrouter-files");

pub fn emulator() -> Emulator {
    Emulator::builder().api_key(KEY).start().unwrap()
}

/// The binary with the key in its environment and nothing else inherited that matters.
pub fn bare() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(BIN);
    cmd.env("OPENROUTER_API_KEY", KEY)
        .env_remove("OPENROUTER_BASE_URL")
        .env_remove("OPENROUTER_WORKSPACE")
        .timeout(Duration::from_secs(120));
    cmd
}

/// Sends `signal` (`libc::SIGINT`, `libc::SIGTERM`, …) to `child`, as a shell's or script's
/// `kill` does, and returns how the child ended; a child still running 20 s later is killed
/// and the test fails.
#[cfg(unix)]
pub fn send_signal(child: &mut std::process::Child, signal: i32) -> std::process::ExitStatus {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) takes plain integers and touches no memory of ours; `child` has not
    // been waited for, so its pid still names it.
    let sent = unsafe { libc::kill(pid, signal) };
    assert_eq!(
        sent,
        0,
        "kill({pid}, {signal}): {}",
        std::io::Error::last_os_error()
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child did not end on signal {signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The binary as a plain process (for a child to signal, or outputs to wire by hand), with the
/// key in its environment and `--base-url URL`.
pub fn process(url: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(BIN);
    cmd.env("OPENROUTER_API_KEY", KEY)
        .env_remove("OPENROUTER_BASE_URL")
        .env_remove("OPENROUTER_WORKSPACE")
        .args(["--base-url", url]);
    cmd
}

/// Uploads `n` small files through the CLI; returns their ids in order.
pub fn put_many(emulator: &Emulator, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            put(emulator, &format!("{i}.txt"), "x")["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// The binary pointed at `emulator` with `--base-url`, then `args`.
pub fn cli(emulator: &Emulator, args: &[&str]) -> assert_cmd::Command {
    let mut cmd = bare();
    cmd.arg("--base-url").arg(emulator.base_url()).args(args);
    cmd
}

/// What a finished run printed, and its status.
#[derive(Debug)]
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub raw_stdout: Vec<u8>,
}

/// Runs `cmd` to the end; fails the test if the key appears in any output.
pub fn ran(cmd: &mut assert_cmd::Command) -> Ran {
    let out = cmd.output().unwrap();
    let ran = Ran {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        raw_stdout: out.stdout,
    };
    assert!(
        !ran.stdout.contains(KEY) && !ran.stderr.contains(KEY),
        "the key leaked: {ran:?}"
    );
    ran
}

/// Runs the binary against `emulator` with `args`.
pub fn run(emulator: &Emulator, args: &[&str]) -> Ran {
    ran(&mut cli(emulator, args))
}

/// The JSON objects of `text`, one per line.
/// Each line of `text` as JSON, without the `_request_id` a result line carries (it differs
/// from call to call; `tests/network.rs` checks it).
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .map(without_request_id)
        .collect()
}

pub fn without_request_id(mut value: serde_json::Value) -> serde_json::Value {
    if let Some(object) = value.as_object_mut() {
        object.remove("_request_id");
    }
    value
}

/// Writes `content` to `dir/name` and returns the path as a string.
pub fn file(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.to_str().unwrap().to_string()
}

/// Uploads `content` as `name` through the CLI; returns the metadata it printed.
pub fn put(emulator: &Emulator, name: &str, content: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), name, content);
    let out = run(emulator, &["put", &path]);
    assert_eq!(out.code, Some(0), "{out:?}");
    without_request_id(serde_json::from_str(out.stdout.trim()).unwrap())
}

/// The ids `ls` prints, in order.
pub fn listed_ids(emulator: &Emulator) -> Vec<String> {
    let out = run(emulator, &["ls"]);
    out.stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect()
}

/// An emulator holding these downloadable files, and their ids in the same order.
pub fn seeded(files: &[(&str, Vec<u8>)]) -> (Emulator, Vec<String>) {
    let mut builder = Emulator::builder().api_key(KEY).accept_any_content(true);
    for (name, bytes) in files {
        builder = builder.seed_file(name, bytes.clone());
    }
    let emulator = builder.start().unwrap();
    let ids = listed_ids(&emulator);
    (emulator, ids)
}

/// The requests that would change the workspace (every method but GET), as `METHOD PATH`.
pub fn writes(emulator: &Emulator) -> Vec<String> {
    emulator
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}
