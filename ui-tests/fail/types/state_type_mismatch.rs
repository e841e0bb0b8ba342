use dofn::prelude::*;

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Event;

#[dofn]
#[derive(Clone)]
struct BatchedRpc {
    #[state_id("buffer")]
    buffer: StateSpec<Bag<Event>>,
    #[state_id("count")]
    count: StateSpec<Value<u32>>,
}

#[dofn]
impl BatchedRpc {
    #[process_element]
    fn process(
        &self,
        _cx: &mut ProcessContext<(String, Event), String>,
        #[state_id("buffer")] _buffer: &mut Value<u32>,
        #[state_id("count")] _count: &mut Value<u64>,
    ) {
    }

    #[on_window_expiration]
    fn expire(&self, _cx: &mut ExpirationContext<String>, #[state_id("count")] _count: &Value<i32>) {}
}

#[dofn]
#[derive(Clone)]
struct Other {
    #[state_id("buffer")]
    buffer: StateSpec<Bag<Event>>,
}

#[dofn]
impl Other {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<(String, Event), String>, #[state_id("buffer")] _b: &mut Bag<String>) {}
}

fn main() {}
