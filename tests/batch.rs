//! Batches against the emulator: per-item results in input order, bad input failing only its
//! item, connection reuse, the shared Retry-After pause, early stop, panics, atomic downloads,
//! and exactly-once uploads under injected faults.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::scripted::{self, Next, Scripted};
use common::{TestDir, client_for, emulator_and_client, temp_dir, text};
use openrouter_files::{Attempt, Error, FilesClient, Outcome, RetryPolicy, Upload};
use openrouter_files_emulator::{DEFAULT_WORKSPACE, Emulator, Fault};

/// Writes `files` (name, size) into a fresh directory and returns their paths.
fn folder(name: &str, files: &[(&str, usize)]) -> (TestDir, Vec<PathBuf>) {
    let dir = temp_dir(name);
    let paths = files
        .iter()
        .map(|(file, size)| {
            let path = dir.join(file);
            std::fs::write(&path, text(*size)).unwrap();
            path
        })
        .collect();
    (dir, paths)
}

fn stored_names(client: &FilesClient) -> Vec<String> {
    client
        .list()
        .into_iter()
        .map(|f| f.unwrap().filename)
        .collect::<Vec<_>>()
}

#[test]
fn bad_items_fail_alone_before_anything_is_sent_and_the_report_keeps_input_order() {
    let server = Emulator::builder().upload_limit(1000).start().unwrap();
    let client = FilesClient::builder()
        .api_key(server.api_key())
        .base_url(server.base_url())
        .retry(RetryPolicy::none())
        .upload_limit(1000)
        .build()
        .unwrap();
    let (dir, mut paths) = folder(
        "bad-items",
        &[
            ("a.txt", 10),
            ("empty.txt", 0),
            ("big.txt", 1001),
            ("b.txt", 20),
        ],
    );
    paths.insert(1, dir.join("missing.txt"));
    let report = client.batch().concurrency(3).upload_paths(&paths);

    let inputs: Vec<&PathBuf> = report.items().iter().map(|i| &i.input).collect();
    assert_eq!(inputs, paths.iter().collect::<Vec<_>>());
    let sizes: Vec<Option<u64>> = report
        .items()
        .iter()
        .map(|i| i.outcome.done().map(|m| m.size_bytes))
        .collect();
    assert_eq!(sizes, [Some(10), None, None, None, Some(20)]);
    assert!(matches!(
        report.items()[1].outcome,
        Outcome::Failed(Error::Io { .. })
    ));
    for i in [2, 3] {
        assert!(
            matches!(
                report.items()[i].outcome,
                Outcome::Failed(Error::InvalidInput(_))
            ),
            "{:?}",
            report.items()[i]
        );
    }
    let posts = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(posts, 2, "only the two good files were sent");
    assert!(!report.is_success());
    assert_eq!(report.failed().count(), 3);
}

#[test]
fn n_workers_use_at_most_n_connections() {
    let (server, client) = emulator_and_client();
    let id = server
        .seed_file_in(DEFAULT_WORKSPACE, "a.txt", b"hello")
        .unwrap();
    let before = server.connections_accepted();
    let report = client.batch().concurrency(8).retrieve(vec![id; 160]);
    assert!(report.is_success(), "{:?}", report.first_error());
    let used = server.connections_accepted() - before;
    assert!(
        (1..=8).contains(&used),
        "8 workers opened {used} connections"
    );
}

