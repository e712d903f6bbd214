//! The hostile-server suite: each case scripts a misbehaving server on 127.0.0.1 and asserts
//! the exact outcome: the right result, or one clear typed error, within a bound.

mod common;

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::scripted::{Next, Scripted, api_error, file_json, json};
use common::{client_at, fast_retries, temp_dir};
use openrouter_files::{ApiErrorKind, Error, FilesClient, RetryPolicy, Upload};
use openrouter_files_emulator::{Emulator, Fault};

const LIST_PAGE_MORE: &str =
    r#"{"data":[],"has_more":true,"first_id":null,"last_id":null,"cursor":"c1"}"#;

fn client(server: &Scripted, policy: RetryPolicy) -> FilesClient {
    client_at(&server.url("/api/v1"), "sk-or-resilience-secret", policy)
}

/// Captures `log` records so the retry log can be checked.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        if record.target().starts_with("openrouter_files") {
            self.0
                .lock()
                .unwrap()
                .push(format!("{} {}", record.level(), record.args()));
        }
    }
    fn flush(&self) {}
}

static LOGS: Capture = Capture(Mutex::new(Vec::new()));

#[test]
fn a_reset_before_any_response_is_retried() {
    let server = Scripted::start(|n, _, s| {
        if n == 0 {
            return Next::Close;
        }
        json(s, 200, "", &file_json("or_file_1"));
        Next::KeepAlive
    });
    let meta = client(&server, fast_retries(2))
        .retrieve("or_file_1")
        .unwrap();
    assert_eq!(meta.id, "or_file_1");
    assert_eq!(server.received().len(), 2);
    let no_retry = Scripted::start(|_, _, _| Next::Close);
    let err = client(&no_retry, RetryPolicy::none())
        .retrieve("x")
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport(_)) && err.is_retryable(),
        "{err:?}"
    );
}

#[test]
fn two_503s_then_200_succeeds_on_the_third_try_and_logs_each_retry() {
    let _ = log::set_logger(&LOGS).map(|()| log::set_max_level(log::LevelFilter::Debug));
    let server = Scripted::start(|n, _, s| {
        if n < 2 {
            api_error(s, 503, "", "Service temporarily unavailable");
        } else {
            json(s, 200, "", &file_json("or_file_1"));
        }
        Next::KeepAlive
    });
    let meta = client(&server, fast_retries(2))
        .retrieve("or_file_1")
        .unwrap();
    assert_eq!(meta.id, "or_file_1");
    assert_eq!(server.received().len(), 3);
    let logs = LOGS.0.lock().unwrap().clone();
    let retries: Vec<_> = logs
        .iter()
        .filter(|l| l.contains("retrying GET /files/or_file_1 after HTTP 503"))
        .collect();
    assert_eq!(retries.len(), 2, "{logs:?}");
    assert!(
        retries
            .iter()
            .all(|l| l.starts_with("DEBUG") && !l.contains("secret"))
    );
}

#[test]
fn three_503s_with_two_retries_return_the_last_error() {
    let server = Scripted::start(|_, _, s| {
        api_error(s, 503, "", "Service temporarily unavailable");
        Next::KeepAlive
    });
    let err = client(&server, fast_retries(2)).list().page().unwrap_err();
    assert_eq!(err.api().unwrap().kind(), ApiErrorKind::Unavailable);
    assert_eq!(err.api().unwrap().attempts(), 3);
    assert_eq!(server.received().len(), 3);
}

