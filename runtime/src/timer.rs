//! Timers: event-time and processing-time callbacks, per key and window.
//!
//! A DoFn declares a timer as a field of type [`TimerSpec<EventTime>`] or [`TimerSpec<ProcessingTime>`] marked
//! `#[timer_id("..")]`, and a family of dynamically tagged timers as [`TimerFamilySpec`] marked
//! `#[timer_family_id("..")]`. Methods take `&mut Timer` / `&mut TimerMap` parameters to set and clear them,
//! and `#[on_timer("..")]` / `#[on_timer_family("..")]` callbacks run when they fire.
//!
//! The rules are Beam's:
//! - an event-time timer fires once the input watermark passes its time; a processing-time timer once the
//!   processing clock reaches it;
//! - setting a timer again replaces it, [`Timer::clear`] cancels it;
//! - [`Timer::set_relative`] sets it relative to the current time of its domain (for event time, the
//!   element's timestamp, or in a timer callback the firing time of an event-time timer and the output
//!   timestamp of a processing-time one; the clock for processing time): [`Timer::offset`] later, or, with
//!   [`Timer::align`], at the next instant on the alignment grid (see [`Timer::set_relative`] for Beam's exact
//!   rule); relative event-time timers are capped at the window's expiry;
//! - a timer has an *output timestamp* that holds the DoFn's output watermark until it fires: by default its
//!   firing time for event time, and the input's timestamp for processing time;
//!   [`Timer::with_no_output_timestamp`] sets no hold.

use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::error::TimerError;
use crate::time::{Duration, Instant};

/// The time domain a timer counts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TimeDomain {
    /// Fires when the input watermark passes the timer's time.
    EventTime,
    /// Fires when the processing-time clock reaches the timer's time.
    ProcessingTime,
}

impl fmt::Display for TimeDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeDomain::EventTime => "event time",
            TimeDomain::ProcessingTime => "processing time",
        })
    }
}

/// Marker for event-time timers: `TimerSpec<EventTime>`.
#[derive(Clone, Copy, Debug, Default)]
pub struct EventTime;

/// Marker for processing-time timers: `TimerSpec<ProcessingTime>`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessingTime;

/// A time-domain marker type: [`EventTime`] or [`ProcessingTime`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a time domain",
    label = "expected `EventTime` or `ProcessingTime`",
    note = "timers are declared as `TimerSpec<EventTime>` or `TimerSpec<ProcessingTime>`"
)]
pub trait Domain: Send + 'static {
    /// The domain this marker stands for.
    const DOMAIN: TimeDomain;
}

impl Domain for EventTime {
    const DOMAIN: TimeDomain = TimeDomain::EventTime;
}

impl Domain for ProcessingTime {
    const DOMAIN: TimeDomain = TimeDomain::ProcessingTime;
}

/// The declaration of a timer in domain `D`: the type of a `#[timer_id("..")]` field. It holds no data.
pub struct TimerSpec<D>(PhantomData<fn() -> D>);

/// The declaration of a family of timers in domain `D`, told apart by string tags chosen at run time: the type
/// of a `#[timer_family_id("..")]` field. It holds no data.
pub struct TimerFamilySpec<D>(PhantomData<fn() -> D>);

macro_rules! spec_impls {
    ($name:ident) => {
        impl<D: Domain> $name<D> {
            /// The declaration (it carries no data).
            pub const fn new() -> Self {
                $name(PhantomData)
            }
        }
        // `Default` and `Clone` are unbounded, so that a user's derive does not repeat `#[dofn]`'s error for a
        // spec of a non-domain.
        impl<D> Default for $name<D> {
            fn default() -> Self {
                $name(PhantomData)
            }
        }
        impl<D> Clone for $name<D> {
            fn clone(&self) -> Self {
                *self
            }
        }
        impl<D> Copy for $name<D> {}
        impl<D: Domain> fmt::Debug for $name<D> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), D::DOMAIN)
            }
        }
    };
}
spec_impls!(TimerSpec);
spec_impls!(TimerFamilySpec);

/// One declared timer or timer family, as the runner sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerInfo {
    /// The id given in `#[timer_id("..")]` or `#[timer_family_id("..")]`.
    pub id: &'static str,
    /// Its time domain.
    pub domain: TimeDomain,
}

