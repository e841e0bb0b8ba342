//! Pipelines: chained DoFns and their watermarks, tagged outputs, bounded, scripted and live sources.

use std::sync::mpsc;
use std::time::Duration as StdDuration;

use dofn::prelude::*;

fn ms(t: i64) -> Instant {
    Instant::from_millis(t)
}

/// Buffers a key's values and emits their sum 100 ms (event time) after the first, timestamped at the first
/// value's time: its timer's output timestamp holds the output watermark there until it fires.
#[dofn]
#[derive(Clone, Default)]
struct Delay {
    #[state_id("sum")]
    sum: StateSpec<Combining<Sum<u64>>>,
    #[timer_id("emit")]
    emit: TimerSpec<EventTime>,
}

#[dofn]
impl Delay {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(&'static str, u64), (&'static str, u64)>,
        #[state_id("sum")] sum: &mut Combining<Sum<u64>>,
        #[timer_id("emit")] emit: &mut Timer,
    ) {
        if sum.is_empty() {
            emit.with_output_timestamp(cx.timestamp()).set(cx.timestamp() + Duration::from_millis(100));
        }
        sum.add(*cx.value());
    }

    #[on_timer("emit")]
    fn on_emit(
        &self,
        cx: &mut TimerContext<(&'static str, u64)>,
        Key(k): Key<&&'static str>,
        #[state_id("sum")] sum: &mut Combining<Sum<u64>>,
    ) {
        cx.output((k, sum.read()));
        sum.clear();
    }
}

/// Counts values per key and window and reports the count when the window expires.
#[dofn]
#[derive(Clone, Default)]
struct CountWindow {
    #[state_id("n")]
    n: StateSpec<Combining<Count<u64>>>,
}

#[dofn]
impl CountWindow {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(&'static str, u64), String>,
        #[state_id("n")] n: &mut Combining<Count<u64>>,
    ) {
        n.add(*cx.value());
    }

    #[on_window_expiration]
    fn expired(
        &self,
        cx: &mut ExpirationContext<String>,
        Key(k): Key<&&'static str>,
        #[state_id("n")] n: &mut Combining<Count<u64>>,
    ) {
        cx.output(format!("{k}: {} in [{}, {})", n.read(), cx.window().start().millis(), cx.window().end().millis()));
    }
}

#[test]
fn a_timer_hold_keeps_downstream_from_seeing_its_output_as_late() {
    let stream = TestStream::new()
        .add_elements([(("a", 1), ms(10)), (("a", 2), ms(20))])
        // The timer (at 110) has not fired, but the watermark is past the downstream window [0, 50).
        .advance_watermark_to(ms(100))
        .advance_watermark_to(ms(200));
    let result = Pipeline::from_test_stream(stream)
        .with_workers(1)
        .apply(Delay::default())
        .window_into(WindowFn::fixed(Duration::from_millis(50)))
        .apply(CountWindow::default())
        .run()
        .unwrap();
    let out: Vec<_> = result.outputs().iter().map(|o| (o.value.clone(), o.timestamp.millis())).collect();
    assert_eq!(out, [("a: 1 in [0, 50)".to_string(), 49)]);
    assert_eq!(result.metrics_of("CountWindow").late_elements_dropped, 0);
    assert_eq!(result.metrics_of("Delay").timers_fired, 1);
}

const ODD: OutputTag<u64> = OutputTag::new("odd");
const REPORT: OutputTag<String> = OutputTag::new("report");

/// Splits numbers: even ones to the main output, odd ones to a tagged output.
#[dofn]
#[derive(Clone, Default)]
struct Split;

#[dofn]
impl Split {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<u64, u64>, Element(n): Element<&u64>) {
        if n % 2 == 0 {
            cx.output(*n);
        } else {
            cx.output_to(&ODD, *n);
            cx.output_to_with_timestamp(&REPORT, format!("odd {n}"), cx.timestamp() + Duration::from_millis(1));
        }
    }
}

/// Counts per key; every third element of a key also goes to a tagged output.
#[dofn]
#[derive(Clone, Default)]
struct EveryThird {
    #[state_id("n")]
    n: StateSpec<Value<u64>>,
}

#[dofn]
impl EveryThird {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u64, u64), u64>, #[state_id("n")] n: &mut Value<u64>) {
        let count = n.read().copied().unwrap_or(0) + 1;
        n.write(count);
        if count % 3 == 0 {
            cx.output_to(&ODD, cx.key() * 1000 + count);
        }
        cx.output(count);
    }
}

