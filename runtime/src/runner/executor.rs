//! The engine of one DoFn on one thread: state and timers per key and window, the watermark, the clock.

use hashbrown::HashMap;
use std::collections::BTreeSet;

use crate::context::{BundleContext, ExpirationContext, Outputs, ProcessContext, TimerContext, WindowedValue};
use crate::dofn::DoFn;
use crate::error::{BoxError, Error, Site};
use crate::metrics::Metrics;
use crate::state::StateRecord;
use crate::time::{Duration, Instant};
use crate::timer::{Queued, TimeDomain, TimerEnv, TimerFamily, TimerRecord, TimerSlot};
use crate::window::{Window, WindowFn, WindowingStrategy};

use super::backend::{InMemoryBackend, RecordId, StateBackend};
use super::pipeline::{Assign, Step};
use super::queue::{Entry, TimerQueue};

/// The processing-time queue is swept ([`Executor::sweep_processing_timers`]) no sooner than at this length.
const MIN_SWEEP: usize = 1024;

/// `Entry::tag` of a plain (non-family) timer.
const PLAIN: u32 = u32::MAX;

/// The timer and hold queues.
type Queue = TimerQueue;

/// The default backend of a DoFn.
pub(crate) type DefaultBackend<F> = InMemoryBackend<<F as DoFn>::Key, <F as DoFn>::State, <F as DoFn>::Timers>;

/// Runs one DoFn instance over the keys and windows it is given, single-threaded.
pub(crate) struct Executor<F: DoFn, B = DefaultBackend<F>> {
    dofn: F,
    strategy: WindowingStrategy,
    skew: Duration,
    stateful: bool,
    set_up: bool,
    in_bundle: bool,
    // The cells and timers per key and window.
    backend: B,
    // Records per window, in creation order, and windows by garbage-collection time.
    windows: HashMap<Window, Vec<RecordId>>,
    gc_order: BTreeSet<(Instant, Window)>,
    event_timers: Queue,
    processing_timers: Queue,
    /// The length of the processing-time queue past which an expiry sweeps out the entries of records gone.
    sweep_processing_at: usize,
    holds: Queue,
    seq: u64,
    input_watermark: Instant,
    processing_time: Instant,
    // A stateless DoFn's (empty) state and timers.
    no_state: F::State,
    no_timers: F::Timers,
    out: Outputs<F::Output>,
    metrics: Metrics,
    /// The message of a callback's panic: the executor may have stopped half-way, so it runs nothing more.
    poisoned: Option<(String, Option<Box<Site>>)>,
    /// Where the callback that panicked ran (its key and window), noted as the panic passes on its way to
    /// [`Executor::run_step`].
    panic_site: Option<Box<Site>>,
    /// The output watermark last reported (it never moves back).
    output_watermark: Instant,
    /// The timer callback or expiration running, if any.
    running: Option<Running>,
    scratch: Vec<Option<RecordId>>,
    /// The end of the last window whose GC time was needed (the GC time depends on the end alone), and
    /// that time.
    last_gc: (Instant, Instant),
}

impl<F: DoFn> Executor<F> {
    /// An executor for `dofn` over input windowed by `strategy`, with in-memory state; checks the pipeline
    /// shape first.
    pub(crate) fn new(dofn: F, strategy: WindowingStrategy) -> Result<Self, Error> {
        Executor::with_backend(dofn, strategy, DefaultBackend::<F>::default())
    }
}

impl<F: DoFn, B: StateBackend<F::Key, F::State, F::Timers>> Executor<F, B> {
    /// An executor for `dofn` over input windowed by `strategy`, keeping state in `backend`.
    pub(crate) fn with_backend(dofn: F, strategy: WindowingStrategy, backend: B) -> Result<Self, Error> {
        let stateful = F::is_stateful();
        check_applicable::<F>(&strategy)?;
        Ok(Executor {
            skew: dofn.allowed_timestamp_skew(),
            no_state: dofn.new_state(),
            dofn,
            strategy,
            stateful,
            set_up: false,
            in_bundle: false,
            backend,
            windows: HashMap::new(),
            gc_order: BTreeSet::new(),
            event_timers: Queue::default(),
            processing_timers: Queue::default(),
            sweep_processing_at: MIN_SWEEP,
            holds: Queue::default(),
            seq: 0,
            input_watermark: Instant::MIN,
            processing_time: Instant::EPOCH,
            no_timers: F::Timers::default(),
            out: Outputs::default(),
            metrics: Metrics::default(),
            poisoned: None,
            panic_site: None,
            output_watermark: Instant::MIN,
            running: None,
            scratch: Vec::new(),
            last_gc: (Window::GLOBAL.end(), strategy.gc_time(&Window::GLOBAL)),
        })
    }

    /// Sets where the processing-time clock starts (before any step).
    pub(crate) fn set_processing_time_start(&mut self, t: Instant) {
        self.processing_time = t;
    }

    pub(crate) fn input_watermark(&self) -> Instant {
        self.input_watermark
    }

    pub(crate) fn processing_time(&self) -> Instant {
        self.processing_time
    }

