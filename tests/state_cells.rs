//! The state cells on their own: every operation of every kind, with exact expected values, and a serde round
//! trip of each.

use dofn::state::*;
use dofn::time::Instant;

fn t(millis: i64) -> Instant {
    Instant::from_millis(millis)
}

/// Serialises `cell` to JSON and back.
fn round_trip<C: serde::Serialize + serde::de::DeserializeOwned>(cell: &C) -> C {
    let json = serde_json::to_string(cell).expect("cell serialises");
    serde_json::from_str(&json).expect("cell deserialises")
}

fn sorted<T: Ord>(mut values: Vec<T>) -> Vec<T> {
    values.sort();
    values
}

fn is_empty_cell<C: StateCell>(cell: &C) -> bool {
    cell.is_empty()
}

fn clear_cell<C: StateCell>(cell: &mut C) {
    cell.clear();
}

#[test]
fn kinds_are_named() {
    assert_eq!(<Value<u8> as StateCell>::KIND, "Value");
    assert_eq!(<Bag<u8> as StateCell>::KIND, "Bag");
    assert_eq!(<Combining<Sum<i64>> as StateCell>::KIND, "Combining");
    assert_eq!(<Map<u8, u8> as StateCell>::KIND, "Map");
    assert_eq!(<Set<u8> as StateCell>::KIND, "Set");
    assert_eq!(<OrderedList<u8> as StateCell>::KIND, "OrderedList");
    assert_eq!(<Multimap<u8, u8> as StateCell>::KIND, "Multimap");
}

// ---------------------------------------------------------------- Value

#[test]
fn value_starts_empty() {
    let v = Value::<String>::default();
    assert_eq!(v.read(), None);
    assert!(v.is_empty());
    assert!(is_empty_cell(&v));
}

#[test]
fn value_write_replaces() {
    let mut v = Value::default();
    v.write(1u32);
    assert_eq!(v.read(), Some(&1));
    v.write(2);
    assert_eq!(v.read(), Some(&2));
    assert!(!v.is_empty());
}

#[test]
fn value_get_mut_and_get_or_insert_with() {
    let mut v = Value::<Vec<u8>>::default();
    assert_eq!(v.get_mut(), None);
    v.get_or_insert_with(Vec::new).push(1);
    v.get_or_insert_with(|| unreachable!("already set")).push(2);
    assert_eq!(v.read(), Some(&vec![1, 2]));
    if let Some(inner) = v.get_mut() {
        inner.push(3);
    }
    assert_eq!(v.read().map(Vec::as_slice), Some(&[1, 2, 3][..]));
}

#[test]
fn value_take_and_clear() {
    let mut v = Value::default();
    v.write("x".to_string());
    assert_eq!(v.take().as_deref(), Some("x"));
    assert!(v.is_empty());
    assert_eq!(v.take(), None);
    v.write("y".to_string());
    clear_cell(&mut v);
    assert_eq!(v.read(), None);
}

#[test]
fn value_round_trips() {
    let mut v = Value::default();
    v.write(42u64);
    assert_eq!(serde_json::to_string(&v).unwrap(), "[42]");
    assert_eq!(round_trip(&v).read(), Some(&42));
    let empty = Value::<u64>::default();
    assert_eq!(serde_json::to_string(&empty).unwrap(), "[]");
    assert!(round_trip(&empty).is_empty());
}

#[test]
fn a_value_written_as_null_is_not_taken_for_an_empty_cell() {
    // `()` and `None` are written as `null`: a cell holding one must not come back empty.
    let mut flag = Value::default();
    flag.write(());
    assert_eq!(serde_json::to_string(&flag).unwrap(), "[null]");
    assert_eq!(round_trip(&flag).read(), Some(&()));
    let mut maybe = Value::default();
    maybe.write(None::<u8>);
    assert_eq!(round_trip(&maybe).read(), Some(&None));
    // A float JSON cannot hold fails loudly instead of emptying the cell.
    let mut nan = Value::default();
    nan.write(f64::NAN);
    let json = serde_json::to_string(&nan).unwrap();
    assert!(serde_json::from_str::<Value<f64>>(&json).is_err(), "{json}");
    // More than one value is not a cell's.
    assert!(serde_json::from_str::<Value<u8>>("[1, 2]").is_err());
    let mut max = Combining::<Max<u8>>::default();
    max.add_accum(None);
    assert!(!max.is_empty());
    assert!(!round_trip(&max).is_empty(), "an accumulator written as null is kept");
}

