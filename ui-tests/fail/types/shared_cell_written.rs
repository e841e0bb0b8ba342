// A cell borrowed shared (`&Value<u32>`) is for reading: writing through it is rustc's error on the write,
// with the suggestion to borrow it `&mut`.
use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct Counter {
    #[state_id("count")]
    count: StateSpec<Value<u32>>,
}

#[dofn]
impl Counter {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(String, u32), u32>, #[state_id("count")] count: &Value<u32>) {
        count.write(*cx.value());
    }
}

fn main() {}
