use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct BatchedRpc {
    #[state_id("buffer")]
    buffer: StateSpec<Bag<String>>,
}

#[dofn]
impl BatchedRpc {
    #[process_element]
    fn process(
        &self,
        _cx: &mut ProcessContext<(String, String), String>,
        #[state_id("buffer")] _buffer: &mut Bag<String>,
        #[state_id("buffer")] _again: &mut Bag<String>,
    ) {
    }
}

fn main() {}
