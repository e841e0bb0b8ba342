//! `#[cfg]` where `#[dofn]` does not wire anything: plain configuration fields, helper methods, and
//! `#[cfg_attr]`s that add other attributes to role methods. `Tally`'s `#[derive]` comes before `#[dofn]`;
//! either order compiles.

use dofn::prelude::*;

#[derive(Clone, Default)]
#[dofn]
struct Tally {
    #[cfg(any())]
    verbose: bool,
    #[cfg(all())]
    step: u32,
    #[state_id("total")]
    total: StateSpec<Value<u32>>,
}

#[dofn]
impl Tally {
    #[process_element]
    #[cfg_attr(all(), inline)]
    #[cfg_attr(any(), allow(unused_variables))]
    fn process(&self, cx: &mut ProcessContext<(String, u32), u32>, #[state_id("total")] total: &mut Value<u32>) {
        let n = total.read().copied().unwrap_or(0) + cx.value() * self.step();
        total.write(n);
        cx.output(n);
    }

    #[cfg(all())]
    fn step(&self) -> u32 {
        self.step
    }

    #[cfg(any())]
    fn step(&self) -> u32 {
        if self.verbose { 0 } else { 1 }
    }
}

/// A tuple struct may put a `#[cfg]` on fields after its declarations.
#[dofn]
#[derive(Clone, Default)]
struct Last(#[state_id("last")] StateSpec<Value<u32>>, #[cfg(any())] u8);

#[dofn]
impl Last {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(String, u32), u32>, #[state_id("last")] last: &mut Value<u32>) {
        last.write(*cx.value());
        cx.output(*cx.value());
    }
}

fn main() {
    let input = [(("a".to_string(), 1u32), Instant::from_secs(1)), (("a".to_string(), 2), Instant::from_secs(2))];
    let tally = Tally { step: 10, ..Tally::default() };
    let result = Pipeline::from_values(input.clone()).apply(tally).run().unwrap();
    let values: Vec<u32> = result.sorted().iter().map(|v| v.value).collect();
    assert_eq!(values, [10, 30]);
    let result = Pipeline::from_values(input).apply(Last::default()).run().unwrap();
    assert_eq!(result.sorted().len(), 2);
}