/// The stored state of one timer of one key and window.
#[doc(hidden)]
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TimerSlot {
    /// When it fires, if set.
    pub(crate) firing: Option<Instant>,
    /// Its output timestamp (watermark hold), if it has one.
    pub(crate) output: Option<Instant>,
    /// Set or cleared since the runner last looked.
    #[serde(skip)]
    pub(crate) dirty: bool,
    /// The earliest queue entry the runner holds for this slot: (time, token).
    #[serde(skip)]
    pub(crate) queued: Queued,
    /// The earliest hold entry the runner holds for this slot: (time, token).
    #[serde(skip)]
    pub(crate) hold_queued: Queued,
    /// The first invalid request made through a handle, reported by the runner after the callback.
    #[serde(skip)]
    pub(crate) error: Option<Box<TimerError>>,
}

impl TimerSlot {
    /// When the timer fires, if it is set.
    pub fn firing(&self) -> Option<Instant> {
        self.firing
    }

    /// Neither set nor holding, with nothing for the runner to look at: the runner's queue entries for it,
    /// if any, are stale (they no longer match `queued`/`hold_queued` once the slot is reset).
    fn is_free(&self) -> bool {
        self.firing.is_none() && self.output.is_none() && !self.dirty && self.error.is_none()
    }
}

/// The runner's queue entry for a slot: its time and sequence number, or nothing (sequence number 0, which the
/// runner never hands out). Half the size of an `Option<(Instant, u64)>`.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Queued {
    time: Instant,
    seq: u64,
}

impl Queued {
    /// Nothing queued.
    pub(crate) const NONE: Queued = Queued { time: Instant::MIN, seq: 0 };

    /// An entry at `time` with sequence number `seq` (never 0).
    #[inline]
    pub(crate) fn at(time: Instant, seq: u64) -> Queued {
        debug_assert!(seq != 0, "sequence number 0 means nothing queued");
        Queued { time, seq }
    }

    /// The queued entry, if there is one.
    #[inline]
    pub(crate) fn get(self) -> Option<(Instant, u64)> {
        (self.seq != 0).then_some((self.time, self.seq))
    }
}

/// The timers of one family for one key and window, by tag.
#[doc(hidden)]
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TimerFamily {
    pub(crate) slots: Vec<(Box<str>, TimerSlot)>,
    #[serde(skip)]
    pub(crate) dirty: bool,
    /// The slot whose callback is running: free while it runs (its timer was taken to fire it), but its tag
    /// is the callback's, so it is not given to another tag.
    #[serde(skip)]
    pub(crate) firing_now: Option<u32>,
}

impl TimerFamily {
    /// The slot of `tag`: its own, else a free one (a timer fired or cleared), else a new one, so that a
    /// family holds as many slots as tags in use at once, not one per tag ever used.
    pub(crate) fn slot_index(&mut self, tag: &str) -> usize {
        if let Some(i) = self.slots.iter().position(|(t, _)| &**t == tag) {
            return i;
        }
        let firing_now = self.firing_now.map(|i| i as usize);
        match (0..self.slots.len()).find(|&i| Some(i) != firing_now && self.slots[i].1.is_free()) {
            Some(i) => {
                self.slots[i] = (tag.into(), TimerSlot::default());
                i
            }
            None => {
                self.slots.push((tag.into(), TimerSlot::default()));
                self.slots.len() - 1
            }
        }
    }
}

/// All the timers of one DoFn for one key and window: `N` timers and `F` timer families, in declaration order.
#[doc(hidden)]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TimerTable<const N: usize, const F: usize> {
    #[serde(with = "serde_array")]
    pub timers: [TimerSlot; N],
    #[serde(with = "serde_array")]
    pub families: [TimerFamily; F],
}

impl<const N: usize, const F: usize> Default for TimerTable<N, F> {
    fn default() -> Self {
        TimerTable {
            timers: std::array::from_fn(|_| TimerSlot::default()),
            families: std::array::from_fn(|_| TimerFamily::default()),
        }
    }
}

/// Serde for fixed-size arrays of any length (serde's own impls stop at 32 and need `Default`).
mod serde_array {
    use serde::de::{Deserialize, Deserializer, Error};
    use serde::ser::{Serialize, Serializer};

    pub(super) fn serialize<S: Serializer, T: Serialize, const N: usize>(a: &[T; N], s: S) -> Result<S::Ok, S::Error> {
        a.as_slice().serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>, const N: usize>(
        d: D,
    ) -> Result<[T; N], D::Error> {
        let v = Vec::<T>::deserialize(d)?;
        let len = v.len();
        v.try_into().map_err(|_| D::Error::custom(format!("expected {N} timers, found {len}")))
    }
}

/// Access to the timers of a record, for the runner.
#[doc(hidden)]
pub trait TimerRecord: Default + Send + 'static {
    /// The plain timers, in declaration order.
    fn timers(&mut self) -> &mut [TimerSlot];
    /// The timer families, in declaration order.
    fn families(&mut self) -> &mut [TimerFamily];
}

