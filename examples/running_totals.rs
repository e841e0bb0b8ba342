//! Running totals: the sum, count and mean of each store's sales per ten-minute window, kept in three
//! `Combining` cells and reported when the window ends.
//!
//! A `Combining` cell holds the accumulator of a combine function (Beam's `CombiningState`): adding to it
//! folds the input in, reading it extracts the result. dofn ships `Sum`, `Count`, `Mean`, `Min` and `Max`;
//! a DoFn can also bring its own `CombineFn`. Here each sale is added to all three cells, and an event-time
//! timer at the end of the window outputs the totals.
//!
//! Run it with `cargo run --example running_totals`.

use std::error::Error;
use std::io::Write;

use dofn::prelude::*;

/// A store id: the key.
pub type StoreId = String;

/// A sale's amount, in cents.
pub type Cents = u64;

/// One store's totals for one window.
#[derive(Clone, Debug, PartialEq, PartialOrd)]
pub struct Totals {
    /// The store.
    pub store: StoreId,
    /// The number of sales.
    pub count: u64,
    /// The sum of the sales, in cents.
    pub sum: Cents,
    /// The mean sale, in cents (`None` without sales).
    pub mean: Option<f64>,
}

/// Keeps the sum, count and mean of each store's sales per window, and outputs them when the window ends.
#[dofn]
#[derive(Clone, Default)]
pub struct RunningTotals {
    /// The sum of the sales so far.
    #[state_id("sum")]
    sum: StateSpec<Combining<Sum<Cents>>>,
    /// The number of sales so far.
    #[state_id("count")]
    count: StateSpec<Combining<Count<Cents>>>,
    /// The mean sale so far.
    #[state_id("mean")]
    mean: StateSpec<Combining<Mean<Cents>>>,
    /// Fires when the watermark passes the end of the window.
    #[timer_id("window_end")]
    window_end: TimerSpec<EventTime>,
}

#[dofn]
impl RunningTotals {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(StoreId, Cents), Totals>,
        #[state_id("sum")] sum: &mut Combining<Sum<Cents>>,
        #[state_id("count")] count: &mut Combining<Count<Cents>>,
        #[state_id("mean")] mean: &mut Combining<Mean<Cents>>,
        #[timer_id("window_end")] window_end: &mut Timer,
    ) {
        let amount = *cx.value();
        sum.add(amount);
        count.add(amount);
        mean.add(amount);
        window_end.set(cx.window().max_timestamp());
    }

    #[on_timer("window_end")]
    fn on_window_end(
        &self,
        cx: &mut TimerContext<Totals>,
        Key(store): Key<&StoreId>,
        #[state_id("sum")] sum: &mut Combining<Sum<Cents>>,
        #[state_id("count")] count: &mut Combining<Count<Cents>>,
        #[state_id("mean")] mean: &mut Combining<Mean<Cents>>,
    ) {
        cx.output(Totals { store: store.clone(), count: count.read(), sum: sum.read(), mean: mean.read() });
    }
}

/// The sample's sales: store, amount in cents, and seconds past 2024-05-01T09:00:00Z.
const SALES: [(&str, Cents, i64); 16] = [
    ("downtown", 1250, 30),
    ("airport", 4999, 75),
    ("downtown", 899, 140),
    ("downtown", 2500, 410),
    ("airport", 1575, 480),
    ("airport", 2250, 555),
    ("downtown", 650, 620),
    ("harbor", 3100, 700),
    ("downtown", 1999, 845),
    ("harbor", 1200, 900),
    ("downtown", 4500, 1130),
    ("airport", 3999, 1290),
    ("airport", 1001, 1475),
    ("harbor", 2750, 1500),
    ("harbor", 800, 1620),
    ("downtown", 350, 1799),
];

/// `2024-05-01T09:00:04.000Z` as `09:00:04`, and `2024-05-01T09:00:59.999Z` as `09:00:59.999`.
fn clock(t: Instant) -> String {
    let iso = t.to_string();
    let end = if t.millis() % 1000 == 0 { 19 } else { 23 };
    iso[11..end].to_string()
}

/// Cents as dollars: `1250` as `$12.50`.
fn dollars(cents: f64) -> String {
    format!("${:.2}", cents / 100.0)
}

/// Runs the totals over the sample and prints one line per store and window.
pub fn run(out: &mut impl Write) -> Result<(), Box<dyn Error>> {
    let sales =
        SALES.map(|(store, cents, secs)| ((store.to_string(), cents), Instant::from_secs(1_714_554_000 + secs)));
    let result = Pipeline::from_values(sales)
        .window_into(WindowFn::fixed(Duration::from_mins(10)))
        .with_workers(1)
        .apply(RunningTotals::default())
        .run()?;

    writeln!(out, "Sales per store and ten-minute window (2024-05-01, UTC), output when the window ends:")?;
    let mut last_window = None;
    let mut outputs: Vec<&WindowedValue<Totals>> = result.outputs().iter().collect();
    // By window, then store: the order of the timers of one window follows the order keys arrived in.
    outputs.sort_by(|a, b| (a.window, &a.value.store).cmp(&(b.window, &b.value.store)));
    for o in outputs {
        if last_window != Some(o.window) {
            last_window = Some(o.window);
            writeln!(out, "window [{}, {})", &clock(o.window.start())[..5], &clock(o.window.end())[..5])?;
        }
        let t = &o.value;
        writeln!(
            out,
            "  {:<8}  {} sale{}  sum {:>7}  mean {:>6}  timestamp {}",
            t.store,
            t.count,
            if t.count == 1 { " " } else { "s" },
            dollars(t.sum as f64),
            t.mean.map_or_else(|| "-".to_string(), dollars),
            clock(o.timestamp)
        )?;
    }
    writeln!(out)?;
    let total: Cents = SALES.iter().map(|s| s.1).sum();
    writeln!(
        out,
        "{} sales, {} in total, in {} (store, window) totals",
        SALES.len(),
        dollars(total as f64),
        result.outputs().len()
    )?;
    writeln!(out, "metrics: {}", result.metrics_of("RunningTotals"))?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut std::io::stdout().lock())
}
