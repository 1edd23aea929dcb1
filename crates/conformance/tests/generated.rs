//! Generated scenarios checked against the reference model (see
//! `conformance::generate`). `CONFORMANCE_SEEDS` sets how many seeds run
//! (default 200), `CONFORMANCE_SEED_START` the first one. A failing seed is
//! shrunk and written out as a scenario file, unless `CONFORMANCE_NO_SHRINK`
//! is set. A panic inside Wasmtime (a debug assertion, say) counts as a
//! failure of the seed that caused it.

use conformance::generate::{Plan, check, shrink};

fn seeds() -> std::ops::Range<u64> {
    let var = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .map(|v| v.parse().expect("a number"))
            .unwrap_or(default)
    };
    let start = var("CONFORMANCE_SEED_START", 0);
    start..start + var("CONFORMANCE_SEEDS", 200)
}

#[test_log::test]
fn generated_plans_match_the_model() {
    let mut ran = 0;
    for seed in seeds() {
        let plan = Plan::generate(seed);
        if let Err(e) = check(&plan) {
            eprintln!("{}", plan.scenario());
            if std::env::var_os("CONFORMANCE_NO_SHRINK").is_some() {
                panic!("seed {seed} fails (not shrunk: CONFORMANCE_NO_SHRINK is set): {e}");
            }
            let small = shrink(plan, |p| check(p).is_err());
            let text = small.scenario();
            let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("generated-failures");
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(format!("seed-{seed}.wast"));
            std::fs::write(&path, &text).unwrap();
            panic!(
                "seed {seed} fails: {e}\nshrunk to {} (copy it to tests/scenarios/ as a regression scenario):\n{text}",
                path.display()
            );
        }
        ran += 1;
    }
    println!("{ran} generated plans matched the model");
}
