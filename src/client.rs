//! [`FilesClient`] and its builder: the API key, base URL, default workspace and provider,
//! timeouts, retries and headers every call shares.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ureq::Agent;
use ureq::config::RedirectAuthHeaders;
use ureq::http::{self, HeaderName, HeaderValue, Method};
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{Connector, DefaultConnector};

use crate::error::{Error, Result};
use crate::model::{FileDeleted, FileMetadata, Provider};
use crate::retry::RetryPolicy;
use crate::transport::{Call, Replay, read_json};

/// OpenRouter's production base URL.
pub const DEFAULT_BASE_URL: &str = "https://openrouter.ai/api/v1";

/// How many idle connections the pool keeps by default: enough for a
/// [`Batch`](crate::Batch) of up to 32 workers to reuse one connection each.
pub const DEFAULT_MAX_IDLE_CONNECTIONS: usize = 32;

/// The upload limit of the API: 100 MB, read as 100,000,000 bytes.
pub const DEFAULT_UPLOAD_LIMIT: u64 = 100_000_000;

const DEFAULT_USER_AGENT: &str = concat!("openrouter-files/", env!("CARGO_PKG_VERSION"));

/// A blocking client for the OpenRouter Files API.
///
/// It is `Send + Sync` and cheap to clone: clones share one connection pool. Scoped clones
/// ([`FilesClient::in_workspace`], [`FilesClient::with_provider`], [`FilesClient::with_retry`],
/// [`FilesClient::with_header`], …) change settings for the calls made through them only.
///
/// ```no_run
/// use openrouter_files::FilesClient;
///
/// let client = FilesClient::from_env()?; // OPENROUTER_API_KEY, optional OPENROUTER_BASE_URL
/// for file in client.list().limit(100) {
///     let file = file?;
///     println!("{}\t{}\t{}", file.id, file.size_bytes, file.filename);
/// }
/// # Ok::<(), openrouter_files::Error>(())
/// ```
#[derive(Clone)]
pub struct FilesClient {
    pub(crate) shared: Arc<Shared>,
    pub(crate) options: Options,
}

/// What every clone shares.
pub(crate) struct Shared {
    pub(crate) agent: Agent,
    pub(crate) base_url: String,
    /// `Bearer <key>`, marked sensitive so `http` never prints it.
    pub(crate) auth: HeaderValue,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) upload_limit: u64,
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
    pub(crate) gate: Option<Arc<crate::batch::Gate>>,
}

/// The client's timeouts. None of them caps a whole body transfer: a large file on a slow link
/// completes as long as it keeps moving.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timeouts {
    pub(crate) connect: Option<Duration>,
    pub(crate) response: Option<Duration>,
    pub(crate) stall: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Some(Duration::from_secs(10)),
            response: Some(Duration::from_secs(60)),
            stall: Some(Duration::from_secs(60)),
        }
    }
}

impl fmt::Debug for FilesClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilesClient")
            .field("base_url", &self.shared.base_url)
            .field("api_key", &"[redacted]")
            .field("workspace", &self.options.workspace)
            .field("provider", &self.options.provider)
            .field("retry", &self.options.retry)
            .field("timeouts", &self.options.timeouts)
            .finish_non_exhaustive()
    }
}

impl FilesClient {
    /// A client for OpenRouter's production API with `api_key` and default settings.
    ///
    /// ```
    /// let client = openrouter_files::FilesClient::new("sk-or-v1-…")?;
    /// assert!(!format!("{client:?}").contains("sk-or"));
    /// # Ok::<(), openrouter_files::Error>(())
    /// ```
    pub fn new(api_key: &str) -> Result<FilesClient> {
        FilesClient::builder().api_key(api_key).build()
    }

    /// A client configured from the environment: the key from `OPENROUTER_API_KEY`, and the
    /// base URL from `OPENROUTER_BASE_URL` when it is set.
    pub fn from_env() -> Result<FilesClient> {
        let key = std::env::var("OPENROUTER_API_KEY").unwrap_or_default();
        if key.trim().is_empty() {
            return Err(Error::Config("OPENROUTER_API_KEY is not set".into()));
        }
        let mut builder = FilesClient::builder().api_key(key.trim());
        if let Ok(url) = std::env::var("OPENROUTER_BASE_URL")
            && !url.trim().is_empty()
        {
            builder = builder.base_url(url.trim());
        }
        builder.build()
    }

