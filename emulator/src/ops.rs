//! The API's operations: a parsed request in, the answer the API would give out. No sockets
//! here: the body is any reader, and the answer is data the socket layer writes.

use std::fs::File;
use std::io::{self, Read, Write};

use serde_json::{Value, json};

use super::{ApiVersion, Shared, lock, range, sniff};
use crate::fault::{Fault, Route};
use crate::multipart::{self, MultipartError, MultipartReader};
use crate::render::{Layout, error, standard_message};
use crate::store::{DEFAULT_WORKSPACE, Scope, StoredFile, Temp, decode_cursor, encode_cursor};
use crate::wire::is_uuid;

const API_PREFIX: &str = "/api/v1";
/// Not part of the API: connection and request counts for benchmarks and other processes.
pub(crate) const STATS_PATH: &str = "/_emulator/stats";
/// The most bytes of form fields other than the file an upload may carry.
const MAX_FIELD_BYTES: u64 = 1024 * 1024;
/// The most parts an upload's form may have.
const MAX_PARTS: usize = 100;

/// A request as the operations see it.
pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    /// The path, still percent-encoded.
    pub(crate) path: &'a str,
    /// The raw query string, without `?`.
    pub(crate) query: Option<&'a str>,
    /// Header names and values as sent.
    pub(crate) headers: &'a [(String, String)],
    /// The body's declared length, when it has one.
    pub(crate) body_len: Option<u64>,
    /// The body, read only by the operations that take one.
    pub(crate) body: &'a mut dyn Read,
}

impl Request<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What to send back.
#[derive(Debug)]
pub(crate) enum Answer {
    /// A JSON body.
    Json(u16, Value),
    /// A body as given, with these headers (a [`Fault::Status`]).
    Raw(u16, Vec<(String, String)>, Vec<u8>),
    /// `len` bytes of `file` from `offset`; with `truncate`, only that many, then close.
    File {
        status: u16,
        headers: Vec<(String, String)>,
        file: File,
        offset: u64,
        len: u64,
        truncate: Option<u64>,
    },
    /// Close the connection without answering.
    Drop,
}

impl Answer {
    fn error(status: u16, message: &str) -> Answer {
        Answer::Json(status, error(status, message))
    }

    /// The status to log: 0 for a dropped connection.
    pub(crate) fn status(&self) -> u16 {
        match self {
            Answer::Json(s, _) | Answer::Raw(s, ..) | Answer::File { status: s, .. } => *s,
            Answer::Drop => 0,
        }
    }
}

/// The operation a method and path name, if any. `HEAD` names what `GET` does (the socket
/// layer sends its answer without the body).
fn route(method: &str, segments: &[&str]) -> Option<Route> {
    let method = if method == "HEAD" { "GET" } else { method };
    match (method, segments) {
        ("GET", ["files"]) => Some(Route::List),
        ("POST", ["files"]) => Some(Route::Upload),
        ("GET", ["files", _]) => Some(Route::Retrieve),
        ("DELETE", ["files", _]) => Some(Route::Delete),
        ("GET", ["files", _, "content"]) => Some(Route::Download),
        _ => None,
    }
}

/// Answers one request.
pub(crate) fn answer(shared: &Shared, request: &mut Request<'_>) -> Answer {
    if request.path == STATS_PATH {
        return Answer::Json(
            200,
            json!({
                "connections": shared.connections.accepted(),
                "requests": shared.journal.total(),
            }),
        );
    }
    // The prefix is a whole path segment: `/api/v1files` is not `/api/v1/files`.
    let rest = request
        .path
        .strip_prefix(API_PREFIX)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
        .unwrap_or("");
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    let route = route(request.method, &segments);
    // Taken in its own statement: the lock must be released before a delay sleeps.
    let fault = lock(&shared.faults).next(route);
    let (truncate, after) = match before_running(fault) {
        Ok(kept) => kept,
        Err(answer) => return answer,
    };
    if let Some(refused) = unauthorized(shared, request) {
        return refused;
    }
    let Some(route) = route else {
        return unrouted(&segments);
    };
    let params = parse_query(request.query.unwrap_or(""));
    let scope = match scope(shared.config.version, &params) {
        Ok(scope) => scope,
        // Retrieve and delete document no 400: a workspace or provider that cannot exist
        // holds no such file.
        Err(_) if matches!(route, Route::Retrieve | Route::Delete) => {
            return Answer::error(404, "Resource not found");
        }
        Err(answer) => return answer,
    };
    let id = segments
        .get(1)
        .map(|s| percent_decode(s))
        .unwrap_or_default();
    let answer = run(shared, request, route, &scope, &params, &id, truncate);
    match after {
        Some(Fault::DropAfterRunning) => Answer::Drop,
        Some(Fault::StatusAfterRunning(status)) => Answer::error(status, standard_message(status)),
        _ => answer,
    }
}

