//! `openrouter-files` against careless users and hostile servers: outputs that are not regular
//! files, standard error closed, server text that tries to spoof the terminal or carry the key,
//! empty environment variables, and interrupted downloads.

mod common;
#[path = "../../tests/common/generate.rs"]
mod generate;

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
    emulator: &openrouter_files_emulator::Emulator,
    args: &[&str],
) -> Option<i32> {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    process(emulator.base_url())
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
        .seed_file_in(openrouter_files_emulator::DEFAULT_WORKSPACE, &named, b"x")
        .unwrap();
    let ls = run(&emulator, &["ls"]);
    assert!(ls.stdout.contains("[redacted].txt"), "{ls:?}");
    let id = ls.stdout.split('\t').next().unwrap().to_string();
    run(&emulator, &["ls", "--json"]);
    run(&emulator, &["info", &id]);
    run(&emulator, &["put", &path, "--name", &named]);
    let body = format!(r#"{{"error":{{"code":500,"message":"bad key {KEY}"}}}}"#);
    let fault = || {
        openrouter_files_emulator::Fault::status(500)
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
        .seed_file_in(openrouter_files_emulator::DEFAULT_WORKSPACE, spoof, b"x")
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
        openrouter_files_emulator::Fault::status(404).with_body(body),
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

/// A server that answers every request with the head of a 1 MB download and 1000 bytes of it,
/// then holds the connection open without sending more (for a minute at most).
fn stalling_download_server() -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/api/v1", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\
                      Content-Length: 1000000\r\n\r\n",
                );
                let _ = stream.write_all(&[5u8; 1000]);
                std::thread::sleep(std::time::Duration::from_secs(60));
            });
        }
    });
    url
}

