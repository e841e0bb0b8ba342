use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct Reminders {
    #[timer_family_id("reminders")]
    reminders: TimerFamilySpec<EventTime>,
    #[timer_family_id("reminders")]
    nudges: TimerFamilySpec<ProcessingTime>,
}

#[dofn]
impl Reminders {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<(String, String), String>) {}

    #[on_timer_family("reminders")]
    fn on_reminder(&self, _cx: &mut TimerContext<String>, TimerTag(_tag): TimerTag) {}
}

fn main() {}
