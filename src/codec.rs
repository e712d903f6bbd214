//! The wire formats the client writes and reads, each with its own tests, using nothing else
//! of the crate but `rand` (a multipart boundary): a multipart form for uploads,
//! `Content-Disposition` filenames, HTTP dates (`Retry-After`) and RFC 3339 timestamps.

pub(crate) mod content_disposition;
pub(crate) mod date;
pub(crate) mod multipart;
pub(crate) mod rfc3339;
