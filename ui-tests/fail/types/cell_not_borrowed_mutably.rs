use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct BatchedRpc {
    #[state_id("buffer")]
    buffer: StateSpec<Bag<String>>,
    #[state_id("count")]
    count: StateSpec<Value<u32>>,
    #[timer_id("expiry")]
    expiry: TimerSpec<EventTime>,
}

#[dofn]
impl BatchedRpc {
    #[process_element]
    fn process(
        &self,
        _cx: &mut ProcessContext<(String, String), String>,
        #[state_id("buffer")] _buffer: Bag<String>,
        // (Accepted: a method that only reads a cell may borrow it shared.)
        #[state_id("count")] _count: &Value<u32>,
        #[timer_id("expiry")] _expiry: &Timer,
    ) {
    }

    #[on_timer("expiry")]
    fn on_expiry(
        &self,
        _cx: &mut TimerContext<String>,
        // A borrow of a borrow, and a borrow for longer than the call.
        #[state_id("buffer")] _buffer: &&Bag<String>,
        #[state_id("count")] _count: &'static mut Value<u32>,
    ) {
    }

    #[on_window_expiration]
    fn expire(
        &self,
        _cx: &mut ExpirationContext<String>,
        // (Accepted: `'_` names no lifetime.)
        #[state_id("count")] _count: &'_ mut Value<u32>,
        #[state_id("buffer")] _buffer: &'_ Bag<String>,
    ) {
    }
}

fn main() {}
