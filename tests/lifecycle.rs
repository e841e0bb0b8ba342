//! Lifecycle methods, bundles, metrics and user errors.

use std::sync::{Arc, Mutex};

use dofn::prelude::*;
use dofn::testing::Harness;

fn ms(t: i64) -> Instant {
    Instant::from_millis(t)
}

/// Records every lifecycle call in a shared log.
#[dofn]
#[derive(Clone, Default)]
struct Traced {
    log: Arc<Mutex<Vec<String>>>,
    #[timer_id("t")]
    t: TimerSpec<EventTime>,
}

impl Traced {
    fn note(&self, what: impl Into<String>) {
        self.log.lock().unwrap().push(what.into());
    }
}

#[dofn]
impl Traced {
    #[setup]
    fn setup(&mut self) {
        self.note("setup");
    }

    #[start_bundle]
    fn start(&self) {
        self.note("start_bundle");
    }

    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u8, u8), u8>, #[timer_id("t")] t: &mut Timer) {
        self.note(format!("process {}", cx.value()));
        t.set(cx.timestamp() + Duration::from_millis(10));
    }

    #[on_timer("t")]
    fn on_t(&self, Key(k): Key<&u8>) {
        self.note(format!("timer {k}"));
    }

    #[finish_bundle]
    fn finish(&self, cx: &mut BundleContext<u8>) {
        self.note("finish_bundle");
        cx.output(0, Instant::EPOCH, Window::GLOBAL);
    }

    #[teardown]
    fn teardown(&mut self) -> Result<(), String> {
        self.note("teardown");
        Ok(())
    }
}

#[test]
fn lifecycle_methods_are_called_as_beam_does() {
    let dofn = Traced::default();
    let log = dofn.log.clone();
    let mut h = Harness::new(dofn, WindowingStrategy::global()).unwrap();
    assert_eq!(h.add_elements([((1, 1), ms(0)), ((2, 2), ms(1))]).unwrap().len(), 1, "finish_bundle's output");
    assert_eq!(h.advance_watermark_to(ms(5)).unwrap(), [], "no callback, no bundle");
    h.advance_watermark_to(ms(100)).unwrap();
    let metrics = h.teardown().unwrap();
    assert_eq!(
        *log.lock().unwrap(),
        [
            "setup",
            "start_bundle",
            "process 1",
            "process 2",
            "finish_bundle",
            "start_bundle",
            "timer 1",
            "timer 2",
            "finish_bundle",
            "teardown"
        ]
    );
    assert_eq!((metrics.bundles, metrics.elements_processed, metrics.timers_fired), (2, 2, 2));
}

/// Passes elements on; its teardown fails.
#[dofn]
#[derive(Clone, Default)]
struct FailsTeardown;

#[dofn]
impl FailsTeardown {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u8, u8), (u8, u8)>) {
        cx.output(*cx.element());
    }

    #[teardown]
    fn teardown(&mut self) -> Result<(), String> {
        Err("cannot close the connection".into())
    }
}

#[test]
fn a_failing_teardown_fails_the_run_and_the_stages_after_it_are_torn_down_all_the_same() {
    for workers in [1, 2] {
        let traced = Traced::default();
        let log = traced.log.clone();
        let result =
            Pipeline::from_values([((1u8, 1u8), ms(0))]).with_workers(workers).apply(FailsTeardown).apply(traced).run();
        let Err(err) = result else { panic!("{workers} worker(s): the teardown's error fails the run") };
        assert!(err.to_string().contains("`teardown` of DoFn `FailsTeardown`"), "{err}");
        let log = log.lock().unwrap();
        assert!(log.contains(&"process 1".to_string()), "{log:?}");
        assert!(log.iter().any(|l| l == "teardown"), "{workers} worker(s): Traced is torn down too: {log:?}");
    }
}

/// Passes elements on, keeping the last value per key (so that it runs sharded on several workers); notes its
/// teardown in a shared log, then panics there if told to.
#[dofn]
#[derive(Clone, Default)]
struct TornDown {
    log: Arc<Mutex<Vec<String>>>,
    panics: bool,
    #[state_id("last")]
    last: StateSpec<Value<u8>>,
}

#[dofn]
impl TornDown {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u8, u8), (u8, u8)>, #[state_id("last")] last: &mut Value<u8>) {
        last.write(*cx.value());
        cx.output(*cx.element());
    }

    #[teardown]
    fn teardown(&mut self) {
        self.log.lock().unwrap().push("teardown".into());
        assert!(!self.panics, "the connection pool is poisoned");
    }
}

