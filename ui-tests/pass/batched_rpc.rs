//! Seed scenario 1: batched RPC. Buffer events in a Bag, count them in a Value, and flush when the count
//! reaches a maximum, when a processing-time "stale" timer fires, or when the event-time "expiry" timer fires
//! at the end of the window.

use dofn::prelude::*;

type UserId = String;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    pub id: u64,
    pub payload: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Enriched {
    pub user: UserId,
    pub events: Vec<Event>,
}

#[dofn]
#[derive(Clone)]
struct BatchedRpc {
    max_buffer_size: u32,
    stale_after: Duration,
    #[state_id("buffer")]
    buffer: StateSpec<Bag<Event>>,
    #[state_id("count")]
    count: StateSpec<Value<u32>>,
    #[timer_id("expiry")]
    expiry: TimerSpec<EventTime>,
    #[timer_id("stale")]
    stale: TimerSpec<ProcessingTime>,
}

#[dofn]
impl BatchedRpc {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(UserId, Event), Enriched>,
        #[state_id("buffer")] buffer: &mut Bag<Event>,
        #[state_id("count")] count: &mut Value<u32>,
        #[timer_id("expiry")] expiry: &mut Timer,
        #[timer_id("stale")] stale: &mut Timer,
    ) {
        expiry.set(cx.window().max_timestamp());
        if stale.pending().is_none() {
            stale.offset(self.stale_after).set_relative();
        }
        buffer.add(cx.value().clone());
        let n = count.read().copied().unwrap_or(0) + 1;
        if n >= self.max_buffer_size {
            cx.output(Enriched { user: cx.key().clone(), events: buffer.take() });
            count.clear();
            stale.clear();
        } else {
            count.write(n);
        }
    }

    #[on_timer("expiry")]
    fn on_expiry(
        &self,
        cx: &mut TimerContext<Enriched>,
        Key(user): Key<&UserId>,
        #[state_id("buffer")] buffer: &mut Bag<Event>,
        #[state_id("count")] count: &mut Value<u32>,
    ) {
        flush(cx, user, buffer, count);
    }

    #[on_timer("stale")]
    fn on_stale(
        &self,
        #[state_id("count")] count: &mut Value<u32>,
        #[state_id("buffer")] buffer: &mut Bag<Event>,
        Key(user): Key<&UserId>,
        cx: &mut TimerContext<Enriched>,
    ) {
        flush(cx, user, buffer, count);
    }
}

fn flush(cx: &mut TimerContext<Enriched>, user: &UserId, buffer: &mut Bag<Event>, count: &mut Value<u32>) {
    if !buffer.is_empty() {
        cx.output(Enriched { user: user.clone(), events: buffer.take() });
    }
    count.clear();
}

fn assert_dofn<D: DoFn>() {}

fn main() {
    assert_dofn::<BatchedRpc>();
    let _ = BatchedRpc {
        max_buffer_size: 10,
        stale_after: Duration::from_secs(10),
        buffer: StateSpec::new(),
        count: StateSpec::new(),
        expiry: TimerSpec::new(),
        stale: TimerSpec::new(),
    };
}
