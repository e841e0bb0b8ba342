//! The timer queues: entries taken in `(time, seq)` order.
//!
//! Timers cluster at a few times: every key's timer at its window's end, a delay after the elements of one
//! step. A binary heap of 100,000 such timers costs a sift through 17 levels of a 3 MB array for every timer
//! taken, most of them cache misses. So the queue keeps a few *lanes* besides its heap: a lane holds entries
//! of one time in the order they were pushed, and taking from it reads its front. An entry whose time has a
//! lane is appended to it; one of another time claims a free lane if the two entries pushed just before it
//! had its time too (a cluster), and otherwise goes to the heap, as it does when no lane is free.
//! Every push carries a new, higher `seq` (the executor numbers them from one counter), so a lane is in `seq`
//! order, and taking the least of the heap's top and the lanes' fronts gives the order a heap of all the
//! entries would.

use std::cmp::{Ordering, Reverse};
use std::collections::binary_heap::PeekMut;
use std::collections::{BinaryHeap, VecDeque};

use crate::time::Instant;

use super::backend::RecordId;

/// A queued timer setting or output-timestamp hold: of slot `timer` (and family tag `tag`) of record `rec`,
/// at `time`, queued as number `seq`. Ordered by time, then by `seq`: no two entries share one, so the other
/// fields never decide.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub(crate) time: Instant,
    pub(crate) seq: u64,
    pub(crate) rec: RecordId,
    pub(crate) timer: u32,
    pub(crate) tag: u32,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        (self.time, self.seq).cmp(&(other.time, other.seq))
    }
}

/// How many lanes a queue has: enough for the times that timers cluster at in one stretch of a run (the
/// ends of the windows still open, a delay after each of the last few steps), few enough to look at all of
/// them for every entry taken.
const LANES: usize = 8;

/// How many entries of one time pushed in a row make a cluster: the next one starts a lane.
const CLUSTER: u32 = 2;

/// Where the next entry comes from.
#[derive(Clone, Copy)]
enum Source {
    Heap,
    Lane(usize),
}

/// A queue of entries, taken in `(time, seq)` order; see the module docs. Entries must be pushed in `seq`
/// order.
pub(crate) struct TimerQueue {
    heap: BinaryHeap<Reverse<Entry>>,
    /// How many lanes are in use: with none, the queue is its heap.
    active: usize,
    /// The time of the entry pushed last, and how many pushed just before it had that time too.
    last_time: Option<(Instant, u32)>,
    /// The `seq` of the entry pushed last, to check that pushes come in `seq` order.
    #[cfg(debug_assertions)]
    last_seq: u64,
    len: usize,
    /// The lanes, out of line: a queue that never clusters reads only the fields above.
    lanes: Box<Lanes>,
}

/// The lanes of a [`TimerQueue`].
struct Lanes {
    /// Each lane's entries, all of one time, in push order; an empty lane is free. No two lanes in use
    /// share a time.
    entries: [VecDeque<Entry>; LANES],
    /// Each lane's time, `Instant::MAX` for a free lane: one small array to look through for a push (an
    /// entry at `Instant::MAX` never takes a lane).
    times: [Instant; LANES],
    /// The `seq` of each lane's front entry (`u64::MAX` for a free lane).
    seqs: [u64; LANES],
    /// The lane whose front comes first, when one is in use.
    min_lane: usize,
}

impl Default for TimerQueue {
    fn default() -> Self {
        TimerQueue {
            heap: BinaryHeap::new(),
            active: 0,
            last_time: None,
            #[cfg(debug_assertions)]
            last_seq: 0,
            len: 0,
            lanes: Box::new(Lanes {
                entries: Default::default(),
                times: [Instant::MAX; LANES],
                seqs: [u64::MAX; LANES],
                min_lane: 0,
            }),
        }
    }
}

