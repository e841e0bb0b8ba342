//! The index of the in-memory state backend: from the hash of a (key, window) to the slab slot of its record.
//!
//! An open-addressing table with linear probing, at most half full, whose entries are 8 bytes: 32 bits of
//! the hash (the *tag*) and the slot. A lookup reads the entry at the hash's home position and, if another
//! record's entry is there, the next ones (1.5 entries on average for a hit in a half-full table, mostly in
//! one cache line); only an entry whose tag matches sends the caller to the slab to compare key and window.
//! The tag also fixes an entry's home position (its low bits), so that the table grows, and closes the gap
//! an entry leaves, without hashing any key again.
//!
//! The tag is taken from the hash times an odd constant, not from the hash as it is: the backend's hash of a
//! small key and a window is one multiply-and-fold (foldhash's), and for keys a constant step apart (ids
//! counted up, the common case) bits 32 and up of that hash step evenly around the table by an amount the
//! process's seed fixes. Most seeds spread such keys well, but some pile them on a few home positions: with
//! 1,000 sequential keys, one seed in ten made lookups probe more than 2 entries on average, one in a hundred
//! more than 11 and one in a thousand more than 200 (simulated over 5,000 seeds). Multiplying again breaks
//! the step: 1.47 on average, at most 1.9 over the same seeds (a test checks 2,000 seeds), as for keys in no
//! order. The price is what the good seeds gave sequential keys, better than chance (1.05 entries, and
//! strides a hardware prefetcher follows): see change 14 in `docs/benchmarks-history.md`.

/// One entry: the tag of a record's hash and its slot, or [`VACANT`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Entry {
    tag: u32,
    slot: u32,
}

/// The slot of a vacant entry (no record is ever at this slot: slots are `u32` indices into a vector that
/// would need 2^32 records to reach it).
const VACANT: u32 = u32::MAX;

const EMPTY: Entry = Entry { tag: 0, slot: VACANT };

/// The fewest entries a table that has any has.
const MIN_ENTRIES: usize = 16;

/// A map from a record's hash to its slot (see the module docs).
#[derive(Default)]
pub(crate) struct SlotIndex {
    entries: Vec<Entry>,
    len: usize,
}

/// The odd constant a hash is multiplied by before its tag is taken (2^64 divided by the golden ratio; any
/// odd constant maps distinct hashes to distinct products).
const SPREAD: u64 = 0x9e37_79b9_7f4a_7c15;

/// The tag of a hash: the high half of the hash times [`SPREAD`] (see the module docs for why not the hash's
/// own high half).
#[inline(always)]
fn tag_of(hash: u64) -> u32 {
    (hash.wrapping_mul(SPREAD) >> 32) as u32
}

/// The home position of `hash` in a table of `mask + 1` entries: where a lookup begins.
#[inline(always)]
fn home(hash: u64, mask: usize) -> usize {
    tag_of(hash) as usize & mask
}

impl SlotIndex {
    /// The number of slots indexed.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline(always)]
    fn mask(&self) -> usize {
        self.entries.len().wrapping_sub(1)
    }

    /// The slot whose record has this hash and satisfies `eq`, if any.
    #[inline]
    pub(crate) fn find(&self, hash: u64, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        let tag = tag_of(hash);
        self.probe(hash, |e| e.tag == tag && eq(e.slot)).map(|(_, slot)| slot)
    }

    /// The first entry on the probe path of `hash` that `hit` accepts, and its position; `None` at the first
    /// vacant entry (or in a table with no entries).
    #[inline(always)]
    fn probe(&self, hash: u64, mut hit: impl FnMut(Entry) -> bool) -> Option<(usize, u32)> {
        let mask = self.mask();
        let mut pos = home(hash, mask);
        loop {
            let e = *self.entries.get(pos)?;
            if e.slot == VACANT {
                return None;
            }
            if hit(e) {
                return Some((pos, e.slot));
            }
            pos = (pos + 1) & mask;
        }
    }

    /// Asks the CPU to start loading the entry at `hash`'s home position, where a lookup of `hash` begins,
    /// without waiting for it.
    #[inline(always)]
    pub(crate) fn prefetch(&self, hash: u64) {
        if let Some(entry) = self.entries.get(home(hash, self.mask())) {
            prefetch(entry);
        }
    }

    /// Indexes `slot` under `hash`; the caller knows no record of that key and window is indexed.
    #[inline]
    pub(crate) fn insert(&mut self, hash: u64, slot: u32) {
        debug_assert_ne!(slot, VACANT);
        if 2 * (self.len + 1) > self.entries.len() {
            self.grow();
        }
        self.place(Entry { tag: tag_of(hash), slot });
        self.len += 1;
    }