/// The same against a bare thread-per-connection server, with the pool setting shown to be
/// what makes it hold.
///
/// The calls meet so that the check does not depend on how the threads happen to be
/// scheduled: the server answers none of the first eight until all eight are in flight (eight
/// connections open at once), no worker goes on until all eight have their answers (eight
/// connections idle at once, so the pool keeps as many of them as it may), and the server
/// answers none of the next eight until all eight are in flight (eight connections in use at
/// once: those the pool kept, and new ones for the rest).
#[test]
fn the_pool_keeps_a_connection_for_each_worker() {
    const WORKERS: usize = 8;
    // Whether `id` is one of the first `n` calls.
    let among_first = |n: usize, id: &str| {
        id.trim_start_matches("or_file_")
            .parse::<usize>()
            .is_ok_and(|i| i < n)
    };
    let first_calls = |id: &str| among_first(WORKERS, id);
    let in_flight = std::sync::Arc::new(std::sync::Barrier::new(WORKERS));
    let server = Scripted::start(move |_, request, stream| {
        let id = request.target.rsplit('/').next().unwrap_or("x").to_string();
        if among_first(2 * WORKERS, &id) {
            in_flight.wait();
        }
        scripted::json(stream, 200, "", &scripted::file_json(&id));
        Next::KeepAlive
    });
    let ids: Vec<String> = (0..160).map(|i| format!("or_file_{i}")).collect();
    let answered = std::sync::Barrier::new(WORKERS);
    let run = |builder: openrouter_files::FilesClientBuilder| {
        let client = builder
            .api_key("sk-test")
            .base_url(server.url(""))
            .retry(RetryPolicy::none())
            .build()
            .unwrap();
        let before = server.accepted();
        let report = client.batch().concurrency(WORKERS).run(&ids, |client, id| {
            let file = client.retrieve(id);
            if first_calls(id) {
                answered.wait();
            }
            file
        });
        assert!(report.is_success(), "{:?}", report.first_error());
        server.accepted() - before
    };
    let used = run(FilesClient::builder());
    assert_eq!(used, WORKERS, "8 workers opened {used} connections");
    // The pool setting is what makes this hold: with 2 idle connections kept, the other 6
    // are closed when all 8 are idle, and the next eight calls, in flight at once, must open
    // 6 new ones.
    let used = run(FilesClient::builder().max_idle_connections(2));
    assert!(
        used >= WORKERS + 6,
        "with a pool of 2, 8 workers opened only {used} connections"
    );
}

#[test]
fn a_retry_after_pauses_every_worker_of_the_batch() {
    let server = Emulator::start().unwrap();
    let client = client_for(&server).with_retry(RetryPolicy::default().with_max_retries(2));
    let id = server
        .seed_file_in(DEFAULT_WORKSPACE, "a.txt", b"hello")
        .unwrap();
    server.inject(Fault::status(429).with_header("Retry-After", "2"), 1);
    let finished = Mutex::new(Vec::new());
    let start = Instant::now();
    let report = client
        .batch()
        .concurrency(4)
        .on_progress(|_| finished.lock().unwrap().push(start.elapsed()))
        .retrieve(vec![id; 40]);
    assert!(report.is_success(), "{:?}", report.first_error());
    let finished = finished.into_inner().unwrap();
    assert_eq!(finished.len(), 40);
    // Once the 429 has arrived, only calls already on the wire (and any that slipped in
    // before the worker that got it could close the gate) finish before the pause ends.
    // Without a shared pause the other workers finish all 39 in that time.
    let early = finished
        .iter()
        .filter(|t| **t < Duration::from_millis(1500))
        .count();
    assert!(early <= 20, "{early} calls finished during the pause");
    assert!(start.elapsed() >= Duration::from_secs(2));
}

#[test]
fn every_file_is_uploaded_exactly_once_under_injected_faults() {
    let server = Emulator::start().unwrap();
    let client = client_for(&server).with_retry(
        RetryPolicy::default()
            .with_max_retries(4)
            .with_base_delay(Duration::from_millis(5)),
    );
    let names: Vec<String> = (0..40).map(|i| format!("f{i:02}.txt")).collect();
    server.inject(Fault::status(503), 4);
    server.inject(Fault::status(429).with_header("Retry-After", "0"), 3);
    server.inject(Fault::DropConnection, 3);
    server.inject(Fault::status(502), 2);
    let report = client
        .batch()
        .concurrency(6)
        .upload_each(&names, |name| Upload::bytes(name.as_str(), name.as_bytes()));

    let mut stored: HashMap<String, usize> = HashMap::new();
    for name in stored_names(&client) {
        *stored.entry(name).or_default() += 1;
    }
    assert!(stored.values().all(|&n| n == 1), "stored twice: {stored:?}");
    for item in report.items() {
        let expected = usize::from(item.outcome.is_done());
        assert_eq!(
            stored.get(item.input.as_str()).copied().unwrap_or(0),
            expected,
            "{} reported {:?}",
            item.input,
            item.outcome
        );
    }
    // Statuses that mean "not stored" were retried; dropped connections (where the file may
    // have been stored) and 502s (not retried for uploads) fail their items.
    assert!(report.done().count() >= 35, "{:?}", report.first_error());
    assert_eq!(report.skipped().count(), 0);
}

