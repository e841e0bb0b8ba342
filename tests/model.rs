//! A randomized differential test: random scripts run on the runner (one worker, three workers, the harness)
//! and on a plain reference model of the semantics contract (`runtime/src/runner/mod.rs`), written here from
//! the documented rules alone. The outputs must agree per key and window, in order, with their timestamps.
//!
//! The DoFn under test, [`Scripted`], does what each element tells it: add to a bag, bump a counter, set or
//! clear one of its timers (two event-time, one processing-time), queue a plan of timer requests that its
//! callbacks carry out one per firing (a callback that re-arms a timer), output what it saw. The model does
//! the same on maps and sorted vectors.
//!
//! `DOFN_MODEL_SEED=<n>` runs one seed and prints its script and the model's outputs.
//!
//! Where the contract leaves a choice open, the model makes one and says so in a comment marked "Decision".

use std::collections::BTreeMap;
use std::fmt::Write as _;

use dofn::prelude::*;
use dofn::testing::Harness;

// ---------------------------------------------------------------------------------------------------------
// The script: what elements ask the DoFn to do, and the steps of a test stream.
// ---------------------------------------------------------------------------------------------------------

/// One of the DoFn's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Name {
    /// Event time, timer id "et".
    Et,
    /// Event time, timer id "et2".
    Et2,
    /// Processing time, timer id "pt".
    Pt,
}

impl Name {
    fn id(self) -> &'static str {
        match self {
            Name::Et => "et",
            Name::Et2 => "et2",
            Name::Pt => "pt",
        }
    }

    fn is_event_time(self) -> bool {
        self != Name::Pt
    }
}

/// The output timestamp a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hold {
    /// None asked for: the timer's default.
    Default,
    /// `with_output_timestamp(input + k)`, when that is valid (at or before the firing time of an event-time
    /// timer and the window's expiry); the default otherwise.
    After(i64),
    /// `with_no_output_timestamp()`.
    Nothing,
}

/// A request to one timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Req {
    /// `offset(d).set_relative()`: event time from the element's timestamp (in a callback, the firing time of
    /// an event-time timer, the output timestamp of a processing-time one), capped at the window's expiry;
    /// processing time from the clock.
    Relative(i64, Hold),
    /// `set(window.max_timestamp())` (event time only).
    WindowMax(Hold),
    /// `clear()`.
    Clear,
}

/// A timer request that a callback carries out: the first one queued when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Plan {
    timer: Name,
    req: Req,
    /// Clear the bag (after outputting it).
    flush: bool,
}

/// What one element tells the DoFn to do, in this order.
#[derive(Clone, Debug, PartialEq)]
struct Act {
    /// The element's id, added to the bag if `add`.
    id: u32,
    add: bool,
    /// Add one to the counter.
    bump: bool,
    timer: Option<(Name, Req)>,
    /// Queued for the callbacks.
    plan: Option<Plan>,
    /// Output what the element saw.
    emit: bool,
}

type K = u8;
type Input = (K, Act);

/// What the DoFn outputs (its timestamp and window are those of the output).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Out {
    /// `#[process_element]`: the element's id, the cells after its actions, the processing time.
    Element { key: K, id: u32, count: Option<u32>, bag: Vec<u32>, now: i64 },
    /// A timer callback: the timer, its firing time, the cells before the plan it carries out, and the clock.
    Fired { key: K, timer: &'static str, firing: i64, count: Option<u32>, bag: Vec<u32>, plans: usize, now: i64 },
    /// `#[on_window_expiration]`: the cells it saw.
    Expired { key: K, count: Option<u32>, bag: Vec<u32>, plans: usize },
}

impl Out {
    fn key(&self) -> K {
        match self {
            Out::Element { key, .. } | Out::Fired { key, .. } | Out::Expired { key, .. } => *key,
        }
    }
}

/// One scripted step, as in [`dofn::testing::TestEvent`]; times in ms.
#[derive(Clone, Debug)]
enum Ev {
    Elements(Vec<(Input, i64)>),
    Watermark(i64),
    Clock(i64),
}

/// How the input is windowed.
#[derive(Clone, Copy, Debug)]
struct Config {
    windows: Windows,
    lateness: i64,
}

#[derive(Clone, Copy, Debug)]
enum Windows {
    Fixed(i64),
    /// Size, period.
    Sliding(i64, i64),
    Global,
}

/// A generated case.
#[derive(Clone, Debug)]
struct Script {
    config: Config,
    events: Vec<Ev>,
}

const MIN: i64 = Instant::MIN.millis();
const MAX: i64 = Instant::MAX.millis();
/// The end of the global window (its max timestamp is one ms before).
const GLOBAL_END: i64 = Instant::GLOBAL_WINDOW_MAX.millis() + 1;

/// `t` moved by `d` ms, clamped to the bounds of time as instants are.
fn plus(t: i64, d: i64) -> i64 {
    t.saturating_add(d).clamp(MIN, MAX)
}

// ---------------------------------------------------------------------------------------------------------
// The DoFn under test.
// ---------------------------------------------------------------------------------------------------------

