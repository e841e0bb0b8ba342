//! The pipeline builder and its nodes.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, OnceLock};

use crate::context::{TaggedOutputs, TimestampedValue, WindowedValue};
use crate::dofn::DoFn;
use crate::error::Error;
use crate::metrics::Metrics;
use crate::runner::Executor;
use crate::runner::outputs::{MainOutputs, Parts};
use crate::runner::sharded::Sharded;
use crate::testing::{TestEvent, TestStream};
use crate::time::{Duration, Instant};
use crate::window::{Window, WindowFn, WindowingStrategy};

/// The times after one step of a node: its output watermark and the processing-time clock.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Step {
    pub(crate) watermark: Instant,
    pub(crate) processing_time: Instant,
    /// Whether the clock moves before the step's elements are processed rather than after: a live source's
    /// elements arrived until the clock was read, and are processed at that time (a test stream's advance
    /// follows the elements it comes after in the script).
    pub(crate) clock_first: bool,
}

/// A node of a pipeline: produces elements of type `T`, one step at a time.
pub(crate) trait Node<T>: Send {
    /// Runs one step, appending the elements it produced to `out`; `None` once the input is exhausted.
    fn step(&mut self, out: &mut Vec<WindowedValue<T>>) -> Result<Option<Step>, Error>;
    /// Runs one step like [`Node::step`], adding its elements to `parts`: a node whose elements are made in
    /// several vectors (a sharded DoFn: one per worker) hands those over without copying them; others append
    /// to the last part.
    fn step_parts(&mut self, parts: &mut Parts<T>) -> Result<Option<Step>, Error> {
        self.step(parts.last())
    }
    /// Ends the run: tears DoFns down and hands over tagged outputs and metrics, upstream first.
    fn finish(&mut self, summary: &mut Summary) -> Result<(), Error>;
    /// Whether the next step may be asked for before the elements of this one are used: true when the
    /// input is stored (values, a test stream), false when it is live, where the next step waits for input
    /// that may be a while coming.
    fn reads_ahead(&self) -> bool;
    /// Where the processing-time clock starts: the source's clock before its first step (the DoFns read it
    /// while they process the first step's elements).
    fn processing_time_start(&self) -> Instant;
    /// Moves the tagged outputs of the steps passed on so far, upstream nodes' first, to the end of `into`.
    fn take_tagged(&mut self, into: &mut TaggedOutputs);
}

/// What a run leaves besides its main output.
#[derive(Default)]
pub(crate) struct Summary {
    pub(crate) tagged: TaggedOutputs,
    pub(crate) metrics: Vec<(&'static str, Metrics)>,
}

/// A pipeline under construction: a source, then windowing and DoFns applied in order. `T` is the type of
/// the elements at its end.
///
/// ```
/// use dofn::prelude::*;
///
/// let result = Pipeline::from_values([(1u32, Instant::from_secs(1)), (2, Instant::from_secs(61))])
///     .window_into(WindowFn::fixed(Duration::from_secs(60)))
///     .run()
///     .expect("no DoFn, nothing to fail");
/// assert_eq!(result.outputs().len(), 2);
/// assert_eq!(result.outputs()[1].window.start(), Instant::from_secs(60));
/// ```
pub struct Pipeline<T> {
    root: Box<dyn Node<T>>,
    strategy: WindowingStrategy,
    workers: usize,
    error: Option<Error>,
    /// Windows to assign that are not assigned yet: the next DoFn assigns them to its own elements (on the
    /// worker that owns their keys, in parallel), or the end of the pipeline does.
    assign: Option<Assign<T>>,
}

/// How many parsed lines [`Pipeline::from_lines`] reads ahead of the run at most.
const LINES_AHEAD: usize = 4 * BOUNDED_BATCH;

/// The default number of worker threads: the machine's cores.
fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl<T: Send + 'static> Pipeline<T> {
    fn from_source(source: Source<T>) -> Self {
        Pipeline {
            root: Box::new(source),
            strategy: WindowingStrategy::global(),
            workers: default_workers(),
            error: None,
            assign: None,
        }
    }