#[test]
fn stop_on_error_skips_what_has_not_started() {
    let (server, client) = emulator_and_client();
    let mut ids: Vec<String> = (0..6)
        .map(|i| {
            server
                .seed_file_in(DEFAULT_WORKSPACE, &format!("{i}.txt"), b"x")
                .unwrap()
        })
        .collect();
    ids.insert(2, "or_file_missing".into());

    let report = client
        .batch()
        .concurrency(1)
        .stop_on_error(true)
        .delete(&ids);
    let kinds: Vec<&str> = report
        .items()
        .iter()
        .map(|i| match i.outcome {
            Outcome::Done(_) => "done",
            Outcome::Failed(_) => "failed",
            Outcome::Skipped => "skipped",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "done", "done", "failed", "skipped", "skipped", "skipped", "skipped"
        ]
    );
    assert_eq!(report.first_error().and_then(Error::status), Some(404));

    let rest = client.batch().concurrency(3).delete(&ids);
    assert_eq!(
        rest.done().count(),
        4,
        "without stop_on_error the rest go on"
    );
}

#[test]
fn a_cancel_flag_stops_new_work() {
    let (server, client) = emulator_and_client();
    let id = server
        .seed_file_in(DEFAULT_WORKSPACE, "a.txt", b"x")
        .unwrap();
    let cancel = AtomicBool::new(false);
    let report = client
        .batch()
        .concurrency(1)
        .cancel_flag(&cancel)
        .on_progress(|p| {
            if p.files_done == 3 {
                cancel.store(true, Ordering::SeqCst);
            }
        })
        .retrieve(vec![id; 10]);
    assert_eq!(report.done().count(), 3);
    assert_eq!(report.skipped().count(), 7);
    assert_eq!(server.requests().len(), 3);
}

#[test]
fn a_panicking_callback_stops_the_batch_and_reaches_the_caller() {
    let (server, client) = emulator_and_client();
    let id = server
        .seed_file_in(DEFAULT_WORKSPACE, "a.txt", b"x")
        .unwrap();
    let ids = vec![id; 200];
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        client
            .batch()
            .concurrency(4)
            .on_progress(|p| {
                if p.files_done == 5 {
                    panic!("progress bar broke");
                }
            })
            .retrieve(&ids)
    }));
    let payload = caught.expect_err("the panic must reach the caller");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"progress bar broke"));
    let sent = server.requests().len();
    assert!(
        sent < 200,
        "the batch went on after the panic ({sent} calls)"
    );

    let op_panics = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        client.batch().run([1, 2, 3], |_, n| {
            assert_ne!(*n, 2, "item two is bad");
            Ok(*n)
        })
    }));
    assert!(op_panics.is_err());
}

#[test]
fn downloads_land_atomically_named_by_id_and_unsafe_ids_fail_alone() {
    let (server, client) = emulator_and_client();
    let a = server
        .seed_file_in(DEFAULT_WORKSPACE, "a.bin", &text(5000))
        .unwrap();
    let b = server
        .seed_file_in(DEFAULT_WORKSPACE, "b.bin", &text(7000))
        .unwrap();
    let dir = temp_dir("batch-download");
    server.inject(Fault::TruncateDownload { after_bytes: 100 }, 1);
    let ids = [a.clone(), "../escape".into(), b.clone(), String::new()];
    let report = client.batch().concurrency(1).download_to_dir(&ids, &dir);

    assert!(matches!(
        report.items()[0].outcome,
        Outcome::Failed(Error::Truncated { .. })
    ));
    for i in [1, 3] {
        assert!(matches!(
            report.items()[i].outcome,
            Outcome::Failed(Error::InvalidInput(_))
        ));
    }
    let saved = report.items()[2].outcome.done().unwrap();
    assert_eq!((saved.path.clone(), saved.bytes), (dir.join(&b), 7000));
    assert_eq!(std::fs::read(dir.join(&b)).unwrap(), text(7000));
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        [std::ffi::OsString::from(&b)],
        "no partial or temp file"
    );
    assert_eq!(
        server.requests().len(),
        2,
        "nothing was sent for the unsafe ids"
    );
}

