//! Deterministic testing: a scripted [`TestStream`] source, and a step-by-step [`Harness`] for one DoFn.
//!
//! Both follow Beam's `TestStream`: elements arrive in steps, the watermark and the processing-time clock
//! advance only when told, and the outputs are the same on every run.
//!
//! ```
//! use dofn::prelude::*;
//! use dofn::testing::Harness;
//!
//! #[dofn]
//! #[derive(Clone, Default)]
//! struct Sum {
//!     #[state_id("total")]
//!     total: StateSpec<Value<u64>>,
//!     #[timer_id("flush")]
//!     flush: TimerSpec<EventTime>,
//! }
//!
//! #[dofn]
//! impl Sum {
//!     #[process_element]
//!     fn process(&self, cx: &mut ProcessContext<(&'static str, u64), u64>,
//!                #[state_id("total")] total: &mut Value<u64>,
//!                #[timer_id("flush")] flush: &mut Timer) {
//!         *total.get_or_insert_with(|| 0) += cx.value();
//!         flush.set(cx.window().max_timestamp());
//!     }
//!
//!     #[on_timer("flush")]
//!     fn on_flush(&self, cx: &mut TimerContext<u64>, #[state_id("total")] total: &mut Value<u64>) {
//!         cx.output(total.read().copied().unwrap_or(0));
//!     }
//! }
//!
//! let mut h = Harness::new(Sum::default(), WindowFn::fixed(Duration::from_secs(10)).into()).unwrap();
//! h.add_elements([(("a", 1), Instant::from_secs(1)), (("a", 2), Instant::from_secs(2))]).unwrap();
//! assert!(h.advance_watermark_to(Instant::from_secs(9)).unwrap().is_empty());
//! let out = h.advance_watermark_to(Instant::from_secs(10)).unwrap();
//! assert_eq!(out[0].value, 3);
//! assert_eq!(out[0].timestamp, Instant::from_millis(9_999));
//! ```

use crate::context::{TaggedOutputs, TimestampedValue, WindowedValue};
use crate::dofn::DoFn;
use crate::error::Error;
use crate::metrics::Metrics;
use crate::runner::{Executor, scripted_clock, scripted_elements, scripted_watermark};
use crate::time::{Duration, Instant};
use crate::window::{WindowFn, WindowingStrategy};

/// How errors name the harness when it is asked to move time back.
const HARNESS: &str = "the harness";

/// One scripted step of a [`TestStream`].
#[derive(Clone, Debug, PartialEq)]
pub enum TestEvent<T> {
    /// Elements arrive (in a pipeline, one bundle with the time advance that follows them, if any).
    Elements(Vec<TimestampedValue<T>>),
    /// The watermark advances to this time (never back).
    Watermark(Instant),
    /// The processing-time clock advances by this much.
    ProcessingTime(Duration),
}

/// A scripted source: elements, watermark advances and clock advances, in order. Run it with
/// [`Pipeline::from_test_stream`](crate::Pipeline::from_test_stream). When the script ends, the watermark
/// advances to the end of time.
///
/// ```
/// use dofn::prelude::*;
/// let stream = TestStream::new()
///     .add_elements([("a", Instant::from_secs(1))])
///     .advance_processing_time(Duration::from_secs(5))
///     .advance_watermark_to(Instant::from_secs(60))
///     .add_elements([("late", Instant::from_secs(2))])
///     .advance_watermark_to_infinity();
/// let out = Pipeline::from_test_stream(stream).run().unwrap();
/// assert_eq!(out.values().copied().collect::<Vec<_>>(), ["a", "late"]);
/// ```
#[derive(Clone, Debug)]
pub struct TestStream<T> {
    events: Vec<TestEvent<T>>,
    processing_time_start: Instant,
}

impl<T> Default for TestStream<T> {
    fn default() -> Self {
        TestStream { events: Vec::new(), processing_time_start: Instant::EPOCH }
    }
}

impl<T> TestStream<T> {
    /// An empty script; the processing-time clock starts at the epoch.
    pub fn new() -> Self {
        Self::default()
    }

    /// A script that replays recorded `values` in their order, `per_step` at a time, advancing the watermark
    /// after each step to the largest timestamp seen so far minus `max_out_of_orderness` (the usual heuristic
    /// of a source whose data arrives roughly in order). Elements later than that are late, as they would be
    /// in a live run; the replay is deterministic.
    ///
    /// ```
    /// use dofn::prelude::*;
    /// let s = TestStream::replay([("a", Instant::from_secs(10)), ("b", Instant::from_secs(4))], 1, Duration::from_secs(5));
    /// assert_eq!(s.events().len(), 4);
    /// // After "a" the watermark is 10 s - 5 s: "b", at 4 s, arrives late.
    /// assert_eq!(s.events()[1], dofn::testing::TestEvent::Watermark(Instant::from_secs(5)));
    /// ```
    pub fn replay(
        values: impl IntoIterator<Item = (T, Instant)>,
        per_step: usize,
        max_out_of_orderness: Duration,
    ) -> Self {
        let mut stream = TestStream::new();
        let mut max_seen = Instant::MIN;
        let mut values = values.into_iter().peekable();
        while values.peek().is_some() {
            let step: Vec<TimestampedValue<T>> = values
                .by_ref()
                .take(per_step.max(1))
                .map(|(value, timestamp)| {
                    max_seen = max_seen.max(timestamp);
                    TimestampedValue { timestamp, value }
                })
                .collect();
            stream.events.push(TestEvent::Elements(step));
            stream.events.push(TestEvent::Watermark(max_seen - max_out_of_orderness));
        }
        stream
    }

