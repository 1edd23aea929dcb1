//! Runs a scenario: instantiates its component in the Wasmtime under test
//! and plays its script of host actions, checking the store's state after
//! each.
//!
//! This file is compiled once per backend, each time against that backend's
//! `wasmtime` crate: by this crate for the patched 44.0.3, and by the
//! `conformance-upstream-*` crates for upstream releases. What differs
//! between versions lives in `crate::backend`, the backend's adapter.
//!
//! Actions:
//!
//! - `(call ID ACTOR.EXPORT)`: start a call with `call_concurrent`, from a
//!   task spawned in the store so that the call outlives the step; the call
//!   starts at the next `(drive)`.
//! - `(call-async ID ACTOR.EXPORT)`: call with `call_async`, poll it until it
//!   completes or nothing more can happen, and drop it if it did not
//!   complete (a host giving up on a call); then drive.
//! - `(drop ID)`: drop the future of a `call_concurrent` call.
//! - `(release N)`: let every current and future `block(N)` return.
//! - `(drive)`: run the event loop until nothing more can happen; it must
//!   not fail. `(drive-trap)`: the same, and it must fail with a trap;
//!   `(drive-trap NAME)` names the `wasmtime::Trap` variant.
//!   `(drive-panic WORD)`: the same, and Wasmtime must panic with a message
//!   containing WORD (pins an internal-bug check of a debug build; nothing
//!   may follow it).
//! - `(poll PROBE)`: call `poll_no_interesting_tasks` with the waker of
//!   `PROBE`, storing it if the store is busy.
//! - `(repeat N ACTION...)`: run the actions N times; call ids inside get
//!   the iteration appended.
//! - `(expect CHECK...)`: check the state now.
//! - `(diverge "WHY" (BACKEND ACTION...)... (default ACTION...))`: the
//!   actions of the branch named after the backend under test, or else of
//!   `default`. `WHY` gives the upstream change or spec rule that explains
//!   the difference; the report lists it.
//!
//! A top-level `(fails-on BACKEND "TEXT" "WHY")` says that the scenario is
//! expected to fail on that backend with an error containing `TEXT`. It
//! then passes there only if it fails so; passing is an unexpected result.
//! `(may-fail-on BACKEND "TEXT" "WHY")`, which the generator writes for
//! plans that can run into a known upstream shortcoming, allows that
//! failure without requiring it.
//!
//! Checks: `(count N)` (the exact count of interesting tasks; on a backend
//! that cannot tell it, derived as `(ready)` for 0 and `(pending)` otherwise,
//! polled with the waker the store holds so that no probe's wakes change,
//! and counted as derived in the report), `(ready)` and
//! `(pending)` (polled with the probe `main`, or `(ready PROBE)`),
//! `(wakes N)` / `(wakes PROBE N)` (how many times a probe's waker has been
//! woken so far), `(result ID V)`, `(result ID pending)`,
//! `(result ID dropped)`, `(result ID error)`, `(notes V...)` (every value
//! the guests passed to `note`, in order).

use crate::backend;
use crate::compose::compose_for;
use crate::sexpr::{self, Sexpr};
use crate::spec::{Spec, number};
use anyhow::{Context as _, Result, bail, ensure};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use wasmtime::component::{
    Accessor, AccessorTask, Component, Instance, JoinHandle, Linker, TypedFunc,
};
use wasmtime::{Config, Engine, Store};

/// How many times a `(drive)` polls the event loop before it gives up: a
/// guest that yields forever must fail the scenario, not hang it.
const DRIVE_LIMIT: usize = 100_000;

/// Gates the host import `block` waits on, shared between the store's data
/// and the script.
#[derive(Default)]
struct Gates {
    released: Vec<u32>,
    waiting: Vec<Waker>,
}

/// The store's data.
pub struct Host {
    gates: Arc<Mutex<Gates>>,
    notes: Vec<u32>,
}

/// What became of a call the script started.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Pending,
    Returned(u32),
    Dropped,
    Error(String),
}

