//! `bench compare`: the patched build against the pristine one.

use crate::http::Outcome;
use crate::{CASES, bin_for, run_in};
use anyhow::{Context as _, Result, bail};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Options {
    pub me: PathBuf,
    pub pristine: PathBuf,
    pub reps: usize,
    pub scale: u64,
    pub callgrind: bool,
    pub out: PathBuf,
    pub plot: PathBuf,
}

/// Operations per timed run of each case, before `--scale`.
fn iters(case: &str) -> u64 {
    match case {
        "guest-async" | "guest-sync" => 2_000,
        c if c.starts_with("poll-") => 1_000_000,
        _ => 20_000,
    }
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

struct Row {
    case: &'static str,
    what: &'static str,
    patched: f64,
    pristine: Option<f64>,
    ratio: Option<(f64, f64, f64)>,
}

pub fn compare(o: &Options) -> Result<()> {
    let mut rows = Vec::new();
    for (case, what) in CASES {
        let n = iters(case) * o.scale;
        let has_pristine = !case.starts_with("poll-");
        // Warm up both (page cache, CPU frequency).
        run_in(&o.me, case, n / 10 + 1)?;
        if has_pristine {
            run_in(&o.pristine, case, n / 10 + 1)?;
        }
        let (mut p, mut q, mut r) = (Vec::new(), Vec::new(), Vec::new());
        for rep in 0..o.reps {
            // Alternate which build goes first, so drift hits both alike.
            let (a, b) = if has_pristine && rep % 2 == 1 {
                let b = run_in(&o.pristine, case, n)?;
                (run_in(&o.me, case, n)?, b)
            } else {
                let a = run_in(&o.me, case, n)?;
                let b = if has_pristine {
                    run_in(&o.pristine, case, n)?
                } else {
                    0.0
                };
                (a, b)
            };
            p.push(a);
            if has_pristine {
                q.push(b);
                r.push(a / b);
            }
        }
        let row = Row {
            case,
            what,
            patched: median(&mut p),
            pristine: has_pristine.then(|| median(&mut q)),
            ratio: has_pristine.then(|| {
                let (lo, hi) = quartiles(&mut r);
                (median(&mut r), lo, hi)
            }),
        };
        eprintln!(
            "{:<14} patched {:>9.1} ns  pristine {:>9}  ratio {}",
            row.case,
            row.patched,
            row.pristine
                .map(|v| format!("{v:.1} ns"))
                .unwrap_or("-".into()),
            row.ratio
                .map(|(m, lo, hi)| format!("{m:.4} [{lo:.4}, {hi:.4}]"))
                .unwrap_or("-".into())
        );
        rows.push(row);
    }

    let http = http_rows(o)?;

    let mut rss = Vec::new();
    for bin in [&o.me, &o.pristine] {
        let mut v = Vec::new();
        for _ in 0..3 {
            let out = Command::new(bin)
                .args(["rss", "--live", "10000"])
                .output()?;
            if !out.status.success() {
                bail!("rss: {}", String::from_utf8_lossy(&out.stderr));
            }
            v.push(String::from_utf8(out.stdout)?.trim().parse::<f64>()?);
        }
        rss.push(median(&mut v));
    }
    eprintln!(
        "peak RSS with 10 000 live tasks: patched {} KiB, pristine {} KiB",
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
    std::fs::write(&o.out, report(o, &rows, &http, &rss, &instr))?;
    eprintln!("wrote {} and {}", o.out.display(), o.plot.display());
    Ok(())
}

/// Callgrind run pairs per case and build. Hash seeds and allocation
/// patterns differ between processes and put a run in one of a few modes a
/// few tenths of a percent apart; the median of five pairs is stable.
const CALLGRIND_PAIRS: usize = 5;

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

/// Requests sent per timed HTTP run, before `--scale`, after this many
/// untimed ones, over this many connections.
const HTTP_REQUESTS: u64 = 20_000;
const HTTP_WARMUP: u64 = 2_000;
const HTTP_CONNECTIONS: usize = 8;

/// One metric of the HTTP case: patched and pristine medians, and the
/// median and quartiles of the per-pair ratios.
struct HttpRow {
    metric: &'static str,
    patched: f64,
    pristine: f64,
    ratio: (f64, f64, f64),
}

/// `bench http` in a fresh process of `bin`.
fn http_in(bin: &Path, requests: u64) -> Result<Outcome> {
    let out = Command::new(bin)
        .args(["http", "--requests", &requests.to_string()])
        .args(["--warmup", &HTTP_WARMUP.to_string()])
        .args(["--connections", &HTTP_CONNECTIONS.to_string()])
        .output()?;
    if !out.status.success() {
        bail!(
            "{} http: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Outcome::parse(String::from_utf8(out.stdout)?.trim())
}

/// The HTTP case, patched and pristine alternately.
fn http_rows(o: &Options) -> Result<Vec<HttpRow>> {
    let n = HTTP_REQUESTS * o.scale;
    http_in(&o.me, n / 10)?;
    http_in(&o.pristine, n / 10)?;
    let mut pairs = Vec::new();
    for rep in 0..o.reps {
        let pair = if rep % 2 == 0 {
            let a = http_in(&o.me, n)?;
            (a, http_in(&o.pristine, n)?)
        } else {
            let b = http_in(&o.pristine, n)?;
            (http_in(&o.me, n)?, b)
        };
        pairs.push(pair);
    }
    let metric = |f: fn(&Outcome) -> f64| {
        let mut p: Vec<f64> = pairs.iter().map(|(a, _)| f(a)).collect();
        let mut q: Vec<f64> = pairs.iter().map(|(_, b)| f(b)).collect();
        let mut r: Vec<f64> = pairs.iter().map(|(a, b)| f(a) / f(b)).collect();
        let (lo, hi) = quartiles(&mut r);
        (median(&mut p), median(&mut q), (median(&mut r), lo, hi))
    };
    let rows: Vec<HttpRow> = [
        ("requests/s", (|x: &Outcome| x.rps) as fn(&Outcome) -> f64),
        ("latency p50 (µs)", |x| x.latency_us[0]),
        ("latency p90 (µs)", |x| x.latency_us[1]),
        ("latency p99 (µs)", |x| x.latency_us[2]),
    ]
    .into_iter()
    .map(|(name, f)| {
        let (patched, pristine, ratio) = metric(f);
        HttpRow {
            metric: name,
            patched,
            pristine,
            ratio,
        }
    })
    .collect();
    for r in &rows {
        eprintln!(
            "http {:<18} patched {:>10.1}  pristine {:>10.1}  ratio {:.4} [{:.4}, {:.4}]",
            r.metric, r.patched, r.pristine, r.ratio.0, r.ratio.1, r.ratio.2
        );
    }
    Ok(rows)
}

fn report(
    o: &Options,
    rows: &[Row],
    http: &[HttpRow],
    rss: &[f64],
    instr: &[(&str, (f64, f64), Option<(f64, f64)>)],
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Benchmarks\n\nGenerated by `scripts/bench.sh` on {}: the patched Wasmtime 44.0.3 against the\npristine 44.0.3 base, both built in release mode from the same benchmark code in the\nsame run, run alternately, {} repetitions per case, each in a fresh process.\nRatio = patched / pristine time per operation: median of the per-pair ratios, with\nthe first and third quartiles. `poll-*` exists only in the patched build.\n",
        machine(),
        o.reps
    );
    s.push_str("| case | operation | patched ns/op | pristine ns/op | ratio (median) | ratio IQR |\n|---|---|---:|---:|---:|---|\n");
    for r in rows {
        let _ = writeln!(
            s,
            "| `{}` | {} | {:.1} | {} | {} | {} |",
            r.case,
            r.what,
            r.patched,
            r.pristine.map(|v| format!("{v:.1}")).unwrap_or("-".into()),
            r.ratio
                .map(|(m, _, _)| format!("{m:.4}"))
                .unwrap_or("-".into()),
            r.ratio
                .map(|(_, lo, hi)| format!("{lo:.4} – {hi:.4}"))
                .unwrap_or("-".into()),
        );
    }
    let _ = writeln!(
        s,
        "\n## HTTP\n\nA trivial WASIp3 guest (`http-guests`' `minimal`: 200, no body, exits once the\ntrailers are taken) served through `wasmtime-wasi-http`'s `ProxyHandler` by hyper on\nloopback (`wasmtime serve`'s instance reuse settings). The load generator keeps {} keep-alive\nconnections busy, one request at a time each, for {} timed requests after {} untimed\nones; server and client share one 2-thread Tokio runtime. Ratio = patched / pristine\n(for requests/s higher is better, for latency lower).\n\n| metric | patched | pristine | ratio (median) | ratio IQR |\n|---|---:|---:|---:|---|",
        HTTP_CONNECTIONS,
        HTTP_REQUESTS * o.scale,
        HTTP_WARMUP
    );
    for r in http {
        let _ = writeln!(
            s,
            "| {} | {:.1} | {:.1} | {:.4} | {:.4} – {:.4} |",
            r.metric, r.patched, r.pristine, r.ratio.0, r.ratio.1, r.ratio.2
        );
    }
    if !instr.is_empty() {
        s.push_str("\n## Instructions per operation (callgrind)\n\nCounted with `valgrind --tool=callgrind` as the difference between a run of 5 200 and\none of 200 operations (1 010 000 and 10 000 polls), so set-up and compilation cancel\nout, counting only inside `bench::event_loop` (see the notes on method); median\nof five such pairs, with the spread (max - min) of the five in brackets.\n\n| case | patched | pristine | change |\n|---|---:|---:|---:|\n");
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
        "\n## Memory\n\nPeak RSS of a process holding 10 000 live tasks (each waiting to be cancelled):\npatched {:.0} KiB, pristine {:.0} KiB ({:+.2}%).\n\nWhat the series adds: one `bool` per guest task (`GuestTask::interesting`), and per\nstore a `usize` count and an `Option<Waker>`.\n\n![cost per task against live tasks]({})",
        rss[0],
        rss[1],
        (rss[0] / rss[1] - 1.0) * 100.0,
        o.plot.file_name().unwrap().to_string_lossy()
    );
    s.push_str(NOTES);
    s
}

/// How the numbers are made, and what was learnt making them.
const NOTES: &str = "
## Notes on method

- Both `bench` binaries are built from the same source (`crates/bench/src/lib.rs`
  and `main.rs`); the poll cases live in a third binary, `bench-poll`, which only
  the patched build has. An earlier layout kept them in `bench` behind a cargo
  feature, and that alone cost the patched binary about 100 instructions per host
  call: with a second user of the same generic Wasmtime code in the binary, the
  compiler stopped inlining `TypedFunc::call_concurrent`'s future into the
  benchmark loop. Built without that feature, the same patched tree was within
  0.5% of the pristine base. Instruction counts of a few tenths of a percent are
  therefore as much about code layout in the embedder's binary as about the
  series.
- Release builds compile `wasmtime` and `bench` as one codegen unit each (the
  workspace `Cargo.toml`). With the default of 16, how a crate is split into
  units moves with any edit, and with it which calls are inlined: that alone
  moved the counts by up to 3% between builds of equivalent code (the
  sync-to-sync case read -2.8% with 16 units; with one, every case is within
  a few tenths of a percent, as the table shows).
- Where the series adds work on the call path: one increment and one flag store
  when a task is created (`push_guest_task`), and when its implicit thread is
  released a flag test, a decrement and a check for a stored waker, in the table
  lookup `cleanup_thread` already makes. Everything else it changes is off the
  path of a call that starts and finishes normally.
- The benchmark component's guests (generated by `crates/conformance`) do not
  drop the waitable set a callback task creates, nor, in `a.asynccalls`, the
  subtasks that returned at once; these stay in the store, the same number in
  both builds, until the store is dropped. Store teardown therefore grows with
  the number of calls, and it is compiled differently in the two builds, so
  counted as part of each call it added about 30 instructions to the
  patched host-to-callback case (+0.75% instead of +0.3%). The instruction
  counts are therefore taken inside the event loop only.
- Callgrind counts are exact for one binary and input, but hash seeds and
  allocation patterns vary a little between runs; the bracketed spread in the
  instruction table shows how much.
";

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
