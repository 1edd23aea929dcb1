//! Triage a range of generated seeds without stopping at the first failure:
//! `cargo run -p conformance --example seeds -- START COUNT [--shrink DIR]`.
//! Prints one line per failing seed; with `--shrink`, writes each failing
//! seed's shrunk scenario to `DIR/seed-N.wast`; with `--write DIR`, writes
//! every seed's scenario there without running it (to see what the
//! generator makes).

use conformance::generate::{Plan, check, shrink};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let start: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(0);
    let count: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let shrink_dir = args
        .iter()
        .position(|a| a == "--shrink")
        .map(|i| std::path::PathBuf::from(&args[i + 1]));
    if let Some(i) = args.iter().position(|a| a == "--write") {
        let dir = std::path::Path::new(&args[i + 1]);
        std::fs::create_dir_all(dir).unwrap();
        for seed in start..start + count {
            let path = dir.join(format!("seed-{seed}.wast"));
            std::fs::write(path, Plan::generate(seed).scenario()).unwrap();
        }
        return;
    }
    // Panics are reported per seed; keep their messages off stderr.
    std::panic::set_hook(Box::new(|_| {}));
    let mut failed = 0;
    for seed in start..start + count {
        let plan = Plan::generate(seed);
        if let Err(e) = check(&plan) {
            failed += 1;
            println!("seed {seed}: {}", e.replace('\n', " | "));
            if let Some(dir) = &shrink_dir {
                let small = shrink(plan, |p| check(p).is_err());
                std::fs::create_dir_all(dir).unwrap();
                let path = dir.join(format!("seed-{seed}.wast"));
                std::fs::write(&path, small.scenario()).unwrap();
                println!("  shrunk: {}", path.display());
            }
        }
    }
    println!("{failed} of {count} seeds from {start} failed");
}
