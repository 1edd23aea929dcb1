//! Drives the patched `wasmtime serve` as a user does: a child process on a
//! loopback port, real HTTP requests, its stdout and stderr, and ctrl-c.
//!
//! The binary is the one `scripts/build-cli.sh` builds: the path in the
//! `WASMTIME_CLI` environment variable (as `scripts/test.sh` sets it), or,
//! without it, whatever the script prints after building. Either way a
//! missing binary is an error, never a reason to skip.
//!
//! Everything here waits on signals: the server's output arriving (each
//! stream is read by a thread that wakes waiters on every chunk and at end of
//! file), the connection closing after a response, the process exiting (its
//! pipes reach end of file). Every wait is bounded; a [`Server`] kills its
//! process when dropped, also when a test panics.

use std::io::{self, BufRead, BufReader, Read, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// How long any single wait may take: 60 seconds, or `HTTP_E2E_BOUND_SECS`
/// if set. Far longer than anything here needs (milliseconds); a test that
/// reaches it has found a server that hangs. `scripts/mutants.sh` shortens
/// it, since a test that catches a mutant often waits this long to fail.
///
/// # Panics
///
/// If `HTTP_E2E_BOUND_SECS` is not a whole number of seconds.
pub fn bound() -> Duration {
    static BOUND: OnceLock<Duration> = OnceLock::new();
    *BOUND.get_or_init(|| match std::env::var("HTTP_E2E_BOUND_SECS") {
        Ok(secs) => Duration::from_secs(secs.parse().unwrap_or_else(|_| {
            panic!("HTTP_E2E_BOUND_SECS={secs:?} is not a whole number of seconds")
        })),
        Err(_) => Duration::from_secs(60),
    })
}

/// The `wasmtime` binary under test.
///
/// # Panics
///
/// If `WASMTIME_CLI` names no file, or `scripts/build-cli.sh` fails.
pub fn cli() -> &'static Path {
    static CLI: OnceLock<PathBuf> = OnceLock::new();
    CLI.get_or_init(|| {
        if let Some(path) = std::env::var_os("WASMTIME_CLI") {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "WASMTIME_CLI={} is not a file (build it with scripts/build-cli.sh)",
                path.display()
            );
            return path;
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/build-cli.sh");
        let mut command = Command::new("bash");
        // What cargo sets for this test binary would otherwise reach the
        // build scripts of the CLI's dependencies (some watch `CARGO_PKG_*`)
        // and make the next build outside the tests rebuild them.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if [
                "CARGO_PKG_",
                "CARGO_MANIFEST_",
                "CARGO_CRATE_",
                "CARGO_BIN_",
            ]
            .iter()
            .any(|prefix| name.starts_with(prefix))
                || name == "CARGO_PRIMARY_PACKAGE"
                || name == "CARGO_TARGET_TMPDIR"
            {
                command.env_remove(&*name);
            }
        }
        let output = command
            .arg(&script)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
        assert!(
            output.status.success(),
            "{} failed ({})",
            script.display(),
            output.status
        );
        let stdout = String::from_utf8(output.stdout).expect("build-cli.sh printed no UTF-8");
        let path = PathBuf::from(stdout.lines().last().unwrap_or_default());
        assert!(
            path.is_file(),
            "build-cli.sh printed {path:?}, which is not a file"
        );
        path
    })
}

/// Runs the tests of a binary one at a time (hold the guard for the whole
/// test): the guests' timing margins (a 100 ms sleep) then do not depend on
/// how many other servers share the two cores.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Writes `bytes` (a component) to a file of its own and returns its path.
pub fn component_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("http-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, bytes).unwrap();
    path
}

/// What the server has printed so far.
#[derive(Clone, Debug, Default)]
pub struct Output {
    /// Everything on stdout (the guests' output, with serve's prefixes).
    pub stdout: String,
    /// Everything on stderr (serve's own messages).
    pub stderr: String,
    /// How many of the two streams are still open.
    open: usize,
}

impl Output {
    /// Both streams have reached end of file: the process has exited (or
    /// closed them, which `wasmtime serve` never does).
    pub fn closed(&self) -> bool {
        self.open == 0
    }
}

struct Shared {
    output: Mutex<Output>,
    changed: Condvar,
}