    /// Starts the processing-time clock at `start` instead of the epoch.
    pub fn with_processing_time_start(mut self, start: Instant) -> Self {
        self.processing_time_start = start;
        self
    }

    /// Adds a step in which these elements arrive, each with its event timestamp. In a pipeline, the time
    /// advance that comes right after them in the script (if any) is part of their step, applied once the
    /// elements are processed: elements and advance make one bundle. (A [`Harness`] runs each call as a
    /// bundle of its own.) A run whose script adds elements after the watermark has advanced to infinity fails
    /// at that step with [`Error::Source`]: every window has expired by then, so they could only be dropped.
    pub fn add_elements(mut self, elements: impl IntoIterator<Item = (T, Instant)>) -> Self {
        let values = elements.into_iter().map(|(value, timestamp)| TimestampedValue { timestamp, value }).collect();
        self.events.push(TestEvent::Elements(values));
        self
    }

    /// Adds a step in which the watermark advances to `watermark`. A watermark never moves back: a run of a
    /// script that moves it back fails with [`Error::Source`] at that step.
    pub fn advance_watermark_to(mut self, watermark: Instant) -> Self {
        self.events.push(TestEvent::Watermark(watermark));
        self
    }

    /// Adds a step in which the processing-time clock advances by `by` (a run fails at a negative one, as for
    /// a watermark moved back).
    pub fn advance_processing_time(mut self, by: Duration) -> Self {
        self.events.push(TestEvent::ProcessingTime(by));
        self
    }

    /// Adds a step in which the watermark advances to the end of time (every window expires).
    pub fn advance_watermark_to_infinity(self) -> Self {
        self.advance_watermark_to(Instant::MAX)
    }

    /// The scripted steps.
    pub fn events(&self) -> &[TestEvent<T>] {
        &self.events
    }

    pub(crate) fn processing_time_start(&self) -> Instant {
        self.processing_time_start
    }

    pub(crate) fn into_events(self) -> Vec<TestEvent<T>> {
        self.events
    }
}

/// Drives one DoFn step by step and returns each step's outputs: the closest look at its semantics.
///
/// Elements are windowed by the harness's [`WindowingStrategy`]. Each method is one step, run as one bundle
/// (`#[start_bundle]` before its first callback, `#[finish_bundle]` after its last), and returns the main
/// outputs it produced, in order. A panicking callback is not caught: it fails the test where it happens (but
/// for `#[teardown]`, whose panic [`Harness::teardown`] returns as [`Error::Panicked`], as a run does).
///
/// # A step that fails
///
/// A step fails when a callback returns an error, sets an invalid timer or outputs at an invalid timestamp.
/// The method returns the error as a run would report it (naming the key, window, timer and times), and the
/// step's bundle ends there, as Beam abandons a failed bundle:
///
/// - The rest of the step is not done. Elements after the one that failed (and its copies in later sliding
///   windows) are not processed, nor counted: they are dropped. Timers and window expirations that were
///   still due wait for the next advance of the watermark or of the clock, even one that leaves it where it
///   is.
/// - `#[finish_bundle]` is not called, and the next step starts a new bundle with `#[start_bundle]`.
/// - The step's outputs, main and tagged, are dropped; [`Metrics::outputs`] does not count them.
/// - What was done before the failure stays done: the harness does not roll state back (Beam would retry
///   the bundle from the state before it). State written and timers set or cleared by the step's earlier
///   callbacks, and by the failing callback itself before it failed, are kept; timers that fired (the
///   failing one too) stay fired; windows that expired stay expired, their state cleared, even the one whose
///   `#[on_window_expiration]` failed. The other counters of [`Harness::metrics`] count that work.
///
/// The harness can be driven on from there. A [`Pipeline`](crate::Pipeline) run, by contrast, ends at a
/// failed step with its error.
pub struct Harness<F: DoFn> {
    executor: Executor<F>,
    window_fn: WindowFn,
    /// The tagged outputs of the steps that succeeded, until taken.
    tagged: TaggedOutputs,
}

