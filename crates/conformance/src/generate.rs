//! Generated scenarios: random but valid component graphs and host scripts,
//! with the expected state after every host action computed by a reference
//! model of the counter that knows nothing about Wasmtime.
//!
//! A [`Plan`] is generated from a seed. [`Plan::scenario`] runs the model
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

use crate::backends::Backend;
use crate::scenario::{self, CallId, CallState, Check, ExpectedFailure, Located, Probe, Scenario};
use crate::spec::{Actor, Export, Lift, Lower, Spec, Step, Target};
use std::collections::{BTreeMap, BTreeSet};

/// A small deterministic PRNG (SplitMix64), so that a seed means the same
/// plan on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5eed_5eed_5eed_5eed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// One host action of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start `call_concurrent` calls (`id`, `actor.export`), then drive.
    Calls(Vec<(String, Target)>),
    /// Release a gate, then drive.
    Release(u32),
    /// `call_async`, polled until it returns or stalls (then dropped).
    CallAsync(String, Target),
    /// Drop the future of a started `call_concurrent` call.
    Drop(String),
    /// Release the trapping export's gate; the drive must trap. Always last.
    Trap(u32),
}

/// A generated scenario: the component and the host script.
#[derive(Debug, Clone)]
pub struct Plan {
    pub spec: Spec,
    pub actions: Vec<Action>,
}

/// What kind of export the generator made, which decides who may call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sync,
    Async,
    /// Async, and its threads outlive `task.return`: a guest caller drops
    /// the subtask while they still run.
    Outliving,
    /// Waits until cancelled: only `call-cancel` and `call-cancel-async`
    /// target it.
    Cancellable,
    /// Waits on its own gate, then traps: host only, at most one.
    Trapper,
    /// Turns backpressure on for its instance, returns, waits on a gate,
    /// turns it off: host only, called alone in its round.
    Hold,
}

struct Gen<'a> {
    rng: &'a mut Rng,
    next_result: u32,
    next_note: u32,
    gates: u32,
    /// `actor.export` and kind of everything declared so far.
    declared: Vec<(Target, Kind, Lift)>,
    /// The actor being generated: its own exports are not callable from it.
    current: String,
    /// The actor whose instance may have backpressure on, if any.
    holdable: Option<String>,
}

