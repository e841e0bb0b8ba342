//! Taxi rides: turn a stream of GPS points into one summary per ride.
//!
//! The input is newline-delimited JSON, one ride point per line:
//!
//! ```json
//! {"ride_id":"ride-1","point_idx":0,"latitude":40.758,"longitude":-73.9855,"timestamp":1714554000000,
//!  "meter_reading":3.0,"passenger_count":1,"ride_status":"pickup"}
//! ```
//!
//! (one line in the file). `timestamp` is the event time in **milliseconds since the Unix epoch**, UTC;
//! `ride_status` is `"pickup"`, `"enroute"` or `"dropoff"`. Empty lines are ignored. A line that is not a
//! valid ride point is reported with its line number and the reason, and skipped; the run goes on.
//!
//! Points are keyed by `ride_id`. The DoFn keeps the ride so far in a `Value` (first and last point, number
//! of points) and outputs a summary:
//!
//! - with reason `DROPOFF_SEEN` as soon as the ride's dropoff point arrives, or
//! - with reason `TIMEOUT` when an event-time timer fires first: the watermark has passed the ride's latest
//!   point plus `max_silence`, so no point closed the ride in time.
//!
//! Every point ends up in exactly one summary: a point that arrives after its ride was summarised starts a
//! new summary for that ride (which will time out), rather than being dropped silently.
//!
//! The file is replayed as a stream: after each point the watermark advances to the latest timestamp read so
//! far minus `MAX_OUT_OF_ORDERNESS`, the usual heuristic for sources whose events are a little out of order.
//!
//! Run it with `cargo run --example taxi_rides` (the sample in `examples/data/taxi_rides.ndjson`), or pass
//! your own file: `cargo run --example taxi_rides -- rides.ndjson`.

use std::error::Error;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::process::ExitCode;

use dofn::prelude::*;
use serde::{Deserialize, Serialize};

/// The sample input shipped with the repository.
pub const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/taxi_rides.ndjson");

/// How far behind the latest timestamp read the watermark stays.
const MAX_OUT_OF_ORDERNESS: Duration = Duration::from_mins(1);

/// A ride id: the key.
pub type RideId = String;

/// Where a ride is at a point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RideStatus {
    /// The passengers got in.
    Pickup,
    /// On the way.
    Enroute,
    /// The passengers got out: the ride is over.
    Dropoff,
}

impl fmt::Display for RideStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            RideStatus::Pickup => "pickup",
            RideStatus::Enroute => "enroute",
            RideStatus::Dropoff => "dropoff",
        })
    }
}

/// One line of the input: a taxi's position and meter at one moment of a ride.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RidePoint {
    /// The ride this point belongs to.
    pub ride_id: RideId,
    /// The point's position in the ride (0 for the pickup).
    pub point_idx: u32,
    /// Latitude, in degrees.
    pub latitude: f64,
    /// Longitude, in degrees.
    pub longitude: f64,
    /// Event time, in milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// The fare so far, in dollars.
    pub meter_reading: f64,
    /// The number of passengers.
    pub passenger_count: u32,
    /// Pickup, enroute or dropoff.
    pub ride_status: RideStatus,
}

impl RidePoint {
    /// The point's event time.
    pub fn time(&self) -> Instant {
        Instant::from_millis(self.timestamp)
    }
}

/// Why a ride was summarised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Its dropoff point arrived.
    DropoffSeen,
    /// No point arrived for `max_silence` of event time.
    Timeout,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Reason::DropoffSeen => "DROPOFF_SEEN",
            Reason::Timeout => "TIMEOUT",
        })
    }
}

/// A ride as far as its points have arrived: the state kept per ride.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RideSoFar {
    /// The earliest point (by event time).
    first: RidePoint,
    /// The latest point (by event time).
    last: RidePoint,
    /// How many points arrived.
    points: u32,
}

impl RideSoFar {
    /// A ride of one point.
    fn new(point: RidePoint) -> Self {
        RideSoFar { first: point.clone(), last: point, points: 1 }
    }