    /// A bounded pipeline over values with their event timestamps, in the global window. The values are
    /// read lazily, a bundle at a time.
    ///
    /// As in Beam's batch mode, time does not pass while the input is read: the watermark stays at the start
    /// of time until the input ends, then moves to the end of time (every window expires, every event-time
    /// timer fires), and the processing-time clock stays at the epoch, so processing-time timers never fire:
    /// those pending when their window expires are dropped (counted in [`Metrics::timers_dropped`]). A DoFn
    /// that buffers until a processing-time timer fires should also flush on an event-time timer (at the
    /// window's end, say) or in `#[on_window_expiration]`, as the `batched_rpc` example does. To replay
    /// recorded data in event time instead, with the watermark following the timestamps so that event-time
    /// timers fire between the elements as they would in a streaming run (a gap timer ending a session,
    /// say), use [`Pipeline::from_test_stream`] with [`TestStream::replay`].
    pub fn from_values<I>(values: I) -> Self
    where
        I: IntoIterator<Item = (T, Instant)>,
        I::IntoIter: Send + 'static,
    {
        let values =
            values.into_iter().map(|(value, timestamp)| WindowedValue { timestamp, window: Window::GLOBAL, value });
        Pipeline::from_source(Source::bounded(values))
    }

    /// A bounded pipeline over timestamped values, in the global window. The values are read lazily, a
    /// bundle at a time. Time passes as for [`Pipeline::from_values`]: not at all until the input ends.
    pub fn from_timestamped<I>(values: I) -> Self
    where
        I: IntoIterator<Item = TimestampedValue<T>>,
        I::IntoIter: Send + 'static,
    {
        Pipeline::from_source(Source::bounded(values.into_iter().map(in_global)))
    }

    /// A pipeline driven by a [`TestStream`]: elements, watermark and clock advance exactly as scripted.
    pub fn from_test_stream(stream: TestStream<T>) -> Self {
        Pipeline::from_source(Source::scripted(stream))
    }

    /// An unbounded pipeline over values arriving on a channel, until every sender is dropped.
    ///
    /// The watermark follows the source: it is the largest timestamp seen so far minus
    /// `max_out_of_orderness` (elements later than that are late). The processing-time clock is the wall
    /// clock, read every `tick` and whenever elements arrive: the elements that arrived are processed at the
    /// time it was read, after the processing-time timers due by then have fired (timers fire within a tick
    /// of their time). Use [`Pipeline::run_with`] to see outputs as they are produced. A negative
    /// `max_out_of_orderness` (a watermark ahead of the data) or a `tick` under 1 ms fails the run with
    /// [`Error::Source`] before any element is processed.
    pub fn from_channel(
        receiver: Receiver<TimestampedValue<T>>,
        max_out_of_orderness: Duration,
        tick: Duration,
    ) -> Self {
        Pipeline::from_source(Source::live(receiver, max_out_of_orderness, tick, None)).checked_live_settings(
            "from_channel",
            max_out_of_orderness,
            tick,
        )
    }

    /// Fails the run if `max_out_of_orderness` is negative or `tick` is not positive.
    fn checked_live_settings(mut self, method: &str, max_out_of_orderness: Duration, tick: Duration) -> Self {
        let message = if max_out_of_orderness.millis() < 0 {
            format!(
                "`{method}` needs a max_out_of_orderness of zero or more (the watermark trails the data by it), got \
                 {max_out_of_orderness}"
            )
        } else if tick.millis() <= 0 {
            format!("`{method}` needs a tick of 1 ms or more (the clock is read once a tick), got {tick}")
        } else {
            return self;
        };
        self.error.get_or_insert(Error::Source { message });
        self
    }

