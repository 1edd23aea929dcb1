//! A scenario or a seed that aborts the process fails on its own, by name,
//! and everything else still runs: in the scenarios harness, the generated
//! seeds' harness, and the `conformance` and `fuzz` binaries.
//!
//! The test hook `CONFORMANCE_TEST_ABORT` (see `conformance::supervise`)
//! makes the named scenarios and seeds call `std::process::abort()`. To run
//! the real harnesses with it, this binary is also each of them: with
//! `CONFORMANCE_ABORTS_AS=scenarios` its `main` is
//! `conformance::harness::scenarios()`, with `generated` it is
//! `conformance::harness::generated()`; the tests run it that way.

use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a harness or binary run by a test may take (a few seconds
/// normally).
const RUN_BOUND: Duration = Duration::from_secs(300);

/// Which harness this binary is, when a test runs it as one.
const AS: &str = "CONFORMANCE_ABORTS_AS";

/// The three scenarios `exit_path_3` selects, in the order they run on one
/// test thread.
const EXIT_PATH_3: [&str; 3] = [
    "exit_path_3_starting_cancel_guest",
    "exit_path_3_starting_cancel_requeued",
    "exit_path_3_starting_drop_host",
];

/// A test: `Err` with what went wrong.
type Test = fn() -> Result<(), String>;

fn main() -> ExitCode {
    match std::env::var(AS).as_deref() {
        Ok("scenarios") => return conformance::harness::scenarios(),
        Ok("generated") => return conformance::harness::generated(&tmp("generated")),
        _ => {}
    }
    let args = Arguments::from_args();
    let tests: [(&str, Test); 6] = [
        (
            "an_aborting_scenario_fails_by_name_and_the_rest_still_run",
            an_aborting_scenario_fails_by_name_and_the_rest_still_run,
        ),
        (
            "aborting_scenarios_on_every_test_thread_each_fail_by_name",
            aborting_scenarios_on_every_test_thread_each_fail_by_name,
        ),
        ("list_runs_nothing", list_runs_nothing),
        (
            "an_aborting_seed_fails_by_number_and_is_shrunk_in_workers",
            an_aborting_seed_fails_by_number_and_is_shrunk_in_workers,
        ),
        (
            "the_conformance_binary_counts_an_abort_as_one_failure",
            the_conformance_binary_counts_an_abort_as_one_failure,
        ),
        (
            "the_fuzz_binary_reports_an_aborting_seed_as_found",
            the_fuzz_binary_reports_an_aborting_seed_as_found,
        ),
    ];
    let trials = tests
        .into_iter()
        .map(|(name, test)| Trial::test(name, move || test().map_err(Failed::from)))
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
}

/// A directory of this test's own under the target's temporary directory,
/// emptied first (by the tests, not by the harnesses they run).
fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("aborts")
        .join(name);
    if std::env::var_os(AS).is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    dir
}

/// A command with none of the suite's variables from this process's
/// environment.
fn command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    for var in [
        AS,
        conformance::supervise::WORKER_ENV,
        conformance::supervise::TEST_ABORT_ENV,
        "CONFORMANCE_SEEDS",
        "CONFORMANCE_SEED_START",
        "CONFORMANCE_NO_SHRINK",
        "RUST_LOG",
    ] {
        command.env_remove(var);
    }
    command
}

/// This binary as the harness `which`, with `abort` as the test hook.
fn harness(which: &str, abort: &str) -> Command {
    let exe = std::env::current_exe().expect("the test's own executable");
    let mut command = command(exe);
    command
        .env(AS, which)
        .env(conformance::supervise::TEST_ABORT_ENV, abort);
    command
}

/// What a process printed, and how it ended.
struct Ran {
    output: Output,
}

