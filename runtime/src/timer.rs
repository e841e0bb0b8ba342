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

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::hash::BuildHasher;
use std::marker::PhantomData;

use hashbrown::{DefaultHashBuilder, HashTable};
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
    /// In its family's list of free slots (a family with a [`FamilyIndex`]).
    #[serde(skip)]
    listed: bool,
}

impl TimerSlot {
    /// When the timer fires, if it is set.
    pub fn firing(&self) -> Option<Instant> {
        self.firing
    }

    /// Neither set nor holding, with nothing for the runner to look at: the runner's queue entries for it,
    /// if any, are stale (they no longer match `queued`/`hold_queued` once the slot is reset).
    #[inline]
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
///
/// A slot is *free* when its timer is neither set nor holding and the runner has seen its last change
/// ([`TimerSlot::is_free`]). A free slot keeps its tag until another tag takes it; the runner's queue entries
/// for it are then stale (a slot taken by another tag starts with none). A new tag takes the free slot of
/// lowest index, except the one whose callback is running, else a new slot: a family holds as many slots as
/// tags in use at once, not one per tag ever used.
///
/// Most families hold a handful of tags and find them by scanning their slots. A family of more than [`SCAN`]
/// slots keeps a [`FamilyIndex`] instead, so that a call costs the same however many tags it holds. Both give
/// the same slots to the same calls, and the runner looks at the slots set in a call in slot order either
/// way, so the order of its queue entries does not depend on how a family finds its slots.
#[doc(hidden)]
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(from = "StoredFamily")]
pub struct TimerFamily {
    pub(crate) slots: Vec<(Box<str>, TimerSlot)>,
    /// A slot was handed out or cleared since the runner last looked.
    #[serde(skip)]
    pub(crate) dirty: bool,
    /// The slot whose callback is running ([`NOT_FIRING`] if none): free while it runs (its timer was taken
    /// to fire it), but its tag is the callback's, so it is not given to another tag.
    #[serde(skip)]
    firing_now: u32,
    /// The index of a family of more than [`SCAN`] slots (and of no other).
    #[serde(skip)]
    index: Option<Box<FamilyIndex>>,
}

/// A family as it is stored: its slots (the rest is made again).
#[derive(Deserialize)]
#[serde(rename = "TimerFamily")]
struct StoredFamily {
    slots: Vec<(Box<str>, TimerSlot)>,
}

impl From<StoredFamily> for TimerFamily {
    fn from(stored: StoredFamily) -> TimerFamily {
        let mut family = TimerFamily { slots: stored.slots, ..TimerFamily::default() };
        if family.slots.len() > SCAN {
            family.index = Some(Box::new(FamilyIndex::new(&mut family.slots, NOT_FIRING)));
        }
        family
    }
}

impl Default for TimerFamily {
    fn default() -> Self {
        TimerFamily { slots: Vec::new(), dirty: false, firing_now: NOT_FIRING, index: None }
    }
}

/// `TimerFamily::firing_now` when no callback of the family runs. (Slot indices are below it: the runner's
/// queue entries tell a plain timer by this tag index.)
const NOT_FIRING: u32 = u32::MAX;

/// A family of up to this many slots finds tags and free slots by scanning them (a few comparisons, no
/// hashing), and the runner looks at each of its slots after a call that handed one out.
const SCAN: usize = 16;

/// What a family of many slots keeps so as not to scan them.
#[derive(Clone, Debug, Default)]
struct FamilyIndex {
    /// The slots by tag (slots hold distinct tags).
    tags: HashTable<u32>,
    /// The hasher of `tags`. (Seeded at random: the table is only looked up, never iterated, so its order
    /// changes nothing, and tags chosen to collide cannot be chosen in advance.)
    hasher: DefaultHashBuilder,
    /// Free slots, lowest first, each at most once (those `listed`). A slot handed out again to its own tag
    /// since it was listed stays listed, and is dropped when it comes up if it is not free then. Every free
    /// slot is listed, but for the one whose callback runs (listed once it returns) and the one handed out
    /// last, whose handle may have set nothing (listed by the next call, [`FamilyIndex::settle`]).
    free: BinaryHeap<Reverse<u32>>,
    /// The slots handed out or cleared since the runner last looked, in no order, some maybe twice: all those
    /// set or cleared, and the others that may have become free meanwhile.
    touched: Vec<u32>,
}

