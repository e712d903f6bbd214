//! TLS for real: a loopback HTTPS server (rustls) with a CA and a certificate generated at test
//! time (rcgen). The client must use the stack the features name, trust a root added on the
//! builder, refuse a server it cannot verify, and never follow an `https` → `http` redirect.
//!
//! Run for each stack: `cargo test --test tls` (rustls) and
//! `cargo test --test tls --no-default-features --features native-tls`.
#![cfg(any(feature = "rustls", feature = "native-tls"))]

use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use openrouter_files::{Error, FilesClient, RetryPolicy};
use rcgen::KeyPair;
use tls_server::{https_server, ok_json, pki};

#[path = "common/tls_server.rs"]
mod tls_server;

const FILE_JSON: &str = r#"{"id":"file_tls","filename":"a.txt","size_bytes":3,"mime_type":"text/plain","created_at":"2026-11-25T00:00:00Z","downloadable":false}"#;

fn client(port: u16, root_pem: Option<&str>) -> FilesClient {
    let mut builder = FilesClient::builder()
        .api_key("sk-or-v1-tls-test-key")
        .base_url(format!("https://127.0.0.1:{port}/api/v1"))
        .retry(RetryPolicy::none())
        .connect_timeout(Duration::from_secs(5))
        .stall_timeout(Duration::from_secs(5));
    if let Some(pem) = root_pem {
        builder = builder.add_root_certificate(pem);
    }
    builder.build().unwrap()
}

#[test]
fn a_root_added_on_the_builder_is_trusted() {
    let pki = pki();
    let (port, seen) = https_server(Arc::clone(&pki.server), 1, ok_json(FILE_JSON));
    let file = client(port, Some(&pki.ca_pem))
        .retrieve("file_tls")
        .unwrap();
    assert_eq!(file.id, "file_tls");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.heads.len(), 1);
    assert!(seen.heads[0].starts_with("GET /api/v1/files/file_tls HTTP/1.1\r\n"));
    assert!(
        seen.heads[0].contains("authorization: Bearer sk-or-v1-tls-test-key")
            || seen.heads[0].contains("Authorization: Bearer sk-or-v1-tls-test-key")
    );
}

#[test]
fn a_server_signed_by_an_unknown_ca_is_refused_before_any_request() {
    let pki = pki();
    let (port, seen) = https_server(Arc::clone(&pki.server), 1, ok_json(FILE_JSON));
    let err = client(port, None).retrieve("file_tls").unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(!err.to_string().contains("sk-or-v1-tls-test-key"));
    thread::sleep(Duration::from_millis(100));
    assert!(
        seen.lock().unwrap().heads.is_empty(),
        "no request may cross an unverified connection"
    );
}

#[test]
fn the_tls_stack_is_the_one_the_features_name() {
    // OpenSSL (native-tls) offers CBC suites by default; rustls offers AEAD suites only.
    let pki = pki();
    let (port, seen) = https_server(Arc::clone(&pki.server), 1, ok_json(FILE_JSON));
    client(port, Some(&pki.ca_pem))
        .retrieve("file_tls")
        .unwrap();
    let seen = seen.lock().unwrap();
    let offers_cbc = seen.offered_suites[0].iter().any(|s| s.contains("CBC"));
    if cfg!(feature = "native-tls") {
        assert!(
            offers_cbc,
            "native-tls is on, so OpenSSL must speak: {:?}",
            seen.offered_suites[0]
        );
    } else {
        assert!(
            !offers_cbc,
            "rustls must speak: {:?}",
            seen.offered_suites[0]
        );
    }
}