struct Call {
    outcome: Arc<Mutex<Outcome>>,
    handle: Option<JoinHandle>,
}

/// A waker that counts how many times it has been woken.
#[derive(Default)]
struct Probe {
    wakes: AtomicUsize,
}

impl Wake for Probe {
    fn wake(self: Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }
}

/// A waker that records whether it was woken since it was last reset.
#[derive(Default)]
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Poll `future` until it completes or stalls: returns `None` when it is
/// pending and nothing woke it, so more polling cannot help.
fn poll_until_stalled<F: Future>(future: F) -> Result<Option<F::Output>> {
    let flag = Arc::new(Flag::default());
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    for _ in 0..DRIVE_LIMIT {
        flag.0.store(false, Ordering::SeqCst);
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return Ok(Some(v)),
            Poll::Pending if !flag.0.load(Ordering::SeqCst) => return Ok(None),
            Poll::Pending => {}
        }
    }
    bail!("the event loop still had work after {DRIVE_LIMIT} polls")
}

/// The backends a scenario may name.
pub const BACKENDS: [&str; 3] = ["patched", "upstream-45", "upstream-48"];

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

/// `spawn` returns a `JoinHandle` up to Wasmtime 47, and a `Result` of one
/// from 48 on.
trait SpawnResult {
    fn handle(self) -> Result<JoinHandle>;
}

impl SpawnResult for JoinHandle {
    fn handle(self) -> Result<JoinHandle> {
        Ok(self)
    }
}

impl SpawnResult for wasmtime::Result<JoinHandle> {
    fn handle(self) -> Result<JoinHandle> {
        Ok(self?)
    }
}

/// The task spawned for `(call ...)`.
struct CallTask {
    func: TypedFunc<(), (u32,)>,
    outcome: Arc<Mutex<Outcome>>,
}

impl AccessorTask<Host> for CallTask {
    async fn run(self, accessor: &Accessor<Host>) -> wasmtime::Result<()> {
        let result = self.func.call_concurrent(accessor, ()).await;
        *self.outcome.lock().unwrap() = match result {
            Ok((v,)) => Outcome::Returned(v),
            Err(e) => Outcome::Error(format!("{e:?}")),
        };
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
}

/// The engine every scenario uses: the component model with its async
/// features and threads, debug assertions as built.
fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .wasm_component_model_async(true)
        .wasm_component_model_async_stackful(true)
        .wasm_component_model_threading(true)
        .concurrency_support(true);
    backend::configure(&mut config);
    Ok(Engine::new(&config)?)
}

impl Runner {
    pub fn new(spec: Spec) -> Result<Runner> {
        let bytes = compose_for(&spec, backend::ENCODING)?;
        let engine = engine()?;
        let component = Component::new(&engine, &bytes)?;
        let mut linker = Linker::<Host>::new(&engine);
        linker
            .root()
            .func_wrap_concurrent("block", |_accessor, (id,): (u32,)| {
                Box::pin(async move {
                    let gates = tls_gates();
                    std::future::poll_fn(|cx| {
                        let mut g = gates.lock().unwrap();
                        if g.released.contains(&id) {
                            Poll::Ready(Ok(()))
                        } else {
                            g.waiting.push(cx.waker().clone());
                            Poll::Pending
                        }
                    })
                    .await
                })
            })?;
        linker.root().func_wrap("note", |mut store, (v,): (u32,)| {
            let host: &mut Host = store.data_mut();
            host.notes.push(v);
            Ok(())
        })?;
        let gates = Arc::new(Mutex::new(Gates::default()));
        set_tls_gates(gates.clone());
        let mut store = Store::new(
            &engine,
            Host {
                gates,
                notes: Vec::new(),
            },
        );
        let instance = poll_until_stalled(linker.instantiate_async(&mut store, &component))?
            .context("instantiation did not complete")??;
        Ok(Runner {
            spec,
            store,
            instance,
            calls: HashMap::new(),
            probes: BTreeMap::new(),
            armed: None,
            failures: Vec::new(),
            report: Report::default(),
        })
    }

