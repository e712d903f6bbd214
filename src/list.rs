//! Listing files: a request builder, one [`Page`] at a time, or lazy iterators over pages and
//! files that fetch the next page only when the current one is used up.

use std::collections::{HashSet, VecDeque};

use ureq::http::Method;

use crate::client::FilesClient;
use crate::error::{Error, Result};
use crate::model::{FileMetadata, Order, Page, Provider, Shape};
use crate::transport::{Call, Replay, read_json};

/// A list request; nothing is sent until [`ListRequest::page`] is called or an iterator is
/// advanced.
///
/// ```no_run
/// # let client = openrouter_files::FilesClient::from_env()?;
/// // Every file, fetched 100 at a time as the loop goes.
/// for file in client.list().limit(100) {
///     println!("{}", file?.filename);
/// }
/// // One page and its cursor.
/// let page = client.list().limit(10).page()?;
/// if let Some(cursor) = page.cursor {
///     let next = client.list().limit(10).cursor(&cursor).page()?;
/// }
/// // Page by page.
/// for page in client.list().pages() {
///     println!("{} files", page?.data.len());
/// }
/// # Ok::<(), openrouter_files::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a list request does nothing until .page() or iteration"]
pub struct ListRequest {
    client: FilesClient,
    limit: Option<u32>,
    start: Option<Position>,
    order: Option<Order>,
}

impl FilesClient {
    /// Starts a list request for this client's workspace.
    pub fn list(&self) -> ListRequest {
        ListRequest {
            client: self.clone(),
            limit: None,
            start: None,
            order: None,
        }
    }
}

impl ListRequest {
    /// Files per page, 1 to 1000 (the server's default when unset). Checked before sending.
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Starts after this cursor (from [`Page::cursor`]).
    pub fn cursor(mut self, cursor: &str) -> Self {
        self.start = Some(Position::Cursor(cursor.to_string()));
        self
    }

    /// Starts after the file with this id, OpenAI style (`after`). Later pages continue the
    /// same way.
    pub fn after(mut self, file_id: &str) -> Self {
        self.start = Some(Position::After(file_id.to_string()));
        self
    }

    /// Starts after the file with this id, Anthropic style (`after_id`). Later pages continue
    /// the same way.
    pub fn after_id(mut self, file_id: &str) -> Self {
        self.start = Some(Position::AfterId(file_id.to_string()));
        self
    }

    /// Lists the files before the one with this id, newest first, Anthropic style
    /// (`before_id`; provider storage only). Later pages continue backwards.
    pub fn before_id(mut self, file_id: &str) -> Self {
        self.start = Some(Position::BeforeId(file_id.to_string()));
        self
    }

    /// Lists another workspace (a UUID).
    pub fn workspace(mut self, workspace: &str) -> Self {
        self.client = self.client.in_workspace(workspace);
        self
    }

    /// Lists a provider's storage instead of OpenRouter's.
    pub fn provider(mut self, provider: impl Into<Provider>) -> Self {
        self.client = self.client.with_provider(Some(provider.into()));
        self
    }

    /// The sort order (OpenRouter storage supports only [`Order::Asc`]).
    pub fn order(mut self, order: Order) -> Self {
        self.order = Some(order);
        self
    }

    /// Fetches one page.
    pub fn page(&self) -> Result<Page> {
        self.fetch(self.start.as_ref())
    }

    /// A lazy iterator over pages.
    pub fn pages(self) -> Pages {
        // Every position fetched is in `seen`, the starting one included, so a position the
        // server hands out again is caught by one check.
        let seen = self.start.iter().cloned().collect();
        Pages {
            next: Some(self.start.clone()),
            request: self,
            seen,
        }
    }