    /// An unbounded pipeline over the lines of `reader` (standard input, a socket, a growing file...),
    /// read on a background thread as they arrive. `parse` turns a line (with its 1-based number) into a
    /// timestamped element, or `None` to skip it (report it there if it is malformed). The watermark and
    /// clock behave as for [`Pipeline::from_channel`]. A line that cannot be read (an I/O error, or bytes
    /// that are not UTF-8), or on which `parse` panics, fails the run with [`Error::Source`] naming it, once
    /// the lines before it are processed; the input does not end there, so no window is taken for complete.
    /// Reading starts at once, on a thread of its own, and stays at most 65,536 parsed lines ahead of the run.
    /// The thread ends at the end of the input, or at the first line it reads once the run is over: a reader
    /// that blocks (a pipe, a socket) keeps it waiting until its next line or its end, after `run` returned.
    ///
    /// The watermark moves once per batch of the lines that have arrived (up to 16,384), not line by line: a
    /// file, read as fast as it can be, arrives in big batches, so event-time timers fire between the batches
    /// rather than between the lines. To replay a recorded file in event time, parse it into [`TestStream::replay`] and use
    /// [`Pipeline::from_test_stream`].
    ///
    /// ```no_run
    /// use dofn::prelude::*;
    /// // Lines like "1700000000000 alice" on standard input.
    /// let pipeline = Pipeline::from_lines(std::io::BufReader::new(std::io::stdin()), |n, line| {
    ///     let (ts, user) = line.split_once(' ')?;
    ///     match ts.parse::<i64>() {
    ///         Ok(ms) => Some(TimestampedValue::new(user.to_string(), Instant::from_millis(ms))),
    ///         Err(e) => {
    ///             eprintln!("line {n}: bad timestamp {ts:?}: {e}");
    ///             None
    ///         }
    ///     }
    /// }, Duration::from_secs(5), Duration::from_millis(100));
    /// # let _ = pipeline;
    /// ```
    pub fn from_lines<R>(
        reader: R,
        mut parse: impl FnMut(usize, &str) -> Option<TimestampedValue<T>> + Send + 'static,
        max_out_of_orderness: Duration,
        tick: Duration,
    ) -> Self
    where
        R: std::io::BufRead + Send + 'static,
    {
        // Bounded: the reader waits for the run once it is this far ahead, so memory does not grow with the input.
        let (sender, receiver) = std::sync::mpsc::sync_channel(LINES_AHEAD);
        let failure = Arc::new(OnceLock::new());
        let failed = Arc::clone(&failure);
        let reading = std::thread::Builder::new().name("dofn-lines".into()).spawn(move || {
            for (i, line) in reader.lines().enumerate() {
                // (A failure is noted before the sender is dropped: the source looks for it once the channel
                // closes.)
                let line = match line {
                    Ok(line) => line,
                    Err(e) => {
                        let _ = failed.set(format!("cannot read line {} of the input: {e}", i + 1));
                        break;
                    }
                };
                let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(i + 1, &line)));
                match parsed {
                    Ok(Some(value)) => {
                        if sender.send(value).is_err() {
                            break;
                        }
                    }
                    Ok(None) => {}
                    Err(payload) => {
                        let message = super::executor::panic_message(payload.as_ref());
                        let _ = failed.set(format!("the parse function panicked on line {}: {message}", i + 1));
                        break;
                    }
                }
            }
        });
        let mut pipeline = Pipeline::from_source(Source::live(receiver, max_out_of_orderness, tick, Some(failure)))
            .checked_live_settings("from_lines", max_out_of_orderness, tick);
        if let Err(e) = reading {
            pipeline.error = Some(Error::Source { message: format!("cannot start the line reader: {e}") });
        }
        pipeline
    }

    /// Assigns each element to windows of `window_fn` by its timestamp (an element may land in several
    /// sliding windows, hence `Clone`). Keeps the allowed lateness.
    ///
    /// The DoFn applied next does the assignment, on the worker thread that owns each element's key (the
    /// run does it if no DoFn follows): the outputs are those of assigning every element first.
    pub fn window_into(self, window_fn: WindowFn) -> Self
    where
        T: Clone,
    {
        let strategy = WindowingStrategy { window_fn, ..self.strategy };
        let error = self
            .error
            .or_else(|| window_fn.validate().err().map(|message| Error::Windowing { method: "window_into", message }));
        // A pending assignment is done first: an element in several sliding windows is reassigned once per copy.
        let root = windowed(self.root, self.assign);
        let assign = Some(Assign { window_fn, apply: assign_windows::<T> });
        Pipeline { root, strategy, workers: self.workers, error, assign }
    }

    /// Sets how long after a window's end its elements are still accepted and its state kept. A negative
    /// lateness fails the run with [`Error::Windowing`] before any element is processed (even if a later call
    /// sets a valid one: the first invalid setting is the one reported).
    pub fn with_allowed_lateness(mut self, lateness: Duration) -> Self {
        self.strategy.allowed_lateness = lateness;
        // (The window function was checked by `window_into`.)
        if self.error.is_none()
            && let Err(message) = self.strategy.validate()
        {
            self.error = Some(Error::Windowing { method: "with_allowed_lateness", message });
        }
        self
    }

    /// Runs the stateful DoFns applied after this on `workers` threads, keys sharded across them (the
    /// default is one per core). Outputs are the same per key and window for any number of workers, and in
    /// the same order on every run with the same number; [`PipelineResult::sorted`] gives a view that does
    /// not depend on it.
    ///
    /// The calling thread reads the input, splits each bundle by key and runs one shard itself, so the
    /// reading and splitting are not shared: a DoFn that does little per element over keys that fit the CPU's
    /// caches (a counter over a few thousand keys, say) may run no faster on two workers than on one, while
    /// one with big tables or more work per element gains nearly in proportion (see `BENCHMARKS.md`).
    ///
    /// Zero means one. More than [`MAX_WORKERS`](crate::runner::MAX_WORKERS) fails the run of a stateful DoFn
    /// with [`Error::Construction`] before any element is processed (a stateless DoFn runs on the calling
    /// thread whatever the number).
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// The windowing of the elements at the end of the pipeline so far.
    pub fn windowing(&self) -> WindowingStrategy {
        self.strategy
    }

    /// Applies a DoFn to every element. A DoFn that cannot run on this input (a stateful DoFn on merging
    /// windows, say) makes [`Pipeline::run`] fail before any element is processed.
    pub fn apply<F: DoFn<Input = T>>(self, dofn: F) -> Pipeline<F::Output> {
        let (strategy, workers) = (self.strategy, self.workers);
        let failed = |error| Pipeline {
            root: Box::new(Failed::<F::Output>(std::marker::PhantomData)),
            strategy,
            workers,
            error: Some(error),
            assign: None,
        };
        if let Some(error) = self.error {
            return failed(error);
        }
        if workers > MAX_WORKERS && F::is_stateful() {
            return failed(Error::Construction {
                dofn: F::NAME,
                message: format!("it was given {workers} workers, and a run takes at most {MAX_WORKERS}"),
            });
        }
        let assign = self.assign;
        let start = self.root.processing_time_start();
        let root: Result<Box<dyn Node<F::Output>>, Error> = if workers > 1 && F::is_stateful() {
            Sharded::new(self.root, dofn, strategy, workers, assign, start)
                .map(|s| Box::new(s) as Box<dyn Node<F::Output>>)
        } else {
            Executor::new(dofn, strategy).map(|mut executor| {
                executor.set_processing_time_start(start);
                Box::new(Stage { upstream: self.root, executor, buffer: Vec::new(), assign }) as _
            })
        };
        match root {
            Ok(root) => Pipeline { root, strategy, workers, error: None, assign: None },
            Err(error) => failed(error),
        }
    }

    /// Runs the pipeline to the end of its input and returns everything it output.
    pub fn run(self) -> Result<PipelineResult<T>, Error> {
        // The outputs stay in the vectors they are made in (one per worker and step on several workers).
        let mut parts = Parts::default();
        let summary = self.drive(|root| root.step_parts(&mut parts), |_| {})?;
        Ok(PipelineResult { outputs: parts.finish(), tagged: summary.tagged, metrics: summary.metrics })
    }

    /// Runs the pipeline, handing each main output to `sink` as soon as it is produced; returns the tagged
    /// outputs and metrics at the end (its main outputs are empty). See [`Pipeline::run_with_tagged`] to see
    /// tagged outputs as they are produced too.
    pub fn run_with(self, sink: impl FnMut(WindowedValue<T>)) -> Result<PipelineResult<T>, Error> {
        self.run_with_tagged(sink, |_| {})
    }

    /// Runs the pipeline like [`Pipeline::run_with`], and after each step hands that step's tagged outputs to
    /// `tagged` (after its main outputs went to `sink`): take the tags it handles with
    /// [`TaggedOutputs::take`]; values it leaves are in the result, as with [`Pipeline::run`]. For a live
    /// source, where the run may not end, this is how to see them (a dead-letter output, say).
    ///
    /// ```
    /// use dofn::prelude::*;
    ///
    /// const BAD: OutputTag<String> = OutputTag::new("bad");
    ///
    /// #[dofn]
    /// #[derive(Clone, Default)]
    /// struct ParseNumber;
    ///
    /// #[dofn]
    /// impl ParseNumber {
    ///     #[process_element]
    ///     fn process(&self, cx: &mut ProcessContext<String, i64>) {
    ///         match cx.element().parse() {
    ///             Ok(n) => cx.output(n),
    ///             Err(_) => cx.output_to(&BAD, cx.element().clone()),
    ///         }
    ///     }
    /// }
    ///
    /// let (mut numbers, mut bad) = (Vec::new(), Vec::new());
    /// let lines = ["1", "x", "3"].map(|s| (s.to_string(), Instant::EPOCH));
    /// let result = Pipeline::from_values(lines)
    ///     .apply(ParseNumber)
    ///     .run_with_tagged(|v| numbers.push(v.value), |tagged| bad.extend(tagged.take(&BAD).into_iter().map(|v| v.value)))?;
    /// assert_eq!((numbers, bad), (vec![1, 3], vec!["x".to_string()]));
    /// assert!(result.tagged().is_empty());
    /// # Ok::<(), dofn::Error>(())
    /// ```
    pub fn run_with_tagged(
        self,
        mut sink: impl FnMut(WindowedValue<T>),
        tagged: impl FnMut(&mut TaggedOutputs),
    ) -> Result<PipelineResult<T>, Error> {
        let mut batch = Vec::new();
        let summary = self.drive(
            |root| {
                let step = root.step(&mut batch)?;
                batch.drain(..).for_each(&mut sink);
                Ok(step)
            },
            tagged,
        )?;
        Ok(PipelineResult { outputs: MainOutputs::default(), tagged: summary.tagged, metrics: summary.metrics })
    }

    /// Runs `step` on the pipeline's last node until the input ends, handing each step's tagged outputs to
    /// `tagged` (and keeping what it leaves), then finishes the nodes.
    fn drive(
        mut self,
        mut step: impl FnMut(&mut dyn Node<T>) -> Result<Option<Step>, Error>,
        mut tagged: impl FnMut(&mut TaggedOutputs),
    ) -> Result<Summary, Error> {
        if let Some(error) = self.error {
            return Err(error);
        }
        self.root = windowed(self.root, self.assign.take());
        let mut summary = Summary::default();
        let mut step_tagged = TaggedOutputs::default();
        let result = loop {
            let stepped = step(self.root.as_mut());
            self.root.take_tagged(&mut step_tagged);
            if !step_tagged.is_empty() {
                tagged(&mut step_tagged);
                summary.tagged.append(std::mem::take(&mut step_tagged));
            }
            match stepped {
                Ok(Some(_)) => {}
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        let finished = self.root.finish(&mut summary);
        result.and(finished).map(|()| summary)
    }
}

/// The outputs of a finished run: main outputs in the order they were produced (on several workers, step by
/// step and within a step worker by worker: see [`Pipeline::with_workers`]), tagged outputs, and each DoFn's
/// metrics.
#[derive(Debug)]
pub struct PipelineResult<T> {
    outputs: MainOutputs<T>,
    tagged: TaggedOutputs,
    metrics: Vec<(&'static str, Metrics)>,
}

impl<T> PipelineResult<T> {
    /// The main outputs, in the order they were produced (see [`PipelineResult`]).
    pub fn outputs(&self) -> &MainOutputs<T> {
        &self.outputs
    }

    /// The main output values, in order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.outputs.iter().map(|o| &o.value)
    }

    /// Takes the main outputs, as one vector.
    pub fn into_outputs(self) -> Vec<WindowedValue<T>> {
        self.outputs.into_vec()
    }

    /// The main outputs sorted by window, timestamp and value: a view that does not depend on the order keys
    /// were processed in.
    pub fn sorted(&self) -> Vec<&WindowedValue<T>>
    where
        T: Ord,
    {
        let mut v: Vec<&WindowedValue<T>> = self.outputs.iter().collect();
        v.sort_by(|a, b| (a.window, a.timestamp, &a.value).cmp(&(b.window, b.timestamp, &b.value)));
        v
    }

    /// The tagged outputs.
    pub fn tagged(&self) -> &TaggedOutputs {
        &self.tagged
    }

    /// The tagged outputs, to take values from.
    pub fn tagged_mut(&mut self) -> &mut TaggedOutputs {
        &mut self.tagged
    }

    /// The metrics of each DoFn, in pipeline order, by DoFn name.
    pub fn metrics(&self) -> &[(&'static str, Metrics)] {
        &self.metrics
    }

    /// The metrics of the DoFn with this name (summed if it was applied more than once).
    pub fn metrics_of(&self, dofn: &str) -> Metrics {
        let mut m = Metrics::default();
        self.metrics.iter().filter(|(n, _)| *n == dofn).for_each(|(_, x)| m.add(x));
        m
    }
}

/// A source: bounded, scripted (a test stream), or live (a channel).
struct Source<T> {
    kind: SourceKind<T>,
    watermark: Instant,
    processing_time: Instant,
    done: bool,
}

/// Appends up to `n` elements of a bounded source to the vector; returns how many it appended.
type Fill<T> = Box<dyn FnMut(&mut Vec<WindowedValue<T>>, usize) -> usize + Send>;

enum SourceKind<T> {
    Bounded(Fill<T>),
    Scripted(std::iter::Peekable<std::vec::IntoIter<TestEvent<T>>>),
    Live {
        receiver: Receiver<TimestampedValue<T>>,
        max_out_of_orderness: Duration,
        tick: Duration,
        max_seen: Instant,
        /// Why the senders stopped, if they stopped on an error rather than at the end of the input (set
        /// before they are dropped).
        failure: Option<Arc<OnceLock<String>>>,
    },
}

/// How errors name a test stream that moves time back.
const TEST_STREAM: &str = "the test stream";

/// The most workers [`Pipeline::with_workers`] takes: each is a thread, with a DoFn and tables of its own.
pub const MAX_WORKERS: usize = 1024;

/// How many elements of a bounded source make one bundle.
pub(crate) const BOUNDED_BATCH: usize = 16 * 1024;

impl<T: Send + 'static> Source<T> {
    /// A bounded source over `values`, read a bundle at a time (one dynamic call a bundle, not an element).
    fn bounded(mut values: impl Iterator<Item = WindowedValue<T>> + Send + 'static) -> Self {
        let fill = move |out: &mut Vec<WindowedValue<T>>, n: usize| {
            let before = out.len();
            out.extend(values.by_ref().take(n));
            out.len() - before
        };
        Source {
            kind: SourceKind::Bounded(Box::new(fill)),
            watermark: Instant::MIN,
            processing_time: Instant::EPOCH,
            done: false,
        }
    }

    fn scripted(stream: TestStream<T>) -> Self {
        let start = stream.processing_time_start();
        Source {
            kind: SourceKind::Scripted(stream.into_events().into_iter().peekable()),
            watermark: Instant::MIN,
            processing_time: start,
            done: false,
        }
    }

    fn live(
        receiver: Receiver<TimestampedValue<T>>,
        max_out_of_orderness: Duration,
        tick: Duration,
        failure: Option<Arc<OnceLock<String>>>,
    ) -> Self {
        Source {
            kind: SourceKind::Live { receiver, max_out_of_orderness, tick, max_seen: Instant::MIN, failure },
            watermark: Instant::MIN,
            processing_time: Instant::now(),
            done: false,
        }
    }

    fn step_time(&self) -> Step {
        let clock_first = matches!(self.kind, SourceKind::Live { .. });
        Step { watermark: self.watermark, processing_time: self.processing_time, clock_first }
    }

    /// The last step of every source: the watermark moves to the end of time.
    fn end(&mut self) -> Option<Step> {
        if self.done {
            return None;
        }
        self.done = true;
        self.watermark = Instant::MAX;
        Some(self.step_time())
    }
}

/// The watermark after `driver` (a test stream, the harness) advances it from `at` to `to`: a script that
/// moves it back is wrong (as in Beam, whose `TestStream` rejects it).
pub(crate) fn scripted_watermark(driver: &str, at: Instant, to: Instant) -> Result<Instant, Error> {
    if to < at {
        return Err(Error::Source { message: format!("{driver} moves the watermark back, from {at} to {to}") });
    }
    Ok(to)
}

/// Checks that `driver` (a test stream, the harness) adds elements before the watermark `at` is at the end of
/// time: every window has expired then, so they could only be dropped.
pub(crate) fn scripted_elements(driver: &str, at: Instant) -> Result<(), Error> {
    if at == Instant::MAX {
        return Err(Error::Source {
            message: format!(
                "{driver} adds elements after advancing the watermark to infinity: every window has expired, so \
                 they could only be dropped as late"
            ),
        });
    }
    Ok(())
}

/// The processing time after `driver` advances it from `at` by `by`, which must not be negative.
pub(crate) fn scripted_clock(driver: &str, at: Instant, by: Duration) -> Result<Instant, Error> {
    if by.millis() < 0 {
        return Err(Error::Source { message: format!("{driver} moves the processing time back, by {by} from {at}") });
    }
    Ok(at + by)
}

fn in_global<T>(v: TimestampedValue<T>) -> WindowedValue<T> {
    WindowedValue { timestamp: v.timestamp, window: Window::GLOBAL, value: v.value }
}

impl<T: Send + 'static> Node<T> for Source<T> {
    fn reads_ahead(&self) -> bool {
        !matches!(self.kind, SourceKind::Live { .. })
    }

    fn processing_time_start(&self) -> Instant {
        self.processing_time
    }

    fn take_tagged(&mut self, _into: &mut TaggedOutputs) {}

    fn step(&mut self, out: &mut Vec<WindowedValue<T>>) -> Result<Option<Step>, Error> {
        match &mut self.kind {
            SourceKind::Bounded(fill) => {
                if self.done {
                    return Ok(None);
                }
                // The values' iterator is the user's: a panic in it fails the run (and ends the input there:
                // no window is taken for complete), as a panic in a DoFn does.
                let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fill(out, BOUNDED_BATCH)));
                match read {
                    Ok(0) => Ok(self.end()),
                    Ok(_) => Ok(Some(self.step_time())),
                    Err(payload) => {
                        self.done = true;
                        let message = super::executor::panic_message(payload.as_ref());
                        Err(Error::Source { message: format!("the input's iterator panicked: {message}") })
                    }
                }
            }
            SourceKind::Scripted(events) => match events.next() {
                Some(TestEvent::Elements(values)) => {
                    scripted_elements(TEST_STREAM, self.watermark)?;
                    out.extend(values.into_iter().map(in_global));
                    // Elements and the one time advance after them make one step: every node processes the
                    // elements, then advances its clock and watermark, as it would in two steps, with one
                    // bundle and one hand-off between threads instead of two.
                    match events.next_if(|e| !matches!(e, TestEvent::Elements(_))) {
                        Some(TestEvent::Watermark(t)) => {
                            self.watermark = scripted_watermark(TEST_STREAM, self.watermark, t)?
                        }
                        Some(TestEvent::ProcessingTime(d)) => {
                            self.processing_time = scripted_clock(TEST_STREAM, self.processing_time, d)?;
                        }
                        _ => {}
                    }
                    Ok(Some(self.step_time()))
                }
                Some(TestEvent::Watermark(t)) => {
                    self.watermark = scripted_watermark(TEST_STREAM, self.watermark, t)?;
                    Ok(Some(self.step_time()))
                }
                Some(TestEvent::ProcessingTime(d)) => {
                    self.processing_time = scripted_clock(TEST_STREAM, self.processing_time, d)?;
                    Ok(Some(self.step_time()))
                }
                None => Ok(self.end()),
            },
            SourceKind::Live { receiver, max_out_of_orderness, tick, max_seen, failure } => {
                if self.done {
                    return Ok(None);
                }
                let wait = std::time::Duration::from_millis(tick.millis().max(1) as u64);
                let first = receiver.recv_timeout(wait);
                let mut disconnected = false;
                match first {
                    Ok(v) => {
                        *max_seen = (*max_seen).max(v.timestamp);
                        out.push(in_global(v));
                        while out.len() < BOUNDED_BATCH {
                            match receiver.try_recv() {
                                Ok(v) => {
                                    *max_seen = (*max_seen).max(v.timestamp);
                                    out.push(in_global(v));
                                }
                                Err(std::sync::mpsc::TryRecvError::Empty) => break,
                                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                                    disconnected = true;
                                    break;
                                }
                            }
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => disconnected = true,
                }
                self.processing_time = self.processing_time.max(Instant::now());
                if !max_seen.is_min() {
                    self.watermark = self.watermark.max(*max_seen - *max_out_of_orderness);
                }
                if disconnected && out.is_empty() {
                    // An input that failed does not end: its watermark stays where it was, so that no window
                    // is taken for complete.
                    if let Some(message) = failure.as_ref().and_then(|f| f.get()) {
                        self.done = true;
                        return Err(Error::Source { message: message.clone() });
                    }
                    return Ok(self.end());
                }
                Ok(Some(self.step_time()))
            }
        }
    }

    fn finish(&mut self, _summary: &mut Summary) -> Result<(), Error> {
        Ok(())
    }
}

