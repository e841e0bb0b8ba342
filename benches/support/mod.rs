//! What the bench binaries share: the workloads' DoFns, their inputs, the hand-written baselines, and
//! order-independent checksums to check that a DoFn and its baseline compute the same thing.
// Each bench binary uses a part of this module.
#![allow(dead_code)]

pub mod baselines;
pub mod dofns;

use dofn::testing::TestStream;
use dofn::time::{Duration, Instant};

/// Elements per step of a scripted input: the bounded source's batch size (`BOUNDED_BATCH` in the runner).
pub const CHUNK: usize = 16 * 1024;

/// W1's elements per run.
pub const W1_N: usize = 10_000_000;
/// W2's elements per run.
pub const W2_N: usize = 10_000_000;
/// W3's events per run.
pub const W3_N: usize = 2_000_000;
/// W4's elements per run in `workloads` and `paired`: a fifth of the 10 M (20 windows; the `memory`
/// bench runs the full 10 M, 100 windows, once).
pub const W4_N: usize = 2_000_000;

/// `n` divided by `DOFN_BENCH_SCALE` (default 1), for a quick try of a bench; at least 1.
pub fn scaled(n: usize) -> usize {
    let scale: usize = std::env::var("DOFN_BENCH_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    (n / scale.max(1)).max(1)
}

/// SplitMix64: a cheap, well-spread pseudo-random function of `i`.
#[inline]
pub fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// W1's input: element `i` is `(i % keys, i)` at `i / 1000` ms.
pub fn w1_input(n: usize, keys: u64) -> Vec<((u64, u64), Instant)> {
    (0..n as u64).map(|i| ((i % keys, i), Instant::from_millis((i / 1000) as i64))).collect()
}

/// A script of `n` elements made by `element(i)`, in steps of [`CHUNK`] elements; after each step the
/// processing-time clock advances by `tick` (if not zero) and the watermark advances to the step's last
/// timestamp (timestamps never decrease, so no element is behind the watermark).
pub fn script<T>(n: usize, tick: Duration, element: impl Fn(u64) -> (T, Instant)) -> TestStream<T> {
    let mut stream = TestStream::new();
    let mut i = 0u64;
    while i < n as u64 {
        let end = (i + CHUNK as u64).min(n as u64);
        let chunk: Vec<(T, Instant)> = (i..end).map(&element).collect();
        let last = chunk.last().map(|(_, t)| *t).expect("a chunk is not empty");
        stream = stream.add_elements(chunk);
        if !tick.is_zero() {
            stream = stream.advance_processing_time(tick);
        }
        stream = stream.advance_watermark_to(last);
        i = end;
    }
    stream
}

/// W2's input: element `i` is `(i % 1000, i)` at `i / 1000` ms.
pub fn w2_input(n: usize) -> TestStream<(u64, u64)> {
    script(n, Duration::ZERO, |i| ((i % 1000, i), Instant::from_millis((i / 1000) as i64)))
}

/// W3's users.
pub const W3_USERS: u64 = 10_000;
/// W3's windows.
pub const W3_WINDOW: Duration = Duration::from_secs(1);
/// How far the processing-time clock advances per W3 step.
pub const W3_TICK: Duration = Duration::from_millis(40);

/// W3's input: event `i` of a random user among 10,000 at `i / 100` ms (100,000 events a second of event
/// time, 1 s windows: about 10 events per user and window); the clock advances 40 ms per step of 4096.
pub fn w3_input(n: usize) -> TestStream<(u64, dofns::Event)> {
    script(n, W3_TICK, |i| {
        let event = dofns::Event { id: i, payload: mix(i ^ 0x5555) };
        ((mix(i) % W3_USERS, event), Instant::from_millis((i / 100) as i64))
    })
}

/// W4's keys.
pub const W4_KEYS: u64 = 100_000;
/// W4's windows.
pub const W4_WINDOW: Duration = Duration::from_secs(1);
/// W4's elements per window (100 per ms of event time).
pub const W4_PER_WINDOW: u64 = 100_000;

/// W4's element `i`: a random key among 100,000 at `i / 100` ms, so 100,000 elements per 1 s window.
#[inline]
pub fn w4_element(i: u64) -> ((u64, u64), Instant) {
    ((mix(i) % W4_KEYS, i), Instant::from_millis((i / 100) as i64))
}

/// W4's input, scripted with the watermark following the timestamps.
pub fn w4_input(n: usize) -> TestStream<(u64, u64)> {
    script(n, Duration::ZERO, w4_element)
}

/// An order-independent summary of outputs: their number, their sum and the sum of a mix of each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checksum {
    /// How many outputs.
    pub len: u64,
    /// Their (wrapping) sum.
    pub sum: u64,
    /// The (wrapping) sum of `mix` of each.
    pub mixed: u64,
}

