//! The role attributes share their names with items of the user's crate: a function, a module and a
//! `macro_rules!` named like them change nothing, inside or outside the `#[dofn]` impl.

use dofn::prelude::*;

#[allow(unused_macros)]
macro_rules! setup {
    () => {};
}

mod teardown {}

fn process_element(n: u32) -> u32 {
    n + 1
}

fn on_timer() {}

#[dofn]
#[derive(Clone, Default)]
struct Counter {
    #[state_id("count")]
    count: StateSpec<Value<u32>>,
    #[timer_id("flush")]
    flush: TimerSpec<EventTime>,
}

#[dofn]
impl Counter {
    #[setup]
    fn setup(&mut self) {}

    #[dofn::process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(String, u32), u32>,
        #[state_id("count")] count: &mut Value<u32>,
        #[timer_id("flush")] flush: &mut Timer,
    ) {
        count.write(process_element(*cx.value()));
        flush.set(cx.window().max_timestamp());
    }

    #[on_timer("flush")]
    fn on_flush(&self, cx: &mut TimerContext<u32>, #[state_id("count")] count: &mut Value<u32>) {
        on_timer();
        cx.output(count.read().copied().unwrap_or(0));
    }

    #[teardown]
    fn teardown(&mut self) {}
}

fn main() {
    let input = [(("a".to_string(), 1u32), Instant::from_secs(1))];
    let result = Pipeline::from_values(input).apply(Counter::default()).run().unwrap();
    let values: Vec<u32> = result.values().copied().collect();
    assert_eq!(values, [2]);
}
