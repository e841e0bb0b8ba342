use dofn::prelude::*;

#[dofn(stateful)]
#[derive(Clone)]
struct BatchedRpc {
    #[state_id("count", default = 0)]
    count: StateSpec<Value<u32>>,
}

#[dofn]
impl BatchedRpc {
    #[process_element(batched)]
    fn process(&self, _cx: &mut ProcessContext<(String, String), String>, #[state_id("count")] _count: &mut Value<u32>) {}
}

fn main() {}
