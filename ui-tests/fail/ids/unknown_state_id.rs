use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct BatchedRpc {
    #[state_id("buffer")]
    buffer: StateSpec<Bag<String>>,
    #[state_id("count")]
    count: StateSpec<Value<u32>>,
}

#[dofn]
impl BatchedRpc {
    #[process_element]
    fn process(
        &self,
        _cx: &mut ProcessContext<(String, String), String>,
        #[state_id("bufer")] _buffer: &mut Bag<String>,
        #[state_id("total")] _total: &mut Value<u32>,
    ) {
    }
}

fn main() {}
