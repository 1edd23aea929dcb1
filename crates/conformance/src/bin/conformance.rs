//! The scenarios and generated seeds on the patched Wasmtime, one verdict
//! each: `scripts/conformance.sh` (see `conformance::cli::conformance`).

fn main() -> anyhow::Result<()> {
    conformance::cli::conformance()
}
