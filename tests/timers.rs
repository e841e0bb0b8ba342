//! Timer semantics: firing order, replacement, clearing, relative times, output timestamps, families.
//!
//! Each test states the input, the watermark and clock steps, and the exact outputs.

use dofn::prelude::*;
use dofn::testing::Harness;

fn ms(t: i64) -> Instant {
    Instant::from_millis(t)
}

fn values<T: Clone>(out: &[WindowedValue<T>]) -> Vec<T> {
    out.iter().map(|o| o.value.clone()).collect()
}

fn stamped<T: Clone>(out: &[WindowedValue<T>]) -> Vec<(T, i64)> {
    out.iter().map(|o| (o.value.clone(), o.timestamp.millis())).collect()
}

/// Sets the "at" timer to the element's value (a time in ms); the callback outputs what fired and when.
#[dofn]
#[derive(Clone, Default)]
struct SetAt {
    #[timer_id("at")]
    at: TimerSpec<EventTime>,
}

#[dofn]
impl SetAt {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(&'static str, i64), String>, #[timer_id("at")] at: &mut Timer) {
        if *cx.value() < 0 {
            at.clear();
        } else {
            at.set(Instant::from_millis(*cx.value()));
        }
    }

    #[on_timer("at")]
    fn on_at(&self, cx: &mut TimerContext<String>, Key(key): Key<&&'static str>, Timestamp(t): Timestamp) {
        cx.output(format!("{key}@{}", t.millis()));
    }
}

#[test]
fn an_event_time_timer_fires_once_the_watermark_passes_it() {
    let mut h = Harness::new(SetAt::default(), WindowingStrategy::global()).unwrap();
    h.add_elements([(("a", 10), ms(1))]).unwrap();
    assert_eq!(h.advance_watermark_to(ms(10)).unwrap(), [], "a watermark *at* the timer's time is not past it");
    let out = h.advance_watermark_to(ms(11)).unwrap();
    assert_eq!(stamped(&out), [("a@10".to_string(), 10)], "outputs carry the timer's output timestamp");
    assert_eq!(h.advance_watermark_to(ms(100)).unwrap(), [], "a timer fires once");
    assert_eq!(h.metrics().timers_fired, 1);
}

#[test]
fn setting_a_timer_again_replaces_it_and_clearing_cancels_it() {
    let mut h = Harness::new(SetAt::default(), WindowingStrategy::global()).unwrap();
    h.add_elements([
        (("a", 10), ms(1)),
        (("a", 30), ms(2)),
        (("b", 20), ms(3)),
        (("c", 15), ms(4)),
        (("c", -1), ms(5)),
    ])
    .unwrap();
    assert_eq!(values(&h.advance_watermark_to(ms(25)).unwrap()), ["b@20"], "a's timer moved to 30, c's was cleared");
    // Moving a timer earlier than its queued time works too.
    h.add_elements([(("a", 26), ms(6))]).unwrap();
    assert_eq!(values(&h.advance_watermark_to(ms(27)).unwrap()), ["a@26"]);
    assert_eq!(h.advance_watermark_to_infinity().unwrap(), []);
}

#[test]
fn timers_of_different_keys_fire_in_time_order() {
    let mut h = Harness::new(SetAt::default(), WindowingStrategy::global()).unwrap();
    h.add_elements([(("a", 30), ms(1)), (("b", 10), ms(2)), (("c", 20), ms(3)), (("d", 10), ms(4))]).unwrap();
    assert_eq!(values(&h.advance_watermark_to(ms(100)).unwrap()), ["b@10", "d@10", "c@20", "a@30"]);
}

/// Two timers that set each other: "first" at 10 sets "second" to 5 (earlier than the pending "third" at 8),
/// and "second" sets "third" again to 20.
#[dofn]
#[derive(Clone, Default)]
struct Chain {
    #[timer_id("first")]
    first: TimerSpec<EventTime>,
    #[timer_id("second")]
    second: TimerSpec<EventTime>,
    #[timer_id("third")]
    third: TimerSpec<EventTime>,
}

#[dofn]
impl Chain {
    #[process_element]
    fn process(
        &self,
        _cx: &mut ProcessContext<(u8, ()), &'static str>,
        #[timer_id("first")] first: &mut Timer,
        #[timer_id("third")] third: &mut Timer,
    ) {
        first.set(ms(3));
        third.set(ms(8));
    }

