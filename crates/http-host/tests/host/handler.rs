//! The example guests through `ProxyHandler`, as an embedder runs them.
//!
//! Every wait is bounded by [`BOUND`], which is far longer than anything here
//! takes; a test that hits it has found a worker that never lets go. The
//! tests run on a current-thread runtime, like a single `wasmtime serve`
//! worker thread, which also makes the order in which the worker and the
//! test run deterministic.

use http_host::{Settings, get, handler, read_body};
use std::time::{Duration, Instant};

const BOUND: Duration = Duration::from_secs(60);
const MESSAGE: &str = http_guests::POST_RESPONSE_MESSAGE;

#[tokio::test]
async fn post_response_work_finishes_before_the_store_is_dropped() {
    let (handler, probe) = handler(
        &http_guests::post_response().unwrap(),
        Settings {
            max_instance_reuse_count: 1,
            ..Settings::default()
        },
    )
    .unwrap();

    let response = get(&handler).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(read_body(response, BOUND).await.unwrap(), "");

    // The reuse count is reached: the worker drops the instance, but only
    // once the guest's post-response work is done.
    let events = probe.wait_for(BOUND, |e| e.stores_dropped == 1).await;
    assert_eq!(events.stores_created, 1);
    assert_eq!(events.stdout_at_drop, [MESSAGE]);
    assert!(events.worker_errors.is_empty(), "{events:?}");
    assert!(events.task_errors.is_empty(), "{events:?}");
}

#[tokio::test]
async fn body_streamed_after_handle_returns_arrives_whole() {
    let (handler, probe) = handler(
        &http_guests::streaming().unwrap(),
        Settings {
            max_instance_reuse_count: 1,
            ..Settings::default()
        },
    )
    .unwrap();

    let response = get(&handler).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        read_body(response, BOUND).await.unwrap(),
        http_guests::STREAMING_BODY
    );

    let events = probe.wait_for(BOUND, |e| e.stores_dropped == 1).await;
    assert_eq!(events.stores_created, 1);
    assert!(events.worker_errors.is_empty(), "{events:?}");
    assert!(events.task_errors.is_empty(), "{events:?}");
}

#[tokio::test]
async fn reuse_count_reached_waits_for_the_work_of_every_request() {
    let (handler, probe) = handler(
        &http_guests::post_response().unwrap(),
        Settings {
            max_instance_reuse_count: 2,
            max_instance_concurrent_reuse_count: 2,
            idle_instance_timeout: Duration::from_secs(3600),
            ..Settings::default()
        },
    )
    .unwrap();

    // Two requests in flight at once in one instance: the first response is
    // held (its task stays in flight) while the second is sent.
    let first = get(&handler).await.unwrap();
    let second = get(&handler).await.unwrap();
    assert_eq!(probe.events().stores_created, 1, "the instance is reused");
    assert_eq!(read_body(first, BOUND).await.unwrap(), "");
    assert_eq!(read_body(second, BOUND).await.unwrap(), "");

    // Reuse count reached: no idle timeout involved (it is an hour), the
    // instance goes as soon as both guests' post-response work is done.
    let events = probe.wait_for(BOUND, |e| e.stores_dropped == 1).await;
    assert_eq!(events.stores_created, 1);
    assert_eq!(events.stdout_at_drop, [MESSAGE.repeat(2)]);
    assert!(events.worker_errors.is_empty(), "{events:?}");
}

#[tokio::test]
async fn idle_timer_starts_only_once_the_store_is_idle() {
    // An idle timeout of zero drops the instance the moment it is idle; the
    // reuse count is far away. The instance must still outlive the guest's
    // post-response work.
    let (handler, probe) = handler(
        &http_guests::post_response().unwrap(),
        Settings {
            idle_instance_timeout: Duration::ZERO,
            ..Settings::default()
        },
    )
    .unwrap();

    let response = get(&handler).await.unwrap();
    assert_eq!(read_body(response, BOUND).await.unwrap(), "");

    let events = probe.wait_for(BOUND, |e| e.stores_dropped == 1).await;
    assert_eq!(events.stdout_at_drop, [MESSAGE]);
    assert!(events.worker_errors.is_empty(), "{events:?}");
}

