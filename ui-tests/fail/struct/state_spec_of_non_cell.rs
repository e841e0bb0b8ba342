use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct BatchedRpc {
    #[state_id("count")]
    count: StateSpec<u32>,
}

#[dofn]
impl BatchedRpc {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<(String, String), String>) {}
}

fn main() {}
