use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct Enrich;

#[dofn]
impl Enrich {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<String, String>) {}

    #[setup]
    fn connect(&mut self) {}

    #[setup]
    fn warm_up(&mut self) {}
}

fn main() {}
