//! Seed scenario 4: taxi rides. Ride points keyed by ride id; one summary per ride, when the drop-off is
//! seen or when an event-time timeout fires first.

use dofn::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RideStatus {
    Pickup,
    Enroute,
    Dropoff,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RidePoint {
    pub ride_id: String,
    pub point_idx: u32,
    pub latitude: f64,
    pub longitude: f64,
    pub timestamp: i64,
    pub meter_reading: f64,
    pub passenger_count: u32,
    pub ride_status: RideStatus,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RideSummary {
    pub ride_id: String,
    pub start: Instant,
    pub start_status: RideStatus,
    pub end: Instant,
    pub end_status: RideStatus,
    pub duration: Duration,
    pub points: usize,
    pub reason: &'static str,
}

#[dofn]
#[derive(Clone)]
pub struct RideSummaries {
    timeout: Duration,
    #[state_id("points")]
    points: StateSpec<OrderedList<RideStatus>>,
    #[state_id("finished")]
    finished: StateSpec<Value<bool>>,
    #[timer_id("timeout")]
    timeout_timer: TimerSpec<EventTime>,
}

#[dofn]
impl RideSummaries {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(String, RidePoint), RideSummary>,
        Element((ride_id, point)): Element<&(String, RidePoint)>,
        Timestamp(at): Timestamp,
        #[state_id("points")] points: &mut OrderedList<RideStatus>,
        #[state_id("finished")] finished: &mut Value<bool>,
        #[timer_id("timeout")] timeout: &mut Timer,
    ) {
        if finished.read().copied().unwrap_or(false) {
            return;
        }
        points.add(at, point.ride_status);
        if point.ride_status == RideStatus::Dropoff {
            cx.output(summary(ride_id, points, "DROPOFF_SEEN"));
            points.clear();
            finished.write(true);
            timeout.clear();
        } else {
            timeout.offset(self.timeout).set_relative();
        }
    }

    #[on_timer("timeout")]
    fn on_timeout(
        &self,
        cx: &mut TimerContext<RideSummary>,
        Key(ride_id): Key<&String>,
        #[state_id("points")] points: &mut OrderedList<RideStatus>,
    ) {
        if !points.is_empty() {
            cx.output(summary(ride_id, points, "TIMEOUT"));
            points.clear();
        }
    }
}

fn summary(ride_id: &str, points: &OrderedList<RideStatus>, reason: &'static str) -> RideSummary {
    let (start, start_status) = points.read().next().map(|(t, s)| (t, *s)).expect("a point");
    let (end, end_status) = points.read().next_back().map(|(t, s)| (t, *s)).expect("a point");
    RideSummary {
        ride_id: ride_id.to_string(),
        start,
        start_status,
        end,
        end_status,
        duration: end - start,
        points: points.len(),
        reason,
    }
}

fn main() {
    fn assert_dofn<D: DoFn<Key = String>>() {}
    assert_dofn::<RideSummaries>();
    let _ = RideSummaries {
        timeout: Duration::from_mins(10),
        points: StateSpec::new(),
        finished: StateSpec::new(),
        timeout_timer: TimerSpec::new(),
    };
}
