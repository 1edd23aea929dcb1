//! The worker's rules for post-return work, timeouts and shutdown, and the
//! report it gives for every instance it drops.
//!
//! Each test waits on the probe's signals under [`BOUND`], or [`PROMPT`] for
//! what must happen at once. Durations passed to the handler (timeouts, the
//! stdout delay that stands for slow post-response work) are the scenario;
//! the assertions compare the reports' durations with them.

use http_host::{Events, Settings, get, handler, plain_handler, read_body};
use std::time::{Duration, Instant};
use wasmtime_wasi_http::handler::{InstanceEndReason, InstanceReport};

const BOUND: Duration = Duration::from_secs(60);
/// The bound for what takes milliseconds: a report that should come at once.
const PROMPT: Duration = Duration::from_secs(5);
const MESSAGE: &str = http_guests::POST_RESPONSE_MESSAGE;

/// The only report, once the only store was dropped.
fn only_report(events: &Events) -> &InstanceReport {
    assert_eq!(events.reports.len(), 1, "{events:?}");
    let (report, dropped) = &events.reports[0];
    assert_eq!(*dropped, 1, "reported after the store was dropped");
    assert!(report.post_return <= report.lifetime, "{report:?}");
    report
}

async fn reported(probe: &http_host::Probe, n: usize) -> Events {
    probe.wait_for(BOUND, |e| e.reports.len() == n).await
}

async fn reported_at_once(probe: &http_host::Probe, n: usize) -> Events {
    probe.wait_for(PROMPT, |e| e.reports.len() == n).await
}

#[tokio::test]
async fn post_return_budget_longer_than_the_request_timeout_lets_the_work_finish() {
    // The work after the response takes longer than a request may.
    let (handler, probe) = handler(
        &http_guests::post_response().unwrap(),
        Settings {
            request_timeout: Duration::from_millis(300),
            post_return_timeout: Some(BOUND),
            stdout_delay: Some(Duration::from_millis(900)),
            max_instance_reuse_count: 1,
            ..Settings::default()
        },
    )
    .unwrap();

    let response = get(&handler).await.unwrap();
    assert_eq!(read_body(response, BOUND).await.unwrap(), "");

    let events = reported(&probe, 1).await;
    assert_eq!(events.stdout_at_drop, [MESSAGE]);
    assert!(events.worker_errors.is_empty(), "{events:?}");
    let report = only_report(&events);
    assert_eq!(report.reason, InstanceEndReason::ReuseLimit);
    assert_eq!(report.requests, 1);
    assert!(
        report.post_return > Duration::from_millis(300),
        "the store stayed busy past the request timeout: {report:?}"
    );
}

#[tokio::test]
async fn post_return_budget_shorter_than_the_request_timeout_cuts_the_work() {
    // Stdout never takes the line: the work never ends. The request timeout
    // is far away; the budget ends it.
    let budget = Duration::from_millis(300);
    let (handler, probe) = handler(
        &http_guests::post_response().unwrap(),
        Settings {
            request_timeout: BOUND * 2,
            post_return_timeout: Some(budget),
            stdout_blocks: true,
            max_instance_reuse_count: 1,
            ..Settings::default()
        },
    )
    .unwrap();

    let response = get(&handler).await.unwrap();
    assert_eq!(read_body(response, BOUND).await.unwrap(), "");

    // The budget ends it in 300 ms; the request timeout would only after
    // two minutes.
    let events = probe.wait_for(PROMPT * 2, |e| e.reports.len() == 1).await;
    assert_eq!(events.stdout_at_drop, [""]);
    assert_eq!(events.worker_errors.len(), 1, "{events:?}");
    assert!(
        events.worker_errors[0].contains("post-return timeout"),
        "{events:?}"
    );
    let report = only_report(&events);
    assert_eq!(report.reason, InstanceEndReason::PostReturnTimeout);
    assert_eq!(report.requests, 1);
    assert!(report.post_return >= budget, "{report:?}");
    assert!(report.post_return < BOUND, "{report:?}");
}

#[tokio::test]
async fn default_budget_is_the_request_timeout() {
    // A state that implements none of the new methods: post-return work is
    // bounded by the request timeout, as before, and nothing is reported.
    let timeout = Duration::from_millis(300);
    let (handler, probe) = plain_handler(
        &http_guests::post_response().unwrap(),
        Settings {
            request_timeout: timeout,
            stdout_blocks: true,
            max_instance_reuse_count: 1,
            ..Settings::default()
        },
    )
    .unwrap();

    let sent = Instant::now();
    let response = get(&handler).await.unwrap();
    assert_eq!(read_body(response, BOUND).await.unwrap(), "");

    let events = probe.wait_for(BOUND, |e| e.stores_dropped == 1).await;
    assert!(events.dropped_at[0] - sent >= timeout, "{events:?}");
    assert_eq!(events.stdout_at_drop, [""]);
    assert_eq!(events.worker_errors.len(), 1, "{events:?}");
    assert!(
        events.worker_errors[0].contains("guest timed out"),
        "{events:?}"
    );
    assert!(events.reports.is_empty(), "{events:?}");
}

