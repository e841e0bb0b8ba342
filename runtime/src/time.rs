//! Event time and processing time: [`Instant`] and [`Duration`], in milliseconds.
//!
//! Both are 64-bit millisecond counts. Instants are bounded as in Apache Beam, so that values cross Beam's
//! wire format unchanged: the smallest instant is [`Instant::MIN`] (-9223372036854775 ms), the largest
//! [`Instant::MAX`] (9223372036854775 ms), and the global window ends one day before that, at
//! [`Instant::GLOBAL_WINDOW_MAX`]. Instants are clamped to those bounds when made and when moved by a
//! duration, and an instant out of them does not deserialize; durations saturate at the limits of `i64`
//! instead of overflowing.

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
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct Instant(i64);

/// An instant deserializes from its milliseconds since the epoch, which must be within
/// [`Instant::MIN`]..=[`Instant::MAX`].
impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let millis = i64::deserialize(deserializer)?;
        if (MIN_MILLIS..=MAX_MILLIS).contains(&millis) {
            Ok(Instant(millis))
        } else {
            Err(serde::de::Error::custom(format_args!(
                "instant {millis} ms is out of bounds: instants are within [{MIN_MILLIS}, {MAX_MILLIS}] ms of the epoch"
            )))
        }
    }
}

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

/// `instant += duration`: moves the instant by the duration, clamped to the bounds (as `+`).
impl std::ops::AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = self.plus(d);
    }
}

/// `instant -= duration`: moves the instant back by the duration, clamped to the bounds (as `-`).
impl std::ops::SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, d: Duration) {
        *self = self.minus(d);
    }
}

/// `duration * n`: the duration `n` times over (negative `n` flips its sign), saturating at the limits of
/// `i64` milliseconds.
///
/// ```
/// use dofn::time::Duration;
/// assert_eq!(Duration::from_secs(90) * 2, Duration::from_mins(3));
/// assert_eq!(Duration::from_secs(5) * -1, -Duration::from_secs(5));
/// ```
impl std::ops::Mul<i64> for Duration {
    type Output = Duration;
    fn mul(self, n: i64) -> Duration {
        Duration(self.0.saturating_mul(n))
    }
}

/// `-duration`: the same span the other way, saturating at the limits of `i64` milliseconds.
impl std::ops::Neg for Duration {
    type Output = Duration;
    fn neg(self) -> Duration {
        Duration(self.0.saturating_neg())
    }
}

impl From<std::time::Duration> for Duration {
    fn from(d: std::time::Duration) -> Duration {
        Duration(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A [`Duration`] as a [`std::time::Duration`] (to sleep for it, say); a negative one has none, and is an
/// error.
///
/// ```
/// use dofn::time::Duration;
/// let sleep = std::time::Duration::try_from(Duration::from_millis(1_500));
/// assert_eq!(sleep, Ok(std::time::Duration::from_millis(1_500)));
/// let err = std::time::Duration::try_from(Duration::from_secs(-5)).unwrap_err();
/// assert_eq!(err.to_string(), "the duration -5s is negative: a std::time::Duration cannot be");
/// ```
impl TryFrom<Duration> for std::time::Duration {
    type Error = NegativeDurationError;

    fn try_from(d: Duration) -> Result<std::time::Duration, NegativeDurationError> {
        u64::try_from(d.0).map(std::time::Duration::from_millis).map_err(|_| NegativeDurationError { duration: d })
    }
}

/// The error of converting a negative [`Duration`] to a [`std::time::Duration`], which cannot be negative.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NegativeDurationError {
    duration: Duration,
}

impl NegativeDurationError {
    /// The negative duration.
    pub fn duration(&self) -> Duration {
        self.duration
    }
}

impl fmt::Display for NegativeDurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the duration {} is negative: a std::time::Duration cannot be", self.duration)
    }
}

impl std::error::Error for NegativeDurationError {}

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

/// A (year, month, day) civil date to days since the epoch (proleptic Gregorian).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Why a string is not an RFC 3339 instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseInstantError {
    input: String,
    reason: &'static str,
}

impl fmt::Display for ParseInstantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not an RFC 3339 timestamp like 2024-05-01T09:00:00.000Z: {}", self.input, self.reason)
    }
}

impl std::error::Error for ParseInstantError {}

impl std::str::FromStr for Instant {
    type Err = ParseInstantError;

