//! `-v`/`--verbose`: one line on standard error per try of every call, as `curl -v` shows a
//! transfer: method, path, status, try number, duration, bytes, request id, proxy, and the
//! wait before a retry. With `--json`, one JSON object per try instead. The key never appears
//! (the library never shows it to an observer, and the line is checked again here).

use std::io::Write;
use std::time::Duration;

use openrouter_files::Attempt;

use crate::text::{clean, hide, json_line};

/// An observer that prints each try on standard error.
pub fn observer(json: bool, secret: Option<String>) -> impl Fn(&Attempt<'_>) + Send + Sync {
    move |attempt: &Attempt<'_>| {
        let line = if json {
            json_line(&as_json(attempt))
        } else {
            clean(&as_text(attempt)).into_owned()
        };
        let line = hide(&line, secret.as_deref());
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

fn millis(duration: Duration) -> u128 {
    duration.as_millis()
}

/// `* GET /files/ID (try 1): 200 in 12 ms, sent 0 B, announced 312 B, request id R, via P`.
fn as_text(a: &Attempt<'_>) -> String {
    let mut line = format!("* {} {} (try {}): ", a.method, a.path, a.attempt);
    match (a.status, &a.error) {
        (Some(status), _) if a.succeeded() => line.push_str(&status.to_string()),
        (Some(status), _) => line.push_str(&format!("HTTP {status}")),
        (None, _) => line.push_str("failed"),
    }
    line.push_str(&format!(
        " in {} ms, sent {} B",
        millis(a.duration),
        a.bytes_sent
    ));
    if let Some(bytes) = a.bytes_announced {
        line.push_str(&format!(", announced {bytes} B"));
    }
    if let Some(id) = a.request_id {
        line.push_str(&format!(", request id {id}"));
    }
    if let Some(proxy) = a.proxy {
        line.push_str(&format!(", via {proxy}"));
    }
    if let (None, Some(error)) = (a.status, &a.error) {
        line.push_str(&format!(": {error}"));
    }
    if let Some(wait) = a.retry_in {
        line.push_str(&format!("; retrying in {} ms", millis(wait)));
    }
    line
}

fn as_json(a: &Attempt<'_>) -> serde_json::Value {
    serde_json::json!({
        "event": "attempt",
        "method": a.method,
        "path": a.path,
        "attempt": a.attempt,
        "status": a.status,
        "duration_ms": millis(a.duration) as u64,
        "bytes_sent": a.bytes_sent,
        "bytes_announced": a.bytes_announced,
        "request_id": a.request_id,
        "proxy": a.proxy,
        "error": a.error,
        "retry_in_ms": a.retry_in.map(|w| millis(w) as u64),
    })
}
