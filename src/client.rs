//! [`FilesClient`] and its builder: the API key, base URL, default workspace and provider,
//! timeouts, retries and headers every call shares.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use ureq::Agent;
use ureq::http::{self, HeaderName, HeaderValue, Method};

use crate::config::{
    DEFAULT_BASE_URL, DEFAULT_MAX_IDLE_CONNECTIONS, DEFAULT_UPLOAD_LIMIT, DEFAULT_USER_AGENT,
    Options, Shared, Timeouts, finite,
};
use crate::error::{Error, Result};
use crate::model::{FileDeleted, FileMetadata, Provider};
use crate::observe::{Observer, SharedObserver};
use crate::proxy::{Bypass, Proxies, ProxyChoice};
use crate::retry::RetryPolicy;
use crate::tls;
use crate::transport::{Call, Replay, Transport, read_checked_answer};
use crate::trust::TlsRoots;
use crate::userinfo::hide_userinfo;

/// A blocking client for the OpenRouter Files API.
///
/// It is `Send + Sync` and cheap to clone: clones share one connection pool. Scoped clones
/// ([`FilesClient::in_workspace`], [`FilesClient::with_provider`], [`FilesClient::with_retry`],
/// [`FilesClient::with_header`], …) change settings for the calls made through them only; each
/// takes the same argument types as the builder's setter of that name.
///
/// ```standalone_crate
/// use openrouter_files::FilesClient;
/// # use openrouter_files_emulator::Emulator;
/// # let server = Emulator::builder().seed_file("a.txt", b"abc".to_vec()).start()?;
/// # // SAFETY: a standalone doctest is a process of its own; the emulator does not read
/// # // the environment.
/// # unsafe { std::env::set_var("OPENROUTER_API_KEY", server.api_key()) };
/// # unsafe { std::env::set_var("OPENROUTER_BASE_URL", server.base_url()) };
///
/// let client = FilesClient::from_env()?; // OPENROUTER_API_KEY, optional OPENROUTER_BASE_URL
/// for file in client.list().page_size(100) {
///     let file = file?;
///     println!("{}\t{}\t{}", file.id, file.size_bytes, file.filename);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct FilesClient {
    pub(crate) shared: Arc<Shared>,
    pub(crate) options: Options,
}

