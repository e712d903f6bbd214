//! The emulator, spoken to over real HTTP with a plain ureq agent (not our client), checked
//! against the behaviour the official OpenAPI documents describe.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{raw_agent, text};
use openrouter_files::emulator::{ApiVersion, Emulator, Fault};
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
                openrouter_files::emulator::DEFAULT_WORKSPACE,
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
