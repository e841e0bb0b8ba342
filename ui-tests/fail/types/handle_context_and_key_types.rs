// A timer taken as a family's handle, a timer context of the wrong output type, and a key of the wrong
// type: each an error on the parameter, naming what it must be.
use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct Expiring {
    #[timer_id("expiry")]
    expiry: TimerSpec<EventTime>,
}

#[dofn]
impl Expiring {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(String, u32), String>,
        Key(k): Key<&u64>,
        #[timer_id("expiry")] expiry: &mut TimerMap,
    ) {
        let _ = (cx, k, expiry);
    }

    #[on_timer("expiry")]
    fn on_expiry(&self, cx: &mut TimerContext<u32>) {
        cx.output(1);
    }
}

fn main() {}
