//! Windows, window functions and the windowing strategy (allowed lateness, garbage-collection time).
//!
//! A [`Window`] is a half-open interval of event time `[start, end)`; the global window spans all of time up
//! to [`Instant::GLOBAL_WINDOW_MAX`]. A [`WindowFn`] assigns each element to windows by its timestamp.
//! State and timers are scoped to a key *and* a window, and a window's state is cleared at its
//! [garbage-collection time](WindowingStrategy::gc_time): its maximum timestamp plus the allowed lateness.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::time::{Duration, Instant};

/// A window of event time: the interval `[start, end)`.
///
/// ```
/// use dofn::{time::{Duration, Instant}, window::Window};
/// let w = Window::new(Instant::from_secs(0), Instant::from_secs(60));
/// assert_eq!(w.max_timestamp(), Instant::from_millis(59_999));
/// assert_eq!(w.to_string(), "[1970-01-01T00:00:00.000Z, 1970-01-01T00:01:00.000Z)");
/// assert_eq!(Window::GLOBAL.to_string(), "GlobalWindow");
/// ```
///
/// It serialises as `{"start": .., "end": ..}`; deserialising rejects a window that ends at or before its start.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "WindowBounds")]
pub struct Window {
    start: Instant,
    end: Instant,
}

/// A window's bounds as serialised, checked into a [`Window`].
#[derive(Deserialize)]
struct WindowBounds {
    start: Instant,
    end: Instant,
}

impl TryFrom<WindowBounds> for Window {
    type Error = String;

    fn try_from(WindowBounds { start, end }: WindowBounds) -> Result<Window, String> {
        if end <= start {
            return Err(format!("a window must end after it starts, got [{start}, {end})"));
        }
        Ok(Window { start, end })
    }
}

/// A window hashes as its end alone: the windows of one windowing function (fixed, sliding: one size) do not
/// share an end (but for the sliding windows cut at the end of the global window), so the start would add
/// nothing but work to every lookup of a key's state in a window. (Windows that share an end still compare
/// unequal; they only share a hash.)
impl std::hash::Hash for Window {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.end.hash(state);
    }
}

impl Window {
    /// The single window of the global windowing: all of event time.
    pub const GLOBAL: Window =
        Window { start: Instant::MIN, end: Instant::GLOBAL_WINDOW_MAX.plus(Duration::from_millis(1)) };

    /// The interval window `[start, end)`.
    pub const fn new(start: Instant, end: Instant) -> Window {
        Window { start, end }
    }

    /// The first instant in the window.
    #[inline]
    pub const fn start(&self) -> Instant {
        self.start
    }

    /// The first instant after the window.
    #[inline]
    pub const fn end(&self) -> Instant {
        self.end
    }

    /// The largest timestamp inside the window: `end - 1ms`.
    #[inline]
    pub const fn max_timestamp(&self) -> Instant {
        self.end.minus(Duration::from_millis(1))
    }

    /// Whether this is the global window.
    #[inline]
    pub fn is_global(&self) -> bool {
        *self == Window::GLOBAL
    }

    /// Whether `ts` lies in `[start, end)`.
    #[inline]
    pub fn contains(&self, ts: Instant) -> bool {
        self.start <= ts && ts < self.end
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_global() { f.write_str("GlobalWindow") } else { write!(f, "[{}, {})", self.start, self.end) }
    }
}

