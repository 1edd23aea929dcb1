//! `bench-poll run --case poll-N --iters I`: nanoseconds per call of
//! `Accessor::poll_no_interesting_tasks` with N tasks alive; `bench-poll
//! batches` takes the same arguments and speaks the batch protocol of
//! `bench batches` (see `bench::serve_batches`).
//!
//! Only the patched build has this API, so this workload is a binary of its
//! own: the `bench` binary is then the same source in both builds.

use anyhow::{Context as _, Result};
use bench::Case;
use clap::Parser;
use std::hint::black_box;
use std::time::Instant;
use wasmtime::AsContextMut;

fn poll(bench: &bench::Bench, live: u64, iters: u64) -> Result<f64> {
    let mut env = bench.env()?;
    let func = env.func("b-wait")?;
    bench::event_loop(env.store.run_concurrent(async |acc| {
        let _calls = bench::start_waiting(acc, func, live).await;
        let count = acc.with(|mut a| a.as_context_mut().interesting_task_count());
        anyhow::ensure!(count as u64 == live, "{count} live tasks, expected {live}");
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let start = Instant::now();
        for _ in 0..iters {
            let _ = black_box(acc.poll_no_interesting_tasks(&mut cx));
        }
        Ok(start.elapsed().as_nanos() as f64 / iters as f64)
    }))?
}

/// Nanoseconds per call of `Accessor::poll_no_interesting_tasks` (cases
/// `poll-N`: the poll with N live tasks).
#[derive(Parser)]
#[command(name = "bench-poll")]
enum Cli {
    /// Run the case once and print nanoseconds per call.
    Run(Case),
    /// Run the case once for every line on standard input (the protocol of
    /// `bench batches`).
    Batches(Case),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let (Cli::Run(Case { case, iters }) | Cli::Batches(Case { case, iters })) = &cli;
    let live = case
        .strip_prefix("poll-")
        .with_context(|| format!("unknown case `{case}`"))?
        .parse()?;
    let bench = bench::Bench::new()?;
    match cli {
        Cli::Run(_) => println!("{:.3}", poll(&bench, live, *iters)?),
        Cli::Batches(_) => bench::serve_batches(|| poll(&bench, live, *iters))?,
    }
    Ok(())
}
