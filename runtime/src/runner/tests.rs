//! Executor checks with a hand-written DoFn (the macro-generated ones are tested in the workspace `tests/`).

use crate::context::{ProcessContext, TimerContext};
use crate::dofn::DoFn;
use crate::error::BoxError;
use crate::state::{StateRecord, Value};
use crate::testing::Harness;
use crate::time::{Duration, Instant};
use crate::timer::{TimeDomain, Timer, TimerEnv, TimerInfo, TimerTable};
use crate::window::{WindowFn, WindowingStrategy};

#[derive(Default)]
struct SumState {
    total: Value<u64>,
}

impl StateRecord for SumState {
    const IDS: &'static [&'static str] = &["total"];
    fn clear(&mut self) {
        self.total.clear();
    }
    fn is_empty(&self) -> bool {
        self.total.is_empty()
    }
}

/// Sums values per key and window; emits the sum when the window's end timer fires, and resets an
/// event-time "again" timer 5 ms after each element to check replacement.
#[derive(Clone)]
struct Summer;

impl DoFn for Summer {
    type Input = (u32, u64);
    type Output = (u32, u64);
    type Key = u32;
    type State = SumState;
    type Timers = TimerTable<1, 0>;
    const NAME: &'static str = "Summer";
    const TIMERS: &'static [TimerInfo] = &[TimerInfo { id: "end", domain: TimeDomain::EventTime }];

    fn new_state(&self) -> SumState {
        SumState::default()
    }

    fn key_of(input: &(u32, u64)) -> &u32 {
        &input.0
    }

    fn process_element(
        &mut self,
        cx: &mut ProcessContext<'_, (u32, u64), (u32, u64)>,
        state: &mut SumState,
        timers: &mut TimerTable<1, 0>,
        env: &TimerEnv,
    ) -> Result<(), BoxError> {
        *state.total.get_or_insert_with(|| 0) += cx.value();
        let [end] = &mut timers.timers;
        Timer::new(end, TimeDomain::EventTime, env).set(cx.window().max_timestamp());
        Ok(())
    }

    fn on_timer(
        &mut self,
        _timer: usize,
        cx: &mut TimerContext<'_, (u32, u64)>,
        key: &u32,
        state: &mut SumState,
        _timers: &mut TimerTable<1, 0>,
        _env: &TimerEnv,
    ) -> Result<(), BoxError> {
        cx.output((*key, state.total.read().copied().unwrap_or(0)));
        Ok(())
    }
}

fn ts(ms: i64) -> Instant {
    Instant::from_millis(ms)
}

#[test]
fn sums_per_key_and_window_and_expires_state() {
    let strategy = WindowingStrategy::new(WindowFn::fixed(Duration::from_millis(10)));
    let mut h = Harness::new(Summer, strategy).unwrap();
    assert!(h.add_elements([((1, 5), ts(1)), ((2, 7), ts(2)), ((1, 1), ts(12))]).unwrap().is_empty());
    assert_eq!(h.live_records(), 3);
    assert_eq!(h.output_watermark(), Instant::MIN);
    let out = h.advance_watermark_to(ts(10)).unwrap();
    let got: Vec<_> = out.iter().map(|o| (o.value, o.timestamp.millis())).collect();
    assert_eq!(got, [((1, 5), 9), ((2, 7), 9)]);
    assert_eq!(h.live_records(), 1, "window [0, 10) expired for both keys");
    // The pending timer of [10, 20) holds the output watermark at its output timestamp.
    assert_eq!(h.advance_watermark_to(ts(15)).unwrap(), []);
    assert_eq!(h.output_watermark(), ts(15));
    // A late element for the expired window is dropped and counted.
    assert_eq!(h.add_elements([((1, 100), ts(3))]).unwrap(), []);
    assert_eq!(h.metrics().late_elements_dropped, 1);
    let out = h.advance_watermark_to_infinity().unwrap();
    assert_eq!(out.iter().map(|o| o.value).collect::<Vec<_>>(), [(1, 1)]);
    assert_eq!(h.live_records(), 0);
    let m = h.metrics();
    assert_eq!((m.elements_processed, m.timers_fired, m.windows_expired), (3, 3, 3));
}

