//! The upstream behaviours a generated plan may run into: where a backend
//! falls short of the contract in a way `CONFORMANCE.md` explains, a plan
//! that can reach it may fail there, but only with that error. The
//! generator writes a `(may-fail-on ...)` for each that applies.

use super::plan::{Action, Plan};
use crate::backends::Backend;
use crate::compose::{Encoding, async_typed};
use crate::scenario::ExpectedFailure;
use crate::spec::{Export, Lift, Lower, Step};

/// A known upstream behaviour.
pub struct Known {
    /// The backend that has it.
    pub backend: Backend,
    /// Text of the error it fails with.
    pub text: &'static str,
    /// Why, in a few words (the reports list it).
    pub reason: &'static str,
    /// Whether a plan can run into it.
    pub applies: fn(&Plan) -> bool,
}

const STOLEN_YIELD: &str = "a thread takes the NONE event owed to its task's YIELDed callback";
const STALE_CANCEL: &str =
    "a cancellation pending at task.return is delivered to the next cancellable built-in";
const CALLER_EXITED: &str =
    "a subtask's result is lowered on the thread of its caller, which exited (series patch 21)";

/// Every known upstream behaviour, in the order the scenarios list them.
pub const KNOWN: &[Known] = &[
    // The callback's turn finds no event, or a thread's cancellable yield
    // finds NONE where only a cancellation can be.
    Known {
        backend: Backend::Upstream45,
        text: "delivering non-present event",
        reason: STOLEN_YIELD,
        applies: yields_beside_threads,
    },
    Known {
        backend: Backend::Upstream45,
        text: "matches!(event, Event::Cancelled)",
        reason: STOLEN_YIELD,
        applies: yields_beside_threads,
    },
    Known {
        backend: Backend::Upstream48,
        text: "delivering non-present event",
        reason: STOLEN_YIELD,
        applies: yields_beside_threads,
    },
    Known {
        backend: Backend::Upstream48,
        text: "matches!(event, Event::Cancelled)",
        reason: STOLEN_YIELD,
        applies: yields_beside_threads,
    },
    Known {
        backend: Backend::Upstream45,
        text: "`subtask.cancel` called after terminal status delivered",
        reason: "45 does not cancel a STARTING subtask whose start is in the work queue",
        applies: cancels,
    },
    Known {
        backend: Backend::Upstream48,
        text: "the host future for this call was dropped before it started",
        reason: "48 fails the store instead of cancelling the call",
        applies: drops_call_async_while_held,
    },
    Known {
        backend: Backend::Upstream48,
        text: "cannot block a synchronous task before returning",
        reason: "48 traps a sync task that blocks on an async-typed callee",
        applies: sync_calls_async_typed,
    },
    // `start` leaves a subtask running while its caller goes on, and the
    // caller may exit first: upstream switches to the exited caller's
    // thread to deliver the result, and its table entry is gone or holds
    // something else by then.
    Known {
        backend: Backend::Upstream45,
        text: "resource not present",
        reason: CALLER_EXITED,
        applies: starts,
    },
    Known {
        backend: Backend::Upstream45,
        text: "resource is of another type",
        reason: CALLER_EXITED,
        applies: starts,
    },
    Known {
        backend: Backend::Upstream48,
        text: "resource not present",
        reason: CALLER_EXITED,
        applies: starts,
    },
    Known {
        backend: Backend::Upstream48,
        text: "resource is of another type",
        reason: CALLER_EXITED,
        applies: starts,
    },
    // A sync-lifted task's async `subtask.cancel` of a callee that waits
    // cancellably suspends the caller, which may not block.
    Known {
        backend: Backend::Upstream45,
        text: "SuspendReason::ExplicitlySuspending",
        reason: "45 suspends a task that may not block in an async subtask.cancel",
        applies: sync_cancels_async,
    },
    // A cancellation pending when the callee calls `task.return` reaches
    // its next cancellable built-in, and its `task.cancel` traps.
    Known {
        backend: Backend::Upstream45,
        text: "called more than once",
        reason: STALE_CANCEL,
        applies: cancels_returning,
    },
    Known {
        backend: Backend::Upstream48,
        text: "called more than once",
        reason: STALE_CANCEL,
        applies: cancels_returning,
    },
];

fn exports(plan: &Plan) -> impl Iterator<Item = &Export> {
    plan.spec.actors.iter().flat_map(|a| &a.exports)
}

/// A callback that YIELDs while its task's threads wait or yield.
fn yields_beside_threads(plan: &Plan) -> bool {
    exports(plan)
        .any(|e| e.lift == Lift::Callback && !e.threads.is_empty() && e.body.contains(&Step::Yield))
}

/// A cancel of a STARTING subtask whose start may already be in the store's
/// work queue: the callee's instance may be held by backpressure or by
/// another task of its own.
fn cancels(plan: &Plan) -> bool {
    exports(plan).any(|e| {
        e.body.iter().chain(e.threads.iter().flatten()).any(|s| {
            matches!(
                s,
                Step::CallCancel { .. }
                    | Step::CallCancelAsync { .. }
                    | Step::CancelKept
                    | Step::CancelKeptAsync
            )
        })
    })
}

/// A sync-lifted body that cancels with the async `subtask.cancel`.
fn sync_cancels_async(plan: &Plan) -> bool {
    exports(plan).any(|e| e.lift == Lift::Sync && e.body.contains(&Step::CancelKeptAsync))
}

/// A cancel of a callee that calls `task.return` (directly, or through the
/// slot of a `start`).
fn cancels_returning(plan: &Plan) -> bool {
    let returns = |target: &crate::spec::Target| {
        plan.spec
            .export(target)
            .is_some_and(|(_, e)| e.body.contains(&Step::Return))
    };
    let steps = || exports(plan).flat_map(|e| e.body.iter().chain(e.threads.iter().flatten()));
    let kept = steps().any(|s| matches!(s, Step::CancelKept | Step::CancelKeptAsync));
    steps().any(|s| match s {
        Step::CallCancel { target } | Step::CallCancelAsync { target } => returns(target),
        Step::Start { target } => kept && returns(target),
        _ => false,
    })
}

/// A subtask started and left running (`start`).
fn starts(plan: &Plan) -> bool {
    exports(plan).any(|e| {
        e.body
            .iter()
            .chain(e.threads.iter().flatten())
            .any(|s| matches!(s, Step::Start { .. }))
    })
}

/// A `call_async` future dropped before its call started.
fn drops_call_async_while_held(plan: &Plan) -> bool {
    exports(plan).any(|e| e.body.contains(&Step::BackpressureInc))
        && plan
            .actions
            .iter()
            .any(|a| matches!(a, Action::CallAsync(..)))
}

/// A sync task waiting on a callee that 48 types async.
fn sync_calls_async_typed(plan: &Plan) -> bool {
    exports(plan).any(|e| {
        e.lift == Lift::Sync
            && e.body.iter().any(|s| {
                matches!(s, Step::Call { target, lower: Lower::Sync }
                    if async_typed(&plan.spec, target, Encoding::Cm48))
            })
    })
}

impl Plan {
    /// The known upstream behaviours this plan can run into, as the
    /// `(may-fail-on ...)` items of its scenario.
    pub fn upstream_exposures(&self) -> Vec<ExpectedFailure> {
        KNOWN
            .iter()
            .filter(|known| (known.applies)(self))
            .map(|known| ExpectedFailure {
                backend: known.backend,
                text: known.text.into(),
                why: known.reason.into(),
                must: false,
            })
            .collect()
    }
}
