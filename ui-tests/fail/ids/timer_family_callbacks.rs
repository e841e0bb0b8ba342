// Timer families: a callback for an undeclared family, a family with two callbacks, and one with none.
// Each is reported once.
use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct Reminders {
    #[timer_family_id("remind")]
    remind: TimerFamilySpec<EventTime>,
    #[timer_family_id("nudge")]
    nudge: TimerFamilySpec<ProcessingTime>,
}

#[dofn]
impl Reminders {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u32, u32), u32>) {
        cx.output(*cx.value());
    }

    #[on_timer_family("remind")]
    fn first(&self, TimerTag(tag): TimerTag) {
        let _ = tag;
    }

    #[on_timer_family("remind")]
    fn second(&self) {}

    #[on_timer_family("later")]
    fn later(&self) {}
}

fn main() {}
