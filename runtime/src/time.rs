//! Event time and processing time: [`Instant`] and [`Duration`], in milliseconds.
//!
//! Both are 64-bit millisecond counts bounded as in Apache Beam, so that values cross Beam's wire format
//! unchanged: the smallest instant is [`Instant::MIN`] (-9223372036854775 ms), the largest [`Instant::MAX`]
//! (9223372036854775 ms), and the global window ends one day before that, at
//! [`Instant::GLOBAL_WINDOW_MAX`]. Arithmetic saturates at the bounds instead of overflowing.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A point in time, in milliseconds since the Unix epoch.
///
/// ```
/// use dofn::time::{Duration, Instant};
/// let t = Instant::from_millis(1_000);
/// assert_eq!(t + Duration::from_secs(2), Instant::from_millis(3_000));
/// assert_eq!(t.to_string(), "1970-01-01T00:00:01.000Z");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Instant(i64);

/// A span of time, in milliseconds. May be negative.
///
/// ```
/// use dofn::time::Duration;
/// assert_eq!(Duration::from_secs(90).to_string(), "1m30s");
/// assert_eq!(Duration::from_millis(1_500).millis(), 1_500);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Duration(i64);

const MIN_MILLIS: i64 = -9_223_372_036_854_775;
const MAX_MILLIS: i64 = 9_223_372_036_854_775;
const DAY_MILLIS: i64 = 86_400_000;

impl Instant {
    /// The earliest representable instant (Beam's `TIMESTAMP_MIN_VALUE`); a watermark here means "nothing is
    /// known yet".
    pub const MIN: Instant = Instant(MIN_MILLIS);
    /// The latest representable instant (Beam's `TIMESTAMP_MAX_VALUE`); a watermark here means "all input has
    /// been seen".
    pub const MAX: Instant = Instant(MAX_MILLIS);
    /// The largest timestamp inside the global window: [`Instant::MAX`] minus one day.
    pub const GLOBAL_WINDOW_MAX: Instant = Instant(MAX_MILLIS - DAY_MILLIS);
    /// The Unix epoch, 1970-01-01T00:00:00Z.
    pub const EPOCH: Instant = Instant(0);

    /// An instant `millis` milliseconds after the epoch, clamped to [`Instant::MIN`]..=[`Instant::MAX`].
    pub const fn from_millis(millis: i64) -> Instant {
        Instant(clamp(millis))
    }

    /// An instant `secs` seconds after the epoch, clamped to the bounds.
    pub const fn from_secs(secs: i64) -> Instant {
        Instant(clamp(secs.saturating_mul(1000)))
    }

    /// Milliseconds since the epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// The current wall-clock time, for the processing-time clock of a live run.
    pub fn now() -> Instant {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(MAX_MILLIS))
            .unwrap_or(0);
        Instant::from_millis(since)
    }

    /// `self + d`, clamped to the bounds.
    pub const fn plus(self, d: Duration) -> Instant {
        Instant(clamp(self.0.saturating_add(d.0)))
    }

    /// `self - d`, clamped to the bounds.
    pub const fn minus(self, d: Duration) -> Instant {
        Instant(clamp(self.0.saturating_sub(d.0)))
    }

    /// The time from `earlier` to `self`.
    pub const fn since(self, earlier: Instant) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }

    /// Whether this is [`Instant::MIN`].
    pub const fn is_min(self) -> bool {
        self.0 == MIN_MILLIS
    }

    /// Whether this is [`Instant::MAX`].
    pub const fn is_max(self) -> bool {
        self.0 == MAX_MILLIS
    }
}

const fn clamp(millis: i64) -> i64 {
    if millis < MIN_MILLIS {
        MIN_MILLIS
    } else if millis > MAX_MILLIS {
        MAX_MILLIS
    } else {
        millis
    }
}

impl Duration {
    /// No time at all.
    pub const ZERO: Duration = Duration(0);
    /// The longest span between two instants.
    pub const MAX: Duration = Duration(MAX_MILLIS - MIN_MILLIS);

