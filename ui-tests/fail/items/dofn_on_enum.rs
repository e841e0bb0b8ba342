// `#[dofn]` on an enum: one error on `enum`, none for the helper attributes inside it.
use dofn::prelude::*;

#[dofn]
enum Counter {
    Plain {
        #[state_id("count")]
        count: StateSpec<Value<u32>>,
    },
}

fn main() {}
