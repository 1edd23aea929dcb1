//! The test harness of a runner crate (`harness = false` in its
//! `Cargo.toml`): [`scenarios`] makes one test of each scenario file in the
//! workspace's `tests/scenarios/`, found when the tests run, so that a new
//! file needs no rebuild; [`generated`] is the test of the generated seeds.
//! Both take `cargo test`'s usual arguments (a filter, `--exact`,
//! `--nocapture`, ...). Like `run.rs`, this file is compiled once per
//! backend.

use crate::generate::Plan;
use crate::run::{check, run_file};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The workspace's `tests/scenarios/`.
fn scenario_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios");
    dir.canonicalize().unwrap_or(dir)
}

/// A test's name for the scenario file `path`: its stem, `-` written `_`,
/// as `cargo test exit_path_4` expects.
fn test_name(path: &Path) -> String {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    stem.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Logging as `RUST_LOG` asks, and no panic messages from the default hook:
/// a panic inside Wasmtime is reported as the failure of its scenario or
/// seed, with its message, and a panic of the harness as the failure of
/// its test.
fn setup() {
    let _ = env_logger::builder().is_test(true).try_init();
    std::panic::set_hook(Box::new(|_| {}));
}

/// One test per scenario file, on this crate's backend.
pub fn scenarios() -> ExitCode {
    let args = Arguments::from_args();
    setup();
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
    let trials = files
        .into_iter()
        .map(|path| {
            Trial::test(test_name(&path), move || {
                run_file(&path)
                    .map(drop)
                    .map_err(|e| Failed::from(format!("{e:#}")))
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
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
    for seed in seeds()? {
        let plan = Plan::generate(seed);
        let Err(e) = check(&plan) else { continue };
        eprintln!("{}", plan.scenario());
        if std::env::var_os("CONFORMANCE_NO_SHRINK").is_some() {
            return Err(format!(
                "seed {seed} fails (not shrunk: CONFORMANCE_NO_SHRINK is set): {e}"
            )
            .into());
        }
        let dir = tmp.join("generated-failures");
        let path = crate::cli::write_shrunk(&dir, seed, plan).map_err(|e| format!("{e:#}"))?;
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        return Err(format!(
            "seed {seed} fails: {e}\nshrunk to {} (copy it to tests/scenarios/ as a regression scenario):\n{text}",
            path.display()
        )
        .into());
    }
    Ok(())
}

/// The test of the generated seeds; a failing seed is written under `tmp`
/// (the test's `CARGO_TARGET_TMPDIR`).
pub fn generated(tmp: &Path) -> ExitCode {
    let args = Arguments::from_args();
    setup();
    let tmp = tmp.to_path_buf();
    let trial = Trial::test("generated_plans_match_the_model", move || {
        generated_plans_match_the_model(&tmp)
    });
    libtest_mimic::run(&args, vec![trial]).exit_code()
}