#[tokio::test]
async fn timed_out_request_leaves_the_other_requests_work_to_finish() {
    // Two requests in one instance. The first one's response is held, so its
    // task stays in flight and times out; the second completes, and its
    // guest's post-response work (slow stdout) is still going on when the
    // first times out. The worker accepts nothing more, but lets that work
    // finish within the budget before it drops the instance.
    let request_timeout = Duration::from_millis(400);
    let (handler, probe) = handler(
        &http_guests::post_response().unwrap(),
        Settings {
            request_timeout,
            post_return_timeout: Some(BOUND),
            stdout_delay: Some(Duration::from_millis(1200)),
            max_instance_concurrent_reuse_count: 2,
            idle_instance_timeout: BOUND * 2,
            ..Settings::default()
        },
    )
    .unwrap();

    let held = get(&handler).await.unwrap();
    let second = get(&handler).await.unwrap();
    assert_eq!(read_body(second, BOUND).await.unwrap(), "");
    // The first request times out; only then is its body read, which lets
    // its guest go on to its own post-response work.
    probe.wait_for(BOUND, |e| e.tasks_dropped == 1).await;
    assert_eq!(read_body(held, BOUND).await.unwrap(), "");

    let events = reported(&probe, 1).await;
    assert_eq!(events.stores_created, 1, "{events:?}");
    assert_eq!(events.stdout_at_drop, [MESSAGE.repeat(2)]);
    assert_eq!(events.worker_errors.len(), 1, "{events:?}");
    assert!(
        events.worker_errors[0].contains("guest timed out"),
        "{events:?}"
    );
    let report = only_report(&events);
    assert_eq!(report.reason, InstanceEndReason::RequestTimeout);
    assert_eq!(report.requests, 2);
    assert!(report.lifetime >= request_timeout, "{report:?}");
}

#[tokio::test]
async fn request_timeout_is_reported() {
    // The streaming guest blocks on its body forever: the request times out,
    // and the budget (the request timeout) bounds the wait for its task.
    let timeout = Duration::from_millis(300);
    let (handler, probe) = handler(
        &http_guests::streaming().unwrap(),
        Settings {
            request_timeout: timeout,
            idle_instance_timeout: BOUND * 2,
            ..Settings::default()
        },
    )
    .unwrap();

    let response = get(&handler).await.unwrap();
    let events = reported(&probe, 1).await;
    let report = only_report(&events);
    assert_eq!(report.reason, InstanceEndReason::RequestTimeout);
    assert_eq!(report.requests, 1);
    // The request's own timeout, then the budget for the task it left.
    assert!(report.lifetime >= timeout * 2, "{report:?}");
    assert!(report.lifetime < BOUND, "{report:?}");
    drop(response);
}

#[tokio::test]
async fn idle_timeout_is_reported() {
    let idle = Duration::from_millis(300);
    let (handler, probe) = handler(
        &http_guests::post_response().unwrap(),
        Settings {
            idle_instance_timeout: idle,
            ..Settings::default()
        },
    )
    .unwrap();

    let response = get(&handler).await.unwrap();
    assert_eq!(read_body(response, BOUND).await.unwrap(), "");

    let events = reported(&probe, 1).await;
    assert_eq!(events.stdout_at_drop, [MESSAGE]);
    assert!(events.worker_errors.is_empty(), "{events:?}");
    let report = only_report(&events);
    assert_eq!(report.reason, InstanceEndReason::IdleTimeout);
    assert_eq!(report.requests, 1);
    assert!(report.lifetime >= idle + report.post_return, "{report:?}");
}

#[tokio::test]
async fn trap_is_reported_as_an_error() {
    let (handler, probe) = handler(
        &http_guests::trap_after_response().unwrap(),
        Settings {
            idle_instance_timeout: BOUND * 2,
            ..Settings::default()
        },
    )
    .unwrap();

    let response = get(&handler).await.unwrap();
    assert_eq!(read_body(response, BOUND).await.unwrap(), "");

    let events = reported_at_once(&probe, 1).await;
    assert_eq!(events.worker_errors.len(), 1, "{events:?}");
    assert!(
        events.worker_errors[0].contains("unreachable"),
        "{events:?}"
    );
    let report = only_report(&events);
    assert_eq!(report.reason, InstanceEndReason::Error);
    assert_eq!(report.requests, 1);
}

#[tokio::test]
async fn shutdown_drops_an_idle_instance_at_once() {
    // Without the shutdown, the idle timer would keep it for longer than the
    // bound.
    let (handler, probe) = handler(
        &http_guests::post_response().unwrap(),
        Settings {
            idle_instance_timeout: BOUND * 2,
            ..Settings::default()
        },
    )
    .unwrap();

    let response = get(&handler).await.unwrap();
    assert_eq!(read_body(response, BOUND).await.unwrap(), "");
    probe.wait_for_stdout(BOUND, MESSAGE, 1).await;

    handler.shutdown(None);
    let events = reported_at_once(&probe, 1).await;
    assert!(events.worker_errors.is_empty(), "{events:?}");
    let report = only_report(&events);
    assert_eq!(report.reason, InstanceEndReason::Shutdown);
    assert_eq!(report.requests, 1);
}