    #[on_timer("first")]
    fn on_first(&self, cx: &mut TimerContext<&'static str>, #[timer_id("second")] second: &mut Timer) {
        cx.output("first");
        second.set(ms(5));
    }

    #[on_timer("second")]
    fn on_second(&self, cx: &mut TimerContext<&'static str>, #[timer_id("third")] third: &mut Timer) {
        cx.output("second");
        third.set(ms(20));
    }

    #[on_timer("third")]
    fn on_third(&self, cx: &mut TimerContext<&'static str>, Timestamp(t): Timestamp) {
        cx.output(if t == ms(20) { "third@20" } else { "third@8" });
    }
}

#[test]
fn a_timer_set_by_a_callback_before_pending_timers_fires_first() {
    let mut h = Harness::new(Chain::default(), WindowingStrategy::global()).unwrap();
    h.add_elements([((1, ()), ms(0))]).unwrap();
    // All of it within one watermark advance: first@3 sets second@5, which fires before third@8 and moves it
    // to 20.
    assert_eq!(values(&h.advance_watermark_to(ms(100)).unwrap()), ["first", "second", "third@20"]);
}

/// Sets a relative timer with the element's value as (offset, align) in ms.
#[dofn]
#[derive(Clone, Default)]
struct Relative {
    #[timer_id("t")]
    t: TimerSpec<EventTime>,
}

#[dofn]
impl Relative {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u8, (i64, i64)), i64>, #[timer_id("t")] t: &mut Timer) {
        let (offset, align) = *cx.value();
        t.offset(Duration::from_millis(offset)).align(Duration::from_millis(align)).set_relative();
        cx.output(t.pending().map_or(-1, Instant::millis));
    }

    #[on_timer("t")]
    fn on_t(&self) {}
}

#[test]
fn set_relative_follows_beams_offset_and_align_rule() {
    let strategy = WindowingStrategy::new(WindowFn::fixed(Duration::from_millis(1000)));
    let mut h = Harness::new(Relative::default(), strategy).unwrap();
    let out = h
        .add_elements([
            ((1, (5, 0)), ms(12)),    // no alignment: 12 + 5
            ((2, (0, 10)), ms(12)),   // aligned up to the next multiple of 10
            ((3, (0, 10)), ms(20)),   // already a multiple: stays
            ((4, (3, 10)), ms(12)),   // 12 + 3 = 15 -> since start 5 -> 12 + 10 - 5 = 17
            ((5, (8, 10)), ms(12)),   // 12 + 8 = 20 is a multiple -> Beam keeps 12 (offset not added)
            ((6, (5000, 0)), ms(12)), // capped at the window's expiry, 999
        ])
        .unwrap();
    assert_eq!(values(&out), [17, 20, 20, 17, 12, 999]);

    let mut h = Harness::new(Relative::default(), WindowingStrategy::global()).unwrap();
    let out = h
        .add_elements([
            ((7, (0, 1000)), ms(-1500)), // before the epoch the remainder is negative (-500): -1500 + 1000 + 500
            ((8, (0, 1000)), ms(-2000)), // a multiple: stays
            ((9, (0, -10)), ms(12)),     // a negative period aligns nothing
        ])
        .unwrap();
    assert_eq!(values(&out), [0, -2000, 12]);
}

/// A processing-time "stale" timer set 10 s after the first element of a batch; the callback outputs the
/// batch.
#[dofn]
#[derive(Clone, Default)]
struct Stale {
    #[state_id("batch")]
    batch: StateSpec<Bag<u32>>,
    #[timer_id("stale")]
    stale: TimerSpec<ProcessingTime>,
}

#[dofn]
impl Stale {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(u8, u32), Vec<u32>>,
        #[state_id("batch")] batch: &mut Bag<u32>,
        #[timer_id("stale")] stale: &mut Timer,
    ) {
        if batch.is_empty() {
            stale.offset(Duration::from_secs(10)).set_relative();
        }
        batch.add(*cx.value());
    }

    #[on_timer("stale")]
    fn on_stale(&self, cx: &mut TimerContext<Vec<u32>>, #[state_id("batch")] batch: &mut Bag<u32>) {
        cx.output(batch.take());
    }
}

