//! Routes one request to the operation it names and answers it as the API would.

use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use tiny_http::{Header, Method, Request, Response};

use super::multipart::{self, MultipartError, MultipartReader};
use super::store::{DEFAULT_WORKSPACE, Scope, StoredFile, decode_cursor, encode_cursor};
use super::{ApiVersion, Fault, LoggedRequest, Shared, lock, sniff};
use crate::multipart::escape;
use crate::transport::is_uuid;

const API_PREFIX: &str = "/api/v1";
/// Not part of the API: connection and request counts for benchmarks and other processes.
pub(crate) const STATS_PATH: &str = "/_emulator/stats";
const MAX_FIELD_BYTES: u64 = 1024 * 1024;

/// An answer the handler has decided on, before it is written.
enum Answer {
    Json(u16, Value),
    Raw(u16, Vec<(String, String)>, Vec<u8>),
    Download(Box<StoredFile>, Option<u64>),
    Drop,
}

/// The spec's error body for `status`.
fn error(status: u16, message: &str) -> Answer {
    Answer::Json(
        status,
        json!({"error": {"code": status, "message": message}}),
    )
}

/// The message the official documents use as the example for each status.
fn standard_message(status: u16) -> &'static str {
    match status {
        400 => "Invalid request parameters",
        401 => "Missing Authentication header",
        403 => "Only management keys can perform this operation",
        404 => "Resource not found",
        408 => "Request timeout",
        413 => "Request payload too large",
        429 => "Rate limit exceeded",
        500 => "Internal Server Error",
        502 => "Provider returned error",
        503 => "Service temporarily unavailable",
        _ => "Error",
    }
}

/// A fresh `X-Request-Id` header, as the real API sends with every answer.
fn request_id() -> Header {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let id = format!("req_emu_{:08}", NEXT.fetch_add(1, Ordering::Relaxed));
    Header::from_bytes(&b"X-Request-Id"[..], id.as_bytes()).expect("ASCII header")
}

/// Counts the body bytes a handler reads.
struct Counted<'a> {
    inner: &'a mut dyn Read,
    count: &'a AtomicU64,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Serves one request and logs it.
pub(crate) fn handle(shared: &Arc<Shared>, mut request: Request) {
    let (path, query) = match request.url().split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (request.url().to_string(), None),
    };
    let method = request.method().to_string();
    let read = AtomicU64::new(0);
    let answer = answer(shared, &mut request, &path, query.as_deref(), &read);
    // The entry is logged just before the answer is written, so a client that has its answer
    // always finds its request in the log.
    let log = |status, response_bytes| {
        lock(&shared.log).push(LoggedRequest {
            method,
            path,
            query,
            status,
            request_bytes: read.load(Ordering::Relaxed),
            response_bytes,
        });
    };
    send(shared, request, answer, log);
}

/// Takes the next queued fault that applies to this request.
fn next_fault(shared: &Shared, is_download: bool) -> Option<Fault> {
    let mut faults = lock(&shared.faults);
    let (fault, left) = faults.front_mut()?;
    if matches!(fault, Fault::TruncateDownload { .. }) && !is_download {
        return None;
    }
    let fault = fault.clone();
    *left -= 1;
    if *left == 0 {
        faults.pop_front();
    }
    Some(fault)
}

