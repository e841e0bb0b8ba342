use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct Enrich;

#[dofn]
impl Enrich {
    #[process_element]
    fn process(&self, Element(_e): Element<&String>) {}
}

fn main() {}
