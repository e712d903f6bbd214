//! The emulator, spoken to over real HTTP with a plain ureq agent (not our client), checked
//! against the behaviour the official OpenAPI documents describe.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{connect, raw_agent, read_status, temp_dir, text};
use openrouter_files_emulator::{ApiVersion, Emulator, Fault, Route};
use serde_json::Value;

const WS_A: &str = "a103d8b6-42f0-4e50-9a3c-bf41e2c3c1a7";
const WS_B: &str = "b203d8b6-42f0-4e50-9a3c-bf41e2c3c1a7";

struct Raw {
    emulator: Emulator,
    agent: ureq::Agent,
}

impl Raw {
    fn new(emulator: Emulator) -> Raw {
        Raw {
            emulator,
            agent: raw_agent(),
        }
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.emulator.base_url())
    }

    fn auth(&self) -> String {
        format!("Bearer {}", self.emulator.api_key())
    }

    fn get(&self, path: &str) -> (u16, Value) {
        let resp = self
            .agent
            .get(self.url(path))
            .header("Authorization", self.auth())
            .call()
            .unwrap();
        read(resp)
    }

    fn delete(&self, path: &str) -> (u16, Value) {
        let resp = self
            .agent
            .delete(self.url(path))
            .header("Authorization", self.auth())
            .call()
            .unwrap();
        read(resp)
    }

    fn upload_to(&self, path: &str, filename: &str, bytes: &[u8]) -> (u16, Value) {
        let (content_type, body) = form("file", filename, bytes);
        let resp = self
            .agent
            .post(self.url(path))
            .header("Authorization", self.auth())
            .header("Content-Type", content_type)
            .send(&body[..])
            .unwrap();
        read(resp)
    }

    fn upload(&self, filename: &str, bytes: &[u8]) -> (u16, Value) {
        self.upload_to("/files", filename, bytes)
    }

    fn upload_ok(&self, filename: &str, bytes: &[u8]) -> String {
        let (status, body) = self.upload(filename, bytes);
        assert_eq!(status, 200, "{body}");
        body["id"].as_str().unwrap().to_string()
    }
}

fn read(mut resp: ureq::http::Response<ureq::Body>) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

fn form(field: &str, filename: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "test-boundary-1234";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn assert_error_shape(status: u16, body: &Value, expected: u16) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"]["code"], expected, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[test]
fn base_url_and_key_are_handed_out() {
    let emulator = Emulator::builder().api_key("sk-test-1").start().unwrap();
    assert!(emulator.base_url().starts_with("http://127.0.0.1:"));
    assert!(emulator.base_url().ends_with("/api/v1"));
    assert_eq!(emulator.api_key(), "sk-test-1");
    assert!(!format!("{emulator:?}").contains("sk-test-1"));
}

#[test]
fn requests_without_the_exact_bearer_key_get_401() {
    let raw = Raw::new(Emulator::start().unwrap());
    let url = raw.url("/files");
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("sk-or-emulator-key"),
        Some("bearer sk-or-emulator-key"),
    ] {
        let mut req = raw.agent.get(&url);
        if let Some(auth) = auth {
            req = req.header("Authorization", auth);
        }
        let (status, body) = read(req.call().unwrap());
        assert_error_shape(status, &body, 401);
    }
}

#[test]
fn unknown_ids_and_paths_get_404_in_the_error_shape() {
    let raw = Raw::new(Emulator::start().unwrap());
    for path in [
        "/files/or_file_nope",
        "/files/or_file_nope/content",
        "/nothing",
    ] {
        let (status, body) = raw.get(path);
        assert_error_shape(status, &body, 404);
    }
    let (status, body) = raw.delete("/files/or_file_nope");
    assert_error_shape(status, &body, 404);
}

#[test]
fn list_pages_in_creation_order_with_cursors() {
    let raw = Raw::new(Emulator::start().unwrap());
    let ids: Vec<String> = (0..7)
        .map(|i| raw.upload_ok(&format!("f{i}.txt"), b"hello"))
        .collect();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(c) => format!("/files?limit=3&cursor={c}"),
            None => "/files?limit=3".to_string(),
        };
        let (status, page) = raw.get(&query);
        assert_eq!(status, 200, "{page}");
        pages += 1;
        let data = page["data"].as_array().unwrap();
        assert_eq!(page["first_id"], data[0]["id"]);
        assert_eq!(page["last_id"], data[data.len() - 1]["id"]);
        seen.extend(data.iter().map(|f| f["id"].as_str().unwrap().to_string()));
        if page["has_more"] == false {
            assert!(page["cursor"].is_null(), "{page}");
            break;
        }
        cursor = Some(page["cursor"].as_str().unwrap().to_string());
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids);
}

#[test]
fn list_defaults_to_100_and_refuses_limits_outside_1_to_1000() {
    let raw = Raw::new(Emulator::start().unwrap());
    for i in 0..101 {
        raw.emulator
            .seed_file_in(
                openrouter_files_emulator::DEFAULT_WORKSPACE,
                &format!("s{i}.txt"),
                b"x",
            )
            .unwrap();
    }
    let (status, page) = raw.get("/files");
    assert_eq!(status, 200);
    assert_eq!(page["data"].as_array().unwrap().len(), 100);
    assert_eq!(page["has_more"], true);
    let (_, all) = raw.get("/files?limit=1000");
    assert_eq!(all["data"].as_array().unwrap().len(), 101);
    for bad in ["0", "1001", "-1", "ten"] {
        let (status, body) = raw.get(&format!("/files?limit={bad}"));
        assert_error_shape(status, &body, 400);
    }
    let (status, body) = raw.get("/files?cursor=not-a-cursor");
    assert_error_shape(status, &body, 400);
}

#[test]
fn an_empty_list_has_null_ids_and_cursor() {
    let raw = Raw::new(Emulator::start().unwrap());
    let (status, page) = raw.get("/files");
    assert_eq!(status, 200);
    assert_eq!(page["data"], serde_json::json!([]));
    assert!(page["first_id"].is_null() && page["last_id"].is_null() && page["cursor"].is_null());
    assert_eq!(page["has_more"], false);
}