    pub(crate) fn metrics(&self) -> Metrics {
        self.metrics
    }

    /// The number of live (key, window) records.
    pub(crate) fn live_records(&self) -> usize {
        self.backend.len()
    }

    fn site(&self, method: String, key: Option<&F::Key>, window: Option<Window>, ts: Option<Instant>) -> Box<Site> {
        Box::new(Site {
            dofn: F::NAME,
            method,
            key: if self.stateful { key.map(debug_of) } else { None },
            window,
            timestamp: ts,
        })
    }

    /// Notes where a callback panicked (the method, and the key and window of record `rec`), for the error
    /// [`Executor::run_step`] makes of the panic.
    #[cold]
    #[inline(never)]
    fn note_panic(&mut self, method: String, rec: RecordId, ts: Option<Instant>) {
        let record = self.backend.get(rec).map(|r| (r.key.clone(), r.window));
        let (key, window) = record.map_or((None, None), |(k, w)| (Some(k), Some(w)));
        self.panic_site = Some(self.site(method, key.as_ref(), window, ts));
    }

    /// Where the callback that panicked ran, once the panic is caught: noted on its way, or the timer or
    /// expiration that was running.
    #[cold]
    #[inline(never)]
    fn panic_site(&mut self) -> Option<Box<Site>> {
        match self.running.take() {
            _ if self.panic_site.is_some() => {}
            Some(Running::Timer(e, firing)) => {
                if let Some(record) = self.backend.get(e.rec) {
                    let (id, tag) = timer_name::<F>(record.timers, &e);
                    let method = timer_method(id, e.tag, tag);
                    self.note_panic(method, e.rec, Some(firing));
                }
            }
            Some(Running::Expiration(rec, window)) => {
                self.note_panic("on_window_expiration".into(), rec, Some(window.max_timestamp()));
            }
            Some(Running::Bundle(method)) => self.panic_site = Some(self.site(method.into(), None, None, None)),
            None => {}
        }
        self.panic_site.take()
    }

    /// Sets the DoFn up and starts a bundle, unless both are done.
    #[inline]
    fn ensure_started(&mut self) -> Result<(), Error> {
        if self.set_up && self.in_bundle { Ok(()) } else { self.start() }
    }

    #[cold]
    #[inline(never)]
    fn start(&mut self) -> Result<(), Error> {
        if !self.set_up {
            // (Set up only once `#[setup]` succeeds: after a failure, the next call tries again rather than
            // run the DoFn unset.)
            self.running = Some(Running::Bundle("setup"));
            let result = self.dofn.setup();
            self.running = None;
            result.map_err(|e| Error::User { site: self.site("setup".into(), None, None, None), source: e })?;
            self.set_up = true;
        }
        if !self.in_bundle {
            self.in_bundle = true;
            self.metrics.bundles += 1;
            self.running = Some(Running::Bundle("start_bundle"));
            let result = self.dofn.start_bundle();
            self.running = None;
            result.map_err(|e| Error::User { site: self.site("start_bundle".into(), None, None, None), source: e })?;
        }
        Ok(())
    }

    /// Ends the current bundle, if one is open: calls `#[finish_bundle]`.
    pub(crate) fn finish_bundle(&mut self) -> Result<(), Error> {
        if !self.in_bundle {
            return Ok(());
        }
        self.in_bundle = false;
        self.running = Some(Running::Bundle("finish_bundle"));
        let result = self.dofn.finish_bundle(&mut BundleContext::new(&mut self.out));
        self.running = None;
        result.map_err(|e| Error::User { site: self.site("finish_bundle".into(), None, None, None), source: e })
    }