impl<const N: usize, const F: usize> TimerRecord for TimerTable<N, F> {
    #[inline]
    fn timers(&mut self) -> &mut [TimerSlot] {
        &mut self.timers
    }
    #[inline]
    fn families(&mut self) -> &mut [TimerFamily] {
        &mut self.families
    }
}

/// What a timer handle needs to know about the call it was handed to: the times and the window.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct TimerEnv {
    /// The event time relative timers count from: the element's timestamp; in a timer callback, an event-time
    /// timer's firing time or a processing-time timer's output timestamp.
    pub(crate) event_time: Instant,
    /// The timestamp of the input being processed (element, or timer output timestamp), for hold checks.
    pub(crate) input_timestamp: Instant,
    /// The processing-time clock.
    pub(crate) processing_time: Instant,
    /// The window's garbage-collection time.
    pub(crate) expiry: Instant,
    /// The DoFn's allowed timestamp skew.
    pub(crate) skew: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OutputChoice {
    Default,
    At(Instant),
    None,
}

/// A handle to one timer of the current key and window, passed to a method as `&mut Timer`.
///
/// The settings made on a handle ([`Timer::offset`], [`Timer::align`], [`Timer::with_output_timestamp`],
/// [`Timer::with_no_output_timestamp`]) stay on it for the rest of the call, as on Beam's `Timer`: a later
/// [`Timer::set`] or [`Timer::set_relative`] through the same handle uses them too (set them again to change
/// them). Each call of a method gets a fresh handle, with none of them.
///
/// ```
/// # use dofn::prelude::*;
/// # fn example(expiry: &mut Timer, stale: &mut Timer, window: Window) {
/// // Fire when the watermark passes the end of the window.
/// expiry.set(window.max_timestamp());
/// // Fire 10 seconds of processing time from now.
/// stale.offset(Duration::from_secs(10)).set_relative();
/// // Or: fire at the next whole second of processing time (now, if now is one).
/// stale.align(Duration::from_secs(1)).set_relative();
/// # }
/// ```
pub struct Timer<'a> {
    slot: &'a mut TimerSlot,
    domain: TimeDomain,
    env: &'a TimerEnv,
    offset: Duration,
    period: Duration,
    output: OutputChoice,
}

