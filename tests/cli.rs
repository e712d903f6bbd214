//! The example CLI (`examples/files.rs`) run as a subprocess against the emulator: every
//! command, the output formats, exit codes, `| head -1` laziness, and no key in any output.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use common::temp_dir;
use openrouter_files::emulator::{DEFAULT_WORKSPACE, Emulator};

const KEY: &str = "sk-or-cli-secret-7f3a";

fn files_bin() -> PathBuf {
    // tests run from target/<profile>/deps; cargo builds examples into target/<profile>/examples.
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join("files");
    assert!(
        bin.exists(),
        "{} is missing: build with `cargo test`",
        bin.display()
    );
    bin
}

fn emulator() -> Emulator {
    Emulator::builder().api_key(KEY).start().unwrap()
}

fn command(emulator: &Emulator, args: &[&str]) -> Command {
    let mut cmd = Command::new(files_bin());
    cmd.env("OPENROUTER_API_KEY", KEY)
        .env_remove("OPENROUTER_BASE_URL")
        .arg("--base-url")
        .arg(emulator.base_url())
        .args(args);
    cmd
}

fn run(emulator: &Emulator, args: &[&str]) -> Output {
    let out = command(emulator, args).output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(KEY), "the key leaked: {all}");
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn put(emulator: &Emulator, name: &str, content: &str) -> serde_json::Value {
    let dir = temp_dir("cli-put");
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    let out = run(emulator, &["put", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_str(stdout(&out).trim()).unwrap()
}

#[test]
fn ls_prints_one_tab_separated_line_per_file() {
    let emulator = emulator();
    let a = put(&emulator, "a.csv", "x,y\n1,2\n");
    let b = put(&emulator, "b name.md", "# B\n");
    let out = run(&emulator, &["ls"]);
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    let expected: Vec<String> = [&a, &b]
        .iter()
        .map(|f| {
            format!(
                "{}\t{}\t{}\t{}\t{}",
                f["id"].as_str().unwrap(),
                f["size_bytes"],
                f["mime_type"].as_str().unwrap(),
                f["created_at"].as_str().unwrap(),
                f["filename"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(lines, expected);
}

#[test]
fn ls_json_prints_one_object_per_line() {
    let emulator = emulator();
    let a = put(&emulator, "a.txt", "hello");
    let out = run(&emulator, &["ls", "--json", "--limit", "1"]);
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], a["id"]);
    assert_eq!(lines[0]["size_bytes"], 5);
}

#[test]
fn ls_stops_fetching_when_its_reader_goes_away() {
    let emulator = emulator();
    for i in 0..40 {
        emulator
            .seed_file_in(DEFAULT_WORKSPACE, &format!("f{i}.txt"), b"x")
            .unwrap();
    }
    let mut child = command(&emulator, &["ls", "--limit", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // Like `| head -1`: the reader has its line and closes the pipe.
    let status = child.wait().unwrap();
    assert!(first.contains("f0.txt"), "{first}");
    assert_eq!(status.code(), Some(0));
    let pages = emulator.requests().len();
    assert!(
        pages <= 4,
        "fetched {pages} of 40 pages after the reader left"
    );
}

#[test]
fn put_prints_metadata_and_name_overrides_the_file_name() {
    let emulator = emulator();
    let dir = temp_dir("cli-put-name");
    let path = dir.join("local.txt");
    std::fs::write(&path, "content").unwrap();
    let out = run(
        &emulator,
        &[
            "--quiet",
            "put",
            path.to_str().unwrap(),
            "--name",
            "remote.txt",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let meta: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(meta["filename"], "remote.txt");
    assert_eq!(meta["size_bytes"], 7);
    assert!(
        stderr(&out).is_empty(),
        "no progress bar when stderr is not a terminal"
    );
}

#[test]
fn info_prints_each_file_over_one_connection() {
    let emulator = emulator();
    let a = put(&emulator, "a.txt", "a");
    let b = put(&emulator, "b.txt", "b");
    let before = emulator.connections_accepted();
    let out = run(
        &emulator,
        &["info", a["id"].as_str().unwrap(), b["id"].as_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, vec![a, b]);
    assert_eq!(emulator.connections_accepted() - before, 1);
}

#[test]
fn get_streams_to_stdout_or_writes_a_file() {
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 241) as u8).collect();
    let emulator = Emulator::builder()
        .api_key(KEY)
        .seed_file("data.bin", content.clone())
        .start()
        .unwrap();
    let listed = run(&emulator, &["ls"]);
    let id = stdout(&listed).split('\t').next().unwrap().to_string();
    let out = run(&emulator, &["get", &id]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, content);
    let target = temp_dir("cli-get").join("out.bin");
    let out = run(&emulator, &["get", &id, "-o", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read(&target).unwrap(), content);
}

#[test]
fn rm_prints_deleted_ids_and_api_errors_exit_1_with_status_message_and_request_id() {
    let emulator = emulator();
    let a = put(&emulator, "a.txt", "a");
    let b = put(&emulator, "b.txt", "b");
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let out = run(&emulator, &["rm", a, b]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), format!("{a}\n{b}\n"));
    let out = run(&emulator, &["info", a]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("HTTP 404: Resource not found"), "{err}");
    assert!(err.contains("request id req_emu_"), "{err}");
}

#[test]
fn a_download_of_an_uploaded_file_is_an_api_error() {
    let emulator = emulator();
    let a = put(&emulator, "a.txt", "a");
    let target = temp_dir("cli-get-400").join("out.bin");
    let out = run(
        &emulator,
        &[
            "get",
            a["id"].as_str().unwrap(),
            "-o",
            target.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("HTTP 400"), "{}", stderr(&out));
    assert!(!target.exists());
}

#[test]
fn usage_and_local_validation_errors_exit_2() {
    let emulator = emulator();
    let dir = temp_dir("cli-usage");
    std::fs::write(dir.join("empty.txt"), "").unwrap();
    let empty = dir.join("empty.txt");
    let missing = dir.join("missing.txt");
    for args in [
        vec![],
        vec!["frobnicate"],
        vec!["ls", "--limit"],
        vec!["ls", "--limit", "ten"],
        vec!["ls", "--limit", "0"],
        vec!["put"],
        vec!["put", empty.to_str().unwrap()],
        vec!["put", missing.to_str().unwrap()],
        vec!["info"],
        vec!["rm"],
        vec!["get"],
        vec!["--workspace", "not-a-uuid", "ls"],
    ] {
        let out = run(&emulator, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).is_empty());
    }
    assert!(emulator.requests().is_empty(), "nothing was sent");
    let out = Command::new(files_bin())
        .env_remove("OPENROUTER_API_KEY")
        .args(["ls"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("OPENROUTER_API_KEY"));
}

#[test]
fn a_wrong_key_exits_1_without_echoing_any_key() {
    let emulator = emulator();
    let out = Command::new(files_bin())
        .env("OPENROUTER_API_KEY", "sk-or-other-secret-99")
        .args(["--base-url", emulator.base_url(), "ls"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let mut all = String::from_utf8_lossy(&out.stderr).into_owned();
    all.push_str(&String::from_utf8_lossy(&out.stdout));
    assert!(all.contains("HTTP 401"), "{all}");
    assert!(!all.contains("other-secret") && !all.contains(KEY));
}

#[test]
fn a_transport_error_exits_1() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let out = Command::new(files_bin())
        .env("OPENROUTER_API_KEY", KEY)
        .args([
            "--base-url",
            &format!("http://127.0.0.1:{port}/api/v1"),
            "ls",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let mut err = String::new();
    out.stderr.as_slice().read_to_string(&mut err).unwrap();
    assert!(err.contains("GET /files failed"), "{err}");
}

#[test]
fn the_standalone_emulator_prints_its_url_and_key_and_serves_until_killed() {
    // The README's command, with the port left to the OS.
    let bin = files_bin().with_file_name("emulator");
    let mut child = Command::new(bin)
        .args([
            "--port",
            "0",
            "--seed-downloadable",
            "big.bin:3000000",
            "--seed-files",
            "3",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let (mut base_url, mut key) = (String::new(), String::new());
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("base_url ") {
            base_url = url.to_string();
        }
        if let Some(k) = line.strip_prefix("api_key ") {
            key = k.to_string();
            break;
        }
        printed.push(line);
    }
    assert!(
        printed[0].starts_with("seeded or_file_") && printed[0].ends_with(" big.bin 3000000"),
        "{printed:?}"
    );
    assert!(base_url.starts_with("http://127.0.0.1:") && base_url.ends_with("/api/v1"));
    let out = Command::new(files_bin())
        .env("OPENROUTER_API_KEY", &key)
        .args(["--base-url", &base_url, "ls"])
        .output()
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let listing = String::from_utf8(out.stdout).unwrap();
    assert_eq!(listing.lines().count(), 4, "{listing}");
    assert!(listing.starts_with(&format!(
        "{}\t3000000\t",
        printed[0].split(' ').nth(1).unwrap()
    )));
}

#[test]
fn put_and_get_draw_a_progress_bar_on_a_terminal_unless_quiet() {
    // `script` (util-linux) runs the command on a pseudo-terminal and records what it draws.
    if Command::new("script").arg("--version").output().is_err() {
        panic!("this test needs `script` from util-linux to provide a terminal");
    }
    let emulator = Emulator::builder()
        .api_key(KEY)
        .accept_any_content(true)
        .seed_file("big.bin", vec![1u8; 3_000_000])
        .start()
        .unwrap();
    let dir = temp_dir("cli-progress");
    let upload = dir.join("up.bin");
    std::fs::write(&upload, vec![2u8; 3_000_000]).unwrap();
    let listed = run(&emulator, &["ls"]);
    let id = stdout(&listed).split('\t').next().unwrap().to_string();
    let on_terminal = |quiet: bool| {
        let quiet = if quiet { "--quiet " } else { "" };
        let command = format!(
            "{} --base-url {} {quiet}put {} > /dev/null && {} --base-url {} {quiet}get {id} -o {}",
            files_bin().display(),
            emulator.base_url(),
            upload.display(),
            files_bin().display(),
            emulator.base_url(),
            dir.join("down.bin").display(),
        );
        let out = Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("OPENROUTER_API_KEY", KEY)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let drawn = on_terminal(false);
    assert!(
        drawn.contains("put [##############################] 100.0%"),
        "{drawn:?}"
    );
    assert!(
        drawn.contains("get [##############################] 100.0%"),
        "{drawn:?}"
    );
    assert!(!drawn.contains(KEY));
    let quiet = on_terminal(true);
    assert!(!quiet.contains("100.0%"), "{quiet:?}");
}
