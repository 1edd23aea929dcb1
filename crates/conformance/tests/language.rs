//! The scenario language: every scenario file and thousands of generated
//! plans print and parse back to the same value, malformed scenarios fail
//! with their line and column, and `docs/scenario-language.md` matches the
//! parser. Needs no Wasmtime (`--no-default-features`).

use conformance::generate::Plan;
use conformance::scenario::Scenario;
use std::path::{Path, PathBuf};

fn workspace(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// Parse, print, parse again: the same value.
fn round_trip(scenario: &Scenario) {
    let text = scenario.to_string();
    let again = Scenario::parse_str(&text, None).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(&again, scenario, "printed as:\n{text}");
}

#[test]
fn every_scenario_file_round_trips() {
    let mut n = 0;
    for entry in std::fs::read_dir(workspace("tests/scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "wast") {
            let scenario = Scenario::parse_file(&path).unwrap_or_else(|e| panic!("{e:#}"));
            round_trip(&scenario);
            n += 1;
        }
    }
    assert!(n >= 20, "only {n} scenario files");
    println!("{n} scenario files round-trip");
}

#[test]
fn generated_plans_round_trip() {
    for seed in 0..3000 {
        let plan = Plan::generate(seed);
        let scenario = plan.to_scenario();
        let parsed = Scenario::parse_str(&plan.scenario(), None).unwrap();
        assert_eq!(parsed, scenario, "seed {seed}");
        round_trip(&scenario);
    }
}

const COMPONENT: &str =
    "(component\n  (actor a (export f callback (result 1) (body return exit))))\n";

/// `script` after a valid component fails to parse, at `at` (LINE:COL of
/// the whole file), saying `what`.
fn malformed(script: &str, at: &str, what: &str) {
    let src = format!("{COMPONENT}{script}");
    let err = Scenario::parse_str(&src, Some(Path::new("bad.wast")))
        .expect_err(script)
        .to_string();
    assert!(err.contains(&format!("bad.wast:{at}\n")), "{script}: {err}");
    assert!(err.contains(what), "{script}: {err}");
}

#[test]
fn malformed_scenarios_say_where_and_what() {
    malformed("(release)", "3:9", "expected a number");
    malformed("(repeat)", "3:8", "expected a number");
    malformed("(drive)\n(drvie)", "4:2", "expected one of: `call`");
    malformed("(call c1 a.g)", "3:1", "no export `a.g`");
    malformed("(call c1 ag)", "3:10", "expected ACTOR.EXPORT, found `ag`");
    malformed("(expect (count))", "3:15", "expected a number");
    malformed(
        "(expect (result c1 done))",
        "3:20",
        "`pending`, `dropped`, `error`",
    );
    malformed("(expect (wakes old))", "3:19", "expected a number");
    malformed("(diverge \"x\" (upstream-46))", "3:15", "`upstream-45`");
    malformed(
        "(diverge \"x\" (patched))",
        "3:23",
        "needs a `(default ...)` branch",
    );
    malformed(
        "(diverge \"x\" (patched) (patched) (default))",
        "3:24",
        "a second `patched` branch",
    );
    malformed("(diverge x (default))", "3:10", "expected a string");
    malformed("(fails-on patched \"text\")", "3:25", "expected a string");
    malformed("(drive", "3:7", "expected `)`");
    malformed("(expect (count 1)))", "3:19", "");
}

/// Where `needle` first occurs in `src`, as LINE:COL.
fn line_col(src: &str, needle: &str) -> String {
    let offset = src.find(needle).expect("the needle is in the text");
    let line = 1 + src[..offset].matches('\n').count();
    let col = 1 + offset - src[..offset].rfind('\n').map_or(0, |i| i + 1);
    format!("{line}:{col}")
}

#[test]
fn malformed_components_say_where_and_what() {
    // The error points at the first occurrence of the middle argument.
    let at = |src: &str, needle: &str, what: &str| {
        let err = Scenario::parse_str(src, Some(Path::new("c.wast")))
            .expect_err(src)
            .to_string();
        let at = line_col(src, needle);
        assert!(err.contains(&format!("c.wast:{at}\n")), "{src}: {err}");
        assert!(err.contains(what), "{src}: {err}");
    };
    let export = |body: &str| {
        format!("(component\n  (actor a\n    (export f sync (result 1) (body {body}))))")
    };
    at(
        &export("yeild"),
        "yeild",
        "expected one of: left paren, `return`",
    );
    at(&export("(blok 1)"), "blok", "expected one of: `block`");
    at(
        &export("(spawn 0)"),
        "(spawn",
        "(spawn 0) names no thread body",
    );
    at(&export("yield"), "yield", "a sync-lifted export can only");
    at(
        &export("(call b.f sync)"),
        "(call",
        "`b.f` is not an export of an earlier actor",
    );
    at(&export("(note)"), ")))", "expected a number");
    at("(component)", "component", "at least one actor");
    at(
        "(component (actor a) (actor a))",
        "a))",
        "actor `a` declared twice",
    );
    at("(component (actor A))", "A", "`A` is not a valid name");
    at(
        "(component (actor a (export f lazy (result 1) (body))))",
        "lazy",
        "expected one of: `sync`, `callback`, `stackful`",
    );
    at(
        "(component (actor a (export f sync (body))))",
        "body",
        "expected keyword `result`",
    );
}

/// The code of a Markdown page: inline code spans and fenced blocks, with
/// the info string of each fenced block.
fn code(page: &str) -> (Vec<String>, Vec<(String, String)>) {
    let (mut spans, mut blocks) = (Vec::new(), Vec::new());
    let mut lines = page.lines();
    while let Some(line) = lines.next() {
        if let Some(info) = line.strip_prefix("```") {
            let body: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.starts_with("```"))
                .collect();
            blocks.push((info.to_string(), body.join("\n")));
            continue;
        }
        spans.extend(line.split('`').skip(1).step_by(2).map(str::to_string));
    }
    (spans, blocks)
}