fn answer(
    shared: &Shared,
    request: &mut Request,
    path: &str,
    query: Option<&str>,
    read: &AtomicU64,
) -> Answer {
    if path == STATS_PATH {
        return Answer::Json(
            200,
            json!({
                "connections": shared.relay.accepted(),
                "requests": lock(&shared.log).len(),
            }),
        );
    }
    let route = path.strip_prefix(API_PREFIX).unwrap_or("");
    let segments: Vec<&str> = route.trim_start_matches('/').split('/').collect();
    let is_download = request.method() == &Method::Get
        && segments.len() == 3
        && segments[0] == "files"
        && segments[2] == "content";
    let mut truncate_at = None;
    match next_fault(shared, is_download) {
        Some(Fault::Status {
            status,
            headers,
            body,
        }) => {
            let body = body.unwrap_or_else(|| {
                json!({"error": {"code": status, "message": standard_message(status)}}).to_string()
            });
            let mut headers = headers;
            headers.push(("Content-Type".into(), "application/json".into()));
            return Answer::Raw(status, headers, body.into_bytes());
        }
        Some(Fault::Delay(delay)) => std::thread::sleep(delay),
        Some(Fault::DropConnection) => return Answer::Drop,
        Some(Fault::TruncateDownload { after_bytes }) => truncate_at = Some(after_bytes),
        None => {}
    }
    let expected = format!("Bearer {}", shared.api_key);
    match header(request, "Authorization") {
        None => return error(401, "Missing Authentication header"),
        Some(given) if given != expected => return error(401, "Invalid API key"),
        Some(_) => {}
    }
    let params = parse_query(query.unwrap_or(""));
    let scope = match scope(shared, &params) {
        Ok(scope) => scope,
        // Retrieve and delete document no 400: a workspace or provider that cannot exist
        // holds no such file.
        Err(_)
            if matches!(request.method(), Method::Get | Method::Delete) && segments.len() == 2 =>
        {
            return error(404, "Resource not found");
        }
        Err(answer) => return answer,
    };
    let id = segments.get(1).map(|s| percent_decode(s));
    match (request.method(), segments.as_slice()) {
        (Method::Get, ["files"]) => list(shared, &scope, &params),
        (Method::Post, ["files"]) => upload(shared, request, &scope, read),
        (Method::Get, ["files", _]) => with_file(shared, &scope, id, |f| {
            Answer::Json(200, file_json(shared, f, &scope))
        }),
        (Method::Delete, ["files", _]) => delete(shared, &scope, id.unwrap_or_default()),
        (Method::Get, ["files", _, "content"]) => with_file(shared, &scope, id, |f| {
            if f.downloadable {
                Answer::Download(Box::new(f.clone()), truncate_at)
            } else {
                error(400, "Only files created server-side can be downloaded")
            }
        }),
        (_, ["files"] | ["files", _] | ["files", _, "content"]) => error(405, "Method not allowed"),
        _ => error(404, "Resource not found"),
    }
}

fn header(request: &Request, name: &str) -> Option<String> {
    request
        .headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str().to_string())
}

