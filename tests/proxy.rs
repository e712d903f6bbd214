//! Proxies for real: requests through a recording CONNECT proxy on 127.0.0.1 to an HTTPS
//! server with a private CA, and through tinyproxy when it is installed. The key crosses a
//! proxy only inside TLS; a proxy's refusal is an error that names the proxy; proxy
//! credentials are sent to the proxy and printed nowhere.
#![cfg(any(feature = "rustls", feature = "native-tls"))]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use connect_proxy::{Answer, connect_proxy, socks5_proxy};
use openrouter_files::{Error, FilesClient};
use tls_server::{Seen, https_builder, https_server, ok_json, pki};

#[path = "common/connect_proxy.rs"]
mod connect_proxy;
#[path = "common/tls_server.rs"]
mod tls_server;

const KEY: &str = "sk-or-v1-proxy-test-key";
const FILE_JSON: &str = r#"{"id":"file_px","filename":"a.txt","size_bytes":3,"created_at":"2026-11-25T00:00:00Z","downloadable":false}"#;

/// An HTTPS server with a private CA (one connection) and a client for it that trusts the CA
/// and goes through `proxy` (`None`: no proxy at all).
fn origin_and_client(proxy: Option<&str>) -> (u16, Arc<Mutex<Seen>>, FilesClient) {
    let pki = pki();
    let (origin, seen) = https_server(Arc::clone(&pki.server), 1, ok_json(FILE_JSON));
    let builder = https_builder(origin, KEY).add_root_certificate(&pki.ca_pem);
    let builder = match proxy {
        Some(url) => builder.proxy(url),
        None => builder.proxy("http://127.0.0.1:9").no_proxy(),
    };
    (origin, seen, builder.build().unwrap())
}

#[test]
fn the_key_crosses_a_connect_proxy_only_inside_the_tls_tunnel() {
    let (proxy, crossed) = connect_proxy(Answer::Tunnel, 1);
    let url = format!("http://user:s3cret@127.0.0.1:{proxy}");
    let (origin, seen, client) = origin_and_client(Some(&url));
    assert!(!format!("{client:?}").contains("s3cret"), "{client:?}");
    assert_eq!(client.retrieve("file_px").unwrap().id, "file_px");

    let crossed = crossed.lock().unwrap();
    assert_eq!(crossed.heads.len(), 1, "{:?}", crossed.heads);
    let head = &crossed.heads[0];
    assert!(
        head.starts_with(&format!("CONNECT 127.0.0.1:{origin} HTTP/1.1\r\n")),
        "{head}"
    );
    assert!(
        head.contains("Proxy-Authorization: Basic dXNlcjpzM2NyZXQ="),
        "{head}"
    );
    assert!(!head.contains(KEY), "the key went to the proxy: {head}");
    // What crossed the tunnel is TLS: neither the key nor the request line is readable.
    assert!(crossed.tunnelled.len() > 100);
    let tunnelled = String::from_utf8_lossy(&crossed.tunnelled);
    assert!(!tunnelled.contains(KEY) && !tunnelled.contains("GET /api"));
    // The server got the request, the key with it.
    let seen = seen.lock().unwrap();
    assert!(
        seen.heads[0]
            .to_ascii_lowercase()
            .contains(&format!("authorization: bearer {KEY}").to_ascii_lowercase())
    );
}

#[test]
fn requests_cross_a_socks5_proxy_with_the_key_inside_tls() {
    for scheme in ["socks5", "socks5h"] {
        let (proxy, crossed) = socks5_proxy(1);
        let url = format!("{scheme}://127.0.0.1:{proxy}");
        let (origin, seen, client) = origin_and_client(Some(&url));
        assert_eq!(
            client.retrieve("file_px").unwrap().id,
            "file_px",
            "{scheme}"
        );
        let crossed = crossed.lock().unwrap();
        assert_eq!(
            crossed.heads,
            [format!("SOCKS5 127.0.0.1:{origin}")],
            "{scheme}"
        );
        assert!(!String::from_utf8_lossy(&crossed.tunnelled).contains(KEY));
        assert_eq!(seen.lock().unwrap().heads.len(), 1);
    }
}

