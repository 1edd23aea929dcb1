//! The command-line runners every backend crate builds: `conformance` (the
//! scenarios and a range of generated seeds, one verdict each, and a
//! summary) and `fuzz` (generated seeds until a deadline, stopping at the
//! first failure). Like `run.rs`, this file is compiled once per backend.

use crate::backend;
use crate::generate::{Plan, shrink};
use crate::run::{Report, check, run_file};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Reads `--flag VALUE` pairs; every flag takes a value.
struct Args(std::iter::Skip<std::env::Args>);

impl Args {
    fn new() -> Args {
        Args(std::env::args().skip(1))
    }

    fn value(&mut self, flag: &str) -> Result<String> {
        self.0
            .next()
            .with_context(|| format!("{flag} needs a value"))
    }

    fn number(&mut self, flag: &str) -> Result<u64> {
        let v = self.value(flag)?;
        v.parse()
            .with_context(|| format!("{flag} takes a whole number, not `{v}`"))
    }
}

/// Shrinks a failing seed's plan and writes it to `dir/seed-N.wast`.
pub fn write_shrunk(dir: &Path, seed: u64, plan: Plan) -> Result<PathBuf> {
    let small = shrink(plan, |p| check(p).is_err());
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

/// `conformance [--seeds N] [--start S] [--out DIR] [PATH...]`: runs every
/// scenario file under the paths, then seeds `S..S+N`, printing one line
/// per scenario (`NAME: SCENARIO: VERDICT`), one per failing seed (shrunk
/// into `--out`), and `NAME: summary: P passed, F failed`. Fails if
/// anything failed. `conformance --list-backends` prints the backends
/// ([`crate::backends::Backend::list`]).
pub fn conformance() -> Result<()> {
    let _ = env_logger::try_init();
    let mut seeds = 0;
    let mut start = 0;
    let mut out = None;
    let mut paths = Vec::new();
    let mut args = Args::new();
    while let Some(arg) = args.0.next() {
        match arg.as_str() {
            "--seeds" => seeds = args.number(&arg)?,
            "--start" => start = args.number(&arg)?,
            "--out" => out = Some(PathBuf::from(args.value(&arg)?)),
            "--list-backends" => {
                print!("{}", crate::backends::Backend::list());
                return Ok(());
            }
            "-h" | "--help" => {
                println!(
                    "usage: conformance [--seeds N] [--start S] [--out DIR] [PATH...]\n       \
                     conformance --list-backends"
                );
                return Ok(());
            }
            flag if flag.starts_with('-') => bail!("unknown argument `{flag}`"),
            path => paths.push(PathBuf::from(path)),
        }
    }
    // A panic is reported as the failure of its scenario or seed.
    std::panic::set_hook(Box::new(|_| {}));
    let name = backend::BACKEND.name();
    let (mut passed, mut failed) = (0, 0);
    for file in scenario_files(&paths)? {
        let stem = file.file_stem().unwrap_or_default().to_string_lossy();
        match run_file(&file) {
            Ok(report) => {
                passed += 1;
                println!("{name}: {stem}: {report}");
            }
            Err(e) => {
                failed += 1;
                let e = format!("{e:#}").replace('\n', "\n    ");
                println!("{name}: {stem}: FAIL\n    {e}");
            }
        }
    }
    let began = Instant::now();
    let mut total = Report::default();
    let mut known = std::collections::BTreeMap::<String, u64>::new();
    for seed in start..start + seeds {
        let plan = Plan::generate(seed);
        match check(&plan) {
            Ok(report) => {
                passed += 1;
                total.checks += report.checks;
                total.derived += report.derived;
                if let Some(why) = report.failed_as_expected {
                    *known.entry(why).or_default() += 1;
                }
            }
            Err(e) => {
                failed += 1;
                println!(
                    "{name}: seed {seed}: FAIL\n    {}",
                    e.replace('\n', "\n    ")
                );
                if let Some(dir) = &out {
                    let path = write_shrunk(dir, seed, plan)?;
                    println!("    shrunk: {}", path.display());
                }
            }
        }
    }
    if seeds > 0 {
        println!(
            "{name}: seeds {start}..{}: {} checks, {} counts derived from the poll, in {:.1?}",
            start + seeds,
            total.checks,
            total.derived,
            began.elapsed()
        );
        for (why, n) in &known {
            println!("{name}: seeds failed as expected: {n}: {why}");
        }
    }
    println!("{name}: summary: {passed} passed, {failed} failed");
    if failed > 0 {
        bail!("{failed} unexpected result(s) on {name}");
    }
    Ok(())
}

/// `fuzz [--seconds N] [--seeds N] [--start S] [--out DIR]`: runs seeds
/// from `S` (default: taken from the clock, printed) until `--seconds` have
/// passed or `--seeds` have run. A failing seed is shrunk and written to
/// `--out` (default `target/fuzz-failures`) as an ordinary scenario file;
/// the run then stops with an error.
pub fn fuzz() -> Result<()> {
    let _ = env_logger::try_init();
    let mut seconds = 60;
    let mut seeds = u64::MAX;
    let mut start = None;
    let mut out = PathBuf::from("target/fuzz-failures");
    let mut args = Args::new();
    while let Some(arg) = args.0.next() {
        match arg.as_str() {
            "--seconds" => seconds = args.number(&arg)?,
            "--seeds" => seeds = args.number(&arg)?,
            "--start" => start = Some(args.number(&arg)?),
            "--out" => out = args.value(&arg)?.into(),
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
    let name = backend::BACKEND.name();
    println!("fuzz: {name}: seeds from {start}, for up to {seconds}s");
    let began = Instant::now();
    let deadline = began + Duration::from_secs(seconds);
    let mut ran = 0u64;
    let mut seed = start;
    let mut known = std::collections::BTreeMap::<String, u64>::new();
    while Instant::now() < deadline && ran < seeds {
        let plan = Plan::generate(seed);
        let result = check(&plan);
        if let Ok(Report {
            failed_as_expected: Some(why),
            ..
        }) = &result
        {
            *known.entry(why.clone()).or_default() += 1;
        }
        if let Err(e) = result {
            println!("fuzz: {name}: seed {seed} fails: {e}\nshrinking...");
            let path = write_shrunk(&out.join(name), seed, plan)?;
            bail!(
                "seed {seed} fails on {name}; shrunk scenario in {} (after {ran} passing seeds)",
                path.display()
            );
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
