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
    fn on_expiry(&self, _cx: &mut TimerContext<String>) {}
}

fn main() {}
