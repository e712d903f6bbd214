//! Contract tests against Prism mocks of the official OpenAPI documents (run by `.ci/prism.sh`,
//! which starts Prism and sets `PRISM_URL`, `PRISM_PID` and `PRISM_SPEC`).
//!
//! Every request goes through a loopback relay that records Prism's `sl-violations` response
//! header; any violation located in the request fails the test. Violations Prism finds in its
//! own responses come from the documents' examples, not from us: they are printed, not failed.
//!
//! These tests are `#[ignore]`d in a plain `cargo test`, which has no Prism running.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use openrouter_files::{ApiErrorKind, Error, FilesClient, Order, Provider, RetryPolicy, Upload};

const WORKSPACE: &str = "a103d8b6-42f0-4e50-9a3c-bf41e2c3c1a7";

struct Contract {
    client: FilesClient,
    violations: Arc<Mutex<Vec<String>>>,
    spec: String,
    current: bool,
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run .ci/prism.sh"))
}

impl Contract {
    fn start() -> Contract {
        let prism = env("PRISM_URL");
        let spec = env("PRISM_SPEC");
        let upstream = prism.trim_start_matches("http://").to_string();
        let violations = Arc::new(Mutex::new(Vec::new()));
        let relay = start_relay(upstream, Arc::clone(&violations));
        let client = FilesClient::builder()
            .api_key("sk-or-contract-test")
            .base_url(format!("http://{relay}"))
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        Contract {
            client,
            violations,
            current: spec.contains("2026-08-22"),
            spec,
        }
    }

    /// Fails on any request violation Prism reported so far; prints the others.
    fn check(&self, what: &str) {
        let all = std::mem::take(&mut *self.violations.lock().unwrap());
        let (ours, theirs): (Vec<_>, Vec<_>) = all
            .iter()
            .flat_map(|header| {
                serde_json::from_str::<Vec<serde_json::Value>>(header).unwrap_or_default()
            })
            .partition(|v| v["location"][0] == "request");
        for v in &theirs {
            println!("{what}: Prism flags its own example: {}", v["message"]);
        }
        assert!(ours.is_empty(), "{what}: request violations: {ours:#?}");
        let pid = env("PRISM_PID");
        assert!(
            std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "{what}: the Prism process ({pid}) is gone"
        );
    }
}

/// A relay on 127.0.0.1 that forwards to Prism and records each `sl-violations` header.
fn start_relay(upstream: String, violations: Arc<Mutex<Vec<String>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let server = TcpStream::connect(&upstream).unwrap();
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            thread::spawn(move || {
                let _ = std::io::copy(&mut c_in, &mut s_out);
                let _ = s_out.shutdown(Shutdown::Write);
            });
            let violations = Arc::clone(&violations);
            thread::spawn(move || {
                let (mut server, mut client) = (server, client);
                let mut buf = vec![0u8; 64 * 1024];
                let mut tail = Vec::new();
                while let Ok(n) = server.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    // Record before forwarding: once the client has its answer, the test may
                    // look at the violations at once.
                    tail.extend_from_slice(&buf[..n]);
                    record_violations(&mut tail, &violations);
                    if client.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = client.shutdown(Shutdown::Write);
            });
        }
    });
    addr
}

/// Moves every complete `sl-violations` header line out of `seen`, keeping an unfinished tail.
fn record_violations(seen: &mut Vec<u8>, violations: &Mutex<Vec<String>>) {
    const NAME: &[u8] = b"\r\nsl-violations: ";
    loop {
        let Some(start) = seen
            .windows(NAME.len())
            .position(|w| w.eq_ignore_ascii_case(NAME))
        else {
            let keep = seen.len().saturating_sub(NAME.len());
            seen.drain(..keep);
            return;
        };
        let value_start = start + NAME.len();
        let Some(len) = seen[value_start..].windows(2).position(|w| w == b"\r\n") else {
            seen.drain(..start);
            return;
        };
        let value = String::from_utf8_lossy(&seen[value_start..value_start + len]).into_owned();
        violations.lock().unwrap().push(value);
        seen.drain(..value_start + len);
    }
}

/// The documented response statuses of each operation, read from the spec file.
fn documented_statuses(spec: &str) -> Vec<(String, String, Vec<u16>)> {
    let text = std::fs::read_to_string(spec).unwrap();
    let mut ops: Vec<(String, String, Vec<u16>)> = Vec::new();
    let mut path = String::new();
    for line in text.lines() {
        let code = line
            .strip_prefix("        '")
            .and_then(|l| l.strip_suffix("':"));
        let method = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':'));
        if let Some(p) = line.strip_prefix("  /").and_then(|l| l.strip_suffix(':')) {
            path = format!("/{p}");
        } else if let (Some(code), Some(op)) = (code, ops.last_mut()) {
            op.2.push(code.parse().unwrap());
        } else if let Some(m) = method.filter(|m| ["get", "post", "delete"].contains(m)) {
            ops.push((path.clone(), m.to_string(), Vec::new()));
        } else if line.starts_with("components:") {
            break;
        }
    }
    ops
}