    fn fetch(&self, position: Option<&Position>) -> Result<Page> {
        let mut query = Vec::new();
        if let Some(limit) = self.limit {
            if !(1..=1000).contains(&limit) {
                return Err(Error::InvalidInput(format!(
                    "limit must be from 1 to 1000, not {limit}"
                )));
            }
            query.push(("limit", limit.to_string()));
        }
        match position {
            Some(Position::Cursor(c)) => query.push(("cursor", c.clone())),
            Some(Position::After(id)) => query.push(("after", id.clone())),
            Some(Position::AfterId(id)) => query.push(("after_id", id.clone())),
            Some(Position::BeforeId(id)) => query.push(("before_id", id.clone())),
            None => {}
        }
        if let Some(order) = self.order {
            query.push(("order", order.as_str().to_string()));
        }
        let call = Call {
            method: Method::GET,
            segments: &[],
            query,
            replay: Replay::Idempotent,
            identity: false,
        };
        let reply = self.client.execute(&call, None)?;
        read_json(reply, "list")
    }
}

impl IntoIterator for ListRequest {
    type Item = Result<FileMetadata>;
    type IntoIter = Files;

    fn into_iter(self) -> Files {
        Files {
            pages: self.pages(),
            buffer: VecDeque::new(),
        }
    }
}

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Position {
    /// OpenRouter's opaque cursor.
    Cursor(String),
    /// OpenAI-style: the last id seen.
    After(String),
    /// Anthropic-style: the last id seen.
    AfterId(String),
    /// Anthropic-style, backwards: the last (oldest) id seen.
    BeforeId(String),
}

/// Where the page after `page` (fetched from `current`) starts, or None when it was the last.
/// An opaque cursor wins; otherwise paging by id goes on the way it started, or the way the
/// body's shape pages.
fn next_position(page: &Page, current: Option<&Position>) -> Option<Position> {
    if let Some(cursor) = page.cursor.as_deref().filter(|c| !c.is_empty()) {
        return page.has_more.then(|| Position::Cursor(cursor.to_string()));
    }
    let last = page
        .last_id
        .clone()
        .filter(|id| !id.is_empty() && page.has_more)?;
    match (current, &page.shape) {
        (Some(Position::BeforeId(_)), _) => Some(Position::BeforeId(last)),
        (Some(Position::AfterId(_)), _) | (_, Some(Shape::Anthropic)) => {
            Some(Position::AfterId(last))
        }
        (Some(Position::After(_)), _) | (_, Some(Shape::OpenAi)) => Some(Position::After(last)),
        _ => None,
    }
}

/// A lazy iterator over the pages of a list; see [`ListRequest::pages`].
///
/// It stops after the page with `has_more: false` or without a cursor, and after the first
/// error. A cursor the server hands out twice ends it with [`Error::Protocol`] instead of
/// looping.
#[derive(Debug)]
pub struct Pages {
    request: ListRequest,
    /// `Some(position)` while there is a page to fetch.
    next: Option<Option<Position>>,
    seen: HashSet<Position>,
}

impl Iterator for Pages {
    type Item = Result<Page>;

    fn next(&mut self) -> Option<Result<Page>> {
        let position = self.next.take()?;
        let page = match self.request.fetch(position.as_ref()) {
            Ok(page) => page,
            Err(e) => return Some(Err(e)),
        };
        if let Some(next) = next_position(&page, position.as_ref()) {
            if !self.seen.insert(next.clone()) {
                return Some(Err(Error::Protocol(format!(
                    "the server repeated a list position ({next:?}); stopping instead of looping"
                ))));
            }
            self.next = Some(Some(next));
        }
        Some(Ok(page))
    }
}

/// A lazy iterator over files; see [`ListRequest`]'s `IntoIterator`.
#[derive(Debug)]
pub struct Files {
    pages: Pages,
    buffer: VecDeque<FileMetadata>,
}

impl Iterator for Files {
    type Item = Result<FileMetadata>;

    fn next(&mut self) -> Option<Result<FileMetadata>> {
        loop {
            if let Some(file) = self.buffer.pop_front() {
                return Some(Ok(file));
            }
            match self.pages.next()? {
                Ok(page) => self.buffer.extend(page.data),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}
