// The struct has `#[dofn]` but its impl does not: each role attribute says to add `#[dofn]` to the impl, and
// the `#[state_id]`/`#[timer_id]` parameters add nothing more.
use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct Counter {
    #[state_id("count")]
    count: StateSpec<Value<u32>>,
    #[timer_id("flush")]
    flush: TimerSpec<EventTime>,
}

impl Counter {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(String, u32), u32>,
        #[state_id("count")] count: &mut Value<u32>,
        #[timer_id("flush")] flush: &mut Timer,
    ) {
        count.write(*cx.value());
        flush.set(cx.window().max_timestamp());
    }

    #[dofn::on_timer("flush")]
    fn on_flush(&self, cx: &mut TimerContext<u32>, #[state_id("count")] count: &mut Value<u32>) {
        cx.output(count.read().copied().unwrap_or(0));
    }
}

fn main() {}
