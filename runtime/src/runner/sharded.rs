//! A DoFn run on several worker threads, keys sharded across them.
//!
//! Each worker owns a clone of the DoFn and the state and timers of the keys hashed to it, so one key is only
//! ever processed by one thread. Every step, the elements of the step are split by key into one batch per
//! worker, the workers process their batch and advance their clock and watermark, and their outputs follow
//! in worker order (appended to the next stage's input, or, at the end of a run, kept as the parts of the
//! result they were written in): the result is the same, in the same order, on every run with the same
//! number of workers, and the same per key and window for any number of workers. With stored input the next
//! step is handed out before this one's outputs are passed on, so that the threads do not wait on each other
//! at every step.

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::context::{TaggedOutputs, WindowedValue};
use crate::dofn::DoFn;
use crate::error::Error;
use crate::metrics::Metrics;
use crate::time::Instant;
use crate::window::WindowingStrategy;

use super::Executor;
use super::executor::panic_message;
use super::outputs::Parts;
use super::pipeline::{Assign, BOUNDED_BATCH, Node, Step, Summary};
use super::split::split;

/// A deterministic, fast hasher for choosing a key's worker (the same key goes to the same worker on every
/// run, unlike a randomly seeded hasher).
#[derive(Default)]
struct ShardHasher(u64);

impl Hasher for ShardHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(buf));
        }
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }
    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        // After the multiplication the high bits depend on every bit written; `shard_of` picks from them.
        self.0
    }
}

/// The worker a key belongs to.
#[inline]
pub(crate) fn shard_of<K: Hash>(key: &K, workers: usize) -> usize {
    let mut h = ShardHasher::default();
    key.hash(&mut h);
    // The high half of `hash * workers`: as even as `hash % workers`, without a division (tens of cycles, a
    // cost per element on the thread that hands the elements out).
    ((u128::from(h.finish()) * workers as u128) >> 64) as usize
}

struct Work<I, O> {
    elements: Vec<WindowedValue<I>>,
    /// An empty vector for the outputs (handed back and forth, so that steady state allocates nothing).
    outputs: Vec<WindowedValue<O>>,
    /// The watermark and clock to advance to after the elements.
    time: Step,
}

struct Done<I, O> {
    /// The elements vector, emptied, for the next step.
    elements: Vec<WindowedValue<I>>,
    outputs: Vec<WindowedValue<O>>,
    tagged: TaggedOutputs,
    /// The shard's held watermark ([`Executor::held_watermark`]).
    held_watermark: Instant,
    result: Result<(), Error>,
}

struct Finished {
    metrics: Metrics,
    tagged: TaggedOutputs,
    result: Result<(), Error>,
}

enum Command<I, O> {
    Step(Work<I, O>),
    Finish,
}

enum Reply<I, O> {
    Stepped(Done<I, O>),
    Finished(Finished),
}

struct Worker<I, O> {
    commands: SyncSender<Command<I, O>>,
    replies: Receiver<Reply<I, O>>,
    /// Emptied vectors for the worker's outputs and elements, handed back and forth between steps.
    spare_outputs: Vec<Vec<WindowedValue<O>>>,
    spare_elements: Vec<Vec<WindowedValue<I>>>,
    /// How many outputs the worker made in its last step (room for as many is made for the next one).
    hint: usize,
    /// Whether to spin before waiting for its next reply ([`receive`]).
    spin: bool,
    thread: Option<JoinHandle<()>>,
}

/// A step handed out to the workers whose outputs are yet to be passed on.
struct InFlight<O> {
    time: Step,
    /// How many elements the step had (no more steps are handed out while those in flight hold
    /// [`ELEMENTS_AHEAD`]).
    elements: usize,
    /// Shard 0's outputs in the step (main and tagged), its output watermark after it, and how it ended.
    local: Vec<WindowedValue<O>>,
    local_tagged: TaggedOutputs,
    watermark: Instant,
    result: Result<(), Error>,
}

