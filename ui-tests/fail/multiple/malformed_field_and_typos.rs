// A field declared with the wrong type does not hide the impl's other mistakes: the build reports the field,
// the misspelt state id and the misspelt timer callback, and nothing about the uses of the malformed field.
use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct BatchedRpc {
    #[state_id("buffer")]
    buffer: StateSpec<Bag<String>>,
    #[state_id("count")]
    count: Value<u32>,
    #[timer_id("expiry")]
    expiry: EventTime,
    #[timer_id("stale")]
    stale: TimerSpec<ProcessingTime>,
}

#[dofn]
impl BatchedRpc {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(String, String), String>,
        #[state_id("bufer")] buffer: &mut Bag<String>,
        #[state_id("count")] count: &mut Value<u32>,
    ) {
        buffer.add(cx.value().clone());
        count.clear();
    }

    #[on_timer("expiry")]
    fn on_expiry(&self) {}

    #[on_timer("stail")]
    fn on_stale(&self) {}
}

fn main() {}
