//! `wasmtime serve`'s limits on post-return work, its report line for every
//! instance it drops, its shutdown, and requests under a full instance pool.
//!
//! The servers run with `WASMTIME_LOG=wasmtime_cli=info` (see
//! [`Server::start`]), which shows the report lines:
//! `Instance ended: reason=R requests=N post_return_ms=F lifetime_ms=F`.

mod common;

use common::{FLAGS, lines};
use http_e2e::{Server, bound, component_file, serial};
use std::time::{Duration, Instant};

/// One `Instance ended: ...` line of the server's log.
#[derive(Debug)]
struct Report {
    reason: String,
    requests: usize,
    post_return: Duration,
    lifetime: Duration,
}

/// Every report line in `stderr`, in order. A line that starts like one
/// but does not parse fails the test.
fn reports(stderr: &str) -> Vec<Report> {
    stderr
        .lines()
        .filter_map(|line| {
            let (_, fields) = line.split_once("Instance ended: ")?;
            let mut report = Report {
                reason: String::new(),
                requests: usize::MAX,
                post_return: Duration::MAX,
                lifetime: Duration::MAX,
            };
            for field in fields.split_whitespace() {
                let (name, value) = field
                    .split_once('=')
                    .unwrap_or_else(|| panic!("bad field {field:?} in {line:?}"));
                let ms = || Duration::from_secs_f64(value.parse::<f64>().unwrap() / 1e3);
                match name {
                    "reason" => report.reason = value.to_string(),
                    "requests" => report.requests = value.parse().unwrap(),
                    "post_return_ms" => report.post_return = ms(),
                    "lifetime_ms" => report.lifetime = ms(),
                    _ => panic!("unknown field {name:?} in {line:?}"),
                }
            }
            assert!(
                !report.reason.is_empty()
                    && report.requests != usize::MAX
                    && report.post_return <= report.lifetime
                    && report.lifetime != Duration::MAX,
                "incomplete report {line:?}"
            );
            Some(report)
        })
        .collect()
}

#[test]
fn every_instance_is_reported_once() {
    let _serial = serial();
    let guest = component_file("post-response", &http_guests::post_response().unwrap());
    let server = Server::start(FLAGS, &guest);

    for n in 1..=3 {
        assert_eq!(server.get().status, 200);
        // The line (stdout) and the report (stderr) come through different
        // pipes, in either order.
        server.wait_for("the report and the line", |o| {
            reports(&o.stderr).len() == n && lines(&o.stdout) == n
        });
    }
    let output = server.shut_down();
    let reports = reports(&output.stderr);
    assert_eq!(reports.len(), 3, "{output:#?}");
    for report in &reports {
        assert_eq!(report.reason, "reuse-limit", "{report:?}");
        assert_eq!(report.requests, 1, "{report:?}");
        // The guest sleeps 100 ms after its response.
        assert!(
            report.post_return >= Duration::from_millis(50),
            "{report:?}"
        );
    }
}

#[test]
fn post_return_timeout_lets_work_outlive_the_request_timeout() {
    let _serial = serial();
    let guest = component_file("post-response", &http_guests::post_response().unwrap());
    // The work after the response (at least 100 ms) outlives the request
    // timeout, but not its own budget.
    let args = [FLAGS, &["-Wtimeout=30ms", "--post-return-timeout=30s"]].concat();
    let server = Server::start(&args, &guest);

    assert_eq!(server.get().status, 200);
    let output = server.wait_for("the report and the line", |o| {
        reports(&o.stderr).len() == 1 && lines(&o.stdout) == 1
    });
    assert!(!output.stderr.contains("worker error"), "{output:#?}");
    let report = &reports(&output.stderr)[0];
    assert_eq!(report.reason, "reuse-limit", "{report:?}");
    assert!(
        report.post_return >= Duration::from_millis(30),
        "{report:?}"
    );
    server.shut_down();
}

#[test]
fn post_return_timeout_cuts_work_short() {
    let _serial = serial();
    let guest = component_file(
        "post-response-1h",
        &http_guests::post_response_sleeping(Duration::from_secs(3600)).unwrap(),
    );
    // No request timeout; the budget alone ends the hour-long work.
    let args = [FLAGS, &["--post-return-timeout=300ms"]].concat();
    let server = Server::start(&args, &guest);

    assert_eq!(server.get().status, 200);
    let output = server.wait_for("the report", |o| reports(&o.stderr).len() == 1);
    assert!(
        output.stderr.contains("worker error: guest timed out"),
        "{output:#?}"
    );
    let report = &reports(&output.stderr)[0];
    assert_eq!(report.reason, "post-return-timeout", "{report:?}");
    assert!(
        report.post_return >= Duration::from_millis(300),
        "{report:?}"
    );
    assert!(report.post_return < bound(), "{report:?}");
    let output = server.shut_down();
    assert_eq!(lines(&output.stdout), 0, "{output:#?}");
}