#[dofn]
#[derive(Clone, Default)]
struct Scripted {
    #[state_id("bag")]
    bag: StateSpec<Bag<u32>>,
    #[state_id("count")]
    count: StateSpec<Value<u32>>,
    #[state_id("plans")]
    plans: StateSpec<Value<Vec<Plan>>>,
    #[timer_id("et")]
    et: TimerSpec<EventTime>,
    #[timer_id("et2")]
    et2: TimerSpec<EventTime>,
    #[timer_id("pt")]
    pt: TimerSpec<ProcessingTime>,
}

/// The times a timer request is made at.
#[derive(Clone, Copy)]
struct At {
    /// What relative event-time timers count from.
    event_base: i64,
    /// The timestamp of the input being processed: what output timestamps are checked against.
    input: i64,
    max_ts: i64,
    expiry: i64,
}

/// Carries out `req` on `timer` (of domain `name`), choosing the output timestamp as [`hold_for`] does.
fn request(timer: &mut Timer, name: Name, req: Req, at: At) {
    let (target, hold) = match req {
        Req::Clear => {
            timer.clear();
            return;
        }
        Req::Relative(offset, hold) if name.is_event_time() => (plus(at.event_base, offset).min(at.expiry), hold),
        Req::WindowMax(hold) => (at.max_ts, hold),
        // (Processing time: the target is on the clock, which the output timestamp is not checked against.)
        Req::Relative(_, hold) => (MAX, hold),
    };
    match hold_for(name, hold, target, at) {
        HoldChoice::Default => {}
        HoldChoice::At(t) => {
            timer.with_output_timestamp(Instant::from_millis(t));
        }
        HoldChoice::Nothing => {
            timer.with_no_output_timestamp();
        }
    }
    match req {
        Req::Relative(offset, _) => timer.offset(Duration::from_millis(offset)).set_relative(),
        _ => timer.set(Instant::from_millis(target)),
    }
}

enum HoldChoice {
    Default,
    At(i64),
    Nothing,
}

/// The output timestamp to ask for: `input + k` only where the contract allows it (not before the input,
/// not after an event-time timer's firing time, not after the window's expiry), so that no request fails.
fn hold_for(name: Name, hold: Hold, target: i64, at: At) -> HoldChoice {
    match hold {
        Hold::Default => HoldChoice::Default,
        Hold::Nothing => HoldChoice::Nothing,
        Hold::After(k) => {
            let t = plus(at.input, k);
            let limit = if name.is_event_time() { target.min(at.expiry) } else { at.expiry };
            if t <= limit { HoldChoice::At(t) } else { HoldChoice::Default }
        }
    }
}

/// Carries out `req` on the timer `name`.
fn request_to(name: Name, req: Req, at: At, et: &mut Timer, et2: &mut Timer, pt: &mut Timer) {
    match name {
        Name::Et => request(et, name, req, at),
        Name::Et2 => request(et2, name, req, at),
        Name::Pt => request(pt, name, req, at),
    }
}

/// The cells a callback sees.
struct Cells<'c> {
    bag: &'c mut Bag<u32>,
    count: &'c mut Value<u32>,
    plans: &'c mut Value<Vec<Plan>>,
}

/// What every timer callback does: outputs what it saw, then carries out the first plan queued.
#[allow(clippy::too_many_arguments)]
fn on_fire(
    cx: &mut TimerContext<Out>,
    key: K,
    name: Name,
    cells: Cells<'_>,
    et: &mut Timer,
    et2: &mut Timer,
    pt: &mut Timer,
) {
    let Cells { bag, count, plans } = cells;
    let firing = cx.firing_timestamp().millis();
    let timestamp = cx.timestamp().millis();
    cx.output(Out::Fired {
        key,
        timer: name.id(),
        firing,
        count: count.read().copied(),
        bag: bag.read().copied().collect(),
        plans: plans.read().map_or(0, Vec::len),
        now: cx.processing_time().millis(),
    });
    let Some(queue) = plans.get_mut() else { return };
    if queue.is_empty() {
        return;
    }
    let plan = queue.remove(0);
    if plan.flush {
        bag.clear();
    }
    let event_base = if name.is_event_time() { firing } else { timestamp };
    let window = cx.window();
    let at = At {
        event_base,
        input: timestamp,
        max_ts: window.max_timestamp().millis(),
        expiry: cx.window_expiry().millis(),
    };
    request_to(plan.timer, plan.req, at, et, et2, pt);
}

#[dofn]
impl Scripted {
    #[process_element]
    #[allow(clippy::too_many_arguments)]
    fn process(
        &self,
        cx: &mut ProcessContext<Input, Out>,
        #[state_id("bag")] bag: &mut Bag<u32>,
        #[state_id("count")] count: &mut Value<u32>,
        #[state_id("plans")] plans: &mut Value<Vec<Plan>>,
        #[timer_id("et")] et: &mut Timer,
        #[timer_id("et2")] et2: &mut Timer,
        #[timer_id("pt")] pt: &mut Timer,
    ) {
        let (key, act) = cx.element();
        if act.add {
            bag.add(act.id);
        }
        if act.bump {
            *count.get_or_insert_with(|| 0) += 1;
        }
        if let Some((name, req)) = act.timer {
            let ts = cx.timestamp().millis();
            let at = At {
                event_base: ts,
                input: ts,
                max_ts: cx.window().max_timestamp().millis(),
                expiry: cx.window_expiry().millis(),
            };
            request_to(name, req, at, et, et2, pt);
        }
        if let Some(plan) = act.plan {
            plans.get_or_insert_with(Vec::new).push(plan);
        }
        if act.emit {
            let out = Out::Element {
                key: *key,
                id: act.id,
                count: count.read().copied(),
                bag: bag.read().copied().collect(),
                now: cx.processing_time().millis(),
            };
            cx.output(out);
        }
    }