    fn func(&mut self, target: &str) -> Result<TypedFunc<(), (u32,)>> {
        ensure!(self.spec.export(target).is_some(), "no export `{target}`");
        let name = target.replace('.', "-");
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

    fn fail(&mut self, line: usize, msg: String) {
        self.failures.push(format!("line {line}: {msg}"));
    }

    fn action(&mut self, s: &Sexpr, suffix: &str) -> Result<()> {
        let items = s.list().context("expected an action list")?;
        let arg = |i: usize| -> Result<&str> {
            items
                .get(i)
                .and_then(|a| a.atom())
                .with_context(|| format!("missing argument {i} in `{s}`"))
        };
        let line = s.line();
        match s.head() {
            Some("call") => {
                let id = format!("{}{suffix}", arg(1)?);
                let func = self.func(arg(2)?)?;
                let outcome = Arc::new(Mutex::new(Outcome::Pending));
                let handle = self
                    .store
                    .spawn(CallTask {
                        func,
                        outcome: outcome.clone(),
                    })
                    .handle()?;
                self.calls.insert(
                    id,
                    Call {
                        outcome,
                        handle: Some(handle),
                    },
                );
            }
            Some("call-async") => {
                let id = format!("{}{suffix}", arg(1)?);
                let func = self.func(arg(2)?)?;
                let outcome = match poll_until_stalled(func.call_async(&mut self.store, ()))? {
                    None => Outcome::Dropped,
                    Some(Ok((v,))) => Outcome::Returned(v),
                    Some(Err(e)) => Outcome::Error(format!("{e:?}")),
                };
                // `call_async` returns as soon as the result is delivered;
                // let whatever else can run, run.
                if let Err(e) = self.drive()? {
                    self.fail(line, format!("drive after (call-async) failed: {e:?}"));
                }
                self.calls.insert(
                    id,
                    Call {
                        outcome: Arc::new(Mutex::new(outcome)),
                        handle: None,
                    },
                );
            }
            Some("drop") => {
                let id = format!("{}{suffix}", arg(1)?);
                let call = self.calls.get_mut(&id).context("no such call")?;
                call.handle
                    .take()
                    .context("only a `(call ...)` can be dropped")?
                    .abort();
                let mut outcome = call.outcome.lock().unwrap();
                if *outcome == Outcome::Pending {
                    *outcome = Outcome::Dropped;
                }
            }
            Some("release") => {
                let id = number(&items[1])?;
                let mut gates = self.store.data().gates.lock().unwrap();
                gates.released.push(id);
                for waker in gates.waiting.drain(..) {
                    waker.wake();
                }
            }
            Some("drive") => {
                if let Err(e) = self.drive()? {
                    self.fail(line, format!("(drive) failed: {e:?}"));
                }
            }
            Some("drive-trap") => match self.drive()? {
                Ok(()) => self.fail(line, "(drive-trap) did not trap".into()),
                Err(e) => match (e.downcast_ref::<wasmtime::Trap>(), items.get(1)) {
                    (None, _) => {
                        self.fail(line, format!("(drive-trap) failed without a trap: {e:?}"))
                    }
                    (Some(trap), Some(want))
                        if Some(format!("{trap:?}").as_str()) != want.atom() =>
                    {
                        self.fail(line, format!("trapped with {trap:?}, expected {want}"))
                    }
                    (Some(_), _) => {}
                },
            },
            Some("drive-panic") => {
                let want = arg(1)?.to_string();
                let result =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.drive()));
                match result {
                    Ok(_) => self.fail(line, "(drive-panic) did not panic".into()),
                    Err(panic) => {
                        let msg = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default();
                        if !msg.contains(&want) {
                            self.fail(line, format!("panicked with `{msg}`, expected `{want}`"));
                        }
                    }
                }
            }
            Some("poll") => {
                let _ = self.poll_probe(arg(1)?)?;
            }
            Some("repeat") => {
                let n = number(&items[1])?;
                for i in 0..n {
                    for action in &items[2..] {
                        self.action(action, &format!("{suffix}#{i}"))?;
                    }
                    if !self.failures.is_empty() {
                        self.failures.push(format!("line {line}: in iteration {i}"));
                        break;
                    }
                }
            }
            Some("diverge") => {
                let why = items
                    .get(1)
                    .and_then(Sexpr::string)
                    .context("`(diverge ...)` needs a quoted reason first")?;
                let mut chosen = None;
                for branch in &items[2..] {
                    let name = branch.head().context("a `(diverge ...)` branch")?;
                    ensure!(
                        name == "default" || BACKENDS.contains(&name),
                        "unknown backend `{name}` (known: {})",
                        BACKENDS.join(", ")
                    );
                    if name == backend::NAME || (name == "default" && chosen.is_none()) {
                        chosen = Some((name, branch));
                    }
                }
                let (name, branch) = chosen.context("`(diverge ...)` needs a `default` branch")?;
                if name != "default" {
                    self.report.diverged.push(why.to_string());
                }
                for action in &branch.list().unwrap()[1..] {
                    self.action(action, suffix)?;
                }
            }
            Some("expect") => {
                for check in &items[1..] {
                    self.report.checks += 1;
                    self.check(check, suffix)
                        .with_context(|| format!("line {}: `{check}`", check.line()))?;
                }
            }
            _ => bail!("line {line}: unknown action `{s}`"),
        }
        Ok(())
    }

    fn check(&mut self, s: &Sexpr, suffix: &str) -> Result<()> {
        let items = s.list().context("expected a check list")?;
        let line = s.line();
        let atom = |i: usize| items.get(i).and_then(|a| a.atom());
        match (s.head(), items.len()) {
            (Some("count"), 2) => {
                let want = number(&items[1])? as usize;
                if let Some(msg) = self.count_is(want)? {
                    self.fail(line, msg);
                }
            }
            (Some(want @ ("ready" | "pending")), 1 | 2) => {
                let probe = atom(1).unwrap_or("main").to_string();
                let got = match self.poll_probe(&probe)? {
                    Poll::Ready(()) => "ready",
                    Poll::Pending => "pending",
                };
                if got != want {
                    self.fail(
                        line,
                        format!("poll_no_interesting_tasks is {got}, expected {want}"),
                    );
                }
            }
            (Some("wakes"), 2 | 3) => {
                let (probe, n) = if items.len() == 2 {
                    ("main".to_string(), &items[1])
                } else {
                    (atom(1).context("probe name")?.to_string(), &items[2])
                };
                let want = number(n)? as usize;
                let got = self.probe(&probe).wakes.load(Ordering::SeqCst);
                if got != want {
                    self.fail(
                        line,
                        format!("probe `{probe}` woken {got} times, expected {want}"),
                    );
                }
            }
            (Some("result"), 3) => {
                let id = format!("{}{suffix}", atom(1).context("call id")?);
                let got = self
                    .calls
                    .get(&id)
                    .with_context(|| format!("no call `{id}`"))?
                    .outcome
                    .lock()
                    .unwrap()
                    .clone();
                let ok = match (atom(2), &got) {
                    (Some("pending"), Outcome::Pending) => true,
                    (Some("dropped"), Outcome::Dropped) => true,
                    (Some("error"), Outcome::Error(_)) => true,
                    (Some(v), Outcome::Returned(r)) => v.parse::<u32>().ok() == Some(*r),
                    _ => false,
                };
                if !ok {
                    self.fail(
                        line,
                        format!("call `{id}` is {got:?}, expected {}", items[2]),
                    );
                }
            }
            (Some("notes"), _) => {
                let want = items[1..].iter().map(number).collect::<Result<Vec<_>>>()?;
                let got = self.store.data().notes.clone();
                if got != want {
                    self.fail(line, format!("notes are {got:?}, expected {want:?}"));
                }
            }
            _ => bail!("unknown check `{s}`"),
        }
        Ok(())
    }
}