    /// A builder for a client with other settings.
    pub fn builder() -> FilesClientBuilder {
        FilesClientBuilder::default()
    }

    /// The base URL calls go to, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The largest file [`FilesClient::upload`] sends.
    pub fn upload_limit(&self) -> u64 {
        self.shared.upload_limit
    }

    /// A clone whose calls are scoped to `workspace` (a UUID, checked when a call is made).
    ///
    /// ```
    /// # let client = openrouter_files::FilesClient::new("k")?;
    /// let team = client.in_workspace("a103d8b6-42f0-4e50-9a3c-bf41e2c3c1a7");
    /// # Ok::<(), openrouter_files::Error>(())
    /// ```
    pub fn in_workspace(&self, workspace: &str) -> FilesClient {
        let mut scoped = self.clone();
        scoped.options.workspace = Some(workspace.to_string());
        scoped
    }

    /// A clone whose calls use the caller's default workspace.
    pub fn in_default_workspace(&self) -> FilesClient {
        let mut scoped = self.clone();
        scoped.options.workspace = None;
        scoped
    }

    /// A clone whose calls use `provider`'s storage (`None`: OpenRouter's own).
    pub fn with_provider(&self, provider: impl Into<Option<Provider>>) -> FilesClient {
        let mut scoped = self.clone();
        scoped.options.provider = provider.into();
        scoped
    }

    /// A clone whose calls retry per `policy`.
    pub fn with_retry(&self, policy: RetryPolicy) -> FilesClient {
        let mut scoped = self.clone();
        scoped.options.retry = policy;
        scoped
    }

    /// A clone with another connect timeout (`None`: wait as long as the OS does).
    pub fn with_connect_timeout(&self, timeout: Option<Duration>) -> FilesClient {
        let mut scoped = self.clone();
        scoped.options.timeouts.connect = timeout;
        scoped
    }

    /// A clone with another limit on waiting for response headers once the request is sent.
    pub fn with_response_timeout(&self, timeout: Option<Duration>) -> FilesClient {
        let mut scoped = self.clone();
        scoped.options.timeouts.response = timeout;
        scoped
    }

    /// A clone with another stall timeout: how long a body transfer (either way) may go
    /// without progress.
    pub fn with_stall_timeout(&self, timeout: Option<Duration>) -> FilesClient {
        let mut scoped = self.clone();
        scoped.options.timeouts.stall = timeout;
        scoped
    }

    /// A clone that adds a header to every call, such as Prism's `Prefer: code=404`.
    /// Fails with [`Error::InvalidInput`] for a name or value HTTP does not allow.
    pub fn with_header(&self, name: &str, value: &str) -> Result<FilesClient> {
        let header = parse_header(name, value).map_err(Error::InvalidInput)?;
        let mut scoped = self.clone();
        scoped.options.headers.push(header);
        Ok(scoped)
    }

    /// The metadata of one file.
    ///
    /// ```no_run
    /// # let client = openrouter_files::FilesClient::from_env()?;
    /// let meta = client.retrieve("or_file_011CNha8iCJcU1wXNR6q4V8w")?;
    /// println!("{} is {} bytes", meta.filename, meta.size_bytes);
    /// # Ok::<(), openrouter_files::Error>(())
    /// ```
    pub fn retrieve(&self, file_id: &str) -> Result<FileMetadata> {
        check_id(file_id)?;
        let reply = self.execute(&idempotent(Method::GET, &[file_id]), None)?;
        read_json(reply, "retrieve")
    }

    /// Deletes a file. A delete that was retried (its first answer was lost) and then finds
    /// the file gone counts as done.
    ///
    /// ```no_run
    /// # let client = openrouter_files::FilesClient::from_env()?;
    /// let gone = client.delete("or_file_011CNha8iCJcU1wXNR6q4V8w")?;
    /// assert!(gone.deleted);
    /// # Ok::<(), openrouter_files::Error>(())
    /// ```
    pub fn delete(&self, file_id: &str) -> Result<FileDeleted> {
        check_id(file_id)?;
        match self.execute(&idempotent(Method::DELETE, &[file_id]), None) {
            Ok(reply) => read_json(reply, "delete"),
            Err(Error::Api(api)) if api.status() == 404 && api.attempts() > 1 => {
                Ok(FileDeleted::already_gone(file_id))
            }
            Err(e) => Err(e),
        }
    }
}

