// A cell (or timer, or context) is taken once per method, however it is borrowed.
use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct BatchedRpc {
    #[state_id("buffer")]
    buffer: StateSpec<Bag<String>>,
    #[state_id("count")]
    count: StateSpec<Value<u32>>,
    #[state_id("last")]
    last: StateSpec<Value<String>>,
}

#[dofn]
impl BatchedRpc {
    #[process_element]
    fn process(
        &self,
        _cx: &mut ProcessContext<(String, String), String>,
        #[state_id("buffer")] _buffer: &mut Bag<String>,
        #[state_id("buffer")] _again: &mut Bag<String>,
        #[state_id("count")] _count: &Value<u32>,
        #[state_id("count")] _count_again: &Value<u32>,
        #[state_id("last")] _last: &Value<String>,
        #[state_id("last")] _last_again: &mut Value<String>,
    ) {
    }
}

fn main() {}
