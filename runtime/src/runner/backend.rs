//! Where the cells and timers of each (key, window) live: the [`StateBackend`] trait and the in-memory
//! backend.
//!
//! The runner reaches state only through this trait, so a durable or remote backend (cells and timers
//! serialised with serde) can replace the in-memory one without touching the semantics.

use std::hash::{BuildHasher, Hash};

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::window::Window;

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
    /// The id of (key, window)'s record, creating an empty one (`S::default()`, `T::default()`) if there is
    /// none; the flag says whether it was created.
    fn get_or_create(&mut self, key: &K, window: Window) -> (RecordId, bool);
    /// The record with this id, if it is still live.
    fn get(&mut self, id: RecordId) -> Option<RecordMut<'_, K, S, T>>;
    /// Removes the record with this id and returns its parts.
    fn remove(&mut self, id: RecordId) -> Option<(K, Window, S, T)>;
    /// The number of live records.
    fn len(&self) -> usize;
    /// Whether there are no live records.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

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

/// The in-memory backend: records in a slab, found by (key, window) through a hashbrown table of slab
/// indices (4 bytes an entry).
pub struct InMemoryBackend<K, S, T> {
    hasher: DefaultHashBuilder,
    index: HashTable<u32>,
    slots: Vec<Slot<K, S, T>>,
    free: Vec<u32>,
}

impl<K, S, T> Default for InMemoryBackend<K, S, T> {
    fn default() -> Self {
        InMemoryBackend {
            hasher: DefaultHashBuilder::default(),
            index: HashTable::new(),
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<K: Hash + Eq + Clone + Send, S: Default + Send, T: Default + Send> StateBackend<K, S, T>
    for InMemoryBackend<K, S, T>
{
    #[inline]
    fn get_or_create(&mut self, key: &K, window: Window) -> (RecordId, bool) {
        let hash = self.hasher.hash_one((key, &window));
        let slots = &self.slots;
        let found = self
            .index
            .find(hash, |&i| slots[i as usize].entry.as_ref().is_some_and(|e| e.window == window && e.key == *key));
        if let Some(&index) = found {
            return (RecordId { index, generation: self.slots[index as usize].generation }, false);
        }
        (self.create(key, window, hash), true)
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
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let e = slot.entry.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        let hash = self.hasher.hash_one((&e.key, &e.window));
        if let Ok(found) = self.index.find_entry(hash, |&i| i == id.index) {
            found.remove();
        }
        self.free.push(id.index);
        Some((e.key, e.window, e.state, e.timers))
    }

    fn len(&self) -> usize {
        self.index.len()
    }
}

impl<K: Hash + Eq + Clone, S: Default, T: Default> InMemoryBackend<K, S, T> {
    #[cold]
    fn create(&mut self, key: &K, window: Window, hash: u64) -> RecordId {
        let entry = Entry { key: key.clone(), window, state: S::default(), timers: T::default() };
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
        let (slots, hasher) = (&self.slots, &self.hasher);
        self.index.insert_unique(hash, index, |&j| match &slots[j as usize].entry {
            Some(e) => hasher.hash_one((&e.key, &e.window)),
            None => 0,
        });
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
        let (a, created) = b.get_or_create(&"a".to_string(), Window::GLOBAL);
        assert!(created);
        *b.get(a).unwrap().state = 7;
        let (a2, created) = b.get_or_create(&"a".to_string(), Window::GLOBAL);
        assert_eq!((a2, created), (a, false));
        let (aw, _) = b.get_or_create(&"a".to_string(), w2);
        assert_ne!(aw, a);
        assert_eq!(b.len(), 2);
        assert_eq!(b.remove(a).map(|(k, _, s, _)| (k, s)), Some(("a".to_string(), 7)));
        assert!(b.get(a).is_none());
        let (again, created) = b.get_or_create(&"a".to_string(), Window::GLOBAL);
        assert!(created);
        assert_ne!(again, a, "a reused slot gets a new generation");
        assert_eq!(*b.get(again).unwrap().state, 0);
    }
}