#[test]
fn a_proxy_that_refuses_the_tunnel_is_an_error_naming_the_proxy_not_the_server() {
    for status in [407, 502] {
        let (proxy, crossed) = connect_proxy(Answer::Refuse(status), 1);
        let url = format!("http://user:s3cret@127.0.0.1:{proxy}");
        let (origin, seen, client) = origin_and_client(Some(&url));
        let err = client.retrieve("file_px").unwrap_err();
        let Error::Proxy {
            proxy: named,
            status: answered,
            ..
        } = &err
        else {
            panic!("{status}: {err:?}");
        };
        assert_eq!(named, &format!("http://127.0.0.1:{proxy}"));
        assert_eq!(*answered, Some(status));
        let text = format!("{err} {err:?}");
        assert!(text.contains(&status.to_string()), "{text}");
        assert!(
            !text.contains(&format!("127.0.0.1:{origin}")),
            "names the server: {text}"
        );
        assert!(!text.contains("s3cret") && !text.contains(KEY), "{text}");
        assert!(!err.is_retryable());
        assert_eq!(crossed.lock().unwrap().heads.len(), 1);
        assert!(seen.lock().unwrap().heads.is_empty());
    }
}

#[test]
fn a_proxy_that_cannot_be_reached_is_named_in_the_transport_error() {
    // A port nothing listens on any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://user:s3cret@127.0.0.1:{port}");
    let (origin, seen, client) = origin_and_client(Some(&url));
    let err = client.retrieve("file_px").unwrap_err();
    let Error::Transport(transport) = &err else {
        panic!("{err:?}");
    };
    assert!(transport.is_connect(), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("the proxy http://127.0.0.1:{port}")),
        "{text}"
    );
    assert!(
        !text.contains(&format!("127.0.0.1:{origin}")),
        "names the server: {text}"
    );
    assert!(!format!("{text} {err:?}").contains("s3cret"));
    assert!(seen.lock().unwrap().heads.is_empty());
}

#[test]
fn no_proxy_on_the_builder_goes_straight_to_the_server() {
    let (_origin, seen, client) = origin_and_client(None);
    assert_eq!(client.retrieve("file_px").unwrap().id, "file_px");
    assert_eq!(seen.lock().unwrap().heads.len(), 1);
}

/// `proxy_bypass` names the hosts reached directly although a proxy is set, in `NO_PROXY`'s
/// syntax: the origin (`127.0.0.1`) named by address, network or `*` is reached without the
/// proxy seeing a `CONNECT` (or a SOCKS greeting); a list that does not name it, or an empty
/// one, leaves it to the proxy. Entries that cannot be a host, an address or a network are
/// ignored, as curl ignores them, and the others still apply.
#[test]
fn a_bypass_list_sends_the_hosts_it_names_past_an_explicit_proxy_and_the_others_through_it() {
    // (the proxy's scheme, the bypass list, whether the request crosses the proxy)
    let cases = [
        ("http", "127.0.0.1", false),
        ("http", "localhost, 127.0.0.0/8", false),
        ("http", "*", false),
        ("http", "example.com .corp.example,::1", true),
        ("http", "", true),
        (
            "http",
            "127.0.0.1/33,127.0.0.1/x,host/8,u:pw@127.0.0.1,127.0.0.1",
            false,
        ),
        ("http", "127.0.0.1/33,127.0.0.1/x,localhost/8", true),
        ("socks5h", "10.0.0.0/8, 127.0.0.1", false),
        // As in curl: `*` is every host only as the whole list, a name's `:port` and a
        // bracketed address match nothing, and the list ends at a blank without a comma.
        ("http", "example.com, *", true),
        ("http", "127.0.0.1:443,[127.0.0.1]", true),
        ("socks5h", "10.0.0.0/8 127.0.0.1", true),
        ("socks5h", "localhost", true),
    ];
    let pki = pki();
    for (scheme, list, through) in cases {
        let (proxy, crossed) = match scheme {
            "http" => connect_proxy(Answer::Tunnel, 1),
            _ => socks5_proxy(1),
        };
        let credentials = if scheme == "http" { "user:s3cret@" } else { "" };
        let (origin, seen) = https_server(Arc::clone(&pki.server), 1, ok_json(FILE_JSON));
        let client = https_builder(origin, KEY)
            .add_root_certificate(&pki.ca_pem)
            .proxy(format!("{scheme}://{credentials}127.0.0.1:{proxy}"))
            .proxy_bypass(list)
            .build()
            .unwrap();
        let what = format!("{scheme} proxy, bypass {list:?}");
        assert_eq!(client.retrieve("file_px").unwrap().id, "file_px", "{what}");
        let crossed = crossed.lock().unwrap();
        assert_eq!(
            crossed.heads.len(),
            usize::from(through),
            "{what}: {:?}",
            crossed.heads
        );
        assert_eq!(seen.lock().unwrap().heads.len(), 1, "{what}");
    }
}

