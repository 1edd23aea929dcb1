//! Runs the standalone reproducers of `tests/upstream-reproducers/` with each
//! backend's own `wasmtime-wast`, and checks each run against what the file's
//! header says: `;; expect BACKEND: pass` or `;; expect BACKEND: fail "TEXT"`
//! (the run must fail, by an error or a panic whose message contains TEXT).
//! A backend a file names no expectation for does not run it; the header says
//! why in prose.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// The backends, as `scripts/conformance.sh` spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Patched,
    Upstream45,
    Upstream48,
}

impl Backend {
    pub const ALL: [Backend; 3] = [Backend::Patched, Backend::Upstream45, Backend::Upstream48];

    pub fn name(self) -> &'static str {
        match self {
            Backend::Patched => "patched",
            Backend::Upstream45 => "upstream-45",
            Backend::Upstream48 => "upstream-48",
        }
    }

    fn from_name(name: &str) -> Option<Backend> {
        Backend::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Run one `.wast` file with this backend's `wasmtime-wast`.
    pub fn run(self, path: &Path) -> Result<(), String> {
        match self {
            Backend::Patched => v44::run(path),
            Backend::Upstream45 => v45::run(path),
            Backend::Upstream48 => v48::run(path),
        }
    }
}

/// What a file's header expects of a backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Pass,
    /// Fails, with an error or a panic whose message contains the text.
    Fail(String),
}

/// One reproducer: its file and the expectation per backend it runs on.
#[derive(Debug)]
pub struct Reproducer {
    pub path: PathBuf,
    pub expect: Vec<(Backend, Expect)>,
}

impl Reproducer {
    /// Read the `;; expect` lines of a file's leading comment.
    pub fn load(path: &Path) -> Result<Reproducer, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        let mut expect = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let Some(comment) = line.strip_prefix(";;") else {
                break;
            };
            let Some(rest) = comment.trim().strip_prefix("expect ") else {
                continue;
            };
            let at = || format!("{}:{}", path.display(), n + 1);
            let (name, what) = rest
                .split_once(':')
                .ok_or_else(|| format!("{}: `expect BACKEND: ...` has no colon", at()))?;
            let backend = Backend::from_name(name.trim())
                .ok_or_else(|| format!("{}: unknown backend `{}`", at(), name.trim()))?;
            let what = what.trim();
            let e = if what == "pass" {
                Expect::Pass
            } else if let Some(quoted) = what.strip_prefix("fail ") {
                let text = quoted
                    .trim()
                    .strip_prefix('"')
                    .and_then(|q| q.strip_suffix('"'))
                    .ok_or_else(|| format!("{}: `fail` wants a quoted text", at()))?;
                Expect::Fail(text.to_string())
            } else {
                return Err(format!("{}: expected `pass` or `fail \"TEXT\"`", at()));
            };
            if expect.iter().any(|(b, _)| *b == backend) {
                return Err(format!("{}: `{}` expected twice", at(), backend.name()));
            }
            expect.push((backend, e));
        }
        if expect.is_empty() {
            return Err(format!(
                "{}: no `;; expect` line in the header",
                path.display()
            ));
        }
        Ok(Reproducer {
            path: path.to_path_buf(),
            expect,
        })
    }

    /// The test's name: the file's stem, then the backend.
    pub fn test_name(&self, backend: Backend) -> String {
        let stem = self.path.file_stem().unwrap_or_default().to_string_lossy();
        format!("{stem}::{}", backend.name())
    }
}

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    Passed,
    Failed(String),
    Panicked(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Passed => write!(f, "passed"),
            Outcome::Failed(e) => write!(f, "failed: {e}"),
            Outcome::Panicked(e) => write!(f, "panicked: {e}"),
        }
    }
}

/// Run `path` on `backend`, catching a panic of Wasmtime's.
pub fn outcome(backend: Backend, path: &Path) -> Outcome {
    match panic::catch_unwind(AssertUnwindSafe(|| backend.run(path))) {
        Ok(Ok(())) => Outcome::Passed,
        Ok(Err(e)) => Outcome::Failed(e),
        Err(payload) => Outcome::Panicked(
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic without a message".into()),
        ),
    }
}

/// Whether `outcome` is what `expect` says; the error says what differed.
pub fn check(expect: &Expect, outcome: &Outcome) -> Result<(), String> {
    match (expect, outcome) {
        (Expect::Pass, Outcome::Passed) => Ok(()),
        (Expect::Pass, other) => Err(format!("expected to pass, but {other}")),
        (Expect::Fail(text), Outcome::Failed(m) | Outcome::Panicked(m)) if m.contains(text) => {
            Ok(())
        }
        (Expect::Fail(text), Outcome::Passed) => Err(format!(
            "expected to fail with \"{text}\", but passed: \
             the release no longer shows what the file reproduces"
        )),
        (Expect::Fail(text), other) => {
            Err(format!("expected to fail with \"{text}\", but {other}"))
        }
    }
}

/// The configuration Wasmtime's own tests give the component-model-async
/// `.wast` files: the component model, its async ABI, the async built-ins,
/// stackful lifts and threads.
macro_rules! backend {
    ($name:ident, $wasmtime:ident, $wast:ident, $builtins:ident) => {
        mod $name {
            use std::path::Path;

            pub fn run(path: &Path) -> Result<(), String> {
                let mut config = $wasmtime::Config::new();
                config
                    .wasm_component_model(true)
                    .wasm_component_model_async(true)
                    .$builtins(true)
                    .wasm_component_model_async_stackful(true)
                    .wasm_component_model_threading(true)
                    .concurrency_support(true)
                    // `wasmtime-wast` compiles in Wasmtime's `gc` feature
                    // but no collector; nothing here needs one.
                    .gc_support(false);
                let engine = $wasmtime::Engine::new(&config).map_err(|e| format!("{e:?}"))?;
                let mut wast = $wast::WastContext::new(&engine, $wast::Async::Yes, |_| {});
                wast.run_file(path).map_err(|e| format!("{e:?}"))
            }
        }
    };
}

// 45 renamed `wasm_component_model_async_builtins`.
backend!(
    v44,
    wasmtime_44,
    wasmtime_wast_44,
    wasm_component_model_async_builtins
);
backend!(
    v45,
    wasmtime_45,
    wasmtime_wast_45,
    wasm_component_model_more_async_builtins
);
backend!(
    v48,
    wasmtime_48,
    wasmtime_wast_48,
    wasm_component_model_more_async_builtins
);
