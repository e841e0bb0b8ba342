use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct Sessions {
    #[state_id("count")]
    count: StateSpec<Value<u32>>,
    #[timer_id("gap")]
    gap: TimerSpec<EventTime>,
}

#[dofn]
impl Sessions {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<(String, u32), u32>, #[timer_id("gap")] _gap: &mut Timer) {}

    #[on_timer("gap")]
    fn on_gap(&self, _cx: &mut TimerContext<u32>) {}

    #[on_window_expiration]
    fn on_expiry(
        &self,
        _cx: &mut ExpirationContext<u32>,
        #[state_id("count")] _count: &mut Value<u32>,
        #[timer_id("gap")] _gap: &mut Timer,
    ) {
    }
}

fn main() {}
