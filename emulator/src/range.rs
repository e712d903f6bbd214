//! Range requests on downloads (RFC 9110 §14), when the emulator is built with
//! [`EmulatorBuilder::range_requests`](super::EmulatorBuilder::range_requests): the validators
//! a download advertises and the part of the file a `Range` header selects.

use std::time::{Duration, UNIX_EPOCH};

use crate::store::StoredFile;

/// A file's `ETag` and `Last-Modified`. Stored files never change, so the id and size make a
/// strong validator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Validators {
    etag: String,
    last_modified: String,
}

impl Validators {
    pub(crate) fn of(file: &StoredFile) -> Validators {
        let modified = UNIX_EPOCH + Duration::from_secs(file.created_at.max(0) as u64);
        Validators {
            etag: format!("\"{}-{}\"", file.id, file.size_bytes),
            last_modified: crate::wire::http_date(modified),
        }
    }

    /// The headers that advertise ranges and carry the validators.
    pub(crate) fn headers(&self) -> [(String, String); 3] {
        [
            ("Accept-Ranges".into(), "bytes".into()),
            ("ETag".into(), self.etag.clone()),
            ("Last-Modified".into(), self.last_modified.clone()),
        ]
    }
}

/// What to send for a download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Selection {
    /// The whole file, 200: no `Range`, one that cannot be parsed or that asks for several
    /// ranges (which a server may ignore), or an `If-Range` that does not match.
    Whole,
    /// Bytes `start..=end`, 206.
    Part { start: u64, end: u64 },
    /// No byte of the range exists, 416.
    Unsatisfiable,
}

/// The selection for a `Range` header on a file of `size` bytes.
pub(crate) fn select(
    range: Option<&str>,
    if_range: Option<&str>,
    validators: &Validators,
    size: u64,
) -> Selection {
    let Some(range) = range else {
        return Selection::Whole;
    };
    if let Some(condition) = if_range
        && condition.trim() != validators.etag
        && condition.trim() != validators.last_modified
    {
        return Selection::Whole;
    }
    let Some(spec) = range.trim().strip_prefix("bytes=") else {
        return Selection::Whole;
    };
    if spec.contains(',') {
        return Selection::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Selection::Whole;
    };
    // Digits past u64 are a position past any file's end, not an invalid range.
    let number = |text: &str| {
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<u64>().unwrap_or(u64::MAX))
    };
    match (first.trim(), last.trim()) {
        ("", suffix) => match number(suffix) {
            None => Selection::Whole,
            Some(0) => Selection::Unsatisfiable,
            Some(_) if size == 0 => Selection::Unsatisfiable,
            Some(n) => Selection::Part {
                start: size.saturating_sub(n),
                end: size - 1,
            },
        },
        (first, last) => {
            let Some(start) = number(first) else {
                return Selection::Whole;
            };
            let end = match last {
                "" => None,
                last => match number(last) {
                    Some(end) if end >= start => Some(end),
                    // A last position before the first, or not a number: invalid, ignored.
                    _ => return Selection::Whole,
                },
            };
            if start >= size {
                return Selection::Unsatisfiable;
            }
            let end = end.map_or(size - 1, |e| e.min(size - 1));
            Selection::Part { start, end }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v() -> Validators {
        Validators {
            etag: "\"x-10\"".into(),
            last_modified: "Thu, 01 Jan 1970 00:00:00 GMT".into(),
        }
    }

    fn sel(range: &str) -> Selection {
        select(Some(range), None, &v(), 10)
    }

    #[test]
    fn ranges_select_parts_per_rfc_9110() {
        assert_eq!(sel("bytes=4-"), Selection::Part { start: 4, end: 9 });
        assert_eq!(sel("bytes=0-0"), Selection::Part { start: 0, end: 0 });
        assert_eq!(sel("bytes=2-100"), Selection::Part { start: 2, end: 9 });
        assert_eq!(sel("bytes=-3"), Selection::Part { start: 7, end: 9 });
        assert_eq!(sel("bytes=-30"), Selection::Part { start: 0, end: 9 });
        // A last position past u64 is still past the end: the rest of the file.
        assert_eq!(
            sel("bytes=3-99999999999999999999999"),
            Selection::Part { start: 3, end: 9 }
        );
        assert_eq!(
            sel("bytes=-99999999999999999999999"),
            Selection::Part { start: 0, end: 9 }
        );
        assert_eq!(sel("bytes=10-"), Selection::Unsatisfiable);
        assert_eq!(sel("bytes=18446744073709551615-"), Selection::Unsatisfiable);
        assert_eq!(sel("bytes=-0"), Selection::Unsatisfiable);
        assert_eq!(
            sel("bytes=99999999999999999999999-"),
            Selection::Unsatisfiable
        );
        for ignored in [
            "bytes=5-2",
            "bytes=x-",
            "items=0-1",
            "bytes=0-1,4-5",
            "bytes=+1-",
            "bytes=-",
        ] {
            assert_eq!(sel(ignored), Selection::Whole, "{ignored}");
        }
        assert_eq!(select(None, None, &v(), 10), Selection::Whole);
    }

    #[test]
    fn if_range_must_match_a_validator() {
        assert_eq!(
            select(Some("bytes=1-"), Some("\"other\""), &v(), 10),
            Selection::Whole
        );
        assert_eq!(
            select(Some("bytes=1-"), Some("\"x-10\""), &v(), 10),
            Selection::Part { start: 1, end: 9 }
        );
        // If-Range compares strongly (RFC 9110 §13.1.5): a weak tag never matches.
        assert_eq!(
            select(Some("bytes=1-"), Some("W/\"x-10\""), &v(), 10),
            Selection::Whole
        );
        assert_eq!(
            select(Some("bytes=0-18446744073709551615"), None, &v(), 10),
            Selection::Part { start: 0, end: 9 }
        );
        assert_eq!(select(Some("bytes=5-4"), None, &v(), 10), Selection::Whole);
    }
}