#[test]
fn a_cursor_stays_valid_while_files_come_and_go() {
    let raw = Raw::new(Emulator::start().unwrap());
    let ids: Vec<String> = (0..4)
        .map(|i| raw.upload_ok(&format!("f{i}.txt"), b"hi"))
        .collect();
    let (_, first) = raw.get("/files?limit=2");
    let cursor = first["cursor"].as_str().unwrap().to_string();
    // The last file of the first page and a file of the second page go; a new one comes.
    raw.delete(&format!("/files/{}", ids[1]));
    raw.delete(&format!("/files/{}", ids[2]));
    let newest = raw.upload_ok("new.txt", b"hi");
    let (status, second) = raw.get(&format!("/files?limit=2&cursor={cursor}"));
    assert_eq!(status, 200, "{second}");
    let got: Vec<&str> = second["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec![ids[3].as_str(), newest.as_str()]);
}

#[test]
fn workspaces_scope_every_operation() {
    let raw = Raw::new(
        Emulator::builder()
            .seed_file_in(WS_A, "seed.bin", vec![1, 2, 3])
            .start()
            .unwrap(),
    );
    let (status, file) = raw.upload_to(&format!("/files?workspace_id={WS_A}"), "a.txt", b"in a");
    assert_eq!(status, 200, "{file}");
    let id = file["id"].as_str().unwrap();
    let (status, _) = raw.get(&format!("/files/{id}?workspace_id={WS_A}"));
    assert_eq!(status, 200);
    for other in [format!("?workspace_id={WS_B}"), String::new()] {
        let (status, body) = raw.get(&format!("/files/{id}{other}"));
        assert_error_shape(status, &body, 404);
        let (_, list) = raw.get(&format!("/files{other}"));
        assert_eq!(list["data"], serde_json::json!([]), "{other}: {list}");
        let (status, _) = raw.delete(&format!("/files/{id}{other}"));
        assert_eq!(status, 404);
    }
    let (_, list) = raw.get(&format!("/files?workspace_id={WS_A}"));
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    let (status, body) = raw.get("/files?workspace_id=not-a-uuid");
    assert_error_shape(status, &body, 400);
}

#[test]
fn uploads_report_the_type_detected_from_content() {
    let raw = Raw::new(Emulator::start().unwrap());
    let cases: [(&str, &[u8], &str); 7] = [
        ("x.bin", b"%PDF-1.4\n%...", "application/pdf"),
        ("x.txt", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "image/png"),
        ("x.pdf", b"{\"a\": 1}", "application/json"),
        ("x.json", b"{\"a\":1}\n{\"a\":2}\n", "application/x-ndjson"),
        ("x.md", b"name,size\nx,1\n", "text/csv"),
        ("x.csv", b"# Title\n\nBody text.\n", "text/markdown"),
        ("x.png", b"just words", "text/plain"),
    ];
    for (name, bytes, mime) in cases {
        let (status, file) = raw.upload(name, bytes);
        assert_eq!(status, 200, "{name}: {file}");
        assert_eq!(file["mime_type"], mime, "{name}");
        assert_eq!(file["filename"], name);
        assert_eq!(file["size_bytes"], bytes.len());
        assert_eq!(file["downloadable"], false);
        assert_eq!(file["type"], "file");
    }
    let (status, body) = raw.upload("blob.bin", &[0u8, 159, 146, 150, 255]);
    assert_error_shape(status, &body, 400);
}

#[test]
fn accept_any_content_stores_unknown_bytes_as_octet_stream() {
    let raw = Raw::new(
        Emulator::builder()
            .accept_any_content(true)
            .start()
            .unwrap(),
    );
    let (status, file) = raw.upload("blob.bin", &[0u8, 159, 146, 150, 255]);
    assert_eq!(status, 200, "{file}");
    assert_eq!(file["mime_type"], "application/octet-stream");
}

#[test]
fn uploads_without_a_file_part_or_with_an_empty_file_get_400() {
    let raw = Raw::new(Emulator::start().unwrap());
    let (status, body) = raw.upload("empty.txt", b"");
    assert_error_shape(status, &body, 400);
    let (content_type, form_body) = form("purpose", "x.txt", b"hello");
    let resp = raw
        .agent
        .post(raw.url("/files"))
        .header("Authorization", raw.auth())
        .header("Content-Type", content_type)
        .send(&form_body[..])
        .unwrap();
    let (status, body) = read(resp);
    assert_error_shape(status, &body, 400);
    let resp = raw
        .agent
        .post(raw.url("/files"))
        .header("Authorization", raw.auth())
        .header("Content-Type", "application/json")
        .send("{}")
        .unwrap();
    let (status, body) = read(resp);
    assert_error_shape(status, &body, 400);
}

#[test]
fn the_upload_limit_is_exact() {
    let raw = Raw::new(Emulator::builder().upload_limit(1000).start().unwrap());
    let (status, file) = raw.upload("max.txt", &text(1000));
    assert_eq!(status, 200, "{file}");
    let (status, body) = raw.upload("over.txt", &text(1001));
    assert_error_shape(status, &body, 413);
    let (_, list) = raw.get("/files");
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

#[test]
fn retrieve_delete_then_404() {
    let raw = Raw::new(Emulator::start().unwrap());
    let id = raw.upload_ok("notes.txt", b"notes");
    assert!(id.starts_with("or_file_"), "{id}");
    let (status, file) = raw.get(&format!("/files/{id}"));
    assert_eq!(status, 200);
    assert_eq!(file["id"], id.as_str());
    assert_eq!(file["_shape"], "openrouter");
    let (status, gone) = raw.delete(&format!("/files/{id}"));
    assert_eq!(status, 200);
    assert_eq!(
        gone,
        serde_json::json!({"_shape": "openrouter", "id": id, "type": "file_deleted"})
    );
    let (status, body) = raw.get(&format!("/files/{id}"));
    assert_error_shape(status, &body, 404);
    let (status, _) = raw.delete(&format!("/files/{id}"));
    assert_eq!(status, 404);
}

#[test]
fn seeded_files_download_as_raw_bytes_and_uploads_do_not() {
    let content: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let raw = Raw::new(
        Emulator::builder()
            .seed_file("data.bin", content.clone())
            .start()
            .unwrap(),
    );
    let (_, list) = raw.get("/files");
    let seeded = list["data"][0].clone();
    assert_eq!(seeded["downloadable"], true);
    let id = seeded["id"].as_str().unwrap();
    let mut resp = raw
        .agent
        .get(raw.url(&format!("/files/{id}/content")))
        .header("Authorization", raw.auth())
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    assert_eq!(
        resp.headers()["content-length"],
        content.len().to_string().as_str()
    );
    let body = resp
        .body_mut()
        .with_config()
        .limit(10_000_000)
        .read_to_vec()
        .unwrap();
    assert_eq!(body, content);
    let uploaded = raw.upload_ok("mine.txt", b"mine");
    let (status, body) = raw.get(&format!("/files/{uploaded}/content"));
    assert_error_shape(status, &body, 400);
}

#[test]
fn the_first_api_version_has_file_ids_and_no_shape() {
    let raw = Raw::new(
        Emulator::builder()
            .api_version(ApiVersion::V2026_07_19)
            .start()
            .unwrap(),
    );
    let id = raw.upload_ok("a.txt", b"abc");
    assert!(
        id.starts_with("file_") && !id.starts_with("or_file_"),
        "{id}"
    );
    let (_, file) = raw.get(&format!("/files/{id}?provider=openai"));
    assert!(file.get("_shape").is_none(), "{file}");
    let (_, list) = raw.get("/files");
    assert!(list.get("_shape").is_none());
    assert!(list["data"][0].get("_shape").is_none());
    let (_, gone) = raw.delete(&format!("/files/{id}"));
    assert_eq!(gone, serde_json::json!({"id": id, "type": "file_deleted"}));
}

#[test]
fn provider_storage_answers_in_the_provider_shape_and_pages_by_id() {
    let raw = Raw::new(Emulator::start().unwrap());
    let ids: Vec<String> = (0..3)
        .map(|i| {
            let (status, f) = raw.upload_to("/files?provider=openai", &format!("o{i}.txt"), b"abc");
            assert_eq!(status, 200, "{f}");
            assert_eq!(f["_shape"], "openai");
            assert_eq!(f["bytes"], 3);
            assert!(f["created_at"].is_i64());
            f["id"].as_str().unwrap().to_string()
        })
        .collect();
    let (_, page) = raw.get("/files?provider=openai&limit=2");
    assert_eq!(page["object"], "list");
    assert!(page.get("cursor").is_none());
    assert_eq!(page["has_more"], true);
    let (_, rest) = raw.get(&format!(
        "/files?provider=openai&limit=2&after={}",
        page["last_id"].as_str().unwrap()
    ));
    assert_eq!(rest["data"][0]["id"], ids[2].as_str());
    let (_, desc) = raw.get("/files?provider=openai&order=desc");
    assert_eq!(desc["data"][0]["id"], ids[2].as_str());
    let (status, body) = raw.get("/files?order=desc");
    assert_error_shape(status, &body, 400);
    let (status, body) = raw.get("/files?provider=nobody");
    assert_error_shape(status, &body, 400);
    let (_, own) = raw.get("/files");
    assert_eq!(
        own["data"],
        serde_json::json!([]),
        "provider files are not in OpenRouter storage"
    );
    let (_, gone) = raw.delete(&format!("/files/{}?provider=openai", ids[0]));
    assert_eq!(gone["deleted"], true);
    assert_eq!(gone["object"], "file");
}

#[test]
fn injected_statuses_answer_the_next_requests_then_stop() {
    let raw = Raw::new(Emulator::start().unwrap());
    raw.emulator
        .inject(Fault::status(429).with_header("Retry-After", "1"), 2);
    for _ in 0..2 {
        let resp = raw
            .agent
            .get(raw.url("/files"))
            .header("Authorization", raw.auth())
            .call()
            .unwrap();
        assert_eq!(resp.headers()["retry-after"], "1");
        let (status, body) = read(resp);
        assert_error_shape(status, &body, 429);
    }
    let (status, _) = raw.get("/files");
    assert_eq!(status, 200);
    raw.emulator
        .inject(Fault::status(502).with_body("<html>bad gateway</html>"), 1);
    let (status, body) = raw.get("/files");
    assert_eq!(status, 502);
    assert_eq!(body, Value::String("<html>bad gateway</html>".into()));
}

#[test]
fn injected_delays_hold_the_answer() {
    let raw = Raw::new(Emulator::start().unwrap());
    raw.emulator
        .inject(Fault::Delay(Duration::from_millis(400)), 1);
    let started = Instant::now();
    let (status, _) = raw.get("/files");
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(400));
}

#[test]
fn truncated_downloads_send_the_full_length_then_close() {
    let emulator = Emulator::builder()
        .seed_file("d.bin", vec![9u8; 10_000])
        .start()
        .unwrap();
    let raw = Raw::new(emulator);
    let (_, list) = raw.get("/files");
    let id = list["data"][0]["id"].as_str().unwrap().to_string();
    raw.emulator
        .inject(Fault::TruncateDownload { after_bytes: 1234 }, 1);
    // A list passes the fault by: it is for downloads.
    assert_eq!(raw.get("/files").0, 200);
    let mut stream = TcpStream::connect(raw.emulator.addr()).unwrap();
    write!(
        stream,
        "GET /api/v1/files/{id}/content HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\n\r\n",
        raw.auth()
    )
    .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut all = Vec::new();
    stream
        .read_to_end(&mut all)
        .expect("the server closes instead of stalling");
    let text = String::from_utf8_lossy(&all);
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.contains("Content-Length: 10000"), "{head}");
    assert_eq!(body.len(), 1234);
}