    /// Adds a point, which may be earlier than points already seen.
    fn add(&mut self, point: RidePoint) {
        self.points += 1;
        if point.timestamp < self.first.timestamp {
            self.first = point;
        } else if point.timestamp >= self.last.timestamp {
            self.last = point;
        }
    }

    /// The summary of the ride, closed for `reason`.
    fn summary(self, reason: Reason) -> RideSummary {
        RideSummary {
            ride_id: self.last.ride_id.clone(),
            start: self.first.time(),
            start_status: self.first.ride_status,
            end: self.last.time(),
            end_status: self.last.ride_status,
            points: self.points,
            fare: self.last.meter_reading,
            passengers: self.last.passenger_count,
            reason,
        }
    }
}

/// The output: one ride, from its first point to its last.
#[derive(Clone, Debug, PartialEq)]
pub struct RideSummary {
    /// The ride.
    pub ride_id: RideId,
    /// The time of its earliest point.
    pub start: Instant,
    /// The status of its earliest point.
    pub start_status: RideStatus,
    /// The time of its latest point.
    pub end: Instant,
    /// The status of its latest point.
    pub end_status: RideStatus,
    /// How many points it had.
    pub points: u32,
    /// The meter reading at its latest point.
    pub fare: f64,
    /// The passenger count at its latest point.
    pub passengers: u32,
    /// Why it was summarised.
    pub reason: Reason,
}

/// Summarises each ride when its dropoff arrives, or when no point has arrived for `max_silence`.
#[dofn]
#[derive(Clone)]
pub struct SummarizeRides {
    /// How long (in event time) a ride may go without a point before it is summarised anyway.
    max_silence: Duration,
    /// The ride so far.
    #[state_id("ride")]
    ride: StateSpec<Value<RideSoFar>>,
    /// Fires `max_silence` after the ride's latest point.
    #[timer_id("timeout")]
    timeout: TimerSpec<EventTime>,
}

impl SummarizeRides {
    /// Summarises rides, timing out those with no point for `max_silence`.
    pub fn new(max_silence: Duration) -> Self {
        SummarizeRides { max_silence, ride: StateSpec::new(), timeout: TimerSpec::new() }
    }
}

#[dofn]
impl SummarizeRides {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(RideId, RidePoint), RideSummary>,
        #[state_id("ride")] ride: &mut Value<RideSoFar>,
        #[timer_id("timeout")] timeout: &mut Timer,
    ) {
        let point = cx.value().clone();
        let dropoff = point.ride_status == RideStatus::Dropoff;
        match ride.get_mut() {
            Some(so_far) => so_far.add(point),
            None => ride.write(RideSoFar::new(point)),
        }
        if dropoff {
            timeout.clear();
            if let Some(so_far) = ride.take() {
                cx.output(so_far.summary(Reason::DropoffSeen));
            }
        } else if let Some(so_far) = ride.read() {
            // Each point pushes the deadline back: the ride times out `max_silence` after its latest point.
            timeout.set(so_far.last.time() + self.max_silence);
        }
    }

    #[on_timer("timeout")]
    fn on_timeout(&self, cx: &mut TimerContext<RideSummary>, #[state_id("ride")] ride: &mut Value<RideSoFar>) {
        if let Some(so_far) = ride.take() {
            cx.output(so_far.summary(Reason::Timeout));
        }
    }
}

/// `2024-05-01T09:00:04.000Z` as `09:00:04`, and `2024-05-01T09:00:59.999Z` as `09:00:59.999` (the day is
/// printed once, in the header).
fn clock(t: Instant) -> String {
    let iso = t.to_string();
    let end = if t.millis() % 1000 == 0 { 19 } else { 23 };
    iso[11..end].to_string()
}

/// The timestamps a ride point may have, in milliseconds since the epoch: the years 0 to 9999, which print
/// as `YYYY-MM-DD` dates.
const TIMESTAMPS: std::ops::RangeInclusive<i64> = -62_167_219_200_000..=253_402_300_799_999;