    /// Calls `#[teardown]` if the DoFn was set up (and did not panic). A panic in it becomes
    /// [`Error::Panicked`] naming `teardown`, as a panic in any other callback does, so that the run reports it
    /// and the other stages are still torn down.
    pub(crate) fn teardown(&mut self) -> Result<(), Error> {
        if !self.set_up || self.poisoned.is_some() {
            return Ok(());
        }
        self.set_up = false;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.dofn.teardown()));
        let site = self.site("teardown".into(), None, None, None);
        match result {
            Ok(result) => result.map_err(|e| Error::User { site, source: e }),
            Err(payload) => {
                let message = panic_message(payload.as_ref());
                self.poisoned = Some((message.clone(), Some(site.clone())));
                Err(Error::Panicked { dofn: F::NAME, message, site: Some(site) })
            }
        }
    }

    /// Runs `f` as one bundle, with the main outputs going straight to the end of `out`, and ends the bundle
    /// with `#[finish_bundle]`. A bundle that fails is abandoned, as Beam abandons one: `#[finish_bundle]` is
    /// not called, its outputs are taken off `out` again and not counted, and the next callback starts a new
    /// bundle with `#[start_bundle]`. (What it did before it failed, to state and timers, stays done.)
    #[inline]
    pub(crate) fn run_bundle(
        &mut self,
        out: &mut Vec<WindowedValue<F::Output>>,
        f: impl FnOnce(&mut Self) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut pending = std::mem::take(&mut self.out.main);
        out.append(&mut pending);
        let before = out.len();
        std::mem::swap(&mut self.out.main, out);
        let result = f(self).and_then(|()| self.finish_bundle());
        std::mem::swap(&mut self.out.main, out);
        match result {
            Ok(()) => self.metrics.outputs += (out.len() - before) as u64,
            Err(_) => self.abandon_bundle(out, before),
        }
        result
    }

    /// Ends a failed bundle without `#[finish_bundle]`, dropping the outputs it made (main: `out[before..]`;
    /// tagged).
    #[cold]
    fn abandon_bundle(&mut self, out: &mut Vec<WindowedValue<F::Output>>, before: usize) {
        self.in_bundle = false;
        out.truncate(before);
        // The tagged outputs are taken after every step, so those held now are this bundle's.
        self.out.tagged = crate::context::TaggedOutputs::default();
    }

    /// One step of a pipeline as one bundle, outputs written to the end of `out`: assigns windows to `batch`
    /// (if `assign`), processes it (emptying it), advances the clock and the watermark to `time`, finishes the
    /// bundle. A panic of a callback becomes [`Error::Panicked`]; after one, every step fails the same way.
    pub(crate) fn run_step(
        &mut self,
        batch: &mut Vec<WindowedValue<F::Input>>,
        assign: Option<&Assign<F::Input>>,
        time: Step,
        out: &mut Vec<WindowedValue<F::Output>>,
    ) -> Result<(), Error> {
        if let Some((message, site)) = &self.poisoned {
            return Err(Error::Panicked { dofn: F::NAME, message: message.clone(), site: site.clone() });
        }
        if let Some(assign) = assign {
            assign.run(batch, 0);
        }
        let run = |executor: &mut Self| {
            if time.clock_first {
                executor.advance_processing_time(time.processing_time)?;
            }
            executor.process_batch(batch)?;
            executor.advance_processing_time(time.processing_time)?;
            executor.advance_watermark(time.watermark)
        };
        let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run_bundle(out, run)));
        step.unwrap_or_else(|payload| {
            let message = panic_message(payload.as_ref());
            let site = self.panic_site();
            self.poisoned = Some((message.clone(), site.clone()));
            Err(Error::Panicked { dofn: F::NAME, message, site })
        })
    }

    /// Takes the tagged outputs made so far.
    pub(crate) fn take_tagged(&mut self) -> crate::context::TaggedOutputs {
        std::mem::take(&mut self.out.tagged)
    }

    /// Processes a batch of elements, in order, emptying `batch`. Elements of expired windows are dropped and
    /// counted. For a stateful DoFn it first finds (or creates) the record of every element, in a tight loop
    /// whose independent hash-table lookups overlap in the CPU (each announced to the backend some elements
    /// ahead, if it asks for that), then runs the DoFn on each.
    pub(crate) fn process_batch(&mut self, batch: &mut Vec<WindowedValue<F::Input>>) -> Result<(), Error> {
        if batch.is_empty() {
            return Ok(());
        }
        self.ensure_started()?;
        // The elements stay in `batch` while they are processed (each callback borrows its own), so that a panic
        // can be told where it happened; the batch is emptied after, whatever happened. On an error the rest of
        // the batch is dropped with it: the step ends with that error.
        if !self.stateful {
            let seen = self.metrics.elements_processed;
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                batch.iter().try_for_each(|element| self.call_process(element, None))
            }));
            let result = run.unwrap_or_else(|payload| {
                // The element that panicked is the last one counted. (No key: the DoFn is not keyed.)
                let index = (self.metrics.elements_processed - seen).checked_sub(1);
                let element = index.and_then(|i| batch.get(i as usize));
                let (window, ts) = (element.map(|e| e.window), element.map(|e| e.timestamp));
                self.panic_site = Some(self.site("process_element".into(), None, window, ts));
                batch.clear();
                std::panic::resume_unwind(payload)
            });
            batch.clear();
            return result;
        }
        let mut records = std::mem::take(&mut self.scratch);
        records.clear();
        match self.backend.prefetch_distance() {
            0 => records.extend(batch.iter().map(|e| self.resolve(e))),
            ahead => {
                for (i, element) in batch.iter().enumerate() {
                    if let Some(later) = batch.get(i + ahead) {
                        self.backend.prefetch(F::key_of(&later.value), later.window);
                    }
                    records.push(self.resolve(element));
                }
            }
        }
        let seen = self.metrics.elements_processed + self.metrics.late_elements_dropped;
        // (The catch costs nothing until a callback panics; the panic goes on once its site is noted.)
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            records.iter().zip(batch.iter()).try_for_each(|(record, element)| match record {
                Some(rec) => self.call_process(element, Some(*rec)),
                None => {
                    self.metrics.late_elements_dropped += 1;
                    Ok(())
                }
            })
        }));
        let result = run.unwrap_or_else(|payload| {
            // The element that panicked is the last one counted.
            let index = (self.metrics.elements_processed + self.metrics.late_elements_dropped - seen).checked_sub(1);
            if let Some(i) = index.map(|i| i as usize)
                && let (Some(&Some(rec)), Some(element)) = (records.get(i), batch.get(i))
            {
                self.note_panic("process_element".into(), rec, Some(element.timestamp));
            }
            self.scratch = std::mem::take(&mut records);
            batch.clear();
            std::panic::resume_unwind(payload)
        });
        self.scratch = records;
        batch.clear();
        result
    }

    /// Processes one element (see [`Executor::process_batch`]).
    pub(crate) fn process_one(&mut self, element: WindowedValue<F::Input>) -> Result<(), Error> {
        self.ensure_started()?;
        if !self.stateful {
            return self.call_process(&element, None);
        }
        match self.resolve(&element) {
            Some(rec) => self.call_process(&element, Some(rec)),
            None => {
                self.metrics.late_elements_dropped += 1;
                Ok(())
            }
        }
    }

    /// The record of a stateful DoFn's element, found or created; `None` if its window has expired.
    #[inline]
    fn resolve(&mut self, element: &WindowedValue<F::Input>) -> Option<RecordId> {
        if self.gc_time(element.window) < self.input_watermark {
            None
        } else {
            Some(self.record_for(F::key_of(&element.value), element.window))
        }
    }

    /// Runs `#[process_element]` on an element, with its record (stateful DoFns) or with no state (stateless
    /// DoFns). The bundle has been started.
    #[inline(always)]
    fn call_process(&mut self, element: &WindowedValue<F::Input>, record: Option<RecordId>) -> Result<(), Error> {
        self.metrics.elements_processed += 1;
        let WindowedValue { timestamp, window, ref value } = *element;
        let expiry = self.gc_time(window);
        let env = TimerEnv {
            event_time: timestamp,
            input_timestamp: timestamp,
            processing_time: self.processing_time,
            expiry,
            skew: self.skew,
        };
        let mut cx =
            ProcessContext::new(value, timestamp, window, expiry, self.processing_time, self.skew, &mut self.out);
        let result = match record.and_then(|rec| self.backend.get(rec)) {
            Some(r) => self.dofn.process_element(&mut cx, r.state, r.timers, &env),
            None => self.dofn.process_element(&mut cx, &mut self.no_state, &mut self.no_timers, &env),
        };
        self.after_call(result, record, true, || ("process_element".to_string(), window, timestamp))
    }

    /// Checks a callback's outcome: its result, its outputs' timestamps, the timers it set; queues its timers.
    #[inline(always)]
    fn after_call(
        &mut self,
        result: Result<(), BoxError>,
        rec: Option<RecordId>,
        sync: bool,
        what: impl FnOnce() -> (String, Window, Instant),
    ) -> Result<(), Error> {
        let has_timers = !F::TIMERS.is_empty() || !F::TIMER_FAMILIES.is_empty();
        let timer_error = match rec {
            Some(rec) if sync && has_timers => self.sync_timers(rec),
            _ => None,
        };
        if timer_error.is_none() && result.is_ok() && self.out.error.is_none() {
            return Ok(());
        }
        let (method, window, ts) = what();
        self.call_error(result, rec, timer_error, method, window, ts).map_or(Ok(()), Err)
    }

    /// The error of a callback that failed, set an invalid timer or output at an invalid timestamp (`None` if
    /// it did none of these).
    #[cold]
    #[inline(never)]
    fn call_error(
        &mut self,
        result: Result<(), BoxError>,
        rec: Option<RecordId>,
        timer_error: Option<(String, crate::error::TimerError)>,
        method: String,
        window: Window,
        ts: Instant,
    ) -> Option<Error> {
        let key = rec.and_then(|r| self.backend.get(r)).map(|r| r.key.clone());
        let site = self.site(method, key.as_ref(), Some(window), Some(ts));
        // Taken whichever error is reported, so that it is not reported again for a later call.
        let output_error = self.out.error.take();
        if let Some((timer, error)) = timer_error {
            return Some(Error::Timer { site, timer, error });
        }
        if let Err(source) = result {
            return Some(Error::User { site, source });
        }
        let e = output_error?;
        Some(Error::OutputTimestamp { site, output: e.output, input: e.input, skew: e.skew })
    }

    /// The garbage-collection time of `window`, remembered for the last window asked about (elements of a
    /// batch mostly share their window).
    #[inline(always)]
    fn gc_time(&mut self, window: Window) -> Instant {
        if window.end() != self.last_gc.0 {
            self.last_gc = (window.end(), self.strategy.gc_time(&window));
        }
        self.last_gc.1
    }

    /// Finds or creates the record of (key, window).
    #[inline]
    fn record_for(&mut self, key: &F::Key, window: Window) -> RecordId {
        let dofn = &self.dofn;
        let (rec, created) = self.backend.get_or_create(key, window, || dofn.new_state());
        if created {
            let strategy = &self.strategy;
            let gc_order = &mut self.gc_order;
            self.windows
                .entry(window)
                .or_insert_with(|| {
                    gc_order.insert((strategy.gc_time(&window), window));
                    Vec::new()
                })
                .push(rec);
        }
        rec
    }

    /// Queues the timers a callback set on record `rec`; returns the first invalid request, if any. Most
    /// calls only clear the flag of a timer set again no earlier than its queued entry: that stays inline, the
    /// error, rare, is looked for apart. A family of a few tags has each of its slots looked at; one of many
    /// tags keeps the slots it handed out, looked at out of line.
    #[inline(always)]
    fn sync_timers(&mut self, rec: RecordId) -> Option<(String, crate::error::TimerError)> {
        let record = self.backend.get(rec)?;
        let mut queues = Queues {
            event: &mut self.event_timers,
            processing: &mut self.processing_timers,
            holds: &mut self.holds,
            seq: &mut self.seq,
            input_watermark: self.input_watermark,
        };
        let mut invalid = false;
        for (i, timer) in record.timers.timers().iter_mut().enumerate() {
            if timer.dirty {
                invalid |= queues.sync(timer, F::TIMERS[i].domain, rec, i as u32, PLAIN);
            }
        }
        for (f, family) in record.timers.families().iter_mut().enumerate() {
            if family.dirty {
                let domain = F::TIMER_FAMILIES[f].domain;
                if family.is_indexed() {
                    invalid |= queues.reborrow().sync_indexed(family, domain, rec, f as u32);
                    continue;
                }
                family.dirty = false;
                for (t, (_, timer)) in family.slots.iter_mut().enumerate() {
                    if timer.dirty {
                        invalid |= queues.sync(timer, domain, rec, f as u32, t as u32);
                    }
                }
            }
        }
        if invalid { self.timer_error(rec) } else { None }
    }

    /// The first invalid timer request made on record `rec` (plain timers first, then families, each in
    /// declaration order), taking every slot's error.
    #[cold]
    #[inline(never)]
    fn timer_error(&mut self, rec: RecordId) -> Option<(String, crate::error::TimerError)> {
        let record = self.backend.get(rec)?;
        let mut first = None;
        for (i, timer) in record.timers.timers().iter_mut().enumerate() {
            if let Some(e) = timer.error.take() {
                first.get_or_insert_with(|| (F::TIMERS[i].id.to_string(), *e));
            }
        }
        for (f, family) in record.timers.families().iter_mut().enumerate() {
            for t in 0..family.slots.len() {
                let (tag, timer) = &mut family.slots[t];
                if let Some(e) = timer.error.take() {
                    first.get_or_insert_with(|| (format!("{}[{tag}]", F::TIMER_FAMILIES[f].id), *e));
                    family.release(t);
                }
            }
        }
        first
    }

    /// Advances the input watermark to `watermark` and fires what is due ([`Executor::fire_due`]). A
    /// watermark never moves back; a timer set since the last advance to a time the watermark had already
    /// passed fires now, even if the watermark stays where it was.
    pub(crate) fn advance_watermark(&mut self, watermark: Instant) -> Result<(), Error> {
        self.input_watermark = watermark.max(self.input_watermark);
        self.fire_due()
    }

    /// Advances the processing-time clock to `now` (never back) and fires what is due
    /// ([`Executor::fire_due`]).
    pub(crate) fn advance_processing_time(&mut self, now: Instant) -> Result<(), Error> {
        self.processing_time = now.max(self.processing_time);
        self.fire_due()
    }

    /// Fires every timer due at the current watermark and clock, and expires the windows whose
    /// garbage-collection time the watermark has passed, until nothing is due: processing-time timers at or
    /// before the clock first, then event-time timers before the watermark and window expiries, in time
    /// order. A timer a callback sets behind the watermark or clock, in either domain, fires in the same
    /// advance: before any later event-time timer, and before its window expires.
    fn fire_due(&mut self) -> Result<(), Error> {
        let (watermark, now) = (self.input_watermark, self.processing_time);
        loop {
            if self.processing_timers.peek().is_some_and(|e| e.time <= now) {
                self.fire_next(TimeDomain::ProcessingTime)?;
                continue;
            }
            let next_timer = self.event_timers.peek().map(|e| e.time).filter(|t| *t < watermark);
            let next_gc = self.gc_order.first().map(|(t, _)| *t).filter(|t| *t < watermark);
            match (next_timer, next_gc) {
                // User timers at a window's GC time fire before it expires.
                (Some(t), Some(gc)) if t <= gc => self.fire_next(TimeDomain::EventTime)?,
                (Some(_), None) => self.fire_next(TimeDomain::EventTime)?,
                (_, Some(_)) => {
                    if let Some((_, window)) = self.gc_order.pop_first() {
                        self.expire_window(window)?;
                    }
                }
                (None, None) => return Ok(()),
            }
        }
    }

    /// The output watermark: [`Executor::held_watermark`], kept from moving back (a hold set behind it, by a
    /// late element say, does not move it back). A stage of several shards keeps its own from the shards'
    /// held watermarks instead: a shard's kept alone could be ahead of the stage's, and ignore a hold the
    /// stage must honour.
    pub(crate) fn output_watermark(&mut self) -> Instant {
        let watermark = self.held_watermark();
        self.output_watermark = self.output_watermark.max(watermark);
        self.output_watermark
    }

    /// The input watermark, held back by the output timestamps of pending timers and, with
    /// `#[on_window_expiration]`, by the max timestamp of the first window still to expire.
    pub(crate) fn held_watermark(&mut self) -> Instant {
        let mut watermark = self.held_by_timers();
        if F::HAS_WINDOW_EXPIRATION {
            // `#[on_window_expiration]` outputs at its window's max timestamp, which the input watermark passes
            // before the window expires when there is allowed lateness: until then the window holds the output
            // watermark there (Beam's cleanup timer holds it so), so that the outputs are not late downstream.
            // The window that expires first has the earliest max timestamp.
            if let Some((_, window)) = self.gc_order.first() {
                watermark = watermark.min(window.max_timestamp());
            }
        }
        watermark
    }

    /// The input watermark, held back by the output timestamps of pending timers.
    fn held_by_timers(&mut self) -> Instant {
        // Every live hold is at or after the earliest queued entry (entries only ever trail their slot's hold):
        // if that entry is not before the input watermark, no hold holds the output watermark back.
        if self.holds.peek().is_none_or(|e| e.time >= self.input_watermark) {
            return self.input_watermark;
        }
        while let Some(&e) = self.holds.peek() {
            let Some(slot) = self.timer_slot(&e) else {
                self.holds.pop();
                continue;
            };
            if slot.hold_queued.get() != Some((e.time, e.seq)) {
                self.holds.pop();
                continue;
            }
            match (slot.firing, slot.output) {
                (Some(_), Some(hold)) if hold == e.time => return self.input_watermark.min(hold),
                (Some(_), Some(hold)) if hold > e.time => {
                    self.holds.pop();
                    let seq = next(&mut self.seq);
                    if let Some(slot) = self.timer_slot(&e) {
                        slot.hold_queued = Queued::at(hold, seq);
                    }
                    self.holds.push(Entry { time: hold, seq, ..e });
                }
                _ => {
                    self.holds.pop();
                    if let Some(slot) = self.timer_slot(&e) {
                        slot.hold_queued = Queued::NONE;
                    }
                }
            }
        }
        self.input_watermark
    }

    fn timer_slot(&mut self, e: &Entry) -> Option<&mut TimerSlot> {
        let record = self.backend.get(e.rec)?;
        if e.tag == PLAIN {
            record.timers.timers().get_mut(e.timer as usize)
        } else {
            record.timers.families().get_mut(e.timer as usize)?.slots.get_mut(e.tag as usize).map(|(_, s)| s)
        }
    }

    /// The queue of timers of `domain`.
    fn timer_queue(&mut self, domain: TimeDomain) -> &mut Queue {
        match domain {
            TimeDomain::EventTime => &mut self.event_timers,
            TimeDomain::ProcessingTime => &mut self.processing_timers,
        }
    }

    /// Pops the earliest entry of a timer queue and fires it if it is still current.
    fn fire_next(&mut self, domain: TimeDomain) -> Result<(), Error> {
        // The bundle starts before the entry leaves the queue: if starting fails, the timer is still due.
        self.ensure_started()?;
        let Some(e) = self.timer_queue(domain).pop() else { return Ok(()) };
        let Some(slot) = self.timer_slot(&e) else { return Ok(()) };
        if slot.queued.get() != Some((e.time, e.seq)) {
            return Ok(()); // superseded by an earlier setting
        }
        slot.queued = Queued::NONE;
        let Some(firing) = slot.firing else { return Ok(()) }; // cleared
        if firing > e.time {
            // Reset to a later time since this entry was queued: queue it again, lazily.
            let seq = next(&mut self.seq);
            if let Some(slot) = self.timer_slot(&e) {
                slot.queued = Queued::at(firing, seq);
            }
            self.timer_queue(domain).push(Entry { time: firing, seq, ..e });
            return Ok(());
        }
        let output = slot.output.take();
        slot.firing = None;
        self.fire(e, domain, firing, output)
    }

    /// Runs the callback of the timer of entry `e`, taken off its slot. The bundle has been started. (Out of
    /// line: the DoFn's callbacks are inlined into it, not into the loop over the queue.)
    #[inline(never)]
    fn fire(&mut self, e: Entry, domain: TimeDomain, firing: Instant, output: Option<Instant>) -> Result<(), Error> {
        self.metrics.timers_fired += 1;
        let record = self.backend.get(e.rec).expect("timer of a live record");
        let window = record.window;
        let expiry = self.strategy.gc_time(&window);
        // Outputs of the callback default to the timer's output timestamp; without one, to the firing time
        // (event time) or the input watermark (processing time).
        let input_timestamp = output.unwrap_or(match domain {
            TimeDomain::EventTime => firing,
            TimeDomain::ProcessingTime => self.input_watermark.max(window.start()).min(window.max_timestamp()),
        });
        let event_time = match domain {
            TimeDomain::EventTime => firing,
            TimeDomain::ProcessingTime => input_timestamp,
        };
        let env =
            TimerEnv { event_time, input_timestamp, processing_time: self.processing_time, expiry, skew: self.skew };
        if e.tag != PLAIN {
            record.timers.families()[e.timer as usize].begin_firing(e.tag);
        }
        let (id, tag) = timer_name::<F>(record.timers, &e);
        let tag: Box<str> = tag.into();
        let mut cx = TimerContext::new(
            id,
            &tag,
            domain,
            firing,
            input_timestamp,
            window,
            expiry,
            self.processing_time,
            self.skew,
            &mut self.out,
        );
        // (Noted for the error a panic becomes, and cleared after the call: two stores, where a catch here
        // would cost a call through the unwinder's entry per timer.)
        self.running = Some(Running::Timer(e, firing));
        let result = if e.tag == PLAIN {
            self.dofn.on_timer(e.timer as usize, &mut cx, record.key, record.state, record.timers, &env)
        } else {
            self.dofn.on_timer_family(e.timer as usize, &tag, &mut cx, record.key, record.state, record.timers, &env)
        };
        self.running = None;
        if e.tag != PLAIN
            && let Some(record) = self.backend.get(e.rec)
        {
            record.timers.families()[e.timer as usize].end_firing();
        }
        self.after_call(result, Some(e.rec), true, || (timer_method(id, e.tag, &tag), window, firing))
    }

    /// Expires `window` for every key: runs `#[on_window_expiration]` for each key, then clears the cells and
    /// timers. A callback that fails does not keep the others from running (each key is told its window
    /// expired); the first failure is returned, and nothing of the expired window is kept either way. (A panic
    /// is different: as in any callback, it ends the DoFn's run, which runs nothing more.)
    fn expire_window(&mut self, window: Window) -> Result<(), Error> {
        let Some(records) = self.windows.remove(&window) else { return Ok(()) };
        let mut result = Ok(());
        if F::HAS_WINDOW_EXPIRATION {
            // The bundle is started once for all keys: if that fails, no callback runs.
            result = self.ensure_started();
            if result.is_ok() {
                for &rec in &records {
                    if let Err(e) = self.call_window_expiration(rec, window) {
                        keep_first(&mut result, e);
                    }
                }
            }
        }
        let metrics = &mut self.metrics;
        self.backend.remove_many(&records, |_, _, mut state, mut timers| {
            metrics.windows_expired += 1;
            for (i, t) in timers.timers().iter().enumerate() {
                if t.firing.is_some() && F::TIMERS[i].domain == TimeDomain::ProcessingTime {
                    metrics.timers_dropped += 1;
                }
            }
            for (f, family) in timers.families().iter().enumerate() {
                if F::TIMER_FAMILIES[f].domain == TimeDomain::ProcessingTime {
                    metrics.timers_dropped += family.slots.iter().filter(|(_, s)| s.firing.is_some()).count() as u64;
                }
            }
            state.clear();
        });
        if self.processing_timers.len() > self.sweep_processing_at {
            self.sweep_processing_timers();
        }
        result
    }

    /// Takes out of the processing-time queue the entries of timers that are gone. An expired window's
    /// processing-time timers leave their entries behind (a heap cannot take them out one by one), and those
    /// would wait there until the clock reached them, however far ahead: with a timer per key and window, the
    /// queue would grow with the windows processed. Swept once it is twice as long as after the last sweep, the
    /// cost per entry stays constant.
    #[cold]
    #[inline(never)]
    fn sweep_processing_timers(&mut self) {
        let mut queue = std::mem::take(&mut self.processing_timers);
        queue.retain(|e| self.timer_slot(e).is_some_and(|slot| slot.queued.get() == Some((e.time, e.seq))));
        self.sweep_processing_at = (2 * queue.len()).max(MIN_SWEEP);
        self.processing_timers = queue;
    }

    /// The number of entries in the processing-time queue, live or not.
    #[cfg(test)]
    pub(crate) fn queued_processing_timers(&self) -> usize {
        self.processing_timers.len()
    }

    /// Runs `#[on_window_expiration]` for record `rec` of `window`. The bundle has been started.
    fn call_window_expiration(&mut self, rec: RecordId, window: Window) -> Result<(), Error> {
        let expiry = self.gc_time(window);
        let Some(record) = self.backend.get(rec) else { return Ok(()) };
        let mut cx = ExpirationContext::new(window, expiry, self.skew, &mut self.out);
        self.running = Some(Running::Expiration(rec, window));
        let result = self.dofn.on_window_expiration(&mut cx, record.key, record.state);
        self.running = None;
        let ts = window.max_timestamp();
        self.after_call(result, Some(rec), false, || ("on_window_expiration".into(), window, ts))
    }
}