impl<F: DoFn> Harness<F> {
    /// A harness for `dofn` on input windowed by `strategy`; fails if the DoFn cannot run on it.
    pub fn new(dofn: F, strategy: WindowingStrategy) -> Result<Self, Error> {
        Ok(Harness {
            executor: Executor::new(dofn, strategy)?,
            window_fn: strategy.window_fn,
            tagged: TaggedOutputs::default(),
        })
    }

    /// Starts the processing-time clock at `start` (the default is the epoch), as
    /// [`TestStream::with_processing_time_start`] does for a pipeline.
    pub fn with_processing_time_start(mut self, start: Instant) -> Self {
        self.executor.set_processing_time_start(start);
        self
    }

    /// The former name of [`Harness::with_processing_time_start`].
    #[deprecated(note = "renamed `with_processing_time_start`, as on `TestStream`")]
    pub fn with_processing_time(self, start: Instant) -> Self {
        self.with_processing_time_start(start)
    }

    fn step(
        &mut self,
        run: impl FnOnce(&mut Executor<F>) -> Result<(), Error>,
    ) -> Result<Vec<WindowedValue<F::Output>>, Error> {
        let mut out = Vec::new();
        // (A failed bundle drops its tagged outputs with its main ones: those of a step that succeeded are kept.)
        self.executor.run_bundle(&mut out, run)?;
        self.tagged.append(self.executor.take_tagged());
        Ok(out)
    }

    /// Elements arrive, with their event timestamps; returns the outputs.
    pub fn add_elements(
        &mut self,
        elements: impl IntoIterator<Item = (F::Input, Instant)>,
    ) -> Result<Vec<WindowedValue<F::Output>>, Error>
    where
        F::Input: Clone,
    {
        scripted_elements(HARNESS, self.executor.input_watermark())?;
        let window_fn = self.window_fn;
        self.step(|ex| {
            for (value, timestamp) in elements {
                let mut windows = Vec::new();
                window_fn.assign(timestamp, |w| windows.push(w));
                for window in windows {
                    ex.process_one(WindowedValue { timestamp, window, value: value.clone() })?;
                }
            }
            Ok(())
        })
    }

    /// Advances the input watermark; returns the outputs of the timers that fired and windows that expired.
    /// Every timer due fires, in either domain: one set to a time the watermark or clock had already passed
    /// (by an element, or by a callback of this advance) fires too, even if the watermark stays where it is.
    /// A watermark never moves back: an earlier one is an error ([`Error::Source`]).
    pub fn advance_watermark_to(&mut self, watermark: Instant) -> Result<Vec<WindowedValue<F::Output>>, Error> {
        let watermark = scripted_watermark(HARNESS, self.executor.input_watermark(), watermark)?;
        self.step(|ex| ex.advance_watermark(watermark))
    }

    /// Advances the watermark to the end of time: every remaining event-time timer fires, every window expires.
    pub fn advance_watermark_to_infinity(&mut self) -> Result<Vec<WindowedValue<F::Output>>, Error> {
        self.advance_watermark_to(Instant::MAX)
    }

    /// Advances the processing-time clock by `by`; returns the outputs of the timers that fired. As with the
    /// watermark, every timer due fires, in either domain (an event-time timer a callback sets behind the
    /// watermark, say). A negative `by` is an error ([`Error::Source`]).
    pub fn advance_processing_time(&mut self, by: Duration) -> Result<Vec<WindowedValue<F::Output>>, Error> {
        let to = scripted_clock(HARNESS, self.executor.processing_time(), by)?;
        self.step(|ex| ex.advance_processing_time(to))
    }

    /// The DoFn's input watermark.
    pub fn input_watermark(&self) -> Instant {
        self.executor.input_watermark()
    }

    /// The number of entries in the DoFn's processing-time timer queue, live or not.
    #[cfg(test)]
    pub(crate) fn queued_processing_timers(&self) -> usize {
        self.executor.queued_processing_timers()
    }

    /// The DoFn's output watermark: the input watermark held back by pending timers' output timestamps and by
    /// windows waiting to expire (with `#[on_window_expiration]`); it never moves back.
    pub fn output_watermark(&mut self) -> Instant {
        self.executor.output_watermark()
    }

    /// The processing-time clock.
    pub fn processing_time(&self) -> Instant {
        self.executor.processing_time()
    }

    /// The number of (key, window) pairs that hold state or timers.
    pub fn live_records(&self) -> usize {
        self.executor.live_records()
    }

    /// The DoFn's counters so far.
    pub fn metrics(&self) -> Metrics {
        self.executor.metrics()
    }

    /// Takes the tagged outputs made so far (by the steps that succeeded).
    pub fn take_tagged(&mut self) -> TaggedOutputs {
        std::mem::take(&mut self.tagged)
    }

    /// Calls `#[teardown]` (if the DoFn was set up); returns the DoFn's counters. Its error, or its panic as
    /// [`Error::Panicked`], is returned as a run reports it.
    pub fn teardown(mut self) -> Result<Metrics, Error> {
        self.executor.teardown()?;
        Ok(self.executor.metrics())
    }
}
