//! Long runs of the generated scenarios on upstream Wasmtime 45.0.3:
//! `scripts/fuzz.sh --backend upstream-45`.

fn main() -> anyhow::Result<()> {
    conformance_upstream_45::cli::fuzz()
}
