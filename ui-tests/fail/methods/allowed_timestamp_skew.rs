use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct MutSkew;

#[dofn]
impl MutSkew {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<u64, u64>) {}

    #[allowed_timestamp_skew]
    fn skew(&mut self) -> Duration {
        Duration::from_secs(1)
    }
}

#[dofn]
#[derive(Clone)]
struct MillisSkew;

#[dofn]
impl MillisSkew {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<u64, u64>) {}

    #[allowed_timestamp_skew]
    fn skew(&self) -> u64 {
        1_000
    }
}

#[dofn]
#[derive(Clone)]
struct ElementSkew;

#[dofn]
impl ElementSkew {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<u64, u64>) {}

    #[allowed_timestamp_skew]
    fn skew(&self, Element(e): Element<&u64>) -> Duration {
        Duration::from_millis(*e as i64)
    }
}

#[dofn]
#[derive(Clone)]
struct NoSkew;

#[dofn]
impl NoSkew {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<u64, u64>) {}

    #[allowed_timestamp_skew]
    fn skew(&self) {}
}

fn main() {}
