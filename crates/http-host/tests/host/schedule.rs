//! Randomized, deterministic schedules against the handler's queue
//! protocol (`Dispatch` in `handler.rs`), with its rules checked after each.
//!
//! A seed gives a [`Schedule`]: the handler's settings (pool size, reuse
//! counts, timeouts), the guest and how long its work after the response
//! lasts, requests arriving at random times and held by their clients for
//! random durations, another user of the same pool taking room for a while,
//! and a shutdown with or without a deadline.  It runs on a paused clock
//! (the order of events is the same on every run), and then [`check`]
//! verifies:
//!
//! - every request got exactly one answer, a response or its task dropped
//!   unrun (or ended), within the bound that follows from the settings;
//! - a request whose task was dropped without running never ran;
//! - with one instance at a time, requests started in arrival order;
//! - the stores created stay within a small constant of the requests and the
//!   time the pool was full (no worker after worker);
//! - after a shutdown deadline nothing started, and every instance was gone
//!   by it;
//! - every store was dropped in the end, and the reports account for every
//!   request that ran.
//!
//! A failing seed is shrunk to a smaller schedule that still fails, and
//! printed as a test to paste into [`regressions`].
//!
//! `cargo test -p http-host --test host schedule` runs [`SEEDS`] seeds;
//! `HTTP_SCHEDULE_SEEDS=N HTTP_SCHEDULE_START=S` runs others, and
//! `HTTP_SCHEDULE_SECONDS=T` stops after T seconds (`scripts/fuzz.sh
//! --http`).

use http_host::{Compiled, Settings, compile, get_as, handler_with, read_body};
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::time::{Instant, sleep, sleep_until};
use wasmtime_wasi_http::handler::InstanceEndReason;

/// Seeds of every test run.
const SEEDS: u64 = 300;

/// What the guest does after its response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Guest {
    /// Nothing: its task exits once the trailers are taken.
    Minimal,
    /// Sleeps 100 ms and writes a line to stdout, which the host takes
    /// after `stdout_delay_ms`, or never with `stdout_blocks`.
    PostResponse,
    /// Streams its body after the response; a client that holds the body
    /// keeps it blocked.
    Streaming,
    /// Traps after the response.
    Trap,
}

/// A request and its client.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Request {
    at_ms: u64,
    /// How long the client holds the response before it reads the body.
    hold_ms: u64,
}