#[test]
fn progress_counts_files_and_bytes_up_to_the_totals() {
    let (_server, client) = emulator_and_client();
    let (_folder, paths) = folder(
        "progress",
        &[("a.txt", 300_000), ("b.txt", 10), ("c.txt", 600_000)],
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let report = client
        .batch()
        .concurrency(2)
        .on_progress(move |p| sink.lock().unwrap().push(*p))
        .upload_paths(&paths);
    assert!(report.is_success());
    let seen = seen.lock().unwrap();
    let last = seen.last().unwrap();
    assert_eq!((last.files_done, last.files_total), (3, 3));
    assert_eq!(last.bytes_done, 900_010);
    assert_eq!(last.bytes_total, Some(900_010));
    assert!(seen.len() > 3, "bytes are reported while files are sent");
    assert!(
        seen.windows(2)
            .all(|w| w[0].files_done <= w[1].files_done && w[0].bytes_done <= w[1].bytes_done)
    );
}

#[test]
fn an_empty_batch_returns_an_empty_report() {
    let (server, client) = emulator_and_client();
    let report = client.batch().delete(Vec::<String>::new());
    assert!(report.is_empty() && report.is_success());
    assert_eq!(server.connections_accepted(), 0);
}

#[test]
fn a_huge_concurrency_is_capped_and_still_does_every_item() {
    let server = Scripted::start(|_, _, stream| {
        scripted::json(stream, 200, "", &scripted::file_json("or_file_1"));
        Next::KeepAlive
    });
    let client = FilesClient::builder()
        .api_key("sk-test")
        .base_url(server.url(""))
        .build()
        .unwrap();
    let report = client
        .batch()
        .concurrency(usize::MAX)
        .retrieve(vec!["or_file_1"; 40]);
    assert!(report.is_success(), "{:?}", report.first_error());
    assert_eq!(report.len(), 40);
    assert!(server.accepted() <= 40);
}

/// An emulator with one file, whose next answer is a 429 asking for 40 s, and a client of it
/// that retries twice.
fn one_file_and_a_40_s_retry_after() -> (Emulator, FilesClient, String) {
    let server = Emulator::start().unwrap();
    let client = client_for(&server).with_retry(RetryPolicy::default().with_max_retries(2));
    let id = server
        .seed_file_in(DEFAULT_WORKSPACE, "a.txt", b"hello")
        .unwrap();
    server.inject(Fault::status(429).with_header("Retry-After", "40"), 1);
    (server, client, id)
}

/// Blocks until `server` has received its first request.
fn until_first_request(server: &Emulator) {
    while server.requests().is_empty() {
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_cancel_flag_ends_a_retry_after_pause_without_sending_anything_more() {
    let (server, client, id) = one_file_and_a_40_s_retry_after();
    let cancel = AtomicBool::new(false);
    let sent_at_cancel = std::thread::scope(|scope| {
        let canceller = scope.spawn(|| {
            // Once the 429 has closed the gate, every worker is paused; then the user cancels.
            until_first_request(&server);
            std::thread::sleep(Duration::from_millis(500));
            let sent = server.requests().len();
            cancel.store(true, Ordering::SeqCst);
            sent
        });
        let start = Instant::now();
        let report = client
            .batch()
            .concurrency(3)
            .cancel_flag(&cancel)
            .retrieve(vec![id.clone(); 9]);
        assert!(
            start.elapsed() < Duration::from_secs(25),
            "the batch slept through the Retry-After: {:?}",
            start.elapsed()
        );
        let sent = canceller.join().unwrap();
        assert_eq!(report.failed().count(), 1, "{:?}", report.items());
        assert_eq!(report.first_error().and_then(Error::status), Some(429));
        assert_eq!(
            report.done().count() + report.skipped().count(),
            8,
            "{:?}",
            report.items()
        );
        sent
    });
    assert_eq!(
        server.requests().len(),
        sent_at_cancel,
        "requests went out after the cancel flag was set"
    );
}

/// Blocks (at most 20 s) until `flag` is set.
fn until_set(flag: &AtomicBool) {
    let started = Instant::now();
    while !flag.load(Ordering::SeqCst) {
        assert!(started.elapsed() < Duration::from_secs(20), "never set");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_run_call_held_at_the_pause_when_the_batch_is_cancelled_fails_as_cancelled() {
    let (server, _, id) = one_file_and_a_40_s_retry_after();
    // Set when the first item's try got its 429 and the call will wait: the observer is told
    // once its worker has closed the batch's pause. (The server's having received the request
    // is too early: a second call sent before the pause closes went through.)
    let waiting = Arc::new(AtomicBool::new(false));
    let client = FilesClient::builder()
        .api_key(server.api_key())
        .base_url(server.base_url())
        .retry(RetryPolicy::default().with_max_retries(2))
        .observer(on_a_429_that_waits(&waiting))
        .build()
        .unwrap();
    let cancel = AtomicBool::new(false);
    let report = std::thread::scope(|scope| {
        scope.spawn(|| {
            // The first item's 429 closes the pause; the second item's call waits there.
            until_set(&waiting);
            std::thread::sleep(Duration::from_millis(500));
            cancel.store(true, Ordering::SeqCst);
        });
        client
            .batch()
            .concurrency(2)
            .cancel_flag(&cancel)
            .run(&[0, 1], |client, n| {
                if **n == 1 {
                    until_set(&waiting);
                }
                client.retrieve(&id)
            })
    });
    let outcomes: Vec<&Outcome<_>> = report.items().iter().map(|i| &i.outcome).collect();
    assert_eq!(outcomes[0].error().and_then(Error::status), Some(429));
    assert!(
        matches!(outcomes[1], Outcome::Failed(Error::Cancelled)),
        "{outcomes:?}"
    );
    let error = report.items()[1].outcome.error().unwrap();
    assert!(!error.is_retryable() && error.status().is_none());
    assert_eq!(
        std::io::Error::from(
            report
                .into_iter()
                .nth(1)
                .unwrap()
                .outcome
                .into_result()
                .unwrap_err()
                .unwrap()
        )
        .kind(),
        // Not `Interrupted`, which std's read loops would retry forever.
        std::io::ErrorKind::Other
    );
    assert_eq!(server.requests().len(), 1, "the held call sent nothing");
}

#[test]
fn the_byte_total_counts_only_what_can_be_sent_and_retried_bytes_count_once() {
    let server = Emulator::builder().upload_limit(100_000).start().unwrap();
    let client = FilesClient::builder()
        .api_key(server.api_key())
        .base_url(server.base_url())
        .retry(common::fast_retries(3))
        .upload_limit(100_000)
        .build()
        .unwrap();
    let (dir, mut paths) = folder(
        "progress-total",
        &[("a.txt", 50_000), ("empty.txt", 0), ("big.txt", 100_001)],
    );
    let sub = dir.join("sub");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("inside.txt"), text(10)).unwrap();
    paths.push(sub);
    server.inject(Fault::status(503), 2);
    let seen = Mutex::new(Vec::new());
    let report = client
        .batch()
        .concurrency(2)
        .on_progress(|p| seen.lock().unwrap().push(*p))
        .upload_paths(&paths);
    assert_eq!(report.done().count(), 1, "{:?}", report.items());
    let seen = seen.into_inner().unwrap();
    let last = seen.last().unwrap();
    assert_eq!((last.files_done, last.files_failed), (4, 3));
    assert_eq!(last.bytes_done, 50_000, "the retried upload counted once");
    assert_eq!(
        last.bytes_total,
        Some(50_000),
        "a directory, an empty file and one over the limit move no bytes"
    );
    assert!(seen.iter().all(|p| Some(p.bytes_done) <= p.bytes_total));
}

#[test]
fn the_same_id_twice_in_a_download_batch_lands_once_intact() {
    let (server, client) = emulator_and_client();
    let body = text(20_000);
    let id = server
        .seed_file_in(DEFAULT_WORKSPACE, "a.bin", &body)
        .unwrap();
    let dir = temp_dir("batch-download-twice");
    let report = client
        .batch()
        .concurrency(16)
        .download_to_dir(vec![id.clone(); 64], &dir);
    assert!(report.is_success(), "{:?}", report.first_error());
    assert_eq!(std::fs::read(dir.join(&id)).unwrap(), body);
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        [std::ffi::OsString::from(&id)],
        "no temporary file left"
    );
}

#[test]
fn a_progress_callback_panicking_mid_upload_reaches_the_caller_and_the_client_still_works() {
    let (_server, client) = emulator_and_client();
    let (_folder, paths) = folder(
        "panic-mid-upload",
        &[("a.txt", 600_000), ("b.txt", 600_000), ("c.txt", 10)],
    );
    for concurrency in [1, 3] {
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            client
                .batch()
                .concurrency(concurrency)
                .on_progress(|p| {
                    // Called from inside the upload's body read, while the request is on the wire.
                    if p.files_done == 0 && p.bytes_done > 0 {
                        panic!("bar broke mid-upload");
                    }
                })
                .upload_paths(&paths)
        }));
        let payload = caught.expect_err("the panic must reach the caller");
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"bar broke mid-upload")
        );
    }
    let make_panics = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        client.batch().upload_each(["x", "y"], |name| {
            assert_ne!(*name, "y", "cannot make y");
            Upload::bytes(*name, b"x".to_vec())
        })
    }));
    assert!(make_panics.is_err());
    // Nothing poisoned: the same client goes on.
    let report = client.batch().concurrency(3).upload_paths(&paths);
    assert!(report.is_success(), "{:?}", report.first_error());
}

