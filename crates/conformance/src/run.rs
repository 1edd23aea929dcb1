//! Runs a scenario: instantiates its component in the Wasmtime under test
//! and plays its script of host actions, checking the store's state after
//! each.
//!
//! This file is compiled once per backend, each time against that backend's
//! `wasmtime` crate: by this crate for the patched 44.0.3, and by the
//! `conformance-upstream-*` crates for upstream releases. What differs
//! between versions lives in `crate::backend`, the backend's adapter.
//!
//! The scenario language (`crate::scenario`) is described in
//! `docs/scenario-language.md`.

use crate::backend;
use crate::host::{
    Call, CallTask, Host, Outcome, Probe, SpawnResult, instantiate, poll_until_stalled,
};
use crate::scenario::{Action, CallId, Check, Located, Pos, Probe as ProbeName, Scenario};
use crate::spec::{Spec, Target};
use anyhow::{Context as _, Result, bail, ensure};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use wasmtime::Store;
use wasmtime::component::{Instance, TypedFunc};

/// What a scenario that passed went through.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Report {
    /// Checks made.
    pub checks: usize,
    /// `(count N)` checks made as ready or pending, without the exact count.
    pub derived: usize,
    /// The `WHY` of each `(diverge ...)` that took a backend's own branch.
    pub diverged: Vec<String>,
    /// The `WHY` of the `(fails-on ...)` the scenario failed as.
    pub failed_as_expected: Option<String>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(why) = &self.failed_as_expected {
            return write!(f, "fails as expected: {why}");
        }
        write!(f, "pass ({} checks", self.checks)?;
        if self.derived > 0 {
            write!(f, ", {} counts derived from the poll", self.derived)?;
        }
        f.write_str(")")?;
        let mut seen = Vec::new();
        for why in &self.diverged {
            if !seen.contains(&why) {
                write!(f, "; own expectation: {why}")?;
                seen.push(why);
            }
        }
        Ok(())
    }
}

/// A scenario in progress.
pub struct Runner {
    spec: Spec,
    store: Store<Host>,
    instance: Instance,
    calls: HashMap<String, Call>,
    probes: BTreeMap<String, Arc<Probe>>,
    /// The probe whose waker the store holds, if any, with its wakes when it
    /// was stored: the store drops the waker when it wakes it.
    armed: Option<(String, usize)>,
    failures: Vec<String>,
    report: Report,
    /// The scenario's text, for the line numbers of failures.
    source: String,
}

impl Runner {
    pub fn new(spec: Spec, source: &str) -> Result<Runner> {
        let (store, instance) = instantiate(&spec)?;
        Ok(Runner {
            spec,
            store,
            instance,
            calls: HashMap::new(),
            probes: BTreeMap::new(),
            armed: None,
            failures: Vec::new(),
            report: Report::default(),
            source: source.to_string(),
        })
    }

    fn func(&mut self, target: &Target) -> Result<TypedFunc<(), (u32,)>> {
        ensure!(self.spec.export(target).is_some(), "no export `{target}`");
        let name = format!("{}-{}", target.actor, target.export);
        Ok(self
            .instance
            .get_typed_func::<(), (u32,)>(&mut self.store, &name)?)
    }

    /// Whether `(count N)` holds: exactly, or derived from the poll.
    fn count_is(&mut self, want: usize) -> Result<Option<String>> {
        if let Some(got) = backend::exact_count(&mut self.store) {
            return Ok((got != want).then(|| format!("count is {got}, expected {want}")));
        }
        self.report.derived += 1;
        // Poll with the waker the store holds already, so that which probe
        // the store wakes, and when, stays as the script left it.
        let armed = self.armed.clone().filter(|(name, wakes)| {
            self.probes
                .get(name)
                .is_some_and(|p| p.wakes.load(Ordering::SeqCst) == *wakes)
        });
        let poll = match armed {
            Some((name, _)) => self.poll_probe(&name)?,
            None => {
                let waker = Waker::from(Arc::new(Probe::default()));
                let poll = self.poll_with(&waker)?;
                self.armed = None;
                poll
            }
        };
        Ok(match (poll, want) {
            (Poll::Ready(()), 0) | (Poll::Pending, 1..) => None,
            (Poll::Ready(()), _) => Some(format!(
                "the poll is ready, so the count is 0, expected {want}"
            )),
            (Poll::Pending, _) => {
                Some("the poll is pending, so the count is not 0, expected 0".into())
            }
        })
    }