// ---------------------------------------------------------------- Bag

#[test]
fn bag_reads_in_insertion_order() {
    let mut b = Bag::default();
    assert!(b.is_empty());
    assert_eq!(b.len(), 0);
    assert_eq!(b.read().next(), None);
    b.add(3);
    b.add(1);
    b.add(3);
    assert_eq!(b.read().copied().collect::<Vec<_>>(), [3, 1, 3]);
    assert_eq!(b.len(), 3);
    assert!(!b.is_empty());
}

#[test]
fn bag_extends_takes_and_clears() {
    let mut b = Bag::default();
    b.add("a".to_string());
    b.extend(["b".to_string(), "c".to_string()]);
    assert_eq!(b.len(), 3);
    let taken = b.take();
    assert_eq!(taken, ["a", "b", "c"]);
    assert!(b.is_empty());
    assert!(b.take().is_empty());
    b.add("d".to_string());
    b.clear();
    assert!(b.is_empty());
    assert_eq!(b.len(), 0);
}

#[test]
fn bag_iterates_by_reference_in_insertion_order() {
    let mut b = Bag::default();
    b.extend([2, 7, 2]);
    let mut seen = Vec::new();
    for v in &b {
        seen.push(*v);
    }
    assert_eq!(seen, [2, 7, 2]);
    assert_eq!((&b).into_iter().len(), 3);
    assert_eq!(b.len(), 3, "iterating leaves the values in the bag");
}

#[test]
fn bag_round_trips() {
    let mut b = Bag::default();
    b.extend([1, 2, 2]);
    assert_eq!(serde_json::to_string(&b).unwrap(), "[1,2,2]");
    assert_eq!(round_trip(&b).read().copied().collect::<Vec<i32>>(), [1, 2, 2]);
    assert!(round_trip(&Bag::<i32>::default()).is_empty());
}

// ---------------------------------------------------------------- Combining

#[test]
fn combining_empty_reads_a_fresh_accumulator() {
    assert_eq!(Combining::<Sum<i64>>::default().read(), 0);
    assert_eq!(Combining::<Sum<f64>>::default().read(), 0.0);
    assert_eq!(Combining::<Count<String>>::default().read(), 0);
    assert_eq!(Combining::<Min<i32>>::default().read(), None);
    assert_eq!(Combining::<Max<i32>>::default().read(), None);
    assert_eq!(Combining::<Mean<i32>>::default().read(), None);
    let c = Combining::<Sum<u32>>::default();
    assert!(c.is_empty());
    assert_eq!(c.read_accum(), None);
}

#[test]
fn combining_sum_adds_and_merges() {
    let mut c = Combining::<Sum<i64>>::default();
    c.add(5);
    c.add(-2);
    assert_eq!(c.read(), 3);
    assert_eq!(c.read_accum(), Some(&3));
    c.add_accum(10);
    assert_eq!(c.read(), 13);
    assert!(!c.is_empty());
    c.clear();
    assert!(c.is_empty());
    assert_eq!(c.read(), 0);
}

#[test]
fn combining_add_accum_into_empty_cell() {
    let mut c = Combining::<Sum<u64>>::default();
    c.add_accum(7);
    assert!(!c.is_empty());
    assert_eq!(c.read(), 7);
    c.add(1);
    assert_eq!(c.read(), 8);
}

#[test]
fn sum_of_every_numeric_type() {
    fn sum<F: CombineFn + Default>(inputs: impl IntoIterator<Item = F::Input>) -> F::Output {
        let mut c = Combining::<F>::default();
        for input in inputs {
            c.add(input);
        }
        c.read()
    }
    assert_eq!(sum::<Sum<i32>>([1, -4]), -3);
    assert_eq!(sum::<Sum<i64>>([1, 2]), 3);
    assert_eq!(sum::<Sum<u32>>([1, 2]), 3);
    assert_eq!(sum::<Sum<u64>>([1, 2]), 3);
    assert_eq!(sum::<Sum<usize>>([1, 2]), 3);
    assert_eq!(sum::<Sum<f32>>([0.5, 0.25]), 0.75);
    assert_eq!(sum::<Sum<f64>>([0.5, 0.25]), 0.75);
    // Integer sums wrap instead of panicking.
    assert_eq!(sum::<Sum<u32>>([u32::MAX, 2]), 1);
}