#[test]
fn tagged_outputs_of_a_sharded_dofn_are_the_same_per_key_on_any_number_of_workers() {
    let input: Vec<((u64, u64), Instant)> = (0..3_000u64).map(|i| ((i % 37, i), ms(i as i64))).collect();
    let tagged = |workers| {
        let result =
            Pipeline::from_values(input.clone()).with_workers(workers).apply(EveryThird::default()).run().unwrap();
        result.tagged().get(&ODD).iter().map(|o| o.value).collect::<Vec<_>>()
    };
    let one = tagged(1);
    assert_eq!(one.len(), 37 * 27, "81 or 82 elements per key, every third tagged");
    for workers in [2, 3] {
        let mut many = tagged(workers);
        // Per key, the values keep their order; across keys they are grouped by worker.
        let per_key =
            |values: &[u64], key: u64| values.iter().filter(|v| **v / 1000 == key).copied().collect::<Vec<_>>();
        for key in 0..37 {
            assert_eq!(per_key(&many, key), per_key(&one, key), "{workers} workers, key {key}");
        }
        many.sort_unstable();
        let mut sorted = one.clone();
        sorted.sort_unstable();
        assert_eq!(many, sorted);
        assert_eq!(tagged(workers), tagged(workers), "the same order on every run with {workers} workers");
    }
}

#[test]
fn tagged_outputs_are_typed_and_kept_apart() {
    let result = Pipeline::from_values((0..6u64).map(|n| (n, ms(n as i64)))).apply(Split).run().unwrap();
    assert_eq!(result.values().copied().collect::<Vec<_>>(), [0, 2, 4]);
    let odd: Vec<(u64, i64)> = result.tagged().get(&ODD).iter().map(|o| (o.value, o.timestamp.millis())).collect();
    assert_eq!(odd, [(1, 1), (3, 3), (5, 5)]);
    let reports: Vec<(&str, i64)> =
        result.tagged().get(&REPORT).iter().map(|o| (o.value.as_str(), o.timestamp.millis())).collect();
    assert_eq!(reports, [("odd 1", 2), ("odd 3", 4), ("odd 5", 6)]);
}

#[test]
fn a_scripted_run_is_deterministic_for_any_number_of_workers() {
    let stream = || {
        let mut s = TestStream::new();
        for step in 0..20i64 {
            let keys = ["a", "b", "c", "d", "e", "f", "g"];
            s = s
                .add_elements(
                    (0..50).map(|i| ((keys[(i * 7 + step as usize) % keys.len()], i as u64), ms(step * 40 + i as i64))),
                )
                .advance_watermark_to(ms(step * 40 + 30));
        }
        s
    };
    let run = |workers| {
        Pipeline::from_test_stream(stream()).with_workers(workers).apply(Delay::default()).run().unwrap().into_outputs()
    };
    let one = run(1);
    assert_eq!(one, run(1), "same outputs, same order");
    assert_eq!(run(2), run(2), "same outputs, same order with two workers");
    let mut two = run(2);
    let mut one_sorted = one.clone();
    two.sort_by_key(|o| (o.timestamp, o.value));
    one_sorted.sort_by_key(|o| (o.timestamp, o.value));
    assert_eq!(one_sorted, two, "same outputs per key and window");
    let total: u64 = one.iter().map(|o| o.value.1).sum();
    assert_eq!(total, 20 * (0..50).sum::<u64>(), "every value is summed exactly once");
}

/// Outputs each element, and "stale" 50 ms of processing time after the first one.
#[dofn]
#[derive(Clone, Default)]
struct Nudge {
    #[timer_id("stale")]
    stale: TimerSpec<ProcessingTime>,
    #[state_id("armed")]
    armed: StateSpec<Value<bool>>,
}

#[dofn]
impl Nudge {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(u8, &'static str), &'static str>,
        #[state_id("armed")] armed: &mut Value<bool>,
        #[timer_id("stale")] stale: &mut Timer,
    ) {
        if armed.read().is_none() {
            armed.write(true);
            stale.offset(Duration::from_millis(50)).set_relative();
        }
        cx.output(cx.value());
    }

    #[on_timer("stale")]
    fn on_stale(&self, cx: &mut TimerContext<&'static str>) {
        cx.output("stale");
    }
}

#[test]
fn a_live_source_fires_processing_time_timers_on_the_wall_clock_as_it_goes() {
    // The sender waits for the timer's output (50 ms of wall clock after the first element) before it
    // sends the second element: the timer fires while the source is still open.
    let (tx, rx) = mpsc::channel();
    let (ack_tx, ack_rx) = mpsc::channel();
    let sender = std::thread::spawn(move || {
        let sent = std::time::Instant::now();
        tx.send(TimestampedValue::new((1u8, "first"), ms(1))).unwrap();
        let fired = ack_rx.recv_timeout(StdDuration::from_secs(20)).is_ok();
        let waited = sent.elapsed();
        tx.send(TimestampedValue::new((1u8, "second"), ms(2))).unwrap();
        (fired, waited)
    });
    let mut seen = Vec::new();
    let result = Pipeline::from_channel(rx, Duration::ZERO, Duration::from_millis(5))
        .apply(Nudge::default())
        .run_with(|o| {
            if o.value == "stale" {
                let _ = ack_tx.send(());
            }
            seen.push(o.value);
        })
        .unwrap();
    let (fired, waited) = sender.join().unwrap();
    assert!(fired, "the timer fired while the source was still open");
    // (The processing-time clock counts whole milliseconds: read just after the element was sent, it may be
    // up to 1 ms behind the sender's own clock.)
    assert!(waited >= StdDuration::from_millis(49), "it fired 50 ms of wall clock after the element: {waited:?}");
    assert_eq!(seen, ["first", "stale", "second"]);
    assert_eq!(result.metrics_of("Nudge").elements_processed, 2);
}

