//! `openrouter-files` against careless users and hostile servers: outputs that are not regular
//! files, standard error closed, server text that tries to spoof the terminal or carry the key,
//! empty environment variables, and interrupted downloads.

mod common;

use std::process::{Command, Stdio};

use common::*;

#[test]
fn get_onto_a_fifo_writes_through_it_and_leaves_the_fifo_in_place() {
    let content = vec![7u8; 300_000];
    let (emulator, ids) = seeded(&[("f.bin", content.clone())]);
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let (sent, read) = std::sync::mpsc::channel();
    {
        let fifo = fifo.clone();
        // Blocks for ever if the fifo is replaced: not joined.
        std::thread::spawn(move || sent.send(std::fs::read(fifo).unwrap()));
    }
    let out = run(&emulator, &["get", &ids[0], "-o", fifo.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{out:?}");
    use std::os::unix::fs::FileTypeExt;
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "the fifo was replaced: {kind:?}");
    let got = read.recv_timeout(std::time::Duration::from_secs(60));
    assert_eq!(got.ok(), Some(content));
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file beside it: {left:?}");
}

#[test]
fn get_onto_a_device_writes_to_it_and_reports_its_errors() {
    let (emulator, ids) = seeded(&[("f.bin", vec![1u8; 100_000])]);
    let dir = tempfile::tempdir().unwrap();
    // Through links, so that a bug replaces a link in a temp dir and not a device.
    let null = dir.path().join("null");
    let full = dir.path().join("full");
    std::os::unix::fs::symlink("/dev/null", &null).unwrap();
    std::os::unix::fs::symlink("/dev/full", &full).unwrap();
    let out = run(&emulator, &["get", &ids[0], "-o", null.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(std::fs::symlink_metadata(&null).unwrap().is_symlink());
    let out = run(&emulator, &["get", &ids[0], "-o", full.to_str().unwrap()]);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr
            .contains(&format!("cannot write {}: No space left", full.display())),
        "{out:?}"
    );
    assert!(std::fs::symlink_metadata(&full).unwrap().is_symlink());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

/// Runs the binary against `emulator` with its standard error a pipe nobody reads.
fn with_stderr_closed(
    emulator: &openrouter_files::emulator::Emulator,
    args: &[&str],
) -> Option<i32> {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Command::new(BIN)
        .env("OPENROUTER_API_KEY", KEY)
        .arg("--base-url")
        .arg(emulator.base_url())
        .args(args)
        .stdout(Stdio::null())
        .stderr(writer)
        .status()
        .unwrap()
        .code()
}

#[test]
fn a_closed_standard_error_changes_no_exit_status() {
    let emulator = emulator();
    for (args, code) in [
        (&["info", "or_file_nope"][..], 4),
        (&["rm", "or_file_nope", "or_file_nope2"], 5),
        (&["--json", "ls", "--limit=0"], 2),
        (&["ls", "--limit=0"], 2),
        (&["ls"], 0),
    ] {
        assert_eq!(with_stderr_closed(&emulator, args), Some(code), "{args:?}");
    }
}

#[test]
fn a_server_that_echoes_the_key_cannot_make_any_output_show_it() {
    // `ran` fails the test if the key appears in standard output or error.
    let emulator = emulator();
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "plain.txt", "x");
    let named = format!("{KEY}.txt");
    emulator
        .seed_file_in(openrouter_files::emulator::DEFAULT_WORKSPACE, &named, b"x")
        .unwrap();
    let ls = run(&emulator, &["ls"]);
    assert!(ls.stdout.contains("[redacted].txt"), "{ls:?}");
    let id = ls.stdout.split('\t').next().unwrap().to_string();
    run(&emulator, &["ls", "--json"]);
    run(&emulator, &["info", &id]);
    run(&emulator, &["put", &path, "--name", &named]);
    let body = format!(r#"{{"error":{{"code":500,"message":"bad key {KEY}"}}}}"#);
    let fault = || {
        openrouter_files::emulator::Fault::status(500)
            .with_body(&body)
            .with_header("X-Request-Id", KEY)
    };
    emulator.inject(fault(), 3);
    let out = run(&emulator, &["--json", "info", &id]);
    assert_eq!(out.code, Some(1), "{out:?}");
    emulator.inject(fault(), 3);
    run(&emulator, &["info", &id]);
    // A careless user passing the key where an id goes.
    let out = run(&emulator, &["info", KEY, "--json"]);
    assert_eq!(out.code, Some(4), "{out:?}");
    run(&emulator, &["rm", KEY, &id]);
}

#[test]
fn bidi_controls_in_server_text_cannot_reorder_what_the_terminal_shows() {
    let emulator = emulator();
    let spoof = "invoice\u{202e}fdp.exe\u{2066}\u{200f}";
    emulator
        .seed_file_in(openrouter_files::emulator::DEFAULT_WORKSPACE, spoof, b"x")
        .unwrap();
    let ls = run(&emulator, &["ls"]);
    assert!(ls.stdout.ends_with("\tinvoicefdp.exe\n"), "{ls:?}");
    let json = run(&emulator, &["ls", "--json"]);
    assert!(
        json.stdout.contains(r"invoice\u202efdp.exe\u2066\u200f"),
        "{json:?}"
    );
    assert_eq!(
        json_lines(&json.stdout)[0]["filename"],
        spoof,
        "JSON stays exact"
    );
    let body = "{\"error\":{\"code\":404,\"message\":\"no \u{202e}such\"}}";
    emulator.inject(
        openrouter_files::emulator::Fault::status(404).with_body(body),
        1,
    );
    let out = run(&emulator, &["info", "or_file_x"]);
    assert!(out.stderr.contains("no such"), "{out:?}");
    for out in [ls, json, out] {
        let all = out.stdout + &out.stderr;
        assert!(
            !all.contains(['\u{202e}', '\u{2066}', '\u{200f}']),
            "{all:?}"
        );
    }
}

#[test]
fn empty_environment_variables_count_as_unset() {
    let emulator = emulator();
    put(&emulator, "a.txt", "a");
    let out = ran(bare()
        .env("OPENROUTER_BASE_URL", emulator.base_url())
        .env("OPENROUTER_WORKSPACE", "")
        .arg("ls"));
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.ends_with("\ta.txt\n"), "{out:?}");
    // An empty base URL means the default one, as in the library's `FilesClient::from_env`;
    // it is checked here without sending anything anywhere: the key is empty too.
    let out = ran(bare()
        .env("OPENROUTER_BASE_URL", "")
        .env("OPENROUTER_API_KEY", "")
        .arg("ls"));
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(
        out.stderr.contains("OPENROUTER_API_KEY is not set"),
        "{out:?}"
    );
    // Given on the command line, an empty value is still an error.
    let out = run(&emulator, &["--workspace", "", "ls"]);
    assert_eq!(out.code, Some(2), "{out:?}");
}
