//! Windows and expiry: state per key and window, allowed lateness, late data, `#[on_window_expiration]`.

use dofn::prelude::*;
use dofn::testing::Harness;

fn ms(t: i64) -> Instant {
    Instant::from_millis(t)
}

fn values<T: Clone>(out: &[WindowedValue<T>]) -> Vec<T> {
    out.iter().map(|o| o.value.clone()).collect()
}

/// Collects values per key and window; an event-time timer at the window's end outputs them, and
/// `#[on_window_expiration]` reports what is left when the window expires.
#[dofn]
#[derive(Clone, Default)]
struct Collect {
    #[state_id("seen")]
    seen: StateSpec<Bag<u32>>,
    #[timer_id("end")]
    end: TimerSpec<EventTime>,
}

#[dofn]
impl Collect {
    #[process_element]
    fn process(
        &self,
        _cx: &mut ProcessContext<(&'static str, u32), String>,
        Element((_, v)): Element<&(&'static str, u32)>,
        window: Window,
        #[state_id("seen")] seen: &mut Bag<u32>,
        #[timer_id("end")] end: &mut Timer,
    ) {
        seen.add(*v);
        end.set(window.max_timestamp());
    }

    #[on_timer("end")]
    fn on_end(
        &self,
        cx: &mut TimerContext<String>,
        Key(k): Key<&&'static str>,
        #[state_id("seen")] seen: &mut Bag<u32>,
    ) {
        let all: Vec<u32> = seen.read().copied().collect();
        cx.output(format!("end {k} {} {all:?}", cx.window().start().millis()));
    }

    #[on_window_expiration]
    fn expired(
        &self,
        cx: &mut ExpirationContext<String>,
        Key(k): Key<&&'static str>,
        #[state_id("seen")] seen: &mut Bag<u32>,
    ) {
        let all: Vec<u32> = seen.read().copied().collect();
        cx.output(format!("expired {k} {} {all:?}", cx.window().start().millis()));
    }
}

fn fixed(size: i64, lateness: i64) -> WindowingStrategy {
    WindowingStrategy::new(WindowFn::fixed(Duration::from_millis(size)))
        .with_allowed_lateness(Duration::from_millis(lateness))
}

#[test]
fn state_is_scoped_to_key_and_window() {
    let mut h = Harness::new(Collect::default(), fixed(10, 0)).unwrap();
    h.add_elements([(("a", 1), ms(1)), (("b", 2), ms(2)), (("a", 3), ms(11)), (("a", 4), ms(5))]).unwrap();
    let out = h.advance_watermark_to(ms(20)).unwrap();
    assert_eq!(
        values(&out),
        ["end a 0 [1, 4]", "end b 0 [2]", "expired a 0 [1, 4]", "expired b 0 [2]", "end a 10 [3]", "expired a 10 [3]",]
    );
}

#[test]
fn timers_at_the_windows_max_timestamp_fire_before_expiry_and_expiry_clears_state() {
    let mut h = Harness::new(Collect::default(), fixed(10, 0)).unwrap();
    h.add_elements([(("a", 1), ms(1))]).unwrap();
    let out = h.advance_watermark_to(ms(10)).unwrap();
    assert_eq!(values(&out), ["end a 0 [1]", "expired a 0 [1]"]);
    assert!(out.iter().all(|o| o.timestamp == ms(9)), "both outputs are at the window's max timestamp");
    assert_eq!(h.live_records(), 0);
    assert_eq!(h.metrics().windows_expired, 1);
}

#[test]
fn allowed_lateness_keeps_state_and_accepts_late_data_until_gc_time() {
    let mut h = Harness::new(Collect::default(), fixed(10, 5)).unwrap();
    h.add_elements([(("a", 1), ms(1))]).unwrap();
    // Past the window's end: the end timer fires, but the window has not expired (GC time 9 + 5 = 14).
    assert_eq!(values(&h.advance_watermark_to(ms(12)).unwrap()), ["end a 0 [1]"]);
    // Late but within the allowed lateness: accepted; the end timer, set in the past, fires at the next advance.
    h.add_elements([(("a", 2), ms(3))]).unwrap();
    assert_eq!(values(&h.advance_watermark_to(ms(14)).unwrap()), ["end a 0 [1, 2]"]);
    assert_eq!(values(&h.advance_watermark_to(ms(15)).unwrap()), ["expired a 0 [1, 2]"]);
    // Past GC time: dropped and counted, nothing is created.
    assert_eq!(h.add_elements([(("a", 3), ms(4))]).unwrap(), []);
    assert_eq!(h.metrics().late_elements_dropped, 1);
    assert_eq!(h.live_records(), 0);
    assert_eq!(h.advance_watermark_to_infinity().unwrap(), []);
}

#[test]
fn sliding_windows_give_each_window_its_own_state() {
    let strategy = WindowingStrategy::new(WindowFn::sliding(Duration::from_millis(10), Duration::from_millis(5)));
    let mut h = Harness::new(Collect::default(), strategy).unwrap();
    h.add_elements([(("a", 1), ms(7)), (("a", 2), ms(12))]).unwrap();
    let out = h.advance_watermark_to_infinity().unwrap();
    assert_eq!(
        values(&out),
        ["end a 0 [1]", "expired a 0 [1]", "end a 5 [1, 2]", "expired a 5 [1, 2]", "end a 10 [2]", "expired a 10 [2]",]
    );
}

#[test]
fn the_global_window_expires_at_the_end_of_time() {
    let mut h = Harness::new(Collect::default(), WindowingStrategy::global()).unwrap();
    h.add_elements([(("a", 1), ms(1))]).unwrap();
    assert_eq!(h.advance_watermark_to(Instant::GLOBAL_WINDOW_MAX).unwrap(), []);
    let out = h.advance_watermark_to_infinity().unwrap();
    assert_eq!(values(&out), ["end a -9223372036854775 [1]", "expired a -9223372036854775 [1]"]);
    assert_eq!(out[0].timestamp, Instant::GLOBAL_WINDOW_MAX);
}

#[test]
fn the_last_fixed_window_ends_with_the_global_window_so_a_timer_at_its_end_is_valid() {
    // As Beam's FixedWindows cuts it: an element ten seconds before the end of the global window is in the
    // minute that starts before it, cut short at the end of the global window, where its timer may fire.
    let t = Instant::GLOBAL_WINDOW_MAX - Duration::from_secs(10);
    let start = t.millis() - t.millis().rem_euclid(60_000);
    for late in [t, Instant::MAX] {
        let mut h = Harness::new(Collect::default(), fixed(60_000, 0)).unwrap();
        h.add_elements([(("a", 1), late)]).unwrap();
        let out = h.advance_watermark_to_infinity().unwrap();
        assert_eq!(values(&out), [format!("end a {start} [1]"), format!("expired a {start} [1]")], "{late:?}");
        assert_eq!(out[0].timestamp, Instant::GLOBAL_WINDOW_MAX);
        assert_eq!(out[0].window, Window::new(Instant::from_millis(start), Window::GLOBAL.end()));
    }
}

#[test]
fn an_element_at_the_start_of_time_is_in_each_of_its_windows_once() {
    let min = Instant::MIN.millis();
    let sliding = WindowFn::sliding(Duration::from_secs(60), Duration::from_secs(30));
    let run = |window_fn, elements: &[((&'static str, u32), Instant)]| {
        let input = Pipeline::from_values(elements.to_vec()).window_into(window_fn).with_workers(1);
        input.apply(Collect::default()).run().unwrap().into_outputs()
    };
    // Two sliding windows hold it, both cut to start at the first instant: two windows, not one twice.
    let out = run(sliding, &[(("a", 1), Instant::MIN)]);
    let end = format!("end a {min} [1]");
    let expired = format!("expired a {min} [1]");
    assert_eq!(values(&out), [end.clone(), expired.clone(), end.clone(), expired.clone()]);
    assert!(out[0].window.end() < out[2].window.end(), "{out:?}");

    // A fixed window cut at the first instant ends where the next one starts: an element at that start is in
    // the next window, alone.
    let next = min - min.rem_euclid(60_000) + 60_000;
    let out = run(WindowFn::fixed(Duration::from_secs(60)), &[(("a", 1), Instant::MIN), (("a", 2), ms(next))]);
    assert_eq!(values(&out), [end, expired, format!("end a {next} [2]"), format!("expired a {next} [2]")]);
    assert_eq!(out[0].window, Window::new(Instant::MIN, ms(next)));
    assert_eq!(out[2].window, Window::new(ms(next), ms(next + 60_000)));
}

#[test]
fn a_stateful_dofn_on_merging_windows_is_rejected_before_any_element() {
    let Err(err) = Harness::new(Collect::default(), WindowFn::sessions(Duration::from_secs(10)).into()) else {
        panic!("sessions must be rejected for a stateful DoFn");
    };
    let msg = err.to_string();
    assert!(msg.starts_with("cannot apply DoFn `Collect`: it is stateful"), "{msg}");
    assert!(msg.contains("merging windows (session windows with a gap of 10s)"), "{msg}");
    // Through a pipeline, too: the run fails before processing anything.
    let result = Pipeline::from_values([(("a", 1u32), ms(1))])
        .window_into(WindowFn::sessions(Duration::from_secs(10)))
        .apply(Collect::default())
        .run();
    assert!(matches!(result, Err(Error::Construction { dofn: "Collect", .. })));
}

/// A stateless DoFn sees each element's own session proto-window, as in Beam.
#[dofn]
#[derive(Clone, Default)]
struct WindowOf;

#[dofn]
impl WindowOf {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<u32, (i64, i64)>) {
        let w = cx.window();
        cx.output((w.start().millis(), w.end().millis()));
    }
}

#[test]
fn stateless_dofns_run_on_merging_windows() {
    let out = Pipeline::from_values([(1u32, ms(5)), (2, ms(7))])
        .window_into(WindowFn::sessions(Duration::from_millis(10)))
        .apply(WindowOf)
        .run()
        .unwrap();
    assert_eq!(out.values().copied().collect::<Vec<_>>(), [(5, 15), (7, 17)]);
}

#[test]
fn a_pipeline_assigns_sliding_windows_the_same_on_any_number_of_workers() {
    let sliding = WindowFn::sliding(Duration::from_millis(10), Duration::from_millis(5));
    let input = [(("a", 1u32), ms(7)), (("b", 2), ms(9)), (("a", 3), ms(12)), (("b", 4), ms(31))];
    let run = |workers| {
        let result = Pipeline::from_values(input).window_into(sliding).with_workers(workers).apply(Collect::default());
        let mut out: Vec<String> = result.run().unwrap().values().cloned().collect();
        out.sort();
        out
    };
    let one = run(1);
    assert_eq!(
        one,
        [
            "end a 0 [1]",
            "end a 10 [3]",
            "end a 5 [1, 3]",
            "end b 0 [2]",
            "end b 25 [4]",
            "end b 30 [4]",
            "end b 5 [2]",
            "expired a 0 [1]",
            "expired a 10 [3]",
            "expired a 5 [1, 3]",
            "expired b 0 [2]",
            "expired b 25 [4]",
            "expired b 30 [4]",
            "expired b 5 [2]",
        ]
    );
    assert_eq!(run(2), one);
    assert_eq!(run(3), one);
}

#[test]
fn windows_are_assigned_at_the_end_of_a_pipeline_and_reassigned_per_copy() {
    let sliding = WindowFn::sliding(Duration::from_millis(10), Duration::from_millis(5));
    let windows = |p: Pipeline<u32>| -> Vec<(u32, i64, i64)> {
        let out = p.run().unwrap();
        out.outputs().iter().map(|o| (o.value, o.window.start().millis(), o.window.end().millis())).collect()
    };
    let input = || Pipeline::from_values([(1u32, ms(7)), (2, ms(20))]);
    // No DoFn after the windowing: the run assigns the windows.
    assert_eq!(windows(input().window_into(sliding)), [(1, 0, 10), (1, 5, 15), (2, 15, 25), (2, 20, 30)]);
    // Windowing twice reassigns every copy: two copies of each element, both in their fixed window.
    let twice = input().window_into(sliding).window_into(WindowFn::fixed(Duration::from_millis(100)));
    assert_eq!(windows(twice), [(1, 0, 100), (1, 0, 100), (2, 0, 100), (2, 0, 100)]);
    // Through a stateless DoFn, with one worker or several.
    for workers in [1, 2] {
        let out = input().window_into(sliding).with_workers(workers).apply(WindowOf).run().unwrap();
        assert_eq!(out.values().copied().collect::<Vec<_>>(), [(0, 10), (5, 15), (15, 25), (20, 30)]);
    }
}

/// Keeps a value per key and window; when the window expires, notes each key and its value in a shared log, and
/// fails to report the keys "bad" and "worse".
#[dofn]
#[derive(Clone, Default)]
struct FailingExpiry {
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    #[state_id("n")]
    n: StateSpec<Value<u32>>,
}

#[dofn]
impl FailingExpiry {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(&'static str, u32), String>, #[state_id("n")] n: &mut Value<u32>) {
        n.write(*cx.value());
    }

    #[on_window_expiration]
    fn expired(&self, Key(k): Key<&&'static str>, #[state_id("n")] n: &mut Value<u32>) -> Result<(), String> {
        self.log.lock().unwrap().push(format!("{k}={:?}", n.read()));
        if matches!(*k, "bad" | "worse") { Err(format!("cannot report {k}")) } else { Ok(()) }
    }
}

#[test]
fn a_failed_expiration_names_key_and_window_and_the_windows_state_is_cleared_all_the_same() {
    let strategy = WindowingStrategy::new(WindowFn::fixed(Duration::from_millis(10)));
    let dofn = FailingExpiry::default();
    let log = dofn.log.clone();
    let mut h = Harness::new(dofn, strategy).unwrap();
    let elements = [("good", 1), ("bad", 2), ("other", 3), ("worse", 4), ("last", 5)].map(|kv| (kv, ms(kv.1.into())));
    h.add_elements(elements).unwrap();
    h.add_elements([(("later", 6), ms(12))]).unwrap();
    assert_eq!(h.live_records(), 6);
    let msg = h.advance_watermark_to(ms(10)).unwrap_err().to_string();
    assert!(msg.contains("on_window_expiration") && msg.contains("FailingExpiry"), "{msg}");
    assert!(msg.contains("\"bad\"") && msg.contains("cannot report bad"), "the first failure is reported: {msg}");
    assert!(msg.contains("window [1970-01-01T00:00:00.000Z, 1970-01-01T00:00:00.010Z)"), "{msg}");
    // Every key of the window is reported, with its state, before any of it is cleared.
    assert_eq!(*log.lock().unwrap(), ["good=Some(1)", "bad=Some(2)", "other=Some(3)", "worse=Some(4)", "last=Some(5)"]);
    assert_eq!(h.live_records(), 1, "the expired window's records are all gone; the next window's stays");
    assert_eq!(h.metrics().windows_expired, 5);
}

#[test]
fn a_timer_set_behind_the_watermark_fires_at_the_end_of_the_elements_step() {
    // Late data within the allowed lateness sets the end timer to a time the watermark has passed: it fires
    // when that step ends, without waiting for the watermark to move again.
    let stream = TestStream::new()
        .add_elements([(("a", 1), ms(1))])
        .advance_watermark_to(ms(12))
        .add_elements([(("a", 2), ms(3))])
        .add_elements([(("a", 4), ms(4))]);
    for workers in [1, 2] {
        let result = Pipeline::from_test_stream(stream.clone())
            .window_into(WindowFn::fixed(Duration::from_millis(10)))
            .with_allowed_lateness(Duration::from_millis(100))
            .with_workers(workers)
            .apply(Collect::default())
            .run()
            .unwrap();
        let out: Vec<&String> = result.values().collect();
        assert_eq!(out, ["end a 0 [1]", "end a 0 [1, 2]", "end a 0 [1, 2, 4]", "expired a 0 [1, 2, 4]"], "{workers}");
    }
    // In the harness, at the next advance, even one to where the watermark already is.
    let mut h = Harness::new(Collect::default(), fixed(10, 100)).unwrap();
    h.add_elements([(("a", 1), ms(1))]).unwrap();
    assert_eq!(values(&h.advance_watermark_to(ms(12)).unwrap()), ["end a 0 [1]"]);
    assert_eq!(h.add_elements([(("a", 2), ms(3))]).unwrap(), []);
    assert_eq!(values(&h.advance_watermark_to(ms(12)).unwrap()), ["end a 0 [1, 2]"]);
    assert_eq!(h.advance_watermark_to(ms(12)).unwrap(), []);
}

#[test]
fn watermarks_and_clocks_that_move_back_are_errors() {
    let mut h = Harness::new(Collect::default(), fixed(10, 0)).unwrap();
    h.advance_watermark_to(ms(20)).unwrap();
    let err = h.advance_watermark_to(ms(15)).unwrap_err();
    assert!(matches!(err, Error::Source { .. }), "{err}");
    assert!(err.to_string().contains("from 1970-01-01T00:00:00.020Z to 1970-01-01T00:00:00.015Z"), "{err}");
    assert!(h.advance_processing_time(Duration::from_millis(-1)).is_err());
    assert_eq!(h.input_watermark(), ms(20));

    let back =
        TestStream::new().add_elements([(("a", 1), ms(1))]).advance_watermark_to(ms(30)).advance_watermark_to(ms(5));
    let run = |stream: TestStream<(&'static str, u32)>| {
        Pipeline::from_test_stream(stream)
            .window_into(WindowFn::fixed(Duration::from_millis(10)))
            .apply(Collect::default())
            .run()
    };
    let err = run(back).unwrap_err();
    assert!(err.to_string().contains("moves the watermark back, from 1970-01-01T00:00:00.030Z"), "{err}");
    let err = run(TestStream::new().advance_processing_time(Duration::from_secs(-1))).unwrap_err();
    assert!(err.to_string().contains("moves the processing time back, by -1s"), "{err}");
}

#[test]
fn elements_after_the_watermark_reached_infinity_are_errors() {
    // Every window has expired: the elements could only be dropped as late, so the script is wrong.
    let mut h = Harness::new(Collect::default(), fixed(10, 0)).unwrap();
    h.add_elements([(("a", 1), ms(1))]).unwrap();
    h.advance_watermark_to_infinity().unwrap();
    let err = h.add_elements([(("a", 2), ms(2))]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "input source failed: the harness adds elements after advancing the watermark to infinity: every window \
         has expired, so they could only be dropped as late"
    );
    let stream = TestStream::new()
        .add_elements([(("a", 1), ms(1))])
        .advance_watermark_to_infinity()
        .add_elements([(("a", 2), ms(2))]);
    for workers in [1, 2] {
        let err = Pipeline::from_test_stream(stream.clone())
            .window_into(WindowFn::fixed(Duration::from_millis(10)))
            .with_workers(workers)
            .apply(Collect::default())
            .run()
            .unwrap_err();
        assert!(err.to_string().starts_with("input source failed: the test stream adds elements after"), "{err}");
    }
}

#[test]
fn invalid_windowing_is_reported_before_any_element() {
    let values = || Pipeline::from_values([(("a", 1u32), ms(1))]);
    let err = values().with_allowed_lateness(Duration::from_secs(-5)).apply(Collect::default()).run().unwrap_err();
    assert!(matches!(err, Error::Windowing { method: "with_allowed_lateness", .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "invalid windowing in `with_allowed_lateness`: the allowed lateness must not be negative, got -5s"
    );
    let err = values().window_into(WindowFn::fixed(Duration::ZERO)).apply(Collect::default()).run().unwrap_err();
    assert_eq!(err.to_string(), "invalid windowing in `window_into`: fixed windows need a positive size, got 0s");
    let late = fixed(10, -1);
    let err = Harness::new(Collect::default(), late).err().map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("cannot apply DoFn `Collect`: the allowed lateness must not be negative, got -1ms")
    );
}

/// Counts elements per key and window and outputs `(key, count)` when the window expires.
#[dofn]
#[derive(Clone, Default)]
struct CountAtExpiry {
    #[state_id("n")]
    n: StateSpec<Value<u32>>,
}

#[dofn]
impl CountAtExpiry {
    #[process_element]
    fn process(
        &self,
        _cx: &mut ProcessContext<(&'static str, u32), (&'static str, u32)>,
        #[state_id("n")] n: &mut Value<u32>,
    ) {
        *n.get_or_insert_with(|| 0) += 1;
    }

    #[on_window_expiration]
    fn expired(
        &self,
        cx: &mut ExpirationContext<(&'static str, u32)>,
        Key(k): Key<&&'static str>,
        #[state_id("n")] n: &mut Value<u32>,
    ) {
        cx.output((*k, n.read().copied().unwrap_or(0)));
    }
}

#[test]
fn a_window_waiting_to_expire_holds_the_output_watermark_at_its_max_timestamp() {
    // Allowed lateness 5: the window [0, 10) expires once the watermark passes 14, and its expiration outputs
    // at 9; until then the output watermark stays at 9, and it never moves back.
    let mut h = Harness::new(CountAtExpiry::default(), fixed(10, 5)).unwrap();
    h.add_elements([(("a", 1), ms(1))]).unwrap();
    assert_eq!(h.advance_watermark_to(ms(12)).unwrap(), []);
    assert_eq!(h.output_watermark(), ms(9));
    // Late data within the lateness opens no earlier hold than the one reported.
    h.add_elements([(("b", 1), ms(2))]).unwrap();
    assert_eq!(h.output_watermark(), ms(9));
    let out = h.advance_watermark_to(ms(15)).unwrap();
    assert_eq!(out.iter().map(|o| (o.value, o.timestamp)).collect::<Vec<_>>(), [(("a", 1), ms(9)), (("b", 1), ms(9))]);
    assert_eq!(h.output_watermark(), ms(15));

    // In a pipeline, a next stage with no lateness gets those outputs on time.
    let stream =
        TestStream::new().add_elements([(("a", 1), ms(1))]).advance_watermark_to(ms(12)).advance_watermark_to(ms(20));
    let result = Pipeline::from_test_stream(stream)
        .window_into(WindowFn::fixed(Duration::from_millis(10)))
        .with_allowed_lateness(Duration::from_millis(5))
        .with_workers(1)
        .apply(CountAtExpiry::default())
        .with_allowed_lateness(Duration::ZERO)
        .apply(CountAtExpiry::default())
        .run()
        .unwrap();
    assert_eq!(result.values().collect::<Vec<_>>(), [&("a", 1)]);
    assert_eq!(result.metrics_of("CountAtExpiry").late_elements_dropped, 0);
}