#[test]
fn a_live_sources_watermark_follows_its_timestamps() {
    // The sender waits until the runner has passed on the outputs of the first two elements (so their step,
    // and the watermark after it, is done) before it sends the stragglers.
    let (tx, rx) = mpsc::channel();
    let (ack_tx, ack_rx) = mpsc::channel();
    let sender = std::thread::spawn(move || {
        for (v, t) in [(1u8, 1_000), (2, 5_000)] {
            tx.send(TimestampedValue::new((v, "x"), ms(t))).unwrap();
        }
        let acked = ack_rx.recv_timeout(StdDuration::from_secs(20)).is_ok();
        for (v, t) in [(3u8, 2_000), (4, 3_500)] {
            tx.send(TimestampedValue::new((v, "x"), ms(t))).unwrap();
        }
        acked
    });
    // With 2 s of allowed disorder, the watermark after 5 000 is 3 000: the element at 2 000 is late for its
    // 1-second window, the one at 3 500 is not.
    let mut elements = 0;
    let result = Pipeline::from_channel(rx, Duration::from_secs(2), Duration::from_millis(5))
        .window_into(WindowFn::fixed(Duration::from_secs(1)))
        .with_workers(1)
        .apply(Nudge::default())
        .run_with(|o| {
            if o.value == "x" {
                elements += 1;
                if elements == 2 {
                    let _ = ack_tx.send(());
                }
            }
        })
        .unwrap();
    assert!(sender.join().unwrap(), "the first two elements' outputs came before the stragglers were sent");
    let m = result.metrics_of("Nudge");
    assert_eq!((m.elements_processed, m.late_elements_dropped), (3, 1));
}

#[test]
fn lines_are_read_parsed_and_malformed_ones_skipped() {
    let input = "1000 a\n2000 b\nnot-a-number c\n3000 a\n";
    let (report, reports) = mpsc::channel();
    let result = Pipeline::from_lines(
        std::io::Cursor::new(input),
        move |n, line| {
            let (ts, word) = line.split_once(' ')?;
            match ts.parse::<i64>() {
                Ok(t) => Some(TimestampedValue::new((1u8, if word == "a" { "a" } else { "other" }), ms(t))),
                Err(e) => {
                    report.send(format!("line {n}: {e}")).unwrap();
                    None
                }
            }
        },
        Duration::ZERO,
        Duration::from_millis(5),
    )
    .with_workers(1)
    .apply(Nudge::default())
    .run()
    .unwrap();
    let words: Vec<&str> = result.values().copied().filter(|v| *v != "stale").collect();
    assert_eq!(words, ["a", "other", "a"]);
    assert_eq!(reports.try_iter().collect::<Vec<_>>(), ["line 3: invalid digit found in string"]);
}

/// Reports the processing time it sees each element at, and sets a processing-time timer 10 s later.
#[dofn]
#[derive(Clone, Default)]
struct Clocked {
    #[timer_id("later")]
    later: TimerSpec<ProcessingTime>,
}

#[dofn]
impl Clocked {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u8, u32), String>, #[timer_id("later")] later: &mut Timer) {
        cx.output(format!("{} seen at {}", cx.value(), cx.processing_time().millis()));
        later.offset(Duration::from_secs(10)).set_relative();
    }

    #[on_timer("later")]
    fn on_later(&self, cx: &mut TimerContext<String>) {
        cx.output(format!("fired at {}", cx.firing_timestamp().millis()));
    }
}

#[test]
fn the_first_steps_elements_see_the_sources_starting_clock() {
    // The clock starts at 1,000 s: the first step's elements see that time, and the timer, reset by the
    // second element to 10 s after it, fires when the clock gets there, not at once.
    let stream = TestStream::new()
        .with_processing_time_start(ms(1_000_000))
        .add_elements([((1, 7), ms(0))])
        .advance_processing_time(Duration::from_secs(5))
        .add_elements([((1, 8), ms(1))])
        .advance_processing_time(Duration::from_secs(5))
        .advance_processing_time(Duration::from_secs(5));
    for workers in [1, 2] {
        let result = Pipeline::from_test_stream(stream.clone()).with_workers(workers).apply(Clocked::default()).run();
        let out: Vec<String> = result.unwrap().values().cloned().collect();
        assert_eq!(out, ["7 seen at 1000000", "8 seen at 1005000", "fired at 1015000"], "{workers} worker(s)");
    }
}

