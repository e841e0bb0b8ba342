// A stateless DoFn that asks for the key needs keyed input too: the error says why, once, at the input type.
use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct Echo;

#[dofn]
impl Echo {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<String, String>, Key(k): Key<&String>) {
        cx.output(k.clone());
    }
}

fn main() {}
