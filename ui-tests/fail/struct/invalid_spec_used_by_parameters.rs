// A spec whose cell or domain is invalid is one error, at the field, even where the impl's parameters use
// it (and the struct derives `Default`): nothing is said about the parameters or the generated code.
use std::rc::Rc;

use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct Broken {
    #[state_id("plain")]
    plain: StateSpec<u32>,
    #[state_id("shared")]
    shared: StateSpec<Value<Rc<u32>>>,
    #[state_id("fine")]
    fine: StateSpec<Value<u32>>,
    #[timer_id("flush")]
    flush: TimerSpec<Instant>,
}

#[dofn]
impl Broken {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(String, u32), u32>,
        #[state_id("plain")] plain: &mut u32,
        #[state_id("shared")] shared: &mut Value<Rc<u32>>,
        #[state_id("fine")] fine: &mut Value<u32>,
        #[timer_id("flush")] flush: &mut Timer,
    ) {
        *plain = *cx.value();
        shared.write(Rc::new(*cx.value()));
        fine.write(*cx.value());
        flush.set(cx.timestamp());
    }

    #[on_timer("flush")]
    fn on_flush(&self, cx: &mut TimerContext<u32>, #[state_id("plain")] plain: &mut u32) {
        cx.output(*plain);
    }
}

fn main() {}
