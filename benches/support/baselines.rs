//! The hand-written baselines: each workload as a plain loop over hashbrown maps, with the same inputs and
//! the same outputs (as a multiset) as its DoFn. They read the same [`TestStream`] steps the DoFn pipelines
//! run on, and like the pipelines they free their input and their state before they return.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use dofn::context::WindowedValue;
use dofn::testing::{TestEvent, TestStream};
use dofn::time::Instant;
use dofn::window::Window;
use hashbrown::HashMap;

use super::dofns::{Enriched, Event, MAX_BUFFER_SIZE, STALE_AFTER, W2_DELAY, rpc};
use super::{W3_WINDOW, W4_WINDOW};

/// W1: a count per key in a `HashMap<u64, u64>`, the running count output with each element.
pub fn w1(input: Vec<((u64, u64), Instant)>) -> Vec<u64> {
    let mut counts: HashMap<u64, u64> = HashMap::new();
    let mut out = Vec::with_capacity(input.len());
    for ((key, _value), _ts) in input {
        let count = counts.entry(key).or_insert(0);
        *count += 1;
        out.push(*count);
    }
    out
}

/// Not a workload: what collecting one 32-byte `WindowedValue<u64>` per W1 element costs by itself, pushed
/// one at a time into a `Vec` that grows (as `Pipeline::run` collects outputs) — the floor under W1's `run()`.
pub fn collect_outputs(input: Vec<((u64, u64), Instant)>) -> Vec<WindowedValue<u64>> {
    let mut out = Vec::new();
    for ((_key, value), ts) in input {
        out.push(WindowedValue::new(value, ts, Window::GLOBAL));
    }
    out
}

/// Runs `first` here and `second` on a second thread; returns both results, in that order.
fn on_two_threads<R: Send>(first: impl FnOnce() -> R, second: impl FnOnce() -> R + Send) -> (R, R) {
    std::thread::scope(|s| {
        let second = s.spawn(second);
        let first = first();
        (first, second.join().expect("the second thread runs to the end"))
    })
}

/// Which of two threads a key belongs to in the two-thread baselines.
#[inline]
fn half_of(key: u64) -> u64 {
    super::mix(key) & 1
}

/// W1 on two threads, hand-written: each thread reads the whole input and counts the keys of its half, in
/// its own map (no coordination but the final join); the outputs are concatenated. What the hardware gives
/// two threads on this workload, to set the runner's 2-worker figures against.
pub fn w1_two_threads(input: Vec<((u64, u64), Instant)>) -> Vec<u64> {
    let half = |half| {
        let mut counts: HashMap<u64, u64> = HashMap::new();
        let mut out = Vec::with_capacity(input.len() / 2 + input.len() / 16);
        for &((key, _value), _ts) in &input {
            if half_of(key) == half {
                let count = counts.entry(key).or_insert(0);
                *count += 1;
                out.push(*count);
            }
        }
        out
    };
    let (mut first, mut second) = on_two_threads(|| half(0), || half(1));
    drop(input);
    first.append(&mut second);
    first
}

/// W1's elements: `((key, value), timestamp)`.
pub type W1Input = Vec<((u64, u64), Instant)>;

/// W1's input cut in the two halves of [`w1_two_threads`], keeping the order within each: the input of
/// [`w1_two_threads_presplit`], cut outside the timed part.
pub fn w1_halves(input: &[((u64, u64), Instant)]) -> (W1Input, W1Input) {
    input.iter().partition(|((key, _), _)| half_of(*key) == 0)
}

/// Not a workload: W1 on two threads given its input already cut in halves by key, each thread running
/// [`w1`] on its half and keeping its own outputs. No thread reads or hands out the other's elements, and
/// none copies the other's outputs: what two threads get here when nothing at all is shared, the ceiling
/// for any runner that splits one input stream by key.
pub fn w1_two_threads_presplit((first, second): (W1Input, W1Input)) -> [Vec<u64>; 2] {
    let (first, second) = on_two_threads(|| w1(first), || w1(second));
    [first, second]
}

