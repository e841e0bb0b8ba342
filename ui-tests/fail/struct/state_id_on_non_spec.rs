use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct BatchedRpc {
    #[state_id("count")]
    count: Value<u32>,
    #[timer_id("expiry")]
    expiry: StateSpec<Value<u32>>,
}

#[dofn]
impl BatchedRpc {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<(String, String), String>, #[state_id("count")] _count: &mut Value<u32>) {}

    #[on_timer("expiry")]
    fn on_expiry(&self, _cx: &mut TimerContext<String>) {}
}

fn main() {}
