//! `bench-poll run --case poll-N --iters I`: nanoseconds per call of
//! `Accessor::poll_no_interesting_tasks` with N tasks alive; `bench-poll
//! batches` takes the same arguments and speaks the batch protocol of
//! `bench batches` (see `bench::serve_batches`).
//!
//! Only the patched build has this API, so this workload is a binary of its
//! own: the `bench` binary is then the same source in both builds.

use anyhow::{Context as _, Result, bail};
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

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| bench::flag(&args, name);
    let usage = "usage: bench-poll run|batches --case poll-N [--iters N]";
    let case = arg("--case").context(usage)?;
    let live = case
        .strip_prefix("poll-")
        .with_context(|| format!("unknown case `{case}`"))?
        .parse()?;
    let iters = arg("--iters").unwrap_or("1000").parse()?;
    let bench = bench::Bench::new()?;
    match args.first().map(String::as_str) {
        Some("run") => println!("{:.3}", poll(&bench, live, iters)?),
        Some("batches") => bench::serve_batches(|| poll(&bench, live, iters))?,
        _ => bail!("{usage}"),
    }
    Ok(())
}
