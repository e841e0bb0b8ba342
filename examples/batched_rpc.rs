//! Batched RPC: enrich a stream of events with one call to an external service per *batch* of events,
//! instead of one call per event.
//!
//! This is the scenario of Beam's "Timely (and Stateful) Processing" post, written with dofn. Each user's
//! events are buffered in a `Bag` and counted in a `Value`, per user and one-minute window. The buffer goes
//! to the (simulated) enrichment service in one call:
//!
//! 1. as soon as it holds `max_batch_size` events (state alone decides);
//! 2. when its oldest event has waited `max_wait` of processing time (the "stale" processing-time timer), so
//!    that a quiet user's events are not held back for long;
//! 3. when the watermark passes the window's expiry, its end plus the allowed lateness (the "expiry"
//!    event-time timer), so that nothing is left behind when the window's state is dropped.
//!
//! The input is a scripted [`TestStream`]: elements arrive in steps, and the processing-time clock and the
//! watermark move only when the script says so, which makes all three flush paths happen on cue.
//!
//! Run it with `cargo run --example batched_rpc`. `docs/guide.md` builds this DoFn up step by step.

use std::error::Error;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dofn::prelude::*;
use dofn::testing::TestEvent;
use serde::{Deserialize, Serialize};

/// A user id: the key that state and timers are scoped to.
pub type UserId = String;

/// An event as it arrives, before enrichment.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Event {
    /// A sequence number, to follow the event through the output.
    pub id: u32,
    /// What the user did.
    pub action: String,
}

/// Which of the three paths flushed a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Flush {
    /// The buffer reached `max_batch_size` events.
    BatchFull,
    /// The processing-time "stale" timer fired: the oldest event had waited `max_wait`.
    Stale,
    /// The event-time "expiry" timer fired: the watermark passed the window's expiry.
    WindowEnd,
}

impl Flush {
    /// A short description, for the printed output.
    pub fn describe(self) -> &'static str {
        match self {
            Flush::BatchFull => "batch full",
            Flush::Stale => "stale timer (processing time)",
            Flush::WindowEnd => "expiry timer (end of window)",
        }
    }
}

/// An event with what the service knows about its user, and the call that enriched it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Enriched {
    /// The call that enriched this event (1 for the first call of the run).
    pub call: usize,
    /// Why the batch was flushed.
    pub flush: Flush,
    /// The user.
    pub user: UserId,
    /// The event.
    pub event: Event,
    /// The user's account tier, as the service reports it.
    pub tier: &'static str,
}

/// A stand-in for the external enrichment service: it answers for a whole batch in one round trip, and counts
/// the round trips.
#[derive(Debug, Default)]
pub struct ProfileService {
    calls: AtomicUsize,
}

impl ProfileService {
    /// One round trip: enriches every event of `batch`, all of `user`.
    pub fn enrich(&self, user: &str, batch: Vec<Event>, flush: Flush) -> Vec<Enriched> {
        let call = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        let tier = match user {
            "alice" => "gold",
            "bob" => "silver",
            _ => "basic",
        };
        batch.into_iter().map(|event| Enriched { call, flush, user: user.to_string(), event, tier }).collect()
    }

    /// The number of round trips so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }
}

/// Buffers each user's events and enriches them in batches.
#[dofn]
#[derive(Clone)]
pub struct BatchedRpc {
    /// Flush as soon as this many events are buffered.
    max_batch_size: u32,
    /// Flush once the oldest buffered event has waited this long, in processing time.
    max_wait: Duration,
    /// The service client, shared by every copy of the DoFn (one per worker thread).
    service: Arc<ProfileService>,
    /// The events waiting for the next call.
    #[state_id("buffer")]
    buffer: StateSpec<Bag<Event>>,
    /// How many events `buffer` holds.
    #[state_id("count")]
    count: StateSpec<Value<u32>>,
    /// Fires when the watermark passes the window's expiry (its end plus the allowed lateness).
    #[timer_id("expiry")]
    expiry: TimerSpec<EventTime>,
    /// Fires `max_wait` of processing time after the first event of a batch arrived.
    #[timer_id("stale")]
    stale: TimerSpec<ProcessingTime>,
}

