// `Timestamp`, `Window` and `TimerTag` parameters are recognised by their type's name: a type of the user's
// own with one of those names is one error, on the parameter's type.
use dofn::prelude::*;

mod my {
    pub struct Window(pub u32);
    pub struct Timestamp(pub u64);
    pub struct TimerTag;
}

#[dofn]
#[derive(Clone, Default)]
struct Echo {
    #[timer_family_id("retry")]
    retry: TimerFamilySpec<EventTime>,
}

#[dofn]
impl Echo {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u32, u32), u32>, window: my::Window, at: my::Timestamp) {
        let _ = (cx, window, at);
    }

    #[on_timer_family("retry")]
    fn on_retry(&self, window: &my::Window, tag: my::TimerTag) {
        let _ = (window, tag);
    }
}

fn main() {}
