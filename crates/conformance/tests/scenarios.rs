//! One test per scenario file in `tests/scenarios/` on the patched Wasmtime,
//! found when the tests run (see `conformance::harness`).

fn main() -> std::process::ExitCode {
    conformance::harness::scenarios()
}
