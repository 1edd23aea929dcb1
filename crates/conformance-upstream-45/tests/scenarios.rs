//! One test per scenario file in `tests/scenarios/` on upstream Wasmtime 45,
//! found when the tests run (see `conformance_upstream_45::harness`).

fn main() -> std::process::ExitCode {
    conformance_upstream_45::harness::scenarios()
}
