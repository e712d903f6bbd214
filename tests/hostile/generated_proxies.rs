//! Generated hostile CONNECT proxies between the client and an `https` server, with generated
//! proxy credentials: a proxy that refuses with any status, reason and body (echoing the
//! credentials, the key, control characters), one that opens the tunnel and then speaks plain
//! HTTP as the server (a man in the middle without TLS), sends garbage, closes, or never ends
//! its answer. Every call must fail in time (nothing reached the server), a refusal as
//! `Error::Proxy` with the proxy's status, and neither the key nor the proxy's password may
//! reach the proxy, an error, its `Debug`, the observer or the client's `Debug`.
//! `HOSTILE_CASES / 10` cases, seeded by `HOSTILE_SEED`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openrouter_files::{Attempt, Error, FilesClient, Upload};

use super::KEY;
use super::common::fast_retries;
use super::common::generate::Rng;
use super::common::scripted::{Next, Received, Scripted};
use super::generated::{each_case, settings, workers};

/// What a generated proxy does with each `CONNECT`.
#[derive(Clone)]
enum Act {
    /// Answers this status line and head (and maybe a body), then closes; `valid` when its
    /// reason phrase is one HTTP allows (no control character but TAB).
    Refuse {
        status: u16,
        valid: bool,
        answer: Vec<u8>,
    },
    /// Answers 200, then plays the server in plain HTTP: a file's metadata.
    PlainServer,
    /// Answers 200, then sends these bytes and closes.
    Garbage(Vec<u8>),
    /// Closes without a word.
    Close,
    /// Sends a head that never ends, a header line at a time, until the client leaves.
    Endless,
    /// Answers 200 with more header lines than a parser keeps.
    ManyHeaders(usize),
}

/// Pieces of reason phrases and bodies: the secrets, control characters, long runs.
fn hostile_text(rng: &mut Rng, password: &str, basic: &str) -> String {
    let mut text = String::new();
    for _ in 0..1 + rng.below(5) {
        let piece = match rng.below(9) {
            0 => KEY.to_string(),
            1 => password.to_string(),
            2 => basic.to_string(),
            3 => "\u{1b}[31mred".to_string(),
            4 => "x".repeat(rng.below(9000)),
            5 => "é\u{2028}".to_string(),
            6 => "\t".to_string(),
            7 => format!("Basic {basic}"),
            _ => "Proxy Authentication Required".to_string(),
        };
        text.push_str(&piece);
        text.push(' ');
    }
    text
}

/// Short: what the proxy does, without the bytes.
impl std::fmt::Debug for Act {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Act::Refuse {
                status,
                valid,
                answer,
            } => write!(f, "Refuse({status}, valid {valid}, {} bytes)", answer.len()),
            Act::PlainServer => f.write_str("PlainServer"),
            Act::Garbage(bytes) => write!(f, "Garbage({} bytes)", bytes.len()),
            Act::Close => f.write_str("Close"),
            Act::Endless => f.write_str("Endless"),
            Act::ManyHeaders(n) => write!(f, "ManyHeaders({n})"),
        }
    }
}

fn generate(rng: &mut Rng, password: &str, basic: &str) -> Act {
    match rng.below(10) {
        0..=3 => {
            let status = [
                100, 101, 201, 204, 301, 302, 400, 403, 404, 407, 500, 502, 503, 504, 599,
            ][rng.below(15)];
            // Reason phrases hold no CR or LF on the wire.
            let reason = hostile_text(rng, password, basic).replace(['\r', '\n'], " ");
            let mut answer = format!("HTTP/1.1 {status} {reason}\r\n").into_bytes();
            if rng.chance(50) {
                answer
                    .extend(format!("Proxy-Authenticate: Basic realm=\"{password}\"\r\n").bytes());
            }
            if rng.chance(30) {
                answer.extend(format!("X-Request-Id: {KEY}\r\n").bytes());
            }
            let body = hostile_text(rng, password, basic);
            answer.extend(format!("Content-Length: {}\r\n\r\n{body}", body.len()).bytes());
            let valid = !reason.chars().any(|c| c.is_control() && c != '\t');
            Act::Refuse {
                status,
                valid,
                answer,
            }
        }
        4 | 5 => Act::PlainServer,
        6 => {
            let mut bytes = vec![0u8; rng.below(3000)];
            bytes.iter_mut().for_each(|b| *b = rng.next() as u8);
            if rng.chance(50) {
                // A TLS alert record, as a gateway that refuses the handshake sends.
                bytes = vec![0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];
            }
            Act::Garbage(bytes)
        }
        7 => Act::Close,
        8 => Act::ManyHeaders(21 + rng.below(200)),
        _ => Act::Endless,
    }
}

