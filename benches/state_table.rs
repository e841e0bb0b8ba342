//! The state table alone: the runner's [`InMemoryBackend`] against a plain `HashMap<u64, u64>`, on W1's access
//! pattern (10 M increments over 1,000 and 1,000,000 keys), without the rest of the runner.
//!
//! `cargo bench --bench state_table`. "interleaved" finds each key's record and updates it before the next
//! key, as the executor does per element; "two_pass" first finds the records of a batch of 4096 keys, then
//! updates them, which lets the CPU overlap the independent lookups' cache misses (as it does for the
//! hand-written loop, whose body is short).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use dofn::runner::{InMemoryBackend, StateBackend};
use dofn::window::Window;
use hashbrown::HashMap;

const N: u64 = 10_000_000;

fn hashmap(keys: u64) -> u64 {
    let mut m: HashMap<u64, u64> = HashMap::new();
    let mut sum = 0u64;
    for i in 0..N {
        let c = m.entry(i % keys).or_insert(0);
        *c += 1;
        sum = sum.wrapping_add(*c);
    }
    sum
}

fn interleaved(keys: u64) -> u64 {
    let mut b: InMemoryBackend<u64, u64, ()> = InMemoryBackend::default();
    let mut sum = 0u64;
    for i in 0..N {
        let (id, _) = b.get_or_create(&(i % keys), Window::GLOBAL, Default::default);
        let record = b.get(id).expect("a live record");
        *record.state += 1;
        sum = sum.wrapping_add(*record.state);
    }
    sum
}

fn two_pass(keys: u64) -> u64 {
    let mut b: InMemoryBackend<u64, u64, ()> = InMemoryBackend::default();
    let mut sum = 0u64;
    let mut ids = Vec::with_capacity(4096);
    let mut i = 0;
    while i < N {
        let end = (i + 4096).min(N);
        ids.clear();
        ids.extend((i..end).map(|j| b.get_or_create(&(j % keys), Window::GLOBAL, Default::default).0));
        for &id in &ids {
            let record = b.get(id).expect("a live record");
            *record.state += 1;
            sum = sum.wrapping_add(*record.state);
        }
        i = end;
    }
    sum
}

fn state_table(c: &mut Criterion) {
    for (name, keys) in [("state_table_1k_keys", 1_000u64), ("state_table_1m_keys", 1_000_000)] {
        let expected = hashmap(keys);
        assert_eq!(interleaved(keys), expected);
        assert_eq!(two_pass(keys), expected);
        let mut g = c.benchmark_group(name);
        g.sampling_mode(SamplingMode::Flat).throughput(Throughput::Elements(N));
        g.bench_function("hashmap", |b| b.iter(|| black_box(hashmap(black_box(keys)))));
        g.bench_function("backend_interleaved", |b| b.iter(|| black_box(interleaved(black_box(keys)))));
        g.bench_function("backend_two_pass", |b| b.iter(|| black_box(two_pass(black_box(keys)))));
        g.finish();
    }
}

fn config() -> Criterion {
    Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = state_table
}
criterion_main!(benches);
