// `#[dofn]` wires the role methods and their parameters before cfg is evaluated: a `#[cfg]` on either, or a
// `#[cfg_attr]` that would add a role, is one error on the attribute. (Two `#[cfg]` variants of one method
// are not also reported as duplicates.)
use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct Echo {
    #[state_id("count")]
    count: StateSpec<Value<u32>>,
}

#[dofn]
impl Echo {
    #[cfg(debug_assertions)]
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(String, u32), u32>) {
        cx.output(*cx.value());
    }

    #[cfg(not(debug_assertions))]
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(String, u32), u32>,
        #[cfg(test)]
        #[state_id("count")]
        count: &mut Value<u32>,
    ) {
        cx.output(*cx.value());
    }

    #[cfg(any())]
    #[start_bundle]
    fn begin(&mut self) {}

    #[cfg_attr(all(), finish_bundle)]
    fn end(&mut self) {}
}

fn main() {}
