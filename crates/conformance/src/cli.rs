//! The command-line runners every backend crate builds: `conformance` (the
//! scenarios and a range of generated seeds, one verdict each, and a
//! summary) and `fuzz` (generated seeds until a deadline, stopping at the
//! first failure). Like `run.rs`, this file is compiled once per backend.
//!
//! Both run the scenarios and seeds in a worker process
//! (`crate::supervise`): one that aborts the process is reported as a
//! failure of its own, and a new worker goes on with the rest.

use crate::backend;
use crate::backends::Backend;
use crate::generate::{Plan, shrink};
use crate::run::Report;
use crate::supervise;
use crate::worker::{self, Checker, Failure};
use anyhow::{Context, Result, bail};
use clap::Parser;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Shrinks a failing seed's plan and writes it to `dir/seed-N.wast`: to
/// the smallest plan found that still fails as `failure` does (with an
/// error, or by aborting the process), each candidate checked by `checker`.
pub fn write_shrunk(
    dir: &Path,
    seed: u64,
    plan: Plan,
    failure: &Failure,
    checker: &mut Checker,
) -> Result<PathBuf> {
    let small = shrink(plan, |p| failure.same_kind(&checker.check_plan(seed, p)));
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("seed-{seed}.wast"));
    std::fs::write(&path, small.scenario())?;
    Ok(path)
}

/// The scenario files among `paths`, directories read for their `.wast`
/// files, in order.
fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("reading {}", path.display()))?
                .map(|e| e.map(|e| e.path()))
                .collect::<std::io::Result<_>>()?;
            found.retain(|p| p.extension().is_some_and(|e| e == "wast"));
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            bail!("no scenario file or directory at {}", path.display());
        }
    }
    Ok(files)
}

/// Runs every scenario file under the paths, then the generated seeds
/// START..START+SEEDS, on this backend. Prints one line per scenario
/// (`BACKEND: SCENARIO: VERDICT`), one per failing seed (shrunk into
/// `--out`), and `BACKEND: summary: P passed, F failed`; fails if anything
/// failed.
#[derive(Parser)]
struct ConformanceArgs {
    /// How many generated seeds to run.
    #[arg(long, value_name = "N", default_value_t = 0)]
    seeds: u64,
    /// The first seed.
    #[arg(long, value_name = "S", default_value_t = 0)]
    start: u64,
    /// Where to write the shrunk scenario of each failing seed.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the backends (name, package, runner, fuzzer), one a line, and
    /// exit.
    #[arg(long)]
    list_backends: bool,
    /// Scenario files, or directories of them.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

/// Scenarios and seeds that passed and failed.
#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
}

/// `conformance` (see [`ConformanceArgs`]).
pub fn conformance() -> Result<()> {
    if supervise::is_worker() {
        return serve();
    }
    let args = ConformanceArgs::parse();
    if args.list_backends {
        print!("{}", Backend::list());
        return Ok(());
    }
    let _ = env_logger::try_init();
    // A panic is reported as the failure of its scenario or seed.
    std::panic::set_hook(Box::new(|_| {}));
    let name = backend::BACKEND.name();
    let mut tally = Tally::default();
    let mut checker = Checker::new();
    run_scenarios(&args.paths, &mut checker, &mut tally)?;
    if args.seeds > 0 {
        run_seeds(&args, &mut checker, &mut tally)?;
    }
    let Tally { passed, failed } = tally;
    println!("{name}: summary: {passed} passed, {failed} failed");
    if failed > 0 {
        bail!("{failed} unexpected result(s) on {name}");
    }
    Ok(())
}

/// The worker side of `conformance` and `fuzz`.
fn serve() -> Result<()> {
    let _ = env_logger::try_init();
    if worker::serve() != std::process::ExitCode::SUCCESS {
        bail!("the worker process failed");
    }
    Ok(())
}

fn run_scenarios(paths: &[PathBuf], checker: &mut Checker, tally: &mut Tally) -> Result<()> {
    let name = backend::BACKEND.name();
    for file in scenario_files(paths)? {
        let stem = file.file_stem().unwrap_or_default().to_string_lossy();
        match Failure::of(checker.run_file(&file), &stem) {
            Ok(report) => {
                tally.passed += 1;
                println!("{name}: {stem}: {report}");
            }
            Err(e) => {
                tally.failed += 1;
                let e = format!("{e:#}").replace('\n', "\n    ");
                println!("{name}: {stem}: FAIL\n    {e}");
            }
        }
    }
    Ok(())
}

