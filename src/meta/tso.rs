//! PD timestamps (TSO): `physical_ms << 18 | logical`, the physical part in milliseconds since the
//! Unix epoch (`shared/spec/operations.md` §3). A backup's `end_version` is one; the hand-off to
//! TiCDC (`docs/live-lakehouse.md`) states it as a TSO and as UTC time.

/// Bits of the logical counter below the physical milliseconds.
pub const LOGICAL_BITS: u32 = 18;

/// Milliseconds since the Unix epoch of a TSO: its physical part.
pub const fn physical_ms(tso: u64) -> u64 {
    tso >> LOGICAL_BITS
}

/// The TSO's physical time as RFC 3339 UTC with milliseconds: `2023-11-14T22:13:20.000Z`.
pub fn utc_rfc3339(tso: u64) -> String {
    rfc3339_from_unix_ms(physical_ms(tso))
}

/// Milliseconds since the Unix epoch as RFC 3339 UTC with milliseconds.
pub fn rfc3339_from_unix_ms(ms: u64) -> String {
    // Below 2^46 for any TSO (year ~4200), so the conversions cannot fail.
    let seconds = i64::try_from(ms / 1000).unwrap_or(i64::MAX);
    let millis = ms % 1000;
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// Howard Hinnant's `civil_from_days`: the proleptic Gregorian `(year, month, day)` of a count of
/// days since 1970-01-01 (the inverse of `codec::time`'s `days_from_civil`).
const fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March first
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        // Epoch, leap days, century rules and a date TiDB backups carry.
        for (ms, text) in [
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (951_868_800_000, "2000-03-01T00:00:00.000Z"),
            (1_700_000_000_000, "2023-11-14T22:13:20.000Z"),
            (1_709_164_799_999, "2024-02-28T23:59:59.999Z"),
            (1_709_251_199_123, "2024-02-29T23:59:59.123Z"),
            (1_735_689_599_000, "2024-12-31T23:59:59.000Z"),
            (4_102_444_800_000, "2100-01-01T00:00:00.000Z"),
            (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
        ] {
            assert_eq!(rfc3339_from_unix_ms(ms), text, "{ms}");
        }
    }

    #[test]
    fn civil_dates_round_trip_over_centuries() {
        // Every day from 1900 to 2500 follows the one before it.
        let (mut year, mut month, mut day) = civil_from_days(-25_567);
        assert_eq!((year, month, day), (1900, 1, 1));
        for days in -25_566..194_000 {
            let next = civil_from_days(days);
            let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
            let month_days = match month {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            let expected = if day < month_days {
                (year, month, day + 1)
            } else if month < 12 {
                (year, month + 1, 1)
            } else {
                (year + 1, 1, 1)
            };
            assert_eq!(next, expected, "day {days}");
            (year, month, day) = next;
        }
    }

    #[test]
    fn tso_physical_part() {
        let tso = (1_700_000_000_000u64 << 18) | 5;
        assert_eq!(physical_ms(tso), 1_700_000_000_000);
        assert_eq!(utc_rfc3339(tso), "2023-11-14T22:13:20.000Z");
        // A TSO of May 2024 with logical part 16387 (checked with Python's datetime).
        assert_eq!(
            utc_rfc3339(449_960_158_846_533_635),
            "2024-05-23T10:56:27.592Z"
        );
    }
}
