//! The components a scenario declares: actors, their exports, and what each
//! export does when called.
//!
//! ```text
//! (component
//!   (actor b
//!     (export run callback (result 2)
//!       (body return yield exit)))
//!   (actor a
//!     (export run stackful (result 1)
//!       (body (call b.run async) return))))
//! ```
//!
//! Each actor becomes one component instance. An actor may call the exports
//! of actors declared before it; `(call b.run sync)` and `(call b.run async)`
//! choose how the import is lowered.
//!
//! Steps, as written in a `(body ...)` or `(thread ...)` (see [`Step`]):
//! `return`, `yield`, `yield-cancellable`, `poll-cancellable`,
//! `wait-cancel`, `backpressure-inc`, `backpressure-dec`, `trap`, `exit`,
//! `(block N)`, `(note N)`, `(spawn N)`, `(call ACTOR.EXPORT sync|async)`,
//! `(call-cancel ACTOR.EXPORT)` and `(call-cancel-async ACTOR.EXPORT)`.
//! Sync-lifted bodies only note, make sync calls, trap and exit.
//!
//! Notes the steps make themselves: `call-cancel` and `call-cancel-async`
//! note `100 + status` (99 first when the async cancel is BLOCKED);
//! `yield-cancellable` notes 301 and `poll-cancellable` 302 when they see
//! the cancellation.

use crate::sexpr::Sexpr;
use anyhow::{Context, Result, bail, ensure};

/// How an export is lifted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lift {
    /// A sync-lifted function: the task exits when the core function returns.
    Sync,
    /// An async lift with a callback: the task exits on the `EXIT` code.
    Callback,
    /// An async lift without a callback: the task exits when the core
    /// function returns, which may be long after `task.return`.
    Stackful,
}

/// How a call site lowers the function it calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lower {
    Sync,
    Async,
}

/// One thing an export (or a thread it spawned) does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `task.return` with the export's result.
    Return,
    /// Give other work a chance to run: the `YIELD` code or `thread.yield`.
    Yield,
    /// Call the host import `block(id)` (async-lowered) and wait until the
    /// host releases `id`.
    Block(u32),
    /// Call another actor's export and wait for its result.
    Call {
        target: String,
        lower: Lower,
    },
    /// Start an async-lowered call to another actor's export and cancel it
    /// at once with a blocking `subtask.cancel`; the status is reported with
    /// `note(100 + status)`.
    CallCancel {
        target: String,
    },
    /// Like `call-cancel`, but cancel with the async `subtask.cancel`. If
    /// the status is BLOCKED (noted as 99), join the subtask to a waitable
    /// set and wait (not cancellable) for its terminal SUBTASK event, then
    /// note `100 + status`; otherwise note `100 + status` at once. A call
    /// that already returned notes 102 and is not cancelled. Then
    /// `subtask.drop`.
    CallCancelAsync {
        target: String,
    },
    /// `backpressure.inc` / `backpressure.dec` on the actor's instance.
    BackpressureInc,
    BackpressureDec,
    /// `thread.new-indirect` with the export's thread body `n`, then make the
    /// new thread runnable.
    Spawn(usize),
    /// Wait, with nothing to wait for, until the caller cancels the task;
    /// then acknowledge with `task.cancel` and exit.
    WaitCancel,
    /// One cancellable `thread.yield`. If the task was cancelled, note 301,
    /// acknowledge with `task.cancel` and exit; otherwise go on.
    YieldCancellable,
    /// One cancellable `waitable-set.poll` on the task's (empty) waitable
    /// set. If it reports the cancellation, note 302, acknowledge with
    /// `task.cancel` and exit; otherwise go on.
    PollCancellable,
    /// Call the host import `note(v)`, which records `v`.
    Note(u32),
    /// Execute `unreachable`.
    Trap,
    /// Exit: the `EXIT` code, or return from the core function.
    Exit,
}

#[derive(Debug, Clone)]
pub struct Export {
    pub name: String,
    pub lift: Lift,
    pub result: u32,
    pub body: Vec<Step>,
    /// Bodies of the explicit threads that `(spawn n)` starts.
    pub threads: Vec<Vec<Step>>,
}

#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub exports: Vec<Export>,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub actors: Vec<Actor>,
}

impl Spec {
    pub fn actor(&self, name: &str) -> Option<&Actor> {
        self.actors.iter().find(|a| a.name == name)
    }

    /// Look up `actor.export`.
    pub fn export(&self, target: &str) -> Option<(&Actor, &Export)> {
        let (actor, export) = target.split_once('.')?;
        let actor = self.actor(actor)?;
        let export = actor.exports.iter().find(|e| e.name == export)?;
        Some((actor, export))
    }

    /// Parse `(component (actor ...) ...)`.
    pub fn parse(sexpr: &Sexpr) -> Result<Spec> {
        let items = sexpr.list().context("expected (component ...)")?;
        ensure!(
            sexpr.head() == Some("component"),
            "expected (component ...)"
        );
        let mut spec = Spec { actors: Vec::new() };
        for item in &items[1..] {
            let actor =
                parse_actor(item).with_context(|| format!("line {}: in `{item}`", item.line()))?;
            ensure!(
                spec.actor(&actor.name).is_none(),
                "actor `{}` declared twice",
                actor.name
            );
            // Calls may only go to actors declared earlier: that is the order
            // in which the instances are created.
            for export in &actor.exports {
                for step in export.body.iter().chain(export.threads.iter().flatten()) {
                    if let Step::Call { target, .. }
                    | Step::CallCancel { target }
                    | Step::CallCancelAsync { target } = step
                    {
                        ensure!(
                            spec.export(target).is_some(),
                            "`{}` calls `{target}`, which is not an export of an earlier actor",
                            actor.name
                        );
                    }
                }
            }
            spec.actors.push(actor);
        }
        ensure!(
            !spec.actors.is_empty(),
            "a component needs at least one actor"
        );
        Ok(spec)
    }
}

