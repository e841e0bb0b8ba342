use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct BatchedRpc {
    #[timer_id("expiry")]
    expiry: TimerSpec<EventTime>,
    #[timer_id("stale")]
    stale: TimerSpec<ProcessingTime>,
    #[timer_family_id("reminders")]
    reminders: TimerFamilySpec<EventTime>,
}

#[dofn]
impl BatchedRpc {
    #[process_element]
    fn process(
        &self,
        _cx: &mut ProcessContext<(String, String), String>,
        #[timer_id("expiri")] _expiry: &mut Timer,
        #[timer_family_id("reminder")] _reminders: &mut TimerMap,
    ) {
    }

    #[on_timer("expiry")]
    fn on_expiry(&self, _cx: &mut TimerContext<String>) {}

    #[on_timer("stail")]
    fn on_stale(&self, _cx: &mut TimerContext<String>) {}

    #[on_timer("reminders")]
    fn on_reminder(&self, _cx: &mut TimerContext<String>) {}
}

fn main() {}
