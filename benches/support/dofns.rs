//! The DoFns of the workloads, written against the runtime's `DoFn` trait by hand.
//!
//! They are what `#[dofn]` generates for the declarations shown above each one (one state struct with a
//! field per `#[state_id]`, a `TimerTable` with a slot per `#[timer_id]`, a `Timer` handle built per call):
//! when these benches were written the macro crate was still a stub, so the benches cannot use it yet.

use dofn::context::{ExpirationContext, ProcessContext, TimerContext};
use dofn::dofn::DoFn;
use dofn::error::BoxError;
use dofn::state::{Bag, StateRecord, Value};
use dofn::time::Duration;
use dofn::timer::{TimeDomain, Timer, TimerEnv, TimerInfo, TimerTable};

// ---------------------------------------------------------------------------------------------------------
// W1: a counter per key.
//
// #[dofn] struct Counter { #[state_id("count")] count: StateSpec<Value<u64>> }
// #[process_element] fn process(&self, cx: &mut ProcessContext<(u64, u64), u64>,
//                               #[state_id("count")] count: &mut Value<u64>) {
//     let n = count.read().copied().unwrap_or(0) + 1;
//     count.write(n);
//     cx.output(n);
// }

/// The cells of [`Counter`] and [`WindowCount`].
#[derive(Default)]
pub struct CountState {
    count: Value<u64>,
}

impl StateRecord for CountState {
    const IDS: &'static [&'static str] = &["count"];
    fn clear(&mut self) {
        self.count.clear();
    }
    fn is_empty(&self) -> bool {
        self.count.is_empty()
    }
}

/// W1: counts the elements of each key and outputs the running count with each element.
#[derive(Clone, Default)]
pub struct Counter;

impl DoFn for Counter {
    type Input = (u64, u64);
    type Output = u64;
    type Key = u64;
    type State = CountState;
    type Timers = TimerTable<0, 0>;
    const NAME: &'static str = "Counter";

    #[inline]
    fn key_of(input: &(u64, u64)) -> &u64 {
        &input.0
    }

    #[inline]
    fn process_element(
        &mut self,
        cx: &mut ProcessContext<'_, (u64, u64), u64>,
        state: &mut CountState,
        _timers: &mut TimerTable<0, 0>,
        _env: &TimerEnv,
    ) -> Result<(), BoxError> {
        let n = state.count.read().copied().unwrap_or(0) + 1;
        state.count.write(n);
        cx.output(n);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------------------
// W2: a bag and an event-time timer reset with every element.
//
// #[dofn] struct BagTimer { #[state_id("bag")] bag: StateSpec<Bag<u64>>,
//                           #[timer_id("flush")] flush: TimerSpec<EventTime> }
// #[process_element] fn process(&self, cx: &mut ProcessContext<(u64, u64), u64>,
//                               #[state_id("bag")] bag: &mut Bag<u64>, #[timer_id("flush")] flush: &mut Timer) {
//     bag.add(*cx.value());
//     flush.set(cx.timestamp() + Duration::from_millis(10));
// }
// #[on_timer("flush")] fn on_flush(&self, cx: &mut TimerContext<u64>, #[state_id("bag")] bag: &mut Bag<u64>) {
//     cx.output(bag.read().sum());
//     bag.clear();
// }

/// The cells of [`BagTimer`].
#[derive(Default)]
pub struct BagState {
    bag: Bag<u64>,
}

impl StateRecord for BagState {
    const IDS: &'static [&'static str] = &["bag"];
    fn clear(&mut self) {
        self.bag.clear();
    }
    fn is_empty(&self) -> bool {
        self.bag.is_empty()
    }
}

/// How far after an element's timestamp W2's timer is set.
pub const W2_DELAY: Duration = Duration::from_millis(10);

/// W2: adds each value to a bag and resets an event-time timer to 10 ms after it; the timer outputs the sum.
#[derive(Clone, Default)]
pub struct BagTimer;

impl DoFn for BagTimer {
    type Input = (u64, u64);
    type Output = u64;
    type Key = u64;
    type State = BagState;
    type Timers = TimerTable<1, 0>;
    const NAME: &'static str = "BagTimer";
    const TIMERS: &'static [TimerInfo] = &[TimerInfo { id: "flush", domain: TimeDomain::EventTime }];

    #[inline]
    fn key_of(input: &(u64, u64)) -> &u64 {
        &input.0
    }

    #[inline]
    fn process_element(
        &mut self,
        cx: &mut ProcessContext<'_, (u64, u64), u64>,
        state: &mut BagState,
        timers: &mut TimerTable<1, 0>,
        env: &TimerEnv,
    ) -> Result<(), BoxError> {
        state.bag.add(*cx.value());
        let [flush] = &mut timers.timers;
        Timer::new(flush, TimeDomain::EventTime, env).set(cx.timestamp() + W2_DELAY);
        Ok(())
    }