    #[on_timer("et")]
    #[allow(clippy::too_many_arguments)]
    fn on_et(
        &self,
        cx: &mut TimerContext<Out>,
        Key(key): Key<&K>,
        #[state_id("bag")] bag: &mut Bag<u32>,
        #[state_id("count")] count: &mut Value<u32>,
        #[state_id("plans")] plans: &mut Value<Vec<Plan>>,
        #[timer_id("et")] et: &mut Timer,
        #[timer_id("et2")] et2: &mut Timer,
        #[timer_id("pt")] pt: &mut Timer,
    ) {
        on_fire(cx, *key, Name::Et, Cells { bag, count, plans }, et, et2, pt);
    }

    #[on_timer("et2")]
    #[allow(clippy::too_many_arguments)]
    fn on_et2(
        &self,
        cx: &mut TimerContext<Out>,
        Key(key): Key<&K>,
        #[state_id("bag")] bag: &mut Bag<u32>,
        #[state_id("count")] count: &mut Value<u32>,
        #[state_id("plans")] plans: &mut Value<Vec<Plan>>,
        #[timer_id("et")] et: &mut Timer,
        #[timer_id("et2")] et2: &mut Timer,
        #[timer_id("pt")] pt: &mut Timer,
    ) {
        on_fire(cx, *key, Name::Et2, Cells { bag, count, plans }, et, et2, pt);
    }

    #[on_timer("pt")]
    #[allow(clippy::too_many_arguments)]
    fn on_pt(
        &self,
        cx: &mut TimerContext<Out>,
        Key(key): Key<&K>,
        #[state_id("bag")] bag: &mut Bag<u32>,
        #[state_id("count")] count: &mut Value<u32>,
        #[state_id("plans")] plans: &mut Value<Vec<Plan>>,
        #[timer_id("et")] et: &mut Timer,
        #[timer_id("et2")] et2: &mut Timer,
        #[timer_id("pt")] pt: &mut Timer,
    ) {
        on_fire(cx, *key, Name::Pt, Cells { bag, count, plans }, et, et2, pt);
    }

    #[on_window_expiration]
    fn expired(
        &self,
        cx: &mut ExpirationContext<Out>,
        Key(key): Key<&K>,
        #[state_id("bag")] bag: &mut Bag<u32>,
        #[state_id("count")] count: &mut Value<u32>,
        #[state_id("plans")] plans: &mut Value<Vec<Plan>>,
    ) {
        cx.output(Out::Expired {
            key: *key,
            count: count.read().copied(),
            bag: bag.read().copied().collect(),
            plans: plans.read().map_or(0, Vec::len),
        });
    }
}

// ---------------------------------------------------------------------------------------------------------
// The reference model.
// ---------------------------------------------------------------------------------------------------------

/// A window as `[start, end)` in ms.
type Win = (i64, i64);

/// Outputs per key and window, in order, each with its timestamp.
type Outputs = BTreeMap<(K, Win), Vec<(Out, i64)>>;

/// The counters the model predicts (those of [`Metrics`](dofn::runner::Metrics) that depend on the input).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    elements_processed: u64,
    late_elements_dropped: u64,
    timers_fired: u64,
    timers_dropped: u64,
    windows_expired: u64,
}

/// A pending timer.
#[derive(Clone, Copy, Debug)]
struct Pending {
    firing: i64,
    /// The output timestamp of its callback; `None` for a processing-time timer set with no output
    /// timestamp, whose callback's timestamp is only known when it fires.
    timestamp: Option<i64>,
    /// The order timers were set in, for timers of equal time.
    seq: u64,
}

/// The state of one key and window.
#[derive(Default, Debug)]
struct Record {
    bag: Vec<u32>,
    count: Option<u32>,
    plans: Vec<Plan>,
    timers: BTreeMap<Name, Pending>,
}

/// Whether the model runs a pipeline's steps or the harness's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Driver {
    /// A pipeline over a test stream: elements and the advance after them make one step, and timers set
    /// behind the watermark or clock fire at the end of every step.
    Pipeline,
    /// The harness: each call is a step; only advances fire timers and expire windows. Either advance fires
    /// the timers due in both domains ("every timer due fires, in either domain", in the harness's docs).
    Harness,
}

struct Model {
    config: Config,
    watermark: i64,
    clock: i64,
    records: BTreeMap<(K, Win), Record>,
    seq: u64,
    out: Outputs,
    counts: Counts,
    /// The runner's outputs, for choosing between timers due at the same time as the runner did.
    actual: Outputs,
    /// How many times timers of one key and window were due at the same time.
    ties: u64,
}