#[test]
fn sharded_runs_match_a_single_thread_per_key_and_window() {
    use crate::runner::Pipeline;
    let input: Vec<((u32, u64), Instant)> = (0..20_000u64).map(|i| (((i % 97) as u32, i), ts(i as i64 / 3))).collect();
    let run = |workers| {
        let result = Pipeline::from_values(input.clone())
            .window_into(WindowFn::fixed(Duration::from_millis(500)))
            .with_workers(workers)
            .apply(Summer)
            .run()
            .unwrap();
        let m = result.metrics_of("Summer");
        (result.sorted().into_iter().cloned().collect::<Vec<_>>(), m)
    };
    let (one, m1) = run(1);
    let (three, m3) = run(3);
    assert_eq!(one.len(), 97 * 14);
    assert_eq!(one, three);
    assert_eq!(m1.elements_processed, 20_000);
    // Every count but the bundles (one per worker and step) is the same summed over the workers.
    let counts = |m: crate::metrics::Metrics| {
        (m.elements_processed, m.late_elements_dropped, m.timers_fired, m.timers_dropped, m.windows_expired, m.outputs)
    };
    assert_eq!(counts(m1), counts(m3));
    assert_eq!((m1.timers_fired, m1.outputs), (97 * 14, 97 * 14), "one end timer per key and window");
    // The same number of workers gives the same order, run after run.
    let order = |workers| {
        Pipeline::from_values(input.clone()).with_workers(workers).apply(Summer).run().unwrap().into_outputs()
    };
    assert_eq!(order(3), order(3));
}

#[test]
fn a_timer_costs_at_most_80_bytes_per_key_and_window() {
    // Every (key, window) with a timer holds its slot: keep it small (see BENCHMARKS.md, memory per key).
    assert!(std::mem::size_of::<crate::timer::TimerSlot>() <= 80, "{}", std::mem::size_of::<crate::timer::TimerSlot>());
}

/// Sets a processing-time timer far ahead for every element, which never fires: its window expires first.
#[derive(Clone)]
struct FarReminder;

impl DoFn for FarReminder {
    type Input = (u32, u64);
    type Output = (u32, u64);
    type Key = u32;
    type State = ();
    type Timers = TimerTable<1, 0>;
    const NAME: &'static str = "FarReminder";
    const TIMERS: &'static [TimerInfo] = &[TimerInfo { id: "far", domain: TimeDomain::ProcessingTime }];

    fn new_state(&self) {}

    fn key_of(input: &(u32, u64)) -> &u32 {
        &input.0
    }

    fn process_element(
        &mut self,
        _cx: &mut ProcessContext<'_, (u32, u64), (u32, u64)>,
        _state: &mut (),
        timers: &mut TimerTable<1, 0>,
        env: &TimerEnv,
    ) -> Result<(), BoxError> {
        let [far] = &mut timers.timers;
        Timer::new(far, TimeDomain::ProcessingTime, env).offset(Duration::from_secs(1_000_000)).set_relative();
        Ok(())
    }
}

#[test]
fn processing_time_timers_of_expired_windows_leave_the_queue() {
    // 1,000 keys set a timer in each of 100 windows; every window expires with its timers pending. The queue
    // keeps the live timers' entries (at most one window's) and no more than twice that of the dead ones.
    let strategy = WindowingStrategy::new(WindowFn::fixed(Duration::from_millis(10)));
    let mut h = Harness::new(FarReminder, strategy).unwrap();
    let mut longest = 0;
    for w in 0..100i64 {
        h.add_elements((0..1_000u32).map(|k| ((k, 0), ts(w * 10)))).unwrap();
        h.advance_watermark_to(ts(w * 10 + 10)).unwrap();
        longest = longest.max(h.queued_processing_timers());
    }
    assert_eq!(h.metrics().timers_dropped, 100_000);
    assert!(longest <= 3_000, "the queue held {longest} entries for at most 1,000 live timers");
}
