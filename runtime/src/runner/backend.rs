//! Where the cells and timers of each (key, window) live: the [`StateBackend`] trait and the in-memory
//! backend.
//!
//! The runner reaches state only through this trait, so a durable or remote backend (cells and timers
//! serialised with serde) can replace the in-memory one without touching the semantics.

use std::hash::{BuildHasher, Hash};

use hashbrown::DefaultHashBuilder;

use crate::window::Window;

use super::index::SlotIndex;

/// The id of one (key, window) record in a backend. Ids are reused after removal; the generation tells a
/// stale id from a live one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId {
    index: u32,
    generation: u32,
}

/// One (key, window)'s cells `S` and timers `T`, borrowed from a backend.
pub struct RecordMut<'a, K, S, T> {
    /// The key.
    pub key: &'a K,
    /// The window.
    pub window: Window,
    /// The state cells.
    pub state: &'a mut S,
    /// The timers.
    pub timers: &'a mut T,
}

/// Storage for the records of one DoFn: per (key, window), its state cells `S` and timers `T`.
pub trait StateBackend<K, S, T>: Send {
    /// The id of (key, window)'s record, creating one (state `new_state()`, timers `T::default()`) if there
    /// is none; the flag says whether it was created.
    fn get_or_create(&mut self, key: &K, window: Window, new_state: impl FnOnce() -> S) -> (RecordId, bool);
    /// The record with this id, if it is still live.
    fn get(&mut self, id: RecordId) -> Option<RecordMut<'_, K, S, T>>;
    /// Removes the record with this id and returns its parts.
    fn remove(&mut self, id: RecordId) -> Option<(K, Window, S, T)>;
    /// Removes the records with these ids (those still live), handing each one's parts to `each`, in order.
    /// A backend may do this faster than one [`StateBackend::remove`] at a time: this is how a window's
    /// records go when it expires.
    fn remove_many(&mut self, ids: &[RecordId], mut each: impl FnMut(K, Window, S, T)) {
        for &id in ids {
            if let Some((key, window, state, timers)) = self.remove(id) {
                each(key, window, state, timers);
            }
        }
    }
    /// The number of live records.
    fn len(&self) -> usize;
    /// Whether there are no live records.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// How many elements ahead of looking up an element's record the runner announces the lookup with
    /// [`StateBackend::prefetch`]; 0, the default, for not at all. A backend whose lookups wait on memory
    /// (or on a remote store) can start them early this way, as Beam's `readLater` lets a DoFn do for its
    /// cells.
    fn prefetch_distance(&self) -> usize {
        0
    }
    /// A hint that the record of (key, window) will be looked up soon ([`StateBackend::get_or_create`]). It
    /// changes nothing any method returns.
    fn prefetch(&self, key: &K, window: Window) {
        let _ = (key, window);
    }
}

/// The in-memory backend announces lookups once it holds this many records: its index (8 bytes an entry, at
/// most half full) and its slab (48 bytes a record with a `u64` key and a `Value<u64>`) then take more than a
/// core's L2 cache, and lookups wait on memory. (W1 on one worker in the profiling harness, paired runs of
/// announcing against not: with 1,000 keys 0.87 times as fast, 10,000 0.91 and 20,000 1.17, streaming;
/// 100,000 keys 1.21 and 1,000,000 1.67, `run()`.)
const PREFETCH_FROM: usize = 1 << 14;

/// How many elements ahead the in-memory backend's lookups are announced: far enough for the entry to
/// arrive from memory before the lookup, near enough that it is still in the L1 cache then (8 and 16
/// measured the same).
const PREFETCH_DISTANCE: usize = 16;

struct Entry<K, S, T> {
    key: K,
    window: Window,
    state: S,
    timers: T,
}

struct Slot<K, S, T> {
    generation: u32,
    entry: Option<Entry<K, S, T>>,
}

/// The in-memory backend: records in a slab, found by (key, window) through an index of slab slots (8
/// bytes an entry, at most half full).
pub struct InMemoryBackend<K, S, T> {
    hasher: DefaultHashBuilder,
    index: SlotIndex,
    slots: Vec<Slot<K, S, T>>,
    free: Vec<u32>,
}

