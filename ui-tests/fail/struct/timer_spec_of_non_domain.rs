use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct BatchedRpc {
    #[timer_id("expiry")]
    expiry: TimerSpec<Instant>,
}

#[dofn]
impl BatchedRpc {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<(String, String), String>) {}

    #[on_timer("expiry")]
    fn on_expiry(&self) {}
}

fn main() {}
