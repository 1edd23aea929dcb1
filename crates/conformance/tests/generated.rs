//! Generated scenarios checked against the reference model (see
//! `conformance::generate`), on the backend of the crate this test is built
//! for (the patched Wasmtime here; upstream releases in the
//! `conformance-upstream-*` crates, which share this file).
//! `CONFORMANCE_SEEDS` sets how many seeds run (default 200),
//! `CONFORMANCE_SEED_START` the first one. A failing seed is shrunk and
//! written out as a scenario file, unless `CONFORMANCE_NO_SHRINK` is set. A
//! panic inside Wasmtime (a debug assertion, say) counts as a failure of the
//! seed that caused it.

// `use <this backend's runner crate>::{check, cli::write_shrunk, generate};`
include!(concat!(env!("OUT_DIR"), "/generated.rs"));

use generate::Plan;

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
    let (mut ran, mut derived) = (0, 0);
    for seed in seeds() {
        let plan = Plan::generate(seed);
        match check(&plan) {
            Ok(report) => derived += report.derived,
            Err(e) => {
                eprintln!("{}", plan.scenario());
                if std::env::var_os("CONFORMANCE_NO_SHRINK").is_some() {
                    panic!("seed {seed} fails (not shrunk: CONFORMANCE_NO_SHRINK is set): {e}");
                }
                let dir =
                    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("generated-failures");
                let path = write_shrunk(&dir, seed, plan).unwrap();
                let text = std::fs::read_to_string(&path).unwrap();
                panic!(
                    "seed {seed} fails: {e}\nshrunk to {} (copy it to tests/scenarios/ as a regression scenario):\n{text}",
                    path.display()
                );
            }
        }
        ran += 1;
    }
    println!("{ran} generated plans matched the model ({derived} counts derived from the poll)");
}
