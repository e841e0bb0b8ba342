// A syntax error inside a method body is reported once, by rustc: the impl is still wired (the DoFn is
// implemented, its uses compile), and nothing is said about `#[dofn]`'s attributes.
use dofn::prelude::*;

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
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(String, u32), u32>,
        #[state_id("count")] count: &mut Value<u32>,
        #[timer_id("flush")] flush: &mut Timer,
    ) {
        let x = ;
        count.write(*cx.value());
        flush.set(cx.window().max_timestamp());
    }

    #[on_timer("flush")]
    fn on_flush(&self, cx: &mut TimerContext<u32>) {
        cx.output(1);
    }
}

fn main() {
    let input = [(("a".to_string(), 1u32), Instant::from_secs(1))];
    let _ = Pipeline::from_values(input).apply(Counter::default()).run();
}
