//! Uploads whose answer is lost after the server stored the file (a reset or a gateway's 502
//! after the body was sent): found in the workspace rather than reported failed or sent twice.

mod common;

use common::{client_for, fast_retries, temp_dir, text};
use openrouter_files::{Error, FilesClient, Upload};
use openrouter_files_emulator::{Emulator, Fault, Route};

fn retrying_client(emulator: &Emulator) -> FilesClient {
    client_for(emulator).with_retry(fast_retries(2))
}

fn uploads_sent(emulator: &Emulator) -> usize {
    emulator
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count()
}

fn stored(client: &FilesClient) -> Vec<(String, u64)> {
    client
        .list()
        .files()
        .map(|f| f.map(|f| (f.filename, f.size_bytes)).unwrap())
        .collect()
}

#[test]
fn an_upload_stored_then_dropped_is_found_and_not_sent_again() {
    let emulator = Emulator::start().unwrap();
    let client = retrying_client(&emulator);
    emulator.inject(Fault::DropAfterRunning.on(Route::Upload), 1);
    let uploaded = client
        .upload_detailed(Upload::bytes("a.txt", text(100)))
        .unwrap();
    assert!(uploaded.found);
    assert_eq!(uploaded.file.filename, "a.txt");
    assert_eq!(stored(&client), [("a.txt".to_string(), 100)]);
    assert_eq!(uploads_sent(&emulator), 1);
}

#[test]
fn an_upload_stored_then_answered_502_is_found() {
    let emulator = Emulator::start().unwrap();
    let client = retrying_client(&emulator);
    emulator.inject(Fault::StatusAfterRunning(502).on(Route::Upload), 1);
    let file = client.upload(Upload::bytes("b.csv", text(10))).unwrap();
    assert_eq!(file.size_bytes, 10);
    assert_eq!(stored(&client).len(), 1);
    assert_eq!(uploads_sent(&emulator), 1);
}

#[test]
fn a_reader_upload_whose_answer_was_lost_is_found_too() {
    let emulator = Emulator::start().unwrap();
    let client = retrying_client(&emulator);
    emulator.inject(Fault::DropAfterRunning.on(Route::Upload), 1);
    let body = text(64);
    let uploaded = client
        .upload_detailed(Upload::reader("r.txt", &body[..], 64))
        .unwrap();
    assert!(uploaded.found);
    assert_eq!(stored(&client).len(), 1);
}

#[test]
fn an_upload_dropped_before_storing_is_sent_again_once() {
    let emulator = Emulator::start().unwrap();
    let client = retrying_client(&emulator);
    emulator.inject(Fault::DropConnection.on(Route::Upload), 1);
    let uploaded = client
        .upload_detailed(Upload::bytes("c.txt", text(5)))
        .unwrap();
    assert!(!uploaded.found, "the server confirmed the second send");
    assert_eq!(stored(&client), [("c.txt".to_string(), 5)]);
    assert_eq!(uploads_sent(&emulator), 2);
}

#[test]
fn a_reader_upload_not_stored_is_an_error_and_not_sent_again() {
    let emulator = Emulator::start().unwrap();
    let client = retrying_client(&emulator);
    emulator.inject(Fault::DropConnection.on(Route::Upload), 1);
    let body = text(8);
    let error = client
        .upload(Upload::reader("r.txt", &body[..], 8))
        .unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert!(stored(&client).is_empty());
    assert_eq!(uploads_sent(&emulator), 1);
}

#[test]
fn several_files_that_may_be_the_upload_are_an_error_listing_them() {
    let emulator = Emulator::builder()
        .seed_file("d.txt", text(7))
        .seed_file("other.txt", text(7))
        .start()
        .unwrap();
    let client = retrying_client(&emulator);
    emulator.inject(Fault::StatusAfterRunning(502).on(Route::Upload), 1);
    let error = client.upload(Upload::bytes("d.txt", text(7))).unwrap_err();
    match &error {
        Error::LostUpload {
            filename,
            candidates,
            source,
        } => {
            assert_eq!(filename, "d.txt");
            assert_eq!(candidates.len(), 2, "the seeded d.txt and the new one");
            assert_eq!(source.status(), Some(502));
            for id in candidates {
                assert!(error.to_string().contains(id.as_str()));
            }
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(uploads_sent(&emulator), 1, "never sent again on a guess");
}

#[test]
fn a_name_with_a_path_in_it_is_found_as_sent() {
    let emulator = Emulator::start().unwrap();
    let client = retrying_client(&emulator);
    // The emulator keeps the name as sent (a server keeping the base name is matched too:
    // see the unit test of `same_upload_name`).
    emulator.inject(Fault::StatusAfterRunning(500).on(Route::Upload), 1);
    let uploaded = client
        .upload_detailed(Upload::bytes("dir/e.txt", text(3)))
        .unwrap();
    assert!(uploaded.found);
    assert_eq!(uploaded.file.filename, "dir/e.txt");
    assert_eq!(uploads_sent(&emulator), 1);
}

#[test]
fn with_find_lost_off_a_lost_answer_is_the_error() {
    let emulator = Emulator::start().unwrap();
    let client = retrying_client(&emulator);
    emulator.inject(Fault::StatusAfterRunning(502).on(Route::Upload), 1);
    let error = client
        .upload(Upload::bytes("f.txt", text(3)).find_lost(false))
        .unwrap_err();
    assert_eq!(error.status(), Some(502));
    assert_eq!(uploads_sent(&emulator), 1);
}

/// A batch of five path uploads, one worker, with the answer to upload `at` lost.
fn batch_with_a_lost_answer_at(at: usize, fault: Fault) {
    let emulator = Emulator::start().unwrap();
    let client = retrying_client(&emulator);
    let dir = temp_dir(&format!("lost-{at}"));
    let paths: Vec<_> = (0..5)
        .map(|i| {
            let path = dir.join(format!("file {i}.txt"));
            std::fs::write(&path, text(10 + i)).unwrap();
            path
        })
        .collect();
    // A zero delay lets an upload through untouched: the fault waits behind `at` of them.
    if at > 0 {
        emulator.inject(
            Fault::Delay(std::time::Duration::ZERO).on(Route::Upload),
            at,
        );
    }
    emulator.inject(fault.on(Route::Upload), 1);
    let report = client.batch().concurrency(1).upload_paths(&paths);
    assert!(report.is_success(), "{report:?}");
    let mut names: Vec<_> = stored(&client).into_iter().map(|(n, _)| n).collect();
    names.sort();
    let expected: Vec<_> = (0..5).map(|i| format!("file {i}.txt")).collect();
    assert_eq!(names, expected, "each file stored exactly once");
    assert_eq!(uploads_sent(&emulator), 5);
}

#[test]
fn a_lost_answer_at_the_first_file_of_a_batch_is_found() {
    batch_with_a_lost_answer_at(0, Fault::DropAfterRunning);
    batch_with_a_lost_answer_at(0, Fault::StatusAfterRunning(502));
}

#[test]
fn a_lost_answer_in_the_middle_of_a_batch_is_found() {
    batch_with_a_lost_answer_at(2, Fault::DropAfterRunning);
    batch_with_a_lost_answer_at(2, Fault::StatusAfterRunning(502));
}

#[test]
fn a_lost_answer_at_the_last_file_of_a_batch_is_found() {
    batch_with_a_lost_answer_at(4, Fault::DropAfterRunning);
    batch_with_a_lost_answer_at(4, Fault::StatusAfterRunning(502));
}