/// The bypass list shows in the `Debug` output of the builder and of the client as it is
/// applied, in `NO_PROXY`'s syntax, without the entries that were ignored (a pasted URL's
/// credentials among them) and without the proxy's credentials; the order of `proxy` and
/// `proxy_bypass` does not matter.
#[test]
fn the_bypass_list_shows_in_debug_without_ignored_entries_or_credentials() {
    let list = ".Corp.Example, 10.0.0.0/8, ::1,[::1]:8443,10.0.0.0/33, user:pw@host,pw@host";
    let builder = FilesClient::builder()
        .api_key(KEY)
        .proxy_bypass(list)
        .proxy("http://user:s3cret@127.0.0.1:3128");
    let shown = format!("{builder:?}");
    assert!(
        shown.contains("proxy_bypass: Some([corp.example, 10.0.0.0/8, ::1])"),
        "{shown}"
    );
    let client = builder.build().unwrap();
    let shown = format!("{shown}\n{client:?}");
    assert!(
        shown.contains("bypass: [corp.example, 10.0.0.0/8, ::1]"),
        "{shown}"
    );
    for secret in ["s3cret", "pw", KEY] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    let shown = format!(
        "{:?}",
        FilesClient::builder().proxy("http://127.0.0.1:3128")
    );
    assert!(shown.contains("proxy_bypass: None"), "{shown}");
}

/// A host written in a numeric IPv4 form (`127.1`, `0x7f.0.0.1`, `2130706433`) connects to
/// 127.0.0.1, and curl reads it so: `127.0.0.0/8` in the list sends it past the proxy, and
/// a list that does not name it sends it through, the key inside TLS.
#[test]
fn a_numeric_ipv4_host_is_judged_as_the_address_it_reaches() {
    let pki = pki();
    for (host, list, through) in [
        ("127.1", "127.0.0.0/8", false),
        ("0x7f.0.0.1", "127.0.0.1", false),
        ("2130706433", "localhost,127.0.0.0/8", false),
        ("127.1", "10.0.0.0/8", true),
    ] {
        let (proxy, crossed) = connect_proxy(Answer::Tunnel, 1);
        let (origin, seen) = https_server(Arc::clone(&pki.server), 1, ok_json(FILE_JSON));
        let client = https_builder(origin, KEY)
            .base_url(format!("https://{host}:{origin}/api/v1"))
            .add_root_certificate(&pki.ca_pem)
            .proxy(format!("http://127.0.0.1:{proxy}"))
            .proxy_bypass(list)
            .build()
            .unwrap();
        // The certificate names 127.0.0.1, not these spellings: what matters is where the
        // connection went.
        let _ = client.retrieve("file_px");
        let crossed = crossed.lock().unwrap();
        let what = format!("{host}, bypass {list:?}: {:?}", crossed.heads);
        assert_eq!(crossed.heads.len(), usize::from(through), "{what}");
        assert!(!crossed.heads.concat().contains(KEY), "{what}");
        assert!(!String::from_utf8_lossy(&crossed.tunnelled).contains(KEY));
        drop(seen);
    }
}