#[tokio::test]
async fn shutdown_lets_post_return_work_finish() {
    let (handler, probe) = handler(
        &http_guests::post_response().unwrap(),
        Settings {
            idle_instance_timeout: BOUND * 2,
            post_return_timeout: Some(BOUND),
            stdout_delay: Some(Duration::from_millis(600)),
            ..Settings::default()
        },
    )
    .unwrap();

    let response = get(&handler).await.unwrap();
    assert_eq!(read_body(response, BOUND).await.unwrap(), "");
    handler.shutdown(None);

    let events = reported(&probe, 1).await;
    assert_eq!(events.stdout_at_drop, [MESSAGE]);
    assert!(events.worker_errors.is_empty(), "{events:?}");
    let report = only_report(&events);
    assert_eq!(report.reason, InstanceEndReason::Shutdown);
    assert!(report.post_return > Duration::ZERO, "{report:?}");
}

#[tokio::test]
async fn shutdown_deadline_cuts_work_that_never_ends() {
    // Work that never ends, and no budget to end it: only the shutdown
    // deadline does.
    let (handler, probe) = handler(
        &http_guests::post_response().unwrap(),
        Settings {
            request_timeout: Duration::MAX,
            idle_instance_timeout: BOUND * 2,
            stdout_blocks: true,
            ..Settings::default()
        },
    )
    .unwrap();

    let response = get(&handler).await.unwrap();
    assert_eq!(read_body(response, BOUND).await.unwrap(), "");
    let grace = Duration::from_millis(300);
    let asked = Instant::now();
    handler.shutdown(Some(asked + grace));

    let events = reported(&probe, 1).await;
    assert!(events.dropped_at[0] - asked >= grace, "{events:?}");
    assert_eq!(events.stdout_at_drop, [""]);
    assert!(events.worker_errors.is_empty(), "{events:?}");
    let report = only_report(&events);
    assert_eq!(report.reason, InstanceEndReason::Shutdown);
    assert!(report.post_return >= grace, "{report:?}");
}

#[tokio::test]
async fn request_during_post_return_work_restarts_the_budget() {
    // Each request's work takes about 900 ms after its response (the guest
    // sleeps 100 ms, stdout takes 800 ms); the budget is 1200 ms. A second
    // request arrives 600 ms after the first response, while the first
    // one's work goes on: the instance is busy for about 1500 ms after the
    // first response, more than the budget, yet no budget runs out, because
    // the second request stopped the first budget and started its own once
    // it finished.
    let (handler, probe) = handler(
        &http_guests::post_response().unwrap(),
        Settings {
            post_return_timeout: Some(Duration::from_millis(1200)),
            stdout_delay: Some(Duration::from_millis(800)),
            max_instance_reuse_count: 2,
            idle_instance_timeout: BOUND * 2,
            ..Settings::default()
        },
    )
    .unwrap();

    let response = get(&handler).await.unwrap();
    assert_eq!(read_body(response, BOUND).await.unwrap(), "");
    // Part of the first request's work (this sleep is the scenario).
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        probe.stdout(),
        "",
        "the first request's work is still going on"
    );
    let response = get(&handler).await.unwrap();
    assert_eq!(read_body(response, BOUND).await.unwrap(), "");

    let events = reported(&probe, 1).await;
    assert_eq!(events.stores_created, 1, "{events:?}");
    assert_eq!(events.stdout_at_drop, [MESSAGE.repeat(2)]);
    assert!(events.worker_errors.is_empty(), "{events:?}");
    let report = only_report(&events);
    assert_eq!(report.reason, InstanceEndReason::ReuseLimit);
    assert_eq!(report.requests, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_wait_for_room_in_a_full_instance_pool() {
    // Room for two instances, each kept alive by post-response work after
    // its only request: twelve requests at once must take turns, and none
    // fails for want of an instance.
    let (handler, probe) = handler(
        &http_guests::post_response().unwrap(),
        Settings {
            max_instance_reuse_count: 1,
            pool_component_instances: Some(2),
            ..Settings::default()
        },
    )
    .unwrap();

    let requests = (0..12).map(|_| {
        let handler = handler.clone();
        tokio::spawn(async move {
            let response = get(&handler).await?;
            anyhow::ensure!(response.status() == 200, "{}", response.status());
            read_body(response, BOUND).await
        })
    });
    for request in futures::future::join_all(requests).await {
        assert_eq!(request.unwrap().unwrap(), "");
    }

    let events = reported(&probe, 12).await;
    assert!(events.worker_errors.is_empty(), "{events:?}");
    assert!(events.task_errors.is_empty(), "{events:?}");
    assert_eq!(probe.stdout().matches(MESSAGE).count(), 12);
    for (report, _) in &events.reports {
        assert_eq!(report.reason, InstanceEndReason::ReuseLimit, "{report:?}");
        assert_eq!(report.requests, 1, "{report:?}");
    }
}
