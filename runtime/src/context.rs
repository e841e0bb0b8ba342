//! What a DoFn method sees: its contexts (for output) and the parameters recognised by type.
//!
//! | parameter type | in | gives |
//! |---|---|---|
//! | `&mut ProcessContext<I, O>` | `#[process_element]` | the element, its key, timestamp and window; output |
//! | `&mut TimerContext<O>` | `#[on_timer]`, `#[on_timer_family]` | the timer's times, window, tag; output |
//! | `&mut ExpirationContext<O>` | `#[on_window_expiration]` | the window; output |
//! | `&mut BundleContext<O>` | `#[finish_bundle]` | output with an explicit timestamp and window |
//! | [`Element<&I>`] | `#[process_element]` | the element |
//! | [`Key<&K>`] | every keyed method | the key |
//! | [`Timestamp`] | `#[process_element]`, timer callbacks | the element's timestamp, or the timer's output timestamp |
//! | [`Window`] or `&Window` | every per-window method | the window |
//! | [`TimerTag`] | `#[on_timer_family]` | the tag of the firing timer |

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use crate::time::{Duration, Instant};
use crate::timer::TimeDomain;
use crate::window::Window;

/// A value with its event timestamp and window: what flows between DoFns and what a run returns.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WindowedValue<T> {
    /// The event timestamp.
    pub timestamp: Instant,
    /// The window the value belongs to.
    pub window: Window,
    /// The value.
    pub value: T,
}

impl<T> WindowedValue<T> {
    /// A value at `timestamp` in `window`.
    pub fn new(value: T, timestamp: Instant, window: Window) -> Self {
        WindowedValue { timestamp, window, value }
    }
}

impl<T: fmt::Debug> fmt::Debug for WindowedValue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} @ {} in {}", self.value, self.timestamp, self.window)
    }
}

/// A value with its event timestamp, not yet windowed: what a source produces.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TimestampedValue<T> {
    /// The event timestamp.
    pub timestamp: Instant,
    /// The value.
    pub value: T,
}

impl<T> TimestampedValue<T> {
    /// A value at `timestamp`.
    pub fn new(value: T, timestamp: Instant) -> Self {
        TimestampedValue { timestamp, value }
    }
}

/// The identity of a tagged (additional) output carrying values of type `T`.
///
/// ```
/// use dofn::OutputTag;
/// const INVALID: OutputTag<String> = OutputTag::new("invalid");
/// assert_eq!(INVALID.id(), "invalid");
/// ```
pub struct OutputTag<T> {
    id: &'static str,
    _type: PhantomData<fn(T) -> T>,
}

impl<T> OutputTag<T> {
    /// A tag with this id. Two tags with the same id must carry the same type.
    pub const fn new(id: &'static str) -> Self {
        OutputTag { id, _type: PhantomData }
    }

    /// The tag's id.
    pub const fn id(&self) -> &'static str {
        self.id
    }
}

impl<T> Clone for OutputTag<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for OutputTag<T> {}
impl<T> fmt::Debug for OutputTag<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OutputTag({:?})", self.id)
    }
}

/// A type-erased `Vec<WindowedValue<T>>` of one tagged output.
trait AnyValues: Send {
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
    fn append_from(&mut self, other: Box<dyn AnyValues>);
    fn len(&self) -> usize;
}

impl<T: Send + 'static> AnyValues for Vec<WindowedValue<T>> {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
    fn append_from(&mut self, other: Box<dyn AnyValues>) {
        if let Ok(mut other) = other.into_any().downcast::<Vec<WindowedValue<T>>>() {
            self.append(&mut other);
        }
    }
    fn len(&self) -> usize {
        Vec::len(self)
    }
}

/// The tagged outputs of a run (or of one step, handed to
/// [`Pipeline::run_with_tagged`](crate::Pipeline::run_with_tagged)'s callback), by tag id and value type.
///
/// On one worker a tag's values are in output order. On several, as the main outputs: step by step, and
/// within a step worker by worker, so each key's values are in order, the same on every run with the same
/// number of workers; sort them (by key, window and timestamp, say) for a view that does not depend on it.
///
/// Tags are kept in the order of their ids (then of their value types), so [`TaggedOutputs::counts`] and the
/// `Debug` form list them the same way on every run.
#[derive(Default)]
pub struct TaggedOutputs {
    by_tag: BTreeMap<(&'static str, TypeId), Box<dyn AnyValues>>,
}

impl TaggedOutputs {
    fn vec_mut<T: Send + 'static>(&mut self, tag: &OutputTag<T>) -> &mut Vec<WindowedValue<T>> {
        let slot =
            self.by_tag.entry((tag.id, TypeId::of::<T>())).or_insert_with(|| Box::new(Vec::<WindowedValue<T>>::new()));
        slot.as_any_mut().downcast_mut::<Vec<WindowedValue<T>>>().expect("bucket keyed by its TypeId")
    }

