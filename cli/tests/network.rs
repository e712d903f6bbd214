//! The options for company networks, run as a subprocess: `ref` (file ids ready for a
//! completion), and more below as they come.

mod common;

use common::*;

#[test]
fn ref_prints_the_content_part_for_each_request_shape_without_a_key() {
    let id = "or_file_011CNha8iCJcU1wXNR6q4V8w";
    for (api, expected) in [
        (
            "chat",
            serde_json::json!({"type": "file", "file": {"file_id": id}}),
        ),
        (
            "responses",
            serde_json::json!({"type": "input_file", "file_id": id}),
        ),
        (
            "messages",
            serde_json::json!({"type": "document", "source": {"type": "file", "file_id": id}}),
        ),
    ] {
        let out = bare()
            .env_remove("OPENROUTER_API_KEY")
            .args(["ref", id, "--for", api])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(line, expected, "{api}");
    }
}

#[test]
fn ref_reads_ids_from_standard_input_and_refuses_an_unknown_shape_or_a_control_character() {
    let out = bare()
        .args(["ref", "-", "--for", "responses"])
        .write_stdin("a\n\nb\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let ids: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["file_id"].to_string())
        .collect();
    assert_eq!(ids, ["\"a\"", "\"b\""]);
    let out = bare()
        .args(["ref", "x", "--for", "embeddings"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let out = bare()
        .args(["ref", "a\u{1b}b", "--for", "chat"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stdout.is_empty());
}

#[path = "../../tests/common/connect_proxy.rs"]
mod connect_proxy;
#[path = "../../tests/common/tls_server.rs"]
mod tls_server;

/// Every variable curl (and the tool) reads for proxies, removed so the tests' own
/// environment cannot steer them.
const PROXY_VARIABLES: [&str; 8] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

const FILE_JSON: &str = r#"{"id":"file_tls","filename":"a.txt","size_bytes":3,"created_at":"2026-11-25T00:00:00Z","downloadable":false}"#;

/// `info file_tls` against an HTTPS server signed by a fresh private CA, with `setup` adding
/// options or environment; returns the CLI's output and the CA's PEM file (in `dir`).
fn info_over_tls(
    dir: &tempfile::TempDir,
    setup: impl FnOnce(&mut assert_cmd::Command, &std::path::Path),
) -> std::process::Output {
    let pki = tls_server::pki();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    let (port, _seen) = tls_server::https_server(pki.server, 1, tls_server::ok_json(FILE_JSON));
    let mut cmd = bare();
    for name in PROXY_VARIABLES {
        cmd.env_remove(name);
    }
    cmd.env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .env_remove("OPENROUTER_CA_CERT")
        .args(["info", "file_tls", "--base-url"])
        .arg(format!("https://127.0.0.1:{port}/api/v1"));
    setup(&mut cmd, &ca_file);
    cmd.output().unwrap()
}

fn retrieved(out: &std::process::Output) -> bool {
    out.status.code() == Some(0)
        && serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["id"] == "file_tls"
}

#[test]
fn a_private_ca_is_refused_unless_given_by_file_by_environment_or_by_ssl_cert_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = info_over_tls(&dir, |_, _| {});
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("UnknownIssuer") || stderr.contains("certificate"),
        "{stderr}"
    );
    assert!(!stderr.contains(KEY));

    let out = info_over_tls(&dir, |cmd, ca| {
        cmd.arg("--ca-cert").arg(ca);
    });
    assert!(retrieved(&out), "--ca-cert: {out:?}");
    let out = info_over_tls(&dir, |cmd, ca| {
        cmd.env("OPENROUTER_CA_CERT", ca);
    });
    assert!(retrieved(&out), "OPENROUTER_CA_CERT: {out:?}");
    let out = info_over_tls(&dir, |cmd, ca| {
        cmd.env("SSL_CERT_FILE", ca);
    });
    assert!(retrieved(&out), "SSL_CERT_FILE: {out:?}");
}

#[test]
fn an_unreadable_or_empty_ca_file_is_a_usage_error_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let out = info_over_tls(&dir, |cmd, _| {
        cmd.arg("--ca-cert").arg(&missing);
    });
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.pem"));
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let out = info_over_tls(&dir, |cmd, _| {
        cmd.arg("--ca-cert").arg(&empty);
    });
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

/// `info` over TLS with a tunnelling proxy running on 127.0.0.1, the environment `vars` and
/// the options `args` (each `PROXY` in them replaced by the proxy's URL): the command's output
/// and what crossed the proxy.
fn info_beside_a_proxy(
    dir: &tempfile::TempDir,
    vars: &[(&str, &str)],
    args: &[&str],
) -> (
    std::process::Output,
    std::sync::Arc<std::sync::Mutex<connect_proxy::Crossed>>,
) {
    let (port, crossed) = connect_proxy::connect_proxy(connect_proxy::Answer::Tunnel, 1);
    let proxy = format!("http://127.0.0.1:{port}");
    let out = info_over_tls(dir, |cmd, ca| {
        cmd.arg("--ca-cert").arg(ca);
        for (var, value) in vars {
            cmd.env(var, value.replace("PROXY", &proxy));
        }
        cmd.args(args.iter().map(|a| a.replace("PROXY", &proxy)));
    });
    (out, crossed)
}

#[test]
fn the_environments_proxy_is_used_as_curl_uses_it_and_no_proxy_or_the_option_turn_it_off() {
    let dir = tempfile::tempdir().unwrap();
    // curl's rules, not ureq's: an https URL ignores http_proxy and HTTP_PROXY.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str], usize);
    let cases: [Case; 7] = [
        ("HTTPS_PROXY", &[("HTTPS_PROXY", "PROXY")], &[], 1),
        ("HTTP_PROXY", &[("HTTP_PROXY", "PROXY")], &[], 0),
        ("http_proxy", &[("http_proxy", "PROXY")], &[], 0),
        ("ALL_PROXY", &[("ALL_PROXY", "PROXY")], &[], 1),
        (
            "NO_PROXY",
            &[
                ("HTTPS_PROXY", "PROXY"),
                ("NO_PROXY", "localhost,127.0.0.1"),
            ],
            &[],
            0,
        ),
        (
            "--no-proxy",
            &[("https_proxy", "PROXY")],
            &["--no-proxy"],
            0,
        ),
        ("--proxy", &[], &["--proxy", "PROXY"], 1),
    ];
    for (name, vars, args, through) in cases {
        let (out, crossed) = info_beside_a_proxy(&dir, vars, args);
        assert!(retrieved(&out), "{name}: {out:?}");
        let crossed = crossed.lock().unwrap();
        assert_eq!(crossed.heads.len(), through, "{name}: {:?}", crossed.heads);
        assert!(
            !String::from_utf8_lossy(&crossed.tunnelled).contains(KEY),
            "{name}"
        );
    }
}

#[test]
fn a_proxy_that_refuses_is_named_in_the_error_without_its_credentials() {
    use connect_proxy::{Answer, connect_proxy};
    let dir = tempfile::tempdir().unwrap();
    let (port, _crossed) = connect_proxy(Answer::Refuse(407), 1);
    let out = info_over_tls(&dir, |cmd, ca| {
        cmd.arg("--ca-cert").arg(ca).arg("--json");
        cmd.env(
            "HTTPS_PROXY",
            format!("http://user:s3cret@127.0.0.1:{port}"),
        );
    });
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let error: serde_json::Value = serde_json::from_str(stderr.lines().next().unwrap()).unwrap();
    assert_eq!(error["error"], "proxy", "{stderr}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("http://127.0.0.1:{port}")),
        "{message}"
    );
    assert!(message.contains("407"), "{message}");
    assert!(
        !stderr.contains("s3cret") && !stderr.contains(KEY),
        "{stderr}"
    );
}

#[test]
fn verbose_prints_each_try_on_stderr_and_json_outputs_carry_the_same_request_id() {
    use openrouter_files_emulator::Fault;
    let emulator = emulator();
    let uploaded = put(&emulator, "a.txt", "abc");
    let id = uploaded["id"].as_str().unwrap();
    emulator.inject(Fault::status(503), 1);
    let out = bare()
        .args(["info", id, "-v", "--base-url", emulator.base_url()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    let path = format!("GET /files/{id}");
    assert!(
        lines[0].starts_with(&format!("* {path} (try 1): HTTP 503 in ")),
        "{stderr}"
    );
    assert!(lines[0].contains("; retrying in "), "{stderr}");
    assert!(
        lines[1].starts_with(&format!("* {path} (try 2): 200 in ")),
        "{stderr}"
    );
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let request_id = info["_request_id"]
        .as_str()
        .expect("info carries the request id");
    assert!(
        lines[1].contains(&format!("request id {request_id}")),
        "{stderr}"
    );
    assert!(!stderr.contains(KEY));

    let out = bare()
        .args(["ls", "--json", "-v", "--base-url", emulator.base_url()])
        .output()
        .unwrap();
    let attempt: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stderr).lines().next().unwrap()).unwrap();
    assert_eq!(attempt["event"], "attempt");
    assert_eq!(attempt["path"], "/files");
    assert_eq!(attempt["status"], 200);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed["_request_id"], attempt["request_id"]);
    assert_eq!(listed["id"], id);

    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "b.txt", "xyz");
    let out = bare()
        .args(["put", &path, "--base-url", emulator.base_url()])
        .output()
        .unwrap();
    let put: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(put["_request_id"].is_string(), "{put}");
    let out = bare()
        .args(["rm", "--json", put["id"].as_str().unwrap()])
        .args(["--base-url", emulator.base_url()])
        .output()
        .unwrap();
    let gone: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(gone["_request_id"].is_string(), "{gone}");
    assert_ne!(gone["_request_id"], put["_request_id"]);
}