#[test]
fn retry_after_is_honoured() {
    let server = Scripted::start(|n, _, s| {
        if n == 0 {
            api_error(s, 429, "Retry-After: 1\r\n", "Rate limit exceeded");
        } else {
            json(s, 200, "", &file_json("or_file_1"));
        }
        Next::KeepAlive
    });
    let started = Instant::now();
    client(&server, fast_retries(2))
        .retrieve("or_file_1")
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn retry_after_far_above_the_cap_returns_at_once_with_the_wait() {
    let server = Scripted::start(|_, _, s| {
        api_error(s, 429, "Retry-After: 3600\r\n", "Rate limit exceeded");
        Next::KeepAlive
    });
    let started = Instant::now();
    let err = client(&server, fast_retries(2)).list().page().unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(err.api().unwrap().kind(), ApiErrorKind::RateLimited);
    assert_eq!(
        err.api().unwrap().retry_after(),
        Some(Duration::from_secs(3600))
    );
    assert_eq!(server.received().len(), 1);
}

#[test]
fn a_download_truncated_mid_body_is_an_error_and_leaves_no_file() {
    let emulator = Emulator::builder()
        .seed_file("d.bin", vec![3u8; 2_000_000])
        .start()
        .unwrap();
    // Without retries: with them, `download_to` tries again and succeeds (tests/hostile.rs).
    let client = client_at(emulator.base_url(), emulator.api_key(), RetryPolicy::none());
    let id = client.list().page().unwrap().data[0].id.clone();
    emulator.inject(
        Fault::TruncateDownload {
            after_bytes: 1_000_000,
        },
        1,
    );
    let dir = temp_dir("resilience-truncated");
    let err = client.download_to(&id, dir.join("d.bin")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Truncated {
                expected: 2_000_000,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn a_body_that_stalls_times_out_within_the_stall_bound() {
    let server = Scripted::start(|_, _, s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        let _ = s.write_all(&[0u8; 100]);
        let _ = s.flush();
        std::thread::sleep(Duration::from_secs(4));
        Next::Close
    });
    let started = Instant::now();
    let err =
        client(&server, RetryPolicy::none()).download_to("or_file_1", temp_dir("stall").join("x"));
    let elapsed = started.elapsed();
    let err = err.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.to_string().to_lowercase().contains("timeout"), "{err}");
    assert!(
        elapsed >= Duration::from_millis(700) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
}

#[test]
fn headers_that_never_come_time_out() {
    let server = Scripted::start(|_, _, _| {
        std::thread::sleep(Duration::from_secs(4));
        Next::Close
    });
    let started = Instant::now();
    let err = client(&server, RetryPolicy::none())
        .list()
        .page()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Transport(t) if t.is_timeout()),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn a_200_with_invalid_json_is_a_decode_error() {
    let server = Scripted::start(|_, _, s| {
        json(s, 200, "", "{not json");
        Next::KeepAlive
    });
    let err = client(&server, fast_retries(2)).list().page().unwrap_err();
    assert!(
        matches!(&err, Error::Decode { snippet, .. } if snippet == "{not json"),
        "{err:?}"
    );
    assert_eq!(server.received().len(), 1, "decode errors are not retried");
}

#[test]
fn an_html_502_keeps_a_snippet() {
    let server = Scripted::start(|_, _, s| {
        let body = "<html><body><h1>502 Bad Gateway</h1></body></html>";
        let _ = write!(
            s,
            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        Next::KeepAlive
    });
    let err = client(&server, fast_retries(1))
        .retrieve("or_file_1")
        .unwrap_err();
    let api = err.api().unwrap();
    assert_eq!(api.kind(), ApiErrorKind::BadGateway);
    assert_eq!(api.message(), "Bad Gateway");
    assert!(
        api.body_snippet()
            .unwrap()
            .contains("<h1>502 Bad Gateway</h1>")
    );
    assert_eq!(server.received().len(), 2, "502 is retried");
}

#[test]
fn a_10_mb_error_body_is_capped() {
    let server = Scripted::start(|_, _, s| {
        let _ = write!(
            s,
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 10485760\r\n\r\n"
        );
        let chunk = vec![b'e'; 64 * 1024];
        for _ in 0..160 {
            if s.write_all(&chunk).is_err() {
                break;
            }
        }
        Next::Close
    });
    let started = Instant::now();
    let err = client(&server, RetryPolicy::none())
        .list()
        .page()
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    let api = err.api().unwrap();
    assert_eq!(api.kind(), ApiErrorKind::Server);
    assert_eq!(api.body_snippet().unwrap().len(), 1024);
}

#[test]
fn a_list_that_repeats_its_cursor_is_an_error_not_a_loop() {
    let server = Scripted::start(|_, _, s| {
        json(s, 200, "", LIST_PAGE_MORE);
        Next::KeepAlive
    });
    let pages: Vec<_> = client(&server, RetryPolicy::none())
        .list()
        .pages()
        .take(10)
        .collect();
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert!(pages[0].is_ok());
    assert!(
        matches!(&pages[1], Err(Error::Protocol(m)) if m.contains("repeated")),
        "{pages:?}"
    );
}

#[test]
fn a_redirect_to_another_host_does_not_carry_the_key() {
    let elsewhere = Scripted::start(|_, _, s| {
        json(s, 200, "", &file_json("or_file_1"));
        Next::KeepAlive
    });
    let target = format!(
        "http://localhost:{}/api/v1/files/or_file_1",
        elsewhere.addr.port()
    );
    let origin = Scripted::start(move |_, _, s| {
        let _ = write!(
            s,
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n"
        );
        Next::KeepAlive
    });
    let meta = client(&origin, RetryPolicy::none())
        .retrieve("or_file_1")
        .unwrap();
    assert_eq!(meta.id, "or_file_1");
    assert!(origin.received()[0].header("authorization").is_some());
    let there = &elsewhere.received()[0];
    assert_eq!(there.header("authorization"), None, "{there:?}");
}

#[test]
fn a_server_that_closes_an_idle_pooled_connection_does_not_break_the_next_call() {
    let server = Scripted::start(|_, _, s| {
        json(s, 200, "", &file_json("or_file_1"));
        std::thread::sleep(Duration::from_millis(100));
        Next::Close
    });
    let client = client(&server, RetryPolicy::none());
    client.retrieve("or_file_1").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    client.retrieve("or_file_1").unwrap();
    assert_eq!(server.accepted(), 2);
}

#[test]
fn uploads_are_retried_only_when_replayable_and_not_stored() {
    let statuses = |first: u16| {
        Scripted::start(move |n, _, s| {
            if n == 0 {
                api_error(s, first, "", "x");
            } else {
                json(s, 200, "", &file_json("or_file_1"));
            }
            Next::KeepAlive
        })
    };
    let server = statuses(503);
    client(&server, fast_retries(2))
        .upload(Upload::bytes("a.txt", "abc"))
        .unwrap();
    assert_eq!(server.received().len(), 2, "bytes are replayable");
    let dir = temp_dir("upload-retry");
    std::fs::write(dir.join("p.txt"), "abc").unwrap();
    let server = statuses(429);
    client(&server, fast_retries(2))
        .upload_path(dir.join("p.txt"))
        .unwrap();
    assert_eq!(server.received().len(), 2, "paths are replayable");
    assert_eq!(
        server.received()[0].body,
        server.received()[1].body,
        "the retry resends the same bytes"
    );
    let server = statuses(503);
    let err = client(&server, fast_retries(2))
        .upload(Upload::reader("r.txt", &b"abc"[..], 3))
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(server.received().len(), 1, "a reader cannot be replayed");
    let server = statuses(500);
    let err = client(&server, fast_retries(2))
        .upload(Upload::bytes("a.txt", "abc"))
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    let methods: Vec<String> = server.received().into_iter().map(|r| r.method).collect();
    // A 500 may have stored the file: it is looked for (this server's answer to the listing
    // is no page, so nothing is known) and never sent again.
    assert_eq!(methods, ["POST", "GET"], "a 500 may have stored the file");
}

/// A server whose first answer to a delete is `first`, and 404 from then on.
fn first_then_404(
    first: impl Fn(&mut std::net::TcpStream) -> Next + Send + Sync + 'static,
) -> Scripted {
    Scripted::start(move |n, _, s| {
        if n == 0 {
            return first(s);
        }
        api_error(s, 404, "", "Resource not found");
        Next::KeepAlive
    })
}

#[test]
fn a_retried_delete_whose_first_try_may_have_gone_through_counts_a_404_as_deleted() {
    // The first answer is lost (the connection closes after the request was read), or is a
    // failure status that does not say the delete was refused: the file may be gone by then.
    let lost = first_then_404(|_| Next::Close);
    let server_error = first_then_404(|s| {
        api_error(s, 500, "", "x");
        Next::KeepAlive
    });
    let gateway = first_then_404(|s| {
        api_error(s, 502, "", "x");
        Next::KeepAlive
    });
    for server in [lost, server_error, gateway] {
        let gone = client(&server, fast_retries(2))
            .delete("or_file_1")
            .unwrap();
        assert_eq!(gone.id, "or_file_1");
        assert!(gone.deleted);
        assert_eq!(server.received().len(), 2);
    }
}

#[test]
fn a_404_after_a_refused_first_try_is_an_error_not_a_deletion() {
    // 408, 429 and 503 say the delete was not done: a 404 on the retry means the file was
    // never there (a typo), and reporting it deleted would be a success for nothing.
    for first in [408, 429, 503] {
        let server = first_then_404(move |s| {
            api_error(s, first, "Retry-After: 0\r\n", "busy");
            Next::KeepAlive
        });
        let err = client(&server, fast_retries(2))
            .delete("or_file_typo")
            .unwrap_err();
        assert_eq!(err.status(), Some(404), "after {first}: {err:?}");
        assert_eq!(server.received().len(), 2);
    }
    let plain = Scripted::start(|_, _, s| {
        api_error(s, 404, "", "Resource not found");
        Next::KeepAlive
    });
    let err = client(&plain, fast_retries(2))
        .delete("or_file_1")
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "a first-try 404 is still an error");
}

#[test]
fn per_call_overrides_change_only_their_clone() {
    let server = Scripted::start(|_, _, s| {
        api_error(s, 503, "", "x");
        Next::KeepAlive
    });
    let client = client(&server, fast_retries(3));
    client
        .with_retry(RetryPolicy::none())
        .list()
        .page()
        .unwrap_err();
    assert_eq!(server.received().len(), 1);
    client.list().page().unwrap_err();
    assert_eq!(server.received().len(), 5);
}

#[test]
fn the_emulator_fault_injection_drives_the_client_retry_loop() {
    let emulator = Emulator::start().unwrap();
    let client = client_at(emulator.base_url(), emulator.api_key(), fast_retries(2));
    emulator.inject(Fault::DropConnection, 1);
    emulator.inject(Fault::status(502), 1);
    assert!(client.list().page().unwrap().data.is_empty());
    let statuses: Vec<u16> = emulator.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![0, 502, 200]);
}

#[test]
fn a_list_that_hands_back_the_starting_cursor_is_an_error_not_a_loop() {
    let server = Scripted::start(|_, _, s| {
        json(s, 200, "", LIST_PAGE_MORE);
        Next::KeepAlive
    });
    let pages: Vec<_> = client(&server, RetryPolicy::none())
        .list()
        .cursor("c1")
        .pages()
        .take(10)
        .collect();
    assert_eq!(pages.len(), 1, "{pages:?}");
    assert!(matches!(&pages[0], Err(Error::Protocol(_))), "{pages:?}");
}