/// Keeps the first of several errors (out of line: the loop that calls it stays free of error handling).
#[cold]
#[inline(never)]
fn keep_first(result: &mut Result<(), Error>, error: Error) {
    if result.is_ok() {
        *result = Err(error);
    }
}

/// A callback that is running: a record's timer (its queue entry and firing time) or window expiration, or a
/// method of the DoFn's bundles.
#[derive(Clone, Copy)]
enum Running {
    Timer(Entry, Instant),
    Expiration(RecordId, Window),
    /// `#[setup]`, `#[start_bundle]` or `#[finish_bundle]`.
    Bundle(&'static str),
}

/// The id of the timer of queue entry `e`, and its tag (empty for a plain timer).
fn timer_name<'t, F: DoFn>(timers: &'t mut F::Timers, e: &Entry) -> (&'static str, &'t str) {
    if e.tag == PLAIN {
        (F::TIMERS[e.timer as usize].id, "")
    } else {
        let family = &timers.families()[e.timer as usize];
        (F::TIMER_FAMILIES[e.timer as usize].id, family.slots.get(e.tag as usize).map_or("", |s| &*s.0))
    }
}

/// How errors name a timer callback.
fn timer_method(id: &str, tag_index: u32, tag: &str) -> String {
    if tag_index == PLAIN {
        format!("on_timer(\"{id}\")")
    } else {
        format!("on_timer_family(\"{id}\") for tag {tag:?}")
    }
}

