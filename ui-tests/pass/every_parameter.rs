//! Every parameter kind, every lifecycle method, the allowed timestamp skew, a timer family, `#[on_window_expiration]`, every cell kind,
//! `&mut self` and `&self`, both return types, and a second (plain) impl block with helpers.

use std::collections::BTreeMap;

use dofn::prelude::*;

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Reading {
    pub sensor: String,
    pub value: i64,
}

#[dofn]
#[derive(Clone, Default)]
pub struct Everything {
    calls: BTreeMap<&'static str, u32>,
    #[state_id("last")]
    last: StateSpec<Value<i64>>,
    #[state_id("all")]
    all: StateSpec<Bag<Reading>>,
    #[state_id("total")]
    total: StateSpec<Combining<Max<i64>>>,
    #[state_id("by_sensor")]
    by_sensor: StateSpec<Map<String, i64>>,
    #[state_id("sensors")]
    sensors: StateSpec<Set<String>>,
    #[state_id("timeline")]
    timeline: StateSpec<OrderedList<i64>>,
    #[state_id("history")]
    history: StateSpec<Multimap<String, i64>>,
    #[timer_id("end_of_window")]
    end_of_window: TimerSpec<EventTime>,
    #[timer_id("heartbeat")]
    heartbeat: TimerSpec<ProcessingTime>,
    #[timer_family_id("per_sensor")]
    per_sensor: TimerFamilySpec<EventTime>,
}

#[dofn]
impl Everything {
    #[setup]
    fn setup(&mut self) -> Result<(), std::io::Error> {
        self.count("setup");
        Ok(())
    }

    #[start_bundle]
    fn start_bundle(&mut self) {
        self.count("start_bundle");
    }

    #[process_element]
    #[allow(clippy::too_many_arguments)]
    fn process(
        &mut self,
        #[state_id("history")] history: &mut Multimap<String, i64>,
        Key(key): Key<&String>,
        Element((_, reading)): Element<&(String, Reading)>,
        Timestamp(at): Timestamp,
        window: Window,
        cx: &mut ProcessContext<(String, Reading), String>,
        #[state_id("last")] last: &mut Value<i64>,
        #[state_id("all")] all: &mut Bag<Reading>,
        #[state_id("total")] total: &mut Combining<Max<i64>>,
        #[state_id("by_sensor")] by_sensor: &mut Map<String, i64>,
        #[state_id("sensors")] sensors: &mut Set<String>,
        #[state_id("timeline")] timeline: &mut OrderedList<i64>,
        #[timer_family_id("per_sensor")] per_sensor: &mut TimerMap,
        #[timer_id("heartbeat")] heartbeat: &mut Timer,
        #[timer_id("end_of_window")] end_of_window: &mut Timer,
    ) -> Result<(), String> {
        self.count("process");
        last.write(reading.value);
        all.add(reading.clone());
        total.add(reading.value);
        by_sensor.put(reading.sensor.clone(), reading.value);
        sensors.add(reading.sensor.clone());
        timeline.add(at, reading.value);
        history.put(reading.sensor.clone(), reading.value);
        per_sensor.get(&reading.sensor).set(at + Duration::from_secs(30));
        heartbeat.offset(Duration::from_secs(60)).set_relative();
        end_of_window.set(window.max_timestamp());
        cx.output(format!("{key}: {}", reading.value));
        Ok(())
    }

    #[on_timer("end_of_window")]
    fn on_end_of_window(
        &self,
        cx: &mut TimerContext<String>,
        Timestamp(fired): Timestamp,
        window: &Window,
        #[state_id("total")] total: &mut Combining<Max<i64>>,
        #[timer_id("heartbeat")] heartbeat: &mut Timer,
    ) {
        heartbeat.clear();
        cx.output(format!("max {:?} at {fired} in {window}", total.read()));
    }

    #[on_timer("heartbeat")]
    fn on_heartbeat(&self, cx: &mut TimerContext<String>, Key(key): Key<&String>) {
        cx.output(format!("{key} is alive"));
    }

    #[on_timer_family("per_sensor")]
    fn on_sensor_timer(
        &mut self,
        TimerTag(sensor): TimerTag,
        cx: &mut TimerContext<String>,
        #[state_id("by_sensor")] by_sensor: &mut Map<String, i64>,
        #[timer_family_id("per_sensor")] per_sensor: &mut TimerMap,
    ) {
        self.count("on_sensor_timer");
        if let Some(v) = by_sensor.remove(sensor) {
            cx.output(format!("{sensor} went quiet at {v}"));
        }
        per_sensor.clear(sensor);
    }

    #[on_window_expiration]
    fn on_window_expiration(
        &self,
        cx: &mut ExpirationContext<String>,
        Key(key): Key<&String>,
        window: Window,
        #[state_id("sensors")] sensors: &mut Set<String>,
        #[state_id("all")] all: &mut Bag<Reading>,
    ) {
        cx.output(format!("{key}: {} sensors, {} readings in {window}", sensors.len(), all.len()));
    }

    #[finish_bundle]
    fn finish_bundle(&mut self, cx: &mut BundleContext<String>) -> Result<(), String> {
        self.count("finish_bundle");
        let _ = cx;
        Ok(())
    }

    #[teardown]
    fn teardown(&self) {}

    #[allowed_timestamp_skew]
    fn skew(&self) -> Duration {
        Duration::from_secs(5)
    }
}

/// A plain impl block: helpers are ordinary methods.
impl Everything {
    fn count(&mut self, what: &'static str) {
        *self.calls.entry(what).or_default() += 1;
    }
}

fn main() {
    fn assert_dofn<D: DoFn<Input = (String, Reading), Output = String, Key = String>>() {}
    assert_dofn::<Everything>();
    assert!(<Everything as DoFn>::HAS_WINDOW_EXPIRATION);
    assert_eq!(<Everything as DoFn>::TIMERS.len(), 2);
    assert_eq!(<Everything as DoFn>::TIMER_FAMILIES.len(), 1);
    assert_eq!(Everything::default().allowed_timestamp_skew(), Duration::from_secs(5));
}