#[test]
fn a_processing_time_timer_fires_when_the_clock_reaches_it() {
    let mut h = Harness::new(Stale::default(), WindowingStrategy::global()).unwrap();
    h.add_elements([((1, 1), ms(100)), ((1, 2), ms(200))]).unwrap();
    assert_eq!(h.advance_processing_time(Duration::from_millis(9_999)).unwrap(), []);
    h.add_elements([((1, 3), ms(300))]).unwrap();
    let out = h.advance_processing_time(Duration::from_millis(1)).unwrap();
    // The clock reached 10 s: the batch flushes, timestamped at the first element's time (the default hold).
    assert_eq!(stamped(&out), [(vec![1, 2, 3], 100)]);
    // The watermark does not fire processing-time timers.
    h.add_elements([((1, 4), ms(400))]).unwrap();
    assert_eq!(h.advance_watermark_to(ms(1_000_000)).unwrap(), []);
    assert_eq!(values(&h.advance_processing_time(Duration::from_secs(10)).unwrap()), [vec![4]]);
}

#[test]
fn a_pending_processing_time_timer_holds_the_output_watermark_at_its_input() {
    let mut h = Harness::new(Stale::default(), WindowingStrategy::global()).unwrap();
    h.add_elements([((1, 1), ms(100))]).unwrap();
    h.advance_watermark_to(ms(5_000)).unwrap();
    assert_eq!(h.input_watermark(), ms(5_000));
    assert_eq!(h.output_watermark(), ms(100));
    h.advance_processing_time(Duration::from_secs(10)).unwrap();
    assert_eq!(h.output_watermark(), ms(5_000), "the hold is released when the timer fires");
}

#[test]
fn a_hold_behind_the_output_watermark_does_not_move_it_back() {
    // A late element (global window, so never dropped) arms the processing-time timer, holding at its
    // timestamp: the output watermark stays where it was reported, as in Beam.
    let mut h = Harness::new(Stale::default(), WindowingStrategy::global()).unwrap();
    h.advance_watermark_to(ms(5_000)).unwrap();
    assert_eq!(h.output_watermark(), ms(5_000));
    h.add_elements([((1, 1), ms(100))]).unwrap();
    assert_eq!(h.output_watermark(), ms(5_000));
    h.advance_watermark_to(ms(6_000)).unwrap();
    assert_eq!(h.output_watermark(), ms(5_000), "held at the reported value while the timer is pending");
    h.advance_processing_time(Duration::from_secs(10)).unwrap();
    assert_eq!(h.output_watermark(), ms(6_000));
}

#[test]
fn processing_time_timers_of_an_expired_window_are_dropped_and_counted() {
    let mut h = Harness::new(Stale::default(), WindowFn::fixed(Duration::from_secs(1)).into()).unwrap();
    h.add_elements([((1, 1), ms(100)), ((2, 2), ms(1_500))]).unwrap();
    assert_eq!(h.advance_watermark_to(ms(1_000)).unwrap(), []);
    assert_eq!(h.metrics().timers_dropped, 1);
    assert_eq!(values(&h.advance_processing_time(Duration::from_secs(10)).unwrap()), [vec![2]]);
}

/// An event-time timer with an explicit output timestamp, and one with none.
#[dofn]
#[derive(Clone, Default)]
struct Holds {
    #[timer_id("held")]
    held: TimerSpec<EventTime>,
    #[timer_id("free")]
    free: TimerSpec<EventTime>,
}

#[dofn]
impl Holds {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(u8, ()), &'static str>,
        #[timer_id("held")] held: &mut Timer,
        #[timer_id("free")] free: &mut Timer,
    ) {
        let ts = cx.timestamp();
        held.with_output_timestamp(ts + Duration::from_millis(5)).set(ts + Duration::from_millis(50));
        free.with_no_output_timestamp().set(ts + Duration::from_millis(100));
    }

    #[on_timer("held")]
    fn on_held(&self, cx: &mut TimerContext<&'static str>) {
        cx.output("held");
    }

    #[on_timer("free")]
    fn on_free(&self, cx: &mut TimerContext<&'static str>) {
        cx.output("free");
    }
}

