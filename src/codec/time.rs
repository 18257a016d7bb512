//! DATE / DATETIME / TIMESTAMP packed values (spec §7.4) and TIME durations (spec §7.5).
//!
//! Sources: TiDB `pkg/types/time.go` (`ToPackedUint`, `FromPackedUint`, `CoreTime` bit fields,
//! `Time.String`), `pkg/types/time_duration.go` (`Duration.String`); TiKV
//! `components/tidb_query_datatype/src/codec/mysql/time/mod.rs`.
//!
//! ```text
//! packed u64 (rows, datums):
//!   bits 63..41  ymd = (year * 13 + month) << 5 | day
//!   bits 40..24  hms = hour << 12 | minute << 6 | second
//!   bits 23..0   microsecond
//!   i.e. packed = ((ymd << 17 | hms) << 24) | micro
//!
//! CoreTime u64 (JSON date/datetime/timestamp values only):
//!   63..50 year | 49..46 month | 45..41 day | 40..36 hour | 35..30 minute | 29..24 second
//!   23..4 microsecond | 3..0 fsp/type (fsp << 1 | is_timestamp; 0b1110 = DATE)
//!
//! TIME: i64 nanoseconds, range ±838:59:59.999999
//! ```
//! Values are calendar fields without a time zone (TIMESTAMP is stored in UTC).
use std::fmt;

/// Largest fractional-second precision.
pub const MAX_FSP: u8 = 6;

/// A DATE / DATETIME / TIMESTAMP value as stored (packed) by TiDB. Fields are not validated:
/// zero dates and "zero-in-date" values (month or day 0) are legal in MySQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PackedTime {
    /// Year (0..=9999 for values TiDB writes).
    pub year: u16,
    /// Month 0..=12 (0 = zero-in-date).
    pub month: u8,
    /// Day 0..=31 (0 = zero-in-date).
    pub day: u8,
    /// Hour 0..=23.
    pub hour: u8,
    /// Minute 0..=59.
    pub minute: u8,
    /// Second 0..=59.
    pub second: u8,
    /// Microsecond 0..=999_999.
    pub micro: u32,
}