impl FamilyIndex {
    /// The index of `slots`, whose slot `firing_now` is firing.
    #[cold]
    fn new(slots: &mut [(Box<str>, TimerSlot)], firing_now: u32) -> FamilyIndex {
        let mut index = FamilyIndex { tags: HashTable::with_capacity(slots.len()), ..FamilyIndex::default() };
        for (i, (tag, _)) in slots.iter().enumerate() {
            let hash = index.hasher.hash_one(&**tag);
            index.tags.insert_unique(hash, i as u32, |&j| index.hasher.hash_one(&*slots[j as usize].0));
        }
        let mut free = Vec::new();
        for (i, (_, slot)) in slots.iter_mut().enumerate() {
            let i = i as u32;
            slot.listed = slot.is_free() && i != firing_now;
            if slot.listed {
                free.push(Reverse(i));
            } else if slot.dirty {
                index.touched.push(i);
            }
        }
        index.free = BinaryHeap::from(free);
        index
    }

    /// The slot holding `tag`, whose hash is `hash`, if any.
    #[inline]
    fn find(&self, slots: &[(Box<str>, TimerSlot)], hash: u64, tag: &str) -> Option<u32> {
        self.tags.find(hash, |&i| &*slots[i as usize].0 == tag).copied()
    }

    /// Lists slot `i` as free if it is (and is not listed yet).
    #[inline]
    fn release(&mut self, slots: &mut [(Box<str>, TimerSlot)], i: u32, firing_now: u32) {
        let slot = &mut slots[i as usize].1;
        if !slot.listed && slot.is_free() && i != firing_now {
            slot.listed = true;
            self.free.push(Reverse(i));
        }
    }

    /// Lists the slot handed out last if it is free: its handle may have set nothing.
    #[inline]
    fn settle(&mut self, slots: &mut [(Box<str>, TimerSlot)], firing_now: u32) {
        if let Some(&last) = self.touched.last() {
            self.release(slots, last, firing_now);
        }
    }

    /// The free slot of lowest index, taken off the list.
    fn take_free(&mut self, slots: &mut [(Box<str>, TimerSlot)], firing_now: u32) -> Option<u32> {
        while let Some(Reverse(i)) = self.free.pop() {
            let slot = &mut slots[i as usize].1;
            slot.listed = false;
            // (Else handed out again since it was listed, or firing: listed again once it is free.)
            if slot.is_free() && i != firing_now {
                return Some(i);
            }
        }
        None
    }
}

impl TimerFamily {
    /// The slot of `tag`, handed out to a handle: its own, else a free one (a timer fired or cleared), else a
    /// new one.
    #[inline]
    pub(crate) fn slot_index(&mut self, tag: &str) -> usize {
        self.dirty = true;
        if self.index.is_none()
            && let Some(i) = self.slot_index_by_scan(tag)
        {
            return i;
        }
        self.slot_index_by_index(tag)
    }

    /// [`TimerFamily::slot_index`] in a family of up to [`SCAN`] slots: `None` if it needs one more.
    #[inline]
    fn slot_index_by_scan(&mut self, tag: &str) -> Option<usize> {
        if let Some(i) = self.slots.iter().position(|(t, _)| &**t == tag) {
            return Some(i);
        }
        // The first free slot but the one firing (two loops: most calls are not in a callback of the family).
        let free = match self.firing_now {
            NOT_FIRING => self.slots.iter().position(|(_, s)| s.is_free()),
            firing_now => (0..self.slots.len()).find(|&i| i != firing_now as usize && self.slots[i].1.is_free()),
        };
        match free {
            Some(i) => {
                self.slots[i] = (tag.into(), TimerSlot::default());
                Some(i)
            }
            None if self.slots.len() < SCAN => {
                self.slots.push((tag.into(), TimerSlot::default()));
                Some(self.slots.len() - 1)
            }
            // One slot more than a scan is for: from now on, the index finds them.
            None => None,
        }
    }

