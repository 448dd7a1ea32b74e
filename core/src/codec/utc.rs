//! The one timestamp shape the JSON envelope writes, printed and read without a general parser:
//! `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`, years 1970 to 9999.
//!
//! Every envelope write prints two timestamps and every read parses up to two, so this is on the
//! hot path of the remote backends; a general ISO-8601 formatter and parser cost about ten times
//! as much. Anything outside this shape (other offsets, `Z`, other precisions, years before
//! 1970) is left to `jiff` by the callers in [`super::json`], and the tests check both paths
//! agree.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECS_PER_DAY: u64 = 86_400;
/// 10000-01-01T00:00:00Z: the first instant whose year needs five digits.
const END_SECS: u64 = 253_402_300_800;

/// Days since 1970-01-01 of a proleptic Gregorian date (the "days from civil" algorithm).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    // Years start in March, so the leap day is the last day of a year; 1600-03-01 is day 0.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let y = y - 1600;
    let (era, yoe) = (y / 400, y % 400);
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    // Day 0 here is 1600-03-01, which is 135 080 days before 1970-01-01.
    era * 146_097 + doe - 135_080
}

/// The date of a day count since 1970-01-01 ("civil from days").
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 135_080;
    let (era, doe) = (z / 146_097, z % 146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let (month, carry) = if mp < 10 { (mp + 3, 0) } else { (mp - 9, 1) };
    (1600 + era * 400 + yoe + carry, month, day)
}

fn push_digits(out: &mut String, value: u64, width: u32) {
    let mut div = 10u64.pow(width - 1);
    while div > 0 {
        // A single decimal digit: always ASCII.
        out.push(char::from(b'0' + (value / div % 10) as u8));
        div /= 10;
    }
}

/// Append `at` as Python's `isoformat()` prints an aware UTC datetime, if it lies in years
/// 1970–9999; `false` (nothing written) otherwise.
pub(super) fn push(out: &mut String, at: SystemTime) -> bool {
    let Ok(since) = at.duration_since(UNIX_EPOCH) else {
        return false;
    };
    let secs = since.as_secs();
    if secs >= END_SECS {
        return false;
    }
    let (year, month, day) = civil_from_days(secs / SECS_PER_DAY);
    let rem = secs % SECS_PER_DAY;
    push_digits(out, year, 4);
    out.push('-');
    push_digits(out, month, 2);
    out.push('-');
    push_digits(out, day, 2);
    out.push('T');
    push_digits(out, rem / 3600, 2);
    out.push(':');
    push_digits(out, rem / 60 % 60, 2);
    out.push(':');
    push_digits(out, rem % 60, 2);
    let micros = since.subsec_micros();
    if micros != 0 {
        out.push('.');
        push_digits(out, u64::from(micros), 6);
    }
    out.push_str("+00:00");
    true
}

/// The value of the ASCII digits `bytes`, or `None` if any is not a digit.
fn digits(bytes: &[u8]) -> Option<u64> {
    bytes.iter().try_fold(0u64, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
    })
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Read exactly the shape [`push`] writes; `None` for anything else (the caller then asks the
/// general parser, which accepts more and explains what is wrong).
pub(super) fn parse(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    let micros = match b.len() {
        25 => 0,
        32 if b[19] == b'.' => digits(&b[20..26])?,
        _ => return None,
    };
    if !b.ends_with(b"+00:00")
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
    let (hour, minute, second) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if year < 1970
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let secs =
        days_from_civil(year, month, day) * SECS_PER_DAY + hour * 3600 + minute * 60 + second;
    Some(UNIX_EPOCH + Duration::new(secs, (micros * 1000) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn general(at: SystemTime) -> String {
        let mut s = String::new();
        super::super::json::encode::push_timestamp_general(&mut s, at);
        s
    }

    fn instants() -> impl Iterator<Item = SystemTime> {
        // Edges (epoch, leap days, century rules, the last second `jiff` represents, which is
        // late on 9999-12-30) and a deterministic spread over the whole range, with and without
        // microseconds.
        let last = u64::try_from(jiff::Timestamp::MAX.as_second()).unwrap();
        let edges = [
            0,
            59,
            86_399,
            86_400,
            951_782_400,   // 2000-02-29
            951_868_800,   // 2000-03-01
            4_107_456_000, // 2100-02-28 (2100 is not a leap year)
            4_107_542_400, // 2100-03-01
            last - 1,
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let spread = (0..20_000).map(move |_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        });
        edges
            .into_iter()
            .map(|s| (s, 0))
            .chain(spread.map(move |r| (r % last, (r >> 20) % 1_000_000)))
            .flat_map(|(s, us)| {
                [0, us].map(move |us| UNIX_EPOCH + Duration::new(s, (us * 1000) as u32 + 7))
            })
    }

    #[test]
    fn printing_matches_the_general_formatter() {
        for at in instants() {
            let mut s = String::new();
            assert!(push(&mut s, at));
            assert_eq!(s, general(at), "{at:?}");
        }
    }

    #[test]
    fn parsing_matches_the_general_parser() {
        for at in instants() {
            let text = general(at);
            let fast = parse(&text).unwrap_or_else(|| panic!("{text}"));
            let slow = SystemTime::from(text.parse::<jiff::Timestamp>().unwrap());
            assert_eq!(fast, slow, "{text}");
        }
    }

    #[test]
    fn other_shapes_are_left_to_the_general_parser() {
        for text in [
            "2026-11-22T03:16:48Z",
            "2026-11-22T03:16:48.123+00:00",
            "2026-11-22T03:16:48.123456+01:00",
            "2026-02-29T00:00:00+00:00",
            "2026-13-01T00:00:00+00:00",
            "2026-11-22T24:00:00+00:00",
            "2026-11-22T23:59:60+00:00",
            "1969-12-31T23:59:59+00:00",
            "2026-11-22 03:16:48+00:00",
            "2026-11-22T03:16:48.12345x+00:00",
            "+2026-11-22T03:16:48+00:00",
            "２０２６-11-22T03:16:48+00",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn the_last_day_of_9999_is_printed_and_read() {
        let at = UNIX_EPOCH + Duration::new(END_SECS - 1, 999_999_000);
        let mut s = String::new();
        assert!(push(&mut s, at));
        assert_eq!(s, "9999-12-31T23:59:59.999999+00:00");
        assert_eq!(parse(&s), Some(at));
    }

    #[test]
    fn out_of_range_instants_are_not_printed() {
        let mut s = String::new();
        assert!(!push(&mut s, UNIX_EPOCH - Duration::from_secs(1)));
        assert!(!push(&mut s, UNIX_EPOCH + Duration::from_secs(END_SECS)));
        assert!(s.is_empty());
    }
}