fn name(s: &Sexpr) -> Result<String> {
    let a = s
        .atom()
        .with_context(|| format!("expected a name, found `{s}`"))?;
    ensure!(
        !a.is_empty()
            && a.starts_with(|c: char| c.is_ascii_lowercase())
            && a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "`{a}` is not a valid name (lowercase letters and digits)"
    );
    Ok(a.to_string())
}

/// A number atom.
pub fn number(s: &Sexpr) -> Result<u32> {
    s.atom()
        .and_then(|a| a.parse().ok())
        .with_context(|| format!("expected a number, found `{s}`"))
}

fn parse_actor(s: &Sexpr) -> Result<Actor> {
    let items = s.list().context("expected (actor NAME ...)")?;
    ensure!(
        s.head() == Some("actor") && items.len() >= 2,
        "expected (actor NAME ...)"
    );
    let mut actor = Actor {
        name: name(&items[1])?,
        exports: Vec::new(),
    };
    for item in &items[2..] {
        actor.exports.push(parse_export(item)?);
    }
    Ok(actor)
}

fn parse_export(s: &Sexpr) -> Result<Export> {
    let items = s.list().context("expected (export NAME LIFT ...)")?;
    ensure!(
        s.head() == Some("export") && items.len() >= 3,
        "expected (export NAME LIFT ...)"
    );
    let lift = match items[2].atom() {
        Some("sync") => Lift::Sync,
        Some("callback") => Lift::Callback,
        Some("stackful") => Lift::Stackful,
        _ => bail!(
            "lift must be sync, callback or stackful, found `{}`",
            items[2]
        ),
    };
    let mut export = Export {
        name: name(&items[1])?,
        lift,
        result: 0,
        body: Vec::new(),
        threads: Vec::new(),
    };
    for item in &items[3..] {
        let list = item
            .list()
            .context("expected (result N), (body ...) or (thread ...)")?;
        match item.head() {
            Some("result") if list.len() == 2 => export.result = number(&list[1])?,
            Some("body") => export.body = parse_steps(&list[1..])?,
            Some("thread") => export.threads.push(parse_steps(&list[1..])?),
            _ => bail!("unexpected `{item}` in an export"),
        }
    }
    check_export(&export)?;
    Ok(export)
}

fn check_export(export: &Export) -> Result<()> {
    let threads = export.threads.len();
    for step in export.body.iter().chain(export.threads.iter().flatten()) {
        if let Step::Spawn(n) = step {
            ensure!(*n < threads, "(spawn {n}) names no thread body");
        }
    }
    if export.lift == Lift::Sync {
        for step in &export.body {
            ensure!(
                !matches!(
                    step,
                    Step::Return
                        | Step::Yield
                        | Step::Block(_)
                        | Step::WaitCancel
                        | Step::CallCancel { .. }
                        | Step::CallCancelAsync { .. }
                        | Step::YieldCancellable
                        | Step::PollCancellable
                        | Step::Spawn(_)
                        | Step::Call {
                            lower: Lower::Async,
                            ..
                        }
                ),
                "a sync-lifted export can only make sync calls, note, trap and exit (found {step:?})"
            );
        }
    }
    for thread in &export.threads {
        ensure!(
            !thread.iter().any(|s| matches!(s, Step::Spawn(_))),
            "threads do not spawn threads in this suite"
        );
    }
    Ok(())
}

fn parse_steps(items: &[Sexpr]) -> Result<Vec<Step>> {
    items.iter().map(parse_step).collect()
}

fn parse_step(s: &Sexpr) -> Result<Step> {
    if let Some(atom) = s.atom() {
        return Ok(match atom {
            "return" => Step::Return,
            "yield" => Step::Yield,
            "backpressure-inc" => Step::BackpressureInc,
            "backpressure-dec" => Step::BackpressureDec,
            "wait-cancel" => Step::WaitCancel,
            "yield-cancellable" => Step::YieldCancellable,
            "poll-cancellable" => Step::PollCancellable,
            "trap" => Step::Trap,
            "exit" => Step::Exit,
            _ => bail!("unknown step `{atom}`"),
        });
    }
    let items = s.list().unwrap();
    let target = |i: usize| -> Result<String> {
        let t = items
            .get(i)
            .and_then(|t| t.atom())
            .with_context(|| format!("expected ACTOR.EXPORT in `{s}`"))?;
        ensure!(t.contains('.'), "expected ACTOR.EXPORT, found `{t}`");
        Ok(t.to_string())
    };
    Ok(match (s.head(), items.len()) {
        (Some("block"), 2) => Step::Block(number(&items[1])?),
        (Some("note"), 2) => Step::Note(number(&items[1])?),
        (Some("spawn"), 2) => Step::Spawn(number(&items[1])? as usize),
        (Some("call"), 3) => Step::Call {
            target: target(1)?,
            lower: match items[2].atom() {
                Some("sync") => Lower::Sync,
                Some("async") => Lower::Async,
                _ => bail!("a call is lowered sync or async, found `{}`", items[2]),
            },
        },
        (Some("call-cancel"), 2) => Step::CallCancel { target: target(1)? },
        (Some("call-cancel-async"), 2) => Step::CallCancelAsync { target: target(1)? },
        _ => bail!("unknown step `{s}`"),
    })
}
