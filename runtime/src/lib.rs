//! # dofn
//!
//! Apache Beam–style **stateful, timely DoFns** in Rust, written declaratively and checked at compile time.
//!
//! A DoFn is a struct whose fields declare state cells (`#[state_id("..")]`) and timers (`#[timer_id("..")]`),
//! and an impl whose methods process elements (`#[process_element]`) and handle timers (`#[on_timer("..")]`).
//! `#[dofn]` on both wires every parameter to its cell and rejects duplicate, unknown or mistyped ids when the
//! program compiles. The [`runner`] runs DoFns with Beam's semantics: state and timers per key and window,
//! event-time timers driven by the watermark, processing-time timers by the clock, window expiry clearing
//! state; [`testing`] drives a run step by step, like Beam's `TestStream`.
//!
//! ```
//! use dofn::prelude::*;
//!
//! /// Numbers each user's events, per window, and reports the total when the window closes.
//! #[dofn]
//! #[derive(Clone, Default)]
//! struct CountPerUser {
//!     #[state_id("count")]
//!     count: StateSpec<Value<u64>>,
//!     #[timer_id("end")]
//!     end: TimerSpec<EventTime>,
//! }
//!
//! #[dofn]
//! impl CountPerUser {
//!     #[process_element]
//!     fn process(
//!         &self,
//!         cx: &mut ProcessContext<(String, u32), String>,
//!         #[state_id("count")] count: &mut Value<u64>,
//!         #[timer_id("end")] end: &mut Timer,
//!     ) {
//!         let n = count.read().copied().unwrap_or(0) + 1;
//!         count.write(n);
//!         end.set(cx.window().max_timestamp());
//!         cx.output(format!("{} #{n}", cx.key()));
//!     }
//!
//!     #[on_timer("end")]
//!     fn on_end(
//!         &self,
//!         cx: &mut TimerContext<String>,
//!         Key(user): Key<&String>,
//!         #[state_id("count")] count: &mut Value<u64>,
//!     ) {
//!         cx.output(format!("{user}: {} events", count.read().copied().unwrap_or(0)));
//!     }
//! }
//!
//! let out = Pipeline::from_values([
//!         (("ann".to_string(), 1), Instant::from_secs(1)),
//!         (("bob".to_string(), 2), Instant::from_secs(2)),
//!         (("ann".to_string(), 3), Instant::from_secs(3)),
//!     ])
//!     .window_into(WindowFn::fixed(Duration::from_secs(60)))
//!     .with_workers(1) // one worker: outputs in processing order
//!     .apply(CountPerUser::default())
//!     .run()
//!     .expect("the run succeeds");
//! let values: Vec<&str> = out.values().map(String::as_str).collect();
//! assert_eq!(values, ["ann #1", "bob #1", "ann #2", "ann: 2 events", "bob: 1 events"]);
//! ```

#![warn(missing_docs)]

pub mod context;
pub mod dofn;
pub mod error;
pub mod metrics;
mod private;
pub mod runner;
pub mod state;
pub mod testing;
pub mod time;
pub mod timer;
pub mod window;

pub use crate::context::{
    BundleContext, Element, ExpirationContext, Key, OutputTag, ProcessContext, TimerContext, TimerTag, Timestamp,
    TimestampedValue, WindowedValue,
};
pub use crate::dofn::{CallbackResult, DoFn, KeyedInput};
pub use crate::error::{BoxError, Error, TimerError};
pub use crate::runner::Pipeline;
pub use dofn_macros::dofn;
// The role attributes of a `#[dofn]` impl's methods: `#[dofn]` consumes them, so that they expand only where
// the impl has no `#[dofn]`, to say so.
#[doc(hidden)]
pub use dofn_macros::{
    allowed_timestamp_skew, finish_bundle, on_timer, on_timer_family, on_window_expiration, process_element, setup,
    start_bundle, teardown,
};

/// Everything a DoFn author usually needs, in one import: `use dofn::prelude::*;`.
pub mod prelude {
    pub use crate::context::{
        BundleContext, Element, ExpirationContext, Key, OutputTag, ProcessContext, TimerContext, TimerTag, Timestamp,
        TimestampedValue, WindowedValue,
    };
    pub use crate::dofn::DoFn;
    pub use crate::error::{BoxError, Error};
    pub use crate::runner::{Metrics, Pipeline, PipelineResult};
    pub use crate::state::{
        Bag, CombineFn, Combining, Count, Map, Max, Mean, Min, Multimap, OrderedList, Set, StateSpec, Sum, Value,
    };
    pub use crate::testing::TestStream;
    pub use crate::time::{Duration, Instant};
    pub use crate::timer::{EventTime, ProcessingTime, TimeDomain, Timer, TimerFamilySpec, TimerMap, TimerSpec};
    pub use crate::window::{Window, WindowFn, WindowingStrategy};
    pub use dofn_macros::dofn;
    #[doc(hidden)]
    pub use dofn_macros::{
        allowed_timestamp_skew, finish_bundle, on_timer, on_timer_family, on_window_expiration, process_element, setup,
        start_bundle, teardown,
    };
}

/// Support for the code `#[dofn]` generates. Not a public API: it may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::context::Outputs;
    pub use crate::dofn::{CallbackResult, KeyedInput};
    pub use crate::private::{Declared, DofnStruct, Same, StateDecl};
    pub use crate::state::{StateCell, StateRecord};
    pub use crate::timer::{TimerEnv, TimerFamily, TimerInfo, TimerRecord, TimerSlot, TimerTable};
    pub use dofn_macros::{__DofnAttributes, __dofn_impl};
    pub use serde;
    pub use std::default::Default;
    pub use std::result::Result;
}