    fn probe(&mut self, name: &str) -> Arc<Probe> {
        self.probes.entry(name.to_string()).or_default().clone()
    }

    /// Poll `poll_no_interesting_tasks` with `probe`'s waker.
    fn poll_probe(&mut self, name: &str) -> Result<Poll<()>> {
        let probe = self.probe(name);
        let poll = self.poll_with(&Waker::from(probe.clone()))?;
        if poll.is_pending() {
            self.armed = Some((name.to_string(), probe.wakes.load(Ordering::SeqCst)));
        }
        Ok(poll)
    }

    fn poll_with(&mut self, waker: &Waker) -> Result<Poll<()>> {
        let fut = self.store.run_concurrent(async |accessor| {
            accessor.poll_no_interesting_tasks(&mut Context::from_waker(waker))
        });
        Ok(poll_until_stalled(fut)?.context("run_concurrent did not return")??)
    }

    /// Run the event loop until nothing more can happen.
    fn drive(&mut self) -> Result<wasmtime::Result<()>> {
        let fut = self
            .store
            .run_concurrent(async |_| std::future::pending::<()>().await);
        Ok(match poll_until_stalled(fut)? {
            None => Ok(()),
            Some(Ok(())) => unreachable!("a pending future completed"),
            Some(Err(e)) => Err(e),
        })
    }

    fn fail(&mut self, pos: Pos, msg: String) {
        let line = pos.line(&self.source).unwrap_or(0);
        self.failures.push(format!("line {line}: {msg}"));
    }

    /// The id of call `id` in the current `(repeat ...)` iteration.
    fn call_id(id: &CallId, suffix: &str) -> String {
        format!("{id}{suffix}")
    }

    fn action(&mut self, action: &Located<Action>, suffix: &str) -> Result<()> {
        let pos = action.pos;
        match &action.item {
            Action::Call { id, target } => self.call(Self::call_id(id, suffix), target)?,
            Action::CallAsync { id, target } => {
                self.call_async(pos, Self::call_id(id, suffix), target)?
            }
            Action::Drop(id) => self.drop_call(&Self::call_id(id, suffix))?,
            Action::Release(id) => self.release(*id),
            Action::Drive => {
                if let Err(e) = self.drive()? {
                    self.fail(pos, format!("(drive) failed: {e:?}"));
                }
            }
            Action::DriveTrap(want) => self.drive_trap(pos, want.as_deref())?,
            Action::DrivePanic(want) => self.drive_panic(pos, want),
            Action::Poll(probe) => {
                let _ = self.poll_probe(&probe.0)?;
            }
            Action::Repeat { times, actions } => self.repeat(pos, *times, actions, suffix)?,
            Action::Diverge {
                why,
                branches,
                default,
            } => {
                let actions = match branches.iter().find(|(b, _)| *b == backend::BACKEND) {
                    Some((_, actions)) => {
                        self.report.diverged.push(why.clone());
                        actions
                    }
                    None => default,
                };
                for action in actions {
                    self.action(action, suffix)?;
                }
            }
            Action::Expect(checks) => {
                for check in checks {
                    self.report.checks += 1;
                    self.check(check, suffix).with_context(|| {
                        let line = check.pos.line(&self.source).unwrap_or(0);
                        format!("line {line}: `{check}`")
                    })?;
                }
            }
        }
        Ok(())
    }

    /// `(drop ID)`: drop the future of a `(call ...)`.
    fn drop_call(&mut self, id: &str) -> Result<()> {
        let call = self.calls.get_mut(id).context("no such call")?;
        call.handle
            .take()
            .context("only a `(call ...)` can be dropped")?
            .abort();
        let mut outcome = call.outcome.lock().unwrap();
        if *outcome == Outcome::Pending {
            *outcome = Outcome::Dropped;
        }
        Ok(())
    }

