//! The generator's knobs: every limit and probability in one place.

use std::ops::RangeInclusive;

/// An async body's steps, as the generator draws them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// `yield`.
    Yield,
    /// `yield-cancellable`, never cancelled where the generator puts it.
    YieldCancellable,
    /// `poll-cancellable`, likewise.
    PollCancellable,
    /// `(block N)` on one of the plan's gates, where the body may block
    /// (else a cancel).
    Block,
    /// `(note N)`.
    Note,
    /// A call of an export declared earlier (else a note).
    Call,
    /// A cancel of a cancellable export declared earlier (else a yield).
    Cancel,
    /// `(start ...)` of a returning export of another actor: a subtask kept
    /// in the actor's slot (else a note).
    Start,
    /// `cancel-kept` or `cancel-kept-async` of whatever subtask the slot
    /// holds.
    CancelKept,
    /// `drop-set`, with no waiter (else a note).
    DropSet,
}

/// What a cancellable callee does before it waits to be cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancellableStep {
    Note,
    Yield,
    YieldCancellable,
    PollCancellable,
}

/// The kinds of the exports `f0`, `f1`, ... of an actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Sync,
    /// Threads that outlive `task.return` (first actor only, else `Async`).
    Outliving,
    /// Waits to be cancelled (not an actor's first export, else `Async`).
    Cancellable,
    /// Returns and exits by itself without waiting on the host; cancelled
    /// and started into the slots (not an actor's first export, else
    /// `Async`).
    Returning,
    Async,
}

/// One round of host actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundKind {
    /// Start calls, then drive.
    Calls,
    /// Release a gate, then drive.
    Release,
    /// One `call_async`.
    CallAsync,
    /// Drop a started call (else a release).
    Drop,
    /// Call the `hold` export alone (when the plan has one, else a drop).
    Hold,
}

/// Limits and probabilities (in percent) of the generator. A seed gives the
/// same plan only with the same `Config`; the suite and the scripts use
/// [`Config::default`].
#[derive(Debug, Clone)]
pub struct Config {
    /// How many actors (`a` to `d`).
    pub actors: RangeInclusive<usize>,
    /// How many exports `fN` each actor has.
    pub exports: RangeInclusive<usize>,
    /// How many gates the rounds release.
    pub gates: RangeInclusive<usize>,
    /// How many rounds of host actions.
    pub rounds: RangeInclusive<usize>,
    /// How many calls a `Calls` round starts.
    pub calls_per_round: RangeInclusive<usize>,
    /// Most steps of a sync body.
    pub sync_steps: usize,
    /// Most steps of an async body before and after `task.return`.
    pub async_steps: usize,
    /// Most steps of an async body whose thread returns for it, and of that
    /// thread.
    pub thread_steps: usize,
    /// Most steps of an outliving thread before its first gate.
    pub outliving_steps: usize,
    /// Most steps of a cancellable callee before it waits.
    pub cancellable_steps: usize,
    /// A plan with a trapping export.
    pub trap: usize,
    /// A trapping export that traps by dropping the waitable set a task of
    /// its instance waits on (rather than with `unreachable`).
    pub trap_drop_set: usize,
    /// A plan whose second actor has a `hold` export (backpressure).
    pub hold: usize,
    /// An async export lifted with a callback rather than stackful.
    pub callback: usize,
    /// An async export of the first actor whose spawned thread returns for
    /// it.
    pub thread_returns: usize,
    /// A stackful body ending in an explicit `exit`.
    pub stackful_exit: usize,
    /// An outliving thread that returns for its task (rather than outliving
    /// the whole task).
    pub outliving_returns: usize,
    /// A sync body's step being a call (rather than a note).
    pub sync_call: usize,
    /// A sync body's step being a `start`, `cancel-kept-async` or
    /// `drop-set` (rather than a call or a note).
    pub sync_keep: usize,

    /// A call that may be lowered either way being lowered sync.
    pub sync_lower: usize,
    /// A cancel being the blocking `subtask.cancel` (rather than the async
    /// one).
    pub blocking_cancel: usize,
    /// The weights of the steps of an async body.
    pub step_weights: Vec<(StepKind, usize)>,
    /// The weights of a cancellable callee's steps.
    pub cancellable_weights: Vec<(CancellableStep, usize)>,
    /// The weights of the kinds of an actor's exports.
    pub export_weights: Vec<(ExportKind, usize)>,
    /// The weights of the rounds.
    pub round_weights: Vec<(RoundKind, usize)>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            actors: 2..=4,
            exports: 1..=3,
            gates: 1..=4,
            rounds: 3..=10,
            calls_per_round: 1..=3,
            sync_steps: 3,
            async_steps: 3,
            thread_steps: 2,
            outliving_steps: 1,
            cancellable_steps: 2,
            trap: 15,
            trap_drop_set: 50,
            hold: 50,
            callback: 50,
            thread_returns: 15,
            stackful_exit: 30,
            outliving_returns: 50,
            sync_call: 50,
            sync_keep: 30,
            sync_lower: 50,
            blocking_cancel: 50,
            step_weights: vec![
                (StepKind::Yield, 2),
                (StepKind::YieldCancellable, 1),
                (StepKind::PollCancellable, 1),
                (StepKind::Block, 2),
                (StepKind::Note, 1),
                (StepKind::Call, 3),
                (StepKind::Cancel, 2),
                (StepKind::Start, 3),
                (StepKind::CancelKept, 2),
                (StepKind::DropSet, 1),
            ],
            cancellable_weights: vec![
                (CancellableStep::Note, 1),
                (CancellableStep::Yield, 1),
                (CancellableStep::YieldCancellable, 1),
                (CancellableStep::PollCancellable, 1),
            ],
            export_weights: vec![
                (ExportKind::Sync, 2),
                (ExportKind::Outliving, 1),
                (ExportKind::Cancellable, 1),
                (ExportKind::Returning, 2),
                (ExportKind::Async, 6),
            ],
            round_weights: vec![
                (RoundKind::Calls, 4),
                (RoundKind::Release, 3),
                (RoundKind::CallAsync, 2),
                (RoundKind::Drop, 1),
                (RoundKind::Hold, 2),
            ],
        }
    }
}
