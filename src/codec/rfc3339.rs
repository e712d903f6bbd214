//! Reads the API's RFC 3339 timestamps (`created_at`) as [`SystemTime`]s: dates, times with
//! optional fractions of a second, and `Z` or numeric offsets.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::date::days_from_civil;

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t`, `z` and a space for `T` are
/// accepted too, as RFC 3339 allows. None for anything else, or a time `SystemTime` cannot
/// hold.
pub(crate) fn parse(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    let days_in_month = match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if !(1..=days_in_month).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &b[19..];
    let mut nanos = 0u32;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let len = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        // Digits past nanoseconds are dropped.
        for (i, &c) in fraction[..len].iter().enumerate().take(9) {
            nanos += u32::from(c - b'0') * 10u32.pow(8 - i as u32);
        }
        rest = &fraction[len..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (h, m) = (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?);
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = h * 60 + m;
            if *sign == b'-' { -minutes } else { minutes }
        }
        _ => return None,
    };
    let days = i64::try_from(days_from_civil(year, month as u32, day as u32)).ok()?;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset * 60;
    let since_epoch = Duration::new(secs.unsigned_abs(), 0);
    let whole = if secs >= 0 {
        UNIX_EPOCH.checked_add(since_epoch)?
    } else {
        UNIX_EPOCH.checked_sub(since_epoch)?
    };
    whole.checked_add(Duration::from_nanos(u64::from(nanos)))
}

/// The value of a run of ASCII digits.
fn digits(text: &[u8]) -> Option<i64> {
    text.iter().try_fold(0i64, |n, &c| {
        c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(secs: i64, nanos: u32) -> SystemTime {
        let d = Duration::new(secs.unsigned_abs(), 0);
        let t = if secs >= 0 {
            UNIX_EPOCH + d
        } else {
            UNIX_EPOCH - d
        };
        t + Duration::from_nanos(u64::from(nanos))
    }

    #[test]
    fn reads_utc_times_fractions_and_offsets() {
        for (text, secs, nanos) in [
            ("2025-01-01T00:00:00Z", 1_735_689_600, 0),
            ("1970-01-01T00:00:00Z", 0, 0),
            ("2025-01-01T00:00:00.5Z", 1_735_689_600, 500_000_000),
            (
                "2025-01-01t00:00:00.123456789123z",
                1_735_689_600,
                123_456_789,
            ),
            ("2000-02-29 12:00:00Z", 951_825_600, 0),
            ("2025-01-01T02:00:00+02:00", 1_735_689_600, 0),
            ("2024-12-31T19:30:00-04:30", 1_735_689_600, 0),
            ("1969-12-31T23:59:59Z", -1, 0),
        ] {
            assert_eq!(parse(text), Some(unix(secs, nanos)), "{text}");
        }
    }

    #[test]
    fn agrees_with_the_formatter_for_openai_timestamps() {
        for secs in [0, 951_782_400, 1_735_689_600, 4_102_444_800] {
            assert_eq!(
                parse(&crate::codec::date::format_rfc3339(secs)),
                Some(unix(secs, 0))
            );
        }
    }

    #[test]
    fn refuses_what_is_not_rfc_3339() {
        for text in [
            "",
            "2025-01-01",
            "2025-01-01T00:00:00",
            "2025-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2025-01-01T24:00:00Z",
            "2025-01-01T00:00:00.Z",
            "2025-01-01T00:00:00+0200",
            "2025-01-01T00:00:00+24:00",
            "+025-01-01T00:00:00Z",
            "2025-01-01T00:00:00Z ",
            "९९९९-01-01T00:00:00Z",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn hostile_timestamps_are_refused_or_read_without_panicking() {
        let long_fraction = format!("2025-01-01T00:00:00.{}Z", "9".repeat(100_000));
        assert_eq!(
            parse(&long_fraction),
            Some(unix(1_735_689_600, 999_999_999))
        );
        assert_eq!(
            parse("2016-12-31T23:59:60Z"),
            Some(unix(1_483_228_800, 0)),
            "a leap second reads as the next second"
        );
        assert!(parse("0000-01-01T00:00:00+23:59").is_some());
        assert!(parse("9999-12-31T23:59:60-23:59").is_some());
        for text in [
            "99999-01-01T00:00:00Z",
            "2025-01-01T00:00:00+99:99",
            "2025-01-01T00:00:00-24:00",
            "2025-01-01T00:00:61Z",
            "2025-01-01T00:60:00Z",
            "2025-00-01T00:00:00Z",
            "2025-01-00T00:00:00Z",
            "2025-01-01T00:00:00Zé",
            "2025-01-01T00:00:0é",
            "2025-01-01T00:00:00.é",
            "2025-01-01T00:00:00+0é:00",
            "2025-\u{660}1-01T00:00:00Z",
            "-2025-01-01T00:00:00Z",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
        // OpenAI's integer timestamps at the ends of i64 decode, and read back as no time
        // rather than a wrong one.
        for secs in [i64::MIN, i64::MAX, 253_402_300_800] {
            let body = format!(
                r#"{{"_shape":"openai","id":"x","object":"file","filename":"a","bytes":1,"created_at":{secs}}}"#
            );
            let file: crate::FileMetadata = serde_json::from_str(&body).unwrap();
            assert_eq!(file.openai.as_ref().unwrap().created_at_unix, secs);
            assert_eq!(file.created(), None, "{secs}");
        }
    }
}
