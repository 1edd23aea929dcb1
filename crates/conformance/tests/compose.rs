//! Every scenario's component composes and validates, and so does a
//! component that uses every step in every body kind that allows it. Needs
//! no Wasmtime: `cargo test -p conformance --no-default-features --test
//! compose` checks the vocabulary while the patched tree does not build.

use conformance::compose::compose;
use conformance::spec::Spec;

fn spec(src: &str) -> Spec {
    Spec::parse_str(src).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_scenario_composes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "wast") {
            let scenario = conformance::scenario::Scenario::parse_file(&path)
                .unwrap_or_else(|e| panic!("{e}"));
            compose(&scenario.spec).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            n += 1;
        }
    }
    assert!(n > 0, "no scenario in {}", dir.display());
}

#[test]
fn every_step_composes() {
    let all = "yield yield-cancellable poll-cancellable (note 1) (block 1) \
               (call a.s sync) (call a.s async) (call a.c sync) (call a.c async) \
               (call-cancel a.w) (call-cancel-async a.w) (call-cancel-async a.ws) \
               backpressure-inc backpressure-dec (start a.c) (start-block 2) \
               cancel-kept cancel-kept-async drop-set";
    let src = format!(
        "(component
           (actor a
             (export s sync (result 1) (body (note 1) exit))
             (export w callback (result 2) (body wait-cancel))
             (export ws stackful (result 3) (body yield-cancellable poll-cancellable wait-cancel))
             (export c callback (result 4) (body poll-cancellable yield-cancellable return exit)))
           (actor b
             (export cb callback (result 5)
               (body (spawn 0) {all} return {all} exit)
               (thread {all} return {all} wait-cancel))
             (export sf stackful (result 6)
               (body (spawn 0) {all} return {all} exit)
               (thread {all} yield-cancellable poll-cancellable exit))
             (export sy sync (result 7)
               (body (call a.s sync) (start a.c) cancel-kept-async drop-set cancel-kept (note 2) exit))
             (export ws stackful (result 8) (body return wait-set))
             (export wc callback (result 9) (body return wait-set))))"
    );
    compose(&spec(&src)).unwrap();
}

#[test]
fn sync_bodies_refuse_the_cancellable_steps() {
    for step in [
        "yield-cancellable",
        "poll-cancellable",
        "(call-cancel-async a.w)",
    ] {
        let src = format!(
            "(component
               (actor a (export w callback (result 1) (body wait-cancel)))
               (actor b (export s sync (result 2) (body {step}))))"
        );
        assert!(
            Spec::parse_str(&src).is_err(),
            "`{step}` accepted in a sync body"
        );
    }
}
