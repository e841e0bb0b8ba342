//! `#[dofn::dofn]` with path-qualified attributes (`#[dofn::state_id(..)]`, `#[dofn::process_element]`, ...),
//! and no imports: the forms are the same as the bare ones.

#[dofn::dofn]
#[derive(Clone, Default)]
struct Counter {
    #[dofn::state_id("count")]
    count: dofn::state::StateSpec<dofn::state::Value<u32>>,
    #[::dofn::timer_id("flush")]
    flush: dofn::timer::TimerSpec<dofn::timer::EventTime>,
}

#[dofn::dofn]
impl Counter {
    #[dofn::process_element]
    fn process(
        &self,
        cx: &mut dofn::ProcessContext<(String, u32), u32>,
        #[dofn::state_id("count")] count: &mut dofn::state::Value<u32>,
        #[dofn::timer_id("flush")] flush: &mut dofn::timer::Timer,
    ) {
        let n = count.read().copied().unwrap_or(0) + cx.value();
        count.write(n);
        flush.set(cx.window().max_timestamp());
    }

    #[dofn::on_timer("flush")]
    fn on_flush(&self, cx: &mut dofn::TimerContext<u32>, #[dofn::state_id("count")] count: &mut dofn::state::Value<u32>) {
        cx.output(count.read().copied().unwrap_or(0));
    }
}

fn main() {
    use dofn::time::Instant;
    let input = [(("a".to_string(), 1u32), Instant::from_secs(1)), (("a".to_string(), 2), Instant::from_secs(2))];
    let result = dofn::Pipeline::from_values(input).apply(Counter::default()).run().unwrap();
    let values: Vec<u32> = result.sorted().iter().map(|v| v.value).collect();
    assert_eq!(values, [3]);
}