/// Another user of the pool: takes `count` instances for `for_ms`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Occupy {
    at_ms: u64,
    count: u32,
    for_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Shutdown {
    at_ms: u64,
    deadline_ms: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Schedule {
    guest: Guest,
    pool: Option<u32>,
    reuse: usize,
    concurrency: usize,
    request_timeout_ms: u64,
    post_return_timeout_ms: u64,
    idle_ms: u64,
    wait_timeout_ms: u64,
    stdout_delay_ms: Option<u64>,
    stdout_blocks: bool,
    requests: Vec<Request>,
    occupy: Vec<Occupy>,
    shutdown: Option<Shutdown>,
}

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// In `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

impl Schedule {
    fn generate(seed: u64) -> Self {
        let mut rng = Rng(seed);
        let guest = match rng.range(0, 9) {
            0..=2 => Guest::Minimal,
            3..=6 => Guest::PostResponse,
            7..=8 => Guest::Streaming,
            _ => Guest::Trap,
        };
        let pool = rng.chance(70).then(|| rng.range(1, 4) as u32);
        let requests = (0..rng.range(1, 14))
            .map(|_| Request {
                at_ms: rng.range(0, 3000),
                hold_ms: match rng.range(0, 3) {
                    0 => 0,
                    1 => rng.range(1, 200),
                    _ => rng.range(200, 4000),
                },
            })
            .collect();
        let occupy = match pool {
            Some(pool) if rng.chance(30) => vec![Occupy {
                at_ms: rng.range(0, 2000),
                count: rng.range(1, u64::from(pool)) as u32,
                for_ms: rng.range(100, 5000),
            }],
            _ => Vec::new(),
        };
        let mut schedule = Self {
            guest,
            pool,
            reuse: rng.range(1, 4) as usize,
            concurrency: rng.range(1, 3) as usize,
            request_timeout_ms: rng.range(200, 3000),
            post_return_timeout_ms: rng.range(100, 3000),
            idle_ms: rng.range(50, 3000),
            wait_timeout_ms: rng.range(100, 5000),
            stdout_delay_ms: rng.chance(50).then(|| rng.range(1, 2000)),
            stdout_blocks: rng.chance(10),
            requests,
            occupy,
            shutdown: rng.chance(40).then(|| Shutdown {
                at_ms: rng.range(0, 4000),
                deadline_ms: rng.chance(60).then(|| rng.range(0, 3000)),
            }),
        };
        schedule.requests.sort_by_key(|r| r.at_ms);
        schedule
    }

    fn settings(&self) -> Settings {
        Settings {
            request_timeout: Duration::from_millis(self.request_timeout_ms),
            idle_instance_timeout: Duration::from_millis(self.idle_ms),
            max_instance_reuse_count: self.reuse,
            max_instance_concurrent_reuse_count: self.concurrency,
            stdout_blocks: self.stdout_blocks,
            stdout_delay: self.stdout_delay_ms.map(Duration::from_millis),
            pool_component_instances: self.pool,
            post_return_timeout: Some(Duration::from_millis(self.post_return_timeout_ms)),
            instance_wait_timeout: Some(Duration::from_millis(self.wait_timeout_ms)),
            ..Settings::default()
        }
    }

    /// The latest a request arriving at `at` may be answered: a wait for
    /// room, then the request timeout.
    fn answer_bound(&self, at: u64) -> u64 {
        at + self.pool.map_or(0, |_| self.wait_timeout_ms) + self.request_timeout_ms
    }

    /// How long the run lasts: past every bound and hold, long enough for
    /// every instance to end.
    fn horizon_ms(&self) -> u64 {
        let last = self.requests.iter().map(|r| r.at_ms).max().unwrap_or(0);
        let holds = self.requests.iter().map(|r| r.hold_ms).max().unwrap_or(0);
        let occupied = self
            .occupy
            .iter()
            .map(|o| o.at_ms + o.for_ms)
            .max()
            .unwrap_or(0);
        let shutdown = self.shutdown.as_ref().map_or(0, |s| s.at_ms);
        last.max(occupied).max(shutdown)
            + self.wait_timeout_ms
            + 2 * self.request_timeout_ms
            + self.post_return_timeout_ms
            + self.idle_ms
            + holds
            + self.stdout_delay_ms.unwrap_or(0)
            + 1000
    }
}

/// Prints the schedule as the Rust expression that builds it.
impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Schedule {{")?;
        writeln!(f, "    guest: Guest::{:?},", self.guest)?;
        writeln!(f, "    pool: {:?},", self.pool)?;
        writeln!(f, "    reuse: {},", self.reuse)?;
        writeln!(f, "    concurrency: {},", self.concurrency)?;
        writeln!(f, "    request_timeout_ms: {},", self.request_timeout_ms)?;
        writeln!(
            f,
            "    post_return_timeout_ms: {},",
            self.post_return_timeout_ms
        )?;
        writeln!(f, "    idle_ms: {},", self.idle_ms)?;
        writeln!(f, "    wait_timeout_ms: {},", self.wait_timeout_ms)?;
        writeln!(f, "    stdout_delay_ms: {:?},", self.stdout_delay_ms)?;
        writeln!(f, "    stdout_blocks: {},", self.stdout_blocks)?;
        writeln!(f, "    requests: vec![")?;
        for r in &self.requests {
            writeln!(
                f,
                "        Request {{ at_ms: {}, hold_ms: {} }},",
                r.at_ms, r.hold_ms
            )?;
        }
        writeln!(f, "    ],")?;
        writeln!(f, "    occupy: vec![")?;
        for o in &self.occupy {
            writeln!(
                f,
                "        Occupy {{ at_ms: {}, count: {}, for_ms: {} }},",
                o.at_ms, o.count, o.for_ms
            )?;
        }
        writeln!(f, "    ],")?;
        match &self.shutdown {
            Some(s) => writeln!(
                f,
                "    shutdown: Some(Shutdown {{ at_ms: {}, deadline_ms: {:?} }}),",
                s.at_ms, s.deadline_ms
            )?,
            None => writeln!(f, "    shutdown: None,")?,
        }
        write!(f, "}}")
    }
}

/// How a request ended, as its client saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Answer {
    Response(u16),
    /// The handler dropped the task without running it.
    Dropped,
    /// The task ran but ended without a response (timed out, trapped, or
    /// cut by the shutdown deadline).
    NoResponse,
    Other(String),
}

