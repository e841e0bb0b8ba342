// A timer, or a `Key` parameter in a timer callback or `#[on_window_expiration]`, needs keyed input too:
// each DoFn gets the one error, at its input type, whichever method makes the key needed.
use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct TimerOnly {
    #[timer_id("t")]
    t: TimerSpec<EventTime>,
}

#[dofn]
impl TimerOnly {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<String, String>) {}

    #[on_timer("t")]
    fn on_t(&self, _cx: &mut TimerContext<String>) {}
}

#[dofn]
#[derive(Clone, Default)]
struct KeyInCallback {
    #[timer_id("t")]
    t: TimerSpec<EventTime>,
}

#[dofn]
impl KeyInCallback {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<u64, String>) {}

    #[on_timer("t")]
    fn on_t(&self, _cx: &mut TimerContext<String>, Key(_k): Key<&u64>) {}
}

#[dofn]
#[derive(Clone, Default)]
struct KeyAtExpiry;

#[dofn]
impl KeyAtExpiry {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<Vec<u8>, String>) {}

    #[on_window_expiration]
    fn expire(&self, _cx: &mut ExpirationContext<String>, Key(_k): Key<&Vec<u8>>) {}
}

#[dofn]
#[derive(Clone, Default)]
struct FamilyOnly {
    #[timer_family_id("f")]
    f: TimerFamilySpec<ProcessingTime>,
}

#[dofn]
impl FamilyOnly {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<i32, String>) {}

    #[on_timer_family("f")]
    fn on_f(&self, _cx: &mut TimerContext<String>, TimerTag(_tag): TimerTag) {}
}

fn main() {}