#[test]
fn a_batch_pause_does_not_hold_other_calls_of_the_same_client_or_later_batches() {
    let (server, client, id) = one_file_and_a_40_s_retry_after();
    let cancel = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let outside = scope.spawn(|| {
            until_first_request(&server);
            std::thread::sleep(Duration::from_millis(300));
            // The batch is paused now; the client it came from, a clone and a second batch
            // are not.
            let start = Instant::now();
            client.retrieve(&id).unwrap();
            client.clone().retrieve(&id).unwrap();
            assert!(client.batch().retrieve([&id]).is_success());
            let took = start.elapsed();
            cancel.store(true, Ordering::SeqCst);
            took
        });
        let report = client
            .batch()
            .concurrency(2)
            .cancel_flag(&cancel)
            .retrieve(vec![id.clone(); 6]);
        let took = outside.join().unwrap();
        assert!(
            took < Duration::from_secs(20),
            "held by the batch: {took:?}"
        );
        assert_eq!(report.first_error().and_then(Error::status), Some(429));
    });
}

#[test]
fn ten_thousand_tiny_items_keep_input_order_with_at_most_the_cap_running() {
    use std::sync::atomic::AtomicUsize;
    let (server, client) = emulator_and_client();
    let id = server
        .seed_file_in(DEFAULT_WORKSPACE, "a.txt", b"x")
        .unwrap();
    let inputs: Vec<usize> = (0..10_000).collect();
    for concurrency in [1, 256, 10_000] {
        let (running, peak) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let report = client
            .batch()
            .concurrency(concurrency)
            .run(&inputs, |client, n| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                // A few real calls among the no-ops.
                if **n % 500 == 0 {
                    client.retrieve(&id)?;
                }
                running.fetch_sub(1, Ordering::SeqCst);
                Ok(**n * 2)
            });
        assert!(report.is_success(), "{:?}", report.first_error());
        let peak = peak.load(Ordering::SeqCst);
        assert!(
            peak <= concurrency.min(256),
            "{peak} at once for {concurrency}"
        );
        let values: Vec<usize> = report
            .into_iter()
            .map(|item| *item.input * 1000 + item.outcome.into_result().unwrap())
            .collect();
        let expected: Vec<usize> = inputs.iter().map(|n| n * 1000 + n * 2).collect();
        assert!(
            values == expected,
            "the report left input order at {concurrency}"
        );
    }
}