impl Ran {
    /// Runs `command` to its end, or fails after [`RUN_BOUND`], killing it,
    /// so that a harness that hangs is this test's named failure.
    fn new(command: &mut Command) -> Result<Ran, String> {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("running {command:?}: {e}"))?;
        let pid = child.id();
        let (done, output) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(child.wait_with_output());
        });
        match output.recv_timeout(RUN_BOUND) {
            Ok(output) => Ok(Ran {
                output: output.map_err(|e| format!("waiting for {command:?}: {e}"))?,
            }),
            Err(_) => {
                // The waiting thread reaps it once it is killed.
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
                Err(format!(
                    "{command:?} did not finish within {RUN_BOUND:?}; killed it"
                ))
            }
        }
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Fails, with everything the process printed, unless `ok`.
    fn check(&self, ok: bool, what: &str) -> Result<(), String> {
        if ok {
            return Ok(());
        }
        Err(format!(
            "{what}\nexit status: {}\n--- stdout\n{}--- stderr\n{}",
            self.output.status,
            self.stdout(),
            self.stderr()
        ))
    }

    fn failed(&self) -> Result<(), String> {
        self.check(!self.output.status.success(), "expected to fail")
    }

    fn stdout_has(&self, text: &str) -> Result<(), String> {
        self.check(
            self.stdout().contains(text),
            &format!("expected on stdout: {text:?}"),
        )
    }

    fn stdout_lacks(&self, text: &str) -> Result<(), String> {
        self.check(
            !self.stdout().contains(text),
            &format!("not expected on stdout: {text:?}"),
        )
    }

    fn stderr_has(&self, text: &str) -> Result<(), String> {
        self.check(
            self.stderr().contains(text),
            &format!("expected on stderr: {text:?}"),
        )
    }

    /// The failure message the harness printed for the test `name`: the
    /// lines after `---- name ----`, up to the next blank line.
    fn failure_of(&self, name: &str) -> Result<String, String> {
        let stdout = self.stdout();
        let header = format!("---- {name} ----\n");
        let Some(at) = stdout.find(&header) else {
            self.check(false, &format!("no failure reported for {name}"))?;
            unreachable!();
        };
        let rest = &stdout[at + header.len()..];
        Ok(rest.split("\n\n").next().unwrap_or_default().to_string())
    }

    /// The harness's verdict on the test `name` is `verdict`: a line
    /// `test NAME ... VERDICT`, the name padded to the longest one's width.
    fn verdict(&self, name: &str, verdict: &str) -> Result<(), String> {
        let start = format!("test {name}");
        let end = format!(" ... {verdict}");
        self.check(
            self.stdout().lines().any(|line| {
                line.strip_prefix(&start)
                    .and_then(|rest| rest.strip_suffix(&end))
                    .is_some_and(|pad| pad.trim().is_empty())
            }),
            &format!("expected on stdout: `test {name} ... {verdict}`"),
        )
    }

    /// `name` failed because the process aborted while it ran.
    fn aborted(&self, name: &str) -> Result<(), String> {
        self.verdict(name, "FAILED")?;
        let message = self.failure_of(name)?;
        let want = format!("the process aborted (signal 6, SIGABRT) while running {name}");
        self.check(
            message.contains(&want),
            &format!("the failure of {name} is {message:?}, not {want:?}"),
        )
    }

    fn passed(&self, name: &str) -> Result<(), String> {
        self.verdict(name, "ok")
    }
}

/// On one test thread: the first of three scenarios aborts its worker, the
/// next two run in a new one.
fn an_aborting_scenario_fails_by_name_and_the_rest_still_run() -> Result<(), String> {
    let [aborts, second, third] = EXIT_PATH_3;
    let ran = Ran::new(harness("scenarios", aborts).args(["--test-threads=1", "exit_path_3"]))?;
    ran.failed()?;
    ran.aborted(aborts)?;
    ran.passed(second)?;
    ran.passed(third)?;
    ran.stdout_has("test result: FAILED. 2 passed; 1 failed;")
}

/// Two test threads, two scenarios that abort (the hook takes a list) and
/// one that passes.
fn aborting_scenarios_on_every_test_thread_each_fail_by_name() -> Result<(), String> {
    let [first, second, passes] = EXIT_PATH_3;
    let hook = format!("{first},{}", second.replace('_', "-"));
    let ran = Ran::new(harness("scenarios", &hook).args(["--test-threads=2", "exit_path_3"]))?;
    ran.failed()?;
    ran.aborted(first)?;
    ran.aborted(second)?;
    ran.passed(passes)?;
    ran.stdout_has("test result: FAILED. 1 passed; 2 failed;")
}

