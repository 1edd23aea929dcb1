//! A bounded load on one `wasmtime serve` over loopback, for
//! `scripts/bench.sh --load`.
//!
//! ```text
//! load --cli PATH --guest FILE [--clients N] [--seconds S] [--label NAME] [-- SERVE-FLAGS...]
//! ```
//!
//! Starts `PATH serve SERVE-FLAGS... --addr 127.0.0.1:0 FILE` with
//! `WASMTIME_LOG=wasmtime_cli=info`, runs N keep-alive HTTP/1.1 clients for
//! S seconds (each sends its next request as soon as the last response has
//! ended), then interrupts the server and waits for it to exit, which
//! lets a patched server finish its instances' post-response work. Prints
//! one Markdown table row:
//!
//! `| label | requests/s | p50 ms | p99 ms | peak live instances | failed | lines lost |`
//!
//! A request fails when its status is not 200 or its connection breaks; the
//! client then reconnects. Lines lost are the 200 responses for which the
//! guest's post-response line never reached the server's stdout. Peak live
//! instances come from the server's `Instance ended` lines (an instance is
//! alive from the time of its line minus its lifetime, which starts when its
//! store is created, until that time); a server that logs none (the pristine
//! CLI) shows `n/a`. Counted from the store's creation, a store still being
//! set up while a slot of the pool frees counts too, so the peak may exceed
//! the pool's limit by the number of workers setting up at that moment.

use http_e2e::{Head, Server, bound, read_head};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const MESSAGE: &str = "post-response work done";

/// A bounded load on one `wasmtime serve` over loopback.
#[derive(clap::Parser)]
#[command(name = "load")]
struct Args {
    /// The `wasmtime` binary to serve with.
    #[arg(long, value_name = "PATH")]
    cli: PathBuf,
    /// The component to serve.
    #[arg(long, value_name = "FILE")]
    guest: PathBuf,
    /// Keep-alive clients at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..))]
    clients: u64,
    /// How long the clients send requests.
    #[arg(long, default_value_t = 6.0, value_parser = seconds)]
    seconds: f64,
    /// The first cell of the row.
    #[arg(long, default_value = "server")]
    label: String,
    /// Flags passed to `wasmtime serve`.
    #[arg(last = true, value_name = "SERVE-FLAGS")]
    flags: Vec<String>,
}

fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 600.0 => Ok(v),
        _ => Err(format!(
            "`{s}` is not a number of seconds between 0 and 600"
        )),
    }
}

fn main() {
    let Args {
        cli,
        guest,
        clients,
        seconds,
        label,
        flags,
    } = clap::Parser::parse();
    if !cli.is_file() || !guest.is_file() {
        fail("--cli and --guest must name files");
    }

    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let server = Server::start_with(&cli, &flags, &guest);
    let addr = server.addr;
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| std::thread::spawn(move || client(addr, until)))
        .collect();
    let mut latencies = Vec::new();
    let mut failed = 0;
    for worker in workers {
        let (ok, bad) = worker.join().unwrap();
        latencies.extend(ok);
        failed += bad;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let output = server.shut_down();

    latencies.sort();
    let ok = latencies.len();
    let at = |q: f64| {
        latencies
            .get(((ok as f64 - 1.0) * q).round() as usize)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
    };
    let lines = output.stdout.matches(MESSAGE).count();
    let peak = peak_instances(&output.stderr).map_or("n/a".to_string(), |n| n.to_string());
    println!(
        "| {label} | {:.0} | {:.2} | {:.2} | {peak} | {failed} | {} |",
        (ok + failed) as f64 / elapsed,
        at(0.5),
        at(0.99),
        ok.saturating_sub(lines),
    );
    let errors = output.stderr.matches("worker error").count();
    let refused = output.stderr.matches("refused with 503").count();
    let reported = reported_requests(&output.stderr);
    eprintln!(
        "load: {label}: {ok} ok, {failed} failed, {lines} lines, {errors} worker errors, \
         {refused} refused with 503, {reported} requests reported, in {elapsed:.1}s"
    );
}

fn fail(message: &str) -> ! {
    eprintln!("load: {message}");
    std::process::exit(2)
}

/// One keep-alive client until `until`: the latencies of its 200 responses,
/// and how many requests failed.
fn client(addr: SocketAddr, until: Instant) -> (Vec<Duration>, usize) {
    let mut ok = Vec::new();
    let mut failed = 0;
    let mut connection = None;
    while Instant::now() < until {
        let sent = Instant::now();
        let result = connection
            .take()
            .map_or_else(|| connect(addr), Ok)
            .and_then(|mut stream| exchange(&mut stream, addr).map(|status| (stream, status)));
        match result {
            Ok((stream, 200)) => {
                ok.push(sent.elapsed());
                connection = Some(stream);
            }
            Ok((stream, _)) => {
                failed += 1;
                connection = Some(stream);
            }
            Err(_) => failed += 1,
        }
    }
    (ok, failed)
}

fn connect(addr: SocketAddr) -> std::io::Result<BufReader<TcpStream>> {
    let stream = TcpStream::connect_timeout(&addr, bound())?;
    stream.set_read_timeout(Some(bound()))?;
    stream.set_write_timeout(Some(bound()))?;
    stream.set_nodelay(true)?;
    Ok(BufReader::new(stream))
}

/// Sends `GET /` on a kept-alive connection and reads the whole response;
/// returns its status.
fn exchange(stream: &mut BufReader<TcpStream>, addr: SocketAddr) -> std::io::Result<u16> {
    write!(stream.get_mut(), "GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n")?;
    let Head {
        status,
        chunked,
        length,
        close,
    } = read_head(stream)?;
    let mut line = String::new();
    if chunked {
        loop {
            line.clear();
            stream.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {line:?}")))?;
            if size == 0 {
                // Trailer fields, then an empty line.
                loop {
                    line.clear();
                    if stream.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0; size + 2];
            stream.read_exact(&mut chunk)?;
        }
    } else {
        let mut body = vec![0; length.unwrap_or(0)];
        stream.read_exact(&mut body)?;
    }
    if close {
        return Err(std::io::Error::other("the server closed the connection"));
    }
    Ok(status)
}

/// The requests the server's `Instance ended` lines account for (the sum of
/// their `requests=` fields).
fn reported_requests(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|l| l.contains("Instance ended: "))
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|f| f.strip_prefix("requests="))?
                .parse::<usize>()
                .ok()
        })
        .sum()
}

/// The most instances alive at once, from the `Instance ended` lines (each
/// with the time it was logged and the instance's lifetime).
fn peak_instances(stderr: &str) -> Option<usize> {
    let mut events = Vec::new();
    for line in stderr.lines().filter(|l| l.contains("Instance ended: ")) {
        let end = seconds_of_day(line.split_whitespace().next()?)?;
        let lifetime: f64 = line
            .split_whitespace()
            .find_map(|f| f.strip_prefix("lifetime_ms="))?
            .parse()
            .ok()?;
        events.push((end - lifetime / 1e3, 1i64));
        events.push((end, -1));
    }
    if events.is_empty() {
        return None;
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut live, mut peak) = (0i64, 0i64);
    for (_, change) in events {
        live += change;
        peak = peak.max(live);
    }
    Some(peak as usize)
}

/// `2026-12-01T19:12:21.642025Z` -> seconds since that day's midnight.
fn seconds_of_day(stamp: &str) -> Option<f64> {
    let time = stamp.split_once('T')?.1.trim_end_matches('Z');
    let mut parts = time.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + s)
}