    /// Parses RFC 3339 (`2024-05-01T09:00:00Z`, `2024-05-01T11:00:00.250+02:00`; digits past milliseconds
    /// are truncated), with the years of ISO 8601's expanded form too: more than four digits, and a sign
    /// (`+294247-01-09T04:00:00Z`, `-2024-05-01T09:00:00Z`, for 2025 BC). It reads everything
    /// [`Display`](fmt::Display) prints, the forms for the bounds included (`-inf`, `+inf`,
    /// `end-of-global-window`). A time outside [`Instant::MIN`]..=[`Instant::MAX`] is an error.
    ///
    /// ```
    /// use dofn::time::Instant;
    /// let t: Instant = "1970-01-01T00:00:01.5Z".parse().unwrap();
    /// assert_eq!(t, Instant::from_millis(1_500));
    /// let t: Instant = "2024-05-01T11:00:00+02:00".parse().unwrap();
    /// assert_eq!(t.to_string(), "2024-05-01T09:00:00.000Z");
    /// let far: Instant = "+100000-01-01T00:00:00Z".parse().unwrap();
    /// assert_eq!(far.to_string(), "100000-01-01T00:00:00.000Z");
    /// assert_eq!(far.to_string().parse::<Instant>(), Ok(far));
    /// assert!("2024-13-01T00:00:00Z".parse::<Instant>().is_err());
    /// assert!("300000-01-01T00:00:00Z".parse::<Instant>().is_err());
    /// ```
    fn from_str(text: &str) -> Result<Instant, ParseInstantError> {
        let fail = |reason| ParseInstantError { input: text.to_string(), reason };
        match text {
            "-inf" => return Ok(Instant::MIN),
            "+inf" => return Ok(Instant::MAX),
            "end-of-global-window" => return Ok(Instant::GLOBAL_WINDOW_MAX),
            _ => {}
        }
        let b = text.as_bytes();
        // The year: an optional sign, then four digits or more. The other fields are where they would be after
        // a four-digit year, `shift` bytes further on.
        let sign = usize::from(matches!(b.first(), Some(b'+' | b'-')));
        let year_digits = b[sign..].iter().take_while(|c| c.is_ascii_digit()).count();
        let shift = sign + year_digits.max(4) - 4;
        let at = |i: usize| b.get(i + shift).copied();
        let num = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = text.get(range)?;
            if part.bytes().all(|c| c.is_ascii_digit()) { part.parse().ok() } else { None }
        };
        let field = |i: usize| num(i + shift..i + shift + 2);
        if year_digits < 4
            || b.len() < 20 + shift
            || at(4) != Some(b'-')
            || at(7) != Some(b'-')
            || !matches!(at(10), Some(b'T' | b't' | b' '))
            || at(13) != Some(b':')
            || at(16) != Some(b':')
        {
            return Err(fail("expected YYYY-MM-DDTHH:MM:SS followed by Z or an offset"));
        }
        // Instants span less than 300,000 years either side of the epoch: a year past a million is out of range
        // (and would overflow the arithmetic below).
        let Some(year) = text[sign..sign + year_digits].parse::<i64>().ok().filter(|y| *y <= 1_000_000) else {
            return Err(fail("it is outside the range of instants"));
        };
        let year = if b[0] == b'-' { -year } else { year };
        let (month, day) = (field(5), field(8));
        let (hour, minute, second) = (field(11), field(14), field(17));
        let (Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (month, day, hour, minute, second)
        else {
            return Err(fail("a date or time field is not a number"));
        };
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month as u32) {
            return Err(fail("no such date"));
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err(fail("no such time of day"));
        }
        let mut i = 19 + shift;
        let mut millis = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                if i - start < 3 {
                    millis = millis * 10 + i64::from(b[i] - b'0');
                }
                i += 1;
            }
            if i == start {
                return Err(fail("no digits after the decimal point"));
            }
            for _ in (i - start)..3 {
                millis *= 10;
            }
        }
        let offset_minutes = match b.get(i) {
            Some(b'Z' | b'z') if i + 1 == b.len() => 0,
            Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
                let (Some(h), Some(m)) = (num(i + 1..i + 3), num(i + 4..i + 6)) else {
                    return Err(fail("the offset is not a number"));
                };
                // (ISO 8601 offsets run to 23:59; real ones to 14:00.)
                if h > 23 || m > 59 {
                    return Err(fail("the offset's hours or minutes are out of range"));
                }
                let minutes = h * 60 + m;
                if *sign == b'-' { -minutes } else { minutes }
            }
            _ => return Err(fail("expected Z or an offset like +02:00 at the end")),
        };
        let days = days_from_civil(year, month as u32, day as u32);
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
        let millis = seconds * 1000 + millis;
        if !(MIN_MILLIS..=MAX_MILLIS).contains(&millis) {
            return Err(fail("it is outside the range of instants"));
        }
        Ok(Instant(millis))
    }
}

fn days_in_month(year: i64, month: u32) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

