//! Long runs of the generated scenarios on the patched Wasmtime:
//! `scripts/fuzz.sh` (see `conformance::cli::fuzz`).

fn main() -> anyhow::Result<()> {
    conformance::cli::fuzz()
}
