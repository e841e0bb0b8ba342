// The impl has `#[dofn]` but the struct does not: the struct's declarations are missing, and rustc says so
// where the impl names the struct.
use dofn::prelude::*;

#[derive(Clone, Default)]
struct Counter {
    count: u32,
}

#[dofn]
impl Counter {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u32, u32), u32>) {
        cx.output(self.count);
    }
}

fn main() {}
