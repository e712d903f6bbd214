//! Listing files: a request builder, one [`Page`] at a time, or lazy iterators over pages and
//! files that fetch the next page only when the current one is used up.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use ureq::http::Method;

use crate::client::{FilesClient, idempotent};
use crate::error::{Error, Result};
use crate::model::{FileMetadata, Order, Page, Provider, Shape};
use crate::transport::{Call, read_answer};

/// Files per page when the caller sets no page size and iterates: the API's maximum, so a long
/// listing takes as few round trips as possible.
const ITERATOR_PAGE_SIZE: u32 = 1000;

/// How many pages in a row may come back without a file yet point further on. A server that
/// keeps doing so is not making progress; the list ends with [`Error::Protocol`] instead of
/// asking forever.
const MAX_EMPTY_PAGES: u32 = 3;

/// A list request; nothing is sent until [`ListRequest::page`] is called or an iterator is
/// advanced.
///
/// ```
/// # use openrouter_files::{FilesClient};
/// # use openrouter_files_emulator::Emulator;
/// # let server = Emulator::builder()
/// #     .seed_file("a.txt", b"a".to_vec())
/// #     .seed_file("b.txt", b"b".to_vec())
/// #     .seed_file("c.txt", b"c".to_vec())
/// #     .start()?;
/// # let client = FilesClient::builder()
/// #     .api_key(server.api_key())
/// #     .base_url(server.base_url())
/// #     .build()?;
/// // Every file, fetched two at a time as the loop goes.
/// for file in client.list().page_size(2) {
///     println!("{}", file?.filename);
/// }
/// // One page and its cursor (None on the last page).
/// let page = client.list().page_size(2).page()?;
/// assert_eq!(page.data.len(), 2);
/// let cursor = page.cursor.expect("a third file follows");
/// let next = client.list().page_size(2).cursor(cursor).page()?;
/// assert_eq!(next.data[0].filename, "c.txt");
/// // Page by page.
/// for page in client.list().page_size(2).pages() {
///     println!("{} files", page?.data.len());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a list request does nothing until .page() or iteration"]
pub struct ListRequest {
    client: FilesClient,
    page_size: Option<u32>,
    start: ListPosition,
    order: Option<Order>,
}

impl FilesClient {
    /// Starts a list request for this client's workspace.
    pub fn list(&self) -> ListRequest {
        ListRequest {
            client: self.clone(),
            page_size: None,
            start: ListPosition::Start,
            order: None,
        }
    }
}

impl ListRequest {
    /// Files per page (the API's `limit` parameter), 1 to 1000, checked before sending. It
    /// does not cap the total: the iterators go on to the last page (`.take(n)` stops them
    /// after `n` files). When unset, the iterators ask for 1000 (the API's maximum) and
    /// [`ListRequest::page`] sends no `limit`, so the server's default applies: one call,
    /// exactly as the API defines it.
    pub fn page_size(mut self, files: u32) -> Self {
        self.page_size = Some(files);
        self
    }