/// A window assignment to do: the window function, and the function (made where the element type is known to
/// be `Clone`) that applies it to the end of a batch.
pub(crate) struct Assign<T> {
    window_fn: WindowFn,
    apply: fn(WindowFn, &mut Vec<WindowedValue<T>>, usize),
}

impl<T> Clone for Assign<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Assign<T> {}

impl<T> Assign<T> {
    /// Assigns windows to `batch[from..]`, by timestamp, keeping the order.
    #[inline]
    pub(crate) fn run(&self, batch: &mut Vec<WindowedValue<T>>, from: usize) {
        (self.apply)(self.window_fn, batch, from)
    }
}

/// Assigns windows of `window_fn` to `batch[from..]`: in place where each element has one window, with a
/// copy per window (in window order) where an element may have several or none (sliding windows).
fn assign_windows<T: Clone>(window_fn: WindowFn, batch: &mut Vec<WindowedValue<T>>, from: usize) {
    if let WindowFn::Fixed { .. } = window_fn {
        // Fixed windows tile the time line, so an element in the window of the one before it (most are) is in
        // that window: two comparisons instead of a division.
        let mut last: Option<Window> = None;
        for element in &mut batch[from..] {
            match last {
                Some(window) if window.contains(element.timestamp) => element.window = window,
                _ => {
                    window_fn.assign(element.timestamp, |window| element.window = window);
                    last = Some(element.window);
                }
            }
        }
        return;
    }
    if !matches!(window_fn, WindowFn::Sliding { .. }) {
        for element in &mut batch[from..] {
            let timestamp = element.timestamp;
            window_fn.assign(timestamp, |window| element.window = window);
        }
        return;
    }
    for v in batch.split_off(from) {
        let timestamp = v.timestamp;
        let mut windows = 0;
        window_fn.assign(timestamp, |_| windows += 1);
        let (mut seen, mut value) = (0, Some(v.value));
        // Clones for every window but the last, which takes the value itself.
        window_fn.assign(timestamp, |window| {
            seen += 1;
            let value = if seen == windows { value.take() } else { value.clone() };
            if let Some(value) = value {
                batch.push(WindowedValue { timestamp, window, value });
            }
        });
    }
}

