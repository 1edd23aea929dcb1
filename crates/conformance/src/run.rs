//! Runs a scenario: instantiates its component in the patched Wasmtime and
//! plays its script of host actions, checking the store's state after each.
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
//!
//! Checks: `(count N)` (the exact count of interesting tasks), `(ready)` and
//! `(pending)` (polled with the probe `main`, or `(ready PROBE)`),
//! `(wakes N)` / `(wakes PROBE N)` (how many times a probe's waker has been
//! woken so far), `(result ID V)`, `(result ID pending)`,
//! `(result ID dropped)`, `(result ID error)`, `(notes V...)` (every value
//! the guests passed to `note`, in order).

use crate::compose::compose;
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
use wasmtime::{AsContextMut, Config, Engine, Store};

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
    failures: Vec<String>,
}

/// The engine every scenario uses: the component model with its async
/// features and threads, debug assertions as built.
fn engine() -> Result<Engine> {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .wasm_component_model_async(true)
        .wasm_component_model_async_builtins(true)
        .wasm_component_model_async_stackful(true)
        .wasm_component_model_threading(true)
        .concurrency_support(true);
    Ok(Engine::new(&config)?)
}

impl Runner {
    pub fn new(spec: Spec) -> Result<Runner> {
        let bytes = compose(&spec)?;
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
            failures: Vec::new(),
        })
    }

    fn func(&mut self, target: &str) -> Result<TypedFunc<(), (u32,)>> {
        ensure!(self.spec.export(target).is_some(), "no export `{target}`");
        let name = target.replace('.', "-");
        Ok(self
            .instance
            .get_typed_func::<(), (u32,)>(&mut self.store, &name)?)
    }

    fn count(&mut self) -> usize {
        self.store.as_context_mut().interesting_task_count()
    }

    fn probe(&mut self, name: &str) -> Arc<Probe> {
        self.probes.entry(name.to_string()).or_default().clone()
    }

    /// Poll `poll_no_interesting_tasks` with `probe`'s waker.
    fn poll_probe(&mut self, name: &str) -> Result<Poll<()>> {
        let waker = Waker::from(self.probe(name));
        let fut = self.store.run_concurrent(async |accessor| {
            accessor.poll_no_interesting_tasks(&mut Context::from_waker(&waker))
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
                let handle = self.store.spawn(CallTask {
                    func,
                    outcome: outcome.clone(),
                });
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
            Some("expect") => {
                for check in &items[1..] {
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
                let got = self.count();
                if got != want {
                    self.fail(line, format!("count is {got}, expected {want}"));
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

/// Run a scenario from its text. Returns an error listing every failed
/// check.
pub fn run_str(src: &str) -> Result<()> {
    let items = sexpr::parse(src)?;
    let (first, script) = items.split_first().context("empty scenario")?;
    let spec = Spec::parse(first).with_context(|| format!("line {}", first.line()))?;
    let mut runner = Runner::new(spec)?;
    for action in script {
        runner
            .action(action, "")
            .with_context(|| format!("line {}: `{action}`", action.line()))?;
    }
    if !runner.failures.is_empty() {
        bail!("{}", runner.failures.join("\n"));
    }
    Ok(())
}

/// Run the scenario file at `path`.
pub fn run_file(path: &std::path::Path) -> Result<()> {
    let src =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    run_str(&src).with_context(|| format!("scenario {}", path.display()))
}
