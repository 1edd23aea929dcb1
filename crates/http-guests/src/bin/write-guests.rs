//! Writes the example guests as component files into a directory, for
//! `wasmtime serve` (see `scripts/demo.sh`).
//!
//! Usage: `write-guests DIR`; prints the path of each file written.

use anyhow::{Context as _, Result, bail};
use std::path::PathBuf;

fn main() -> Result<()> {
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        bail!("usage: write-guests DIR");
    };
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (name, bytes) in http_guests::all()? {
        let path = dir.join(format!("{name}.wasm"));
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}