/// An idempotent call on `files/<segments>` with no query of its own.
pub(crate) fn idempotent<'a>(method: Method, segments: &'a [&'a str]) -> Call<'a> {
    Call {
        method,
        segments,
        query: Vec::new(),
        replay: Replay::Idempotent,
        identity: false,
    }
}

/// Refuses ids that cannot name a file, before anything is sent.
pub(crate) fn check_id(file_id: &str) -> Result<()> {
    if file_id.trim().is_empty() {
        return Err(Error::InvalidInput("the file id is empty".into()));
    }
    Ok(())
}

fn parse_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("{name:?} is not a valid header name"))?;
    let value = HeaderValue::from_str(value)
        .map_err(|_| format!("the value of header {name} is not a valid header value"))?;
    Ok((name, value))
}

/// Configures a [`FilesClient`].
///
/// ```
/// use std::time::Duration;
/// use openrouter_files::{FilesClient, RetryPolicy};
///
/// let client = FilesClient::builder()
///     .api_key("sk-or-v1-…")
///     .base_url("https://openrouter.ai/api/v1")
///     .workspace("a103d8b6-42f0-4e50-9a3c-bf41e2c3c1a7")
///     .app("https://example.com", "My App")
///     .connect_timeout(Duration::from_secs(5))
///     .retry(RetryPolicy::default().max_retries(4))
///     .build()?;
/// # Ok::<(), openrouter_files::Error>(())
/// ```
#[derive(Clone)]
pub struct FilesClientBuilder {
    api_key: Option<String>,
    base_url: String,
    user_agent: String,
    headers: Vec<(String, String)>,
    upload_limit: u64,
    max_redirects: u32,
    max_idle_connections: usize,
    options: Options,
}

impl fmt::Debug for FilesClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilesClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("base_url", &self.base_url)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Default for FilesClientBuilder {
    fn default() -> Self {
        FilesClientBuilder {
            api_key: None,
            base_url: DEFAULT_BASE_URL.to_string(),
            user_agent: DEFAULT_USER_AGENT.to_string(),
            headers: Vec::new(),
            upload_limit: DEFAULT_UPLOAD_LIMIT,
            max_redirects: 5,
            max_idle_connections: DEFAULT_MAX_IDLE_CONNECTIONS,
            options: Options {
                workspace: None,
                provider: None,
                headers: Vec::new(),
                retry: RetryPolicy::default(),
                timeouts: Timeouts::default(),
                gate: None,
            },
        }
    }
}

impl FilesClientBuilder {
    /// The API key, sent as `Authorization: Bearer <key>`. Required.
    pub fn api_key(mut self, key: &str) -> Self {
        self.api_key = Some(key.to_string());
        self
    }

    /// Where the API lives (default [`DEFAULT_BASE_URL`]). Any prefix works: the emulator's
    /// `http://127.0.0.1:PORT/api/v1`, or `http://127.0.0.1:4010` for a mock serving `/files`
    /// at the root.
    pub fn base_url(mut self, url: &str) -> Self {
        self.base_url = url.trim_end_matches('/').to_string();
        self
    }

    /// The workspace (a UUID) for every call (default: the key's own).
    pub fn workspace(mut self, workspace: &str) -> Self {
        self.options.workspace = Some(workspace.to_string());
        self
    }

    /// The provider storage for every call (default: OpenRouter's).
    pub fn provider(mut self, provider: impl Into<Provider>) -> Self {
        self.options.provider = Some(provider.into());
        self
    }

    /// The `User-Agent` header (default `openrouter-files/VERSION`).
    pub fn user_agent(mut self, agent: &str) -> Self {
        self.user_agent = agent.to_string();
        self
    }

    /// App attribution: the `HTTP-Referer` and `X-Title` headers OpenRouter shows in rankings.
    pub fn app(self, url: &str, title: &str) -> Self {
        self.header("HTTP-Referer", url).header("X-Title", title)
    }

