//! The plan generator: from a seed and a [`Config`], a random but valid
//! component graph and host script.

use super::config::{CancellableStep, Config, ExportKind, RoundKind, StepKind};
use super::rng::Rng;
use crate::spec::{Actor, Export, Lift, Lower, Spec, Step, Target};

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
    /// Returns and exits by itself, never waiting on the host: only the
    /// cancels and `start` target it. A cancellation may find it before
    /// `task.return` in a cancellable built-in (delivered), stay pending
    /// across a non-cancellable `thread.yield` until `task.return` voids
    /// it, or come after it returned; its caller may leave it running in
    /// the actor's slot for another task or thread to cancel, or for
    /// nobody.
    Returning,
    /// Returns, then waits on its instance's shared waitable set for good,
    /// while the trapping export drops that set: host only, at most one.
    SetWaiter,
    /// Waits on its own gate, then traps: host only, at most one.
    Trapper,
    /// Turns backpressure on for its instance, returns, waits on a gate,
    /// turns it off: host only, called alone in its round.
    Hold,
}

/// The actors' names, in the order they are declared.
const NAMES: [&str; 4] = ["a", "b", "c", "d"];

struct Gen<'a> {
    rng: Rng,
    config: &'a Config,
    next_result: u32,
    next_note: u32,
    gates: u32,
    /// `actor.export` and kind of everything declared so far.
    declared: Vec<(Target, Kind, Lift)>,
    /// The actor being generated: its own exports are not callable from it.
    current: String,
    /// The actor whose instance may have backpressure on, if any.
    holdable: Option<String>,
    /// The plan traps by dropping a waitable set a task waits on: no other
    /// `drop-set` (it would trap too, at a time that depends on the order
    /// in which tasks run).
    drop_set_trap: bool,
}

