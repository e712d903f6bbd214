//! Keeping the answer on each result: a 2xx body read as JSON ([`read_json`]) with its
//! [`ResponseInfo`] (request id, headers, tries) set on the value.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::{Reply, read_checked_json, read_json};
use crate::answer::{Received, ResponseInfo};
use crate::error::Result;
use crate::model::{FileDeleted, FileMetadata, Page};

/// A result that keeps the answer it came from.
pub(crate) trait Answered {
    fn set_received(&mut self, info: Arc<ResponseInfo>);
}

impl Answered for FileMetadata {
    fn set_received(&mut self, info: Arc<ResponseInfo>) {
        self.answered = Received(Some(info));
    }
}

impl Answered for FileDeleted {
    fn set_received(&mut self, info: Arc<ResponseInfo>) {
        self.answered = Received(Some(info));
    }
}

/// A page and every file on it keep the answer of the page's request.
impl Answered for Page {
    fn set_received(&mut self, info: Arc<ResponseInfo>) {
        for file in &mut self.data {
            file.set_received(Arc::clone(&info));
        }
        self.answered = Received(Some(info));
    }
}

impl Reply {
    /// What this answer said besides its body.
    pub(crate) fn info(&self) -> Arc<ResponseInfo> {
        Arc::new(ResponseInfo::new(
            self.response.status().as_u16(),
            self.response.headers(),
            self.attempts,
            &self.secret,
        ))
    }
}

/// [`read_json`], keeping the answer on the result.
pub(crate) fn read_answer<T: DeserializeOwned + Answered>(
    reply: Reply,
    what: &'static str,
) -> Result<T> {
    let info = reply.info();
    let mut value: T = read_json(reply, what)?;
    value.set_received(info);
    Ok(value)
}

/// [`read_checked_json`], keeping the answer on the result.
pub(crate) fn read_checked_answer<T: DeserializeOwned + Answered>(
    reply: Reply,
    what: &'static str,
    check: impl FnOnce(&serde_json::Value) -> Result<(), &'static str>,
) -> Result<T> {
    let info = reply.info();
    let mut value: T = read_checked_json(reply, what, check)?;
    value.set_received(info);
    Ok(value)
}
