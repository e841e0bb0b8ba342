//! State through a DoFn: every cell kind, read-your-writes within a call, scoping, and clearing at expiry.

use dofn::prelude::*;
use dofn::testing::Harness;
use std::collections::BTreeMap;

fn ms(t: i64) -> Instant {
    Instant::from_millis(t)
}

/// Uses one cell of every kind; outputs a line describing them after each element.
#[dofn]
#[derive(Clone, Default)]
struct Everything {
    #[state_id("last")]
    last: StateSpec<Value<String>>,
    #[state_id("all")]
    all: StateSpec<Bag<String>>,
    #[state_id("len")]
    len: StateSpec<Combining<Sum<usize>>>,
    #[state_id("mean")]
    mean: StateSpec<Combining<Mean<f64>>>,
    #[state_id("first_seen")]
    first_seen: StateSpec<Map<char, i64>>,
    #[state_id("distinct")]
    distinct: StateSpec<Set<String>>,
    #[state_id("timeline")]
    timeline: StateSpec<OrderedList<String>>,
    #[state_id("by_initial")]
    by_initial: StateSpec<Multimap<char, String>>,
}

#[dofn]
impl Everything {
    #[allow(clippy::too_many_arguments)]
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(u8, String), String>,
        Timestamp(ts): Timestamp,
        #[state_id("by_initial")] by_initial: &mut Multimap<char, String>,
        #[state_id("timeline")] timeline: &mut OrderedList<String>,
        #[state_id("distinct")] distinct: &mut Set<String>,
        #[state_id("first_seen")] first_seen: &mut Map<char, i64>,
        #[state_id("mean")] mean: &mut Combining<Mean<f64>>,
        #[state_id("len")] len: &mut Combining<Sum<usize>>,
        #[state_id("all")] all: &mut Bag<String>,
        #[state_id("last")] last: &mut Value<String>,
    ) {
        let word = cx.value().clone();
        let initial = word.chars().next().unwrap_or('?');
        let previous = last.read().cloned().unwrap_or_default();
        last.write(word.clone());
        // Reads see the write made just above, in the same call.
        assert_eq!(last.read(), Some(&word));
        all.add(word.clone());
        len.add(word.len());
        mean.add(word.len() as f64);
        first_seen.put_if_absent(initial, ts.millis());
        let new = distinct.add_if_absent(word.clone());
        timeline.add(ts, word.clone());
        by_initial.put(initial, word.clone());
        let in_order: Vec<&String> = timeline.read().map(|(_, w)| w).collect();
        let same_initial: Vec<&String> = by_initial.get(&initial).collect();
        cx.output(format!(
            "{word}: previous={previous:?} bag={} len={} mean={:.2} first[{initial}]={:?} new={new} timeline={in_order:?} \
             same_initial={same_initial:?}",
            all.len(),
            len.read(),
            mean.read().unwrap_or(0.0),
            first_seen.get(&initial),
        ));
    }
}

