//! openrouter-files
#![deny(missing_docs)]

mod client;
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

pub use client::{DEFAULT_BASE_URL, DEFAULT_UPLOAD_LIMIT, FilesClient, FilesClientBuilder};
pub use download::Download;
pub use error::{ApiError, ApiErrorKind, Error, Result};
pub use list::{Files, ListRequest, Pages};
pub use model::{FileDeleted, FileMetadata, OpenAiFields, Order, Page, Provider, Shape};
pub use progress::PROGRESS_STEP;
pub use retry::RetryPolicy;
pub use upload::Upload;
