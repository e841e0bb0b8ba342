//! [`Bag`]: an unordered collection, cheap to append to (Beam's `BagState`).

use serde::{Deserialize, Serialize};

use super::StateCell;

/// A cell holding a collection of values, cheap to append to (Beam's `BagState`).
///
/// Beam promises no order for a bag; this one reads its values in the order they were added.
///
/// ```
/// use dofn::state::Bag;
/// let mut buffer = Bag::default();
/// buffer.add("a");
/// buffer.extend(["b", "c"]);
/// assert_eq!(buffer.len(), 3);
/// assert_eq!(buffer.read().copied().collect::<Vec<_>>(), ["a", "b", "c"]);
/// let flushed: Vec<&str> = buffer.take();
/// assert_eq!(flushed, ["a", "b", "c"]);
/// assert!(buffer.is_empty());
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Bag<T>(Vec<T>);

impl<T> Bag<T> {
    /// Adds `value` to the bag.
    #[inline]
    pub fn add(&mut self, value: T) {
        self.0.push(value);
    }

    /// The values, in the order they were added.
    #[inline]
    pub fn read(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }

    /// Takes every value out, leaving the bag empty: the way to flush a bag without cloning its values.
    #[inline]
    pub fn take(&mut self) -> Vec<T> {
        std::mem::take(&mut self.0)
    }

    /// The number of values.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the bag holds no value.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Removes every value.
    #[inline]
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

impl<T> Default for Bag<T> {
    /// An empty bag.
    #[inline]
    fn default() -> Self {
        Bag(Vec::new())
    }
}

impl<T> Extend<T> for Bag<T> {
    /// Adds every value of `values`.
    #[inline]
    fn extend<I: IntoIterator<Item = T>>(&mut self, values: I) {
        self.0.extend(values);
    }
}

impl<'a, T> IntoIterator for &'a Bag<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    /// The values, in the order they were added (as [`Bag::read`]): `for value in &bag`.
    #[inline]
    fn into_iter(self) -> Self::IntoIter {
        self.read()
    }
}

impl<T: Send + 'static> StateCell for Bag<T> {
    const KIND: &'static str = "Bag";

    #[inline]
    fn clear(&mut self) {
        Bag::clear(self);
    }

    #[inline]
    fn is_empty(&self) -> bool {
        Bag::is_empty(self)
    }
}
