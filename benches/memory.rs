//! Memory figures, and W4 at its full size once: `cargo bench --bench memory`.
//!
//! A counting global allocator tracks the bytes live (as requested from the allocator, without malloc's own
//! overhead) and their peak. It measures:
//!
//! 1. Bytes per key: 1,000,000 keys with a `Value<u64>` each, fed to a [`Harness`] (one executor, no source
//!    or output buffers) in bundles of 4096; the live bytes after, minus the live bytes before (the same
//!    harness over 0 keys), over 1,000,000. The same for a hand-written `HashMap<u64, u64>`, and for a DoFn
//!    with a `Value<u64>` and an event-time timer per key.
//! 2. W4's peak memory after 10, 100 and 300 windows (100,000 elements per 1 s window, 100,000
//!    keys): in a [`Harness`] (advancing the watermark after each bundle, as a pipeline does), and in a
//!    pipeline fed through a bounded channel (so that the input is never all in memory) on 1 and 2 workers.
//! 3. W4 at its full size, 10 M elements (100 windows), once: the baseline on 1 and 2 threads and the DoFn on
//!    1 and 2 workers, side by side (the `workloads` bench runs a fifth of it under criterion).

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc::sync_channel;

use dofn::context::TimestampedValue;
use dofn::dofn::DoFn;
use dofn::testing::{Harness, TestStream};
use dofn::time::{Duration, Instant};
use dofn::window::{WindowFn, WindowingStrategy};
use dofn::{Pipeline, WindowedValue};
use hashbrown::HashMap;

use support::dofns::{Counter, WindowCount, WindowCountTimer};
use support::{CHUNK, W4_PER_WINDOW, W4_WINDOW, baselines, runs, w4_element};

/// Forwards to the system allocator, counting the bytes live and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Relaxed) + bytes;
    PEAK.fetch_max(live, Relaxed);
}

fn shrank(bytes: usize) {
    LIVE.fetch_sub(bytes, Relaxed);
}

// SAFETY: every method forwards to `System` with the same arguments and only updates counters besides.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System.alloc`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is `System.alloc_zeroed`'s.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is `System.dealloc`'s.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract is `System.realloc`'s.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> usize {
    LIVE.load(Relaxed)
}

/// Starts a new peak from the bytes live now; returns them.
fn reset_peak() -> usize {
    let now = live();
    PEAK.store(now, Relaxed);
    now
}