    /// Puts an entry at the first vacant position from its home on; there is room.
    fn place(&mut self, entry: Entry) {
        let mask = self.mask();
        let mut pos = entry.tag as usize & mask;
        while self.entries[pos].slot != VACANT {
            pos = (pos + 1) & mask;
        }
        self.entries[pos] = entry;
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let size = (2 * self.entries.len()).max(MIN_ENTRIES);
        let old = std::mem::replace(&mut self.entries, vec![EMPTY; size]);
        for e in old.into_iter().filter(|e| e.slot != VACANT) {
            self.place(e);
        }
    }

    /// Removes the entry of `slot`, indexed under `hash`; whether there was one.
    pub(crate) fn remove(&mut self, hash: u64, slot: u32) -> bool {
        let Some((pos, _)) = self.probe(hash, |e| e.slot == slot) else { return false };
        self.close_gap(pos);
        self.len -= 1;
        true
    }

    /// Empties the entry at `hole` and moves back the entries after it that probing would no longer reach
    /// (backward-shift deletion: no tombstones, so lookups never get slower with removals).
    fn close_gap(&mut self, mut hole: usize) {
        let mask = self.mask();
        let mut pos = (hole + 1) & mask;
        loop {
            let e = self.entries[pos];
            if e.slot == VACANT {
                break;
            }
            let home = e.tag as usize & mask;
            // The entry may fill the hole if the hole lies on its probe path: from its home up to `pos`.
            if (pos.wrapping_sub(home) & mask) >= (pos.wrapping_sub(hole) & mask) {
                self.entries[hole] = e;
                hole = pos;
            }
            pos = (pos + 1) & mask;
        }
        self.entries[hole] = EMPTY;
    }

    /// Keeps the slots for which `keep` is true and removes the others, in one pass over the table.
    ///
    /// The pass starts after a vacant entry, which no probe path crosses, and empties each removed entry as
    /// it comes; an entry kept after an emptied one in the same run of entries is put back at the first vacant
    /// position from its home on (where it is, or before). Each kept entry costs a look, not the scan to the
    /// end of its run that closing each gap apart would (an expiring window takes out a good part of the
    /// table at once).
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(u32) -> bool) {
        let mask = self.mask();
        // The table is at most half full, so it has a vacant entry if it has any.
        let Some(start) = self.entries.iter().position(|e| e.slot == VACANT) else { return };
        // Whether an entry of the current run was removed: only then may the ones after it move back.
        let mut emptied = false;
        for i in 1..self.entries.len() {
            let pos = (start + i) & mask;
            let e = self.entries[pos];
            if e.slot == VACANT {
                // Vacant before the pass (the pass only empties entries it has passed): a run ends here.
                emptied = false;
            } else if !keep(e.slot) {
                self.entries[pos] = EMPTY;
                self.len -= 1;
                emptied = true;
            } else if emptied && e.tag as usize & mask != pos {
                // Its home is in this run (no probe path crosses a vacant entry), at or before `pos`.
                self.entries[pos] = EMPTY;
                self.place(e);
            }
        }
    }
}

