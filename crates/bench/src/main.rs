//! `bench`: runs the workloads of the `bench` library.
//!
//! `bench run --case CASE --iters N` runs one case once in this process and
//! prints nanoseconds per operation. `bench batches` takes the same
//! arguments and runs the case once for every line on standard input (the
//! protocol `bench compare` drives). `bench http-serve` serves a trivial
//! WASIp3 guest over loopback until standard input ends. `bench compare
//! --pristine BIN` (patched build only) alternates batches of this binary
//! and the pristine one, case by case, drives the two HTTP servers
//! alternately, and writes a table, `docs/benchmarks/BENCHMARKS.md` and a plot; with
//! `--callgrind` it also counts instructions per call under valgrind.
//! `bench smoke` runs the comparison with tiny counts against this binary
//! itself (used by `scripts/test.sh`).

use anyhow::{Context as _, Result};
use bench::{Bench, CASES, compare, http, rss, run};

const USAGE: &str = "\
usage: bench run|batches --case CASE [--iters N]
       bench rss [--live N]
       bench http-serve
       bench smoke
       bench compare --pristine BIN [--layouts DIR] [--reps N] [--pairs N]
                     [--scale X] [--callgrind] [--out FILE] [--plot FILE]

--out and --plot default to docs/benchmarks/BENCHMARKS.md and
docs/benchmarks/benchmarks.png (relative to the current directory).";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str| bench::flag(&args, name);
    match args.first().map(String::as_str) {
        Some(cmd @ ("run" | "batches")) => {
            let case = arg("--case").context("--case")?;
            let iters = arg("--iters").unwrap_or("1000").parse()?;
            let bench = Bench::new()?;
            if cmd == "run" {
                println!("{:.3}", run(&bench, case, iters)?);
            } else {
                bench::serve_batches(|| run(&bench, case, iters))?;
            }
        }
        Some("rss") => println!("{}", rss(arg("--live").unwrap_or("10000").parse()?)?),
        Some("http-serve") => http::serve()?,
        Some("smoke") => {
            // The whole comparison, tiny, with this binary standing in for
            // the pristine one.
            let me = std::env::current_exe()?;
            let dir = std::env::temp_dir().join(format!("bench-smoke.{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            compare::compare(&compare::Options {
                me: me.clone(),
                pristine: me.clone(),
                // Two "layouts", so that the control runs too.
                layouts: vec![(me.clone(), me.clone()), (me.clone(), me)],
                reps: 1,
                pairs: 1,
                scale: 0.001,
                callgrind: false,
                out: dir.join("BENCHMARKS.md"),
                plot: dir.join("benchmarks.png"),
            })?;
            print!("{}", std::fs::read_to_string(dir.join("BENCHMARKS.md"))?);
            let png = std::fs::metadata(dir.join("benchmarks.png"))?.len();
            println!("plot: {png} bytes");
            std::fs::remove_dir_all(&dir)?;
        }
        Some("compare") => {
            let me = std::env::current_exe()?;
            let pristine: std::path::PathBuf = arg("--pristine").context("--pristine BIN")?.into();
            let layouts = match arg("--layouts") {
                Some(dir) => compare::layouts(dir.as_ref())?,
                None => vec![(me.clone(), pristine.clone())],
            };
            compare::compare(&compare::Options {
                me,
                pristine,
                layouts,
                reps: arg("--reps").unwrap_or("40").parse()?,
                pairs: arg("--pairs").unwrap_or("6").parse()?,
                scale: arg("--scale").unwrap_or("1").parse()?,
                callgrind: args.iter().any(|a| a == "--callgrind"),
                out: arg("--out")
                    .unwrap_or("docs/benchmarks/BENCHMARKS.md")
                    .into(),
                plot: arg("--plot")
                    .unwrap_or("docs/benchmarks/benchmarks.png")
                    .into(),
            })?
        }
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
