//! `backends`: every backend of the suite, one a line (its name, its cargo
//! package, its runner binary and its fuzz binary), for the scripts. Builds
//! without Wasmtime: `cargo run -p conformance --no-default-features --bin
//! backends`.

use std::process::ExitCode;

fn main() -> ExitCode {
    if let Some(arg) = std::env::args().nth(1) {
        eprintln!("usage: backends (prints the suite's backends; no argument, not `{arg}`)");
        return ExitCode::FAILURE;
    }
    print!("{}", conformance::backends::Backend::list());
    ExitCode::SUCCESS
}