impl fmt::Debug for FilesClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilesClient")
            .field("base_url", &hide_userinfo(&self.shared.base_url))
            .field("api_key", &"[redacted]")
            .field("workspace", &self.options.workspace)
            .field("provider", &self.options.provider)
            .field("retry", &self.options.retry)
            .field("timeouts", &self.options.timeouts)
            .field("proxies", &self.shared.proxies)
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
    pub fn new(api_key: impl Into<String>) -> Result<FilesClient> {
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

    /// A clone with `change` made to its options: what every scoped clone below is.
    /// The request loop below this client, with this scope's settings.
    pub(crate) fn transport(&self) -> Transport<'_> {
        Transport {
            shared: &self.shared,
            options: &self.options,
        }
    }

    fn scoped(&self, change: impl FnOnce(&mut Options)) -> FilesClient {
        let mut scoped = self.clone();
        change(&mut scoped.options);
        scoped
    }

    /// A clone whose calls are scoped to `workspace` (a UUID, checked when a call is made).
    ///
    /// ```
    /// # let client = openrouter_files::FilesClient::new("k")?;
    /// let team = client.in_workspace("a103d8b6-42f0-4e50-9a3c-bf41e2c3c1a7");
    /// # Ok::<(), openrouter_files::Error>(())
    /// ```
    pub fn in_workspace(&self, workspace: impl Into<String>) -> FilesClient {
        self.scoped(|o| o.workspace = Some(workspace.into()))
    }

    /// A clone whose calls use the caller's default workspace.
    pub fn in_default_workspace(&self) -> FilesClient {
        self.scoped(|o| o.workspace = None)
    }

    /// A clone whose calls use `provider`'s storage, with your own key for it.
    ///
    /// ```
    /// # let client = openrouter_files::FilesClient::new("k")?;
    /// let openai = client.with_provider("openai");
    /// let ours = openai.with_openrouter_storage();
    /// # Ok::<(), openrouter_files::Error>(())
    /// ```
    pub fn with_provider(&self, provider: impl Into<Provider>) -> FilesClient {
        self.scoped(|o| o.provider = Some(provider.into()))
    }

    /// A clone whose calls use OpenRouter's own storage (no `provider` parameter).
    pub fn with_openrouter_storage(&self) -> FilesClient {
        self.scoped(|o| o.provider = None)
    }

    /// A clone whose calls retry per `policy`.
    pub fn with_retry(&self, policy: RetryPolicy) -> FilesClient {
        self.scoped(|o| o.retry = policy)
    }

    /// A clone with another connect timeout (`None`: wait as long as the OS does).
    pub fn with_connect_timeout(&self, timeout: impl Into<Option<Duration>>) -> FilesClient {
        self.scoped(|o| o.timeouts.connect = timeout.into())
    }

    /// A clone with another limit on waiting for response headers once the request is sent
    /// (`None`: no limit of its own; the stall timeout still applies).
    pub fn with_response_timeout(&self, timeout: impl Into<Option<Duration>>) -> FilesClient {
        self.scoped(|o| o.timeouts.response = timeout.into())
    }

    /// A clone with another stall timeout: how long a body transfer (either way) may go
    /// without progress (`None`: no limit).
    pub fn with_stall_timeout(&self, timeout: impl Into<Option<Duration>>) -> FilesClient {
        self.scoped(|o| o.timeouts.stall = timeout.into())
    }

    /// A clone whose calls each end within `deadline`, all tries, redirects and waits
    /// included, and for a download the reading of its body too (`None`: no cap at all, not
    /// even the default cap of JSON calls). See [`FilesClientBuilder::deadline`].
    ///
    /// ```
    /// use std::time::Duration;
    /// # let client = openrouter_files::FilesClient::new("k")?;
    /// let hurried = client.with_deadline(Duration::from_secs(5));
    /// let patient = client.with_deadline(None);
    /// # Ok::<(), openrouter_files::Error>(())
    /// ```
    pub fn with_deadline(&self, deadline: impl Into<Option<Duration>>) -> FilesClient {
        self.scoped(|o| o.timeouts.set_deadline(deadline.into()))
    }

    /// A clone that adds a header to every call, such as Prism's `Prefer: code=404`.
    /// Fails with [`Error::InvalidInput`] for a name or value HTTP does not allow.
    pub fn with_header(
        &self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<FilesClient> {
        let header = parse_header(&name.into(), &value.into()).map_err(Error::InvalidInput)?;
        let mut scoped = self.clone();
        scoped.options.headers.push(header);
        Ok(scoped)
    }

    /// The metadata of one file.
    ///
    /// ```
    /// # use openrouter_files::{FilesClient};
    /// # use openrouter_files_emulator::Emulator;
    /// # let server = Emulator::start()?;
    /// # let client = FilesClient::builder()
    /// #     .api_key(server.api_key())
    /// #     .base_url(server.base_url())
    /// #     .build()?;
    /// # let id = client.upload(openrouter_files::Upload::bytes("a.txt", "abc"))?.id;
    /// let meta = client.retrieve(&id)?;
    /// println!("{} is {} bytes", meta.filename, meta.size_bytes);
    /// # assert_eq!(meta.size_bytes, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn retrieve(&self, file_id: &str) -> Result<FileMetadata> {
        check_id(file_id)?;
        let reply = self
            .transport()
            .execute(&idempotent(Method::GET, &[file_id]), None)?;
        let call = (reply.method, reply.path.clone());
        let meta: FileMetadata = read_checked_answer(reply, "retrieve", file_object)?;
        self.same_file(call, file_id, &meta.id)?;
        Ok(meta)
    }

    /// Deletes a file. A delete that was retried after a try that may have gone through (its
    /// answer was lost, or was a failure status other than 408, 429 or 503) and then finds
    /// the file gone counts as done; after tries the server refused, a 404 is an error (the
    /// file was never there).
    ///
    /// ```
    /// # use openrouter_files::{FilesClient};
    /// # use openrouter_files_emulator::Emulator;
    /// # let server = Emulator::start()?;
    /// # let client = FilesClient::builder()
    /// #     .api_key(server.api_key())
    /// #     .base_url(server.base_url())
    /// #     .build()?;
    /// # let id = client.upload(openrouter_files::Upload::bytes("a.txt", "abc"))?.id;
    /// let gone = client.delete(&id)?;
    /// assert!(gone.deleted);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn delete(&self, file_id: &str) -> Result<FileDeleted> {
        check_id(file_id)?;
        match self
            .transport()
            .execute(&idempotent(Method::DELETE, &[file_id]), None)
        {
            Ok(reply) => {
                let call = (reply.method, reply.path.clone());
                let gone: FileDeleted = read_checked_answer(reply, "delete", |body| {
                    is_deletion_confirmation(body)
                        .then_some(())
                        .ok_or("the body is not a deletion confirmation")
                })?;
                self.same_file(call, file_id, &gone.id)?;
                Ok(gone)
            }
            Err(Error::Api(api)) if api.status() == 404 && api.earlier_try_may_have_acted => {
                Ok(FileDeleted::new(file_id))
            }
            Err(e) => Err(e),
        }
    }
}

