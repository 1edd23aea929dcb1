//! The rules of the handler's queue (`Dispatch` in `handler.rs`): every
//! request gets one answer, none runs after it was given up, none is left
//! waiting for nobody, requests waiting for room start in the order they
//! came, and no worker is started that cannot make progress.  Also the
//! bounds the handler promises around them.
//!
//! Most tests run on a paused clock ([`common::paused`]): durations are
//! virtual, and a `sleep` returns only once everything due before it has
//! happened.

use crate::common::paused;
use http_host::{Response, Settings, TestState, get_as, handler, plain_handler, read_body};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep};
use wasmtime_wasi_http::handler::{InstanceEndReason, ProxyHandler};

const BOUND: Duration = Duration::from_secs(60);
const DROPPED: &str = "dropped the request's task without running it";

/// Starts `GET /` with `req_id` in a task of its own.
fn start<S: http_host::Probed>(
    handler: &ProxyHandler<S>,
    req_id: u64,
) -> JoinHandle<anyhow::Result<Response>> {
    let handler = handler.clone();
    tokio::spawn(async move { get_as(&handler, req_id).await })
}

/// The status of a response, after its body was read.
async fn status(response: Response) -> u16 {
    let status = response.status().as_u16();
    read_body(response, BOUND).await.unwrap();
    status
}

/// `shutdown`'s deadline `after` from now on the test's clock.
fn deadline_in(after: Duration) -> std::time::Instant {
    (Instant::now() + after).into_std()
}

/// A handler whose pool has room for one instance, and that room taken by
/// another user of the same engine.
async fn full_pool(
    component: &[u8],
    settings: Settings,
) -> (
    ProxyHandler<TestState>,
    std::sync::Arc<http_host::Probe>,
    wasmtime::Store<http_host::Host>,
) {
    let (handler, probe) = handler(
        component,
        Settings {
            pool_component_instances: Some(1),
            max_instance_reuse_count: 1,
            ..settings
        },
    )
    .unwrap();
    let occupied = handler.state().occupy().await.unwrap();
    (handler, probe, occupied)
}

#[test]
fn request_after_shutdown_gets_an_instance_of_its_own() {
    // An idle worker is available when the shutdown and the request come in
    // the same step: the request is queued for it, but it then closes.  The
    // request must still be served, by a worker of its own, and nothing may
    // be started after that.
    paused(|| async {
        let (handler, probe) = handler(
            &http_guests::minimal().unwrap(),
            Settings {
                idle_instance_timeout: Duration::from_secs(3600),
                ..Settings::default()
            },
        )
        .unwrap();
        assert_eq!(status(get_as(&handler, 0).await.unwrap()).await, 200);
        sleep(Duration::from_secs(1)).await;

        handler.shutdown(None);
        let late = start(&handler, 1);
        assert_eq!(status(late.await.unwrap().unwrap()).await, 200);

        let events = probe.wait_for(BOUND, |e| e.reports.len() == 2).await;
        sleep(Duration::from_secs(60)).await;
        assert_eq!(
            probe.events(),
            events,
            "something ran after both instances ended"
        );
        assert_eq!(events.stores_created, 2, "{events:?}");
        assert_eq!(events.tasks_started, [0, 1]);
        for (report, _) in &events.reports {
            assert_eq!(report.reason, InstanceEndReason::Shutdown, "{report:?}");
            assert_eq!(report.requests, 1, "{report:?}");
        }
    });
}

#[test]
fn request_after_the_shutdown_deadline_never_runs() {
    paused(|| async {
        let (handler, probe) =
            handler(&http_guests::minimal().unwrap(), Settings::default()).unwrap();
        handler.shutdown(Some(deadline_in(Duration::ZERO)));
        let error = get_as(&handler, 1).await.unwrap_err();
        assert!(error.to_string().contains(DROPPED), "{error}");
        let events = probe.events();
        assert_eq!(events.stores_created, 0, "{events:?}");
        assert!(events.tasks_started.is_empty(), "{events:?}");
    });
}

#[test]
fn request_waiting_for_room_is_dropped_at_the_shutdown_deadline() {
    paused(|| async {
        let (handler, probe, _occupied) =
            full_pool(&http_guests::minimal().unwrap(), Settings::default()).await;
        let waiting = start(&handler, 1);
        sleep(Duration::from_secs(1)).await;
        let shutdown_at = Instant::now();
        handler.shutdown(Some(deadline_in(Duration::from_secs(2))));

        let error = waiting.await.unwrap().unwrap_err();
        assert!(error.to_string().contains(DROPPED), "{error}");
        assert_eq!(shutdown_at.elapsed(), Duration::from_secs(2));
        sleep(Duration::from_secs(60)).await;
        assert!(probe.events().tasks_started.is_empty());
    });
}