#[test]
fn an_https_to_http_redirect_is_not_followed() {
    let pki = pki();
    let plain = TcpListener::bind("127.0.0.1:0").unwrap();
    let plain_port = plain.local_addr().unwrap().port();
    plain.set_nonblocking(true).unwrap();
    let redirect = format!(
        "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{plain_port}/api/v1/files/file_tls?secret=1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let (port, _seen) = https_server(Arc::clone(&pki.server), 1, redirect);
    let err = client(port, Some(&pki.ca_pem))
        .retrieve("file_tls")
        .unwrap_err();
    assert!(!err.to_string().contains("sk-or-v1-tls-test-key"));
    thread::sleep(Duration::from_millis(200));
    assert!(
        plain.accept().is_err(),
        "the client connected to the http target of a redirect from https: {err}"
    );
}

#[test]
fn a_bad_root_certificate_fails_the_build() {
    let err = FilesClient::builder()
        .api_key("k")
        .add_root_certificate(
            "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
        )
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}

#[test]
fn a_bundle_of_many_certificates_is_trusted_whatever_their_order() {
    let others: Vec<String> = (0..3).map(|_| pki().ca_pem).collect();
    let pki = pki();
    // A bundle file as distributions ship them: comments between the blocks, ours not first.
    let bundle = format!(
        "# an unrelated CA\n{}\n# ours\n{}{}\n{}",
        others[0], pki.ca_pem, others[1], others[2]
    );
    let (port, seen) = https_server(Arc::clone(&pki.server), 1, ok_json(FILE_JSON));
    let file = client(port, Some(&bundle)).retrieve("file_tls").unwrap();
    assert_eq!(file.id, "file_tls");
    assert_eq!(seen.lock().unwrap().heads.len(), 1);
}

#[test]
fn roots_added_in_several_calls_are_all_trusted() {
    let other = pki().ca_pem;
    let pki = pki();
    let (port, _seen) = https_server(Arc::clone(&pki.server), 1, ok_json(FILE_JSON));
    let client = FilesClient::builder()
        .api_key("sk-or-v1-tls-test-key")
        .base_url(format!("https://127.0.0.1:{port}/api/v1"))
        .retry(RetryPolicy::none())
        .add_root_certificate(other)
        .add_root_certificate(pki.ca_pem.as_bytes())
        .build()
        .unwrap();
    assert_eq!(client.retrieve("file_tls").unwrap().id, "file_tls");
}

#[test]
fn a_root_certificate_file_holding_a_private_key_fails_the_build() {
    let key = KeyPair::generate().unwrap().serialize_pem();
    let with_key = format!("{}{key}", pki().ca_pem);
    for pem in [key.clone(), with_key] {
        let err = build_error_with_roots(&pem);
        assert!(
            matches!(err, Error::Config(ref m) if m.contains("private key")),
            "{err:?}"
        );
        assert!(!err.to_string().contains("PRIVATE"), "{err}");
    }
}

#[test]
fn a_certificate_block_that_holds_no_certificate_fails_the_build() {
    let pki = pki();
    for body in [
        "aGVsbG8gd29ybGQ=", // "hello world"
        "MAMCAQA=",         // a DER SEQUENCE, but not a certificate's
    ] {
        let pem = format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n");
        for roots in [pem.clone(), format!("{}{pem}", pki.ca_pem)] {
            let err = build_error_with_roots(&roots);
            assert!(
                matches!(err, Error::Config(ref m) if m.contains("not an X.509 certificate")),
                "{err:?}"
            );
        }
    }
}

/// The error of building a client that trusts `roots`.
fn build_error_with_roots(roots: &str) -> Error {
    FilesClient::builder()
        .api_key("sk-or-v1-tls-test-key")
        .add_root_certificate(roots)
        .build()
        .unwrap_err()
}

#[test]
fn the_system_certificate_bundle_is_accepted_as_roots() {
    // Debian's bundle, where the machine has one; the point is a real-world file of many
    // certificates, each of which must pass the build's checks.
    let Ok(bundle) = std::fs::read("/etc/ssl/certs/ca-certificates.crt") else {
        eprintln!("no /etc/ssl/certs/ca-certificates.crt here: nothing to check");
        return;
    };
    FilesClient::builder()
        .api_key("sk-or-v1-tls-test-key")
        .add_root_certificate(bundle)
        .build()
        .unwrap();
}

#[test]
fn uploads_over_tls_arrive_whole_with_their_head_held_for_the_body() {
    let pki = pki();
    let sizes = [1, 70_000, 300_000];
    let (port, seen) = https_server(Arc::clone(&pki.server), sizes.len(), ok_json(FILE_JSON));
    let client = client(port, Some(&pki.ca_pem));
    let file = |n: usize| (0..n).map(|i| (i % 251) as u8).collect::<Vec<u8>>();
    for size in sizes {
        client
            .upload(openrouter_files::Upload::bytes("a.bin", file(size)))
            .unwrap();
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.heads.len(), sizes.len());
    for ((head, body), size) in seen.heads.iter().zip(&seen.bodies).zip(sizes) {
        assert!(
            head.starts_with("POST /api/v1/files HTTP/1.1\r\n"),
            "{head}"
        );
        let start = body.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        assert_eq!(&body[start..start + size], &file(size)[..]);
    }
}