    /// The former name of [`ListRequest::page_size`], which read as a total ("the first
    /// 100"); it sets the files per page.
    #[deprecated(
        since = "0.3.0",
        note = "renamed `page_size`: it sets the files per page, not a total (use `.take(n)` for that)"
    )]
    pub fn limit(self, files: u32) -> Self {
        self.page_size(files)
    }

    /// Starts at `position`, such as one read from [`Pages::position`] or
    /// [`Files::position`] of an earlier list. An empty cursor or file id is refused with
    /// [`Error::InvalidInput`] before anything is sent.
    pub fn start_at(mut self, position: ListPosition) -> Self {
        self.start = position;
        self
    }

    /// Starts after this cursor (from [`Page::cursor`]). Shorthand for
    /// `start_at(ListPosition::Cursor(cursor))`.
    pub fn cursor(self, cursor: impl Into<String>) -> Self {
        self.start_at(ListPosition::Cursor(cursor.into()))
    }

    /// Starts after the file with this id, OpenAI style (`after`). Later pages continue the
    /// same way.
    pub fn after(self, file_id: impl Into<String>) -> Self {
        self.start_at(ListPosition::After(file_id.into()))
    }

    /// Starts after the file with this id, Anthropic style (`after_id`). Later pages continue
    /// the same way.
    pub fn after_id(self, file_id: impl Into<String>) -> Self {
        self.start_at(ListPosition::AfterId(file_id.into()))
    }

    /// Lists backwards from the file with this id, Anthropic style (`before_id`; provider
    /// storage only): the first page holds the files just before it in the list's order,
    /// and each later page the files just before the previous page's first one (its
    /// `first_id`), until the start of the list. Within a page, files keep the list's order.
    ///
    /// ```
    /// # use openrouter_files::{FilesClient, Upload};
    /// # use openrouter_files_emulator::Emulator;
    /// # let server = Emulator::start()?;
    /// # let client = FilesClient::builder()
    /// #     .api_key(server.api_key())
    /// #     .base_url(server.base_url())
    /// #     .build()?;
    /// let anthropic = client.with_provider("anthropic");
    /// for name in ["a.txt", "b.txt", "c.txt", "d.txt"] {
    ///     anthropic.upload(Upload::bytes(name, "text"))?;
    /// }
    /// let last = anthropic.list().page()?.last_id.expect("four files");
    /// let names: Vec<String> = anthropic
    ///     .list()
    ///     .page_size(2)
    ///     .before_id(last)
    ///     .into_iter()
    ///     .map(|file| file.map(|f| f.filename))
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(names, ["b.txt", "c.txt", "a.txt"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn before_id(self, file_id: impl Into<String>) -> Self {
        self.start_at(ListPosition::BeforeId(file_id.into()))
    }

    /// Lists another workspace (a UUID).
    pub fn workspace(mut self, workspace: impl Into<String>) -> Self {
        self.client = self.client.in_workspace(workspace);
        self
    }

    /// Lists a provider's storage instead of OpenRouter's.
    pub fn provider(mut self, provider: impl Into<Provider>) -> Self {
        self.client = self.client.with_provider(provider);
        self
    }

    /// The sort order (OpenRouter storage supports only [`Order::Asc`]).
    pub fn order(mut self, order: Order) -> Self {
        self.order = Some(order);
        self
    }

    /// Fetches one page.
    pub fn page(&self) -> Result<Page> {
        self.fetch(&self.start, self.page_size)
    }

    /// A lazy iterator over pages.
    pub fn pages(&self) -> Pages {
        Pages {
            request: self.clone(),
            next: Some(self.start.clone()),
            current: self.start.clone(),
            progress: Progress::new(&self.start),
            failed: false,
        }
    }

    /// A lazy iterator over files, the same as iterating over the request itself.
    pub fn files(&self) -> Files {
        Files {
            pages: self.pages(),
            buffer: VecDeque::new(),
        }
    }

    fn fetch(&self, position: &ListPosition, page_size: Option<u32>) -> Result<Page> {
        let mut query = Vec::new();
        if let Some(size) = page_size {
            if !(1..=1000).contains(&size) {
                return Err(Error::InvalidInput(format!(
                    "the page size must be from 1 to 1000, not {size}"
                )));
            }
            query.push(("limit", size.to_string()));
        }
        let param = match position {
            ListPosition::Start => None,
            ListPosition::Cursor(c) => Some(("cursor", c)),
            ListPosition::After(id) => Some(("after", id)),
            ListPosition::AfterId(id) => Some(("after_id", id)),
            ListPosition::BeforeId(id) => Some(("before_id", id)),
        };
        if let Some((name, value)) = param {
            if value.trim().is_empty() {
                return Err(Error::InvalidInput(format!("the list's {name} is empty")));
            }
            query.push((name, value.clone()));
        }
        if let Some(order) = self.order {
            query.push(("order", order.as_str().to_string()));
        }
        let call = Call {
            query,
            ..idempotent(Method::GET, &[])
        };
        let reply = self.client.transport().execute(&call, None)?;
        read_answer(reply, "list")
    }
}

impl IntoIterator for ListRequest {
    type Item = Result<FileMetadata>;
    type IntoIter = Files;

    fn into_iter(self) -> Files {
        self.files()
    }
}

impl IntoIterator for &ListRequest {
    type Item = Result<FileMetadata>;
    type IntoIter = Files;

    fn into_iter(self) -> Files {
        self.files()
    }
}

/// Where a page of a list starts. Read one from [`Pages::position`] or [`Files::position`],
/// keep it (it serialises with serde), and continue later with [`ListRequest::start_at`] on a
/// request with the same workspace, provider, order and page size.
///
/// ```
/// use openrouter_files::ListPosition;
///
/// let position = ListPosition::Cursor("eyJhZnRlciI6N30".into());
/// let saved = serde_json::to_string(&position)?;
/// assert_eq!(saved, r#"{"cursor":"eyJhZnRlciI6N30"}"#);
/// assert_eq!(serde_json::from_str::<ListPosition>(&saved)?, position);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ListPosition {
    /// The beginning of the list.
    #[default]
    Start,
    /// OpenRouter's opaque cursor (`cursor`).
    Cursor(String),
    /// OpenAI style: after this file id (`after`).
    After(String),
    /// Anthropic style: after this file id (`after_id`).
    AfterId(String),
    /// Anthropic style, backwards: the page just before this file id (`before_id`). A list
    /// goes on from each page's `first_id`, so it walks back to the start of the list.
    BeforeId(String),
}