/// `upstream`, with `assign` done on its elements if there is one.
fn windowed<T: Send + 'static>(upstream: Box<dyn Node<T>>, assign: Option<Assign<T>>) -> Box<dyn Node<T>> {
    match assign {
        Some(assign) => Box::new(Windowing { upstream, assign }),
        None => upstream,
    }
}

/// Reassigns windows by timestamp (where no DoFn follows to do it).
struct Windowing<T> {
    upstream: Box<dyn Node<T>>,
    assign: Assign<T>,
}

impl<T: Send + 'static> Node<T> for Windowing<T> {
    fn step(&mut self, out: &mut Vec<WindowedValue<T>>) -> Result<Option<Step>, Error> {
        let from = out.len();
        let step = self.upstream.step(out)?;
        self.assign.run(out, from);
        Ok(step)
    }

    fn finish(&mut self, summary: &mut Summary) -> Result<(), Error> {
        self.upstream.finish(summary)
    }

    fn reads_ahead(&self) -> bool {
        self.upstream.reads_ahead()
    }

    fn processing_time_start(&self) -> Instant {
        self.upstream.processing_time_start()
    }

    fn take_tagged(&mut self, into: &mut TaggedOutputs) {
        self.upstream.take_tagged(into);
    }
}

/// A DoFn applied to the elements of its upstream.
struct Stage<F: DoFn> {
    upstream: Box<dyn Node<F::Input>>,
    executor: Executor<F>,
    buffer: Vec<WindowedValue<F::Input>>,
    /// The windows to assign to the upstream's elements first, if any.
    assign: Option<Assign<F::Input>>,
}

