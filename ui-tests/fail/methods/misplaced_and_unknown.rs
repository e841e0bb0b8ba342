// A parameter `#[dofn]` cannot provide, `self` by value, two roles on one method, and an id attribute on a
// method: one error each.
use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct Odd {
    #[state_id("n")]
    n: StateSpec<Value<u32>>,
}

#[dofn]
impl Odd {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u32, u32), u32>, limit: usize) {
        cx.output(limit as u32);
    }

    #[setup]
    fn setup(self) {}

    #[start_bundle]
    #[finish_bundle]
    fn bundle(&self) {}

    #[state_id("n")]
    fn helper(&self) {}
}

fn main() {}