/// Plays `act` on one connection, recording every byte the client sent after its head.
fn play(act: &Act, s: &mut TcpStream, tunnelled: &Mutex<Vec<u8>>) {
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let read_some = |s: &mut TcpStream| {
        let mut buf = [0u8; 4096];
        if let Ok(n) = s.read(&mut buf) {
            tunnelled.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    };
    match act {
        Act::Refuse { answer, .. } => {
            let _ = s.write_all(answer);
        }
        Act::PlainServer => {
            let _ = s.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
            read_some(s);
            let body = r#"{"id":"or_file_1","filename":"a.txt","size_bytes":3,"created_at":"2026-11-25T00:00:00Z","downloadable":false}"#;
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(answer.as_bytes());
            read_some(s);
        }
        Act::Garbage(bytes) => {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\n\r\n");
            read_some(s);
            let _ = s.write_all(bytes);
        }
        Act::Close => {}
        Act::ManyHeaders(n) => {
            let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
            (0..*n).for_each(|i| head.extend(format!("X-{i}: v\r\n").bytes()));
            head.extend(b"\r\n");
            let _ = s.write_all(&head);
            read_some(s);
        }
        Act::Endless => {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\n");
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(8)
                && s.write_all(b"X-More: yes\r\n").is_ok()
            {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// A password with the characters URLs make hard: as written in the proxy URL
/// (percent-encoded) and as sent.
fn password(rng: &mut Rng) -> (String, String) {
    let mut plain = String::from("Pw");
    for _ in 0..4 + rng.below(8) {
        plain.push_str(rng.pick(&["@", ":", "/", "%", "#", "?", " ", "é", "z", "Q7", "+", "&"]));
    }
    plain.push_str("q9X");
    let encoded = plain
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    (encoded, plain)
}

fn base64(input: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, &b| n << 8 | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    while !out.len().is_multiple_of(4) {
        out.push('=');
    }
    out
}

/// One generated case: the proxy's password (as in its URL and as sent), its credentials as
/// a `Proxy-Authorization` carries them, what it does, and whether the call is a retrieve (or
/// an upload).
struct Case {
    encoded: String,
    plain: String,
    basic: String,
    act: Act,
    retrieve: bool,
}

/// The `cases` cases of a run, drawn one after another from one generator seeded by `seed`.
fn draw(cases: usize, seed: u64) -> Vec<Case> {
    let mut rng = Rng(seed ^ 0x9209);
    (0..cases)
        .map(|_| {
            let (encoded, plain) = password(&mut rng);
            let basic = base64(format!("corp user:{plain}").as_bytes());
            let act = generate(&mut rng, &plain, &basic);
            let retrieve = rng.chance(50);
            Case {
                encoded,
                plain,
                basic,
                act,
                retrieve,
            }
        })
        .collect()
}

/// The cases are drawn first, in order, then run on twice `HOSTILE_THREADS` threads (they
/// hardly use the processor: most wait for a stall timeout), each case with its own proxy and
/// client.
#[test]
fn generated_hostile_proxies_never_pass_for_the_server_nor_leak_the_key_or_the_password() {
    let (cases, seed) = settings();
    let cases = draw((cases / 10).max(20), seed);
    each_case(&vec![(); 2 * workers()], cases.len(), |(), case| {
        let Case {
            encoded,
            plain,
            basic,
            act,
            retrieve,
        } = &cases[case];
        let act = act.clone();
        let tunnelled = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&tunnelled);
        let played = act.clone();
        let proxy = Scripted::start(move |_, _: &Received, s| {
            play(&played, s, &record);
            Next::Close
        });
        let observed = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&observed);
        let client = FilesClient::builder()
            .api_key(KEY)
            // The server is never reached: only the proxy listens.
            .base_url("https://127.0.0.1:1/api/v1")
            .proxy(format!("http://corp%20user:{encoded}@{}", proxy.addr))
            .retry(fast_retries(1))
            .stall_timeout(Duration::from_millis(800))
            .response_timeout(Duration::from_millis(800))
            .connect_timeout(Duration::from_secs(2))
            .deadline(Duration::from_secs(10))
            .observer(move |a: &Attempt<'_>| seen.lock().unwrap().push(format!("{a:?}")))
            .build()
            .unwrap();
        let started = Instant::now();
        let result = if *retrieve {
            client.retrieve("or_file_1").map(|m| m.id)
        } else {
            client.upload(Upload::bytes("a.txt", "abc")).map(|m| m.id)
        };
        let took = started.elapsed();
        let what = format!("case {case} (seed {seed}): {act:?}");
        assert!(took < Duration::from_secs(15), "{what}: took {took:?}");
        let error = match result {
            Ok(id) => panic!("{what}: a proxy passed for the server ({id})"),
            Err(error) => error,
        };
        if let Act::Refuse {
            status,
            valid: true,
            ..
        } = act
        {
            assert!(
                matches!(&error, Error::Proxy { status: Some(s), .. } if *s == status),
                "{what}: {error:?}"
            );
        }
        let shown = format!(
            "{error}\n{error:?}\n{client:?}\n{}",
            observed.lock().unwrap().join("\n")
        );
        for secret in [KEY, plain.as_str(), encoded.as_str(), basic.as_str(), "q9X"] {
            assert!(
                !shown.contains(secret),
                "{what}: {secret:?} shown in {shown}"
            );
        }
        let mut crossed: Vec<u8> = tunnelled.lock().unwrap().clone();
        for head in proxy.received() {
            crossed.extend(format!("{head:?}").bytes());
        }
        let crossed = String::from_utf8_lossy(&crossed);
        assert!(!crossed.contains(KEY), "{what}: the key crossed the proxy");
    });
}