/// The binary with `setup`'s options or environment, `info` against a TLS port nothing
/// listens on, its address space capped at 2 GiB and its life at 30 s (then it is killed and
/// the test fails): a certificate file that never ends must neither hang it nor grow it.
#[cfg(unix)]
fn bounded_run(setup: impl FnOnce(&mut std::process::Command)) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let mut cmd = process("https://127.0.0.1:1/api/v1");
    for name in PROXY_VARIABLES {
        cmd.env_remove(name);
    }
    cmd.env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .env_remove("OPENROUTER_CA_CERT")
        .args(["info", "file_x"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    setup(&mut cmd);
    // SAFETY: setrlimit(2) is async-signal-safe and touches only the limit given.
    unsafe {
        cmd.pre_exec(|| {
            let cap = libc::rlimit {
                rlim_cur: 2 << 30,
                rlim_max: 2 << 30,
            };
            match libc::setrlimit(libc::RLIMIT_AS, &cap) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            }
        });
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after 30 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[cfg(unix)]
#[test]
fn a_ca_file_that_is_a_fifo_a_device_or_huge_is_refused_at_once_by_option_or_environment() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.pem");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // Sparse: 8 GiB of zeros that take no disk, one endless line to a PEM reader.
    let huge_dir = dir.path().join("certs");
    std::fs::create_dir(&huge_dir).unwrap();
    let huge = huge_dir.join("huge.pem");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(8 << 30)
        .unwrap();
    let zero = std::path::Path::new("/dev/zero");
    type Setup<'a> = (&'a str, &'a std::path::Path, &'a std::path::Path);
    let cases: [Setup; 6] = [
        ("--ca-cert", &fifo, &fifo),
        ("--ca-cert", zero, zero),
        ("--ca-cert", &huge, &huge),
        ("SSL_CERT_FILE", &fifo, &fifo),
        ("SSL_CERT_FILE", zero, zero),
        ("SSL_CERT_DIR", &huge_dir, &huge),
    ];
    for (how, given, named) in cases {
        let out = bounded_run(|cmd| {
            match how.strip_prefix("--") {
                Some(_) => cmd.arg(how).arg(given),
                None => cmd.env(how, given),
            };
        });
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{how} {given:?}: {out:?}");
        assert!(
            stderr.contains(&named.display().to_string()),
            "{how}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{how}: {out:?}");
    }
    // Files that hold no certificate: the message names the variable that chose them.
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for (variable, path) in [("SSL_CERT_FILE", &garbage), ("SSL_CERT_DIR", &empty)] {
        let out = bounded_run(|cmd| {
            cmd.env(variable, path);
        });
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{variable}: {out:?}");
        assert!(
            stderr.contains(&format!("{variable}={}", path.display())),
            "{variable}: {stderr}"
        );
    }
}

