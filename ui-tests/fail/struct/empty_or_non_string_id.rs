use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct BatchedRpc {
    #[state_id("")]
    buffer: StateSpec<Bag<String>>,
    #[state_id(count)]
    count: StateSpec<Value<u32>>,
    #[timer_id(42)]
    expiry: TimerSpec<EventTime>,
}

#[dofn]
impl BatchedRpc {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<(String, String), String>, #[state_id("count")] _count: &mut Value<u32>) {}
}

fn main() {}
