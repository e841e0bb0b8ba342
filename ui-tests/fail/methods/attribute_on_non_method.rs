use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct Enrich;

#[dofn]
impl Enrich {
    #[process_element]
    const PROCESS: u32 = 1;

    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<String, String>) {}
}

fn main() {}