impl<'a> Timer<'a> {
    #[doc(hidden)]
    pub fn new(slot: &'a mut TimerSlot, domain: TimeDomain, env: &'a TimerEnv) -> Timer<'a> {
        Timer { slot, domain, env, offset: Duration::ZERO, period: Duration::ZERO, output: OutputChoice::Default }
    }

    /// The timer's time domain.
    pub fn domain(&self) -> TimeDomain {
        self.domain
    }

    /// The current time of this timer's domain. For event time: the element's timestamp in
    /// `#[process_element]`; in a timer callback, the firing time of an event-time timer and the output
    /// timestamp of a processing-time one (as Beam's portable runners count). For processing time: the
    /// processing-time clock.
    pub fn current_relative_time(&self) -> Instant {
        match self.domain {
            TimeDomain::EventTime => self.env.event_time,
            TimeDomain::ProcessingTime => self.env.processing_time,
        }
    }

    /// When the timer will fire, if it is set.
    pub fn pending(&self) -> Option<Instant> {
        self.slot.firing
    }

    /// Sets the timer to fire at `time`, replacing any earlier setting.
    ///
    /// An invalid time (an event-time timer past the window's expiry, or an output timestamp out of bounds)
    /// leaves the timer as it was and fails the run with an [`Error::Timer`](crate::Error::Timer) naming the
    /// key, window, timer and times once this callback returns. Use [`Timer::try_set`] to handle it yourself.
    #[inline]
    pub fn set(&mut self, time: Instant) {
        // The common case, inline: an event-time timer holding the output watermark at its firing time (the
        // default), within the window's lifetime. Every check `Request::check` makes passes.
        if self.domain == TimeDomain::EventTime && self.output == OutputChoice::Default && time <= self.env.expiry {
            store(self.slot, time, Some(time));
        } else {
            // Values, not the handle or the environment: passing their addresses out of line would keep them
            // in memory on every call.
            let (request, expiry) = (self.request(), self.env.expiry);
            set_checked(self.slot, request, expiry, time);
        }
    }

    /// Like [`Timer::set`], but returns the error instead of failing the run.
    pub fn try_set(&mut self, time: Instant) -> Result<(), TimerError> {
        let output = self.request().check(time, self.env.expiry)?;
        store(self.slot, time, output);
        Ok(())
    }

    /// Makes [`Timer::set_relative`] set the timer `offset` after the current time; with [`Timer::align`], the
    /// offset shifts the alignment grid instead (Beam's rule, see [`Timer::set_relative`]).
    pub fn offset(&mut self, offset: Duration) -> &mut Self {
        self.offset = offset;
        self
    }

    /// Makes [`Timer::set_relative`] set the timer at the first instant, at or after the current time, that is
    /// a multiple of `period` (shifted back by the offset, if any: see [`Timer::set_relative`]).
    pub fn align(&mut self, period: Duration) -> &mut Self {
        self.period = period;
        self
    }

    /// Holds the output watermark at `time` until the timer fires; outputs of its callback get this timestamp.
    pub fn with_output_timestamp(&mut self, time: Instant) -> &mut Self {
        self.output = OutputChoice::At(time);
        self
    }

    /// Sets no output watermark hold for this timer.
    pub fn with_no_output_timestamp(&mut self) -> &mut Self {
        self.output = OutputChoice::None;
        self
    }

    /// Sets the timer relative to [`Timer::current_relative_time`], by Beam's rule: with no alignment, at
    /// `now + offset`; with alignment `period`, at `now` if `now + offset` is a multiple of `period`, else at
    /// `now + period - ((now + offset) mod period)`, that is, at the first instant `t >= now` with `t + offset`
    /// a multiple of `period` (the offset does not delay an aligned timer). The remainder takes the sign of
    /// `now + offset`, as in Beam: before the epoch the timer lands one period after that instant (at 0 for
    /// `now` = -1.5 s and a period of 1 s). A period of zero or less aligns nothing. Event-time timers are
    /// capped at the window's expiry.
    ///
    /// ```
    /// # use dofn::prelude::*;
    /// # fn example(t: &mut Timer) {
    /// // At 12.345 s of processing time:
    /// t.offset(Duration::from_secs(10)).set_relative(); // fires at 22.345 s
    /// t.offset(Duration::ZERO).align(Duration::from_secs(1)).set_relative(); // at 13 s
    /// t.offset(Duration::from_millis(300)).align(Duration::from_secs(1)).set_relative(); // at 12.7 s
    /// # }
    /// ```
    pub fn set_relative(&mut self) {
        let now = self.current_relative_time();
        let mut target = if self.period.millis() <= 0 {
            now + self.offset
        } else {
            let since_start = (now + self.offset).millis() % self.period.millis();
            if since_start == 0 { now } else { now + self.period - Duration::from_millis(since_start) }
        };
        if self.domain == TimeDomain::EventTime && target > self.env.expiry {
            target = self.env.expiry;
        }
        self.set(target);
    }

    /// Cancels the timer, if it is set.
    pub fn clear(&mut self) {
        self.slot.firing = None;
        self.slot.output = None;
        self.slot.dirty = true;
    }

    /// What a request made through this handle is checked against.
    #[inline(always)]
    fn request(&self) -> Request {
        Request { domain: self.domain, output: self.output, input: self.env.input_timestamp, skew: self.env.skew }
    }
}

/// What a timer request is checked against, besides its firing time and the window's expiry.
#[derive(Clone, Copy)]
struct Request {
    domain: TimeDomain,
    output: OutputChoice,
    /// The timestamp of the input being processed.
    input: Instant,
    skew: Duration,
}

impl Request {
    /// The output timestamp of a timer set to fire at `firing`, or why that is invalid.
    fn check(self, firing: Instant, expiry: Instant) -> Result<Option<Instant>, TimerError> {
        if self.domain == TimeDomain::EventTime && firing > expiry {
            return Err(TimerError::FiringAfterExpiry { firing, expiry });
        }
        let output = match (self.output, self.domain) {
            (OutputChoice::None, _) => None,
            (OutputChoice::At(t), _) => Some(t),
            (OutputChoice::Default, TimeDomain::EventTime) => Some(firing),
            (OutputChoice::Default, TimeDomain::ProcessingTime) => Some(self.input),
        };
        if let Some(output) = output {
            if self.output != OutputChoice::Default && output < self.input - self.skew {
                return Err(TimerError::OutputBeforeInput { output, input: self.input, skew: self.skew });
            }
            if self.domain == TimeDomain::EventTime && output > firing {
                return Err(TimerError::OutputAfterFiring { output, firing });
            }
            if output > expiry {
                return Err(TimerError::OutputAfterExpiry { output, expiry });
            }
        }
        Ok(output)
    }
}

