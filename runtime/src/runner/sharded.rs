//! A DoFn run on several worker threads, keys sharded across them.
//!
//! Each worker owns a clone of the DoFn and the state and timers of the keys hashed to it, so one key is only
//! ever processed by one thread. Every step, the elements of the step are split by key into one batch per
//! worker, the workers process their batch and advance their clock and watermark, and their outputs follow
//! in worker order (appended to the next stage's input, or, at the end of a run, kept as the parts of the
//! result they were written in): the result is the same, in the same order, on every run with the same
//! number of workers, and the same per key and window for any number of workers.

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
use super::outputs::Parts;
use super::pipeline::{Assign, Node, Step, Summary};

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
    output_watermark: Instant,
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
    /// The worker's output vector between steps.
    spare: Vec<WindowedValue<O>>,
    /// How many outputs the worker made in its last step (room for as many is made for the next one).
    hint: usize,
    thread: Option<JoinHandle<()>>,
}

/// A stateful DoFn sharded by key across worker threads.
pub(crate) struct Sharded<F: DoFn> {
    upstream: Box<dyn Node<F::Input>>,
    /// Shard 0 runs on the calling thread, while the workers run the others: `n` shards keep `n` threads busy.
    local: Executor<F>,
    /// Shards 1.. .
    workers: Vec<Worker<F::Input, F::Output>>,
    buffer: Vec<WindowedValue<F::Input>>,
    batches: Vec<Vec<WindowedValue<F::Input>>>,
    /// How many outputs shard 0 made in its last step, when outputs are collected in parts.
    local_hint: usize,
    /// The windows to assign to each shard's elements first (by the shard's thread), if any.
    assign: Option<Assign<F::Input>>,
    finished: bool,
}

impl<F: DoFn> Sharded<F> {
    pub(crate) fn new(
        upstream: Box<dyn Node<F::Input>>,
        dofn: F,
        strategy: WindowingStrategy,
        workers: usize,
        assign: Option<Assign<F::Input>>,
    ) -> Result<Self, Error> {
        let local = Executor::new(dofn.clone(), strategy)?;
        let mut handles = Vec::with_capacity(workers - 1);
        for i in 1..workers {
            let executor = Executor::new(dofn.clone(), strategy)?;
            let (commands, command_rx) = sync_channel::<Command<F::Input, F::Output>>(1);
            let (reply_tx, replies) = sync_channel::<Reply<F::Input, F::Output>>(1);
            let thread = std::thread::Builder::new()
                .name(format!("dofn-{}-{i}", F::NAME))
                .spawn(move || work(executor, assign, command_rx, reply_tx))
                .map_err(|e| Error::Construction { dofn: F::NAME, message: format!("cannot start a worker: {e}") })?;
            handles.push(Worker { commands, replies, spare: Vec::new(), hint: 0, thread: Some(thread) });
        }
        Ok(Sharded {
            upstream,
            local,
            workers: handles,
            buffer: Vec::new(),
            batches: (0..workers).map(|_| Vec::new()).collect(),
            local_hint: 0,
            assign,
            finished: false,
        })
    }
}