/// Where a step's outputs go: appended to one vector, or kept as parts (one per shard).
enum Sink<'a, O> {
    Append(&'a mut Vec<WindowedValue<O>>),
    Parts(&'a mut Parts<O>),
}

/// How many steps the sharded runner hands out before passing on the outputs of the first: each thread
/// goes on to its shard of the next steps while another finishes this one, so a thread that is slow in one
/// step (a table growing, a page fault, a core taken away for a moment) holds the others up only if it falls
/// this many steps behind, not at every step. The outputs are the same and in the same order. (Two workers,
/// paired runs against handing out one step at a time: W1 with 1,000,000 keys 1.13 times as fast, W4 1.23
/// times; 8 steps against 4, 1.05 times.)
const STEPS_AHEAD: usize = 8;

/// No further step is handed out while the steps in flight hold this many elements (8 bounded-source
/// bundles), so that a test stream of big steps does not keep several of them, and their outputs, in memory.
const ELEMENTS_AHEAD: usize = 8 * BOUNDED_BATCH;

/// A stateful DoFn sharded by key across worker threads.
pub(crate) struct Sharded<F: DoFn> {
    upstream: Box<dyn Node<F::Input>>,
    /// Shard 0 runs on the calling thread, while the workers run the others: `n` shards keep `n` threads busy.
    local: Executor<F>,
    /// Shards 1.. .
    workers: Vec<Worker<F::Input, F::Output>>,
    /// A step's elements as read; shard 0's stay in it (moved up in place) when the others' are taken out.
    buffer: Vec<WindowedValue<F::Input>>,
    /// The elements of each worker's shard in a step.
    batches: Vec<Vec<WindowedValue<F::Input>>>,
    /// The steps handed out, oldest first, and how many there may be (1 for live input, whose next step
    /// is not asked for before this one's outputs are passed on).
    in_flight: VecDeque<InFlight<F::Output>>,
    depth: usize,
    /// Whether the upstream has ended, or failed (with the error to report once the steps before it are
    /// passed on).
    exhausted: bool,
    upstream_error: Option<Error>,
    /// Emptied vectors for shard 0's outputs.
    spare_local: Vec<Vec<WindowedValue<F::Output>>>,
    /// How many outputs shard 0 made in its last step, when outputs are collected in parts.
    local_hint: usize,
    /// The windows to assign to each shard's elements first (by the shard's thread), if any.
    assign: Option<Assign<F::Input>>,
    /// The tagged outputs of the steps passed on, shard by shard within each step, until taken.
    tagged: TaggedOutputs,
    finished: bool,
    /// The output watermark passed on last (it never moves back).
    output_watermark: Instant,
}

impl<F: DoFn> Sharded<F> {
    pub(crate) fn new(
        upstream: Box<dyn Node<F::Input>>,
        dofn: F,
        strategy: WindowingStrategy,
        workers: usize,
        assign: Option<Assign<F::Input>>,
        processing_time_start: Instant,
    ) -> Result<Self, Error> {
        let mut local = Executor::new(dofn.clone(), strategy)?;
        local.set_processing_time_start(processing_time_start);
        let mut handles = Vec::with_capacity(workers - 1);
        for i in 1..workers {
            let mut executor = Executor::new(dofn.clone(), strategy)?;
            executor.set_processing_time_start(processing_time_start);
            // Room for every step in flight, so that neither side waits to hand over a step or a reply.
            let (commands, command_rx) = sync_channel::<Command<F::Input, F::Output>>(STEPS_AHEAD);
            let (reply_tx, replies) = sync_channel::<Reply<F::Input, F::Output>>(STEPS_AHEAD);
            let thread = std::thread::Builder::new()
                .name(format!("dofn-{}-{i}", F::NAME))
                .spawn(move || work(executor, assign, command_rx, reply_tx))
                .map_err(|e| Error::Construction { dofn: F::NAME, message: format!("cannot start a worker: {e}") })?;
            handles.push(Worker {
                commands,
                replies,
                spare_outputs: Vec::new(),
                spare_elements: Vec::new(),
                hint: 0,
                spin: true,
                thread: Some(thread),
            });
        }
        let depth = if upstream.reads_ahead() { STEPS_AHEAD } else { 1 };
        Ok(Sharded {
            upstream,
            local,
            workers: handles,
            buffer: Vec::new(),
            batches: (1..workers).map(|_| Vec::new()).collect(),
            in_flight: VecDeque::with_capacity(depth),
            depth,
            exhausted: false,
            upstream_error: None,
            spare_local: Vec::new(),
            local_hint: 0,
            assign,
            tagged: TaggedOutputs::default(),
            finished: false,
            output_watermark: Instant::MIN,
        })
    }
}

fn work<F: DoFn>(
    mut executor: Executor<F>,
    assign: Option<Assign<F::Input>>,
    commands: Receiver<Command<F::Input, F::Output>>,
    replies: SyncSender<Reply<F::Input, F::Output>>,
) {
    let mut spin = true;
    while let Ok(command) = receive(&commands, &mut spin) {
        match command {
            Command::Step(Work { mut elements, mut outputs, time }) => {
                let result = executor.run_step(&mut elements, assign.as_ref(), time, &mut outputs);
                let held_watermark = executor.held_watermark();
                let done = Done { elements, outputs, tagged: executor.take_tagged(), held_watermark, result };
                if replies.send(Reply::Stepped(done)).is_err() {
                    return;
                }
            }
            Command::Finish => {
                let result = executor.teardown();
                let finished = Finished { metrics: executor.metrics(), tagged: executor.take_tagged(), result };
                let _ = replies.send(Reply::Finished(finished));
                return;
            }
        }
    }
}

/// Receives from `rx`, spinning briefly before blocking: a step's round trip to the workers is short, and
/// being woken from a blocking wait costs more than the step itself on a busy machine. A wait that spun in
/// vain and then blocked for long ([`LONG_WAIT`] or more: a live source with no input, say) turns the spinning
/// off for the next one, and a short wait turns it on again: an idle run waits without keeping a core busy.
fn receive<T>(rx: &Receiver<T>, spin: &mut bool) -> Result<T, std::sync::mpsc::RecvError> {
    if *spin {
        for i in 0..SPINS {
            match rx.try_recv() {
                Ok(value) => return Ok(value),
                // Now and then let another thread have the core, in case there are fewer cores than workers.
                Err(std::sync::mpsc::TryRecvError::Empty) if i % 64 == 63 => std::thread::yield_now(),
                Err(std::sync::mpsc::TryRecvError::Empty) => std::hint::spin_loop(),
                Err(std::sync::mpsc::TryRecvError::Disconnected) => return Err(std::sync::mpsc::RecvError),
            }
        }
    }
    let waiting = std::time::Instant::now();
    let received = rx.recv();
    *spin = waiting.elapsed() < LONG_WAIT;
    received
}

/// How many times [`receive`] polls before it blocks (some tens of microseconds).
const SPINS: usize = 20_000;

/// A wait in [`receive`] this long or longer turns its spinning off until a shorter one.
const LONG_WAIT: std::time::Duration = std::time::Duration::from_micros(200);

fn worker_gone(dofn: &'static str) -> Error {
    Error::Panicked { dofn, message: "its worker thread stopped unexpectedly".into(), site: None }
}

impl<F: DoFn> Sharded<F> {
    /// Hands out steps until as many as may be are in flight or the upstream ends, then passes on the
    /// outputs of the oldest, in shard order, to `sink`.
    fn step_into(&mut self, mut sink: Sink<'_, F::Output>) -> Result<Option<Step>, Error> {
        let parts = matches!(sink, Sink::Parts(_));
        while self.in_flight.len() < self.depth
            && self.in_flight.iter().map(|step| step.elements).sum::<usize>() < ELEMENTS_AHEAD
            && !self.exhausted
        {
            // One step at a time, with the outputs appended: shard 0 writes straight into the sink's vector
            // (no second vector as big as a step's outputs).
            let direct = match &mut sink {
                Sink::Append(out) if self.depth == 1 => Some(&mut **out),
                _ => None,
            };
            match self.hand_out(parts, direct) {
                Ok(more) => self.exhausted = !more,
                Err(e) => {
                    self.exhausted = true;
                    self.upstream_error = Some(e);
                }
            }
        }
        let Some(InFlight { time, local, local_tagged, mut watermark, result, .. }) = self.in_flight.pop_front() else {
            return self.upstream_error.take().map_or(Ok(None), Err);
        };
        let mut first_error = result.err();
        // Shard 0's outputs come first, then each worker's.
        self.local_hint = local.len();
        sink.take(local, &mut self.spare_local);
        self.tagged.append(local_tagged);
        for worker in &mut self.workers {
            match receive(&worker.replies, &mut worker.spin) {
                Ok(Reply::Stepped(done)) => {
                    worker.hint = done.outputs.len();
                    sink.take(done.outputs, &mut worker.spare_outputs);
                    self.tagged.append(done.tagged);
                    worker.spare_elements.push(done.elements);
                    watermark = watermark.min(done.held_watermark);
                    if let Err(e) = done.result {
                        first_error.get_or_insert(e);
                    }
                }
                _ => return Err(worker_gone(F::NAME)),
            }
        }
        // The stage's output watermark: the least of the shards' held watermarks, kept from moving back (as one
        // executor keeps its own).
        self.output_watermark = self.output_watermark.max(watermark);
        match first_error {
            Some(e) => Err(e),
            None => Ok(Some(Step { watermark: self.output_watermark, ..time })),
        }
    }

    /// Reads the next step from upstream, hands each worker its elements, and runs shard 0 here; `false`
    /// once the upstream has ended. Outputs are made in vectors with room for the last step's (`parts`), or
    /// in emptied ones; shard 0's in `direct` if given.
    fn hand_out(&mut self, parts: bool, direct: Option<&mut Vec<WindowedValue<F::Output>>>) -> Result<bool, Error> {
        let Some(time) = self.upstream.step(&mut self.buffer)? else { return Ok(false) };
        let (n, elements) = (self.workers.len() + 1, self.buffer.len());
        for (batch, worker) in self.batches.iter_mut().zip(&mut self.workers) {
            if batch.capacity() == 0 {
                *batch = worker.spare_elements.pop().unwrap_or_default();
            }
        }
        // The workers' elements are moved to their batches; shard 0's stay in the buffer, moved up over the gaps,
        // where they were just read, instead of into a vector of their own (paired runs against that: W1 with
        // 1,000,000 keys on 2 workers 1.04-1.09x, with 1,000 keys 1.14x, W3 1.17x, W4 1.01-1.04x).
        // A key whose `Hash` panics fails the run as it would on one worker, where the hash is taken inside
        // the DoFn's step (`split` leaves every element in a vector when it unwinds).
        let (buffer, batches) = (&mut self.buffer, &mut self.batches);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            split(buffer, batches, |e| shard_of(F::key_of(&e.value), n));
        }))
        .map_err(|payload| Error::Panicked {
            dofn: F::NAME,
            message: panic_message(payload.as_ref()),
            site: None,
        })?;
        for (worker, batch) in self.workers.iter_mut().zip(&mut self.batches) {
            let outputs = fresh(parts, worker.hint, &mut worker.spare_outputs);
            let work = Work { elements: std::mem::take(batch), outputs, time };
            worker.commands.send(Command::Step(work)).map_err(|_| worker_gone(F::NAME))?;
        }
        // Shard 0, here, while the workers run theirs.
        let mut local = Vec::new();
        let local_out = match direct {
            Some(out) => out,
            None => {
                local = fresh(parts, self.local_hint, &mut self.spare_local);
                &mut local
            }
        };
        let result = self.local.run_step(&mut self.buffer, self.assign.as_ref(), time, local_out);
        // (Emptied, unless the step failed before processing it; the run ends then.)
        self.buffer.clear();
        let watermark = self.local.held_watermark();
        let local_tagged = self.local.take_tagged();
        self.in_flight.push_back(InFlight { time, elements, local, local_tagged, watermark, result });
        Ok(true)
    }
}