#[test]
fn sum_merges_accumulators() {
    let f = Sum::<i32>::default();
    assert_eq!(f.merge_accumulators([1, 2, 3]), 6);
    assert_eq!(f.merge_accumulators([]), 0);
}

#[test]
fn count_counts_inputs_of_any_type() {
    let mut c = Combining::<Count<String>>::default();
    c.add("a".to_string());
    c.add("b".to_string());
    c.add("a".to_string());
    assert_eq!(c.read(), 3);
    c.add_accum(4);
    assert_eq!(c.read(), 7);
    assert_eq!(Count::<()>::new().merge_accumulators([1, 2]), 3);
}

#[test]
fn min_and_max() {
    let mut min = Combining::<Min<i32>>::default();
    let mut max = Combining::<Max<i32>>::default();
    for x in [3, -1, 7, -1, 0] {
        min.add(x);
        max.add(x);
    }
    assert_eq!(min.read(), Some(-1));
    assert_eq!(max.read(), Some(7));
    min.add_accum(Some(-5));
    max.add_accum(None);
    assert_eq!(min.read(), Some(-5));
    assert_eq!(max.read(), Some(7));
    assert_eq!(Min::<f64>::new().merge_accumulators([None, Some(2.0), Some(1.5), None]), Some(1.5));
    assert_eq!(Max::<f64>::new().merge_accumulators([None, None]), None);

    let mut words = Combining::<Max<String>>::default();
    words.add("apple".to_string());
    words.add("pear".to_string());
    words.add("fig".to_string());
    assert_eq!(words.read().as_deref(), Some("pear"));
}

#[test]
fn min_and_max_skip_incomparable_inputs() {
    let mut max = Combining::<Max<f64>>::default();
    max.add(1.0);
    max.add(f64::NAN);
    max.add(3.0);
    assert_eq!(max.read(), Some(3.0));
    let mut min = Combining::<Min<f64>>::default();
    min.add(f64::NAN);
    min.add(1.0);
    assert!(min.read().is_some_and(f64::is_nan));
}

#[test]
fn mean_of_nothing_is_none() {
    let c = Combining::<Mean<f64>>::default();
    assert_eq!(c.read(), None);
    assert_eq!(MeanAccumulator::default(), MeanAccumulator { sum: 0.0, count: 0 });
    assert_eq!(MeanAccumulator::default().mean(), None);
}

#[test]
fn mean_adds_and_merges() {
    let mut c = Combining::<Mean<i32>>::default();
    c.add(1);
    c.add(2);
    c.add(6);
    assert_eq!(c.read(), Some(3.0));
    assert_eq!(c.read_accum(), Some(&MeanAccumulator { sum: 9.0, count: 3 }));
    c.add_accum(MeanAccumulator { sum: 11.0, count: 1 });
    assert_eq!(c.read(), Some(5.0));
    let f = Mean::<u64>::new();
    let merged = f.merge_accumulators([MeanAccumulator { sum: 1.0, count: 1 }, MeanAccumulator { sum: 5.0, count: 3 }]);
    assert_eq!(merged, MeanAccumulator { sum: 6.0, count: 4 });
    assert_eq!(f.extract_output(&merged), Some(1.5));
}

#[test]
fn mean_of_every_numeric_type() {
    fn mean<F: CombineFn<Output = Option<f64>> + Default>(a: F::Input, b: F::Input) -> Option<f64> {
        let mut c = Combining::<F>::default();
        c.add(a);
        c.add(b);
        c.read()
    }
    assert_eq!(mean::<Mean<i32>>(-1, -2), Some(-1.5));
    assert_eq!(mean::<Mean<i64>>(1, 2), Some(1.5));
    assert_eq!(mean::<Mean<u32>>(1, 2), Some(1.5));
    assert_eq!(mean::<Mean<u64>>(1, 2), Some(1.5));
    assert_eq!(mean::<Mean<usize>>(1, 2), Some(1.5));
    assert_eq!(mean::<Mean<f32>>(0.5, 1.0), Some(0.75));
    assert_eq!(mean::<Mean<f64>>(0.5, 1.0), Some(0.75));
}

/// A combine function with configuration, built with `with_fn`.
#[derive(Default)]
struct CappedSum {
    cap: u32,
}