#[test]
fn output_timestamps_hold_the_output_watermark_until_the_timer_fires() {
    let mut h = Harness::new(Holds::default(), WindowingStrategy::global()).unwrap();
    h.add_elements([((1, ()), ms(10))]).unwrap();
    h.advance_watermark_to(ms(40)).unwrap();
    assert_eq!(h.output_watermark(), ms(15), "held at the output timestamp, not the firing time");
    let out = h.advance_watermark_to(ms(61)).unwrap();
    assert_eq!(stamped(&out), [("held", 15)]);
    assert_eq!(h.output_watermark(), ms(61), "the timer without an output timestamp holds nothing");
    let out = h.advance_watermark_to(ms(200)).unwrap();
    assert_eq!(values(&out), ["free"]);
}

/// An event-time timer with an earlier output timestamp, and a processing-time timer; each callback outputs
/// its `Timestamp` parameter, `cx.timestamp()` and `cx.firing_timestamp()`.
#[dofn]
#[derive(Clone, Default)]
struct Stamps {
    #[timer_id("event")]
    event: TimerSpec<EventTime>,
    #[timer_id("clock")]
    clock: TimerSpec<ProcessingTime>,
}

#[dofn]
impl Stamps {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(u8, ()), (&'static str, i64, i64, i64)>,
        #[timer_id("event")] event: &mut Timer,
        #[timer_id("clock")] clock: &mut Timer,
    ) {
        let ts = cx.timestamp();
        event.with_output_timestamp(ts + Duration::from_millis(5)).set(ts + Duration::from_millis(50));
        clock.offset(Duration::from_secs(60)).set_relative();
    }

