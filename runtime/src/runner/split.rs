//! Splitting a step's elements among the shards of a sharded DoFn.

use std::ptr;

/// Splits `buffer` by shard, keeping the order within each shard: an element whose shard (`shard_of`) is
/// `s > 0` is moved to the end of `batches[s - 1]`, and shard 0's elements stay in `buffer`, moved up over the
/// gaps (where they were just read, so that the thread which runs shard 0 finds them in its cache).
///
/// The element is moved to a place picked by indexing with its shard, with no branch on the shard: with keys
/// spread at random, such a branch is mispredicted for every other element on two shards, which the thread
/// that reads and splits the input pays for every element.
///
/// # Panics
/// If `shard_of` panics, or names a shard beyond `batches` on more than two shards (on two, any shard but 0 is
/// taken for 1): the elements split so far are where they were going, and the others stay in `buffer`, after
/// shard 0's; none is lost.
#[allow(unsafe_code)]
pub(crate) fn split<T>(buffer: &mut Vec<T>, batches: &mut [Vec<T>], mut shard_of: impl FnMut(&T) -> usize) {
    if let [batch] = batches {
        return split_two(buffer, batch, shard_of);
    }
    let len = buffer.len();
    // Room for a shard's even share and some: a shard with more grows once (`Split::grow`), for the rest
    // of the step at most, so that no batch holds room for the whole step.
    let share = len / (batches.len() + 1) + len / 64 + 16;
    for batch in batches.iter_mut() {
        batch.reserve(share);
    }
    // SAFETY: shortening a vector only gives up its elements; `Split` gives each back to a vector.
    unsafe { buffer.set_len(0) };
    let base = buffer.as_mut_ptr();
    // Where each shard's next element goes: shard 0's to the buffer itself (always room: at or before the
    // element read), the others' to the end of their batch.
    let mut ends = Vec::with_capacity(batches.len() + 1);
    ends.push(End { to: base, moved: 0, room: usize::MAX });
    ends.extend(batches.iter_mut().map(End::of));
    let mut split = Split { buffer, batches, ends, read: 0, len };
    while split.read < len {
        // SAFETY: `read < len` is in the buffer's allocation, and the element there is initialized and not
        // yet moved.
        let from = unsafe { base.add(split.read) };
        // (If this panics, the element is still in place, and `Split` keeps it.)
        let s = shard_of(unsafe { &*from });
        if split.ends[s].moved == split.ends[s].room {
            split.grow(s);
        }
        let end = &mut split.ends[s];
        // SAFETY: for shard 0, `to + moved` is at or before `from` (it counts the elements of shard 0 before
        // it), a slot whose element has been moved already, or `from` itself; for another shard, it is within
        // the room of its batch (`moved < room`). The element at `from` is counted as moved right after.
        unsafe { ptr::copy(from, end.to.add(end.moved), 1) };
        end.moved += 1;
        split.read += 1;
    }
}

/// [`split`] on two shards, with the counts of elements moved in registers rather than in a table in memory
/// (where each element's place would wait on the count stored for the element before it: W2 on two workers,
/// whose keys follow a pattern the CPU predicts, ran at 0.91 times the speed of a split with a branch).
#[allow(unsafe_code)]
fn split_two<T>(buffer: &mut Vec<T>, batch: &mut Vec<T>, mut shard_of: impl FnMut(&T) -> usize) {
    let len = buffer.len();
    batch.reserve(len);
    // SAFETY: shortening a vector only gives up its elements; `SplitTwo` gives each back to a vector.
    unsafe { buffer.set_len(0) };
    let base = buffer.as_mut_ptr();
    // SAFETY: a vector's length is within its allocation.
    let end = unsafe { batch.as_mut_ptr().add(batch.len()) };
    let mut split = SplitTwo { buffer, batch, read: 0, len, kept: 0, moved: 0 };
    while split.read < len {
        // SAFETY: as in `split`.
        let from = unsafe { base.add(split.read) };
        let s = shard_of(unsafe { &*from });
        // (Any shard but 0 goes to the batch: `shard_of` gives 0 or 1 on two shards.)
        debug_assert!(s < 2, "shard {s} of 2");
        let other = s != 0;
        // SAFETY: as in `split`: shard 0's element goes to `base + kept`, at or before `from`; shard 1's to
        // `end + moved`, within the room reserved. (`select_unpredictable`: a conditional move, where the
        // compiler would otherwise branch.)
        let (to_batch, to_buffer) = unsafe { (end.add(split.moved), base.add(split.kept)) };
        let to = std::hint::select_unpredictable(other, to_batch, to_buffer);
        unsafe { ptr::copy(from, to, 1) };
        split.moved += usize::from(other);
        split.kept += usize::from(!other);
        split.read += 1;
    }
}