impl fmt::Display for Instant {
    /// ISO 8601 in UTC with milliseconds, as Beam prints instants (years past 9999 with all their digits,
    /// years before year 0 with a sign and at least four digits); the bounds print as `-inf` and `+inf`, the
    /// end of the global window as `end-of-global-window`. [`FromStr`](std::str::FromStr) reads it all back.
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
        // The year in four digits at least, after a `-` if it is negative (before year 0, which is 1 BC), as
        // ISO 8601 writes expanded years (`-0044`, not `-044`); years past 9999 print all their digits.
        let sign = if y < 0 { "-" } else { "" };
        let y = y.unsigned_abs();
        write!(f, "{sign}{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{ms:03}Z")
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
    fn parses_what_it_prints() {
        for ms in [0, -1, 1_700_000_000_123, 951_782_400_000, -62_135_596_800_000] {
            let t = Instant::from_millis(ms);
            assert_eq!(t.to_string().parse::<Instant>(), Ok(t), "{t}");
        }
        for t in [Instant::MIN, Instant::MAX, Instant::GLOBAL_WINDOW_MAX] {
            assert_eq!(t.to_string().parse::<Instant>(), Ok(t));
        }
        assert_eq!(
            "2000-02-29T00:00:00-01:30".parse::<Instant>().map(|t| t.to_string()).as_deref(),
            Ok("2000-02-29T01:30:00.000Z")
        );
        assert_eq!(
            "2000-01-01T23:59:00+23:59".parse::<Instant>().map(|t| t.to_string()).as_deref(),
            Ok("2000-01-01T00:00:00.000Z")
        );
        for bad in [
            "2001-02-29T00:00:00Z",
            "2024-05-01 09:00:00",
            "2024-05-01T09:00:00.Z",
            "yesterday",
            "2024-05-01T24:00:00Z",
            "2024-05-01T09:00:00+99:99",
            "2024-05-01T09:00:00-24:00",
            "2024-05-01T09:00:00+02:60",
        ] {
            let err = bad.parse::<Instant>().unwrap_err();
            assert!(err.to_string().starts_with(&format!("`{bad}` is not an RFC 3339 timestamp")), "{err}");
        }
    }

    #[test]
    fn parses_what_it_prints_over_the_whole_range() {
        let day_of = |y, m, d| days_from_civil(y, m, d) * DAY_MILLIS;
        let mut millis = vec![MIN_MILLIS, MIN_MILLIS + 1, MIN_MILLIS + 1_000, MAX_MILLIS - 1, MAX_MILLIS];
        let end_of_global = Instant::GLOBAL_WINDOW_MAX.millis();
        millis.extend([end_of_global - 1, end_of_global, end_of_global + 1, -1, 0, 1]);
        // Either side of the years where the printed year gains a digit or a sign.
        for year in [-100_000, -10_000, -1_000, -1, 0, 1, 1_000, 10_000, 100_000] {
            millis.extend([day_of(year, 1, 1) - 1, day_of(year, 1, 1)]);
        }
        // And instants spread over the whole range, at uneven steps.
        let step = (MAX_MILLIS - MIN_MILLIS) / 100_003;
        millis.extend((0..100_003).map(|i| MIN_MILLIS + 1 + i * step));
        for ms in millis {
            let t = Instant::from_millis(ms);
            let text = t.to_string();
            assert_eq!(text.parse::<Instant>(), Ok(t), "{ms} ms prints as {text}");
        }
    }

    #[test]
    fn prints_and_parses_expanded_years() {
        let t = |text: &str| text.parse::<Instant>().map(Instant::millis);
        let one_more = Instant::MIN.millis() + 1;
        assert_eq!(Instant::from_millis(one_more).to_string(), "-290308-12-21T19:59:05.226Z");
        assert_eq!(t("-290308-12-21T19:59:05.226Z"), Ok(one_more));
        assert_eq!(t("-290308-12-21T19:59:05.225Z"), Ok(Instant::MIN.millis()), "the first instant, by its date");
        assert_eq!(t("294247-01-10T04:00:54.775Z"), Ok(Instant::MAX.millis()), "the last, by its date");
        assert_eq!(t("+294247-01-10T04:00:54.775Z"), Ok(Instant::MAX.millis()), "a sign on a positive year");
        let ides = days_from_civil(-44, 3, 15) * DAY_MILLIS;
        assert_eq!(Instant::from_millis(ides).to_string(), "-0044-03-15T00:00:00.000Z", "four digits after the sign");
        assert_eq!(t("-0044-03-15T00:00:00Z"), Ok(ides));
        assert_eq!(t("+2024-05-01T09:00:00Z"), t("2024-05-01T09:00:00Z"));
        assert_eq!(t("0000-01-01T00:00:00Z"), Ok(days_from_civil(0, 1, 1) * DAY_MILLIS));
        for (bad, why) in [
            ("-290308-12-21T19:59:05.224Z", "outside the range of instants"),
            ("294247-01-10T04:00:54.776Z", "outside the range of instants"),
            ("+999999999999999999999-01-01T00:00:00Z", "outside the range of instants"),
            ("-044-03-15T00:00:00Z", "expected YYYY-MM-DD"),
            ("+-2024-05-01T09:00:00Z", "expected YYYY-MM-DD"),
            ("20245-13-01T00:00:00Z", "no such date"),
        ] {
            let err = bad.parse::<Instant>().unwrap_err().to_string();
            assert!(err.starts_with(&format!("`{bad}` is not an RFC 3339 timestamp")) && err.contains(why), "{err}");
        }
    }