#[test]
fn an_upload_whose_answer_is_lost_after_the_body_arrived_is_sent_once_and_reported_failed() {
    // The server reads the whole upload (and may have stored it), then the connection drops
    // (first upload) or the answer comes too late (second): neither is sent again. The
    // listings that look for them get a body that is no page, so nothing is found.
    let uploads_seen = AtomicUsize::new(0);
    let server = Scripted::start(move |_, request, stream| match request.method.as_str() {
        "POST" => match uploads_seen.fetch_add(1, Ordering::SeqCst) {
            0 => Next::Close,
            _ => {
                std::thread::sleep(Duration::from_millis(2500));
                scripted::json(stream, 200, "", &scripted::file_json("late"));
                Next::Close
            }
        },
        _ => {
            scripted::json(stream, 200, "", &scripted::file_json("or_file_1"));
            Next::KeepAlive
        }
    });
    let client = common::client_at(&server.url("/api/v1"), "sk-test", common::fast_retries(3));
    for name in ["dropped.txt", "late.txt"] {
        let report = client
            .batch()
            .upload_each([name], |name| Upload::bytes(*name, b"stored?".to_vec()));
        let error = report
            .first_error()
            .expect("the upload cannot be reported done");
        assert!(matches!(error, Error::Transport(_)), "{error}");
    }
    // Each was looked for in the listing (which this server cannot answer, so nothing is
    // known) and neither was sent again.
    let uploads = server
        .received()
        .into_iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(uploads, 2, "an upload that may be stored was sent again");
}