/// Runs [`Nudge`] over `input`'s lines, "TIME WORD" each (cut by `split`), on one worker: the run's error, and
/// the words it output before it ("a", or "other" for any other word).
fn run_lines(
    input: &'static [u8],
    split: impl Fn(&str) -> Option<(&str, &str)> + Send + 'static,
) -> (Option<String>, Vec<&'static str>) {
    let mut seen = Vec::new();
    let err = Pipeline::from_lines(
        std::io::Cursor::new(input),
        move |_, line| {
            let (ts, word) = split(line)?;
            let word = if word == "a" { "a" } else { "other" };
            Some(TimestampedValue::new((1u8, word), ms(ts.parse().ok()?)))
        },
        Duration::ZERO,
        Duration::from_millis(5),
    )
    .with_workers(1)
    .apply(Nudge::default())
    .run_with(|v| seen.push(v.value))
    .err()
    .map(|e| e.to_string());
    (err, seen.into_iter().filter(|v| *v != "stale").collect())
}

#[test]
fn a_line_that_cannot_be_read_fails_the_run_after_the_lines_before_it() {
    // Line 3 is not UTF-8: the lines before it are processed, then the run fails naming it, instead of
    // ending the input there as if it were complete.
    let (err, seen) = run_lines(b"1000 a\n2000 b\n\xff\xfe\n3000 a\n", |line| line.split_once(' '));
    let err = err.unwrap_or_default();
    assert!(err.starts_with("input source failed: cannot read line 3 of the input:"), "{err}");
    assert_eq!(seen, ["a", "other"]);
}

#[test]
fn a_parse_function_that_panics_fails_the_run_naming_the_line() {
    // The panic on line 3 does not end the input as if it were complete: the run fails, naming the line.
    let (err, seen) =
        run_lines(b"1000 a\n2000 b\nboom\n3000 a\n", |line| Some(line.split_once(' ').expect("a line of two words")));
    assert_eq!(err.as_deref(), Some("input source failed: the parse function panicked on line 3: a line of two words"));
    assert_eq!(seen, ["a", "other"]);
}

#[test]
fn a_live_source_needs_a_tick_of_a_millisecond_or_more() {
    for tick in [Duration::ZERO, Duration::from_millis(-5)] {
        let (_tx, rx) = mpsc::channel::<TimestampedValue<(u8, &'static str)>>();
        let err = Pipeline::from_channel(rx, Duration::ZERO, tick).apply(Nudge::default()).run().err();
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some(format!("input source failed: `from_channel` needs a tick of 1 ms or more (the clock is read once a tick), got {tick}").as_str())
        );
    }
}

#[test]
fn a_live_sources_elements_see_the_clock_of_when_they_arrived() {
    // The tick is long, so the clock is read when the element arrives, not a tick later: the element sees a
    // time at or after it was sent (it saw the clock of when the pipeline was built), and its timer, 10 s
    // later, does not fire before the input ends.
    for workers in [1, 2] {
        let (tx, rx) = mpsc::channel();
        let pipeline = Pipeline::from_channel(rx, Duration::ZERO, Duration::from_secs(10))
            .with_workers(workers)
            .apply(Clocked::default());
        let sender = std::thread::spawn(move || {
            std::thread::sleep(StdDuration::from_millis(300));
            let sent = Instant::now();
            tx.send(TimestampedValue::new((1u8, 7u32), ms(0))).unwrap();
            sent
        });
        let mut out = Vec::new();
        pipeline.run_with(|v| out.push(v.value)).unwrap();
        let sent = sender.join().unwrap();
        let [seen] = &out[..] else { panic!("{workers} worker(s): one output, got {out:?}") };
        let at: i64 = seen.strip_prefix("7 seen at ").and_then(|t| t.parse().ok()).expect("the element's output");
        assert!(at >= sent.millis(), "{workers} worker(s): seen at {at}, sent at {}", sent.millis());
    }
}

#[test]
fn a_replay_drops_what_a_live_run_would_find_late() {
    // One element per step; the watermark trails the largest timestamp seen by 5 s.
    let stream = TestStream::replay(
        [(("a", 1), ms(10_000)), (("a", 2), ms(6_000)), (("a", 3), ms(4_000)), (("b", 4), ms(12_000))],
        1,
        Duration::from_secs(5),
    );
    let result = Pipeline::from_test_stream(stream)
        .window_into(WindowFn::fixed(Duration::from_secs(1)))
        .with_workers(1)
        .apply(CountWindow::default())
        .run()
        .unwrap();
    let m = result.metrics_of("CountWindow");
    // 4 000 is before the watermark of 5 000 (10 000 - 5 s) when it arrives; 6 000 is not.
    assert_eq!((m.elements_processed, m.late_elements_dropped), (3, 1));
    let windows: Vec<&str> = result.values().map(String::as_str).collect();
    assert_eq!(windows, ["a: 1 in [6000, 7000)", "a: 1 in [10000, 11000)", "b: 1 in [12000, 13000)"]);
}

/// Outputs each element's key and value with the running count of its key.
#[dofn]
#[derive(Clone, Default)]
struct RunningCount {
    #[state_id("n")]
    n: StateSpec<Value<u64>>,
}

#[dofn]
impl RunningCount {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u64, u64), (u64, u64, u64)>, #[state_id("n")] n: &mut Value<u64>) {
        let count = n.read().copied().unwrap_or(0) + 1;
        n.write(count);
        let &(key, value) = cx.element();
        cx.output((key, count, value));
    }
}