impl Model {
    fn new(config: Config, actual: Outputs) -> Self {
        Model {
            config,
            watermark: MIN,
            clock: 0,
            records: BTreeMap::new(),
            seq: 0,
            out: BTreeMap::new(),
            counts: Counts::default(),
            actual,
            ties: 0,
        }
    }

    /// The windows of an element at `ts`, earliest start first.
    fn windows(&self, ts: i64) -> Vec<Win> {
        let (size, period) = match self.config.windows {
            Windows::Fixed(size) => (size, size),
            Windows::Sliding(size, period) => (size, period),
            Windows::Global => return vec![(MIN, GLOBAL_END)],
        };
        let last = ts - ts.rem_euclid(period);
        let mut starts: Vec<i64> = (0..).map(|i| last - i * period).take_while(|s| ts < s + size).collect();
        starts.reverse();
        starts.into_iter().map(|s| (s, s + size)).collect()
    }

    /// A window's garbage-collection time: its max timestamp plus the allowed lateness, but never past the end
    /// of the global window.
    fn gc(&self, w: Win) -> i64 {
        (w.1 - 1 + self.config.lateness).min(GLOBAL_END - 1)
    }

    /// Runs the script as `driver` does; ends the input (the watermark at the end of time).
    /// (`actual`, the runner's outputs, settles the order of timers due at the same time.)
    fn run(config: Config, events: &[Ev], driver: Driver, actual: Outputs) -> Model {
        let mut m = Model::new(config, actual);
        let mut i = 0;
        while i < events.len() {
            let mut advance = &events[i];
            if let Ev::Elements(elements) = advance {
                for (input, ts) in elements {
                    m.element(input, *ts);
                }
                match (driver, events.get(i + 1)) {
                    // In a pipeline the advance after the elements is part of their step, and the step ends
                    // like an advance even without one.
                    (Driver::Pipeline, Some(next @ (Ev::Watermark(_) | Ev::Clock(_)))) => {
                        advance = next;
                        i += 1;
                    }
                    (Driver::Pipeline, _) => {}
                    // The harness fires nothing when elements arrive.
                    (Driver::Harness, _) => {
                        i += 1;
                        continue;
                    }
                }
            }
            match (driver, advance) {
                (Driver::Pipeline, _) => m.step_end(advance),
                (Driver::Harness, Ev::Clock(d)) => {
                    m.clock += d;
                    m.fire_due();
                }
                (Driver::Harness, Ev::Watermark(t)) => m.advance_watermark(*t),
                (Driver::Harness, Ev::Elements(_)) => unreachable!(),
            }
            i += 1;
        }
        // When the input ends, the watermark advances to the end of time: every window expires.
        match driver {
            Driver::Pipeline => m.step_end(&Ev::Watermark(MAX)),
            Driver::Harness => m.advance_watermark(MAX),
        }
        m
    }

    /// The end of a pipeline's step: its advance (if any), and the timers due.
    ///
    /// Decision: the contract orders a key and window's timers by time within a domain (event and processing
    /// times do not compare), and says that a step moves the clock and the watermark after its elements. The
    /// model moves the clock first and fires what is due (the watermark has not moved yet: it is what a
    /// processing-time timer with no output timestamp sees), then moves the watermark and fires what is due
    /// again, and expires windows.
    fn step_end(&mut self, advance: &Ev) {
        if let Ev::Clock(d) = advance {
            self.clock += d;
        }
        self.fire_due();
        let to = if let Ev::Watermark(t) = advance { *t } else { self.watermark };
        self.advance_watermark(to);
    }

    /// Moves the watermark to `to` (never back), fires the timers due and expires the windows past their GC
    /// time.
    fn advance_watermark(&mut self, to: i64) {
        self.watermark = self.watermark.max(to);
        self.fire_due();
        let expired: Vec<(K, Win)> =
            self.records.keys().copied().filter(|(_, w)| self.gc(*w) < self.watermark).collect();
        for (key, w) in expired {
            // Every timer due is at or before the GC time, so all have fired by now; then the expiration
            // callback sees the cells, and all is cleared (pending processing-time timers are dropped).
            // Decision: "each key with state in the window" is read as Beam does it (a cleanup timer per
            // element): every key that had an element in the window, whether or not it wrote a cell.
            let rec = self.records.remove(&(key, w)).unwrap();
            self.counts.timers_dropped += rec.timers.len() as u64;
            self.counts.windows_expired += 1;
            let out = Out::Expired { key, count: rec.count, bag: rec.bag, plans: rec.plans.len() };
            self.emit(key, w, out, w.1 - 1);
        }
    }

    /// Fires every timer due in each key and window, including those their callbacks set ("in the same
    /// advance if a callback set it"): within a domain in time order; a processing-time timer due (one a
    /// callback set for the current clock) before the next event-time timer.
    fn fire_due(&mut self) {
        let keys: Vec<(K, Win)> = self.records.keys().copied().collect();
        for kw in keys {
            while let Some(name) =
                self.next_due(kw, TimeDomain::ProcessingTime).or_else(|| self.next_due(kw, TimeDomain::EventTime))
            {
                self.fire(kw, name);
            }
        }
    }

    fn emit(&mut self, key: K, w: Win, out: Out, ts: i64) {
        self.out.entry((key, w)).or_default().push((out, ts));
    }

