//! Benchmarks of live-task tracking: the same workloads against the patched
//! Wasmtime and against the pristine 44.0.3 base, built from the same code.
//!
//! This library holds the workloads; it is the same source in both builds,
//! so the compiler sees the same code around Wasmtime's in both. The `bench`
//! binary runs them (`bench --help`). The one workload only the patched
//! build has, timing `Accessor::poll_no_interesting_tasks`, lives in its own
//! binary, `bench-poll`, so that it cannot change how the shared code is
//! compiled.

use anyhow::{Context as _, Result, bail};
use conformance::{compose::compose, spec::Spec};
use futures::stream::{FuturesUnordered, StreamExt};
use std::hint::black_box;
use std::time::Instant;
use wasmtime::component::{Component, Instance, Linker, TypedFunc};
use wasmtime::{Config, Engine, Store};

pub mod compare;
pub mod http;

/// The component every case uses. `b` is the callee, `a` calls it from
/// inside the guest.
const COMPONENT: &str = r#"
(component
  (actor b
    (export cb callback (result 1) (body return exit))
    (export s sync (result 2) (body))
    (export wait callback (result 3) (body wait-cancel))
    (export y callback (result 4) (body yield return exit)))
  (actor a
    (export asynccalls stackful (result 5)
      (body (call b.cb async) (call b.cb async) (call b.cb async) (call b.cb async)
            (call b.cb async) (call b.cb async) (call b.cb async) (call b.cb async)
            (call b.cb async) (call b.cb async) return))
    (export synccalls sync (result 6)
      (body (call b.s sync) (call b.s sync) (call b.s sync) (call b.s sync)
            (call b.s sync) (call b.s sync) (call b.s sync) (call b.s sync)
            (call b.s sync) (call b.s sync)))))
"#;

/// Guest calls made by one call to `a.asynccalls` or `a.synccalls`.
const INNER_CALLS: u64 = 10;

/// The cases, with what one "operation" is.
pub const CASES: &[(&str, &str)] = &[
    (
        "host-callback",
        "host call of a callback export that returns at once",
    ),
    ("host-sync", "host call of a sync export"),
    (
        "guest-async",
        "async-lowered guest call into a callback export",
    ),
    (
        "guest-sync",
        "sync-to-sync guest call through the fused adapter",
    ),
    ("live-1", "task started and finished, 1 alive at once"),
    ("live-100", "task started and finished, 100 alive at once"),
    (
        "live-10000",
        "task started and finished, 10 000 alive at once",
    ),
    ("poll-0", "poll_no_interesting_tasks with 0 live tasks"),
    ("poll-1", "poll_no_interesting_tasks with 1 live task"),
    (
        "poll-10000",
        "poll_no_interesting_tasks with 10 000 live tasks",
    ),
];

/// The benchmark component, compiled once per process.
pub struct Bench {
    engine: Engine,
    component: Component,
    linker: Linker<()>,
}

impl Bench {
    pub fn new() -> Result<Bench> {
        let spec = Spec::parse_str(COMPONENT)?;
        let bytes = compose(&spec)?;
        let mut config = Config::new();
        config
            .wasm_component_model_async(true)
            .wasm_component_model_async_builtins(true)
            .wasm_component_model_async_stackful(true)
            .wasm_component_model_threading(true)
            .concurrency_support(true);
        let engine = Engine::new(&config)?;
        let component = Component::new(&engine, &bytes)?;
        let mut linker = Linker::<()>::new(&engine);
        // The composed component imports these; no case calls them.
        linker
            .root()
            .func_wrap_concurrent("block", |_, (_,): (u32,)| {
                Box::pin(std::future::pending::<wasmtime::Result<()>>())
            })?;
        linker.root().func_wrap("note", |_, (_,): (u32,)| Ok(()))?;
        Ok(Bench {
            engine,
            component,
            linker,
        })
    }

    /// A fresh store with the component instantiated in it.
    pub fn env(&self) -> Result<Env> {
        let mut store = Store::new(&self.engine, ());
        let instance = futures::executor::block_on(
            self.linker.instantiate_async(&mut store, &self.component),
        )?;
        Ok(Env { store, instance })
    }
}

/// A store with the benchmark component instantiated in it.
pub struct Env {
    pub store: Store<()>,
    instance: Instance,
}

impl Env {
    pub fn new() -> Result<Env> {
        Bench::new()?.env()
    }

    pub fn func(&mut self, name: &str) -> Result<TypedFunc<(), (u32,)>> {
        Ok(self.instance.get_typed_func(&mut self.store, name)?)
    }
}

/// Runs `fut`, the timed part of a case, to completion on this thread.
///
/// Never inlined: the callgrind counts of `bench compare` select what runs
/// inside it (`--toggle-collect=bench::event_loop*`), which leaves out
/// compilation, instantiation and the store's teardown.
#[inline(never)]
pub fn event_loop<F: Future>(fut: F) -> F::Output {
    futures::executor::block_on(fut)
}

