//! Generated scenarios: random but valid component graphs and host scripts,
//! with the expected state after every host action computed by a reference
//! model of the counter that knows nothing about Wasmtime.
//!
//! A [`Plan`] is generated from a seed and a [`Config`] of knobs
//! (`plan.rs`, `config.rs`). [`Plan::scenario`] runs the model (`model.rs`)
//! over it and writes an ordinary scenario file (the same format as the
//! hand-written suite), with an `(expect ...)` after every host action: the
//! exact count, ready or pending, how often the waker was woken, and every
//! host call's result. Running that file through `run_str` checks a
//! backend's Wasmtime against the model. [`shrink`] reduces a failing plan
//! to a small one that still fails.
//!
//! What the generator produces, and therefore what the model must know:
//!
//! - Two to four actors; exports lifted sync (only sync calls to sync
//!   exports, so they never block), async with a callback, or async
//!   stackful. Calls go to actors declared earlier.
//! - Async bodies: steps before and after `task.return` drawn from yields
//!   (plain, and cancellable `thread.yield` and `waitable-set.poll` that are
//!   never cancelled and go on at once), waits on host gates, notes, calls
//!   (callbacks lower async-typed callees async; stackful bodies lower
//!   anything either way), and cancels (`call-cancel`, blocking, and
//!   `call-cancel-async`) of callees that wait to be cancelled.
//! - Cancelled callees (`Kind::Cancellable`, callback or stackful): a few
//!   notes, yields, cancellable yields and polls, then a cancellable wait.
//!   The cancellation finds the callee suspended in a cancellable built-in
//!   (delivered at once), in a callback's YIELD (the CANCELLED event), or in
//!   a non-cancellable `thread.yield` (it stays pending, an async cancel is
//!   BLOCKED, and the next cancellable built-in delivers it). The callee
//!   acknowledges with `task.cancel` and exits. They never wait on the host
//!   before that (see `Model::step` for why).
//! - Explicit threads (first actor only, see `Gen::threads_allowed`) that
//!   return for their task: the implicit thread exits without returning and
//!   a spawned thread, which waits on gates and yields (also while the
//!   task's callback has YIELDed), calls `task.return` and exits. And
//!   threads that outlive `task.return` or the whole task: guests call those
//!   exports too, and drop the subtask while its thread still runs.
//! - Host actions in rounds: start calls then drive; release a gate then
//!   drive; `call_async` that returns or is dropped after start; drop a
//!   `call_concurrent` future after it started. At most one trap, reached
//!   last, by a host-called export that waits on its own gate.
//! - Backpressure: one actor may have a `hold` export (host-called alone in
//!   its round) that turns backpressure on, returns, waits on a gate and
//!   turns it off. Calls into that instance meanwhile wait to start; a
//!   `call_async` to it is dropped before it starts (cancelled); a cancel of
//!   its `wait` export hits a STARTING subtask (START_CANCELLED, wherever
//!   its start is queued: still among the instance's pending calls, or
//!   already in the store's work queue after `backpressure.dec`), or a
//!   running one when the instance is not held. Only stackful tasks may
//!   wait for a call into it with a sync lower.
//! - Subtask handles shared by the tasks and threads of an instance: a body
//!   (sync ones too) `start`s a returning callee (`Kind::Returning`: notes
//!   and yields, `task.return`, more of them, exit; never waiting on the
//!   host) and keeps the subtask in its actor's slot; any task or thread of
//!   the actor (the same one or another) `cancel-kept`s it (blocking) or
//!   `cancel-kept-async`s it (sync bodies too: a task that may not block
//!   keeps a BLOCKED subtask and exits holding it), or nobody does and the
//!   starter exits holding it. Which of these happens depends on the order
//!   in which the instance's tasks run; the callee finishes without the
//!   host either way, so the counts do not.
//! - Cancels of returning callees: the cancellation finds them in a
//!   cancellable built-in before `task.return`, stays pending across a
//!   stackful `thread.yield` until `task.return` voids it (the later
//!   cancellable built-ins do not see it), or comes after the return.
//! - `drop-set` (sync bodies too) of a waitable set nobody waits on; and,
//!   as the plan's trap, a trapping export that drops its instance's shared
//!   set while a stackful or callback task (`waiter`, host-called with it)
//!   waits on it: the trap names the rule, and the waiter stays counted.
//! - After a trap, one more host call, which the store refuses.
//!
//! Ordering. The scenario checks the state only when nothing more can run,
//! and the model's plans are chosen so that state does not depend on the
//! order in which Wasmtime runs ready threads, which the contract leaves
//! open: a thread that returns for a task whose implicit thread may still
//! be running exits right after returning, and a cancelled callee resolves
//! within its caller's step whether or not it started first. Notes are not
//! checked here (where the cancellation finds a callee, and so which notes
//! it makes, depends on that order); `tests/steps.rs` pins them in fixed
//! setups.
//!
//! Not generated: threads outside the first actor (see
//! `Gen::threads_allowed`), and so calls or cancels from explicit threads
//! (the first actor has nobody to call).
//!
//! The parts: `config.rs` (the knobs), `plan.rs` (the generator),
//! `model.rs` (the model and the expectations it writes), `shrink.rs` (the
//! shrinker) and `known.rs` (the known upstream behaviours a plan may run
//! into, written as `(may-fail-on ...)`).

mod config;
mod known;
mod model;
mod plan;
mod rng;
mod shrink;

pub use config::{CancellableStep, Config, ExportKind, RoundKind, StepKind};
pub use known::{KNOWN, Known};
pub use plan::{Action, Plan};
pub use rng::Rng;
pub use shrink::shrink;