/// What a run recorded.
#[derive(Debug)]
struct Outcome {
    /// Per request: its answer and when (ms since the start).
    answers: Vec<Option<(Answer, u64)>>,
    events: http_host::Events,
    /// When each store was dropped, in ms since the start.
    dropped_ms: Vec<u64>,
    /// When the shutdown's deadline was, in ms since the start.
    deadline_ms: Option<u64>,
    elapsed_ms: u64,
}

/// The compiled guests, per engine configuration.
fn compiled(guest: Guest, pool: Option<u32>) -> Arc<Compiled> {
    static CACHE: OnceLock<Mutex<HashMap<(Guest, Option<u32>), Arc<Compiled>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap();
    cache
        .entry((guest, pool))
        .or_insert_with(|| {
            let bytes = match guest {
                Guest::Minimal => http_guests::minimal(),
                Guest::PostResponse => http_guests::post_response(),
                Guest::Streaming => http_guests::streaming(),
                Guest::Trap => http_guests::trap_after_response(),
            }
            .unwrap();
            let settings = Settings {
                pool_component_instances: pool,
                ..Settings::default()
            };
            Arc::new(compile(&bytes, &settings).unwrap())
        })
        .clone()
}

fn ms_since(start: Instant, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(start).as_millis()).unwrap()
}

/// Runs `schedule` on a paused clock.
fn run(schedule: &Schedule) -> Outcome {
    let compiled = compiled(schedule.guest, schedule.pool);
    let schedule = schedule.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    crate::common::paused(move || async move {
        let _ = tx.send(play(&schedule, &compiled).await);
    });
    rx.recv().unwrap()
}

async fn play(schedule: &Schedule, compiled: &Compiled) -> Outcome {
    let (handler, probe) = handler_with(compiled, schedule.settings()).unwrap();
    let start = Instant::now();
    let answers = Arc::new(Mutex::new(vec![None; schedule.requests.len()]));
    let mut tasks = Vec::new();

    for (id, request) in schedule.requests.iter().enumerate() {
        let (handler, answers, hold) = (
            handler.clone(),
            answers.clone(),
            Duration::from_millis(request.hold_ms),
        );
        let at = start + Duration::from_millis(request.at_ms);
        tasks.push(tokio::spawn(async move {
            sleep_until(at).await;
            let result = get_as(&handler, id as u64).await;
            let answer = match result {
                Ok(response) => {
                    let status = response.status().as_u16();
                    answers.lock().unwrap()[id] =
                        Some((Answer::Response(status), ms_since(start, Instant::now())));
                    sleep(hold).await;
                    _ = read_body(response, Duration::from_secs(3600)).await;
                    return;
                }
                Err(error) if error.to_string().contains("without running it") => Answer::Dropped,
                Err(error) if error.to_string().contains("ended without a response") => {
                    Answer::NoResponse
                }
                Err(error) => Answer::Other(error.to_string()),
            };
            answers.lock().unwrap()[id] = Some((answer, ms_since(start, Instant::now())));
        }));
    }

    for occupy in &schedule.occupy {
        let handler = handler.clone();
        let (at, count, hold) = (
            start + Duration::from_millis(occupy.at_ms),
            occupy.count,
            Duration::from_millis(occupy.for_ms),
        );
        tasks.push(tokio::spawn(async move {
            sleep_until(at).await;
            let mut stores = Vec::new();
            for _ in 0..count {
                // The pool may be full with the handler's own instances:
                // then this user waits for room too.
                loop {
                    match handler.state().occupy().await {
                        Ok(store) => break stores.push(store),
                        Err(_) => sleep(Duration::from_millis(50)).await,
                    }
                }
            }
            sleep(hold).await;
        }));
    }

    let mut deadline_ms = None;
    if let Some(shutdown) = &schedule.shutdown {
        sleep_until(start + Duration::from_millis(shutdown.at_ms)).await;
        let deadline = shutdown
            .deadline_ms
            .map(|after| Instant::now() + Duration::from_millis(after));
        deadline_ms = deadline.map(|d| ms_since(start, d));
        handler.shutdown(deadline.map(Instant::into_std));
    }

    sleep_until(start + Duration::from_millis(schedule.horizon_ms())).await;
    for task in tasks {
        task.abort();
    }
    // Let the aborted clients drop what they held.
    sleep(Duration::from_millis(1)).await;
    let events = probe.events();
    let dropped_ms = events
        .dropped_at
        .iter()
        .map(|&at| ms_since(start, Instant::from_std(at)))
        .collect();
    let answers = answers.lock().unwrap().clone();
    Outcome {
        answers,
        events,
        dropped_ms,
        deadline_ms,
        elapsed_ms: ms_since(start, Instant::now()),
    }
}