    fn element(&mut self, (key, act): &Input, ts: i64) {
        for w in self.windows(ts) {
            // Elements of an expired window (the watermark past its GC time) are dropped.
            if self.gc(w) < self.watermark {
                self.counts.late_elements_dropped += 1;
                continue;
            }
            self.counts.elements_processed += 1;
            let (clock, max_ts, expiry) = (self.clock, w.1 - 1, self.gc(w));
            self.seq += 1;
            let seq = self.seq;
            let rec = self.records.entry((*key, w)).or_default();
            if act.add {
                rec.bag.push(act.id);
            }
            if act.bump {
                *rec.count.get_or_insert(0) += 1;
            }
            if let Some((name, req)) = act.timer {
                let at = At { event_base: ts, input: ts, max_ts, expiry };
                set(rec, name, req, at, clock, seq);
            }
            if let Some(plan) = act.plan {
                rec.plans.push(plan);
            }
            if act.emit {
                let out = Out::Element { key: *key, id: act.id, count: rec.count, bag: rec.bag.clone(), now: clock };
                self.emit(*key, w, out, ts);
            }
        }
    }

    /// The timer of `domain` of this key and window to fire next, if any is due: an event-time timer once
    /// the watermark is past its time, a processing-time timer once the clock reaches it; in time order.
    fn next_due(&mut self, kw: (K, Win), domain: TimeDomain) -> Option<Name> {
        let rec = self.records.get(&kw)?;
        let event = domain == TimeDomain::EventTime;
        let due: Vec<(Name, Pending)> = rec
            .timers
            .iter()
            .filter(|(n, p)| {
                n.is_event_time() == event && if event { p.firing < self.watermark } else { p.firing <= self.clock }
            })
            .map(|(n, p)| (*n, *p))
            .collect();
        let t = due.iter().map(|(_, p)| p.firing).min()?;
        let mut tied: Vec<(Name, Pending)> = due.into_iter().filter(|(_, p)| p.firing == t).collect();
        tied.sort_by_key(|(_, p)| p.seq);
        let tied: Vec<Name> = tied.into_iter().map(|(n, _)| n).collect();
        if tied.len() > 1 {
            // The contract leaves the order of timers due at the same time unspecified, only that it depends
            // on the input alone (checked by comparing one worker with three, in a test of its own). The
            // model accepts any order: it follows the runner's, if the runner fired one of the tied timers
            // next, else the order they were set in.
            self.ties += 1;
            let next = self.out.get(&kw).map_or(0, Vec::len);
            if let Some((Out::Fired { timer, .. }, _)) = self.actual.get(&kw).and_then(|a| a.get(next))
                && let Some(&name) = tied.iter().find(|n| n.id() == *timer)
            {
                return Some(name);
            }
        }
        tied.first().copied()
    }

    fn fire(&mut self, kw: (K, Win), name: Name) {
        let (key, w) = kw;
        let (watermark, clock, max_ts, expiry) = (self.watermark, self.clock, w.1 - 1, self.gc(w));
        self.seq += 1;
        let seq = self.seq;
        self.counts.timers_fired += 1;
        let rec = self.records.get_mut(&kw).unwrap();
        let p = rec.timers.remove(&name).unwrap();
        // Decision: a processing-time timer with no output timestamp has the input watermark as its
        // callback's timestamp, "within its window" (TimerContext::timestamp): clamped to the window's bounds.
        let timestamp = p.timestamp.unwrap_or_else(|| watermark.clamp(w.0, max_ts));
        let out = Out::Fired {
            key,
            timer: name.id(),
            firing: p.firing,
            count: rec.count,
            bag: rec.bag.clone(),
            plans: rec.plans.len(),
            now: clock,
        };
        if !rec.plans.is_empty() {
            let plan = rec.plans.remove(0);
            if plan.flush {
                rec.bag.clear();
            }
            let event_base = if name.is_event_time() { p.firing } else { timestamp };
            let at = At { event_base, input: timestamp, max_ts, expiry };
            set(rec, plan.timer, plan.req, at, clock, seq);
        }
        self.emit(key, w, out, timestamp);
    }
}

/// Carries out a timer request on the model's record, as [`request`] asks the runner to.
fn set(rec: &mut Record, name: Name, req: Req, at: At, clock: i64, seq: u64) {
    let (firing, hold) = match req {
        Req::Clear => {
            rec.timers.remove(&name);
            return;
        }
        Req::Relative(offset, hold) if name.is_event_time() => (plus(at.event_base, offset).min(at.expiry), hold),
        Req::WindowMax(hold) => (at.max_ts, hold),
        Req::Relative(offset, hold) => (plus(clock, offset), hold),
    };
    let checked_target = if name.is_event_time() { firing } else { MAX };
    let timestamp = match (hold_for(name, hold, checked_target, at), name.is_event_time()) {
        (HoldChoice::At(t), _) => Some(t),
        // An event-time timer's callback is at its firing time, with a hold or without.
        (_, true) => Some(firing),
        // A processing-time timer's is the timestamp of the input that set it by default.
        (HoldChoice::Default, false) => Some(at.input),
        (HoldChoice::Nothing, false) => None,
    };
    rec.timers.insert(name, Pending { firing, timestamp, seq });
}

