//! Times as RFC 3339 UTC text, without a date-time dependency: for the audit trail and the
//! sandbox's records.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch as `2025-01-01T01:02:03Z` (valid for any u64 input).
pub fn rfc3339(secs: u64) -> String {
    let (date, time) = civil(secs);
    format!("{date}T{time}Z")
}

/// A time as `2026-11-22T07:20:48.123Z`, with milliseconds.
pub fn rfc3339_millis(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (date, time) = civil(d.as_secs());
    format!("{date}T{time}.{:03}Z", d.subsec_millis())
}

/// The current time, [`rfc3339`].
pub fn now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

/// Seconds since the Unix epoch now.
pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Days since the epoch of a civil date (Howard Hinnant's days-from-civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds since the epoch of an RFC 3339 time (`2026-05-01T00:00:00Z`, fractions and a
/// `+hh:mm` offset allowed, `T` or a space between date and time); `None` for anything else.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let t = text.trim();
    let num = |s: &str| -> Option<i64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (date, rest) = (t.get(..10)?, t.get(10..)?);
    if !matches!(rest.as_bytes().first(), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let mut d = date.split('-');
    let (year, month, day) = (num(d.next()?)?, num(d.next()?)?, num(d.next()?)?);
    let time = rest.get(1..)?;
    let (clock, zone) = match time.find(['Z', 'z', '+', '-']) {
        Some(at) => (time.get(..at)?, time.get(at..)?),
        None => return None,
    };
    let clock = clock.split('.').next()?;
    let mut c = clock.split(':');
    let (h, m, sec) = (num(c.next()?)?, num(c.next()?)?, num(c.next()?)?);
    let offset = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let mut z = zone.get(1..)?.split(':');
            sign * (num(z.next()?)? * 3600 + num(z.next()?)? * 60)
        }
    };
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && h < 24
        && m < 60
        && sec < 61
        && d.next().is_none()
        && c.next().is_none();
    valid.then(|| days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + sec - offset)
}

/// `YYYY-MM-DD` and `hh:mm:ss` of seconds since the epoch (Howard Hinnant's civil-from-days).
fn civil(secs: u64) -> (String, String) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!("{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_735_689_600 + 3_723), "2025-01-01T01:02:03Z");
        let _ = rfc3339(u64::MAX);
        assert_eq!(rfc3339_millis(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_795_332_048_123);
        assert_eq!(rfc3339_millis(t), "2026-11-22T07:20:48.123Z");
    }

    #[test]
    fn rfc3339_times_parse_back() {
        for secs in [0u64, 951_782_400, 1_795_332_048] {
            assert_eq!(parse_rfc3339(&rfc3339(secs)), Some(secs as i64));
        }
        assert_eq!(
            parse_rfc3339("2026-11-22T07:20:48.123Z"),
            Some(1_795_332_048)
        );
        assert_eq!(
            parse_rfc3339("2026-11-22T09:20:48+02:00"),
            Some(1_795_332_048)
        );
        assert_eq!(parse_rfc3339("2026-11-22 07:20:48Z"), Some(1_795_332_048));
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-22T07:20:48",
            "2026-11-22",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
