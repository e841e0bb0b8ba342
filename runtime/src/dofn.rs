//! The [`DoFn`] trait: what `#[dofn]` implements and what the runner calls.

use std::fmt::Debug;
use std::hash::Hash;

use crate::context::{BundleContext, ExpirationContext, ProcessContext, TimerContext};
use crate::error::BoxError;
use crate::state::StateRecord;
use crate::time::Duration;
use crate::timer::{TimerEnv, TimerInfo, TimerRecord};

/// A DoFn: per-element processing with optional state, timers and lifecycle methods.
///
/// Implemented by `#[dofn]` on the impl block of a `#[dofn]` struct, which checks every id and type and
/// generates the state and timer records it names: implement it that way. Its methods and the types they take
/// (`TimerEnv`, the `State` and `Timers` records) are the interface between that generated code and the
/// runner, and may change with any release; use the trait to name a DoFn in a bound (`F: DoFn`), not to
/// write one by hand. The runner calls these methods with Beam's semantics: see [`runner`](crate::runner).
pub trait DoFn: Clone + Send + 'static {
    /// The input element type: a `(key, value)` pair for a stateful DoFn.
    type Input: Send + 'static;
    /// The main output type.
    type Output: Send + 'static;
    /// The key type of a stateful DoFn (`()` for a stateless one).
    type Key: Hash + Eq + Clone + Debug + Send + 'static;
    /// The DoFn's state cells for one key and window.
    type State: StateRecord;
    /// The DoFn's timers for one key and window.
    type Timers: TimerRecord;

    /// The DoFn's name, for messages.
    const NAME: &'static str;
    /// The declared timers, in declaration order.
    const TIMERS: &'static [TimerInfo] = &[];
    /// The declared timer families, in declaration order.
    const TIMER_FAMILIES: &'static [TimerInfo] = &[];
    /// Whether the DoFn has an `#[on_window_expiration]` method.
    const HAS_WINDOW_EXPIRATION: bool = false;

    /// Whether the DoFn keeps per-key state: it declares state, timers, or a window expiration method.
    fn is_stateful() -> bool {
        !<Self::State as StateRecord>::IDS.is_empty()
            || !Self::TIMERS.is_empty()
            || !Self::TIMER_FAMILIES.is_empty()
            || Self::HAS_WINDOW_EXPIRATION
    }

    /// How much earlier than its input's timestamp an output may be (Beam's `getAllowedTimestampSkew`): the
    /// `#[allowed_timestamp_skew]` method's answer, zero without one.
    fn allowed_timestamp_skew(&self) -> Duration {
        Duration::ZERO
    }

    /// A new state record for a key and window, each cell made by its spec.
    fn new_state(&self) -> Self::State;

    /// The key of an input element (for a stateless DoFn, `&()`).
    fn key_of(input: &Self::Input) -> &Self::Key;

    /// Called once per DoFn instance before any other method (`#[setup]`); after a failure, again before the
    /// next method is called.
    fn setup(&mut self) -> Result<(), BoxError> {
        Ok(())
    }

    /// Called before the first element or timer of a bundle (`#[start_bundle]`).
    fn start_bundle(&mut self) -> Result<(), BoxError> {
        Ok(())
    }

    /// Called for each element (`#[process_element]`).
    fn process_element(
        &mut self,
        cx: &mut ProcessContext<'_, Self::Input, Self::Output>,
        state: &mut Self::State,
        timers: &mut Self::Timers,
        env: &TimerEnv,
    ) -> Result<(), BoxError>;

    /// Called when timer number `timer` (in [`DoFn::TIMERS`] order) fires (`#[on_timer]`).
    fn on_timer(
        &mut self,
        timer: usize,
        cx: &mut TimerContext<'_, Self::Output>,
        key: &Self::Key,
        state: &mut Self::State,
        timers: &mut Self::Timers,
        env: &TimerEnv,
    ) -> Result<(), BoxError> {
        let _ = (timer, cx, key, state, timers, env);
        Ok(())
    }

    /// Called when a timer of family number `family` fires, with its tag (`#[on_timer_family]`).
    #[allow(clippy::too_many_arguments)]
    fn on_timer_family(
        &mut self,
        family: usize,
        tag: &str,
        cx: &mut TimerContext<'_, Self::Output>,
        key: &Self::Key,
        state: &mut Self::State,
        timers: &mut Self::Timers,
        env: &TimerEnv,
    ) -> Result<(), BoxError> {
        let _ = (family, tag, cx, key, state, timers, env);
        Ok(())
    }

    /// Called when a window expires, before its state is cleared (`#[on_window_expiration]`).
    fn on_window_expiration(
        &mut self,
        cx: &mut ExpirationContext<'_, Self::Output>,
        key: &Self::Key,
        state: &mut Self::State,
    ) -> Result<(), BoxError> {
        let _ = (cx, key, state);
        Ok(())
    }

    /// Called after the last element or timer of a bundle (`#[finish_bundle]`).
    fn finish_bundle(&mut self, cx: &mut BundleContext<'_, Self::Output>) -> Result<(), BoxError> {
        let _ = cx;
        Ok(())
    }

    /// Called once when the DoFn instance is discarded (`#[teardown]`).
    fn teardown(&mut self) -> Result<(), BoxError> {
        Ok(())
    }
}

/// An input that carries a key: `(K, V)`. The input of a DoFn with state, timers, `#[on_window_expiration]` or
/// a `Key<&K>` parameter must be one.
#[diagnostic::on_unimplemented(
    message = "a DoFn with state, timers or a `Key` parameter needs keyed input, but its input is `{Self}`",
    label = "not a `(key, value)` pair",
    note = "state and timers are scoped to a key and window, and `Key<&K>` is the element's key: make the \
            input a `(K, V)` tuple"
)]
pub trait KeyedInput {
    /// The key type.
    type Key;
    /// The element's key.
    fn key(&self) -> &Self::Key;
}

// `do_not_recommend`: for unkeyed input, rustc reports the trait's message without pointing here (its note
// says what input is keyed).
#[diagnostic::do_not_recommend]
impl<K, V> KeyedInput for (K, V) {
    type Key = K;
    #[inline]
    fn key(&self) -> &K {
        &self.0
    }
}

/// What a DoFn method may return: `()` or `Result<(), E>` for an error type `E`.
#[diagnostic::on_unimplemented(
    message = "a DoFn method must return `()` or `Result<(), E>`, not `{Self}`",
    label = "return type not allowed",
    note = "the error type `E` must convert into `Box<dyn std::error::Error + Send + Sync>` (e.g. `String`, `std::io::Error`)"
)]
pub trait CallbackResult {
    /// Turns the method's return into the runner's result.
    fn into_result(self) -> Result<(), BoxError>;
}

// `do_not_recommend`: for another return type, rustc reports the trait's message without pointing here.
#[diagnostic::do_not_recommend]
impl CallbackResult for () {
    #[inline]
    fn into_result(self) -> Result<(), BoxError> {
        Ok(())
    }
}

// `do_not_recommend`: for an error type that does not convert (`Box<dyn Error>`, not `Send`), rustc reports the
// trait's message rather than each unmet bound of the conversion.
#[diagnostic::do_not_recommend]
impl<E: Into<BoxError>> CallbackResult for Result<(), E> {
    #[inline]
    fn into_result(self) -> Result<(), BoxError> {
        self.map_err(Into::into)
    }
}