    /// `(release N)`: let every current and future `block(N)` return.
    fn release(&mut self, id: u32) {
        let mut gates = self.store.data().gates.lock().unwrap();
        gates.released.push(id);
        for waker in gates.waiting.drain(..) {
            waker.wake();
        }
    }

    /// `(repeat N ACTION...)`, the call ids numbered per iteration; stops
    /// after the first iteration with a failure.
    fn repeat(
        &mut self,
        pos: Pos,
        times: u32,
        actions: &[Located<Action>],
        suffix: &str,
    ) -> Result<()> {
        for i in 0..times {
            for action in actions {
                self.action(action, &format!("{suffix}#{i}"))?;
            }
            if !self.failures.is_empty() {
                let line = pos.line(&self.source).unwrap_or(0);
                self.failures.push(format!("line {line}: in iteration {i}"));
                break;
            }
        }
        Ok(())
    }

    /// `(call ...)`: a `call_concurrent` from a task spawned in the store,
    /// so that the call outlives the action; it starts at the next drive.
    fn call(&mut self, id: String, target: &Target) -> Result<()> {
        let func = self.func(target)?;
        let outcome = Arc::new(Mutex::new(Outcome::Pending));
        let handle = self
            .store
            .spawn(CallTask {
                func,
                outcome: outcome.clone(),
            })
            .handle()?;
        let handle = Some(handle);
        self.calls.insert(id, Call { outcome, handle });
        Ok(())
    }

    /// `(call-async ...)`: `call_async`, polled until it completes or
    /// nothing more can happen, and dropped if it did not complete (a host
    /// giving up on a call); then drive.
    fn call_async(&mut self, pos: Pos, id: String, target: &Target) -> Result<()> {
        let func = self.func(target)?;
        let outcome = match poll_until_stalled(func.call_async(&mut self.store, ()))? {
            None => Outcome::Dropped,
            Some(Ok((v,))) => Outcome::Returned(v),
            Some(Err(e)) => Outcome::Error(format!("{e:?}")),
        };
        // `call_async` returns as soon as the result is delivered; let
        // whatever else can run, run.
        if let Err(e) = self.drive()? {
            self.fail(pos, format!("drive after (call-async) failed: {e:?}"));
        }
        let outcome = Arc::new(Mutex::new(outcome));
        self.calls.insert(
            id,
            Call {
                outcome,
                handle: None,
            },
        );
        Ok(())
    }

    /// `(drive-trap [NAME])`: the drive must fail with a trap (named NAME).
    fn drive_trap(&mut self, pos: Pos, want: Option<&str>) -> Result<()> {
        match self.drive()? {
            Ok(()) => self.fail(pos, "(drive-trap) did not trap".into()),
            Err(e) => match (e.downcast_ref::<wasmtime::Trap>(), want) {
                (None, _) => self.fail(pos, format!("(drive-trap) failed without a trap: {e:?}")),
                (Some(trap), Some(want)) if format!("{trap:?}") != want => {
                    self.fail(pos, format!("trapped with {trap:?}, expected {want}"))
                }
                (Some(_), _) => {}
            },
        }
        Ok(())
    }