#[test]
fn a_panicking_teardown_fails_the_run_with_an_error_and_the_other_stages_are_torn_down() {
    for workers in [1, 2, 3] {
        let (before, after) = (TornDown::default(), Traced::default());
        let (before_log, after_log) = (before.log.clone(), after.log.clone());
        // Enough keys that every worker gets some (a DoFn that gets no element is never set up).
        let result = Pipeline::from_values((0..30u8).map(|k| ((k, k), ms(0))))
            .with_workers(workers)
            .apply(before)
            .apply(TornDown { panics: true, ..TornDown::default() })
            .apply(after)
            .run();
        let Err(Error::Panicked { dofn, message, site }) = result else {
            panic!("{workers} worker(s): the teardown's panic ends the run with Error::Panicked");
        };
        assert_eq!((dofn, message.as_str()), ("TornDown", "the connection pool is poisoned"));
        let site = site.expect("a panic in teardown has a site");
        assert_eq!((site.method.as_str(), site.key, site.window), ("teardown", None, None));
        // Every clone of the stages before and after (one per worker) is torn down.
        let torn_down = |log: &Arc<Mutex<Vec<String>>>| log.lock().unwrap().iter().filter(|l| *l == "teardown").count();
        assert_eq!(torn_down(&before_log), workers, "{workers} worker(s): the stage before");
        assert_eq!(torn_down(&after_log), workers, "{workers} worker(s): the stage after");
    }
}

#[test]
fn a_panicking_teardown_in_the_harness_is_an_error() {
    let mut h = Harness::new(TornDown { panics: true, ..TornDown::default() }, WindowingStrategy::global()).unwrap();
    assert_eq!(h.add_elements([((1, 2), ms(0))]).unwrap().len(), 1);
    let err = h.teardown().unwrap_err();
    assert_eq!(err.to_string(), "panic in `teardown` of DoFn `TornDown`: the connection pool is poisoned");
}

/// Fails on odd values.
#[dofn]
#[derive(Clone, Default)]
struct Picky {
    #[state_id("n")]
    n: StateSpec<Value<u32>>,
}

#[dofn]
impl Picky {
    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(String, u32), u32>,
        #[state_id("n")] n: &mut Value<u32>,
    ) -> Result<(), String> {
        n.write(*cx.value());
        if cx.value() % 2 == 1 {
            return Err(format!("odd value {}", cx.value()));
        }
        cx.output(*cx.value());
        Ok(())
    }
}

#[test]
fn a_user_error_fails_the_run_and_names_dofn_method_key_window_and_time() {
    let result = Pipeline::from_values([(("ann".to_string(), 2), ms(1)), (("bob".to_string(), 3), ms(2))])
        .window_into(WindowFn::fixed(Duration::from_secs(1)))
        .with_workers(1)
        .apply(Picky::default())
        .run();
    let Err(err) = result else { panic!("the odd value must fail the run") };
    assert_eq!(
        err.to_string(),
        "error in `process_element` of DoFn `Picky`, key \"bob\", window [1970-01-01T00:00:00.000Z, \
         1970-01-01T00:00:01.000Z), at 1970-01-01T00:00:00.002Z: odd value 3"
    );
    // The user's message is in the error's own: the source chain does not repeat it, and the user's error
    // is in the variant.
    assert!(std::error::Error::source(&err).is_none());
    let Error::User { source, .. } = &err else { panic!("a user error: {err:?}") };
    assert_eq!(source.to_string(), "odd value 3");
}

/// An error with a cause of its own.
#[derive(Debug)]
struct Lookup(std::num::ParseIntError);

impl std::fmt::Display for Lookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("lookup failed")
    }
}

impl std::error::Error for Lookup {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Parses its value as a number, failing with a [`Lookup`] error.
#[dofn]
#[derive(Clone, Default)]
struct Parse;

#[dofn]
impl Parse {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<&'static str, i32>) -> Result<(), Lookup> {
        cx.output(cx.element().parse().map_err(Lookup)?);
        Ok(())
    }
}

#[test]
fn a_user_errors_chain_of_causes_follows_the_error_and_shows_each_message_once() {
    let err = Pipeline::from_values([("x", ms(1))]).apply(Parse).run().expect_err("`x` is not a number");
    let mut chain = vec![err.to_string()];
    let mut next = std::error::Error::source(&err);
    while let Some(cause) = next {
        chain.push(cause.to_string());
        next = cause.source();
    }
    assert_eq!(
        chain,
        [
            "error in `process_element` of DoFn `Parse`, window GlobalWindow, at 1970-01-01T00:00:00.001Z: lookup failed",
            "invalid digit found in string"
        ]
    );
}