    fn on_timer(
        &mut self,
        _timer: usize,
        cx: &mut TimerContext<'_, u64>,
        _key: &u64,
        state: &mut BagState,
        _timers: &mut TimerTable<1, 0>,
        _env: &TimerEnv,
    ) -> Result<(), BoxError> {
        cx.output(state.bag.read().sum());
        state.bag.clear();
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------------------
// W3: the batched RPC DoFn of DESIGN.md.
//
// #[dofn] struct BatchedRpc { max_buffer_size: u32,
//     #[state_id("buffer")] buffer: StateSpec<Bag<Event>>, #[state_id("count")] count: StateSpec<Value<u32>>,
//     #[timer_id("expiry")] expiry: TimerSpec<EventTime>, #[timer_id("stale")] stale: TimerSpec<ProcessingTime> }
// #[process_element] fn process(&self, cx: &mut ProcessContext<(u64, Event), Enriched>, buffer, count, expiry, stale) {
//     buffer.add(*event); let n = count + 1; count.write(n);
//     expiry.set(cx.window().max_timestamp());
//     if n == 1 { stale.set(cx.processing_time() + STALE_AFTER) }
//     if n >= self.max_buffer_size { flush(cx, buffer); count.clear(); stale.clear() }
// }
// #[on_timer("expiry")] / #[on_timer("stale")]: flush(cx, buffer); count.clear();

/// An event of W3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// The event's id.
    pub id: u64,
    /// What the RPC looks up.
    pub payload: u64,
}

/// W3's output: an event enriched by the (simulated) batched RPC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Enriched {
    /// The user.
    pub user: u64,
    /// The event's id.
    pub id: u64,
    /// What the RPC returned.
    pub score: u64,
    /// The size of the batch the event was sent in.
    pub batch: u32,
}

/// The simulated RPC: a cheap pure function of the payload.
#[inline]
pub fn rpc(payload: u64) -> u64 {
    (payload ^ 0x9e37_79b9_7f4a_7c15).wrapping_mul(0xbf58_476d_1ce4_e5b9) >> 17
}

/// A buffer is flushed when it holds this many events.
pub const MAX_BUFFER_SIZE: u32 = 8;
/// A buffer is flushed this long (processing time) after its first event, if nothing else flushed it.
pub const STALE_AFTER: Duration = Duration::from_millis(200);

/// The cells of [`BatchedRpc`].
#[derive(Default)]
pub struct RpcState {
    buffer: Bag<Event>,
    count: Value<u32>,
}

impl StateRecord for RpcState {
    const IDS: &'static [&'static str] = &["buffer", "count"];
    fn clear(&mut self) {
        self.buffer.clear();
        self.count.clear();
    }
    fn is_empty(&self) -> bool {
        self.buffer.is_empty() && self.count.is_empty()
    }
}

/// W3: the batched RPC DoFn of DESIGN.md's first seed scenario.
#[derive(Clone)]
pub struct BatchedRpc {
    /// Flush when the buffer holds this many events.
    pub max_buffer_size: u32,
}

impl BatchedRpc {
    fn flush<C: Emit>(cx: &mut C, user: u64, state: &mut RpcState) {
        let batch = state.buffer.len() as u32;
        for e in state.buffer.read() {
            cx.emit(Enriched { user, id: e.id, score: rpc(e.payload), batch });
        }
        state.buffer.clear();
        state.count.clear();
    }
}

/// Output through either context.
trait Emit {
    fn emit(&mut self, value: Enriched);
}

impl Emit for ProcessContext<'_, (u64, Event), Enriched> {
    #[inline]
    fn emit(&mut self, value: Enriched) {
        self.output(value);
    }
}

impl Emit for TimerContext<'_, Enriched> {
    #[inline]
    fn emit(&mut self, value: Enriched) {
        self.output(value);
    }
}

