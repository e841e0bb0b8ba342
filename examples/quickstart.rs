//! The README's 30-second example: count each user's clicks per minute, and report the count when the minute
//! is over. `tests/examples.rs` checks that the README shows this file as it is.
use dofn::prelude::*;

/// Counts clicks per user and minute; reports each count when the watermark passes the end of the minute.
#[dofn]
#[derive(Clone, Default)]
struct ClicksPerMinute {
    #[state_id("clicks")]
    clicks: StateSpec<Value<u32>>,
    #[timer_id("minute_over")]
    minute_over: TimerSpec<EventTime>,
}

#[dofn]
impl ClicksPerMinute {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(String, String), String>,
        #[state_id("clicks")] clicks: &mut Value<u32>,
        #[timer_id("minute_over")] minute_over: &mut Timer,
    ) {
        *clicks.get_or_insert_with(|| 0) += 1;
        minute_over.set(cx.window().max_timestamp());
    }

    #[on_timer("minute_over")]
    fn report(
        &self,
        cx: &mut TimerContext<String>,
        Key(user): Key<&String>,
        #[state_id("clicks")] clicks: &mut Value<u32>,
    ) {
        let n = clicks.read().copied().unwrap_or(0);
        cx.output(format!("{user}: {n} click(s) in {}", cx.window()));
    }
}

pub fn run(out: &mut impl std::io::Write) -> Result<(), Box<dyn std::error::Error>> {
    let clicks = [("ann", "/home", 5), ("bob", "/docs", 12), ("ann", "/pricing", 30), ("ann", "/signup", 75)];
    let result = Pipeline::from_values(
        clicks.map(|(user, page, secs)| ((user.to_string(), page.to_string()), Instant::from_secs(secs))),
    )
    .window_into(WindowFn::fixed(Duration::from_secs(60)))
    .apply(ClicksPerMinute::default())
    .run()?;
    for report in result.sorted() {
        writeln!(out, "{}", report.value)?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    run(&mut std::io::stdout())
}
