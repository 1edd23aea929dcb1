//! The reference model: which tasks are alive, given the plan and the host
//! actions so far, and so what the scenario of a plan expects after each
//! action. It knows the contract and nothing about Wasmtime.

use super::plan::{Action, Plan};
use crate::scenario::{self, CallId, CallState, Check, Located, Probe, Scenario};
use crate::spec::{Lift, Lower, Spec, Step, Target};
use std::collections::{BTreeMap, BTreeSet};

impl Plan {
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
        let expected_failures = self.upstream_exposures();
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
    /// The actors one of whose tasks waits on the instance's shared
    /// waitable set (`wait-set`).
    set_waiters: BTreeSet<String>,
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
            set_waiters: BTreeSet::new(),
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

    /// The task resolves by returning. A cancellation still pending is
    /// void: CanonicalABI.md, "Task State", `Task.return_` moves the task
    /// from PENDING_CANCEL to RESOLVED, and `Task.deliver_pending_cancel`
    /// delivers only in PENDING_CANCEL, so no later cancellable built-in
    /// (a callback's YIELD included) sees it, and the caller sees RETURNED.
    fn task_returned(&mut self, task: usize) {
        let t = &mut self.tasks[task];
        t.returned = true;
        t.cancel_pending = false;
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
        if self.tasks[task].cancel_pending && self.delivers_cancel(i, &step) {
            let t = &mut self.tasks[task];
            t.cancel_pending = false;
            t.returned = true;
            self.thread_done(i);
            return true;
        }
        self.take(i, step)
    }

    /// A cancellation is delivered by the next cancellable built-in of
    /// the task (in the model only the implicit thread of a cancelled
    /// task meets one: cancelled callees spawn no threads): cancellable
    /// `thread.yield`, `waitable-set.poll` and `waitable-set.wait`, and a
    /// callback's YIELD or WAIT (the CANCELLED event). The task
    /// acknowledges with `task.cancel` and exits. Non-cancellable
    /// built-ins (`thread.yield` of a stackful body) leave it pending.
    fn delivers_cancel(&self, i: usize, step: &Step) -> bool {
        let implicit_callback =
            self.threads[i].implicit && self.tasks[self.threads[i].task].callback;
        match step {
            Step::YieldCancellable | Step::PollCancellable | Step::WaitCancel => true,
            Step::Yield => implicit_callback,
            Step::Block(_)
            | Step::Call {
                lower: Lower::Async,
                ..
            } => implicit_callback,
            _ => false,
        }
    }

    /// Take `step`, the next step of thread `i`; false if it cannot be
    /// taken yet.
    fn take(&mut self, i: usize, step: Step) -> bool {
        let task = self.threads[i].task;
        match step {
            Step::Yield | Step::YieldCancellable | Step::PollCancellable | Step::Note(_) => {}
            Step::BackpressureInc => {
                *self
                    .backpressure
                    .entry(self.tasks[task].actor.clone())
                    .or_default() += 1;
            }
            Step::BackpressureDec => self.backpressure_dec(task),
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
            Step::CallCancel { target } | Step::CallCancelAsync { target } => {
                if self.cancel(i, &target) {
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
            Step::Start { target } => {
                // Not waited for: the callee runs on its own. Whether a
                // task or thread of this instance cancels it from the slot
                // depends on the order in which they run; the plan's
                // callees finish without the host either way (see
                // `Gen::start`), and a host `block` is no guest task.
                self.start(&target, None, false);
            }
            Step::StartBlock(_) | Step::CancelKept | Step::CancelKeptAsync => {}
            // For good: nothing is ever joined to the set.
            Step::WaitSet => {
                self.set_waiters.insert(self.tasks[task].actor.clone());
                return false;
            }
            // CanonicalABI.md, "`canon waitable-set.drop`": `WaitableSet.drop`
            // traps if a thread waits on the set (`num_waiting > 0`);
            // without a waiter it just drops it.
            Step::DropSet => {
                if self.set_waiters.contains(&self.tasks[task].actor) {
                    self.trapped = true;
                    return false;
                }
            }
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

    fn backpressure_dec(&mut self, task: usize) {
        let actor = self.tasks[task].actor.clone();
        let n = self.backpressure.get_mut(&actor).expect("inc before dec");
        *n -= 1;
        if *n == 0 {
            for t in self.tasks.iter_mut().filter(|t| t.actor == actor) {
                t.waiting_to_start = false;
            }
        }
    }

    /// A cancelled call that had not started (held back by
    /// backpressure, wherever its start is queued) is gone at once
    /// (START_CANCELLED). Otherwise the callee ran until it first
    /// suspended, the cancellation is sent, and the caller (a
    /// blocking `subtask.cancel`, or an async one and a wait for the
    /// terminal event) goes on once the callee has acknowledged.
    /// Whether a callee that might have waited to start did so
    /// depends on scheduling the model does not know (in 44.0.3 a
    /// callback that made an async call keeps its instance entered
    /// until that callee started, for example), so cancelled callees
    /// never wait on the host before their cancellation point: both
    /// ways end with the callee gone within this step.
    /// Returns whether thread `i` now waits for the callee.
    fn cancel(&mut self, i: usize, target: &Target) -> bool {
        let callee = self.start(target, None, false);
        if self.tasks[callee].waiting_to_start {
            self.cancel_unstarted(callee);
            return false;
        }
        self.tasks[callee].cancel_pending = true;
        self.threads[i].waiting_on = Some(callee);
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
