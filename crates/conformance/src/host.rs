//! The host side of a scenario run: the store's data, the imports `block`
//! and `note`, the wakers the script polls with, and driving the event
//! loop. Like `run.rs`, this file is compiled once per backend.

use crate::backend;
use crate::compose::compose_for;
use crate::scenario::CallState;
use crate::spec::Spec;
use anyhow::{Context as _, Result, bail};
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
pub(crate) struct Gates {
    pub(crate) released: Vec<u32>,
    pub(crate) waiting: Vec<Waker>,
}

/// The store's data.
pub struct Host {
    pub(crate) gates: Arc<Mutex<Gates>>,
    pub(crate) notes: Vec<u32>,
}

/// What became of a call the script started.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    Pending,
    Returned(u32),
    Dropped,
    Error(String),
}

impl Outcome {
    pub(crate) fn state(&self) -> CallState {
        match self {
            Outcome::Pending => CallState::Pending,
            Outcome::Returned(v) => CallState::Returned(*v),
            Outcome::Dropped => CallState::Dropped,
            Outcome::Error(_) => CallState::Error,
        }
    }
}

pub(crate) struct Call {
    pub(crate) outcome: Arc<Mutex<Outcome>>,
    pub(crate) handle: Option<JoinHandle>,
}

/// A waker that counts how many times it has been woken.
#[derive(Default)]
pub(crate) struct Probe {
    pub(crate) wakes: AtomicUsize,
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
pub(crate) fn poll_until_stalled<F: Future>(future: F) -> Result<Option<F::Output>> {
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

/// `spawn` returns a `JoinHandle` up to Wasmtime 47, and a `Result` of one
/// from 48 on.
pub(crate) trait SpawnResult {
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
pub(crate) struct CallTask {
    pub(crate) func: TypedFunc<(), (u32,)>,
    pub(crate) outcome: Arc<Mutex<Outcome>>,
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

/// Instantiate `spec`'s component in a new store, with the host's imports.
pub(crate) fn instantiate(spec: &Spec) -> Result<(Store<Host>, Instance)> {
    let bytes = compose_for(spec, backend::ENCODING)?;
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
    Ok((store, instance))
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
