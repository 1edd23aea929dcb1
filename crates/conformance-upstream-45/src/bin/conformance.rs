//! The scenarios and generated seeds on upstream Wasmtime 45.0.3:
//! `scripts/conformance.sh --backend upstream-45`.

fn main() -> anyhow::Result<()> {
    conformance_upstream_45::cli::conformance()
}
