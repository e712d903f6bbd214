//! Whether this build's ureq inflates answers, found out once by asking ureq itself.
//!
//! ureq's `gzip` and `brotli` features can be turned on by any crate in the dependency tree
//! (Cargo unifies features: a plain `ureq = "3"` elsewhere turns on `gzip`). With one of them
//! on, ureq 3.5 and later inflates an answer in that coding and drops its `Content-Encoding`
//! and `Content-Length`, so the client can no longer see that a server ignored its
//! `Accept-Encoding: identity`. Which features are on cannot be read at compile time from a
//! dependent crate, and ureq offers no public switch to read a body raw; so a download answer
//! that could have been inflated (ureq reports no length for it) is refused when this probe
//! says ureq inflates.
//!
//! The probe is a loopback listener that answers two requests, one labelled `gzip` and one
//! `br`, with an empty body: ureq drops the label exactly when it would inflate. It runs at
//! most once per process, only for a download answer without a length, and is bounded in
//! time; when it cannot run (no loopback), ureq is taken to inflate, which refuses rather
//! than risk delivering inflated bytes.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ureq::Agent;
use ureq::http::header::CONTENT_ENCODING;

/// The codings ureq can inflate, as servers label them.
const CODINGS: [&str; 2] = ["gzip", "br"];

/// How long the whole probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether ureq, as built into this program, inflates answers in gzip or br (and so hides
/// their `Content-Encoding`).
pub(crate) fn ureq_inflates() -> bool {
    static INFLATES: OnceLock<bool> = OnceLock::new();
    *INFLATES.get_or_init(|| probe().unwrap_or(true))
}

/// Asks ureq for one labelled answer per coding; `None` when the probe could not run.
fn probe() -> Option<bool> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).ok()?;
    listener.set_nonblocking(true).ok()?;
    let port = listener.local_addr().ok()?.port();
    let deadline = Instant::now() + PROBE_TIMEOUT;
    let server = std::thread::spawn(move || serve(&listener, deadline));
    let agent: Agent = Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .max_idle_connections(0)
        .timeout_global(Some(PROBE_TIMEOUT))
        .build()
        .into();
    let mut inflates = Some(false);
    for coding in CODINGS {
        match agent
            .get(format!("http://127.0.0.1:{port}/{coding}"))
            .call()
        {
            Ok(response) => {
                let hidden = !response.headers().contains_key(CONTENT_ENCODING);
                inflates = inflates.map(|any| any || hidden);
            }
            Err(_) => inflates = None,
        }
    }
    // The server ends by itself at its deadline; a panic there changes nothing here.
    let _ = server.join();
    inflates
}

/// Answers up to one request per coding, each labelled with the coding its path names,
/// until `deadline`.
fn serve(listener: &TcpListener, deadline: Instant) {
    let mut answered = 0;
    while answered < CODINGS.len() && Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, _)) => {
                answered += 1;
                let _ = answer(stream, deadline);
            }
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
}

/// Reads one request head and answers it with an empty body in the coding its path names.
fn answer(stream: TcpStream, deadline: Instant) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    let left = deadline.saturating_duration_since(Instant::now());
    stream.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let coding = if line.contains("/br ") { "br" } else { "gzip" };
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Encoding: {coding}\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
    )?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_runs_and_agrees_with_itself() {
        // Which answer is right depends on the features the build turned on; the probe must
        // run (loopback is there in tests) and give the same answer twice.
        let first = probe();
        assert!(first.is_some(), "the probe could not run");
        assert_eq!(probe(), first);
    }
}