/// Waits (up to a minute) until `dir` holds `n` entries.
fn wait_for_entries(dir: &std::path::Path, n: usize) {
    for _ in 0..600 {
        if std::fs::read_dir(dir).unwrap().count() >= n {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{} never held {n} entries", dir.display());
}

/// Sends SIGINT to `child` and returns the signal it died of.
fn interrupt(child: &mut std::process::Child) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    send_signal(child, libc::SIGINT).signal()
}

#[test]
fn ctrl_c_during_get_leaves_no_temporary_file_and_dies_of_the_signal() {
    let url = stalling_download_server();
    let dir = tempfile::tempdir().unwrap();
    let mut child = process(&url)
        .args(["get", "-j", "2", "-d"])
        .arg(dir.path())
        .args(["or_file_a", "or_file_b"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_entries(dir.path(), 2);
    let signal = interrupt(&mut child);
    assert_eq!(signal, Some(2), "dies of SIGINT, so a shell sees 130");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn ctrl_c_during_put_of_standard_input_leaves_no_spool_file() {
    use std::io::Write;
    let emulator = emulator();
    let tmp = tempfile::tempdir().unwrap();
    let mut child = process(emulator.base_url())
        .env("TMPDIR", tmp.path())
        .args(["put", "-", "--name", "x.bin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Some input, then none for as long as it takes: the spool file exists meanwhile.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&[b'x'; 65536]).unwrap();
    wait_for_entries(tmp.path(), 1);
    let signal = interrupt(&mut child);
    drop(stdin);
    assert_eq!(signal, Some(2));
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(emulator.requests().is_empty(), "nothing was uploaded");
}

#[test]
fn put_of_an_endless_standard_input_stops_at_the_upload_limit_and_sends_nothing() {
    use std::io::Write;
    let emulator = emulator();
    let tmp = tempfile::tempdir().unwrap();
    let mut child = process(emulator.base_url())
        .env("TMPDIR", tmp.path())
        .args(["--json", "put", "-"])
        .args(["--name", "x.bin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let chunk = [b'x'; 65536];
        let mut sent = 0u64;
        while stdin.write_all(&chunk).is_ok() {
            sent += chunk.len() as u64;
        }
        sent
    });
    let out = child.wait_with_output().unwrap();
    let sent = feeder.join().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let error = &json_lines(&String::from_utf8_lossy(&out.stderr))[0];
    assert_eq!(error["error"], "usage", "{error}");
    assert!(sent < 200_000_000, "reading stopped near the limit: {sent}");
    assert!(emulator.requests().is_empty());
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn get_tries_a_broken_transfer_again_as_the_library_does() {
    use openrouter_files_emulator::{Emulator, Fault};
    let content: Vec<u8> = (0..400_000u32).map(|i| (i % 251) as u8).collect();
    let emulator = Emulator::builder()
        .api_key(KEY)
        .range_requests(true)
        .seed_file("f.bin", content.clone())
        .start()
        .unwrap();
    let id = listed_ids(&emulator).remove(0);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("f.bin");
    emulator.inject(
        Fault::TruncateDownload {
            after_bytes: 150_000,
        },
        1,
    );
    let out = run(&emulator, &["get", &id, "-o", target.to_str().unwrap()]);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(std::fs::read(&target).unwrap(), content);
    // With -d and several files too, each broken once.
    emulator.inject(Fault::TruncateDownload { after_bytes: 1000 }, 2);
    let many = dir.path().join("many");
    std::fs::create_dir(&many).unwrap();
    let out = run(
        &emulator,
        &["get", "-j", "2", "-d", many.to_str().unwrap(), &id, &id],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(std::fs::read(many.join(&id)).unwrap(), content);
    assert_eq!(std::fs::read_dir(&many).unwrap().count(), 1);
}

#[test]
fn ids_with_control_characters_are_refused_before_sending() {
    let emulator = emulator();
    let out = ran(cli(&emulator, &["info", "-"]).write_stdin("or_file_a\0b\n"));
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains(r#""or_file_a\0b""#), "{out:?}");
    let out = run(&emulator, &["rm", "or_file_\u{1b}[2J"]);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(!out.stderr.contains('\u{1b}'), "{out:?}");
    assert!(emulator.requests().is_empty());
}

#[test]
fn get_into_a_directory_refuses_an_id_too_long_for_a_file_name_before_sending() {
    let (emulator, _) = seeded(&[("f.bin", vec![1u8; 10])]);
    let requests = emulator.requests().len();
    let dir = tempfile::tempdir().unwrap();
    let long = "a".repeat(10_000);
    let out = run(
        &emulator,
        &["get", "-d", dir.path().to_str().unwrap(), &long],
    );
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(
        out.stderr.contains("cannot be used as a file name"),
        "{out:?}"
    );
    assert_eq!(emulator.requests().len(), requests, "nothing was sent");
    for id in ["../x", "/etc/passwd", "a/b", ".", ".."] {
        let out = run(&emulator, &["get", "-d", dir.path().to_str().unwrap(), id]);
        assert_eq!(out.code, Some(2), "{id}: {out:?}");
    }
    assert_eq!(emulator.requests().len(), requests, "nothing was sent");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// A server that answers the n-th request (0-based) with `answers[n]` (status and JSON body),
/// and counts the requests.
fn scripted(
    answers: Vec<(u16, Vec<u8>)>,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/api/v1", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let (status, body) = answers.get(n).cloned().unwrap_or((500, b"{}".to_vec()));
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body);
            }
        }
    });
    (url, count)
}

#[test]
fn a_key_refused_in_the_middle_of_info_stops_it_with_exit_3() {
    let meta = r#"{"id":"or_file_a","type":"file","filename":"a.txt","mime_type":"text/plain","size_bytes":1,"created_at":"2026-11-25T00:00:00Z","downloadable":false}"#;
    let refused = r#"{"error":{"code":401,"message":"key revoked"}}"#;
    let (url, count) = scripted(vec![(200, meta.into()), (401, refused.into())]);
    let out = ran(bare().args([
        "--base-url",
        &url,
        "--json",
        "info",
        "or_file_a",
        "or_file_b",
        "or_file_c",
    ]));
    assert_eq!(out.code, Some(3), "{out:?}");
    assert_eq!(json_lines(&out.stdout).len(), 1, "{out:?}");
    let errors = json_lines(&out.stderr);
    assert_eq!(errors.len(), 1, "{out:?}");
    assert_eq!(errors[0]["error"], "auth");
    assert_eq!(errors[0]["item"], "or_file_b");
    assert_eq!(
        count.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "or_file_c was not asked for"
    );
}

#[test]
fn rm_stops_deleting_when_its_output_is_closed() {
    let emulator = emulator();
    let ids = put_many(&emulator, 5);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = process(emulator.base_url())
        .arg("rm")
        .args(&ids)
        .stdout(writer)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(listed_ids(&emulator).len(), 4, "only the first was deleted");
}

#[test]
fn json_errors_cover_every_failure_class_with_its_exit_code() {
    use openrouter_files_emulator::Fault;
    let emulator = emulator();
    let a = put(&emulator, "a.txt", "a")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let missing_dir = dir.path().join("no/such/out.bin");
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/api/v1", listener.local_addr().unwrap())
    };
    // Not UTF-8, with an escape sequence, where JSON was promised.
    let (garbled, _) = scripted(vec![(
        200,
        b"{\"data\":[{\"id\":\"\x1b[2J\xff\xfe\"}]}".to_vec(),
    )]);
    let check = |out: Ran, kind: &str, code: i32| {
        assert_eq!(out.code, Some(code), "{kind}: {out:?}");
        let errors = json_lines(&out.stderr);
        let last = errors.last().unwrap_or_else(|| panic!("{kind}: {out:?}"));
        assert_eq!(last["error"], kind, "{out:?}");
        assert_eq!(last["exit_code"], code, "{out:?}");
        assert!(!out.stderr.contains('\u{1b}'), "{out:?}");
    };
    check(
        run(&emulator, &["--json", "put", "-j", "100000", "x"]),
        "usage",
        2,
    );
    check(
        run(
            &emulator,
            &["--json", "get", &a, "-o", missing_dir.to_str().unwrap()],
        ),
        "usage",
        2,
    );
    check(
        run(&emulator, &["--json", "--workspace", "nope", "ls"]),
        "invalid_input",
        2,
    );
    check(
        run(&emulator, &["--json", "info", "or_file_none"]),
        "not_found",
        4,
    );
    emulator.inject(Fault::status(403), 1);
    check(run(&emulator, &["--json", "rm", &a]), "auth", 3);
    emulator.inject(Fault::status(500), 3);
    check(run(&emulator, &["--json", "info", &a]), "api", 1);
    check(
        ran(bare().args(["--json", "--base-url", &dead, "ls"])),
        "transport",
        1,
    );
    check(
        ran(bare().args(["--json", "--base-url", &garbled, "ls"])),
        "bad_response",
        1,
    );
    check(
        run(&emulator, &["--json", "info", &a, "or_file_none"]),
        "partial",
        5,
    );
}

#[test]
fn a_closed_standard_output_is_no_error_for_any_command() {
    let (emulator, ids) = seeded(&[("f.bin", vec![3u8; 2_000_000])]);
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "p.txt", "p");
    for args in [
        &["--help"][..],
        &["--version"],
        &["completions", "bash"],
        &["ls"],
        &["ls", "--json"],
        &["info", &ids[0]],
        &["get", &ids[0]],
        &["put", &path],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = process(emulator.base_url())
            .args(args)
            .stdout(writer)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

#[test]
fn rm_prints_the_id_it_deleted_not_another_the_server_names() {
    let other = br#"{"id":"or_file_other","object":"file","deleted":true}"#;
    let (url, _) = scripted(vec![(200, other.to_vec())]);
    let out = ran(bare().args(["--base-url", &url, "rm", "or_file_mine"]));
    assert!(!out.stdout.contains("or_file_other"), "{out:?}");
    if out.code == Some(0) {
        assert_eq!(out.stdout, "or_file_mine\n");
    }
}

#[test]
fn rm_of_a_file_the_server_confirms_deleting_another_fails_and_prints_nothing() {
    for other in [
        &br#"{"id":"or_file_other","object":"file","deleted":true}"#[..],
        br#"{"id":"or_file_other","type":"file_deleted"}"#,
        br#"{"id":"or_file_mine","type":"file_deleted","deleted":false}"#,
    ] {
        let (url, _) = scripted(vec![(200, other.to_vec())]);
        let out = ran(bare().args(["--base-url", &url, "--json", "rm", "or_file_mine"]));
        assert_eq!(out.code, Some(1), "{out:?}");
        assert_eq!(out.stdout, "", "nothing reported deleted: {out:?}");
        let errors = json_lines(&out.stderr);
        assert_eq!(errors[0]["error"], "bad_response", "{out:?}");
        assert_eq!(errors[0]["item"], "or_file_mine", "{out:?}");
    }
}

#[test]
fn usage_errors_do_not_echo_escape_sequences_from_the_arguments() {
    for args in [
        &["\u{1b}]0;pwned\u{7}"][..],
        &["ls", "--limit", "\u{1b}[2J\u{202e}"],
    ] {
        let out = ran(bare().args(args));
        assert_eq!(out.code, Some(2), "{out:?}");
        assert!(out.stderr.contains("error:"), "{out:?}");
        assert!(
            !out.stderr.contains(['\u{1b}', '\u{7}', '\u{202e}']),
            "{out:?}"
        );
    }
}

/// Splits `text` where Python's `str.splitlines` does.
fn python_lines(text: &str) -> Vec<&str> {
    text.split([
        '\n', '\r', '\u{b}', '\u{c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{85}', '\u{2028}',
        '\u{2029}',
    ])
    .filter(|l| !l.is_empty())
    .collect()
}

/// Two pages: the first with a name full of line separators and one that is a lone surrogate
/// escape, the second with a plain name.
fn pages_with_odd_names() -> Vec<(u16, Vec<u8>)> {
    let file = |id: &str, name: &str| {
        format!(
            r#"{{"id":"{id}","type":"file","filename":"{name}","mime_type":"text/plain","size_bytes":1,"created_at":"2026-11-25T00:00:00Z","downloadable":false}}"#
        )
    };
    let first = format!(
        r#"{{"data":[{},{}],"has_more":true,"cursor":"c1"}}"#,
        file(
            "or_file_a",
            "x\u{2028}or_file_forged\\t9\u{2029}y\\u0085z\\u000b\\u001e"
        ),
        file("or_file_b", "\\ud800")
    );
    let second = format!(
        r#"{{"data":[{}],"has_more":false,"cursor":null}}"#,
        file("or_file_c", "c.txt")
    );
    vec![(200, first.into_bytes()), (200, second.into_bytes())]
}

#[test]
fn ls_rows_are_never_split_by_a_line_or_paragraph_separator() {
    let (url, _) = scripted(pages_with_odd_names());
    let out = ran(bare().args(["--base-url", &url, "ls"]));
    assert_eq!(out.code, Some(0), "{out:?}");
    let rows = python_lines(&out.stdout);
    assert_eq!(rows.len(), 3, "{out:?}");
    assert!(rows.iter().all(|r| r.split('\t').count() == 5), "{rows:?}");
    assert!(
        rows[0].ends_with("\tx\\u2028or_file_forged\\t9\\u2029y\\u0085z\\u000b\\u001e"),
        "{rows:?}"
    );
}

#[test]
fn ls_lists_every_page_past_a_name_that_is_a_lone_surrogate() {
    for json in [false, true] {
        let (url, count) = scripted(pages_with_odd_names());
        let mut args = vec!["--base-url", &url, "ls"];
        if json {
            args.push("--json");
        }
        let out = ran(bare().args(&args));
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 2);
        let rows = python_lines(&out.stdout);
        assert_eq!(rows.len(), 3, "{out:?}");
        if json {
            let files = json_lines(&out.stdout);
            assert_eq!(files[1]["filename"], "\u{fffd}");
            assert_eq!(files[2]["id"], "or_file_c");
            assert_eq!(files[0]["filename"].as_str().unwrap().lines().count(), 1);
        } else {
            assert!(rows[1].ends_with("\t\u{fffd}"), "{rows:?}");
            assert!(rows[2].starts_with("or_file_c\t"), "{rows:?}");
        }
    }
}

#[test]
fn get_saves_under_any_name_the_file_system_accepts() {
    let (emulator, ids) = seeded(&[("f.bin", b"content".to_vec())]);
    let dir = tempfile::tempdir().unwrap();
    for name in ["n".repeat(255), "é".repeat(127) + "x"] {
        let target = dir.path().join(&name);
        let out = run(&emulator, &["get", &ids[0], "-o", target.to_str().unwrap()]);
        assert_eq!(out.code, Some(0), "{out:?}");
        assert_eq!(std::fs::read(&target).unwrap(), b"content");
        std::fs::remove_file(&target).unwrap();
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// Runs `get ARGS` against `url` until `dir` holds `n` entries, interrupts it, and checks
/// that it died of the signal and left `dir` empty.
fn interrupted_get(url: &str, args: &[&std::ffi::OsStr], dir: &std::path::Path, n: usize) {
    let mut child = process(url)
        .arg("get")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_entries(dir, n);
    assert_eq!(interrupt(&mut child), Some(2));
    let left: Vec<_> = std::fs::read_dir(dir).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn ctrl_c_during_get_of_long_names_leaves_no_temporary_file() {
    // Two 255-byte ids that differ only past the part of the name a temporary file keeps.
    let (a, b) = ("x".repeat(250) + "aaaaa", "x".repeat(250) + "bbbbb");
    let url = stalling_download_server();
    let dir = tempfile::tempdir().unwrap();
    let os = std::ffi::OsStr::new;
    let parallel = [
        os("-j"),
        os("2"),
        os("-d"),
        dir.path().as_os_str(),
        os(&a),
        os(&b),
    ];
    interrupted_get(&url, &parallel, dir.path(), 2);
    let target = dir.path().join("é".repeat(127) + "x");
    interrupted_get(
        &url,
        &[os("or_file_a"), os("-o"), target.as_os_str()],
        dir.path(),
        1,
    );
}

#[test]
fn a_password_in_the_base_url_is_never_printed() {
    let (url, _) = scripted(vec![(
        200,
        br#"{"id":"or_file_other","object":"file","deleted":true}"#.to_vec(),
    )]);
    let served = url.replace("://", "://user:hunter2@");
    let refused = [
        "http://user:hunter2@h/api?x=1",
        "ftp://user:hunter2@h/api",
        "user:hunter2@h/api",
    ];
    for base in refused.iter().copied().chain([served.as_str()]) {
        for json in [false, true] {
            let mut cmd = bare();
            cmd.env("OPENROUTER_BASE_URL", base);
            if json {
                cmd.arg("--json");
            }
            let out = ran(cmd.args(["rm", "or_file_mine"]));
            assert_ne!(out.code, Some(0), "{out:?}");
            assert!(
                !out.stderr.contains("hunter2") && !out.stdout.contains("hunter2"),
                "{out:?}"
            );
            assert!(
                out.stderr.contains("[redacted]@") || base == served,
                "{out:?}"
            );
        }
    }
}

/// A port on 127.0.0.1 that nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn a_proxy_that_refuses_is_the_peer_named_and_its_password_is_not_printed() {
    // Each variable that names a proxy for an http URL: the message names the proxy (what was
    // tried), not the API host, and never the proxy's password. `HTTP_PROXY` (upper case) is
    // not one of them (a CGI request's `Proxy:` header can set it): the API host is tried.
    let (proxy_port, api_port) = (closed_port(), closed_port());
    let proxy = format!("http://puser:psecret@127.0.0.1:{proxy_port}");
    let base = format!("http://127.0.0.1:{api_port}/api/v1");
    for (var, via_proxy) in [
        ("ALL_PROXY", true),
        ("all_proxy", true),
        ("http_proxy", true),
        ("HTTP_PROXY", false),
    ] {
        let mut cmd = bare();
        for other in [
            "ALL_PROXY",
            "all_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
        ] {
            cmd.env_remove(other);
        }
        cmd.env_remove("http_proxy")
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .env(var, &proxy)
            .env("OPENROUTER_BASE_URL", &base);
        let out = ran(cmd.args(["info", "or_file_1"]));
        assert_ne!(out.code, Some(0), "{out:?}");
        let tried = if via_proxy { proxy_port } else { api_port };
        assert!(
            out.stderr.contains(&format!("127.0.0.1:{tried}")),
            "{var}: {out:?}"
        );
        assert!(!out.stderr.contains("psecret"), "{var}: {out:?}");
    }
}

/// Seeded cases of generated names, confirmations and credentials (`HOSTILE_SEED`), each with
/// its exact outcome: `ls` prints one row (or JSON line) per file whatever its name holds and
/// goes on past a lone surrogate; `rm` prints an id only when the server confirmed that one;
/// a password in `OPENROUTER_BASE_URL` or a `Location` is never printed.
#[test]
fn generated_names_confirmations_and_credentials_never_forge_output() {
    use generate::Rng;
    let seed = hostile_seed(0x5EED_0019);
    for case in 0..30usize {
        let mut rng = Rng(seed ^ (case as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
        match case % 3 {
            0 => generated_listing(&mut rng, case),
            1 => generated_deletion(&mut rng, case),
            _ => generated_credentials(&mut rng, case),
        }
    }
}

/// Two pages of generated names, listed as TSV and as JSON.
fn generated_listing(rng: &mut generate::Rng, case: usize) {
    let mut names = Vec::new();
    let mut pages = Vec::new();
    for p in 0..2 {
        let mut files = Vec::new();
        for f in 0..1 + rng.below(4) {
            let (wire, decoded) = generate::odd_json_string(rng);
            files.push(format!(
                r#"{{"id":"or_file_{p}_{f}","type":"file","filename":"{wire}","size_bytes":1,"created_at":"2026-11-25T00:00:00Z"}}"#
            ));
            names.push(decoded);
        }
        let (more, cursor) = if p == 0 {
            (true, r#""c1""#)
        } else {
            (false, "null")
        };
        pages.push(format!(
            r#"{{"data":[{}],"has_more":{more},"cursor":{cursor}}}"#,
            files.join(",")
        ));
    }
    let answers: Vec<(u16, Vec<u8>)> = pages
        .iter()
        .chain(&pages)
        .map(|p| (200, p.clone().into_bytes()))
        .collect();
    let (url, _) = scripted(answers);
    let out = ran(bare().args(["--base-url", &url, "ls"]));
    assert_eq!(out.code, Some(0), "case {case}: {out:?}");
    let rows = python_lines(&out.stdout);
    assert_eq!(rows.len(), names.len(), "case {case}: {out:?}");
    assert!(
        rows.iter().all(|r| r.split('\t').count() == 5),
        "case {case}: {rows:?}"
    );
    let out = ran(bare().args(["--base-url", &url, "ls", "--json"]));
    assert_eq!(out.code, Some(0), "case {case}: {out:?}");
    assert_eq!(python_lines(&out.stdout).len(), names.len(), "case {case}");
    let listed: Vec<String> = json_lines(&out.stdout)
        .iter()
        .map(|f| f["filename"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, names, "case {case}");
}

/// `rm` of one id, confirmed for it, for it in the first API version's style, or for another.
fn generated_deletion(rng: &mut generate::Rng, case: usize) {
    let asked = format!("or_file_{case}");
    let answered = match rng.below(4) {
        0 => asked.clone(),
        1 => asked["or_".len()..].to_string(),
        2 => format!("{asked}{}", rng.pick(&["x", " ", "0", "\\u2028"])),
        _ => format!("or_file_{}", case + 1),
    };
    let same = answered == asked || answered == asked["or_".len()..];
    let body = match rng.below(2) {
        0 => format!(r#"{{"id":"{answered}","type":"file_deleted"}}"#),
        _ => format!(r#"{{"id":"{answered}","object":"file","deleted":true}}"#),
    };
    let (url, _) = scripted(vec![(200, body.into_bytes())]);
    let out = ran(bare().args(["--base-url", &url, "rm", &asked]));
    if same {
        assert_eq!(out.code, Some(0), "case {case}: {out:?}");
        assert_eq!(out.stdout, format!("{asked}\n"), "case {case}");
    } else {
        assert_eq!(out.code, Some(1), "case {case}: {out:?}");
        assert_eq!(out.stdout, "", "case {case}: {out:?}");
    }
}

/// A base URL with a password, refused or answered with a redirect to a `Location` with
/// another password.
fn generated_credentials(rng: &mut generate::Rng, case: usize) {
    let (first, second) = (
        format!("pwa{:x}", rng.next()),
        format!("pwb{:x}", rng.next()),
    );
    let location = format!("http://u:{second}@127.0.0.1:1/x");
    let redirecting =
        format!("HTTP/1.1 302 X\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        use std::io::{BufRead, BufReader, Write};
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let _ = stream.write_all(redirecting.as_bytes());
        }
    });
    let user = rng.pick(&["u", "", "a.b"]);
    let base = match rng.below(4) {
        0 => format!("http://{user}:{first}@{host}/api/v1?x"),
        1 => format!("ftp://{user}:{first}@{host}/api/v1"),
        2 => format!("{user}:{first}@{host}/api/v1"),
        _ => format!("http://{user}:{first}@{host}/api/v1"),
    };
    for args in [&["rm", "or_file_1"][..], &["--json", "rm", "or_file_1"]] {
        let out = ran(bare().env("OPENROUTER_BASE_URL", &base).args(args));
        assert_ne!(out.code, Some(0), "case {case}: {out:?}");
        let shown = format!("{}{}", out.stdout, out.stderr);
        assert!(
            !shown.contains(&first) && !shown.contains(&second),
            "case {case}: {out:?}"
        );
    }
}

/// Seeded generated keys (`HOSTILE_SEED`): quotes, `$(…)`, backslashes, line and paragraph
/// separators, escapes. Whatever `emulator --api-key` is given, a shell that evaluates
/// `--print-env` reads back exactly that key, and runs nothing hidden in it.
#[cfg(feature = "emulator")]
#[test]
fn generated_keys_come_back_exactly_from_print_env_and_run_nothing() {
    use generate::Rng;
    let seed = hostile_seed(0x5EED_0022);
    let dir = tempfile::tempdir().unwrap();
    for case in 0..8u64 {
        let mut rng = Rng(seed ^ case.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let (_, decoded) = generate::odd_json_string(&mut rng);
        let key = format!(
            "{decoded}{}$(touch ran){}",
            rng.pick(&["'", "\"", "\\", "`", "'\\''"]),
            rng.pick(&["`touch ran`", "$HOME", "';touch ran;'", "\n"])
        );
        let script = format!(
            "eval \"$('{BIN}' emulator --print-env --api-key \"$1\" 2>/dev/null &)\"\n\
             printf '%s' \"$OPENROUTER_API_KEY\"\n\
             kill \"$OPENROUTER_EMULATOR_PID\""
        );
        let out = Command::new("sh")
            .args(["-c", &script, "sh", &key])
            .current_dir(dir.path())
            .env_remove("OPENROUTER_API_KEY")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "case {case} (seed {seed}): {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            key,
            "case {case} (seed {seed})"
        );
        assert!(
            std::fs::read_dir(dir.path()).unwrap().next().is_none(),
            "case {case} (seed {seed}): the key ran a command"
        );
    }
}

/// The seed of a generated suite: `HOSTILE_SEED` when set (to replay a failure), else `default`.
fn hostile_seed(default: u64) -> u64 {
    std::env::var("HOSTILE_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