impl CombineFn for CappedSum {
    type Input = u32;
    type Accum = u32;
    type Output = u32;
    fn create_accumulator(&self) -> u32 {
        0
    }
    fn add_input(&self, acc: &mut u32, input: u32) {
        *acc = (*acc + input).min(self.cap);
    }
    fn merge_accumulators(&self, accs: impl IntoIterator<Item = u32>) -> u32 {
        accs.into_iter().fold(0, |a, b| (a + b).min(self.cap))
    }
    fn extract_output(&self, acc: &u32) -> u32 {
        *acc
    }
}

#[test]
fn combining_with_a_configured_fn() {
    let mut c = Combining::with_fn(CappedSum { cap: 10 });
    assert_eq!(c.combine_fn().cap, 10);
    c.add(4);
    c.add(4);
    assert_eq!(c.read(), 8);
    c.add(4);
    assert_eq!(c.read(), 10);
    c.add_accum(3);
    assert_eq!(c.read(), 10);
}

#[test]
fn combining_round_trips_its_accumulator_only() {
    let mut sum = Combining::<Sum<i64>>::default();
    sum.add(3);
    assert_eq!(serde_json::to_string(&sum).unwrap(), "[3]");
    assert_eq!(round_trip(&sum).read(), 3);

    let mut mean = Combining::<Mean<u32>>::default();
    mean.add(1);
    mean.add(4);
    assert_eq!(serde_json::to_string(&mean).unwrap(), r#"[{"sum":5.0,"count":2}]"#);
    let back = round_trip(&mean);
    assert_eq!(back.read_accum(), Some(&MeanAccumulator { sum: 5.0, count: 2 }));
    assert_eq!(back.read(), Some(2.5));

    let empty = Combining::<Max<i32>>::default();
    assert_eq!(serde_json::to_string(&empty).unwrap(), "[]");
    assert!(round_trip(&empty).is_empty());
}

#[test]
fn combining_clears_through_state_cell() {
    let mut c = Combining::<Count<u8>>::default();
    c.add(1);
    assert!(!is_empty_cell(&c));
    clear_cell(&mut c);
    assert!(is_empty_cell(&c));
    assert_eq!(c.read(), 0);
}

// ---------------------------------------------------------------- Map

#[test]
fn map_put_get_replace() {
    let mut m = Map::<String, u32>::default();
    assert!(m.is_empty());
    m.put("a".to_string(), 1);
    m.put("b".to_string(), 2);
    m.put("a".to_string(), 3);
    assert_eq!(m.get("a"), Some(&3));
    assert_eq!(m.get(&"b".to_string()), Some(&2));
    assert_eq!(m.get("c"), None);
    assert_eq!(m.len(), 2);
    assert!(m.contains_key("a"));
    assert!(!m.contains_key("c"));
}

#[test]
fn map_get_mut_and_remove() {
    let mut m = Map::default();
    m.put(1u64, vec!['x']);
    if let Some(v) = m.get_mut(&1) {
        v.push('y');
    }
    assert_eq!(m.get(&1), Some(&vec!['x', 'y']));
    assert_eq!(m.get_mut(&2), None);
    assert_eq!(m.remove(&1), Some(vec!['x', 'y']));
    assert_eq!(m.remove(&1), None);
    assert!(m.is_empty());
}

#[test]
fn map_put_if_absent_returns_the_previous_value() {
    let mut m = Map::<&str, i32>::default();
    assert_eq!(m.put_if_absent("k", 1), None);
    assert_eq!(m.get(&"k"), Some(&1));
    assert_eq!(m.put_if_absent("k", 2), Some(&1));
    assert_eq!(m.get(&"k"), Some(&1));
    assert_eq!(m.len(), 1);
}

#[test]
fn map_compute_if_absent() {
    let mut m = Map::<String, usize>::default();
    *m.compute_if_absent("abc".to_string(), String::len) += 10;
    assert_eq!(m.get("abc"), Some(&13));
    let v = m.compute_if_absent("abc".to_string(), |_| unreachable!("present"));
    assert_eq!(*v, 13);
}

#[test]
fn map_iterates_keys_values_entries() {
    let mut m = Map::default();
    m.put(2, "two");
    m.put(1, "one");
    m.put(3, "three");
    assert_eq!(m.keys().len(), 3);
    assert_eq!(sorted(m.keys().copied().collect()), [1, 2, 3]);
    assert_eq!(sorted(m.values().copied().collect()), ["one", "three", "two"]);
    assert_eq!(sorted(m.entries().map(|(k, v)| (*k, *v)).collect()), [(1, "one"), (2, "two"), (3, "three")]);
    m.clear();
    assert!(m.is_empty());
    assert_eq!(m.len(), 0);
    assert_eq!(m.entries().count(), 0);
}

#[test]
fn map_takes_every_entry() {
    let mut m = Map::default();
    m.put("b".to_string(), 2);
    m.put("a".to_string(), 1);
    m.put("b".to_string(), 3);
    let in_entry_order: Vec<(String, i32)> = m.entries().map(|(k, v)| (k.clone(), *v)).collect();
    let taken = m.take();
    assert_eq!(taken, in_entry_order, "taken in the order the map reads");
    assert_eq!(sorted(taken), [("a".to_string(), 1), ("b".to_string(), 3)]);
    assert!(m.is_empty());
    assert_eq!(m.get("a"), None);
    assert_eq!(m.take(), []);
}

#[test]
fn map_round_trips() {
    let mut m = Map::default();
    m.put("a".to_string(), 1);
    m.put("b".to_string(), 2);
    let back: Map<String, i32> = round_trip(&m);
    assert_eq!(back.len(), 2);
    assert_eq!(back.get("a"), Some(&1));
    assert_eq!(back.get("b"), Some(&2));

    let mut one = Map::default();
    one.put(7u32, true);
    assert_eq!(serde_json::to_string(&one).unwrap(), r#"{"7":true}"#);
    assert_eq!(round_trip(&one).get(&7), Some(&true));
}

// ---------------------------------------------------------------- Set

#[test]
fn set_add_contains_remove() {
    let mut s = Set::default();
    assert!(s.is_empty());
    s.add("a".to_string());
    s.add("a".to_string());
    assert_eq!(s.len(), 1);
    assert!(s.contains("a"));
    assert!(!s.contains("b"));
    assert!(s.add_if_absent("b".to_string()));
    assert!(!s.add_if_absent("b".to_string()));
    assert_eq!(s.len(), 2);
    assert!(s.remove("a"));
    assert!(!s.remove("a"));
    assert_eq!(s.read().cloned().collect::<Vec<_>>(), ["b"]);
    s.clear();
    assert!(s.is_empty());
    assert_eq!(s.len(), 0);
}

#[test]
fn set_reads_every_value() {
    let mut s = Set::default();
    for x in [3, 1, 2, 1] {
        s.add(x);
    }
    assert_eq!(s.read().len(), 3);
    assert_eq!(sorted(s.read().copied().collect()), [1, 2, 3]);
}

#[test]
fn set_extends_and_takes() {
    let mut s = Set::default();
    s.add(1);
    s.extend([3, 1, 2, 3]);
    assert_eq!(s.len(), 3, "values already present are kept once");
    let in_read_order: Vec<i32> = s.read().copied().collect();
    let taken = s.take();
    assert_eq!(taken, in_read_order, "taken in the order the set reads");
    assert_eq!(sorted(taken), [1, 2, 3]);
    assert!(s.is_empty());
    assert_eq!(s.take(), Vec::<i32>::new());
    s.extend([4]);
    assert!(s.contains(&4) && !s.contains(&1), "a taken set is filled anew");
}

#[test]
fn set_round_trips() {
    let mut s = Set::default();
    s.add(5u8);
    assert_eq!(serde_json::to_string(&s).unwrap(), "[5]");
    s.add(9);
    let back: Set<u8> = round_trip(&s);
    assert_eq!(sorted(back.read().copied().collect()), [5, 9]);
}

// ---------------------------------------------------------------- OrderedList

#[test]
fn ordered_list_reads_in_timestamp_order() {
    let mut l = OrderedList::default();
    assert!(l.is_empty());
    l.add(t(30), "c");
    l.add(t(10), "a");
    l.add(t(20), "b");
    assert_eq!(l.read().collect::<Vec<_>>(), [(t(10), &"a"), (t(20), &"b"), (t(30), &"c")]);
    assert_eq!(l.len(), 3);
    assert!(!l.is_empty());
}

#[test]
fn ordered_list_keeps_insertion_order_within_a_timestamp() {
    let mut l = OrderedList::default();
    l.add(t(5), 1);
    l.add(t(1), 2);
    l.add(t(5), 3);
    l.add(t(1), 4);
    l.add(t(5), 5);
    assert_eq!(l.read().map(|(ts, v)| (ts.millis(), *v)).collect::<Vec<_>>(), [(1, 2), (1, 4), (5, 1), (5, 3), (5, 5)]);
}

#[test]
fn ordered_list_read_range_is_half_open() {
    let mut l = OrderedList::default();
    for ms in [10, 20, 20, 30, 40] {
        l.add(t(ms), ms);
    }
    let range = |min, limit| l.read_range(t(min), t(limit)).map(|(_, v)| *v).collect::<Vec<_>>();
    assert_eq!(range(20, 40), [20, 20, 30]);
    assert_eq!(range(10, 11), [10]);
    assert_eq!(range(11, 20), Vec::<i64>::new());
    assert_eq!(range(0, 100), [10, 20, 20, 30, 40]);
    assert_eq!(range(40, 41), [40]);
    // An empty or inverted range reads nothing (and does not panic).
    assert_eq!(range(20, 20), Vec::<i64>::new());
    assert_eq!(range(30, 10), Vec::<i64>::new());
    let all: Vec<_> = l.read_range(Instant::MIN, Instant::MAX).collect();
    assert_eq!(all.len(), 5);
    // Reversible.
    assert_eq!(l.read_range(t(10), t(30)).next_back(), Some((t(20), &20)));
}

#[test]
fn ordered_list_clear_range_is_half_open() {
    let fill = || {
        let mut l = OrderedList::default();
        for ms in [10, 20, 20, 30, 40] {
            l.add(t(ms), ms);
        }
        l
    };
    let values = |l: &OrderedList<i64>| l.read().map(|(_, v)| *v).collect::<Vec<_>>();

    let mut middle = fill();
    middle.clear_range(t(20), t(40));
    assert_eq!(values(&middle), [10, 40]);
    assert_eq!(middle.len(), 2);

    let mut prefix = fill();
    prefix.clear_range(Instant::MIN, t(20));
    assert_eq!(values(&prefix), [20, 20, 30, 40]);

    let mut suffix = fill();
    suffix.clear_range(t(30), Instant::MAX);
    assert_eq!(values(&suffix), [10, 20, 20]);

    let mut none = fill();
    none.clear_range(t(11), t(20));
    none.clear_range(t(30), t(30));
    none.clear_range(t(40), t(10));
    assert_eq!(values(&none), [10, 20, 20, 30, 40]);

    let mut all = fill();
    all.clear_range(t(10), t(41));
    assert!(all.is_empty());
    assert_eq!(all.len(), 0);
}

#[test]
fn ordered_list_adds_after_clear_range_stay_ordered() {
    let mut l = OrderedList::default();
    l.add(t(1), "a");
    l.add(t(2), "b");
    l.clear_range(t(2), t(3));
    l.add(t(2), "c");
    l.add(t(1), "d");
    assert_eq!(l.read().map(|(_, v)| *v).collect::<Vec<_>>(), ["a", "d", "c"]);
    l.clear();
    assert!(l.is_empty());
    l.add(t(0), "e");
    assert_eq!(l.read().collect::<Vec<_>>(), [(t(0), &"e")]);
}

#[test]
fn ordered_list_takes_every_value_in_order() {
    let mut l = OrderedList::default();
    l.add(t(20), "c");
    l.add(t(10), "a");
    l.add(t(20), "d");
    l.add(t(10), "b");
    assert_eq!(l.take(), [(t(10), "a"), (t(10), "b"), (t(20), "c"), (t(20), "d")]);
    assert!(l.is_empty());
    assert_eq!(l.read_range(t(0), t(100)).count(), 0);
    // Values added after a take keep their order too.
    l.add(t(5), "y");
    l.add(t(1), "x");
    l.add(t(5), "z");
    assert_eq!(l.take(), [(t(1), "x"), (t(5), "y"), (t(5), "z")]);
    assert_eq!(l.take(), []);
}

#[test]
fn ordered_list_round_trips_in_order() {
    let mut l = OrderedList::default();
    l.add(t(2000), "late".to_string());
    l.add(t(1000), "first".to_string());
    l.add(t(1000), "second".to_string());
    assert_eq!(serde_json::to_string(&l).unwrap(), r#"[[1000,"first"],[1000,"second"],[2000,"late"]]"#);
    let back: OrderedList<String> = round_trip(&l);
    assert_eq!(
        back.read().map(|(ts, v)| (ts.millis(), v.as_str())).collect::<Vec<_>>(),
        [(1000, "first"), (1000, "second"), (2000, "late")]
    );
    assert_eq!(back.len(), 3);
    assert!(round_trip(&OrderedList::<u8>::default()).is_empty());
}

#[test]
fn ordered_list_deserialises_unsorted_pairs() {
    let l: OrderedList<u8> = serde_json::from_str("[[5,1],[3,2],[5,3]]").unwrap();
    assert_eq!(l.read().map(|(ts, v)| (ts.millis(), *v)).collect::<Vec<_>>(), [(3, 2), (5, 1), (5, 3)]);
}

// ---------------------------------------------------------------- Multimap

#[test]
fn multimap_put_and_get() {
    let mut m = Multimap::default();
    assert!(m.is_empty());
    assert_eq!(m.len(), 0);
    m.put("a".to_string(), 1);
    m.put("b".to_string(), 2);
    m.put("a".to_string(), 3);
    m.put("a".to_string(), 1);
    assert_eq!(m.get("a").copied().collect::<Vec<_>>(), [1, 3, 1]);
    assert_eq!(m.get("b").copied().collect::<Vec<_>>(), [2]);
    assert_eq!(m.get("c").count(), 0);
    assert_eq!(m.len(), 4);
    assert!(m.contains_key("a"));
    assert!(!m.contains_key("c"));
    assert!(!m.is_empty());
}

#[test]
fn multimap_remove_takes_every_value_of_a_key() {
    let mut m = Multimap::default();
    m.put(1, 'x');
    m.put(1, 'y');
    m.put(2, 'z');
    assert_eq!(m.remove(&1), ['x', 'y']);
    assert_eq!(m.remove(&1), Vec::<char>::new());
    assert!(!m.contains_key(&1));
    assert_eq!(m.len(), 1);
    assert_eq!(m.remove(&2), ['z']);
    assert!(m.is_empty());
}

#[test]
fn multimap_keys_and_entries() {
    let mut m = Multimap::default();
    m.put(2, "b1");
    m.put(1, "a1");
    m.put(2, "b2");
    assert_eq!(m.keys().len(), 2);
    assert_eq!(sorted(m.keys().copied().collect()), [1, 2]);
    assert_eq!(sorted(m.entries().map(|(k, v)| (*k, *v)).collect()), [(1, "a1"), (2, "b1"), (2, "b2")]);
    m.clear();
    assert!(m.is_empty());
    assert_eq!(m.len(), 0);
    assert_eq!(m.entries().count(), 0);
}

#[test]
fn multimap_round_trips() {
    let mut m = Multimap::default();
    m.put("k".to_string(), 1);
    m.put("k".to_string(), 2);
    assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"k":[1,2]}"#);
    m.put("j".to_string(), 3);
    let back: Multimap<String, i32> = round_trip(&m);
    assert_eq!(back.len(), 3);
    assert_eq!(back.get("k").copied().collect::<Vec<_>>(), [1, 2]);
    assert_eq!(back.get("j").copied().collect::<Vec<_>>(), [3]);

    // Keys without values are dropped, so the cell reads as empty.
    let hollow: Multimap<String, i32> = serde_json::from_str(r#"{"k":[]}"#).unwrap();
    assert!(hollow.is_empty());
    assert!(!hollow.contains_key("k"));
}

// ---------------------------------------------------------------- every kind

#[test]
fn hash_based_cells_filled_the_same_way_iterate_in_the_same_order() {
    // Each cell hashes with its own hasher; a randomly seeded one would give two cells filled the same way
    // different orders (almost surely, with this many values), and a run a different order than the last.
    fn filled<C: Default>(fill: impl Fn(&mut C, u32)) -> C {
        let mut cell = C::default();
        for i in 0..200 {
            fill(&mut cell, i);
        }
        cell
    }
    let map = |m: &mut Map<String, u32>, i: u32| {
        m.put(format!("key-{i}"), i);
        if i.is_multiple_of(7) {
            m.remove(format!("key-{}", i / 2).as_str());
        }
    };
    let (a, b) = (filled(map), filled(map));
    assert_eq!(a.entries().collect::<Vec<_>>(), b.entries().collect::<Vec<_>>());
    let set = |s: &mut Set<u32>, i: u32| s.add(i.wrapping_mul(2_654_435_761));
    let (a, b) = (filled(set), filled(set));
    assert_eq!(a.read().collect::<Vec<_>>(), b.read().collect::<Vec<_>>());
    let multimap = |m: &mut Multimap<u64, u32>, i: u32| m.put(u64::from(i % 50) << 40, i);
    let (a, b) = (filled(multimap), filled(multimap));
    assert_eq!(a.entries().collect::<Vec<_>>(), b.entries().collect::<Vec<_>>());
}

#[test]
fn every_kind_clears_through_state_cell() {
    fn check<C: StateCell>(mut cell: C, fill: impl FnOnce(&mut C)) {
        assert!(is_empty_cell(&cell), "{} starts empty", C::KIND);
        fill(&mut cell);
        assert!(!is_empty_cell(&cell), "{} is filled", C::KIND);
        clear_cell(&mut cell);
        assert!(is_empty_cell(&cell), "{} is cleared", C::KIND);
    }
    check(Value::default(), |c| c.write(1));
    check(Bag::default(), |c| c.add(1));
    check(Combining::<Sum<i32>>::default(), |c| c.add(0));
    check(Map::default(), |c| c.put(1, 1));
    check(Set::default(), |c| c.add(1));
    check(OrderedList::default(), |c| c.add(t(0), 1));
    check(Multimap::default(), |c| c.put(1, 1));
}

#[test]
fn cells_clone_and_debug() {
    let mut v = Value::default();
    v.write(1);
    assert_eq!(v.clone().read(), Some(&1));
    assert_eq!(format!("{v:?}"), "Value(Some(1))");

    let mut b = Bag::default();
    b.add('a');
    assert_eq!(format!("{:?}", b.clone()), "Bag(['a'])");

    let mut c = Combining::<Sum<i32>>::default();
    c.add(2);
    assert_eq!(c.clone().read(), 2);
    assert_eq!(format!("{c:?}"), "Combining { fn_: Sum, accum: Some(2) }");

    let mut m = Map::default();
    m.put(1, 2);
    assert_eq!(format!("{:?}", m.clone()), "Map({1: 2})");

    let mut s = Set::default();
    s.add(1);
    assert_eq!(format!("{:?}", s.clone()), "Set({1})");

    let mut l = OrderedList::default();
    l.add(t(0), 'x');
    assert_eq!(format!("{:?}", l.clone()), "OrderedList [(1970-01-01T00:00:00.000Z, 'x')]");

    let mut mm = Multimap::default();
    mm.put(1, 'y');
    mm.put(1, 'z');
    assert_eq!(format!("{:?}", mm.clone()), "Multimap {1: ['y', 'z']}");
}

#[test]
fn map_and_multimap_extend_and_iterate_by_reference() {
    let mut m = Map::default();
    m.extend([("a", 1), ("b", 2), ("a", 3)]);
    assert_eq!(sorted((&m).into_iter().map(|(k, v)| (*k, *v)).collect()), [("a", 3), ("b", 2)]);
    let mut pairs = Vec::new();
    for (k, v) in &m {
        pairs.push((*k, *v));
    }
    assert_eq!(pairs, m.entries().map(|(k, v)| (*k, *v)).collect::<Vec<_>>(), "as entries() reads");

    let mut mm = Multimap::default();
    mm.extend([("a", 1), ("b", 2), ("a", 3)]);
    assert_eq!(mm.len(), 3);
    assert_eq!(mm.get("a").copied().collect::<Vec<_>>(), [1, 3]);
}

#[test]
fn multimap_takes_every_key_with_its_values() {
    let mut mm = Multimap::default();
    mm.put("b", 2);
    mm.put("a", 1);
    mm.put("b", 3);
    let keys: Vec<&str> = mm.keys().copied().collect();
    let taken = mm.take();
    assert_eq!(taken.iter().map(|(k, _)| *k).collect::<Vec<_>>(), keys, "keys in the order the multimap reads");
    assert_eq!(sorted(taken), [("a", vec![1]), ("b", vec![2, 3])]);
    assert!(mm.is_empty());
    assert_eq!(mm.len(), 0);
    assert!(mm.take().is_empty());
}

#[test]
fn a_set_iterates_by_reference_as_it_reads() {
    let mut s = Set::default();
    s.extend(["x", "y", "z"]);
    let mut seen = Vec::new();
    for v in &s {
        seen.push(*v);
    }
    assert_eq!(seen, s.read().copied().collect::<Vec<_>>());
    assert_eq!(sorted(seen), ["x", "y", "z"]);
}