fn run_seeds(args: &ConformanceArgs, checker: &mut Checker, tally: &mut Tally) -> Result<()> {
    let name = backend::BACKEND.name();
    let (start, end) = (args.start, args.start + args.seeds);
    let began = Instant::now();
    let mut total = Report::default();
    let mut known = BTreeMap::<String, u64>::new();
    for seed in start..end {
        match Failure::of(checker.check_seed(seed), &format!("seed {seed}")) {
            Ok(report) => {
                tally.passed += 1;
                total.checks += report.checks;
                total.derived += report.derived;
                if let Some(why) = report.failed_as_expected {
                    *known.entry(why).or_default() += 1;
                }
            }
            Err(failure) => {
                tally.failed += 1;
                let e = failure.to_string().replace('\n', "\n    ");
                println!("{name}: seed {seed}: FAIL\n    {e}");
                if let Some(dir) = &args.out {
                    let path = write_shrunk(dir, seed, Plan::generate(seed), &failure, checker)?;
                    println!("    shrunk: {}", path.display());
                }
            }
        }
    }
    println!(
        "{name}: seeds {start}..{end}: {} checks, {} counts derived from the poll, in {:.1?}",
        total.checks,
        total.derived,
        began.elapsed()
    );
    for (why, n) in &known {
        println!("{name}: seeds failed as expected: {n}: {why}");
    }
    Ok(())
}

/// Runs generated seeds from START (default: taken from the clock, printed)
/// until SECONDS have passed or SEEDS have run, on this backend. A failing
/// seed is shrunk and written to `--out` as an ordinary scenario file; the
/// run then stops with an error.
#[derive(Parser)]
struct FuzzArgs {
    /// Stop after this many seconds.
    #[arg(long, value_name = "N", default_value_t = 60)]
    seconds: u64,
    /// Stop after this many seeds.
    #[arg(long, value_name = "N")]
    seeds: Option<u64>,
    /// The first seed.
    #[arg(long, value_name = "SEED")]
    start: Option<u64>,
    /// Where to write the shrunk scenario of a failing seed (under the
    /// backend's name).
    #[arg(long, value_name = "DIR", default_value = "target/fuzz-failures")]
    out: PathBuf,
}

/// `fuzz` (see [`FuzzArgs`]).
pub fn fuzz() -> Result<()> {
    if supervise::is_worker() {
        return serve();
    }
    let args = FuzzArgs::parse();
    let _ = env_logger::try_init();
    let start = args.start.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            << 20
    });
    let name = backend::BACKEND.name();
    println!(
        "fuzz: {name}: seeds from {start}, for up to {}s",
        args.seconds
    );
    let began = Instant::now();
    let deadline = began + Duration::from_secs(args.seconds);
    let (mut ran, mut seed) = (0u64, start);
    let mut known = BTreeMap::<String, u64>::new();
    let mut checker = Checker::new();
    while Instant::now() < deadline && ran < args.seeds.unwrap_or(u64::MAX) {
        match Failure::of(checker.check_seed(seed), &format!("seed {seed}")) {
            Ok(report) => {
                if let Some(why) = report.failed_as_expected {
                    *known.entry(why).or_default() += 1;
                }
            }
            Err(failure) => {
                println!("fuzz: {name}: seed {seed} fails: {failure}\nshrinking...");
                let plan = Plan::generate(seed);
                let path = write_shrunk(&args.out.join(name), seed, plan, &failure, &mut checker)?;
                bail!(
                    "seed {seed} fails on {name}; shrunk scenario in {} (after {ran} passing seeds)",
                    path.display()
                );
            }
        }
        ran += 1;
        seed += 1;
    }
    println!(
        "fuzz: {name}: {ran} seeds ({start}..{seed}) matched the model in {:.0?}",
        began.elapsed()
    );
    for (why, n) in &known {
        println!("fuzz: {name}: of which failed as expected: {n}: {why}");
    }
    Ok(())
}