/// Reads ride points from `input` (newline-delimited JSON), summarises the rides, and prints the skipped
/// lines, the summaries and a tally.
pub fn run(out: &mut impl Write, input: impl BufRead) -> Result<(), Box<dyn Error>> {
    const MAX_SILENCE: Duration = Duration::from_mins(5);

    let mut points = Vec::new();
    let mut skipped = 0;
    for (i, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<RidePoint>(&line) {
            Ok(point) if !TIMESTAMPS.contains(&point.timestamp) => {
                skipped += 1;
                writeln!(
                    out,
                    "line {}: skipped, timestamp {} ms is not between the years 0 and 9999",
                    i + 1,
                    point.timestamp
                )?;
            }
            Ok(point) => points.push(point),
            Err(e) => {
                skipped += 1;
                // serde_json says where in the line: "... at line 1 column 72". Keep the column only.
                let message = e.to_string();
                let reason = message.split(" at line ").next().unwrap_or(&message);
                writeln!(out, "line {}, column {}: skipped, not a ride point: {reason}", i + 1, e.column())?;
            }
        }
    }
    let points_read = points.len();

    // Replay the points as a stream, the watermark trailing the latest timestamp by MAX_OUT_OF_ORDERNESS.
    let mut stream = TestStream::new();
    let mut watermark = Instant::MIN;
    let mut day = None;
    for point in points {
        let time = point.time();
        day.get_or_insert_with(|| time.to_string()[..10].to_string());
        stream = stream.add_elements([((point.ride_id.clone(), point), time)]);
        if time - MAX_OUT_OF_ORDERNESS > watermark {
            watermark = time - MAX_OUT_OF_ORDERNESS;
            stream = stream.advance_watermark_to(watermark);
        }
    }
    let result = Pipeline::from_test_stream(stream)
        // One worker: summaries in the order they were output, the same on every run.
        .with_workers(1)
        .apply(SummarizeRides::new(MAX_SILENCE))
        .run()?;

    if skipped > 0 {
        writeln!(out)?;
    }
    writeln!(
        out,
        "Ride summaries, in the order they were output (times on {}, UTC; timeout after {MAX_SILENCE} without a point):",
        day.as_deref().unwrap_or("-")
    )?;
    for o in result.outputs() {
        let s = &o.value;
        writeln!(
            out,
            "  {:<6}  {:<12}  {} {:<7} -> {} {:<7}  {:>5}  {:>2} point(s)  fare ${:.2}  {} passenger(s)",
            s.ride_id,
            s.reason,
            clock(s.start),
            s.start_status,
            clock(s.end),
            s.end_status,
            (s.end - s.start).to_string(),
            s.points,
            s.fare,
            s.passengers
        )?;
        writeln!(out, "          output at {} in {}", clock(o.timestamp), o.window)?;
    }

    let in_summaries: u32 = result.values().map(|s| s.points).sum();
    let count = |reason| result.values().filter(|s| s.reason == reason).count();
    writeln!(out)?;
    writeln!(out, "{points_read} ride points read, {skipped} line(s) skipped")?;
    writeln!(
        out,
        "{} ride summaries ({} DROPOFF_SEEN, {} TIMEOUT) hold {in_summaries} of the {points_read} points read",
        result.outputs().len(),
        count(Reason::DropoffSeen),
        count(Reason::Timeout),
    )?;
    writeln!(out, "metrics: {}", result.metrics_of("SummarizeRides"))?;
    Ok(())
}

fn main() -> ExitCode {
    let path = std::env::args().nth(1).unwrap_or_else(|| SAMPLE.to_string());
    let result = match File::open(&path) {
        Ok(file) => run(&mut std::io::stdout().lock(), BufReader::new(file)),
        Err(e) => Err(format!("cannot open {path}: {e}").into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("taxi_rides: {e}");
            ExitCode::FAILURE
        }
    }
}
