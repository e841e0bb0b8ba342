//! State cells, scoped to one key and window.
//!
//! A DoFn declares its cells as fields of type [`StateSpec<C>`] marked `#[state_id("..")]`; its methods then
//! take `&mut C` parameters marked with the same id. Each cell kind lives in its own module:
//!
//! | cell | Beam | what it holds |
//! |---|---|---|
//! | [`Value<T>`] | `ValueState` | one value, or nothing |
//! | [`Bag<T>`] | `BagState` | an unordered collection, cheap to append to |
//! | [`Combining<F>`] | `CombiningState` | an accumulator of a [`CombineFn`] |
//! | [`Map<K, V>`] | `MapState` | a map from keys to values |
//! | [`Set<T>`] | `SetState` | a set of values |
//! | [`OrderedList<T>`] | `OrderedListState` | values sorted by timestamp |
//! | [`Multimap<K, V>`] | `MultimapState` | a map from keys to several values |
//!
//! Reads reflect every earlier write to the same key and window, including writes made earlier in the same
//! call. The in-memory runner keeps values as they are (they need only be `Send`); a durable or remote state
//! store would need them serde-serialisable, so values that are make a DoFn ready for one.
//!
//! # Iteration order
//!
//! The hash-based cells ([`Map`], [`Set`], [`Multimap`]) iterate in an unspecified order, but a reproducible
//! one: it depends only on the values and the operations made on the cell, so a program that fills a cell the
//! same way iterates it the same way in every run, and outputs made while iterating come out in the same
//! order (the determinism a run promises). The order may differ between platforms and between versions of
//! dofn or its dependencies; sort the values where an order matters.

mod bag;
mod combining;
mod map;
mod multimap;
mod ordered_list;
mod set;
mod value;

use std::fmt;
use std::marker::PhantomData;

pub use bag::Bag;
pub use combining::{CombineFn, Combining, Count, DefaultCombineFn, Max, Mean, MeanAccumulator, Min, Sum};
pub use map::Map;
pub use multimap::Multimap;
pub use ordered_list::OrderedList;
pub use set::Set;
pub use value::Value;

/// The bound on lookup keys of [`Map`], [`Set`] and [`Multimap`] (hashbrown's): a `&Q` finds an entry whose
/// key is equivalent to it, so `map.get("ann")` works on a `Map<String, _>`. Every `Q` with `K: Borrow<Q>`
/// has it; implement it to look up by another type without depending on hashbrown.
pub use hashbrown::Equivalent;

/// The hasher of the hash-based cells: foldhash with a fixed seed, so that a cell's iteration order is the same
/// in every run. (hashbrown's default hasher is seeded at random per process and per table, which changes the
/// order from run to run.) A fixed seed gives up hashbrown's protection against keys chosen to collide, which
/// matters only for cells that hold keys an adversary picks.
type CellHasher = foldhash::fast::FixedState;

/// serde for a cell's `Option`, as a sequence of none or one element (`[]`, `[x]`). serde's own form of an
/// `Option` (`null` for `None`, `x` for `Some(x)`) cannot tell `None` from a `Some(x)` whose `x` is written as
/// `null` too (`()`, a `None`, a float JSON cannot hold), and such a value came back as an empty cell.
mod zero_or_one {
    use std::fmt;
    use std::marker::PhantomData;

    use serde::de::{IgnoredAny, SeqAccess, Visitor};
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<T: Serialize, S: Serializer>(value: &Option<T>, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(usize::from(value.is_some())))?;
        if let Some(x) = value {
            seq.serialize_element(x)?;
        }
        seq.end()
    }

    pub(super) fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        struct ZeroOrOne<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ZeroOrOne<T> {
            type Value = Option<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of zero or one value")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<T>, A::Error> {
                let value = seq.next_element()?;
                if value.is_some() && seq.next_element::<IgnoredAny>()?.is_some() {
                    return Err(serde::de::Error::invalid_length(2, &self));
                }
                Ok(value)
            }
        }

        deserializer.deserialize_seq(ZeroOrOne(PhantomData))
    }
}

/// A kind of state cell: what a `#[state_id]` field's [`StateSpec`] names.
///
/// Every cell starts empty ([`Default`]), can be cleared, and serialises with serde.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a dofn state cell",
    label = "not a state cell",
    note = "state cells are `Value<T>`, `Bag<T>`, `Combining<F>`, `Map<K, V>`, `Set<T>`, `OrderedList<T>` and `Multimap<K, V>` from `dofn::state`"
)]
pub trait StateCell: Default + Send + 'static {
    /// The cell kind's name as users write it (`"Value"`, `"Bag"`, ...), for messages.
    const KIND: &'static str;
    /// Empties the cell.
    fn clear(&mut self);
    /// Whether the cell holds nothing.
    fn is_empty(&self) -> bool;
}

/// The declaration of a state cell of kind `C`: the type of a `#[state_id("..")]` field.
///
/// It holds no data (the cells themselves live in the runner, one per key and window); build it with
/// [`StateSpec::new`] or [`Default`].
///
/// ```
/// use dofn::state::{Bag, StateSpec};
/// let spec: StateSpec<Bag<String>> = StateSpec::new();
/// # let _ = spec;
/// ```
// No bound on the struct itself: `#[dofn]` reports a spec of a non-cell once, on the field's type, instead of
// every impl the user derives reporting it again.
pub struct StateSpec<C>(PhantomData<fn() -> C>);

impl<C: StateCell> StateSpec<C> {
    /// The declaration (it carries no data).
    pub const fn new() -> Self {
        StateSpec(PhantomData)
    }
}

// Unbounded, like `Clone`: a user's `#[derive(Default)]` does not repeat `#[dofn]`'s error for a non-cell.
impl<C> Default for StateSpec<C> {
    fn default() -> Self {
        StateSpec(PhantomData)
    }
}

impl<C> Clone for StateSpec<C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C> Copy for StateSpec<C> {}

impl<C: StateCell> fmt::Debug for StateSpec<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StateSpec<{}>", C::KIND)
    }
}

/// All the cells of one DoFn for one key and window. `#[dofn]` generates the implementation: one field per
/// `#[state_id]`, in declaration order.
pub trait StateRecord: Default + Send + 'static {
    /// The ids of the cells, in declaration order.
    const IDS: &'static [&'static str];
    /// Empties every cell.
    fn clear(&mut self);
    /// Whether every cell is empty.
    fn is_empty(&self) -> bool;
}

/// The state record of a DoFn without state.
impl StateRecord for () {
    const IDS: &'static [&'static str] = &[];
    fn clear(&mut self) {}
    fn is_empty(&self) -> bool {
        true
    }
}