#[test]
#[ignore = "needs a Prism mock: run .ci/prism.sh"]
fn every_operation_with_every_parameter_is_accepted_and_decodes() {
    let c = Contract::start();
    let scoped = c.client.in_workspace(WORKSPACE);
    let scoped = if c.current {
        scoped.with_provider(Provider::OpenAi)
    } else {
        scoped
    };
    let mut list = scoped
        .list()
        .page_size(10)
        .cursor("eyJjdXJzb3IiOiJvcl9maWxlXzAxMUNOaGE4aUNKY1Uxd1hOUjZxNFY4dyJ9");
    if c.current {
        list = list.order(Order::Asc);
    }
    let page = list.page().expect("list");
    assert!(
        !page.data.is_empty(),
        "Prism answers with the documented example"
    );
    c.check("list");
    if c.current {
        for request in [
            scoped
                .list()
                .page_size(5)
                .after("or_file_011CNha8iCJcU1wXNR6q4V8w"),
            scoped
                .list()
                .page_size(5)
                .after_id("or_file_011CNha8iCJcU1wXNR6q4V8w"),
            scoped
                .list()
                .page_size(5)
                .before_id("or_file_011CNha8iCJcU1wXNR6q4V8w")
                .order(Order::Desc),
        ] {
            request.page().expect("list by id");
        }
        c.check("list after / after_id / before_id");
    }
    let first: Vec<_> = scoped
        .list()
        .page_size(1000)
        .into_iter()
        .take(3)
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!first.is_empty());
    c.check("list iterator");
    let uploaded = scoped
        .upload(Upload::bytes("document.pdf", b"%PDF-1.4\n".to_vec()))
        .expect("upload");
    assert!(!uploaded.id.is_empty());
    c.check("upload");
    let dir = std::env::temp_dir().join(format!("contract-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "notes").unwrap();
    scoped
        .upload_path(dir.join("notes.txt"))
        .expect("upload from a path");
    c.check("upload path");
    let meta = scoped
        .retrieve("or_file_011CNha8iCJcU1wXNR6q4V8w")
        .expect("retrieve");
    assert!(
        meta.id.ends_with("file_011CNha8iCJcU1wXNR6q4V8w"),
        "{}",
        meta.id
    );
    c.check("retrieve");
    let gone = scoped
        .delete("or_file_011CNha8iCJcU1wXNR6q4V8w")
        .expect("delete");
    assert!(gone.deleted);
    c.check("delete");
    let mut body = Vec::new();
    scoped
        .download("or_file_011CNha8iCJcU1wXNR6q4V8w")
        .expect("download")
        .read_to_end(&mut body)
        .unwrap();
    assert!(!body.is_empty());
    c.check("download");
    let written = scoped.download_to("or_file_011CNha8iCJcU1wXNR6q4V8w", dir.join("out.bin"));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(written.unwrap() as usize, body.len());
    c.check("download_to");
    println!("{}: all operations accepted", c.spec);
}

#[test]
#[ignore = "needs a Prism mock: run .ci/prism.sh"]
fn every_documented_error_status_maps_to_its_kind_with_the_server_message() {
    let c = Contract::start();
    let ops = documented_statuses(&c.spec);
    assert_eq!(ops.len(), 5, "{ops:?}");
    let mut checked = 0;
    for (path, method, statuses) in &ops {
        for status in statuses.iter().copied().filter(|s| *s >= 400) {
            let client = c
                .client
                .with_header("Prefer", format!("code={status}"))
                .unwrap();
            let result: Result<(), Error> = match (method.as_str(), path.as_str()) {
                ("get", "/files") => client.list().page().map(|_| ()),
                ("post", "/files") => client.upload(Upload::bytes("a.txt", "abc")).map(|_| ()),
                ("get", "/files/{file_id}") => client.retrieve("or_file_1").map(|_| ()),
                ("delete", "/files/{file_id}") => client.delete("or_file_1").map(|_| ()),
                ("get", "/files/{file_id}/content") => client.download("or_file_1").map(|_| ()),
                other => panic!("undocumented operation {other:?}"),
            };
            let err = result.expect_err("a Prefer'd error status");
            let api = err
                .api()
                .unwrap_or_else(|| panic!("{method} {path} {status}: {err:?}"));
            assert_eq!(api.status(), status);
            assert_eq!(api.kind(), ApiErrorKind::from_status(status));
            assert_ne!(api.kind(), ApiErrorKind::Other, "{status} has a kind");
            assert_eq!(
                api.code(),
                Some(i64::from(status)),
                "{method} {path}: {api:?}"
            );
            assert!(
                !api.message().is_empty() && api.body_snippet().is_none(),
                "{api:?}"
            );
            checked += 1;
            c.check(&format!("{method} {path} Prefer code={status}"));
        }
    }
    assert!(checked >= 20, "only {checked} statuses checked");
    println!("{}: {checked} documented error statuses checked", c.spec);
}

#[test]
#[ignore = "needs a Prism mock: run .ci/prism.sh"]
fn a_request_prism_rejects_is_reported_as_a_violation() {
    // The check above would pass vacuously if the relay saw no headers: prove it sees them.
    let c = Contract::start();
    let raw = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let url = format!("{}/files?limit=5000", c.client.base_url());
    let resp = raw
        .get(&url)
        .header("Authorization", "Bearer x")
        .call()
        .unwrap();
    assert_eq!(resp.status(), 400);
    let seen = std::mem::take(&mut *c.violations.lock().unwrap());
    assert!(seen.iter().any(|v| v.contains("limit")), "{seen:?}");
}
