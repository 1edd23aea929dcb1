//! `bench`: runs the workloads of the `bench` library.
//!
//! `bench run --case CASE --iters N` runs one case in this process and
//! prints nanoseconds per operation. `bench http` serves a trivial WASIp3
//! guest over loopback under a bounded load and prints requests per second
//! and latency percentiles. `bench compare --pristine BIN` (patched build
//! only) runs this binary and the pristine one alternately, case by case,
//! and writes a table, `BENCHMARKS.md` and a plot; with `--callgrind` it also
//! counts instructions per call under valgrind. `bench smoke` runs every case
//! once with tiny counts (used by `scripts/test.sh`).

use anyhow::{Context as _, Result};
use bench::{CASES, compare, http, rss, run, run_in};

const USAGE: &str = "\
usage: bench run --case CASE [--iters N]
       bench rss [--live N]
       bench http [--requests N] [--warmup N] [--connections N]
       bench smoke
       bench compare --pristine BIN [--reps N] [--scale N] [--callgrind]
                     [--out FILE] [--plot FILE]";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| bench::flag(&args, name);
    match args.first().map(String::as_str) {
        Some("run") => {
            let case = arg("--case").context("--case")?;
            let iters = arg("--iters").unwrap_or("1000").parse()?;
            println!("{:.3}", run(case, iters)?);
        }
        Some("rss") => println!("{}", rss(arg("--live").unwrap_or("10000").parse()?)?),
        Some("http") => {
            let outcome = http::run(
                arg("--requests").unwrap_or("20000").parse()?,
                arg("--warmup").unwrap_or("2000").parse()?,
                arg("--connections").unwrap_or("8").parse()?,
            )?;
            println!("{}", outcome.line());
        }
        Some("smoke") => {
            let me = std::env::current_exe()?;
            for (case, _) in CASES {
                // The poll cases run in bench-poll, which only the patched
                // build has.
                let ns = run_in(&me, case, 3)?;
                println!("{case}: {ns:.0} ns/op");
            }
            println!("rss with 100 live tasks: {} KiB", rss(100)?);
            let http = http::run(40, 8, 4)?;
            let [p50, p90, p99] = http.latency_us;
            println!(
                "http: {:.0} requests/s, p50 {p50:.0} us, p90 {p90:.0} us, p99 {p99:.0} us",
                http.rps
            );
            let out = std::env::temp_dir().join("bench-smoke.png");
            compare::plot(&out, &[(1, 2.0, 2.1), (100, 2.0, 2.0), (10_000, 2.2, 2.1)])?;
            println!("plot: {}", out.display());
        }
        Some("compare") => compare::compare(&compare::Options {
            me: std::env::current_exe()?,
            pristine: arg("--pristine").context("--pristine BIN")?.into(),
            reps: arg("--reps").unwrap_or("11").parse()?,
            scale: arg("--scale").unwrap_or("1").parse()?,
            callgrind: args.iter().any(|a| a == "--callgrind"),
            out: arg("--out").unwrap_or("BENCHMARKS.md").into(),
            plot: arg("--plot").unwrap_or("benchmarks.png").into(),
        })?,
        Some("-h" | "--help") => {
            println!("{USAGE}\n\ncases:");
            for (case, what) in CASES {
                println!("  {case:<14} {what}");
            }
        }
        _ => anyhow::bail!("{USAGE}"),
    }
    Ok(())
}
