// `#[dofn]` reads the declarations before cfg is evaluated: a `#[cfg]` on a field with an id, a `#[cfg_attr]`
// that would add an id, and a `#[cfg]` that would renumber a tuple struct's declarations are each one error
// on the attribute, and nothing is reported about the impl's uses of those declarations.
use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct Counter {
    #[state_id("count")]
    count: StateSpec<Value<u32>>,
    #[cfg(debug_assertions)]
    #[state_id("seen")]
    seen: StateSpec<Bag<u32>>,
    #[cfg_attr(all(), timer_id("flush"))]
    flush: TimerSpec<EventTime>,
}

#[dofn]
impl Counter {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(String, u32), u32>,
        #[state_id("count")] count: &mut Value<u32>,
        #[state_id("seen")] seen: &mut Bag<u32>,
        #[timer_id("flush")] flush: &mut Timer,
    ) {
        count.write(*cx.value());
        seen.add(*cx.value());
        flush.set(cx.window().max_timestamp());
    }

    #[on_timer("flush")]
    fn on_flush(&self, cx: &mut TimerContext<u32>) {
        cx.output(0);
    }
}

#[dofn]
#[derive(Clone, Default)]
struct Pair(#[cfg(any())] u8, #[state_id("last")] StateSpec<Value<u32>>);

#[dofn]
impl Pair {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(String, u32), u32>, #[state_id("last")] last: &mut Value<u32>) {
        last.write(*cx.value());
    }
}

fn main() {}