/// A vector for a shard's outputs in a step: with room for `hint` of them when they are kept as parts
/// (written first by the thread that makes them), else an emptied one from `spare`.
fn fresh<T>(parts: bool, hint: usize, spare: &mut Vec<Vec<T>>) -> Vec<T> {
    if parts { Vec::with_capacity(hint) } else { spare.pop().unwrap_or_default() }
}

impl<O> Sink<'_, O> {
    /// Passes on a shard's outputs: as a part of their own, or appended, the emptied vector going to `spare`.
    fn take(&mut self, mut made: Vec<WindowedValue<O>>, spare: &mut Vec<Vec<WindowedValue<O>>>) {
        match self {
            Sink::Append(out) => {
                out.append(&mut made);
                // (A vector with no room is not worth keeping: shard 0's when it wrote into `out` directly.)
                if made.capacity() > 0 {
                    spare.push(made);
                }
            }
            Sink::Parts(parts) => parts.push(made),
        }
    }
}

impl<F: DoFn> Node<F::Output> for Sharded<F> {
    fn step(&mut self, out: &mut Vec<WindowedValue<F::Output>>) -> Result<Option<Step>, Error> {
        self.step_into(Sink::Append(out))
    }

    fn step_parts(&mut self, parts: &mut Parts<F::Output>) -> Result<Option<Step>, Error> {
        // Each shard's outputs are a part of their own: no copy on this thread.
        self.step_into(Sink::Parts(parts))
    }