/// Resolves `workspace_id` and `provider` into the scope a request works in.
fn scope(shared: &Shared, params: &[(String, String)]) -> Result<Scope, Answer> {
    let workspace = match param(params, "workspace_id") {
        None => DEFAULT_WORKSPACE.to_string(),
        Some(ws) if is_uuid(ws) => ws.to_ascii_lowercase(),
        Some(_) => return Err(error(400, "workspace_id must be a UUID")),
    };
    let provider = match (shared.version, param(params, "provider")) {
        (ApiVersion::V2026_07_19, _) | (_, None) => None,
        (_, Some(p @ ("openai" | "anthropic"))) => Some(p.to_string()),
        (_, Some(_)) => return Err(error(400, "provider must be one of: openai, anthropic")),
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
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
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

fn with_file(
    shared: &Shared,
    scope: &Scope,
    id: Option<String>,
    then: impl FnOnce(&StoredFile) -> Answer,
) -> Answer {
    let store = lock(&shared.store);
    match id.as_deref().and_then(|id| store.get(scope, id)) {
        Some(file) => then(file),
        None => error(404, "Resource not found"),
    }
}

/// The body shape for this API version and provider.
fn shape(shared: &Shared, scope: &Scope) -> Option<&'static str> {
    match (shared.version, scope.provider.as_deref()) {
        (ApiVersion::V2026_07_19, _) => None,
        (_, Some("openai")) => Some("openai"),
        (_, Some("anthropic")) => Some("anthropic"),
        _ => Some("openrouter"),
    }
}

fn file_json(shared: &Shared, file: &StoredFile, scope: &Scope) -> Value {
    match shape(shared, scope) {
        Some("openai") => json!({
            "_shape": "openai",
            "id": file.id,
            "object": "file",
            "bytes": file.size_bytes,
            "created_at": file.created_at,
            "filename": file.filename,
            "purpose": "user_data",
            "status": "processed",
        }),
        shape => {
            let mut value = json!({
                "id": file.id,
                "type": "file",
                "filename": file.filename,
                "mime_type": file.mime_type,
                "size_bytes": file.size_bytes,
                "created_at": crate::date::format_rfc3339(file.created_at),
                "downloadable": file.downloadable,
            });
            if let Some(shape) = shape {
                value["_shape"] = json!(shape);
            }
            value
        }
    }
}

fn list(shared: &Shared, scope: &Scope, params: &[(String, String)]) -> Answer {
    let limit = match param(params, "limit").map(str::parse::<usize>) {
        None => 100,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => return error(400, "limit must be an integer from 1 to 1000"),
    };
    let current = shared.version == ApiVersion::V2026_08_22;
    let own_storage = scope.provider.is_none();
    let mut descending = match param(params, "order").filter(|_| current) {
        None | Some("asc") => false,
        Some("desc") if !own_storage => true,
        Some("desc") => return error(400, "order=desc is not supported by OpenRouter storage"),
        Some(_) => return error(400, "order must be asc or desc"),
    };
    let store = lock(&shared.store);
    let mut from = None;
    if let Some(cursor) = param(params, "cursor") {
        match decode_cursor(cursor) {
            Some((seq, desc)) => {
                from = Some(seq);
                descending = desc;
            }
            None => return error(400, "Invalid cursor"),
        }
    }
    if current {
        for name in ["after", "after_id", "before_id"] {
            let Some(id) = param(params, name) else {
                continue;
            };
            if name == "before_id" && own_storage {
                return error(400, "before_id is not supported by OpenRouter storage");
            }
            match store.seq_of(id) {
                Some(seq) => from = Some(seq),
                None => return error(400, &format!("Unknown file id in {name}")),
            }
            descending |= name == "before_id";
        }
    }
    let mut files = store.page(scope, from, descending, limit + 1);
    let has_more = files.len() > limit;
    files.truncate(limit);
    let data: Vec<Value> = files.iter().map(|f| file_json(shared, f, scope)).collect();
    let first_id = files.first().map(|f| f.id.clone());
    let last_id = files.last().map(|f| f.id.clone());
    let cursor = files
        .last()
        .filter(|_| has_more)
        .map(|f| encode_cursor(f.seq, descending));
    Answer::Json(
        200,
        match shape(shared, scope) {
            None => json!({"data": data, "has_more": has_more, "first_id": first_id,
                "last_id": last_id, "cursor": cursor}),
            Some("openai") => json!({"_shape": "openai", "object": "list", "data": data,
                "has_more": has_more, "first_id": first_id, "last_id": last_id}),
            Some("anthropic") => json!({"_shape": "anthropic", "data": data,
                "has_more": has_more, "first_id": first_id, "last_id": last_id}),
            Some(shape) => json!({"_shape": shape, "data": data, "has_more": has_more,
                "first_id": first_id, "last_id": last_id, "cursor": cursor}),
        },
    )
}

fn delete(shared: &Shared, scope: &Scope, id: String) -> Answer {
    if !lock(&shared.store).remove(scope, &id) {
        return error(404, "Resource not found");
    }
    Answer::Json(
        200,
        match shape(shared, scope) {
            None => json!({"id": id, "type": "file_deleted"}),
            Some("openai") => {
                json!({"_shape": "openai", "id": id, "object": "file", "deleted": true})
            }
            Some(shape) => json!({"_shape": shape, "id": id, "type": "file_deleted"}),
        },
    )
}

/// A sink that fails once more than `limit` bytes are written to it.
struct Limited<W> {
    inner: W,
    written: u64,
    limit: u64,
}

impl<W: Write> Write for Limited<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written += buf.len() as u64;
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

fn upload(shared: &Shared, request: &mut Request, scope: &Scope, read: &AtomicU64) -> Answer {
    let Some(boundary) = header(request, "Content-Type").and_then(|ct| multipart::boundary(&ct))
    else {
        return error(400, "Expected a multipart/form-data body with a boundary");
    };
    let declared = request.body_length().map_or(0, |n| n as u64);
    if declared > shared.upload_limit + MAX_FIELD_BYTES {
        return error(413, "Request payload too large");
    }
    let temp = lock(&shared.store).temp_path();
    let result = receive_file(shared, request, &boundary, &temp, read);
    let answer = match result {
        Ok(Some((filename, size))) if size > 0 => store_upload(shared, scope, filename, &temp),
        Ok(Some(_)) => error(400, "File is empty"),
        Ok(None) => error(400, "Missing required field: file"),
        Err(MultipartError::Io(e)) if e.kind() == io::ErrorKind::FileTooLarge => {
            error(413, "Request payload too large")
        }
        Err(MultipartError::Malformed(why)) => {
            error(400, &format!("Malformed multipart body: {why}"))
        }
        Err(MultipartError::Io(e)) => error(400, &format!("Could not read the upload: {e}")),
    };
    let _ = std::fs::remove_file(&temp);
    answer
}

/// Streams the `file` part to `temp`; returns its filename and size, or None without one.
fn receive_file(
    shared: &Shared,
    request: &mut Request,
    boundary: &str,
    temp: &std::path::Path,
    read: &AtomicU64,
) -> Result<Option<(String, u64)>, MultipartError> {
    let body = Counted {
        inner: request.as_reader(),
        count: read,
    };
    let mut parts = MultipartReader::new(body, boundary);
    parts.skip_preamble()?;
    let mut received = None;
    while let Some(part) = parts.next_part()? {
        if part.name.as_deref() == Some("file") && received.is_none() {
            let mut sink = Limited {
                inner: io::BufWriter::with_capacity(256 * 1024, File::create(temp)?),
                written: 0,
                limit: shared.upload_limit,
            };
            let size = parts.copy_part(&mut sink)?;
            sink.flush()?;
            received = Some((part.filename.unwrap_or_else(|| "file".to_string()), size));
        } else {
            let mut field = Limited {
                inner: io::sink(),
                written: 0,
                limit: MAX_FIELD_BYTES,
            };
            parts.copy_part(&mut field)?;
        }
    }
    Ok(received)
}

fn store_upload(
    shared: &Shared,
    scope: &Scope,
    filename: String,
    temp: &std::path::Path,
) -> Answer {
    let mime = match sniff::detect(temp) {
        Ok(Some(mime)) => mime,
        Ok(None) if shared.accept_any_content => "application/octet-stream",
        Ok(None) => {
            return error(
                400,
                "Unsupported file type: expected PDF, PNG/JPEG/GIF/WebP, DOCX/XLSX/PPTX, MP3/WAV/FLAC/OGG or UTF-8 text",
            );
        }
        Err(e) => return error(500, &format!("Could not inspect the upload: {e}")),
    };
    let mut store = lock(&shared.store);
    match store.insert(scope.clone(), filename, mime.to_string(), temp, false) {
        Ok(file) => Answer::Json(200, file_json(shared, &file, scope)),
        Err(e) => error(500, &format!("Could not store the upload: {e}")),
    }
}

/// Logs the status and body size with `log`, then writes the answer.
fn send(shared: &Shared, request: Request, answer: Answer, log: impl FnOnce(u16, u64)) {
    match answer {
        Answer::Json(status, value) => {
            let body = value.to_string().into_bytes();
            let headers = vec![("Content-Type".to_string(), "application/json".to_string())];
            respond(request, status, &headers, body, log)
        }
        Answer::Raw(status, headers, body) => respond(request, status, &headers, body, log),
        Answer::Drop => {
            log(0, 0);
            shared.relay.hijack(request.remote_addr(), b"");
        }
        Answer::Download(file, truncate_at) => download(shared, request, &file, truncate_at, log),
    }
}

fn respond(
    request: Request,
    status: u16,
    headers: &[(String, String)],
    body: Vec<u8>,
    log: impl FnOnce(u16, u64),
) {
    log(status, body.len() as u64);
    let mut response = Response::from_data(body)
        .with_status_code(status)
        .with_chunked_threshold(usize::MAX);
    response.add_header(request_id());
    for (name, value) in headers {
        if let Ok(h) = Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            response.add_header(h);
        }
    }
    let _ = request.respond(response);
}

