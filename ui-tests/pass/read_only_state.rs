//! A method that only reads a state cell takes it by shared reference (`&Value<u32>`), next to methods that
//! take the same cell by `&mut`.

use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct Totals {
    #[state_id("total")]
    total: StateSpec<Value<u32>>,
    #[state_id("seen")]
    seen: StateSpec<Bag<u32>>,
    #[timer_id("report")]
    report: TimerSpec<EventTime>,
}

#[dofn]
impl Totals {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(String, u32), String>,
        #[state_id("total")] total: &mut Value<u32>,
        #[state_id("seen")] seen: &mut Bag<u32>,
        #[timer_id("report")] report: &mut Timer,
    ) {
        let n = total.read().copied().unwrap_or(0) + cx.value();
        total.write(n);
        seen.add(*cx.value());
        report.set(cx.window().max_timestamp());
    }

    #[on_timer("report")]
    fn on_report(
        &self,
        cx: &mut TimerContext<String>,
        Key(user): Key<&String>,
        #[state_id("seen")] seen: &Bag<u32>,
        #[state_id("total")] total: &Value<u32>,
    ) {
        let count = seen.read().len();
        cx.output(format!("{user}: {} in {count}", total.read().copied().unwrap_or(0)));
    }

    #[on_window_expiration]
    fn on_expiry(&self, _cx: &mut ExpirationContext<String>, #[state_id("total")] total: &Value<u32>) {
        let _ = total.read();
    }
}

fn main() {
    let input = [(("ann".to_string(), 1u32), Instant::from_secs(1)), (("ann".to_string(), 2), Instant::from_secs(2))];
    let result = Pipeline::from_values(input)
        .window_into(WindowFn::fixed(Duration::from_secs(60)))
        .apply(Totals::default())
        .run()
        .unwrap();
    let values: Vec<&str> = result.values().map(String::as_str).collect();
    assert_eq!(values, ["ann: 3 in 2"]);
}
