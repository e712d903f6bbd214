//! Request ids on every result, and an observer of every try, against the emulator (which
//! sends a fresh `X-Request-Id` with every answer, as the API does).

mod common;

use std::io::Read;
use std::sync::{Arc, Mutex};

use common::{fast_retries, text};
use openrouter_files::{Attempt, Error, FilesClient, Upload};
use openrouter_files_emulator::{Emulator, Fault};

/// What an observer saw, one line per try, owned.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    method: String,
    path: String,
    attempt: u32,
    status: Option<u16>,
    sent: u64,
    request_id: Option<String>,
    retry: bool,
    shown: String,
}

fn observed(emulator: &Emulator, retries: u32) -> (FilesClient, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let client = FilesClient::builder()
        .api_key(emulator.api_key())
        .base_url(emulator.base_url())
        .retry(fast_retries(retries))
        .observer(move |a: &Attempt<'_>| {
            record.lock().unwrap().push(Seen {
                method: a.method.to_string(),
                path: a.path.to_string(),
                attempt: a.attempt,
                status: a.status,
                sent: a.bytes_sent,
                request_id: a.request_id.map(str::to_string),
                retry: a.retry_in.is_some(),
                shown: format!("{a:?}"),
            })
        })
        .build()
        .unwrap();
    (client, seen)
}

#[test]
fn every_result_tells_its_request_id_and_headers() {
    let emulator = Emulator::builder()
        .seed_file("report.csv", text(64))
        .start()
        .unwrap();
    let (client, _) = observed(&emulator, 0);
    let uploaded = client.upload(Upload::bytes("a.txt", "abc")).unwrap();
    let retrieved = client.retrieve(&uploaded.id).unwrap();
    let page = client.list().page().unwrap();
    let seeded = page
        .data
        .iter()
        .find(|f| f.filename == "report.csv")
        .unwrap();
    let download = client.download(&seeded.id).unwrap();
    let deleted = client.delete(&uploaded.id).unwrap();

    let ids = [
        uploaded.request_id(),
        retrieved.request_id(),
        page.request_id(),
        download.request_id(),
        deleted.request_id(),
    ];
    assert!(ids.iter().all(Option::is_some), "{ids:?}");
    let mut distinct = ids.to_vec();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), ids.len(), "one id per call: {ids:?}");
    // Every file of a page tells the page's request.
    assert!(
        page.data
            .iter()
            .all(|f| f.request_id() == page.request_id())
    );
    let answer = retrieved.response().unwrap();
    assert_eq!((answer.status(), answer.attempts()), (200, 1));
    assert_eq!(answer.header("Content-Type"), Some("application/json"));
    assert_eq!(answer.header("x-request-id"), answer.request_id());
    // Equality is about the file, not the request that brought it.
    assert_eq!(retrieved, uploaded);
    // What a result keeps is not part of its JSON.
    assert!(
        !serde_json::to_string(&retrieved)
            .unwrap()
            .contains(answer.request_id().unwrap())
    );
    let mut body = Vec::new();
    let mut download = download;
    download.read_to_end(&mut body).unwrap();
    assert_eq!(body, text(64));
}

#[test]
fn the_observer_sees_every_try_with_its_retry_and_never_the_key() {
    let emulator = Emulator::start().unwrap();
    let (client, seen) = observed(&emulator, 2);
    let uploaded = client.upload(Upload::bytes("a.txt", "abc")).unwrap();
    emulator.inject(Fault::status(503), 1);
    let retrieved = client.retrieve(&uploaded.id).unwrap();
    let missing = client.retrieve("or_file_missing").unwrap_err();

    let seen = seen.lock().unwrap().clone();
    let summary: Vec<_> = seen
        .iter()
        .map(|s| (s.method.as_str(), s.attempt, s.status, s.retry))
        .collect();
    assert_eq!(
        summary,
        [
            ("POST", 1, Some(200), false),
            ("GET", 1, Some(503), true),
            ("GET", 2, Some(200), false),
            ("GET", 1, Some(404), false),
        ]
    );
    assert_eq!(seen[0].path, "/files");
    assert!(seen[0].sent > 3, "the multipart body: {}", seen[0].sent);
    assert_eq!(seen[2].path, format!("/files/{}", uploaded.id));
    assert_eq!(seen[2].request_id.as_deref(), retrieved.request_id());
    assert_eq!(retrieved.response().unwrap().attempts(), 2);
    assert_eq!(seen[3].request_id.as_deref(), missing.request_id());
    assert!(matches!(missing, Error::Api(_)));
    for s in &seen {
        assert!(s.request_id.is_some(), "{s:?}");
        assert!(!s.shown.contains(emulator.api_key()), "{}", s.shown);
    }
}