/// The timer queues, borrowed apart from the records.
struct Queues<'a> {
    event: &'a mut Queue,
    processing: &'a mut Queue,
    holds: &'a mut Queue,
    seq: &'a mut u64,
    input_watermark: Instant,
}

impl Queues<'_> {
    /// Queues a timer slot's new setting (lazily: a later setting keeps the earlier entry, which re-queues
    /// itself when it comes up); whether the slot holds an error (an invalid request).
    #[inline(always)]
    fn sync(&mut self, slot: &mut TimerSlot, domain: TimeDomain, rec: RecordId, timer: u32, tag: u32) -> bool {
        slot.dirty = false;
        if let Some(firing) = slot.firing {
            if slot.queued.get().is_none_or(|(q, _)| firing < q) {
                let seq = next(self.seq);
                slot.queued = Queued::at(firing, seq);
                let queue = match domain {
                    TimeDomain::EventTime => &mut *self.event,
                    TimeDomain::ProcessingTime => &mut *self.processing,
                };
                queue.push(Entry { time: firing, seq, rec, timer, tag });
            }
            // An event-time timer holding at its own firing time, not before the input watermark, never holds
            // the output watermark back: the watermark passing that time fires it in the same advance.
            let implied =
                domain == TimeDomain::EventTime && slot.output == Some(firing) && firing >= self.input_watermark;
            if let Some(hold) = slot.output
                && !implied
                && slot.hold_queued.get().is_none_or(|(q, _)| hold < q)
            {
                let seq = next(self.seq);
                slot.hold_queued = Queued::at(hold, seq);
                self.holds.push(Entry { time: hold, seq, rec, timer, tag });
            }
        }
        slot.error.is_some()
    }

    /// [`Queues::sync`] for the slots of a family with many tags set or cleared since the runner last looked
    /// (it keeps them, rather than have the runner look at every slot); whether any holds an error.
    #[inline(never)]
    fn sync_indexed(mut self, family: &mut TimerFamily, domain: TimeDomain, rec: RecordId, f: u32) -> bool {
        family.sync_touched(|slot, t| self.sync(slot, domain, rec, f, t))
    }

    /// The queues, borrowed again: made where they are passed on, out of line, so that the caller's stay in
    /// registers.
    #[inline(always)]
    fn reborrow(&mut self) -> Queues<'_> {
        Queues {
            event: self.event,
            processing: self.processing,
            holds: self.holds,
            seq: self.seq,
            input_watermark: self.input_watermark,
        }
    }
}

