//! The public API's shape: one form for each kind of setter, values that cross threads, and
//! types that read back what they write.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::emulator_and_client;
use openrouter_files::{FilesClient, ListPosition, Provider, Upload};

#[test]
fn timeouts_take_a_duration_or_none_on_the_builder_and_per_call() {
    // An http base URL: this test is about setters, and runs in a build without TLS too.
    let client = FilesClient::builder()
        .api_key("k")
        .base_url("http://127.0.0.1:9/api/v1")
        .connect_timeout(None)
        .response_timeout(Duration::from_secs(5))
        .stall_timeout(Some(Duration::from_secs(7)))
        .build()
        .unwrap();
    let shown = format!("{client:?}");
    assert!(shown.contains("connect: None"), "{shown}");
    assert!(shown.contains("response: Some(5s)"), "{shown}");
    assert!(shown.contains("stall: Some(7s)"), "{shown}");
    let scoped = client
        .with_connect_timeout(Duration::from_secs(1))
        .with_response_timeout(None)
        .with_stall_timeout(Some(Duration::from_secs(2)));
    let shown = format!("{scoped:?}");
    assert!(shown.contains("connect: Some(1s)"), "{shown}");
    assert!(shown.contains("response: None"), "{shown}");
    assert!(shown.contains("stall: Some(2s)"), "{shown}");
}

#[test]
fn every_provider_setter_takes_a_name_or_a_provider() {
    let (emulator, client) = emulator_and_client();
    client.with_provider("openai").list().page().unwrap();
    client.list().provider("anthropic").page().unwrap();
    client
        .with_provider(Provider::OpenAi)
        .list()
        .page()
        .unwrap();
    client
        .with_provider("openai")
        .with_openrouter_storage()
        .list()
        .page()
        .unwrap();
    let built = FilesClient::builder()
        .api_key(emulator.api_key())
        .base_url(emulator.base_url())
        .provider("anthropic")
        .build()
        .unwrap();
    built.list().page().unwrap();
    let queries: Vec<String> = emulator
        .requests()
        .into_iter()
        .map(|r| r.query.unwrap_or_default())
        .collect();
    assert_eq!(
        queries,
        [
            "provider=openai",
            "provider=anthropic",
            "provider=openai",
            "",
            "provider=anthropic"
        ]
    );
}

#[test]
fn setters_take_owned_strings_too() {
    let (emulator, _) = emulator_and_client();
    let client = FilesClient::builder()
        .api_key(emulator.api_key().to_string())
        .base_url(format!("{}/", emulator.base_url()))
        .user_agent(String::from("tests/1"))
        .header(String::from("X-Test"), String::from("1"))
        .build()
        .unwrap();
    assert_eq!(
        client.base_url(),
        emulator.base_url(),
        "trailing slash trimmed"
    );
    let name = String::from("owned.txt");
    let meta = client
        .upload(Upload::bytes(name, "abc").content_type(String::from("text/plain")))
        .unwrap();
    assert_eq!(meta.filename, "owned.txt");
}

#[test]
fn an_upload_built_on_one_thread_is_sent_from_another() {
    let (_emulator, client) = emulator_and_client();
    let reported = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&reported);
    let upload = Upload::reader("threaded.txt", std::io::Cursor::new(vec![b'x'; 10]), 10)
        .on_progress(move |sent, _| seen.store(sent, Ordering::SeqCst));
    let meta = std::thread::spawn(move || client.upload(upload))
        .join()
        .unwrap()
        .unwrap();
    assert_eq!(meta.size_bytes, 10);
    assert_eq!(reported.load(Ordering::SeqCst), 10);
}

#[test]
fn list_positions_read_back_what_they_write() {
    for position in [
        ListPosition::Start,
        ListPosition::Cursor("eyJhZnRlciI6N30".into()),
        ListPosition::After("or_file_1".into()),
        ListPosition::AfterId("or_file_2".into()),
        ListPosition::BeforeId("or_file_3".into()),
    ] {
        let json = serde_json::to_string(&position).unwrap();
        assert_eq!(
            serde_json::from_str::<ListPosition>(&json).unwrap(),
            position
        );
    }
    assert_eq!(
        serde_json::to_string(&ListPosition::Start).unwrap(),
        r#""start""#
    );
    assert_eq!(ListPosition::default(), ListPosition::Start);
}
