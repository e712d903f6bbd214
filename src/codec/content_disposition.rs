//! The one parser of `Content-Disposition` values in the crate: the header of a download
//! (RFC 6266) and of a multipart form part (RFC 7578), with quoted-string escapes (RFC 9110),
//! browser-style `%22`/`%0D`/`%0A` escapes (WHATWG) and `filename*` (RFC 8187) undone.

/// A parsed `Content-Disposition` value: its type (`attachment`, `form-data`…) and parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ContentDisposition {
    /// The disposition type, lowercased.
    pub(crate) kind: String,
    /// Parameters in order, names lowercased, values with every escape undone.
    params: Vec<(String, String)>,
}

impl ContentDisposition {
    /// Parses a header value. Never fails: what cannot be read is left out.
    pub(crate) fn parse(value: &str) -> ContentDisposition {
        let (kind, mut rest) = value.split_once(';').unwrap_or((value, ""));
        let mut params = Vec::new();
        loop {
            rest = rest.trim_start_matches([' ', '\t', ';']);
            if rest.is_empty() {
                break;
            }
            let name_end = rest.find(['=', ';']).unwrap_or(rest.len());
            let name = rest[..name_end].trim().to_ascii_lowercase();
            rest = &rest[name_end..];
            let Some(after_eq) = rest.strip_prefix('=') else {
                continue;
            };
            let after_eq = after_eq.trim_start_matches([' ', '\t']);
            let (raw, quoted, tail) = match after_eq.strip_prefix('"') {
                Some(inner) => {
                    let (text, tail) = unquote(inner);
                    (text, true, tail)
                }
                None => {
                    let end = after_eq.find(';').unwrap_or(after_eq.len());
                    (after_eq[..end].trim().to_string(), false, &after_eq[end..])
                }
            };
            rest = tail;
            // An RFC 8187 ext-value is never a quoted-string: a quoted one is invalid and left
            // out (RFC 6266 §4.3), so `filename` serves, not the undecoded text.
            let value = if name.ends_with('*') {
                match decode_ext_value(&raw).filter(|_| !quoted) {
                    Some(v) => v,
                    None => continue,
                }
            } else {
                unescape_browser(&raw)
            };
            params.push((name, value));
        }
        ContentDisposition {
            kind: kind.trim().to_ascii_lowercase(),
            params,
        }
    }

    /// The value of parameter `name` (case-insensitive), the first if it repeats.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The file name: `filename*` when present and readable, else `filename`.
    pub(crate) fn filename(&self) -> Option<&str> {
        self.param("filename*").or_else(|| self.param("filename"))
    }
}

