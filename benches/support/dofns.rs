//! The DoFns of the workloads, written with `#[dofn]` as a user would.

use dofn::prelude::*;

/// W1: counts the elements of each key and outputs the running count with each element.
#[dofn]
#[derive(Clone, Default)]
pub struct Counter {
    #[state_id("count")]
    count: StateSpec<Value<u64>>,
}

#[dofn]
impl Counter {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u64, u64), u64>, #[state_id("count")] count: &mut Value<u64>) {
        let n = count.read().copied().unwrap_or(0) + 1;
        count.write(n);
        cx.output(n);
    }
}

/// How far after an element's timestamp W2's timer is set.
pub const W2_DELAY: Duration = Duration::from_millis(10);

/// W2: adds each value to a bag and resets an event-time timer to 10 ms after it; the timer outputs the sum.
#[dofn]
#[derive(Clone, Default)]
pub struct BagTimer {
    #[state_id("bag")]
    bag: StateSpec<Bag<u64>>,
    #[timer_id("flush")]
    flush: TimerSpec<EventTime>,
}

#[dofn]
impl BagTimer {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(u64, u64), u64>,
        #[state_id("bag")] bag: &mut Bag<u64>,
        #[timer_id("flush")] flush: &mut Timer,
    ) {
        bag.add(*cx.value());
        flush.set(cx.timestamp() + W2_DELAY);
    }

    #[on_timer("flush")]
    fn on_flush(&self, cx: &mut TimerContext<u64>, #[state_id("bag")] bag: &mut Bag<u64>) {
        cx.output(bag.read().sum());
        bag.clear();
    }
}

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

/// W3: the batched RPC DoFn of DESIGN.md's first seed scenario: events buffered per user and window, sent in
/// one (simulated) call when the buffer is full, when it is stale (processing time), or when the window ends.
#[dofn]
#[derive(Clone)]
pub struct BatchedRpc {
    /// Flush when the buffer holds this many events.
    pub max_buffer_size: u32,
    #[state_id("buffer")]
    buffer: StateSpec<Bag<Event>>,
    #[state_id("count")]
    count: StateSpec<Value<u32>>,
    #[timer_id("expiry")]
    expiry: TimerSpec<EventTime>,
    #[timer_id("stale")]
    stale: TimerSpec<ProcessingTime>,
}

impl BatchedRpc {
    /// A DoFn that flushes batches of `max_buffer_size` events.
    pub fn new(max_buffer_size: u32) -> Self {
        BatchedRpc {
            max_buffer_size,
            buffer: StateSpec::new(),
            count: StateSpec::new(),
            expiry: TimerSpec::new(),
            stale: TimerSpec::new(),
        }
    }

    /// One call for the whole buffer; empties it.
    fn flush(user: u64, buffer: &mut Bag<Event>, count: &mut Value<u32>, mut emit: impl FnMut(Enriched)) {
        let batch = buffer.len() as u32;
        for e in buffer.read() {
            emit(Enriched { user, id: e.id, score: rpc(e.payload), batch });
        }
        buffer.clear();
        count.clear();
    }
}

#[dofn]
impl BatchedRpc {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(u64, Event), Enriched>,
        #[state_id("buffer")] buffer: &mut Bag<Event>,
        #[state_id("count")] count: &mut Value<u32>,
        #[timer_id("expiry")] expiry: &mut Timer,
        #[timer_id("stale")] stale: &mut Timer,
    ) {
        buffer.add(*cx.value());
        let n = count.read().copied().unwrap_or(0) + 1;
        count.write(n);
        expiry.set(cx.window().max_timestamp());
        if n == 1 {
            stale.set(cx.processing_time() + STALE_AFTER);
        }
        if n >= self.max_buffer_size {
            let user = *cx.key();
            Self::flush(user, buffer, count, |e| cx.output(e));
            stale.clear();
        }
    }

    #[on_timer("stale")]
    fn on_stale(
        &self,
        cx: &mut TimerContext<Enriched>,
        Key(user): Key<&u64>,
        #[state_id("buffer")] buffer: &mut Bag<Event>,
        #[state_id("count")] count: &mut Value<u32>,
    ) {
        Self::flush(*user, buffer, count, |e| cx.output(e));
    }

    #[on_timer("expiry")]
    fn on_expiry(
        &self,
        cx: &mut TimerContext<Enriched>,
        Key(user): Key<&u64>,
        #[state_id("buffer")] buffer: &mut Bag<Event>,
        #[state_id("count")] count: &mut Value<u32>,
    ) {
        Self::flush(*user, buffer, count, |e| cx.output(e));
    }
}

/// W4: counts per key and window, outputs `(key, count)` when the window expires (`#[on_window_expiration]`).
#[dofn]
#[derive(Clone, Default)]
pub struct WindowCount {
    #[state_id("count")]
    count: StateSpec<Value<u64>>,
}

#[dofn]
impl WindowCount {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<(u64, u64), (u64, u64)>, #[state_id("count")] count: &mut Value<u64>) {
        let n = count.read().copied().unwrap_or(0) + 1;
        count.write(n);
    }

    #[on_window_expiration]
    fn on_expiry(
        &self,
        cx: &mut ExpirationContext<(u64, u64)>,
        Key(key): Key<&u64>,
        #[state_id("count")] count: &mut Value<u64>,
    ) {
        cx.output((*key, count.read().copied().unwrap_or(0)));
    }
}

/// W4 with a timer: counts per key and window, outputs `(key, count)` from an event-time timer at the end of
/// the window (the other way to act at a window's end).
#[dofn]
#[derive(Clone, Default)]
pub struct WindowCountTimer {
    #[state_id("count")]
    count: StateSpec<Value<u64>>,
    #[timer_id("end")]
    end: TimerSpec<EventTime>,
}

#[dofn]
impl WindowCountTimer {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(u64, u64), (u64, u64)>,
        #[state_id("count")] count: &mut Value<u64>,
        #[timer_id("end")] end: &mut Timer,
    ) {
        let n = count.read().copied().unwrap_or(0) + 1;
        count.write(n);
        end.set(cx.window().max_timestamp());
    }

    #[on_timer("end")]
    fn on_end(
        &self,
        cx: &mut TimerContext<(u64, u64)>,
        Key(key): Key<&u64>,
        #[state_id("count")] count: &mut Value<u64>,
    ) {
        cx.output((*key, count.read().copied().unwrap_or(0)));
    }
}
