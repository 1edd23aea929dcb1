//! Generated scenarios checked against the reference model (see
//! `conformance::generate`). `CONFORMANCE_SEEDS` sets how many seeds run
//! (default 200), `CONFORMANCE_SEED_START` the first one. A failing seed is
//! shrunk and written out as a scenario file, unless `CONFORMANCE_NO_SHRINK`
//! is set. A panic inside Wasmtime (a debug assertion, say) counts as a
//! failure of the seed that caused it.

use conformance::generate::{Plan, shrink};
use std::panic::{AssertUnwindSafe, catch_unwind};

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

/// Run a plan; `Err` with what went wrong, a panic included.
fn check(plan: &Plan) -> Result<(), String> {
    let text = plan.scenario();
    match catch_unwind(AssertUnwindSafe(|| conformance::run_str(&text))) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("{e:?}")),
        Err(panic) => Err(format!(
            "panicked: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)")
        )),
    }
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
