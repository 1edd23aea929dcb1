//! `bench compare`: the patched build against the pristine one.

use crate::http::{Outcome, percentile};
use crate::{CASES, bin_for};
use anyhow::{Context as _, Result, bail};
use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

pub struct Options {
    /// This binary, the patched build (its `bench-poll` runs the poll cases).
    pub me: PathBuf,
    /// The pristine build of `bench` (instruction counts and memory use
    /// these two).
    pub pristine: PathBuf,
    /// Patched and pristine builds of `bench`, one pair per code layout
    /// (see `scripts/bench.sh`); process pair `i` uses layout `i % len`.
    /// With more than one layout, each case also gets a control: pristine
    /// against pristine in the next layout.
    pub layouts: Vec<(PathBuf, PathBuf)>,
    /// Process pairs per case (and HTTP server pairs).
    pub reps: usize,
    /// Batch pairs (HTTP: slice pairs) per process pair.
    pub pairs: usize,
    /// Multiplies the operations per batch and the requests per slice.
    pub scale: f64,
    pub callgrind: bool,
    pub out: PathBuf,
    pub plot: PathBuf,
}

/// The builds in `dir`: `patched-1` and `pristine-1`, `patched-2` and
/// `pristine-2`, and so on (made by `scripts/bench.sh --layouts N`).
pub fn layouts(dir: &Path) -> Result<Vec<(PathBuf, PathBuf)>> {
    let mut out = Vec::new();
    for k in 1.. {
        let pair = (
            dir.join(format!("patched-{k}")),
            dir.join(format!("pristine-{k}")),
        );
        match (pair.0.is_file(), pair.1.is_file()) {
            (true, true) => out.push(pair),
            (false, false) => break,
            _ => bail!("{}: layout {k} lacks one of its two builds", dir.display()),
        }
    }
    anyhow::ensure!(
        !out.is_empty(),
        "{}: no patched-1 and pristine-1",
        dir.display()
    );
    Ok(out)
}

/// Operations per timed batch of each case, before `--scale`: a few tens of
/// milliseconds, short against the drift of a shared machine.
fn iters(case: &str) -> u64 {
    match case {
        "guest-async" | "guest-sync" => 2_000,
        c if c.starts_with("poll-") => 1_000_000,
        _ => 20_000,
    }
}

/// Untimed batches each process runs first (code, caches, allocator).
const WARMUP_BATCHES: usize = 2;

