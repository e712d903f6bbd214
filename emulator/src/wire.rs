//! The emulator's own readings and writings of the small wire formats it shares with clients:
//! dates (IMF-fixdate, RFC 3339), `Content-Disposition` (form-data parts in, attachments out)
//! and workspace ids.
//!
//! These are written apart from the client library's on purpose, with other algorithms: the
//! emulator judges the client, and a bug shared by both sides would pass every test.

use std::time::{SystemTime, UNIX_EPOCH};

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Seconds since the Unix epoch now (0 for a clock before 1970).
pub(crate) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn month_lengths(year: i64) -> [i64; 12] {
    let february = if is_leap(year) { 29 } else { 28 };
    [31, february, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
}

/// Splits seconds since 1970 (clamped at 0: the emulator only dates the present) into
/// `(year, month 1..=12, day 1..=31, seconds of the day, days since 1970)`, by counting whole
/// years and months forward: slow for far dates, plain to check, and unlike the client's.
fn calendar(unix_secs: i64) -> (i64, usize, i64, i64, i64) {
    let secs = unix_secs.max(0);
    let days = secs / 86_400;
    let mut left = days;
    let mut year = 1970;
    loop {
        let length = if is_leap(year) { 366 } else { 365 };
        if left < length {
            break;
        }
        left -= length;
        year += 1;
    }
    let mut month = 0;
    for length in month_lengths(year) {
        if left < length {
            break;
        }
        left -= length;
        month += 1;
    }
    (year, month + 1, left + 1, secs % 86_400, days)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the Unix epoch.
pub(crate) fn rfc3339(unix_secs: i64) -> String {
    let (year, month, day, clock, _) = calendar(unix_secs);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        clock / 3600,
        clock / 60 % 60,
        clock % 60
    )
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), for `Date` and `Last-Modified`.
pub(crate) fn http_date(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let (year, month, day, clock, days) = calendar(secs);
    format!(
        "{}, {day:02} {} {year:04} {:02}:{:02}:{:02} GMT",
        WEEKDAYS[(days % 7) as usize],
        MONTHS[month - 1],
        clock / 3600,
        clock / 60 % 60,
        clock % 60
    )
}

/// Whether `text` is a UUID in its 8-4-4-4-12 hex form (any case).
pub(crate) fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// The `name` and file name of a multipart part's `Content-Disposition` (RFC 7578): a
/// `filename*` (RFC 8187, UTF-8) wins over `filename`; quoted-string escapes and the browsers'
/// `%22`, `%0D`, `%0A` are undone.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct FormDisposition {
    pub(crate) name: Option<String>,
    pub(crate) filename: Option<String>,
}

impl FormDisposition {
    /// Reads a header value; what cannot be read is left out, never an error.
    pub(crate) fn read(value: &str) -> FormDisposition {
        let mut found = FormDisposition::default();
        let mut extended = None;
        let mut chars = value.chars().peekable();
        // The disposition type: everything up to the first `;`.
        for c in chars.by_ref() {
            if c == ';' {
                break;
            }
        }
        loop {
            while chars.next_if(|c| matches!(c, ' ' | '\t' | ';')).is_some() {}
            let mut key = String::new();
            while let Some(c) = chars.next_if(|c| !matches!(c, '=' | ';')) {
                key.push(c.to_ascii_lowercase());
            }
            if chars.peek().is_none() && key.is_empty() {
                break;
            }
            if chars.next_if_eq(&'=').is_none() {
                continue;
            }
            while chars.next_if(|c| matches!(c, ' ' | '\t')).is_some() {}
            let quoted = chars.next_if_eq(&'"').is_some();
            let raw = if quoted {
                let mut text = String::new();
                // `\\` and `\"` are quoted-string escapes; any other backslash is the
                // character itself, as browsers send a Windows path (`C:\dir\x.txt`).
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => match chars.next_if(|c| matches!(c, '\\' | '"')) {
                            Some(escaped) => text.push(escaped),
                            None => text.push('\\'),
                        },
                        c => text.push(c),
                    }
                }
                text
            } else {
                let mut token = String::new();
                while let Some(c) = chars.next_if(|c| *c != ';') {
                    token.push(c);
                }
                token.trim_end().to_string()
            };
            match key.trim() {
                "name" => found.name = Some(undo_browser_escapes(&raw)),
                "filename" => found.filename = Some(undo_browser_escapes(&raw)),
                // An RFC 8187 ext-value is never quoted: a quoted one is invalid, left out.
                "filename*" if !quoted => extended = utf8_ext_value(&raw),
                _ => {}
            }
        }
        if extended.is_some() {
            found.filename = extended;
        }
        found
    }
}