    /// [`TimerFamily::slot_index`] in a family of more than [`SCAN`] slots (or about to have more).
    #[inline(never)]
    fn slot_index_by_index(&mut self, tag: &str) -> usize {
        let firing_now = self.firing_now;
        let slots = &mut self.slots;
        let index = self.index.get_or_insert_with(|| Box::new(FamilyIndex::new(slots, firing_now)));
        index.settle(slots, firing_now);
        let hash = index.hasher.hash_one(tag);
        let i = match index.find(slots, hash, tag) {
            Some(i) => i,
            None => {
                let i = match index.take_free(slots, firing_now) {
                    Some(i) => {
                        let old = index.hasher.hash_one(&*slots[i as usize].0);
                        if let Ok(entry) = index.tags.find_entry(old, |&j| j == i) {
                            entry.remove();
                        }
                        slots[i as usize] = (tag.into(), TimerSlot::default());
                        i
                    }
                    None => {
                        slots.push((tag.into(), TimerSlot::default()));
                        (slots.len() - 1) as u32
                    }
                };
                index.tags.insert_unique(hash, i, |&j| index.hasher.hash_one(&*slots[j as usize].0));
                i
            }
        };
        index.touched.push(i);
        i as usize
    }

    /// Cancels the timer of `tag`, if the family has that tag.
    pub(crate) fn clear(&mut self, tag: &str) {
        let found = match &mut self.index {
            None => self.slots.iter().position(|(t, _)| &**t == tag),
            Some(index) => {
                let found = index.find(&self.slots, index.hasher.hash_one(tag), tag);
                if let Some(i) = found {
                    index.settle(&mut self.slots, self.firing_now);
                    index.touched.push(i);
                }
                found.map(|i| i as usize)
            }
        };
        if let Some(i) = found {
            let slot = &mut self.slots[i].1;
            slot.firing = None;
            slot.output = None;
            slot.dirty = true;
            self.dirty = true;
        }
    }

    /// Whether the family keeps an index (it has more than [`SCAN`] slots). The runner looks at the slots
    /// of such a family with [`TimerFamily::sync_touched`], at every slot of another.
    #[inline(always)]
    pub(crate) fn is_indexed(&self) -> bool {
        self.index.is_some()
    }

    /// For the runner, in a family with an index: calls `sync` on every slot set or cleared since it last
    /// looked (in slot order, with the slot's index), lists those left free, and clears the family's flag;
    /// whether any call returned true.
    pub(crate) fn sync_touched(&mut self, mut sync: impl FnMut(&mut TimerSlot, u32) -> bool) -> bool {
        self.dirty = false;
        let Some(index) = &mut self.index else { return false };
        let mut touched = std::mem::take(&mut index.touched);
        if touched.len() > 1 {
            touched.sort_unstable();
            touched.dedup();
        }
        let mut any = false;
        for &i in &touched {
            let slot = &mut self.slots[i as usize].1;
            if slot.dirty {
                any |= sync(slot, i);
            }
            index.release(&mut self.slots, i, self.firing_now);
        }
        touched.clear();
        index.touched = touched;
        any
    }

    /// For the runner: the callback of slot `i` runs.
    #[inline(always)]
    pub(crate) fn begin_firing(&mut self, i: u32) {
        self.firing_now = i;
    }

    /// For the runner: the callback of the slot firing has returned.
    #[inline(always)]
    pub(crate) fn end_firing(&mut self) {
        if self.index.is_some() {
            self.end_firing_indexed();
        } else {
            self.firing_now = NOT_FIRING;
        }
    }

    /// [`TimerFamily::end_firing`] in a family with an index.
    #[inline(never)]
    fn end_firing_indexed(&mut self) {
        let i = std::mem::replace(&mut self.firing_now, NOT_FIRING);
        if let Some(index) = &mut self.index {
            // Free now, unless its callback set it again (then the runner looks at it next).
            index.release(&mut self.slots, i, NOT_FIRING);
        }
    }