    #[on_timer("event")]
    fn on_event(&self, cx: &mut TimerContext<(&'static str, i64, i64, i64)>, Timestamp(t): Timestamp) {
        cx.output(("event", t.millis(), cx.timestamp().millis(), cx.firing_timestamp().millis()));
    }

    #[on_timer("clock")]
    fn on_clock(&self, cx: &mut TimerContext<(&'static str, i64, i64, i64)>, Timestamp(t): Timestamp) {
        cx.output(("clock", t.millis(), cx.timestamp().millis(), cx.firing_timestamp().millis()));
    }
}

#[test]
fn a_timer_callbacks_timestamp_is_its_output_timestamp_and_the_firing_time_is_on_the_context() {
    // As Beam's `@Timestamp` in `@OnTimer`: the output timestamp (15 here, where the timer fires at 60), not
    // the firing time; a processing-time timer's is an event time too (by default the timestamp of the
    // element that set it, 10), not a clock reading.
    let mut h = Harness::new(Stamps::default(), WindowingStrategy::global()).unwrap();
    h.add_elements([((1, ()), ms(10))]).unwrap();
    h.advance_watermark_to(ms(30)).unwrap();
    let out = h.advance_processing_time(Duration::from_secs(60)).unwrap();
    assert_eq!(values(&out), [("clock", 10, 10, 60_000)]);
    let out = h.advance_watermark_to(ms(61)).unwrap();
    assert_eq!(values(&out), [("event", 15, 15, 60)]);
}

#[test]
fn a_harness_clock_can_start_later_than_the_epoch() {
    // The processing-time timer is set 60 s after the starting clock, and fires when the clock gets there.
    let mut h =
        Harness::new(Stamps::default(), WindowingStrategy::global()).unwrap().with_processing_time_start(ms(1_000_000));
    assert_eq!(h.processing_time(), ms(1_000_000));
    h.add_elements([((1, ()), ms(10))]).unwrap();
    assert_eq!(h.advance_processing_time(Duration::from_millis(59_999)).unwrap(), []);
    let out = h.advance_processing_time(Duration::from_millis(1)).unwrap();
    assert_eq!(values(&out), [("clock", 10, 10, 1_060_000)]);
}

/// Timers in a family, tagged by the element's value; the callback outputs the tag.
#[dofn]
#[derive(Clone, Default)]
struct Reminders {
    #[timer_family_id("remind")]
    remind: TimerFamilySpec<EventTime>,
}

#[dofn]
impl Reminders {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(u8, (&'static str, i64)), String>,
        #[timer_family_id("remind")] remind: &mut TimerMap,
    ) {
        let (tag, at) = *cx.value();
        if at < 0 {
            remind.clear(tag);
        } else {
            remind.get(tag).set(Instant::from_millis(at));
        }
    }

    #[on_timer_family("remind")]
    fn on_remind(&self, cx: &mut TimerContext<String>, TimerTag(tag): TimerTag, Timestamp(t): Timestamp) {
        cx.output(format!("{tag}@{}", t.millis()));
    }
}

#[test]
fn timer_families_hold_one_timer_per_tag() {
    let mut h = Harness::new(Reminders::default(), WindowingStrategy::global()).unwrap();
    h.add_elements([
        ((1, ("b", 20)), ms(0)),
        ((1, ("a", 10)), ms(0)),
        ((1, ("c", 15)), ms(0)),
        ((1, ("b", 5)), ms(0)),  // replaces b@20
        ((1, ("c", -1)), ms(0)), // clears c
        ((2, ("a", 12)), ms(0)), // another key's own "a"
    ])
    .unwrap();
    assert_eq!(values(&h.advance_watermark_to(ms(100)).unwrap()), ["b@5", "a@10", "a@12"]);
}

/// A chain of reminders: each fired reminder `n` sets reminder `n + 1` one millisecond later (a tag never
/// used before) and then re-arms itself once, 5 ms later, under its own tag.
#[dofn]
#[derive(Clone, Default)]
struct ReminderChain {
    #[timer_family_id("step")]
    step: TimerFamilySpec<EventTime>,
    #[state_id("rearmed")]
    rearmed: StateSpec<Set<String>>,
}

#[dofn]
impl ReminderChain {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u8, i64), String>, #[timer_family_id("step")] step: &mut TimerMap) {
        step.get("0").set(Instant::from_millis(*cx.value()));
    }

    #[on_timer_family("step")]
    fn on_step(
        &self,
        cx: &mut TimerContext<String>,
        TimerTag(tag): TimerTag,
        Timestamp(t): Timestamp,
        #[timer_family_id("step")] step: &mut TimerMap,
        #[state_id("rearmed")] rearmed: &mut Set<String>,
    ) {
        cx.output(format!("{tag}@{}", t.millis()));
        let n: u32 = tag.parse().unwrap_or(0);
        if n < 300 {
            step.get(&(n + 1).to_string()).set(t + Duration::from_millis(1));
        }
        if rearmed.add_if_absent(tag.to_string()) {
            step.get(tag).set(t + Duration::from_millis(5));
        }
    }
}

#[test]
fn timer_family_tags_fired_long_ago_free_their_slots_and_never_mix_up_tags() {
    // Each tag fires twice: at its first time and, re-armed by its own callback, 5 ms later; the callback
    // also starts the next tag. Slots freed by fired tags are reused for new ones (a family holds the tags in
    // use, not every tag ever used), and no firing is lost, repeated or given another tag's name.
    let mut h = Harness::new(ReminderChain::default(), WindowingStrategy::global()).unwrap();
    h.add_elements([((1, 0), ms(0))]).unwrap();
    let out = values(&h.advance_watermark_to(ms(1_000)).unwrap());
    let mut expected: Vec<(i64, String)> =
        (0..=300i64).flat_map(|n| [(n, format!("{n}@{n}")), (n + 5, format!("{n}@{}", n + 5))]).collect();
    expected.sort_by_key(|(t, _)| *t);
    let mut got: Vec<(i64, String)> =
        out.iter().map(|o| (o.rsplit('@').next().and_then(|t| t.parse().ok()).unwrap_or(-1), o.clone())).collect();
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    // In time order.
    let times: Vec<i64> = out.iter().map(|o| o.rsplit('@').next().and_then(|t| t.parse().ok()).unwrap_or(-1)).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
}

/// What `ManyTags` outputs: the key, the tag's number and the firing time (ms).
type Fired = (u8, u32, i64);

/// An element of `ManyTags`: a key, and the tag's number and step (clear if negative).
type TagStep = (u8, (u32, i64));

/// The tags of `ManyTags`: `t0` .. `t9999`.
const MANY_TAGS: u32 = 10_000;
/// Timers of `ManyTags` are set no later than this step.
const LAST_STEP: i64 = 30;

/// When tag `n` fires if set for step `step`: times are distinct per tag, so the firing order of a key's
/// timers is their time order, with no ties.
fn tag_time(step: i64, n: u32) -> i64 {
    step * 100_000 + i64::from(n)
}

/// A family of up to 10,000 tags per key: an element `(n, step)` sets tag `tn` for `step` (clears it if
/// `step` is negative). A callback outputs `(key, n, time)` and then, by rules of `n` alone: sets another tag
/// two steps later (before anything else, while its own slot is free but not to be given away), sets its own
/// tag again 1 to 5 steps later, clears another tag. [`many_tags_model`] applies the same rules.
#[dofn]
#[derive(Clone, Default)]
struct ManyTags {
    #[timer_family_id("tag")]
    tag: TimerFamilySpec<EventTime>,
}

/// The requests a `ManyTags` callback for tag `n` firing at step `step` makes: tags to set (with their
/// step), then the tag to clear.
fn many_tags_rules(n: u32, step: i64) -> (Vec<(u32, i64)>, Option<u32>) {
    let mut set = Vec::new();
    if n % 7 == 1 && step + 2 <= LAST_STEP {
        set.push(((n * 13 + 1) % MANY_TAGS, step + 2));
    }
    let again = step + 1 + i64::from(n % 5);
    if n.is_multiple_of(3) && again <= LAST_STEP {
        set.push((n, again));
    }
    (set, (n % 11 == 2).then_some((n + 1) % MANY_TAGS))
}

#[dofn]
impl ManyTags {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<TagStep, Fired>, #[timer_family_id("tag")] tags: &mut TimerMap) {
        let (n, step) = *cx.value();
        if step < 0 {
            tags.clear(&format!("t{n}"));
        } else {
            tags.get(&format!("t{n}")).set(Instant::from_millis(tag_time(step, n)));
        }
    }