impl BatchedRpc {
    /// A DoFn that calls `service` with batches of at most `max_batch_size` events, none older than
    /// `max_wait`.
    pub fn new(max_batch_size: u32, max_wait: Duration, service: Arc<ProfileService>) -> Self {
        BatchedRpc {
            max_batch_size,
            max_wait,
            service,
            buffer: StateSpec::new(),
            count: StateSpec::new(),
            expiry: TimerSpec::new(),
            stale: TimerSpec::new(),
        }
    }

    /// Sends the buffered events to the service in one call and empties the buffer.
    fn flush(&self, user: &str, buffer: &mut Bag<Event>, count: &mut Value<u32>, why: Flush) -> Vec<Enriched> {
        count.clear();
        self.service.enrich(user, buffer.take(), why)
    }
}

#[dofn]
impl BatchedRpc {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(UserId, Event), Enriched>,
        #[state_id("buffer")] buffer: &mut Bag<Event>,
        #[state_id("count")] count: &mut Value<u32>,
        #[timer_id("expiry")] expiry: &mut Timer,
        #[timer_id("stale")] stale: &mut Timer,
    ) {
        // Whatever is still buffered when the window ends gets flushed then. Setting a timer again only
        // moves it, so setting it on every element costs little.
        expiry.set(cx.window_expiry());

        let buffered = count.read().copied().unwrap_or(0);
        if buffered == 0 {
            // The first event of a new batch: it must not wait longer than `max_wait`.
            stale.offset(self.max_wait).set_relative();
        }
        buffer.add(cx.value().clone());
        count.write(buffered + 1);

        if buffered + 1 >= self.max_batch_size {
            stale.clear();
            for enriched in self.flush(cx.key(), buffer, count, Flush::BatchFull) {
                cx.output(enriched);
            }
        }
    }

    #[on_timer("stale")]
    fn on_stale(
        &self,
        cx: &mut TimerContext<Enriched>,
        Key(user): Key<&UserId>,
        #[state_id("buffer")] buffer: &mut Bag<Event>,
        #[state_id("count")] count: &mut Value<u32>,
    ) {
        if !buffer.is_empty() {
            for enriched in self.flush(user, buffer, count, Flush::Stale) {
                cx.output(enriched);
            }
        }
    }

    #[on_timer("expiry")]
    fn on_expiry(
        &self,
        cx: &mut TimerContext<Enriched>,
        Key(user): Key<&UserId>,
        #[state_id("buffer")] buffer: &mut Bag<Event>,
        #[state_id("count")] count: &mut Value<u32>,
        #[timer_id("stale")] stale: &mut Timer,
    ) {
        // The window's state is about to be dropped: a pending stale timer has nothing left to do.
        stale.clear();
        if !buffer.is_empty() {
            for enriched in self.flush(user, buffer, count, Flush::WindowEnd) {
                cx.output(enriched);
            }
        }
    }
}

/// When the sample's events happen: 2024-05-01T09:00:00Z, plus the given seconds.
fn at(secs: i64) -> Instant {
    Instant::from_secs(1_714_554_000 + secs)
}

/// One input element: `user`'s event number `id` at `secs` past 09:00.
fn event(user: &str, id: u32, action: &str, secs: i64) -> ((UserId, Event), Instant) {
    ((user.to_string(), Event { id, action: action.to_string() }), at(secs))
}

/// The input script: which events arrive when, and how the two clocks move.
pub fn script() -> TestStream<(UserId, Event)> {
    TestStream::new()
        // alice's third event fills a batch; bob's single event starts a batch of its own.
        .add_elements([
            event("alice", 1, "login", 1),
            event("alice", 2, "search", 2),
            event("bob", 3, "login", 4),
            event("alice", 4, "add_to_cart", 5),
        ])
        .advance_processing_time(Duration::from_secs(4))
        .add_elements([event("alice", 5, "checkout", 20), event("carol", 6, "login", 25)])
        // 10 s after bob's event arrived: his batch is stale. alice's and carol's are only 6 s old.
        .advance_processing_time(Duration::from_secs(6))
        .add_elements([event("carol", 7, "search", 40)])
        // The first minute is over: the expiry timers flush what alice and carol still hold.
        .advance_watermark_to(at(60))
        .add_elements([
            event("alice", 8, "login", 65),
            event("bob", 9, "search", 70),
            event("alice", 10, "search", 75),
            event("alice", 11, "checkout", 90),
        ])
    // The script ends here, so the watermark moves to the end of time: the second minute ends too.
}

