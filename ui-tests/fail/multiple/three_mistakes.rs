// Three independent mistakes: a misspelt state id, a timer without a callback, and a state whose parameter
// has the wrong type. The build reports exactly these three.
use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct BatchedRpc {
    #[state_id("buffer")]
    buffer: StateSpec<Bag<String>>,
    #[state_id("count")]
    count: StateSpec<Value<u32>>,
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
        #[state_id("count")] count: &mut Value<String>,
        #[timer_id("stale")] stale: &mut Timer,
    ) {
        buffer.add(cx.value().clone());
        count.clear();
        stale.clear();
    }
}

fn main() {}