/// The rules, checked on what a run recorded; the first broken one.
fn check(schedule: &Schedule, outcome: &Outcome) -> Result<(), String> {
    let events = &outcome.events;
    let started: Vec<usize> = events.tasks_started.iter().map(|&id| id as usize).collect();

    for (id, request) in schedule.requests.iter().enumerate() {
        // One answer per request, within its bound.
        let Some((answer, at)) = &outcome.answers[id] else {
            return Err(format!("request {id} was never answered"));
        };
        let bound = schedule.answer_bound(request.at_ms);
        if *at > bound {
            return Err(format!(
                "request {id} answered at {at} ms, after its bound of {bound} ms"
            ));
        }
        let ran = started.contains(&id);
        match answer {
            Answer::Dropped if ran => {
                return Err(format!("request {id} ran, but its task was dropped"));
            }
            Answer::Response(_) | Answer::NoResponse if !ran => {
                return Err(format!("request {id} was answered without running"));
            }
            Answer::Other(error) => return Err(format!("request {id}: {error}")),
            _ => {}
        }
        if started.iter().filter(|&&s| s == id).count() > 1 {
            return Err(format!("request {id} ran more than once"));
        }
    }

    // Arrival order, with one instance at a time.
    if schedule.pool == Some(1) && !started.is_sorted() {
        return Err(format!("requests started out of order: {started:?}"));
    }

    // No worker after worker: the stores stay within a constant of the
    // requests and of the time the pool may have been full.
    let requests = schedule.requests.len();
    let allowed = 4 * requests + 2 * (outcome.elapsed_ms / 1000) as usize + 16;
    if events.stores_created > allowed {
        return Err(format!(
            "{} stores for {requests} requests in {} ms",
            events.stores_created, outcome.elapsed_ms
        ));
    }

    // Nothing after the shutdown deadline.
    if let Some(deadline) = outcome.deadline_ms {
        if let Some(late) = outcome.dropped_ms.iter().find(|&&at| at > deadline) {
            return Err(format!(
                "a store was dropped at {late} ms, after the shutdown deadline at {deadline} ms"
            ));
        }
        for (id, request) in schedule.requests.iter().enumerate() {
            if let Some((Answer::Response(_), at)) = &outcome.answers[id] {
                if *at > deadline {
                    return Err(format!(
                        "request {id} got its response at {at} ms, after the deadline"
                    ));
                }
            }
            let late = request.at_ms >= deadline;
            if late && started.contains(&id) {
                return Err(format!(
                    "request {id} came at {} ms, after the deadline, and ran",
                    request.at_ms
                ));
            }
        }
    }

    // Every store dropped, every request that ran in some report.
    if events.stores_dropped != events.stores_created {
        return Err(format!(
            "{} stores created, {} dropped",
            events.stores_created, events.stores_dropped
        ));
    }
    let reported: usize = events.reports.iter().map(|(r, _)| r.requests).sum();
    if reported != started.len() {
        return Err(format!(
            "the reports count {reported} requests, {} ran",
            started.len()
        ));
    }
    for (report, _) in &events.reports {
        // An instance may start without a request, when another worker
        // took the one it was made for.
        if report.requests > schedule.reuse {
            return Err(format!("report with {} requests", report.requests));
        }
        if report.reason == InstanceEndReason::Shutdown && schedule.shutdown.is_none() {
            return Err("an instance reported a shutdown that never was".into());
        }
    }
    Ok(())
}

