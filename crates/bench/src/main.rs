//! `bench`: runs the workloads of the `bench` library (`bench --help`).
//!
//! `bench compare --pristine BIN` (patched build only) alternates batches of
//! this binary and the pristine one, case by case, drives the two HTTP
//! servers alternately, and writes a table, `docs/benchmarks/BENCHMARKS.md`
//! and a plot; with `--callgrind` it also counts instructions per call
//! under valgrind. `bench smoke` runs the comparison with tiny counts
//! against this binary itself (used by `scripts/test.sh`).

use anyhow::Result;
use bench::{Bench, CASES, Case, compare, http, rss, run};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// The benchmarks of live-task tracking: the patched Wasmtime against the
/// pristine 44.0.3 base, built from the same code.
#[derive(Parser)]
#[command(name = "bench", after_help = cases())]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a case once in this process and print nanoseconds per operation.
    Run(Case),
    /// Run a case once for every line on standard input (the protocol
    /// `bench compare` drives).
    Batches(Case),
    /// Print the peak RSS (KiB) of a process holding N live tasks.
    Rss {
        /// Live tasks.
        #[arg(long, value_name = "N", default_value_t = 10_000)]
        live: u64,
    },
    /// Serve a trivial WASIp3 guest over loopback until standard input ends.
    HttpServe,
    /// The whole comparison with tiny counts, this binary standing in for
    /// the pristine one.
    Smoke,
    /// Compare this (patched) build with a pristine one and write the
    /// report.
    Compare(CompareArgs),
}

#[derive(Args)]
struct CompareArgs {
    /// The pristine build of `bench`.
    #[arg(long, value_name = "BIN")]
    pristine: PathBuf,
    /// Builds of both in several code layouts (`scripts/bench.sh`).
    #[arg(long, value_name = "DIR")]
    layouts: Option<PathBuf>,
    /// Process pairs per case (and HTTP server pairs).
    #[arg(long, value_name = "N", default_value_t = 40)]
    reps: usize,
    /// Batch pairs per process pair.
    #[arg(long, value_name = "N", default_value_t = 6)]
    pairs: usize,
    /// Scale every count by X.
    #[arg(long, value_name = "X", default_value_t = 1.0)]
    scale: f64,
    /// Also count instructions per operation under valgrind.
    #[arg(long)]
    callgrind: bool,
    /// The report (relative to the current directory).
    #[arg(
        long,
        value_name = "FILE",
        default_value = "docs/benchmarks/BENCHMARKS.md"
    )]
    out: PathBuf,
    /// The plot (relative to the current directory).
    #[arg(
        long,
        value_name = "FILE",
        default_value = "docs/benchmarks/benchmarks.png"
    )]
    plot: PathBuf,
}

/// The cases, for `--help`.
fn cases() -> String {
    let mut s = String::from("Cases:");
    for (case, what) in CASES {
        s.push_str(&format!("\n  {case:<14} {what}"));
    }
    s
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Run(Case { case, iters }) => {
            println!("{:.3}", run(&Bench::new()?, &case, iters)?);
        }
        Command::Batches(Case { case, iters }) => {
            let bench = Bench::new()?;
            bench::serve_batches(|| run(&bench, &case, iters))?;
        }
        Command::Rss { live } => println!("{}", rss(live)?),
        Command::HttpServe => http::serve()?,
        Command::Smoke => smoke()?,
        Command::Compare(args) => {
            let me = std::env::current_exe()?;
            let layouts = match &args.layouts {
                Some(dir) => compare::layouts(dir)?,
                None => vec![(me.clone(), args.pristine.clone())],
            };
            compare::compare(&compare::Options {
                me,
                pristine: args.pristine,
                layouts,
                reps: args.reps,
                pairs: args.pairs,
                scale: args.scale,
                callgrind: args.callgrind,
                out: args.out,
                plot: args.plot,
            })?
        }
    }
    Ok(())
}

/// The whole comparison, tiny, with this binary standing in for the
/// pristine one.
fn smoke() -> Result<()> {
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
    Ok(())
}
