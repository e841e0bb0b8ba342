//! A state cell may name the struct's const parameter (a ring of the last `N` values per key).

use dofn::prelude::*;

#[dofn]
#[derive(Clone, Default)]
struct LastN<const N: usize> {
    #[state_id("ring")]
    ring: StateSpec<Value<[u64; N]>>,
    #[state_id("seen")]
    seen: StateSpec<Value<usize>>,
}

#[dofn]
impl<const N: usize> LastN<N> {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(String, u64), [u64; N]>,
        #[state_id("ring")] ring: &mut Value<[u64; N]>,
        #[state_id("seen")] seen: &mut Value<usize>,
    ) {
        let n = seen.get_or_insert_with(|| 0);
        let slots = ring.get_or_insert_with(|| [0; N]);
        slots[*n % N] = *cx.value();
        *n += 1;
        cx.output(*slots);
    }
}

fn main() {
    let input = [1u64, 2, 3].map(|v| (("k".to_string(), v), Instant::from_secs(v as i64)));
    let result = Pipeline::from_values(input).apply(LastN::<2>::default()).run().unwrap();
    let rings: Vec<[u64; 2]> = result.sorted().iter().map(|v| v.value).collect();
    assert_eq!(rings, [[1, 0], [1, 2], [3, 2]]);
}