    /// The values output to `tag`, in output order (on several workers, see [`TaggedOutputs`]).
    pub fn get<T: Send + 'static>(&self, tag: &OutputTag<T>) -> &[WindowedValue<T>] {
        self.by_tag
            .get(&(tag.id, TypeId::of::<T>()))
            .and_then(|b| b.as_any().downcast_ref::<Vec<WindowedValue<T>>>())
            .map_or(&[], |v| v.as_slice())
    }

    /// Takes the values output to `tag`, leaving none.
    pub fn take<T: Send + 'static>(&mut self, tag: &OutputTag<T>) -> Vec<WindowedValue<T>> {
        self.by_tag
            .get_mut(&(tag.id, TypeId::of::<T>()))
            .and_then(|b| b.as_any_mut().downcast_mut::<Vec<WindowedValue<T>>>())
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// The ids of the tags that hold values (received output, not all taken), with how many values each, in
    /// the order of their ids.
    pub fn counts(&self) -> impl Iterator<Item = (&'static str, usize)> + '_ {
        self.by_tag.iter().map(|((id, _), v)| (*id, v.len())).filter(|&(_, n)| n > 0)
    }

    /// Whether no tagged output was made.
    pub fn is_empty(&self) -> bool {
        self.by_tag.values().all(|v| v.len() == 0)
    }

    /// Moves every tagged value of `other` to the end of `self`.
    pub(crate) fn append(&mut self, other: TaggedOutputs) {
        for (key, values) in other.by_tag {
            match self.by_tag.get_mut(&key) {
                Some(mine) => mine.append_from(values),
                None => {
                    self.by_tag.insert(key, values);
                }
            }
        }
    }
}

impl fmt::Debug for TaggedOutputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.counts()).finish()
    }
}

/// Where a method's outputs go, and the first output error it made.
#[doc(hidden)]
pub struct Outputs<O> {
    pub(crate) main: Vec<WindowedValue<O>>,
    pub(crate) tagged: TaggedOutputs,
    pub(crate) error: Option<OutputError>,
}

impl<O> Default for Outputs<O> {
    fn default() -> Self {
        Outputs { main: Vec::new(), tagged: TaggedOutputs::default(), error: None }
    }
}

/// An output whose timestamp broke the allowed-skew rule.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct OutputError {
    pub(crate) output: Instant,
    pub(crate) input: Instant,
    pub(crate) skew: Duration,
}

/// The shared part of every context: where outputs go, their default timestamp and window.
struct Emit<'a, O> {
    out: &'a mut Outputs<O>,
    timestamp: Instant,
    window: Window,
    expiry: Instant,
    skew: Duration,
}

impl<O> Emit<'_, O> {
    #[inline]
    fn output(&mut self, value: O) {
        self.out.main.push(WindowedValue { timestamp: self.timestamp, window: self.window, value });
    }

    fn check(&mut self, timestamp: Instant) -> bool {
        if timestamp < self.timestamp - self.skew {
            self.out.error.get_or_insert(OutputError { output: timestamp, input: self.timestamp, skew: self.skew });
            false
        } else {
            true
        }
    }

    fn output_with_timestamp(&mut self, value: O, timestamp: Instant) {
        if self.check(timestamp) {
            self.out.main.push(WindowedValue { timestamp, window: self.window, value });
        }
    }

    fn output_to<T: Send + 'static>(&mut self, tag: &OutputTag<T>, value: T, timestamp: Instant) {
        if self.check(timestamp) {
            let window = self.window;
            self.out.tagged.vec_mut(tag).push(WindowedValue { timestamp, window, value });
        }
    }
}