thread_local! {
    static GATES: std::cell::RefCell<Option<Arc<Mutex<Gates>>>> = const { std::cell::RefCell::new(None) };
}

fn set_tls_gates(gates: Arc<Mutex<Gates>>) {
    GATES.with(|g| *g.borrow_mut() = Some(gates));
}

fn tls_gates() -> Arc<Mutex<Gates>> {
    GATES.with(|g| g.borrow().clone().expect("gates are set by Runner::new"))
}

/// An allowed failure: `(fails-on ...)` (`must` set) or `(may-fail-on ...)`.
struct Expected {
    text: String,
    why: String,
    must: bool,
}

/// The `(fails-on BACKEND "TEXT" "WHY")` and `(may-fail-on ...)` items of a
/// scenario for this backend; every other top-level item stays in `script`.
fn expected_failures(script: &mut Vec<Sexpr>) -> Result<Vec<Expected>> {
    let mut out = Vec::new();
    let mut err = None;
    script.retain(|item| {
        let must = match item.head() {
            Some("fails-on") => true,
            Some("may-fail-on") => false,
            _ => return true,
        };
        let items = item.list().unwrap();
        match (
            items.get(1).and_then(Sexpr::atom),
            items.get(2).and_then(Sexpr::string),
            items.get(3).and_then(Sexpr::string),
            items.len(),
        ) {
            (Some(name), Some(text), Some(why), 4) if BACKENDS.contains(&name) => {
                if name == backend::NAME {
                    out.push(Expected {
                        text: text.to_string(),
                        why: why.to_string(),
                        must,
                    });
                }
            }
            _ => {
                err.get_or_insert_with(|| {
                    anyhow::anyhow!(
                        "line {}: expected `({} BACKEND \"TEXT\" \"WHY\")` with BACKEND one of {}",
                        item.line(),
                        item.head().unwrap_or_default(),
                        BACKENDS.join(", ")
                    )
                });
            }
        }
        false
    });
    match err {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Play a scenario; a panic inside Wasmtime becomes an error.
fn play(spec: &Sexpr, script: &[Sexpr]) -> Result<Report> {
    let spec = Spec::parse(spec).with_context(|| format!("line {}", spec.line()))?;
    let played = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut runner = Runner::new(spec)?;
        for action in script {
            runner
                .action(action, "")
                .with_context(|| format!("line {}: `{action}`", action.line()))?;
        }
        if !runner.failures.is_empty() {
            bail!("{}", runner.failures.join("\n"));
        }
        Ok(runner.report)
    }));
    played.unwrap_or_else(|panic| {
        let msg = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        bail!("Wasmtime panicked: {msg}")
    })
}

