//! The traits `#[dofn]` generates impls of, so that the struct's declarations reach the impl's wiring.
//!
//! `#[dofn]` on a struct implements [`Declared`] (the state record, the timer table, the timer infos) and one
//! [`StateDecl<I>`] per state cell (its declared type). `#[dofn]` on the impl names them through the struct's
//! type (`<BatchedRpc as Declared>::State`), which works wherever the impl is, even in another module where
//! the struct's field types are not imported. Re-exported from `__private`: not a public API.

use crate::timer::{TimerInfo, TimerRecord};

/// A struct with `#[dofn]` (implemented with no bounds, so that an impl's `#[dofn]` can check it before
/// anything else: a struct without `#[dofn]` gets this error besides rustc's "cannot find macro").
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a DoFn struct: its struct has no `#[dofn]`",
    label = "the impl's `#[dofn]` needs the struct's declarations",
    note = "put `#[dofn]` on the struct too"
)]
pub trait DofnStruct {}

/// What a `#[dofn]` struct declares, as types and constants.
///
/// Implemented whether or not the declared cells are valid (the state record is a `StateRecord` only if they
/// are), so that the impl's wiring still names the record's fields when one is not: the struct's error about
/// the cell is then the only one.
pub trait Declared {
    /// One cell per `#[state_id]` field, in declaration order (`()` without state).
    type State;
    /// The `#[timer_id]` and `#[timer_family_id]` fields: a `TimerTable<N, F>`.
    type Timers: TimerRecord;
    /// The `#[timer_id]` fields, in declaration order.
    const TIMERS: &'static [TimerInfo];
    /// The `#[timer_family_id]` fields, in declaration order.
    const TIMER_FAMILIES: &'static [TimerInfo];

    /// Reads the spec fields, so that rustc does not report them as never read: they are declarations, and
    /// the wiring only uses their types.
    fn specs(&self);

    /// A new state record, each cell made by its spec ([`StateSpec::new_cell`](crate::state::StateSpec::new_cell)).
    fn new_state(&self) -> Self::State;
}

/// The declared type of state cell number `I` (in declaration order): `Cell` in `StateSpec<Cell>`, whether or
/// not it is a valid cell (see [`Declared`]).
pub trait StateDecl<const I: usize> {
    /// The cell type.
    type Cell;
}

/// `T: Same<U>` holds only where `T` is `U`: the generated parameter checks implement their trait for every
/// type that is the expected one, instead of for the expected type itself, so that rustc, when the check
/// fails, does not point into the expansion at an impl "for a similar type".
pub trait Same<U: ?Sized> {
    /// `value`, as `Self`.
    fn same(value: U) -> Self
    where
        U: Sized,
        Self: Sized;
    /// `value`, as `&mut Self`.
    fn same_mut(value: &mut U) -> &mut Self;
    /// `value`, as `&Self`.
    fn same_ref(value: &U) -> &Self;
    /// `self`, as `U`.
    fn into_same(self) -> U
    where
        U: Sized,
        Self: Sized;
}

impl<U: ?Sized> Same<U> for U {
    #[inline(always)]
    fn same(value: U) -> U
    where
        U: Sized,
    {
        value
    }

    #[inline(always)]
    fn same_mut(value: &mut U) -> &mut U {
        value
    }

    #[inline(always)]
    fn same_ref(value: &U) -> &U {
        value
    }

    #[inline(always)]
    fn into_same(self) -> U
    where
        U: Sized,
    {
        self
    }
}
