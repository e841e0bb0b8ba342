use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct Enrich;

#[dofn]
impl Enrich {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<(String, u64), String>, Element(_e): Element<&(String, u32)>) {}
}

fn main() {}
