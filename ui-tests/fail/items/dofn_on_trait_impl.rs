// `#[dofn]` on a trait impl: one error on the trait's path, none for the helper attributes inside it.
use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct Counter {
    #[state_id("count")]
    count: StateSpec<Value<u32>>,
}

trait Process {
    fn process(&self, cx: &mut ProcessContext<(u32, u32), u32>, count: &mut Value<u32>);
}

#[dofn]
impl Process for Counter {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u32, u32), u32>, #[state_id("count")] count: &mut Value<u32>) {
        count.write(*cx.value());
    }
}

fn main() {}