    /// `(drive-panic TEXT)`: Wasmtime must panic, with TEXT in the message
    /// (pins an internal-bug check of a debug build; nothing may follow).
    fn drive_panic(&mut self, pos: Pos, want: &str) {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.drive()));
        match result {
            Ok(_) => self.fail(pos, "(drive-panic) did not panic".into()),
            Err(panic) => {
                let msg = panic_message(&*panic);
                if !msg.contains(want) {
                    self.fail(pos, format!("panicked with `{msg}`, expected `{want}`"));
                }
            }
        }
    }

    fn check(&mut self, check: &Located<Check>, suffix: &str) -> Result<()> {
        let pos = check.pos;
        match &check.item {
            Check::Count(want) => {
                if let Some(msg) = self.count_is(*want)? {
                    self.fail(pos, msg);
                }
            }
            Check::Ready(probe) => self.check_poll(pos, probe, "ready")?,
            Check::Pending(probe) => self.check_poll(pos, probe, "pending")?,
            Check::Wakes(probe, want) => {
                let got = self.probe(&probe.0).wakes.load(Ordering::SeqCst);
                if got != *want {
                    self.fail(
                        pos,
                        format!("probe `{probe}` woken {got} times, expected {want}"),
                    );
                }
            }
            Check::Result(id, want) => {
                let id = Self::call_id(id, suffix);
                let got = self
                    .calls
                    .get(&id)
                    .with_context(|| format!("no call `{id}`"))?
                    .outcome
                    .lock()
                    .unwrap()
                    .clone();
                if got.state() != *want {
                    self.fail(pos, format!("call `{id}` is {got:?}, expected {want}"));
                }
            }
            Check::Notes(want) => {
                let got = self.store.data().notes.clone();
                if got != *want {
                    self.fail(pos, format!("notes are {got:?}, expected {want:?}"));
                }
            }
        }
        Ok(())
    }

    /// `(ready [PROBE])` or `(pending [PROBE])`.
    fn check_poll(&mut self, pos: Pos, probe: &ProbeName, want: &str) -> Result<()> {
        let got = match self.poll_probe(&probe.0)? {
            Poll::Ready(()) => "ready",
            Poll::Pending => "pending",
        };
        if got != want {
            self.fail(
                pos,
                format!("poll_no_interesting_tasks is {got}, expected {want}"),
            );
        }
        Ok(())
    }
}

/// The message of a caught panic.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Play a scenario; a panic inside Wasmtime becomes an error.
fn play(scenario: &Scenario, source: &str) -> Result<Report> {
    let played = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut runner = Runner::new(scenario.spec.clone(), source)?;
        for action in &scenario.script {
            runner.action(action, "").with_context(|| {
                let line = action.pos.line(source).unwrap_or(0);
                format!("line {line}: `{action}`")
            })?;
        }
        if !runner.failures.is_empty() {
            bail!("{}", runner.failures.join("\n"));
        }
        Ok(runner.report)
    }));
    played.unwrap_or_else(|panic| {
        let msg = match panic_message(&*panic) {
            msg if msg.is_empty() => "(no message)".to_string(),
            msg => msg,
        };
        bail!("Wasmtime panicked: {msg}")
    })
}

/// Run a parsed scenario on this backend; `source` is its text, for the
/// line numbers of failures. Returns what it went through, or an error
/// listing every failed check (or, for a scenario expected to fail here,
/// saying how it did not).
pub fn run_scenario(scenario: &Scenario, source: &str) -> Result<Report> {
    let expected: Vec<_> = scenario
        .expected_failures
        .iter()
        .filter(|e| e.backend == backend::BACKEND)
        .collect();
    let result = play(scenario, source);
    if expected.is_empty() {
        return result;
    }
    let name = backend::BACKEND;
    let error = match result {
        Ok(report) => match expected.iter().find(|e| e.must) {
            Some(e) => bail!("expected to fail on {name} ({}), but passed", e.why),
            None => return Ok(report),
        },
        Err(e) => format!("{e:#}"),
    };
    match expected.iter().find(|e| error.contains(e.text.as_str())) {
        Some(e) => Ok(Report {
            failed_as_expected: Some(e.why.clone()),
            ..Report::default()
        }),
        None => bail!(
            "expected to fail on {name} with `{}`, but failed otherwise: {error}",
            expected[0].text
        ),
    }
}

/// Run a scenario from its text on this backend (see [`run_scenario`]). A
/// malformed scenario is an error with its line and column, before
/// anything runs.
pub fn run_str(src: &str) -> Result<Report> {
    run_scenario(&Scenario::parse_str(src, None)?, src)
}

/// Run the scenario file at `path`.
pub fn run_file(path: &std::path::Path) -> Result<Report> {
    let src =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let scenario = Scenario::parse_str(&src, Some(path))?;
    run_scenario(&scenario, &src).with_context(|| format!("scenario {}", path.display()))
}

/// Run a generated plan's scenario: `Err` with what went wrong, a panic
/// inside Wasmtime (a debug assertion, say) included.
pub fn check(plan: &crate::generate::Plan) -> std::result::Result<Report, String> {
    run_str(&plan.scenario()).map_err(|e| format!("{e:#}"))
}