impl Gen<'_> {
    fn gate(&mut self) -> u32 {
        1 + self.rng.below(self.gates as usize) as u32
    }

    fn note(&mut self) -> Step {
        self.next_note += 1;
        Step::Note(self.next_note)
    }

    fn steps(&mut self, lift: Lift, max: usize, may_block: bool) -> Vec<Step> {
        let n = self.rng.below(max + 1);
        let mut out = Vec::new();
        for _ in 0..n {
            if lift == Lift::Sync {
                // Sync lifts only note and make sync calls to sync exports.
                let step = match self.rng.chance(50) {
                    true => self.call(lift),
                    false => None,
                };
                out.push(step.unwrap_or_else(|| self.note()));
                continue;
            }
            let step = match self.rng.below(12) {
                0 | 1 => Step::Yield,
                // Never cancelled here: they go on at once.
                2 => Step::YieldCancellable,
                3 => Step::PollCancellable,
                4 | 5 if may_block => Step::Block(self.gate()),
                6 => self.note(),
                7..=9 => match self.call(lift) {
                    Some(step) => step,
                    None => self.note(),
                },
                _ => match self.cancel() {
                    Some(step) => step,
                    None => Step::Yield,
                },
            };
            out.push(step);
        }
        out
    }

    fn call(&mut self, lift: Lift) -> Option<Step> {
        let targets: Vec<(Target, Lift)> = self
            .declared
            .iter()
            .filter(|(t, _, _)| t.actor != self.current)
            .filter(|(_, kind, _)| matches!(kind, Kind::Sync | Kind::Async | Kind::Outliving))
            .filter(|(_, _, l)| lift != Lift::Sync || *l == Lift::Sync)
            .map(|(t, _, l)| (t.clone(), *l))
            .collect();
        if targets.is_empty() {
            return None;
        }
        // A call into an instance that may be held back by backpressure
        // blocks until it starts: only stackful tasks may wait for that
        // with a sync lower, and sync tasks never make such calls.
        let targets: Vec<(Target, Lift)> = targets
            .into_iter()
            .filter(|(t, _)| lift != Lift::Sync || !self.in_holdable(t))
            .collect();
        if targets.is_empty() {
            return None;
        }
        let (target, target_lift) = self.rng.pick(&targets).clone();
        let lower = match (lift, target_lift) {
            (Lift::Sync, _) => Lower::Sync,
            (Lift::Callback, _) if self.in_holdable(&target) => Lower::Async,
            // A callback holds its instance while it runs: it only makes
            // sync calls that cannot block.
            (Lift::Callback, Lift::Sync) if self.rng.chance(50) => Lower::Sync,
            (Lift::Callback, _) => Lower::Async,
            (Lift::Stackful, _) if self.rng.chance(50) => Lower::Sync,
            (Lift::Stackful, _) => Lower::Async,
        };
        Some(Step::Call { target, lower })
    }

    fn cancel(&mut self) -> Option<Step> {
        let targets: Vec<Target> = self
            .declared
            .iter()
            .filter(|(t, _, _)| t.actor != self.current)
            .filter(|(_, kind, _)| *kind == Kind::Cancellable)
            .map(|(t, _, _)| t.clone())
            .collect();
        if targets.is_empty() {
            return None;
        }
        let target = self.rng.pick(&targets).clone();
        Some(match self.rng.chance(50) {
            true => Step::CallCancel { target },
            false => Step::CallCancelAsync { target },
        })
    }

    fn in_holdable(&self, target: &Target) -> bool {
        self.holdable.as_ref() == Some(&target.actor)
    }

    /// Only the first actor spawns threads: in 44.0.3 `thread.new-indirect`
    /// in a nested component instance other than the first one with a table
    /// resolves the start function in the wrong table (see the README).
    fn threads_allowed(&self) -> bool {
        self.current == NAMES[0]
    }

    fn export(&mut self, name: String, kind: Kind, lift: Lift) -> Export {
        self.next_result += 1;
        let mut export = Export {
            name,
            lift,
            result: self.next_result,
            body: Vec::new(),
            threads: Vec::new(),
        };
        match kind {
            Kind::Sync => export.body = self.steps(Lift::Sync, 3, false),
            Kind::Async => {
                if self.threads_allowed() && self.rng.chance(15) {
                    // The implicit thread exits without returning; a thread
                    // returns for the task and exits at once. The thread
                    // waits (gates) and yields while the callback of its task
                    // may have YIELDed. Which of the implicit thread's exit
                    // and the thread's return comes first is scheduling the
                    // contract leaves open: had the thread gone on after
                    // returning, it would decide when the count falls (at
                    // the implicit exit if the return came first, else at
                    // the thread's exit).
                    let mut thread = self.steps(Lift::Stackful, 2, true);
                    thread.push(Step::Return);
                    export.threads.push(thread);
                    export.body = vec![Step::Spawn(0)];
                    let rest = self.steps(lift, 2, true);
                    export.body.extend(rest);
                } else {
                    export.body = self.steps(lift, 3, true);
                    export.body.push(Step::Return);
                    export.body.extend(self.steps(lift, 3, true));
                }
                if lift == Lift::Callback || self.rng.chance(30) {
                    export.body.push(Step::Exit);
                }
            }
            Kind::Outliving => {
                let mut thread = self.steps(Lift::Stackful, 1, true);
                if self.rng.chance(50) {
                    // Exit path 5 with a thread that outlives its return.
                    // The implicit thread exits before the thread first runs
                    // (nothing suspends between the spawn and the exit), so
                    // the count falls when the thread exits.
                    thread.push(Step::Block(self.gate()));
                    thread.push(Step::Return);
                    export.body = vec![Step::Spawn(0)];
                } else {
                    // A thread that outlives the whole task.
                    export.body = vec![Step::Spawn(0), Step::Return];
                    export.body.extend(self.steps(lift, 1, true));
                }
                thread.push(Step::Block(self.gate()));
                thread.extend(self.steps(Lift::Stackful, 2, true));
                export.threads.push(thread);
                export.body.push(Step::Exit);
            }
            Kind::Cancellable => {
                // Where the cancellation finds the callee: suspended in a
                // cancellable built-in (delivered at once), or in a
                // non-cancellable `thread.yield` of a stackful body (it stays
                // pending until the next cancellable built-in). In a
                // callback body `yield` is the YIELD code, which is
                // cancellable. Nothing here waits on the host, so the cancel
                // resolves within the caller's step whether or not the
                // callee started before it (see `Model::step`).
                let n = self.rng.below(3);
                for _ in 0..n {
                    let step = match self.rng.below(4) {
                        0 => self.note(),
                        1 => Step::Yield,
                        2 => Step::YieldCancellable,
                        _ => Step::PollCancellable,
                    };
                    export.body.push(step);
                }
                export.body.push(Step::WaitCancel);
            }
            Kind::Trapper => {
                self.gates += 1;
                export.body = vec![Step::Block(self.gates), Step::Trap];
            }
            Kind::Hold => {
                export.body = vec![
                    Step::BackpressureInc,
                    Step::Return,
                    Step::Block(self.gate()),
                    Step::BackpressureDec,
                ];
                if lift == Lift::Callback {
                    export.body.push(Step::Exit);
                }
            }
        }
        export
    }
}

