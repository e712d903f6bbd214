//! URL credentials kept out of every text the crate produces: the `user:password@` of a URL
//! (the base URL, a redirect's `Location`) shown in an error, a log record or `Debug` output
//! becomes `[redacted]@`.

use std::borrow::Cow;

/// `url` (one URL as given, valid or not) with its userinfo replaced by `[redacted]`: what
/// follows the first `//` (or the start, without one) up to the last `@` before the next `/`,
/// or up to a later `@` when the text before it holds a `:` (a password with an unencoded
/// `/`).
///
/// It leans to hiding too much: in a URL that is not one (`mailto:a@b`), or a path's `@` after
/// a `host:port`, the text before the `@` goes too.
pub(crate) fn hide_userinfo(url: &str) -> Cow<'_, str> {
    let start = url.find("//").map_or(0, |n| n + 2);
    let rest = &url[start..];
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let at = authority
        .rfind('@')
        .or_else(|| rest.rfind('@').filter(|&at| rest[..at].contains(':')));
    match at {
        Some(at) => Cow::Owned(format!("{}[redacted]{}", &url[..start], &rest[at..])),
        None => Cow::Borrowed(url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_hidden_however_the_url_is_written() {
        for (url, shown) in [
            (
                "http://user:secret@host:8080/api/v1",
                "http://[redacted]@host:8080/api/v1",
            ),
            ("https://tok@h", "https://[redacted]@h"),
            ("//u:p@127.0.0.1:9/x", "//[redacted]@127.0.0.1:9/x"),
            ("http://c:d@e?q", "http://[redacted]@e?q"),
            ("http://u:p@w@h/", "http://[redacted]@h/"),
            ("http://u:pa/ss@h/", "http://[redacted]@h/"),
            ("http://u:p#s@h", "http://[redacted]@h"),
            ("http://us er:p w@h", "http://[redacted]@h"),
            ("HTTP://U:P@H", "HTTP://[redacted]@H"),
            ("user:secret@h/api", "[redacted]@h/api"),
            ("ftp://u:secret@h", "ftp://[redacted]@h"),
        ] {
            assert_eq!(hide_userinfo(url), shown, "{url}");
        }
    }

    #[test]
    fn urls_without_credentials_are_left_as_they_are() {
        for url in [
            "https://h/x@y",
            "http://h:8080/api/v1",
            "no url at all",
            "//",
            "http://",
            "é//é/x@y",
            "",
        ] {
            assert!(matches!(hide_userinfo(url), Cow::Borrowed(_)), "{url}");
        }
    }
}
