// `Timestamp` and `TimerTag` come by value and `Window` by value or `&`: other forms are errors on the
// parameter's type.
use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct Forms {
    #[timer_family_id("remind")]
    remind: TimerFamilySpec<EventTime>,
}

#[dofn]
impl Forms {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u32, u32), u32>, ts: &Timestamp, window: &mut Window) {
        let _ = (cx, ts, window);
    }

    #[on_timer_family("remind")]
    fn on_remind(&self, tag: &TimerTag) {
        let _ = tag;
    }
}

fn main() {}
