//! What comes back: a failure status read into an [`ApiError`] (bounded, the key removed from
//! everything the server wrote), and 2xx JSON bodies read whole and decoded.

use std::io::Read;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use ureq::Body;
use ureq::http::{self, Response};

use super::Reply;
use crate::error::{ApiError, Result, redact, redact_cut, redact_json};
use crate::retry;

/// The most of an error body the client reads.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;
/// The most of an error body kept as a snippet.
const SNIPPET_LIMIT: usize = 1024;
/// The most of a JSON success body the client reads (a page of 1000 files is ~300 KB).
const JSON_BODY_LIMIT: u64 = 64 * 1024 * 1024;

#[derive(Deserialize)]
struct WireError {
    error: WireErrorData,
}

#[derive(Deserialize)]
struct WireErrorData {
    code: Option<serde_json::Value>,
    message: Option<String>,
    metadata: Option<serde_json::Value>,
}

/// Reads (at most 64 KiB of) a failure response into an [`ApiError`], with `secret` removed
/// from everything the server wrote.
pub(super) fn api_error(
    response: Response<Body>,
    attempts: u32,
    method: &'static str,
    path: &str,
    secret: &str,
) -> ApiError {
    let status = response.status().as_u16();
    let headers = response.headers();
    let request_id = crate::answer::request_id(headers, secret);
    let retry_after = retry::retry_after(headers);
    let mut raw = Vec::new();
    let _ = response
        .into_body()
        .into_reader()
        .take(ERROR_BODY_LIMIT)
        .read_to_end(&mut raw);
    crate::surrogates::replace_lone_surrogates(&mut raw);
    let parsed = serde_json::from_slice::<WireError>(&raw)
        .ok()
        .filter(|w| w.error.message.is_some());
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("unexpected status");
    let (method, path) = (method, path.to_string());
    match parsed {
        Some(wire) => ApiError {
            method,
            path,
            status,
            code: wire.error.code.and_then(|c| c.as_i64()),
            message: redact(&wire.error.message.unwrap_or_default(), secret),
            metadata: wire
                .error
                .metadata
                .filter(|m| !m.is_null())
                .map(|m| redact_json(m, secret)),
            request_id,
            retry_after,
            body_snippet: None,
            attempts,
            earlier_try_may_have_acted: false,
        },
        None => ApiError {
            method,
            path,
            status,
            code: None,
            message: reason.to_string(),
            metadata: None,
            request_id,
            retry_after,
            body_snippet: Some(snippet(&raw, secret)).filter(|s| !s.is_empty()),
            attempts,
            earlier_try_may_have_acted: false,
        },
    }
}

/// The start of a body, lossily decoded, for error messages, with `secret` removed, and also a
/// start of it at the end (the cut, or the server's own body, can stop partway through the
/// key), trimmed.
pub(crate) fn snippet(raw: &[u8], secret: &str) -> String {
    shown(raw, secret).trim().to_string()
}

/// [`snippet`] without the trimming, for server text whose spaces matter (an id). A start of
/// the key before trailing white space is removed too.
pub(crate) fn shown(raw: &[u8], secret: &str) -> String {
    let cut = &raw[..raw.len().min(SNIPPET_LIMIT)];
    let text = String::from_utf8_lossy(cut);
    let body = text.trim_end();
    redact_cut(body, secret) + &text[body.len()..]
}

/// Reads a 2xx body (at most 64 MiB) to the end, so the connection can be reused, with lone
/// surrogate escapes made decodable.
fn read_raw(reply: &mut Reply) -> Result<Vec<u8>> {
    reply
        .response
        .body_mut()
        .with_config()
        .limit(JSON_BODY_LIMIT)
        .read_to_vec()
        .map(|mut raw| {
            crate::surrogates::replace_lone_surrogates(&mut raw);
            raw
        })
        .map_err(|source| reply.transport_error(source))
}

/// Reads a 2xx JSON body to the end (so the connection can be reused) and decodes it.
pub(crate) fn read_json<T: DeserializeOwned>(mut reply: Reply, what: &'static str) -> Result<T> {
    let raw = read_raw(&mut reply)?;
    serde_json::from_slice(&raw).map_err(|source| reply.decode_error(what, &raw, source))
}

/// [`read_json`] for a body that must also pass `check`, which sees the JSON first and says
/// why it is not what the call returns (an [`Error::Decode`] then).
pub(crate) fn read_checked_json<T: DeserializeOwned>(
    mut reply: Reply,
    what: &'static str,
    check: impl FnOnce(&serde_json::Value) -> Result<(), &'static str>,
) -> Result<T> {
    let raw = read_raw(&mut reply)?;
    let decode = |source| reply.decode_error(what, &raw, source);
    let value: serde_json::Value = serde_json::from_slice(&raw).map_err(decode)?;
    check(&value).map_err(|why| decode(serde::de::Error::custom(why)))?;
    T::deserialize(value).map_err(decode)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-or-v1-0123456789abcdef";

    #[test]
    fn a_body_that_ends_partway_through_the_key_keeps_no_start_of_it() {
        for body in [
            "{\"oops\": \"sk-or-v1-0123",
            "{\"oops\": \"sk-or-v1-0123\n  ",
            "sk-or-v1-0123456789abcde",
        ] {
            for shown in [snippet(body.as_bytes(), KEY), shown(body.as_bytes(), KEY)] {
                assert!(!shown.contains("sk-or-v1-0"), "{body:?} gave {shown:?}");
                assert!(shown.contains("[redacted]"), "{body:?} gave {shown:?}");
            }
        }
        assert_eq!(snippet(b"  plain text  ", KEY), "plain text");
        assert_eq!(
            shown(b"id sk", KEY),
            "id sk",
            "two characters are no start of a key"
        );
    }
}