impl fmt::Debug for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// How elements are assigned to windows.
///
/// Fixed and sliding windows are cut at the ends of time, as Beam's `FixedWindows` cuts the last one: a
/// window that would start before [`Instant::MIN`] starts there, and one that would end after the end of the
/// global window ([`Instant::GLOBAL_WINDOW_MAX`] + 1 ms) ends there, so that its max timestamp is never past
/// its garbage-collection time. Fixed windows so cut still tile the time line without overlapping, and no
/// window is given twice (sliding windows as long as all of time may be cut to the same window: it is given
/// once). An element after the end of the global window (up to [`Instant::MAX`]) is assigned as if it were at
/// [`Instant::GLOBAL_WINDOW_MAX`].
///
/// ```
/// use dofn::{time::{Duration, Instant}, window::{Window, WindowFn}};
/// let fixed = WindowFn::fixed(Duration::from_secs(10));
/// let mut ws = Vec::new();
/// fixed.assign(Instant::from_secs(12), |w| ws.push(w));
/// assert_eq!(ws, [Window::new(Instant::from_secs(10), Instant::from_secs(20))]);
///
/// let sliding = WindowFn::sliding(Duration::from_secs(10), Duration::from_secs(5));
/// ws.clear();
/// sliding.assign(Instant::from_secs(12), |w| ws.push(w));
/// assert_eq!(ws.len(), 2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowFn {
    /// Every element in the one [`Window::GLOBAL`].
    Global,
    /// Tumbling windows of `size`, aligned to the epoch plus `offset`.
    Fixed {
        /// The length of each window.
        size: Duration,
        /// Where windows start relative to the epoch (`0 <= offset < size`).
        offset: Duration,
    },
    /// Overlapping windows of `size` starting every `period`, aligned to the epoch plus `offset`.
    Sliding {
        /// The length of each window.
        size: Duration,
        /// The distance between window starts.
        period: Duration,
        /// Where windows start relative to the epoch (`0 <= offset < period`).
        offset: Duration,
    },
    /// Session windows: each element gets `[ts, ts + gap)`, and overlapping windows of a key merge.
    ///
    /// Sessions are *merging* windows. A stateless DoFn sees each element's own proto-window (merging happens
    /// in a grouping step, as in Beam); a stateful DoFn on them fails the run with [`Error::Construction`](crate::Error::Construction)
    /// before any element is processed.
    Sessions {
        /// The inactivity gap that closes a session.
        gap: Duration,
    },
}

impl WindowFn {
    /// Fixed windows of `size`, aligned to the epoch.
    pub const fn fixed(size: Duration) -> WindowFn {
        WindowFn::Fixed { size, offset: Duration::ZERO }
    }

    /// Sliding windows of `size` every `period`, aligned to the epoch.
    pub const fn sliding(size: Duration, period: Duration) -> WindowFn {
        WindowFn::Sliding { size, period, offset: Duration::ZERO }
    }

    /// Session windows with the given gap.
    pub const fn sessions(gap: Duration) -> WindowFn {
        WindowFn::Sessions { gap }
    }

    /// Whether windows of this function merge (only [`WindowFn::Sessions`]).
    pub fn is_merging(&self) -> bool {
        matches!(self, WindowFn::Sessions { .. })
    }

