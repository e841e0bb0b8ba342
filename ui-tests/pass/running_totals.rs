//! Seed scenario 5: running totals with CombiningState: sum, mean and count per key and window, reported
//! when the window closes.

use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct RunningTotals {
    #[state_id("sum")]
    sum: StateSpec<Combining<Sum<i64>>>,
    #[state_id("mean")]
    mean: StateSpec<Combining<Mean<i64>>>,
    #[state_id("count")]
    count: StateSpec<Combining<Count<i64>>>,
    #[timer_id("window_end")]
    window_end: TimerSpec<EventTime>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Totals {
    pub key: String,
    pub sum: i64,
    pub mean: Option<f64>,
    pub count: u64,
}

#[dofn]
impl RunningTotals {
    #[process_element]
    fn process(
        &self,
        Element((_, amount)): Element<&(String, i64)>,
        window: Window,
        _cx: &mut ProcessContext<(String, i64), Totals>,
        #[state_id("sum")] sum: &mut Combining<Sum<i64>>,
        #[state_id("mean")] mean: &mut Combining<Mean<i64>>,
        #[state_id("count")] count: &mut Combining<Count<i64>>,
        #[timer_id("window_end")] window_end: &mut Timer,
    ) {
        sum.add(*amount);
        mean.add(*amount);
        count.add(*amount);
        window_end.set(window.max_timestamp());
    }

    #[on_timer("window_end")]
    fn report(
        &self,
        cx: &mut TimerContext<Totals>,
        Key(key): Key<&String>,
        #[state_id("count")] count: &mut Combining<Count<i64>>,
        #[state_id("sum")] sum: &mut Combining<Sum<i64>>,
        #[state_id("mean")] mean: &mut Combining<Mean<i64>>,
    ) {
        cx.output(Totals { key: key.clone(), sum: sum.read(), mean: mean.read(), count: count.read() });
    }
}

fn main() {
    fn assert_dofn<D: DoFn>() {}
    assert_dofn::<RunningTotals>();
}