// ---------------------------------------------------------------------------------------------------------
// Random scripts.
// ---------------------------------------------------------------------------------------------------------

/// SplitMix64: a small deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True with probability `percent`%.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn gen_hold(r: &mut Rng) -> Hold {
    match r.below(4) {
        0 => Hold::After(r.range(0, 80)),
        1 => Hold::Nothing,
        _ => Hold::Default,
    }
}

fn gen_name(r: &mut Rng) -> Name {
    [Name::Et, Name::Et2, Name::Pt][r.below(3) as usize]
}

/// A request to `name`; `callback` requests set event-time timers nearer their base (some behind it, so behind
/// the watermark: they fire in the same advance).
fn gen_req(r: &mut Rng, name: Name, callback: bool) -> Req {
    let hold = gen_hold(r);
    match (name.is_event_time(), r.below(6)) {
        (_, 0) => Req::Clear,
        (true, 1) => Req::WindowMax(hold),
        (true, _) if callback => Req::Relative(r.range(-40, 100), hold),
        (true, _) => Req::Relative(r.range(-60, 150), hold),
        (false, 1 | 2) => Req::Relative(0, hold),
        (false, _) => Req::Relative(r.range(0, 150), hold),
    }
}

fn generate(seed: u64) -> Script {
    let mut r = Rng(seed);
    let lateness = [0, 0, 60, 250][r.below(4) as usize];
    let windows = match r.below(10) {
        0..=5 => Windows::Fixed(100),
        6..=8 => Windows::Sliding(100, 50),
        _ => Windows::Global,
    };
    let config = Config { windows, lateness };
    let mut events = Vec::new();
    let (mut watermark, mut id) = (0i64, 0u32);
    for _ in 0..r.range(4, 20) {
        match r.below(10) {
            0..=4 => {
                let elements = (0..r.range(1, 4))
                    .map(|_| {
                        id += 1;
                        let key = r.below(3) as K;
                        let ts = (watermark + r.range(-220, 120)).max(0);
                        let timer = r.chance(60).then(|| {
                            let name = gen_name(&mut r);
                            (name, gen_req(&mut r, name, false))
                        });
                        let plan = r.chance(40).then(|| {
                            let timer = gen_name(&mut r);
                            Plan { timer, req: gen_req(&mut r, timer, true), flush: r.chance(30) }
                        });
                        let act = Act { id, add: r.chance(60), bump: r.chance(40), timer, plan, emit: r.chance(60) };
                        ((key, act), ts)
                    })
                    .collect();
                events.push(Ev::Elements(elements));
            }
            5..=7 => {
                watermark = if r.chance(30) {
                    // Next to a window's bounds (and the timers at its max timestamp), where off-by-one
                    // mistakes show.
                    (watermark - watermark.rem_euclid(50) + 50 * r.range(1, 2) + r.range(-1, 1)).max(watermark)
                } else {
                    watermark + r.range(0, 120)
                };
                events.push(Ev::Watermark(watermark));
            }
            _ => events.push(Ev::Clock(if r.chance(20) { 0 } else { r.range(1, 150) })),
        }
    }
    if r.chance(50) {
        events.push(Ev::Watermark(MAX));
    }
    Script { config, events }
}

// ---------------------------------------------------------------------------------------------------------
// Running the runner, and comparing.
// ---------------------------------------------------------------------------------------------------------

/// How a script is run on the runner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Run {
    Pipeline { workers: usize },
    Harness,
}

impl Run {
    fn driver(self) -> Driver {
        match self {
            Run::Pipeline { .. } => Driver::Pipeline,
            Run::Harness => Driver::Harness,
        }
    }
}

const RUNS: [Run; 3] = [Run::Pipeline { workers: 1 }, Run::Pipeline { workers: 3 }, Run::Harness];

fn ms(t: i64) -> Instant {
    Instant::from_millis(t)
}

fn strategy(config: Config) -> WindowingStrategy {
    WindowingStrategy::new(window_fn(config)).with_allowed_lateness(Duration::from_millis(config.lateness))
}

fn window_fn(config: Config) -> WindowFn {
    match config.windows {
        Windows::Fixed(size) => WindowFn::fixed(Duration::from_millis(size)),
        Windows::Sliding(size, period) => WindowFn::sliding(Duration::from_millis(size), Duration::from_millis(period)),
        Windows::Global => WindowFn::Global,
    }
}

fn grouped(outputs: impl IntoIterator<Item = WindowedValue<Out>>) -> Outputs {
    let mut by: Outputs = BTreeMap::new();
    for o in outputs {
        let w = (o.window.start().millis(), o.window.end().millis());
        by.entry((o.value.key(), w)).or_default().push((o.value, o.timestamp.millis()));
    }
    by
}

fn counts(m: dofn::runner::Metrics) -> Counts {
    Counts {
        elements_processed: m.elements_processed,
        late_elements_dropped: m.late_elements_dropped,
        timers_fired: m.timers_fired,
        timers_dropped: m.timers_dropped,
        windows_expired: m.windows_expired,
    }
}

fn elements(batch: &[(Input, i64)]) -> Vec<(Input, Instant)> {
    batch.iter().map(|(input, ts)| (input.clone(), ms(*ts))).collect()
}