impl FilesClient {
    /// Refuses the answer to `call` (method and path) about the file `asked` when it names
    /// another: a confirmation or metadata for another file is no outcome for this one. The
    /// two id styles of one file (`or_file_X` in the current API, `file_X` in the first)
    /// name the same file.
    fn same_file(&self, call: (&'static str, String), asked: &str, answered: &str) -> Result<()> {
        fn first_style(id: &str) -> &str {
            id.strip_prefix("or_")
                .filter(|rest| rest.starts_with("file_"))
                .unwrap_or(id)
        }
        if answered == asked || first_style(answered) == first_style(asked) {
            return Ok(());
        }
        let (method, path) = call;
        Err(Error::OtherFile {
            method,
            path,
            asked: asked.to_string(),
            answered: crate::transport::shown(answered.as_bytes(), &self.shared.key),
        })
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

/// Whether a delete's 2xx body confirms the deletion: `deleted: true` (OpenAI shape) or
/// `type: "file_deleted"` (OpenRouter and Anthropic shapes). A file's metadata does not.
fn is_deletion_confirmation(body: &Value) -> bool {
    body.get("deleted") == Some(&Value::Bool(true))
        || body.get("type").and_then(Value::as_str) == Some("file_deleted")
}

/// Says why a 2xx body that should be a file's metadata is not: it declares another object
/// (`type`, else `object`, is not `"file"`, as in a deletion confirmation or a page) or says
/// `deleted`.
pub(crate) fn file_object(body: &Value) -> Result<(), &'static str> {
    let declared = body.get("type").or_else(|| body.get("object"));
    if declared.is_some_and(|t| t.as_str() != Some("file")) {
        return Err("the body declares an object other than a file");
    }
    if body.get("deleted").is_some() {
        return Err("the body is a deletion confirmation, not a file");
    }
    Ok(())
}

/// Refuses ids that cannot name a file, before anything is sent.
pub(crate) fn check_id(file_id: &str) -> Result<()> {
    if file_id.trim().is_empty() {
        return Err(Error::InvalidInput("the file id is empty".into()));
    }
    Ok(())
}

/// The `Authorization` header for `key`, marked sensitive (so ureq never logs it).
fn authorization(key: &str) -> Result<HeaderValue> {
    let mut auth = HeaderValue::from_str(&format!("Bearer {key}"))
        .map_err(|_| Error::Config("the API key contains characters HTTP does not allow".into()))?;
    auth.set_sensitive(true);
    Ok(auth)
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
///     .retry(RetryPolicy::default().with_max_retries(4))
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
    root_certificates: Vec<Vec<u8>>,
    tls_roots: TlsRoots,
    proxy: ProxyChoice,
    proxy_bypass: Option<Vec<Bypass>>,
    observer: Option<SharedObserver>,
    max_idle_connections: usize,
    options: Options,
}

impl fmt::Debug for FilesClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilesClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .field("base_url", &hide_userinfo(&self.base_url))
            .field("proxy", &self.proxy)
            .field("proxy_bypass", &self.proxy_bypass)
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
            root_certificates: Vec::new(),
            tls_roots: TlsRoots::Default,
            proxy: ProxyChoice::Environment,
            proxy_bypass: None,
            observer: None,
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
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Where the API lives (default [`DEFAULT_BASE_URL`]). Any prefix works: the emulator's
    /// `http://127.0.0.1:PORT/api/v1`, or `http://127.0.0.1:4010` for a mock serving `/files`
    /// at the root.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        let mut url = url.into();
        url.truncate(url.trim_end_matches('/').len());
        self.base_url = url;
        self
    }

