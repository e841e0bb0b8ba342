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
    fn process(&self, _cx: &mut ProcessContext<(String, u32), u32>) {}

    #[on_timer("gap")]
    fn on_gap(&self, _cx: &mut TimerContext<u32>) {}

    #[start_bundle]
    fn start(&mut self, #[state_id("count")] _count: &mut Value<u32>) {}

    #[finish_bundle]
    fn finish(&mut self, _cx: &mut BundleContext<u32>, #[timer_id("gap")] _gap: &mut Timer) {}

    #[setup]
    fn setup(&mut self, #[state_id("count")] _count: &mut Value<u32>) {}
}

fn main() {}
