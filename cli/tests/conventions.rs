//! The conventions of `openrouter-files`: help and version, flags anywhere, environment
//! variables, the exit-code table, JSON errors and control characters (completions: `completions.rs`).

mod common;

use common::*;
use openrouter_files_emulator::{DEFAULT_WORKSPACE, Fault};

#[test]
fn help_and_version_go_to_stdout_with_status_0() {
    for args in [
        &["--help"][..],
        &["help"],
        &["ls", "--help"],
        &["put", "-h"],
        &["help", "get"],
    ] {
        let out = ran(bare().args(args));
        assert_eq!(out.code, Some(0), "{args:?}: {out:?}");
        assert!(
            out.stdout.contains("Usage: openrouter-files"),
            "{args:?}: {out:?}"
        );
        assert!(out.stderr.is_empty());
    }
    let help = ran(bare().arg("--help")).stdout;
    for documented in [
        "Exit status",
        "OPENROUTER_API_KEY",
        "any download to a terminal",
        "3 authentication",
        "5 some items",
    ] {
        assert!(
            help.contains(documented),
            "{documented} missing from --help"
        );
    }
    let version = ran(bare().arg("--version"));
    assert_eq!(
        version.stdout,
        format!("openrouter-files {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn global_flags_work_before_or_after_the_command_and_with_equals() {
    let emulator = emulator();
    let a = put(&emulator, "a.txt", "a");
    let url = format!("--base-url={}", emulator.base_url());
    for args in [
        vec![url.as_str(), "--json", "ls"],
        vec!["ls", "--json", url.as_str()],
        vec![
            "ls",
            "--base-url",
            emulator.base_url(),
            "--limit=5",
            "--json",
        ],
    ] {
        let out = ran(bare().args(&args));
        assert_eq!(out.code, Some(0), "{args:?}: {out:?}");
        assert_eq!(json_lines(&out.stdout), vec![a.clone()], "{args:?}");
    }
}

#[test]
fn base_url_and_workspace_come_from_the_environment() {
    let emulator = emulator();
    let workspace = "a103d8b6-42f0-4e50-9a3c-bf41e2c3c1a7";
    emulator
        .seed_file_in(workspace, "theirs.txt", b"x")
        .unwrap();
    emulator
        .seed_file_in(DEFAULT_WORKSPACE, "ours.txt", b"x")
        .unwrap();
    let out = ran(bare()
        .env("OPENROUTER_BASE_URL", emulator.base_url())
        .arg("ls"));
    assert!(out.stdout.ends_with("\tours.txt\n"), "{out:?}");
    let out = ran(bare()
        .env("OPENROUTER_BASE_URL", emulator.base_url())
        .env("OPENROUTER_WORKSPACE", workspace)
        .arg("ls"));
    assert!(out.stdout.ends_with("\ttheirs.txt\n"), "{out:?}");
}

#[test]
fn each_command_help_shows_only_the_options_that_apply_and_examples() {
    let help = |command: &str| ran(bare().args([command, "--help"])).stdout;
    for command in ["ls", "put", "get", "info", "rm"] {
        let text = help(command);
        for option in [
            "--base-url",
            "--workspace",
            "--json",
            "--verbose",
            "--ca-cert",
        ] {
            assert!(text.contains(option), "{command}: {option} missing: {text}");
        }
        assert!(
            text.contains("Examples:\n  openrouter-files "),
            "{command}: {text}"
        );
        // Progress bars only where files move.
        let bars = matches!(command, "put" | "get");
        assert_eq!(text.contains("--quiet"), bars, "{command}: {text}");
    }
    let emulator_help = cfg!(feature = "emulator").then_some("emulator");
    for command in ["completions", "ref"].into_iter().chain(emulator_help) {
        let text = help(command);
        for option in [
            "--base-url",
            "--workspace",
            "--json",
            "--quiet",
            "--verbose",
            "--proxy",
        ] {
            assert!(!text.contains(option), "{command}: {option} shown: {text}");
        }
    }
    if cfg!(feature = "emulator") {
        assert!(help("emulator").contains("Examples:\n"));
    }
    assert!(help("ref").contains("Examples:\n"));
    let install = help("completions");
    assert!(
        install.contains("openrouter-files completions bash > $dir/openrouter-files"),
        "{install}"
    );
    // Options that do not apply are refused after the command; `-q` after a command without
    // bars is still accepted (0.2 took it there).
    for args in [
        &["emulator", "--base-url", "http://127.0.0.1:1"][..],
        &["completions", "bash", "--json"],
        &["ref", "ID", "--for", "chat", "--verbose"],
    ] {
        assert_eq!(ran(bare().args(args)).code, Some(2), "{args:?}");
    }
    let emulator = emulator();
    assert_eq!(run(&emulator, &["ls", "-q"]).code, Some(0));
}

#[test]
fn a_base_url_from_the_environment_is_not_shown_in_the_usage_line_as_if_typed() {
    for command in ["put", "sync"] {
        let out = ran(bare()
            .env("OPENROUTER_BASE_URL", "http://127.0.0.1:1/api/v1")
            .env(
                "OPENROUTER_WORKSPACE",
                "a103d8b6-42f0-4e50-9a3c-bf41e2c3c1a7",
            )
            .arg(command));
        assert_eq!(out.code, Some(2), "{out:?}");
        let usage = out
            .stderr
            .lines()
            .find(|l| l.starts_with("Usage:"))
            .unwrap();
        assert!(!usage.contains("--base-url"), "{usage}");
        assert!(!usage.contains("--workspace"), "{usage}");
    }
}

#[test]
fn usage_and_local_validation_errors_exit_2_before_sending() {
    let emulator = emulator();
    for args in [
        vec![],
        vec!["frobnicate"],
        vec!["ls", "--limit"],
        vec!["ls", "--limit", "ten"],
        vec!["ls", "--limit", "0"],
        vec!["ls", "--page-size", "0"],
        vec!["ls", "--page-size", "1001"],
        vec!["ls", "--order", "sideways"],
        vec!["put"],
        vec!["put", "-j", "0", "x"],
        vec!["put", "a", "b", "--name", "c"],
        vec!["info"],
        vec!["info", ""],
        vec!["rm"],
        vec!["get"],
        vec!["get", "a", "b"],
        vec!["get", "a", "b", "-o", "x"],
        vec!["get", "a", "-o", "x", "-d", "y"],
        vec!["--workspace", "not-a-uuid", "ls"],
    ] {
        let out = run(&emulator, &args);
        assert_eq!(out.code, Some(2), "{args:?}: {out:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
    }
    assert!(emulator.requests().is_empty(), "nothing was sent");
    let out = ran(bare().args(["--base-url", "ftp://example.com/api", "ls"]));
    assert_eq!(out.code, Some(2), "{out:?}");
    let out = ran(bare().env_remove("OPENROUTER_API_KEY").arg("ls"));
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("OPENROUTER_API_KEY"), "{out:?}");
}

#[test]
fn a_refused_key_exits_3_without_echoing_any_key() {
    let emulator = emulator();
    let out = ran(bare()
        .env("OPENROUTER_API_KEY", "sk-or-other-secret-99")
        .args(["--base-url", emulator.base_url(), "info", "a", "b", "c"]));
    assert_eq!(out.code, Some(3), "{out:?}");
    assert!(out.stderr.contains("HTTP 401"), "{out:?}");
    assert!(!out.stderr.contains("other-secret") && !out.stdout.contains("other-secret"));
    assert_eq!(emulator.requests().len(), 1, "stops at the first refusal");
    emulator.inject(Fault::status(403), 1);
    let out = run(&emulator, &["ls"]);
    assert_eq!(out.code, Some(3), "{out:?}");
}

#[test]
fn not_found_exits_4_and_other_server_failures_exit_1() {
    let emulator = emulator();
    let out = run(&emulator, &["info", "or_file_nope"]);
    assert_eq!(out.code, Some(4), "{out:?}");
    emulator.inject(Fault::status(500), 3);
    let out = run(&emulator, &["ls"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("HTTP 500"), "{out:?}");
}

#[test]
fn a_transport_error_exits_1() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let out = ran(bare().args([
        "ls",
        "--base-url",
        &format!("http://127.0.0.1:{port}/api/v1"),
    ]));
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("GET /files failed"), "{out:?}");
}

#[test]
fn json_turns_every_error_into_one_object_per_line_on_stderr() {
    let emulator = emulator();
    let out = run(&emulator, &["--json", "info", "or_file_nope"]);
    assert_eq!(out.code, Some(4));
    let errors = json_lines(&out.stderr);
    assert_eq!(errors.len(), 1, "{out:?}");
    assert_eq!(errors[0]["error"], "not_found");
    assert_eq!(errors[0]["exit_code"], 4);
    assert_eq!(errors[0]["status"], 404);
    assert_eq!(errors[0]["item"], "or_file_nope");
    assert!(
        errors[0]["request_id"]
            .as_str()
            .unwrap()
            .starts_with("req_emu_")
    );
    let out = run(&emulator, &["ls", "--limit=0", "--json"]);
    assert_eq!(out.code, Some(2));
    let errors = json_lines(&out.stderr);
    assert_eq!(errors[0]["error"], "usage", "{out:?}");
    let a = put(&emulator, "a.txt", "a");
    let out = run(
        &emulator,
        &["info", "--json", "or_file_x", a["id"].as_str().unwrap()],
    );
    assert_eq!(out.code, Some(5));
    let errors = json_lines(&out.stderr);
    assert_eq!(errors.len(), 2, "{out:?}");
    assert_eq!(errors[1]["error"], "partial");
    assert_eq!(errors[1]["failed"], serde_json::json!(["or_file_x"]));
}

#[test]
fn server_text_reaches_no_output_with_control_characters() {
    let emulator = emulator();
    let evil = "evil\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{7f}.txt";
    emulator
        .seed_file_in(DEFAULT_WORKSPACE, evil, b"x")
        .unwrap();
    let body = r#"{"error":{"code":404,"message":"gone\u001b[2J\u0007 \u009b31m away"}}"#;
    emulator.inject(Fault::status(404).with_body(body), 2);
    let plain = run(&emulator, &["info", "or_file_x"]);
    assert!(plain.stderr.contains("gone[2J 31m away"), "{plain:?}");
    let json = run(&emulator, &["info", "--json", "or_file_x"]);
    let listed = run(&emulator, &["ls"]);
    assert!(
        listed.stdout.contains("evil]0;pwned[2J31m.txt"),
        "{listed:?}"
    );
    let listed_json = run(&emulator, &["ls", "--json"]);
    assert_eq!(
        json_lines(&listed_json.stdout)[0]["filename"],
        evil,
        "JSON stays exact"
    );
    for out in [plain, json, listed, listed_json] {
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(
            !all.chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t'),
            "{all:?}"
        );
    }
}

#[test]
fn a_success_status_with_a_body_that_is_not_the_apis_exits_1() {
    let emulator = emulator();
    emulator.inject(Fault::status(200).with_body("<html>\u{1b}[2Jproxy page"), 1);
    let out = run(&emulator, &["ls"]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains("[2Jproxy page"),
        "says what arrived: {out:?}"
    );
    assert!(!out.stderr.contains('\u{1b}'), "{out:?}");
}

#[test]
fn an_output_that_cannot_be_written_exits_1() {
    let emulator = emulator();
    put(&emulator, "a.txt", "a");
    let full = std::fs::File::create("/dev/full").unwrap();
    let out = std::process::Command::new(BIN)
        .env("OPENROUTER_API_KEY", KEY)
        .args(["ls", "--base-url", emulator.base_url()])
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot write to standard output"),
        "{stderr}"
    );
}