/// W1 streaming its outputs: the same loop, adding the counts up instead of collecting them.
pub fn w1_streaming(input: Vec<((u64, u64), Instant)>) -> u64 {
    let mut counts: HashMap<u64, u64> = HashMap::new();
    let mut sum = 0u64;
    for ((key, _value), _ts) in input {
        let count = counts.entry(key).or_insert(0);
        *count += 1;
        sum = sum.wrapping_add(*count);
    }
    sum
}

/// W2, naively: a `Vec` per key for the bag and the key's timer time in a `HashMap`, and a `BinaryHeap` of
/// (time, key) with one entry pushed per timer (re)set; an entry that no longer matches its key's timer when
/// it comes up is stale and skipped. The watermark advances as the stream says, and to the end of time last.
pub fn w2(stream: TestStream<(u64, u64)>) -> Vec<u64> {
    struct Key {
        bag: Vec<u64>,
        timer: Option<Instant>,
    }
    let mut keys: HashMap<u64, Key> = HashMap::new();
    let mut heap: BinaryHeap<Reverse<(Instant, u64)>> = BinaryHeap::new();
    let mut out = Vec::new();
    let mut advance = |keys: &mut HashMap<u64, Key>, heap: &mut BinaryHeap<_>, watermark: Instant| {
        while let Some(&Reverse((time, key))) = heap.peek() {
            if time >= watermark {
                break;
            }
            heap.pop();
            let k = keys.get_mut(&key).expect("a timer's key has state");
            if k.timer == Some(time) {
                k.timer = None;
                out.push(k.bag.iter().sum());
                k.bag.clear();
            }
        }
    };
    for event in stream.events() {
        match event {
            TestEvent::Elements(values) => {
                for v in values {
                    let (key, value) = v.value;
                    let k = keys.entry(key).or_insert_with(|| Key { bag: Vec::new(), timer: None });
                    k.bag.push(value);
                    let time = v.timestamp + W2_DELAY;
                    k.timer = Some(time);
                    heap.push(Reverse((time, key)));
                }
            }
            TestEvent::Watermark(watermark) => advance(&mut keys, &mut heap, *watermark),
            TestEvent::ProcessingTime(_) => {}
        }
    }
    advance(&mut keys, &mut heap, Instant::MAX);
    out
}

