//! Parallel, streaming, order-preserving: run a function on every message with N threads and hand
//! the results to a sink in input order.
//!
//! ```text
//!  reader thread ──(admission gate)──▶ work channel ──▶ N workers ──▶ result channel
//!                                                                         │
//!  sink (calling thread) ◀── reorder buffer (by sequence number) ◀────────┘
//! ```
//!
//! The bound on memory is described on [`run_ordered`].

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, sync_channel};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use super::inputs::RawMessage;
use super::progress::Progress;

/// Messages in flight per job (queued, being worked on, or waiting for reordering).
pub const IN_FLIGHT_PER_JOB: usize = 4;

/// Bytes of messages in flight at once, by default: 32 MiB.
pub const IN_FLIGHT_BYTES: u64 = 32 * 1024 * 1024;

/// How much [`run_ordered_with`] keeps in flight. See [`run_ordered`] for what they bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PipelineLimits {
    /// Messages taken from the input and not yet handed to the sink. At least 1.
    pub max_in_flight: usize,
    /// Their bytes (a larger single message is let in when nothing else is in flight).
    pub max_in_flight_bytes: u64,
}

impl PipelineLimits {
    /// The defaults for `jobs` threads: [`IN_FLIGHT_PER_JOB`] × jobs messages,
    /// [`IN_FLIGHT_BYTES`] bytes.
    pub fn for_jobs(jobs: usize) -> Self {
        Self {
            max_in_flight: jobs.max(1).saturating_mul(IN_FLIGHT_PER_JOB),
            max_in_flight_bytes: IN_FLIGHT_BYTES,
        }
    }
}

/// Runs `work` on every message with `jobs` threads (0 counts as 1) and calls `sink` with the
/// results in input order, on the calling thread, with the default [`PipelineLimits`].
///
/// `sink` returning [`ControlFlow::Break`] stops the scan early (a broken pipe): no more messages
/// are read or started, and `run_ordered` returns once the threads have finished what they hold.
/// `progress`, if given, is told about each message as its result reaches the sink, and finished
/// at the end.
///
/// # Memory
///
/// A message takes an admission slot before it is read from the input iterator, and gives it back
/// only after its result has been handed to the sink. Slots cover everything in between: messages
/// queued for a worker, being worked on, and results waiting in the reorder buffer for an earlier,
/// slower message. So at most [`PipelineLimits::max_in_flight`] messages (default
/// [`IN_FLIGHT_PER_JOB`] × jobs) exist at once, and their bytes add up to at most
/// [`PipelineLimits::max_in_flight_bytes`] (default [`IN_FLIGHT_BYTES`]), except that one message
/// larger than the byte budget is let in alone. A slow first message therefore stalls the reader
/// (backpressure) instead of letting the rest pile up. A message's size is only known once it has
/// been read, so the reader may also hold the one message it is waiting to admit. Memory is
/// bounded by those limits (plus that message, itself at most
/// [`ScanOptions::max_message_size`](super::ScanOptions::max_message_size)) plus what the
/// per-message function allocates, whatever the number or size of the inputs.
///
/// # Panics
///
/// A panic in `work` or in the input iterator is re-raised on the calling thread after the other
/// threads have stopped.
pub fn run_ordered<T: Send, I: Iterator<Item = RawMessage> + Send>(
    inputs: I,
    jobs: usize,
    work: impl Fn(RawMessage) -> T + Sync,
    sink: impl FnMut(T) -> ControlFlow<()>,
    progress: Option<&dyn Progress>,
) {
    run_ordered_with(inputs, jobs, PipelineLimits::for_jobs(jobs), work, sink, progress);
}

