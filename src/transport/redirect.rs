//! Redirects, by the crate's own rules: where a `Location` leads, and whether to go there.

use ureq::Body;
use ureq::http::{self, Method, Response};

use super::{Call, Replay, Transport, method_name};
use crate::error::{Error, Result, redact};

/// Redirect statuses the client follows (by the rules in [`Transport::follow`]).
pub(super) fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

impl Transport<'_> {
    /// Where a redirect leads, or why the client does not follow it. The rules: at most
    /// `max_redirects`; only to http(s) URLs and never from https to http; 301, 302 and 303
    /// only for a GET (they would turn a delete or an upload into a GET); 307 and 308 keep the
    /// method, and a body is sent again only when its source can be read again.
    pub(super) fn follow(
        &self,
        call: &Call<'_>,
        path: &str,
        current: &str,
        response: &Response<Body>,
        redirects: u32,
        has_body: bool,
    ) -> Result<String> {
        let status = response.status().as_u16();
        let raw = response
            .headers()
            .get(http::header::LOCATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let location = raw
            .as_deref()
            .map(|raw| crate::userinfo::hide_userinfo(&redact(raw, &self.shared.key)).into_owned());
        let refuse = |location: &str, reason: &'static str| Error::Redirect {
            method: method_name(&call.method),
            path: path.to_string(),
            status,
            location: location.to_string(),
            reason,
        };
        let Some(location) = location else {
            return Err(refuse("", "the response names no Location"));
        };
        if raw
            .as_deref()
            .is_some_and(|raw| carries_secret(raw, &self.shared.key))
        {
            // Following it would hand the key to that URL's server and to ureq's logs.
            return Err(refuse(&location, "the Location carries the API key"));
        }
        if redirects >= self.shared.max_redirects {
            return Err(refuse(&location, "too many redirects"));
        }
        let Some(next) = resolve(current, location.trim()) else {
            return Err(refuse(&location, "the Location is not an http(s) URL"));
        };
        if is_downgrade(current, &next) {
            return Err(refuse(&location, "it leads from https to http"));
        }
        if matches!(status, 301..=303) && call.method != Method::GET {
            return Err(refuse(
                &location,
                "a 301, 302 or 303 would turn this call into a GET",
            ));
        }
        if has_body && call.replay == Replay::Never {
            return Err(refuse(
                &location,
                "the request body cannot be read again to send it there",
            ));
        }
        Ok(next)
    }
}

/// `scheme://host:port` of an absolute http(s) URL (the port filled in from the scheme), with
/// the host in lower case: what "same origin" compares.
pub(super) fn origin(url: &str) -> Option<(String, String, u16)> {
    let uri = url.parse::<http::Uri>().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let host = uri.host().filter(|h| !h.is_empty())?.to_ascii_lowercase();
    Some((scheme, host, uri.port_u16().unwrap_or(default_port)))
}

/// Whether `text` holds `secret` in any ASCII case.
fn carries_secret(text: &str, secret: &str) -> bool {
    !secret.is_empty()
        && text
            .to_ascii_lowercase()
            .contains(&secret.to_ascii_lowercase())
}

/// Whether two URLs share scheme, host and port.
pub(super) fn same_origin(a: &str, b: &str) -> bool {
    matches!((origin(a), origin(b)), (Some(x), Some(y)) if x == y)
}

/// Whether a move from `current` to `next` leaves https for plain http.
fn is_downgrade(current: &str, next: &str) -> bool {
    let scheme = |url| origin(url).map(|(scheme, _, _)| scheme);
    scheme(current).as_deref() == Some("https") && scheme(next).as_deref() != Some("https")
}

/// An origin for logs (no path, no query, no user info).
pub(super) fn origin_of(url: &str) -> String {
    origin(url).map_or_else(
        || "an unparsable URL".to_string(),
        |(scheme, host, port)| format!("{scheme}://{host}:{port}"),
    )
}