#[test]
fn ctrl_c_drops_idle_instances_without_waiting_for_the_idle_timer() {
    let _serial = serial();
    let guest = component_file("post-response", &http_guests::post_response().unwrap());
    let idle = Duration::from_secs(30);
    // Instances are reused, and kept for 30 s once idle.
    let args = [
        "-Wcomponent-model-async",
        "-Sp3,cli",
        "--idle-instance-timeout=30s",
    ];
    let mut server = Server::start(&args, &guest);

    assert_eq!(server.get().status, 200);
    server.wait_for("the post-response line", |o| lines(&o.stdout) == 1);
    let asked = Instant::now();
    server.interrupt();
    let (status, output) = server.wait_exit();
    let took = asked.elapsed();
    assert!(status.success(), "{status}; {output:#?}");
    assert!(took < idle, "waited {took:?}, the idle timeout is {idle:?}");
    let reports = reports(&output.stderr);
    assert_eq!(reports.len(), 1, "{output:#?}");
    assert_eq!(reports[0].reason, "shutdown", "{reports:?}");
    assert!(reports[0].lifetime < idle, "{reports:?}");
}

#[test]
fn shutdown_timeout_cuts_work_that_never_ends() {
    let _serial = serial();
    let guest = component_file(
        "post-response-1h",
        &http_guests::post_response_sleeping(Duration::from_secs(3600)).unwrap(),
    );
    let args = [FLAGS, &["--shutdown-timeout=500ms"]].concat();
    let mut server = Server::start(&args, &guest);

    assert_eq!(server.get().status, 200);
    let asked = Instant::now();
    server.interrupt();
    let (status, output) = server.wait_exit();
    let took = asked.elapsed();
    assert!(status.success(), "{status}; {output:#?}");
    assert!(took >= Duration::from_millis(500), "{took:?}; {output:#?}");
    assert!(
        output
            .stderr
            .contains("Shutdown timeout of 500ms reached: exiting with 0 connection(s) still open and 0 instance(s) still running"),
        "{output:#?}"
    );
    let reports = reports(&output.stderr);
    assert_eq!(reports.len(), 1, "{output:#?}");
    assert_eq!(reports[0].reason, "shutdown", "{reports:?}");
    assert!(
        reports[0].post_return >= Duration::from_millis(500),
        "{reports:?}"
    );
    assert_eq!(lines(&output.stdout), 0, "{output:#?}");
}

/// Pooling allocator with room for `n` component instances.
fn pool(n: usize) -> Vec<String> {
    vec![
        "-Opooling-allocator=y".into(),
        format!("-Opooling-total-component-instances={n}"),
    ]
}

