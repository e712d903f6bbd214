//! A blocking, synchronous client for the [OpenRouter Files API][api], built on [ureq]: no
//! async runtime, constant memory for any file size, typed errors, and a local emulator for
//! your tests.
//!
//! [api]: https://openrouter.ai/docs
//!
//! # Tour
//!
//! This runs as is on the emulator (the `openrouter-files-emulator` crate, a dev-dependency).
//! Against OpenRouter, build the
//! client with [`FilesClient::from_env`] (`OPENROUTER_API_KEY`) instead.
//!
//! ```
//! use std::io::Read;
//! use openrouter_files::{Error, FilesClient, Upload};
//! use openrouter_files_emulator::Emulator;
//!
//! let server = Emulator::builder().seed_file("report.csv", b"a,b\n1,2\n".to_vec()).start()?;
//! let client = FilesClient::builder()
//!     .api_key(server.api_key())
//!     .base_url(server.base_url())
//!     .build()?;
//!
//! // Upload from bytes, a path or a reader: streamed, with an exact Content-Length.
//! let notes = client.upload(Upload::bytes("notes.md", "# Notes\n"))?;
//!
//! // List lazily: the next page is fetched only when the loop gets there.
//! let mut names = Vec::new();
//! for file in client.list() {
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
//!
//! // Errors are typed: branch on what you can handle.
//! match client.retrieve(&notes.id) {
//!     Err(Error::Api(e)) if e.status() == 404 => {} // gone, as expected
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Where to go next
//!
//! - [`FilesClientBuilder`]: key, base URL, workspace, provider, timeouts, retries, headers.
//!   [`FilesClient`] is `Send + Sync` and cheap to clone; scoped clones such as
//!   [`in_workspace`](FilesClient::in_workspace) change settings for the calls made through
//!   them. The API key never appears in `Debug` output or an error.
//! - [`ListRequest`]: one [`Page`], or lazy iterators over pages and files that can be
//!   resumed from a [`ListPosition`].
//! - [`Upload`] (a path, bytes or a reader, with progress) and [`Download`] (`impl Read`, or
//!   atomically into a file with [`FilesClient::download_to`]).
//! - [`Batch`] ([`FilesClient::batch`]): many uploads, downloads, retrieves or deletes at once
//!   on scoped threads, one connection per worker, with a per-item [`BatchReport`].
//! - [`Error`]: the API's answers ([`ApiError`]), and what is refused before sending
//!   ([`Error::InvalidInput`]).
//!
//! # Retries and timeouts
//!
//! Connection failures, timeouts and the statuses 408, 429 and 5xx are retried
//! twice by default, with exponential backoff and full jitter, honouring `Retry-After` up to
//! 60 s. Uploads are retried only when the source can be read again (a path or bytes) and the
//! server cannot have stored the file; a broken [`download_to`](FilesClient::download_to) is
//! resumed with `Range` when the server offers it. Timeouts: connect (10 s), response headers
//! (60 s) and a stall timeout (60 s without progress, either way); no cap on a whole upload or
//! download, so a large file on a slow link completes, while list pages, retrieve and delete
//! end within [`DEFAULT_JSON_DEADLINE`] (5 minutes), all tries included; a
//! [`deadline`](FilesClientBuilder::deadline) caps every call. Redirects are followed by the
//! crate's own rules (see [`max_redirects`](FilesClientBuilder::max_redirects)):
//! `Authorization` and the headers you set only to the same origin (scheme, host and port),
//! never from https to http, never to a `Location` that contains the key, and a 301, 302 or
//! 303 to a delete or an upload is an [`Error::Redirect`]. Change all of it
//! on the builder or per call: see [`RetryPolicy`].
//!
//! Retries and redirects are logged through [`log`](https://docs.rs/log) at debug level, never
//! with the key. At trace level, ureq's protocol layer (target `ureq_proto`) hex-dumps request
//! heads, **`Authorization` included**: keep that target at debug, as in
//! `RUST_LOG=trace,ureq_proto=debug`.
//!
//! # Features
//!
//! - `rustls` (default): TLS through rustls, trusting Mozilla's roots.
//! - `native-tls`: TLS through the platform (OpenSSL on Linux), trusting the platform's store.
//!
//! The local emulator of the API is a crate of its own, [`openrouter-files-emulator`]: add it
//! to your `[dev-dependencies]` to test code that uses this client without an account. It does
//! not depend on this crate, so nothing of it is compiled into your build.
//!
//! [`openrouter-files-emulator`]: https://docs.rs/openrouter-files-emulator
//!
//! # Architecture
//!
//! Modules depend only downwards (no import circle), listed from the top:
//!
//! - `batch`: many calls on scoped threads, over `client` and `upload`.
//! - `upload`, `download`, `list`: the operations, each adding its methods to
//!   [`FilesClient`]; they build a call and hand it to `transport`.
//! - `client`: [`FilesClient`] and its builder, scoped clones, retrieve and delete.
//! - `transport/`: the one path every call takes: `url` (the request URL), `request` (the
//!   request loop over ureq, retries and timeouts), `redirect` (the crate's redirect rules),
//!   `response` (failure statuses, JSON bodies), `inflate` (whether ureq inflates answers).
//! - `tls`: which TLS stack and roots the agent gets.
//! - `config`: defaults and the settings every call reads.
//! - `retry`: the policy, `Retry-After`, and a batch's shared pause (`retry/gate`).
//! - `model`, `progress`, `error`, `codec/` (multipart, Content-Disposition, dates), `rand`:
//!   leaves, using nothing above them.
//!
//! An upload, top to bottom: [`FilesClient::upload`] (`upload`) builds the multipart body
//! (`codec::multipart`) and a `transport::Call`; `transport::request` sends it through ureq's
//! agent (made in `client` with `config` and `tls`), retrying per `retry`; `transport::response`
//! reads the answer.
//!
//! # TLS
//!
//! One rule picks the stack: **when `native-tls` is on, native-tls is used**, whatever else is
//! on. So `features = ["native-tls"]` with the default features left on still means
//! native-tls (rustls is then compiled but unused); `default-features = false, features =
//! ["native-tls"]` leaves rustls out of the build. With neither feature the client speaks plain
//! `http` only and [`FilesClientBuilder::build`] refuses an `https` base URL.
//!
//! Behind a corporate proxy or a private gateway with its own CA, add its root with
//! [`FilesClientBuilder::add_root_certificate`] (PEM): either stack then trusts Mozilla's
//! roots plus yours. With native-tls and no added root, the platform's store is used, so a CA
//! installed there is trusted as is.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The README's Rust examples, compiled and run as doctests (they run on the emulator).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

mod batch;
mod client;
mod codec;
mod config;
mod download;
mod error;
mod list;
mod model;
mod progress;
mod rand;
mod retry;
mod surrogates;
mod tls;
mod transport;
mod upload;
mod userinfo;

pub use batch::{
    Batch, BatchItem, BatchProgress, BatchReport, DEFAULT_CONCURRENCY, MAX_CONCURRENCY, Outcome,
    Saved,
};
pub use client::{FilesClient, FilesClientBuilder};
pub use config::{
    DEFAULT_BASE_URL, DEFAULT_JSON_DEADLINE, DEFAULT_MAX_IDLE_CONNECTIONS, DEFAULT_UPLOAD_LIMIT,
};
pub use download::Download;
pub use error::{ApiError, ApiErrorKind, Error, Result, TransportError};
pub use list::{Files, ListPosition, ListRequest, Pages};
pub use model::{FileDeleted, FileMetadata, OpenAiFields, Order, Page, Provider, Shape};
pub use progress::PROGRESS_STEP;
pub use retry::RetryPolicy;
pub use upload::Upload;