fn work<F: DoFn>(
    mut executor: Executor<F>,
    assign: Option<Assign<F::Input>>,
    commands: Receiver<Command<F::Input, F::Output>>,
    replies: SyncSender<Reply<F::Input, F::Output>>,
) {
    while let Ok(command) = receive(&commands) {
        match command {
            Command::Step(Work { mut elements, mut outputs, time }) => {
                let result = executor.run_step(&mut elements, assign.as_ref(), time, &mut outputs);
                let done = Done { elements, outputs, output_watermark: executor.output_watermark(), result };
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
/// being woken from a blocking wait costs more than the step itself on a busy machine.
fn receive<T>(rx: &Receiver<T>) -> Result<T, std::sync::mpsc::RecvError> {
    for i in 0..SPINS {
        match rx.try_recv() {
            Ok(value) => return Ok(value),
            // Now and then let another thread have the core, in case there are fewer cores than workers.
            Err(std::sync::mpsc::TryRecvError::Empty) if i % 64 == 63 => std::thread::yield_now(),
            Err(std::sync::mpsc::TryRecvError::Empty) => std::hint::spin_loop(),
            Err(std::sync::mpsc::TryRecvError::Disconnected) => return Err(std::sync::mpsc::RecvError),
        }
    }
    rx.recv()
}

/// How many times [`receive`] polls before it blocks (some tens of microseconds).
const SPINS: usize = 20_000;

fn worker_gone(dofn: &'static str) -> Error {
    Error::Panicked { dofn, message: "its worker thread stopped unexpectedly".into() }
}

impl<F: DoFn> Sharded<F> {
    /// One step: hands each worker its elements and a vector for its outputs (`fresh`), runs shard 0 here
    /// with its outputs into `local_out`, then hands each worker's outputs, in worker order, to `collect`
    /// (with `local_out`).
    fn step_with(
        &mut self,
        local_out: &mut Vec<WindowedValue<F::Output>>,
        mut fresh: impl FnMut(&mut Worker<F::Input, F::Output>) -> Vec<WindowedValue<F::Output>>,
        mut collect: impl FnMut(
            &mut Vec<WindowedValue<F::Output>>,
            &mut Worker<F::Input, F::Output>,
            Vec<WindowedValue<F::Output>>,
        ),
    ) -> Result<Option<Step>, Error> {
        let Some(step) = self.upstream.step(&mut self.buffer)? else { return Ok(None) };
        let n = self.batches.len();
        for element in self.buffer.drain(..) {
            let shard = shard_of(F::key_of(&element.value), n);
            self.batches[shard].push(element);
        }
        let (local_batch, batches) = self.batches.split_at_mut(1);
        for (worker, batch) in self.workers.iter_mut().zip(batches.iter_mut()) {
            let work = Work { elements: std::mem::take(batch), outputs: fresh(worker), time: step };
            worker.commands.send(Command::Step(work)).map_err(|_| worker_gone(F::NAME))?;
        }
        // Shard 0, here, while the workers run theirs; its outputs come first.
        let local_result = self.local.run_step(&mut local_batch[0], self.assign.as_ref(), step, local_out);
        let mut watermark = self.local.output_watermark();
        let mut first_error = local_result.err();
        for (worker, batch) in self.workers.iter_mut().zip(batches.iter_mut()) {
            match receive(&worker.replies) {
                Ok(Reply::Stepped(done)) => {
                    collect(local_out, worker, done.outputs);
                    *batch = done.elements;
                    watermark = watermark.min(done.output_watermark);
                    if let Err(e) = done.result {
                        first_error.get_or_insert(e);
                    }
                }
                _ => return Err(worker_gone(F::NAME)),
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(Some(Step { watermark, processing_time: step.processing_time })),
        }
    }
}

impl<F: DoFn> Node<F::Output> for Sharded<F> {
    fn step(&mut self, out: &mut Vec<WindowedValue<F::Output>>) -> Result<Option<Step>, Error> {
        // Each worker's outputs are appended to `out`, and its vector goes back to it for the next step.
        self.step_with(
            out,
            |worker| std::mem::take(&mut worker.spare),
            |out, worker, mut made| {
                out.append(&mut made);
                worker.spare = made;
            },
        )
    }

    fn step_parts(&mut self, parts: &mut Parts<F::Output>) -> Result<Option<Step>, Error> {
        // Each worker's outputs are a part of their own: no copy on this thread, and the worker, not this
        // thread, is the one that first writes to their memory.
        let mut local = Vec::with_capacity(self.local_hint);
        let mut made = Vec::with_capacity(self.workers.len());
        let step = self.step_with(
            &mut local,
            |worker| Vec::with_capacity(worker.hint),
            |_, worker, outputs| {
                worker.hint = outputs.len();
                made.push(outputs);
            },
        );
        self.local_hint = local.len();
        parts.push(local);
        made.into_iter().for_each(|part| parts.push(part));
        step
    }

    fn finish(&mut self, summary: &mut Summary) -> Result<(), Error> {
        self.upstream.finish(summary)?;
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        let mut metrics = self.local.metrics();
        let mut result = self.local.teardown();
        summary.tagged.append(self.local.take_tagged());
        for worker in &mut self.workers {
            if worker.commands.send(Command::Finish).is_err() {
                result = Err(worker_gone(F::NAME));
                continue;
            }
            match worker.replies.recv() {
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
        result
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