#[test]
fn a_bounded_input_of_many_bundles_processes_every_element_once_in_order_per_key() {
    // Not a multiple of any bundle size, so that the last bundle is a partial one. With 100,000 keys, each
    // worker's table is big enough for the lookups to be announced ahead (prefetched).
    for (n, keys, workers) in
        [(100_003u64, 1_000u64, 1), (100_003, 1_000, 3), (250_007, 100_000, 1), (250_007, 100_000, 2)]
    {
        let input = (0..n).map(move |i| ((i % keys, i), ms(i as i64)));
        let result = Pipeline::from_values(input).with_workers(workers).apply(RunningCount::default()).run().unwrap();
        assert_eq!(result.outputs().len() as u64, n, "{workers} workers: one output per element");
        let mut last = vec![0u64; keys as usize];
        for &(key, count, value) in result.values() {
            assert_eq!(count, last[key as usize] + 1, "{workers} workers: key {key} counts up by one");
            assert_eq!(value, key + (count - 1) * keys, "{workers} workers: key {key}'s elements in input order");
            last[key as usize] = count;
        }
        let expected = |k: u64| n / keys + u64::from(k < n % keys);
        assert!((0..keys).all(|k| last[k as usize] == expected(k)), "{workers} workers: final counts");
        assert_eq!(result.metrics_of("RunningCount").elements_processed, n);
    }
}

#[test]
fn run_keeps_the_outputs_in_the_order_run_with_hands_them_over() {
    // Several bundles, each worker's outputs of a step in a part of their own: read in order, indexed, or
    // taken as one vector, they are what `run_with` hands to its sink, in the same order.
    let (n, keys) = (50_000u64, 1_000u64);
    let input = move || (0..n).map(move |i| ((i % keys, i), ms(i as i64)));
    for workers in [1, 2, 3] {
        let pipeline = || Pipeline::from_values(input()).with_workers(workers).apply(RunningCount::default());
        let mut streamed = Vec::new();
        pipeline().run_with(|o| streamed.push((o.value, o.timestamp))).unwrap();
        let result = pipeline().run().unwrap();
        let outputs = result.outputs();
        assert_eq!(outputs.len(), streamed.len(), "{workers} workers");
        assert!(outputs.iter().map(|o| (o.value, o.timestamp)).eq(streamed.iter().copied()), "{workers} workers");
        if workers > 1 {
            assert!(outputs.parts().len() > 1, "{workers} workers: the workers' outputs stay apart");
        }
        for i in [0, 1, 16_383, 16_384, 25_000, 49_999] {
            assert_eq!((outputs[i].value, outputs[i].timestamp), streamed[i], "{workers} workers: output {i}");
        }
        assert!(outputs.get(streamed.len()).is_none());
        let all = result.into_outputs();
        assert!(all.iter().map(|o| (o.value, o.timestamp)).eq(streamed.iter().copied()), "{workers} workers");
    }
}

#[test]
fn big_steps_split_across_workers_give_the_same_outputs_per_key_and_window() {
    // Steps of 10,000 elements (big enough to be split by every thread in parallel), sliding windows of
    // 40 ms every 20 ms (each element in two windows), 97 keys.
    let mut stream = TestStream::new();
    for step in 0..4u64 {
        let elements = (step * 10_000..(step + 1) * 10_000).map(|i| ((i * 31 % 97, i), ms((i / 100) as i64)));
        stream = stream.add_elements(elements).advance_watermark_to(ms(((step + 1) * 100) as i64));
    }
    let sliding = WindowFn::sliding(Duration::from_millis(40), Duration::from_millis(20));
    let run = |workers| {
        let p = Pipeline::from_test_stream(stream.clone()).window_into(sliding).with_workers(workers);
        let result = p.apply(RunningCount::default()).run().unwrap();
        let out: Vec<(i64, u64, u64, u64)> =
            result.outputs().iter().map(|o| (o.window.start().millis(), o.value.0, o.value.1, o.value.2)).collect();
        // Per key and window, the n-th output counts n and carries the key's n-th element in the window.
        let mut seen = std::collections::HashMap::<(i64, u64), (u64, Option<u64>)>::new();
        for &(w, k, count, value) in &out {
            let (last_count, last_value) = seen.entry((w, k)).or_default();
            assert_eq!(count, *last_count + 1, "{workers} workers: ({w}, {k}) counts up by one");
            assert!(last_value.is_none_or(|v| v < value), "{workers} workers: ({w}, {k}) in input order");
            (*last_count, *last_value) = (count, Some(value));
        }
        let mut out: Vec<(i64, u64, u64)> = out.into_iter().map(|(w, k, c, _)| (w, k, c)).collect();
        out.sort();
        out
    };
    let one = run(1);
    assert_eq!(one.len(), 80_000, "every element in two windows");
    // Per key and window, the running counts are 1, 2, ..., the number of the key's elements in the window.
    let mut expected = std::collections::BTreeMap::<(i64, u64), u64>::new();
    for i in 0..40_000u64 {
        let t = (i / 100) as i64;
        for start in [t - t.rem_euclid(20) - 20, t - t.rem_euclid(20)] {
            *expected.entry((start, i * 31 % 97)).or_default() += 1;
        }
    }
    let finals: std::collections::BTreeMap<(i64, u64), u64> = one.iter().map(|&(w, k, c)| ((w, k), c)).collect();
    assert_eq!(finals, expected);
    assert_eq!(run(2), one);
    assert_eq!(run(3), one);
}