fn download(
    shared: &Shared,
    request: Request,
    file: &StoredFile,
    truncate_at: Option<u64>,
    log: impl FnOnce(u16, u64),
) {
    if let Some(cut) = truncate_at {
        let mut raw = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
            file.size_bytes
        )
        .into_bytes();
        let start = raw.len();
        if let Ok(f) = File::open(&file.path) {
            let _ = f.take(cut.min(file.size_bytes)).read_to_end(&mut raw);
        }
        log(200, (raw.len() - start) as u64);
        shared.relay.hijack(request.remote_addr(), &raw);
        return;
    }
    let Ok(data) = File::open(&file.path) else {
        let body = json!({"error": {"code": 500, "message": "File vanished"}});
        return respond(request, 500, &[], body.to_string().into_bytes(), log);
    };
    let disposition = format!("attachment; filename=\"{}\"", escape(&file.filename));
    let headers = [
        ("Content-Type", "application/octet-stream".to_string()),
        ("Content-Disposition", disposition),
    ]
    .iter()
    .filter_map(|(n, v)| Header::from_bytes(n.as_bytes(), v.as_bytes()).ok())
    .collect();
    let len = file.size_bytes;
    let mut response = Response::new(200.into(), headers, data, Some(len as usize), None)
        .with_chunked_threshold(usize::MAX);
    response.add_header(request_id());
    log(200, len);
    let _ = request.respond(response);
}