fn scaled(n: u64, scale: f64) -> u64 {
    ((n as f64 * scale).round() as u64).max(1)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// First and third quartile.
fn quartiles(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (at(0.25), at(0.75))
}

/// A patched/pristine ratio over many pairs: the median, the quartiles of
/// the pairs, and a 95% confidence interval of the median.
#[derive(Clone, Copy)]
struct Ratio {
    median: f64,
    quartiles: (f64, f64),
    interval: (f64, f64),
}

/// Bootstrap resamples for [`Ratio::interval`].
const RESAMPLES: usize = 2_000;

impl Ratio {
    /// `by_process[i]` holds the pair ratios of process pair `i`.
    ///
    /// The interval is a bootstrap over process pairs, not single pairs:
    /// the pairs of one process pair share its layout and its stretch of
    /// time, so they are not independent of each other.
    fn new(by_process: &[Vec<f64>]) -> Ratio {
        let mut all: Vec<f64> = by_process.iter().flatten().copied().collect();
        // A fixed seed: the same data always gives the same interval.
        let mut rng = conformance::generate::Rng::new(1);
        let mut medians: Vec<f64> = (0..RESAMPLES)
            .map(|_| {
                let mut v: Vec<f64> = (0..by_process.len())
                    .flat_map(|_| &by_process[rng.below(by_process.len())])
                    .copied()
                    .collect();
                median(&mut v)
            })
            .collect();
        medians.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let at = |q: f64| medians[((RESAMPLES - 1) as f64 * q).round() as usize];
        Ratio {
            median: median(&mut all),
            quartiles: quartiles(&mut all),
            interval: (at(0.025), at(0.975)),
        }
    }

    /// The median with the quartiles in brackets.
    fn short(&self) -> String {
        format!(
            "{:.4} ({:.4} – {:.4})",
            self.median, self.quartiles.0, self.quartiles.1
        )
    }

    fn cells(&self) -> String {
        format!(
            "{:.4} | {:.4} – {:.4} | {:.4} – {:.4}",
            self.median, self.quartiles.0, self.quartiles.1, self.interval.0, self.interval.1
        )
    }
}

/// A child process speaking a line protocol on its standard input and
/// output: `bench batches`, `bench-poll batches` or `bench http-serve`.
struct Worker {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Worker {
    fn spawn(bin: &Path, args: &[&str]) -> Result<Worker> {
        let name = format!("{} {}", bin.display(), args.join(" "));
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().context("no stdout")?);
        Ok(Worker {
            name,
            child,
            stdin,
            stdout,
        })
    }

    /// The next line the child prints.
    fn line(&mut self) -> Result<String> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            // It ended: say why.
            let _ = self.stdin.take();
            let mut err = String::new();
            if let Some(mut e) = self.child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            bail!("{} ended early: {err}", self.name);
        }
        Ok(line.trim().to_string())
    }

    /// Run one batch; nanoseconds per operation.
    fn batch(&mut self) -> Result<f64> {
        let stdin = self.stdin.as_mut().context("stdin closed")?;
        stdin.write_all(b"go\n")?;
        stdin.flush()?;
        let line = self.line()?;
        line.parse()
            .with_context(|| format!("{}: bad result {line:?}", self.name))
    }

    /// Close its input and check that it exits cleanly.
    fn finish(self) -> Result<()> {
        let Worker {
            name, child, stdin, ..
        } = self;
        drop(stdin);
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!("{name} failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }
}

struct Row {
    case: &'static str,
    what: &'static str,
    patched: f64,
    pristine: Option<f64>,
    ratio: Option<Ratio>,
    control: Option<Ratio>,
}

impl Options {
    /// The two builds process pair `rep` compares: patched and pristine in
    /// the same layout or, for the control, pristine in two layouts.
    fn builds(&self, rep: usize, control: bool) -> (&Path, &Path) {
        let k = self.layouts.len();
        let (patched, pristine) = &self.layouts[rep % k];
        if control {
            (pristine, &self.layouts[(rep + 1) % k].1)
        } else {
            (patched, pristine)
        }
    }
}

/// What [`time_pairs`] measured.
struct Times {
    /// Nanoseconds per operation of each batch of the first build.
    first: Vec<f64>,
    /// The same of the second build.
    second: Vec<f64>,
    /// For each process pair, the ratio of each batch pair.
    ratios: Vec<Vec<f64>>,
}

/// Batch times of a case, two builds alternately (see [`Options::builds`]):
/// `o.reps` process pairs, each running `o.pairs` pairs of batches, the
/// order flipping every pair.
fn time_pairs(o: &Options, case: &str, control: bool) -> Result<Times> {
    let n = scaled(iters(case), o.scale).to_string();
    let args = ["batches", "--case", case, "--iters", &n];
    let (mut p, mut q, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for rep in 0..o.reps {
        let (x, y) = o.builds(rep, control);
        let (mut a, mut b) = (Worker::spawn(x, &args)?, Worker::spawn(y, &args)?);
        for _ in 0..WARMUP_BATCHES {
            a.batch()?;
            b.batch()?;
        }
        let mut ratios = Vec::new();
        for i in 0..o.pairs {
            let (x, y) = if (rep + i) % 2 == 0 {
                let x = a.batch()?;
                (x, b.batch()?)
            } else {
                let y = b.batch()?;
                (a.batch()?, y)
            };
            p.push(x);
            q.push(y);
            ratios.push(x / y);
        }
        a.finish()?;
        b.finish()?;
        r.push(ratios);
    }
    Ok(Times {
        first: p,
        second: q,
        ratios: r,
    })
}

/// The poll cases: the patched build only, `bench-poll` next to `o.me`.
fn poll_times(o: &Options, case: &str) -> Result<Vec<f64>> {
    let n = scaled(iters(case), o.scale).to_string();
    let args = ["batches", "--case", case, "--iters", &n];
    let mut p = Vec::new();
    for _ in 0..o.reps {
        let mut a = Worker::spawn(&bin_for(&o.me, case), &args)?;
        for i in 0..WARMUP_BATCHES + o.pairs {
            let ns = a.batch()?;
            if i >= WARMUP_BATCHES {
                p.push(ns);
            }
        }
        a.finish()?;
    }
    Ok(p)
}

fn time_case(o: &Options, case: &'static str, what: &'static str) -> Result<Row> {
    let row = if case.starts_with("poll-") {
        Row {
            case,
            what,
            patched: median(&mut poll_times(o, case)?),
            pristine: None,
            ratio: None,
            control: None,
        }
    } else {
        let Times {
            first: mut p,
            second: mut q,
            ratios: r,
        } = time_pairs(o, case, false)?;
        let control = match o.layouts.len() > 1 {
            true => Some(Ratio::new(&time_pairs(o, case, true)?.ratios)),
            false => None,
        };
        Row {
            case,
            what,
            patched: median(&mut p),
            pristine: Some(median(&mut q)),
            ratio: Some(Ratio::new(&r)),
            control,
        }
    };
    eprintln!(
        "{:<14} patched {:>9.1} ns  pristine {:>9}  ratio {}  control {}",
        row.case,
        row.patched,
        row.pristine
            .map(|v| format!("{v:.1} ns"))
            .unwrap_or("-".into()),
        row.ratio.map(|r| r.cells()).unwrap_or("-".into()),
        row.control.map(|r| r.short()).unwrap_or("-".into()),
    );
    Ok(row)
}

pub fn compare(o: &Options) -> Result<()> {
    anyhow::ensure!(
        o.reps > 0 && o.pairs > 0,
        "--reps and --pairs must be positive"
    );
    let rows = CASES
        .iter()
        .map(|(case, what)| time_case(o, case, what))
        .collect::<Result<Vec<_>>>()?;

    let http = http_rows(o)?;

    let live_rss = scaled(10_000, o.scale).max(100);
    let mut rss = Vec::new();
    for bin in [&o.me, &o.pristine] {
        let mut v = Vec::new();
        for _ in 0..3 {
            let out = Command::new(bin)
                .args(["rss", "--live", &live_rss.to_string()])
                .output()?;
            if !out.status.success() {
                bail!("rss: {}", String::from_utf8_lossy(&out.stderr));
            }
            v.push(String::from_utf8(out.stdout)?.trim().parse::<f64>()?);
        }
        rss.push(median(&mut v));
    }
    eprintln!(
        "peak RSS with {live_rss} live tasks: patched {} KiB, pristine {} KiB",
        rss[0], rss[1]
    );

    let mut instr = Vec::new();
    if o.callgrind {
        for case in [
            "host-callback",
            "host-sync",
            "guest-async",
            "guest-sync",
            "poll-0",
            "poll-1",
            "poll-10000",
        ] {
            let per_call = if case.starts_with("guest") { 10 } else { 1 };
            // Set-up (compiling the component, starting the live tasks) is
            // the same in both runs and cancels out; enough operations in
            // between make the rest of its run-to-run variation (hash seeds,
            // allocation patterns) small per operation.
            let (n1, n2): (u64, u64) = if case.starts_with("poll-") {
                (10_000, 1_010_000)
            } else {
                (200, 5_200)
            };
            let mut per = Vec::new();
            for bin in [&o.me, &o.pristine] {
                if case.starts_with("poll-") && bin == &o.pristine {
                    per.push(None);
                    continue;
                }
                let mut v = Vec::new();
                for _ in 0..CALLGRIND_PAIRS {
                    let i1 = callgrind(bin, case, n1)? as f64;
                    let i2 = callgrind(bin, case, n2)? as f64;
                    v.push((i2 - i1) / ((n2 - n1) * per_call) as f64);
                }
                // `median` sorts `v`.
                let mid = median(&mut v);
                per.push(Some((mid, (v[v.len() - 1] - v[0]) / mid * 100.0)));
            }
            eprintln!(
                "{case:<14} instructions per op: patched {:?} pristine {:?}",
                per[0], per[1]
            );
            instr.push((case, per[0].unwrap(), per[1]));
        }
    }

    let live: Vec<(u64, f64, f64)> = rows
        .iter()
        .filter_map(|r| {
            let n = r.case.strip_prefix("live-")?.parse().ok()?;
            Some((n, r.patched, r.pristine?))
        })
        .collect();
    plot(&o.plot, &live)?;
    std::fs::write(&o.out, report(o, &rows, &http, (live_rss, &rss), &instr))?;
    eprintln!("wrote {} and {}", o.out.display(), o.plot.display());
    Ok(())
}

/// Callgrind run pairs per case and build. Hash seeds and allocation
/// patterns differ between processes and put a run in one of a few modes:
/// most within a few tenths of a percent of each other, and now and then
/// (about one run in five for `guest-sync`) one about 5% higher. The median
/// of seven pairs is stable against both.
const CALLGRIND_PAIRS: usize = 7;

/// Instructions executed by `bin run --case CASE --iters N` under callgrind,
/// counting only what runs inside [`crate::event_loop`]: the timed event
/// loop, but not compilation, instantiation or the store's teardown. The benchmark guests leave a waitable set (and, for
/// `a.asynccalls`, its finished subtasks) in the store per call, in both
/// builds alike, so the teardown grows with the number of calls and would
/// otherwise be counted as part of each call.
fn callgrind(bin: &Path, case: &str, iters: u64) -> Result<u64> {
    let file =
        std::env::temp_dir().join(format!("callgrind.{}.{case}.{iters}", std::process::id()));
    let out = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--collect-atstart=no")
        .arg("--toggle-collect=bench::event_loop*")
        .arg(format!("--callgrind-out-file={}", file.display()))
        .arg(bin_for(bin, case))
        .args(["run", "--case", case, "--iters", &iters.to_string()])
        .output()
        .context("running valgrind")?;
    if !out.status.success() {
        bail!("valgrind: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = std::fs::read_to_string(&file)?;
    let _ = std::fs::remove_file(&file);
    text.lines()
        .find_map(|l| l.strip_prefix("summary:"))
        .context("no summary line in callgrind output")?
        .trim()
        .parse()
        .context("callgrind summary")
}

/// Requests per timed HTTP slice, before `--scale` (under a second), after
/// this many untimed ones per server, over this many connections.
const HTTP_SLICE: u64 = 2_000;
const HTTP_WARMUP: u64 = 2_000;
const HTTP_CONNECTIONS: usize = 8;

/// One metric of the HTTP case: patched and pristine over all timed
/// requests, and the ratio over the slice pairs.
struct HttpRow {
    metric: &'static str,
    patched: f64,
    pristine: f64,
    ratio: Ratio,
    control: Option<Ratio>,
}

/// Outcomes of the HTTP case, two builds (see [`Options::builds`]): `o.reps`
/// pairs of server processes, both up at the same time; the load alternates
/// between them in `o.pairs` pairs of slices (the order flips every pair),
/// so that a slice of each is measured within a fraction of a second of the
/// other. For each process pair, the outcomes of each slice pair.
fn http_pairs(o: &Options, control: bool) -> Result<Vec<Vec<(Outcome, Outcome)>>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let slice = scaled(HTTP_SLICE, o.scale);
    let warmup = scaled(HTTP_WARMUP, o.scale);
    let mut reps = Vec::new();
    for rep in 0..o.reps {
        let (x, y) = o.builds(rep, control);
        let mut servers = Vec::new();
        let mut addrs = Vec::new();
        for bin in [x, y] {
            let mut server = Worker::spawn(bin, &["http-serve"])?;
            let line = server.line()?;
            addrs.push(
                line.parse::<std::net::SocketAddr>()
                    .with_context(|| format!("bad address {line:?}"))?,
            );
            servers.push(server);
        }
        let pairs = runtime.block_on(async {
            for &addr in &addrs {
                Outcome::measure(addr, warmup, HTTP_CONNECTIONS).await?;
            }
            let mut pairs = Vec::new();
            for i in 0..o.pairs {
                let measure = |addr| Outcome::measure(addr, slice, HTTP_CONNECTIONS);
                pairs.push(if (rep + i) % 2 == 0 {
                    let a = measure(addrs[0]).await?;
                    (a, measure(addrs[1]).await?)
                } else {
                    let b = measure(addrs[1]).await?;
                    (measure(addrs[0]).await?, b)
                });
            }
            anyhow::Ok(pairs)
        })?;
        for server in servers {
            server.finish()?;
        }
        reps.push(pairs);
    }
    Ok(reps)
}

/// The HTTP rows: patched against pristine, and the control.
fn http_rows(o: &Options) -> Result<Vec<HttpRow>> {
    let mut reps = http_pairs(o, false)?;
    let mut control = match o.layouts.len() > 1 {
        true => Some(http_pairs(o, true)?),
        false => None,
    };
    // Requests/s, then latency percentiles.
    let metrics = [
        ("requests/s", None),
        ("latency p50 (µs)", Some(0.50)),
        ("latency p90 (µs)", Some(0.90)),
        ("latency p99 (µs)", Some(0.99)),
    ];
    let mut rows = Vec::new();
    for (metric, q) in metrics {
        let value = |x: &mut Outcome| match q {
            None => x.rps,
            Some(q) => percentile(&mut x.latencies, q),
        };
        let ratios = |reps: &mut Vec<Vec<(Outcome, Outcome)>>| {
            let r: Vec<Vec<f64>> = reps
                .iter_mut()
                .map(|pairs| pairs.iter_mut().map(|(a, b)| value(a) / value(b)).collect())
                .collect();
            Ratio::new(&r)
        };
        // Each build over all its slices: the median slice's requests/s,
        // percentiles of all timed requests' latencies.
        let overall = |x: Vec<&mut Outcome>| match q {
            None => median(&mut x.into_iter().map(|x| x.rps).collect::<Vec<_>>()),
            Some(q) => percentile(
                &mut x
                    .into_iter()
                    .flat_map(|x| x.latencies.clone())
                    .collect::<Vec<_>>(),
                q,
            ),
        };
        let patched = overall(reps.iter_mut().flatten().map(|p| &mut p.0).collect());
        let pristine = overall(reps.iter_mut().flatten().map(|p| &mut p.1).collect());
        rows.push(HttpRow {
            metric,
            patched,
            pristine,
            ratio: ratios(&mut reps),
            control: control.as_mut().map(ratios),
        });
    }
    for r in &rows {
        eprintln!(
            "http {:<18} patched {:>10.1}  pristine {:>10.1}  ratio {}  control {}",
            r.metric,
            r.patched,
            r.pristine,
            r.ratio.cells(),
            r.control.map(|r| r.short()).unwrap_or("-".into()),
        );
    }
    Ok(rows)
}

/// Instructions per operation of a case: patched, pristine (if it has the
/// case), each with the spread of its runs in percent.
type Instructions = (&'static str, (f64, f64), Option<(f64, f64)>);

fn report(
    o: &Options,
    rows: &[Row],
    http: &[HttpRow],
    (live_rss, rss): (u64, &[f64]),
    instr: &[Instructions],
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Benchmarks

Generated by `scripts/bench.sh` on {machine}: the patched Wasmtime 44.0.3 against the
pristine 44.0.3 base. How the figures are made and what they mean:
[docs/benchmarks.md](../benchmarks.md).

- per case: {reps} process pairs over {layouts} code layouts, each {WARMUP_BATCHES} untimed batches
  and {pairs} timed batch pairs: {total} pair ratios
- HTTP: {reps} server pairs, each {warmup} untimed requests per server and {pairs} pairs of
  {slice}-request slices, over {HTTP_CONNECTIONS} keep-alive connections

## Time per operation

| case | operation | patched ns/op | pristine ns/op | ratio (median) | ratio IQR | median's 95% CI | control |
|---|---|---:|---:|---:|---|---|---|",
        machine = machine(),
        pairs = o.pairs,
        reps = o.reps,
        total = o.pairs * o.reps,
        layouts = o.layouts.len(),
        warmup = scaled(HTTP_WARMUP, o.scale),
        slice = scaled(HTTP_SLICE, o.scale),
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| `{}` | {} | {:.1} | {} | {} | {} |",
            r.case,
            r.what,
            r.patched,
            r.pristine.map(|v| format!("{v:.1}")).unwrap_or("-".into()),
            r.ratio.map(|r| r.cells()).unwrap_or("- | - | -".into()),
            r.control.map(|r| r.short()).unwrap_or("-".into()),
        );
    }
    s.push_str(
        "\n## HTTP\n\n\
         | metric | patched | pristine | ratio (median) | ratio IQR | median's 95% CI | control |\n\
         |---|---:|---:|---:|---|---|---|\n",
    );
    for r in http {
        let _ = writeln!(
            s,
            "| {} | {:.1} | {:.1} | {} | {} |",
            r.metric,
            r.patched,
            r.pristine,
            r.ratio.cells(),
            r.control.map(|r| r.short()).unwrap_or("-".into()),
        );
    }
    if !instr.is_empty() {
        let _ = writeln!(
            s,
            "\n## Instructions per operation (callgrind)\n\n\
             Median of {CALLGRIND_PAIRS} run pairs, spread (max - min) in brackets.\n\n\
             | case | patched | pristine | change |\n|---|---:|---:|---:|"
        );
        for (case, (p, ps), q) in instr {
            let _ = writeln!(
                s,
                "| `{case}` | {p:.1} ({ps:.2}%) | {} | {} |",
                q.map(|(q, qs)| format!("{q:.1} ({qs:.2}%)"))
                    .unwrap_or("-".into()),
                q.map(|(q, _)| format!("{:+.2}%", (p / q - 1.0) * 100.0))
                    .unwrap_or("-".into())
            );
        }
    }
    let _ = writeln!(
        s,
        "\n## Memory\n\nPeak RSS with {} live tasks, median of three processes: patched {:.0} KiB, \
         pristine {:.0} KiB ({:+.2}%).\n\n![cost per task against live tasks]({})",
        live_rss,
        rss[0],
        rss[1],
        (rss[0] / rss[1] - 1.0) * 100.0,
        o.plot.file_name().unwrap().to_string_lossy()
    );
    s
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "an unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!("{cpu}, {cores} cores")
}

/// Plot cost per task (ns) against live tasks, patched and pristine.
pub fn plot(path: &Path, points: &[(u64, f64, f64)]) -> Result<()> {
    use plotters::prelude::*;
    register_font()?;
    let root = BitMapBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let max = points.iter().map(|p| p.1.max(p.2)).fold(0.0, f64::max) * 1.3;
    let mut chart = ChartBuilder::on(&root)
        .caption("Cost per task vs. live tasks", ("sans-serif", 24))
        .margin(20)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d((1f64..20_000f64).log_scale(), 0f64..max.max(1.0))?;
    chart
        .configure_mesh()
        .x_desc("tasks alive at once")
        .y_desc("ns per task (start to exit)")
        .draw()?;
    for (name, color, pick) in [
        (
            "patched",
            RED,
            (|p: &(u64, f64, f64)| p.1) as fn(&(u64, f64, f64)) -> f64,
        ),
        ("pristine", BLUE, |p: &(u64, f64, f64)| p.2),
    ] {
        let series: Vec<(f64, f64)> = points.iter().map(|p| (p.0 as f64, pick(p))).collect();
        chart
            .draw_series(LineSeries::new(series.clone(), color.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart.draw_series(series.iter().map(|&p| Circle::new(p, 4, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE)
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// Plotters draws text with a font we hand it: DejaVu Sans from Debian's
/// fonts-dejavu-core (scripts/bench.sh installs it when missing).
fn register_font() -> Result<()> {
    use std::sync::OnceLock;
    static DONE: OnceLock<()> = OnceLock::new();
    if DONE.get().is_some() {
        return Ok(());
    }
    let path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    let bytes = std::fs::read(path)
        .with_context(|| format!("reading {path} (install fonts-dejavu-core)"))?;
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, bytes)
        .map_err(|_| anyhow::anyhow!("{path} is not a usable font"))?;
    let _ = DONE.set(());
    Ok(())
}