#[test]
fn full_pool_makes_requests_wait_not_fail() {
    let _serial = serial();
    let guest = component_file("post-response", &http_guests::post_response().unwrap());
    // Two instances at most, each kept about 100 ms after its response: 24
    // requests from 6 clients at once must queue for them.
    let mut args: Vec<String> = FLAGS.iter().map(|s| s.to_string()).collect();
    args.extend(pool(2));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start(&args, &guest);

    let addr = server.addr;
    let clients: Vec<_> = (0..6)
        .map(|_| {
            std::thread::spawn(move || {
                (0..4)
                    .map(|_| http_e2e::get(addr).unwrap().status)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for client in clients {
        assert_eq!(client.join().unwrap(), [200; 4]);
    }
    let output = server.wait_for("every report and line", |o| {
        reports(&o.stderr).len() == 24 && lines(&o.stdout) == 24
    });
    assert!(!output.stderr.contains("error"), "{output:#?}");
    server.shut_down();
}

#[test]
fn request_that_finds_no_instance_in_time_gets_503() {
    let _serial = serial();
    let guest = component_file(
        "post-response-1h",
        &http_guests::post_response_sleeping(Duration::from_secs(3600)).unwrap(),
    );
    // One instance at most, and the first request's work holds it for an
    // hour; the second request waits 300 ms for it, then is refused.
    let mut args: Vec<String> = FLAGS.iter().map(|s| s.to_string()).collect();
    args.extend(pool(1));
    args.extend([
        "--instance-wait-timeout=300ms".into(),
        "--shutdown-timeout=1s".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start(&args, &guest);

    assert_eq!(server.get().status, 200);
    let sent = Instant::now();
    let refused = server.get();
    assert!(sent.elapsed() >= Duration::from_millis(300), "{refused:?}");
    assert_eq!(refused.status, 503, "{refused:?}");
    assert!(
        refused.body.contains("no component instance is free"),
        "{refused:?}"
    );
    assert!(refused.complete, "{refused:?}");
    let output = server.wait_for("the refusal in the log", |o| {
        o.stderr
            .contains("refused with 503: no component instance could take it")
    });
    assert!(!output.stderr.contains("worker error"), "{output:#?}");
    server.shut_down();
}

#[test]
fn instance_wait_timeout_refuses_nothing_without_a_full_pool() {
    // No pool, so no request ever waits for room: however short the wait
    // timeout, nothing is refused, although each instantiation takes far
    // longer than it (the guest's start function counts to 300 million).
    let _serial = serial();
    let guest = component_file("slow-start", &http_guests::slow_start().unwrap());
    let args = [FLAGS, &["--instance-wait-timeout=10ms"]].concat();
    let server = Server::start(&args, &guest);
    for _ in 0..4 {
        assert_eq!(server.get().status, 200);
    }
    let output = server.shut_down();
    assert!(!output.stderr.contains("refused"), "{output:#?}");
}

/// The guest that answers, sleeps 100 ms, then loops forever without
/// yielding.
fn spin_guest() -> std::path::PathBuf {
    component_file(
        "spin-after-response",
        &http_guests::spin_after_response().unwrap(),
    )
}

#[test]
fn post_return_timeout_stops_a_guest_that_never_yields() {
    // The guest answers, sleeps 100 ms, then loops forever without
    // yielding. With `--post-return-timeout` and no `-W timeout`, serve must
    // still interrupt it at the deadline, report it, and exit on ctrl-c.
    let _serial = serial();
    let guest = spin_guest();
    let args = [FLAGS, &["--post-return-timeout=500ms"]].concat();
    let mut server = Server::start(&args, &guest);
    assert_eq!(server.get().status, 200);
    let output = server.wait_for("the instance's report", |o| !reports(&o.stderr).is_empty());
    let reports = reports(&output.stderr);
    assert_eq!(reports[0].reason, "post-return-timeout", "{reports:?}");
    assert!(
        reports[0].post_return >= Duration::from_millis(500),
        "{reports:?}"
    );
    server.interrupt();
    let (status, output) = server.wait_exit();
    assert!(status.success(), "{status}; {output:#?}");
}

#[test]
fn shutdown_timeout_stops_a_guest_that_never_yields() {
    let _serial = serial();
    let guest = spin_guest();
    let args = [FLAGS, &["--shutdown-timeout=500ms"]].concat();
    let mut server = Server::start(&args, &guest);
    assert_eq!(server.get().status, 200);
    let asked = Instant::now();
    server.interrupt();
    let (status, output) = server.wait_exit();
    assert!(status.success(), "{status}; {output:#?}");
    assert!(asked.elapsed() >= Duration::from_millis(500), "{output:#?}");
    let reports = reports(&output.stderr);
    assert_eq!(reports.len(), 1, "{output:#?}");
    assert_eq!(reports[0].reason, "shutdown", "{reports:?}");
}

/// Runs the `load` tool (the load case of `scripts/bench.sh`): `clients`
/// keep-alive clients for `seconds` against a pool of `pool` instances, each
/// kept about 100 ms after its only request.  Returns its row: label,
/// requests/s, p50, p99, peak live instances, failed, lines lost.
fn load(clients: usize, seconds: u32, pool_size: usize) -> Vec<String> {
    let guest = component_file("post-response", &http_guests::post_response().unwrap());
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_load"));
    command
        .arg("--cli")
        .arg(http_e2e::cli())
        .arg("--guest")
        .arg(&guest)
        .args(["--clients", &clients.to_string()])
        .args(["--seconds", &seconds.to_string()])
        .args(["--label", "patched", "--"])
        .args(FLAGS)
        .args(pool(pool_size));
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    let row: Vec<String> = stdout
        .trim()
        .trim_matches('|')
        .split('|')
        .map(|cell| cell.trim().to_string())
        .collect();
    assert_eq!(row.len(), 7, "{stdout}");
    assert_eq!(row[0], "patched");
    let rps: f64 = row[1].parse().unwrap();
    assert!(rps > 0.0, "{stdout}");
    // Stores alive at once, each from its creation: the pool's instances,
    // plus the stores of workers still setting up when a slot frees (at most
    // one per client).
    let peak: usize = row[4].parse().unwrap();
    assert!((1..=pool_size + clients).contains(&peak), "{stdout}");
    assert_eq!(row[5], "0", "no request failed: {stdout}{stderr}");
    assert_eq!(row[6], "0", "no line lost: {stdout}{stderr}");
    // The instances' reports account for every request served.
    let count = |what: &str| -> usize {
        let summary = stderr.lines().find(|l| l.starts_with("load: ")).unwrap();
        let at = summary.find(what).unwrap_or_else(|| panic!("{summary}"));
        summary[..at]
            .split_whitespace()
            .last()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(count(" ok,"), count(" requests reported"), "{stderr}");
    row
}

#[test]
fn load_on_a_full_pool_loses_no_line_and_fails_no_request() {
    let _serial = serial();
    load(4, 1, 4);
}

#[test]
fn load_with_far_more_clients_than_instances_fails_no_request() {
    // Sixteen clients take turns at two instances: every request waits for
    // room, none fails, every line is written.
    let _serial = serial();
    load(16, 2, 2);
}
