//! TLS in front of the emulator: a CA and a certificate for 127.0.0.1 made at run time, and
//! nginx terminating TLS (HTTP/1.1 and HTTP/2 by ALPN) and proxying to the emulator over kept-
//! alive connections. nginx logs each request's connection serial number and whether its TLS
//! session was resumed, so a batch's handshakes can be counted.

use std::net::SocketAddr;
use std::path::Path;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};

use crate::common::Res;
use crate::common::nginx::{self, Nginx};

/// Writes `ca.pem`, `server.pem` and `server.key` into `dir`; returns the CA's path.
pub fn make_pki(dir: &Path) -> Res<String> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "openrouter-files bench CA");
    let ca_key = KeyPair::generate()?;
    let ca = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);
    let mut leaf_params = CertificateParams::new(vec!["127.0.0.1".to_string()])?;
    leaf_params.use_authority_key_identifier_extension = true;
    leaf_params
        .extended_key_usages
        .push(rcgen::ExtendedKeyUsagePurpose::ServerAuth);
    let leaf_key = KeyPair::generate()?;
    let leaf = leaf_params.signed_by(&leaf_key, &issuer)?;
    std::fs::create_dir_all(dir)?;
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca.pem())?;
    std::fs::write(dir.join("server.pem"), leaf.pem())?;
    std::fs::write(dir.join("server.key"), leaf_key.serialize_pem())?;
    Ok(ca_path.to_string_lossy().into_owned())
}

/// nginx with TLS on `listen`, proxying to the emulator at `upstream` (as seen from where nginx
/// runs), with the certificate `make_pki` wrote to `pki`.
pub fn start(
    dir: &Path,
    pki: &Path,
    listen: SocketAddr,
    upstream: SocketAddr,
    wrapper: &[String],
) -> Res<Nginx> {
    let (d, p) = (dir.to_string_lossy(), pki.to_string_lossy());
    let http = format!(
        "  log_format handshakes '$connection $connection_requests $ssl_session_reused $server_protocol';\n\
         access_log {d}/access.log handshakes;\n\
         upstream emulator {{ server {upstream}; keepalive 64; }}\n\
         server {{\n\
           listen {listen} ssl http2;\n\
           ssl_certificate {p}/server.pem;\n  ssl_certificate_key {p}/server.key;\n\
           ssl_protocols TLSv1.2 TLSv1.3;\n\
           ssl_session_cache shared:bench:1m;\n  ssl_session_tickets on;\n\
           client_max_body_size 0;\n  keepalive_requests 100000;\n  keepalive_timeout 120s;\n\
           proxy_request_buffering off;\n  proxy_buffering off;\n\
           location / {{ proxy_pass http://emulator; proxy_http_version 1.1;\n\
             proxy_set_header Connection \"\"; proxy_set_header Host $http_host; }}\n\
         }}"
    );
    nginx::start(dir, &http, listen, wrapper)
}

/// The TLS connections of the requests nginx logged: how many, and how many resumed a
/// session; read from the access log past `from` (a byte offset), with the new offset.
pub struct Handshakes {
    pub connections: usize,
    pub resumed: usize,
    pub requests: usize,
    /// The HTTP version of the requests (`HTTP/2.0`, `HTTP/1.1`; several joined by `+`).
    pub protocol: String,
}

pub fn handshakes_since(nginx: &Nginx, from: u64) -> Res<(Handshakes, u64)> {
    let log = std::fs::read(nginx.dir.join("access.log")).unwrap_or_default();
    let start = (from as usize).min(log.len());
    let text = String::from_utf8_lossy(&log[start..]);
    let mut connections = std::collections::BTreeMap::new();
    let mut protocols = std::collections::BTreeSet::new();
    let mut requests = 0;
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [conn, serial, reused, proto] = fields[..] else {
            continue;
        };
        requests += 1;
        protocols.insert(proto.to_string());
        // The first request on a connection tells whether its handshake resumed a session.
        let entry = connections
            .entry(conn.to_string())
            .or_insert((u64::MAX, false));
        let serial: u64 = serial.parse().unwrap_or(u64::MAX);
        if serial <= entry.0 {
            *entry = (serial, reused == "r");
        }
    }
    let handshakes = Handshakes {
        connections: connections.len(),
        resumed: connections.values().filter(|(_, r)| *r).count(),
        requests,
        protocol: protocols.into_iter().collect::<Vec<_>>().join("+"),
    };
    Ok((handshakes, log.len() as u64))
}