macro_rules! output_methods {
    () => {
        /// Outputs `value` to the main output, with the default timestamp and the current window.
        #[inline]
        pub fn output(&mut self, value: O) {
            self.emit.output(value)
        }

        /// Outputs `value` with an explicit timestamp. A timestamp earlier than the default minus the DoFn's
        /// allowed skew (zero unless an `#[allowed_timestamp_skew]` method says otherwise) fails the run with [`Error::OutputTimestamp`](crate::Error::OutputTimestamp) (the
        /// value is not output).
        pub fn output_with_timestamp(&mut self, value: O, timestamp: Instant) {
            self.emit.output_with_timestamp(value, timestamp)
        }

        /// Outputs `value` to the tagged output `tag`, with the default timestamp.
        pub fn output_to<T: Send + 'static>(&mut self, tag: &OutputTag<T>, value: T) {
            let ts = self.emit.timestamp;
            self.emit.output_to(tag, value, ts)
        }

        /// Outputs `value` to the tagged output `tag` with an explicit timestamp (same rule as
        /// `output_with_timestamp`).
        pub fn output_to_with_timestamp<T: Send + 'static>(
            &mut self,
            tag: &OutputTag<T>,
            value: T,
            timestamp: Instant,
        ) {
            self.emit.output_to(tag, value, timestamp)
        }

        /// The window of this call.
        #[inline]
        pub fn window(&self) -> Window {
            self.emit.window
        }

        /// When the window expires and its state is cleared: its max timestamp plus the allowed lateness
        /// (Beam's garbage-collection time). The latest time an event-time timer of this window may be set to.
        #[inline]
        pub fn window_expiry(&self) -> Instant {
            self.emit.expiry
        }
    };
}

/// The context of `#[process_element]`: the element and its metadata, and the outputs.
///
/// `I` is the DoFn's input (a `(key, value)` pair for a stateful DoFn), `O` its main output.
pub struct ProcessContext<'a, I, O> {
    element: &'a I,
    processing_time: Instant,
    emit: Emit<'a, O>,
}

impl<'a, I, O> ProcessContext<'a, I, O> {
    #[doc(hidden)]
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        element: &'a I,
        timestamp: Instant,
        window: Window,
        expiry: Instant,
        processing_time: Instant,
        skew: Duration,
        out: &'a mut Outputs<O>,
    ) -> Self {
        ProcessContext { element, processing_time, emit: Emit { out, timestamp, window, expiry, skew } }
    }

    /// The element being processed.
    #[inline]
    pub fn element(&self) -> &'a I {
        self.element
    }

    /// The element's event timestamp (also the default timestamp of outputs).
    #[inline]
    pub fn timestamp(&self) -> Instant {
        self.emit.timestamp
    }

    /// The processing-time clock.
    pub fn processing_time(&self) -> Instant {
        self.processing_time
    }

    output_methods!();
}

impl<'a, K, V, O> ProcessContext<'a, (K, V), O> {
    /// The element's key.
    #[inline]
    pub fn key(&self) -> &'a K {
        &self.element.0
    }

    /// The element's value.
    #[inline]
    pub fn value(&self) -> &'a V {
        &self.element.1
    }
}

/// The context of a timer callback: the timer's times, window and tag, and the outputs. Outputs default to
/// the timer's output timestamp.
pub struct TimerContext<'a, O> {
    timer_id: &'static str,
    tag: &'a str,
    domain: TimeDomain,
    firing: Instant,
    processing_time: Instant,
    emit: Emit<'a, O>,
}

impl<'a, O> TimerContext<'a, O> {
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        timer_id: &'static str,
        tag: &'a str,
        domain: TimeDomain,
        firing: Instant,
        output_timestamp: Instant,
        window: Window,
        expiry: Instant,
        processing_time: Instant,
        skew: Duration,
        out: &'a mut Outputs<O>,
    ) -> Self {
        TimerContext {
            timer_id,
            tag,
            domain,
            firing,
            processing_time,
            emit: Emit { out, timestamp: output_timestamp, window, expiry, skew },
        }
    }

    /// The id of the firing timer (or timer family).
    pub fn timer_id(&self) -> &'static str {
        self.timer_id
    }

    /// The tag of the firing timer, for a timer family (empty for a plain timer).
    pub fn tag(&self) -> &'a str {
        self.tag
    }

    /// The firing timer's time domain.
    pub fn time_domain(&self) -> TimeDomain {
        self.domain
    }

    /// The time the timer was set for: an event time or a processing time, by the timer's domain (Beam's
    /// `fireTimestamp()`).
    pub fn firing_timestamp(&self) -> Instant {
        self.firing
    }

    /// The timer's output timestamp, an event time: the default timestamp of outputs (Beam's `timestamp()`).
    /// Without `with_output_timestamp`, an event-time timer's is its firing time, a processing-time timer's
    /// the timestamp of the element (or the output timestamp of the timer) whose callback set it. With
    /// `with_no_output_timestamp` (no hold), an event-time timer's is its firing time, a processing-time
    /// timer's the input watermark when it fires (within its window).
    pub fn timestamp(&self) -> Instant {
        self.emit.timestamp
    }

    /// The processing-time clock.
    pub fn processing_time(&self) -> Instant {
        self.processing_time
    }

    output_methods!();
}

