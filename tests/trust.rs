//! Trusting what the machine trusts, over real TLS: [`TlsRoots::Platform`] reads the platform's
//! store, `SSL_CERT_FILE` included, so a private CA named there is trusted, and a server signed
//! by it is refused without it. One test in its own binary: it sets the process environment.
#![cfg(all(
    feature = "platform-roots",
    any(feature = "rustls", feature = "native-tls")
))]

use std::sync::Arc;

use openrouter_files::{Error, TlsRoots};
use tls_server::{https_server, ok_json, pki};

#[path = "common/tls_server.rs"]
mod tls_server;

const FILE_JSON: &str = r#"{"id":"file_tls","filename":"a.txt","size_bytes":3,"created_at":"2026-11-25T00:00:00Z","downloadable":false}"#;

fn builder(port: u16) -> openrouter_files::FilesClientBuilder {
    tls_server::https_builder(port, "sk-or-v1-trust-test-key")
}

#[test]
fn the_platform_store_and_ssl_cert_file_are_trusted_and_nothing_else() {
    let pki = pki();
    let (port, seen) = https_server(Arc::clone(&pki.server), 4, ok_json(FILE_JSON));
    let dir = std::env::temp_dir().join(format!("or-trust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();

    // SAFETY: the only test of this binary; nothing else reads the environment meanwhile.
    unsafe {
        std::env::remove_var("SSL_CERT_FILE");
        std::env::remove_var("SSL_CERT_DIR");
    }
    // The system's store does not hold the test CA: refused, before any request.
    match builder(port).tls_roots(TlsRoots::Platform).build() {
        Ok(client) => {
            let err = client.retrieve("file_tls").unwrap_err();
            assert_refused_certificate(&err);
        }
        Err(err) => println!("skipped the system-store case: {err}"),
    }
    // The platform's store plus an added root.
    let client = builder(port)
        .tls_roots(TlsRoots::Platform)
        .add_root_certificate(&pki.ca_pem)
        .build();
    match client {
        Ok(client) => assert_eq!(client.retrieve("file_tls").unwrap().id, "file_tls"),
        Err(err) => println!("skipped the system-store-plus-root case: {err}"),
    }

    // SAFETY: as above.
    unsafe { std::env::set_var("SSL_CERT_FILE", &ca_file) };
    let client = builder(port).tls_roots(TlsRoots::Platform).build().unwrap();
    assert_eq!(client.retrieve("file_tls").unwrap().id, "file_tls");
    // Mozilla's roots ignore SSL_CERT_FILE.
    let err = builder(port)
        .tls_roots(TlsRoots::Mozilla)
        .build()
        .unwrap()
        .retrieve("file_tls")
        .unwrap_err();
    assert_refused_certificate(&err);

    // A store that holds nothing is a build error, not a client that trusts nothing.
    // SAFETY: as above.
    unsafe { std::env::set_var("SSL_CERT_FILE", dir.join("missing.pem")) };
    let err = builder(port)
        .tls_roots(TlsRoots::Platform)
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(err.to_string().contains("trust store"), "{err}");
    // Unless the base URL is plain http (the emulator's): nothing there needs a root.
    let plain = builder(port)
        .base_url(format!("http://127.0.0.1:{port}/api/v1"))
        .tls_roots(TlsRoots::Platform)
        .build();
    assert!(plain.is_ok(), "{plain:?}");
    // SAFETY: as above.
    unsafe { std::env::remove_var("SSL_CERT_FILE") };
    std::fs::remove_dir_all(&dir).unwrap();
    // Only the two trusted handshakes carried a request.
    assert_eq!(seen.lock().unwrap().heads.len(), 2);
}

/// A transport error that is the certificate's refusal (rustls: `UnknownIssuer`; OpenSSL:
/// `certificate verify failed`), not a connection that failed for another reason.
fn assert_refused_certificate(err: &Error) {
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    let chain = format!("{err:?}");
    assert!(
        chain.contains("UnknownIssuer") || chain.contains("certificate verify failed"),
        "{chain}"
    );
}