    #[on_timer_family("tag")]
    fn on_tag(
        &self,
        cx: &mut TimerContext<Fired>,
        Key(key): Key<&u8>,
        TimerTag(tag): TimerTag,
        Timestamp(t): Timestamp,
        #[timer_family_id("tag")] tags: &mut TimerMap,
    ) {
        let n: u32 = tag[1..].parse().unwrap();
        let step = t.millis().div_euclid(100_000);
        cx.output((*key, n, t.millis()));
        let (set, clear) = many_tags_rules(n, step);
        for (m, at) in set {
            tags.get(&format!("t{m}")).set(Instant::from_millis(tag_time(at, m)));
        }
        if let Some(m) = clear {
            tags.clear(&format!("t{m}"));
        }
    }
}

/// What `ManyTags` outputs, per key, for steps of elements each followed by the watermark at the end of the
/// step, then the end of input: a timer per tag, replaced when set again, fired in time order once the
/// watermark passes it (in the same advance when a callback sets it behind the watermark).
fn many_tags_model(steps: &[Vec<TagStep>]) -> std::collections::BTreeMap<u8, Vec<Fired>> {
    use std::collections::{BTreeMap, HashMap};
    #[derive(Default)]
    struct Key {
        by_time: BTreeMap<i64, u32>,
        time_of: HashMap<u32, i64>,
    }
    impl Key {
        fn set(&mut self, n: u32, step: i64) {
            self.clear(n);
            let t = tag_time(step, n);
            self.by_time.insert(t, n);
            self.time_of.insert(n, t);
        }
        fn clear(&mut self, n: u32) {
            if let Some(t) = self.time_of.remove(&n) {
                self.by_time.remove(&t);
            }
        }
        fn fire_before(&mut self, key: u8, watermark: i64, out: &mut Vec<Fired>) {
            while let Some((&t, &n)) = self.by_time.first_key_value().filter(|(t, _)| **t < watermark) {
                self.clear(n);
                out.push((key, n, t));
                let (set, clear) = many_tags_rules(n, t.div_euclid(100_000));
                for (m, at) in set {
                    self.set(m, at);
                }
                if let Some(m) = clear {
                    self.clear(m);
                }
            }
        }
    }
    let mut keys: BTreeMap<u8, Key> = BTreeMap::new();
    let mut out: BTreeMap<u8, Vec<Fired>> = BTreeMap::new();
    for (s, elements) in steps.iter().enumerate() {
        for &(key, (n, step)) in elements {
            let k = keys.entry(key).or_default();
            if step < 0 { k.clear(n) } else { k.set(n, step) }
        }
        for (&key, k) in &mut keys {
            k.fire_before(key, tag_time(s as i64 + 1, 0), out.entry(key).or_default());
        }
    }
    for (&key, k) in &mut keys {
        k.fire_before(key, i64::MAX, out.entry(key).or_default());
    }
    out
}