#[path = "../../tests/common/scripted.rs"]
#[allow(dead_code)]
mod scripted;

/// The proxy is chosen again for each URL a redirect leads to: a server reached directly (by
/// `no_proxy`) that redirects to a host the proxy serves sends the next request through the
/// proxy, and the other way round; `-v` names the proxy of the last request; the key stays
/// with the first origin.
#[test]
fn a_redirect_to_another_host_is_judged_again_against_no_proxy() {
    use connect_proxy::{Answer, connect_proxy};
    use scripted::{Next, Scripted, json, redirect};
    // `no_proxy` names the first host (then the second is proxied), or the second.
    for direct_first in [true, false] {
        let target = Scripted::start(|_, _, s| {
            json(s, 200, "", FILE_JSON);
            Next::Close
        });
        let to = format!(
            "http://localhost:{}/api/v1/files/file_tls",
            target.addr.port()
        );
        let start = Scripted::start(move |_, _, s| {
            redirect(s, 302, &to);
            Next::Close
        });
        let (port, crossed) = connect_proxy(Answer::Tunnel, 2);
        let mut cmd = bare();
        for name in PROXY_VARIABLES {
            cmd.env_remove(name);
        }
        let (no_proxy, proxied) = match direct_first {
            true => ("127.0.0.1", format!("localhost:{}", target.addr.port())),
            false => ("localhost", format!("127.0.0.1:{}", start.addr.port())),
        };
        let out = cmd
            .env("http_proxy", format!("http://127.0.0.1:{port}"))
            .env("no_proxy", format!("{no_proxy},::1"))
            .args(["info", "file_tls", "-v", "--json", "--base-url"])
            .arg(format!("http://127.0.0.1:{}/api/v1", start.addr.port()))
            .output()
            .unwrap();
        assert!(retrieved(&out), "{no_proxy}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tries = json_lines(&stderr);
        let via = direct_first.then(|| format!("http://127.0.0.1:{port}"));
        assert_eq!(tries.len(), 1, "{stderr}");
        assert_eq!(tries[0]["proxy"].as_str(), via.as_deref(), "{stderr}");
        let crossed = crossed.lock().unwrap();
        let heads: Vec<&str> = crossed
            .heads
            .iter()
            .filter_map(|h| h.lines().next())
            .collect();
        let through = format!("CONNECT {proxied} HTTP/1.1");
        assert_eq!(heads, [through.as_str()], "{no_proxy}");
        assert_eq!((start.received().len(), target.received().len()), (1, 1));
        let key = target.received()[0]
            .header("authorization")
            .map(str::to_string);
        assert_eq!(key, None, "the key left its origin");
    }
}

/// A malformed `http_proxy` matters only to http URLs: curl ignores it for an https one, and
/// so does the tool (an https client never sends an http request); with an http base URL it
/// is a configuration error naming the variable, never its password.
#[test]
fn a_malformed_http_proxy_does_not_stop_an_https_client() {
    let dir = tempfile::tempdir().unwrap();
    let out = info_over_tls(&dir, |cmd, ca| {
        cmd.arg("--ca-cert")
            .arg(ca)
            .env("http_proxy", "garbage://u:s3cret@x");
    });
    assert!(retrieved(&out), "{out:?}");
    let mut cmd = bare();
    for name in PROXY_VARIABLES {
        cmd.env_remove(name);
    }
    let out = cmd
        .env("http_proxy", "garbage://u:s3cret@x")
        .args(["info", "x", "--base-url", "http://127.0.0.1:1/api/v1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        stderr.contains("http_proxy") && !stderr.contains("s3cret"),
        "{stderr}"
    );
}

/// `--proxy` honours `no_proxy`/`NO_PROXY` as curl's `-x` does, and `--noproxy LIST` replaces
/// the environment's list for either proxy, the option's or the environment's: `''` leaves no
/// host to bypass it, `'*'` is `--no-proxy` (no proxy, so not even a malformed one is read);
/// as for curl, `*` beside other entries or blanks names no host, and a blank `no_proxy` is
/// read (naming no host) before `NO_PROXY`.
#[test]
fn an_explicit_proxy_honours_no_proxy_and_noproxy_replaces_it_as_curl_does() {
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], usize);
    let cases: [Case; 15] = [
        (&[("NO_PROXY", "127.0.0.1")], &["--proxy", "PROXY"], 0),
        (
            &[("no_proxy", "localhost,127.0.0.0/8")],
            &["--proxy", "PROXY"],
            0,
        ),
        (&[("NO_PROXY", "example.com")], &["--proxy", "PROXY"], 1),
        (
            &[("NO_PROXY", "127.0.0.1")],
            &["--proxy", "PROXY", "--noproxy", ""],
            1,
        ),
        (
            &[("no_proxy", "127.0.0.1")],
            &["--proxy", "PROXY", "--noproxy="],
            1,
        ),
        (
            &[("NO_PROXY", "127.0.0.1")],
            &["--proxy", "PROXY", "--noproxy", "example.com"],
            1,
        ),
        (&[], &["--proxy", "PROXY", "--noproxy", "127.0.0.1"], 0),
        (&[], &["--proxy", "PROXY", "--noproxy", "*"], 0),
        // As for curl, `*` is every host only as the whole list.
        (&[], &["--proxy", "PROXY", "--noproxy", " * "], 1),
        (&[], &["--proxy", "PROXY", "--noproxy", "example.com,*"], 1),
        (
            &[
                ("HTTPS_PROXY", "PROXY"),
                ("no_proxy", " "),
                ("NO_PROXY", "*"),
            ],
            &[],
            1,
        ),
        (
            &[("HTTPS_PROXY", "PROXY"), ("NO_PROXY", "127.0.0.1")],
            &["--noproxy", ""],
            1,
        ),
        (
            &[("HTTPS_PROXY", "PROXY")],
            &["--noproxy", "10.0.0.0/8,127.0.0.1"],
            0,
        ),
        (
            &[("HTTPS_PROXY", "garbage://u:s3cret@x")],
            &["--noproxy", "*"],
            0,
        ),
        (
            &[],
            &["--proxy", "garbage://u:s3cret@x", "--noproxy", "*"],
            0,
        ),
    ];
    // At once, each case with its own proxy, server and CA file: they only wait.
    std::thread::scope(|scope| {
        for (vars, args, through) in cases {
            scope.spawn(move || {
                let dir = tempfile::tempdir().unwrap();
                let (out, crossed) = info_beside_a_proxy(&dir, vars, args);
                let name = format!("{vars:?} {args:?}");
                assert!(retrieved(&out), "{name}: {out:?}");
                let crossed = crossed.lock().unwrap();
                assert_eq!(crossed.heads.len(), through, "{name}: {:?}", crossed.heads);
            });
        }
    });
}

