//! One test per reproducer file and per backend its header names, found at
//! run time in `tests/upstream-reproducers/`, printed the way libtest prints
//! them. Arguments: substrings that select tests by name, `--exact`,
//! `--list`, `--show-output` (how each run ended, expected failures
//! included); libtest's other flags are accepted and ignored.
//!
//! Every test runs in a process of its own (this executable again, with
//! [`CHILD_ENV`] naming the test): a reproducer may abort the process, as
//! 44.0.3 does for some of them, and that must be the failure of that test,
//! named, with the others still run. A test process that has not finished
//! after [`RUN_BOUND`] is killed and its test fails.

use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use std::{panic, thread};
use upstream_reproducers::{Reproducer, check, outcome};

/// Set in a test process's environment: the name of the one test it runs.
const CHILD_ENV: &str = "UPSTREAM_REPRODUCERS_TEST";

/// Starts the line of a test process's stdout after which it says how its
/// run ended; a second one starts the check's verdict.
const OUTCOME_MARKER: &str = "\u{1e}outcome\n";
const VERDICT_MARKER: &str = "\u{1e}verdict ";

/// How long one test process may take (a reproducer takes seconds).
const RUN_BOUND: Duration = Duration::from_secs(300);

fn main() -> ExitCode {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/upstream-reproducers");
    let mut files: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "wast"))
            .collect(),
        Err(e) => {
            eprintln!("{}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    files.sort();
    if files.is_empty() {
        eprintln!("{}: no .wast file", dir.display());
        return ExitCode::FAILURE;
    }
    if let Ok(name) = std::env::var(CHILD_ENV) {
        return child(&files, &name);
    }

    let mut args = std::env::args().skip(1);
    let (mut exact, mut list, mut show) = (false, false, false);
    let (mut filters, mut skips) = (Vec::new(), Vec::new());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--exact" => exact = true,
            "--list" => list = true,
            // How each run ended, failures included.
            "--show-output" => show = true,
            "--skip" => skips.extend(args.next()),
            // libtest's flags that take a value: the value is no filter.
            "--test-threads" | "--color" | "--format" | "--logfile" | "-Z" => {
                args.next();
            }
            a if a.starts_with('-') => {}
            _ => filters.push(arg),
        }
    }
    let matches = |name: &str, f: &String| {
        if exact {
            name == f
        } else {
            name.contains(f.as_str())
        }
    };
    let selected = |name: &str| {
        (filters.is_empty() || filters.iter().any(|f| matches(name, f)))
            && !skips.iter().any(|f| matches(name, f))
    };

    let mut tests = Vec::new();
    let mut broken = Vec::new();
    for file in &files {
        match Reproducer::load(file) {
            Ok(r) => {
                for (backend, expect) in &r.expect {
                    tests.push((r.test_name(*backend), *backend, expect.clone(), file));
                }
            }
            Err(e) => broken.push((format!("{}::header", stem(file)), e)),
        }
    }
    let total = tests.len();
    tests.retain(|(name, ..)| selected(name));
    let filtered_out = total - tests.len();

    if list {
        for (name, ..) in &tests {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }

    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("cannot find this test executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    println!("\nrunning {} tests", tests.len() + broken.len());
    let mut failures = Vec::new();
    let broken_count = broken.len();
    for (name, e) in broken {
        println!("test {name} ... FAILED");
        failures.push((name, e));
    }
    for (name, _, _, file) in &tests {
        let (outcome, verdict) = run_child(&exe, name);
        if show {
            println!("{name}: {outcome}");
        }
        match verdict {
            Ok(()) => println!("test {name} ... ok"),
            Err(e) => {
                println!("test {name} ... FAILED");
                failures.push((name.clone(), format!("{}: {e}", file.display())));
            }
        }
    }

    if !failures.is_empty() {
        println!("\nfailures:\n");
        for (name, e) in &failures {
            println!("---- {name} ----\n{e}\n");
        }
        println!("failures:");
        for (name, _) in &failures {
            println!("    {name}");
        }
    }
    let passed = tests.len() + broken_count - failures.len();
    println!(
        "\ntest result: {}. {passed} passed; {} failed; 0 ignored; 0 measured; \
         {filtered_out} filtered out; finished in {:.2}s\n",
        if failures.is_empty() { "ok" } else { "FAILED" },
        failures.len(),
        start.elapsed().as_secs_f64()
    );
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(101)
    }
}

