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
        e.body
            .iter()
            .any(|s| matches!(s, Step::CallCancel { .. } | Step::CallCancelAsync { .. }))
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
