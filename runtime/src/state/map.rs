//! [`Map`]: a map from keys to values (Beam's `MapState`).

use std::hash::Hash;

use hashbrown::Equivalent;
use hashbrown::hash_map::{Entry, HashMap};
use serde::{Deserialize, Serialize};

use super::{CellHasher, StateCell};

/// A cell holding a map from keys to values (Beam's `MapState`).
///
/// Lookups take any borrowed form of the key, as [`HashMap`](std::collections::HashMap)'s do (a `&str` for a
/// `String` key). Iteration order is unspecified, but the same in every run of a program that fills the map
/// the same way (see [the module docs](crate::state#iteration-order)).
///
/// ```
/// use dofn::state::Map;
/// let mut seen = Map::<String, u32>::default();
/// seen.put("a".to_string(), 1);
/// assert_eq!(seen.put_if_absent("a".to_string(), 2), Some(&1));
/// *seen.compute_if_absent("b".to_string(), |_| 0) += 5;
/// assert_eq!(seen.get("b"), Some(&5));
/// assert_eq!(seen.remove("a"), Some(1));
/// assert_eq!(seen.len(), 1);
/// assert_eq!(seen.take(), [("b".to_string(), 5)]);
/// assert!(seen.is_empty());
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
#[serde(bound(
    serialize = "K: Serialize + Eq + Hash, V: Serialize",
    deserialize = "K: Deserialize<'de> + Eq + Hash, V: Deserialize<'de>"
))]
pub struct Map<K, V>(HashMap<K, V, CellHasher>);

impl<K: Eq + Hash, V> Map<K, V> {
    /// Maps `key` to `value`, replacing any value `key` had.
    #[inline]
    pub fn put(&mut self, key: K, value: V) {
        self.0.insert(key, value);
    }

    /// The value of `key`, if any.
    #[inline]
    pub fn get<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> Option<&V> {
        self.0.get(key)
    }

    /// The value of `key`, mutably, if any.
    #[inline]
    pub fn get_mut<Q: ?Sized + Hash + Equivalent<K>>(&mut self, key: &Q) -> Option<&mut V> {
        self.0.get_mut(key)
    }

    /// Whether `key` has a value.
    #[inline]
    pub fn contains_key<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> bool {
        self.0.contains_key(key)
    }

    /// Removes `key`, returning its value if it had one.
    #[inline]
    pub fn remove<Q: ?Sized + Hash + Equivalent<K>>(&mut self, key: &Q) -> Option<V> {
        self.0.remove(key)
    }

    /// As Beam's `putIfAbsent`: if `key` has a value, returns it and changes nothing; otherwise maps `key` to
    /// `value` and returns `None`.
    pub fn put_if_absent(&mut self, key: K, value: V) -> Option<&V> {
        match self.0.entry(key) {
            Entry::Occupied(entry) => Some(entry.into_mut()),
            Entry::Vacant(entry) => {
                entry.insert(value);
                None
            }
        }
    }

    /// The value of `key`, mutably, after mapping `key` to `f(&key)` if it had no value.
    #[inline]
    pub fn compute_if_absent(&mut self, key: K, f: impl FnOnce(&K) -> V) -> &mut V {
        self.0.entry(key).or_insert_with_key(f)
    }
}

impl<K, V> Map<K, V> {
    /// The keys.
    #[inline]
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &K> {
        self.0.keys()
    }

    /// The values.
    #[inline]
    pub fn values(&self) -> impl ExactSizeIterator<Item = &V> {
        self.0.values()
    }

    /// The key-value pairs.
    #[inline]
    pub fn entries(&self) -> impl ExactSizeIterator<Item = (&K, &V)> {
        self.0.iter()
    }

    /// The number of keys.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the map has no key.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Removes every key.
    #[inline]
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Takes every key-value pair out, leaving the map empty: the way to flush a map without cloning it. The
    /// pairs come in the order [`Map::entries`] gives.
    #[inline]
    pub fn take(&mut self) -> Vec<(K, V)> {
        std::mem::take(&mut self.0).into_iter().collect()
    }
}

impl<K: Eq + Hash, V> Extend<(K, V)> for Map<K, V> {
    /// Puts every pair of `pairs`, as [`Map::put`] does (a later value for a key replaces an earlier one).
    #[inline]
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, pairs: I) {
        self.0.extend(pairs);
    }
}

impl<'a, K, V> IntoIterator for &'a Map<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = hashbrown::hash_map::Iter<'a, K, V>;

    /// The pairs, as [`Map::entries`] gives them: `for (k, v) in &map`.
    #[inline]
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<K, V> Default for Map<K, V> {
    /// An empty map.
    #[inline]
    fn default() -> Self {
        Map(HashMap::default())
    }
}

impl<K: Send + 'static, V: Send + 'static> StateCell for Map<K, V> {
    const KIND: &'static str = "Map";

    #[inline]
    fn clear(&mut self) {
        Map::clear(self);
    }

    #[inline]
    fn is_empty(&self) -> bool {
        Map::is_empty(self)
    }
}