/// [`Timer::set`] in general: arms `slot` for `firing` if `request` is valid, else records the error.
#[inline(never)]
fn set_checked(slot: &mut TimerSlot, request: Request, expiry: Instant, firing: Instant) {
    match request.check(firing, expiry) {
        Ok(output) => store(slot, firing, output),
        Err(e) => report(slot, e),
    }
}

/// Sets `slot` to fire at `firing`, holding the output watermark at `output`.
#[inline(always)]
fn store(slot: &mut TimerSlot, firing: Instant, output: Option<Instant>) {
    slot.firing = Some(firing);
    slot.output = output;
    slot.dirty = true;
}

/// Records an invalid request for the runner to report once the callback returns.
#[cold]
#[inline(never)]
fn report(slot: &mut TimerSlot, error: TimerError) {
    slot.error.get_or_insert_with(|| Box::new(error));
    slot.dirty = true;
}

/// A handle to a timer family of the current key and window, passed as `&mut TimerMap`: timers told apart by
/// tags chosen at run time.
///
/// ```
/// # use dofn::prelude::*;
/// # fn example(reminders: &mut TimerMap, now: Instant) {
/// reminders.get("alice").set(now + Duration::from_secs(30));
/// reminders.get("bob").set(now + Duration::from_secs(60));
/// reminders.clear("alice");
/// # }
/// ```
pub struct TimerMap<'a> {
    family: &'a mut TimerFamily,
    domain: TimeDomain,
    env: &'a TimerEnv,
}

impl<'a> TimerMap<'a> {
    #[doc(hidden)]
    pub fn new(family: &'a mut TimerFamily, domain: TimeDomain, env: &'a TimerEnv) -> TimerMap<'a> {
        TimerMap { family, domain, env }
    }

    /// The timer with this tag (created unset if new).
    pub fn get(&mut self, tag: &str) -> Timer<'_> {
        let i = self.family.slot_index(tag);
        self.family.dirty = true;
        Timer::new(&mut self.family.slots[i].1, self.domain, self.env)
    }

    /// Cancels the timer with this tag, if it is set.
    pub fn clear(&mut self, tag: &str) {
        if let Some((_, slot)) = self.family.slots.iter_mut().find(|(t, _)| &**t == tag) {
            slot.firing = None;
            slot.output = None;
            slot.dirty = true;
            self.family.dirty = true;
        }
    }

    /// The tags of the timers that are set, with their firing times.
    pub fn pending(&self) -> impl Iterator<Item = (&str, Instant)> {
        self.family.slots.iter().filter_map(|(t, s)| s.firing.map(|f| (&**t, f)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the runner does to a slot whose timer fires: takes the timer (and its hold) off it.
    fn fire(family: &mut TimerFamily, i: usize) {
        let slot = &mut family.slots[i].1;
        slot.firing = None;
        slot.output = None;
        slot.queued = Queued::NONE;
    }

    #[test]
    fn a_family_reuses_the_slots_of_fired_tags_but_not_the_one_firing() {
        let mut family = TimerFamily::default();
        for n in 0..1000 {
            let i = family.slot_index(&n.to_string());
            family.slots[i].1.firing = Some(Instant::from_millis(n));
            fire(&mut family, i);
        }
        assert_eq!(family.slots.len(), 1, "one tag in use at a time needs one slot");

        // Two tags set, one firing: a new tag takes neither.
        let a = family.slot_index("a");
        family.slots[a].1.firing = Some(Instant::from_millis(1));
        let b = family.slot_index("b");
        family.slots[b].1.firing = Some(Instant::from_millis(2));
        fire(&mut family, a);
        family.firing_now = Some(a as u32);
        let c = family.slot_index("c");
        assert!(c != a && c != b, "{c}");
        assert_eq!(&*family.slots[a].0, "a", "the firing slot keeps its tag during its callback");
        // Set or cleared but not yet looked at by the runner: not free either.
        family.firing_now = None;
        family.slots[c].1.dirty = true;
        assert_eq!(family.slot_index("d"), a);
        assert_eq!(family.slots.len(), 3);
    }
}
