//! A tuple struct works too: its cells are named by position in the generated record.

use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct Sessions(#[state_id("last_seen")] StateSpec<Value<Instant>>, #[timer_id("gap")] TimerSpec<EventTime>);

#[dofn]
impl Sessions {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(u32, ()), u32>,
        Timestamp(at): Timestamp,
        #[state_id("last_seen")] last_seen: &mut Value<Instant>,
        #[timer_id("gap")] gap: &mut Timer,
    ) {
        last_seen.write(at);
        gap.set(at + Duration::from_mins(30));
        let _ = cx;
    }

    #[on_timer("gap")]
    fn on_gap(&self, cx: &mut TimerContext<u32>, Key(user): Key<&u32>) {
        cx.output(*user);
    }
}

fn main() {
    fn assert_dofn<D: DoFn>() {}
    assert_dofn::<Sessions>();
}
