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
use std::sync::Arc;

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
/// Every cell starts empty (made by its [`StateSpec`]), can be cleared, and serialises with serde.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a dofn state cell",
    label = "not a state cell",
    note = "state cells are `Value<T>`, `Bag<T>`, `Combining<F>`, `Map<K, V>`, `Set<T>`, `OrderedList<T>` and `Multimap<K, V>` from `dofn::state`"
)]
pub trait StateCell: Send + 'static {
    /// The cell kind's name as users write it (`"Value"`, `"Bag"`, ...), for messages.
    const KIND: &'static str;
    /// Empties the cell.
    fn clear(&mut self);
    /// Whether the cell holds nothing.
    fn is_empty(&self) -> bool;
}

/// The declaration of a state cell of kind `C`: the type of a `#[state_id("..")]` field.
///
/// The cells themselves live in the runner, one per key and window, each made by the spec when the key and
/// window first need one: empty, with [`Default`], for a spec built with [`StateSpec::new`] or [`Default`];
/// with a configured combine function for one built with [`StateSpec::combining`].
///
/// ```
/// use dofn::state::{Bag, StateSpec};
/// let spec: StateSpec<Bag<String>> = StateSpec::new();
/// # let _ = spec;
/// ```
// No bound on the struct itself: `#[dofn]` reports a spec of a non-cell once, on the field's type, instead of
// every impl the user derives reporting it again.
pub struct StateSpec<C>(Make<C>);

/// How a spec makes its cells.
enum Make<C> {
    /// `C::default`.
    Default(fn() -> C),
    /// A closure that holds what it makes the cells with (a combine function).
    With(Arc<dyn Fn() -> C + Send + Sync>),
}

impl<C: Default> StateSpec<C> {
    /// The declaration of a cell that starts empty, made with [`Default`].
    pub const fn new() -> Self {
        StateSpec(Make::Default(C::default))
    }
}

impl<F> StateSpec<Combining<F>>
where
    F: CombineFn + Clone + Send + Sync + 'static,
{
    /// The declaration of a [`Combining`] cell whose every key and window combines with a copy of
    /// `combine_fn` (Beam's `StateSpecs.combining(combineFn)`): a function with parameters, chosen when the
    /// DoFn is built. The function needs no [`Default`]; each cell holds its own copy, so keep it cheap to
    /// clone (an `Arc` around large parameters).
    ///
    /// The function is part of the declaration, not of the cell's contents: a serialised `Combining` holds
    /// its accumulator alone, and deserialising one makes its function with [`Default`]. A store that keeps
    /// cells serialised must give a cell read back the function of its spec.
    ///
    /// ```
    /// use dofn::prelude::*;
    /// use dofn::state::CombineFn;
    ///
    /// /// The `n` largest inputs, largest first.
    /// #[derive(Clone)]
    /// struct Largest {
    ///     n: usize,
    /// }
    ///
    /// impl CombineFn for Largest {
    ///     type Input = u64;
    ///     type Accum = Vec<u64>;
    ///     type Output = Vec<u64>;
    ///     fn create_accumulator(&self) -> Vec<u64> {
    ///         Vec::new()
    ///     }
    ///     fn add_input(&self, acc: &mut Vec<u64>, input: u64) {
    ///         let at = acc.partition_point(|&x| x >= input);
    ///         acc.insert(at, input);
    ///         acc.truncate(self.n);
    ///     }
    ///     fn merge_accumulators(&self, accs: impl IntoIterator<Item = Vec<u64>>) -> Vec<u64> {
    ///         let mut merged = Vec::new();
    ///         for acc in accs {
    ///             for x in acc {
    ///                 self.add_input(&mut merged, x);
    ///             }
    ///         }
    ///         merged
    ///     }
    ///     fn extract_output(&self, acc: &Vec<u64>) -> Vec<u64> {
    ///         acc.clone()
    ///     }
    /// }
    ///
    /// #[dofn]
    /// #[derive(Clone)]
    /// struct TopScores {
    ///     #[state_id("top")]
    ///     top: StateSpec<Combining<Largest>>,
    /// }
    ///
    /// #[dofn]
    /// impl TopScores {
    ///     #[process_element]
    ///     fn process(
    ///         &self,
    ///         cx: &mut ProcessContext<(&'static str, u64), Vec<u64>>,
    ///         #[state_id("top")] top: &mut Combining<Largest>,
    ///     ) {
    ///         top.add(*cx.value());
    ///         cx.output(top.read());
    ///     }
    /// }
    ///
    /// # fn main() -> Result<(), dofn::Error> {
    /// let top_two = TopScores { top: StateSpec::combining(Largest { n: 2 }) };
    /// let scores = [3, 9, 7, 5].map(|score| (("ann", score), Instant::EPOCH));
    /// let result = Pipeline::from_values(scores).apply(top_two).run()?;
    /// let tops: Vec<&Vec<u64>> = result.values().collect();
    /// assert_eq!(tops, [&vec![3], &vec![9, 3], &vec![9, 7], &vec![9, 7]]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn combining(combine_fn: F) -> Self {
        StateSpec(Make::With(Arc::new(move || Combining::with_fn(combine_fn.clone()))))
    }
}

impl<C> StateSpec<C> {
    /// A new empty cell, as the runner makes one for a key and window.
    pub fn new_cell(&self) -> C {
        match &self.0 {
            Make::Default(make) => make(),
            Make::With(make) => make(),
        }
    }
}

// Bounded by `Default` alone, as `StateSpec::new`: a user's `#[derive(Default)]` does not repeat `#[dofn]`'s
// error for a non-cell unless that type has no `Default` either.
impl<C: Default> Default for StateSpec<C> {
    fn default() -> Self {
        StateSpec::new()
    }
}

// Unbounded: a spec is cloned with the DoFn, whatever its cells hold.
impl<C> Clone for StateSpec<C> {
    fn clone(&self) -> Self {
        StateSpec(match &self.0 {
            Make::Default(make) => Make::Default(*make),
            Make::With(make) => Make::With(Arc::clone(make)),
        })
    }
}

impl<C: StateCell> fmt::Debug for StateSpec<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Make::Default(_) => write!(f, "StateSpec<{}>", C::KIND),
            Make::With(_) => write!(f, "StateSpec<{}>(configured)", C::KIND),
        }
    }
}

/// All the cells of one DoFn for one key and window. `#[dofn]` generates the implementation: one field per
/// `#[state_id]`, in declaration order.
pub trait StateRecord: Send + 'static {
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