#[test]
fn dropped_connections_get_no_answer() {
    let raw = Raw::new(Emulator::start().unwrap());
    raw.emulator.inject(Fault::DropConnection, 1);
    let err = raw
        .agent
        .get(raw.url("/files"))
        .header("Authorization", raw.auth())
        .call()
        .unwrap_err();
    assert!(matches!(err, ureq::Error::Io(_)), "{err:?}");
    assert_eq!(raw.get("/files").0, 200);
    assert_eq!(raw.emulator.requests()[0].status, 0);
}

#[test]
fn the_log_records_each_request_and_connections_are_counted() {
    let raw = Raw::new(Emulator::start().unwrap());
    let id = raw.upload_ok("a.txt", b"hello");
    raw.get(&format!("/files?limit=5&workspace_id={WS_A}"));
    raw.get(&format!("/files/{id}"));
    let log = raw.emulator.requests();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].method, "POST");
    assert_eq!(log[0].path, "/api/v1/files");
    assert_eq!(log[0].status, 200);
    assert!(log[0].request_bytes > 5, "{:?}", log[0]);
    assert!(log[0].response_bytes > 50);
    assert_eq!(
        log[1].query.as_deref(),
        Some(format!("limit=5&workspace_id={WS_A}").as_str())
    );
    assert_eq!(log[2].path, format!("/api/v1/files/{id}"));
    // One agent, sequential calls: one pooled connection.
    assert_eq!(raw.emulator.connections_accepted(), 1);
    let other = raw_agent();
    other.get(raw.url("/files")).call().unwrap();
    assert_eq!(raw.emulator.connections_accepted(), 2);
    raw.emulator.clear_requests();
    assert!(raw.emulator.requests().is_empty());
}

#[test]
fn a_100_mb_upload_is_accepted_and_one_byte_more_is_refused_early() {
    let raw = Raw::new(
        Emulator::builder()
            .accept_any_content(true)
            .start()
            .unwrap(),
    );
    let body = vec![b'x'; 100_000_000];
    let (status, file) = raw.upload("big.txt", &body);
    assert_eq!(status, 200, "{file}");
    assert_eq!(file["size_bytes"], 100_000_000u64);
    let mut over = body;
    over.push(b'x');
    let (content_type, form_body) = form("file", "over.txt", &over);
    drop(over);
    let result = raw
        .agent
        .post(raw.url("/files"))
        .header("Authorization", raw.auth())
        .header("Content-Type", content_type)
        .send(&form_body[..]);
    match result {
        Ok(resp) => assert_eq!(read(resp).0, 413),
        // The server may answer and close before the client has sent everything.
        Err(ureq::Error::Io(e)) => assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
            ),
            "{e:?}"
        ),
        Err(e) => panic!("{e:?}"),
    }
    assert!(raw.emulator.requests().iter().any(|r| r.status == 413));
}

#[test]
fn stats_count_connections_and_requests_without_auth() {
    let raw = Raw::new(Emulator::start().unwrap());
    raw.get("/files");
    raw_agent()
        .get(format!("http://{}/_emulator/stats", raw.emulator.addr()))
        .call()
        .unwrap();
    let mut resp = raw_agent()
        .get(format!("http://{}/_emulator/stats", raw.emulator.addr()))
        .call()
        .unwrap();
    let stats: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(stats["connections"], 3);
    assert_eq!(stats["requests"], 2);
}

// ---- Serving many, slow and hostile clients ----