/// A running `wasmtime serve`, killed when dropped.
pub struct Server {
    child: Child,
    shared: Arc<Shared>,
    /// Where it serves HTTP.
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `wasmtime serve ARGS... --addr 127.0.0.1:0 COMPONENT` and waits
    /// until it says where it listens.
    pub fn start(args: &[&str], component: &Path) -> Server {
        Self::start_with(cli(), args, component)
    }

    /// Like [`Self::start`], with another `wasmtime` binary.
    pub fn start_with(cli: &Path, args: &[&str], component: &Path) -> Server {
        let mut child = Command::new(cli)
            // The server's report of every instance it drops.
            .env("WASMTIME_LOG", "wasmtime_cli=info")
            .arg("serve")
            .args(args)
            .args(["--addr", "127.0.0.1:0"])
            .arg(component)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", cli.display()));
        let shared = Arc::new(Shared {
            output: Mutex::new(Output {
                open: 2,
                ..Output::default()
            }),
            changed: Condvar::new(),
        });
        spawn_reader(child.stdout.take().unwrap(), shared.clone(), |o| {
            &mut o.stdout
        });
        spawn_reader(child.stderr.take().unwrap(), shared.clone(), |o| {
            &mut o.stderr
        });
        let mut server = Server {
            child,
            shared,
            addr: ([0, 0, 0, 0], 0).into(),
        };
        let output = server.wait_for("the server to listen", |o| {
            listening_on(&o.stderr).is_some() || o.closed()
        });
        server.addr = listening_on(&output.stderr)
            .unwrap_or_else(|| panic!("the server did not start:\n{}", output.stderr));
        server
    }

    /// What the server has printed so far.
    pub fn output(&self) -> Output {
        self.lock().clone()
    }

    /// Waits until `ready` holds for the server's output, at most [`bound`].
    ///
    /// # Panics
    ///
    /// On timeout, naming `what` and showing the output.
    pub fn wait_for(&self, what: &str, ready: impl Fn(&Output) -> bool) -> Output {
        let bound = bound();
        let deadline = Instant::now() + bound;
        let mut output = self.lock();
        while !ready(&output) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out after {bound:?} waiting for {what}; output so far:\n{output:#?}"
            );
            output = self
                .shared
                .changed
                .wait_timeout(output, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        output.clone()
    }

    /// Sends a `GET /` with `Connection: close` and reads the whole response.
    pub fn get(&self) -> Response {
        get(self.addr).unwrap_or_else(|e| {
            panic!(
                "GET http://{}/ failed: {e}; output so far:\n{:#?}",
                self.addr,
                self.output()
            )
        })
    }

    /// Asks for a graceful shutdown, as ctrl-c does.
    pub fn interrupt(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: sending a signal to our own child process.
        let rc = unsafe { libc::kill(pid, libc::SIGINT) };
        assert_eq!(rc, 0, "kill: {}", io::Error::last_os_error());
    }

    /// Waits, at most [`bound`], for the process to exit, and returns how it
    /// exited and everything it printed.
    pub fn wait_exit(&mut self) -> (ExitStatus, Output) {
        let output = self.wait_for("the server to exit", Output::closed);
        (self.child.wait().unwrap(), output)
    }

    /// Interrupts the server (ctrl-c), waits for it to exit, checks that it
    /// exited on its own, successfully, and returns everything it printed.
    pub fn shut_down(mut self) -> Output {
        self.interrupt();
        let (status, output) = self.wait_exit();
        assert!(status.success(), "{status}; {output:#?}");
        output
    }

    /// A test that fails while waiting poisons the lock; its output is
    /// still worth showing.
    fn lock(&self) -> MutexGuard<'_, Output> {
        self.shared
            .output
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        _ = self.child.kill();
        _ = self.child.wait();
    }
}

/// The address in serve's `Serving HTTP on http://ADDR/` line, once the
/// whole line has arrived.
fn listening_on(stderr: &str) -> Option<SocketAddr> {
    let (_, rest) = stderr.split_once("Serving HTTP on http://")?;
    let (line, _) = rest.split_once('\n')?;
    line.trim_end().strip_suffix('/')?.parse().ok()
}

