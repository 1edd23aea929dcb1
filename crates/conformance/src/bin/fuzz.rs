//! Long runs of the generated scenarios: `scripts/fuzz.sh --seconds N`.
//!
//! Runs seeds from `--start` (default: a seed taken from the clock, printed)
//! until `--seconds` have passed or `--seeds` have run. A failing seed is
//! shrunk and written to `--out` (default `target/fuzz-failures`) as an
//! ordinary scenario file; the run then stops with a non-zero exit.

use anyhow::{Context, Result, bail};
use conformance::generate::{Plan, shrink};
use std::time::{Duration, Instant};

/// Run a plan; `Err` with what went wrong, a panic inside Wasmtime included.
fn check(plan: &Plan) -> std::result::Result<(), String> {
    let text = plan.scenario();
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| conformance::run_str(&text))) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("{e:?}")),
        Err(_) => Err("panicked (see the message above)".into()),
    }
}

fn main() -> Result<()> {
    let _ = env_logger::try_init();
    let mut seconds = 60u64;
    let mut seeds = u64::MAX;
    let mut start = None;
    let mut out = std::path::PathBuf::from("target/fuzz-failures");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--seconds" => seconds = value()?.parse()?,
            "--seeds" => seeds = value()?.parse()?,
            "--start" => start = Some(value()?.parse()?),
            "--out" => out = value()?.into(),
            "-h" | "--help" => {
                println!("usage: fuzz [--seconds N] [--seeds N] [--start SEED] [--out DIR]");
                return Ok(());
            }
            _ => bail!("unknown argument `{arg}`"),
        }
    }
    let start = start.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            << 20
    });
    println!("fuzz: seeds from {start}, for up to {seconds}s");
    let began = Instant::now();
    let deadline = began + Duration::from_secs(seconds);
    let mut ran = 0u64;
    let mut seed = start;
    while Instant::now() < deadline && ran < seeds {
        let plan = Plan::generate(seed);
        if let Err(e) = check(&plan) {
            println!("fuzz: seed {seed} fails: {e}\nshrinking...");
            let small = shrink(plan, |p| check(p).is_err());
            std::fs::create_dir_all(&out)?;
            let path = out.join(format!("seed-{seed}.wast"));
            std::fs::write(&path, small.scenario())?;
            bail!(
                "seed {seed} fails; shrunk scenario in {} (after {ran} passing seeds)",
                path.display()
            );
        }
        ran += 1;
        seed += 1;
    }
    println!(
        "fuzz: {ran} seeds ({start}..{seed}) matched the model in {:.0?}",
        began.elapsed()
    );
    Ok(())
}
