//! The cancellable steps in fixed setups, with the exact notes: where a
//! cancellation finds the callee decides what `subtask.cancel` returns and
//! which built-in sees it (generated scenarios check counts and results,
//! not notes). 99 is a BLOCKED async cancel, 100 + status the cancel's
//! outcome, 301 and 302 a cancellable `thread.yield` and `waitable-set.poll`
//! that saw the cancellation.

fn run(src: &str) {
    if let Err(e) = conformance::run_str(src) {
        panic!("{e:?}");
    }
}

/// A callee `body` cancelled with the async `subtask.cancel` by a stackful
/// and by a callback caller; `notes` are what either sees.
fn cancelled(lift: &str, body: &str, notes: &str) {
    for caller in ["stackful", "callback"] {
        run(&format!(
            "(component
               (actor b (export w {lift} (result 2) (body {body})))
               (actor a
                 (export run {caller} (result 1)
                   (body (call-cancel-async b.w) return exit))))
             (call c1 a.run)
             (drive)
             (expect (result c1 1) (notes {notes}) (count 0) (ready))"
        ));
    }
}

#[test]
fn not_cancelled_they_go_on() {
    for lift in ["stackful", "callback"] {
        run(&format!(
            "(component
               (actor a
                 (export f {lift} (result 1)
                   (body yield-cancellable (note 1) poll-cancellable (note 2) return exit))))
             (call c1 a.f)
             (drive)
             (expect (result c1 1) (notes 1 2) (count 0) (ready))"
        ));
    }
}

#[test]
fn cancel_in_a_cancellable_wait_returns_return_cancelled() {
    cancelled("stackful", "wait-cancel", "104");
    cancelled("callback", "wait-cancel", "104");
}

#[test]
fn cancel_in_a_cancellable_yield_resumes_it_at_once() {
    cancelled("stackful", "yield-cancellable wait-cancel", "301 104");
    cancelled("callback", "yield-cancellable wait-cancel", "301 104");
}

#[test]
fn cancel_in_a_non_cancellable_yield_stays_pending() {
    cancelled("stackful", "yield wait-cancel", "99 104");
    cancelled(
        "stackful",
        "yield poll-cancellable wait-cancel",
        "99 302 104",
    );
    cancelled(
        "stackful",
        "yield yield-cancellable wait-cancel",
        "99 301 104",
    );
}

#[test]
fn cancel_while_blocked_on_the_host_waits_for_it() {
    run("(component
           (actor b
             (export w stackful (result 2) (body (block 1) poll-cancellable wait-cancel)))
           (actor a
             (export run stackful (result 1)
               (body (call-cancel-async b.w) return))))
         (call c1 a.run)
         (drive)
         (expect (result c1 pending) (notes 99) (count 2) (pending))
         (release 1)
         (drive)
         (expect (result c1 1) (notes 99 302 104) (count 0) (ready) (wakes 1))");
}

#[test]
fn starting_cancel_is_start_cancelled() {
    for cancel in ["call-cancel", "call-cancel-async"] {
        run(&format!(
            "(component
               (actor b
                 (export hold stackful (result 3)
                   (body backpressure-inc return (block 1) backpressure-dec))
                 (export w stackful (result 2) (body wait-cancel)))
               (actor a
                 (export run stackful (result 1)
                   (body ({cancel} b.w) return))))
             (call c1 b.hold)
             (drive)
             (call c2 a.run)
             (drive)
             (expect (result c1 3) (result c2 1) (notes 103) (count 1) (pending))
             (release 1)
             (drive)
             (expect (count 0) (ready) (wakes 1))"
        ));
    }
}

#[test]
fn returned_subtask_dropped_while_its_thread_runs() {
    run("(component
           (actor a
             (export f stackful (result 2)
               (body (spawn 0) return exit)
               (thread (block 1) yield-cancellable poll-cancellable (note 7))))
           (actor b
             (export run callback (result 1)
               (body (call a.f async) return exit))))
         (call c1 b.run)
         (drive)
         (expect (result c1 1) (count 0) (ready))
         (release 1)
         (drive)
         (expect (notes 7) (count 0) (ready))");
}

#[test]
fn thread_waits_and_yields_while_its_callback_yields() {
    run("(component
           (actor a
             (export f callback (result 1)
               (body (spawn 0) yield yield exit)
               (thread yield-cancellable (block 1) poll-cancellable return (note 1)))))
         (call c1 a.f)
         (drive)
         (expect (result c1 pending) (count 1) (pending))
         (release 1)
         (drive)
         (expect (result c1 1) (notes 1) (count 0) (ready) (wakes 1))");
}

#[test]
fn a_malformed_scenario_is_an_error_before_anything_runs() {
    // `(release)` without its gate once made the runner index past the end
    // of the list and report a panic.
    let err = conformance::run_str(
        "(component (actor a (export f callback (result 1) (body (block 1) return exit))))
         (call c1 a.f)
         (drive)
         (release)",
    )
    .expect_err("a malformed scenario");
    let err = format!("{err:#}");
    assert!(err.contains("expected a number"), "{err}");
    assert!(err.contains("<scenario>:4:18"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
