//! The scenarios and generated seeds on upstream Wasmtime 48.0.8:
//! `scripts/conformance.sh --backend upstream-48`.

fn main() -> anyhow::Result<()> {
    conformance_upstream_48::cli::conformance()
}