#[test]
fn every_cell_kind_reads_its_own_writes_and_is_scoped_per_key_and_window() {
    let mut h = Harness::new(Everything::default(), WindowFn::fixed(Duration::from_millis(100)).into()).unwrap();
    let out = h
        .add_elements([
            ((1, "beta".to_string()), ms(30)),
            ((1, "alpha".to_string()), ms(10)),
            ((2, "gamma".to_string()), ms(20)),
            ((1, "beta".to_string()), ms(20)),
            ((1, "bravo".to_string()), ms(110)),
        ])
        .unwrap();
    let lines: Vec<&str> = out.iter().map(|o| o.value.as_str()).collect();
    assert_eq!(
        lines,
        [
            r#"beta: previous="" bag=1 len=4 mean=4.00 first[b]=Some(30) new=true timeline=["beta"] same_initial=["beta"]"#,
            r#"alpha: previous="beta" bag=2 len=9 mean=4.50 first[a]=Some(10) new=true timeline=["alpha", "beta"] same_initial=["alpha"]"#,
            r#"gamma: previous="" bag=1 len=5 mean=5.00 first[g]=Some(20) new=true timeline=["gamma"] same_initial=["gamma"]"#,
            r#"beta: previous="alpha" bag=3 len=13 mean=4.33 first[b]=Some(30) new=false timeline=["alpha", "beta", "beta"] same_initial=["beta", "beta"]"#,
            r#"bravo: previous="" bag=1 len=5 mean=5.00 first[b]=Some(110) new=true timeline=["bravo"] same_initial=["bravo"]"#,
        ]
    );
    assert_eq!(h.live_records(), 3);
    h.advance_watermark_to(ms(100)).unwrap();
    assert_eq!(h.live_records(), 1, "the first window's cells are gone for both keys");
    // A new element in a fresh window starts from empty cells.
    let out = h.add_elements([((1, "bongo".to_string()), ms(150))]).unwrap();
    assert!(out[0].value.starts_with(r#"bongo: previous="bravo" bag=2"#), "{}", out[0].value);
}

/// Counts distinct words per key; when the window ends, outputs them by iterating its Set, Map and Multimap.
#[dofn]
#[derive(Clone, Default)]
struct Vocabulary {
    #[state_id("words")]
    words: StateSpec<Set<String>>,
    #[state_id("counts")]
    counts: StateSpec<Map<String, u32>>,
    #[state_id("by_len")]
    by_len: StateSpec<Multimap<usize, String>>,
    #[timer_id("end")]
    end: TimerSpec<EventTime>,
}

#[dofn]
impl Vocabulary {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(u8, String), String>,
        #[state_id("words")] words: &mut Set<String>,
        #[state_id("counts")] counts: &mut Map<String, u32>,
        #[state_id("by_len")] by_len: &mut Multimap<usize, String>,
        #[timer_id("end")] end: &mut Timer,
    ) {
        let word = cx.value().clone();
        words.add(word.clone());
        *counts.compute_if_absent(word.clone(), |_| 0) += 1;
        by_len.put(word.len(), word);
        end.set(cx.window().max_timestamp());
    }

    #[on_timer("end")]
    fn on_end(
        &self,
        cx: &mut TimerContext<String>,
        #[state_id("words")] words: &mut Set<String>,
        #[state_id("counts")] counts: &mut Map<String, u32>,
        #[state_id("by_len")] by_len: &mut Multimap<usize, String>,
    ) {
        for word in words.read() {
            cx.output(format!("set:{word}"));
        }
        for (word, n) in counts.entries() {
            cx.output(format!("map:{word}={n}"));
        }
        for (len, word) in by_len.entries() {
            cx.output(format!("multimap:{len}={word}"));
        }
    }
}

/// The outputs of one harness run of [`Vocabulary`], in order.
fn vocabulary_outputs() -> Vec<String> {
    let mut h = Harness::new(Vocabulary::default(), WindowingStrategy::global()).unwrap();
    // 60 words, 40 of them distinct.
    let words = (0..60).map(|i| ((1, format!("w{}", i * 7 % 40)), ms(1)));
    h.add_elements(words).unwrap();
    h.advance_watermark_to_infinity().unwrap().into_iter().map(|o| o.value).collect()
}

/// Set in the environment of the process [`iterating_cells_gives_the_same_outputs_in_every_run`] starts.
const PRINT_OUTPUTS: &str = "DOFN_TEST_PRINT_VOCABULARY_OUTPUTS";

#[test]
fn iterating_cells_gives_the_same_outputs_in_every_run() {
    let outputs = vocabulary_outputs();
    if std::env::var_os(PRINT_OUTPUTS).is_some() {
        // (On a line of its own: the test runner may have written the test's name on the line before.)
        println!("\nvocabulary outputs: {}", outputs.join(" "));
        return;
    }
    assert_eq!(outputs.len(), 40 + 40 + 60, "each distinct word in the set and the map, every word in the multimap");
    assert_eq!(vocabulary_outputs(), outputs, "a second run in this process");
    // And a run in another process: a randomly seeded hasher would be seeded anew there.
    let exe = std::env::current_exe().expect("the test binary's path");
    let name = "iterating_cells_gives_the_same_outputs_in_every_run";
    let child = std::process::Command::new(exe)
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(PRINT_OUTPUTS, "1")
        .output()
        .expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(child.status.success(), "{stdout}{}", String::from_utf8_lossy(&child.stderr));
    let theirs =
        stdout.lines().find_map(|l| l.strip_prefix("vocabulary outputs: ")).expect("the other run prints its outputs");
    assert_eq!(theirs, outputs.join(" "), "a run in another process");
}

/// The sum of the inputs, each scaled by a factor chosen when the DoFn is built (no `Default`).
#[derive(Clone)]
struct ScaledSum {
    factor: u64,
}

impl CombineFn for ScaledSum {
    type Input = u64;
    type Accum = u64;
    type Output = u64;
    fn create_accumulator(&self) -> u64 {
        0
    }
    fn add_input(&self, acc: &mut u64, input: u64) {
        *acc += input * self.factor;
    }
    fn merge_accumulators(&self, accs: impl IntoIterator<Item = u64>) -> u64 {
        accs.into_iter().sum()
    }
    fn extract_output(&self, acc: &u64) -> u64 {
        *acc
    }
}

/// Two configured `Combining` cells: their functions come from the specs the DoFn was built with.
#[dofn]
#[derive(Clone)]
struct TwoScales {
    #[state_id("small")]
    small: StateSpec<Combining<ScaledSum>>,
    #[state_id("large")]
    large: StateSpec<Combining<ScaledSum>>,
}

#[dofn]
impl TwoScales {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(u32, u64), (u32, u64, u64)>,
        #[state_id("small")] small: &mut Combining<ScaledSum>,
        #[state_id("large")] large: &mut Combining<ScaledSum>,
    ) {
        small.add(*cx.value());
        large.add(*cx.value());
        cx.output((*cx.key(), small.read(), large.read()));
    }
}