    /// A header sent with every call.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// How long to wait for a TCP (and TLS) connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.options.timeouts.connect = Some(timeout);
        self
    }

    /// How long to wait for response headers once the request is sent (default 60 s). The
    /// stall timeout bounds this wait too.
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.options.timeouts.response = Some(timeout);
        self
    }

    /// How long a body transfer may go without progress, either way (default 60 s). There is
    /// no cap on a transfer that keeps moving.
    pub fn stall_timeout(mut self, timeout: Duration) -> Self {
        self.options.timeouts.stall = Some(timeout);
        self
    }

    /// The retry policy (default: 2 retries with backoff, see [`RetryPolicy`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.options.retry = policy;
        self
    }

    /// Shorthand for a default [`RetryPolicy`] with `retries` retries (0 turns them off).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.options.retry = self.options.retry.max_retries(retries);
        self
    }

    /// The largest file an upload sends (default [`DEFAULT_UPLOAD_LIMIT`]); larger files are
    /// refused before a byte is sent.
    pub fn upload_limit(mut self, bytes: u64) -> Self {
        self.upload_limit = bytes;
        self
    }

    /// How many redirects a call follows (default 5). `Authorization` is only sent on to the
    /// same host.
    pub fn max_redirects(mut self, redirects: u32) -> Self {
        self.max_redirects = redirects;
        self
    }

    /// How many idle connections the pool keeps open for reuse (default
    /// [`DEFAULT_MAX_IDLE_CONNECTIONS`]). Threads sharing the client (a
    /// [`Batch`](crate::Batch) of N workers, say) each reuse their own connection only when
    /// this is at least their number; above it, every extra call opens a new connection.
    /// Idle connections are closed after 15 s.
    pub fn max_idle_connections(mut self, connections: usize) -> Self {
        self.max_idle_connections = connections;
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<FilesClient> {
        let key = self
            .api_key
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| Error::Config("no API key given".into()))?;
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", key.trim())).map_err(|_| {
            Error::Config("the API key contains characters HTTP does not allow".into())
        })?;
        auth.set_sensitive(true);
        check_base_url(&self.base_url)?;
        let headers = self
            .headers
            .iter()
            .map(|(n, v)| parse_header(n, v))
            .collect::<Result<Vec<_>, _>>()
            .map_err(Error::Config)?;
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections(self.max_idle_connections)
            .max_idle_connections_per_host(self.max_idle_connections)
            .max_redirects(self.max_redirects)
            .redirect_auth_headers(RedirectAuthHeaders::SameHost)
            .user_agent(self.user_agent.as_str())
            .timeout_connect(self.options.timeouts.connect)
            .timeout_recv_response(self.options.timeouts.response)
            .timeout_per_read(self.options.timeouts.stall)
            .timeout_per_write(self.options.timeouts.stall);
        #[cfg(all(feature = "native-tls", not(feature = "rustls")))]
        let config = config.tls_config(
            ureq::tls::TlsConfig::builder()
                .provider(ureq::tls::TlsProvider::NativeTls)
                .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                .build(),
        );
        Ok(FilesClient {
            shared: Arc::new(Shared {
                agent: Agent::with_parts(
                    config.build(),
                    DefaultConnector::new().chain(crate::coalesce::Coalesce),
                    DefaultResolver::default(),
                ),
                base_url: self.base_url,
                auth,
                headers,
                upload_limit: self.upload_limit,
            }),
            options: self.options,
        })
    }
}

fn check_base_url(url: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::Config(format!("base URL {url:?} {why}")));
    let Ok(uri) = url.parse::<http::Uri>() else {
        return bad("is not a URL");
    };
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return bad("must start with http:// or https://");
    }
    if uri.host().is_none_or(str::is_empty) {
        return bad("has no host");
    }
    if uri.query().is_some() || url.contains('#') {
        return bad("must not have a query or fragment");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_is_send_sync_and_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<FilesClient>();
    }

    #[test]
    fn build_refuses_bad_settings() {
        let build = |b: FilesClientBuilder| b.build().unwrap_err().to_string();
        assert!(build(FilesClient::builder()).contains("no API key"));
        let keyed = || FilesClient::builder().api_key("sk-secret");
        assert!(build(keyed().base_url("ftp://x")).contains("http"));
        assert!(build(keyed().base_url("not a url")).contains("URL"));
        assert!(build(keyed().base_url("https://h/api?x=1")).contains("query"));
        let bad_header = build(keyed().header("X-Bad", "a\r\nb"));
        assert!(bad_header.contains("X-Bad") || bad_header.contains("x-bad"));
        assert!(!build(FilesClient::builder().api_key("sk-se\ncret")).contains("cret"));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let client = FilesClient::new("sk-or-v1-topsecret").unwrap();
        assert!(!format!("{client:?}").contains("topsecret"));
        let builder = FilesClient::builder().api_key("sk-or-v1-topsecret");
        assert!(!format!("{builder:?}").contains("topsecret"));
        assert!(format!("{:?}", client.shared.auth).contains("Sensitive"));
    }
}
