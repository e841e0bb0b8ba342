//! A `Combining` cell declared with `StateSpec::new()` builds its combine function with `Default` for every
//! key and window: one without `Default` (here, a top-n whose `n` is a field) is rejected there, with a note
//! on giving the function to the spec (`StateSpec::combining`).

use dofn::prelude::*;

/// The `n` largest values.
#[derive(Clone)]
struct TopN {
    n: usize,
}

impl CombineFn for TopN {
    type Input = u64;
    type Accum = Vec<u64>;
    type Output = Vec<u64>;

    fn create_accumulator(&self) -> Vec<u64> {
        Vec::new()
    }

    fn add_input(&self, acc: &mut Vec<u64>, input: u64) {
        acc.push(input);
        acc.sort_unstable_by(|a, b| b.cmp(a));
        acc.truncate(self.n);
    }

    fn merge_accumulators(&self, accs: impl IntoIterator<Item = Vec<u64>>) -> Vec<u64> {
        let mut all: Vec<u64> = accs.into_iter().flatten().collect();
        all.sort_unstable_by(|a, b| b.cmp(a));
        all.truncate(self.n);
        all
    }

    fn extract_output(&self, acc: &Vec<u64>) -> Vec<u64> {
        acc.clone()
    }
}

#[dofn]
#[derive(Clone)]
struct Leaders {
    #[state_id("top")]
    top: StateSpec<Combining<TopN>>,
}

#[dofn]
impl Leaders {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(String, u64), Vec<u64>>, #[state_id("top")] top: &mut Combining<TopN>) {
        top.add(*cx.value());
        cx.output(top.read());
    }
}

fn main() {
    let _ = Leaders { top: StateSpec::new() };
}