impl TimerQueue {
    /// The number of entries.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The `(time, seq)` of lane `i`'s front entry (`(Instant::MAX, u64::MAX)` for a free lane).
    #[inline]
    fn front(&self, i: usize) -> (Instant, u64) {
        (self.lanes.times[i], self.lanes.seqs[i])
    }

    /// Where the first entry is, with a lane in use.
    #[inline]
    fn first(&self) -> Source {
        match self.heap.peek() {
            Some(Reverse(e)) if (e.time, e.seq) < self.front(self.lanes.min_lane) => Source::Heap,
            _ => Source::Lane(self.lanes.min_lane),
        }
    }

    /// Finds the lane whose front comes first.
    fn update_min_lane(&mut self) {
        let mut lane = 0;
        for i in 1..LANES {
            if self.front(i) < self.front(lane) {
                lane = i;
            }
        }
        self.lanes.min_lane = lane;
    }

    /// The first entry, if any.
    #[inline]
    pub(crate) fn peek(&self) -> Option<&Entry> {
        if self.active == 0 {
            return self.heap.peek().map(|Reverse(e)| e);
        }
        match self.first() {
            Source::Heap => self.heap.peek().map(|Reverse(e)| e),
            Source::Lane(i) => self.lanes.entries[i].front(),
        }
    }

    /// Adds `e`, whose `seq` is higher than that of every entry pushed before. It joins the lane of its time
    /// if there is one, and starts one if a lane is free and the two entries pushed just before it had its
    /// time (a cluster, where a lane pays); otherwise it goes to the heap.
    #[inline]
    pub(crate) fn push(&mut self, e: Entry) {
        #[cfg(debug_assertions)]
        {
            debug_assert!(e.seq > self.last_seq, "timer queue entries are pushed in seq order");
            self.last_seq = e.seq;
        }
        self.len += 1;
        let run = match self.last_time {
            Some((t, run)) if t == e.time => run.saturating_add(1),
            _ => 0,
        };
        self.last_time = Some((e.time, run));
        if self.active == 0 && run < CLUSTER {
            self.heap.push(Reverse(e));
        } else {
            self.push_to_lane(e, run >= CLUSTER);
        }
    }

    /// [`TimerQueue::push`] with a lane in use or a cluster: to the lane of `e`'s time, or to a free lane if
    /// `claim`, or else to the heap.
    #[inline(never)]
    fn push_to_lane(&mut self, e: Entry, claim: bool) {
        if e.time != Instant::MAX {
            if let Some(i) = self.lanes.times.iter().position(|t| *t == e.time) {
                self.lanes.entries[i].push_back(e);
                return;
            }
            if claim && let Some(i) = self.lanes.times.iter().position(|t| *t == Instant::MAX) {
                self.lanes.times[i] = e.time;
                self.lanes.seqs[i] = e.seq;
                self.lanes.entries[i].push_back(e);
                if self.active == 0 || self.front(i) < self.front(self.lanes.min_lane) {
                    self.lanes.min_lane = i;
                }
                self.active += 1;
                return;
            }
        }
        self.heap.push(Reverse(e));
    }

