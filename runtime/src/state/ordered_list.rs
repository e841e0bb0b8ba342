//! [`OrderedList`]: values sorted by event timestamp (Beam's `OrderedListState`).

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::StateCell;
use crate::time::Instant;

/// A cell holding timestamped values, read in timestamp order (Beam's `OrderedListState`).
///
/// Values with equal timestamps read in the order they were added. Ranges are half-open, `[min, limit)`, as
/// in Beam. The serialised form is the sequence of `(timestamp, value)` pairs in reading order.
///
/// ```
/// use dofn::state::OrderedList;
/// use dofn::time::Instant;
/// let t = Instant::from_millis;
/// let mut rides = OrderedList::default();
/// rides.add(t(20), "dropoff");
/// rides.add(t(10), "pickup");
/// rides.add(t(15), "enroute");
/// let in_order: Vec<_> = rides.read().map(|(_, v)| *v).collect();
/// assert_eq!(in_order, ["pickup", "enroute", "dropoff"]);
/// assert_eq!(rides.read_range(t(10), t(20)).count(), 2);
/// rides.clear_range(t(0), t(16));
/// assert_eq!(rides.read().collect::<Vec<_>>(), [(t(20), &"dropoff")]);
/// assert_eq!(rides.take(), [(t(20), "dropoff")]);
/// assert!(rides.is_empty());
/// ```
#[derive(Clone)]
pub struct OrderedList<T> {
    /// Keyed by timestamp, then by a sequence number that keeps equal timestamps in insertion order.
    values: BTreeMap<(Instant, u64), T>,
    /// The sequence number of the next value added.
    next_seq: u64,
}

impl<T> OrderedList<T> {
    /// Adds `value` at `timestamp`, after any value already at `timestamp`.
    #[inline]
    pub fn add(&mut self, timestamp: Instant, value: T) {
        self.values.insert((timestamp, self.next_seq), value);
        self.next_seq = self.next_seq.wrapping_add(1);
    }

    /// Every value with its timestamp, in timestamp order (equal timestamps in the order they were added).
    #[inline]
    pub fn read(&self) -> impl DoubleEndedIterator<Item = (Instant, &T)> + ExactSizeIterator {
        self.values.iter().map(|(&(ts, _), v)| (ts, v))
    }

    /// The values with timestamps in `[min, limit)`, in order; nothing if `limit <= min`.
    #[inline]
    pub fn read_range(&self, min: Instant, limit: Instant) -> impl DoubleEndedIterator<Item = (Instant, &T)> {
        // `(t, 0)` sorts before every value at `t`, so this is exactly the timestamps in `[min, limit)`.
        let limit = limit.max(min);
        self.values.range((min, 0)..(limit, 0)).map(|(&(ts, _), v)| (ts, v))
    }

    /// Removes the values with timestamps in `[min, limit)`; nothing if `limit <= min`.
    ///
    /// Clearing a prefix or a suffix of the list costs time in the number of values removed, not kept.
    pub fn clear_range(&mut self, min: Instant, limit: Instant) {
        if limit <= min {
            return;
        }
        let mut from_min = self.values.split_off(&(min, 0));
        let mut from_limit = from_min.split_off(&(limit, 0));
        // Appending to an empty map swaps; appending an empty map is a no-op.
        self.values.append(&mut from_limit);
        if self.values.is_empty() {
            self.next_seq = 0;
        }
    }

    /// The number of values.
    #[inline]
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the list holds no value.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Removes every value.
    #[inline]
    pub fn clear(&mut self) {
        self.values.clear();
        self.next_seq = 0;
    }

    /// Takes every value out with its timestamp, in timestamp order (as [`OrderedList::read`]), leaving the
    /// list empty: the way to flush a list without cloning its values.
    pub fn take(&mut self) -> Vec<(Instant, T)> {
        self.next_seq = 0;
        std::mem::take(&mut self.values).into_iter().map(|((ts, _), v)| (ts, v)).collect()
    }
}

impl<T> Default for OrderedList<T> {
    /// An empty list.
    #[inline]
    fn default() -> Self {
        OrderedList { values: BTreeMap::new(), next_seq: 0 }
    }
}

impl<T: fmt::Debug> fmt::Debug for OrderedList<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OrderedList ")?;
        f.debug_list().entries(self.read()).finish()
    }
}

impl<T: Send + 'static> StateCell for OrderedList<T> {
    const KIND: &'static str = "OrderedList";

    #[inline]
    fn clear(&mut self) {
        OrderedList::clear(self);
    }

    #[inline]
    fn is_empty(&self) -> bool {
        OrderedList::is_empty(self)
    }
}

impl<T: Serialize> Serialize for OrderedList<T> {
    /// The `(timestamp, value)` pairs, in reading order.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.read())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OrderedList<T> {
    /// Adds the `(timestamp, value)` pairs in the order given, so equal timestamps keep their order.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor<T>(PhantomData<fn() -> T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for PairsVisitor<T> {
            type Value = OrderedList<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence of (timestamp, value) pairs")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OrderedList<T>, A::Error> {
                let mut list = OrderedList::default();
                while let Some((timestamp, value)) = seq.next_element::<(Instant, T)>()? {
                    list.add(timestamp, value);
                }
                Ok(list)
            }
        }

        deserializer.deserialize_seq(PairsVisitor(PhantomData))
    }
}