fn spawn_reader(
    mut stream: impl Read + Send + 'static,
    shared: Arc<Shared>,
    field: fn(&mut Output) -> &mut String,
) {
    thread::spawn(move || {
        let mut buf = [0; 4096];
        loop {
            let n = stream.read(&mut buf).unwrap_or(0);
            let mut output = shared.output.lock().unwrap_or_else(PoisonError::into_inner);
            if n == 0 {
                output.open -= 1;
            } else {
                field(&mut output).push_str(&String::from_utf8_lossy(&buf[..n]));
            }
            drop(output);
            shared.changed.notify_all();
            if n == 0 {
                break;
            }
        }
    });
}

/// An HTTP response, as read from the wire.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body, with any chunked transfer coding removed.
    pub body: String,
    /// The body ended where its framing says it ends (not cut short).
    pub complete: bool,
}

/// The head of an HTTP/1.1 response: its status and how its body is framed.
#[derive(Debug)]
pub struct Head {
    /// The status code.
    pub status: u16,
    /// `Transfer-Encoding: chunked`.
    pub chunked: bool,
    /// `Content-Length`, if any.
    pub length: Option<usize>,
    /// `Connection: close`.
    pub close: bool,
}

/// Reads the status line and the header fields of a response.
pub fn read_head(reader: &mut impl BufRead) -> io::Result<Head> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line {line:?}")))?;
    let mut head = Head {
        status,
        chunked: false,
        length: None,
        close: false,
    };
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or((header, ""));
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            head.chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("content-length") {
            head.length = value.parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("connection") {
            head.close = value.eq_ignore_ascii_case("close");
        }
    }
    Ok(head)
}

/// Sends `GET /` to `addr` over HTTP/1.1 with `Connection: close`, and reads
/// until the server closes the connection (each read bounded by [`bound`]).
pub fn get(addr: SocketAddr) -> io::Result<Response> {
    let mut stream = TcpStream::connect_timeout(&addr, bound())?;
    stream.set_read_timeout(Some(bound()))?;
    stream.set_write_timeout(Some(bound()))?;
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut reader = BufReader::new(stream);
    let Head {
        status,
        chunked,
        length,
        ..
    } = read_head(&mut reader)?;
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest)?;
    let (body, complete) = if chunked {
        dechunk(&rest)
    } else if let Some(n) = length {
        (rest[..n.min(rest.len())].to_vec(), rest.len() >= n)
    } else {
        (rest, true)
    };
    Ok(Response {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
        complete,
    })
}

/// Removes the chunked transfer coding; also says whether the last chunk and
/// the trailer section arrived.
fn dechunk(mut data: &[u8]) -> (Vec<u8>, bool) {
    let mut body = Vec::new();
    loop {
        let Some(end) = data.windows(2).position(|w| w == b"\r\n") else {
            return (body, false);
        };
        let size = std::str::from_utf8(&data[..end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok());
        let Some(size) = size else {
            return (body, false);
        };
        data = &data[end + 2..];
        if size == 0 {
            // Trailer fields, then an empty line.
            let complete = data.starts_with(b"\r\n") || data.windows(4).any(|w| w == b"\r\n\r\n");
            return (body, complete);
        }
        if data.len() < size + 2 {
            body.extend_from_slice(&data[..size.min(data.len())]);
            return (body, false);
        }
        body.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::{dechunk, listening_on};

    #[test]
    fn listening_on_waits_for_the_whole_line() {
        assert_eq!(listening_on("Serving HTTP on http://"), None);
        assert_eq!(listening_on("Serving HTTP on http://127.0.0.1:80"), None);
        assert_eq!(
            listening_on("x\nServing HTTP on http://127.0.0.1:8080/\n"),
            Some(([127, 0, 0, 1], 8080).into())
        );
    }

    #[test]
    fn dechunk_reads_chunks_and_trailers() {
        assert_eq!(dechunk(b"0\r\n\r\n"), (Vec::new(), true));
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nt: v\r\n\r\n"),
            (b"abcde".to_vec(), true)
        );
        assert_eq!(dechunk(b"3\r\nabc\r\n"), (b"abc".to_vec(), false));
        assert_eq!(dechunk(b"5\r\nab"), (b"ab".to_vec(), false));
    }
}