    /// Takes the first entry, if any.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Entry> {
        if self.active == 0 {
            return self.pop_heap();
        }
        self.pop_with_lanes()
    }

    /// Takes the heap's first entry. The entry is copied out before it leaves the heap, so that what the
    /// caller does with it (loading its record, most likely not in the cache) need not wait for the heap to
    /// settle.
    #[inline]
    fn pop_heap(&mut self) -> Option<Entry> {
        let Reverse(e) = *self.heap.peek()?;
        if let Some(top) = self.heap.peek_mut() {
            PeekMut::pop(top);
        }
        self.len -= 1;
        Some(e)
    }

    /// [`TimerQueue::pop`] with a lane in use.
    #[inline(never)]
    fn pop_with_lanes(&mut self) -> Option<Entry> {
        let e = match self.first() {
            Source::Heap => return self.pop_heap(),
            Source::Lane(i) => {
                let e = self.lanes.entries[i].pop_front();
                match self.lanes.entries[i].front() {
                    // The lane's next entry has the same time and a higher seq, and no other lane has that
                    // time: still the first lane.
                    Some(f) => self.lanes.seqs[i] = f.seq,
                    None => {
                        (self.lanes.times[i], self.lanes.seqs[i]) = (Instant::MAX, u64::MAX);
                        self.active -= 1;
                        self.update_min_lane();
                    }
                }
                e
            }
        };
        self.len -= 1;
        e
    }

    /// Keeps only the entries for which `keep` is true, in their order.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&Entry) -> bool) {
        self.heap.retain(|Reverse(e)| keep(e));
        for (i, lane) in self.lanes.entries.iter_mut().enumerate() {
            lane.retain(|e| keep(e));
            (self.lanes.times[i], self.lanes.seqs[i]) =
                lane.front().map_or((Instant::MAX, u64::MAX), |f| (f.time, f.seq));
        }
        self.active = self.lanes.entries.iter().filter(|lane| !lane.is_empty()).count();
        self.update_min_lane();
        self.len = self.heap.len() + self.lanes.entries.iter().map(VecDeque::len).sum::<usize>();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::backend::{InMemoryBackend, StateBackend};
    use crate::window::Window;

    fn entry(time: i64, seq: u64) -> Entry {
        let (rec, _) = InMemoryBackend::<u32, (), ()>::default().get_or_create(&0, Window::GLOBAL, || ());
        Entry { time: Instant::from_millis(time), seq, rec, timer: 0, tag: 0 }
    }

    /// Pushes `times` (numbered in order) and checks that pops come out in `(time, seq)` order, as from a
    /// sorted list, with pops interleaved every `pop_every` pushes.
    fn check(times: &[i64], pop_every: usize) {
        let mut q = TimerQueue::default();
        let mut model: Vec<(i64, u64)> = Vec::new();
        for (i, &t) in times.iter().enumerate() {
            let seq = i as u64 + 1;
            q.push(entry(t, seq));
            model.push((t, seq));
            if pop_every > 0 && i % pop_every == pop_every - 1 {
                model.sort_unstable();
                let want = model.remove(0);
                assert_eq!(q.peek().map(|e| (e.time.millis(), e.seq)), Some(want));
                assert_eq!(q.pop().map(|e| (e.time.millis(), e.seq)), Some(want));
            }
            assert_eq!(q.len(), model.len());
        }
        model.sort_unstable();
        let rest: Vec<(i64, u64)> = std::iter::from_fn(|| q.pop()).map(|e| (e.time.millis(), e.seq)).collect();
        assert_eq!(rest, model);
        assert_eq!((q.len(), q.peek().is_none()), (0, true));
    }

    #[test]
    fn entries_come_out_by_time_then_in_push_order() {
        check(&[5, 3, 5, 5, 1, 3, 9, 1, 5], 0);
        check(&[5, 3, 5, 5, 1, 3, 9, 1, 5], 2);
        // Runs of one time (which take lanes, but for their first entries) among times of their own, more
        // times than lanes: entries of one time in a lane and in the heap, lanes freed and taken again.
        for (distinct, run) in [(13, 1), (13, 5), (509, 4), (509, 40)] {
            let times: Vec<i64> = (0..3000).map(|i| (i / run + i % 7 / 6) * 7919 % distinct).collect();
            for pop_every in [0, 1, 2, 3, 5] {
                check(&times, pop_every);
            }
        }
    }

    /// Random pushes (runs of one time, times at the ends of time), pops, peeks and retains against a sorted
    /// list, with the lanes' bookkeeping checked after every operation.
    #[test]
    fn random_operations_agree_with_a_sorted_list() {
        let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let (mut full, mut seq) = (0, 0);
        for round in 0..400 {
            let distinct = [3, 9, 20, 60][round % 4];
            let mut q = TimerQueue::default();
            let mut model: Vec<(Instant, u64)> = Vec::new();
            let mut time = Instant::from_millis(0);
            for _ in 0..300 {
                match next(20) {
                    0..=11 => {
                        // Mostly the time before again (runs); sometimes a new one, or an end of time.
                        if next(3) == 0 {
                            time = match next(16) {
                                0 => Instant::MAX,
                                1 => Instant::MIN,
                                _ => Instant::from_millis(next(distinct) as i64),
                            };
                        }
                        seq += 1;
                        let mut e = entry(0, seq);
                        e.time = time;
                        q.push(e);
                        model.push((time, seq));
                    }
                    12..=17 => {
                        model.sort_unstable();
                        let want = (!model.is_empty()).then(|| model.remove(0));
                        assert_eq!(q.peek().map(|e| (e.time, e.seq)), want);
                        assert_eq!(q.pop().map(|e| (e.time, e.seq)), want);
                    }
                    18 => {
                        let drop = next(5);
                        q.retain(|e| e.seq % 5 != drop);
                        model.retain(|&(_, s)| s % 5 != drop);
                    }
                    _ => {}
                }
                let lanes = &q.lanes;
                let in_use = lanes.entries.iter().filter(|lane| !lane.is_empty()).count();
                assert_eq!((q.len(), q.active), (model.len(), in_use));
                assert_eq!(q.len(), q.heap.len() + lanes.entries.iter().map(VecDeque::len).sum::<usize>());
                for (i, lane) in lanes.entries.iter().enumerate() {
                    let front = lane.front().map_or((Instant::MAX, u64::MAX), |f| (f.time, f.seq));
                    assert_eq!((lanes.times[i], lanes.seqs[i]), front);
                    assert!(lane.iter().all(|e| e.time == lanes.times[i] && e.time != Instant::MAX));
                    assert!(lane.iter().zip(lane.iter().skip(1)).all(|(a, b)| a.seq < b.seq));
                }
                if in_use > 0 {
                    assert!((0..LANES).all(|i| q.front(lanes.min_lane) <= q.front(i)));
                }
                full += usize::from(in_use == LANES);
            }
            model.sort_unstable();
            let rest: Vec<(Instant, u64)> = std::iter::from_fn(|| q.pop()).map(|e| (e.time, e.seq)).collect();
            assert_eq!(rest, model);
        }
        assert!(full > 0, "every lane in use at some point");
    }

    #[test]
    fn a_cluster_takes_a_lane_and_a_lane_keeps_its_time() {
        let mut q = TimerQueue::default();
        for (i, t) in [4, 4, 4, 4, 2, 4, 9].into_iter().enumerate() {
            q.push(entry(t, i as u64 + 1));
        }
        // The third entry at 4 in a row took a lane; the one at 4 after the 2 joined it.
        assert_eq!((q.active, q.lanes.entries.iter().map(VecDeque::len).sum::<usize>(), q.heap.len()), (1, 3, 4));
        let order: Vec<u64> = std::iter::from_fn(|| q.pop()).map(|e| e.seq).collect();
        assert_eq!(order, [5, 1, 2, 3, 4, 6, 7]);
        assert_eq!(q.active, 0);
    }

    #[test]
    fn retain_keeps_the_order_and_the_count() {
        let mut q = TimerQueue::default();
        for (i, t) in [4, 2, 4, 4, 4, 4, 2, 7].into_iter().enumerate() {
            q.push(entry(t, i as u64 + 1));
        }
        q.retain(|e| ![2, 5, 8].contains(&e.seq));
        assert_eq!(q.len(), 5);
        let rest: Vec<(i64, u64)> = std::iter::from_fn(|| q.pop()).map(|e| (e.time.millis(), e.seq)).collect();
        assert_eq!(rest, [(2, 7), (4, 1), (4, 3), (4, 4), (4, 6)]);
        // A lane emptied by `retain` is free again.
        let mut q = TimerQueue::default();
        for seq in 1..=4 {
            q.push(entry(3, seq));
        }
        q.retain(|e| e.seq < 3);
        assert_eq!((q.len(), q.active), (2, 0));
    }
}