/// Runs the script on the runner; the outputs by key and window, and the counters.
fn run_runner(script: &Script, run: Run) -> Result<(Outputs, Counts), Error> {
    match run {
        Run::Pipeline { workers } => {
            let mut stream = TestStream::new();
            for ev in &script.events {
                stream = match ev {
                    Ev::Elements(batch) => stream.add_elements(elements(batch)),
                    Ev::Watermark(t) => stream.advance_watermark_to(ms(*t)),
                    Ev::Clock(d) => stream.advance_processing_time(Duration::from_millis(*d)),
                };
            }
            let result = Pipeline::from_test_stream(stream)
                .window_into(window_fn(script.config))
                .with_allowed_lateness(Duration::from_millis(script.config.lateness))
                .with_workers(workers)
                .apply(Scripted::default())
                .run()?;
            let metrics = result.metrics_of("Scripted");
            Ok((grouped(result.into_outputs()), counts(metrics)))
        }
        Run::Harness => {
            let mut h = Harness::new(Scripted::default(), strategy(script.config))?;
            let mut out = Vec::new();
            for ev in &script.events {
                out.extend(match ev {
                    Ev::Elements(batch) => h.add_elements(elements(batch))?,
                    Ev::Watermark(t) => h.advance_watermark_to(ms(*t))?,
                    Ev::Clock(d) => h.advance_processing_time(Duration::from_millis(*d))?,
                });
            }
            out.extend(h.advance_watermark_to_infinity()?);
            Ok((grouped(out), counts(h.metrics())))
        }
    }
}

fn show_script(script: &Script) -> String {
    let mut s = format!("{:?}\n", script.config);
    for ev in &script.events {
        match ev {
            Ev::Elements(batch) => {
                s.push_str("elements:\n");
                for ((key, act), ts) in batch {
                    let _ = writeln!(s, "    key {key} at {ts}: {act:?}");
                }
            }
            Ev::Watermark(t) if *t == MAX => s.push_str("watermark to infinity\n"),
            Ev::Watermark(t) => {
                let _ = writeln!(s, "watermark to {t}");
            }
            Ev::Clock(d) => {
                let _ = writeln!(s, "clock +{d}");
            }
        }
    }
    s
}

fn show_outputs(outputs: &[(Out, i64)]) -> String {
    outputs.iter().map(|(o, t)| format!("    @{t} {o:?}\n")).collect()
}

/// Compares the runner's outputs and counters with the model's: `None` if they agree, else what differs first.
fn differences(script: &Script, run: Run) -> Option<String> {
    let (got, got_counts) = match run_runner(script, run) {
        Ok(got) => got,
        Err(e) => return Some(format!("the run failed: {e}")),
    };
    let model = Model::run(script.config, &script.events, run.driver(), got.clone());
    let mut windows: Vec<&(K, Win)> = model.out.keys().chain(got.keys()).collect();
    windows.sort();
    windows.dedup();
    for kw in windows {
        let (expected, actual) =
            (model.out.get(kw).map_or(&[][..], Vec::as_slice), got.get(kw).map_or(&[][..], Vec::as_slice));
        if expected != actual {
            let i = (0..).find(|&i| expected.get(i) != actual.get(i)).unwrap();
            return Some(format!(
                "key {} window {:?}: output {i} differs\n  expected: {:?}\n  actual:   {:?}\n all expected:\n{} all actual:\n{}",
                kw.0,
                kw.1,
                expected.get(i),
                actual.get(i),
                show_outputs(expected),
                show_outputs(actual)
            ));
        }
    }
    (model.counts != got_counts)
        .then(|| format!("counters differ\n  expected: {:?}\n  actual:   {:?}", model.counts, got_counts))
}

/// How many seeds the main test runs (each on one worker, three workers and the harness).
const SEEDS: u64 = 300;

#[test]
fn the_runner_agrees_with_the_model_on_random_scripts() {
    let seeds: Vec<u64> = match (std::env::var("DOFN_MODEL_SEED"), std::env::var("DOFN_MODEL_SEEDS")) {
        (Ok(s), _) => vec![s.parse().expect("DOFN_MODEL_SEED is a number")],
        (_, Ok(n)) => (0..n.parse().expect("DOFN_MODEL_SEEDS is a number")).collect(),
        _ => (0..SEEDS).collect(),
    };
    let mut failures = Vec::new();
    for &seed in &seeds {
        let script = generate(seed);
        for run in RUNS {
            if let Some(diff) = differences(&script, run) {
                failures.push((seed, run, diff, script.clone()));
            }
        }
    }
    if std::env::var_os("DOFN_MODEL_VERBOSE").is_some() {
        for (seed, run, diff, _) in &failures {
            eprintln!("{seed} {run:?}: {}", diff.lines().take(3).collect::<Vec<_>>().join(" | "));
        }
    }
    if let Some((seed, run, diff, script)) = failures.first() {
        let list: Vec<String> = failures.iter().map(|(s, r, _, _)| format!("{s} {r:?}")).collect();
        panic!(
            "{} of {} runs disagree with the model: {}\n\nseed {seed} ({run:?}; rerun with DOFN_MODEL_SEED={seed}):\n{}\n{diff}",
            failures.len(),
            seeds.len() * RUNS.len(),
            list.join(", "),
            show_script(script)
        );
    }
}