#[inline]
fn next(seq: &mut u64) -> u64 {
    *seq += 1;
    *seq
}

/// Checks that `F` can run on input windowed by `strategy`, before any element is processed.
fn check_applicable<F: DoFn>(strategy: &WindowingStrategy) -> Result<(), Error> {
    strategy.validate().map_err(|message| Error::Construction { dofn: F::NAME, message })?;
    if F::is_stateful() && strategy.window_fn.is_merging() {
        let windows = match strategy.window_fn {
            WindowFn::Sessions { gap } => format!("session windows with a gap of {gap}"),
            _ => "merging windows".to_string(),
        };
        return Err(Error::Construction {
            dofn: F::NAME,
            message: format!(
                "it is stateful, and stateful DoFns cannot run on merging windows ({windows}): state is kept per \
                 window, and merging windows would have to merge it. Window the input with fixed, sliding or \
                 global windows"
            ),
        });
    }
    Ok(())
}

/// A key's `Debug` form for an error, or a note that it panicked (an error is often made while a panic is
/// being handled, where a second one would escape the run).
#[cold]
fn debug_of<K: std::fmt::Debug>(key: &K) -> String {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| format!("{key:?}")))
        .unwrap_or_else(|payload| format!("(its `Debug` panicked: {})", panic_message(payload.as_ref())))
}

/// The message of a caught panic, when it was a string.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(s), _) => (*s).to_string(),
        (_, Some(s)) => s.clone(),
        _ => "a panic without a message".to_string(),
    }
}