impl PackedTime {
    /// A time from its fields (not validated; see the type's docs).
    pub const fn new(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        micro: u32,
    ) -> Self {
        PackedTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
            micro,
        }
    }

    /// Unpacks the storage form. Every u64 unpacks, and [`PackedTime::to_packed`] gives it back.
    #[inline]
    pub const fn from_packed(p: u64) -> Self {
        let micro = (p & 0xff_ffff) as u32;
        let t = p >> 24;
        let hms = t & 0x1_ffff;
        let ymd = t >> 17;
        let ym = ymd >> 5;
        PackedTime {
            year: (ym / 13) as u16,
            month: (ym % 13) as u8,
            day: (ymd & 31) as u8,
            hour: (hms >> 12) as u8,
            minute: ((hms >> 6) & 63) as u8,
            second: (hms & 63) as u8,
            micro,
        }
    }

    /// Packs the fields (out-of-range fields are masked to their bit width, like TiDB).
    #[inline]
    pub const fn to_packed(&self) -> u64 {
        let ymd = ((self.year as u64 * 13 + self.month as u64) << 5) | (self.day as u64 & 31);
        let hms = ((self.hour as u64 & 31) << 12)
            | ((self.minute as u64 & 63) << 6)
            | (self.second as u64 & 63);
        (((ymd << 17) | hms) << 24) | (self.micro as u64 & 0xff_ffff)
    }

    /// Reads the CoreTime layout used inside binary JSON (the fsp/type nibble is ignored).
    pub const fn from_core_time(v: u64) -> Self {
        PackedTime {
            year: ((v >> 50) & 0x3fff) as u16,
            month: ((v >> 46) & 0xf) as u8,
            day: ((v >> 41) & 0x1f) as u8,
            hour: ((v >> 36) & 0x1f) as u8,
            minute: ((v >> 30) & 0x3f) as u8,
            second: ((v >> 24) & 0x3f) as u8,
            micro: ((v >> 4) & 0xf_ffff) as u32,
        }
    }

    /// Writes the CoreTime layout with the given fsp/type nibble (`fsp << 1 | is_timestamp`,
    /// or `0b1110` for DATE).
    pub const fn to_core_time(&self, fsp_tt: u8) -> u64 {
        ((self.year as u64 & 0x3fff) << 50)
            | ((self.month as u64 & 0xf) << 46)
            | ((self.day as u64 & 0x1f) << 41)
            | ((self.hour as u64 & 0x1f) << 36)
            | ((self.minute as u64 & 0x3f) << 30)
            | ((self.second as u64 & 0x3f) << 24)
            | ((self.micro as u64 & 0xf_ffff) << 4)
            | (fsp_tt as u64 & 0xf)
    }

    /// `0000-00-00 00:00:00`.
    #[inline]
    pub const fn is_zero(&self) -> bool {
        self.year == 0
            && self.month == 0
            && self.day == 0
            && self.hour == 0
            && self.minute == 0
            && self.second == 0
            && self.micro == 0
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar, ignoring the time of day.
    /// `None` for zero or invalid dates (month/day 0, Feb 30, …).
    #[inline]
    pub fn days_since_unix_epoch(&self) -> Option<i32> {
        // Every month has 28 days: the calendar is consulted only for the days after.
        if !(1..=12).contains(&self.month)
            || self.day == 0
            || (self.day > 28 && self.day > days_in_month(self.year, self.month))
        {
            return None;
        }
        Some(days_from_civil(self.year, self.month, self.day))
    }

    /// Microseconds since 1970-01-01 00:00:00 (no time zone). `None` for invalid dates or
    /// time fields out of range.
    pub fn micros_since_unix_epoch(&self) -> Option<i64> {
        if self.hour > 23 || self.minute > 59 || self.second > 59 || self.micro > 999_999 {
            return None;
        }
        let days = i64::from(self.days_since_unix_epoch()?);
        let secs = days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        Some(secs * 1_000_000 + i64::from(self.micro))
    }

    /// MySQL text with `fsp` fractional digits (clamped to 6, truncating):
    /// `YYYY-MM-DD HH:MM:SS[.ffffff]`.
    pub fn format_with_fsp(&self, fsp: u8) -> TimeDisplay {
        TimeDisplay {
            t: *self,
            fsp: fsp.min(MAX_FSP),
            date_only: false,
        }
    }

    /// MySQL DATE text `YYYY-MM-DD`.
    pub fn format_date(&self) -> TimeDisplay {
        TimeDisplay {
            t: *self,
            fsp: 0,
            date_only: true,
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS` plus `.ffffff` when the microsecond is non-zero. Use
/// [`PackedTime::format_with_fsp`] for the column's precision.
impl fmt::Display for PackedTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fsp = if self.micro == 0 { 0 } else { MAX_FSP };
        self.format_with_fsp(fsp).fmt(f)
    }
}

/// Display adapter returned by [`PackedTime::format_with_fsp`] / [`PackedTime::format_date`].
#[derive(Debug, Clone, Copy)]
pub struct TimeDisplay {
    t: PackedTime,
    fsp: u8,
    date_only: bool,
}

impl fmt::Display for TimeDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.t;
        write!(f, "{:04}-{:02}-{:02}", t.year, t.month, t.day)?;
        if self.date_only {
            return Ok(());
        }
        write!(f, " {:02}:{:02}:{:02}", t.hour, t.minute, t.second)?;
        write_frac(f, t.micro, self.fsp)
    }
}

/// Writes `.` and the first `fsp` digits of `micro` (zero-padded to 6 digits).
fn write_frac(f: &mut fmt::Formatter<'_>, micro: u32, fsp: u8) -> fmt::Result {
    if fsp == 0 {
        return Ok(());
    }
    let digits = u32::from(MAX_FSP - fsp);
    write!(
        f,
        ".{:0width$}",
        micro / 10u32.pow(digits),
        width = usize::from(fsp)
    )
}

/// Days in `month` (1..=12) of `year` in the proleptic Gregorian calendar.
pub const fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => {
            if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) {
                29
            } else {
                28
            }
        }
        _ => 0,
    }
}

/// Howard Hinnant's `days_from_civil`: days since 1970-01-01 of a valid y-m-d (month 1–12).
///
/// Years run from March (so that February's leap day ends a year) and are counted from 400
/// years earlier, which keeps every intermediate value unsigned even for January of year 0:
/// the divisions by constants are then plain multiplications. One 400-year era is 146 097 days,
/// and 1970-01-01 is day 719 468 from 0000-03-01.
#[inline]
const fn days_from_civil(year: u16, month: u8, day: u8) -> i32 {
    let (month, day) = (month as u32, day as u32);
    let year = year as u32 + 400 - (month <= 2) as u32;
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_from_march = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // At most (65 535 + 400) / 400 eras of 146 097 days: well within i32.
    (era * 146_097 + day_of_era) as i32 - 146_097 - 719_468
}

/// A MySQL TIME value: signed nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub i64);

impl Duration {
    /// Largest TIME magnitude TiDB stores: 838:59:59 (the fraction may add up to .999999).
    pub const MAX_HMS_NANOS: i64 = (838 * 3600 + 59 * 60 + 59) * 1_000_000_000;

    /// From hours/minutes/seconds/microseconds of the magnitude and a sign.
    pub const fn from_hms_micro(
        negative: bool,
        hour: u32,
        minute: u32,
        second: u32,
        micro: u32,
    ) -> Self {
        // at most ~1.5e19 ns for u32::MAX hours: saturate rather than overflow
        let secs = hour as i64 * 3600 + minute as i64 * 60 + second as i64;
        let ns = secs
            .saturating_mul(1_000_000_000)
            .saturating_add(micro as i64 * 1000);
        Duration(if negative { -ns } else { ns })
    }

    /// Nanoseconds.
    #[inline]
    pub const fn nanos(self) -> i64 {
        self.0
    }

    /// Microseconds, truncated toward zero (stored values are whole microseconds).
    #[inline]
    pub const fn micros(self) -> i64 {
        self.0 / 1000
    }

    /// MySQL text with `fsp` fractional digits (clamped to 6, truncating):
    /// `[-]HH:MM:SS[.ffffff]`, hours with at least two digits.
    pub fn format_with_fsp(self, fsp: u8) -> DurationDisplay {
        DurationDisplay {
            d: self,
            fsp: fsp.min(MAX_FSP),
        }
    }
}

/// `[-]HH:MM:SS` plus `.ffffff` when the fraction is non-zero.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fsp = if self.0.unsigned_abs() % 1_000_000_000 >= 1000 {
            MAX_FSP
        } else {
            0
        };
        self.format_with_fsp(fsp).fmt(f)
    }
}

/// Display adapter returned by [`Duration::format_with_fsp`].
#[derive(Debug, Clone, Copy)]
pub struct DurationDisplay {
    d: Duration,
    fsp: u8,
}

impl fmt::Display for DurationDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.d.0.unsigned_abs();
        if self.d.0 < 0 {
            f.write_str("-")?;
        }
        let secs = ns / 1_000_000_000;
        let micro = ((ns % 1_000_000_000) / 1000) as u32;
        write!(
            f,
            "{:02}:{:02}:{:02}",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        )?;
        write_frac(f, micro, self.fsp)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn t(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        micro: u32,
    ) -> PackedTime {
        PackedTime::new(year, month, day, hour, minute, second, micro)
    }

    #[test]
    fn rowcodec_test_timestamp_vector() {
        // §10.1 item 3: TiDB rowcodec_test.go TestTypesNewRowCodec, TIMESTAMP(6).
        let v = t(2011, 11, 10, 11, 11, 11, 999_999);
        assert_eq!(v.to_packed(), 1_840_446_893_366_133_311);
        assert_eq!(PackedTime::from_packed(1_840_446_893_366_133_311), v);
        assert_eq!(
            v.format_with_fsp(6).to_string(),
            "2011-11-10 11:11:11.999999"
        );
        assert_eq!(v.format_with_fsp(3).to_string(), "2011-11-10 11:11:11.999");
        assert_eq!(v.format_with_fsp(0).to_string(), "2011-11-10 11:11:11");
        assert_eq!(
            v.format_with_fsp(9).to_string(),
            "2011-11-10 11:11:11.999999"
        );
        assert_eq!(v.to_string(), "2011-11-10 11:11:11.999999");
        assert_eq!(
            v.micros_since_unix_epoch(),
            Some(1_320_923_471_999_999),
            "2011-11-10T11:11:11.999999Z"
        );
    }

    #[test]
    fn date_vector() {
        // §10.2 derived: DATE 2020-01-02
        let v = t(2020, 1, 2, 0, 0, 0, 0);
        assert_eq!(v.to_packed(), 1_847_957_988_896_145_408);
        assert_eq!(PackedTime::from_packed(1_847_957_988_896_145_408), v);
        assert_eq!(v.format_date().to_string(), "2020-01-02");
        assert_eq!(v.to_string(), "2020-01-02 00:00:00");
        assert_eq!(v.days_since_unix_epoch(), Some(18263));
    }

    #[test]
    fn range_ends() {
        let lo = t(1000, 1, 1, 0, 0, 0, 0);
        assert_eq!(lo.days_since_unix_epoch(), Some(-354_285));
        assert_eq!(lo.micros_since_unix_epoch(), Some(-30_610_224_000_000_000));
        assert_eq!(lo.format_date().to_string(), "1000-01-01");
        let hi = t(9999, 12, 31, 23, 59, 59, 999_999);
        assert_eq!(hi.days_since_unix_epoch(), Some(2_932_896));
        assert_eq!(hi.micros_since_unix_epoch(), Some(253_402_300_799_999_999));
        assert_eq!(
            hi.format_with_fsp(6).to_string(),
            "9999-12-31 23:59:59.999999"
        );
        assert_eq!(PackedTime::from_packed(hi.to_packed()), hi);
        let epoch = t(1970, 1, 1, 0, 0, 0, 0);
        assert_eq!(epoch.days_since_unix_epoch(), Some(0));
        assert_eq!(
            t(1969, 12, 31, 23, 59, 59, 999_999).micros_since_unix_epoch(),
            Some(-1)
        );
        assert_eq!(
            t(0, 1, 1, 0, 0, 0, 0).days_since_unix_epoch(),
            Some(-719_528)
        );
        assert_eq!(
            t(2000, 3, 1, 0, 0, 0, 0).days_since_unix_epoch(),
            Some(11_017)
        );
    }

    #[test]
    fn zero_and_invalid_dates() {
        let zero = PackedTime::from_packed(0);
        assert!(zero.is_zero());
        assert_eq!(zero.to_string(), "0000-00-00 00:00:00");
        assert_eq!(zero.format_date().to_string(), "0000-00-00");
        assert_eq!(zero.days_since_unix_epoch(), None);
        assert_eq!(zero.micros_since_unix_epoch(), None);
        assert_eq!(t(2020, 0, 5, 0, 0, 0, 0).days_since_unix_epoch(), None);
        assert_eq!(t(2020, 5, 0, 0, 0, 0, 0).days_since_unix_epoch(), None);
        assert_eq!(t(2021, 2, 29, 0, 0, 0, 0).days_since_unix_epoch(), None);
        assert_eq!(t(2020, 2, 30, 0, 0, 0, 0).days_since_unix_epoch(), None);
        assert!(t(2020, 2, 29, 0, 0, 0, 0).days_since_unix_epoch().is_some());
        assert_eq!(t(1900, 2, 29, 0, 0, 0, 0).days_since_unix_epoch(), None);
        assert_eq!(t(2020, 4, 31, 0, 0, 0, 0).days_since_unix_epoch(), None);
        assert_eq!(t(2020, 1, 1, 24, 0, 0, 0).micros_since_unix_epoch(), None);
        assert_eq!(t(2020, 1, 1, 0, 60, 0, 0).micros_since_unix_epoch(), None);
        assert_eq!(
            t(2020, 1, 1, 0, 0, 0, 1_000_000).micros_since_unix_epoch(),
            None
        );
        // garbage packed values unpack and never panic
        let g = PackedTime::from_packed(u64::MAX);
        assert_eq!(g.days_since_unix_epoch(), None);
        assert!(!g.to_string().is_empty());
    }

    #[test]
    fn packed_round_trip_is_identity() {
        let mut s = 0x1234_5678_9abc_def0u64;
        for _ in 0..5000 {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            assert_eq!(PackedTime::from_packed(s).to_packed(), s);
        }
    }

    #[test]
    fn days_match_a_day_by_day_walk() {
        let mut expected = -719_528i64; // 0000-01-01
        for year in 0u16..=u16::MAX {
            for month in 1u8..=12 {
                for day in 1..=days_in_month(year, month) {
                    let d = t(year, month, day, 0, 0, 0, 0)
                        .days_since_unix_epoch()
                        .unwrap();
                    assert_eq!(i64::from(d), expected, "{year}-{month}-{day}");
                    expected += 1;
                }
            }
        }
    }

    #[test]
    fn core_time_round_trip() {
        let v = t(2024, 2, 29, 13, 14, 15, 123_456);
        for fsp_tt in [0u8, 0b1100, 0b1101, 0b1110] {
            let c = v.to_core_time(fsp_tt);
            assert_eq!(PackedTime::from_core_time(c), v);
            assert_eq!(c & 0xf, u64::from(fsp_tt));
        }
    }

    #[test]
    fn durations() {
        // §10.1 item 3: TIME 4:00:00 = 14400000000000 ns
        let d = Duration(14_400_000_000_000);
        assert_eq!(d, Duration::from_hms_micro(false, 4, 0, 0, 0));
        assert_eq!(d.to_string(), "04:00:00");
        assert_eq!(d.format_with_fsp(2).to_string(), "04:00:00.00");
        assert_eq!(d.micros(), 14_400_000_000);
        let max = Duration::from_hms_micro(false, 838, 59, 59, 0);
        assert_eq!(max.nanos(), Duration::MAX_HMS_NANOS);
        assert_eq!(max.to_string(), "838:59:59");
        let min = Duration::from_hms_micro(true, 838, 59, 59, 999_999);
        assert_eq!(min.to_string(), "-838:59:59.999999");
        assert_eq!(min.format_with_fsp(3).to_string(), "-838:59:59.999");
        assert_eq!(min.micros(), -3_020_399_999_999);
        assert_eq!(
            Duration(-1_500_000).format_with_fsp(6).to_string(),
            "-00:00:00.001500"
        );
        assert_eq!(Duration(0).to_string(), "00:00:00");
        // never panics on extremes
        assert!(!Duration(i64::MIN).to_string().is_empty());
        assert!(!Duration(i64::MAX).to_string().is_empty());
    }
}