impl Checksum {
    /// The checksum of values `u64`s describing the outputs.
    pub fn of(values: impl IntoIterator<Item = u64>) -> Checksum {
        let mut c = Checksum::default();
        for v in values {
            c.len += 1;
            c.sum = c.sum.wrapping_add(v);
            c.mixed = c.mixed.wrapping_add(mix(v));
        }
        c
    }
}

/// One number per W3 output, for [`Checksum`].
#[inline]
pub fn enriched_code(e: &dofns::Enriched) -> u64 {
    mix(e.user) ^ mix(e.id.wrapping_add(1)).wrapping_add(e.score) ^ (u64::from(e.batch) << 56)
}

/// One number per W4 output, for [`Checksum`].
#[inline]
pub fn pair_code(&(k, c): &(u64, u64)) -> u64 {
    mix(k) ^ c
}

/// The DoFn pipelines of the workloads, on `workers` threads.
pub mod runs {
    use dofn::Pipeline;
    use dofn::runner::PipelineResult;
    use dofn::testing::TestStream;
    use dofn::time::Instant;
    use dofn::window::WindowFn;

    use super::dofns::{
        BagTimer, BatchedRpc, Counter, Enriched, Event, MAX_BUFFER_SIZE, WindowCount, WindowCountTimer,
    };
    use super::{W3_WINDOW, W4_WINDOW};

    /// W1: `Pipeline::from_values(input).with_workers(workers).apply(Counter::default()).run()`.
    pub fn w1(input: Vec<((u64, u64), Instant)>, workers: usize) -> PipelineResult<u64> {
        Pipeline::from_values(input).with_workers(workers).apply(Counter::default()).run().expect("W1 runs")
    }

    /// W1 streaming its outputs to a sink that adds them up (`run_with`), instead of collecting them.
    pub fn w1_streaming(input: Vec<((u64, u64), Instant)>, workers: usize) -> u64 {
        let mut sum = 0u64;
        Pipeline::from_values(input)
            .with_workers(workers)
            .apply(Counter::default())
            .run_with(|v| sum = sum.wrapping_add(v.value))
            .expect("W1 runs");
        sum
    }

    /// W2 on its scripted input (the watermark follows the timestamps).
    pub fn w2(stream: TestStream<(u64, u64)>, workers: usize) -> PipelineResult<u64> {
        Pipeline::from_test_stream(stream).with_workers(workers).apply(BagTimer::default()).run().expect("W2 runs")
    }

    /// W3 on its scripted input, in 1 s fixed windows.
    pub fn w3(stream: TestStream<(u64, Event)>, workers: usize) -> PipelineResult<Enriched> {
        Pipeline::from_test_stream(stream)
            .window_into(WindowFn::fixed(W3_WINDOW))
            .with_workers(workers)
            .apply(BatchedRpc::new(MAX_BUFFER_SIZE))
            .run()
            .expect("W3 runs")
    }

    /// W4 on its scripted input, in 1 s fixed windows, counts output at window expiry.
    pub fn w4(stream: TestStream<(u64, u64)>, workers: usize) -> PipelineResult<(u64, u64)> {
        Pipeline::from_test_stream(stream)
            .window_into(WindowFn::fixed(W4_WINDOW))
            .with_workers(workers)
            .apply(WindowCount::default())
            .run()
            .expect("W4 runs")
    }

    /// W4 with counts output by a timer at the end of each window.
    pub fn w4_timer(stream: TestStream<(u64, u64)>, workers: usize) -> PipelineResult<(u64, u64)> {
        Pipeline::from_test_stream(stream)
            .window_into(WindowFn::fixed(W4_WINDOW))
            .with_workers(workers)
            .apply(WindowCountTimer::default())
            .run()
            .expect("W4 (timer) runs")
    }
}
