//! Seed scenario 2: arbitrary-but-consistent index assignment. A Value "index" per key and window; each
//! element is output with the next index.

use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct AssignIndex {
    #[state_id("index")]
    index: StateSpec<Value<u64>>,
}

#[dofn]
impl AssignIndex {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(String, String), (u64, String)>,
        Element((_, value)): Element<&(String, String)>,
        #[state_id("index")] index: &mut Value<u64>,
    ) {
        let next = index.read().copied().unwrap_or(0);
        index.write(next + 1);
        cx.output((next, value.clone()));
    }
}

fn main() {
    fn assert_dofn<D: DoFn<Input = (String, String), Output = (u64, String), Key = String>>() {}
    assert_dofn::<AssignIndex>();
}
