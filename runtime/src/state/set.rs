//! [`Set`]: a set of values (Beam's `SetState`).

use std::hash::Hash;

use hashbrown::{Equivalent, HashSet};
use serde::{Deserialize, Serialize};

use super::{CellHasher, StateCell};

/// A cell holding a set of values (Beam's `SetState`).
///
/// Lookups take any borrowed form of the value (a `&str` for `String` values). Iteration order is
/// unspecified, but the same in every run of a program that fills the set the same way (see
/// [the module docs](crate::state#iteration-order)).
///
/// ```
/// use dofn::state::Set;
/// let mut users = Set::default();
/// assert!(users.add_if_absent("ada".to_string()));
/// assert!(!users.add_if_absent("ada".to_string()));
/// assert!(users.contains("ada"));
/// assert!(users.remove("ada"));
/// assert!(users.is_empty());
/// users.extend(["bob".to_string(), "cy".to_string()]);
/// let mut flushed = users.take();
/// flushed.sort();
/// assert_eq!(flushed, ["bob", "cy"]);
/// assert!(users.is_empty());
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
#[serde(bound(serialize = "T: Serialize + Eq + Hash", deserialize = "T: Deserialize<'de> + Eq + Hash"))]
pub struct Set<T>(HashSet<T, CellHasher>);

impl<T: Eq + Hash> Set<T> {
    /// Adds `value` (a value already present is kept).
    #[inline]
    pub fn add(&mut self, value: T) {
        self.0.insert(value);
    }

    /// Adds `value` if it is absent; returns whether it was added.
    #[inline]
    pub fn add_if_absent(&mut self, value: T) -> bool {
        self.0.insert(value)
    }

    /// Whether `value` is in the set.
    #[inline]
    pub fn contains<Q: ?Sized + Hash + Equivalent<T>>(&self, value: &Q) -> bool {
        self.0.contains(value)
    }

    /// Removes `value`; returns whether it was present.
    #[inline]
    pub fn remove<Q: ?Sized + Hash + Equivalent<T>>(&mut self, value: &Q) -> bool {
        self.0.remove(value)
    }
}

impl<T> Set<T> {
    /// The values.
    #[inline]
    pub fn read(&self) -> impl ExactSizeIterator<Item = &T> {
        self.0.iter()
    }

    /// The number of values.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set has no value.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Removes every value.
    #[inline]
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// Takes every value out, leaving the set empty: the way to flush a set without cloning its values. They
    /// come in the order [`Set::read`] gives.
    #[inline]
    pub fn take(&mut self) -> Vec<T> {
        std::mem::take(&mut self.0).into_iter().collect()
    }
}

impl<T: Eq + Hash> Extend<T> for Set<T> {
    /// Adds every value of `values` (values already present are kept).
    #[inline]
    fn extend<I: IntoIterator<Item = T>>(&mut self, values: I) {
        self.0.extend(values);
    }
}

impl<'a, T> IntoIterator for &'a Set<T> {
    type Item = &'a T;
    type IntoIter = hashbrown::hash_set::Iter<'a, T>;

    /// The values, as [`Set::read`] gives them: `for v in &set`.
    #[inline]
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T> Default for Set<T> {
    /// An empty set.
    #[inline]
    fn default() -> Self {
        Set(HashSet::default())
    }
}

impl<T: Send + 'static> StateCell for Set<T> {
    const KIND: &'static str = "Set";

    #[inline]
    fn clear(&mut self) {
        Set::clear(self);
    }

    #[inline]
    fn is_empty(&self) -> bool {
        Set::is_empty(self)
    }
}
