//! The one path every call takes: URL building with percent-encoded segments and query, the
//! auth and default headers, per-call timeouts, the retry loop, and status-to-error mapping.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use ureq::http::{self, HeaderName, HeaderValue, Method, Response};
use ureq::{Body, RequestExt, SendBody};

use crate::client::FilesClient;
use crate::error::{ApiError, Error, Result, TransportError, redact, redact_cut, redact_json};
use crate::retry;

/// The most of an error body the client reads.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;
/// The most of an error body kept as a snippet.
const SNIPPET_LIMIT: usize = 1024;
/// The most of a JSON success body the client reads (a page of 1000 files is ~300 KB).
const JSON_BODY_LIMIT: u64 = 64 * 1024 * 1024;

/// Whether a call may be sent again after a failure, and under which conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// list, retrieve, delete, download: any retryable failure.
    Idempotent,
    /// An upload whose source can be read again: only failures where the server cannot have
    /// stored the file (nothing sent, 408, 429, 503).
    Upload,
    /// An upload from a one-shot reader: never.
    Never,
}

/// A request body with an exact length.
pub(crate) struct Outgoing<'a> {
    pub(crate) reader: Box<dyn Read + 'a>,
    pub(crate) len: u64,
    pub(crate) content_type: String,
}

/// One Files API call, before it is sent.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    /// Path segments after `files`, each sent as exactly one segment.
    pub(crate) segments: &'a [&'a str],
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) replay: Replay,
    /// Asks for the body as stored (`Accept-Encoding: identity`), so its length can be checked.
    pub(crate) identity: bool,
}

/// A 2xx response and the call it answered (for error messages).
pub(crate) struct Reply {
    pub(crate) response: Response<Body>,
    pub(crate) method: &'static str,
    pub(crate) path: String,
    /// The API key, to remove from anything the server sent that an error keeps.
    pub(crate) secret: Arc<str>,
}

impl Reply {
    /// Wraps an error that happened while reading this reply's body.
    pub(crate) fn transport_error(&self, source: ureq::Error) -> Error {
        Error::Transport(TransportError::new(
            self.method,
            self.path.clone(),
            None,
            source,
        ))
    }

    /// A [`Error::Decode`] for a body that is not what `what` returns, its snippet redacted.
    pub(crate) fn decode_error(
        &self,
        what: &'static str,
        raw: &[u8],
        source: serde_json::Error,
    ) -> Error {
        Error::Decode {
            what,
            snippet: snippet(raw, &self.secret),
            source,
        }
    }
}

/// Why one attempt failed: a transport error the retry rules judge, or an error that ends the
/// call at once (a redirect the client will not follow, an upload source that failed).
enum Failure {
    Transport(TransportError),
    Final(Error),
}

/// Redirect statuses the client follows (by the rules in [`FilesClient::follow`]).
fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

impl Call<'_> {
    /// A transfer (a download, or any call with a body) is bounded by the stall timeout and the
    /// user's deadline; a small JSON call also by the default whole-call cap.
    fn is_transfer(&self, has_body: bool) -> bool {
        self.identity || has_body
    }
}

