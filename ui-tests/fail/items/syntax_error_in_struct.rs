// A syntax error in the struct is reported by rustc alone, as it is without `#[dofn]` (here rustc's parser
// gives two errors for the missing `>`): neither `#[dofn]`'s attributes (with a path or not), nor the impl's
// `#[dofn]`, nor the DoFn's uses report anything more.
use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct Counter {
    #[dofn::state_id("seen")]
    seen: StateSpec<Bag<u32>>,
    #[state_id("count")]
    count: StateSpec<Value<u32>,
    #[timer_id("flush")]
    flush: TimerSpec<EventTime>,
}

#[dofn]
impl Counter {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(String, u32), u32>, #[state_id("count")] count: &mut Value<u32>) {
        count.write(*cx.value());
    }
}

fn main() {
    let input = [(("a".to_string(), 1u32), Instant::from_secs(1))];
    let _ = Pipeline::from_values(input).apply(Counter::default()).run();
}
