//! One test per scenario file in `tests/scenarios/` on upstream Wasmtime 48,
//! found when the tests run (see `conformance_upstream_48::harness`).

fn main() -> std::process::ExitCode {
    conformance_upstream_48::harness::scenarios()
}