#[test]
fn the_language_page_knows_every_keyword_and_its_examples_parse() {
    let page = std::fs::read_to_string(workspace("docs/scenario-language.md")).unwrap();
    let (spans, blocks) = code(&page);
    let words: std::collections::BTreeSet<&str> = spans
        .iter()
        .map(String::as_str)
        .chain(blocks.iter().map(|(_, b)| b.as_str()))
        .flat_map(|code| code.split(|c: char| c.is_whitespace() || c == '(' || c == ')'))
        .collect();
    let examples: Vec<&String> = blocks
        .iter()
        .filter(|(info, _)| info == "wast")
        .map(|(_, b)| b)
        .collect();
    let used: std::collections::BTreeSet<&str> = examples
        .iter()
        .flat_map(|code| code.split(|c: char| c.is_whitespace() || c == '(' || c == ')'))
        .collect();
    for keyword in conformance::KEYWORDS {
        assert!(words.contains(keyword), "`{keyword}` is not on the page");
        assert!(
            used.contains(keyword),
            "no example on the page uses `{keyword}`"
        );
    }
    assert!(examples.len() >= 4, "only {} examples", examples.len());
    for example in examples {
        let scenario = Scenario::parse_str(example, None).unwrap_or_else(|e| panic!("{e}"));
        round_trip(&scenario);
    }
}

/// The 200 seeds every test run plays reach the shapes of issue 19: a
/// waitable set dropped with a task waiting on it (stackful and callback
/// waiters, whose instance then traps) and without; a subtask kept in the
/// actor's slot and cancelled (blocking and async) by another export's
/// task; an async cancel from a sync-lifted task; a task that starts a
/// subtask and may exit holding it; a cancel of a returning callee whose
/// stackful body yields (not cancellably) before `task.return`.
#[test]
fn generated_plans_reach_the_shapes_of_issue_19() {
    use conformance::spec::{Lift, Step};
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for seed in 0..200 {
        let plan = Plan::generate(seed);
        let mut hit = |shape| *seen.entry(shape).or_default() += 1;
        for actor in &plan.spec.actors {
            let bodies = |export: &conformance::spec::Export| {
                let mut steps = export.body.clone();
                steps.extend(export.threads.iter().flatten().cloned());
                steps
            };
            let has =
                |e: &conformance::spec::Export, f: &dyn Fn(&Step) -> bool| bodies(e).iter().any(f);
            for e in &actor.exports {
                match (e.name.as_str(), e.lift) {
                    ("waiter", Lift::Stackful) => hit("stackful set waiter, trap"),
                    ("waiter", Lift::Callback) => hit("callback set waiter, trap"),
                    _ => {}
                }
                if e.name != "trap" && has(e, &|s| *s == Step::DropSet) {
                    hit("drop-set without waiter");
                }
                if e.lift == Lift::Sync && has(e, &|s| *s == Step::CancelKeptAsync) {
                    hit("cancel-kept-async from a sync lift");
                }
                if e.lift == Lift::Sync && has(e, &|s| matches!(s, Step::Start { .. })) {
                    hit("start from a sync lift");
                }
                let starts =
                    |o: &conformance::spec::Export| has(o, &|s| matches!(s, Step::Start { .. }));
                let others_start = actor.exports.iter().any(|o| o.name != e.name && starts(o));
                if others_start && has(e, &|s| *s == Step::CancelKept) {
                    hit("cancel-kept of another task's subtask");
                }
                if others_start && has(e, &|s| *s == Step::CancelKeptAsync) {
                    hit("cancel-kept-async of another task's subtask");
                }
            }
        }
        // A stackful returning callee that yields before it returns, which
        // some body cancels.
        let cancelled: Vec<_> = plan
            .spec
            .actors
            .iter()
            .flat_map(|a| &a.exports)
            .flat_map(|e| e.body.iter().chain(e.threads.iter().flatten()))
            .filter_map(|s| match s {
                Step::CallCancel { target } | Step::CallCancelAsync { target } => Some(target),
                _ => None,
            })
            .collect();
        for target in cancelled {
            let (_, e) = plan.spec.export(target).unwrap();
            let ret = e.body.iter().position(|s| *s == Step::Return);
            if e.lift == Lift::Stackful && ret.is_some_and(|r| e.body[..r].contains(&Step::Yield)) {
                hit("cancel pending across a yield, then task.return");
            }
        }
    }
    println!("{seen:#?}");
    for shape in [
        "stackful set waiter, trap",
        "callback set waiter, trap",
        "drop-set without waiter",
        "cancel-kept-async from a sync lift",
        "start from a sync lift",
        "cancel-kept of another task's subtask",
        "cancel-kept-async of another task's subtask",
        "cancel pending across a yield, then task.return",
    ] {
        assert!(seen.contains_key(shape), "no seed below 200 has: {shape}");
    }
}
