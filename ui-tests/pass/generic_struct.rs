//! A generic DoFn: the state record is generic over the same parameters. (Cells need `Send + 'static`
//! contents, so the struct bounds `V` accordingly.)

use std::fmt::Debug;
use std::hash::Hash;

use dofn::prelude::*;

#[dofn]
#[derive(Clone)]
struct LatestPerKey<K, V>
where
    V: Clone + Send + 'static,
{
    label: &'static str,
    _types: std::marker::PhantomData<fn() -> K>,
    #[state_id("latest")]
    latest: StateSpec<Value<V>>,
    #[state_id("history")]
    history: StateSpec<OrderedList<V>>,
}

#[dofn]
impl<K, V> LatestPerKey<K, V>
where
    K: Clone + Debug + Hash + Eq + Send + 'static,
    V: Clone + Send + 'static,
{
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(K, V), (K, V)>,
        Element((key, value)): Element<&(K, V)>,
        Timestamp(at): Timestamp,
        #[state_id("latest")] latest: &mut Value<V>,
        #[state_id("history")] history: &mut OrderedList<V>,
    ) {
        let _ = self.label;
        latest.write(value.clone());
        history.add(at, value.clone());
        cx.output((key.clone(), value.clone()));
    }
}

/// A generic stateless DoFn.
#[dofn]
#[derive(Clone)]
struct MapValues<F: Fn(u32) -> u32 + Clone + Send + 'static> {
    f: F,
}

#[dofn]
impl<F: Fn(u32) -> u32 + Clone + Send + 'static> MapValues<F> {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<u32, u32>, Element(x): Element<&u32>) {
        cx.output((self.f)(*x));
    }
}

fn main() {
    fn assert_dofn<D: DoFn>() {}
    assert_dofn::<LatestPerKey<String, f64>>();
    assert_dofn::<MapValues<fn(u32) -> u32>>();
    let _ = LatestPerKey::<String, f64> {
        label: "latest",
        _types: std::marker::PhantomData,
        latest: StateSpec::new(),
        history: StateSpec::new(),
    };
    let _ = MapValues { f: (|x| x + 1) as fn(u32) -> u32 };
}