    /// For the runner: slot `i` may have become free (its error was taken).
    pub(crate) fn release(&mut self, i: usize) {
        if let Some(index) = &mut self.index {
            index.release(&mut self.slots, i as u32, self.firing_now);
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
        Timer::new(&mut self.family.slots[i].1, self.domain, self.env)
    }

    /// Cancels the timer with this tag, if it is set.
    pub fn clear(&mut self, tag: &str) {
        self.family.clear(tag);
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
        family.begin_firing(a as u32);
        let c = family.slot_index("c");
        assert!(c != a && c != b, "{c}");
        assert_eq!(&*family.slots[a].0, "a", "the firing slot keeps its tag during its callback");
        // Set or cleared but not yet looked at by the runner: not free either.
        family.end_firing();
        family.slots[c].1.dirty = true;
        assert_eq!(family.slot_index("d"), a);
        assert_eq!(family.slots.len(), 3);
    }

    /// The environment of the handles the tests use: a window expiring at 1,000,000 ms.
    const ENV: TimerEnv = TimerEnv {
        event_time: Instant::EPOCH,
        input_timestamp: Instant::EPOCH,
        processing_time: Instant::EPOCH,
        expiry: Instant::from_millis(1_000_000),
        skew: Duration::ZERO,
    };

    /// A slot of [`Model`].
    #[derive(Clone, Debug, Default)]
    struct ModelSlot {
        firing: Option<i64>,
        dirty: bool,
        error: bool,
    }

    /// A family as it was before families of many slots kept an index: every call scans the slots.
    #[derive(Clone, Debug, Default)]
    struct Model {
        slots: Vec<(String, ModelSlot)>,
        firing_now: Option<usize>,
    }

    impl Model {
        fn is_free(&self, i: usize) -> bool {
            let s = &self.slots[i].1;
            s.firing.is_none() && !s.dirty && !s.error
        }

        fn slot_index(&mut self, tag: &str) -> usize {
            if let Some(i) = self.slots.iter().position(|(t, _)| t == tag) {
                return i;
            }
            match (0..self.slots.len()).find(|&i| Some(i) != self.firing_now && self.is_free(i)) {
                Some(i) => {
                    self.slots[i] = (tag.to_string(), ModelSlot::default());
                    i
                }
                None => {
                    self.slots.push((tag.to_string(), ModelSlot::default()));
                    self.slots.len() - 1
                }
            }
        }

        fn clear(&mut self, tag: &str) {
            if let Some(i) = self.slots.iter().position(|(t, _)| t == tag) {
                self.slots[i].1 = ModelSlot { firing: None, dirty: true, error: self.slots[i].1.error };
            }
        }

        /// What the runner looks at after a call: the slots set or cleared, in order.
        fn sync(&mut self) -> Vec<u32> {
            let mut synced = Vec::new();
            for (i, (_, slot)) in self.slots.iter_mut().enumerate() {
                if std::mem::take(&mut slot.dirty) {
                    synced.push(i as u32);
                }
            }
            for (_, slot) in &mut self.slots {
                slot.error = false;
            }
            synced
        }
    }

    /// What the runner does after a call: looks at the slots set or cleared, in the order it queues them, and
    /// takes their errors.
    fn sync(family: &mut TimerFamily) -> Vec<u32> {
        let mut synced = Vec::new();
        if family.dirty {
            if family.is_indexed() {
                family.sync_touched(|slot, i| {
                    slot.dirty = false;
                    synced.push(i);
                    slot.error.is_some()
                });
            } else {
                family.dirty = false;
                for (i, (_, slot)) in family.slots.iter_mut().enumerate() {
                    if std::mem::take(&mut slot.dirty) {
                        synced.push(i as u32);
                    }
                }
            }
        }
        for i in 0..family.slots.len() {
            if family.slots[i].1.error.take().is_some() {
                family.release(i);
            }
        }
        synced
    }

    /// Checks that `family` agrees with `model` slot for slot and that its index, if any, is whole.
    fn check(family: &TimerFamily, model: &Model, between_calls: bool) {
        let tags: Vec<&str> = family.slots.iter().map(|(t, _)| &**t).collect();
        let expected: Vec<&str> = model.slots.iter().map(|(t, _)| &**t).collect();
        assert_eq!(tags, expected);
        for ((_, slot), (_, m)) in family.slots.iter().zip(&model.slots) {
            assert_eq!(slot.firing.map(Instant::millis), m.firing);
        }
        assert_eq!(family.is_indexed(), family.slots.len() > SCAN);
        let Some(index) = &family.index else { return };
        assert_eq!(index.tags.len(), family.slots.len());
        for (i, (tag, _)) in family.slots.iter().enumerate() {
            assert_eq!(index.find(&family.slots, index.hasher.hash_one(&**tag), tag), Some(i as u32), "{tag}");
        }
        let mut listed: Vec<u32> = index.free.iter().map(|r| r.0).collect();
        listed.sort_unstable();
        let flagged: Vec<u32> = (0..family.slots.len() as u32).filter(|&i| family.slots[i as usize].1.listed).collect();
        assert_eq!(listed, flagged, "each listed slot once");
        if between_calls {
            for i in 0..family.slots.len() {
                if family.slots[i].1.is_free() && i as u32 != family.firing_now {
                    assert!(family.slots[i].1.listed, "free slot {i} not listed");
                }
            }
        }
    }

    /// A pseudo-random number below `n` (SplitMix64).
    fn below(state: &mut u64, n: u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n
    }

    /// One random request through a handle to `family`, and the same on `model`; checks that the family put
    /// the tag in the slot the model did.
    fn request(family: &mut TimerFamily, model: &mut Model, rng: &mut u64, tags: u64) {
        let tag = format!("t{}", below(rng, tags));
        let mut map = TimerMap::new(family, TimeDomain::EventTime, &ENV);
        let slot = match below(rng, 10) {
            // Set (the most common).
            0..=5 => {
                let t = below(rng, 100_000) as i64;
                map.get(&tag).set(Instant::from_millis(t));
                let i = model.slot_index(&tag);
                model.slots[i].1.firing = Some(t);
                model.slots[i].1.dirty = true;
                Some(i)
            }
            // Cleared by the map, or through a handle.
            6 => {
                map.clear(&tag);
                model.clear(&tag);
                None
            }
            7 => {
                map.get(&tag).clear();
                let i = model.slot_index(&tag);
                model.slots[i].1.firing = None;
                model.slots[i].1.dirty = true;
                Some(i)
            }
            // Looked at, not set.
            8 => {
                let pending = map.get(&tag).pending();
                let i = model.slot_index(&tag);
                assert_eq!(pending.map(Instant::millis), model.slots[i].1.firing);
                Some(i)
            }
            // Set past the window's expiry: an error, the timer stays as it was.
            _ => {
                map.get(&tag).set(Instant::from_millis(2_000_000));
                let i = model.slot_index(&tag);
                model.slots[i].1.error = true;
                model.slots[i].1.dirty = true;
                Some(i)
            }
        };
        assert_eq!(family.slots.len(), model.slots.len());
        if let Some(i) = slot {
            assert_eq!(&*family.slots[i].0, tag);
        }
    }

    /// Runs `calls` random calls on a family and on the model, with up to `tags` tags: elements making a few
    /// requests, timers firing and making a few more in their callback; serialises the family now and then.
    fn run_against_model(seed: u64, tags: u64, calls: usize) -> TimerFamily {
        let mut rng = seed;
        let mut family = TimerFamily::default();
        let mut model = Model::default();
        for call in 0..calls {
            let set: Vec<usize> = (0..model.slots.len()).filter(|&i| model.slots[i].1.firing.is_some()).collect();
            let firing =
                (!set.is_empty() && below(&mut rng, 3) == 0).then(|| set[below(&mut rng, set.len() as u64) as usize]);
            if let Some(i) = firing {
                model.slots[i].1.firing = None;
                model.firing_now = Some(i);
                fire(&mut family, i);
                family.begin_firing(i as u32);
            }
            // (Every slot looked at, in every call of a small family; now and then in a large one.)
            let thorough = model.slots.len() <= 64 || call % 64 == 0;
            for _ in 0..below(&mut rng, 4) {
                request(&mut family, &mut model, &mut rng, tags);
                if thorough {
                    check(&family, &model, false);
                }
            }
            if firing.is_some() {
                model.firing_now = None;
                family.end_firing();
            }
            assert_eq!(sync(&mut family), model.sync(), "call {call}");
            if thorough {
                check(&family, &model, true);
            }
            if call % 1000 == 999 {
                family = serde_json::from_str(&serde_json::to_string(&family).unwrap()).unwrap();
                check(&family, &model, true);
            }
        }
        family
    }

    #[test]
    fn a_family_of_many_tags_gives_the_same_slots_as_one_scanning_them() {
        for seed in 0..4 {
            // Few tags (around the size where the index starts), some, many.
            run_against_model(seed, 20, 3_000);
            run_against_model(seed, 200, 3_000);
        }
        let family = run_against_model(7, 2_000, 6_000);
        assert!(family.slots.len() > 500, "{}", family.slots.len());
    }

    #[test]
    fn a_family_of_many_tags_reuses_fired_and_cleared_slots_but_not_the_one_firing() {
        let ms = Instant::from_millis;
        let mut family = TimerFamily::default();
        let mut map = TimerMap::new(&mut family, TimeDomain::EventTime, &ENV);
        for n in 0..20 {
            map.get(&format!("t{n}")).set(ms(n));
        }
        assert_eq!(sync(&mut family), (0..20).collect::<Vec<u32>>());
        assert!(family.is_indexed());

        // t7 fires: in its callback, a new tag does not take its slot, and t7 set again keeps it.
        fire(&mut family, 7);
        family.begin_firing(7);
        let mut map = TimerMap::new(&mut family, TimeDomain::EventTime, &ENV);
        map.get("new").set(ms(100));
        map.get("t7").set(ms(107));
        family.end_firing();
        assert_eq!(sync(&mut family), [7, 20], "the runner looks at the slots set, in slot order");
        assert_eq!((&*family.slots[7].0, &*family.slots[20].0), ("t7", "new"));

        // t3 fires and is not set again, t5 is cleared: new tags take their slots, lowest first, then a new one.
        fire(&mut family, 3);
        family.begin_firing(3);
        family.end_firing();
        TimerMap::new(&mut family, TimeDomain::EventTime, &ENV).clear("t5");
        assert_eq!(sync(&mut family), [5]);
        let mut map = TimerMap::new(&mut family, TimeDomain::EventTime, &ENV);
        for tag in ["c", "b", "a"] {
            map.get(tag).set(ms(200));
        }
        assert_eq!(sync(&mut family), [3, 5, 21]);
        let tags: Vec<&str> = [3, 5, 21].iter().map(|&i| &*family.slots[i].0).collect();
        assert_eq!(tags, ["c", "b", "a"]);
        assert_eq!(family.slots[21].1.firing, Some(ms(200)));
    }

    #[test]
    fn a_family_costs_40_bytes_of_a_record_however_many_tags_it_holds() {
        assert!(std::mem::size_of::<TimerFamily>() <= 40, "{}", std::mem::size_of::<TimerFamily>());
    }

    #[test]
    fn a_family_read_back_keeps_its_timers_and_finds_its_tags() {
        let mut family = TimerFamily::default();
        let mut map = TimerMap::new(&mut family, TimeDomain::EventTime, &ENV);
        for n in 0..10_000 {
            map.get(&format!("t{n}")).set(Instant::from_millis(n));
        }
        for n in (0..10_000).step_by(2) {
            map.clear(&format!("t{n}"));
        }
        sync(&mut family);
        let json = serde_json::to_string(&family).unwrap();
        let mut back: TimerFamily = serde_json::from_str(&json).unwrap();
        assert!(back.is_indexed());
        assert_eq!(back.slots.len(), 10_000);
        let mut map = TimerMap::new(&mut back, TimeDomain::EventTime, &ENV);
        assert_eq!(map.get("t9999").pending(), Some(Instant::from_millis(9_999)));
        assert_eq!(map.get("t9998").pending(), None);
        // New tags take the cleared tags' slots, lowest first, and the family does not grow.
        map.get("new").set(Instant::from_millis(5));
        map.get("newer").set(Instant::from_millis(6));
        assert_eq!(sync(&mut back), [0, 2]);
        assert_eq!((&*back.slots[0].0, &*back.slots[2].0), ("new", "newer"));
        assert_eq!(back.slots.len(), 10_000);
    }
}