#[test]
fn a_download_folder_that_disappears_mid_batch_fails_the_rest_cleanly() {
    let (server, client) = emulator_and_client();
    let ids: Vec<String> = (0..4)
        .map(|i| {
            server
                .seed_file_in(DEFAULT_WORKSPACE, &format!("{i}.txt"), &text(100))
                .unwrap()
        })
        .collect();
    let dir = temp_dir("batch-download-vanishing");
    let report = client
        .batch()
        .concurrency(1)
        .on_progress(|p| {
            if p.files_done == 1 {
                std::fs::remove_dir_all(&dir).unwrap();
            }
        })
        .download_to_dir(&ids, &dir);
    assert!(report.items()[0].outcome.is_done());
    for (_, error) in report.failed() {
        assert!(matches!(error, Error::Io { path: Some(_), .. }), "{error}");
    }
    assert_eq!(report.failed().count(), 3);
    assert!(!dir.exists(), "nothing recreated the folder");
}

/// An observer that sets `flag` once a try got a 429 and its call will wait before the next:
/// it is told once the call has closed its batch's pause.
fn on_a_429_that_waits(flag: &Arc<AtomicBool>) -> impl Fn(&Attempt<'_>) + Send + Sync + 'static {
    let flag = Arc::clone(flag);
    move |a: &Attempt<'_>| {
        if a.status == Some(429) && a.retry_in.is_some() {
            flag.store(true, Ordering::SeqCst);
        }
    }
}

#[test]
fn a_pause_set_by_another_worker_does_not_carry_a_call_past_its_deadline() {
    // Call "c" starts first (deadline 5 s); call "a" starts at 2 s and gets a 429 asking for
    // 4 s, which closes the shared gate until 6 s: past c's deadline. Only then does c get its
    // 503, so c gives up at once with it (no second try) instead of waiting for the gate and
    // timing out.
    let a_waits = Arc::new(AtomicBool::new(false));
    let seen = Arc::clone(&a_waits);
    let server = Scripted::start(move |_, request, stream| {
        if request.target.ends_with("/c") {
            until_set(&seen);
            scripted::api_error(stream, 503, "", "busy");
        } else if request.target.ends_with("/a") {
            scripted::api_error(stream, 429, "retry-after: 4\r\n", "slow down");
        } else {
            scripted::json(stream, 200, "", &scripted::file_json("x"));
        }
        Next::Close
    });
    let client = FilesClient::builder()
        .api_key("sk-test")
        .base_url(server.url("/api/v1"))
        .retry(common::fast_retries(2))
        .deadline(Duration::from_secs(5))
        .observer(on_a_429_that_waits(&a_waits))
        .build()
        .unwrap();
    // Once c has its outcome, the batch is cancelled: a's pause, which ends at 6 s, has
    // nothing more to show.
    let c_ended = AtomicBool::new(false);
    let start = Instant::now();
    let report =
        client
            .batch()
            .concurrency(2)
            .cancel_flag(&c_ended)
            .run(["c", "a"], |client, id| {
                if *id == "a" {
                    std::thread::sleep(Duration::from_secs(2));
                }
                let result = client.retrieve(id);
                if *id == "c" {
                    c_ended.store(true, Ordering::SeqCst);
                }
                result
            });
    let c = report.items()[0].outcome.error().expect("c cannot succeed");
    assert_eq!(c.status(), Some(503), "{c}");
    let c_sent = server
        .received()
        .iter()
        .filter(|r| r.target.ends_with("/c"))
        .count();
    assert_eq!(c_sent, 1, "c tried again: {c}");
    assert!(start.elapsed() >= Duration::from_secs(2));
}