/// [`run_ordered`] with explicit limits.
pub fn run_ordered_with<T: Send, I: Iterator<Item = RawMessage> + Send>(
    mut inputs: I,
    jobs: usize,
    limits: PipelineLimits,
    work: impl Fn(RawMessage) -> T + Sync,
    mut sink: impl FnMut(T) -> ControlFlow<()>,
    progress: Option<&dyn Progress>,
) {
    let jobs = jobs.max(1);
    let gate = Gate::new(limits);
    let (job_tx, job_rx) = sync_channel::<Job>(jobs);
    let job_rx = Mutex::new(job_rx);
    let (done_tx, done_rx) = channel::<Done<T>>();
    let mut work_panic = None;

    std::thread::scope(|scope| {
        // Whatever happens on this thread (even a panic in `sink`), the reader must stop, or the
        // scope would wait for it forever.
        let _stop_on_exit = StopOnDrop(&gate);

        let gate_ref = &gate;
        scope.spawn(move || {
            let mut seq = 0u64;
            while gate_ref.take_slot() {
                let Some(message) = inputs.next() else {
                    gate_ref.give_back(0);
                    break;
                };
                let size = message.bytes.as_ref().map_or(0, |bytes| bytes.len() as u64);
                if !gate_ref.take_bytes(size) {
                    break;
                }
                if job_tx.send(Job { seq, size, message }).is_err() {
                    break;
                }
                seq += 1;
            }
        });

        for _ in 0..jobs {
            let done_tx = done_tx.clone();
            let (job_rx, work, gate) = (&job_rx, &work, &gate);
            scope.spawn(move || loop {
                let job = lock(job_rx).recv();
                let Ok(Job { seq, size, message }) = job else { break };
                // After a stop, keep draining the channel (the reader may be blocked on it) but
                // do no more work.
                if gate.is_stopped() {
                    continue;
                }
                let outcome = catch_unwind(AssertUnwindSafe(|| work(message)));
                // The receiver is gone only after a stop: nothing left to do with the result.
                let _ = done_tx.send(Done { seq, size, outcome });
            });
        }
        drop(done_tx);

        let mut waiting: BTreeMap<u64, (u64, T)> = BTreeMap::new();
        let mut next = 0u64;
        'results: while let Ok(Done { seq, size, outcome }) = done_rx.recv() {
            match outcome {
                Ok(result) => {
                    waiting.insert(seq, (size, result));
                }
                Err(payload) => {
                    work_panic = Some(payload);
                    break;
                }
            }
            while let Some((size, result)) = waiting.remove(&next) {
                next += 1;
                if let Some(progress) = progress {
                    progress.message_done(size);
                }
                let flow = sink(result);
                gate.give_back(size);
                if flow.is_break() {
                    break 'results;
                }
            }
        }
        gate.stop();
        drop(done_rx);
    });

    if let Some(progress) = progress {
        progress.finish();
    }
    if let Some(payload) = work_panic {
        resume_unwind(payload);
    }
}

/// A message on its way to a worker.
struct Job {
    seq: u64,
    size: u64,
    message: RawMessage,
}

/// A worker's result (or its panic).
struct Done<T> {
    seq: u64,
    size: u64,
    outcome: std::thread::Result<T>,
}

/// The admission gate: counts messages and bytes in flight, and makes the reader wait.
struct Gate {
    limits: PipelineLimits,
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    messages: usize,
    bytes: u64,
    stopped: bool,
}

impl Gate {
    fn new(limits: PipelineLimits) -> Self {
        let limits = PipelineLimits { max_in_flight: limits.max_in_flight.max(1), ..limits };
        Self { limits, state: Mutex::new(GateState::default()), changed: Condvar::new() }
    }

    /// Waits for a message slot. False once stopped.
    fn take_slot(&self) -> bool {
        let mut state = lock(&self.state);
        while !state.stopped && state.messages >= self.limits.max_in_flight {
            state = self.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        if state.stopped {
            return false;
        }
        state.messages += 1;
        true
    }

    /// Waits until `size` more bytes fit (or nothing else holds bytes). False once stopped.
    fn take_bytes(&self, size: u64) -> bool {
        let mut state = lock(&self.state);
        while !state.stopped
            && state.bytes > 0
            && state.bytes.saturating_add(size) > self.limits.max_in_flight_bytes
        {
            state = self.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        if state.stopped {
            return false;
        }
        state.bytes = state.bytes.saturating_add(size);
        true
    }

    /// A message (holding `size` bytes) has left the pipeline.
    fn give_back(&self, size: u64) {
        let mut state = lock(&self.state);
        state.messages = state.messages.saturating_sub(1);
        state.bytes = state.bytes.saturating_sub(size);
        self.changed.notify_all();
    }

    fn stop(&self) {
        lock(&self.state).stopped = true;
        self.changed.notify_all();
    }

    fn is_stopped(&self) -> bool {
        lock(&self.state).stopped
    }
}

struct StopOnDrop<'a>(&'a Gate);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Locks a mutex, ignoring poisoning: the data guarded here (counters, a receiver) stays valid
/// whatever panicked.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