impl Gen<'_> {
    fn gate(&mut self) -> u32 {
        1 + self.rng.below(self.gates as usize) as u32
    }

    fn note(&mut self) -> Step {
        self.next_note += 1;
        Step::Note(self.next_note)
    }

    /// Callback or stackful.
    fn async_lift(&mut self) -> Lift {
        match self.rng.chance(self.config.callback) {
            true => Lift::Callback,
            false => Lift::Stackful,
        }
    }

    /// Up to `max` steps of a body lifted `lift`; `(block N)` only if
    /// `may_block`.
    fn steps(&mut self, lift: Lift, max: usize, may_block: bool) -> Vec<Step> {
        let n = self.rng.between(0..=max);
        (0..n).map(|_| self.step(lift, may_block)).collect()
    }

    fn step(&mut self, lift: Lift, may_block: bool) -> Step {
        if lift == Lift::Sync {
            // Sync lifts note, make sync calls to sync exports, and start,
            // cancel (async) and drop without waiting.
            if self.rng.chance(self.config.sync_keep) {
                return match self.rng.below(3) {
                    0 => self.start(),
                    1 => Step::CancelKeptAsync,
                    _ => self.drop_set(),
                };
            }
            let step = match self.rng.chance(self.config.sync_call) {
                true => self.call(lift),
                false => None,
            };
            return step.unwrap_or_else(|| self.note());
        }
        match self.rng.weighted(&self.config.step_weights) {
            StepKind::Yield => Step::Yield,
            // Never cancelled here: they go on at once.
            StepKind::YieldCancellable => Step::YieldCancellable,
            StepKind::PollCancellable => Step::PollCancellable,
            StepKind::Block if may_block => Step::Block(self.gate()),
            StepKind::Note => self.note(),
            StepKind::Call => self.call(lift).unwrap_or_else(|| self.note()),
            StepKind::Block | StepKind::Cancel => self.cancel().unwrap_or(Step::Yield),
            StepKind::Start => self.start(),
            StepKind::CancelKept => match self.rng.chance(self.config.blocking_cancel) {
                true => Step::CancelKept,
                false => Step::CancelKeptAsync,
            },
            StepKind::DropSet => self.drop_set(),
        }
    }

    /// A subtask for the actor's slot: a returning export of another actor
    /// (not one that may be held by backpressure, so that it starts at
    /// once); else a note. Whether it is cancelled, and by whom, depends on
    /// the order in which the instance's tasks run; either way it finishes
    /// without the host, so the count does not depend on it.
    ///
    /// Not `(start-block N)`: a host subtask that resolves after the thread
    /// that started it exited fails the store in the patched 44.0.3
    /// (`host_task_reenter_caller` switches to the exited thread), and
    /// whether a kept one is cancelled first depends on the order.
    fn start(&mut self) -> Step {
        let targets: Vec<Target> = self
            .others(&[Kind::Returning])
            .filter(|(t, _, _)| !self.in_holdable(t))
            .map(|(t, _, _)| t.clone())
            .collect();
        if targets.is_empty() {
            return self.note();
        }
        Step::Start {
            target: self.rng.pick(&targets).clone(),
        }
    }

    /// `drop-set`, in a plan where no task waits on a set.
    fn drop_set(&mut self) -> Step {
        match self.drop_set_trap {
            true => self.note(),
            false => Step::DropSet,
        }
    }

    /// Exports of other actors of the given kinds.
    fn others(&self, kinds: &[Kind]) -> impl Iterator<Item = &(Target, Kind, Lift)> {
        self.declared
            .iter()
            .filter(|(t, _, _)| t.actor != self.current)
            .filter(move |(_, kind, _)| kinds.contains(kind))
    }

    fn call(&mut self, lift: Lift) -> Option<Step> {
        // A call into an instance that may be held back by backpressure
        // blocks until it starts: only stackful tasks may wait for that
        // with a sync lower, and sync tasks never make such calls.
        let targets: Vec<(Target, Lift)> = self
            .others(&[Kind::Sync, Kind::Async, Kind::Outliving])
            .filter(|(_, _, l)| lift != Lift::Sync || *l == Lift::Sync)
            .filter(|(t, _, _)| lift != Lift::Sync || !self.in_holdable(t))
            .map(|(t, _, l)| (t.clone(), *l))
            .collect();
        if targets.is_empty() {
            return None;
        }
        let (target, target_lift) = self.rng.pick(&targets).clone();
        let sync_lower = self.config.sync_lower;
        let lower = match (lift, target_lift) {
            (Lift::Sync, _) => Lower::Sync,
            (Lift::Callback, _) if self.in_holdable(&target) => Lower::Async,
            // A callback holds its instance while it runs: it only makes
            // sync calls that cannot block.
            (Lift::Callback, Lift::Sync) if self.rng.chance(sync_lower) => Lower::Sync,
            (Lift::Callback, _) => Lower::Async,
            (Lift::Stackful, _) if self.rng.chance(sync_lower) => Lower::Sync,
            (Lift::Stackful, _) => Lower::Async,
        };
        Some(Step::Call { target, lower })
    }

    fn cancel(&mut self) -> Option<Step> {
        let targets: Vec<Target> = self
            .others(&[Kind::Cancellable, Kind::Returning])
            .map(|(t, _, _)| t.clone())
            .collect();
        if targets.is_empty() {
            return None;
        }
        let target = self.rng.pick(&targets).clone();
        Some(match self.rng.chance(self.config.blocking_cancel) {
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

    /// Declare the export `name` of the current actor.
    fn export(&mut self, name: &str, kind: Kind, lift: Lift) -> Export {
        self.next_result += 1;
        let (body, threads) = match kind {
            Kind::Sync => (
                self.steps(Lift::Sync, self.config.sync_steps, false),
                vec![],
            ),
            Kind::Async => self.async_body(lift),
            Kind::Outliving => self.outliving_body(lift),
            Kind::Cancellable => (self.cancellable_body(), vec![]),
            Kind::Returning => (self.returning_body(lift), vec![]),
            Kind::SetWaiter => (vec![Step::Return, Step::WaitSet], vec![]),
            Kind::Trapper => {
                self.gates += 1;
                let trap = match self.drop_set_trap {
                    true => Step::DropSet,
                    false => Step::Trap,
                };
                (vec![Step::Block(self.gates), trap], vec![])
            }
            Kind::Hold => {
                let mut body = vec![
                    Step::BackpressureInc,
                    Step::Return,
                    Step::Block(self.gate()),
                    Step::BackpressureDec,
                ];
                if lift == Lift::Callback {
                    body.push(Step::Exit);
                }
                (body, vec![])
            }
        };
        let target = Target::new(&self.current, name);
        self.declared.push((target, kind, lift));
        Export {
            name: name.to_string(),
            lift,
            result: self.next_result,
            body,
            threads,
        }
    }

    fn async_body(&mut self, lift: Lift) -> (Vec<Step>, Vec<Vec<Step>>) {
        let (max, thread_max) = (self.config.async_steps, self.config.thread_steps);
        let mut threads = Vec::new();
        let mut body;
        if self.threads_allowed() && self.rng.chance(self.config.thread_returns) {
            // The implicit thread exits without returning; a thread returns
            // for the task and exits at once. The thread waits (gates) and
            // yields while the callback of its task may have YIELDed. Which
            // of the implicit thread's exit and the thread's return comes
            // first is scheduling the contract leaves open: had the thread
            // gone on after returning, it would decide when the count falls
            // (at the implicit exit if the return came first, else at the
            // thread's exit).
            let mut thread = self.steps(Lift::Stackful, thread_max, true);
            thread.push(Step::Return);
            threads.push(thread);
            body = vec![Step::Spawn(0)];
            body.extend(self.steps(lift, thread_max, true));
        } else {
            body = self.steps(lift, max, true);
            body.push(Step::Return);
            body.extend(self.steps(lift, max, true));
        }
        if lift == Lift::Callback || self.rng.chance(self.config.stackful_exit) {
            body.push(Step::Exit);
        }
        (body, threads)
    }

    fn outliving_body(&mut self, lift: Lift) -> (Vec<Step>, Vec<Vec<Step>>) {
        let max = self.config.outliving_steps;
        let mut thread = self.steps(Lift::Stackful, max, true);
        let mut body;
        if self.rng.chance(self.config.outliving_returns) {
            // Exit path 5 with a thread that outlives its return. The
            // implicit thread exits before the thread first runs (nothing
            // suspends between the spawn and the exit), so the count falls
            // when the thread exits.
            thread.push(Step::Block(self.gate()));
            thread.push(Step::Return);
            body = vec![Step::Spawn(0)];
        } else {
            // A thread that outlives the whole task.
            body = vec![Step::Spawn(0), Step::Return];
            body.extend(self.steps(lift, max, true));
        }
        thread.push(Step::Block(self.gate()));
        thread.extend(self.steps(Lift::Stackful, self.config.thread_steps, true));
        body.push(Step::Exit);
        (body, vec![thread])
    }

    /// Where the cancellation finds the callee: suspended in a cancellable
    /// built-in (delivered at once), or in a non-cancellable `thread.yield`
    /// of a stackful body (it stays pending until the next cancellable
    /// built-in). In a callback body `yield` is the YIELD code, which is
    /// cancellable. Nothing here waits on the host, so the cancel resolves
    /// within the caller's step whether or not the callee started before it
    /// (see `Model::step`).
    fn cancellable_body(&mut self) -> Vec<Step> {
        let n = self.rng.between(0..=self.config.cancellable_steps);
        let mut body: Vec<Step> = (0..n)
            .map(
                |_| match self.rng.weighted(&self.config.cancellable_weights) {
                    CancellableStep::Note => self.note(),
                    CancellableStep::Yield => Step::Yield,
                    CancellableStep::YieldCancellable => Step::YieldCancellable,
                    CancellableStep::PollCancellable => Step::PollCancellable,
                },
            )
            .collect();
        body.push(Step::WaitCancel);
        body
    }

    /// A few notes and yields (plain, which for a stackful body is not
    /// cancellable, and cancellable), `task.return`, a few more, and exit.
    /// Nothing here waits on the host.
    fn returning_body(&mut self, lift: Lift) -> Vec<Step> {
        let mut body = Vec::new();
        for part in 0..2 {
            if part == 1 {
                body.push(Step::Return);
            }
            for _ in 0..self.rng.between(0..=self.config.cancellable_steps) {
                body.push(match self.rng.weighted(&self.config.cancellable_weights) {
                    CancellableStep::Note => self.note(),
                    CancellableStep::Yield => Step::Yield,
                    CancellableStep::YieldCancellable => Step::YieldCancellable,
                    CancellableStep::PollCancellable => Step::PollCancellable,
                });
            }
        }
        if lift == Lift::Callback || self.rng.chance(self.config.stackful_exit) {
            body.push(Step::Exit);
        }
        body
    }

    /// The actor `name`: the `hold` and `wait` exports if it is the one
    /// that may be held, then `f0`, `f1`, ...
    fn actor(&mut self, name: &str) -> Actor {
        self.current = name.to_string();
        let mut exports = Vec::new();
        if self.holdable.as_deref() == Some(name) {
            let lift = self.async_lift();
            exports.push(self.export("hold", Kind::Hold, lift));
            // Something to cancel while it waits to start.
            let lift = self.async_lift();
            exports.push(self.export("wait", Kind::Cancellable, lift));
        }
        for i in 0..self.rng.between(self.config.exports.clone()) {
            let kind = match self.rng.weighted(&self.config.export_weights) {
                ExportKind::Sync => Kind::Sync,
                ExportKind::Outliving if self.threads_allowed() => Kind::Outliving,
                // Not the first: every actor has something to call.
                ExportKind::Cancellable if i > 0 => Kind::Cancellable,
                ExportKind::Returning if i > 0 => Kind::Returning,
                _ => Kind::Async,
            };
            let lift = match kind {
                Kind::Sync => Lift::Sync,
                _ => self.async_lift(),
            };
            exports.push(self.export(&format!("f{i}"), kind, lift));
        }
        Actor {
            name: name.to_string(),
            exports,
        }
    }

    /// The first declared export of `kind`.
    fn first(&self, kind: Kind) -> Option<Target> {
        self.declared
            .iter()
            .find(|(_, k, _)| *k == kind)
            .map(|(t, _, _)| t.clone())
    }
}

/// The host script of a plan, round by round.
struct Script<'a> {
    actions: Vec<Action>,
    /// `call_concurrent` calls started and not dropped.
    started: Vec<String>,
    ids: usize,
    /// What a round may call.
    callable: &'a [Target],
}

impl Script<'_> {
    fn id(&mut self) -> String {
        self.ids += 1;
        format!("c{}", self.ids)
    }

    fn callable(&mut self, rng: &mut Rng) -> Target {
        self.callable[rng.below(self.callable.len())].clone()
    }

    fn release(&mut self, rng: &mut Rng, gates: u32) {
        let gate = 1 + rng.below(gates as usize) as u32;
        self.actions.push(Action::Release(gate));
    }

    fn round(&mut self, rng: &mut Rng, config: &Config, hold: Option<&Target>, gates: u32) {
        match (rng.weighted(&config.round_weights), hold) {
            (RoundKind::Hold, Some(hold)) => {
                let call = (self.id(), hold.clone());
                self.actions.push(Action::Calls(vec![call]));
            }
            (RoundKind::Calls, _) => {
                let n = rng.between(config.calls_per_round.clone());
                let calls: Vec<_> = (0..n).map(|_| (self.id(), self.callable(rng))).collect();
                self.started.extend(calls.iter().map(|(i, _)| i.clone()));
                self.actions.push(Action::Calls(calls));
            }
            (RoundKind::Release, _) => self.release(rng, gates),
            (RoundKind::CallAsync, _) => {
                let call = Action::CallAsync(self.id(), self.callable(rng));
                self.actions.push(call);
            }
            _ if !self.started.is_empty() => {
                let i = rng.below(self.started.len());
                self.actions.push(Action::Drop(self.started.remove(i)));
            }
            _ => self.release(rng, gates),
        }
    }
}