impl DoFn for BatchedRpc {
    type Input = (u64, Event);
    type Output = Enriched;
    type Key = u64;
    type State = RpcState;
    type Timers = TimerTable<2, 0>;
    const NAME: &'static str = "BatchedRpc";
    const TIMERS: &'static [TimerInfo] = &[
        TimerInfo { id: "expiry", domain: TimeDomain::EventTime },
        TimerInfo { id: "stale", domain: TimeDomain::ProcessingTime },
    ];

    #[inline]
    fn key_of(input: &(u64, Event)) -> &u64 {
        &input.0
    }

    #[inline]
    fn process_element(
        &mut self,
        cx: &mut ProcessContext<'_, (u64, Event), Enriched>,
        state: &mut RpcState,
        timers: &mut TimerTable<2, 0>,
        env: &TimerEnv,
    ) -> Result<(), BoxError> {
        let [expiry, stale] = &mut timers.timers;
        let (mut expiry, mut stale) =
            (Timer::new(expiry, TimeDomain::EventTime, env), Timer::new(stale, TimeDomain::ProcessingTime, env));
        state.buffer.add(*cx.value());
        let n = state.count.read().copied().unwrap_or(0) + 1;
        state.count.write(n);
        expiry.set(cx.window().max_timestamp());
        if n == 1 {
            stale.set(cx.processing_time() + STALE_AFTER);
        }
        if n >= self.max_buffer_size {
            let user = *cx.key();
            Self::flush(cx, user, state);
            stale.clear();
        }
        Ok(())
    }

    fn on_timer(
        &mut self,
        _timer: usize,
        cx: &mut TimerContext<'_, Enriched>,
        key: &u64,
        state: &mut RpcState,
        _timers: &mut TimerTable<2, 0>,
        _env: &TimerEnv,
    ) -> Result<(), BoxError> {
        // Both timers flush what is buffered.
        Self::flush(cx, *key, state);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------------------
// W4: a count per key and fixed window, output when the window expires.
//
// #[dofn] struct WindowCount { #[state_id("count")] count: StateSpec<Value<u64>> }
// #[process_element] fn process(&self, cx, #[state_id("count")] count: &mut Value<u64>) {
//     let n = count.read().copied().unwrap_or(0) + 1; count.write(n);
// }
// #[on_window_expiration] fn on_expiry(&self, cx: &mut ExpirationContext<(u64, u64)>, Key(k): Key<&u64>, count) {
//     cx.output((*k, count.read().copied().unwrap_or(0)));
// }

/// W4: counts per key and window, outputs `(key, count)` when the window expires (`#[on_window_expiration]`).
#[derive(Clone, Default)]
pub struct WindowCount;

impl DoFn for WindowCount {
    type Input = (u64, u64);
    type Output = (u64, u64);
    type Key = u64;
    type State = CountState;
    type Timers = TimerTable<0, 0>;
    const NAME: &'static str = "WindowCount";
    const HAS_WINDOW_EXPIRATION: bool = true;

    #[inline]
    fn key_of(input: &(u64, u64)) -> &u64 {
        &input.0
    }

    #[inline]
    fn process_element(
        &mut self,
        _cx: &mut ProcessContext<'_, (u64, u64), (u64, u64)>,
        state: &mut CountState,
        _timers: &mut TimerTable<0, 0>,
        _env: &TimerEnv,
    ) -> Result<(), BoxError> {
        let n = state.count.read().copied().unwrap_or(0) + 1;
        state.count.write(n);
        Ok(())
    }

    fn on_window_expiration(
        &mut self,
        cx: &mut ExpirationContext<'_, (u64, u64)>,
        key: &u64,
        state: &mut CountState,
    ) -> Result<(), BoxError> {
        cx.output((*key, state.count.read().copied().unwrap_or(0)));
        Ok(())
    }
}

// W4 with a timer instead: the same counts, output by an event-time timer at the end of the window.
//
// #[dofn] struct WindowCountTimer { #[state_id("count")] count: StateSpec<Value<u64>>,
//                                   #[timer_id("end")] end: TimerSpec<EventTime> }
// #[process_element] fn process(&self, cx, #[state_id("count")] count, #[timer_id("end")] end: &mut Timer) {
//     let n = count.read().copied().unwrap_or(0) + 1; count.write(n);
//     end.set(cx.window().max_timestamp());
// }
// #[on_timer("end")] fn on_end(&self, cx: &mut TimerContext<(u64, u64)>, Key(k): Key<&u64>, count) {
//     cx.output((*k, count.read().copied().unwrap_or(0)));
// }

/// W4 with a timer: counts per key and window, outputs `(key, count)` from a timer at the window's end.
#[derive(Clone, Default)]
pub struct WindowCountTimer;

impl DoFn for WindowCountTimer {
    type Input = (u64, u64);
    type Output = (u64, u64);
    type Key = u64;
    type State = CountState;
    type Timers = TimerTable<1, 0>;
    const NAME: &'static str = "WindowCountTimer";
    const TIMERS: &'static [TimerInfo] = &[TimerInfo { id: "end", domain: TimeDomain::EventTime }];

    #[inline]
    fn key_of(input: &(u64, u64)) -> &u64 {
        &input.0
    }

    #[inline]
    fn process_element(
        &mut self,
        cx: &mut ProcessContext<'_, (u64, u64), (u64, u64)>,
        state: &mut CountState,
        timers: &mut TimerTable<1, 0>,
        env: &TimerEnv,
    ) -> Result<(), BoxError> {
        let n = state.count.read().copied().unwrap_or(0) + 1;
        state.count.write(n);
        let [end] = &mut timers.timers;
        Timer::new(end, TimeDomain::EventTime, env).set(cx.window().max_timestamp());
        Ok(())
    }

    fn on_timer(
        &mut self,
        _timer: usize,
        cx: &mut TimerContext<'_, (u64, u64)>,
        key: &u64,
        state: &mut CountState,
        _timers: &mut TimerTable<1, 0>,
        _env: &TimerEnv,
    ) -> Result<(), BoxError> {
        cx.output((*key, state.count.read().copied().unwrap_or(0)));
        Ok(())
    }
}