/// `--noproxy` after the command replaces the one before it, as the other options do; the
/// help of `--proxy` and `--noproxy` says how they meet the environment.
#[test]
fn noproxy_after_the_command_wins_and_the_help_says_what_the_options_do() {
    use connect_proxy::{Answer, connect_proxy};
    use scripted::{Next, Scripted, json};
    for (before, after, through) in [("127.0.0.1", "", 1), ("", "127.0.0.1", 0)] {
        let origin = Scripted::start(|_, _, s| {
            json(s, 200, "", FILE_JSON);
            Next::Close
        });
        let (port, crossed) = connect_proxy(Answer::Tunnel, 1);
        let mut cmd = bare();
        for name in PROXY_VARIABLES {
            cmd.env_remove(name);
        }
        let out = cmd
            .arg("--proxy")
            .arg(format!("http://127.0.0.1:{port}"))
            .args(["--noproxy", before, "info", "file_tls", "--noproxy", after])
            .arg("--base-url")
            .arg(format!("http://127.0.0.1:{}/api/v1", origin.addr.port()))
            .output()
            .unwrap();
        assert!(retrieved(&out), "{before:?} then {after:?}: {out:?}");
        let crossed = crossed.lock().unwrap().heads.len();
        assert_eq!(crossed, through, "{before:?} then {after:?}");
    }
    let out = bare().args(["info", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout).replace('\n', " ");
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    for said in [
        "--noproxy <LIST>",
        "except to the hosts in no_proxy or NO_PROXY",
        "instead of no_proxy or NO_PROXY",
        "same as --noproxy '*'",
    ] {
        assert!(help.contains(said), "{said:?} not in {help}");
    }
}
