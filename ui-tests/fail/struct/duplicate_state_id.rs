use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct BatchedRpc {
    #[state_id("buffer")]
    buffer: StateSpec<Bag<String>>,
    #[state_id("buffer")]
    count: StateSpec<Value<u32>>,
}

#[dofn]
impl BatchedRpc {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(String, String), String>, #[state_id("buffer")] buffer: &mut Bag<String>) {
        buffer.add(cx.value().clone());
    }
}

fn main() {}