    /// The workspace (a UUID) for every call (default: the key's own).
    pub fn workspace(mut self, workspace: impl Into<String>) -> Self {
        self.options.workspace = Some(workspace.into());
        self
    }

    /// The provider storage for every call (default: OpenRouter's).
    pub fn provider(mut self, provider: impl Into<Provider>) -> Self {
        self.options.provider = Some(provider.into());
        self
    }

    /// The `User-Agent` header (default `openrouter-files/VERSION`; empty: none). Checked by
    /// [`build`](FilesClientBuilder::build), like every header value.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// App attribution: the `HTTP-Referer` and `X-Title` headers OpenRouter shows in rankings.
    pub fn app(self, url: impl Into<String>, title: impl Into<String>) -> Self {
        self.header("HTTP-Referer", url).header("X-Title", title)
    }

    /// A header sent with every call (to the base URL's origin: not after a redirect to
    /// another, like the key).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// How long to wait for a TCP (and TLS) connection (default 10 s; `None`: as long as the
    /// OS does).
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.options.timeouts.connect = timeout.into();
        self
    }

    /// How long to wait for response headers once the request is sent (default 60 s). The
    /// stall timeout bounds this wait too (`None`: no limit of its own).
    pub fn response_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.options.timeouts.response = timeout.into();
        self
    }

    /// How long a body transfer may go without progress, either way (default 60 s). There is
    /// no cap on a transfer that keeps moving (`None`: no limit).
    pub fn stall_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.options.timeouts.stall = timeout.into();
        self
    }

    /// A cap on every call, all tries, redirects and retry waits included, and for a download
    /// the reading of its body too (default: none for uploads and downloads, which are bounded
    /// by the stall timeout instead, and [`DEFAULT_JSON_DEADLINE`](crate::DEFAULT_JSON_DEADLINE) for list pages, retrieve
    /// and delete). `Some(d)` caps every call at `d`; `None` removes every cap. A call that
    /// runs out of time fails with [`Error::Transport`] (a global timeout); a retry whose wait
    /// would pass the deadline is not attempted.
    ///
    /// ```
    /// use std::time::Duration;
    /// let client = openrouter_files::FilesClient::builder()
    ///     .api_key("sk-or-v1-…")
    ///     .deadline(Duration::from_secs(30))
    ///     .build()?;
    /// # Ok::<(), openrouter_files::Error>(())
    /// ```
    pub fn deadline(mut self, deadline: impl Into<Option<Duration>>) -> Self {
        self.options.timeouts.set_deadline(deadline.into());
        self
    }

    /// The retry policy (default: 2 retries with backoff, see [`RetryPolicy`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.options.retry = policy;
        self
    }

    /// Shorthand for a default [`RetryPolicy`] with `retries` retries (0 turns them off).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.options.retry = self.options.retry.with_max_retries(retries);
        self
    }

    /// The largest file an upload sends (default [`DEFAULT_UPLOAD_LIMIT`]); larger files are
    /// refused before a byte is sent.
    pub fn upload_limit(mut self, bytes: u64) -> Self {
        self.upload_limit = bytes;
        self
    }

    /// How many redirects a call follows (default 5; 0: none). The client follows them
    /// itself, by the rules in the crate docs: `Authorization` and the headers set with
    /// [`header`](Self::header), [`app`](Self::app) and [`FilesClient::with_header`] only to
    /// the base URL's origin (scheme, host and port), never from https to http, never to a
    /// `Location` that contains the key, 307 and 308 keep the method, and a 301, 302 or 303 to
    /// an upload or a delete is returned as [`Error::Redirect`].
    pub fn max_redirects(mut self, redirects: u32) -> Self {
        self.max_redirects = redirects;
        self
    }

    /// Trusts the certificates in `pem` (one or more PEM `CERTIFICATE` blocks) as roots, in
    /// addition to Mozilla's: what a corporate proxy or a private gateway with its own CA needs.
    /// May be called more than once. The PEM is checked by [`build`](Self::build), which fails
    /// with [`Error::Config`] when it holds no certificate.
    ///
    /// Without this, rustls trusts Mozilla's roots and native-tls the platform's trust store
    /// (see the crate docs, "TLS"); with it, either stack trusts Mozilla's roots and these.
    ///
    /// ```
    /// # use openrouter_files::{Error, FilesClient};
    /// let err = FilesClient::builder()
    ///     .api_key("sk-or-v1-example")
    ///     .add_root_certificate("not a certificate")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(matches!(err, Error::Config(_)));
    /// ```
    pub fn add_root_certificate(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.root_certificates.push(pem.as_ref().to_vec());
        self
    }

    /// Which roots the client trusts besides those added with
    /// [`add_root_certificate`](Self::add_root_certificate) (default [`TlsRoots::Default`]:
    /// the stack's own). [`TlsRoots::Platform`](TlsRoots) (feature `platform-roots`) trusts what the
    /// machine trusts, `SSL_CERT_FILE` and `SSL_CERT_DIR` included, as curl does: what a
    /// company network with its own CA usually needs.
    ///
    /// ```
    /// # #[cfg(feature = "platform-roots")] {
    /// use openrouter_files::{FilesClient, TlsRoots};
    ///
    /// let client = FilesClient::builder()
    ///     .api_key("sk-or-v1-…")
    ///     .tls_roots(TlsRoots::Platform)
    ///     .build()?;
    /// # }
    /// # Ok::<(), openrouter_files::Error>(())
    /// ```
    pub fn tls_roots(mut self, roots: TlsRoots) -> Self {
        self.tls_roots = roots;
        self
    }

    /// Sends every request through the proxy at `url`: `http://host:port` or
    /// `https://host:port` (a `CONNECT` tunnel; for an `https` server the key crosses the
    /// proxy only inside TLS, while for a plain `http` base URL the proxy reads every request,
    /// the key included, as with curl), or `socks5://`, `socks5h://` (the proxy resolves names),
    /// `socks4://`, `socks4a://`. Credentials go in the URL (`http://user:pass@host:port`,
    /// percent-encoded); they are sent to the proxy only and never printed. A URL without a
    /// scheme is an HTTP proxy. Checked by [`build`](Self::build) ([`Error::Config`]).
    ///
    /// Without this, the client reads the environment as curl does: `https_proxy` or
    /// `HTTPS_PROXY` for https URLs, `http_proxy` (lower case only) for http URLs, else
    /// `all_proxy` or `ALL_PROXY`, and `no_proxy` or `NO_PROXY` for the hosts reached
    /// directly (`*`; a name with its subdomains, `.example.com` alike; an address; a
    /// `10.0.0.0/8` network). A proxy set here ignores the environment, `NO_PROXY` included:
    /// name the hosts to reach directly with [`proxy_bypass`](Self::proxy_bypass).
    /// A proxy that refuses the tunnel (407, 502, …) is [`Error::Proxy`], naming the proxy.
    ///
    /// ```
    /// let client = openrouter_files::FilesClient::builder()
    ///     .api_key("sk-or-v1-…")
    ///     .proxy("http://proxy.corp.example:3128")
    ///     .build()?;
    /// assert!(format!("{client:?}").contains("http://proxy.corp.example:3128"));
    /// # Ok::<(), openrouter_files::Error>(())
    /// ```
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = ProxyChoice::Url(url.into());
        self
    }

    /// The hosts reached directly although a proxy is set, by [`proxy`](Self::proxy) or by
    /// the environment: `list` in the syntax of `NO_PROXY`, read as curl reads it. `*` alone
    /// is every host; entries are separated by commas; a name covers itself and its subdomains
    /// (`example.com` and `.example.com` both cover `api.example.com`); an IP address (IPv6
    /// without brackets) itself, and a CIDR network such as `10.0.0.0/8` every address in it.
    /// A host that is an address (`127.1` is 127.0.0.1) is matched by addresses and networks
    /// only. An entry no host can match (`*.example.com`, `localhost:8080`, `[::1]`,
    /// `10.0.0.0/33`, anything with an `@`) is ignored, as curl never matches it, and the
    /// others still apply. The module's rules in full are in the
    /// [company-network guide](crate::guide::company_network). The list is shown by `Debug`,
    /// as applied.
    ///
    /// The list replaces the environment's `no_proxy` or `NO_PROXY` for this client, as
    /// `curl --noproxy LIST` does (an empty list: every host goes through the proxy). Without
    /// it, a proxy set by [`proxy`](Self::proxy) serves every host: a library does not read
    /// the environment behind an explicit setting. reqwest is alike: a proxy set in code has
    /// no bypass list unless the application gives it one (`Proxy::no_proxy`, with
    /// `NoProxy::from_env()` for the environment's). An application that wants curl's `-x`,
    /// which honours `NO_PROXY`, passes the variable's value here, as the CLI's `--proxy`
    /// does. With [`no_proxy`](Self::no_proxy), no request goes through a proxy anyway.
    ///
    /// ```
    /// let client = openrouter_files::FilesClient::builder()
    ///     .api_key("sk-or-v1-…")
    ///     .proxy("http://proxy.corp.example:3128")
    ///     .proxy_bypass("localhost, .corp.example, 10.0.0.0/8, ::1")
    ///     .build()?;
    /// // The proxy serves openrouter.ai; localhost, *.corp.example and 10.x.x.x are direct.
    /// assert!(format!("{client:?}").contains("[localhost, corp.example, 10.0.0.0/8, ::1]"));
    /// # Ok::<(), openrouter_files::Error>(())
    /// ```
    pub fn proxy_bypass(mut self, list: impl Into<String>) -> Self {
        self.proxy_bypass = Some(crate::proxy::parse_bypass(&list.into()));
        self
    }

    /// [`proxy_bypass`](Self::proxy_bypass) with the environment's list, `no_proxy` or else
    /// `NO_PROXY` (read now; an empty value counts as unset), when one is set: a proxy set by
    /// [`proxy`](Self::proxy) then reaches the hosts it names directly, as `curl -x` does.
    /// Without either variable, nothing changes. (The environment's own proxies read it
    /// anyway.)
    ///
    /// ```
    /// let client = openrouter_files::FilesClient::builder()
    ///     .api_key("sk-or-v1-…")
    ///     .proxy("http://proxy.corp.example:3128")
    ///     .proxy_bypass_from_env()
    ///     .build()?;
    /// # Ok::<(), openrouter_files::Error>(())
    /// ```
    pub fn proxy_bypass_from_env(mut self) -> Self {
        if let Some(list) = crate::proxy::environment_bypass(|name| std::env::var(name).ok()) {
            self.proxy_bypass = Some(list);
        }
        self
    }

    /// No proxy for any request, whatever the environment says (`curl --noproxy '*'`).
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxyChoice::Off;
        self
    }

    /// Tells `observer` about every try of every call the client (and its clones) makes:
    /// method, path, status, try number, duration, bytes, request id, proxy, and the wait
    /// before a retry. It never sees the key or credentials. See [`Observer`] for an example.
    pub fn observer(mut self, observer: impl Observer + 'static) -> Self {
        self.observer = Some(std::sync::Arc::new(observer));
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
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| Error::Config("no API key given".into()))?;
        let auth = authorization(key)?;
        let key = Arc::from(key);
        check_base_url(&self.base_url)?;
        if !self.user_agent.is_empty() && HeaderValue::from_str(&self.user_agent).is_err() {
            return Err(Error::Config(
                "the user agent is not a valid header value".into(),
            ));
        }
        let headers = self
            .headers
            .iter()
            .map(|(n, v)| parse_header(n, v))
            .collect::<Result<Vec<_>, _>>()
            .map_err(Error::Config)?;
        let https_base = self
            .base_url
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
        let proxies = Proxies::new(&self.proxy, self.proxy_bypass.as_deref(), https_base)?;
        let config = tls::configure(
            self.agent_config(),
            self.tls_roots,
            &self.root_certificates,
            https_base,
        )?;
        Ok(FilesClient {
            shared: Arc::new(Shared {
                agent: Agent::new_with_config(config.build()),
                base_url: self.base_url,
                auth,
                key,
                max_redirects: self.max_redirects,
                headers,
                upload_limit: self.upload_limit,
                proxies,
                observer: self.observer,
            }),
            options: self.options,
        })
    }

    /// ureq's settings for the agent, but for TLS: the pool, the user agent and the timeouts
    /// from this builder; no status as an error, and neither proxies nor redirects, which
    /// `transport` applies by this crate's rules.
    fn agent_config(&self) -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
        Agent::config_builder()
            // Each request is given its proxy by `transport` (ureq would read the environment
            // by its own rules, which are not curl's).
            .proxy(None)
            .http_status_as_error(false)
            .max_idle_connections(self.max_idle_connections)
            .max_idle_connections_per_host(self.max_idle_connections)
            // Redirects are followed by `transport`, by this crate's rules (ureq's `SameHost`
            // compares hosts but not ports).
            .max_redirects(0)
            .user_agent(self.user_agent.as_str())
            .timeout_connect(finite(self.options.timeouts.connect))
            .timeout_recv_response(finite(self.options.timeouts.response))
            .timeout_per_read(finite(self.options.timeouts.stall))
            .timeout_per_write(finite(self.options.timeouts.stall))
    }
}

