//! The name of every attribute `#[dofn]` reads, defined once.

use std::fmt;

use syn::{Ident, Path};

/// An attribute name.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) struct Symbol(pub(crate) &'static str);

/// `#[dofn]` itself.
pub(crate) const DOFN: Symbol = Symbol("dofn");

/// `#[state_id("..")]`, on a struct field or a method parameter.
pub(crate) const STATE_ID: Symbol = Symbol("state_id");
/// `#[timer_id("..")]`, on a struct field or a method parameter.
pub(crate) const TIMER_ID: Symbol = Symbol("timer_id");
/// `#[timer_family_id("..")]`, on a struct field or a method parameter.
pub(crate) const TIMER_FAMILY_ID: Symbol = Symbol("timer_family_id");

/// `#[process_element]`.
pub(crate) const PROCESS_ELEMENT: Symbol = Symbol("process_element");
/// `#[on_timer("..")]`.
pub(crate) const ON_TIMER: Symbol = Symbol("on_timer");
/// `#[on_timer_family("..")]`.
pub(crate) const ON_TIMER_FAMILY: Symbol = Symbol("on_timer_family");
/// `#[on_window_expiration]`.
pub(crate) const ON_WINDOW_EXPIRATION: Symbol = Symbol("on_window_expiration");
/// `#[start_bundle]`.
pub(crate) const START_BUNDLE: Symbol = Symbol("start_bundle");
/// `#[finish_bundle]`.
pub(crate) const FINISH_BUNDLE: Symbol = Symbol("finish_bundle");
/// `#[setup]`.
pub(crate) const SETUP: Symbol = Symbol("setup");
/// `#[teardown]`.
pub(crate) const TEARDOWN: Symbol = Symbol("teardown");
/// `#[allowed_timestamp_skew]`.
pub(crate) const ALLOWED_TIMESTAMP_SKEW: Symbol = Symbol("allowed_timestamp_skew");

/// The attributes that go on a parameter (or a struct field).
pub(crate) const ID_ATTRS: [Symbol; 3] = [STATE_ID, TIMER_ID, TIMER_FAMILY_ID];

/// The attributes that go on a method of the impl.
pub(crate) const METHOD_ATTRS: [Symbol; 9] = [
    PROCESS_ELEMENT,
    ON_TIMER,
    ON_TIMER_FAMILY,
    ON_WINDOW_EXPIRATION,
    START_BUNDLE,
    FINISH_BUNDLE,
    SETUP,
    TEARDOWN,
    ALLOWED_TIMESTAMP_SKEW,
];

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for &Ident {
    fn eq(&self, word: &Symbol) -> bool {
        *self == word.0
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// The symbol an attribute path names, if it is one of `candidates`: `state_id`, or `dofn::state_id` (as
/// natural next to `#[dofn::dofn]`), or `::dofn::state_id`.
pub(crate) fn find(path: &Path, candidates: &[Symbol]) -> Option<Symbol> {
    let plain = |i: usize| matches!(path.segments[i].arguments, syn::PathArguments::None);
    let name = match path.segments.len() {
        1 if path.leading_colon.is_none() && plain(0) => &path.segments[0].ident,
        2 if path.segments[0].ident == DOFN && plain(0) && plain(1) => &path.segments[1].ident,
        _ => return None,
    };
    candidates.iter().copied().find(|s| name == s)
}