/// Where [`Flaky`] copies its outputs.
const SEEN: OutputTag<i64> = OutputTag::new("seen");

/// Sums each key's values and sets a timer 10 ms after each element; fails on a negative value (after writing
/// it and setting the timer), and in the timer of key 1. Notes every call in a shared log.
#[dofn]
#[derive(Clone, Default)]
struct Flaky {
    log: Arc<Mutex<Vec<String>>>,
    #[state_id("sum")]
    sum: StateSpec<Value<i64>>,
    #[timer_id("t")]
    t: TimerSpec<EventTime>,
}

impl Flaky {
    fn note(&self, what: impl Into<String>) {
        self.log.lock().unwrap().push(what.into());
    }
}

#[dofn]
impl Flaky {
    #[start_bundle]
    fn start(&self) {
        self.note("start_bundle");
    }

    #[process_element]
    fn process(
        &self,
        cx: &mut ProcessContext<(u8, i64), String>,
        #[state_id("sum")] sum: &mut Value<i64>,
        #[timer_id("t")] t: &mut Timer,
    ) -> Result<(), String> {
        let v = *cx.value();
        self.note(format!("process {v}"));
        *sum.get_or_insert_with(|| 0) += v;
        t.set(cx.timestamp() + Duration::from_millis(10));
        cx.output(format!("got {v}"));
        cx.output_to(&SEEN, v);
        if v < 0 { Err(format!("negative value {v}")) } else { Ok(()) }
    }

    #[on_timer("t")]
    fn on_t(
        &self,
        cx: &mut TimerContext<String>,
        Key(k): Key<&u8>,
        #[state_id("sum")] sum: &mut Value<i64>,
    ) -> Result<(), String> {
        self.note(format!("timer {k}"));
        cx.output(format!("key {k}: sum {:?}", sum.read()));
        if *k == 1 { Err("no timer for key 1".into()) } else { Ok(()) }
    }

    #[finish_bundle]
    fn finish(&self) {
        self.note("finish_bundle");
    }
}

#[test]
fn a_failed_harness_step_ends_its_bundle_and_drops_its_outputs_and_the_rest_of_its_elements() {
    let dofn = Flaky::default();
    let log = dofn.log.clone();
    let take_log = || std::mem::take(&mut *log.lock().unwrap());
    let mut h = Harness::new(dofn, WindowingStrategy::global()).unwrap();
    let values = |out: Vec<WindowedValue<String>>| out.into_iter().map(|o| o.value).collect::<Vec<_>>();

    let err = h.add_elements([((1, 1), ms(1)), ((2, -2), ms(2)), ((3, 3), ms(3))]).unwrap_err();
    assert!(err.to_string().starts_with("error in `process_element` of DoFn `Flaky`, key 2"), "{err}");
    assert_eq!(take_log(), ["start_bundle", "process 1", "process -2"], "no element after the failure, no finish");
    let m = h.metrics();
    assert_eq!((m.elements_processed, m.outputs, m.bundles), (2, 0, 1), "the dropped outputs are not counted");
    assert!(h.take_tagged().get(&SEEN).is_empty(), "tagged outputs are dropped too");

    // The next step is a bundle of its own.
    assert_eq!(values(h.add_elements([((4, 4), ms(4))]).unwrap()), ["got 4"]);
    assert_eq!(take_log(), ["start_bundle", "process 4", "finish_bundle"]);
    let m = h.metrics();
    assert_eq!((m.elements_processed, m.outputs, m.bundles), (3, 1, 2));
    assert_eq!(h.take_tagged().get(&SEEN).iter().map(|v| v.value).collect::<Vec<_>>(), [4]);

    // The failed step's state and timers stay: key 1's and key 2's (set by the failing call itself) fire, key
    // 3's element was never processed. Key 1's timer fails first; the others wait for the next advance.
    let err = h.advance_watermark_to(ms(100)).unwrap_err();
    assert!(err.to_string().contains("`on_timer(\"t\")` of DoFn `Flaky`, key 1"), "{err}");
    assert_eq!(take_log(), ["start_bundle", "timer 1"]);
    assert_eq!(h.metrics().outputs, 1);
    assert_eq!(values(h.advance_watermark_to(ms(100)).unwrap()), ["key 2: sum Some(-2)", "key 4: sum Some(4)"]);
    assert_eq!(take_log(), ["start_bundle", "timer 2", "timer 4", "finish_bundle"]);
    let m = h.metrics();
    assert_eq!((m.timers_fired, m.outputs, m.bundles), (3, 3, 4));
}

