//! A generic impl need not bound its parameters by `'static`: `#[dofn]` implements `DoFn` for the `'static`
//! ones (a DoFn moves to worker threads), and the impl's own methods stay as general as written.

use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct Latest<V> {
    #[state_id("latest")]
    latest: StateSpec<Value<V>>,
}

#[dofn]
impl<V: Clone + Send> Latest<V> {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(String, V), V>, #[state_id("latest")] latest: &mut Value<V>) {
        latest.write(cx.value().clone());
        cx.output(cx.value().clone());
    }
}

#[dofn]
#[derive(Clone)]
struct Tagged<T, const N: usize>
where
    T: Clone,
{
    tag: T,
}

#[dofn]
impl<T, const N: usize> Tagged<T, N>
where
    T: Clone + Send + std::fmt::Display,
{
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<u32, String>) {
        cx.output(format!("{}{}:{}", self.tag, N, cx.element()));
    }
}

fn main() {
    let input = [(("a".to_string(), 1u64), Instant::from_secs(1)), (("b".to_string(), 2), Instant::from_secs(2))];
    let result = Pipeline::from_values(input).apply(Latest { latest: StateSpec::new() }).run().unwrap();
    let values: Vec<u64> = result.sorted().iter().map(|v| v.value).collect();
    assert_eq!(values, [1, 2]);

    let result = Pipeline::from_values([(7u32, Instant::from_secs(1))]).apply(Tagged::<_, 3> { tag: "t" }).run().unwrap();
    let values: Vec<String> = result.sorted().iter().map(|v| v.value.clone()).collect();
    assert_eq!(values, ["t3:7"]);
}
