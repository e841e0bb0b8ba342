// A role attribute on something that is not a method: a free function, a function inside a `#[dofn]`
// method, a struct. Each is told where the attribute goes, once.
use dofn::prelude::*;

#[process_element]
fn process(cx: &mut ProcessContext<(String, u32), u32>) {
    cx.output(1);
}

#[dofn]
#[derive(Clone, Default)]
struct Counter {
    #[state_id("count")]
    count: StateSpec<Value<u32>>,
}

#[dofn]
impl Counter {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(String, u32), u32>, #[state_id("count")] count: &mut Value<u32>) {
        #[on_window_expiration]
        fn helper(n: u32) -> u32 {
            n + 1
        }
        count.write(helper(*cx.value()));
    }
}

#[on_timer("flush")]
struct Flush;

fn main() {}
