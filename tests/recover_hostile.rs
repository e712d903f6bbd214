//! Adversarial review of the search for a lost upload: a listing that never ends. (Without a
//! deadline the search stops after `MAX_PAGES` pages, ten thousand: too many to wait for in
//! a test.)

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::fast_retries;
use common::scripted::{Next, Scripted, api_error, file_json, json};
use openrouter_files::{Error, FilesClient, Upload};
use openrouter_files_emulator::{Emulator, Fault, Route};

#[test]
fn under_a_deadline_a_listing_that_pages_for_ever_ends_the_search_and_nothing_is_sent_again() {
    let posts = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&posts);
    let server = Scripted::start(move |n, request, stream| {
        if request.method == "POST" {
            seen.fetch_add(1, Ordering::SeqCst);
            // The body was read: the file may be stored, the answer is lost.
            api_error(stream, 502, "", "bad gateway");
        } else {
            // A new position on every page, each with one file that is not the upload.
            let page = format!(
                r#"{{"_shape":"openrouter","data":[{}],"has_more":true,"first_id":null,"last_id":null,"cursor":"c{n}"}}"#,
                file_json(&format!("or_file_{n}"))
            );
            json(stream, 200, "", &page);
        }
        Next::KeepAlive
    });
    let client = FilesClient::builder()
        .api_key("sk-or-test")
        .base_url(server.url("/api/v1"))
        .build()
        .unwrap()
        .with_retry(fast_retries(2))
        // Each page is quick: only a deadline on the whole search can end it.
        .with_deadline(Duration::from_secs(2));
    let result = client.upload(Upload::bytes("x.txt", &b"fresh"[..]));
    assert!(
        matches!(&result, Err(Error::Api(api)) if api.status() == 502),
        "{result:?}"
    );
    assert_eq!(posts.load(Ordering::SeqCst), 1, "sent again on a guess");
}

#[test]
fn an_earlier_file_of_the_same_name_and_size_is_not_taken_for_an_upload_that_was_not_stored() {
    // Version 1 is stored; version 2 (same name, same size, other bytes) is sent moments later
    // and refused by a gateway before the server stored it. Version 1 is not version 2.
    let emulator = Emulator::start().unwrap();
    let client = common::client_for(&emulator).with_retry(fast_retries(0));
    let first = client
        .upload(Upload::bytes("a.txt", &b"version 1"[..]))
        .unwrap();
    // `created_at` counts whole seconds: version 2 begins in a later one.
    std::thread::sleep(Duration::from_millis(1100));
    emulator.inject(Fault::status(502).on(Route::Upload), 1);
    let second = client.upload_detailed(Upload::bytes("a.txt", &b"version 2"[..]));
    assert!(
        !matches!(&second, Ok(u) if u.file.id == first.id),
        "version 1 reported as the upload of version 2: {second:?}"
    );
    // Not stored, and not guessed either way: an error naming the earlier file.
    assert!(
        matches!(&second, Err(Error::LostUpload { candidates, .. }) if *candidates == [first.id.clone()]),
        "{second:?}"
    );
}