    #[test]
    fn saturates_at_bounds() {
        assert_eq!(Instant::MAX + Duration::from_secs(1), Instant::MAX);
        assert_eq!(Instant::MIN - Duration::from_secs(1), Instant::MIN);
        assert_eq!(Instant::from_millis(i64::MAX), Instant::MAX);
        assert_eq!(Instant::GLOBAL_WINDOW_MAX + Duration::from_days(1), Instant::MAX);
    }

    #[test]
    fn instants_move_in_place_by_durations_within_the_bounds() {
        let mut t = Instant::from_millis(1_000);
        t += Duration::from_millis(500);
        assert_eq!(t, Instant::from_millis(1_500));
        t -= Duration::from_secs(2);
        assert_eq!(t, Instant::from_millis(-500));
        t += Duration::from_millis(i64::MAX);
        assert_eq!(t, Instant::MAX, "clamped as `+` is");
        t -= Duration::MAX;
        assert_eq!(t, Instant::MIN);
        t -= Duration::from_millis(1);
        assert_eq!(t, Instant::MIN, "clamped as `-` is");
        t -= Duration::from_millis(-3);
        assert_eq!(t, Instant::MIN + Duration::from_millis(3), "a negative duration moves it forward");
    }

    #[test]
    fn durations_multiply_and_negate_saturating() {
        assert_eq!(Duration::from_millis(250) * 4, Duration::from_secs(1));
        let none = 0;
        assert_eq!(Duration::from_secs(3) * none, Duration::ZERO);
        assert_eq!(Duration::from_secs(3) * -2, Duration::from_secs(-6));
        assert_eq!(Duration::from_days(1) * i64::MAX, Duration::from_millis(i64::MAX));
        assert_eq!(Duration::from_days(-1) * i64::MAX, Duration::from_millis(i64::MIN));
        assert_eq!(-Duration::from_secs(5), Duration::from_secs(-5));
        assert_eq!(-Duration::from_secs(-5), Duration::from_secs(5));
        assert_eq!(-Duration::ZERO, Duration::ZERO);
        assert_eq!(-Duration::from_millis(i64::MIN), Duration::from_millis(i64::MAX));
    }

    #[test]
    fn durations_convert_to_std_unless_negative() {
        let std = |d: Duration| std::time::Duration::try_from(d);
        assert_eq!(std(Duration::from_millis(1_500)), Ok(std::time::Duration::from_millis(1_500)));
        assert_eq!(std(Duration::ZERO), Ok(std::time::Duration::ZERO));
        assert_eq!(std(Duration::MAX), Ok(std::time::Duration::from_millis(Duration::MAX.millis() as u64)));
        let err = std(Duration::from_millis(-1)).unwrap_err();
        assert_eq!(err.duration(), Duration::from_millis(-1));
        assert_eq!(err.to_string(), "the duration -1ms is negative: a std::time::Duration cannot be");
        // And back: a round trip keeps every non-negative duration.
        for ms in [0, 1, 999, 86_400_000, i64::MAX] {
            let d = Duration::from_millis(ms);
            assert_eq!(std(d).map(Duration::from), Ok(d));
        }
    }

    #[test]
    fn durations_print_compactly() {
        assert_eq!(Duration::from_millis(250).to_string(), "250ms");
        assert_eq!(Duration::from_secs(-5).to_string(), "-5s");
        assert_eq!((Duration::from_days(1) + Duration::from_hours(3)).to_string(), "1d3h");
    }

    #[test]
    fn instants_deserialize_within_the_bounds_only() {
        let t: Instant = serde_json::from_str("9223372036854775").unwrap();
        assert_eq!(t, Instant::MAX);
        assert_eq!(serde_json::to_string(&Instant::from_millis(1_500)).unwrap(), "1500");
        let err = serde_json::from_str::<Instant>("9223372036854776").unwrap_err().to_string();
        assert!(err.starts_with("instant 9223372036854776 ms is out of bounds"), "{err}");
        assert!(serde_json::from_str::<Instant>("-9223372036854776").is_err());
    }
}
