//! Running scenarios and seeds in a worker process, so that one that aborts
//! the process (a panic while panicking, `std::process::abort`, a signal) is
//! reported as that scenario's or seed's failure and the run goes on.
//!
//! The process that a user or a script starts (a test harness, the
//! `conformance` or `fuzz` binary) never runs Wasmtime itself: a [`Worker`]
//! starts the same executable again with `CONFORMANCE_WORKER=1` in its
//! environment, and that process only [`serve`]s requests, one at a time,
//! read a line each from its stdin (run this scenario file, check this
//! seed, ...). Its answer is a line on its stdout that starts with a marker;
//! whatever else it prints there (logs, say) is passed on to the parent's
//! stdout, and its stderr is the parent's. A worker lives for as long as
//! its parent has requests, so a run starts one worker (one per test
//! thread in a harness), not one per scenario; one that dies is replaced
//! at the next request.
//!
//! When the worker dies before it answers, [`Worker::call`] says how
//! ([`Aborted`]: the signal, or the exit status), with the message of every
//! panic the worker went through while it handled the request (a worker
//! reports each panic as it happens, so that the message of a panic that
//! ends in an abort is not lost).
//!
//! This module knows nothing of Wasmtime: what a request means is up to the
//! handler given to [`serve`] (`worker.rs`, compiled once per backend).
//!
//! A test hook: `CONFORMANCE_TEST_ABORT`, a comma-separated list of names,
//! makes the worker call `std::process::abort()` when it is asked to run
//! one of them ([`abort_if_asked`]), so that the tests can check what
//! becomes of a scenario or a seed that aborts the process. Nothing else
//! sets it.

use std::fmt;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};

/// Set in a worker's environment; its value is [`WORKER_PROTOCOL`].
pub const WORKER_ENV: &str = "CONFORMANCE_WORKER";

/// The value of [`WORKER_ENV`]: this module's protocol.
const WORKER_PROTOCOL: &str = "1";

/// The test hook: names of scenarios (their test names) and seeds
/// (`seed-N`) whose run aborts the worker process.
pub const TEST_ABORT_ENV: &str = "CONFORMANCE_TEST_ABORT";

/// Starts every line that a worker writes for its parent, among whatever
/// else the worker prints to its stdout.
const MARKER: &str = "\u{1e}conformance-worker ";

/// Whether this process is a worker: it must [`serve`] and nothing else.
pub fn is_worker() -> bool {
    std::env::var_os(WORKER_ENV).is_some_and(|v| v == WORKER_PROTOCOL)
}

/// A test's name for the scenario file `path` (its stem, every character
/// other than an ASCII letter or digit written `_`), as `cargo test
/// exit_path_4` expects.
pub fn test_name(path: &Path) -> String {
    normalize(&path.file_stem().unwrap_or_default().to_string_lossy())
}

/// The name under which the test hook knows seed `seed`.
pub fn seed_name(seed: u64) -> String {
    format!("seed-{seed}")
}

fn normalize(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// The test hook: aborts the process if `CONFORMANCE_TEST_ABORT` names
/// `name` (a scenario's test name or file stem, or `seed-N`; `-` and `_`
/// are the same).
pub fn abort_if_asked(name: &str) {
    let Some(names) = std::env::var_os(TEST_ABORT_ENV) else {
        return;
    };
    let name = normalize(name);
    if names
        .to_string_lossy()
        .split(',')
        .any(|n| normalize(n.trim()) == name)
    {
        eprintln!("{TEST_ABORT_ENV} names {name}: aborting the process (a test hook)");
        std::process::abort();
    }
}

/// A request or an answer on one line: `\` and line breaks escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// The text [`escape`] wrote.
pub fn unescape(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The message of a caught panic.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".to_string())
}

/// Writes one line for the parent: the marker, `kind`, the escaped text.
fn send(kind: &str, text: &str) -> io::Result<()> {
    let line = format!("{MARKER}{kind} {}\n", escape(text));
    let mut out = io::stdout().lock();
    out.write_all(line.as_bytes())?;
    out.flush()
}

/// The worker's main loop: answers each request read from stdin with
/// `handle`'s answer (`Ok` or `Err`, a text either way; a panic of
/// `handle` is an `Err`), until stdin closes. Every panic is reported to
/// the parent as it happens, before it unwinds, in case it never finishes.
pub fn serve(mut handle: impl FnMut(&str) -> Result<String, String>) -> io::Result<()> {
    std::panic::set_hook(Box::new(|info| {
        // Nowhere to report a failure to report.
        let _ = send("panic", &info.to_string());
    }));
    for line in io::stdin().lock().lines() {
        let request = unescape(&line?);
        let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle(&request)))
            .unwrap_or_else(|panic| Err(format!("panicked: {}", panic_message(&*panic))));
        match answer {
            Ok(text) => send("ok", &text)?,
            Err(text) => send("err", &text)?,
        }
    }
    Ok(())
}

/// How a worker died before it answered a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Aborted {
    /// `the process aborted (signal 6, SIGABRT)`, `the process aborted
    /// (exit status 3)`, ...
    pub how: String,
    /// The message of every panic while it handled the request, in order.
    pub panics: Vec<String>,
}

