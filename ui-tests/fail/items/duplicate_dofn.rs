// A second `#[dofn]` on the struct or on the impl is one error, on that attribute.
use dofn::prelude::*;

#[dofn]
#[dofn]
#[derive(Clone, Default)]
struct Echo;

#[dofn]
#[dofn::dofn]
impl Echo {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<u32, u32>) {
        cx.output(*cx.element());
    }
}

fn main() {
    let _ = Pipeline::from_values([(1u32, Instant::from_secs(1))]).apply(Echo).run();
}