#[test]
fn a_configured_combine_fn_reaches_every_cell_on_every_worker() {
    let dofn = TwoScales {
        small: StateSpec::combining(ScaledSum { factor: 2 }),
        large: StateSpec::combining(ScaledSum { factor: 1000 }),
    };
    // Keys 0..8, values 1, 2, 3 per key, in windows of 10 ms: the second window starts over with new cells.
    let input: Vec<TimestampedValue<(u32, u64)>> =
        (0..48).map(|i| TimestampedValue::new((i % 8, u64::from(i / 8 % 3 + 1)), ms(i64::from(i / 24 * 10)))).collect();
    for workers in [1, 3] {
        let result = Pipeline::from_timestamped(input.clone())
            .window_into(WindowFn::fixed(Duration::from_millis(10)))
            .with_workers(workers)
            .apply(dofn.clone())
            .run()
            .unwrap();
        // Each key and window sees 1, 2, 3 in that order: running sums 1, 3, 6, scaled by each cell's own
        // factor.
        let mut per_key_and_window: BTreeMap<(u32, Instant), Vec<(u64, u64)>> = BTreeMap::new();
        for v in result.outputs().iter() {
            let (key, small, large) = v.value;
            per_key_and_window.entry((key, v.window.start())).or_default().push((small, large));
        }
        assert_eq!(per_key_and_window.len(), 16, "{workers} workers");
        for (at, sums) in per_key_and_window {
            assert_eq!(sums, [(2, 1000), (6, 3000), (12, 6000)], "{workers} workers, key and window {at:?}");
        }
    }
}

#[test]
fn a_configured_spec_makes_its_cells_with_the_function() {
    let spec = StateSpec::combining(ScaledSum { factor: 3 });
    let mut cell = spec.new_cell();
    cell.add(5);
    assert_eq!(cell.read(), 15);
    assert_eq!(format!("{spec:?}"), "StateSpec<Combining>(configured)");
    let default_spec: StateSpec<Combining<Sum<u64>>> = StateSpec::new();
    assert_eq!(format!("{default_spec:?}"), "StateSpec<Combining>");
}