const NAMES: [&str; 4] = ["a", "b", "c", "d"];

impl Plan {
    /// The plan for `seed`.
    pub fn generate(seed: u64) -> Plan {
        let mut rng = Rng::new(seed);
        let gates = 1 + rng.below(4) as u32;
        let trap = rng.chance(15);
        let mut g = Gen {
            rng: &mut rng,
            next_result: 0,
            next_note: 0,
            gates,
            declared: Vec::new(),
            current: String::new(),
            holdable: None,
        };
        let mut actors = Vec::new();
        let actor_count = 2 + g.rng.below(3);
        if g.rng.chance(50) {
            g.holdable = Some(NAMES[1].to_string());
        }
        for name in &NAMES[..actor_count] {
            g.current = name.to_string();
            let mut actor = Actor {
                name: name.to_string(),
                exports: Vec::new(),
            };
            if g.holdable.as_deref() == Some(*name) {
                let lift = if g.rng.chance(50) {
                    Lift::Callback
                } else {
                    Lift::Stackful
                };
                let export = g.export("hold".into(), Kind::Hold, lift);
                g.declared
                    .push((Target::new(name, "hold"), Kind::Hold, lift));
                actor.exports.push(export);
                // Something to cancel while it waits to start.
                let lift = if g.rng.chance(50) {
                    Lift::Callback
                } else {
                    Lift::Stackful
                };
                let export = g.export("wait".into(), Kind::Cancellable, lift);
                g.declared
                    .push((Target::new(name, "wait"), Kind::Cancellable, lift));
                actor.exports.push(export);
            }
            let export_count = 1 + g.rng.below(3);
            for i in 0..export_count {
                let kind = match g.rng.below(10) {
                    0 | 1 => Kind::Sync,
                    2 if g.threads_allowed() => Kind::Outliving,
                    // Not the first: every actor has something to call.
                    3 if i > 0 => Kind::Cancellable,
                    _ => Kind::Async,
                };
                let lift = match kind {
                    Kind::Sync => Lift::Sync,
                    _ if g.rng.chance(50) => Lift::Callback,
                    _ => Lift::Stackful,
                };
                let export = g.export(format!("f{i}"), kind, lift);
                g.declared
                    .push((Target::new(name, &export.name), kind, lift));
                actor.exports.push(export);
            }
            actors.push(actor);
        }
        if trap {
            g.current = actors[0].name.clone();
            let export = g.export("trap".into(), Kind::Trapper, Lift::Callback);
            g.declared.push((
                Target::new(&actors[0].name, "trap"),
                Kind::Trapper,
                Lift::Callback,
            ));
            actors[0].exports.push(export);
        }
        // Gates the rounds release; the trapper's own gate comes after them.
        let trap_gate = g.gates;
        let gates = if trap { g.gates - 1 } else { g.gates };
        let callable: Vec<Target> = g
            .declared
            .iter()
            .filter(|(_, k, _)| !matches!(k, Kind::Cancellable | Kind::Trapper | Kind::Hold))
            .map(|(t, _, _)| t.clone())
            .collect();
        let hold = g
            .declared
            .iter()
            .find(|(_, k, _)| *k == Kind::Hold)
            .map(|(t, _, _)| t.clone());
        let trapper = g
            .declared
            .iter()
            .find(|(_, k, _)| *k == Kind::Trapper)
            .map(|(t, _, _)| t.clone());

        let mut actions = Vec::new();
        let mut started: Vec<String> = Vec::new();
        let mut ids = 0;
        let mut id = || {
            ids += 1;
            format!("c{ids}")
        };
        if let Some(t) = &trapper {
            actions.push(Action::Calls(vec![(id(), t.clone())]));
        }
        let rounds = 3 + rng.below(8);
        for _ in 0..rounds {
            match rng.below(12) {
                10 | 11 if hold.is_some() => {
                    actions.push(Action::Calls(vec![(id(), hold.clone().unwrap())]));
                }
                0..=3 => {
                    let n = 1 + rng.below(3);
                    let calls: Vec<_> = (0..n)
                        .map(|_| (id(), callable[rng.below(callable.len())].clone()))
                        .collect();
                    started.extend(calls.iter().map(|(i, _)| i.clone()));
                    actions.push(Action::Calls(calls));
                }
                4..=6 => actions.push(Action::Release(1 + rng.below(gates as usize) as u32)),
                7 | 8 => actions.push(Action::CallAsync(
                    id(),
                    callable[rng.below(callable.len())].clone(),
                )),
                _ if !started.is_empty() => {
                    let i = rng.below(started.len());
                    actions.push(Action::Drop(started.remove(i)));
                }
                _ => actions.push(Action::Release(1 + rng.below(gates as usize) as u32)),
            }
        }
        // Release everything, so that a plan ends idle unless it traps.
        for gate in 1..=gates {
            actions.push(Action::Release(gate));
        }
        if trapper.is_some() {
            actions.push(Action::Trap(trap_gate));
            // The store refuses calls after a trap; a refused call must leave
            // nothing behind.
            actions.push(Action::Calls(vec![(
                id(),
                callable[rng.below(callable.len())].clone(),
            )]));
        }
        Plan {
            spec: Spec { actors },
            actions,
        }
    }