impl Plan {
    /// The plan for `seed`, with the suite's [`Config`].
    pub fn generate(seed: u64) -> Plan {
        Plan::generate_with(seed, &Config::default())
    }

    /// The plan for `seed` with `config`.
    pub fn generate_with(seed: u64, config: &Config) -> Plan {
        let mut rng = Rng::new(seed);
        let gates = rng.between(config.gates.clone()) as u32;
        let trap = rng.chance(config.trap);
        let drop_set_trap = trap && rng.chance(config.trap_drop_set);
        let mut g = Gen {
            rng,
            config,
            next_result: 0,
            next_note: 0,
            gates,
            declared: Vec::new(),
            current: String::new(),
            holdable: None,
            drop_set_trap,
        };
        let actor_count = g.rng.between(config.actors.clone());
        if g.rng.chance(config.hold) {
            g.holdable = Some(NAMES[1].to_string());
        }
        let mut actors: Vec<Actor> = NAMES[..actor_count].iter().map(|n| g.actor(n)).collect();
        if trap {
            g.current = actors[0].name.clone();
            let lift = match drop_set_trap {
                true => g.async_lift(),
                false => Lift::Callback,
            };
            let export = g.export("trap", Kind::Trapper, lift);
            actors[0].exports.push(export);
            if drop_set_trap {
                let lift = g.async_lift();
                let export = g.export("waiter", Kind::SetWaiter, lift);
                actors[0].exports.push(export);
            }
        }
        let actions = g.script();
        Plan {
            spec: Spec { actors },
            actions,
        }
    }
}

