//! The workloads of issue 5, each run as a dofn pipeline and as a hand-written hashbrown loop (the baseline)
//! in the same criterion group, so that their ratio is measured side by side.
//!
//! `cargo bench --bench workloads`. Every routine takes its input by value: the input is built once, and
//! cloned for each iteration *outside* the timed part (`iter_batched`), for the DoFn and the baseline alike.
//! Outputs are returned, so they are dropped outside the timed part too; each side frees its input and
//! state inside it. Before timing, each group checks that the DoFn and the baseline produce the same
//! outputs (as a multiset). `DOFN_BENCH_SCALE=n` divides every size by `n` (for a quick try).

mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

use support::{Checksum, W1_N, W2_N, W3_N, W4_N, baselines, enriched_code, pair_code, runs, scaled};

fn w1_counter(c: &mut Criterion) {
    let n = scaled(W1_N);
    for (name, keys) in [("w1_counter_1k_keys", 1_000u64), ("w1_counter_1m_keys", 1_000_000)] {
        let input = support::w1_input(n, keys);
        let expected = Checksum::of(baselines::w1(input.clone()));
        for workers in [1, 2] {
            let got = Checksum::of(runs::w1(input.clone(), workers).values().copied());
            assert_eq!(got, expected, "{name}: the DoFn on {workers} workers and the baseline disagree");
        }
        let two = Checksum::of(baselines::w1_two_threads(input.clone()));
        assert_eq!(two, expected, "{name}: the two-thread baseline disagrees");
        let halves = baselines::w1_halves(&input);
        let presplit = Checksum::of(baselines::w1_two_threads_presplit(halves.clone()).into_iter().flatten());
        assert_eq!(presplit, expected, "{name}: the presplit two-thread reference disagrees");
        let sum = baselines::w1_streaming(input.clone());
        assert_eq!(sum, expected.sum, "{name}: the streaming baseline disagrees");
        for workers in [1, 2] {
            assert_eq!(runs::w1_streaming(input.clone(), workers), sum, "{name}: the streaming DoFn disagrees");
        }
        let mut g = c.benchmark_group(name);
        g.sampling_mode(SamplingMode::Flat).throughput(Throughput::Elements(n as u64));
        bench(&mut g, "baseline", &input, baselines::w1);
        bench(&mut g, "baseline_2_threads", &input, baselines::w1_two_threads);
        bench(&mut g, "reference_2_threads_presplit", &halves, baselines::w1_two_threads_presplit);
        if keys == 1_000 {
            bench(&mut g, "reference_collect_outputs", &input, baselines::collect_outputs);
        }
        for (id, workers) in [("dofn_1_worker", 1), ("dofn_2_workers", 2)] {
            bench(&mut g, id, &input, |i| runs::w1(i, workers));
        }
        // Outputs handed to a sink as they are made (`run_with`) instead of collected (`run`).
        bench(&mut g, "baseline_streaming", &input, baselines::w1_streaming);
        for (id, workers) in [("dofn_1_worker_streaming", 1), ("dofn_2_workers_streaming", 2)] {
            bench(&mut g, id, &input, |i| runs::w1_streaming(i, workers));
        }
        g.finish();
    }
}

fn w2_bag_timer(c: &mut Criterion) {
    let n = scaled(W2_N);
    let input = support::w2_input(n);
    let expected = Checksum::of(baselines::w2(input.clone()));
    let got = Checksum::of(runs::w2(input.clone(), 1).values().copied());
    assert_eq!(got, expected, "W2: the DoFn and the baseline disagree");
    assert_eq!(got.len, 1000, "W2: each key's timer fires once, at the end");
    let mut g = c.benchmark_group("w2_bag_timer");
    g.sampling_mode(SamplingMode::Flat).throughput(Throughput::Elements(n as u64));
    bench(&mut g, "baseline", &input, baselines::w2);
    bench(&mut g, "dofn_1_worker", &input, |i| runs::w2(i, 1));
    g.finish();
}

fn w3_batched_rpc(c: &mut Criterion) {
    let n = scaled(W3_N);
    let input = support::w3_input(n);
    let expected = Checksum::of(baselines::w3(input.clone()).iter().map(enriched_code));
    assert_eq!(expected.len, n as u64, "W3: every event is output once");
    for workers in [1, 2] {
        let got = Checksum::of(runs::w3(input.clone(), workers).values().map(enriched_code));
        assert_eq!(got, expected, "W3: the DoFn on {workers} workers and the baseline disagree");
    }
    let mut g = c.benchmark_group("w3_batched_rpc");
    g.sampling_mode(SamplingMode::Flat).throughput(Throughput::Elements(n as u64));
    bench(&mut g, "baseline", &input, baselines::w3);
    for (id, workers) in [("dofn_1_worker", 1), ("dofn_2_workers", 2)] {
        bench(&mut g, id, &input, |i| runs::w3(i, workers));
    }
    g.finish();
}

fn w4_fixed_windows(c: &mut Criterion) {
    let n = scaled(W4_N);
    let input = support::w4_input(n);
    let expected = Checksum::of(baselines::w4(input.clone()).iter().map(pair_code));
    for workers in [1, 2] {
        let got = Checksum::of(runs::w4(input.clone(), workers).values().map(pair_code));
        assert_eq!(got, expected, "W4: the DoFn on {workers} workers and the baseline disagree");
    }
    let two = Checksum::of(baselines::w4_two_threads(input.clone()).iter().map(pair_code));
    assert_eq!(two, expected, "W4: the two-thread baseline disagrees");
    let got = Checksum::of(runs::w4_timer(input.clone(), 1).values().map(pair_code));
    assert_eq!(got, expected, "W4: the DoFn with a timer and the baseline disagree");
    let mut g = c.benchmark_group("w4_fixed_windows");
    g.sampling_mode(SamplingMode::Flat).throughput(Throughput::Elements(n as u64));
    bench(&mut g, "baseline", &input, baselines::w4);
    bench(&mut g, "baseline_2_threads", &input, baselines::w4_two_threads);
    for (id, workers) in [("dofn_1_worker", 1), ("dofn_2_workers", 2)] {
        bench(&mut g, id, &input, |i| runs::w4(i, workers));
    }
    // The same counts output by an event-time timer at each window's end instead.
    bench(&mut g, "dofn_1_worker_timer", &input, |i| runs::w4_timer(i, 1));
    g.finish();
}

/// Registers `run` as `id` in `g`, timed on a fresh clone of `input` per iteration (cloned outside the timed
/// part; the result is dropped outside it).
fn bench<I: Clone, R>(g: &mut BenchmarkGroup<'_, WallTime>, id: &str, input: &I, run: impl Fn(I) -> R) {
    g.bench_function(id, |b| b.iter_batched(|| input.clone(), |i| black_box(run(i)), BatchSize::PerIteration));
}

fn config() -> Criterion {
    Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4))
}

criterion_group! {
    name = workloads;
    config = config();
    targets = w1_counter, w2_bag_timer, w3_batched_rpc, w4_fixed_windows
}
criterion_main!(workloads);
