//! `openrouter-files emulator`: the local Files API server as a process, for other programs'
//! tests, with the builder's options and the `base_url …` / `api_key …` lines scripts parse.
#![cfg(feature = "emulator")]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

/// Stops the emulator as a script's `kill` does (SIGTERM), so that it removes what it stored;
/// returns how it ended.
fn stop(child: &mut std::process::Child) -> std::process::ExitStatus {
    send_signal(child, libc::SIGTERM)
}

#[test]
fn the_emulator_command_keeps_uploads_in_its_storage_dir_and_removes_them_when_stopped() {
    use std::os::unix::process::ExitStatusExt;
    let storage = tempfile::tempdir().unwrap();
    let (mut child, _, base_url, key) = start_emulator(&[
        "--storage-dir",
        storage.path().to_str().unwrap(),
        "--seed-downloadable",
        "seed.bin:1000",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let content = "kept on the chosen disk\n";
    let text = file(dir.path(), "notes.txt", content);
    let put =
        ran(bare()
            .env("OPENROUTER_API_KEY", &key)
            .args(["--base-url", &base_url, "put", &text]));
    let own: Vec<_> = std::fs::read_dir(storage.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let held: Vec<u64> = own
        .iter()
        .flat_map(|d| std::fs::read_dir(d).unwrap())
        .map(|e| e.unwrap().metadata().unwrap().len())
        .collect();
    let status = stop(&mut child);
    assert_eq!(put.code, Some(0), "{put:?}");
    assert_eq!(
        own.len(),
        1,
        "one subdirectory of the emulator's own: {own:?}"
    );
    let mut held = held;
    held.sort_unstable();
    let mut expected = [content.len() as u64, 1000];
    expected.sort_unstable();
    assert_eq!(
        held, expected,
        "the seed and the upload, on the chosen disk"
    );
    assert_eq!(
        status.signal(),
        Some(libc::SIGTERM),
        "it ends as SIGTERM would: {status:?}"
    );
    assert_eq!(
        std::fs::read_dir(storage.path()).unwrap().count(),
        0,
        "SIGTERM removed the stored bytes"
    );
}

/// Every file under `dir`, however deep.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// Runs `emulator --storage-dir DIR SEEDING`, sends SIGTERM once `files` files are in DIR
/// (seeding goes on); returns how it ended, its standard error and the files left in DIR.
fn terminated_while_seeding(
    seeding: &[&str],
    files: usize,
) -> (std::process::ExitStatus, String, Vec<std::path::PathBuf>) {
    let storage = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["emulator", "--storage-dir"])
        .arg(storage.path())
        .args(seeding)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while files_under(storage.path()).len() < files {
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the seeding never started");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = send_signal(&mut child, libc::SIGTERM);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let left = std::fs::read_dir(storage.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    (status, stderr, left)
}

#[test]
fn a_signal_while_the_emulator_command_seeds_removes_what_it_had_written() {
    use std::os::unix::process::ExitStatusExt;
    // A seed far too large to be written before the signal comes (it is never finished).
    let (status, stderr, left) =
        terminated_while_seeding(&["--seed-downloadable", "huge.bin:20000000000"], 1);
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}: {stderr}");
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_signal_while_many_small_files_are_seeded_ends_the_emulator_command_of_the_signal() {
    use std::os::unix::process::ExitStatusExt;
    let (status, stderr, left) = terminated_while_seeding(&["--seed-files", "1000000"], 100);
    // Not a failure to seed (the sweep took the directory away): the death by the signal.
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}: {stderr}");
    assert_eq!(stderr, "");
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn sigterm_during_an_upload_ends_the_emulator_command_promptly_and_removes_the_partial_bytes() {
    use std::io::Write;
    use std::os::unix::process::ExitStatusExt;
    let storage = tempfile::tempdir().unwrap();
    let (mut child, _, base_url, key) =
        start_emulator(&["--storage-dir", storage.path().to_str().unwrap()]);
    let addr = base_url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .unwrap();
    // An upload that sends its first megabyte of a declared hundred, then waits.
    let mut upload = std::net::TcpStream::connect(addr).unwrap();
    let start = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n";
    write!(
        upload,
        "POST /api/v1/files HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000000\r\n\r\n{start}"
    )
    .unwrap();
    upload.write_all(&vec![b'x'; 1_000_000]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !files_under(storage.path())
        .iter()
        .any(|f| f.metadata().is_ok_and(|m| m.len() > 0))
    {
        assert!(
            Instant::now() < deadline,
            "the upload's bytes never reached the disk"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = send_signal(&mut child, libc::SIGTERM);
    let left = files_under(storage.path());
    drop(upload);
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    assert!(left.is_empty(), "left behind: {left:?}");
    assert_eq!(std::fs::read_dir(storage.path()).unwrap().count(), 0);
}

/// Issue 19, item 2: the storage directory swapped for a symlink to a folder of links while
/// the command runs: uploads are not written through the links, and SIGTERM empties the real
/// directory (the handle the emulator holds) instead of removing only the planted link.
#[test]
fn sigterm_empties_the_storage_even_when_it_was_swapped_for_a_symlink() {
    use std::os::unix::fs::symlink;
    let storage = tempfile::tempdir().unwrap();
    let victims = tempfile::tempdir().unwrap();
    let (mut child, _, base_url, key) =
        start_emulator(&["--storage-dir", storage.path().to_str().unwrap()]);
    let own = std::fs::read_dir(storage.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let decoys = storage.path().join("decoys");
    std::fs::create_dir(&decoys).unwrap();
    for n in 0..100 {
        let victim = victims.path().join(format!("v{n}"));
        std::fs::write(&victim, b"precious").unwrap();
        symlink(&victim, decoys.join(format!("incoming-{n}"))).unwrap();
    }
    let moved = storage.path().join("moved");
    std::fs::rename(&own, &moved).unwrap();
    symlink(&decoys, &own).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = file(dir.path(), "notes.txt", "uploaded after the swap\n");
    let put =
        ran(bare()
            .env("OPENROUTER_API_KEY", &key)
            .args(["--base-url", &base_url, "put", &text]));
    let stored = files_under(&moved).len();
    stop(&mut child);
    assert_eq!(put.code, Some(0), "{put:?}");
    assert_eq!(
        stored, 1,
        "the upload is in the directory the emulator made"
    );
    for n in 0..100 {
        let bytes = std::fs::read(victims.path().join(format!("v{n}"))).unwrap();
        assert_eq!(bytes, b"precious", "v{n} written through a link");
    }
    assert_eq!(std::fs::read_dir(&decoys).unwrap().count(), 100);
    assert_eq!(
        files_under(&moved),
        Vec::<std::path::PathBuf>::new(),
        "left after SIGTERM"
    );
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
    stop(&mut child);
    // One `seeded ID NAME BYTES` line per small file too, before `base_url`.
    assert_eq!(printed.len(), 5, "{printed:?}");
    let small = &printed[1..4];
    for (i, line) in small.iter().enumerate() {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 4, "{line}");
        assert_eq!(fields[0], "seeded");
        assert!(fields[1].starts_with("or_file_"), "{line}");
        assert_eq!(fields[2], format!("seed-{i:05}.txt"));
        assert_eq!(fields[3], "12", "{line}");
    }
    assert_eq!(out.stdout.lines().count(), 4, "{out:?}");
    for line in small {
        let id = line.split(' ').nth(1).unwrap();
        assert!(out.stdout.contains(&format!("{id}\t12\t")), "{id}: {out:?}");
    }
    assert!(out.stdout.starts_with(&format!(
        "{}\t3000000\t",
        printed[0].split(' ').nth(1).unwrap()
    )));
    assert_eq!(big.raw_stdout.len(), 3_000_000);
}

#[test]
fn print_env_gives_a_shell_export_lines_to_eval_and_serves_on_in_the_background() {
    let storage = tempfile::tempdir().unwrap();
    // The walk-through's three lines, in a real bash: were standard output not closed after
    // the export lines, `$(…)` would wait for the emulator to end, and the test time out.
    // (Its standard error goes elsewhere: this test reads bash's to the end.)
    let script = format!(
        "eval \"$('{BIN}' emulator --print-env --seed-files 2 --storage-dir '{}' 2>/dev/null &)\"\n\
         '{BIN}' ls\n\
         echo \"pid=$OPENROUTER_EMULATOR_PID url=$OPENROUTER_BASE_URL\"",
        storage.path().display()
    );
    let out = ran(assert_cmd::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &script])
        .env_remove("OPENROUTER_API_KEY")
        .env_remove("OPENROUTER_BASE_URL")
        .timeout(Duration::from_secs(60)));
    let last = out.stdout.lines().last().unwrap_or_default().to_string();
    let pid: i32 = last
        .strip_prefix("pid=")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no pid: {out:?}"));
    let url = last.split("url=").nth(1).unwrap().to_string();
    // SAFETY: kill(2) takes plain integers; the pid is the emulator's, which is still
    // serving (the port below answers until it ends).
    let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(sent, 0, "the emulator was not running: {out:?}");
    assert_eq!(out.code, Some(0), "{out:?}");
    let listed: Vec<&str> = out.stdout.lines().filter(|l| l.contains('\t')).collect();
    assert_eq!(listed.len(), 2, "{out:?}");
    assert!(listed[0].ends_with("\tseed-00000.txt"), "{out:?}");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    // Stopped by the signal, it stops listening and removes what it stored.
    let address = url["http://".len()..]
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    let stored = || std::fs::read_dir(storage.path()).unwrap().count();
    while std::net::TcpStream::connect(&address).is_ok() || stored() > 0 {
        assert!(Instant::now() < deadline, "the emulator is still serving");
        std::thread::sleep(Duration::from_millis(20));
    }
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
    stop(&mut child);
    assert_eq!(key, "sk-or-chosen");
    let meta: serde_json::Value = serde_json::from_str(put.stdout.trim()).unwrap();
    assert!(meta["id"].as_str().unwrap().starts_with("file_"), "{meta}");
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(refused.stderr.contains("413"), "{refused:?}");
    let bad = ran(bare().args(["emulator", "--seed-downloadable", "no-size"]));
    assert_eq!(bad.code, Some(2), "{bad:?}");
}

/// Sends `request` on a new connection to `base_url`'s host and returns the whole answer
/// (the emulator closes the connection after it: `Connection: close`).
fn raw(base_url: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let host = base_url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .unwrap();
    let mut stream = std::net::TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn the_emulator_command_takes_the_connection_and_timing_options() {
    let (mut child, printed, base_url, key) = start_emulator(&[
        "--seed-downloadable=r.bin:1000",
        "--range-requests",
        "--read-timeout-ms=200",
        "--latency-ms",
        "300",
        "--request-log-limit",
        "5",
    ]);
    let id = printed[0].split(' ').nth(1).unwrap().to_string();
    let started = Instant::now();
    let ranged = raw(
        &base_url,
        &format!(
            "GET /api/v1/files/{id}/content HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
             Range: bytes=10-19\r\nConnection: close\r\n\r\n"
        ),
    );
    let waited = started.elapsed();
    // An idle connection is closed after the read timeout, freeing the only slot.
    // (The only slot frees shortly after the connection before closes: a 503 until then.)
    let (idle_closed, idle_for) = (0..100)
        .map(|_| {
            let since = Instant::now();
            let answer = raw(&base_url, "");
            std::thread::sleep(Duration::from_millis(50));
            (answer, since.elapsed())
        })
        .find(|(answer, _)| !answer.contains("503"))
        .expect("the connection slot was freed");
    stop(&mut child);
    assert!(ranged.starts_with("HTTP/1.1 206"), "{ranged}");
    assert!(ranged.contains("bytes 10-19/1000"), "{ranged}");
    assert!(waited >= Duration::from_millis(300), "latency: {waited:?}");
    assert!(
        idle_closed.is_empty() || idle_closed.contains("408"),
        "{idle_closed}"
    );
    // The default read timeout is 30 s; this bound only tells 200 ms from it.
    assert!(
        idle_for < Duration::from_secs(20),
        "read timeout: {idle_for:?}"
    );
    for bad in [
        "--max-connections=0",
        "--read-timeout-ms=0",
        "--latency-ms=-1",
        "--request-log-limit=x",
    ] {
        let out = ran(bare().args(["emulator", bad]));
        assert_eq!(out.code, Some(2), "{bad}: {out:?}");
    }
    let help = ran(bare().args(["emulator", "--help"])).stdout;
    for option in [
        "--port",
        "--api-key",
        "--api-version",
        "--upload-limit",
        "--accept-any-content",
        "--seed-downloadable",
        "--seed-files",
        "--max-connections",
        "--read-timeout-ms",
        "--min-body-rate",
        "--rate-grace-ms",
        "--request-timeout-ms",
        "--latency-ms",
        "--range-requests",
        "--request-log-limit",
    ] {
        assert!(
            help.contains(option),
            "{option} missing from emulator --help"
        );
    }
}

/// Issue 19, item 1: the rate rule and the whole-request time are the command's options too.
#[test]
fn the_emulator_command_takes_the_request_pace_options() {
    // A body declared 1000 bytes long of which 10 come, then nothing: the read timeout (30 s
    // by default) would wait; each rule answers 408 well before it.
    let stalled = |base_url: &str, key: &str| {
        let started = Instant::now();
        let answer = raw(
            base_url,
            &format!(
                "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
                 Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000\r\n\r\n\
                 --b\r\nConte"
            ),
        );
        (answer, started.elapsed())
    };
    for options in [
        &["--min-body-rate", "1000", "--rate-grace-ms", "300"][..],
        &["--min-body-rate=0", "--request-timeout-ms=500"][..],
    ] {
        let (mut child, _, base_url, key) = start_emulator(options);
        let (answer, took) = stalled(&base_url, &key);
        stop(&mut child);
        assert!(answer.starts_with("HTTP/1.1 408"), "{options:?}: {answer}");
        assert!(took < Duration::from_secs(20), "{options:?}: {took:?}");
    }
    for bad in [
        "--request-timeout-ms=0",
        "--min-body-rate=x",
        "--rate-grace-ms=-1",
    ] {
        let out = ran(bare().args(["emulator", bad]));
        assert_eq!(out.code, Some(2), "{bad}: {out:?}");
    }
}

#[test]
fn the_emulator_command_caps_its_connections() {
    use std::io::{Read, Write};
    let (mut child, _, base_url, _) = start_emulator(&["--max-connections", "1"]);
    let stats = "GET /_emulator/stats HTTP/1.1\r\nHost: x\r\n\r\n";
    // A connection in the first second of its request holds the only slot (one kept alive
    // between requests would give way to the newcomer).
    let mut holder = std::net::TcpStream::connect(&base_url[7..base_url.len() - 7]).unwrap();
    let (first, rest) = stats.split_at(10);
    holder.write_all(first.as_bytes()).unwrap();
    let refused = raw(&base_url, stats);
    holder.write_all(rest.as_bytes()).unwrap();
    let mut head = [0u8; 12];
    holder.read_exact(&mut head).unwrap();
    drop(holder);
    stop(&mut child);
    assert_eq!(&head, b"HTTP/1.1 200");
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
}