    /// Checks the parameters: sizes, periods and gaps positive and no longer than [`Duration::MAX`], offsets
    /// in range.
    pub fn validate(&self) -> Result<(), String> {
        let longest = match *self {
            WindowFn::Global => Duration::ZERO,
            WindowFn::Fixed { size, .. } => size,
            WindowFn::Sliding { size, period, .. } => size.max(period),
            WindowFn::Sessions { gap } => gap,
        };
        if longest > Duration::MAX {
            return Err(format!(
                "{longest} is longer than the span of all instants ({}): no window can be that long",
                Duration::MAX
            ));
        }
        match *self {
            WindowFn::Global => Ok(()),
            WindowFn::Fixed { size, offset } => {
                if size.millis() <= 0 {
                    Err(format!("fixed windows need a positive size, got {size}"))
                } else if offset.millis() < 0 || offset >= size {
                    Err(format!("fixed windows of size {size} need an offset in [0, {size}), got {offset}"))
                } else {
                    Ok(())
                }
            }
            WindowFn::Sliding { size, period, offset } => {
                if size.millis() <= 0 || period.millis() <= 0 {
                    Err(format!("sliding windows need a positive size and period, got size {size}, period {period}"))
                } else if offset.millis() < 0 || offset >= period {
                    Err(format!("sliding windows with period {period} need an offset in [0, {period}), got {offset}"))
                } else {
                    Ok(())
                }
            }
            WindowFn::Sessions { gap } => {
                if gap.millis() <= 0 {
                    Err(format!("session windows need a positive gap, got {gap}"))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Calls `f` with each window that contains an element at `ts`, earliest start first.
    ///
    /// # Panics
    /// If the window function is invalid ([`WindowFn::validate`] fails: a fixed or sliding window of size or
    /// period zero divides by it). Pipelines and the test harness validate it before assigning any window.
    #[inline]
    pub fn assign(&self, ts: Instant, mut f: impl FnMut(Window)) {
        // (No arithmetic here overflows: instants, sizes, periods and offsets are all within a few times
        // `Duration::MAX` of zero, far inside `i64`.)
        match *self {
            WindowFn::Global => f(Window::GLOBAL),
            WindowFn::Fixed { size, offset } => {
                let ts = ts.min(Instant::GLOBAL_WINDOW_MAX).millis();
                let start = ts - (ts - offset.millis()).rem_euclid(size.millis());
                f(cut(start, start + size.millis()));
            }
            WindowFn::Sliding { size, period, offset } => {
                let (ts, size, period) = (ts.min(Instant::GLOBAL_WINDOW_MAX).millis(), size.millis(), period.millis());
                let last_start = ts - (ts - offset.millis()).rem_euclid(period);
                // Window starts s with s <= ts < s + size, earliest first, without allocating.
                let lowest = ts - size + 1;
                if lowest > last_start {
                    return;
                }
                let mut start = last_start - (last_start - lowest) / period * period;
                if size >= END_OF_GLOBAL_WINDOW - Instant::MIN.millis() {
                    // Windows as long as all of time: those that start at or before the first instant and end at
                    // or after the last are all cut to the same window, one after another. Give it once.
                    let mut last = None;
                    while start <= last_start {
                        let window = cut(start, start + size);
                        if last != Some(window) {
                            f(window);
                        }
                        last = Some(window);
                        start += period;
                    }
                    return;
                }
                while start <= last_start {
                    f(cut(start, start + size));
                    start += period;
                }
            }
            WindowFn::Sessions { gap } => f(Window::new(ts, ts + gap)),
        }
    }
}

/// The end of the global window, in milliseconds: no fixed or sliding window ends after it.
const END_OF_GLOBAL_WINDOW: i64 = Window::GLOBAL.end.millis();

/// The window `[start, end)` cut at the ends of time: it starts no earlier than [`Instant::MIN`] and ends no
/// later than the global window (see [`WindowFn`]).
#[inline(always)]
fn cut(start: i64, end: i64) -> Window {
    Window::new(Instant::from_millis(start), Instant::from_millis(end.min(END_OF_GLOBAL_WINDOW)))
}

/// How a collection is windowed: the window function and how late data may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowingStrategy {
    /// Assigns elements to windows.
    pub window_fn: WindowFn,
    /// How long after a window's end (by the watermark) its elements are still accepted and its state kept.
    pub allowed_lateness: Duration,
}

/// `window_fn` with no allowed lateness.
impl From<WindowFn> for WindowingStrategy {
    fn from(window_fn: WindowFn) -> Self {
        WindowingStrategy::new(window_fn)
    }
}

impl Default for WindowingStrategy {
    fn default() -> Self {
        WindowingStrategy::global()
    }
}

impl WindowingStrategy {
    /// The global window with no allowed lateness.
    pub const fn global() -> WindowingStrategy {
        WindowingStrategy { window_fn: WindowFn::Global, allowed_lateness: Duration::ZERO }
    }

    /// `window_fn` with no allowed lateness.
    pub const fn new(window_fn: WindowFn) -> WindowingStrategy {
        WindowingStrategy { window_fn, allowed_lateness: Duration::ZERO }
    }

    /// The same strategy with the given allowed lateness (a negative one is rejected when a DoFn is set to run
    /// on the strategy: see [`WindowingStrategy::validate`]).
    pub const fn with_allowed_lateness(mut self, lateness: Duration) -> WindowingStrategy {
        self.allowed_lateness = lateness;
        self
    }

    /// Checks the window function's parameters ([`WindowFn::validate`]) and that the allowed lateness is not
    /// negative; the error says what is wrong.
    ///
    /// ```
    /// use dofn::prelude::*;
    /// let late = WindowingStrategy::new(WindowFn::fixed(Duration::from_secs(60)));
    /// assert!(late.with_allowed_lateness(Duration::from_secs(5)).validate().is_ok());
    /// let err = late.with_allowed_lateness(Duration::from_secs(-5)).validate().unwrap_err();
    /// assert_eq!(err, "the allowed lateness must not be negative, got -5s");
    /// ```
    pub fn validate(&self) -> Result<(), String> {
        self.window_fn.validate()?;
        if self.allowed_lateness.millis() < 0 {
            return Err(negative_lateness(self.allowed_lateness));
        }
        Ok(())
    }

    /// When the state of `window` is garbage-collected: its max timestamp plus the allowed lateness, but never
    /// past the end of the global window (Beam's rule).
    ///
    /// ```
    /// use dofn::{time::{Duration, Instant}, window::{Window, WindowFn, WindowingStrategy}};
    /// let s = WindowingStrategy::new(WindowFn::fixed(Duration::from_secs(10)))
    ///     .with_allowed_lateness(Duration::from_secs(5));
    /// let w = Window::new(Instant::from_secs(0), Instant::from_secs(10));
    /// assert_eq!(s.gc_time(&w), Instant::from_millis(14_999));
    /// assert_eq!(s.gc_time(&Window::GLOBAL), Instant::GLOBAL_WINDOW_MAX);
    /// ```
    #[inline]
    pub fn gc_time(&self, window: &Window) -> Instant {
        let max = window.max_timestamp();
        if max > Instant::GLOBAL_WINDOW_MAX.minus(self.allowed_lateness) {
            Instant::GLOBAL_WINDOW_MAX
        } else {
            max + self.allowed_lateness
        }
    }

    /// Whether `window` has expired once the input watermark is at `watermark`: its GC time is before it.
    #[inline]
    pub fn is_expired(&self, window: &Window, watermark: Instant) -> bool {
        self.gc_time(window) < watermark
    }
}

/// The error for a negative allowed lateness.
fn negative_lateness(lateness: Duration) -> String {
    format!("the allowed lateness must not be negative, got {lateness}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows(f: WindowFn, ts: i64) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        f.assign(Instant::from_millis(ts), |w| out.push((w.start().millis(), w.end().millis())));
        out
    }

    #[test]
    fn fixed_windows_handle_negative_times_and_offsets() {
        let f = WindowFn::fixed(Duration::from_millis(10));
        assert_eq!(windows(f, 0), [(0, 10)]);
        assert_eq!(windows(f, 9), [(0, 10)]);
        assert_eq!(windows(f, -1), [(-10, 0)]);
        let f = WindowFn::Fixed { size: Duration::from_millis(10), offset: Duration::from_millis(3) };
        assert_eq!(windows(f, 2), [(-7, 3)]);
        assert_eq!(windows(f, 3), [(3, 13)]);
    }

    #[test]
    fn sliding_windows_cover_each_timestamp() {
        let f = WindowFn::sliding(Duration::from_millis(10), Duration::from_millis(5));
        assert_eq!(windows(f, 7), [(0, 10), (5, 15)]);
        assert_eq!(windows(f, 5), [(0, 10), (5, 15)]);
        assert_eq!(windows(f, 4), [(-5, 5), (0, 10)]);
        let f = WindowFn::sliding(Duration::from_millis(10), Duration::from_millis(20));
        assert_eq!(windows(f, 15), Vec::<(i64, i64)>::new());
    }

    /// The windows `f` assigns to `ts`, in order.
    fn assigned(f: WindowFn, ts: Instant) -> Vec<Window> {
        let mut out = Vec::new();
        f.assign(ts, |w| out.push(w));
        out
    }

    const END: Instant = Window::GLOBAL.end();

    #[test]
    fn windows_near_the_end_of_time_are_cut_at_the_end_of_the_global_window() {
        let strategy = WindowingStrategy::new(WindowFn::fixed(Duration::from_secs(60)));
        let ts = Instant::GLOBAL_WINDOW_MAX - Duration::from_secs(10);
        let [w] = assigned(strategy.window_fn, ts)[..] else { panic!("one fixed window") };
        // The last fixed window starts at its usual place and ends with the global window.
        assert_eq!(w.start().millis(), ts.millis() - ts.millis().rem_euclid(60_000));
        assert_eq!((w.end(), w.max_timestamp()), (END, Instant::GLOBAL_WINDOW_MAX));
        assert_eq!(strategy.gc_time(&w), w.max_timestamp(), "a timer at the max timestamp is not past expiry");
        // Elements after the end of the global window land in the last window too.
        for late in [Instant::GLOBAL_WINDOW_MAX, Instant::GLOBAL_WINDOW_MAX + Duration::from_secs(61), Instant::MAX] {
            assert_eq!(assigned(strategy.window_fn, late), [w], "{late:?}");
        }
        let before = assigned(strategy.window_fn, w.start() - Duration::from_millis(1));
        assert_eq!(before[0].end(), w.start(), "the window before ends where the last one starts");

        let sliding = WindowFn::sliding(Duration::from_secs(60), Duration::from_secs(20));
        let windows = assigned(sliding, ts);
        assert_eq!(windows.len(), 3);
        assert!(windows.iter().all(|w| w.contains(ts) && w.end() == END), "{windows:?}");
        assert_eq!(assigned(sliding, Instant::MAX), assigned(sliding, Instant::GLOBAL_WINDOW_MAX));
    }

    #[test]
    fn windows_near_the_start_of_time_are_cut_at_it_and_neither_repeat_nor_overlap() {
        let fixed = WindowFn::fixed(Duration::from_secs(60));
        let [first] = assigned(fixed, Instant::MIN)[..] else { panic!("one fixed window") };
        assert_eq!(first.start(), Instant::MIN);
        assert_eq!(first.end().millis().rem_euclid(60_000), 0, "it ends where a fixed window ends");
        assert_eq!(assigned(fixed, first.end()), [Window::new(first.end(), first.end() + Duration::from_secs(60))]);
        assert_eq!(assigned(fixed, first.max_timestamp()), [first]);

        // Two sliding windows start before the first instant: cut, they are two windows, not one twice.
        let sliding = WindowFn::sliding(Duration::from_secs(60), Duration::from_secs(30));
        let windows = assigned(sliding, Instant::MIN);
        assert_eq!(windows.len(), 2);
        assert!(windows.iter().all(|w| w.start() == Instant::MIN && w.contains(Instant::MIN)), "{windows:?}");
        assert!(windows[0].end() < windows[1].end(), "{windows:?}");
        assert_eq!(assigned(sliding, Instant::MIN + Duration::from_millis(1)), windows, "the same cut windows");
    }

    #[test]
    fn windows_are_distinct_in_order_and_within_time_for_any_size_at_either_end() {
        let day = Duration::from_days(1);
        let fns = [
            WindowFn::fixed(Duration::from_millis(7)),
            WindowFn::Fixed { size: Duration::from_secs(60), offset: Duration::from_secs(17) },
            WindowFn::fixed(Duration::MAX),
            WindowFn::sliding(Duration::from_secs(60), Duration::from_secs(30)),
            WindowFn::Sliding {
                size: Duration::from_millis(10),
                period: Duration::from_millis(3),
                offset: Duration::from_millis(1),
            },
            WindowFn::sliding(Duration::from_millis(3), Duration::from_millis(10)),
            // Windows about as long as all of time.
            WindowFn::sliding(Duration::MAX, Duration::from_days(100_000_000)),
            WindowFn::Sliding { size: Duration::MAX - day, period: Duration::MAX - day - day, offset: day },
        ];
        let near = |t: Instant| (-3..=3).map(move |d| t + Duration::from_millis(d));
        let times = near(Instant::MIN)
            .chain(near(Instant::EPOCH))
            .chain(near(Instant::GLOBAL_WINDOW_MAX))
            .chain(near(Instant::MAX));
        for f in fns {
            for ts in times.clone() {
                let windows = assigned(f, ts);
                let at = ts.min(Instant::GLOBAL_WINDOW_MAX);
                assert!(windows.windows(2).all(|p| p[0] < p[1]), "{f:?} at {ts:?}: {windows:?}");
                for w in &windows {
                    assert!(w.contains(at) && w.start() >= Instant::MIN && w.end() <= END, "{f:?} at {ts:?}: {w:?}");
                }
                if let (WindowFn::Fixed { .. }, [w]) = (f, &windows[..]) {
                    // Fixed windows tile time: the one before ends where this one starts, the next starts where
                    // it ends.
                    if w.start() > Instant::MIN {
                        assert_eq!(assigned(f, w.start() - Duration::from_millis(1))[0].end(), w.start(), "{f:?}");
                    }
                    if w.end() < END {
                        assert_eq!(assigned(f, w.end())[0].start(), w.end(), "{f:?}");
                    }
                } else {
                    assert!(!matches!(f, WindowFn::Fixed { .. }), "{f:?} at {ts:?}: one fixed window");
                }
            }
        }
    }

    #[test]
    #[ignore = "assigns 213 million windows (some 15 s in a debug build): run with `--ignored`"]
    fn sliding_windows_that_cover_all_of_time_are_cut_to_one_window_given_once() {
        // Windows as long as all of time, one every day less a millisecond, one of them starting at the first
        // instant: it and the one before (a day less a millisecond earlier) both span all of time.
        let period = Duration::from_days(1) - Duration::from_millis(1);
        let offset = Duration::from_millis(Instant::MIN.millis().rem_euclid(period.millis()));
        let sliding = WindowFn::Sliding { size: Duration::MAX, period, offset };
        let ts = Instant::EPOCH;
        let (mut whole, mut last) = (0, None);
        sliding.assign(ts, |w| {
            whole += i32::from(w.start() == Instant::MIN && w.end() == END);
            assert!(last < Some(w) && w.contains(ts), "{w:?} after {last:?}: in order, none twice");
            last = Some(w);
        });
        assert_eq!(whole, 1);
    }

    #[test]
    fn validation_names_the_problem() {
        assert!(WindowFn::fixed(Duration::ZERO).validate().unwrap_err().contains("positive size"));
        let huge = Duration::from_days(i64::MAX);
        let err = WindowFn::sliding(huge, Duration::from_secs(1)).validate().unwrap_err();
        assert!(err.contains("longer than the span of all instants"), "{err}");
        assert!(WindowFn::sliding(Duration::MAX, Duration::from_secs(1)).validate().is_ok());
        assert!(WindowFn::sessions(Duration::from_secs(1)).is_merging());
    }

    #[test]
    fn a_window_round_trips_and_an_inverted_one_is_rejected() {
        let w = Window::new(Instant::from_millis(10), Instant::from_millis(20));
        let json = serde_json::to_string(&w).unwrap();
        assert_eq!(serde_json::from_str::<Window>(&json).unwrap(), w);
        assert_eq!(
            serde_json::from_str::<Window>(&serde_json::to_string(&Window::GLOBAL).unwrap()).unwrap(),
            Window::GLOBAL
        );
        for (start, end) in [(20, 10), (10, 10)] {
            let json = format!(r#"{{"start":{start},"end":{end}}}"#);
            let err = serde_json::from_str::<Window>(&json).unwrap_err().to_string();
            assert!(err.starts_with("a window must end after it starts"), "{err}");
        }
    }
}
