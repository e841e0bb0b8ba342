//! The runtime crate's front-page example: numbers each user's events per window, and reports the total when
//! the window closes.

use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct CountPerUser {
    #[state_id("count")]
    count: StateSpec<Value<u64>>,
    #[timer_id("end")]
    end: TimerSpec<EventTime>,
}

#[dofn]
impl CountPerUser {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(String, u32), String>,
        #[state_id("count")] count: &mut Value<u64>,
        #[timer_id("end")] end: &mut Timer,
    ) {
        let n = count.read().copied().unwrap_or(0) + 1;
        count.write(n);
        end.set(cx.window().max_timestamp());
        cx.output(format!("{} #{n}", cx.key()));
    }

    #[on_timer("end")]
    fn on_end(
        &self,
        cx: &mut TimerContext<String>,
        Key(user): Key<&String>,
        #[state_id("count")] count: &mut Value<u64>,
    ) {
        cx.output(format!("{user}: {} events", count.read().copied().unwrap_or(0)));
    }
}

fn main() {
    fn assert_dofn<D: DoFn>() {}
    assert_dofn::<CountPerUser>();
}