/// The absolute URL a `Location` names, resolved against the URL that answered; `None` unless
/// it is an http(s) URL with a host.
fn resolve(current: &str, location: &str) -> Option<String> {
    let lower = location.to_ascii_lowercase();
    let absolute = if lower.starts_with("http://") || lower.starts_with("https://") {
        location.to_string()
    } else if location.starts_with("//") {
        let scheme = current.split_once("://")?.0;
        format!("{scheme}:{location}")
    } else if location.starts_with('/') {
        // `host` keeps an IPv6 address's brackets, as `Uri::host` gives it.
        let (scheme, host, port) = origin(current)?;
        format!("{scheme}://{host}:{port}{location}")
    } else if location.starts_with('?') {
        // A new query for the same path.
        format!("{}{location}", current.split(['?', '#']).next()?)
    } else if location.starts_with('#') {
        format!("{}{location}", current.split('#').next()?)
    } else if location.contains(':') || location.is_empty() {
        // Another scheme (`ftp:`, `file:`, `javascript:`) or nothing at all.
        return None;
    } else {
        let without_query = current.split(['?', '#']).next()?;
        let dir = &without_query[..=without_query.rfind('/')?];
        format!("{dir}{location}")
    };
    origin(&absolute)?;
    Some(absolute)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve_against_the_answering_url() {
        let here = "http://127.0.0.1:8080/api/v1/files/x?workspace_id=1";
        assert_eq!(
            resolve(here, "/other").as_deref(),
            Some("http://127.0.0.1:8080/other")
        );
        assert_eq!(
            resolve(here, "y").as_deref(),
            Some("http://127.0.0.1:8080/api/v1/files/y")
        );
        assert_eq!(resolve(here, "//h:9/z").as_deref(), Some("http://h:9/z"));
        assert_eq!(resolve(here, "HTTPS://h/z").as_deref(), Some("HTTPS://h/z"));
        assert_eq!(
            resolve("http://[::1]:8080/a/b", "/c").as_deref(),
            Some("http://[::1]:8080/c")
        );
        // A query alone replaces the query and keeps the path (RFC 3986, 5.2.2).
        assert_eq!(
            resolve(here, "?after=x").as_deref(),
            Some("http://127.0.0.1:8080/api/v1/files/x?after=x")
        );
        assert_eq!(
            resolve(here, "/y#part").as_deref(),
            Some("http://127.0.0.1:8080/y#part")
        );
        assert_eq!(
            resolve(here, "#part").as_deref(),
            Some("http://127.0.0.1:8080/api/v1/files/x?workspace_id=1#part")
        );
        for bad in [
            "",
            "ftp://h/x",
            "file:///etc/passwd",
            "javascript:x",
            "http://",
            "http:// /",
        ] {
            assert_eq!(resolve(here, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn https_to_http_is_a_downgrade_in_any_spelling() {
        assert!(is_downgrade("https://h/x", "http://h/x"));
        assert!(is_downgrade("https://h/x", "HTTP://h:443/x"));
        assert!(!is_downgrade("https://h/x", "HTTPS://other/x"));
        assert!(!is_downgrade("http://h/x", "https://h/x"));
        assert!(!is_downgrade("http://h/x", "http://h:8/x"));
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert!(same_origin("http://A:80/x", "http://a/y"));
        assert!(same_origin("https://h/x", "https://h:443/y"));
        assert!(!same_origin("http://h:1/x", "http://h:2/x"));
        assert!(!same_origin("http://h/x", "https://h/x"));
        assert!(!same_origin("http://127.0.0.1/x", "http://localhost/x"));
        assert!(same_origin("http://[::1]/x", "http://[::1]:80/y"));
        assert!(!same_origin(
            "http://[::1]:8080/x",
            "http://127.0.0.1:8080/x"
        ));
        assert!(
            same_origin("http://u:p@h:8/x", "http://h:8/y"),
            "user info is no part"
        );
        assert!(!same_origin("http://h:8@evil:9/x", "http://h:8/x"));
        assert!(!same_origin("https://h/x", "https://h:8443/x"));
    }
}
