//! Generates the tests of a runner crate (this one, and the
//! `conformance-upstream-*` crates that use this file as their build
//! script): one `#[test]` per scenario file under the workspace's
//! `tests/scenarios/`, so that each passes or fails on its own, and the
//! test of the generated seeds.

use std::fmt::Write;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let krate = std::env::var("CARGO_PKG_NAME").unwrap().replace('-', "_");
    let dir = manifest.join("../../tests/scenarios");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "wast"));
    files.sort();
    let mut out = String::new();
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let name: String = stem
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        writeln!(
            out,
            "#[test_log::test]\nfn {name}() {{\n    let report = {krate}::run_file(std::path::Path::new({:?})).unwrap();\n    println!(\"{stem}: {{report}}\");\n}}\n",
            path.canonicalize().unwrap()
        )
        .unwrap();
    }
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out_dir.join("scenarios.rs"), out).unwrap();
    std::fs::write(
        out_dir.join("generated.rs"),
        format!("use {krate}::{{check, cli::write_shrunk, generate}};\n"),
    )
    .unwrap();
}