/// Passes each value on with its key; fails on the value 13.
#[dofn]
#[derive(Clone, Default)]
struct FailsOn13 {
    #[state_id("last")]
    last: StateSpec<Value<u64>>,
}

#[dofn]
impl FailsOn13 {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(u64, u64), (u64, u64)>,
        #[state_id("last")] last: &mut Value<u64>,
    ) -> Result<(), String> {
        let &(key, value) = cx.element();
        if value == 13 {
            return Err(format!("key {key} got 13"));
        }
        last.write(value);
        cx.output((key, value));
        Ok(())
    }
}

#[test]
fn a_failing_step_ends_the_run_after_the_outputs_of_the_steps_before_it() {
    // Steps of five elements each; the value 13 is in the third. Several workers hand steps out ahead of
    // the one whose outputs they pass on: the outputs of the first two steps still reach the sink, nothing
    // of the third or later, and the error is the DoFn's.
    let stream = (0..6u64).fold(TestStream::new(), |stream, step| {
        stream
            .add_elements((step * 5..step * 5 + 5).map(|i| ((i % 3, i), ms(i as i64))))
            .advance_watermark_to(ms((step * 5 + 5) as i64))
    });
    for workers in [1, 2, 3] {
        // Failing last, and failing upstream of another stateful DoFn.
        for chained in [false, true] {
            let pipeline = Pipeline::from_test_stream(stream.clone()).with_workers(workers).apply(FailsOn13::default());
            let mut seen = Vec::new();
            let result = if chained {
                pipeline.apply(RunningCount::default()).run_with(|o| seen.push(o.value.2)).map(|_| ())
            } else {
                pipeline.run_with(|o| seen.push(o.value.1)).map(|_| ())
            };
            let Err(Error::User { source, .. }) = result else {
                panic!("{workers} worker(s), chained {chained}: the DoFn's error ends the run, got {result:?}");
            };
            assert_eq!(source.to_string(), "key 1 got 13");
            seen.sort();
            assert_eq!(seen, (0..10).collect::<Vec<_>>(), "{workers} worker(s), chained {chained}");
        }
    }
}

#[test]
fn live_input_on_several_workers_passes_each_steps_outputs_on_before_waiting_for_more() {
    // The source waits up to a minute for input; the sender waits for the output of its first element
    // before sending the second. A runner that asked for the next step first would wait that minute.
    let (tx, rx) = mpsc::channel();
    let (ack_tx, ack_rx) = mpsc::channel();
    let sender = std::thread::spawn(move || {
        tx.send(TimestampedValue::new((7u64, 1u64), ms(1))).unwrap();
        let acked = ack_rx.recv_timeout(StdDuration::from_secs(20)).is_ok();
        tx.send(TimestampedValue::new((7u64, 2u64), ms(2))).unwrap();
        acked
    });
    let mut seen = Vec::new();
    Pipeline::from_channel(rx, Duration::ZERO, Duration::from_secs(60))
        .with_workers(2)
        .apply(RunningCount::default())
        .run_with(|o| {
            seen.push(o.value);
            let _ = ack_tx.send(());
        })
        .unwrap();
    assert!(sender.join().unwrap(), "the first element's output came before the second element was sent");
    assert_eq!(seen, [(7, 1, 1), (7, 2, 2)]);
}

/// How many elements `Tally` has processed, on any worker.
static TALLIED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Passes values on, counting them in `TALLIED`.
#[dofn]
#[derive(Clone, Default)]
struct Tally {
    #[state_id("n")]
    n: StateSpec<Value<u64>>,
}

#[dofn]
impl Tally {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u64, u64), u64>, #[state_id("n")] n: &mut Value<u64>) {
        TALLIED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        n.write(*cx.value());
        cx.output(*cx.value());
    }
}

#[test]
fn big_steps_are_not_handed_out_far_ahead_of_the_outputs() {
    // Steps of 100,000 elements: more than one is handed out ahead only while the steps in flight hold
    // fewer than 131,072 elements, so when the first outputs reach the sink, at most two steps have been
    // processed (small steps go up to 8 ahead).
    let stream = (0..6u64).fold(TestStream::new(), |stream, step| {
        stream
            .add_elements((step * 100_000..(step + 1) * 100_000).map(|i| ((i % 97, i), ms(i as i64 / 1_000))))
            .advance_watermark_to(ms((step as i64 + 1) * 100))
    });
    let mut first = None;
    let mut outputs = 0;
    Pipeline::from_test_stream(stream)
        .with_workers(2)
        .apply(Tally::default())
        .run_with(|_| {
            first.get_or_insert(TALLIED.load(std::sync::atomic::Ordering::Relaxed));
            outputs += 1;
        })
        .unwrap();
    assert_eq!(outputs, 600_000);
    let first = first.unwrap_or_default();
    assert!((100_000..=200_000).contains(&first), "{first} elements processed before the first output");
}

