//! Long runs of the generated scenarios on upstream Wasmtime 48.0.8:
//! `scripts/fuzz.sh --backend upstream-48`.

fn main() -> anyhow::Result<()> {
    conformance_upstream_48::cli::fuzz()
}
