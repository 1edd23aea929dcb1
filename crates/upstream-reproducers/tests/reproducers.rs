//! One test per reproducer file and per backend its header names, found at
//! run time in `tests/upstream-reproducers/`, printed the way libtest prints
//! them. Arguments: substrings that select tests by name, `--exact`,
//! `--list`, `--show-output` (how each run ended, expected failures
//! included); libtest's other flags are accepted and ignored.

use std::panic;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;
use upstream_reproducers::{Reproducer, check, outcome};

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

    // The expected panics are reported with the test, not by the hook.
    panic::set_hook(Box::new(|_| {}));
    let start = Instant::now();
    println!("\nrunning {} tests", tests.len() + broken.len());
    let mut failures = Vec::new();
    let broken_count = broken.len();
    for (name, e) in broken {
        println!("test {name} ... FAILED");
        failures.push((name, e));
    }
    for (name, backend, expect, file) in &tests {
        let outcome = outcome(*backend, file);
        if show {
            println!("{name}: {outcome}");
        }
        match check(expect, &outcome) {
            Ok(()) => println!("test {name} ... ok"),
            Err(e) => {
                println!("test {name} ... FAILED");
                failures.push((name.clone(), format!("{}: {e}", file.display())));
            }
        }
    }
    let _ = panic::take_hook();

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

fn stem(path: &Path) -> String {
    path.file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}