/// Run a scenario from its text on this backend. Returns what it went
/// through, or an error listing every failed check (or, for a scenario
/// expected to fail here, saying how it did not).
pub fn run_str(src: &str) -> Result<Report> {
    let mut items = sexpr::parse(src)?;
    ensure!(!items.is_empty(), "empty scenario");
    let spec = items.remove(0);
    let expected = expected_failures(&mut items)?;
    let result = play(&spec, &items);
    if expected.is_empty() {
        return result;
    }
    let error = match result {
        Ok(report) => match expected.iter().find(|e| e.must) {
            Some(e) => bail!(
                "expected to fail on {} ({}), but passed",
                backend::NAME,
                e.why
            ),
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
            "expected to fail on {} with `{}`, but failed otherwise: {error}",
            backend::NAME,
            expected[0].text
        ),
    }
}

/// Run the scenario file at `path`.
pub fn run_file(path: &std::path::Path) -> Result<Report> {
    let src =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    run_str(&src).with_context(|| format!("scenario {}", path.display()))
}

/// Run a generated plan's scenario: `Err` with what went wrong, a panic
/// inside Wasmtime (a debug assertion, say) included.
pub fn check(plan: &crate::generate::Plan) -> std::result::Result<Report, String> {
    run_str(&plan.scenario()).map_err(|e| format!("{e:#}"))
}