/// A key whose hash panics for the value 13: a bug in a user's key type.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Touchy(u64);

impl std::hash::Hash for Touchy {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        assert_ne!(self.0, 13, "cannot hash 13");
        self.0.hash(state);
    }
}

/// Counts the elements of each `Touchy` key.
#[dofn]
#[derive(Clone, Default)]
struct CountTouchy {
    #[state_id("n")]
    n: StateSpec<Value<u64>>,
}

#[dofn]
impl CountTouchy {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(Touchy, u64), u64>, #[state_id("n")] n: &mut Value<u64>) {
        let count = n.read().copied().unwrap_or(0) + 1;
        n.write(count);
        cx.output(count);
    }
}

#[test]
fn a_key_whose_hash_panics_fails_the_run_with_the_panic_on_any_number_of_workers() {
    for workers in [1, 2, 3] {
        let input = (0..100u64).map(|i| ((Touchy(i % 20), i), ms(i as i64)));
        let result = Pipeline::from_values(input).with_workers(workers).apply(CountTouchy::default()).run();
        match result {
            Err(Error::Panicked { dofn, message, site }) => {
                assert!(site.is_none(), "{workers} worker(s): a key's `Hash` runs outside any callback");
                assert_eq!(dofn, "CountTouchy", "{workers} worker(s)");
                assert!(message.contains("cannot hash 13"), "{workers} worker(s): {message}");
            }
            other => panic!("{workers} worker(s): the key's panic fails the run, got {:?}", other.map(|_| ())),
        }
    }
}

#[test]
fn bad_settings_fail_the_run_before_any_element() {
    let (tx, rx) = mpsc::channel::<TimestampedValue<(u8, &'static str)>>();
    drop(tx);
    let err = Pipeline::from_channel(rx, Duration::from_secs(-5), Duration::from_millis(5))
        .apply(Nudge::default())
        .run()
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some(
            "input source failed: `from_channel` needs a max_out_of_orderness of zero or more (the watermark \
             trails the data by it), got -5s"
        )
    );
    let err = Pipeline::from_values([((1u8, "a"), ms(0))])
        .with_workers(dofn::runner::MAX_WORKERS + 1)
        .apply(Nudge::default())
        .run()
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("cannot apply DoFn `Nudge`: it was given 1025 workers, and a run takes at most 1024")
    );
}

/// Counts, and outputs each value to the main output and to [`ODD`]; fails on a value of 0 (after its outputs).
#[dofn]
#[derive(Clone, Default)]
struct FailsOnZero {
    #[state_id("n")]
    n: StateSpec<Value<u64>>,
}

#[dofn]
impl FailsOnZero {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(u64, u64), u64>,
        #[state_id("n")] n: &mut Value<u64>,
    ) -> Result<(), String> {
        *n.get_or_insert_with(|| 0) += 1;
        cx.output(*cx.value());
        cx.output_to(&ODD, *cx.value());
        if *cx.value() == 0 {
            return Err(format!("zero for key {}", cx.key()));
        }
        Ok(())
    }
}

#[test]
fn a_failed_steps_outputs_main_and_tagged_are_dropped_and_the_steps_before_are_handed_over() {
    // Step 1 succeeds; step 2 outputs 3 then fails on 0: neither of its outputs reaches the callbacks.
    let stream = TestStream::new()
        .add_elements([((1u64, 1u64), ms(0)), ((2, 2), ms(0))])
        .advance_watermark_to(ms(10))
        .add_elements([((1, 3), ms(20)), ((1, 0), ms(21))])
        .advance_watermark_to(ms(30));
    for workers in [1, 2] {
        let (mut main, mut tagged) = (Vec::new(), Vec::new());
        let result = Pipeline::from_test_stream(stream.clone())
            .with_workers(workers)
            .apply(FailsOnZero::default())
            .run_with_tagged(|o| main.push(o.value), |t| tagged.extend(t.take(&ODD).into_iter().map(|o| o.value)));
        let err = result.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.ends_with("zero for key 1"), "{workers} worker(s): {err}");
        main.sort_unstable();
        tagged.sort_unstable();
        assert_eq!((main, tagged), (vec![1, 2], vec![1, 2]), "{workers} worker(s)");
    }
}

