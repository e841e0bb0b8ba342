//! Per-DoFn counters, readable after a run.

use std::fmt;

/// The counters of one DoFn over a run (summed over shards).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Elements passed to `#[process_element]`.
    pub elements_processed: u64,
    /// Elements dropped because their window had expired (past its end plus the allowed lateness).
    pub late_elements_dropped: u64,
    /// Timer callbacks run (plain timers and timer families).
    pub timers_fired: u64,
    /// Processing-time timers dropped because their window expired before they fired.
    pub timers_dropped: u64,
    /// Windows whose state was cleared at expiry (per key).
    pub windows_expired: u64,
    /// Elements output to the main output.
    pub outputs: u64,
    /// Bundles run (`#[start_bundle]` .. `#[finish_bundle]`).
    pub bundles: u64,
}

impl Metrics {
    /// Adds `other`'s counters to these.
    pub fn add(&mut self, other: &Metrics) {
        self.elements_processed += other.elements_processed;
        self.late_elements_dropped += other.late_elements_dropped;
        self.timers_fired += other.timers_fired;
        self.timers_dropped += other.timers_dropped;
        self.windows_expired += other.windows_expired;
        self.outputs += other.outputs;
        self.bundles += other.bundles;
    }
}

/// One line of the counters that depend on the input alone; `bundles` is left out, since it depends on the
/// number of workers as well (each runs its own bundles).
impl fmt::Display for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} elements processed, {} late dropped, {} timers fired, {} timers dropped, {} windows expired, {} outputs",
            self.elements_processed,
            self.late_elements_dropped,
            self.timers_fired,
            self.timers_dropped,
            self.windows_expired,
            self.outputs
        )
    }
}
