//! Anomaly detection: score each transaction against a per-user model, and output a score only when it has
//! moved far enough from the last score output for that user.
//!
//! The second example of Beam's "Stateful processing" post. Two `Value` cells per user: the model (here the
//! running mean and variance of the user's amounts) and the previous prediction that was output. Each
//! transaction is scored against the model *before* the model learns from it; the score is output only if it
//! differs from the previous output by at least `min_change`, so downstream sees the changes, not a stream of
//! near-identical scores. The input is in the global window: the model keeps learning for as long as the
//! user is active.
//!
//! Run it with `cargo run --example anomaly_detection`.

use std::error::Error;
use std::io::Write;

use dofn::prelude::*;
use serde::{Deserialize, Serialize};

/// A user id: the key.
pub type UserId = String;

/// The model of one user's spending: the running mean and variance of the amounts (Welford's method).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Model {
    count: u64,
    mean: f64,
    /// The sum of squared differences from the mean.
    m2: f64,
}

impl Model {
    /// How many transactions the model needs before it scores any.
    const MIN_HISTORY: u64 = 3;

    /// How unusual `amount` is for this user: its distance from the mean, in standard deviations (at least
    /// 10% of the mean, so that a very regular user is not flagged for a few cents). 0.0 while the model
    /// has too little history.
    pub fn predict(&self, amount: f64) -> f64 {
        if self.count < Self::MIN_HISTORY {
            return 0.0;
        }
        let std_dev = (self.m2 / (self.count - 1) as f64).sqrt().max(0.1 * self.mean.abs()).max(1.0);
        ((amount - self.mean).abs() / std_dev * 10.0).round() / 10.0
    }

    /// Learns from `amount`.
    pub fn add(&mut self, amount: f64) {
        self.count += 1;
        let delta = amount - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (amount - self.mean);
    }
}

/// An output: a transaction whose score moved enough since the user's previous output.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// The user.
    pub user: UserId,
    /// The transaction's amount.
    pub amount: f64,
    /// Its anomaly score.
    pub score: f64,
    /// The previous score output for this user, if any.
    pub previous: Option<f64>,
}

/// Scores transactions per user and outputs the scores that changed by at least `min_change`.
#[dofn]
#[derive(Clone)]
pub struct DetectAnomalies {
    /// How far a score must move from the previous output to be output.
    min_change: f64,
    /// The user's model.
    #[state_id("model")]
    model: StateSpec<Value<Model>>,
    /// The last score output for the user.
    #[state_id("previous_prediction")]
    previous_prediction: StateSpec<Value<f64>>,
}

impl DetectAnomalies {
    /// A detector that outputs a score when it differs from the previous output by at least `min_change`.
    pub fn new(min_change: f64) -> Self {
        DetectAnomalies { min_change, model: StateSpec::new(), previous_prediction: StateSpec::new() }
    }
}

#[dofn]
impl DetectAnomalies {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(UserId, f64), Prediction>,
        #[state_id("model")] model: &mut Value<Model>,
        #[state_id("previous_prediction")] previous_prediction: &mut Value<f64>,
    ) {
        let amount = *cx.value();
        // Score against the model as it was, then let it learn. Mutating the value in the cell is fine:
        // `get_or_insert_with` hands out the stored model itself.
        let model = model.get_or_insert_with(Model::default);
        let score = model.predict(amount);
        model.add(amount);

        let previous = previous_prediction.read().copied();
        if previous.is_none_or(|p| (score - p).abs() >= self.min_change) {
            previous_prediction.write(score);
            cx.output(Prediction { user: cx.key().clone(), amount, score, previous });
        }
    }
}

/// The sample's transactions: user, amount, and seconds past 2024-05-01T09:00:00Z.
const TRANSACTIONS: [(&str, f64, i64); 20] = [
    ("alice", 24.0, 10),
    ("bob", 120.0, 15),
    ("alice", 31.5, 40),
    ("carol", 9.9, 55),
    ("alice", 27.0, 70),
    ("bob", 115.0, 80),
    ("alice", 29.0, 95),
    ("carol", 12.5, 100),
    ("bob", 125.0, 130),
    ("alice", 480.0, 150),
    ("carol", 11.0, 160),
    ("bob", 118.0, 170),
    ("alice", 26.0, 190),
    ("carol", 10.5, 200),
    ("bob", 150.0, 230),
    ("alice", 30.0, 250),
    ("carol", 95.0, 260),
    ("bob", 121.0, 280),
    ("carol", 140.0, 300),
    ("alice", 25.0, 310),
];

/// `2024-05-01T09:00:04.000Z` as `09:00:04`, and `2024-05-01T09:00:59.999Z` as `09:00:59.999`.
fn clock(t: Instant) -> String {
    let iso = t.to_string();
    let end = if t.millis() % 1000 == 0 { 19 } else { 23 };
    iso[11..end].to_string()
}

/// Runs the detector over the sample and prints each output and a summary.
pub fn run(out: &mut impl Write) -> Result<(), Box<dyn Error>> {
    const MIN_CHANGE: f64 = 2.0;
    let input =
        TRANSACTIONS.map(|(user, amount, secs)| ((user.to_string(), amount), Instant::from_secs(1_714_554_000 + secs)));
    let result = Pipeline::from_values(input)
        // One worker: outputs in input order (each user's outputs are in order with any number).
        .with_workers(1)
        .apply(DetectAnomalies::new(MIN_CHANGE))
        .run()?;

    writeln!(out, "Anomaly scores (how many standard deviations an amount is from the user's mean so far),")?;
    writeln!(out, "output when they move by {MIN_CHANGE:.1} or more from the user's previous output")?;
    writeln!(out, "(2024-05-01, UTC; the input is in the global window):")?;
    for o in result.outputs() {
        let p = &o.value;
        let previous = p.previous.map_or_else(|| "-".to_string(), |prev| format!("{prev:.1}"));
        writeln!(
            out,
            "  {:<5} amount {:>6.2}  score {:>5.1}  previous output {previous:>5}  timestamp {}  window {}",
            p.user,
            p.amount,
            p.score,
            clock(o.timestamp),
            o.window
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{} transactions, {} scores output, {} held back as too close to the previous output",
        TRANSACTIONS.len(),
        result.outputs().len(),
        TRANSACTIONS.len() - result.outputs().len()
    )?;
    writeln!(out, "metrics: {}", result.metrics_of("DetectAnomalies"))?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    run(&mut std::io::stdout().lock())
}
