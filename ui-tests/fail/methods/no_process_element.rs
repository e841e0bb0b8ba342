use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct Enrich;

#[dofn]
impl Enrich {
    fn process(&self, _cx: &mut ProcessContext<String, String>) {}
}

fn main() {}
