//! Seed scenario 3: anomaly detection. A "model" Value and a "previous prediction" Value per key; output
//! only when the prediction changes by more than a threshold.

use dofn::prelude::*;

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Model {
    pub mean: f64,
    pub n: u64,
}

impl Model {
    fn update(&mut self, x: f64) -> f64 {
        self.n += 1;
        self.mean += (x - self.mean) / self.n as f64;
        self.mean
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Anomalous { sensor: String, prediction: f64 },
    Normal { sensor: String, prediction: f64 },
}

#[dofn]
#[derive(Clone)]
struct DetectAnomalies {
    threshold: f64,
    #[state_id("model")]
    model: StateSpec<Value<Model>>,
    #[state_id("previous_prediction")]
    previous_prediction: StateSpec<Value<f64>>,
}

#[dofn]
impl DetectAnomalies {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(String, f64), Verdict>,
        Element((sensor, reading)): Element<&(String, f64)>,
        #[state_id("previous_prediction")] previous: &mut Value<f64>,
        #[state_id("model")] model: &mut Value<Model>,
    ) -> Result<(), String> {
        if !reading.is_finite() {
            return Err(format!("sensor {sensor} sent {reading}"));
        }
        let prediction = model.get_or_insert_with(Model::default).update(*reading);
        let changed = previous.read().is_none_or(|p| (p - prediction).abs() > self.threshold);
        previous.write(prediction);
        if changed {
            let sensor = sensor.clone();
            cx.output(if prediction > self.threshold {
                Verdict::Anomalous { sensor, prediction }
            } else {
                Verdict::Normal { sensor, prediction }
            });
        }
        Ok(())
    }
}

fn main() {
    fn assert_dofn<D: DoFn>() {}
    assert_dofn::<DetectAnomalies>();
    let _ = DetectAnomalies { threshold: 0.5, model: StateSpec::new(), previous_prediction: StateSpec::new() };
}
