use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct CountEvents {
    #[state_id("count")]
    count: StateSpec<Value<u64>>,
}

#[dofn]
impl CountEvents {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<String, u64>, #[state_id("count")] count: &mut Value<u64>) {
        *count.get_or_insert_with(|| 0) += 1;
    }
}

fn main() {}