#[test]
fn default_state_on_a_full_pool_starts_no_worker_after_worker() {
    // A state that implements none of the new methods, so a full pool is an
    // instantiation error.  The one instance takes one request at a time;
    // while it serves one, the next request's worker fails to instantiate.
    // That request must then wait for the instance, as in 44.0.3, and no
    // worker may be started after that one while the instance stays busy.
    paused(|| async {
        let (handler, probe) = plain_handler(
            &http_guests::minimal().unwrap(),
            Settings {
                pool_component_instances: Some(1),
                max_instance_concurrent_reuse_count: 1,
                idle_instance_timeout: Duration::from_secs(3600),
                ..Settings::default()
            },
        )
        .unwrap();
        assert_eq!(status(get_as(&handler, 0).await.unwrap()).await, 200);
        sleep(Duration::from_secs(1)).await;

        let first = start(&handler, 1);
        let second = start(&handler, 2);
        let first = first.await.unwrap().unwrap();
        probe.wait_for(BOUND, |e| !e.worker_errors.is_empty()).await;
        sleep(Duration::from_secs(10)).await;
        let events = probe.events();
        assert_eq!(events.stores_created, 2, "{events:?}");
        assert_eq!(events.worker_errors.len(), 1, "{events:?}");
        assert!(!second.is_finished());

        assert_eq!(status(first).await, 200);
        assert_eq!(status(second.await.unwrap().unwrap()).await, 200);
        let events = probe.events();
        assert_eq!(events.stores_created, 2, "{events:?}");
        assert_eq!(events.tasks_started, [0, 1, 2]);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_between_a_failed_instantiation_and_the_requeue_is_not_missed() {
    // The second request's instantiation finds the pool full; before the
    // handler hears of it, the first request's instance is dropped.  The
    // second request must not wait for another event: its wait for room
    // may last only 5 ms, less than the first backoff.
    let (handler, probe) = handler(
        &http_guests::post_response().unwrap(),
        Settings {
            pool_component_instances: Some(1),
            max_instance_reuse_count: 1,
            no_room_waits_for_a_drop: true,
            instance_wait_timeout: Some(Duration::from_millis(5)),
            ..Settings::default()
        },
    )
    .unwrap();
    let first = get_as(&handler, 1).await.unwrap();
    let second = start(&handler, 2);
    assert_eq!(status(first).await, 200);
    assert_eq!(status(second.await.unwrap().unwrap()).await, 200);
    let events = probe.wait_for(BOUND, |e| e.reports.len() == 2).await;
    assert_eq!(events.tasks_started, [1, 2]);
    assert!(events.worker_errors.is_empty(), "{events:?}");
}

#[test]
fn room_freed_by_another_user_of_the_pool_is_found() {
    // Only another user of the same pool holds the room: no instance of this
    // handler is ever dropped, so only the retries after a backoff find it.
    paused(|| async {
        let (handler, probe, occupied) =
            full_pool(&http_guests::minimal().unwrap(), Settings::default()).await;
        let waiting = start(&handler, 1);
        sleep(Duration::from_secs(10)).await;
        assert!(!waiting.is_finished());
        // Attempts after 0, 10, 20, ... 640 ms and then every second: a
        // bounded number, not one per turn of the runtime.
        let attempts = probe.events().stores_created;
        assert!((2..=20).contains(&attempts), "{attempts} attempts in 10 s");

        let freed = Instant::now();
        drop(occupied);
        assert_eq!(status(waiting.await.unwrap().unwrap()).await, 200);
        assert!(
            freed.elapsed() <= Duration::from_secs(1),
            "{:?}",
            freed.elapsed()
        );
    });
}

#[test]
fn wait_timeout_counts_only_the_wait_for_room() {
    // No pool, so never a wait for room: a wait timeout of zero refuses
    // nothing.
    paused(|| async {
        let (handler, probe) = handler(
            &http_guests::minimal().unwrap(),
            Settings {
                instance_wait_timeout: Some(Duration::ZERO),
                max_instance_reuse_count: 1,
                ..Settings::default()
            },
        )
        .unwrap();
        for id in 0..4 {
            assert_eq!(status(get_as(&handler, id).await.unwrap()).await, 200);
        }
        assert_eq!(probe.events().tasks_started, [0, 1, 2, 3]);
    });
}

#[test]
fn request_given_up_for_room_never_runs() {
    paused(|| async {
        let (handler, probe, occupied) = full_pool(
            &http_guests::minimal().unwrap(),
            Settings {
                instance_wait_timeout: Some(Duration::from_millis(500)),
                ..Settings::default()
            },
        )
        .await;
        let sent = Instant::now();
        let error = get_as(&handler, 1).await.unwrap_err();
        assert!(error.to_string().contains(DROPPED), "{error}");
        assert_eq!(sent.elapsed(), Duration::from_millis(500));
        let attempts = probe.events().stores_created;

        // Room comes back; nothing may run for the request now.
        drop(occupied);
        sleep(Duration::from_secs(60)).await;
        let events = probe.events();
        assert!(events.tasks_started.is_empty(), "{events:?}");
        assert_eq!(events.stores_created, attempts, "{events:?}");

        // And the next request is served.
        assert_eq!(status(get_as(&handler, 2).await.unwrap()).await, 200);
    });
}

#[test]
fn requests_waiting_for_room_start_in_arrival_order_with_their_req_id() {
    paused(|| async {
        let (handler, probe, occupied) =
            full_pool(&http_guests::minimal().unwrap(), Settings::default()).await;
        let requests: Vec<_> = (1..=5).map(|id| start(&handler, id)).collect();
        sleep(Duration::from_secs(3)).await;
        drop(occupied);
        for request in requests {
            assert_eq!(status(request.await.unwrap().unwrap()).await, 200);
        }
        let events = probe.events();
        assert_eq!(events.tasks_started, [1, 2, 3, 4, 5]);
        // Every store, those whose instantiation found no room included, was
        // made for the request it was tried for.
        assert!(
            events.store_req_ids.iter().all(Option::is_some),
            "{:?}",
            events.store_req_ids
        );
        let ids: Vec<u64> = events.store_req_ids.iter().flatten().copied().collect();
        assert!(ids.iter().all(|id| (1..=5).contains(id)), "{ids:?}");
    });
}

#[test]
fn timed_out_request_ends_its_instance_within_twice_the_request_timeout() {
    // The bodies are never read, so the streaming guest blocks forever and
    // both requests time out; the second came 0.8 request timeouts after
    // the first.  The instance must be gone twice the request timeout after
    // the first was accepted.
    paused(|| async {
        let timeout = Duration::from_secs(1);
        let (handler, probe) = handler(
            &http_guests::streaming().unwrap(),
            Settings {
                request_timeout: timeout,
                idle_instance_timeout: Duration::from_secs(3600),
                ..Settings::default()
            },
        )
        .unwrap();
        let accepted = Instant::now();
        let first = get_as(&handler, 1).await.unwrap();
        sleep(timeout.mul_f64(0.8)).await;
        let second = get_as(&handler, 2).await.unwrap();

        let events = probe.wait_for(BOUND, |e| e.reports.len() == 1).await;
        assert_eq!(accepted.elapsed(), timeout * 2);
        let (report, _) = &events.reports[0];
        assert_eq!(
            report.reason,
            InstanceEndReason::RequestTimeout,
            "{report:?}"
        );
        assert_eq!(report.requests, 2);
        assert_eq!(events.stores_created, 1, "{events:?}");
        drop((first, second));
    });
}

#[test]
fn shutdown_while_closing_for_the_reuse_limit_is_reported_as_shutdown() {
    paused(|| async {
        let (handler, probe) = handler(
            &http_guests::post_response_sleeping(Duration::from_secs(5)).unwrap(),
            Settings {
                max_instance_reuse_count: 1,
                ..Settings::default()
            },
        )
        .unwrap();
        assert_eq!(status(get_as(&handler, 1).await.unwrap()).await, 200);
        sleep(Duration::from_secs(1)).await;
        handler.shutdown(None);
        let events = probe.wait_for(BOUND, |e| e.reports.len() == 1).await;
        let (report, _) = &events.reports[0];
        assert_eq!(report.reason, InstanceEndReason::Shutdown, "{report:?}");
        assert!(report.post_return >= Duration::from_secs(4), "{report:?}");
    });
}

/// A guest that spins after its response, on an engine with epoch
/// interruption, under a post-return budget or a shutdown deadline.
async fn spin(post_return_timeout: Duration, shutdown: Option<Duration>) -> InstanceReportAt {
    let (handler, probe) = handler(
        &http_guests::spin_after_response().unwrap(),
        Settings {
            epoch_interruption: true,
            post_return_timeout: Some(post_return_timeout),
            max_instance_reuse_count: 1,
            ..Settings::default()
        },
    )
    .unwrap();
    let response = get_as(&handler, 1).await.unwrap();
    let answered = std::time::Instant::now();
    assert_eq!(status(response).await, 200);
    if let Some(after) = shutdown {
        handler.shutdown(Some(answered + after));
    }
    let events = probe.wait_for(BOUND, |e| e.reports.len() == 1).await;
    InstanceReportAt {
        report: events.reports[0].0.clone(),
        after: events.dropped_at[0].duration_since(answered),
    }
}

struct InstanceReportAt {
    report: wasmtime_wasi_http::handler::InstanceReport,
    /// From the response to the drop of the store.
    after: Duration,
}

/// How late a deadline may be met: the epoch ticks every 10 ms, and the
/// machine may be busy.
const LATE: Duration = Duration::from_millis(400);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spinning_guest_is_cut_at_the_post_return_deadline() {
    let budget = Duration::from_millis(500);
    let ended = spin(budget, None).await;
    assert_eq!(ended.report.reason, InstanceEndReason::PostReturnTimeout);
    assert!(
        ended.after >= budget && ended.after <= budget + LATE,
        "dropped {:?} after the response",
        ended.after
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spinning_guest_is_cut_at_the_shutdown_deadline() {
    let deadline = Duration::from_millis(500);
    let ended = spin(Duration::MAX, Some(deadline)).await;
    assert_eq!(ended.report.reason, InstanceEndReason::Shutdown);
    assert!(
        ended.after >= deadline && ended.after <= deadline + LATE,
        "dropped {:?} after the response",
        ended.after
    );
}