impl<K, S, T> Default for InMemoryBackend<K, S, T> {
    fn default() -> Self {
        InMemoryBackend {
            hasher: DefaultHashBuilder::default(),
            index: SlotIndex::default(),
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<K: Hash + Eq + Clone + Send, S: Send, T: Default + Send> StateBackend<K, S, T> for InMemoryBackend<K, S, T> {
    #[inline]
    fn get_or_create(&mut self, key: &K, window: Window, new_state: impl FnOnce() -> S) -> (RecordId, bool) {
        let hash = self.hasher.hash_one((key, &window));
        let slots = &self.slots;
        let found = self
            .index
            .find(hash, |i| slots[i as usize].entry.as_ref().is_some_and(|e| e.window == window && e.key == *key));
        if let Some(index) = found {
            return (RecordId { index, generation: self.slots[index as usize].generation }, false);
        }
        (self.create(key, window, hash, new_state), true)
    }

    #[inline]
    fn get(&mut self, id: RecordId) -> Option<RecordMut<'_, K, S, T>> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let e = slot.entry.as_mut()?;
        Some(RecordMut { key: &e.key, window: e.window, state: &mut e.state, timers: &mut e.timers })
    }

    fn remove(&mut self, id: RecordId) -> Option<(K, Window, S, T)> {
        let e = self.take(id)?;
        self.unindex(id.index, &e);
        Some((e.key, e.window, e.state, e.timers))
    }

    fn remove_many(&mut self, ids: &[RecordId], mut each: impl FnMut(K, Window, S, T)) {
        // Few records: find each one's index entry by its hash. Many (an eighth of the table or more): take
        // them all, then sweep the index once, in memory order, which costs less than as many random probes.
        let sweep = ids.len() >= self.index.len() / 8;
        let mut removed = vec![0u64; if sweep { self.slots.len().div_ceil(64) } else { 0 }];
        for &id in ids {
            let Some(e) = self.take(id) else { continue };
            if sweep {
                removed[id.index as usize / 64] |= 1 << (id.index % 64);
            } else {
                self.unindex(id.index, &e);
            }
            each(e.key, e.window, e.state, e.timers);
        }
        if sweep {
            self.index.retain(|i| removed[i as usize / 64] & (1 << (i % 64)) == 0);
        }
    }

    fn len(&self) -> usize {
        self.index.len()
    }

    fn prefetch_distance(&self) -> usize {
        if self.index.len() >= PREFETCH_FROM { PREFETCH_DISTANCE } else { 0 }
    }

    /// Starts loading the index entry where the lookup of (key, window) begins. (The slab slot it leads to
    /// is not prefetched: that measured no faster, the CPU reaching it early enough once the entry is in.)
    #[inline]
    fn prefetch(&self, key: &K, window: Window) {
        self.index.prefetch(self.hasher.hash_one((key, &window)));
    }
}

impl<K: Hash + Eq + Clone, S, T: Default> InMemoryBackend<K, S, T> {
    /// Takes the entry of a live record out of its slot, making the id stale and the slot free; the index
    /// still points at the slot.
    fn take(&mut self, id: RecordId) -> Option<Entry<K, S, T>> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let e = slot.entry.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(id.index);
        Some(e)
    }

    /// Removes the index's entry for slot `index`, which held `e`.
    fn unindex(&mut self, index: u32, e: &Entry<K, S, T>) {
        let hash = self.hasher.hash_one((&e.key, &e.window));
        self.index.remove(hash, index);
    }

    #[cold]
    fn create(&mut self, key: &K, window: Window, hash: u64, new_state: impl FnOnce() -> S) -> RecordId {
        let entry = Entry { key: key.clone(), window, state: new_state(), timers: T::default() };
        let index = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize].entry = Some(entry);
                i
            }
            None => {
                self.slots.push(Slot { generation: 0, entry: Some(entry) });
                (self.slots.len() - 1) as u32
            }
        };
        self.index.insert(hash, index);
        RecordId { index, generation: self.slots[index as usize].generation }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Instant;

    #[test]
    fn records_are_found_by_key_and_window_and_ids_go_stale_on_removal() {
        let mut b: InMemoryBackend<String, u32, ()> = InMemoryBackend::default();
        let w2 = Window::new(Instant::from_millis(0), Instant::from_millis(10));
        let (a, created) = b.get_or_create(&"a".to_string(), Window::GLOBAL, Default::default);
        assert!(created);
        *b.get(a).unwrap().state = 7;
        let (a2, created) = b.get_or_create(&"a".to_string(), Window::GLOBAL, Default::default);
        assert_eq!((a2, created), (a, false));
        let (aw, _) = b.get_or_create(&"a".to_string(), w2, Default::default);
        assert_ne!(aw, a);
        assert_eq!(b.len(), 2);
        assert_eq!(b.remove(a).map(|(k, _, s, _)| (k, s)), Some(("a".to_string(), 7)));
        assert!(b.get(a).is_none());
        let (again, created) = b.get_or_create(&"a".to_string(), Window::GLOBAL, Default::default);
        assert!(created);
        assert_ne!(again, a, "a reused slot gets a new generation");
        assert_eq!(*b.get(again).unwrap().state, 0);
    }

    #[test]
    fn lookups_are_announced_once_the_table_is_big_and_announcing_changes_nothing() {
        let mut b: InMemoryBackend<u64, u64, ()> = InMemoryBackend::default();
        let keys = PREFETCH_FROM as u64;
        let ids: Vec<RecordId> =
            (0..keys - 1).map(|k| b.get_or_create(&k, Window::GLOBAL, Default::default).0).collect();
        assert_eq!(b.prefetch_distance(), 0, "a table that fits the caches is looked up unannounced");
        b.get_or_create(&(keys - 1), Window::GLOBAL, Default::default);
        assert_eq!(b.prefetch_distance(), PREFETCH_DISTANCE);
        for (k, &id) in ids.iter().enumerate() {
            let k = k as u64;
            b.prefetch(&k, Window::GLOBAL);
            b.prefetch(&(k + keys), Window::GLOBAL);
            assert_eq!(b.get_or_create(&k, Window::GLOBAL, Default::default), (id, false), "key {k}");
        }
        assert_eq!(b.len(), PREFETCH_FROM, "announcing a key creates no record");
    }

    #[test]
    fn windows_that_share_an_end_keep_their_own_records() {
        // Windows hash by their end alone; two that share it are still two windows.
        let mut b: InMemoryBackend<u32, u32, ()> = InMemoryBackend::default();
        let end = Instant::from_millis(10);
        let windows = [Window::new(Instant::from_millis(0), end), Window::new(Instant::from_millis(5), end)];
        let ids: Vec<RecordId> = windows.iter().map(|&w| b.get_or_create(&1, w, Default::default).0).collect();
        assert_ne!(ids[0], ids[1]);
        *b.get(ids[1]).unwrap().state = 5;
        assert_eq!(b.get_or_create(&1, windows[1], Default::default), (ids[1], false));
        assert_eq!(b.remove(ids[0]).map(|(_, w, s, _)| (w, s)), Some((windows[0], 0)));
        assert_eq!(b.get_or_create(&1, windows[1], Default::default), (ids[1], false));
        assert_eq!(*b.get(ids[1]).unwrap().state, 5);
    }

    #[test]
    fn many_records_go_at_once_by_either_path_and_the_rest_stay() {
        for (records, gone) in [(1000u32, 10usize), (1000, 400)] {
            let mut b: InMemoryBackend<u32, u32, ()> = InMemoryBackend::default();
            let ids: Vec<RecordId> =
                (0..records).map(|k| b.get_or_create(&k, Window::GLOBAL, Default::default).0).collect();
            for (k, &id) in ids.iter().enumerate() {
                *b.get(id).unwrap().state = k as u32 * 10;
            }
            // Every other record among the first `2 * gone`, plus one id that is already stale.
            let mut doomed: Vec<RecordId> = ids.iter().step_by(2).take(gone).copied().collect();
            b.remove(ids[1]);
            doomed.push(ids[1]);
            let mut seen = Vec::new();
            b.remove_many(&doomed, |k, _, s, ()| seen.push((k, s)));
            let expected: Vec<(u32, u32)> = (0..gone as u32).map(|i| (2 * i, 20 * i)).collect();
            assert_eq!(seen, expected, "removing {gone}: each live record once, in order");
            assert_eq!(b.len(), records as usize - gone - 1);
            for (k, &id) in ids.iter().enumerate() {
                let gone_now = (k % 2 == 0 && k / 2 < gone) || k == 1;
                assert_eq!(b.get(id).is_none(), gone_now, "record {k}");
                let (again, created) = b.get_or_create(&(k as u32), Window::GLOBAL, Default::default);
                assert_eq!(created, gone_now, "record {k} is found by key unless removed");
                assert_eq!(again == id, !gone_now);
            }
        }
    }
}