impl FilesClient {
    /// Sends `call`, retrying per the client's policy. `body` is asked for a fresh body before
    /// each try. Returns the 2xx response, or the error of the last try.
    pub(crate) fn execute<'a>(
        &self,
        call: &Call<'_>,
        body: Option<&mut dyn FnMut() -> Result<Outgoing<'a>>>,
    ) -> Result<Reply> {
        self.execute_with(call, body, &[])
    }

    /// [`FilesClient::execute`] with extra request headers (a download's `Range`).
    pub(crate) fn execute_with<'a>(
        &self,
        call: &Call<'_>,
        mut body: Option<&mut dyn FnMut() -> Result<Outgoing<'a>>>,
        extra: &[(HeaderName, HeaderValue)],
    ) -> Result<Reply> {
        let path = api_path(call);
        let url = self.url(&path, call)?;
        let method = method_name(&call.method);
        let policy = self.options.retry;
        let timeouts = &self.options.timeouts;
        let limit = if call.is_transfer(body.is_some()) {
            timeouts.deadline
        } else {
            timeouts.json_deadline
        };
        let deadline = limit.and_then(|d| Instant::now().checked_add(d));
        let mut attempts: u32 = 0;
        loop {
            attempts = attempts.saturating_add(1);
            // A batch's first try waits for its shared pause (retries waited below).
            if let (Some(gate), 1) = (&self.options.gate, attempts) {
                use crate::retry::gate::Closed;
                match gate.wait(deadline) {
                    Ok(()) => {}
                    Err(Closed::Stopped) => return Err(Error::Cancelled),
                    Err(Closed::PastDeadline) => {
                        let timeout = ureq::Error::Timeout(ureq::Timeout::Global);
                        let error = TransportError::new(method, path.clone(), None, timeout);
                        return Err(Error::Transport(error));
                    }
                }
            }
            let (retryable, wait_hint, error) =
                match self.attempt(call, &url, &path, body.as_deref_mut(), extra, deadline) {
                    Ok(response) if response.status().is_success() => {
                        return Ok(Reply {
                            response,
                            method,
                            path,
                            secret: Arc::clone(&self.shared.key),
                        });
                    }
                    Ok(response) => {
                        let api = api_error(response, attempts, method, &path, &self.shared.key);
                        let retryable = match call.replay {
                            Replay::Idempotent => api.kind().is_retryable(),
                            Replay::Upload => matches!(api.status, 408 | 429 | 503),
                            Replay::Never => false,
                        };
                        (retryable, api.retry_after, Error::from(api))
                    }
                    Err(Failure::Final(error)) => return Err(error),
                    Err(Failure::Transport(error)) => {
                        let retryable = match call.replay {
                            Replay::Idempotent => error.is_retryable(),
                            Replay::Upload => error.failed_before_sending(),
                            Replay::Never => false,
                        };
                        (retryable, None, Error::Transport(error))
                    }
                };
            if !retryable || attempts > policy.max_retries() {
                return Err(error);
            }
            let Some(wait) = policy.delay(attempts - 1, wait_hint) else {
                return Err(error);
            };
            if !may_wait(wait, deadline) {
                return Err(error);
            }
            log::debug!(
                "retrying {method} {path} after {} (attempt {attempts} of {}), waiting {wait:?}",
                error
                    .status()
                    .map_or_else(|| "a transport error".to_string(), |s| format!("HTTP {s}")),
                policy.max_retries().saturating_add(1),
            );
            match &self.options.gate {
                Some(gate) => {
                    if wait_hint.is_some() {
                        gate.hold_for(wait);
                    }
                    // A batch that stops, or a pause that would outlast the deadline, ends
                    // the call with what it got.
                    if gate.pause(wait, deadline).is_err() {
                        return Err(error);
                    }
                }
                None => std::thread::sleep(wait),
            }
        }
    }

    /// One try of a call: the request, and the redirects it is allowed to follow.
    fn attempt<'a>(
        &self,
        call: &Call<'_>,
        url: &str,
        path: &str,
        mut body: Option<&mut (dyn FnMut() -> Result<Outgoing<'a>> + '_)>,
        extra: &[(HeaderName, HeaderValue)],
        deadline: Option<Instant>,
    ) -> Result<Response<Body>, Failure> {
        let mut target = url.to_string();
        let mut redirects = 0;
        loop {
            let outgoing = match body.as_deref_mut() {
                Some(make) => Some(make().map_err(Failure::Final)?),
                None => None,
            };
            let at_origin = same_origin(url, &target);
            let response = self
                .send(call, &target, at_origin, outgoing, extra, deadline)
                .map_err(|source| {
                    let peer = origin(&target).map(|(_, host, port)| format!("{host}:{port}"));
                    let method = method_name(&call.method);
                    Failure::Transport(TransportError::new(method, path.into(), peer, source))
                })?;
            let status = response.status().as_u16();
            if !is_redirect(status) {
                return Ok(response);
            }
            let next = self
                .follow(call, path, &target, &response, redirects, body.is_some())
                .map_err(Failure::Final)?;
            log::debug!(
                "following HTTP {status} for {} {path} to {}",
                method_name(&call.method),
                origin_of(&next),
            );
            target = next;
            redirects += 1;
        }
    }

    /// Where a redirect leads, or why the client does not follow it. The rules: at most
    /// `max_redirects`; only to http(s) URLs and never from https to http; 301, 302 and 303
    /// only for a GET (they would turn a delete or an upload into a GET); 307 and 308 keep the
    /// method, and a body is sent again only when its source can be read again.
    fn follow(
        &self,
        call: &Call<'_>,
        path: &str,
        current: &str,
        response: &Response<Body>,
        redirects: u32,
        has_body: bool,
    ) -> Result<String> {
        let status = response.status().as_u16();
        let raw = response
            .headers()
            .get(http::header::LOCATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let location = raw.as_deref().map(|raw| redact(raw, &self.shared.key));
        let refuse = |location: &str, reason: &'static str| Error::Redirect {
            method: method_name(&call.method),
            path: path.to_string(),
            status,
            location: location.to_string(),
            reason,
        };
        let Some(location) = location else {
            return Err(refuse("", "the response names no Location"));
        };
        if raw
            .as_deref()
            .is_some_and(|raw| carries_secret(raw, &self.shared.key))
        {
            // Following it would hand the key to that URL's server and to ureq's logs.
            return Err(refuse(&location, "the Location carries the API key"));
        }
        if redirects >= self.shared.max_redirects {
            return Err(refuse(&location, "too many redirects"));
        }
        let Some(next) = resolve(current, location.trim()) else {
            return Err(refuse(&location, "the Location is not an http(s) URL"));
        };
        if is_downgrade(current, &next) {
            return Err(refuse(&location, "it leads from https to http"));
        }
        if matches!(status, 301..=303) && call.method != Method::GET {
            return Err(refuse(
                &location,
                "a 301, 302 or 303 would turn this call into a GET",
            ));
        }
        if has_body && call.replay == Replay::Never {
            return Err(refuse(
                &location,
                "the request body cannot be read again to send it there",
            ));
        }
        Ok(next)
    }

    /// Sends one request with this scope's timeouts through the shared agent. The key and the
    /// user's headers (`header`, `app`, `with_header`) go only to the base URL's origin
    /// (`at_origin`); the protocol's own (`User-Agent`, `Range`, body headers) go everywhere.
    fn send(
        &self,
        call: &Call<'_>,
        url: &str,
        at_origin: bool,
        outgoing: Option<Outgoing<'_>>,
        extra: &[(HeaderName, HeaderValue)],
        deadline: Option<Instant>,
    ) -> Result<Response<Body>, ureq::Error> {
        let mut request = http::Request::builder()
            .method(call.method.clone())
            .uri(url);
        if at_origin {
            request = request.header(http::header::AUTHORIZATION, self.shared.auth.clone());
            for (name, value) in self.shared.headers.iter().chain(&self.options.headers) {
                request = request.header(name, value);
            }
        }
        for (name, value) in extra {
            request = request.header(name, value);
        }
        if call.identity {
            request = request.header(http::header::ACCEPT_ENCODING, "identity");
        }
        let global = match deadline {
            Some(at) => match at.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return Err(ureq::Error::Timeout(ureq::Timeout::Global)),
            },
            None => None,
        };
        let timeouts = &self.options.timeouts;
        let configure = |request: http::Request<SendBody<'_>>| {
            request
                .with_agent(&self.shared.agent)
                .configure()
                .timeout_global(finite(global))
                .timeout_connect(finite(timeouts.connect))
                .timeout_recv_response(finite(timeouts.response))
                .timeout_per_read(finite(timeouts.stall))
                .timeout_per_write(finite(timeouts.stall))
                .run()
        };
        match outgoing {
            Some(outgoing) => {
                let mut reader = outgoing.reader;
                let request = request
                    .header(http::header::CONTENT_TYPE, outgoing.content_type)
                    .header(http::header::CONTENT_LENGTH, outgoing.len);
                configure(request.body(SendBody::from_reader(&mut *reader))?)
            }
            None => configure(request.body(SendBody::none())?),
        }
    }

    /// The full URL of `call` at `path`, after checking what can be checked locally.
    fn url(&self, path: &str, call: &Call<'_>) -> Result<String> {
        let mut url = format!("{}{path}", self.shared.base_url);
        let mut query: Vec<(&str, &str)> =
            call.query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(workspace) = &self.options.workspace {
            if !is_uuid(workspace) {
                return Err(Error::InvalidInput(format!(
                    "workspace {workspace:?} is not a UUID"
                )));
            }
            query.push(("workspace_id", workspace));
        }
        if let Some(provider) = &self.options.provider {
            query.push(("provider", provider.as_str()));
        }
        for (i, (key, value)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            push_encoded(&mut url, key);
            url.push('=');
            push_encoded(&mut url, value);
        }
        Ok(url)
    }
}

