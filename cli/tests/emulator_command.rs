//! `openrouter-files emulator`: the local Files API server as a process, for other programs'
//! tests, with the builder's options and the `base_url …` / `api_key …` lines scripts parse.
#![cfg(feature = "emulator")]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;

/// Starts `openrouter-files emulator ARGS`; returns the child, the lines before the key, the
/// base URL and the key.
fn start_emulator(args: &[&str]) -> (std::process::Child, Vec<String>, String, String) {
    let mut child = Command::new(BIN)
        .arg("emulator")
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let mut base_url = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("base_url ") {
            base_url = url.to_string();
        }
        if let Some(key) = line.strip_prefix("api_key ") {
            return (child, printed, base_url, key.to_string());
        }
        printed.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the emulator printed no key: {printed:?}");
}

#[test]
fn the_emulator_command_prints_its_url_and_key_and_serves_until_killed() {
    let (mut child, printed, base_url, key) = start_emulator(&[
        "--port=0",
        "--seed-downloadable",
        "big.bin:3000000",
        "--seed-files",
        "3",
    ]);
    assert!(
        printed[0].starts_with("seeded or_file_") && printed[0].ends_with(" big.bin 3000000"),
        "{printed:?}"
    );
    assert!(base_url.starts_with("http://127.0.0.1:") && base_url.ends_with("/api/v1"));
    assert_eq!(key, "sk-or-emulator-key");
    let out = ran(bare()
        .env("OPENROUTER_API_KEY", &key)
        .args(["--base-url", &base_url, "ls"]));
    let big = ran(bare().env("OPENROUTER_API_KEY", &key).args([
        "--base-url",
        &base_url,
        "get",
        printed[0].split(' ').nth(1).unwrap(),
    ]));
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(out.stdout.lines().count(), 4, "{out:?}");
    assert!(out.stdout.starts_with(&format!(
        "{}\t3000000\t",
        printed[0].split(' ').nth(1).unwrap()
    )));
    assert_eq!(big.raw_stdout.len(), 3_000_000);
}

#[test]
fn the_emulator_command_takes_the_builders_options() {
    let (mut child, _, base_url, key) = start_emulator(&[
        "--api-key",
        "sk-or-chosen",
        "--api-version",
        "2026-07-19",
        "--upload-limit=10",
        "--accept-any-content",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let small = file(dir.path(), "small.bin", [0u8, 1, 2, 255]);
    let large = file(dir.path(), "large.txt", "eleven byte");
    let cmd = |args: &[&str]| {
        let mut cmd = bare();
        cmd.env("OPENROUTER_API_KEY", &key)
            .arg("--base-url")
            .arg(&base_url)
            .args(args);
        ran(&mut cmd)
    };
    let put = cmd(&["put", &small]);
    let refused = cmd(&["put", &large]);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(key, "sk-or-chosen");
    let meta: serde_json::Value = serde_json::from_str(put.stdout.trim()).unwrap();
    assert!(meta["id"].as_str().unwrap().starts_with("file_"), "{meta}");
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(refused.stderr.contains("413"), "{refused:?}");
    let bad = ran(bare().args(["emulator", "--seed-downloadable", "no-size"]));
    assert_eq!(bad.code, Some(2), "{bad:?}");
}
