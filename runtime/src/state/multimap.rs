//! [`Multimap`]: a map from keys to several values (Beam's `MultimapState`).

use std::fmt;
use std::hash::Hash;

use hashbrown::{Equivalent, HashMap};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{CellHasher, StateCell};

/// A cell holding a map from keys to one or more values each (Beam's `MultimapState`).
///
/// A key's values read in the order they were put; the order of keys is unspecified, but the same in every run
/// of a program that fills the multimap the same way (see [the module docs](crate::state#iteration-order)).
/// Lookups take any borrowed form of the key (a `&str` for a `String` key). The serialised form is a map from
/// each key to the list of its values.
///
/// ```
/// use dofn::state::Multimap;
/// let mut tags = Multimap::default();
/// tags.put("ride-1", "late");
/// tags.put("ride-1", "long");
/// tags.put("ride-2", "short");
/// assert_eq!(tags.get(&"ride-1").copied().collect::<Vec<_>>(), ["late", "long"]);
/// assert_eq!(tags.len(), 3);
/// assert_eq!(tags.remove(&"ride-1"), ["late", "long"]);
/// assert_eq!(tags.get(&"ride-1").count(), 0);
/// ```
#[derive(Clone)]
pub struct Multimap<K, V> {
    /// Every key present has at least one value.
    map: HashMap<K, Vec<V>, CellHasher>,
    /// The number of values, over all keys.
    len: usize,
}

impl<K: Eq + Hash, V> Multimap<K, V> {
    /// Adds `value` to the values of `key`.
    #[inline]
    pub fn put(&mut self, key: K, value: V) {
        self.map.entry(key).or_default().push(value);
        self.len += 1;
    }

    /// The values of `key`, in the order they were put; none if `key` is absent.
    #[inline]
    pub fn get<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> std::slice::Iter<'_, V> {
        self.map.get(key).map_or(&[][..], Vec::as_slice).iter()
    }

    /// Whether `key` has a value.
    #[inline]
    pub fn contains_key<Q: ?Sized + Hash + Equivalent<K>>(&self, key: &Q) -> bool {
        self.map.contains_key(key)
    }

    /// Removes `key` with all its values, and returns them (empty if `key` was absent).
    #[inline]
    pub fn remove<Q: ?Sized + Hash + Equivalent<K>>(&mut self, key: &Q) -> Vec<V> {
        let values = self.map.remove(key).unwrap_or_default();
        self.len -= values.len();
        values
    }
}

impl<K, V> Multimap<K, V> {
    /// The distinct keys.
    #[inline]
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &K> {
        self.map.keys()
    }

    /// Every key-value pair: a key with `n` values appears `n` times.
    #[inline]
    pub fn entries(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter().flat_map(|(k, vs)| vs.iter().map(move |v| (k, v)))
    }

    /// The number of key-value pairs (not of distinct keys).
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the multimap has no key.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Removes every key.
    #[inline]
    pub fn clear(&mut self) {
        self.map.clear();
        self.len = 0;
    }

    /// Takes every key out with its values, leaving the multimap empty: the way to flush it without cloning.
    /// The keys come in the order [`Multimap::keys`] gives, each key's values in the order they were put.
    #[inline]
    pub fn take(&mut self) -> Vec<(K, Vec<V>)> {
        self.len = 0;
        std::mem::take(&mut self.map).into_iter().collect()
    }
}

impl<K: Eq + Hash, V> Extend<(K, V)> for Multimap<K, V> {
    /// Adds every pair of `pairs`, as [`Multimap::put`] does.
    #[inline]
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, pairs: I) {
        for (key, value) in pairs {
            self.put(key, value);
        }
    }
}

impl<K, V> Default for Multimap<K, V> {
    /// An empty multimap.
    #[inline]
    fn default() -> Self {
        Multimap { map: HashMap::default(), len: 0 }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for Multimap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Multimap ")?;
        f.debug_map().entries(self.map.iter()).finish()
    }
}

impl<K: Send + 'static, V: Send + 'static> StateCell for Multimap<K, V> {
    const KIND: &'static str = "Multimap";

    #[inline]
    fn clear(&mut self) {
        Multimap::clear(self);
    }

    #[inline]
    fn is_empty(&self) -> bool {
        Multimap::is_empty(self)
    }
}

impl<K: Serialize + Eq + Hash, V: Serialize> Serialize for Multimap<K, V> {
    /// A map from each key to the list of its values.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.map.serialize(serializer)
    }
}

impl<'de, K: Deserialize<'de> + Eq + Hash, V: Deserialize<'de>> Deserialize<'de> for Multimap<K, V> {
    /// Reads a map from keys to lists of values; keys with an empty list are dropped.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut map = HashMap::<K, Vec<V>, CellHasher>::deserialize(deserializer)?;
        map.retain(|_, values| !values.is_empty());
        let len = map.values().map(Vec::len).sum();
        Ok(Multimap { map, len })
    }
}
