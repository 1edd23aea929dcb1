//! The test harness of a runner crate (`harness = false` in its
//! `Cargo.toml`): [`scenarios`] makes one test of each scenario file in the
//! workspace's `tests/scenarios/`, found when the tests run, so that a new
//! file needs no rebuild; [`generated`] is the test of the generated seeds.
//! Both take `cargo test`'s usual arguments (a filter, `--exact`,
//! `--nocapture`, ...). Like `run.rs`, this file is compiled once per
//! backend.
//!
//! The scenarios and seeds run in worker processes (`crate::supervise`),
//! one per test thread: a scenario or seed that aborts the process fails
//! with a message that says so and names it, and the other tests still run
//! (in a new worker).

use crate::generate::Plan;
use crate::supervise::{self, test_name};
use crate::worker::{self, Checker, Failure};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

/// The workspace's `tests/scenarios/`.
fn scenario_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios");
    dir.canonicalize().unwrap_or(dir)
}

/// Logging as `RUST_LOG` asks, and no panic messages from the default hook:
/// a panic inside Wasmtime is reported as the failure of its scenario or
/// seed, with its message, and a panic of the harness as the failure of
/// its test.
fn setup() {
    let _ = env_logger::builder().is_test(true).try_init();
    std::panic::set_hook(Box::new(|_| {}));
}

/// The idle workers of the test threads: a test takes one (or makes one)
/// and puts it back. Dropping the last of them ends their processes.
#[derive(Default)]
struct Workers(Mutex<Vec<Checker>>);

impl Workers {
    fn with<R>(&self, f: impl FnOnce(&mut Checker) -> R) -> R {
        let idle = self.0.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut checker = idle.unwrap_or_default();
        let result = f(&mut checker);
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(checker);
        result
    }
}

/// One test per scenario file, on this crate's backend.
pub fn scenarios() -> ExitCode {
    setup();
    if supervise::is_worker() {
        return worker::serve();
    }
    let args = Arguments::from_args();
    let dir = scenario_dir();
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            eprintln!("reading {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    files.retain(|p| p.extension().is_some_and(|e| e == "wast"));
    files.sort();
    let workers = Arc::new(Workers::default());
    let trials = files
        .into_iter()
        .map(|path| {
            let name = test_name(&path);
            let workers = Arc::clone(&workers);
            Trial::test(name.clone(), move || {
                let checked = workers.with(|checker| checker.run_file(&path));
                Failure::of(checked, &name)
                    .map(drop)
                    .map_err(|e| Failed::from(e.to_string()))
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    // The trials are gone: this ends the workers.
    drop(workers);
    conclusion.exit_code()
}

/// `CONFORMANCE_SEEDS` seeds (default 200) from `CONFORMANCE_SEED_START`
/// (default 0).
fn seeds() -> Result<std::ops::Range<u64>, String> {
    let var = |name: &str, default: u64| match std::env::var(name) {
        Ok(v) => v
            .parse()
            .map_err(|_| format!("{name} is `{v}`, not a number")),
        Err(_) => Ok(default),
    };
    let start = var("CONFORMANCE_SEED_START", 0)?;
    Ok(start..start + var("CONFORMANCE_SEEDS", 200)?)
}

/// Generated plans checked against the model, on this crate's backend. A
/// failing seed is shrunk and written out as a scenario file under `tmp`,
/// unless `CONFORMANCE_NO_SHRINK` is set.
fn generated_plans_match_the_model(tmp: &Path) -> Result<(), Failed> {
    let mut checker = Checker::new();
    for seed in seeds()? {
        let Err(failure) = Failure::of(checker.check_seed(seed), &format!("seed {seed}")) else {
            continue;
        };
        let plan = Plan::generate(seed);
        eprintln!("{}", plan.scenario());
        if std::env::var_os("CONFORMANCE_NO_SHRINK").is_some() {
            return Err(format!(
                "seed {seed} fails (not shrunk: CONFORMANCE_NO_SHRINK is set): {failure}"
            )
            .into());
        }
        let dir = tmp.join("generated-failures");
        let path = crate::cli::write_shrunk(&dir, seed, plan, &failure, &mut checker)
            .map_err(|e| format!("seed {seed} fails: {failure}\nshrinking it failed: {e:#}"))?;
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        return Err(format!(
            "seed {seed} fails: {failure}\nshrunk to {} (copy it to tests/scenarios/ as a regression scenario):\n{text}",
            path.display()
        )
        .into());
    }
    Ok(())
}

/// The test of the generated seeds; a failing seed is written under `tmp`
/// (the test's `CARGO_TARGET_TMPDIR`).
pub fn generated(tmp: &Path) -> ExitCode {
    setup();
    if supervise::is_worker() {
        return worker::serve();
    }
    let args = Arguments::from_args();
    let tmp = tmp.to_path_buf();
    let trial = Trial::test("generated_plans_match_the_model", move || {
        generated_plans_match_the_model(&tmp)
    });
    libtest_mimic::run(&args, vec![trial]).exit_code()
}
