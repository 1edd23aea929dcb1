//! Run one scenario file: `cargo run -p conformance --example run_scenario -- FILE`.

fn main() -> anyhow::Result<()> {
    let _ = env_logger::try_init();
    for path in std::env::args().skip(1) {
        conformance::run_file(std::path::Path::new(&path))?;
        println!("{path}: ok");
    }
    Ok(())
}
