// A syntax error in a method's signature: the impl cannot be read, so it is not wired, and rustc reports the
// error once; the DoFn's uses report nothing more.
use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct Counter {
    #[state_id("count")]
    count: StateSpec<Value<u32>>,
}

#[dofn]
impl Counter {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(String, u32), u32>,, #[state_id("count")] count: &mut Value<u32>) {
        count.write(*cx.value());
    }
}

fn main() {
    let input = [(("a".to_string(), 1u32), Instant::from_secs(1))];
    let _ = Pipeline::from_values(input).apply(Counter::default()).run();
}