/// The request path below the base URL, segments encoded; also what logs and errors show
/// (no host, no query, no key).
fn api_path(call: &Call<'_>) -> String {
    let mut path = String::from("/files");
    for segment in call.segments {
        path.push('/');
        push_segment(&mut path, segment);
    }
    path
}

/// `scheme://host:port` of an absolute http(s) URL (the port filled in from the scheme), with
/// the host in lower case: what "same origin" compares.
fn origin(url: &str) -> Option<(String, String, u16)> {
    let uri = url.parse::<http::Uri>().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let host = uri.host().filter(|h| !h.is_empty())?.to_ascii_lowercase();
    Some((scheme, host, uri.port_u16().unwrap_or(default_port)))
}

/// Timeouts this long are taken as no limit at all, and waits this long as never ending.
const UNLIMITED: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// A timeout as ureq is given it: one of 100 years or more (up to [`Duration::MAX`]) is none,
/// since ureq adds it to the current [`Instant`], which would overflow.
pub(crate) fn finite(timeout: Option<Duration>) -> Option<Duration> {
    timeout.filter(|t| *t < UNLIMITED)
}

/// Whether `text` holds `secret` in any ASCII case.
fn carries_secret(text: &str, secret: &str) -> bool {
    !secret.is_empty()
        && text
            .to_ascii_lowercase()
            .contains(&secret.to_ascii_lowercase())
}