fn check_base_url(url: &str) -> Result<()> {
    let bad = |why: &str| {
        let shown = hide_userinfo(url);
        Err(Error::Config(format!("base URL {shown:?} {why}")))
    };
    let Ok(uri) = url.parse::<http::Uri>() else {
        return bad("is not a URL");
    };
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return bad("must start with http:// or https://");
    }
    if uri.host().is_none_or(str::is_empty) {
        return bad("has no host");
    }
    // `http::Uri` takes any text as the port (`:99999`, or `sec` of `u:sec/ret@h`), and ureq
    // then connects to the scheme's default port instead.
    if uri
        .authority()
        .and_then(|a| port_text(a.as_str()))
        .is_some_and(|port| !port.is_empty() && !port.parse::<u16>().is_ok_and(|p| p != 0))
    {
        return bad("has a port that is not a number from 1 to 65535");
    }
    if uri.query().is_some() || url.contains('#') {
        return bad("must not have a query or fragment");
    }
    tls::check_scheme(url, uri.scheme_str())
}

/// The text after the `:` that follows the host of `authority` (`[user@]host[:port]`), if any:
/// `http::Uri` parses it only when it is a `u16`, and says nothing otherwise.
fn port_text(authority: &str) -> Option<&str> {
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    // An IPv6 host (`[::1]`) holds colons of its own.
    let after_host = host_port
        .rsplit_once(']')
        .map_or(host_port, |(_, rest)| rest);
    after_host.rsplit_once(':').map(|(_, port)| port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_JSON_DEADLINE;

    #[test]
    fn client_is_send_sync_and_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<FilesClient>();
    }

    #[test]
    fn build_refuses_bad_settings() {
        let build = |b: FilesClientBuilder| b.build().unwrap_err().to_string();
        assert!(build(FilesClient::builder()).contains("no API key"));
        // An http base URL, so the checks hold in a build without TLS too.
        let keyed = || {
            FilesClient::builder()
                .api_key("sk-secret")
                .base_url("http://h/api")
        };
        assert!(build(keyed().base_url("ftp://x")).contains("http"));
        assert!(build(keyed().base_url("not a url")).contains("URL"));
        assert!(build(keyed().base_url("http://h/api?x=1")).contains("query"));
        assert!(build(keyed().user_agent("ua\r\nX: 1")).contains("user agent"));
        let bad_header = build(keyed().header("X-Bad", "a\r\nb"));
        assert!(bad_header.contains("X-Bad") || bad_header.contains("x-bad"));
        assert!(!build(FilesClient::builder().api_key("sk-se\ncret")).contains("cret"));
    }

    #[test]
    fn debug_hides_credentials_in_the_base_url() {
        let builder = FilesClient::builder()
            .api_key("k")
            .base_url("http://user:hunter2@example.com:8080/api/v1");
        assert!(!format!("{builder:?}").contains("hunter2"));
        let client = builder.build().unwrap();
        let shown = format!("{client:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("user"),
            "{shown}"
        );
        assert!(shown.contains("example.com:8080/api/v1"), "{shown}");
        assert_eq!(hide_userinfo("https://h/x@y"), "https://h/x@y");
    }

    #[test]
    fn json_calls_have_a_default_cap_that_a_deadline_replaces() {
        let defaults = Timeouts::default();
        assert_eq!(defaults.json_deadline, Some(DEFAULT_JSON_DEADLINE));
        assert_eq!(defaults.deadline, None, "transfers keep the stall rule");
        let client = FilesClient::builder()
            .api_key("k")
            .base_url("http://h/api")
            .deadline(Duration::from_secs(7))
            .build()
            .unwrap();
        let t = client.options.timeouts;
        assert_eq!(
            (t.deadline, t.json_deadline),
            (Some(Duration::from_secs(7)), Some(Duration::from_secs(7)))
        );
        let t = client.with_deadline(None).options.timeouts;
        assert_eq!((t.deadline, t.json_deadline), (None, None));
    }

    #[test]
    fn deletion_confirmations_are_told_from_other_bodies() {
        let yes = |v: &str| is_deletion_confirmation(&serde_json::from_str(v).unwrap());
        assert!(yes(r#"{"id":"f","object":"file","deleted":true}"#));
        assert!(yes(
            r#"{"_shape":"openrouter","id":"f","type":"file_deleted"}"#
        ));
        assert!(!yes(r#"{"id":"f","type":"file","filename":"a"}"#));
        assert!(!yes(r#"{"id":"f","deleted":"true"}"#));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let client = FilesClient::builder()
            .api_key("sk-or-v1-topsecret")
            .base_url("http://h/api")
            .build()
            .unwrap();
        assert!(!format!("{client:?}").contains("topsecret"));
        let builder = FilesClient::builder().api_key("sk-or-v1-topsecret");
        assert!(!format!("{builder:?}").contains("topsecret"));
        assert!(format!("{:?}", client.shared.auth).contains("Sensitive"));
    }
}