    /// A span of `millis` milliseconds.
    pub const fn from_millis(millis: i64) -> Duration {
        Duration(millis)
    }
    /// A span of `secs` seconds.
    pub const fn from_secs(secs: i64) -> Duration {
        Duration(secs.saturating_mul(1000))
    }
    /// A span of `mins` minutes.
    pub const fn from_mins(mins: i64) -> Duration {
        Duration(mins.saturating_mul(60_000))
    }
    /// A span of `hours` hours.
    pub const fn from_hours(hours: i64) -> Duration {
        Duration(hours.saturating_mul(3_600_000))
    }
    /// A span of `days` days.
    pub const fn from_days(days: i64) -> Duration {
        Duration(days.saturating_mul(DAY_MILLIS))
    }
    /// The span in milliseconds.
    pub const fn millis(self) -> i64 {
        self.0
    }
    /// Whether the span is zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl std::ops::Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        self.plus(d)
    }
}

impl std::ops::Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        self.minus(d)
    }
}

impl std::ops::Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.since(earlier)
    }
}

impl std::ops::Add for Duration {
    type Output = Duration;
    fn add(self, o: Duration) -> Duration {
        Duration(self.0.saturating_add(o.0))
    }
}

impl std::ops::Sub for Duration {
    type Output = Duration;
    fn sub(self, o: Duration) -> Duration {
        Duration(self.0.saturating_sub(o.0))
    }
}

impl From<std::time::Duration> for Duration {
    fn from(d: std::time::Duration) -> Duration {
        Duration(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// Days since the epoch to a (year, month, day) civil date (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for Instant {
    /// ISO 8601 in UTC with milliseconds, as Beam prints instants; the bounds print as `-inf` and `+inf`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_min() {
            return f.write_str("-inf");
        }
        if self.is_max() {
            return f.write_str("+inf");
        }
        if *self == Instant::GLOBAL_WINDOW_MAX {
            return f.write_str("end-of-global-window");
        }
        let days = self.0.div_euclid(DAY_MILLIS);
        let ms_of_day = self.0.rem_euclid(DAY_MILLIS);
        let (y, m, d) = civil_from_days(days);
        let (h, rest) = (ms_of_day / 3_600_000, ms_of_day % 3_600_000);
        let (min, rest) = (rest / 60_000, rest % 60_000);
        let (s, ms) = (rest / 1000, rest % 1000);
        write!(f, "{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{ms:03}Z")
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Duration {
    /// A compact human form: `250ms`, `10s`, `1m30s`, `2h`, `1d3h`, `-5s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        if self.0 < 0 {
            f.write_str("-")?;
        }
        let mut rest = self.0.unsigned_abs();
        let parts = [(86_400_000u64, "d"), (3_600_000, "h"), (60_000, "m"), (1000, "s"), (1, "ms")];
        for (unit, name) in parts {
            if rest >= unit {
                write!(f, "{}{name}", rest / unit)?;
                rest %= unit;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_iso_8601() {
        assert_eq!(Instant::EPOCH.to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(Instant::from_millis(-1).to_string(), "1969-12-31T23:59:59.999Z");
        assert_eq!(Instant::from_millis(1_700_000_000_123).to_string(), "2023-11-14T22:13:20.123Z");
        assert_eq!(Instant::MAX.to_string(), "+inf");
        assert_eq!(Instant::MIN.to_string(), "-inf");
    }

    #[test]
    fn saturates_at_bounds() {
        assert_eq!(Instant::MAX + Duration::from_secs(1), Instant::MAX);
        assert_eq!(Instant::MIN - Duration::from_secs(1), Instant::MIN);
        assert_eq!(Instant::from_millis(i64::MAX), Instant::MAX);
        assert_eq!(Instant::GLOBAL_WINDOW_MAX + Duration::from_days(1), Instant::MAX);
    }

    #[test]
    fn durations_print_compactly() {
        assert_eq!(Duration::from_millis(250).to_string(), "250ms");
        assert_eq!(Duration::from_secs(-5).to_string(), "-5s");
        assert_eq!((Duration::from_days(1) + Duration::from_hours(3)).to_string(), "1d3h");
    }
}