/// Whether a retry may wait `wait` from now: the wait must end before `deadline`, if there is
/// one, and in practice at all: a wait of 100 years or more (a `Retry-After` of 1e300 ms that
/// the policy accepts) would never end, so the call gives up at once instead.
pub(crate) fn may_wait(wait: Duration, deadline: Option<Instant>) -> bool {
    wait < UNLIMITED
        && Instant::now()
            .checked_add(wait)
            .is_some_and(|end| deadline.is_none_or(|d| end < d))
}

/// Whether two URLs share scheme, host and port.
pub(crate) fn same_origin(a: &str, b: &str) -> bool {
    matches!((origin(a), origin(b)), (Some(x), Some(y)) if x == y)
}

/// Whether a move from `current` to `next` leaves https for plain http.
fn is_downgrade(current: &str, next: &str) -> bool {
    let scheme = |url| origin(url).map(|(scheme, _, _)| scheme);
    scheme(current).as_deref() == Some("https") && scheme(next).as_deref() != Some("https")
}

/// An origin for logs (no path, no query, no user info).
fn origin_of(url: &str) -> String {
    origin(url).map_or_else(
        || "an unparsable URL".to_string(),
        |(scheme, host, port)| format!("{scheme}://{host}:{port}"),
    )
}

/// The absolute URL a `Location` names, resolved against the URL that answered; `None` unless
/// it is an http(s) URL with a host.
fn resolve(current: &str, location: &str) -> Option<String> {
    let lower = location.to_ascii_lowercase();
    let absolute = if lower.starts_with("http://") || lower.starts_with("https://") {
        location.to_string()
    } else if location.starts_with("//") {
        let scheme = current.split_once("://")?.0;
        format!("{scheme}:{location}")
    } else if location.starts_with('/') {
        // `host` keeps an IPv6 address's brackets, as `Uri::host` gives it.
        let (scheme, host, port) = origin(current)?;
        format!("{scheme}://{host}:{port}{location}")
    } else if location.starts_with('?') {
        // A new query for the same path.
        format!("{}{location}", current.split(['?', '#']).next()?)
    } else if location.starts_with('#') {
        format!("{}{location}", current.split('#').next()?)
    } else if location.contains(':') || location.is_empty() {
        // Another scheme (`ftp:`, `file:`, `javascript:`) or nothing at all.
        return None;
    } else {
        let without_query = current.split(['?', '#']).next()?;
        let dir = &without_query[..=without_query.rfind('/')?];
        format!("{dir}{location}")
    };
    origin(&absolute)?;
    Some(absolute)
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        _ => "HTTP",
    }
}

/// True for the 8-4-4-4-12 hexadecimal form of a UUID.
pub(crate) fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Appends `text` percent-encoded: everything but RFC 3986 unreserved characters.
fn push_encoded(out: &mut String, text: &str) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

/// Appends one path segment; `.` and `..` are encoded too, so they cannot climb the path.
fn push_segment(out: &mut String, segment: &str) {
    if segment.bytes().all(|b| b == b'.') {
        out.push_str(&"%2E".repeat(segment.len()));
    } else {
        push_encoded(out, segment);
    }
}

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
fn api_error(
    response: Response<Body>,
    attempts: u32,
    method: &'static str,
    path: &str,
    secret: &str,
) -> ApiError {
    let status = response.status().as_u16();
    let headers = response.headers();
    let request_id = [
        "x-request-id",
        "request-id",
        "x-openrouter-request-id",
        "cf-ray",
    ]
    .iter()
    .find_map(|name| headers.get(*name)?.to_str().ok())
    .map(|id| redact(id, secret));
    let retry_after = retry::retry_after(headers);
    let mut raw = Vec::new();
    let _ = response
        .into_body()
        .into_reader()
        .take(ERROR_BODY_LIMIT)
        .read_to_end(&mut raw);
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
        },
    }
}