fn peak() -> usize {
    PEAK.load(Relaxed)
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

const KEYS: u64 = 1_000_000;

/// The live bytes a harness running `dofn` in the global window holds for `keys` keys (one element each, in
/// bundles of [`CHUNK`]), beyond what it holds for none.
fn bytes_for_keys<F: DoFn<Input = (u64, u64)>>(dofn: F, keys: u64) -> (usize, usize) {
    let mut h = Harness::new(dofn, WindowingStrategy::global()).expect("a harness");
    let before = live();
    let mut i = 0;
    while i < keys {
        let end = (i + CHUNK as u64).min(keys);
        let out = h.add_elements((i..end).map(|k| ((k, k), Instant::EPOCH))).expect("elements");
        drop(out);
        i = end;
    }
    let after = live();
    let records = h.live_records();
    (after - before, records)
}

fn per_key() {
    println!("## Bytes per key ({KEYS} keys, one Value<u64> each; the value itself is 8 bytes)");
    let (none, _) = bytes_for_keys(Counter::default(), 0);
    println!("harness over 0 keys: {none} bytes more than before the run");
    let (bytes, records) = bytes_for_keys(Counter::default(), KEYS);
    assert_eq!(records as u64, KEYS);
    let per = bytes as f64 / KEYS as f64;
    println!(
        "dofn Value<u64>:          {:.1} MiB, {per:.1} bytes per key, {:.1} beyond the value",
        mib(bytes),
        per - 8.0
    );
    let (bytes, _) = bytes_for_keys(WindowCountTimer::default(), KEYS);
    let per = bytes as f64 / KEYS as f64;
    println!(
        "dofn Value<u64> + timer:  {:.1} MiB, {per:.1} bytes per key, {:.1} beyond the value",
        mib(bytes),
        per - 8.0
    );
    let before = live();
    let map: HashMap<u64, u64> = (0..KEYS).map(|k| (k, 1)).collect();
    let bytes = live() - before;
    let per = bytes as f64 / KEYS as f64;
    println!(
        "HashMap<u64, u64>:        {:.1} MiB, {per:.1} bytes per key, {:.1} beyond the value",
        mib(bytes),
        per - 8.0
    );
    drop(black_box(map));
    println!();
}

/// Runs W4 in a harness for `windows` windows; returns the peak live bytes after each of `marks` windows.
fn w4_harness_peaks(marks: &[u64]) -> Vec<(u64, usize, usize)> {
    let strategy = WindowingStrategy::new(WindowFn::fixed(W4_WINDOW));
    let mut h = Harness::new(WindowCount::default(), strategy).expect("a harness");
    let base = reset_peak();
    let mut results = Vec::new();
    let mut i = 0u64;
    let mut outputs = 0usize;
    for &windows in marks {
        let n = windows * W4_PER_WINDOW;
        while i < n {
            let end = (i + CHUNK as u64).min(n);
            outputs += h.add_elements((i..end).map(w4_element)).expect("elements").len();
            let (_, last) = w4_element(end - 1);
            outputs += h.advance_watermark_to(last).expect("watermark").len();
            // A pipeline reads the output watermark after every step, which drops the holds of fired timers.
            black_box(h.output_watermark());
            i = end;
        }
        results.push((windows, peak() - base, h.live_records()));
    }
    black_box(outputs);
    results
}

/// Runs W4 for `windows` windows through a pipeline fed by a bounded channel; returns the peak live bytes.
fn w4_pipeline_peak(windows: u64, workers: usize) -> (usize, u64) {
    let n = windows * W4_PER_WINDOW;
    let base = reset_peak();
    let (tx, rx) = sync_channel(2 * CHUNK);
    let producer = std::thread::spawn(move || {
        for i in 0..n {
            let (value, timestamp) = w4_element(i);
            tx.send(TimestampedValue { timestamp, value }).expect("the pipeline reads");
        }
    });
    let mut outputs = 0u64;
    Pipeline::from_channel(rx, Duration::ZERO, Duration::from_millis(10))
        .window_into(WindowFn::fixed(W4_WINDOW))
        .with_workers(workers)
        .apply(WindowCount::default())
        .run_with(|_: WindowedValue<(u64, u64)>| outputs += 1)
        .expect("W4 runs");
    producer.join().expect("the producer ends");
    (peak() - base, outputs)
}

fn w4_memory() {
    println!("## W4 peak memory: 100,000 keys, 1 s fixed windows, 100,000 elements per window");
    for (windows, peak, records) in w4_harness_peaks(&[10, 100, 300]) {
        println!("harness, after {windows:>3} windows: peak {:.1} MiB ({records} records live)", mib(peak));
    }
    for workers in [1, 2] {
        for windows in [10, 100, 300] {
            let (peak, outputs) = w4_pipeline_peak(windows, workers);
            println!(
                "pipeline from a channel, {workers} worker(s), {windows:>3} windows: peak {:.1} MiB ({outputs} outputs)",
                mib(peak)
            );
        }
    }
    println!();
}

fn w4_full() {
    const N: usize = 10_000_000;
    println!("## W4 at full size: {N} elements, 100 windows, once each (input built beforehand)");
    let input = support::w4_input(N);
    let time = |name: &str, run: &dyn Fn(TestStream<(u64, u64)>) -> usize| {
        let input = input.clone();
        let start = std::time::Instant::now();
        let outputs = run(input);
        let s = start.elapsed().as_secs_f64();
        println!("{name:<18} {s:>6.3} s  {:>6.2} M elements/s  ({outputs} outputs)", N as f64 / s / 1e6);
        s
    };
    let b = time("baseline", &|i| baselines::w4(i).len());
    let b2 = time("baseline 2 threads", &|i| baselines::w4_two_threads(i).len());
    let one = time("dofn 1 worker", &|i| runs::w4(i, 1).outputs().len());
    let two = time("dofn 2 workers", &|i| runs::w4(i, 2).outputs().len());
    println!(
        "dofn 1 worker / baseline: {:.3}; 2 workers / 1 worker: {:.2}x; baseline 2 threads / 1: {:.2}x",
        b / one,
        one / two,
        b / b2
    );
    println!();
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument picks sections by name.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let wants = |name: &str| args.is_empty() || args.iter().any(|a| name.contains(a.as_str()));
    if wants("per_key") {
        per_key();
    }
    if wants("w4_memory") {
        w4_memory();
    }
    if wants("w4_full") {
        w4_full();
    }
}