/// Where the page after `page` (fetched from `current`) starts, or None when it was the last.
/// An opaque cursor wins; otherwise paging by id goes on the way it started, or the way the
/// body's shape pages: forwards from the page's `last_id`, or, for a list started with
/// `before_id`, backwards from its `first_id` (as Anthropic documents, and its SDKs do). A
/// page that says more files follow but gives no way to reach them is an [`Error::Protocol`]:
/// ending there would report an unfinished list as complete.
fn next_position(page: &Page, current: &ListPosition) -> Result<Option<ListPosition>> {
    if !page.has_more {
        return Ok(None);
    }
    if let Some(cursor) = page.cursor.as_deref().filter(|c| !c.is_empty()) {
        return Ok(Some(ListPosition::Cursor(cursor.to_string())));
    }
    let id = |id: &Option<String>| id.clone().filter(|id| !id.is_empty());
    let next = match (current, &page.shape) {
        (ListPosition::BeforeId(_), _) => id(&page.first_id).map(ListPosition::BeforeId),
        (ListPosition::AfterId(_), _) | (_, Some(Shape::Anthropic)) => {
            id(&page.last_id).map(ListPosition::AfterId)
        }
        (ListPosition::After(_), _) | (_, Some(Shape::OpenAi)) => {
            id(&page.last_id).map(ListPosition::After)
        }
        _ => None,
    };
    match next {
        Some(next) => Ok(Some(next)),
        None => Err(Error::Protocol(
            "the server said more files follow but sent no cursor or last id to go on from; \
             stopping instead of reporting the list complete"
                .into(),
        )),
    }
}

/// Checks that a list moves forward, in constant memory: no position handed out twice in a
/// row or in a cycle (Brent's cycle detection: one checkpoint, moved at powers of two, meets
/// any cycle within a few laps), and no more than [`MAX_EMPTY_PAGES`] empty pages in a row.
#[derive(Debug)]
struct Progress {
    checkpoint: ListPosition,
    steps: u64,
    lap: u64,
    empty_pages: u32,
}

impl Progress {
    fn new(start: &ListPosition) -> Progress {
        Progress {
            checkpoint: start.clone(),
            steps: 0,
            lap: 1,
            empty_pages: 0,
        }
    }

    /// Records that a page with `files` files, fetched from `current`, points on to `next`.
    fn check(&mut self, current: &ListPosition, next: &ListPosition, files: usize) -> Result<()> {
        if next == current || *next == self.checkpoint {
            // The position itself stays out of the message: it is server text of any size, and
            // a hostile server could put the key in it. `position()` still reads it.
            return Err(Error::Protocol(
                "the server repeated a list position; stopping instead of looping".into(),
            ));
        }
        self.empty_pages = if files == 0 { self.empty_pages + 1 } else { 0 };
        if self.empty_pages > MAX_EMPTY_PAGES {
            return Err(Error::Protocol(format!(
                "the server sent {} pages in a row without a file yet said more follow; \
                 stopping instead of asking forever",
                self.empty_pages
            )));
        }
        self.steps += 1;
        if self.steps == self.lap {
            self.checkpoint = next.clone();
            self.steps = 0;
            self.lap = self.lap.saturating_mul(2);
        }
        Ok(())
    }
}

