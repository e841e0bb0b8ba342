// Role methods the runner cannot call: `async`, `unsafe`, and a type parameter of the method's own. Each
// gets one error on the offending token, and nothing else is reported about them.
use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct Slow {
    #[timer_id("flush")]
    flush: TimerSpec<ProcessingTime>,
}

#[dofn]
impl Slow {
    #[process_element]
    async fn process(&self, cx: &mut ProcessContext<'_, (u32, u32), u32>) {
        cx.output(*cx.value());
    }

    #[on_timer("flush")]
    unsafe fn on_flush(&self) {}

    #[start_bundle]
    fn start<T: Default>(&self) {
        let _ = T::default();
    }

    // Lifetimes of its own are fine: they are inferred at the call.
    #[finish_bundle]
    fn finish<'a>(&'a self) {}
}

fn main() {}
