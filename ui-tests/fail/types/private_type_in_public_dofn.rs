// A `pub` DoFn whose state cell or input is a private type leaks it through `impl DoFn` (rustc's E0446): the
// error points at the user's type, not at `#[dofn]`.
use dofn::prelude::*;

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Event(u32);

#[dofn]
#[derive(Clone, Default)]
pub struct Collect {
    #[state_id("events")]
    events: StateSpec<Bag<Event>>,
}

#[dofn]
impl Collect {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(String, u32), u32>, #[state_id("events")] events: &mut Bag<Event>) {
        events.add(Event(*cx.value()));
    }
}

#[dofn]
#[derive(Clone, Default)]
pub struct Echo;

#[dofn]
impl Echo {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(String, Event), u32>) {
        cx.output(cx.value().0);
    }
}

fn main() {}
