//! The ratios of issue 5's targets measured in pairs: `cargo bench --bench paired`.
//!
//! criterion (`workloads`) measures each variant for some seconds, one after the other, so a ratio of two of
//! them compares runs made a minute or more apart; on a shared machine whose speed drifts over minutes
//! (by 20 % and more on those in `BENCHMARKS.md`) that drift lands in the ratio. Here each pair runs the
//! two variants back to back, the order alternating from pair to pair, and the ratio is taken within the
//! pair: a drift moves both runs of a pair alike. The median of the pairs' ratios is reported with the
//! lowest and highest, and the median speed of each variant.
//!
//! Each run takes its input by value, cloned before the clock starts; its result is dropped after it stops
//! (as in `workloads`). The first pair of each comparison is a warm-up and is not counted. `DOFN_PAIRS=n`
//! sets the number of pairs counted (default 9); `DOFN_BENCH_SCALE=n` divides every size by `n`.

mod support;

use std::any::Any;
use std::time::Instant as Clock;

use support::{W1_N, W2_N, W3_N, W4_N, baselines, runs, scaled};

/// `DOFN_PAIRS`, the number of pairs counted per comparison (default 9, at least 1).
fn pairs() -> usize {
    std::env::var("DOFN_PAIRS").ok().and_then(|s| s.parse().ok()).unwrap_or(9).max(1)
}

/// One variant of a comparison: its name and how to run it on an input.
struct Variant<I> {
    name: &'static str,
    run: Box<dyn Fn(I) -> Box<dyn Any>>,
}

/// A variant named `name` that runs `run`.
fn variant<I, R: 'static>(name: &'static str, run: impl Fn(I) -> R + 'static) -> Variant<I> {
    Variant { name, run: Box::new(move |input| Box::new(run(input))) }
}

/// Seconds `variant` takes on a clone of `input` (cloned before the clock starts; the result is dropped
/// after it stops).
fn time<I: Clone>(variant: &Variant<I>, input: &I) -> f64 {
    let input = input.clone();
    let start = Clock::now();
    let result = (variant.run)(input);
    let seconds = start.elapsed().as_secs_f64();
    drop(result);
    seconds
}

/// Runs `pairs` pairs of `a` and `b` (after one warm-up pair) and prints the median ratio of `a`'s speed to
/// `b`'s with its range, and each one's median speed in M elements/s.
fn compare<I: Clone>(workload: &str, elements: usize, input: &I, a: Variant<I>, b: Variant<I>, pairs: usize) {
    let mut ratios = Vec::with_capacity(pairs);
    let (mut speed_a, mut speed_b) = (Vec::with_capacity(pairs), Vec::with_capacity(pairs));
    for pair in 0..=pairs {
        let (ta, tb) = if pair % 2 == 0 {
            let ta = time(&a, input);
            (ta, time(&b, input))
        } else {
            let tb = time(&b, input);
            (time(&a, input), tb)
        };
        if pair == 0 {
            continue;
        }
        ratios.push(tb / ta);
        speed_a.push(elements as f64 / ta / 1e6);
        speed_b.push(elements as f64 / tb / 1e6);
    }
    let (lo, mid, hi) = spread(&mut ratios);
    let (_, a_mid, _) = spread(&mut speed_a);
    let (_, b_mid, _) = spread(&mut speed_b);
    println!("| {workload} | {} / {} | **{mid:.3}** [{lo:.3}, {hi:.3}] | {a_mid:.2} | {b_mid:.2} |", a.name, b.name);
}

/// The lowest, the median and the highest of `values`.
fn spread(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 };
    (values[0], median, values[n - 1])
}

fn main() {
    // `cargo bench` passes `--bench` (and any filter); this bench takes none.
    let pairs = pairs();
    println!("{pairs} pairs each (after one warm-up pair); ratio = speed of the first variant / the second\n");
    println!("| workload | ratio of | median [lowest, highest] | first, M/s | second, M/s |");
    println!("|---|---|---:|---:|---:|");

    let n = scaled(W1_N);
    for (workload, keys) in [("W1, 1,000 keys", 1_000u64), ("W1, 1,000,000 keys", 1_000_000)] {
        let input = support::w1_input(n, keys);
        let run = |workers| variant(WORKERS[workers - 1], move |i| runs::w1(i, workers));
        let streaming = |workers| variant(WORKERS[workers - 1], move |i| runs::w1_streaming(i, workers));
        if keys == 1_000 {
            let base = variant("baseline", baselines::w1_streaming);
            compare(&format!("{workload}, streaming"), n, &input, streaming(1), base, pairs);
            let base = variant("baseline", baselines::w1);
            compare(&format!("{workload}, `run()`"), n, &input, run(1), base, pairs);
        }
        compare(&format!("{workload}, `run()`"), n, &input, run(2), run(1), pairs);
        compare(&format!("{workload}, streaming"), n, &input, streaming(2), streaming(1), pairs);
        if keys == 1_000_000 {
            // The machine's own two-thread gain on this loop: two threads on input already cut by key against
            // one thread on the whole input (both inputs cloned before timing, only one used by each).
            let both = (baselines::w1_halves(&input), input);
            let presplit =
                variant("2 threads on presplit input", |(halves, _)| baselines::w1_two_threads_presplit(halves));
            let base = variant("baseline", |(_, whole)| baselines::w1(whole));
            compare(workload, n, &both, presplit, base, pairs);
        }
    }

    let n = scaled(W2_N);
    let input = support::w2_input(n);
    let (dofn, base) = (variant(WORKERS[0], |i| runs::w2(i, 1)), variant("baseline", baselines::w2));
    compare("W2", n, &input, dofn, base, pairs);

    let n = scaled(W3_N);
    let input = support::w3_input(n);
    let (one, two) = (variant(WORKERS[0], |i| runs::w3(i, 1)), variant(WORKERS[1], |i| runs::w3(i, 2)));
    compare("W3", n, &input, two, one, pairs);

    let n = scaled(W4_N);
    let input = support::w4_input(n);
    let (one, two) = (variant(WORKERS[0], |i| runs::w4(i, 1)), variant(WORKERS[1], |i| runs::w4(i, 2)));
    compare("W4, 2 M elements", n, &input, two, one, pairs);
    let (base, base_two) =
        (variant("baseline", baselines::w4), variant("baseline 2 threads", baselines::w4_two_threads));
    compare("W4, 2 M elements", n, &input, base_two, base, pairs);
}

/// The names of the DoFn on 1 and 2 workers.
const WORKERS: [&str; 2] = ["dofn 1 worker", "dofn 2 workers"];
