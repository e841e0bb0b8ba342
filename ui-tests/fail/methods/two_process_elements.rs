use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct Enrich;

#[dofn]
impl Enrich {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<String, String>) {}

    #[process_element]
    fn process_again(&self, _cx: &mut ProcessContext<String, String>) {}
}

fn main() {}