/// W3 by hand: per (user, window start) a buffer, a count and both timers' times in a `HashMap`; a heap per
/// time domain, an entry pushed when a timer is set to a new time, stale entries skipped. The expiry timer is
/// at the window's end, which is also when the window's state goes, so it removes the entry.
pub fn w3(stream: TestStream<(u64, Event)>) -> Vec<Enriched> {
    #[derive(Default)]
    struct Buffer {
        events: Vec<Event>,
        count: u32,
        expiry: Option<Instant>,
        stale: Option<Instant>,
    }
    type Queue = BinaryHeap<Reverse<(Instant, u64, Instant)>>;
    fn flush(out: &mut Vec<Enriched>, user: u64, b: &mut Buffer) {
        let batch = b.events.len() as u32;
        out.extend(b.events.drain(..).map(|e| Enriched { user, id: e.id, score: rpc(e.payload), batch }));
        b.count = 0;
    }
    let size = W3_WINDOW.millis();
    let mut buffers: HashMap<(u64, Instant), Buffer> = HashMap::new();
    let (mut event_timers, mut processing_timers) = (Queue::new(), Queue::new());
    let (mut watermark, mut now) = (Instant::MIN, Instant::EPOCH);
    let mut out = Vec::new();
    let advance_watermark = |buffers: &mut HashMap<(u64, Instant), Buffer>,
                             event_timers: &mut Queue,
                             out: &mut Vec<Enriched>,
                             to: Instant| {
        while let Some(&Reverse((time, user, start))) = event_timers.peek() {
            if time >= to {
                break;
            }
            event_timers.pop();
            if let Some(b) = buffers.get_mut(&(user, start))
                && b.expiry == Some(time)
            {
                flush(out, user, b);
                buffers.remove(&(user, start));
            }
        }
    };
    for event in stream.events() {
        match event {
            TestEvent::Elements(values) => {
                for v in values {
                    let (user, e) = v.value;
                    let ts = v.timestamp.millis();
                    let start = Instant::from_millis(ts - ts.rem_euclid(size));
                    let end = Instant::from_millis(start.millis() + size - 1);
                    if end < watermark {
                        continue; // late: its window has expired
                    }
                    let b = buffers.entry((user, start)).or_default();
                    b.events.push(e);
                    b.count += 1;
                    if b.expiry != Some(end) {
                        b.expiry = Some(end);
                        event_timers.push(Reverse((end, user, start)));
                    }
                    if b.count == 1 {
                        let stale = now + STALE_AFTER;
                        b.stale = Some(stale);
                        processing_timers.push(Reverse((stale, user, start)));
                    }
                    if b.count >= MAX_BUFFER_SIZE {
                        flush(&mut out, user, b);
                        b.stale = None;
                    }
                }
            }
            TestEvent::ProcessingTime(by) => {
                now += *by;
                while let Some(&Reverse((time, user, start))) = processing_timers.peek() {
                    if time > now {
                        break;
                    }
                    processing_timers.pop();
                    if let Some(b) = buffers.get_mut(&(user, start))
                        && b.stale == Some(time)
                    {
                        b.stale = None;
                        flush(&mut out, user, b);
                    }
                }
            }
            TestEvent::Watermark(to) => {
                watermark = watermark.max(*to);
                advance_watermark(&mut buffers, &mut event_timers, &mut out, watermark);
            }
        }
    }
    advance_watermark(&mut buffers, &mut event_timers, &mut out, Instant::MAX);
    out
}

/// W4 by hand: a `HashMap` of counts per window, windows in a `BTreeMap` by start; when the watermark passes
/// a window's end its counts are output and its map dropped.
pub fn w4(stream: TestStream<(u64, u64)>) -> Vec<(u64, u64)> {
    w4_keys(&stream, |_| true)
}

/// W4 on two threads, hand-written as [`w1_two_threads`]: each thread reads the whole stream and keeps the
/// windows of its half of the keys.
pub fn w4_two_threads(stream: TestStream<(u64, u64)>) -> Vec<(u64, u64)> {
    let half = |half| w4_keys(&stream, |key| half_of(key) == half);
    let (mut first, mut second) = on_two_threads(|| half(0), || half(1));
    drop(stream);
    first.append(&mut second);
    first
}

/// W4 over the keys for which `keep` holds.
fn w4_keys(stream: &TestStream<(u64, u64)>, keep: impl Fn(u64) -> bool) -> Vec<(u64, u64)> {
    let size = W4_WINDOW.millis();
    let mut windows: BTreeMap<i64, HashMap<u64, u64>> = BTreeMap::new();
    let mut watermark = Instant::MIN;
    let mut out = Vec::new();
    let expire = |windows: &mut BTreeMap<i64, HashMap<u64, u64>>, out: &mut Vec<(u64, u64)>, to: Instant| {
        while let Some(first) = windows.first_entry() {
            if Instant::from_millis(first.key() + size - 1) >= to {
                break;
            }
            out.extend(first.remove());
        }
    };
    for event in stream.events() {
        match event {
            TestEvent::Elements(values) => {
                for v in values {
                    let (key, _) = v.value;
                    if !keep(key) {
                        continue;
                    }
                    let ts = v.timestamp.millis();
                    let start = ts - ts.rem_euclid(size);
                    if Instant::from_millis(start + size - 1) < watermark {
                        continue; // late
                    }
                    *windows.entry(start).or_default().entry(key).or_insert(0) += 1;
                }
            }
            TestEvent::Watermark(to) => {
                watermark = watermark.max(*to);
                expire(&mut windows, &mut out, watermark);
            }
            TestEvent::ProcessingTime(_) => {}
        }
    }
    expire(&mut windows, &mut out, Instant::MAX);
    out
}
