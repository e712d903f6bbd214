//! The settings every call reads: the defaults, what all clones of a client share, and what a
//! scoped clone may change. Plain data, below the request loop and the façade.

use std::sync::Arc;
use std::time::Duration;

use ureq::Agent;
use ureq::http::{HeaderName, HeaderValue};

use crate::model::Provider;
use crate::retry::{Gate, RetryPolicy, UNLIMITED};

/// OpenRouter's production base URL.
pub const DEFAULT_BASE_URL: &str = "https://openrouter.ai/api/v1";

/// How many idle connections the pool keeps by default: enough for a
/// [`Batch`](crate::Batch) of up to 32 workers to reuse one connection each.
pub const DEFAULT_MAX_IDLE_CONNECTIONS: usize = 32;

/// The upload limit of the API: 100 MB, read as 100,000,000 bytes.
pub const DEFAULT_UPLOAD_LIMIT: u64 = 100_000_000;

pub(crate) const DEFAULT_USER_AGENT: &str = concat!("openrouter-files/", env!("CARGO_PKG_VERSION"));

/// What every clone shares.
pub(crate) struct Shared {
    pub(crate) agent: Agent,
    pub(crate) base_url: String,
    /// `Bearer <key>`, marked sensitive so `http` never prints it.
    pub(crate) auth: HeaderValue,
    /// The key itself, to remove from server text that errors keep. Never printed.
    pub(crate) key: Arc<str>,
    /// How many redirects one try follows (the crate follows them itself, see `transport`).
    pub(crate) max_redirects: u32,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) upload_limit: u64,
    /// The proxy each request URL goes through.
    pub(crate) proxies: crate::proxy::Proxies,
    /// Told about every try of every call.
    pub(crate) observer: Option<crate::observe::SharedObserver>,
}

/// What a scoped clone may change.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub(crate) workspace: Option<String>,
    pub(crate) provider: Option<Provider>,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeouts: Timeouts,
    /// The pause shared by the workers of a batch, if this clone is one of them.
    pub(crate) gate: Option<Arc<Gate>>,
}

/// The default whole-call cap of the small JSON calls (list page, retrieve, delete), all
/// tries and waits included: 5 minutes.
pub const DEFAULT_JSON_DEADLINE: Duration = Duration::from_secs(300);

/// The client's timeouts. By default none caps a whole transfer (a large file on a slow link
/// completes as long as it keeps moving); the small JSON calls have a whole-call cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timeouts {
    pub(crate) connect: Option<Duration>,
    pub(crate) response: Option<Duration>,
    pub(crate) stall: Option<Duration>,
    /// The cap on a whole upload or download call, all tries and waits included.
    pub(crate) deadline: Option<Duration>,
    /// The same for list pages, retrieve and delete.
    pub(crate) json_deadline: Option<Duration>,
}

impl Timeouts {
    pub(crate) fn set_deadline(&mut self, deadline: Option<Duration>) {
        self.deadline = deadline;
        self.json_deadline = deadline;
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Some(Duration::from_secs(10)),
            response: Some(Duration::from_secs(60)),
            stall: Some(Duration::from_secs(60)),
            deadline: None,
            json_deadline: Some(DEFAULT_JSON_DEADLINE),
        }
    }
}

/// A timeout as ureq is given it: one of 100 years or more (up to [`Duration::MAX`]) is none,
/// since ureq adds it to the current [`Instant`], which would overflow.
pub(crate) fn finite(timeout: Option<Duration>) -> Option<Duration> {
    timeout.filter(|t| *t < UNLIMITED)
}
