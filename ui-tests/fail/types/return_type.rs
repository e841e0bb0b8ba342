use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct Enrich;

#[dofn]
impl Enrich {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<String, String>) -> Option<String> {
        None
    }

    #[setup]
    fn setup(&mut self) -> Result<u32, String> {
        Ok(1)
    }
}

fn main() {}
