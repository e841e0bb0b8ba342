//! The impl may live in another module than the struct, where the struct's imports (`Bag`, `Event`) are not
//! in scope: `use` of the struct's name brings its declarations along. Also: an impl naming the struct by
//! path.

mod model {
    use dofn::prelude::*;

    #[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
    pub struct Event(pub u32);

    #[dofn]
    #[derive(Clone, Default)]
    pub struct Collect {
        #[state_id("events")]
        pub(crate) events: StateSpec<Bag<Event>>,
        #[timer_id("flush")]
        pub(crate) flush: TimerSpec<ProcessingTime>,
    }

    #[dofn]
    #[derive(Clone, Default)]
    pub struct Tally {
        #[state_id("n")]
        pub(crate) n: StateSpec<Value<u32>>,
    }
}

mod wiring {
    use dofn::prelude::*;
    use dofn::state::Bag as Events;

    use super::model::{Collect, Event};

    #[dofn]
    impl Collect {
        #[process_element]
        fn process(
            &self,
            cx: &mut ProcessContext<(String, Event), Vec<u32>>,
            #[state_id("events")] events: &mut Events<Event>,
            #[timer_id("flush")] flush: &mut Timer,
        ) {
            events.add(cx.value().clone());
            flush.offset(Duration::from_secs(5)).set_relative();
        }

        #[on_timer("flush")]
        fn on_flush(&self, cx: &mut TimerContext<Vec<u32>>, #[state_id("events")] events: &mut Events<Event>) {
            cx.output(events.take().into_iter().map(|e| e.0).collect());
        }
    }
}

mod by_path {
    #[dofn::dofn]
    impl super::model::Tally {
        #[process_element]
        fn process(
            &self,
            cx: &mut dofn::ProcessContext<(String, u32), u32>,
            #[state_id("n")] n: &mut dofn::state::Value<u32>,
        ) {
            let total = n.read().copied().unwrap_or(0) + cx.value();
            n.write(total);
            cx.output(total);
        }
    }
}

fn main() {
    fn assert_dofn<D: dofn::DoFn>() {}
    assert_dofn::<model::Collect>();
    assert_dofn::<model::Tally>();
}
