//! Helpers shared by the integration tests: emulator-backed clients, raw HTTP, and a small
//! scripted std::net server for byte-level checks. Everything binds 127.0.0.1.
#![allow(dead_code)]

pub mod generate;
pub mod scripted;

use openrouter_files::{FilesClient, RetryPolicy};
use openrouter_files_emulator::Emulator;

/// An emulator and a client pointed at it, with retries off unless a test turns them on.
pub fn emulator_and_client() -> (Emulator, FilesClient) {
    let emulator = Emulator::start().expect("emulator starts");
    let client = client_for(&emulator);
    (emulator, client)
}

/// A client for `emulator` with fast, retry-free settings.
pub fn client_for(emulator: &Emulator) -> FilesClient {
    FilesClient::builder()
        .api_key(emulator.api_key())
        .base_url(emulator.base_url())
        .retry(RetryPolicy::none())
        .build()
        .expect("client builds")
}

/// Retries with tiny waits, so retry tests run fast.
pub fn fast_retries(retries: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_retries(retries)
        .with_base_delay(std::time::Duration::from_millis(10))
        .with_max_delay(std::time::Duration::from_millis(50))
}

/// A client for a scripted server at `base`, with short stall and response timeouts.
pub fn client_at(base: &str, key: &str, policy: RetryPolicy) -> FilesClient {
    FilesClient::builder()
        .api_key(key)
        .base_url(base)
        .retry(policy)
        .stall_timeout(std::time::Duration::from_millis(800))
        .response_timeout(std::time::Duration::from_millis(800))
        .connect_timeout(std::time::Duration::from_secs(2))
        .build()
        .unwrap()
}

/// A raw ureq agent that hands back every status as a response.
pub fn raw_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// A small text file's worth of bytes the API accepts.
pub fn text(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

/// A fresh temporary directory for one test, removed with what it holds when the value is
/// dropped (also when the test fails), so test runs leave nothing in the temp dir. Its name
/// holds a count, so two threads asking in the same nanosecond get two directories.
pub fn temp_dir(name: &str) -> TestDir {
    static MADE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "openrouter-files-test-{}-{name}-{}-{}",
        std::process::id(),
        MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    TestDir(dir)
}

/// A directory [`temp_dir`] made; it derefs to its path.
#[derive(Debug)]
pub struct TestDir(std::path::PathBuf);

impl std::ops::Deref for TestDir {
    type Target = std::path::Path;

    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl AsRef<std::path::Path> for TestDir {
    fn as_ref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