/// The test process: runs the test `name` and prints how the run ended and
/// the check's verdict after the markers. Exits with success whatever the
/// verdict: the parent reads it from the output, and takes a process that
/// ends without one for a process that died.
fn child(files: &[std::path::PathBuf], name: &str) -> ExitCode {
    let test = files.iter().find_map(|file| {
        let r = Reproducer::load(file).ok()?;
        let (backend, expect) = r
            .expect
            .iter()
            .find(|(backend, _)| r.test_name(*backend) == name)?;
        Some((*backend, expect.clone(), file))
    });
    let Some((backend, expect, file)) = test else {
        eprintln!("no test named {name}");
        return ExitCode::FAILURE;
    };
    // The expected panics are reported with the test, not by the hook; a
    // panic that ends in an abort still reaches stderr through the
    // parent's report of the dead process.
    panic::set_hook(Box::new(|info| {
        eprintln!("panicked: {info}");
    }));
    let outcome = outcome(backend, file);
    let verdict = match check(&expect, &outcome) {
        Ok(()) => "ok".to_string(),
        Err(e) => format!("failed\n{e}"),
    };
    print!("{OUTCOME_MARKER}{outcome}\n{VERDICT_MARKER}{verdict}");
    ExitCode::SUCCESS
}

/// Runs test `name` in a process of its own: how its run ended, and the
/// verdict. A process that dies, or does not end within [`RUN_BOUND`],
/// fails the test, with what it printed to stderr.
fn run_child(exe: &Path, name: &str) -> (String, Result<(), String>) {
    let spawned = Command::new(exe)
        .env(CHILD_ENV, name)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            let e = format!("cannot start the test process: {e}");
            return (e.clone(), Err(e));
        }
    };
    let pid = child.id();
    let (mut out, mut err) = (child.stdout.take(), child.stderr.take());
    let (done, ended) = mpsc::channel();
    thread::spawn(move || {
        let mut stderr = String::new();
        let reader = thread::spawn(move || {
            let mut stdout = String::new();
            if let Some(out) = out.as_mut() {
                let _ = out.read_to_string(&mut stdout);
            }
            stdout
        });
        if let Some(err) = err.as_mut() {
            let _ = err.read_to_string(&mut stderr);
        }
        let stdout = reader.join().unwrap_or_default();
        let _ = done.send((child.wait(), stdout, stderr));
    });
    let (status, stdout, stderr) = match ended.recv_timeout(RUN_BOUND) {
        Ok(ended) => ended,
        Err(_) => {
            // The waiting thread reaps it once it is killed.
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            let e = format!("the test process did not end within {RUN_BOUND:?}; killed it");
            return (e.clone(), Err(e));
        }
    };
    let reported = stdout
        .split_once(OUTCOME_MARKER)
        .and_then(|(_, rest)| rest.split_once(VERDICT_MARKER));
    match (status, reported) {
        (Ok(status), Some((outcome, verdict))) if status.success() => {
            let verdict = match verdict.split_once('\n') {
                None if verdict == "ok" => Ok(()),
                Some(("failed", e)) => Err(e.to_string()),
                _ => Err(format!(
                    "the test process's verdict is garbled: {verdict:?}"
                )),
            };
            (outcome.trim_end().to_string(), verdict)
        }
        (status, _) => {
            let how = match status {
                Ok(status) => died(status),
                Err(e) => format!("could not be waited for ({e})"),
            };
            let e = format!(
                "the test process died before it reported: it {how}; its stderr:\n{}",
                stderr.trim_end()
            );
            (format!("died: {how}"), Err(e))
        }
    }
}

/// How a test process ended without a verdict, in words.
fn died(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                6 => " (SIGABRT)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV)",
                _ => "",
            };
            return format!("was killed by signal {signal}{name}");
        }
    }
    format!("exited with {status}")
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}