/// A lazy iterator over the pages of a list; see [`ListRequest::pages`].
///
/// It stops after the page with `has_more: false`, and after the first error. A server that
/// goes round a cycle of positions, keeps sending empty pages that point on, or says more
/// files follow without a cursor or a last id to reach them, ends it with [`Error::Protocol`]
/// instead of a loop or a list that looks complete. (A server can still send new positions
/// forever, as a list without end would: the iterator is lazy, so the caller decides when to
/// stop.)
///
/// After an error, [`Pages::position`] still says where the failed page starts: a new list
/// from there (with [`ListRequest::start_at`]) goes on without fetching again what was
/// already yielded.
///
/// ```
/// # use openrouter_files::{FilesClient, RetryPolicy};
/// # use openrouter_files_emulator::{Emulator, Fault};
/// # let server = Emulator::builder()
/// #     .seed_file("a.txt", b"a".to_vec())
/// #     .seed_file("b.txt", b"b".to_vec())
/// #     .start()?;
/// # let client = FilesClient::builder()
/// #     .api_key(server.api_key())
/// #     .base_url(server.base_url())
/// #     .retry(RetryPolicy::none())
/// #     .build()?;
/// let request = client.list().page_size(1);
/// let mut pages = request.pages();
/// assert_eq!(pages.next().unwrap()?.data[0].filename, "a.txt");
/// server.inject(Fault::status(503), 1); // the next page fails
/// assert!(pages.next().unwrap().is_err());
/// let position = pages.position().unwrap().clone();
/// let rest: Vec<_> = request.start_at(position).pages().collect::<Result<_, _>>()?;
/// assert_eq!(rest[0].data[0].filename, "b.txt");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Pages {
    request: ListRequest,
    /// Where the next page starts; None once the list is done.
    next: Option<ListPosition>,
    /// Where the page last fetched (or being fetched) starts.
    current: ListPosition,
    progress: Progress,
    /// Set after an error: the iterator ends, the position stays.
    failed: bool,
}

impl Pages {
    /// Where the next page starts: the position to resume from, after an error too. None once
    /// the last page has been yielded.
    pub fn position(&self) -> Option<&ListPosition> {
        self.next.as_ref()
    }

    fn fail(&mut self, error: Error) -> Option<Result<Page>> {
        self.failed = true;
        Some(Err(error))
    }
}

impl Iterator for Pages {
    type Item = Result<Page>;

    fn next(&mut self) -> Option<Result<Page>> {
        if self.failed {
            return None;
        }
        let position = self.next.clone()?;
        let size = self.request.page_size.or(Some(ITERATOR_PAGE_SIZE));
        let page = match self.request.fetch(&position, size) {
            Ok(page) => page,
            Err(e) => return self.fail(e),
        };
        let next = match next_position(&page, &position) {
            Ok(next) => next,
            Err(e) => return self.fail(e),
        };
        if let Some(next) = &next
            && let Err(e) = self.progress.check(&position, next, page.data.len())
        {
            return self.fail(e);
        }
        self.current = position;
        self.next = next;
        Some(Ok(page))
    }
}

impl std::iter::FusedIterator for Pages {}

/// A lazy iterator over files; see [`ListRequest::files`] (or iterate over the request).
#[derive(Debug)]
pub struct Files {
    pages: Pages,
    buffer: VecDeque<FileMetadata>,
}

impl Files {
    /// Where to resume so that no file is missed: the start of the page the next file comes
    /// from. After an error, and whenever the files fetched so far have all been yielded,
    /// that is exactly where this iterator would go on. Stopped in the middle of a page, a
    /// list resumed from here yields the files of that page again. None once every file has
    /// been yielded.
    pub fn position(&self) -> Option<&ListPosition> {
        if self.buffer.is_empty() {
            self.pages.position()
        } else {
            Some(&self.pages.current)
        }
    }
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

impl std::iter::FusedIterator for Files {}