fn undo_browser_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3);
        let replacement = match escape {
            Some("%22") => Some('"'),
            Some("%0D") => Some('\r'),
            Some("%0A") => Some('\n'),
            _ => None,
        };
        match replacement {
            Some(c) => {
                out.push(c);
                rest = &rest[at + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// An RFC 8187 value in UTF-8 (`UTF-8'lang'caf%C3%A9`); None for another charset or bad bytes.
fn utf8_ext_value(raw: &str) -> Option<String> {
    let (charset, rest) = raw.split_once('\'')?;
    let (_language, encoded) = rest.split_once('\'')?;
    if !charset.eq_ignore_ascii_case("utf-8") {
        return None;
    }
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut input = encoded.bytes();
    while let Some(b) = input.next() {
        if b == b'%' {
            let high = char::from(input.next()?).to_digit(16)?;
            let low = char::from(input.next()?).to_digit(16)?;
            bytes.push((high * 16 + low) as u8);
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).ok()
}

/// The `Content-Disposition` of a download: `attachment; filename="…"` with `\` and `"`
/// escaped as quoted-string escapes (RFC 9110) and CR, LF in the browsers' `%0D`, `%0A`, plus a
/// UTF-8 `filename*` whenever the name holds a character a plain header cannot carry (a control
/// character other than tab), is not ASCII, or holds a `%` (which a reader undoing the
/// browsers' escapes could misread), so every reader gets the exact name.
pub(crate) fn attachment(filename: &str) -> String {
    let mut header = String::from("attachment; filename=\"");
    let needs_extended = filename
        .chars()
        .any(|c| !c.is_ascii() || c == '%' || (c.is_ascii_control() && c != '\t'));
    for c in filename.chars() {
        match c {
            '\\' | '"' => {
                header.push('\\');
                header.push(c);
            }
            '\r' => header.push_str("%0D"),
            '\n' => header.push_str("%0A"),
            c if c.is_ascii_control() && c != '\t' => header.push('_'),
            c => header.push(c),
        }
    }
    header.push('"');
    if needs_extended {
        header.push_str("; filename*=UTF-8''");
        for b in filename.bytes() {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                header.push(char::from(b));
            } else {
                header.push_str(&format!("%{b:02X}"));
            }
        }
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates_match_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_735_689_599), "2024-12-31T23:59:59Z");
        let rfc_example = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(http_date(rfc_example), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn dates_around_century_leap_rules_match_the_calendar() {
        // 2100 is not a leap year, 2400 is (values from Python's datetime).
        assert_eq!(rfc3339(4107501296), "2100-02-28T12:34:56Z");
        assert_eq!(rfc3339(4107542401), "2100-03-01T00:00:01Z");
        assert_eq!(rfc3339(13574649599), "2400-02-29T23:59:59Z");
        assert_eq!(rfc3339(13601001600), "2400-12-31T00:00:00Z");
        let at = |secs: u64| http_date(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(4107542401), "Mon, 01 Mar 2100 00:00:01 GMT");
        assert_eq!(at(13574649599), "Tue, 29 Feb 2400 23:59:59 GMT");
    }

    #[test]
    fn uuids_are_8_4_4_4_12_hex() {
        assert!(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(is_uuid("123E4567-E89B-12D3-A456-426614174000"));
        assert!(!is_uuid("123e4567e89b12d3a456426614174000"));
        assert!(!is_uuid("123e4567-e89b-12d3-a456-42661417400g"));
        assert!(!is_uuid("123e4567-e89b-12d3-a456-4266141740000"));
    }

    #[test]
    fn form_parts_give_their_name_and_file_name() {
        let read = FormDisposition::read("form-data; name=\"file\"; filename=\"a\\\"b%22c.txt\"");
        assert_eq!(read.name.as_deref(), Some("file"));
        assert_eq!(read.filename.as_deref(), Some("a\"b\"c.txt"));
        let read = FormDisposition::read("form-data; name=purpose");
        assert_eq!(read.name.as_deref(), Some("purpose"));
        assert_eq!(read.filename, None);
        let read = FormDisposition::read(
            "form-data; name=\"file\"; filename=\"cafe.txt\"; filename*=UTF-8''caf%C3%A9.txt",
        );
        assert_eq!(read.filename.as_deref(), Some("café.txt"));
        let read = FormDisposition::read(r#"form-data; filename="C:\dir\x.txt""#);
        assert_eq!(read.filename.as_deref(), Some(r"C:\dir\x.txt"));
        let read = FormDisposition::read("form-data; filename=\"x%0Dy%0Az%41\"");
        assert_eq!(read.filename.as_deref(), Some("x\ry\nz%41"));
    }

    #[test]
    fn a_quoted_ext_value_is_invalid_and_the_plain_name_serves() {
        let read = FormDisposition::read(
            r#"form-data; name="file"; filename="plain.txt"; filename*="UTF-8''caf%C3%A9.txt""#,
        );
        assert_eq!(read.filename.as_deref(), Some("plain.txt"));
    }

    #[test]
    fn attachments_carry_any_name_in_one_header_line() {
        assert_eq!(attachment("a.txt"), "attachment; filename=\"a.txt\"");
        assert_eq!(
            attachment("q\"\\.txt"),
            "attachment; filename=\"q\\\"\\\\.txt\""
        );
        let odd = attachment("x\r\ny\u{1}é");
        assert!(!odd.contains(['\r', '\n', '\u{1}']));
        assert!(odd.ends_with("; filename*=UTF-8''x%0D%0Ay%01%C3%A9"));
    }

    #[test]
    fn what_the_emulator_writes_it_reads_back() {
        for name in [
            "plain.csv",
            "q\"uo\\te.txt",
            "line\r\nbreak",
            "ünï.md",
            "50%22.txt",
        ] {
            let header = attachment(name).replacen("attachment", "form-data", 1);
            let read = FormDisposition::read(&header);
            assert_eq!(read.filename.as_deref(), Some(name), "{header}");
        }
    }
}