#[test]
fn metrics_count_elements_late_data_outputs_and_expired_windows() {
    let result = Pipeline::from_test_stream(
        TestStream::new()
            .add_elements([(("a".to_string(), 2), ms(1)), (("b".to_string(), 4), ms(1_500))])
            .advance_watermark_to(ms(2_000))
            .add_elements([(("c".to_string(), 6), ms(10))]),
    )
    .window_into(WindowFn::fixed(Duration::from_secs(1)))
    .with_workers(1)
    .apply(Picky::default())
    .run()
    .unwrap();
    let m = result.metrics_of("Picky");
    assert_eq!((m.elements_processed, m.late_elements_dropped, m.outputs, m.windows_expired), (2, 1, 2, 2));
}

/// Panics on 13.
#[dofn]
#[derive(Clone, Default)]
struct Superstitious {
    #[state_id("seen")]
    seen: StateSpec<Value<u32>>,
}

#[dofn]
impl Superstitious {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u32, u32), u32>, #[state_id("seen")] seen: &mut Value<u32>) {
        assert_ne!(*cx.value(), 13, "unlucky number");
        seen.write(*cx.value());
        cx.output(*cx.value());
    }
}

#[test]
fn a_panicking_callback_ends_the_run_with_an_error_on_any_number_of_workers() {
    for workers in [1, 2, 3] {
        let result = Pipeline::from_values((0..100u32).map(|i| ((i % 7, i), ms(i64::from(i)))))
            .with_workers(workers)
            .apply(Superstitious::default())
            .run();
        let Err(err @ Error::Panicked { .. }) = result else {
            panic!("{workers} worker(s): the panic must end the run with Error::Panicked");
        };
        let Error::Panicked { dofn, message, site } = &err else { unreachable!() };
        assert_eq!(*dofn, "Superstitious");
        assert!(message.contains("unlucky number"), "{message}");
        // The site names the method, the key (13 % 7), the window and the timestamp of the element that panicked.
        let site = site.as_deref().expect("a panic in process_element has a site");
        assert_eq!(
            (site.method.as_str(), site.key.as_deref(), site.window, site.timestamp),
            ("process_element", Some("6"), Some(Window::GLOBAL), Some(ms(13)))
        );
        assert!(
            err.to_string().starts_with(
                "panic in `process_element` of DoFn `Superstitious`, key 6, window GlobalWindow, at \
                 1970-01-01T00:00:00.013Z: "
            ),
            "{err}"
        );
    }
}

/// Sets a timer at the end of each element's window; its callback panics for key 3, and the window's
/// expiration for key 4.
#[dofn]
#[derive(Clone, Default)]
struct FragileTimers {
    #[timer_id("end")]
    end: TimerSpec<EventTime>,
}

#[dofn]
impl FragileTimers {
    #[process_element]
    fn process(&self, _cx: &mut ProcessContext<(u32, ()), ()>, window: Window, #[timer_id("end")] end: &mut Timer) {
        end.set(window.max_timestamp());
    }

    #[on_timer("end")]
    fn on_end(&self, Key(k): Key<&u32>) {
        assert_ne!(*k, 3, "no timers for 3");
    }

    #[on_window_expiration]
    fn expired(&self, Key(k): Key<&u32>) {
        assert_ne!(*k, 4, "no expiry for 4");
    }
}

#[test]
fn a_panic_in_a_timer_or_an_expiration_names_its_key_window_and_time() {
    let window = Window::new(ms(0), ms(1000));
    for (key, method, at, message) in [
        (3, "on_timer(\"end\")", "00.999Z", "no timers for 3"),
        (4, "on_window_expiration", "00.999Z", "no expiry for 4"),
    ] {
        for workers in [1, 2] {
            let result = Pipeline::from_values([((key, ()), ms(5))])
                .window_into(WindowFn::fixed(Duration::from_secs(1)))
                .with_workers(workers)
                .apply(FragileTimers::default())
                .run();
            let Err(Error::Panicked { site: Some(site), message: m, .. }) = result else {
                panic!("{workers} worker(s): a panic in `{method}` fails the run with its site");
            };
            assert!(m.contains(message), "{m}");
            assert_eq!(
                (site.method.as_str(), site.key.clone(), site.window),
                (method, Some(key.to_string()), Some(window))
            );
            assert!(site.timestamp.is_some_and(|t| t.to_string().ends_with(at)), "{site}");
        }
    }
}

