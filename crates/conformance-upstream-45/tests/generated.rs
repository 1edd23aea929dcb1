//! Generated scenarios checked against the reference model on upstream
//! Wasmtime 45 (see `conformance_upstream_45::harness::generated`). `CONFORMANCE_SEEDS`
//! sets how many seeds run (default 200), `CONFORMANCE_SEED_START` the first
//! one. A failing seed is shrunk and written out as a scenario file, unless
//! `CONFORMANCE_NO_SHRINK` is set. A panic inside Wasmtime (a debug
//! assertion, say) counts as a failure of the seed that caused it, and so
//! does an abort of the process.

fn main() -> std::process::ExitCode {
    conformance_upstream_45::harness::generated(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")))
}
