//! The request URL: the base URL, `/files` and the call's segments, and the query (the
//! call's, then the scope's workspace and provider), all percent-encoded and checked locally.

use super::{Call, Transport};
use crate::error::{Error, Result};

impl Transport<'_> {
    /// The full URL of `call` at `path`, after checking what can be checked locally.
    pub(super) fn url(&self, path: &str, call: &Call<'_>) -> Result<String> {
        let mut url = format!("{}{path}", self.shared.base_url);
        let mut query: Vec<(&str, &str)> =
            call.query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(workspace) = &self.options.workspace {
            if !is_uuid(workspace) {
                return Err(Error::InvalidInput(format!(
                    "workspace {workspace:?} is not a UUID"
                )));
            }
            query.push(("workspace_id", workspace));
        }
        if let Some(provider) = &self.options.provider {
            query.push(("provider", provider.as_str()));
        }
        for (i, (key, value)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            push_encoded(&mut url, key);
            url.push('=');
            push_encoded(&mut url, value);
        }
        Ok(url)
    }
}

/// The request path below the base URL, segments encoded; also what logs and errors show
/// (no host, no query, no key).
pub(super) fn api_path(call: &Call<'_>) -> String {
    let mut path = String::from("/files");
    for segment in call.segments {
        path.push('/');
        push_segment(&mut path, segment);
    }
    path
}

/// True for the 8-4-4-4-12 hexadecimal form of a UUID.
fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Appends `text` percent-encoded: everything but RFC 3986 unreserved characters.
fn push_encoded(out: &mut String, text: &str) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

/// Appends one path segment; `.` and `..` are encoded too, so they cannot climb the path.
fn push_segment(out: &mut String, segment: &str) {
    if segment.bytes().all(|b| b == b'.') {
        out.push_str(&"%2E".repeat(segment.len()));
    } else {
        push_encoded(out, segment);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cannot_escape_their_place() {
        let mut s = String::new();
        push_segment(&mut s, "../x");
        assert_eq!(s, "..%2Fx");
        s.clear();
        push_segment(&mut s, "..");
        assert_eq!(s, "%2E%2E");
        s.clear();
        push_segment(&mut s, "a/b c?d#é");
        assert_eq!(s, "a%2Fb%20c%3Fd%23%C3%A9");
    }

    #[test]
    fn uuids_are_checked_by_shape() {
        assert!(is_uuid("a103d8b6-42f0-4e50-9a3c-bf41e2c3c1a7"));
        assert!(!is_uuid("a103d8b6-42f0-4e50-9a3c"));
        assert!(!is_uuid("g103d8b6-42f0-4e50-9a3c-bf41e2c3c1a7"));
        assert!(!is_uuid(""));
    }
}