/// A key whose `Debug` panics.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Mute(u32);

impl std::fmt::Debug for Mute {
    fn fmt(&self, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("no words for {}", self.0)
    }
}

/// Panics in `#[process_element]` for value 1, and in its timer's callback otherwise.
#[dofn]
#[derive(Clone, Default)]
struct PanicsOnMute {
    #[timer_id("t")]
    t: TimerSpec<EventTime>,
}

#[dofn]
impl PanicsOnMute {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(Mute, u32), u32>, #[timer_id("t")] t: &mut Timer) {
        assert_ne!(*cx.value(), 1, "one is too many");
        t.set(cx.timestamp());
    }

    #[on_timer("t")]
    fn on_t(&self) {
        panic!("the timer gives up");
    }
}

#[test]
fn a_panic_for_a_key_whose_debug_panics_still_fails_the_run_with_an_error() {
    for (value, message) in [(1, "one is too many"), (2, "the timer gives up")] {
        for workers in [1, 2] {
            let result = Pipeline::from_values([((Mute(7), value), ms(0))])
                .with_workers(workers)
                .apply(PanicsOnMute::default())
                .run();
            let Err(Error::Panicked { message: m, site: Some(site), .. }) = result else {
                panic!("{workers} worker(s): the run fails with the callback's panic and its site");
            };
            assert!(m.contains(message), "{m}");
            assert_eq!(site.key.as_deref(), Some("(its `Debug` panicked: no words for 7)"));
        }
    }
}

/// Stateless; panics on 13.
#[dofn]
#[derive(Clone, Default)]
struct StatelessThirteen;

#[dofn]
impl StatelessThirteen {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<u32, u32>) {
        assert_ne!(*cx.element(), 13, "thirteen");
        cx.output(*cx.element());
    }
}

/// A family whose callback starts a timer under a new tag and then panics.
#[dofn]
#[derive(Clone, Default)]
struct Relay {
    #[timer_family_id("leg")]
    leg: TimerFamilySpec<EventTime>,
}

#[dofn]
impl Relay {
    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u8, u8), u8>, #[timer_family_id("leg")] leg: &mut TimerMap) {
        leg.get("first").set(cx.timestamp());
    }

    #[on_timer_family("leg")]
    fn on_leg(&self, TimerTag(tag): TimerTag, Timestamp(t): Timestamp, #[timer_family_id("leg")] leg: &mut TimerMap) {
        leg.get("second").set(t + Duration::from_millis(1));
        panic!("dropped the baton at {tag}");
    }
}

#[test]
fn a_panic_names_the_element_of_a_stateless_dofn_and_its_own_tag_for_a_timer_family() {
    let result = Pipeline::from_values((0..20u32).map(|i| (i, ms(i64::from(i))))).apply(StatelessThirteen).run();
    let Err(Error::Panicked { site: Some(site), .. }) = result else { panic!("the stateless panic has a site") };
    // No key (the DoFn is not keyed), but the element's window and timestamp.
    assert_eq!(
        (site.method.as_str(), site.key.as_deref(), site.window, site.timestamp),
        ("process_element", None, Some(Window::GLOBAL), Some(ms(13)))
    );

    for workers in [1, 2] {
        let result = Pipeline::from_values([((1u8, 1u8), ms(5))]).with_workers(workers).apply(Relay::default()).run();
        let Err(Error::Panicked { site: Some(site), message, .. }) = result else {
            panic!("{workers} worker(s): the family callback's panic has a site");
        };
        assert!(message.contains("dropped the baton at first"), "{message}");
        // The callback made a new tag before panicking: the error still names the tag that fired.
        assert_eq!(site.method, "on_timer_family(\"leg\") for tag \"first\"", "{workers} worker(s)");
    }
}

/// Sets a timer at the element's value; `#[setup]` and `#[start_bundle]` fail the first `fail_setups` and
/// `fail_starts` times they are called (counted across clones); `setups` counts the setups that succeeded.
#[dofn]
#[derive(Clone, Default)]
struct FailsToStart {
    fail_setups: Arc<Mutex<u32>>,
    setups: Arc<Mutex<u32>>,
    fail_starts: Arc<Mutex<u32>>,
    #[timer_id("at")]
    at: TimerSpec<EventTime>,
}