/// What a fault does before the request runs: an answer in its place (`Err`), a delay (slept
/// here), or what it leaves for later: the bytes a download is cut after, and a fault that acts
/// once the request has run.
fn before_running(fault: Option<Fault>) -> Result<(Option<u64>, Option<Fault>), Answer> {
    match fault {
        Some(Fault::Status {
            status,
            mut headers,
            body,
        }) => {
            let body = body.unwrap_or_else(|| error(status, standard_message(status)).to_string());
            headers.push(("Content-Type".into(), "application/json".into()));
            Err(Answer::Raw(status, headers, body.into_bytes()))
        }
        Some(Fault::Delay(delay)) => {
            std::thread::sleep(delay);
            Ok((None, None))
        }
        Some(Fault::DropConnection) => Err(Answer::Drop),
        Some(Fault::TruncateDownload { after_bytes }) => Ok((Some(after_bytes), None)),
        Some(fault @ (Fault::DropAfterRunning | Fault::StatusAfterRunning(_))) => {
            Ok((None, Some(fault)))
        }
        None => Ok((None, None)),
    }
}

/// The 401 for a request without the emulator's key, if it is one.
fn unauthorized(shared: &Shared, request: &Request<'_>) -> Option<Answer> {
    match request.header("Authorization") {
        None => Some(Answer::error(401, "Missing Authentication header")),
        Some(given) if given.strip_prefix("Bearer ") != Some(shared.config.api_key.as_str()) => {
            Some(Answer::error(401, "Invalid API key"))
        }
        Some(_) => None,
    }
}

/// The answer for a path no route takes: 405 with `Allow` for a known path, else 404.
fn unrouted(segments: &[&str]) -> Answer {
    let allow = match segments {
        ["files"] => "GET, HEAD, POST",
        ["files", _] => "GET, HEAD, DELETE",
        ["files", _, "content"] => "GET, HEAD",
        _ => return Answer::error(404, "Resource not found"),
    };
    let body = error(405, "Method not allowed").to_string().into_bytes();
    let headers = vec![
        ("Allow".to_string(), allow.to_string()),
        ("Content-Type".to_string(), "application/json".to_string()),
    ];
    Answer::Raw(405, headers, body)
}

/// Runs one operation of the API and answers it.
fn run(
    shared: &Shared,
    request: &mut Request<'_>,
    route: Route,
    scope: &Scope,
    params: &[(String, String)],
    id: &str,
    truncate: Option<u64>,
) -> Answer {
    let layout = Layout::of(shared.config.version, scope.provider.as_deref());
    match route {
        Route::List => list(shared, scope, &layout, params),
        Route::Upload => upload(shared, request, scope, &layout),
        Route::Retrieve => match lock(&shared.store).get(scope, id) {
            Some(file) => Answer::Json(200, layout.file(file)),
            None => Answer::error(404, "Resource not found"),
        },
        Route::Delete => {
            if lock(&shared.store).remove(scope, id) {
                Answer::Json(200, layout.deleted(id))
            } else {
                Answer::error(404, "Resource not found")
            }
        }
        Route::Download => {
            let file = lock(&shared.store).get(scope, id).cloned();
            match file {
                None => Answer::error(404, "Resource not found"),
                Some(f) if !f.downloadable => {
                    Answer::error(400, "Only files created server-side can be downloaded")
                }
                Some(f) => download(shared, request, &f, truncate),
            }
        }
    }
}

