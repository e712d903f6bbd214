//! `openrouter-files` on a terminal: progress bars (several at once for parallel transfers,
//! none with `--quiet`) and file contents never written to a terminal. `script` (util-linux)
//! runs the command on a pseudo-terminal and records what it draws.

mod common;

use std::process::{Command, Stdio};

use common::*;
use openrouter_files_emulator::Emulator;

/// Runs the shell command `line` on a pseudo-terminal; returns its status and what it drew.
fn on_terminal(line: &str) -> (Option<i32>, String) {
    let out = Command::new("script")
        .args(["-qec", line, "/dev/null"])
        .env("OPENROUTER_API_KEY", KEY)
        .env_remove("OPENROUTER_BASE_URL")
        .env_remove("OPENROUTER_WORKSPACE")
        .stdin(Stdio::null())
        .output()
        .expect("this test needs `script` from util-linux to provide a terminal");
    let drawn = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!drawn.contains(KEY), "the key leaked: {drawn:?}");
    (out.status.code(), drawn)
}

fn big_emulator() -> (Emulator, Vec<String>) {
    seeded(&[
        ("one.bin", vec![1u8; 3_000_000]),
        ("two.bin", vec![2u8; 2_000_000]),
    ])
}

#[test]
fn put_and_get_draw_a_progress_bar_per_file_on_a_terminal_unless_quiet() {
    let (emulator, ids) = big_emulator();
    let dir = tempfile::tempdir().unwrap();
    let up: Vec<String> = (0..2)
        .map(|i| file(dir.path(), &format!("up{i}.bin"), vec![i as u8; 3_000_000]))
        .collect();
    let down = dir.path().join("down");
    std::fs::create_dir(&down).unwrap();
    let transfers = |quiet: &str| {
        format!(
            "{BIN} --base-url {url} {quiet} put -j 2 {up0} {up1} > /dev/null && \
             {BIN} --base-url {url} {quiet} get -j 2 -d {down} {id0} {id1}",
            url = emulator.base_url(),
            up0 = up[0],
            up1 = up[1],
            down = down.display(),
            id0 = ids[0],
            id1 = ids[1],
        )
    };
    let (status, drawn) = on_terminal(&transfers(""));
    assert_eq!(status, Some(0), "{drawn:?}");
    let full = "[##############################] 100%";
    for label in [
        format!("put {}", up[0]),
        format!("put {}", up[1]),
        format!("get {}", ids[0]),
        format!("get {}", ids[1]),
    ] {
        assert!(
            drawn.contains(&format!("{label} {full}")),
            "{label}: {drawn:?}"
        );
    }
    let (status, quiet) = on_terminal(&transfers("--quiet"));
    assert_eq!(status, Some(0), "{quiet:?}");
    assert!(!quiet.contains("100%"), "{quiet:?}");
}

#[test]
fn get_refuses_to_write_a_files_content_to_a_terminal() {
    let (emulator, ids) = big_emulator();
    let id = &ids[0];
    let requests = emulator.requests().len();
    let (status, drawn) = on_terminal(&format!(
        "{BIN} --base-url {} get {id}",
        emulator.base_url()
    ));
    assert_eq!(status, Some(2), "{drawn:?}");
    assert!(drawn.contains("-o PATH"), "{drawn:?}");
    assert!(
        drawn.len() < 1000,
        "no content was written: {} bytes",
        drawn.len()
    );
    assert_eq!(emulator.requests().len(), requests, "nothing was requested");
    let (status, _) = on_terminal(&format!(
        "{BIN} --base-url {} get {id} | wc -c | grep -qx 3000000",
        emulator.base_url()
    ));
    assert_eq!(status, Some(0), "a pipe is not a terminal");
}

#[test]
fn a_usage_error_on_a_terminal_does_not_echo_an_escape_sequence_from_the_arguments() {
    let (status, drawn) = on_terminal(&format!("{BIN} \"$(printf '\\033]0;pwned\\007')\""));
    assert_eq!(status, Some(2), "{drawn:?}");
    assert!(drawn.contains("unrecognized subcommand"), "{drawn:?}");
    assert!(
        !drawn.contains("\u{1b}]0;pwned"),
        "the title is not set: {drawn:?}"
    );
}