#[test]
fn timers_due_at_the_same_time_fire_in_the_same_order_on_any_number_of_workers() {
    // The contract leaves the order of one key and window's timers due at the same time unspecified, but
    // says that it depends only on the input: one worker and three give the same outputs, ties included.
    let mut scripts_with_ties = 0;
    for seed in 0..SEEDS {
        let script = generate(seed);
        let (one, _) = run_runner(&script, Run::Pipeline { workers: 1 }).unwrap();
        let (three, _) = run_runner(&script, Run::Pipeline { workers: 3 }).unwrap();
        assert_eq!(one, three, "seed {seed}:\n{}", show_script(&script));
        if Model::run(script.config, &script.events, Driver::Pipeline, one).ties > 0 {
            scripts_with_ties += 1;
        }
    }
    // The scripts do tie: the comparison covers the order in question.
    assert!(scripts_with_ties >= SEEDS / 20, "{scripts_with_ties} of {SEEDS} scripts have timers due at once");
}

/// An element at 10 sets the "et" timer (to `et`) and queues a plan: the callback sets the processing-time
/// timer for the current clock (offset 0).
fn cross_domain_script(et: Req) -> Vec<Ev> {
    let plan = Plan { timer: Name::Pt, req: Req::Relative(0, Hold::Default), flush: false };
    let act = Act { id: 1, add: true, bump: false, timer: Some((Name::Et, et)), plan: Some(plan), emit: false };
    vec![Ev::Elements(vec![((1, act), 10)])]
}

/// A `Fired` output of key 1 with an empty counter, at clock 0.
fn fired(timer: &'static str, firing: i64, bag: Vec<u32>, plans: usize, ts: i64) -> (Out, i64) {
    (Out::Fired { key: 1, timer, firing, count: None, bag, plans, now: 0 }, ts)
}

/// The `Expired` output of key 1 in window [0, 100).
fn expired(bag: Vec<u32>) -> (Out, i64) {
    (Out::Expired { key: 1, count: None, bag, plans: 0 }, 99)
}

const FIXED: Config = Config { windows: Windows::Fixed(100), lateness: 0 };

#[test]
fn a_processing_time_timer_an_event_time_callback_sets_for_now_fires_in_the_same_advance() {
    // The watermark passes the "et" timer at 50; its callback sets "pt" for now (the clock is at 0, which has
    // reached it): it fires in the same advance, before the next element (id 2) is added to the bag.
    let mut events = cross_domain_script(Req::Relative(40, Hold::Default));
    events.push(Ev::Watermark(60));
    let next = Act { id: 2, add: true, bump: false, timer: None, plan: None, emit: false };
    events.push(Ev::Elements(vec![((1, next), 20)]));
    let (got, _) = run_runner(&Script { config: FIXED, events }, Run::Pipeline { workers: 1 }).unwrap();
    assert_eq!(
        got[&(1, (0, 100))],
        [fired("et", 50, vec![1], 1, 50), fired("pt", 0, vec![1], 0, 50), expired(vec![1, 2])]
    );
}

#[test]
fn a_processing_time_timer_an_event_time_callback_sets_for_now_fires_before_the_window_expires() {
    // At the end of the input the "et" timer fires at the window's end and sets "pt" for now: it fires before
    // the window expires, rather than being dropped with it.
    let script = Script { config: FIXED, events: cross_domain_script(Req::WindowMax(Hold::Default)) };
    let (got, counts) = run_runner(&script, Run::Pipeline { workers: 1 }).unwrap();
    assert_eq!(
        got[&(1, (0, 100))],
        [fired("et", 99, vec![1], 1, 99), fired("pt", 0, vec![1], 0, 99), expired(vec![1])]
    );
    assert_eq!(counts.timers_dropped, 0);
}

#[test]
fn an_event_time_timer_a_processing_time_callback_sets_behind_the_watermark_fires_in_the_same_clock_advance() {
    // The element at 10 sets "pt" for clock 5 (output timestamp 10). The watermark moves to 50, then the clock
    // to 5: "pt" fires, and its callback sets "et" for its own output timestamp (10), behind the watermark.
    // "et" fires in the same clock advance of the harness, before the next element (id 2) is added.
    let plan = Plan { timer: Name::Et, req: Req::Relative(0, Hold::Default), flush: false };
    let timer = Some((Name::Pt, Req::Relative(5, Hold::Default)));
    let first = Act { id: 1, add: true, bump: false, timer, plan: Some(plan), emit: false };
    let next = Act { id: 2, add: true, bump: false, timer: None, plan: None, emit: false };
    let events = vec![
        Ev::Elements(vec![((1, first), 10)]),
        Ev::Watermark(50),
        Ev::Clock(5),
        Ev::Elements(vec![((1, next), 20)]),
    ];
    let (got, _) = run_runner(&Script { config: FIXED, events }, Run::Harness).unwrap();
    let fired =
        |timer, firing, plans| (Out::Fired { key: 1, timer, firing, count: None, bag: vec![1], plans, now: 5 }, 10);
    assert_eq!(got[&(1, (0, 100))], [fired("pt", 5, 1), fired("et", 10, 0), expired(vec![1, 2])]);
}
