//! The impl may come before the struct: the struct's declarations reach it by name, not by order.

use dofn::prelude::*;

#[dofn]
impl Deduplicate {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(u64, String), String>,
        Element((_, event)): Element<&(u64, String)>,
        #[state_id("seen")] seen: &mut Set<String>,
    ) {
        if seen.add_if_absent(event.clone()) {
            cx.output(event.clone());
        }
    }
}

#[dofn]
#[derive(Clone, Default)]
struct Deduplicate {
    #[state_id("seen")]
    seen: StateSpec<Set<String>>,
}

fn main() {
    fn assert_dofn<D: DoFn>() {}
    assert_dofn::<Deduplicate>();
}