/// Run `case` for `iters` operations in a fresh store of `bench`;
/// nanoseconds per operation.
///
/// A fresh store each time keeps repeated runs alike: the benchmark guests
/// leave a waitable set per call in their store (see the notes on method in
/// [`compare`]), so one store would grow from run to run.
pub fn run(bench: &Bench, case: &str, iters: u64) -> Result<f64> {
    let mut env = bench.env()?;
    let ns = match case {
        "host-callback" | "host-sync" | "guest-async" | "guest-sync" => {
            let (name, per_call) = match case {
                "host-callback" => ("b-cb", 1),
                "host-sync" => ("b-s", 1),
                "guest-async" => ("a-asynccalls", INNER_CALLS),
                _ => ("a-synccalls", INNER_CALLS),
            };
            let func = env.func(name)?;
            let elapsed = event_loop(env.store.run_concurrent(async |acc| {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(func.call_concurrent(acc, ()).await?);
                }
                wasmtime::Result::<_>::Ok(start.elapsed())
            }))??;
            elapsed.as_nanos() as f64 / (iters * per_call) as f64
        }
        _ if case.starts_with("live-") => {
            let live: u64 = case["live-".len()..].parse()?;
            let func = env.func("b-y")?;
            let rounds = iters.div_ceil(live).max(1);
            let elapsed = event_loop(env.store.run_concurrent(async |acc| {
                let start = Instant::now();
                for _ in 0..rounds {
                    let mut calls: FuturesUnordered<_> =
                        (0..live).map(|_| func.call_concurrent(acc, ())).collect();
                    while let Some(r) = calls.next().await {
                        black_box(r?);
                    }
                }
                wasmtime::Result::<_>::Ok(start.elapsed())
            }))??;
            elapsed.as_nanos() as f64 / (rounds * live) as f64
        }
        _ if case.starts_with("poll-") => bail!("`{case}` runs in the bench-poll binary"),
        _ => bail!("unknown case `{case}`"),
    };
    Ok(ns)
}

/// Start `n` tasks that wait until cancelled, and keep them alive.
pub async fn start_waiting(
    acc: &wasmtime::component::Accessor<()>,
    func: TypedFunc<(), (u32,)>,
    n: u64,
) -> FuturesUnordered<impl Future<Output = wasmtime::Result<(u32,)>> + '_> {
    let mut calls: FuturesUnordered<_> = (0..n).map(|_| func.call_concurrent(acc, ())).collect();
    // Poll them once (queueing the calls), then let the event loop start
    // them all.
    std::future::poll_fn(|cx| {
        let _ = calls.poll_next_unpin(cx);
        std::task::Poll::Ready(())
    })
    .await;
    for _ in 0..4 {
        yield_once().await;
    }
    calls
}

/// Return `Pending` once, waking at once: a turn of the event loop.
async fn yield_once() {
    let mut done = false;
    std::future::poll_fn(|cx| {
        if done {
            std::task::Poll::Ready(())
        } else {
            done = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

/// Peak RSS in KiB after starting `live` waiting tasks.
pub fn rss(live: u64) -> Result<u64> {
    let mut env = Env::new()?;
    let func = env.func("b-wait")?;
    futures::executor::block_on(env.store.run_concurrent(async |acc| {
        let _calls = start_waiting(acc, func, live).await;
        black_box(&_calls);
    }))?;
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("no VmHWM in /proc/self/status")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("VmHWM value")?
        .parse()?)
}

/// The batch protocol of `bench batches` and `bench-poll batches`: for
/// every line read from standard input, run `batch` once and print its
/// result on a line of its own; return at the end of the input.
///
/// The process keeps its compiled component, code and allocator warm
/// between batches, so `bench compare` can alternate short batches of two
/// such processes (patched and pristine) and pair batches run a few
/// milliseconds apart.
pub fn serve_batches(mut batch: impl FnMut() -> Result<f64>) -> Result<()> {
    use std::io::{BufRead as _, Write as _};
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        line?;
        writeln!(out, "{:.3}", batch()?)?;
        out.flush()?;
    }
    Ok(())
}

/// The binary that runs `case`: `bench-poll` next to `bin` for `poll-*`.
pub fn bin_for(bin: &std::path::Path, case: &str) -> std::path::PathBuf {
    if case.starts_with("poll-") {
        bin.with_file_name("bench-poll")
    } else {
        bin.to_path_buf()
    }
}

/// The arguments of `bench run|batches` and `bench-poll run|batches`.
#[derive(clap::Args)]
pub struct Case {
    /// The case (`bench --help` lists them).
    #[arg(long)]
    pub case: String,
    /// Operations per run.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub iters: u64,
}
