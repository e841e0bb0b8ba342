//! Arbitrary-but-consistent index assignment: number the elements of each key and window 0, 1, 2, ...
//!
//! The first example of Beam's "Stateful processing" post. The only state is a `Value` holding the next index;
//! since state is scoped to a key *and* a window, each (user, minute) pair counts on its own, and the runner
//! is free to process different users on different threads. Which element gets which index depends on the
//! order elements arrive in (that is the "arbitrary" part); that indices are unique, start at 0 and leave no
//! gap is guaranteed (the "consistent" part).
//!
//! Run it with `cargo run --example index_assignment`.

use std::error::Error;
use std::io::Write;

use dofn::prelude::*;

/// A user id: the key.
pub type UserId = String;

/// A page view: the user and the page.
pub type PageView = (UserId, String);

/// Gives every element of a key and window the next index, starting at 0.
#[dofn]
#[derive(Clone, Default)]
pub struct AssignIndex {
    /// The index the next element of this key and window gets.
    #[state_id("index")]
    index: StateSpec<Value<u64>>,
}

#[dofn]
impl AssignIndex {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<PageView, (u64, PageView)>, #[state_id("index")] index: &mut Value<u64>) {
        let current = index.read().copied().unwrap_or(0);
        cx.output((current, cx.element().clone()));
        index.write(current + 1);
    }
}

/// The sample's page views: user, page, and seconds past 2024-05-01T09:00:00Z.
const VIEWS: [(&str, &str, i64); 12] = [
    ("alice", "/home", 3),
    ("bob", "/home", 8),
    ("alice", "/pricing", 17),
    ("carol", "/docs", 21),
    ("alice", "/signup", 42),
    ("bob", "/blog", 55),
    ("carol", "/docs/state", 61),
    ("alice", "/home", 64),
    ("carol", "/docs/timers", 70),
    ("carol", "/pricing", 88),
    ("bob", "/home", 95),
    ("alice", "/account", 119),
];

/// `2024-05-01T09:00:04.000Z` as `09:00:04`, and `2024-05-01T09:00:59.999Z` as `09:00:59.999`.
fn clock(t: Instant) -> String {
    let iso = t.to_string();
    let end = if t.millis() % 1000 == 0 { 19 } else { 23 };
    iso[11..end].to_string()
}

/// Runs the assignment over the sample and prints the indices per window and user, then checks them.
pub fn run(out: &mut impl Write) -> Result<(), Box<dyn Error>> {
    let views = VIEWS
        .map(|(user, page, secs)| ((user.to_string(), page.to_string()), Instant::from_secs(1_714_554_000 + secs)));
    // Default workers: users are spread over all cores. The indices do not depend on it, since each key is
    // processed by one thread, in input order.
    let result = Pipeline::from_values(views)
        .window_into(WindowFn::fixed(Duration::from_mins(1)))
        .apply(AssignIndex::default())
        .run()?;

    // Sort by window, then user, then index: the order outputs come in depends on the number of threads.
    let mut rows: Vec<(Window, &str, u64, &str, Instant)> = result
        .outputs()
        .iter()
        .map(|o| {
            let (index, (user, page)) = &o.value;
            (o.window, user.as_str(), *index, page.as_str(), o.timestamp)
        })
        .collect();
    rows.sort();

    writeln!(out, "Indices per user and one-minute window (2024-05-01, UTC):")?;
    // Every (user, window) pair must number its elements 0, 1, 2, ..., each once.
    let (mut pairs, mut expected, mut consistent) = (0, 0, true);
    for (i, &(window, user, index, page, timestamp)) in rows.iter().enumerate() {
        let previous = i.checked_sub(1).map(|p| rows[p]);
        if previous.is_none_or(|p| p.0 != window) {
            writeln!(out, "window [{}, {})", &clock(window.start())[..5], &clock(window.end())[..5])?;
        }
        if previous.is_none_or(|p| (p.0, p.1) != (window, user)) {
            pairs += 1;
            expected = 0;
        }
        consistent &= index == expected;
        expected += 1;
        writeln!(out, "  {user:<5}  index {index}  {page:<14} timestamp {}", clock(timestamp))?;
    }

    writeln!(out)?;
    writeln!(
        out,
        "{} page views, {} (user, window) pairs: {}",
        result.outputs().len(),
        pairs,
        if consistent { "each numbered 0..n-1, no gap, no repeat" } else { "INCONSISTENT INDICES" }
    )?;
    writeln!(out, "metrics: {}", result.metrics_of("AssignIndex"))?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut std::io::stdout().lock())
}
