//! A blocking, synchronous client for the [OpenRouter Files API][api], built on [ureq]: no
//! async runtime, constant memory for any file size, typed errors, and a local emulator for
//! your tests.
//!
//! [api]: https://openrouter.ai/docs
//!
//! # Tour
//!
//! This runs as is: it starts the crate's emulator on 127.0.0.1 (feature `emulator`). Against
//! OpenRouter, build the client with [`FilesClient::from_env`] instead.
//!
//! ```
//! use std::io::Read;
//! use openrouter_files::{FilesClient, Upload, emulator::Emulator};
//!
//! let server = Emulator::builder().seed_file("report.csv", b"a,b\n1,2\n".to_vec()).start()?;
//! let client = FilesClient::builder()
//!     .api_key(server.api_key())
//!     .base_url(server.base_url())
//!     .build()?;
//!
//! // Upload from bytes, a path or a reader: streamed, with an exact Content-Length.
//! let notes = client.upload(Upload::bytes("notes.md", "# Notes\n"))?;
//! assert_eq!(notes.mime_type.as_deref(), Some("text/markdown"));
//!
//! // List lazily: the next page is fetched only when the loop gets there.
//! let mut names = Vec::new();
//! for file in client.list().limit(100) {
//!     names.push(file?.filename);
//! }
//! assert_eq!(names, ["report.csv", "notes.md"]);
//!
//! // Retrieve, download (server-created files only), delete.
//! let report = client.list().page()?.data.remove(0);
//! let mut text = String::new();
//! client.download(&report.id)?.read_to_string(&mut text)?;
//! assert_eq!(text, "a,b\n1,2\n");
//! assert_eq!(client.retrieve(&notes.id)?.size_bytes, 8);
//! assert!(client.delete(&notes.id)?.deleted);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The client
//!
//! [`FilesClient`] is `Send + Sync` and cheap to clone; clones share one connection pool.
//! Scoped clones change settings for the calls made through them:
//! [`in_workspace`](FilesClient::in_workspace), [`with_provider`](FilesClient::with_provider),
//! [`with_retry`](FilesClient::with_retry), the `with_*_timeout` methods and
//! [`with_header`](FilesClient::with_header). The API key is never shown by `Debug` or in
//! an error.
//!
//! # Errors
//!
//! Every call returns [`Result<T, Error>`](Error). [`Error::Api`] carries the status, its
//! [`ApiErrorKind`], the server's code, message and metadata, the request id and any
//! `Retry-After`. What can be checked locally (an empty id, a limit outside 1..=1000, a
//! workspace that is not a UUID, an empty file or one over the upload limit) fails with
//! [`Error::InvalidInput`] before anything is sent. A download shorter than its announced
//! length is [`Error::Truncated`], never a silent short read.
//!
//! # Retries and timeouts
//!
//! - **What is retried**: connection failures (refused, reset, early close, DNS), timeouts,
//!   and the statuses 408, 429, 500, 502, 503 and 504, for list, retrieve, delete and
//!   download. Uploads are retried only when the source can be read again (a path or bytes,
//!   not a reader) and only after failures where the server cannot have stored the file:
//!   nothing sent yet (connect or DNS failure), 408, 429 or 503. A delete that was retried
//!   and then finds the file gone counts as deleted.
//! - **When**: up to 2 retries by default, after a random wait of up to
//!   `500 ms × 2^retry` (capped at 8 s), or after the server's `Retry-After` (seconds or an
//!   HTTP date; `retry-after-ms` too) when that is at most 60 s. A longer `Retry-After` ends
//!   the call at once with the error, which carries the requested wait.
//! - **How to change it**: [`FilesClientBuilder::retry`] with a [`RetryPolicy`], per call
//!   with [`FilesClient::with_retry`], or [`RetryPolicy::none`] to turn retries off. Each
//!   retry is logged through the [`log`](https://docs.rs/log) facade at debug level (method,
//!   path, status, attempt, wait), never with the key or the query.
//! - **Timeouts**: connect (10 s), waiting for response headers (60 s) and a stall timeout
//!   (60 s without progress, either way). No timeout caps a whole transfer: a 100 MB file on a
//!   slow link completes as long as it keeps moving. The stall timeout also bounds the wait
//!   for headers. All can be set on the builder and per call.
//! - **Redirects**: followed up to 5 times; `Authorization` is sent on only to the same host.
//!
//! # Features
//!
//! - `rustls` (default): TLS through rustls with the Mozilla roots.
//! - `native-tls`: TLS through the platform (OpenSSL on Linux) and its trust store.
//! - `emulator`: [`emulator::Emulator`], a local, faithful Files API server for tests and
//!   demos (adds `tiny_http` and `memchr`; no async runtime in any combination).
#![deny(missing_docs)]

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

mod batch;
mod client;
mod coalesce;
mod date;
mod download;
#[cfg(feature = "emulator")]
pub mod emulator;
mod error;
mod list;
mod model;
mod multipart;
mod progress;
mod retry;
mod transport;
mod upload;

pub use batch::{
    Batch, BatchItem, BatchProgress, BatchReport, DEFAULT_CONCURRENCY, MAX_CONCURRENCY, Outcome,
    Saved,
};
pub use client::{
    DEFAULT_BASE_URL, DEFAULT_MAX_IDLE_CONNECTIONS, DEFAULT_UPLOAD_LIMIT, FilesClient,
    FilesClientBuilder,
};
pub use download::Download;
pub use error::{ApiError, ApiErrorKind, Error, Result};
pub use list::{Files, ListRequest, Pages};
pub use model::{FileDeleted, FileMetadata, OpenAiFields, Order, Page, Provider, Shape};
pub use progress::PROGRESS_STEP;
pub use retry::RetryPolicy;
pub use upload::Upload;
