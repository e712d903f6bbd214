//! Calendar arithmetic for the few timestamps the crate reads and writes: RFC 3339 times in
//! file metadata and HTTP dates in `Retry-After`. No time-zone database is needed: both are UTC.

#[cfg(test)]
use std::time::{SystemTime, UNIX_EPOCH};

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm), in
/// `i128` so that any `i64` year a peer sends cannot overflow.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i128 {
    let year = i128::from(year);
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i128::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i128::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn format_rfc3339(unix_secs: i64) -> String {
    let (days, secs) = (unix_secs.div_euclid(86_400), unix_secs.rem_euclid(86_400));
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form RFC 9110 requires senders
/// to use in `Retry-After`, into seconds since the Unix epoch. Any year that fits an `i64` is
/// accepted without overflow; what the caller does with a far date is its own business.
pub(crate) fn parse_http_date(text: &str) -> Option<i128> {
    let rest = text.trim().split_once(", ")?.1;
    let mut parts = rest.split(' ');
    let day: u32 = parts.next()?.parse().ok()?;
    let month_name = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == month_name)? as u32 + 1;
    let year: i64 = parts.next()?.parse().ok()?;
    let mut clock = parts.next()?.split(':');
    let hour: i64 = clock.next()?.parse().ok()?;
    let minute: i64 = clock.next()?.parse().ok()?;
    let second: i64 = clock.next()?.parse().ok()?;
    if parts.next()? != "GMT" || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60
    {
        return None;
    }
    let clock = i128::from(hour * 3600 + minute * 60 + second);
    Some(days_from_civil(year, month, day) * 86_400 + clock)
}

/// Formats a time as an IMF-fixdate, for the tests.
#[cfg(test)]
pub(crate) fn format_http_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let days = secs.div_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let s = secs.rem_euclid(86_400);
    format!(
        "{weekday}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        MONTHS[mo as usize - 1],
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_around_century_leap_rules_match_the_calendar() {
        // 2100 is not a leap year, 2400 is (values from Python's datetime).
        for (secs, iso, http) in [
            (
                4107542399,
                "2100-02-28T23:59:59Z",
                "Sun, 28 Feb 2100 23:59:59 GMT",
            ),
            (
                4107542400,
                "2100-03-01T00:00:00Z",
                "Mon, 01 Mar 2100 00:00:00 GMT",
            ),
            (
                13574606400,
                "2400-02-29T12:00:00Z",
                "Tue, 29 Feb 2400 12:00:00 GMT",
            ),
            (
                13574649600,
                "2400-03-01T00:00:00Z",
                "Wed, 01 Mar 2400 00:00:00 GMT",
            ),
            (
                3981312000,
                "2096-02-29T00:00:00Z",
                "Wed, 29 Feb 2096 00:00:00 GMT",
            ),
        ] {
            assert_eq!(format_rfc3339(secs), iso);
            let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs as u64);
            assert_eq!(format_http_date(time), http);
            assert_eq!(parse_http_date(http), Some(i128::from(secs)));
        }
    }
    use std::time::Duration;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(1_735_689_600), "2025-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn http_date_round_trips_and_matches_rfc_example() {
        let t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(t, 784_111_777);
        let time = UNIX_EPOCH + Duration::from_secs(t as u64);
        assert_eq!(format_http_date(time), "Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[test]
    fn http_date_rejects_garbage() {
        assert!(parse_http_date("soon").is_none());
        assert!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT").is_none());
        assert!(parse_http_date("Sun, 06 Nov 1994 08:49:37 PST").is_none());
    }

    #[test]
    fn http_dates_in_absurd_years_do_not_overflow() {
        let far = parse_http_date("Sun, 06 Nov 99999999999999 08:49:37 GMT").unwrap();
        assert!(far > 3_000_000_000_000_000_000);
        let max = format!("Sun, 06 Nov {} 08:49:37 GMT", i64::MAX);
        assert!(parse_http_date(&max).unwrap() > i128::from(i64::MAX));
        let min = format!("Sun, 06 Nov {} 08:49:37 GMT", i64::MIN);
        assert!(parse_http_date(&min).unwrap() < 0);
    }
}