    /// The known upstream shortcomings this plan can run into, as
    /// `(backend, error text, why)`: the scenario may fail on that backend,
    /// but only with that error (see `docs/CONFORMANCE.md`).
    pub fn upstream_exposures(&self) -> Vec<(Backend, &'static str, &'static str)> {
        let mut out = Vec::new();
        let exports = || self.spec.actors.iter().flat_map(|a| &a.exports);
        // A callback that YIELDs while its task's threads wait or yield.
        if exports().any(|e| {
            e.lift == Lift::Callback && !e.threads.is_empty() && e.body.contains(&Step::Yield)
        }) {
            // The callback's turn finds no event, or a thread's cancellable
            // yield finds NONE where only a cancellation can be.
            for backend in [Backend::Upstream45, Backend::Upstream48] {
                for text in [
                    "delivering non-present event",
                    "matches!(event, Event::Cancelled)",
                ] {
                    out.push((
                        backend,
                        text,
                        "a thread takes the NONE event owed to its task's YIELDed callback",
                    ));
                }
            }
        }
        // A cancel of a STARTING subtask whose start may already be in the
        // store's work queue: the callee's instance may be held by
        // backpressure or by another task of its own.
        let cancels = exports().any(|e| {
            e.body
                .iter()
                .any(|s| matches!(s, Step::CallCancel { .. } | Step::CallCancelAsync { .. }))
        });
        if cancels {
            out.push((
                Backend::Upstream45,
                "`subtask.cancel` called after terminal status delivered",
                "45 does not cancel a STARTING subtask whose start is in the work queue",
            ));
        }
        // A `call_async` future dropped before its call started.
        let held = exports().any(|e| e.body.contains(&Step::BackpressureInc));
        if held
            && self
                .actions
                .iter()
                .any(|a| matches!(a, Action::CallAsync(..)))
        {
            out.push((
                Backend::Upstream48,
                "the host future for this call was dropped before it started",
                "48 fails the store instead of cancelling the call",
            ));
        }
        // A sync task waiting on a callee that 48 types async.
        if exports().any(|e| {
            e.lift == Lift::Sync
                && e.body.iter().any(|s| {
                    matches!(s, Step::Call { target, lower: Lower::Sync }
                        if crate::compose::async_typed(&self.spec, target, crate::compose::Encoding::Cm48))
                })
        }) {
            out.push((
                Backend::Upstream48,
                "cannot block a synchronous task before returning",
                "48 traps a sync task that blocks on an async-typed callee",
            ));
        }
        out
    }