/// A split on two shards under way, as [`Split`], with the counts of elements moved to the buffer and to the
/// batch.
struct SplitTwo<'a, T> {
    buffer: &'a mut Vec<T>,
    batch: &'a mut Vec<T>,
    read: usize,
    len: usize,
    kept: usize,
    moved: usize,
}

impl<T> Drop for SplitTwo<'_, T> {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        // SAFETY: as in `Split`.
        unsafe {
            close_up(self.buffer, self.kept, self.read, self.len);
            let len = self.batch.len() + self.moved;
            self.batch.set_len(len);
        }
    }
}

/// Where a shard's elements go during a split: `moved` of them written from `to` on, with room for `room`.
struct End<T> {
    to: *mut T,
    moved: usize,
    room: usize,
}

impl<T> End<T> {
    /// The end of `batch` and the room after it.
    #[allow(unsafe_code)]
    fn of(batch: &mut Vec<T>) -> Self {
        // SAFETY: a vector's length is within its allocation.
        let to = unsafe { batch.as_mut_ptr().add(batch.len()) };
        End { to, moved: 0, room: batch.capacity() - batch.len() }
    }
}

/// A split under way: the elements read so far were moved to the places counted in `ends`; the others are
/// still at their positions `read..len` in the buffer. Dropped (at the end, or when `shard_of` panics), it
/// gives every element back to a vector.
struct Split<'a, T> {
    buffer: &'a mut Vec<T>,
    batches: &'a mut [Vec<T>],
    ends: Vec<End<T>>,
    read: usize,
    len: usize,
}

impl<T> Split<'_, T> {
    /// Makes room in shard `s`'s batch for every element not yet read.
    #[cold]
    #[inline(never)]
    #[allow(unsafe_code)]
    fn grow(&mut self, s: usize) {
        let batch = &mut self.batches[s - 1];
        let len = batch.len() + self.ends[s].moved;
        // SAFETY: the batch's elements, and the `moved` written after them.
        unsafe { batch.set_len(len) };
        batch.reserve(self.len - self.read);
        self.ends[s] = End::of(batch);
    }
}

impl<T> Drop for Split<'_, T> {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        // SAFETY: shard 0's elements are the first `ends[0].moved` of the buffer, the unread ones are at
        // `read..len`, and each batch takes the elements moved to it.
        unsafe {
            close_up(self.buffer, self.ends[0].moved, self.read, self.len);
            for (batch, end) in self.batches.iter_mut().zip(&self.ends[1..]) {
                let len = batch.len() + end.moved;
                batch.set_len(len);
            }
        }
    }
}