/// An observer that panics is the caller's panic: it reaches the caller as any panic of its
/// own code would, and leaves no file behind, even when it panics on the try that resumes a
/// download cut short (inside the write of the temporary file).
#[test]
fn a_panicking_observer_reaches_the_caller_and_leaves_no_temporary_file() {
    use common::scripted::{Next, Scripted, respond};
    use std::io::Write;
    let server = Scripted::start(|n, _, stream| {
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nAccept-Ranges: bytes\r\n\
                    ETag: \"v1\"\r\nContent-Type: application/octet-stream\r\n\r\n";
        if n == 0 {
            // Four of the ten bytes announced, then the connection ends.
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(b"0123");
        } else {
            respond(stream, 200, "", b"0123456789");
        }
        Next::Close
    });
    let tries = Arc::new(Mutex::new(0));
    let counted = Arc::clone(&tries);
    let client = FilesClient::builder()
        .api_key("sk-or-v1-observer")
        .base_url(server.url(""))
        .retry(fast_retries(3))
        .observer(move |_: &Attempt<'_>| {
            let mut tries = counted.lock().unwrap_or_else(|p| p.into_inner());
            *tries += 1;
            if *tries > 1 {
                panic!("observer gives up");
            }
        })
        .build()
        .unwrap();
    let dir = common::temp_dir("panicking-observer");
    let target = dir.join("out.bin");
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        client.download_to("file_1", &target)
    }));
    let payload = outcome.expect_err("the observer's panic reaches the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"observer gives up"));
    assert!(server.accepted() >= 2, "the resuming try was made");
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
    // The client is not poisoned: a later call works.
    *tries.lock().unwrap_or_else(|p| p.into_inner()) = -100;
    let bytes = client.download_to("file_1", &target).unwrap();
    assert_eq!(
        (bytes, std::fs::read(&target).unwrap()),
        (10, b"0123456789".to_vec())
    );
}

/// A request id longer than any id (60,000 bytes, under the head's size limit) is cut at
/// 1 KiB, as every header value a result keeps: on the result, for the observer (and so on
/// each `-v` line) and on an error.
#[test]
fn a_huge_request_id_is_cut_at_1_kib_everywhere_it_is_shown() {
    use common::scripted::{Next, Scripted, api_error, json};
    let id = "r".repeat(60_000);
    let header = format!("X-Request-Id: {id}\r\n");
    let server = Scripted::start(move |n, _, stream| {
        match n {
            0 => json(
                stream,
                200,
                &header,
                &common::scripted::file_json("or_file_1"),
            ),
            _ => api_error(stream, 404, &header, "no such file"),
        }
        Next::Close
    });
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let client = FilesClient::builder()
        .api_key("sk-or-v1-observer")
        .base_url(server.url(""))
        .observer(move |a: &Attempt<'_>| {
            record
                .lock()
                .unwrap()
                .push(a.request_id.map_or(0, str::len))
        })
        .build()
        .unwrap();
    let meta = client.retrieve("or_file_1").unwrap();
    assert_eq!(meta.request_id(), Some(&id[..1024]));
    let error = client.retrieve("or_file_1").unwrap_err();
    assert_eq!(error.request_id(), Some(&id[..1024]), "{error:?}");
    assert_eq!(*seen.lock().unwrap(), [1024, 1024]);
}