#[test]
fn a_family_of_ten_thousand_tags_sets_clears_and_fires_them_as_a_timer_per_tag_would() {
    // Two keys, each with up to 10,000 tags in use at once; every step sets 1,500 tags per key for the
    // steps after it, clears some and fires those due. Each key's outputs are exactly the model's, in order.
    let mut rng = 0x5eed_u64;
    let mut next = move |n: u64| {
        rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (rng >> 33) % n
    };
    let steps: Vec<Vec<TagStep>> = (0..LAST_STEP)
        .map(|s| {
            (0..3_000)
                .map(|_| {
                    let key = next(2) as u8;
                    let n = next(u64::from(MANY_TAGS)) as u32;
                    let step = if next(10) == 0 { -1 } else { (s + 1 + next(3) as i64).min(LAST_STEP) };
                    (key, (n, step))
                })
                .collect()
        })
        .collect();
    let expected = many_tags_model(&steps);
    let mut h = Harness::new(ManyTags::default(), WindowingStrategy::global()).unwrap();
    let mut got: std::collections::BTreeMap<u8, Vec<Fired>> = Default::default();
    for (s, elements) in steps.iter().enumerate() {
        let mut out = h.add_elements(elements.iter().map(|&e| (e, ms(0)))).unwrap();
        out.extend(h.advance_watermark_to(ms(tag_time(s as i64 + 1, 0))).unwrap());
        for o in values(&out) {
            got.entry(o.0).or_default().push(o);
        }
    }
    for o in values(&h.advance_watermark_to_infinity().unwrap()) {
        got.entry(o.0).or_default().push(o);
    }
    assert_eq!(got.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
    for (key, expected) in &expected {
        let got = &got[key];
        assert!(expected.len() > 20_000, "{}", expected.len());
        assert_eq!(got.len(), expected.len(), "key {key}");
        if let Some(i) = (0..got.len()).find(|&i| got[i] != expected[i]) {
            panic!("key {key}: output {i} is {:?}, expected {:?}", got[i], expected[i]);
        }
    }
}

#[test]
fn an_event_time_timer_past_the_window_expiry_is_an_error_naming_key_window_timer_and_times() {
    let strategy = WindowingStrategy::new(WindowFn::fixed(Duration::from_millis(100)))
        .with_allowed_lateness(Duration::from_millis(10));
    let mut h = Harness::new(SetAt::default(), strategy).unwrap();
    // 109 is the window's expiry (max timestamp 99 + 10): allowed.
    h.add_elements([(("ok", 109), ms(5))]).unwrap();
    let err = h.add_elements([(("bad", 110), ms(5))]).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Timer { .. }), "{msg}");
    for part in [
        "timer `at`",
        "`SetAt`",
        "\"bad\"",
        "[1970-01-01T00:00:00.000Z, 1970-01-01T00:00:00.100Z)",
        "00.110Z",
        "00.109Z",
    ] {
        assert!(msg.contains(part), "`{part}` missing from: {msg}");
    }
}

/// What `SetBoth` sets: the plain timer's time, the family timer's tag and its time (ms; `None`: not set).
type Settings = (Option<i64>, &'static str, Option<i64>);

/// Sets, per element, the plain timer "at" and the family timer "remind[tag]", each to a time in ms or not
/// at all (`None`); no callback outputs anything.
#[dofn]
#[derive(Clone, Default)]
struct SetBoth {
    #[timer_id("at")]
    at: TimerSpec<EventTime>,
    #[timer_family_id("remind")]
    remind: TimerFamilySpec<EventTime>,
}

#[dofn]
impl SetBoth {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(u8, Settings), String>,
        #[timer_id("at")] at: &mut Timer,
        #[timer_family_id("remind")] remind: &mut TimerMap,
    ) {
        let (plain, tag, family) = *cx.value();
        if let Some(t) = plain {
            at.set(Instant::from_millis(t));
        }
        if let Some(t) = family {
            remind.get(tag).set(Instant::from_millis(t));
        }
    }

    #[on_timer("at")]
    fn on_at(&self, _cx: &mut TimerContext<String>) {}

    #[on_timer_family("remind")]
    fn on_remind(&self, _cx: &mut TimerContext<String>) {}
}

