//! The example guests under the patched `wasmtime serve`, over real HTTP.
//!
//! Every server runs as `wasmtime serve -Wcomponent-model-async -Sp3,cli
//! --max-instance-reuse-count=1` on a loopback port: each request gets an
//! instance of its own, which the handler drops as soon as it may. What a
//! guest writes to stdout reaches the server's stdout (with a `stdout [N] ::`
//! prefix), which the test reads.
//!
//! The post-response guest writes its line only after it has returned its
//! response, sent the trailers, yielded three times and slept 100 ms, and its
//! write completes only once the host has taken the line. So the line on
//! stdout proves that the instance was still alive after the response, and
//! its task exits right after it: the instance can only have been dropped
//! after the side effect. Without the series the line never appears.

mod common;

use common::{FLAGS, lines};
use http_e2e::{Server, component_file, serial};

#[test]
fn post_response_work_completes_after_the_response() {
    let _serial = serial();
    let guest = component_file("post-response", &http_guests::post_response().unwrap());
    let server = Server::start(FLAGS, &guest);

    for n in 1..=2 {
        let response = server.get();
        assert_eq!(response.status, 200, "{response:?}");
        assert_eq!(response.body, "");
        assert!(response.complete, "{response:?}");
        // The response is complete and the connection closed; the guest is
        // still working, on an instance of its own.
        let output = server.wait_for("the post-response line", |o| lines(&o.stdout) == n);
        assert!(!output.stderr.contains("error"), "{output:#?}");
    }

    let output = server.shut_down();
    assert_eq!(lines(&output.stdout), 2, "{output:#?}");
    assert!(!output.stderr.contains("error"), "{output:#?}");
}

#[test]
fn graceful_shutdown_waits_for_post_response_work() {
    let _serial = serial();
    let guest = component_file("post-response", &http_guests::post_response().unwrap());
    let server = Server::start(FLAGS, &guest);

    let response = server.get();
    assert_eq!(response.status, 200, "{response:?}");
    // Ctrl-c while the guest is still working after its response (it sleeps
    // 100 ms before writing): no connection is open any more, yet the server
    // must wait for the instance before it exits.
    let before = server.output();
    assert_eq!(lines(&before.stdout), 0, "too late to test: {before:#?}");
    let output = server.shut_down();
    assert_eq!(
        lines(&output.stdout),
        1,
        "the work was cut short: {output:#?}"
    );
    assert!(
        output.stderr.contains("Waiting for child tasks to exit"),
        "{output:#?}"
    );
}

#[test]
fn body_streamed_after_handle_returns_arrives_whole() {
    let _serial = serial();
    let guest = component_file("streaming", &http_guests::streaming().unwrap());
    let server = Server::start(FLAGS, &guest);

    let response = server.get();
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.body, http_guests::STREAMING_BODY);
    assert!(response.complete, "{response:?}");

    let output = server.shut_down();
    assert!(!output.stderr.contains("error"), "{output:#?}");
}

#[test]
fn trapping_guest_does_not_keep_the_server_busy() {
    let _serial = serial();
    let guest = component_file(
        "trap-after-response",
        &http_guests::trap_after_response().unwrap(),
    );
    let server = Server::start(FLAGS, &guest);

    // The guest traps after its response; its task never exits. The worker
    // must end on the trap and the server go on serving.
    for n in 1..=2 {
        let response = server.get();
        assert_eq!(response.status, 200, "{response:?}");
        assert!(response.complete, "{response:?}");
        server.wait_for("the trap to be reported", |o| {
            o.stderr.matches("worker error").count() == n
        });
    }

    // Nothing left to wait for: the shutdown is immediate (a worker still
    // waiting on the trapped task would hold it until `bound()`).
    server.shut_down();
}

#[test]
fn work_outliving_the_request_timeout_does_not_keep_the_server_busy() {
    let _serial = serial();
    let guest = component_file("post-response", &http_guests::post_response().unwrap());
    // The request is over in a few milliseconds; the work after it takes at
    // least 100 ms, longer than the request timeout.
    let args = [FLAGS, &["-Wtimeout=30ms"]].concat();
    let server = Server::start(&args, &guest);

    for n in 1..=2 {
        let response = server.get();
        assert_eq!(response.status, 200, "{response:?}");
        server.wait_for("the timeout to be reported", |o| {
            o.stderr.matches("worker error: guest timed out").count() == n
        });
    }

    let output = server.shut_down();
    assert_eq!(
        lines(&output.stdout),
        0,
        "the work outlived the timeout: {output:#?}"
    );
}
