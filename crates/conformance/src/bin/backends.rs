//! `backends`: every backend of the suite, one a line (its name, its cargo
//! package, its runner binary and its fuzz binary), for the scripts. Builds
//! without Wasmtime: `cargo run -p conformance --no-default-features --bin
//! backends`.

use clap::Parser;

/// Print the suite's backends, one a line: name, package, runner binary,
/// fuzz binary.
#[derive(Parser)]
struct Args {}

fn main() {
    Args::parse();
    print!("{}", conformance::backends::Backend::list());
}
