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
//! - [`CompletionApi`]: a file id as the content part of a chat completions, responses or
//!   messages request, and the [`FILE_IDS_HEADER`] that keeps the id with OpenRouter.
//! - In a company network: [`TlsRoots`] and [`FilesClientBuilder::add_root_certificate`] for a
//!   private CA, [`FilesClientBuilder::proxy`] (and the environment's proxies, read as curl
//!   reads them), the request id and headers of every result ([`ResponseInfo`]), and an
//!   [`Observer`] of every try (see `docs/company-network.md`).
//! - [`FilesClient::sync`] ([`FolderSync`]): a one-way sync of a local folder, planned and
//!   shown before it is applied, exact across re-runs and interruptions (see [`sync`] for the
//!   manifest); [`Batch::skip_existing`] for plain uploads that may already be there.
//! - [`FileFilter`]: name globs, MIME prefixes, dates and sizes, on the lazy file iterator.
//! - [`FilesClient::upload_detailed`]: an upload whose answer was lost is looked for rather
//!   than sent twice ([`Uploaded::found`]).
//! - [`Error`]: the API's answers ([`ApiError`]), and what is refused before sending
//!   ([`Error::InvalidInput`]).
//!
//! # Guides
//!
//! The long explanations are in [`guide`]: [retries, timeouts, deadlines and
//! redirects](guide::retries), [exact downloads and uploads](guide::downloads),
//! [TLS](guide::tls), [logging and secrets](guide::logging), [testing with the
//! emulator](guide::testing), [in a company network](guide::company_network) (a private CA,
//! proxies, request ids, watching the calls), and the [architecture](guide::architecture)
//! (crates and modules, which way they depend).
//!
//! In short: connection failures, timeouts, 408, 429 and 5xx are retried twice with backoff,
//! honouring `Retry-After`; an upload is retried only when it cannot have been stored; list,
//! retrieve and delete end within [`DEFAULT_JSON_DEADLINE`], transfers only when they stall.
//! Redirects follow the crate's own rules (the key only to the base URL's origin, never from
//! https to http). A download is the stored bytes or an error.
//!
//! # Features
//!
//! - `rustls` (default): TLS through rustls, trusting Mozilla's roots.
//! - `native-tls`: TLS through the platform (OpenSSL on Linux), trusting the platform's store.
//!   **When on, it is used**, whatever else is on ([the TLS guide](guide::tls)).
//! - `platform-roots`: [`TlsRoots::Platform`](TlsRoots), the platform's store (`SSL_CERT_FILE` and
//!   `SSL_CERT_DIR` on Linux) read as certificates, so added roots extend it on either stack
//!   (adds rustls-native-certs).
//!
//! The local emulator of the API is a crate of its own, [`openrouter-files-emulator`]: add it
//! to your `[dev-dependencies]` to test code that uses this client without an account. It does
//! not depend on this crate, so nothing of it is compiled into your build.
//!
//! [`openrouter-files-emulator`]: https://docs.rs/openrouter-files-emulator
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// The README's Rust examples, compiled and run as doctests (they run on the emulator).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

mod answer;
mod batch;
mod client;
mod codec;
mod completion;
mod config;
mod download;
mod error;
mod filter;
pub mod guide;
mod list;
mod list_all;
mod model;
mod observe;
mod progress;
mod proxy;
mod rand;
mod recover;
mod retry;
mod surrogates;
pub mod sync;
mod tls;
mod transport;
mod trust;
mod upload;
mod userinfo;

pub use answer::ResponseInfo;
pub use batch::{
    Batch, BatchItem, BatchProgress, BatchReport, DEFAULT_CONCURRENCY, MAX_CONCURRENCY, Outcome,
    Saved,
};
pub use client::{FilesClient, FilesClientBuilder};
pub use completion::{CompletionApi, FILE_IDS_HEADER, FILE_IDS_OPENROUTER, UnknownCompletionApi};
pub use config::{
    DEFAULT_BASE_URL, DEFAULT_JSON_DEADLINE, DEFAULT_MAX_IDLE_CONNECTIONS, DEFAULT_UPLOAD_LIMIT,
};
pub use download::Download;
pub use error::{ApiError, ApiErrorKind, Error, Result, TransportError};
pub use filter::{FileFilter, parse_size, parse_time};
pub use list::{Files, ListPosition, ListRequest, Pages};
pub use model::{FileDeleted, FileMetadata, OpenAiFields, Order, Page, Provider, Shape};
pub use observe::{Attempt, Observer};
pub use progress::PROGRESS_STEP;
pub use recover::{LOST_UPLOAD_CLOCK_SKEW, Uploaded};
pub use retry::RetryPolicy;
pub use sync::{FolderSync, SyncAction, SyncPlan, SyncReport};
pub use trust::{TlsRoots, read_pem_file};
pub use upload::Upload;