/// A hint to the CPU to bring the cache line of `value` closer: no effect but on timing.
#[inline(always)]
#[allow(unsafe_code)]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` needs SSE, which every x86-64 CPU has; a prefetch reads nothing the program sees
    // and cannot fault, whatever the address (here that of a live reference). `core::hint::prefetch_read`,
    // safe but not yet stable (rust-lang/rust#146941), will do the same without `unsafe`.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(std::ptr::from_ref(value).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    /// The inverse of [`SPREAD`] modulo 2^64.
    const UNSPREAD: u64 = 0xf1de_83e1_9937_733d;

    /// A hash whose tag is `tag`.
    fn with_tag(tag: u32) -> u64 {
        (u64::from(tag) << 32).wrapping_mul(UNSPREAD)
    }

    /// A hash whose tag is one of five, near the top of any table: probe runs are long, wrap around the
    /// table's end, and many entries share a tag (the caller's comparison tells them apart).
    fn crowded(k: u32) -> u64 {
        with_tag(0xffff_fff0 | (k % 5))
    }

    #[test]
    fn hashes_are_made_with_the_tags_asked_for() {
        assert_eq!(SPREAD.wrapping_mul(UNSPREAD), 1);
        for tag in [0, 1, 7, 0x8000_0000, 0xffff_fff4, u32::MAX] {
            assert_eq!(tag_of(with_tag(tag)), tag);
        }
    }

    /// A xorshift generator of pseudo-random numbers from `state` (not zero).
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// How many entries the lookup of `slot`, indexed under `hash`, reads.
    fn probes(index: &SlotIndex, hash: u64, slot: u32) -> usize {
        let (pos, _) = index.probe(hash, |e| e.slot == slot).expect("indexed");
        (pos.wrapping_sub(home(hash, index.mask())) & index.mask()) + 1
    }

    #[test]
    fn sequential_keys_spread_over_the_table_whatever_the_seed() {
        // foldhash's hash of a `u64` key and a window (its end): one multiply-and-fold of the key and the end,
        // each mixed with a seed. For 1,000 keys counted up, the hash's own high half put one seed in ten above
        // 2 probes per lookup on average (and some above 300); every one of these 2,000 seeds stays below 2.5.
        let fold = |x: u64, y: u64| {
            let p = u128::from(x) * u128::from(y);
            (p as u64) ^ ((p >> 64) as u64)
        };
        let end = crate::window::Window::GLOBAL.end().millis() as u64;
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        for seed in 0..2000 {
            let (per_hasher, shared) = (next(), next());
            let hashes: Vec<u64> = (0..1000u64).map(|key| fold(key ^ per_hasher, end ^ shared)).collect();
            let mut index = SlotIndex::default();
            for (slot, &hash) in hashes.iter().enumerate() {
                index.insert(hash, slot as u32);
            }
            let total: usize = hashes.iter().enumerate().map(|(slot, &hash)| probes(&index, hash, slot as u32)).sum();
            let mean = total as f64 / hashes.len() as f64;
            assert!(mean < 2.5, "seed {seed}: {mean:.2} probes per lookup");
        }
    }

    #[test]
    fn finds_what_was_inserted_and_not_what_was_removed() {
        let mut index = SlotIndex::default();
        assert_eq!(index.find(crowded(1), |_| true), None);
        assert!(!index.remove(crowded(1), 1));
        let mut model: HashSet<u32> = HashSet::new();
        // Insert 0..300, remove every third, insert 300..400, remove those below 100: entries shift back
        // across the end of the table and past one another.
        for k in 0..300 {
            index.insert(crowded(k), k);
            model.insert(k);
        }
        for k in (0..300).step_by(3) {
            assert!(index.remove(crowded(k), k), "{k}");
            model.remove(&k);
        }
        for k in 300..400 {
            index.insert(crowded(k), k);
            model.insert(k);
        }
        for k in 0..100 {
            assert_eq!(index.remove(crowded(k), k), model.remove(&k), "{k}");
        }
        assert_eq!(index.len(), model.len());
        for k in 0..400 {
            let found = index.find(crowded(k), |slot| slot == k);
            assert_eq!(found, model.get(&k).copied(), "{k}");
        }
        index.retain(|slot| slot % 2 == 0);
        model.retain(|k| k % 2 == 0);
        assert_eq!(index.len(), model.len());
        for k in 0..400 {
            assert_eq!(index.find(crowded(k), |slot| slot == k), model.get(&k).copied(), "{k}");
        }
    }

    #[test]
    fn agrees_with_a_set_through_random_inserts_removals_and_sweeps() {
        let mut index = SlotIndex::default();
        // Each slot's hash (fixed once drawn), and the slots indexed.
        let mut hashes: HashMap<u32, u64> = HashMap::new();
        let mut live: HashSet<u32> = HashSet::new();
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        for step in 0..20_000 {
            let k = (next() % 500) as u32;
            // Tags from a small set near the top of the table: runs are long and wrap, and slots share tags.
            let drawn = with_tag((next() % 64) as u32 | 0xffff_ffc0);
            let hash = *hashes.entry(k).or_insert(drawn);
            match next() % 10 {
                0..=5 => {
                    if live.insert(k) {
                        index.insert(hash, k);
                    }
                }
                6..=8 => assert_eq!(index.remove(hash, k), live.remove(&k), "step {step}"),
                _ => {
                    let cut = (next() % 500) as u32;
                    index.retain(|slot| slot < cut);
                    live.retain(|&slot| slot < cut);
                }
            }
            if step % 97 == 0 {
                for (&k, &hash) in &hashes {
                    let found = index.find(hash, |slot| slot == k);
                    assert_eq!(found, live.get(&k).copied(), "step {step}, slot {k}");
                }
                assert_eq!(index.len(), live.len(), "step {step}");
                assert!(2 * index.len() <= index.entries.len().max(1));
            }
        }
    }

    #[test]
    fn the_table_stays_at_most_half_full() {
        let mut index = SlotIndex::default();
        for k in 0..1000u32 {
            index.insert(u64::from(k).wrapping_mul(0x9e37_79b9_7f4a_7c15), k);
            assert!(2 * index.len() <= index.entries.len());
        }
        assert_eq!(index.entries.len(), 2048);
    }
}