/// Resolves `workspace_id` and `provider` into the scope a request works in.
fn scope(version: ApiVersion, params: &[(String, String)]) -> Result<Scope, Answer> {
    let workspace = match param(params, "workspace_id") {
        None => DEFAULT_WORKSPACE.to_string(),
        Some(ws) if is_uuid(ws) => ws.to_ascii_lowercase(),
        Some(_) => return Err(Answer::error(400, "workspace_id must be a UUID")),
    };
    let provider = match (version, param(params, "provider")) {
        (ApiVersion::V2026_07_19, _) | (_, None) => None,
        (_, Some(p @ ("openai" | "anthropic"))) => Some(p.to_string()),
        (_, Some(_)) => {
            return Err(Answer::error(
                400,
                "provider must be one of: openai, anthropic",
            ));
        }
    };
    Ok(Scope {
        workspace,
        provider,
    })
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn list(shared: &Shared, scope: &Scope, layout: &Layout, params: &[(String, String)]) -> Answer {
    let limit = match param(params, "limit").map(str::parse::<usize>) {
        None => 100,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => return Answer::error(400, "limit must be an integer from 1 to 1000"),
    };
    let current = shared.config.version == ApiVersion::V2026_08_22;
    let own_storage = scope.provider.is_none();
    let mut descending = match param(params, "order").filter(|_| current) {
        None | Some("asc") => false,
        Some("desc") if !own_storage => true,
        Some("desc") => {
            return Answer::error(400, "order=desc is not supported by OpenRouter storage");
        }
        Some(_) => return Answer::error(400, "order must be asc or desc"),
    };
    let store = lock(&shared.store);
    let mut from = None;
    if let Some(cursor) = param(params, "cursor") {
        match decode_cursor(cursor).filter(|(seq, _)| store.is_position(*seq)) {
            Some((seq, desc)) => {
                from = Some(seq);
                descending = desc;
            }
            None => return Answer::error(400, "Invalid cursor"),
        }
    }
    // Anthropic's reverse cursor: the page just before `before_id` in the list's order, so
    // the store is walked the other way and the page turned back round.
    let mut backwards = false;
    if current {
        for name in ["after", "after_id", "before_id"] {
            let Some(id) = param(params, name) else {
                continue;
            };
            if name == "before_id" && own_storage {
                return Answer::error(400, "before_id is not supported by OpenRouter storage");
            }
            match store.seq_of(id) {
                Some(seq) => from = Some(seq),
                None => return Answer::error(400, &format!("Unknown file id in {name}")),
            }
            backwards = name == "before_id";
        }
    }
    let mut files = store.page(
        scope,
        from,
        descending != backwards,
        limit.saturating_add(1),
    );
    // More files in the direction asked for.
    let has_more = files.len() > limit;
    files.truncate(limit);
    if backwards {
        files.reverse();
    }
    let cursor = files
        .last()
        .filter(|_| has_more && !backwards)
        .map(|f| encode_cursor(f.seq, descending));
    Answer::Json(200, layout.page(&files, has_more, cursor))
}

/// A sink that fails once more than `limit` bytes are written to it.
struct Limited<W> {
    inner: W,
    written: u64,
    limit: u64,
}

impl<W: Write> Write for Limited<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written = self.written.saturating_add(buf.len() as u64);
        if self.written > self.limit {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                "over the upload limit",
            ));
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes an upload's bytes to the store's disk and remembers when the disk, not the peer,
/// failed: a full disk is the emulator's trouble (5xx), a broken body the client's (4xx).
struct ToDisk<W> {
    inner: W,
    failure: Option<io::Error>,
}

impl<W: Write> ToDisk<W> {
    fn new(inner: W) -> Self {
        ToDisk {
            inner,
            failure: None,
        }
    }

    fn note<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &result {
            self.failure = Some(io::Error::new(e.kind(), e.to_string()));
        }
        result
    }
}

impl<W: Write> Write for ToDisk<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = self.inner.write(buf);
        self.note(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = self.inner.flush();
        self.note(result)
    }
}

/// Why an upload's form was refused.
enum FormError {
    Multipart(MultipartError),
    NoFile,
    TwoFiles,
    /// The bytes could not be written to the store's directory.
    Storage(io::Error),
}

impl From<MultipartError> for FormError {
    fn from(e: MultipartError) -> Self {
        FormError::Multipart(e)
    }
}