impl<F: DoFn> Node<F::Output> for Stage<F> {
    fn step(&mut self, out: &mut Vec<WindowedValue<F::Output>>) -> Result<Option<Step>, Error> {
        let Some(step) = self.upstream.step(&mut self.buffer)? else { return Ok(None) };
        // Outputs go straight into `out`.
        self.executor.run_step(&mut self.buffer, self.assign.as_ref(), step, out)?;
        Ok(Some(Step { watermark: self.executor.output_watermark(), ..step }))
    }

    fn finish(&mut self, summary: &mut Summary) -> Result<(), Error> {
        // Every stage is torn down and reports, even after an upstream one failed to; the first error wins.
        let upstream = self.upstream.finish(summary);
        let teardown = self.executor.teardown();
        summary.tagged.append(self.executor.take_tagged());
        summary.metrics.push((F::NAME, self.executor.metrics()));
        upstream.and(teardown)
    }

    fn reads_ahead(&self) -> bool {
        self.upstream.reads_ahead()
    }

    fn processing_time_start(&self) -> Instant {
        self.upstream.processing_time_start()
    }

    fn take_tagged(&mut self, into: &mut TaggedOutputs) {
        self.upstream.take_tagged(into);
        into.append(self.executor.take_tagged());
    }
}

/// The end of a pipeline that could not be built; [`Pipeline::run`] reports its error.
struct Failed<T>(std::marker::PhantomData<fn() -> T>);

