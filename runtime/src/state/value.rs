//! [`Value`]: one value, or nothing (Beam's `ValueState`).

use serde::{Deserialize, Serialize};

use super::StateCell;

/// A cell holding at most one value (Beam's `ValueState`).
///
/// It starts empty; [`write`](Value::write) replaces what it holds.
///
/// ```
/// use dofn::state::Value;
/// let mut count = Value::<u32>::default();
/// assert_eq!(count.read(), None);
/// *count.get_or_insert_with(|| 0) += 1;
/// *count.get_or_insert_with(|| 0) += 1;
/// assert_eq!(count.read(), Some(&2));
/// assert_eq!(count.take(), Some(2));
/// assert!(count.is_empty());
/// ```
///
/// It serialises as a list of none or one value (`[]`, `[42]`), so that an empty cell and one holding a value
/// written as `null` (`()`, `None`) stay apart.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent, bound(serialize = "T: Serialize", deserialize = "T: Deserialize<'de>"))]
pub struct Value<T>(#[serde(with = "super::zero_or_one")] Option<T>);

impl<T> Value<T> {
    /// The value, or `None` if the cell is empty.
    #[inline]
    pub fn read(&self) -> Option<&T> {
        self.0.as_ref()
    }

    /// The value, mutably, or `None` if the cell is empty.
    #[inline]
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.0.as_mut()
    }

    /// Replaces the value with `value`.
    #[inline]
    pub fn write(&mut self, value: T) {
        self.0 = Some(value);
    }

    /// The value, mutably, after writing `f()` if the cell was empty.
    #[inline]
    pub fn get_or_insert_with(&mut self, f: impl FnOnce() -> T) -> &mut T {
        self.0.get_or_insert_with(f)
    }

    /// Takes the value out, leaving the cell empty.
    #[inline]
    pub fn take(&mut self) -> Option<T> {
        self.0.take()
    }

    /// Empties the cell.
    #[inline]
    pub fn clear(&mut self) {
        self.0 = None;
    }

    /// Whether the cell holds no value.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

impl<T> Default for Value<T> {
    /// An empty cell.
    #[inline]
    fn default() -> Self {
        Value(None)
    }
}

impl<T: Send + 'static> StateCell for Value<T> {
    const KIND: &'static str = "Value";

    #[inline]
    fn clear(&mut self) {
        Value::clear(self);
    }

    #[inline]
    fn is_empty(&self) -> bool {
        Value::is_empty(self)
    }
}