#[tokio::test]
async fn idle_timer_restarts_when_new_work_arrives() {
    let idle = Duration::from_secs(1);
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
    probe.wait_for_stdout(BOUND, MESSAGE, 1).await;

    // Part of the idle period passes (this sleep is the scenario, not a
    // synchronisation), then a second request arrives.
    tokio::time::sleep(idle / 5).await;
    let sent = Instant::now();
    let response = get(&handler).await.unwrap();
    assert_eq!(read_body(response, BOUND).await.unwrap(), "");

    // Same instance, and it is dropped a full idle period after it became
    // idle again, never on the first period's schedule.
    let events = probe.wait_for(BOUND, |e| e.stores_dropped == 1).await;
    assert_eq!(events.stores_created, 1);
    assert_eq!(events.stdout_at_drop, [MESSAGE.repeat(2)]);
    let lived = events.dropped_at[0] - sent;
    assert!(lived >= idle, "dropped {lived:?} after the second request");
    assert!(events.worker_errors.is_empty(), "{events:?}");
}

#[tokio::test]
async fn trapping_guest_does_not_keep_the_worker_alive() {
    // Neither the reuse count nor the idle timeout would end this worker
    // within the bound: only the trap does.
    let (handler, probe) = handler(
        &http_guests::trap_after_response().unwrap(),
        Settings {
            idle_instance_timeout: Duration::from_secs(3600),
            ..Settings::default()
        },
    )
    .unwrap();

    let response = get(&handler).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(read_body(response, BOUND).await.unwrap(), "");

    let events = probe.wait_for(BOUND, |e| e.stores_dropped == 1).await;
    assert_eq!(events.worker_errors.len(), 1, "{events:?}");
    assert!(
        events.worker_errors[0].contains("unreachable"),
        "{events:?}"
    );
}

#[tokio::test]
async fn timed_out_request_does_not_keep_the_worker_waiting() {
    // The body is never read, so the streaming guest blocks on its second
    // chunk forever and its task never exits. The request times out; the
    // worker must then drop the instance without waiting for that task.
    let (handler, probe) = handler(
        &http_guests::streaming().unwrap(),
        Settings {
            request_timeout: Duration::from_millis(500),
            idle_instance_timeout: Duration::from_secs(3600),
            ..Settings::default()
        },
    )
    .unwrap();

    let response = get(&handler).await.unwrap();
    assert_eq!(response.status(), 200);

    let events = probe.wait_for(BOUND, |e| e.stores_dropped == 1).await;
    assert_eq!(events.worker_errors.len(), 1, "{events:?}");
    assert!(
        events.worker_errors[0].contains("guest timed out"),
        "{events:?}"
    );
    drop(response);
}

#[tokio::test]
async fn post_response_work_is_bounded_by_the_request_timeout() {
    // Stdout never takes the guest's line, so its post-response work never
    // ends, although the request itself completed.
    let (handler, probe) = handler(
        &http_guests::post_response().unwrap(),
        Settings {
            request_timeout: Duration::from_millis(500),
            max_instance_reuse_count: 1,
            stdout_blocks: true,
            ..Settings::default()
        },
    )
    .unwrap();

    let response = get(&handler).await.unwrap();
    assert_eq!(read_body(response, BOUND).await.unwrap(), "");

    let events = probe.wait_for(BOUND, |e| e.stores_dropped == 1).await;
    assert_eq!(events.stdout_at_drop, [""]);
    assert_eq!(events.worker_errors.len(), 1, "{events:?}");
    assert!(
        events.worker_errors[0].contains("guest timed out"),
        "{events:?}"
    );
    assert!(events.task_errors.is_empty(), "{events:?}");
}
