//! A loopback HTTPS server (rustls) with a CA and a certificate for 127.0.0.1 generated at
//! test time (rcgen), recording what arrives. Shared by the TLS, trust and proxy tests of the
//! library and the CLI (included with `#[path]`, so only the binaries that need it build it).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::server::Acceptor;
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// A CA and a server certificate for 127.0.0.1 signed by it.
pub struct Pki {
    pub ca_pem: String,
    pub server: Arc<ServerConfig>,
}

pub fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "openrouter-files test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);

    let mut leaf_params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    leaf_params.use_authority_key_identifier_extension = true;
    leaf_params
        .extended_key_usages
        .push(rcgen::ExtendedKeyUsagePurpose::ServerAuth);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        server: Arc::new(server),
    }
}

/// What the HTTPS server saw.
#[derive(Default)]
pub struct Seen {
    /// The cipher suites each ClientHello offered, by name.
    pub offered_suites: Vec<Vec<String>>,
    /// The request heads that arrived over a completed handshake.
    pub heads: Vec<String>,
    /// The body of each request, as long as its `Content-Length` said.
    pub bodies: Vec<Vec<u8>>,
}

/// Serves HTTPS on 127.0.0.1 for up to `connections` connections (one request each), answering
/// every request with `response`. Returns the port and what it saw.
pub fn https_server(
    config: Arc<ServerConfig>,
    connections: usize,
    response: String,
) -> (u16, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = Arc::clone(&seen);
    thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(mut stream) = stream else { continue };
            stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
            let _ = serve_one(&mut stream, &config, &record, &response);
        }
    });
    (port, seen)
}

fn serve_one(
    stream: &mut TcpStream,
    config: &Arc<ServerConfig>,
    seen: &Mutex<Seen>,
    response: &str,
) -> std::io::Result<()> {
    let mut acceptor = Acceptor::default();
    let accepted = loop {
        acceptor.read_tls(stream)?;
        if let Some(accepted) = acceptor
            .accept()
            .map_err(|(e, _)| std::io::Error::other(e))?
        {
            break accepted;
        }
    };
    let suites = accepted
        .client_hello()
        .cipher_suites()
        .iter()
        .map(|s| format!("{s:?}"))
        .collect();
    seen.lock().unwrap().offered_suites.push(suites);
    let connection: ServerConnection = accepted
        .into_connection(Arc::clone(config))
        .map_err(|(e, _)| std::io::Error::other(e))?;
    let mut tls = StreamOwned::new(connection, stream.try_clone()?);
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if tls.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let len = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; len];
    tls.read_exact(&mut body)?;
    let mut seen = seen.lock().unwrap();
    seen.heads.push(head);
    seen.bodies.push(body);
    drop(seen);
    tls.write_all(response.as_bytes())?;
    tls.flush()?;
    tls.conn.send_close_notify();
    tls.flush()
}

pub fn ok_json(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A client builder for `https://127.0.0.1:PORT/api/v1` with `key`, no retries and short
/// timeouts (add roots, proxies and the rest).
pub fn https_builder(port: u16, key: &str) -> openrouter_files::FilesClientBuilder {
    openrouter_files::FilesClient::builder()
        .api_key(key)
        .base_url(format!("https://127.0.0.1:{port}/api/v1"))
        .retry(openrouter_files::RetryPolicy::none())
        .connect_timeout(Duration::from_secs(5))
        .stall_timeout(Duration::from_secs(5))
}
