// Two `#[dofn]` impls of one struct: the role methods go in one of them (other impl blocks are plain).
use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct Split;

#[dofn]
impl Split {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<u32, u32>) {
        cx.output(*cx.element());
    }
}

#[dofn]
impl Split {
    #[setup]
    fn setup(&self) {}
}

fn main() {}