/// The context of `#[on_window_expiration]`: the expiring window, and the outputs (timestamped at the
/// window's max timestamp).
pub struct ExpirationContext<'a, O> {
    emit: Emit<'a, O>,
}

impl<'a, O> ExpirationContext<'a, O> {
    #[doc(hidden)]
    pub fn new(window: Window, expiry: Instant, skew: Duration, out: &'a mut Outputs<O>) -> Self {
        ExpirationContext { emit: Emit { out, timestamp: window.max_timestamp(), window, expiry, skew } }
    }

    /// The window's max timestamp: the default timestamp of outputs.
    pub fn timestamp(&self) -> Instant {
        self.emit.timestamp
    }

    output_methods!();
}

/// The context of `#[finish_bundle]`: outputs need an explicit timestamp and window, since no element is
/// being processed.
pub struct BundleContext<'a, O> {
    out: &'a mut Outputs<O>,
}

impl<'a, O> BundleContext<'a, O> {
    #[doc(hidden)]
    pub fn new(out: &'a mut Outputs<O>) -> Self {
        BundleContext { out }
    }

    /// Outputs `value` at `timestamp` in `window`.
    pub fn output(&mut self, value: O, timestamp: Instant, window: Window) {
        self.out.main.push(WindowedValue { timestamp, window, value });
    }

    /// Outputs `value` to the tagged output `tag`, at `timestamp` in `window`.
    pub fn output_to<T: Send + 'static>(&mut self, tag: &OutputTag<T>, value: T, timestamp: Instant, window: Window) {
        self.out.tagged.vec_mut(tag).push(WindowedValue { timestamp, window, value });
    }
}

/// The element being processed, as a parameter: `Element(event): Element<&Event>`, or destructured, for a
/// keyed input, `Element((user, event)): Element<&(UserId, Event)>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Element<T>(pub T);

/// The key of the element or timer, as a parameter: `Key(user): Key<&UserId>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key<T>(pub T);

/// The element's timestamp in `#[process_element]`, or the timer's output timestamp in a timer callback (as
/// Beam's `@Timestamp`; the same as `cx.timestamp()`, where `cx.firing_timestamp()` is the time the timer
/// was set for), as a parameter: `Timestamp(ts): Timestamp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub Instant);

/// The tag of the firing timer in an `#[on_timer_family]` callback, as a parameter: `TimerTag(tag): TimerTag`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerTag<'a>(pub &'a str);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_outputs_list_their_tags_in_the_order_of_their_ids() {
        const B: OutputTag<u8> = OutputTag::new("b");
        const A: OutputTag<String> = OutputTag::new("a");
        const C: OutputTag<u8> = OutputTag::new("c");
        let mut out = Outputs::<()>::default();
        let mut cx = BundleContext::new(&mut out);
        cx.output_to(&C, 3, Instant::EPOCH, Window::GLOBAL);
        cx.output_to(&B, 1, Instant::EPOCH, Window::GLOBAL);
        cx.output_to(&A, "x".into(), Instant::EPOCH, Window::GLOBAL);
        cx.output_to(&B, 2, Instant::EPOCH, Window::GLOBAL);
        assert_eq!(out.tagged.counts().collect::<Vec<_>>(), [("a", 1), ("b", 2), ("c", 1)]);
        assert_eq!(format!("{:?}", out.tagged), r#"{"a": 1, "b": 2, "c": 1}"#);
        assert_eq!(out.tagged.take(&B), [1, 2].map(|v| WindowedValue::new(v, Instant::EPOCH, Window::GLOBAL)));
        assert_eq!(out.tagged.counts().collect::<Vec<_>>(), [("a", 1), ("c", 1)], "a tag taken is not listed");
    }
}
