// A `StateSpec`, `TimerSpec` or `TimerFamilySpec` field without an id declares nothing: one error on the
// field each, and the impl's uses of the ids they should have are not reported too.
use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct Counter {
    count: StateSpec<Value<u32>>,
    flush: TimerSpec<EventTime>,
    #[timer_family_id("retry")]
    retry: TimerFamilySpec<ProcessingTime>,
}

#[dofn]
impl Counter {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(String, u32), u32>, #[state_id("count")] count: &mut Value<u32>) {
        count.write(*cx.value());
    }

    #[on_timer("flush")]
    fn on_flush(&self) {}

    #[on_timer_family("retry")]
    fn on_retry(&self) {}
}

#[dofn]
#[derive(Clone, Default)]
struct Pair(u32, TimerFamilySpec<EventTime>);

#[dofn]
impl Pair {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(String, u32), u32>) {
        cx.output(self.0 + cx.value());
    }
}

fn main() {}