/// Runs and checks a schedule.
fn verdict(schedule: &Schedule) -> Result<(), String> {
    let outcome = run(schedule);
    check(schedule, &outcome)
}

/// Smaller variants of `schedule`: one thing left out or made simpler.
fn shrink(schedule: &Schedule) -> Vec<Schedule> {
    let mut out = Vec::new();
    for i in 0..schedule.requests.len() {
        let mut s = schedule.clone();
        s.requests.remove(i);
        out.push(s);
    }
    for i in 0..schedule.requests.len() {
        if schedule.requests[i].hold_ms > 0 {
            let mut s = schedule.clone();
            s.requests[i].hold_ms = 0;
            out.push(s);
        }
    }
    if !schedule.occupy.is_empty() {
        let mut s = schedule.clone();
        s.occupy.clear();
        out.push(s);
    }
    if schedule.shutdown.is_some() {
        let mut s = schedule.clone();
        s.shutdown = None;
        out.push(s);
    }
    let mut simpler = |f: &dyn Fn(&mut Schedule)| {
        let mut s = schedule.clone();
        f(&mut s);
        if s != *schedule {
            out.push(s);
        }
    };
    simpler(&|s| s.guest = Guest::Minimal);
    simpler(&|s| s.stdout_delay_ms = None);
    simpler(&|s| s.stdout_blocks = false);
    simpler(&|s| s.reuse = 1);
    simpler(&|s| s.concurrency = 1);
    simpler(&|s| {
        s.pool = s.pool.map(|_| 1);
        for occupy in &mut s.occupy {
            occupy.count = 1;
        }
    });
    out
}

/// Shrinks a failing schedule to one that still fails but has nothing more
/// to leave out.
fn minimize(mut schedule: Schedule, mut error: String) -> (Schedule, String) {
    'outer: loop {
        for smaller in shrink(&schedule) {
            if let Err(e) = verdict(&smaller) {
                schedule = smaller;
                error = e;
                continue 'outer;
            }
        }
        return (schedule, error);
    }
}

fn seeds() -> std::ops::Range<u64> {
    let var = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .map(|v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("{name} must be a number, not {v:?}"))
            })
            .unwrap_or(default)
    };
    let start = var("HTTP_SCHEDULE_START", 0);
    start..start + var("HTTP_SCHEDULE_SEEDS", SEEDS)
}

#[test]
fn generated_schedules_keep_the_rules() {
    let seeds = seeds();
    let seconds = std::env::var("HTTP_SCHEDULE_SECONDS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&s| s > 0)
        .map(Duration::from_secs);
    let began = std::time::Instant::now();
    let (mut passed, mut failures) = (0, Vec::new());
    let mut end = seeds.end;
    for seed in seeds.clone() {
        if seconds.is_some_and(|s| began.elapsed() >= s) {
            end = seed;
            break;
        }
        let schedule = Schedule::generate(seed);
        match verdict(&schedule) {
            Ok(()) => passed += 1,
            Err(error) => failures.push((seed, schedule, error)),
        }
    }
    let mut report = String::new();
    for (seed, schedule, error) in failures.iter().take(3) {
        let (small, small_error) = minimize(schedule.clone(), error.clone());
        writeln!(
            report,
            "seed {seed}: {error}\nshrunk ({small_error}); as a regression test:\n\n\
             #[test]\nfn seed_{seed}() {{\n    let schedule = {};\n    verdict(&schedule).unwrap();\n}}\n",
            small.to_string().replace('\n', "\n    ")
        )
        .unwrap();
    }
    println!(
        "schedules: seeds {}..{end}: {passed} passed, {} failed",
        seeds.start,
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} seeds failed\n{report}",
        failures.len()
    );
}

/// Schedules once found failing, shrunk.
mod regressions {}

#[test]
fn a_schedule_prints_as_the_code_that_builds_it() {
    let schedule = Schedule::generate(7);
    let printed = schedule.to_string();
    assert!(printed.starts_with("Schedule {"), "{printed}");
    for request in &schedule.requests {
        assert!(
            printed.contains(&format!(
                "at_ms: {}, hold_ms: {}",
                request.at_ms, request.hold_ms
            )),
            "{printed}"
        );
    }
}
