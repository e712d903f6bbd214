//! [`TransportError`]: a request that did not complete, as this crate's own opaque type, so
//! the HTTP stack underneath can change without changing this crate's API.

use std::fmt;
use std::io;

/// A request that did not complete: connection, DNS, TLS, timeout (a
/// [deadline](crate::FilesClientBuilder::deadline) included) or an HTTP protocol error.
///
/// Ask it what happened with [`is_connect`](TransportError::is_connect) and
/// [`is_timeout`](TransportError::is_timeout); the HTTP stack's own error is its
/// [`source`](std::error::Error::source), for people to read. Its message names the call and,
/// when no connection could be made, the host and port it went to (never the API key or a
/// URL's user info).
///
/// ```
/// use openrouter_files::{Error, FilesClient};
///
/// // A port nothing listens on any more.
/// let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
/// let client = FilesClient::builder()
///     .api_key("sk-or-v1-example")
///     .base_url(format!("http://user:secret@127.0.0.1:{port}/api/v1"))
///     .max_retries(0)
///     .build()?;
/// match client.retrieve("or_file_1") {
///     Err(Error::Transport(e)) => {
///         assert!(e.is_connect() && !e.is_timeout());
///         assert_eq!((e.method(), e.path()), ("GET", "/files/or_file_1"));
///         let message = e.to_string();
///         assert!(message.contains(&format!("127.0.0.1:{port}")), "{message}");
///         assert!(!message.contains("secret") && !format!("{e:?}").contains("secret"));
///     }
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TransportError {
    inner: Box<Inner>,
}

struct Inner {
    method: &'static str,
    path: String,
    /// `host:port` the request went to, when known (no scheme, user info, path or query).
    peer: Option<String>,
    source: ureq::Error,
}

impl TransportError {
    pub(crate) fn new(
        method: &'static str,
        path: String,
        peer: Option<String>,
        source: ureq::Error,
    ) -> TransportError {
        TransportError {
            inner: Box::new(Inner {
                method,
                path,
                peer,
                source,
            }),
        }
    }

    /// The HTTP method of the call.
    pub fn method(&self) -> &'static str {
        self.inner.method
    }

    /// The request path of the call (`/files/<id>`), without host or query string.
    pub fn path(&self) -> &str {
        &self.inner.path
    }

    /// Whether a time limit ran out: connect, response, stall, or the call's deadline.
    pub fn is_timeout(&self) -> bool {
        match &self.inner.source {
            ureq::Error::Timeout(_) => true,
            ureq::Error::Io(e) => e.kind() == io::ErrorKind::TimedOut,
            _ => false,
        }
    }

    /// Whether no connection could be made: the name did not resolve, the connection was
    /// refused or unreachable, or connecting timed out. Nothing of the request was sent.
    pub fn is_connect(&self) -> bool {
        use io::ErrorKind::*;
        match &self.inner.source {
            ureq::Error::Timeout(t) => matches!(t, ureq::Timeout::Resolve | ureq::Timeout::Connect),
            ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => true,
            ureq::Error::Io(e) => matches!(
                e.kind(),
                ConnectionRefused | HostUnreachable | NetworkUnreachable | AddrNotAvailable
            ),
            _ => false,
        }
    }

    /// Whether the same call may pass if tried again: resets, refusals, early ends, timeouts
    /// and name lookups; not errors about the request itself.
    pub(crate) fn is_retryable(&self) -> bool {
        use io::ErrorKind::*;
        match &self.inner.source {
            ureq::Error::Timeout(_) | ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
                true
            }
            // DNS failures have no stable kind; they are worth another try too.
            ureq::Error::Io(e) => !matches!(
                e.kind(),
                InvalidInput | InvalidData | PermissionDenied | Unsupported | NotFound
            ),
            _ => false,
        }
    }

    /// Whether the failure happened before any byte of the request could have reached the
    /// server, so that even an upload may be sent again.
    pub(crate) fn failed_before_sending(&self) -> bool {
        match &self.inner.source {
            ureq::Error::Timeout(t) => matches!(t, ureq::Timeout::Resolve | ureq::Timeout::Connect),
            ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => true,
            ureq::Error::Io(e) => e.kind() == io::ErrorKind::ConnectionRefused,
            _ => false,
        }
    }

    /// The [`io::ErrorKind`] this failure reads as through [`std::io::Read`].
    pub(crate) fn io_kind(&self) -> io::ErrorKind {
        match &self.inner.source {
            ureq::Error::Timeout(_) => io::ErrorKind::TimedOut,
            ureq::Error::Io(e) => e.kind(),
            _ => io::ErrorKind::Other,
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Inner {
            method,
            path,
            peer,
            source,
        } = &*self.inner;
        match peer {
            Some(peer) if self.is_connect() => {
                write!(
                    f,
                    "{method} {path} failed: cannot connect to {peer}: {source}"
                )
            }
            _ => write!(f, "{method} {path} failed: {source}"),
        }
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("method", &self.inner.method)
            .field("path", &self.inner.path)
            .field("peer", &self.inner.peer)
            .field("source", &self.inner.source)
            .finish()
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.inner.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(source: ureq::Error) -> TransportError {
        TransportError::new("GET", "/files".into(), Some("h:8".into()), source)
    }

    #[test]
    fn a_refused_connection_names_its_host_and_port_and_is_a_connect_error() {
        let refused = error(ureq::Error::Io(io::ErrorKind::ConnectionRefused.into()));
        assert!(refused.is_connect() && refused.failed_before_sending());
        assert!(!refused.is_timeout());
        assert!(
            refused.to_string().contains("cannot connect to h:8"),
            "{refused}"
        );
        let reset = error(ureq::Error::Io(io::ErrorKind::ConnectionReset.into()));
        assert!(!reset.is_connect() && reset.is_retryable());
        assert!(!reset.to_string().contains("h:8"), "{reset}");
    }

    #[test]
    fn timeouts_are_timeouts_and_connect_timeouts_are_connect_errors() {
        let connect = error(ureq::Error::Timeout(ureq::Timeout::Connect));
        assert!(connect.is_timeout() && connect.is_connect());
        let global = error(ureq::Error::Timeout(ureq::Timeout::Global));
        assert!(global.is_timeout() && !global.is_connect() && !global.failed_before_sending());
        assert_eq!(global.io_kind(), io::ErrorKind::TimedOut);
    }
}