/// The start of a body, lossily decoded, for error messages, with `secret` removed (also a
/// start of it that the cut left at the end).
pub(crate) fn snippet(raw: &[u8], secret: &str) -> String {
    let cut = &raw[..raw.len().min(SNIPPET_LIMIT)];
    let text = String::from_utf8_lossy(cut);
    let text = if cut.len() < raw.len() {
        redact_cut(&text, secret)
    } else {
        redact(&text, secret)
    };
    text.trim().to_string()
}

/// Reads a 2xx body (at most 64 MiB) to the end, so the connection can be reused.
fn read_raw(reply: &mut Reply) -> Result<Vec<u8>> {
    reply
        .response
        .body_mut()
        .with_config()
        .limit(JSON_BODY_LIMIT)
        .read_to_vec()
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

    #[test]
    fn segments_cannot_escape_their_place() {
        let mut s = String::new();
        push_segment(&mut s, "../x");
        assert_eq!(s, "..%2Fx");
        s.clear();
        push_segment(&mut s, "..");
        assert_eq!(s, "%2E%2E");
        s.clear();
        push_segment(&mut s, "a/b c?d#é");
        assert_eq!(s, "a%2Fb%20c%3Fd%23%C3%A9");
    }

    #[test]
    fn locations_resolve_against_the_answering_url() {
        let here = "http://127.0.0.1:8080/api/v1/files/x?workspace_id=1";
        assert_eq!(
            resolve(here, "/other").as_deref(),
            Some("http://127.0.0.1:8080/other")
        );
        assert_eq!(
            resolve(here, "y").as_deref(),
            Some("http://127.0.0.1:8080/api/v1/files/y")
        );
        assert_eq!(resolve(here, "//h:9/z").as_deref(), Some("http://h:9/z"));
        assert_eq!(resolve(here, "HTTPS://h/z").as_deref(), Some("HTTPS://h/z"));
        assert_eq!(
            resolve("http://[::1]:8080/a/b", "/c").as_deref(),
            Some("http://[::1]:8080/c")
        );
        // A query alone replaces the query and keeps the path (RFC 3986, 5.2.2).
        assert_eq!(
            resolve(here, "?after=x").as_deref(),
            Some("http://127.0.0.1:8080/api/v1/files/x?after=x")
        );
        assert_eq!(
            resolve(here, "/y#part").as_deref(),
            Some("http://127.0.0.1:8080/y#part")
        );
        assert_eq!(
            resolve(here, "#part").as_deref(),
            Some("http://127.0.0.1:8080/api/v1/files/x?workspace_id=1#part")
        );
        for bad in [
            "",
            "ftp://h/x",
            "file:///etc/passwd",
            "javascript:x",
            "http://",
            "http:// /",
        ] {
            assert_eq!(resolve(here, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn https_to_http_is_a_downgrade_in_any_spelling() {
        assert!(is_downgrade("https://h/x", "http://h/x"));
        assert!(is_downgrade("https://h/x", "HTTP://h:443/x"));
        assert!(!is_downgrade("https://h/x", "HTTPS://other/x"));
        assert!(!is_downgrade("http://h/x", "https://h/x"));
        assert!(!is_downgrade("http://h/x", "http://h:8/x"));
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert!(same_origin("http://A:80/x", "http://a/y"));
        assert!(same_origin("https://h/x", "https://h:443/y"));
        assert!(!same_origin("http://h:1/x", "http://h:2/x"));
        assert!(!same_origin("http://h/x", "https://h/x"));
        assert!(!same_origin("http://127.0.0.1/x", "http://localhost/x"));
        assert!(same_origin("http://[::1]/x", "http://[::1]:80/y"));
        assert!(!same_origin(
            "http://[::1]:8080/x",
            "http://127.0.0.1:8080/x"
        ));
        assert!(
            same_origin("http://u:p@h:8/x", "http://h:8/y"),
            "user info is no part"
        );
        assert!(!same_origin("http://h:8@evil:9/x", "http://h:8/x"));
        assert!(!same_origin("https://h/x", "https://h:8443/x"));
    }

    #[test]
    fn uuids_are_checked_by_shape() {
        assert!(is_uuid("a103d8b6-42f0-4e50-9a3c-bf41e2c3c1a7"));
        assert!(!is_uuid("a103d8b6-42f0-4e50-9a3c"));
        assert!(!is_uuid("g103d8b6-42f0-4e50-9a3c-bf41e2c3c1a7"));
        assert!(!is_uuid(""));
    }
}