impl<T> Node<T> for Failed<T> {
    fn step(&mut self, _out: &mut Vec<WindowedValue<T>>) -> Result<Option<Step>, Error> {
        Ok(None)
    }
    fn finish(&mut self, _summary: &mut Summary) -> Result<(), Error> {
        Ok(())
    }
    fn reads_ahead(&self) -> bool {
        true
    }
    fn processing_time_start(&self) -> Instant {
        Instant::EPOCH
    }
    fn take_tagged(&mut self, _into: &mut TaggedOutputs) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_windows_are_assigned_as_their_window_fn_assigns_them_in_any_order() {
        let window_fn = WindowFn::Fixed { size: Duration::from_millis(10), offset: Duration::from_millis(3) };
        let mut times = vec![-25, -21, -20, -8, 2, 3, 4, 12, 13, 12, 2, 13, 22, 23, 100, 99, 1_000, -1_000, 0, 9, 10];
        times.extend(
            [Instant::MIN, Instant::MIN, Instant::GLOBAL_WINDOW_MAX, Instant::MAX, Instant::MAX].map(|t| t.millis()),
        );
        let mut batch: Vec<WindowedValue<usize>> = times
            .iter()
            .enumerate()
            .map(|(i, &t)| WindowedValue { timestamp: Instant::from_millis(t), window: Window::GLOBAL, value: i })
            .collect();
        assign_windows(window_fn, &mut batch, 1);
        // Elements before `from` keep their window.
        assert_eq!(batch[0].window, Window::GLOBAL);
        for element in &batch[1..] {
            let mut expected = Vec::new();
            window_fn.assign(element.timestamp, |window| expected.push(window));
            assert_eq!(vec![element.window], expected, "element {} at {:?}", element.value, element.timestamp);
        }
    }
}
