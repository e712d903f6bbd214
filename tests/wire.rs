//! Byte-level checks against a scripted std::net server: the exact request head and multipart
//! body on the wire, early EOF and truncation, error bodies, and connection reuse.

mod common;

use std::io::Write;

use common::scripted::{Next, Scripted, api_error, file_json, json};
use openrouter_files::{Error, FilesClient, RetryPolicy, Upload};

fn client(server: &Scripted) -> FilesClient {
    FilesClient::builder()
        .api_key("sk-or-wire-secret")
        .base_url(server.url("/api/v1"))
        .app("https://example.com/app", "Wire Test")
        .header("X-Extra", "1")
        .user_agent("wire-test/1")
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

#[test]
fn calls_send_auth_attribution_and_no_body_headers_on_get() {
    let server = Scripted::start(|_, _, s| {
        json(s, 200, "", &file_json("or_file_1"));
        Next::KeepAlive
    });
    let client = client(&server).in_workspace("a103d8b6-42f0-4e50-9a3c-bf41e2c3c1a7");
    client.retrieve("or_file_1").unwrap();
    let got = &server.received()[0];
    assert_eq!(got.method, "GET");
    assert_eq!(
        got.target,
        "/api/v1/files/or_file_1?workspace_id=a103d8b6-42f0-4e50-9a3c-bf41e2c3c1a7"
    );
    assert_eq!(
        got.header("authorization"),
        Some("Bearer sk-or-wire-secret")
    );
    assert_eq!(got.header("http-referer"), Some("https://example.com/app"));
    assert_eq!(got.header("x-title"), Some("Wire Test"));
    assert_eq!(got.header("x-extra"), Some("1"));
    assert_eq!(got.header("user-agent"), Some("wire-test/1"));
    assert_eq!(got.header("content-length"), None);
    assert_eq!(got.header("transfer-encoding"), None);
}

#[test]
fn uploads_are_one_exact_length_multipart_part() {
    let server = Scripted::start(|_, _, s| {
        json(s, 200, "", &file_json("or_file_1"));
        Next::KeepAlive
    });
    let client = client(&server);
    client
        .upload(Upload::bytes("a\"b\r\nX-Injected: 1.json", "{\"k\": 1}"))
        .unwrap();
    let got = &server.received()[0];
    assert_eq!(got.method, "POST");
    assert_eq!(got.target, "/api/v1/files");
    assert_eq!(got.header("transfer-encoding"), None);
    let len: usize = got.header("content-length").unwrap().parse().unwrap();
    assert_eq!(len, got.body.len());
    let content_type = got.header("content-type").unwrap();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap();
    assert!(boundary.len() >= 32);
    let expected = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a%22b%0D%0AX-Injected: 1.json\"\r\nContent-Type: application/json\r\n\r\n{{\"k\": 1}}\r\n--{boundary}--\r\n"
    );
    assert_eq!(String::from_utf8(got.body.clone()).unwrap(), expected);
}

#[test]
fn the_part_content_type_defaults_to_octet_stream() {
    let server = Scripted::start(|_, _, s| {
        json(s, 200, "", &file_json("or_file_1"));
        Next::KeepAlive
    });
    client(&server).upload(Upload::bytes("noext", "x")).unwrap();
    client(&server)
        .upload(Upload::bytes("y.bin", "x").content_type("text/plain"))
        .unwrap();
    let bodies: Vec<String> = server
        .received()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(bodies[0].contains("\r\nContent-Type: application/octet-stream\r\n"));
    assert!(bodies[1].contains("\r\nContent-Type: text/plain\r\n"));
}

#[test]
fn a_body_shorter_than_its_length_is_truncated_not_short() {
    let server = Scripted::start(|_, _, s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100\r\n\r\n");
        let _ = s.write_all(&[1u8; 50]);
        Next::Close
    });
    let err =
        client(&server).download_to("or_file_1", std::env::temp_dir().join("never-written.bin"));
    assert!(
        matches!(
            err,
            Err(Error::Truncated {
                expected: 100,
                received: 50
            })
        ),
        "{err:?}"
    );
    assert!(!std::env::temp_dir().join("never-written.bin").exists());
}

#[test]
fn a_connection_closed_without_an_answer_is_a_transport_error() {
    let server = Scripted::start(|_, _, _| Next::Close);
    let err = client(&server).retrieve("or_file_1").unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.to_string().contains("GET /files/or_file_1"), "{err}");
    assert!(!err.to_string().contains("wire-secret"));
}

#[test]
fn error_bodies_keep_code_message_metadata_and_request_id() {
    let server = Scripted::start(|_, _, s| {
        json(
            s,
            403,
            "X-Request-Id: req-123\r\n",
            r#"{"error":{"code":403,"message":"Only management keys can perform this operation","metadata":{"hint":"x"}},"user_id":"u1"}"#,
        );
        Next::KeepAlive
    });
    let err = client(&server).list().page().unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(api.status(), 403);
    assert_eq!(api.code(), Some(403));
    assert_eq!(
        api.message(),
        "Only management keys can perform this operation"
    );
    assert_eq!(api.metadata().unwrap()["hint"], "x");
    assert_eq!(err.request_id(), Some("req-123"));
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        "GET /files: HTTP 403: Only management keys can perform this operation (request id req-123)"
    );
}

#[test]
fn a_2xx_body_that_is_not_the_documented_shape_is_a_decode_error_with_a_snippet() {
    let server = Scripted::start(|_, _, s| {
        json(s, 200, "", r#"{"unexpected": true}"#);
        Next::KeepAlive
    });
    let err = client(&server).retrieve("or_file_1").unwrap_err();
    match err {
        Error::Decode { what, snippet, .. } => {
            assert_eq!(what, "retrieve");
            assert_eq!(snippet, r#"{"unexpected": true}"#);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn small_json_answers_reuse_one_connection() {
    let server = Scripted::start(|n, _, s| {
        if n % 2 == 0 {
            json(s, 200, "", &file_json("or_file_1"));
        } else {
            api_error(s, 404, "", "Resource not found");
        }
        Next::KeepAlive
    });
    let client = client(&server);
    for _ in 0..5 {
        client.retrieve("or_file_1").unwrap();
        client.retrieve("or_file_1").unwrap_err();
    }
    assert_eq!(server.accepted(), 1);
}