/// Reads a quoted-string whose opening quote is already gone; returns its text and what follows
/// the closing quote. A backslash escapes `"` and `\` (the two characters that need it); before
/// any other character it is kept, as browsers send backslashes unescaped. An unterminated
/// string runs to the end.
fn unquote(inner: &str) -> (String, &str) {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (out, &inner[i + 1..]),
            '\\' => match inner[i + 1..].chars().next() {
                Some(next @ ('"' | '\\')) => {
                    out.push(next);
                    chars.next();
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    (out, "")
}

/// Undoes the escapes browsers use in form-data names (WHATWG): `%22`, `%0D`, `%0A`.
pub(crate) fn unescape_browser(text: &str) -> String {
    text.replace("%22", "\"")
        .replace("%0D", "\r")
        .replace("%0A", "\n")
}

/// The escape of the browsers' form-data convention (WHATWG: `%22`, `%0D`, `%0A`) that `name`
/// holds literally, if any. A server following that convention (as the emulator, and
/// `Request.formData()` in fetch) reads it as `"`, CR or LF, and `%` itself has no escape,
/// so such a name cannot be sent as it is: it would be stored under another name.
pub(crate) fn literal_form_escape(name: &str) -> Option<&'static str> {
    ["%22", "%0D", "%0A"]
        .into_iter()
        .find(|escape| name.contains(escape))
}

/// Writes `text` as a quoted-string the parser above reads back exactly (for a name without
/// a [`literal_form_escape`]): `\` as `\\`, and `"`,
/// CR and LF in the browsers' `%22`, `%0D`, `%0A`, so no header can be split.
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("%22"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A download's `attachment` value for `filename`, as a server would write it (for the tests). A header cannot carry control characters
/// other than tab, so a name with one (besides CR and LF, which [`quote`] escapes) also gets an
/// RFC 8187 `filename*`, which readers prefer, after a `filename` with `_` in their place.
#[cfg(test)]
pub(crate) fn attachment(filename: &str) -> String {
    let unsendable = |c: char| c.is_ascii_control() && !matches!(c, '\t' | '\r' | '\n');
    if !filename.contains(unsendable) {
        return format!("attachment; filename={}", quote(filename));
    }
    let fallback: String = filename
        .chars()
        .map(|c| if unsendable(c) { '_' } else { c })
        .collect();
    let mut encoded = String::with_capacity(filename.len() * 3);
    for b in filename.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!(
        "attachment; filename={}; filename*=UTF-8''{encoded}",
        quote(&fallback)
    )
}

/// An RFC 8187 `ext-value` (`UTF-8''caf%C3%A9.txt`); None for another charset or bad UTF-8.
fn decode_ext_value(raw: &str) -> Option<String> {
    let mut parts = raw.splitn(3, '\'');
    let charset = parts.next()?;
    let _language = parts.next()?;
    let encoded = parts.next()?;
    let bytes = percent_decode(encoded)?;
    if charset.eq_ignore_ascii_case("utf-8") {
        String::from_utf8(bytes).ok()
    } else if charset.eq_ignore_ascii_case("iso-8859-1") {
        Some(bytes.into_iter().map(char::from).collect())
    } else {
        None
    }
}

/// Percent-decodes `text`; None when a `%` is not followed by two hex digits.
fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filename(value: &str) -> Option<String> {
        ContentDisposition::parse(value)
            .filename()
            .map(str::to_string)
    }

    #[test]
    fn quoted_string_escapes_are_undone() {
        assert_eq!(
            filename(r#"form-data; name="file"; filename="back\\slash.txt""#).as_deref(),
            Some(r"back\slash.txt")
        );
        assert_eq!(
            filename(r#"form-data; name="file"; filename="a\"b.txt""#).as_deref(),
            Some(r#"a"b.txt"#)
        );
        // Browsers send a lone backslash as it is.
        assert_eq!(
            filename(r#"form-data; filename="C:\dir\x.txt""#).as_deref(),
            Some(r"C:\dir\x.txt")
        );
    }

    #[test]
    fn browser_escapes_are_undone() {
        assert_eq!(
            filename(r#"attachment; filename="a%22b%0D%0Ac.txt""#).as_deref(),
            Some("a\"b\r\nc.txt")
        );
    }

    #[test]
    fn tokens_ext_values_and_names() {
        let d = ContentDisposition::parse("Attachment; FileName=x.bin ; size=3");
        assert_eq!(d.kind, "attachment");
        assert_eq!(d.filename(), Some("x.bin"));
        assert_eq!(d.param("size"), Some("3"));
        assert_eq!(
            filename("attachment; filename=\"fallback.txt\"; filename*=UTF-8''caf%C3%A9.txt")
                .as_deref(),
            Some("café.txt")
        );
        assert_eq!(
            filename("attachment; filename*=UTF-8''bad%zz; filename=ok.txt").as_deref(),
            Some("ok.txt")
        );
        let part = ContentDisposition::parse(r#"form-data; name="file;x"; filename="a;b""#);
        assert_eq!(part.param("name"), Some("file;x"));
        assert_eq!(part.filename(), Some("a;b"));
        assert_eq!(filename("inline"), None);
        assert_eq!(
            filename("attachment; filename=\"unterminated").as_deref(),
            Some("unterminated")
        );
    }

    #[test]
    fn a_quoted_ext_value_is_invalid_and_the_plain_name_serves() {
        assert_eq!(
            filename(r#"attachment; filename="plain.txt"; filename*="UTF-8''caf%C3%A9.txt""#)
                .as_deref(),
            Some("plain.txt")
        );
        assert_eq!(filename(r#"attachment; filename*="UTF-8''x.txt""#), None);
    }

    #[test]
    fn attachment_carries_any_name_in_a_valid_header() {
        for name in [
            "plain.txt",
            "nul\0.txt",
            "bell\x07 del\x7f.txt",
            "tab\t.txt",
            "café\x01",
        ] {
            let header = attachment(name);
            assert!(
                !header
                    .bytes()
                    .any(|b| b == 0x7f || (b < 0x20 && b != b'\t')),
                "{header:?}"
            );
            assert_eq!(filename(&header).as_deref(), Some(name), "{header}");
        }
        assert_eq!(attachment("a.txt"), "attachment; filename=\"a.txt\"");
    }

    #[test]
    fn quote_round_trips_through_parse() {
        for name in [
            r"back\slash",
            "a\"b",
            "line\r\nX-Injected: 1",
            "plain.txt",
            r"\\",
        ] {
            let header = format!("attachment; filename={}", quote(name));
            assert!(!header.contains('\r') && !header.contains('\n'));
            assert_eq!(filename(&header).as_deref(), Some(name), "{header}");
        }
    }
}