impl From<io::Error> for FormError {
    fn from(e: io::Error) -> Self {
        FormError::Multipart(MultipartError::Io(e))
    }
}

fn upload(shared: &Shared, request: &mut Request<'_>, scope: &Scope, layout: &Layout) -> Answer {
    let Some(boundary) = request.header("Content-Type").and_then(multipart::boundary) else {
        return Answer::error(400, "Expected a multipart/form-data body with a boundary");
    };
    let declared = request.body_len.unwrap_or(0);
    if declared > shared.config.upload_limit.saturating_add(MAX_FIELD_BYTES) {
        return Answer::error(413, "Request payload too large");
    }
    // Made when the file part arrives; removed when dropped, unless stored.
    let mut temp = None;
    let create = || {
        let (made, file) = lock(&shared.store).temp()?;
        temp = Some(made);
        Ok(file)
    };
    match receive_file(shared, request.body, &boundary, create) {
        Ok((filename, size)) if size > 0 => match &temp {
            Some(temp) => store_upload(shared, scope, layout, filename, temp),
            None => Answer::error(500, "The upload was received but not kept"),
        },
        Ok(_) => Answer::error(400, "File is empty"),
        Err(e) => refusal(e),
    }
}

/// The answer to a form that could not be received.
fn refusal(error: FormError) -> Answer {
    match error {
        FormError::NoFile => Answer::error(400, "Missing required field: file"),
        FormError::TwoFiles => Answer::error(400, "Exactly one file part is allowed"),
        FormError::Storage(e) => match e.kind() {
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => Answer::error(
                507,
                &format!("Insufficient storage: the emulator could not store the upload: {e}"),
            ),
            _ => Answer::error(500, &format!("Could not store the upload: {e}")),
        },
        FormError::Multipart(MultipartError::Io(e)) => match e.kind() {
            io::ErrorKind::FileTooLarge => Answer::error(413, "Request payload too large"),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                Answer::error(408, "Request timeout")
            }
            _ => Answer::error(400, &format!("Could not read the upload: {e}")),
        },
        FormError::Multipart(MultipartError::Malformed(why)) => {
            Answer::error(400, &format!("Malformed multipart body: {why}"))
        }
    }
}

/// Streams the one `file` part to the file `create` makes; returns its filename and size.
fn receive_file(
    shared: &Shared,
    body: &mut dyn Read,
    boundary: &str,
    mut create: impl FnMut() -> io::Result<File>,
) -> Result<(String, u64), FormError> {
    let mut parts = MultipartReader::new(body, boundary);
    // Every part other than the file, and the preamble, draw on one budget, so a chunked
    // body cannot go on sending them for ever.
    let mut fields = Limited {
        inner: io::sink(),
        written: 0,
        limit: MAX_FIELD_BYTES,
    };
    parts.skip_preamble(&mut fields)?;
    let mut received = None;
    let mut count = 0;
    while let Some(part) = parts.next_part()? {
        count += 1;
        if count > MAX_PARTS {
            return Err(MultipartError::Malformed("too many parts").into());
        }
        if part.name.as_deref() == Some("file") {
            if received.is_some() {
                return Err(FormError::TwoFiles);
            }
            let file = create().map_err(FormError::Storage)?;
            let mut sink = Limited {
                inner: ToDisk::new(io::BufWriter::with_capacity(256 * 1024, file)),
                written: 0,
                limit: shared.config.upload_limit,
            };
            let copied = parts
                .copy_part(&mut sink)
                .and_then(|size| Ok(sink.flush().map(|()| size)?));
            if let Some(failure) = sink.inner.failure.take() {
                return Err(FormError::Storage(failure));
            }
            let size = copied?;
            received = Some((part.filename.unwrap_or_else(|| "file".to_string()), size));
        } else {
            parts.copy_part(&mut fields)?;
        }
    }
    received.ok_or(FormError::NoFile)
}