impl Gen<'_> {
    /// The host script: the trapper's call first, the rounds, a release of
    /// every gate so that the plan ends idle unless it traps, then the trap
    /// and a call the store must refuse.
    fn script(mut self) -> Vec<Action> {
        let trapper = self.first(Kind::Trapper);
        let hold = self.first(Kind::Hold);
        // Gates the rounds release; the trapper's own gate comes after them.
        let trap_gate = self.gates;
        let gates = self.gates - u32::from(trapper.is_some());
        let callable: Vec<Target> = self
            .declared
            .iter()
            .filter(|(_, k, _)| {
                !matches!(
                    k,
                    Kind::Cancellable
                        | Kind::Returning
                        | Kind::Trapper
                        | Kind::Hold
                        | Kind::SetWaiter
                )
            })
            .map(|(t, _, _)| t.clone())
            .collect();
        let mut script = Script {
            actions: Vec::new(),
            started: Vec::new(),
            ids: 0,
            callable: &callable,
        };
        if let Some(t) = &trapper {
            let mut calls = vec![(script.id(), t.clone())];
            if let Some(waiter) = self.first(Kind::SetWaiter) {
                calls.push((script.id(), waiter));
            }
            script.actions.push(Action::Calls(calls));
        }
        let rng = &mut self.rng;
        for _ in 0..rng.between(self.config.rounds.clone()) {
            script.round(rng, self.config, hold.as_ref(), gates);
        }
        script.actions.extend((1..=gates).map(Action::Release));
        if trapper.is_some() {
            script.actions.push(Action::Trap(trap_gate));
            // The store refuses calls after a trap; a refused call must
            // leave nothing behind.
            let call = (script.id(), script.callable(rng));
            script.actions.push(Action::Calls(vec![call]));
        }
        script.actions
    }
}