    fn reads_ahead(&self) -> bool {
        self.upstream.reads_ahead()
    }

    fn processing_time_start(&self) -> Instant {
        self.upstream.processing_time_start()
    }

    fn take_tagged(&mut self, into: &mut TaggedOutputs) {
        self.upstream.take_tagged(into);
        into.append(std::mem::take(&mut self.tagged));
    }

    fn finish(&mut self, summary: &mut Summary) -> Result<(), Error> {
        // Torn down and reporting even after an upstream stage failed to; the first error wins.
        let upstream = self.upstream.finish(summary);
        if self.finished {
            return upstream;
        }
        self.finished = true;
        let mut metrics = self.local.metrics();
        let mut result = self.local.teardown();
        summary.tagged.append(std::mem::take(&mut self.tagged));
        summary.tagged.append(self.local.take_tagged());
        for worker in &mut self.workers {
            if worker.commands.send(Command::Finish).is_err() {
                result = Err(worker_gone(F::NAME));
                continue;
            }
            // Replies to steps handed out ahead of a failed one are passed over.
            let reply = loop {
                match worker.replies.recv() {
                    Ok(Reply::Stepped(_)) => continue,
                    reply => break reply,
                }
            };
            match reply {
                Ok(Reply::Finished(f)) => {
                    metrics.add(&f.metrics);
                    summary.tagged.append(f.tagged);
                    if let (Ok(()), Err(e)) = (&result, f.result) {
                        result = Err(e);
                    }
                }
                _ => result = Err(worker_gone(F::NAME)),
            }
            if let Some(thread) = worker.thread.take() {
                let _ = thread.join();
            }
        }
        summary.metrics.push((F::NAME, metrics));
        upstream.and(result)
    }
}

impl<F: DoFn> Drop for Sharded<F> {
    fn drop(&mut self) {
        // Closing the command channels ends the workers.
        for worker in &mut self.workers {
            let (closed, _) = sync_channel(0);
            worker.commands = closed;
            if let Some(thread) = worker.thread.take() {
                let _ = thread.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_stable_and_spread() {
        let mut counts = [0usize; 4];
        for k in 0u64..10_000 {
            let s = shard_of(&k, 4);
            assert_eq!(s, shard_of(&k, 4));
            counts[s] += 1;
        }
        assert!(counts.iter().all(|&c| c > 2_000), "{counts:?}");
        let mut counts = [0usize; 2];
        for k in 0..10_000 {
            counts[shard_of(&format!("user-{k}"), 2)] += 1;
        }
        assert!(counts.iter().all(|&c| c > 4_000), "{counts:?}");
    }
}