impl Aborted {
    /// The failure of `name`, the scenario or seed the worker was running.
    pub fn while_running(&self, name: &str) -> String {
        let mut out = format!("{} while running {name}", self.how);
        if !self.panics.is_empty() {
            out.push_str("; before that it panicked:");
            for panic in &self.panics {
                out.push_str("\n  ");
                out.push_str(&panic.replace('\n', "\n  "));
            }
        }
        out
    }
}

impl fmt::Display for Aborted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.how)
    }
}

/// What an exit status says of a process that should not have exited.
pub fn describe_exit(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return match signal_name(signal) {
                Some(name) => format!("the process aborted (signal {signal}, {name})"),
                None => format!("the process aborted (signal {signal})"),
            };
        }
    }
    match status.code() {
        Some(0) => "the process exited (exit status 0) without answering".to_string(),
        Some(code) => format!("the process aborted (exit status {code})"),
        None => format!("the process aborted ({status})"),
    }
}

/// The names of the signals that have the same number on Linux and macOS.
#[cfg(unix)]
fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => return None,
    })
}

/// A worker process, started at the first request and again at the first
/// request after it died. Dropping it closes its stdin, which ends it, and
/// waits for it.
#[derive(Default)]
pub struct Worker {
    running: Option<Running>,
}

struct Running {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// A line from a worker.
enum Message {
    Answer(Result<String, String>),
    Panic(String),
}

impl Worker {
    pub fn new() -> Worker {
        Worker::default()
    }

    fn start() -> io::Result<Running> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(&exe)
            .env(WORKER_ENV, WORKER_PROTOCOL)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", exe.display())))?;
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        Ok(Running {
            child,
            stdin,
            stdout,
        })
    }

    /// Asks the worker to handle `request` and waits for its answer: `Ok`
    /// with what its handler returned, or [`Aborted`] if it died first (or
    /// could not be started). Whatever else it printed meanwhile is passed
    /// on to this process's stdout.
    pub fn call(&mut self, request: &str) -> Result<Result<String, String>, Aborted> {
        let running = match &mut self.running {
            Some(running) => running,
            None => match Worker::start() {
                Ok(running) => self.running.insert(running),
                Err(e) => {
                    return Err(Aborted {
                        how: format!("could not start a worker process ({e})"),
                        panics: Vec::new(),
                    });
                }
            },
        };
        let mut panics = Vec::new();
        let line = format!("{}\n", escape(request));
        let mut failed = None;
        // A worker that died already cannot take the request: its stdin is
        // closed. Its exit status says why below.
        if running.stdin.write_all(line.as_bytes()).is_ok() {
            loop {
                match read_message(&mut running.stdout) {
                    Ok(Some(Message::Answer(answer))) => return Ok(answer),
                    Ok(Some(Message::Panic(panic))) => panics.push(panic),
                    Ok(None) => break,
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
        }
        let Running {
            mut child, stdin, ..
        } = self.running.take().expect("started above");
        drop(stdin);
        let how = if let Some(e) = failed {
            // Still alive, maybe: it must not outlive its parent's interest.
            let _ = child.kill();
            let _ = child.wait();
            format!("reading the worker process's answer failed ({e})")
        } else {
            match child.wait() {
                Ok(status) => describe_exit(status),
                Err(e) => format!("the process ended, with an unknown status ({e})"),
            }
        };
        Err(Aborted { how, panics })
    }
}

/// Reads lines from a worker until one of its own: `None` at the end of its
/// output. The rest is printed to this process's stdout.
fn read_message(from: &mut impl BufRead) -> io::Result<Option<Message>> {
    let mut line = Vec::new();
    loop {
        line.clear();
        if from.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&line);
        // What the worker printed is passed on as well as it can be: this
        // process's stdout failing is no reason to lose the answer.
        let Some(at) = text.find(MARKER) else {
            let _ = io::stdout().write_all(&line);
            continue;
        };
        if at > 0 {
            // Output without a line break of its own, then the answer.
            let _ = writeln!(io::stdout(), "{}", &text[..at]);
        }
        let rest = text[at + MARKER.len()..].trim_end_matches(['\n', '\r']);
        let (kind, body) = rest.split_once(' ').unwrap_or((rest, ""));
        let body = unescape(body);
        return match kind {
            "ok" => Ok(Some(Message::Answer(Ok(body)))),
            "err" => Ok(Some(Message::Answer(Err(body)))),
            "panic" => Ok(Some(Message::Panic(body))),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unknown message `{kind}` from the worker"),
            )),
        };
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(Running {
            mut child, stdin, ..
        }) = self.running.take()
        {
            // The end of its requests: the worker returns from `serve`.
            drop(stdin);
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_round_trips() {
        for text in ["", "a", "two\nlines\r\n", "back\\slash\\n", "\\", "end\\"] {
            let line = escape(text);
            assert!(!line.contains('\n'), "{line:?}");
            assert_eq!(unescape(&line), text);
        }
    }

    #[test]
    fn hook_names_match_with_either_separator() {
        assert_eq!(test_name(Path::new("a/exit-path-4.wast")), "exit_path_4");
        assert_eq!(normalize(&seed_name(7)), normalize("seed_7"));
    }
}
