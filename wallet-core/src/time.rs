//! Calendar arithmetic for the date formats credentials use: RFC 3339 date-times (`tdate` in
//! CBOR, `2020-10-01T13:30:02Z`) and RFC 3339 full-dates (`2019-10-20`). Proleptic Gregorian,
//! UTC, no leap seconds — what every credential format assumes.
//!
//! Parsing text from outside goes through the maintained `time` crate; the arithmetic on day
//! counts (dates as plain integers, as the rule language and the MSO use them) is here.

const FULL_DATE: &[::time::format_description::BorrowedFormatItem<'static>] =
    ::time::macros::format_description!("[year]-[month]-[day]");
/// The Julian day number of 1970-01-01.
const EPOCH_JULIAN_DAY: i32 = 2_440_588;

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
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

/// Parses `YYYY-MM-DD` into days since the epoch.
pub fn parse_full_date(text: &str) -> Option<i64> {
    // The `time` crate's parser accepts exactly four year digits and two-digit month and day,
    // and checks the day against the month (29 February only in leap years).
    let date = ::time::Date::parse(text, FULL_DATE).ok()?;
    Some(i64::from(date.to_julian_day()) - i64::from(EPOCH_JULIAN_DAY))
}

/// Formats days since the epoch as `YYYY-MM-DD`.
pub fn format_full_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Whole years from a birth date to a later date (both days since the epoch).
pub fn age_in_years(birth: i64, at: i64) -> i64 {
    let (by, bm, bd) = civil_from_days(birth);
    let (y, m, d) = civil_from_days(at);
    y - by - i64::from((m, d) < (bm, bd))
}

/// Parses an RFC 3339 date-time (`Z` or `±hh:mm`, optional fraction, which is truncated) into
/// Unix seconds. Anything else, including text that is not ASCII where digits belong, is `None`.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    // RFC 3339 lets applications write a space for the `T`; credential formats do not.
    if !matches!(text.as_bytes().get(10), Some(b'T' | b't')) {
        return None;
    }
    let parsed =
        ::time::OffsetDateTime::parse(text, &::time::format_description::well_known::Rfc3339)
            .ok()?;
    Some(parsed.unix_timestamp())
}

/// Formats Unix seconds as `YYYY-MM-DDThh:mm:ssZ` (the form ISO 18013-5 requires for tdate).
pub fn format_rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        format_full_date(days),
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2020-10-01T13:30:02Z"), Some(1_601_559_002));
        assert_eq!(
            parse_rfc3339("2020-10-01T22:30:02+09:00"),
            Some(1_601_559_002)
        );
        assert_eq!(
            parse_rfc3339("2020-10-01T13:30:02.123Z"),
            Some(1_601_559_002)
        );
        assert_eq!(format_rfc3339(1_601_559_002), "2020-10-01T13:30:02Z");
        assert_eq!(parse_full_date("2000-02-29"), Some(11_016));
        assert_eq!(format_full_date(-1), "1969-12-31");
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            "",
            "2020-13-01T00:00:00Z",
            "2021-02-29T00:00:00Z",
            "2020-10-01 13:30:02Z",
            "2020-10-01T25:00:00Z",
            "2020-10-01T13:30:02",
            "2020-10-01T13:30:02.Z",
            "2020-10-01T13:30:02+9:00",
            "２０２０-10-01T00:00:00Z",
            "2020-01-01T00:00:0é",
            "2020-01-01T00:00:0\u{e9}Z",
            "2020-01-01é00:00:00Z",
            "é020-01-01T00:00:00Z",
            "2020-01-01T00:00:00+0é:00",
            "2020-01-01T00:00:00.é",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        assert_eq!(parse_full_date("2020-1-01"), None);
        assert_eq!(parse_full_date("2020-01-0é"), None);
        assert_eq!(parse_full_date("é020-01-01"), None);
    }

    #[test]
    fn round_trips_from_year_1_to_9999() {
        for days in (-700_000..2_900_000).step_by(997) {
            let text = format_full_date(days);
            assert_eq!(parse_full_date(&text), Some(days), "{text}");
        }
    }
}