/// `2024-05-01T09:00:04.000Z` as `09:00:04`, and `2024-05-01T09:00:59.999Z` as `09:00:59.999`: every time in
/// this example is on that morning.
fn clock(t: Instant) -> String {
    let iso = t.to_string();
    let end = if t.millis() % 1000 == 0 { 19 } else { 23 };
    iso[11..end].to_string()
}

/// A one-minute window as `[09:00, 09:01)`.
fn minute(w: Window) -> String {
    format!("[{}, {})", &clock(w.start())[..5], &clock(w.end())[..5])
}

/// Prints a TestStream step as a line of the input script.
fn describe_step(step: &TestEvent<(UserId, Event)>) -> String {
    match step {
        TestEvent::Elements(values) => {
            let events: Vec<String> =
                values.iter().map(|v| format!("{}#{} @{}", v.value.0, v.value.1.id, clock(v.timestamp))).collect();
            format!("events arrive: {}", events.join(", "))
        }
        TestEvent::Watermark(t) => format!("watermark advances to {}", clock(*t)),
        TestEvent::ProcessingTime(d) => format!("processing time advances by {d}"),
    }
}

/// Runs the scenario and prints the input script, every enriched event grouped by call, and a summary.
pub fn run(out: &mut impl Write) -> Result<(), Box<dyn Error>> {
    const MAX_BATCH_SIZE: u32 = 3;
    const MAX_WAIT: Duration = Duration::from_secs(10);

    let script = script();
    writeln!(out, "Batched RPC: batches of at most {MAX_BATCH_SIZE} events, none waiting over {MAX_WAIT}")?;
    writeln!(out, "per user and one-minute window (all times 2024-05-01, UTC).")?;
    writeln!(out)?;
    writeln!(out, "Input, step by step (processing time starts at 0s):")?;
    for (i, step) in script.events().iter().enumerate() {
        writeln!(out, "  {}. {}", i + 1, describe_step(step))?;
    }
    writeln!(out, "  {}. end of input: the watermark advances to the end of time", script.events().len() + 1)?;

    let service = Arc::new(ProfileService::default());
    let result = Pipeline::from_test_stream(script)
        .window_into(WindowFn::fixed(Duration::from_mins(1)))
        // One worker keeps the call numbers in the same order on every run.
        .with_workers(1)
        .apply(BatchedRpc::new(MAX_BATCH_SIZE, MAX_WAIT, Arc::clone(&service)))
        .run()?;

    writeln!(out)?;
    writeln!(out, "Enriched events, in the order they were output:")?;
    let mut current_call = 0;
    let mut by_flush = [0usize; 3];
    for output in result.outputs() {
        let e = &output.value;
        if e.call != current_call {
            current_call = e.call;
            by_flush[e.flush as usize] += 1;
            let size = result.values().filter(|v| v.call == e.call).count();
            writeln!(out, "  call {}: {} event(s), flushed by {}", e.call, size, e.flush.describe())?;
        }
        writeln!(
            out,
            "    {:<5} #{:<2} {:<11} tier={:<6} timestamp {:<12}  window {}",
            e.user,
            e.event.id,
            e.event.action,
            e.tier,
            clock(output.timestamp),
            minute(output.window)
        )?;
    }

    writeln!(out)?;
    writeln!(
        out,
        "{} events enriched with {} RPC calls ({} batch full, {} stale, {} end of window)",
        result.outputs().len(),
        service.calls(),
        by_flush[Flush::BatchFull as usize],
        by_flush[Flush::Stale as usize],
        by_flush[Flush::WindowEnd as usize],
    )?;
    writeln!(out, "metrics: {}", result.metrics_of("BatchedRpc"))?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut std::io::stdout().lock())
}
