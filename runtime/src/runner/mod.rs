//! Running DoFns: a [`Pipeline`] of a source, windowing, and DoFns in a chain.
//!
//! The runner honours Beam's semantics for stateful, timely processing:
//!
//! - Elements are processed in the order the source gives them. A stateful DoFn's cells and timers are scoped
//!   to the element's key and window; a new (key, window) starts with empty cells.
//! - The *input watermark* of a DoFn is its source's watermark, or the *output watermark* of the DoFn before
//!   it. A DoFn's output watermark is its input watermark held back by the output timestamps of its pending
//!   timers and, if it has `#[on_window_expiration]`, by the max timestamp of the first window still to
//!   expire (where that callback's outputs go), so downstream never sees an element as late because a timer
//!   or an expiration upstream has yet to run. It never moves back: a hold set behind it does not hold it.
//! - An event-time timer fires once the input watermark is past its time; a processing-time timer once the
//!   processing clock reaches it. For one key and window, timers fire in time order, including timers set by
//!   a callback to a time before others already pending. Timers of one key and window due at the same time
//!   fire in an order that depends only on the input (the same in every run, for any number of workers), and
//!   is not otherwise specified: a DoFn that needs one order sets them to different times. A timer set to a
//!   time the watermark or clock has already passed fires at the next advance, even one that leaves the
//!   watermark where it was: at the end of the step in which an element set it, in the same advance if a
//!   callback set it (as in Beam), in either domain. An advance fires the processing-time timers due first,
//!   then the event-time ones and window expiries in time order; a processing-time timer that an event-time
//!   callback sets for the current clock fires right after that callback, before its window can expire.
//! - A window expires when the input watermark passes its garbage-collection time (its max timestamp plus
//!   the allowed lateness). Timers at or before that time fire first; then `#[on_window_expiration]` runs for
//!   each key with state in the window, and every cell and timer of that key and window is cleared. Elements
//!   of an expired window are dropped and counted in [`Metrics::late_elements_dropped`]; processing-time
//!   timers of an expired window are dropped and counted in [`Metrics::timers_dropped`].
//! - When the input ends, the watermark advances to the end of time: every window expires.
//! - Time by source: bounded input ([`Pipeline::from_values`]) does not move the watermark or the clock
//!   until it ends (as Beam's batch mode), so processing-time timers do not fire there; a test stream moves
//!   them as scripted, each advance after the elements before it; a live source
//!   ([`Pipeline::from_channel`], [`Pipeline::from_lines`]) reads the wall clock every tick and whenever
//!   elements arrive, fires the processing-time timers due by then, then processes the elements at that time.
//! - Each step of the input (a batch of elements, with the watermark or clock advance that follows it in a
//!   test stream; or an advance alone) is one bundle, on each worker that runs a share of it:
//!   `#[start_bundle]` runs before its first callback and `#[finish_bundle]` after its last.
//!   `#[setup]` runs before the first bundle (again before the next, if it failed), `#[teardown]` once at
//!   the end, also after a failure.
//! - A callback that fails (returns an error, sets an invalid timer, outputs at an invalid timestamp, or
//!   panics) ends the run with an [`Error`](crate::Error) naming the DoFn, method, key, window and times. Its
//!   bundle is abandoned, as Beam abandons one: `#[finish_bundle]` is not called, and the bundle's outputs
//!   (main and tagged) are dropped and not counted. After a panic the DoFn runs nothing more, not even
//!   `#[teardown]`.
//! - Stored input (values, a test stream) gives the same outputs per key and window for any number of
//!   workers, and in the same order on every run with the same number ([`Pipeline::with_workers`];
//!   [`PipelineResult::sorted`] for a view that does not depend on it). A live source's outputs depend on
//!   when its elements arrive.

mod backend;
mod executor;
mod index;
mod outputs;
mod pipeline;
mod queue;
mod sharded;
mod split;

pub use crate::metrics::Metrics;
// The state backend is internal for now: no public API takes a backend, and `RecordId` cannot be made
// outside the crate. It stays reachable (hidden) for the `state_table` benchmark.
#[doc(hidden)]
pub use backend::{InMemoryBackend, RecordId, RecordMut, StateBackend};
pub use outputs::{MainOutputs, OutputsIter};
pub use pipeline::{MAX_WORKERS, Pipeline, PipelineResult};

pub(crate) use executor::Executor;
pub(crate) use pipeline::{scripted_clock, scripted_elements, scripted_watermark};

#[cfg(test)]
mod tests;