/// Gives `buffer` back its elements at the end of a split: the `kept` first ones, and the unread ones at
/// `read..len`, moved down behind them.
///
/// # Safety
/// The first `kept` positions and `read..len` hold initialized elements owned by the buffer, with
/// `kept <= read <= len` within its allocation.
#[allow(unsafe_code)]
unsafe fn close_up<T>(buffer: &mut Vec<T>, kept: usize, read: usize, len: usize) {
    let unread = len - read;
    // SAFETY: the caller's contract; `ptr::copy` allows the ranges to overlap.
    unsafe {
        let base = buffer.as_mut_ptr();
        ptr::copy(base.add(read), base.add(kept), unread);
        buffer.set_len(kept + unread);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// An element that records its drop, to check that each is dropped once.
    #[derive(Debug)]
    struct Tracked {
        id: u32,
        dropped: Rc<RefCell<Vec<u32>>>,
    }

    impl Drop for Tracked {
        fn drop(&mut self) {
            self.dropped.borrow_mut().push(self.id);
        }
    }

    fn ids(v: &[Tracked]) -> Vec<u32> {
        v.iter().map(|t| t.id).collect()
    }

    /// Splits elements `0..shards.len()` (element `i` of shard `shards[i]`) among `workers` batches that
    /// hold `already` elements each, stopping with a panic at element `panic_at` if given; checks where each
    /// element went and that each is dropped once.
    fn check(shards: &[usize], workers: usize, already: usize, panic_at: Option<usize>) {
        let dropped = Rc::new(RefCell::new(Vec::new()));
        let make = |id| Tracked { id, dropped: Rc::clone(&dropped) };
        let mut buffer: Vec<Tracked> = (0..shards.len() as u32).map(make).collect();
        let held = |w: usize| (0..already as u32).map(move |j| 1_000_000 + 1_000 * w as u32 + j);
        let mut batches: Vec<Vec<Tracked>> = (0..workers).map(|w| held(w).map(make).collect()).collect();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            split(&mut buffer, &mut batches, |t| {
                assert_ne!(Some(t.id as usize), panic_at, "a key's hash panics");
                shards[t.id as usize]
            });
        }));
        assert_eq!(caught.is_err(), panic_at.is_some());
        let read = panic_at.unwrap_or(shards.len());
        let of = |shard: usize| (0..read as u32).filter(|&i| shards[i as usize] == shard).collect::<Vec<_>>();
        let mut expect_buffer = of(0);
        expect_buffer.extend(read as u32..shards.len() as u32);
        assert_eq!(ids(&buffer), expect_buffer, "shard 0 for {shards:?}, then the elements not split");
        for (w, batch) in batches.iter().enumerate() {
            assert_eq!(ids(&batch[..already]), held(w).collect::<Vec<_>>(), "batch {w} kept what it held");
            assert_eq!(ids(&batch[already..]), of(w + 1), "batch {w} for {shards:?}");
        }
        assert!(dropped.borrow().is_empty(), "nothing dropped while split");
        drop(buffer);
        drop(batches);
        let mut all = dropped.borrow().clone();
        all.sort_unstable();
        let mut expected: Vec<u32> = (0..shards.len() as u32).chain((0..workers).flat_map(held)).collect();
        expected.sort_unstable();
        assert_eq!(all, expected, "each element dropped once");
    }

    #[test]
    fn every_element_goes_to_its_shard_once_in_order() {
        check(&[], 1, 0, None);
        check(&[0, 0, 0], 1, 0, None);
        check(&[1, 1, 1], 1, 2, None);
        check(&[1, 0, 1, 0, 0, 1, 1, 0], 1, 0, None);
        check(&[0, 1, 1, 0, 1], 1, 3, None);
        check(&[2, 0, 1, 2, 2, 0, 3, 1, 0], 3, 1, None);
        // A longer, mixed sequence over four shards.
        let shards: Vec<usize> =
            (0u64..1_000).map(|i| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 62) as usize).collect();
        check(&shards, 3, 0, None);
        check(&shards, 3, 5, None);
        // One shard takes (nearly) all: its batch grows past its share during the split.
        check(&[3; 300], 3, 1, None);
        let skewed: Vec<usize> = (0..500).map(|i| if i % 10 == 0 { i % 4 } else { 2 }).collect();
        check(&skewed, 3, 2, None);
    }

    #[test]
    fn a_panic_midway_loses_no_element() {
        check(&[1, 0, 1, 0, 0, 1, 1, 0], 1, 2, Some(0));
        check(&[1, 0, 1, 0, 0, 1, 1, 0], 1, 2, Some(5));
        check(&[0, 0, 1, 1], 1, 0, Some(3));
        let shards: Vec<usize> = (0u64..200).map(|i| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 62) as usize).collect();
        check(&shards, 3, 1, Some(137));
        // After a batch grew.
        check(&[1; 300], 3, 1, Some(250));
    }

    #[test]
    fn a_shard_out_of_range_loses_no_element() {
        let mut buffer = vec![String::from("a"), String::from("b"), String::from("c"), String::from("d")];
        let mut batches = vec![Vec::new(), Vec::new()];
        let shards = [1, 0, 3, 0];
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            split(&mut buffer, &mut batches, |s| shards[usize::from(s.as_bytes()[0] - b'a')]);
        }));
        assert!(caught.is_err());
        assert_eq!(buffer, ["b", "c", "d"]);
        assert_eq!(batches, [vec!["a"], vec![]]);
    }

    #[test]
    fn zero_sized_elements_are_counted() {
        let mut buffer = vec![(); 5];
        let mut batches = vec![Vec::new(), vec![()]];
        let shards = [2, 0, 1, 2, 0];
        let mut i = 0;
        split(&mut buffer, &mut batches, |_| {
            i += 1;
            shards[i - 1]
        });
        assert_eq!((buffer.len(), batches[0].len(), batches[1].len()), (2, 1, 3));
    }
}