/// Sends `raw` on a fresh connection, half-closes nothing, and reads until the server closes
/// or answers once; returns the status (None: closed without an answer).
fn raw_exchange(addr: std::net::SocketAddr, raw: &[u8], close_after: bool) -> Option<u16> {
    let mut stream = connect(addr);
    let _ = stream.write_all(raw);
    if close_after {
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }
    read_status(&mut stream)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[test]
fn sixty_four_keep_alive_clients_are_served_at_once() {
    const CLIENTS: usize = 64;
    // With 500 ms added to every answer, 64 clients served together take about 4 rounds of
    // 500 ms; served by a pool of 8 workers they would take 8 times as long.
    let latency = Duration::from_millis(500);
    let raw = Raw::new(Emulator::builder().latency(latency).start().unwrap());
    let url = raw.url("/files?limit=1");
    let barrier = std::sync::Barrier::new(CLIENTS);
    let started = Instant::now();
    let spans: Vec<Vec<(Duration, Duration)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|_| {
                s.spawn(|| {
                    let agent = raw_agent();
                    let call = || {
                        let resp = agent
                            .get(&url)
                            .header("Authorization", raw.auth())
                            .call()
                            .unwrap();
                        assert_eq!(read(resp).0, 200);
                    };
                    call(); // opens the kept-alive connection
                    barrier.wait();
                    (0..4)
                        .map(|_| {
                            let from = started.elapsed();
                            call();
                            (from, started.elapsed())
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        raw.emulator.connections_accepted(),
        CLIENTS,
        "one connection each"
    );
    // Overlap: at some instant most requests were in flight together.
    let all: Vec<(Duration, Duration)> = spans.into_iter().flatten().collect();
    let most_in_flight = all
        .iter()
        .map(|(from, _)| all.iter().filter(|(a, b)| a <= from && from < b).count())
        .max()
        .unwrap();
    assert!(
        most_in_flight >= CLIENTS * 3 / 4,
        "only {most_in_flight} requests were in flight together"
    );
    // Every request took about the added latency, not a multiple of it: none waited for
    // another connection's request (generous bound for a loaded machine).
    let slowest = all.iter().map(|(a, b)| *b - *a).max().unwrap();
    assert!(slowest < latency * 6, "a request took {slowest:?}");
}

#[test]
fn sixty_four_keep_alive_clients_p99_is_reported() {
    const CLIENTS: usize = 64;
    let raw = Raw::new(Emulator::start().unwrap());
    raw.upload_ok("a.txt", b"hello");
    let url = raw.url("/files?limit=10");
    let barrier = std::sync::Barrier::new(CLIENTS);
    let mut times: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|_| {
                s.spawn(|| {
                    let agent = raw_agent();
                    let call = || {
                        let from = Instant::now();
                        let resp = agent
                            .get(&url)
                            .header("Authorization", raw.auth())
                            .call()
                            .unwrap();
                        assert_eq!(read(resp).0, 200);
                        from.elapsed()
                    };
                    call();
                    barrier.wait();
                    (0..20).map(|_| call()).collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    times.sort();
    let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
    eprintln!(
        "64 keep-alive clients x 20 lists: p50 {p50:?}, p99 {p99:?}, max {:?}",
        times.last().unwrap()
    );
    assert_eq!(raw.emulator.connections_accepted(), CLIENTS + 1);
    assert!(p99 < Duration::from_secs(5), "p99 {p99:?}");
}

#[test]
fn slow_clients_do_not_delay_others() {
    let raw = Raw::new(Emulator::start().unwrap());
    let addr = raw.emulator.addr();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let auth = raw.auth();
    std::thread::scope(|s| {
        // Sixteen slowloris heads, one byte every 200 ms, and sixteen slow upload bodies:
        // twice as many as the old server had workers.
        for i in 0..32 {
            let (stop, auth) = (&stop, &auth);
            s.spawn(move || {
                let mut stream = TcpStream::connect(addr).unwrap();
                let bytes = if i % 2 == 0 {
                    format!("GET /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\r\n")
                } else {
                    format!(
                        "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.txt\"\r\n\r\n{}",
                        "x".repeat(1000)
                    )
                };
                for byte in bytes.as_bytes() {
                    if stop.load(std::sync::atomic::Ordering::SeqCst)
                        || stream.write_all(&[*byte]).is_err()
                    {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            });
        }
        std::thread::sleep(Duration::from_millis(500));
        let started = Instant::now();
        for i in 0..20 {
            let agent = raw_agent(); // a new connection each time
            let from = Instant::now();
            let resp = agent
                .get(raw.url("/files"))
                .header("Authorization", raw.auth())
                .call()
                .unwrap();
            assert_eq!(read(resp).0, 200);
            assert!(
                from.elapsed() < Duration::from_secs(3),
                "request {i} took {:?}",
                from.elapsed()
            );
        }
        assert!(started.elapsed() < Duration::from_secs(10));
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
    });
}

#[test]
fn a_head_or_body_that_trickles_past_the_read_timeout_gets_408() {
    let raw = Raw::new(
        Emulator::builder()
            .read_timeout(Duration::from_millis(1500))
            .start()
            .unwrap(),
    );
    let addr = raw.emulator.addr();
    // The three cases wait on the read timeout each on a connection of its own, at once.
    std::thread::scope(|s| {
        s.spawn(|| {
            // A head at one byte every 300 ms never arrives whole within 1.5 s. The client
            // stops writing after 1 s, so its writes never race the server's close.
            let mut stream = connect(addr);
            let started = Instant::now();
            for byte in b"GET /api/v1/files HTTP/1.1\r\nHost: x\r\n" {
                if started.elapsed() > Duration::from_secs(1) || stream.write_all(&[*byte]).is_err()
                {
                    break;
                }
                std::thread::sleep(Duration::from_millis(300));
            }
            assert_eq!(read_status(&mut stream), Some(408));
            assert!(started.elapsed() >= Duration::from_millis(1400));
        });
        s.spawn(|| {
            // A body that stalls longer than the read timeout fails its request, once that
            // timeout has passed (before, the 408 waited for a second timeout on a read made
            // to drain the rest of the body).
            let mut stream = connect(addr);
            let started = Instant::now();
            write!(
                stream,
                "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000\r\n\r\n--b\r\n",
                raw.auth()
            )
            .unwrap();
            assert_eq!(read_status(&mut stream), Some(408));
            let took = started.elapsed();
            assert!(
                (Duration::from_millis(1400)..Duration::from_millis(2700)).contains(&took),
                "a 1.5 s read timeout answered in {took:?}"
            );
        });
        s.spawn(|| {
            // An idle kept-alive connection is closed.
            let mut idle = connect(addr);
            assert_eq!(read_status(&mut idle), None);
        });
    });
}

#[test]
fn connections_past_the_cap_get_503_at_once() {
    let raw = Raw::new(Emulator::builder().max_connections(4).start().unwrap());
    let addr = raw.emulator.addr();
    let held: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(addr).unwrap()).collect();
    // The accept thread takes connections in order: the fifth is past the cap.
    let started = Instant::now();
    let status = raw_exchange(
        addr,
        format!(
            "GET /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\n\r\n",
            raw.auth()
        )
        .as_bytes(),
        false,
    );
    assert_eq!(status, Some(503));
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(held);
    // Slots free up when connections close.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let resp = raw_agent()
            .get(raw.url("/files"))
            .header("Authorization", raw.auth())
            .call()
            .unwrap();
        if resp.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "slots never freed");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The threads of the emulator on `port`, by name (Linux names threads in /proc).
#[cfg(target_os = "linux")]
fn emulator_threads(port: u16) -> usize {
    let prefix = format!("emu-{port}-");
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(&prefix))
        .count()
}

/// Waits up to `seconds` for the emulator on `port` to have `n` threads; fails saying how
/// many it has.
#[cfg(target_os = "linux")]
fn wait_for_threads(port: u16, n: usize, seconds: u64) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while emulator_threads(port) != n {
        assert!(
            Instant::now() < deadline,
            "{} threads, not {n}",
            emulator_threads(port)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_thousand_dropped_connections_leave_the_thread_count_at_its_base() {
    let raw = Raw::new(Emulator::start().unwrap());
    let (addr, port) = (raw.emulator.addr(), raw.emulator.addr().port());
    // A thread names itself once it runs: wait for the accept thread's name.
    let deadline = Instant::now() + Duration::from_secs(10);
    while emulator_threads(port) != 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let base = emulator_threads(port);
    assert_eq!(base, 1, "the accept thread");
    let mut peak = 0;
    for round in 1..=10 {
        let batch: Vec<TcpStream> = (0..100)
            .map(|_| TcpStream::connect(addr).unwrap())
            .collect();
        let deadline = Instant::now() + Duration::from_secs(10);
        while raw.emulator.connections_accepted() < round * 100 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        peak = peak.max(emulator_threads(port));
        drop(batch);
    }
    assert_eq!(raw.emulator.connections_accepted(), 1000);
    assert!(peak > base, "connections got threads (peak {peak})");
    wait_for_threads(port, base, 20);
    assert_eq!(raw.get("/files").0, 200);
}

#[test]
fn hostile_requests_get_4xx_or_a_closed_socket_and_never_a_panic() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static PANICS: AtomicUsize = AtomicUsize::new(0);
    let raw = Raw::new(Emulator::start().unwrap());
    let addr = raw.emulator.addr();
    let ours = format!("emu-{}-", addr.port());
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current()
            .name()
            .is_some_and(|n| n.starts_with(&ours))
        {
            PANICS.fetch_add(1, Ordering::SeqCst);
        }
        previous(info);
    }));
    let auth = raw.auth();
    let get =
        |target: &str| format!("GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\r\n");
    // Forged cursors, base64url JSON: {"after": u64::MAX}, {"before": u64::MAX},
    // {"after": -1}, {"after": 1e300}, {"after": 1, "before": 2}.
    let forged = [
        "eyJhZnRlciI6MTg0NDY3NDQwNzM3MDk1NTE2MTV9",
        "eyJiZWZvcmUiOjE4NDQ2NzQ0MDczNzA5NTUxNjE1fQ",
        "eyJhZnRlciI6LTF9",
        "eyJhZnRlciI6MWUzMDB9",
        "eyJhZnRlciI6MSwiYmVmb3JlIjoyfQ",
    ];
    let mut expect_400: Vec<String> = forged
        .iter()
        .map(|c| get(&format!("/api/v1/files?cursor={c}")))
        .collect();
    expect_400.extend([
        get("/api/v1/files?cursor=%FF%FE"),
        get("/api/v1/files?limit=99999999999999999999999999"),
        get("/api/v1/files?limit=18446744073709551615"),
        get("/api/v1/files?workspace_id=%00%0D%0A"),
        "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n"
            .to_string(),
        "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"
            .to_string(),
        format!(
            "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
        ),
        format!(
            "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n{}\r\n",
            "f".repeat(5000)
        ),
        format!(
            "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc"
        ),
        "\x16\x03\x01\x02\x00\x01\x00\x01\x7c\x03\x03garbage\r\n\r\n".to_string(),
        "GET\r\n\r\n".to_string(),
        "GET / HTTP/9.9\r\n\r\n".to_string(),
    ]);
    for (i, request) in expect_400.iter().enumerate() {
        let status = raw_exchange(addr, request.as_bytes(), true);
        assert!(
            matches!(status, Some(400..=499) | None),
            "case {i}: {status:?} for {request:?}"
        );
    }
    // Declared sizes over the limit are refused before the body is read.
    let huge = format!(
        "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 18446744073709551615\r\n\r\n"
    );
    assert_eq!(raw_exchange(addr, huge.as_bytes(), false), Some(413));
    let big_head = format!(
        "GET /api/v1/files HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(40_000)
    );
    assert_eq!(raw_exchange(addr, big_head.as_bytes(), false), Some(431));
    let many: String = (0..200).map(|i| format!("X-{i}: y\r\n")).collect();
    let many = format!("GET /api/v1/files HTTP/1.1\r\n{many}\r\n");
    assert_eq!(raw_exchange(addr, many.as_bytes(), false), Some(431));
    assert_eq!(
        raw_exchange(
            addr,
            b"GET /api/v1/files HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            false
        ),
        Some(501)
    );
    // Truncated requests: the head, or a body, cut short by the client closing.
    for cut in [
        "GET /api/v1/fi".to_string(),
        format!(
            "POST /api/v1/files HTTP/1.1\r\nAuthorization: {auth}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 500\r\n\r\n--b\r\n"
        ),
        format!(
            "POST /api/v1/files HTTP/1.1\r\nAuthorization: {auth}\r\nContent-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n--b\r\n"
        ),
    ] {
        let status = raw_exchange(addr, cut.as_bytes(), true);
        assert!(
            matches!(status, Some(400..=499) | None),
            "{status:?} for {cut:?}"
        );
    }
    // Every connection thread lived to answer the next request.
    for _ in 0..4 {
        assert_eq!(raw.get("/files").0, 200);
    }
    let _ = std::panic::take_hook();
    assert_eq!(
        PANICS.load(Ordering::SeqCst),
        0,
        "a connection thread panicked"
    );
}

#[test]
fn chunked_and_expect_continue_uploads_are_read() {
    let raw = Raw::new(Emulator::start().unwrap());
    let (content_type, body) = form("file", "chunked.txt", b"hello chunks");
    let mut chunked = Vec::new();
    for piece in body.chunks(7) {
        chunked.extend_from_slice(format!("{:x};ext=1\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\nX-Trailer: yes\r\n\r\n");
    let mut stream = connect(raw.emulator.addr());
    let head = format!(
        "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n",
        raw.auth()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&chunked).unwrap();
    assert_eq!(read_status(&mut stream), Some(200));
    // Expect: 100-continue gets its interim answer before the body is sent.
    let mut stream = connect(raw.emulator.addr());
    let head = format!(
        "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        raw.auth(),
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    assert_eq!(read_status(&mut stream), Some(100));
    stream.write_all(&body).unwrap();
    // `Connection: close`: the end of the answer is the end of the stream, at once.
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    let rest = String::from_utf8_lossy(&rest);
    assert!(rest.contains("HTTP/1.1 200 OK"), "{rest}");
    let (_, list) = raw.get("/files");
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    assert_eq!(list["data"][0]["size_bytes"], 12);
}

#[test]
fn the_request_log_keeps_the_last_entries_and_counts_them_all() {
    let raw = Raw::new(Emulator::builder().request_log_limit(5).start().unwrap());
    for i in 0..12 {
        raw.get(&format!("/files?limit={}", i + 1));
    }
    let log = raw.emulator.requests();
    assert_eq!(log.len(), 5);
    assert_eq!(log[0].query.as_deref(), Some("limit=8"));
    assert_eq!(log[4].query.as_deref(), Some("limit=12"));
    assert_eq!(raw.emulator.requests_served(), 12);
    let mut resp = raw_agent()
        .get(format!("http://{}/_emulator/stats", raw.emulator.addr()))
        .call()
        .unwrap();
    let stats: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(stats["requests"], 12);
}

#[test]
fn filenames_follow_rfc_7578_and_browser_escapes() {
    let raw = Raw::new(Emulator::start().unwrap());
    for (sent, stored) in [
        (r"back\\slash.txt", r"back\slash.txt"),
        (r#"a\"b.txt"#, r#"a"b.txt"#),
        ("a%22b%0D%0Ac.txt", "a\"b\r\nc.txt"),
        (r"C:\dir\x.txt", r"C:\dir\x.txt"),
        ("caf\u{e9}.txt", "caf\u{e9}.txt"),
    ] {
        let (status, file) = raw.upload(sent, b"hello");
        assert_eq!(status, 200, "{sent}: {file}");
        assert_eq!(file["filename"], stored, "{sent}");
    }
}

#[test]
fn an_upload_with_two_file_parts_is_refused() {
    let raw = Raw::new(Emulator::start().unwrap());
    let body = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"one.txt\"\r\n\r\none\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"two.txt\"\r\n\r\ntwo\r\n--b--\r\n";
    let resp = raw
        .agent
        .post(raw.url("/files"))
        .header("Authorization", raw.auth())
        .header("Content-Type", "multipart/form-data; boundary=b")
        .send(body)
        .unwrap();
    let (status, body) = read(resp);
    assert_error_shape(status, &body, 400);
    assert_eq!(raw.get("/files").1["data"], serde_json::json!([]));
}

#[test]
fn faults_aimed_at_one_operation_let_the_others_pass() {
    let raw = Raw::new(Emulator::start().unwrap());
    raw.emulator.inject(Fault::status(503).on(Route::Upload), 1);
    raw.emulator
        .inject(Fault::DropConnection.on(Route::Delete), 1);
    assert_eq!(raw.get("/files").0, 200);
    assert_eq!(raw.upload("a.txt", b"hi").0, 503);
    let id = raw.upload_ok("a.txt", b"hi");
    assert_eq!(raw.get(&format!("/files/{id}")).0, 200);
    let dropped = raw
        .agent
        .delete(raw.url(&format!("/files/{id}")))
        .header("Authorization", raw.auth())
        .call();
    assert!(dropped.is_err(), "{dropped:?}");
    assert_eq!(raw.delete(&format!("/files/{id}")).0, 200);
}

#[test]
fn range_requests_serve_parts_with_validators_when_on() {
    let content: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let raw = Raw::new(
        Emulator::builder()
            .range_requests(true)
            .seed_file("r.bin", content.clone())
            .start()
            .unwrap(),
    );
    let id = raw.get("/files").1["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let url = raw.url(&format!("/files/{id}/content"));
    let fetch = |range: Option<&str>| {
        let mut req = raw.agent.get(&url).header("Authorization", raw.auth());
        if let Some(range) = range {
            req = req.header("Range", range);
        }
        let mut resp = req.call().unwrap();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let headers = (
            header("content-range"),
            header("accept-ranges"),
            header("etag"),
            header("last-modified"),
        );
        let status = resp.status().as_u16();
        (status, headers, resp.body_mut().read_to_vec().unwrap())
    };
    let (status, (range, accept, etag, modified), body) = fetch(Some("bytes=100-"));
    assert_eq!(status, 206);
    assert_eq!(range.as_deref(), Some("bytes 100-999/1000"));
    assert_eq!(body, &content[100..]);
    assert_eq!(accept.as_deref(), Some("bytes"));
    assert!(etag.is_some_and(|e| e.starts_with('"')));
    assert!(modified.is_some_and(|m| m.ends_with(" GMT")));
    let (status, (range, ..), body) = fetch(Some("bytes=1000-"));
    assert_eq!(status, 416);
    assert_eq!(range.as_deref(), Some("bytes */1000"));
    assert!(String::from_utf8_lossy(&body).contains("\"code\":416"));
    let (status, _, body) = fetch(Some("bytes=oops"));
    assert_eq!((status, body.len()), (200, 1000));
    // Off by default: Range is ignored and nothing is advertised.
    let plain = Raw::new(
        Emulator::builder()
            .seed_file("r.bin", content.clone())
            .start()
            .unwrap(),
    );
    let id = plain.get("/files").1["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let resp = plain
        .agent
        .get(plain.url(&format!("/files/{id}/content")))
        .header("Authorization", plain.auth())
        .header("Range", "bytes=100-")
        .call()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("accept-ranges").is_none());
}

#[test]
fn latency_is_added_before_every_answer() {
    let raw = Raw::new(
        Emulator::builder()
            .latency(Duration::from_millis(300))
            .start()
            .unwrap(),
    );
    for path in ["/files", "/files/or_file_missing"] {
        let started = Instant::now();
        raw.get(path);
        assert!(started.elapsed() >= Duration::from_millis(300), "{path}");
    }
}

// ---- Checks that need a process of their own: resource limits and peak memory ----

const CHILD_ENV: &str = "OPENROUTER_FILES_EMULATOR_CHILD";

/// Runs the test `name` again in a child process of this test binary, alone, with
/// `CHILD_ENV` set; returns what it printed.
fn in_child(name: &str) -> String {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child {name} failed:\n{text}");
    text
}

/// The number after `key=` in a child's output.
fn reported(text: &str, key: &str) -> u64 {
    text.lines()
        .find_map(|l| l.split_once(&format!("{key}=")))
        .and_then(|(_, v)| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in:\n{text}"))
}

/// Peak resident memory of this process, in KiB.
#[cfg(target_os = "linux")]
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Uploads `size` bytes of one line of text, streamed from a small buffer; returns the status.
fn upload_one_line(addr: std::net::SocketAddr, key: &str, size: u64) -> Option<u16> {
    let boundary = "line-boundary";
    let preamble = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"line.txt\"\r\n\r\n"
    );
    let epilogue = format!("\r\n--{boundary}--\r\n");
    let len = preamble.len() as u64 + size + epilogue.len() as u64;
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .unwrap();
    write!(
        stream,
        "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {len}\r\n\r\n{preamble}"
    )
    .unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        stream.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    stream.write_all(epilogue.as_bytes()).unwrap();
    read_status(&mut stream)
}

/// In a child process (this test again), uploads `parallel` single-line files of `size` bytes
/// at once to an emulator in the same process, and checks the child's peak RSS stays under
/// `bound_kib`. The bound is far below `parallel * size`, so an emulator that held a line in
/// memory fails; the sizes keep the disk the files take (`parallel * size`) modest.
#[cfg(target_os = "linux")]
fn peak_rss_of_uploads(test: &str, parallel: usize, size: u64, bound_kib: u64) {
    if std::env::var_os(CHILD_ENV).is_none() {
        let out = in_child(test);
        let before = reported(&out, "RSS_BEFORE_KIB");
        let peak = reported(&out, "PEAK_RSS_KIB");
        eprintln!(
            "{parallel} parallel single-line uploads of {size} bytes: peak RSS {peak} KiB (before: {before} KiB)"
        );
        assert!(peak < bound_kib, "peak RSS {peak} KiB");
        return;
    }
    let emulator = Emulator::start().unwrap();
    println!("RSS_BEFORE_KIB={}", peak_rss_kib());
    std::thread::scope(|s| {
        for _ in 0..parallel {
            s.spawn(|| {
                let status = upload_one_line(emulator.addr(), emulator.api_key(), size);
                assert_eq!(status, Some(200));
            });
        }
    });
    println!("PEAK_RSS_KIB={}", peak_rss_kib());
}

#[cfg(target_os = "linux")]
#[test]
fn a_100_mb_single_line_upload_stays_under_16_mb_of_memory() {
    peak_rss_of_uploads(
        "a_100_mb_single_line_upload_stays_under_16_mb_of_memory",
        1,
        100_000_000,
        16 * 1024,
    );
}

#[cfg(target_os = "linux")]
#[test]
fn eight_parallel_25_mb_single_line_uploads_stay_under_64_mb_of_memory() {
    peak_rss_of_uploads(
        "eight_parallel_25_mb_single_line_uploads_stay_under_64_mb_of_memory",
        8,
        25_000_000,
        64 * 1024,
    );
}

#[cfg(target_os = "linux")]
#[test]
fn running_out_of_file_descriptors_does_not_stop_the_server() {
    if std::env::var_os(CHILD_ENV).is_none() {
        let out = in_child("running_out_of_file_descriptors_does_not_stop_the_server");
        let (held, accepted) = (reported(&out, "FD_HELD"), reported(&out, "FD_ACCEPTED"));
        eprintln!("out of descriptors: {held} connections opened, {accepted} accepted");
        return;
    }
    let emulator = Emulator::start().unwrap();
    let limit = libc::rlimit {
        rlim_cur: 64,
        rlim_max: 64,
    };
    // SAFETY: a valid pointer to an rlimit; lowering our own limit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
    let mut held = Vec::new();
    while held.len() < 200 {
        match TcpStream::connect(emulator.addr()) {
            Ok(stream) => held.push(stream),
            Err(_) => break, // this process is out of descriptors
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    println!(
        "FD_HELD={} FD_ACCEPTED={}",
        held.len(),
        emulator.connections_accepted()
    );
    assert!(
        emulator.connections_accepted() < held.len(),
        "the accept thread ran out of descriptors too"
    );
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answer = raw_agent()
            .get(format!("{}/files", emulator.base_url()))
            .header("Authorization", format!("Bearer {}", emulator.api_key()))
            .call();
        if answer.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(Instant::now() < deadline, "the server never recovered");
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---- Found in review (r3) ----

#[test]
fn a_delayed_request_holds_up_no_other_request() {
    // Long enough that a list stuck behind it would show; the test waits it out at the end.
    let delay = Duration::from_secs(3);
    let raw = Raw::new(Emulator::start().unwrap());
    raw.emulator
        .inject(Fault::Delay(delay).on(Route::Upload), 1);
    let addr = raw.emulator.addr();
    let auth = raw.auth();
    let delayed = std::thread::spawn(move || {
        raw_exchange(
            addr,
            format!(
                "POST /api/v1/files HTTP/1.1\r\nAuthorization: {auth}\r\nContent-Length: 0\r\n\r\n"
            )
            .as_bytes(),
            false,
        )
    });
    // Wait until the delayed request has taken its fault.
    let deadline = Instant::now() + Duration::from_secs(5);
    while raw.emulator.connections_accepted() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(raw.get("/files").0, 200);
    assert!(
        started.elapsed() < delay / 2,
        "a list waited {:?} behind another request's delay",
        started.elapsed()
    );
    assert_eq!(delayed.join().unwrap(), Some(400));
}

/// Reads one answer's head (up to the blank line) off `stream`.
fn read_head_text(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => got.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn head_requests_get_headers_without_a_body_and_the_connection_stays_in_step() {
    let raw = Raw::new(Emulator::start().unwrap());
    let mut stream = connect(raw.emulator.addr());
    let auth = raw.auth();
    write!(
        stream,
        "HEAD /api/v1/files HTTP/1.1\r\nAuthorization: {auth}\r\n\r\n\
         HEAD /api/v1/nowhere HTTP/1.1\r\nAuthorization: {auth}\r\n\r\n\
         GET /_emulator/stats HTTP/1.1\r\n\r\n"
    )
    .unwrap();
    let first = read_head_text(&mut stream);
    assert!(first.starts_with("HTTP/1.1 200 "), "{first}");
    assert!(!first.contains("Content-Length: 0\r\n"), "{first}");
    let second = read_head_text(&mut stream);
    assert!(second.starts_with("HTTP/1.1 404 "), "{second}");
    let third = read_head_text(&mut stream);
    assert!(
        third.starts_with("HTTP/1.1 200 "),
        "a body after a HEAD answer would be read as the next answer: {third}"
    );
}

#[test]
fn method_not_allowed_says_which_methods_are() {
    let raw = Raw::new(Emulator::start().unwrap());
    for (method, path, allow) in [
        ("PUT", "/files", "GET, HEAD, POST"),
        ("POST", "/files/or_file_x", "GET, HEAD, DELETE"),
        ("DELETE", "/files/or_file_x/content", "GET, HEAD"),
    ] {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(raw.url(path))
            .header("Authorization", raw.auth())
            .body("")
            .unwrap();
        let resp = raw.agent.run(request).unwrap();
        assert_eq!(resp.status(), 405, "{method} {path}");
        assert_eq!(resp.headers()["allow"], allow, "{method} {path}");
    }
}

#[test]
fn before_id_answers_the_page_just_before_in_the_lists_order() {
    let raw = Raw::new(Emulator::start().unwrap());
    let ids: Vec<String> = (0..5)
        .map(|i| {
            let (status, f) =
                raw.upload_to("/files?provider=anthropic", &format!("a{i}.txt"), b"abc");
            assert_eq!(status, 200, "{f}");
            f["id"].as_str().unwrap().to_string()
        })
        .collect();
    let page_ids = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    // Ascending: before the last file, the two files just before it, oldest first.
    let (status, page) = raw.get(&format!(
        "/files?provider=anthropic&limit=2&before_id={}",
        ids[4]
    ));
    assert_eq!(status, 200, "{page}");
    assert_eq!(page_ids(&page), ids[2..4]);
    assert_eq!(page["first_id"], ids[2].as_str());
    assert_eq!(page["last_id"], ids[3].as_str());
    assert_eq!(page["has_more"], true, "two files lie further back");
    let (_, page) = raw.get(&format!(
        "/files?provider=anthropic&limit=2&before_id={}",
        ids[2]
    ));
    assert_eq!(page_ids(&page), ids[0..2]);
    assert_eq!(
        page["has_more"], false,
        "nothing lies before the first file"
    );
    // Descending: "before" is newer, and the page is newest first like the list.
    let (_, page) = raw.get(&format!(
        "/files?provider=anthropic&order=desc&limit=2&before_id={}",
        ids[1]
    ));
    assert_eq!(page_ids(&page), [ids[3].clone(), ids[2].clone()]);
    assert_eq!(page["has_more"], true);
}

#[test]
fn an_http_1_0_client_is_told_when_its_connection_is_kept() {
    let raw = Raw::new(Emulator::start().unwrap());
    let mut stream = connect(raw.emulator.addr());
    write!(
        stream,
        "GET /_emulator/stats HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    )
    .unwrap();
    let kept = read_head_text(&mut stream);
    assert!(kept.contains("\r\nConnection: keep-alive\r\n"), "{kept}");
    let mut body = [0u8; 1];
    while !String::from_utf8_lossy(&body).contains('}') {
        stream.read_exact(&mut body).unwrap();
    }
    write!(stream, "GET /_emulator/stats HTTP/1.0\r\n\r\n").unwrap();
    let closed = read_head_text(&mut stream);
    assert!(closed.starts_with("HTTP/1.1 200 "), "{closed}");
    assert!(closed.contains("\r\nConnection: close\r\n"), "{closed}");
}

#[test]
fn a_request_target_in_absolute_form_is_served() {
    let raw = Raw::new(Emulator::start().unwrap());
    let addr = raw.emulator.addr();
    let status = raw_exchange(
        addr,
        format!(
            "GET http://{addr}/api/v1/files?limit=1 HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {}\r\n\r\n",
            raw.auth()
        )
        .as_bytes(),
        true,
    );
    assert_eq!(
        status,
        Some(200),
        "RFC 9112 §3.2.2: servers accept absolute-form"
    );
    let log = raw.emulator.requests();
    assert_eq!(log[0].path, "/api/v1/files");
    assert_eq!(log[0].query.as_deref(), Some("limit=1"));
}

#[test]
fn the_request_log_stays_exact_and_bounded_under_concurrent_clients() {
    const CLIENTS: usize = 16;
    const EACH: usize = 25;
    let raw = Raw::new(Emulator::builder().request_log_limit(50).start().unwrap());
    std::thread::scope(|s| {
        for c in 0..CLIENTS {
            let raw = &raw;
            s.spawn(move || {
                for i in 0..EACH {
                    let (status, _) = raw.get(&format!("/files?limit={}", c * EACH + i + 1));
                    assert_eq!(status, 200);
                }
            });
        }
    });
    assert_eq!(raw.emulator.requests_served(), (CLIENTS * EACH) as u64);
    let log = raw.emulator.requests();
    assert_eq!(log.len(), 50);
    let mut seen: Vec<&str> = log.iter().filter_map(|r| r.query.as_deref()).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 50, "each kept entry is a distinct request");
}

#[cfg(target_os = "linux")]
#[test]
fn a_client_that_never_reads_its_download_is_cut_off_by_the_write_timeout() {
    let raw = Raw::new(
        Emulator::builder()
            .write_timeout(Duration::from_millis(500))
            .start()
            .unwrap(),
    );
    let size = 64 * 1024 * 1024;
    let id = raw
        .emulator
        .seed_reader_in(
            openrouter_files_emulator::DEFAULT_WORKSPACE,
            "big.bin",
            std::io::repeat(b'x').take(size),
        )
        .unwrap();
    let port = raw.emulator.addr().port();
    wait_for_threads(port, 1, 10);
    let mut stalled = connect(raw.emulator.addr());
    write!(
        stalled,
        "GET /api/v1/files/{id}/content HTTP/1.1\r\nAuthorization: {}\r\n\r\n",
        raw.auth()
    )
    .unwrap();
    wait_for_threads(port, 2, 10);
    // The socket buffers fill, the next write blocks, and the timeout ends the connection
    // and its thread while the client still holds its end open, unread.
    wait_for_threads(port, 1, 30);
    let mut got = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    while let Ok(n @ 1..) = stalled.read(&mut buf) {
        got += n as u64;
    }
    assert!(
        got < size,
        "the connection closed before the whole file ({got} bytes)"
    );
    assert_eq!(raw.get("/files").0, 200);
}

#[test]
fn a_request_hidden_in_a_body_or_behind_ambiguous_framing_is_never_served() {
    let raw = Raw::new(Emulator::start().unwrap());
    let id = raw.upload_ok("keep.txt", b"keep me");
    let auth = raw.auth();
    let hidden = format!("DELETE /api/v1/files/{id} HTTP/1.1\r\nAuthorization: {auth}\r\n\r\n");
    let attempts = [
        // A body that is itself a request: read as body, answered once.
        format!(
            "GET /api/v1/files HTTP/1.1\r\nAuthorization: {auth}\r\nContent-Length: {}\r\n\r\n{hidden}",
            hidden.len()
        ),
        // Content-Length and Transfer-Encoding together (CL.TE / TE.CL).
        format!(
            "POST /api/v1/files HTTP/1.1\r\nAuthorization: {auth}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{hidden}"
        ),
        // Two different lengths, a signed one, and one folded onto a second line.
        format!(
            "POST /api/v1/files HTTP/1.1\r\nAuthorization: {auth}\r\nContent-Length: 0\r\nContent-Length: {}\r\n\r\n{hidden}",
            hidden.len()
        ),
        format!(
            "GET /api/v1/files HTTP/1.1\r\nAuthorization: {auth}\r\nContent-Length: +0\r\n\r\n{hidden}"
        ),
        format!(
            "GET /api/v1/files HTTP/1.1\r\nAuthorization: {auth}\r\nContent-Length:\r\n 0\r\n\r\n{hidden}"
        ),
        // A transfer coding list that hides chunked.
        format!(
            "POST /api/v1/files HTTP/1.1\r\nAuthorization: {auth}\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n{hidden}"
        ),
    ];
    for (i, attempt) in attempts.iter().enumerate() {
        let mut stream = connect(raw.emulator.addr());
        stream.write_all(attempt.as_bytes()).unwrap();
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let mut all = Vec::new();
        let _ = stream.read_to_end(&mut all);
        let answers = String::from_utf8_lossy(&all).matches("HTTP/1.1 ").count();
        assert_eq!(answers, 1, "case {i}: {}", String::from_utf8_lossy(&all));
        assert_eq!(
            raw.get(&format!("/files/{id}")).0,
            200,
            "case {i} deleted it"
        );
    }
    // Pipelined requests on one connection are each answered, in order.
    let mut stream = connect(raw.emulator.addr());
    let three = format!(
        "GET /api/v1/files/{id} HTTP/1.1\r\nAuthorization: {auth}\r\n\r\n\
         GET /api/v1/files/nope HTTP/1.1\r\nAuthorization: {auth}\r\n\r\n\
         GET /api/v1/files HTTP/1.1\r\nAuthorization: {auth}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(three.as_bytes()).unwrap();
    let mut all = String::new();
    let _ = stream.read_to_string(&mut all);
    let statuses: Vec<&str> = all.split("HTTP/1.1 ").skip(1).map(|a| &a[..3]).collect();
    assert_eq!(statuses, ["200", "404", "200"], "{all}");
}

#[test]
fn multipart_edge_cases_get_the_answer_rfc_7578_gives_them() {
    let raw = Raw::new(Emulator::builder().upload_limit(1000).start().unwrap());
    let part = |disposition: &str, content: &[u8]| -> Vec<u8> {
        let mut p = format!("--b\r\n{disposition}\r\n\r\n").into_bytes();
        p.extend_from_slice(content);
        p.extend_from_slice(b"\r\n");
        p
    };
    let file = |filename: &str, content: &[u8]| {
        part(
            &format!("Content-Disposition: form-data; name=\"file\"; filename={filename}"),
            content,
        )
    };
    let end = b"--b--\r\n".to_vec();
    let huge_name = format!("\"{}\"", "n".repeat(10 * 1024 * 1024));
    let cases: Vec<(&str, Vec<u8>, u16, Option<&str>)> = vec![
        (
            "the boundary inside the content, not followed by -- or CRLF",
            [file("\"a.txt\"", b"x\r\n--bx--b \r\n--b-"), end.clone()].concat(),
            200,
            Some("a.txt"),
        ),
        ("no closing boundary", file("\"a.txt\"", b"abc"), 400, None),
        (
            "a part without Content-Disposition, then the file",
            [
                part("Content-Type: text/plain", b"x"),
                file("\"b.txt\"", b"b"),
                end.clone(),
            ]
            .concat(),
            200,
            Some("b.txt"),
        ),
        (
            "only a part without Content-Disposition",
            [part("Content-Type: text/plain", b"x"), end.clone()].concat(),
            400,
            None,
        ),
        (
            "a 0-byte file",
            [file("\"e.txt\"", b""), end.clone()].concat(),
            400,
            None,
        ),
        (
            "a file exactly at the limit",
            [file("\"at.txt\"", &[b'y'; 1000]), end.clone()].concat(),
            200,
            Some("at.txt"),
        ),
        (
            "a file one byte over the limit",
            [file("\"over.txt\"", &[b'y'; 1001]), end.clone()].concat(),
            413,
            None,
        ),
        (
            "filename* with bad UTF-8 falls back to filename",
            [
                file("\"plain.txt\"; filename*=UTF-8''a%FF%FE.txt", b"z"),
                end.clone(),
            ]
            .concat(),
            200,
            Some("plain.txt"),
        ),
        (
            "a 10 MB name, declared: refused by its length",
            [file(&huge_name, b"z"), end.clone()].concat(),
            413,
            None,
        ),
        (
            "chunked: a 10 MB name, undeclared: refused by the part-header cap",
            [file(&huge_name, b"z"), end.clone()].concat(),
            400,
            None,
        ),
    ];
    for (case, body, status, filename) in cases {
        let request = raw
            .agent
            .post(raw.url("/files"))
            .header("Authorization", raw.auth())
            .header("Content-Type", "multipart/form-data; boundary=b");
        let resp = if case.starts_with("chunked") {
            request.send(ureq::SendBody::from_reader(&mut &body[..]))
        } else {
            request.send(&body[..])
        };
        let (got, answer) = match resp {
            Ok(resp) => read(resp),
            // An early answer to a large body can reach the client as a reset: the log
            // still says what the server answered.
            Err(e) => (0, Value::String(e.to_string())),
        };
        let logged = raw.emulator.requests().last().unwrap().status;
        assert_eq!(logged, status, "{case}: {answer}");
        assert!(got == status || got == 0, "{case}: {got} {answer}");
        if let Some(filename) = filename {
            assert_eq!(answer["filename"], filename, "{case}");
        }
    }
    assert_eq!(raw.get("/files").0, 200, "the server lived through it all");
}

#[cfg(target_os = "linux")]
#[test]
fn connections_held_open_past_the_cap_get_503_and_their_threads_go_with_them() {
    const CAP: usize = 64;
    const HELD: usize = 300;
    let raw = Raw::new(Emulator::builder().max_connections(CAP).start().unwrap());
    let (addr, port) = (raw.emulator.addr(), raw.emulator.addr().port());
    let deadline = Instant::now() + Duration::from_secs(20);
    // Opened no faster than the server takes them (at most 64 waiting): a full accept queue
    // (128) drops the next handshake, whose retry comes a second later.
    let held: Vec<TcpStream> = (0..HELD)
        .map(|n| {
            while raw.emulator.connections_accepted() + 64 < n {
                assert!(Instant::now() < deadline, "connections were not accepted");
                std::thread::sleep(Duration::from_millis(1));
            }
            connect(addr)
        })
        .collect();
    while raw.emulator.connections_accepted() < HELD {
        assert!(
            Instant::now() < deadline,
            "not all connections were accepted"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // Each is answered 503, or closed having given way to a newer one (idle for a second
    // while all were taken), or served: exactly the cap of them. Those that are not served
    // hear so, all of them, then those served hear nothing for 100 ms more.
    let (mut refused, mut gave_way) = (0, 0);
    let mut heard = |s: &TcpStream| {
        let mut buf = [0u8; 12];
        match (&*s).read(&mut buf) {
            Ok(12) if &buf == b"HTTP/1.1 503" => refused += 1,
            Ok(0) => gave_way += 1,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            other => panic!("{other:?}"),
        }
        true
    };
    let mut silent: Vec<&TcpStream> = held.iter().collect();
    for s in &silent {
        s.set_nonblocking(true).unwrap();
    }
    while silent.len() > CAP && Instant::now() < deadline {
        silent.retain(|s| !heard(s));
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
    silent.retain(|s| !heard(s));
    let served = silent.len();
    assert_eq!(served, CAP, "{refused} refused, {gave_way} gave way");
    assert_eq!(refused + gave_way, HELD - CAP);
    wait_for_threads(port, CAP + 1, 20);
    drop(held);
    wait_for_threads(port, 1, 20);
    assert_eq!(raw.get("/files").0, 200);
}

#[test]
fn an_expected_body_that_never_comes_ends_in_408() {
    let raw = Raw::new(
        Emulator::builder()
            .read_timeout(Duration::from_millis(500))
            .start()
            .unwrap(),
    );
    let mut stream = connect(raw.emulator.addr());
    write!(
        stream,
        "POST /api/v1/files HTTP/1.1\r\nAuthorization: {}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n",
        raw.auth()
    )
    .unwrap();
    let interim = read_head_text(&mut stream);
    assert!(interim.starts_with("HTTP/1.1 100 "), "{interim}");
    assert_eq!(read_status(&mut stream), Some(408));
}

#[test]
fn ids_that_look_like_paths_name_no_file() {
    let raw = Raw::new(
        Emulator::builder()
            .seed_file("secret.txt", b"s".to_vec())
            .start()
            .unwrap(),
    );
    let (_, list) = raw.get("/files");
    let real = list["data"][0]["id"].as_str().unwrap().to_string();
    for id in [
        "..%2F..%2F..%2Fetc%2Fpasswd".to_string(),
        "%2e%2e".to_string(),
        format!("{real}%00"),
        format!("..%2F{real}"),
        format!("x%2F..%2F{real}"),
        "%00".to_string(),
    ] {
        for path in [format!("/files/{id}"), format!("/files/{id}/content")] {
            let (status, body) = raw.get(&path);
            assert_error_shape(status, &body, 404);
        }
        let (status, body) = raw.delete(&format!("/files/{id}"));
        assert_error_shape(status, &body, 404);
    }
    assert_eq!(
        raw.get(&format!("/files/{real}")).0,
        200,
        "nothing was deleted"
    );
}

#[test]
fn a_storage_dir_that_is_missing_or_a_file_is_refused_at_start_naming_it() {
    let scratch = temp_dir("storage-refused");
    let missing = scratch.join("no/such/dir");
    let file = scratch.join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let refusals: Vec<_> = [&missing, &file]
        .into_iter()
        .map(|dir| Emulator::builder().storage_dir(dir).start().map(drop))
        .collect();
    let made = scratch.join("no").exists();
    for (dir, refusal) in [&missing, &file].into_iter().zip(refusals) {
        let error = refusal.expect_err("started on a storage dir that cannot hold it");
        assert!(
            error.to_string().contains(&*dir.to_string_lossy()),
            "{error}"
        );
    }
    assert!(!made, "a missing storage dir was made, and left behind");
}

#[test]
fn a_relative_storage_dir_gives_an_absolute_storage_path() {
    let scratch = temp_dir("storage-relative");
    let cwd = std::env::current_dir().unwrap();
    // The same directory, named from the working directory by `..` steps.
    let up: std::path::PathBuf = cwd.components().skip(1).map(|_| "..").collect();
    let relative = up.join(scratch.strip_prefix("/").unwrap());
    let server = Emulator::builder().storage_dir(&relative).start().unwrap();
    let path = server.storage_path();
    let parent = path.parent().unwrap().canonicalize().unwrap();
    let expected = scratch.canonicalize().unwrap();
    drop(server);
    let left = std::fs::read_dir(&scratch).unwrap().count();
    assert!(path.is_absolute(), "{path:?}");
    assert_eq!(parent, expected, "{path:?}");
    assert_eq!(left, 0, "the dropped server left its directory");
}

/// A source that gives some bytes, then fails (a file on a failing disk, a broken pipe).
struct FailsAfter(u64);

impl Read for FailsAfter {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0 == 0 {
            return Err(std::io::Error::other("the source broke"));
        }
        let n = buf.len().min(self.0 as usize);
        buf[..n].fill(b'x');
        self.0 -= n as u64;
        Ok(n)
    }
}

#[test]
fn a_seed_whose_source_fails_leaves_nothing_in_the_storage() {
    let server = Emulator::start().unwrap();
    let error = server
        .seed_reader_in(WS_A, "broken.bin", FailsAfter(1_000_000))
        .expect_err("a broken source was seeded");
    assert!(error.to_string().contains("the source broke"), "{error}");
    let left: Vec<_> = std::fs::read_dir(server.storage_path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left in the storage: {left:?}");
}

#[test]
fn a_dropped_server_removes_its_storage_at_once_while_a_request_is_still_being_answered() {
    // The answer to the upload waits a minute: its thread is still serving after the drop.
    let server = Emulator::builder()
        .latency(Duration::from_secs(60))
        .start()
        .unwrap();
    let path = server.storage_path();
    let (content_type, body) = form("file", "kept.txt", b"stored before the drop\n");
    let mut stream = connect(server.addr());
    write!(
        stream,
        "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        server.api_key(),
        body.len()
    )
    .unwrap();
    stream.write_all(&body).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::read_dir(&path).unwrap().count() == 0 {
        assert!(Instant::now() < deadline, "the upload was never stored");
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(server);
    assert!(!path.exists(), "{path:?} outlived its server");
}

#[test]
fn uploads_that_fail_leave_nothing_in_the_storage() {
    let server = Emulator::builder().upload_limit(1000).start().unwrap();
    let key = server.api_key().to_string();
    let post = |content_type: &str, body: &[u8], declared: usize| {
        let mut raw = format!(
            "POST /api/v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: {content_type}\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
        )
        .into_bytes();
        raw.extend_from_slice(body);
        raw_exchange(server.addr(), &raw, true)
    };
    let (ct, over) = form("file", "big.txt", &[b'x'; 5000]);
    let (_, binary) = form("file", "x.bin", &[0, 1, 2, 0xff, 0xfe, 0]);
    let (_, empty) = form("file", "empty.txt", b"");
    let (_, text) = form("file", "a.txt", b"some text, cut short");
    let cut = &text[..text.len() - 10];
    let statuses = [
        post(&ct, &over, over.len()),
        post(&ct, &binary, binary.len()),
        post(&ct, &empty, empty.len()),
        post(&ct, cut, text.len()),
        post(&ct, cut, cut.len()),
    ];
    let left: Vec<_> = std::fs::read_dir(server.storage_path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        statuses,
        [Some(413), Some(400), Some(400), Some(400), Some(400)],
    );
    assert!(left.is_empty(), "left in the storage: {left:?}");
}