/// Takes one failure off `left`, if any are left: whether the call fails.
fn fails(left: &Mutex<u32>) -> bool {
    let mut left = left.lock().unwrap();
    let fail = *left > 0;
    *left = left.saturating_sub(1);
    fail
}

#[dofn]
impl FailsToStart {
    #[setup]
    fn setup(&mut self) -> Result<(), String> {
        if fails(&self.fail_setups) {
            return Err("setup failed".into());
        }
        *self.setups.lock().unwrap() += 1;
        Ok(())
    }

    #[start_bundle]
    fn start(&mut self) -> Result<(), String> {
        if fails(&self.fail_starts) { Err("start failed".into()) } else { Ok(()) }
    }

    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u32, i64), String>, #[timer_id("at")] at: &mut Timer) {
        at.set(ms(*cx.value()));
    }

    #[on_timer("at")]
    fn on_at(&self, cx: &mut TimerContext<String>, Key(k): Key<&u32>) {
        cx.output(format!("timer {k}"));
    }
}

#[test]
fn a_timer_due_when_a_bundle_fails_to_start_fires_at_the_next_advance() {
    let flaky = FailsToStart::default();
    let mut h = Harness::new(flaky.clone(), WindowingStrategy::global()).unwrap();
    h.add_elements([((1, 10), ms(1)), ((2, 10), ms(1))]).unwrap();
    *flaky.fail_starts.lock().unwrap() = 1;
    let err = h.advance_watermark_to(ms(20)).unwrap_err();
    assert!(err.to_string().ends_with("start failed"), "{err}");
    // Both timers are still due: the next advance, even to the same watermark, fires them.
    let out = h.advance_watermark_to(ms(20)).unwrap();
    assert_eq!(values(&out), ["timer 1", "timer 2"]);
    assert_eq!(h.metrics().timers_fired, 2);
}

#[test]
fn a_failed_setup_is_tried_again_before_the_dofn_runs() {
    let flaky = FailsToStart { fail_setups: Arc::new(Mutex::new(1)), ..FailsToStart::default() };
    let mut h = Harness::new(flaky.clone(), WindowingStrategy::global()).unwrap();
    let err = h.add_elements([((1, 10), ms(1))]).unwrap_err();
    assert!(err.to_string().ends_with("setup failed"), "{err}");
    assert_eq!(h.metrics().elements_processed, 0, "nothing runs on a DoFn that is not set up");
    h.add_elements([((2, 10), ms(1))]).unwrap();
    assert_eq!(*flaky.setups.lock().unwrap(), 1, "set up before the second step ran");
    assert_eq!(values(&h.advance_watermark_to(ms(20)).unwrap()), ["timer 2"]);
}

fn values<T: Clone>(out: &[WindowedValue<T>]) -> Vec<T> {
    out.iter().map(|o| o.value.clone()).collect()
}

/// Panics in the bundle method it is told.
#[dofn]
#[derive(Clone, Default)]
struct PanicsIn {
    method: &'static str,
    #[state_id("n")]
    n: StateSpec<Value<u32>>,
}

impl PanicsIn {
    fn maybe_panic(&self, method: &str) {
        assert_ne!(self.method, method, "boom in {method}");
    }
}

#[dofn]
impl PanicsIn {
    #[setup]
    fn setup(&mut self) {
        self.maybe_panic("setup");
    }

    #[start_bundle]
    fn start(&mut self) {
        self.maybe_panic("start_bundle");
    }

    #[process_element]
    fn process(&self, cx: &mut ProcessContext<(u8, u32), u32>, #[state_id("n")] n: &mut Value<u32>) {
        n.write(*cx.value());
        cx.output(*cx.value());
    }

    #[finish_bundle]
    fn finish(&mut self, _cx: &mut BundleContext<u32>) {
        self.maybe_panic("finish_bundle");
    }
}

#[test]
fn a_panic_in_a_bundle_method_names_the_method() {
    for method in ["setup", "start_bundle", "finish_bundle"] {
        for workers in [1, 2] {
            let result = Pipeline::from_values([((1u8, 1u32), ms(1)), ((2, 2), ms(2))])
                .with_workers(workers)
                .apply(PanicsIn { method, ..PanicsIn::default() })
                .run();
            let Err(Error::Panicked { site: Some(site), message, .. }) = result else {
                panic!("{method}, {workers} worker(s): the panic has a site");
            };
            assert!(message.contains(&format!("boom in {method}")), "{message}");
            assert_eq!(site.method, method, "{workers} worker(s)");
            assert_eq!((site.key.as_deref(), site.window), (None, None), "{method}: no key or window");
        }
    }
}