#[test]
fn a_bad_proxy_url_fails_the_build_without_its_credentials() {
    let err = FilesClient::builder()
        .api_key(KEY)
        .proxy("ftp://user:s3cret@127.0.0.1:1")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(!err.to_string().contains("s3cret"), "{err}");
}

/// tinyproxy, when installed (`apt-get install tinyproxy`): a proxy others wrote.
#[test]
fn requests_cross_tinyproxy_to_an_https_server() {
    let Some(tinyproxy) = Tinyproxy::start() else {
        return;
    };
    let url = format!("http://127.0.0.1:{}", tinyproxy.port);
    let (_origin, seen, client) = origin_and_client(Some(&url));
    assert_eq!(client.retrieve("file_px").unwrap().id, "file_px");
    assert_eq!(seen.lock().unwrap().heads.len(), 1);
    let log = std::fs::read_to_string(tinyproxy.dir.join("log")).unwrap_or_default();
    assert!(log.contains("CONNECT"), "tinyproxy's log: {log}");
    assert!(!log.contains(KEY));
}

/// tinyproxy asking for credentials (its configuration takes letters, digits and `._-`):
/// percent-encoded ones are sent decoded and let through; a wrong password is its refusal as
/// `Error::Proxy`, and no password shows anywhere.
#[test]
fn tinyproxy_with_basic_auth_takes_percent_encoded_credentials_and_refuses_wrong_ones() {
    const PASSWORD: &str = "S3cr.et-pw_x";
    let Some(tinyproxy) = Tinyproxy::start_with(&format!("BasicAuth corp {PASSWORD}\n")) else {
        return;
    };
    let encoded: String = PASSWORD
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let url = format!("http://corp:{encoded}@127.0.0.1:{}", tinyproxy.port);
    let (_origin, seen, client) = origin_and_client(Some(&url));
    assert_eq!(client.retrieve("file_px").unwrap().id, "file_px");
    assert_eq!(seen.lock().unwrap().heads.len(), 1);

    let wrong = format!("http://corp:{encoded}x@127.0.0.1:{}", tinyproxy.port);
    let (_origin, seen, client) = origin_and_client(Some(&wrong));
    let error = client.retrieve("file_px").unwrap_err();
    // tinyproxy 1.11 answers a CONNECT without valid credentials with 401, not 407.
    assert!(
        matches!(
            &error,
            Error::Proxy {
                status: Some(401 | 407),
                ..
            }
        ),
        "{error:?}"
    );
    assert!(seen.lock().unwrap().heads.is_empty());
    let shown = format!("{error} {error:?} {client:?}");
    for secret in [PASSWORD, encoded.as_str(), "cr.et", "%2Eet"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    let log = std::fs::read_to_string(tinyproxy.dir.join("log")).unwrap_or_default();
    assert!(!log.contains(KEY));
}

/// A tinyproxy process on 127.0.0.1, killed when dropped.
struct Tinyproxy {
    child: std::process::Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Tinyproxy {
    fn start() -> Option<Tinyproxy> {
        Tinyproxy::start_with("")
    }

    /// With `extra` lines added to its configuration.
    fn start_with(extra: &str) -> Option<Tinyproxy> {
        let binary = ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(binary) = binary else {
            println!("skipped: tinyproxy is not installed (apt-get install tinyproxy)");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("or-tinyproxy-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // No ConnectPort line: CONNECT to any port (the test server's is random).
        let config = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 10\nAllow 127.0.0.1\nLogLevel Connect\nLogFile \"{}\"\nMaxClients 4\n{extra}",
            dir.join("log").display()
        );
        std::fs::write(dir.join("tinyproxy.conf"), config).unwrap();
        let child = std::process::Command::new(binary)
            .arg("-d")
            .arg("-c")
            .arg(dir.join("tinyproxy.conf"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut proxy = Tinyproxy { child, port, dir };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if std::time::Instant::now() > deadline
                || proxy.child.try_wait().ok().flatten().is_some()
            {
                panic!("tinyproxy did not start on port {port}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(proxy)
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
