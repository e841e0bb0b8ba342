// A role method's error type must convert into `dofn::BoxError` (the runner hands errors across threads):
// one error on the error type, with what to use instead, and one on a return type alias that hides it.
use dofn::prelude::*;

type Res<T> = std::result::Result<T, Box<dyn std::error::Error>>;

#[dofn]
#[derive(Clone, Default)]
struct Enrich;

#[dofn]
impl Enrich {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<u32, u32>) -> Result<(), Box<dyn std::error::Error>> {
        cx.output(*cx.element());
        Ok(())
    }

    #[setup]
    fn setup(&mut self) -> Result<(), std::rc::Rc<String>> {
        Ok(())
    }

    #[teardown]
    fn teardown(&mut self) -> Res<()> {
        Ok(())
    }

    // Fine: the error types that convert.
    #[start_bundle]
    fn start(&mut self) -> Result<(), BoxError> {
        Ok(())
    }

    #[finish_bundle]
    fn finish(&mut self) -> Result<(), &'static str> {
        Ok(())
    }
}

fn main() {}
