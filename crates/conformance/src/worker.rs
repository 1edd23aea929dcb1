//! Scenarios and seeds run in a worker process (see `crate::supervise`):
//! [`serve`] is the worker's side, on this backend, and a [`Checker`] the
//! side of the process that asks. Like `run.rs`, this file is compiled once
//! per backend.
//!
//! The requests, one line each once escaped:
//!
//! - `file PATH`: run the scenario file at PATH ([`run_file`]);
//! - `seed N`: check seed N's generated plan ([`check`]);
//! - `plan N\nTEXT`: run TEXT, the scenario of a plan shrunk from seed N's
//!   ([`run_str`]).
//!
//! The answer to each is the [`Report`] (written by [`encode`]) or the
//! error's text.

use crate::generate::Plan;
use crate::run::{Report, check, run_file, run_str};
use crate::supervise::{self, Aborted, Worker, abort_if_asked, seed_name, test_name};
use std::path::Path;
use std::process::ExitCode;

/// The worker's main loop: handles requests until its parent closes its
/// stdin.
pub fn serve() -> ExitCode {
    match supervise::serve(handle) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conformance worker: {e}");
            ExitCode::FAILURE
        }
    }
}

fn handle(request: &str) -> Result<String, String> {
    let (kind, rest) = request.split_once(' ').unwrap_or((request, ""));
    match kind {
        "file" => {
            let path = Path::new(rest);
            abort_if_asked(&test_name(path));
            run_file(path)
                .map(|report| encode(&report))
                .map_err(|e| format!("{e:#}"))
        }
        "seed" => {
            let seed = parse_seed(rest)?;
            abort_if_asked(&seed_name(seed));
            check(&Plan::generate(seed)).map(|report| encode(&report))
        }
        "plan" => {
            let (seed, text) = rest.split_once('\n').unwrap_or((rest, ""));
            abort_if_asked(&seed_name(parse_seed(seed)?));
            run_str(text)
                .map(|report| encode(&report))
                .map_err(|e| format!("{e:#}"))
        }
        _ => Err(format!("unknown request `{kind}`")),
    }
}

fn parse_seed(text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("`{text}` is not a seed number"))
}

/// A [`Report`] as a worker sends it: a field a line.
fn encode(report: &Report) -> String {
    let Report {
        checks,
        derived,
        diverged,
        failed_as_expected,
    } = report;
    let mut out = format!("checks {checks}\nderived {derived}\n");
    for why in diverged {
        out.push_str(&format!("diverged {}\n", supervise::escape(why)));
    }
    if let Some(why) = failed_as_expected {
        out.push_str(&format!("expected {}\n", supervise::escape(why)));
    }
    out
}

/// The [`Report`] that [`encode`] wrote.
fn decode(text: &str) -> Result<Report, String> {
    let mut report = Report::default();
    for line in text.lines() {
        let bad = || format!("a malformed report from the worker process: `{line}`");
        let (field, value) = line.split_once(' ').ok_or_else(bad)?;
        match field {
            "checks" => report.checks = value.parse().map_err(|_| bad())?,
            "derived" => report.derived = value.parse().map_err(|_| bad())?,
            "diverged" => report.diverged.push(supervise::unescape(value)),
            "expected" => report.failed_as_expected = Some(supervise::unescape(value)),
            _ => return Err(bad()),
        }
    }
    Ok(report)
}

/// What a worker made of a scenario or a seed: its report or its error, or
/// how the worker died while on it.
pub type Checked = Result<Result<Report, String>, Aborted>;

/// Runs scenarios and seeds on this backend in a worker process, one at a
/// time, starting a new worker after one died.
#[derive(Default)]
pub struct Checker {
    worker: Worker,
}

impl Checker {
    pub fn new() -> Checker {
        Checker::default()
    }

    /// [`run_file`] in the worker.
    pub fn run_file(&mut self, path: &Path) -> Checked {
        match path.to_str() {
            Some(path) if !path.contains(['\n', '\r']) => self.call(&format!("file {path}")),
            _ => Ok(Err(format!(
                "{}: the worker process takes only UTF-8 paths on one line",
                path.display()
            ))),
        }
    }

    /// [`check`] of seed `seed`'s plan in the worker.
    pub fn check_seed(&mut self, seed: u64) -> Checked {
        self.call(&format!("seed {seed}"))
    }

    /// [`check`] of `plan`, shrunk from seed `seed`'s, in the worker.
    pub fn check_plan(&mut self, seed: u64, plan: &Plan) -> Checked {
        self.call(&format!("plan {seed}\n{}", plan.scenario()))
    }

    fn call(&mut self, request: &str) -> Checked {
        Ok(self.worker.call(request)?.and_then(|text| decode(&text)))
    }
}

/// How a scenario or a seed failed.
#[derive(Debug, Clone)]
pub enum Failure {
    /// With an error (a failed check, a panic inside Wasmtime, ...).
    Error(String),
    /// By ending the worker process: the text says how and where.
    Aborted(String),
}

impl Failure {
    /// The failure in `checked`, if any; `name` is what was running, for
    /// an abort.
    pub fn of(checked: Checked, name: &str) -> Result<Report, Failure> {
        match checked {
            Ok(Ok(report)) => Ok(report),
            Ok(Err(e)) => Err(Failure::Error(e)),
            Err(aborted) => Err(Failure::Aborted(aborted.while_running(name))),
        }
    }

    /// Whether `checked` fails the same way: with an error, or by an abort.
    pub fn same_kind(&self, checked: &Checked) -> bool {
        match self {
            Failure::Error(_) => matches!(checked, Ok(Err(_))),
            Failure::Aborted(_) => checked.is_err(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Error(e) | Failure::Aborted(e) => f.write_str(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_round_trip() {
        let report = Report {
            checks: 12,
            derived: 3,
            diverged: vec!["one\nline two".into(), "back\\slash".into()],
            failed_as_expected: Some("why".into()),
        };
        assert_eq!(decode(&encode(&report)), Ok(report));
        assert_eq!(decode(&encode(&Report::default())), Ok(Report::default()));
        assert!(decode("checks many").is_err());
    }
}