#[test]
fn a_client_kept_from_a_stopped_batch_still_sends() {
    let (server, client) = emulator_and_client();
    let id = server
        .seed_file_in(DEFAULT_WORKSPACE, "a.txt", b"x")
        .unwrap();
    let kept = Mutex::new(None);
    let report = client
        .batch()
        .stop_on_error(true)
        .run([1], |client, _| -> Result<(), Error> {
            *kept.lock().unwrap() = Some(client.clone());
            Err(client.retrieve("or_file_missing").unwrap_err())
        });
    assert_eq!(report.failed().count(), 1);
    let kept = kept.into_inner().unwrap().unwrap();
    kept.retrieve(&id).expect("the batch's stop outlived it");
}

#[test]
fn a_retry_after_that_keeps_coming_ends_after_the_policys_tries() {
    // Each answer asks for 300 ms (`retry-after-ms`, so that the three rounds of pauses take
    // about a second, not three): the count of tries, not the wait, is what is checked.
    let server = Scripted::start(|_, _, stream| {
        scripted::api_error(stream, 429, "retry-after-ms: 300\r\n", "slow down");
        Next::KeepAlive
    });
    let client = common::client_at(&server.url("/api/v1"), "sk-test", common::fast_retries(1));
    let start = Instant::now();
    let report = client
        .batch()
        .concurrency(4)
        .retrieve(["a", "b", "c", "d", "e", "f", "g", "h"]);
    assert!(
        report
            .items()
            .iter()
            .all(|i| i.outcome.error().and_then(Error::status) == Some(429))
    );
    assert_eq!(
        server.received().len(),
        16,
        "two tries per item, never more"
    );
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn stop_on_error_with_every_worker_failing_at_once_runs_at_most_one_item_each() {
    let (server, client) = emulator_and_client();
    let ids: Vec<String> = (0..200).map(|i| format!("or_file_missing_{i}")).collect();
    let last = Mutex::new(None);
    let report = client
        .batch()
        .concurrency(8)
        .stop_on_error(true)
        .on_progress(|p| *last.lock().unwrap() = Some(*p))
        .delete(&ids);
    let failed = report.failed().count();
    assert!((1..=8).contains(&failed), "{failed} failed");
    assert_eq!(failed + report.skipped().count(), 200);
    assert_eq!(server.requests().len(), failed, "a skipped item was sent");
    let last = last.into_inner().unwrap().unwrap();
    assert_eq!((last.files_done, last.files_failed), (failed, failed));
}

#[test]
fn stop_on_error_ends_a_retry_after_pause_at_once() {
    // Both first requests are out before the 429 closes the gate (or "bad" would wait), and
    // the 404 comes once "slow"'s worker has closed the pause.
    let bad_sent = Arc::new(AtomicBool::new(false));
    let slow_waits = Arc::new(AtomicBool::new(false));
    let (sent, waits) = (Arc::clone(&bad_sent), Arc::clone(&slow_waits));
    let server = Scripted::start(move |_, request, stream| {
        if request.target.ends_with("/slow") {
            until_set(&sent);
            scripted::api_error(stream, 429, "retry-after: 40\r\n", "slow down");
        } else {
            sent.store(true, Ordering::SeqCst);
            until_set(&waits);
            scripted::api_error(stream, 404, "", "no such file");
        }
        Next::Close
    });
    let client = FilesClient::builder()
        .api_key("sk-test")
        .base_url(server.url("/api/v1"))
        .retry(common::fast_retries(2))
        .observer(on_a_429_that_waits(&slow_waits))
        .build()
        .unwrap();
    let start = Instant::now();
    let report = client
        .batch()
        .concurrency(2)
        .stop_on_error(true)
        .retrieve(["slow", "bad", "x", "y"]);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    let statuses: Vec<Option<u16>> = report
        .items()
        .iter()
        .map(|i| i.outcome.error().and_then(Error::status))
        .collect();
    assert_eq!(statuses, [Some(429), Some(404), None, None]);
    assert_eq!(report.skipped().count(), 2);
    assert_eq!(server.received().len(), 2);
}