fn store_upload(
    shared: &Shared,
    scope: &Scope,
    layout: &Layout,
    filename: String,
    temp: &Temp,
) -> Answer {
    // Opened under the store's lock, read without it: other requests go on meanwhile.
    let opened = lock(&shared.store).open_temp(temp);
    let detected = opened.and_then(|file| sniff::detect(&file));
    let mime = match detected {
        Ok(Some(mime)) => mime,
        Ok(None) if shared.config.accept_any_content => "application/octet-stream",
        Ok(None) => {
            return Answer::error(
                400,
                "Unsupported file type: expected PDF, PNG/JPEG/GIF/WebP, DOCX/XLSX/PPTX, MP3/WAV/FLAC/OGG or UTF-8 text",
            );
        }
        Err(e) => return Answer::error(500, &format!("Could not inspect the upload: {e}")),
    };
    let mut store = lock(&shared.store);
    match store.insert(scope.clone(), filename, mime.to_string(), temp, false) {
        Ok(file) => Answer::Json(200, layout.file(&file)),
        Err(e) => Answer::error(500, &format!("Could not store the upload: {e}")),
    }
}

/// The file's bytes, whole or the range asked for when range requests are on.
fn download(
    shared: &Shared,
    request: &Request<'_>,
    file: &StoredFile,
    truncate: Option<u64>,
) -> Answer {
    // An open file keeps its bytes even if a delete removes the path meanwhile.
    let Ok(data) = lock(&shared.store).open(file) else {
        return Answer::error(500, "File vanished");
    };
    let size = file.size_bytes;
    let mut headers = vec![
        (
            "Content-Type".to_string(),
            "application/octet-stream".to_string(),
        ),
        (
            "Content-Disposition".to_string(),
            crate::wire::attachment(&file.filename),
        ),
    ];
    let (mut status, mut offset, mut len) = (200, 0, size);
    if shared.config.range_requests {
        let validators = range::Validators::of(file);
        headers.extend(validators.headers());
        match range::select(
            request.header("Range"),
            request.header("If-Range"),
            &validators,
            size,
        ) {
            range::Selection::Whole => {}
            range::Selection::Part { start, end } => {
                headers.push((
                    "Content-Range".into(),
                    format!("bytes {start}-{end}/{size}"),
                ));
                (status, offset, len) = (206, start, end - start + 1);
            }
            range::Selection::Unsatisfiable => {
                let mut headers = vec![
                    ("Content-Range".to_string(), format!("bytes */{size}")),
                    ("Content-Type".to_string(), "application/json".to_string()),
                ];
                headers.extend(validators.headers());
                let body = error(416, "Range not satisfiable").to_string();
                return Answer::Raw(416, headers, body.into_bytes());
            }
        }
    }
    Answer::File {
        status,
        headers,
        file: data,
        offset,
        len,
        truncate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EmulatorBuilder, Shared};

    fn shared() -> Shared {
        Shared::new(EmulatorBuilder::default().upload_limit(100).config).unwrap()
    }

    /// Answers a request made of parts, with no socket anywhere.
    fn call(
        shared: &Shared,
        method: &str,
        target: &str,
        content_type: &str,
        body: &[u8],
    ) -> (u16, Value) {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (target, None),
        };
        let headers = [
            (
                "Authorization".to_string(),
                format!("Bearer {}", shared.config.api_key),
            ),
            ("Content-Type".to_string(), content_type.to_string()),
        ];
        let mut body = body;
        let answer = answer(
            shared,
            &mut Request {
                method,
                path,
                query,
                headers: &headers,
                body_len: Some(body.len() as u64),
                body: &mut body,
            },
        );
        match answer {
            Answer::Json(status, value) => (status, value),
            other => panic!("not JSON: {other:?}"),
        }
    }

    const FORM: &str = "multipart/form-data; boundary=b";

    fn form(parts: &[(&str, &str)]) -> Vec<u8> {
        let mut body = String::new();
        for (filename, content) in parts {
            body.push_str(&format!(
                "--b\r\nContent-Disposition: form-data; name=\"file\"; filename={filename}\r\n\r\n{content}\r\n"
            ));
        }
        body.push_str("--b--\r\n");
        body.into_bytes()
    }

    #[test]
    fn operations_answer_without_a_socket() {
        let shared = shared();
        let (status, file) = call(
            &shared,
            "POST",
            "/api/v1/files",
            FORM,
            &form(&[(r#""a\"b.txt""#, "hi")]),
        );
        assert_eq!(status, 200, "{file}");
        assert_eq!(file["filename"], "a\"b.txt");
        let id = file["id"].as_str().unwrap().to_string();
        let (status, page) = call(&shared, "GET", "/api/v1/files?limit=1", "", b"");
        assert_eq!(
            (status, page["data"][0]["id"].as_str()),
            (200, Some(id.as_str()))
        );
        let (status, _) = call(&shared, "DELETE", &format!("/api/v1/files/{id}"), "", b"");
        assert_eq!(status, 200);
        let (status, _) = call(&shared, "GET", &format!("/api/v1/files/{id}"), "", b"");
        assert_eq!(status, 404);
    }

    /// Posts `body` as a chunked upload form (no declared length).
    fn post_chunked(shared: &Shared, body: &str) -> Answer {
        let headers = [
            (
                "Authorization".to_string(),
                format!("Bearer {}", shared.config.api_key),
            ),
            ("Content-Type".to_string(), FORM.to_string()),
        ];
        answer(
            shared,
            &mut Request {
                method: "POST",
                path: "/api/v1/files",
                query: None,
                headers: &headers,
                body_len: None,
                body: &mut body.as_bytes(),
            },
        )
    }

    #[test]
    fn form_fields_share_one_budget_and_parts_are_counted_when_the_length_is_not_declared() {
        let shared = shared();
        let field = format!(
            "--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n{}\r\n",
            "p".repeat(600 * 1024)
        );
        let over = post_chunked(&shared, &format!("{field}{field}{field}--b--\r\n"));
        assert_eq!(over.status(), 413, "{over:?}");
        let empty = "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n\r\n";
        let many = post_chunked(
            &shared,
            &format!("{}--b--\r\n", empty.repeat(MAX_PARTS + 1)),
        );
        assert_eq!(many.status(), 400, "{many:?}");
    }

    #[test]
    fn forged_cursors_huge_limits_and_extra_file_parts_are_400() {
        let shared = shared();
        for target in [
            "/api/v1/files?cursor=eyJhZnRlciI6MTg0NDY3NDQwNzM3MDk1NTE2MTV9",
            "/api/v1/files?cursor=eyJhZnRlciI6MX0", // {"after":1}: never handed out
            "/api/v1/files?limit=18446744073709551616",
        ] {
            assert_eq!(call(&shared, "GET", target, "", b"").0, 400, "{target}");
        }
        let two = form(&[("\"one.txt\"", "1"), ("\"two.txt\"", "2")]);
        assert_eq!(call(&shared, "POST", "/api/v1/files", FORM, &two).0, 400);
        let over = form(&[("\"big.txt\"", &"x".repeat(101))]);
        assert_eq!(call(&shared, "POST", "/api/v1/files", FORM, &over).0, 413);
        assert!(lock(&shared.store).seq_of("or_file_x").is_none());
    }

    /// `/dev/full` answers every write with ENOSPC: a real full disk, without filling one.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_is_the_emulators_507_and_a_broken_body_the_clients_400() {
        let shared = Shared::new(EmulatorBuilder::default().config).unwrap();
        // A small file fails when it is flushed at the end, a large one while it is copied.
        for size in [10, 1024 * 1024] {
            let body = form(&[("\"full.txt\"", &"x".repeat(size))]);
            let full = || File::options().write(true).open("/dev/full");
            let Err(error) = receive_file(&shared, &mut &body[..], "b", full) else {
                panic!("{size} bytes written to /dev/full");
            };
            let Answer::Json(status, value) = refusal(error) else {
                panic!("not JSON");
            };
            assert_eq!(status, 507, "{size}: {value}");
            let message = value["error"]["message"].as_str().unwrap();
            assert!(message.contains("No space left on device"), "{message}");
        }
        let body = form(&[("\"cut.txt\"", "some text")]);
        let create = || Ok(lock(&shared.store).temp()?.1);
        let Err(error) = receive_file(&shared, &mut &body[..body.len() - 12], "b", create) else {
            panic!("a body cut short was received");
        };
        let Answer::Json(status, value) = refusal(error) else {
            panic!("not JSON");
        };
        assert_eq!(status, 400, "{value}");
    }
}