#[test]
fn an_invalid_family_timer_is_named_with_its_tag_and_the_plain_timer_is_reported_first() {
    let fixed = || WindowingStrategy::new(WindowFn::fixed(Duration::from_millis(100)));
    // 99 is the window's expiry (no allowed lateness): 100 is past it.
    let mut h = Harness::new(SetBoth::default(), fixed()).unwrap();
    h.add_elements([((1, (Some(99), "x", Some(99))), ms(5))]).unwrap();
    let err = h.add_elements([((1, (None, "late", Some(100))), ms(5))]).unwrap_err();
    assert!(matches!(&err, Error::Timer { timer, .. } if timer == "remind[late]"), "{err}");
    assert!(err.to_string().contains("timer `remind[late]`"), "{err}");

    // Both invalid in one call: the plain timer's error is the one reported.
    let mut h = Harness::new(SetBoth::default(), fixed()).unwrap();
    let err = h.add_elements([((1, (Some(150), "late", Some(120))), ms(5))]).unwrap_err();
    assert!(matches!(&err, Error::Timer { timer, .. } if timer == "at"), "{err}");
    assert!(err.to_string().contains("00.150Z"), "{err}");
}

/// Outputs with a timestamp moved by the element's value (ms); allowed to output up to `skew_ms` earlier than
/// its input (Beam's `getAllowedTimestampSkew`).
#[dofn]
#[derive(Clone, Default)]
struct Shift {
    skew_ms: i64,
}

#[dofn]
impl Shift {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<i64, i64>) {
        let shift = *cx.element();
        cx.output_with_timestamp(shift, cx.timestamp() + Duration::from_millis(shift));
    }

    #[allowed_timestamp_skew]
    fn skew(&self) -> Duration {
        Duration::from_millis(self.skew_ms)
    }
}

#[test]
fn an_output_before_the_input_timestamp_is_an_error() {
    let mut h = Harness::new(Shift::default(), WindowingStrategy::global()).unwrap();
    assert_eq!(stamped(&h.add_elements([(5, ms(100))]).unwrap()), [(5, 105)]);
    let err = h.add_elements([(-1, ms(100))]).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::OutputTimestamp { .. }), "{msg}");
    assert!(msg.contains("00.099Z") && msg.contains("00.100Z") && msg.contains("`Shift`"), "{msg}");
}

#[test]
fn an_allowed_timestamp_skew_lets_outputs_be_that_much_earlier_and_no_more() {
    let mut h = Harness::new(Shift { skew_ms: 30 }, WindowingStrategy::global()).unwrap();
    assert_eq!(stamped(&h.add_elements([(-30, ms(100)), (-1, ms(100))]).unwrap()), [(-30, 70), (-1, 99)]);
    let err = h.add_elements([(-31, ms(100))]).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::OutputTimestamp { .. }), "{msg}");
    assert!(msg.contains("00.069Z") && msg.contains("`Shift`"), "{msg}");
}

/// Outputs its value as a timestamp shift, like `Shift`, and then fails when the value is negative.
#[dofn]
#[derive(Clone, Default)]
struct ShiftThenFail;

#[dofn]
impl ShiftThenFail {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<i64, i64>) -> Result<(), String> {
        let shift = *cx.element();
        cx.output_with_timestamp(shift, cx.timestamp() + Duration::from_millis(shift));
        if shift < 0 { Err(format!("refused {shift}")) } else { Ok(()) }
    }
}

#[test]
fn a_failed_call_takes_its_bad_output_timestamp_with_it() {
    // The call outputs too early and fails: the failure is reported, and the early output is not reported
    // again against the next call.
    let mut h = Harness::new(ShiftThenFail, WindowingStrategy::global()).unwrap();
    let err = h.add_elements([(-1, ms(100))]).unwrap_err();
    assert!(matches!(&err, Error::User { .. }), "{err}");
    assert!(err.to_string().contains("refused -1"), "{err}");
    assert_eq!(stamped(&h.add_elements([(5, ms(200))]).unwrap()), [(5, 205)]);
}