/// `--list` lists the tests, and runs none of them.
fn list_runs_nothing() -> Result<(), String> {
    let ran = Ran::new(harness("scenarios", EXIT_PATH_3[0]).args(["--list", "exit_path_3"]))?;
    ran.check(ran.output.status.success(), "expected to succeed")?;
    for name in EXIT_PATH_3 {
        ran.stdout_has(&format!("{name}: test\n"))?;
    }
    ran.stdout_lacks("FAILED")
}

/// Seeds 0 to 2, seed 1 aborting: the test fails with seed 1's number, and
/// seed 1 is shrunk (every plan shrunk from it aborts, by the hook) with
/// each candidate run in a worker of its own.
fn an_aborting_seed_fails_by_number_and_is_shrunk_in_workers() -> Result<(), String> {
    let name = "generated_plans_match_the_model";
    let written = tmp("generated").join("generated-failures/seed-1.wast");
    let ran = Ran::new(
        harness("generated", "seed-1")
            .env("CONFORMANCE_SEED_START", "0")
            .env("CONFORMANCE_SEEDS", "3"),
    )?;
    ran.failed()?;
    ran.verdict(name, "FAILED")?;
    let message = ran.failure_of(name)?;
    let want =
        "seed 1 fails: the process aborted (signal 6, SIGABRT) while running seed 1\nshrunk to ";
    ran.check(
        message.starts_with(want),
        &format!("the failure is {message:?}, not {want:?}..."),
    )?;
    ran.check(
        written.is_file(),
        &format!("no shrunk scenario at {}", written.display()),
    )?;
    let _ = std::fs::remove_dir_all(tmp("generated"));
    Ok(())
}

fn scenario_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/scenarios")
        .join(format!("{}.wast", name.replace('_', "-")))
}

/// `conformance`: an aborting scenario and an aborting seed are one
/// failure each, with a verdict for everything else and the summary.
fn the_conformance_binary_counts_an_abort_as_one_failure() -> Result<(), String> {
    let out = tmp("conformance");
    let [aborts, second, third] = EXIT_PATH_3.map(|n| n.replace('_', "-"));
    let mut command = command(env!("CARGO_BIN_EXE_conformance"));
    command
        .env(
            conformance::supervise::TEST_ABORT_ENV,
            format!("{aborts},seed-1"),
        )
        .args(["--seeds", "3", "--start", "0", "--out"])
        .arg(&out)
        .args(EXIT_PATH_3.map(scenario_file));
    let ran = Ran::new(&mut command)?;
    ran.failed()?;
    ran.stdout_has(&format!(
        "patched: {aborts}: FAIL\n    the process aborted (signal 6, SIGABRT) while running {aborts}\n"
    ))?;
    ran.stdout_has(&format!("patched: {second}: pass"))?;
    ran.stdout_has(&format!("patched: {third}: pass"))?;
    ran.stdout_has(
        "patched: seed 1: FAIL\n    the process aborted (signal 6, SIGABRT) while running seed 1\n    shrunk: ",
    )?;
    ran.stdout_has("patched: summary: 4 passed, 2 failed")?;
    ran.check(
        out.join("seed-1.wast").is_file(),
        "no shrunk scenario for seed 1",
    )?;
    let _ = std::fs::remove_dir_all(&out);
    Ok(())
}

/// `fuzz`: an aborting seed is a failing seed found, shrunk and written
/// out, after the seeds before it passed.
fn the_fuzz_binary_reports_an_aborting_seed_as_found() -> Result<(), String> {
    let out = tmp("fuzz");
    let mut command = command(env!("CARGO_BIN_EXE_fuzz"));
    command
        .env(conformance::supervise::TEST_ABORT_ENV, "seed-1")
        .args(["--seeds", "3", "--start", "0", "--seconds", "3600", "--out"])
        .arg(&out);
    let ran = Ran::new(&mut command)?;
    ran.failed()?;
    ran.stdout_has(
        "fuzz: patched: seed 1 fails: the process aborted (signal 6, SIGABRT) while running seed 1\nshrinking...",
    )?;
    ran.stderr_has("seed 1 fails on patched; shrunk scenario in ")?;
    ran.stderr_has("(after 1 passing seeds)")?;
    ran.check(
        out.join("patched/seed-1.wast").is_file(),
        "no shrunk scenario for seed 1",
    )?;
    let _ = std::fs::remove_dir_all(&out);
    Ok(())
}