#[test]
fn tagged_outputs_reach_run_with_tagged_step_by_step_on_a_live_source() {
    // The sender waits until the tagged output of its third element has been handed over before it sends
    // the fourth and closes the source: tagged outputs are seen while the run goes on.
    for workers in [1, 2] {
        let (tx, rx) = mpsc::channel();
        let (ack_tx, ack_rx) = mpsc::channel();
        let sender = std::thread::spawn(move || {
            for i in 1..=3u64 {
                tx.send(TimestampedValue::new((5u64, i), ms(i as i64))).unwrap();
            }
            let acked = ack_rx.recv_timeout(StdDuration::from_secs(20)).is_ok();
            tx.send(TimestampedValue::new((5u64, 4), ms(4))).unwrap();
            acked
        });
        let (mut main, mut tagged) = (Vec::new(), Vec::new());
        let result = Pipeline::from_channel(rx, Duration::ZERO, Duration::from_millis(5))
            .with_workers(workers)
            .apply(EveryThird::default())
            .run_with_tagged(
                |o| main.push(o.value),
                |t| {
                    for o in t.take(&ODD) {
                        tagged.push(o.value);
                        let _ = ack_tx.send(());
                    }
                },
            )
            .unwrap();
        assert!(sender.join().unwrap(), "{workers} worker(s): the tagged output came before the source closed");
        assert_eq!((main, tagged), (vec![1, 2, 3, 4], vec![5003]), "{workers} worker(s)");
        assert!(result.tagged().is_empty(), "taken by the callback");
    }
}

/// A timer's firing time and output timestamp, in seconds.
type FireAndHold = (i64, i64);

/// Sets an event-time timer at the element's `(fire, hold)` seconds, holding its output there; the callback
/// outputs the key to the one downstream key 0.
#[dofn]
#[derive(Clone, Default)]
struct HoldUntil {
    #[timer_id("t")]
    t: TimerSpec<EventTime>,
}

#[dofn]
impl HoldUntil {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u32, FireAndHold), (u32, u32)>, #[timer_id("t")] t: &mut Timer) {
        let (fire, hold) = *cx.value();
        t.with_output_timestamp(Instant::from_secs(hold)).set(Instant::from_secs(fire));
    }

    #[on_timer("t")]
    fn on_t(&self, cx: &mut TimerContext<(u32, u32)>, Key(k): Key<&u32>) {
        cx.output((0, *k));
    }
}

/// Counts per key and window; outputs the count when the window ends.
#[dofn]
#[derive(Clone, Default)]
struct CountPerWindow {
    #[state_id("n")]
    n: StateSpec<Value<u64>>,
    #[timer_id("end")]
    end: TimerSpec<EventTime>,
}

#[dofn]
impl CountPerWindow {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(u32, u32), (u32, u64)>,
        #[state_id("n")] n: &mut Value<u64>,
        #[timer_id("end")] end: &mut Timer,
    ) {
        *n.get_or_insert_with(|| 0) += 1;
        end.set(cx.window().max_timestamp());
    }

    #[on_timer("end")]
    fn on_end(&self, cx: &mut TimerContext<(u32, u64)>, Key(k): Key<&u32>, #[state_id("n")] n: &mut Value<u64>) {
        cx.output((*k, n.read().copied().unwrap_or(0)));
    }
}

#[test]
fn a_hold_set_by_a_late_element_holds_the_stage_on_any_number_of_workers() {
    // Key 1's timer holds the output watermark at 50 s while the input watermark moves to 100 s; then a late
    // element (60 s, its window still live) of another key sets a timer holding at 60 s: ahead of the stage's
    // output watermark (50 s), so it holds it too, and the timer's output at 60 s is on time downstream.
    // (Each worker kept its own output watermark from moving back, so a worker without key 1 had already
    // reported 100 s, and the late element's hold behind it was ignored there.)
    for other in 2..=9u32 {
        let stream = TestStream::new()
            .add_elements([((1u32, (120i64, 50i64)), ms(50_000))])
            .advance_watermark_to(ms(100_000))
            .add_elements([((other, (150, 60)), ms(60_000))])
            .advance_watermark_to(ms(130_000))
            .advance_watermark_to(ms(200_000));
        for workers in [1, 2, 3] {
            let result = Pipeline::from_test_stream(stream.clone())
                .window_into(WindowFn::fixed(Duration::from_secs(1000)))
                .with_workers(workers)
                .apply(HoldUntil::default())
                .window_into(WindowFn::fixed(Duration::from_secs(10)))
                .apply(CountPerWindow::default())
                .run()
                .unwrap();
            let counts: Vec<(i64, u64)> =
                result.sorted().iter().map(|o| (o.window.start().millis() / 1000, o.value.1)).collect();
            assert_eq!(counts, [(50, 1), (60, 1)], "key {other}, {workers} worker(s)");
            assert_eq!(
                result.metrics_of("CountPerWindow").late_elements_dropped,
                0,
                "key {other}, {workers} worker(s)"
            );
        }
    }
}

#[test]
fn a_panicking_input_iterator_fails_the_run() {
    for workers in [1, 2] {
        let input = (0..100_000u32).map(|i| {
            assert!(i < 20_000, "the input ran dry at {i}");
            ((1u8, "x"), ms(i64::from(i)))
        });
        let err = Pipeline::from_values(input).with_workers(workers).apply(Nudge::default()).run().err();
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some("input source failed: the input's iterator panicked: the input ran dry at 20000"),
            "{workers} worker(s)"
        );
    }
}
