//! The shrinker: a failing plan reduced, one action or step at a time, to a
//! small one that still fails.

use super::plan::{Action, Plan};
use crate::spec::Step;
use std::collections::BTreeSet;

impl Plan {
    /// Smaller variants of this plan, for shrinking: each drops one action
    /// or one step.
    fn smaller(&self) -> Vec<Plan> {
        let mut out = Vec::new();
        for i in 0..self.actions.len() {
            let mut p = self.clone();
            p.actions.remove(i);
            out.push(p);
        }
        for (a, actor) in self.spec.actors.iter().enumerate() {
            for (e, export) in actor.exports.iter().enumerate() {
                if export.name == "trap" || export.name == "waiter" {
                    continue;
                }
                // Only steps whose removal keeps the export meaningful: not
                // the structure (return, spawn, exit, backpressure, waiting
                // to be cancelled) nor the trap.
                let removable = |step: &Step| {
                    matches!(
                        step,
                        Step::Yield
                            | Step::YieldCancellable
                            | Step::PollCancellable
                            | Step::Block(_)
                            | Step::Note(_)
                            | Step::Call { .. }
                            | Step::CallCancel { .. }
                            | Step::CallCancelAsync { .. }
                            | Step::Start { .. }
                            | Step::StartBlock(_)
                            | Step::CancelKept
                            | Step::CancelKeptAsync
                            | Step::DropSet
                    )
                };
                for s in 0..export.body.len() {
                    if removable(&export.body[s]) {
                        let mut p = self.clone();
                        p.spec.actors[a].exports[e].body.remove(s);
                        out.push(p);
                    }
                }
                for (t, thread) in export.threads.iter().enumerate() {
                    for s in 0..thread.len() {
                        if removable(&thread[s]) {
                            let mut p = self.clone();
                            p.spec.actors[a].exports[e].threads[t].remove(s);
                            out.push(p);
                        }
                    }
                }
            }
        }
        out
    }

    /// Whether the plan is still well formed after shrinking: every call and
    /// drop names something that exists.
    fn valid(&self) -> bool {
        let mut started = BTreeSet::new();
        for action in &self.actions {
            match action {
                Action::Calls(calls) => {
                    for (id, t) in calls {
                        if self.spec.export(t).is_none() {
                            return false;
                        }
                        started.insert(id.clone());
                    }
                }
                Action::CallAsync(_, t) => {
                    if self.spec.export(t).is_none() {
                        return false;
                    }
                }
                Action::Drop(id) => {
                    if !started.contains(id) {
                        return false;
                    }
                }
                Action::Release(_) | Action::Trap(_) => {}
            }
        }
        // A trap must come last but for one refused call, and its export
        // must be started, with the task that waits on the set it drops
        // (they are started together).
        match self
            .actions
            .iter()
            .position(|a| matches!(a, Action::Trap(_)))
        {
            Some(i) => {
                i + 2 >= self.actions.len()
                    && self.actions[..i].iter().any(|a| match a {
                        Action::Calls(calls) => calls.iter().any(|(_, t)| t.export == "trap"),
                        _ => false,
                    })
            }
            None => true,
        }
    }
}

/// Shrink a plan for which `fails` holds to a smaller one for which it still
/// holds, greedily, one action or step at a time.
pub fn shrink(plan: Plan, mut fails: impl FnMut(&Plan) -> bool) -> Plan {
    let mut best = plan;
    'outer: loop {
        for candidate in best.smaller() {
            if candidate.valid() && fails(&candidate) {
                best = candidate;
                continue 'outer;
            }
        }
        return best;
    }
}