    /// The scenario file for this plan, with the model's expectations.
    pub fn scenario(&self) -> String {
        format!(
            ";; Generated scenario (see crates/conformance/src/generate.rs).\n{}",
            self.to_scenario()
        )
    }

    /// The scenario for this plan: the host actions, each followed by an
    /// `(expect ...)` of the model's state after it.
    pub fn to_scenario(&self) -> Scenario {
        use scenario::Action as A;
        let expected_failures = self
            .upstream_exposures()
            .into_iter()
            .map(|(backend, text, why)| ExpectedFailure {
                backend,
                text: text.into(),
                why: why.into(),
                must: false,
            })
            .collect();
        let mut model = Model::new(&self.spec);
        let mut waker = Waker::default();
        let mut script = vec![waker.expect(&model)];
        let id = |id: &String| CallId(id.clone());
        for action in &self.actions {
            let mut push = |action| script.push(Located::new(action));
            match action {
                Action::Calls(calls) => {
                    for (i, target) in calls {
                        push(A::Call {
                            id: id(i),
                            target: target.clone(),
                        });
                        model.host_call(i, target);
                    }
                    push(A::Drive);
                    model.run();
                }
                Action::Release(gate) => {
                    push(A::Release(*gate));
                    push(A::Drive);
                    model.released.insert(*gate);
                    model.run();
                }
                Action::CallAsync(i, target) => {
                    push(A::CallAsync {
                        id: id(i),
                        target: target.clone(),
                    });
                    model.host_call(i, target);
                    model.run();
                    model.drop_call_async(i);
                    model.run();
                }
                Action::Drop(i) => {
                    push(A::Drop(id(i)));
                    push(A::Drive);
                    model.drop_call(i);
                }
                Action::Trap(gate) => {
                    push(A::Release(*gate));
                    push(A::DriveTrap(None));
                    model.released.insert(*gate);
                    model.run();
                    assert!(model.trapped, "the model expected a trap");
                }
            }
            script.push(waker.expect(&model));
        }
        Scenario {
            spec: self.spec.clone(),
            expected_failures,
            script,
        }
    }

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
                if export.name == "trap" {
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
        // must be started.
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

/// The host's waker as the model sees it: polled after every action, so
/// armed while the store is busy and woken once when the count falls to 0.
#[derive(Default)]
struct Waker {
    wakes: usize,
    armed: bool,
}

impl Waker {
    /// The checks after an action: the count, the wakes, the poll and every
    /// host call's state.
    fn expect(&mut self, model: &Model) -> Located<scenario::Action> {
        let count = model.count();
        if self.armed && count == 0 {
            self.wakes += 1;
        }
        self.armed = count > 0;
        let mut checks = vec![
            Check::Count(count),
            Check::Wakes(Probe::main(), self.wakes),
            match count {
                0 => Check::Ready(Probe::main()),
                _ => Check::Pending(Probe::main()),
            },
        ];
        for (id, state) in &model.calls {
            checks.push(Check::Result(CallId(id.clone()), *state));
        }
        Located::new(scenario::Action::Expect(
            checks.into_iter().map(Located::new).collect(),
        ))
    }
}

/// The reference model: which tasks are alive, given the plan and the host
/// actions so far. It knows the contract and nothing about Wasmtime.
struct Model<'a> {
    spec: &'a Spec,
    released: BTreeSet<u32>,
    tasks: Vec<MTask>,
    threads: Vec<MThread>,
    /// Host calls by id: `pending`, `dropped` or the result.
    calls: BTreeMap<String, CallState>,
    /// Host calls not started yet (they start at the next drive).
    queued: Vec<(String, Target)>,
    /// Backpressure counters of the actors' instances.
    backpressure: BTreeMap<String, u32>,
    trapped: bool,
}

struct MTask {
    result: u32,
    sync: bool,
    /// Callback-lifted: its implicit thread's YIELD and WAIT are
    /// cancellable.
    callback: bool,
    /// Returned, or cancelled (resolved): its caller stops waiting.
    returned: bool,
    /// Its caller cancelled it and it has not seen the cancellation yet.
    cancel_pending: bool,
    implicit_exited: bool,
    counted: bool,
    host_call: Option<String>,
    actor: String,
    /// Held back by backpressure: created (and counted) but not started.
    waiting_to_start: bool,
}

struct MThread {
    task: usize,
    implicit: bool,
    body: Vec<Step>,
    threads: Vec<Vec<Step>>,
    pc: usize,
    /// Waiting for this task to return.
    waiting_on: Option<usize>,
    done: bool,
}

impl<'a> Model<'a> {
    fn new(spec: &'a Spec) -> Model<'a> {
        Model {
            spec,
            released: BTreeSet::new(),
            tasks: Vec::new(),
            threads: Vec::new(),
            calls: BTreeMap::new(),
            queued: Vec::new(),
            backpressure: BTreeMap::new(),
            trapped: false,
        }
    }

    fn count(&self) -> usize {
        self.tasks.iter().filter(|t| t.counted).count()
    }

    fn host_call(&mut self, id: &str, target: &Target) {
        self.calls.insert(id.to_string(), CallState::Pending);
        self.queued.push((id.to_string(), target.clone()));
    }

    fn drop_call(&mut self, id: &str) {
        if self.calls[id] == CallState::Pending {
            self.calls.insert(id.to_string(), CallState::Dropped);
        }
    }

    /// The host drops a `call_async` future: a call that has not started is
    /// cancelled and never runs.
    fn drop_call_async(&mut self, id: &str) {
        self.drop_call(id);
        let unstarted = (0..self.tasks.len()).filter(|&i| {
            self.tasks[i].host_call.as_deref() == Some(id) && self.tasks[i].waiting_to_start
        });
        for task in unstarted.collect::<Vec<_>>() {
            self.cancel_unstarted(task);
        }
    }

    /// A task that never started is cancelled: it is gone at once.
    fn cancel_unstarted(&mut self, task: usize) {
        let t = &mut self.tasks[task];
        t.waiting_to_start = false;
        t.returned = true;
        t.counted = false;
        for thread in self.threads.iter_mut().filter(|t| t.task == task) {
            thread.done = true;
        }
    }

    /// Create a task. In 44.0.3 a sync-lowered call of a sync-lifted export
    /// goes straight through the fused adapter and enters the callee even
    /// under backpressure (`bypass`); every other call waits to start.
    fn start(&mut self, target: &Target, host_call: Option<String>, bypass: bool) -> usize {
        let (actor, export) = self.spec.export(target).expect("valid target");
        let task = self.tasks.len();
        self.tasks.push(MTask {
            result: export.result,
            sync: export.lift == Lift::Sync,
            callback: export.lift == Lift::Callback,
            returned: false,
            cancel_pending: false,
            implicit_exited: false,
            counted: true,
            host_call,
            actor: actor.name.clone(),
            waiting_to_start: !bypass
                && self.backpressure.get(&actor.name).copied().unwrap_or(0) > 0,
        });
        self.threads.push(MThread {
            task,
            implicit: true,
            body: export.body.clone(),
            threads: export.threads.clone(),
            pc: 0,
            waiting_on: None,
            done: false,
        });
        task
    }

    fn task_returned(&mut self, task: usize) {
        let t = &mut self.tasks[task];
        t.returned = true;
        if let Some(id) = &t.host_call {
            if self.calls[id] == CallState::Pending {
                self.calls.insert(id.clone(), CallState::Returned(t.result));
            }
        }
    }

    /// Run every thread as far as it can go.
    fn run(&mut self) {
        for (id, target) in std::mem::take(&mut self.queued) {
            if self.trapped {
                // Refused: `Trap::CannotEnterComponent`, and no task.
                self.calls.insert(id, CallState::Error);
            } else {
                self.start(&target, Some(id), false);
            }
        }
        loop {
            let mut progress = false;
            for i in 0..self.threads.len() {
                while !self.trapped && self.step(i) {
                    progress = true;
                }
            }
            if !progress || self.trapped {
                return;
            }
        }
    }

    /// Advance thread `i` by one step; false if it cannot move.
    fn step(&mut self, i: usize) -> bool {
        if self.threads[i].done || self.tasks[self.threads[i].task].waiting_to_start {
            return false;
        }
        if let Some(callee) = self.threads[i].waiting_on {
            if !self.tasks[callee].returned {
                return false;
            }
            self.threads[i].waiting_on = None;
            self.threads[i].pc += 1;
            return true;
        }
        let task = self.threads[i].task;
        let Some(step) = self.threads[i].body.get(self.threads[i].pc).cloned() else {
            self.thread_done(i);
            return true;
        };
        let implicit_callback = self.threads[i].implicit && self.tasks[task].callback;
        // A cancellation is delivered by the next cancellable built-in of
        // the task (in the model only the implicit thread of a cancelled
        // task meets one: cancelled callees spawn no threads): cancellable
        // `thread.yield`, `waitable-set.poll` and `waitable-set.wait`, and a
        // callback's YIELD or WAIT (the CANCELLED event). The task
        // acknowledges with `task.cancel` and exits. Non-cancellable
        // built-ins (`thread.yield` of a stackful body) leave it pending.
        let cancellable = match &step {
            Step::YieldCancellable | Step::PollCancellable | Step::WaitCancel => true,
            Step::Yield => implicit_callback,
            Step::Block(_)
            | Step::Call {
                lower: Lower::Async,
                ..
            } => implicit_callback,
            _ => false,
        };
        if cancellable && self.tasks[task].cancel_pending {
            let t = &mut self.tasks[task];
            t.cancel_pending = false;
            t.returned = true;
            self.thread_done(i);
            return true;
        }
        match step {
            Step::Yield | Step::YieldCancellable | Step::PollCancellable | Step::Note(_) => {}
            Step::BackpressureInc => {
                *self
                    .backpressure
                    .entry(self.tasks[task].actor.clone())
                    .or_default() += 1;
            }
            Step::BackpressureDec => {
                let actor = self.tasks[task].actor.clone();
                let n = self.backpressure.get_mut(&actor).expect("inc before dec");
                *n -= 1;
                if *n == 0 {
                    for t in self.tasks.iter_mut().filter(|t| t.actor == actor) {
                        t.waiting_to_start = false;
                    }
                }
            }
            Step::Block(g) => {
                if !self.released.contains(&g) {
                    return false;
                }
            }
            Step::Return => self.task_returned(task),
            Step::Call { target, lower } => {
                let sync_callee =
                    self.spec.export(&target).map(|(_, e)| e.lift) == Some(Lift::Sync);
                let callee = self.start(&target, None, lower == Lower::Sync && sync_callee);
                self.threads[i].waiting_on = Some(callee);
                return true;
            }
            // A cancelled call that had not started (held back by
            // backpressure, wherever its start is queued) is gone at once
            // (START_CANCELLED). Otherwise the callee ran until it first
            // suspended, the cancellation is sent, and the caller (a
            // blocking `subtask.cancel`, or an async one and a wait for the
            // terminal event) goes on once the callee has acknowledged.
            // Whether a callee that might have waited to start did so
            // depends on scheduling the model does not know (in 44.0.3 a
            // callback that made an async call keeps its instance entered
            // until that callee started, for example), so cancelled callees
            // never wait on the host before their cancellation point: both
            // ways end with the callee gone within this step.
            Step::CallCancel { target } | Step::CallCancelAsync { target } => {
                let callee = self.start(&target, None, false);
                if self.tasks[callee].waiting_to_start {
                    self.cancel_unstarted(callee);
                } else {
                    self.tasks[callee].cancel_pending = true;
                    self.threads[i].waiting_on = Some(callee);
                    return true;
                }
            }
            Step::Spawn(n) => {
                let body = self.threads[i].threads[n].clone();
                self.threads.push(MThread {
                    task,
                    implicit: false,
                    body,
                    threads: Vec::new(),
                    pc: 0,
                    waiting_on: None,
                    done: false,
                });
            }
            // Not cancelled (yet): it waits.
            Step::WaitCancel => return false,
            Step::Trap => {
                self.trapped = true;
                return false;
            }
            Step::Exit => {
                self.thread_done(i);
                return true;
            }
        }
        self.threads[i].pc += 1;
        true
    }

    fn thread_done(&mut self, i: usize) {
        let thread = &mut self.threads[i];
        thread.done = true;
        let task = thread.task;
        if thread.implicit {
            self.tasks[task].implicit_exited = true;
            if self.tasks[task].sync {
                self.task_returned(task);
            }
        }
        // The count goes down at the first thread exit after the task has
        // both exited and returned.
        let t = &mut self.tasks[task];
        if t.implicit_exited && t.returned {
            t.counted = false;
        }
    }
}
