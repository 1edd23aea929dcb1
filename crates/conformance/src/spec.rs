//! The component a scenario declares, `(component (actor ...) ...)`: actors,
//! their exports, and what each export does when called. The language is
//! described in `docs/scenario-language.md`.

use crate::kw::{self, one_of};
use std::fmt;
use wast::parser::{Parse, Parser, Result};
use wast::token::{LParen, Span};

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

/// An export of an actor, `ACTOR.EXPORT`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target {
    pub actor: String,
    pub export: String,
}

impl Target {
    pub fn new(actor: &str, export: &str) -> Target {
        Target {
            actor: actor.to_string(),
            export: export.to_string(),
        }
    }
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
        target: Target,
        lower: Lower,
    },
    /// Start an async-lowered call to another actor's export and cancel it
    /// at once with a blocking `subtask.cancel`; the status is reported with
    /// `note(100 + status)`.
    CallCancel {
        target: Target,
    },
    /// Like `call-cancel`, but cancel with the async `subtask.cancel`. If
    /// the status is BLOCKED (noted as 99), join the subtask to a waitable
    /// set and wait (not cancellable) for its terminal SUBTASK event, then
    /// note `100 + status`; otherwise note `100 + status` at once. A call
    /// that already returned notes 102 and is not cancelled. Then
    /// `subtask.drop`.
    CallCancelAsync {
        target: Target,
    },
    /// Start an async-lowered call to another actor's export and keep the
    /// subtask in the actor's slot (a core global every task and thread of
    /// the instance shares), without waiting for it. A call that already
    /// returned leaves the slot as it was; a handle already in the slot is
    /// left to its caller (which exits holding it).
    Start {
        target: Target,
    },
    /// The same with the host import `block(id)`: a host subtask in the
    /// slot.
    StartBlock(u32),
    /// Take the subtask in the actor's slot (emptying the slot), whichever
    /// task or thread of the instance started it, cancel it with a
    /// blocking `subtask.cancel`, note `100 + status` and `subtask.drop`
    /// it. Nothing if the slot is empty.
    CancelKept,
    /// Like `cancel-kept` with the async `subtask.cancel`. If it is BLOCKED
    /// (noted as 99), an async body waits for the terminal SUBTASK event
    /// as `call-cancel-async` does, notes `100 + status` and drops it; a
    /// sync body, which may not wait, keeps the handle and exits holding
    /// it.
    CancelKeptAsync,
    /// Wait, not cancellably, on the actor's shared waitable set (created
    /// if the actor has none), for good: nothing is ever joined to it.
    WaitSet,
    /// `waitable-set.drop` of the actor's shared waitable set (emptying the
    /// slot), or of a new one if it has none. It traps if a task waits on
    /// it (`wait-set`).
    DropSet,
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

impl Step {
    /// The export this step calls or cancels, if any.
    pub fn target(&self) -> Option<&Target> {
        match self {
            Step::Call { target, .. }
            | Step::CallCancel { target }
            | Step::CallCancelAsync { target }
            | Step::Start { target } => Some(target),
            _ => None,
        }
    }

    /// Whether a sync-lifted body may take this step: it only makes sync
    /// calls, starts calls it does not wait for, cancels and drops without
    /// waiting, notes, traps and exits. (`cancel-kept` is allowed so that a
    /// scenario can pin its trap: a task that may not block cannot cancel
    /// synchronously.)
    fn allowed_in_sync_body(&self) -> bool {
        matches!(
            self,
            Step::Note(_)
                | Step::Trap
                | Step::Exit
                | Step::BackpressureInc
                | Step::BackpressureDec
                | Step::Start { .. }
                | Step::StartBlock(_)
                | Step::CancelKept
                | Step::CancelKeptAsync
                | Step::DropSet
                | Step::Call {
                    lower: Lower::Sync,
                    ..
                }
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    pub name: String,
    pub lift: Lift,
    pub result: u32,
    pub body: Vec<Step>,
    /// Bodies of the explicit threads that `(spawn n)` starts.
    pub threads: Vec<Vec<Step>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub exports: Vec<Export>,
}

/// The `(component ...)` of a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub actors: Vec<Actor>,
}

impl Spec {
    pub fn actor(&self, name: &str) -> Option<&Actor> {
        self.actors.iter().find(|a| a.name == name)
    }

    /// Look up `actor.export`.
    pub fn export(&self, target: &Target) -> Option<(&Actor, &Export)> {
        let actor = self.actor(&target.actor)?;
        let export = actor.exports.iter().find(|e| e.name == target.export)?;
        Some((actor, export))
    }

    /// Parse a `(component ...)` from text (no scenario around it).
    pub fn parse_str(src: &str) -> anyhow::Result<Spec> {
        crate::scenario::parse_text(src, None)
    }
}

/// A name: lowercase ASCII letters and digits, starting with a letter.
fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// A bare word (a `wast` keyword or reserved token), with where it starts.
pub(crate) fn word<'a>(parser: Parser<'a>, what: &str) -> Result<(&'a str, Span)> {
    let span = parser.cur_span();
    let word = parser.step(|c| match c.keyword()?.or(c.reserved()?) {
        Some((word, rest)) => Ok((word, rest)),
        None => Err(c.error(format!("expected {what}"))),
    })?;
    Ok((word, span))
}

/// A whole number.
pub(crate) fn number(parser: Parser<'_>) -> Result<u32> {
    match parser.peek::<u32>()? {
        true => parser.parse(),
        false => Err(parser.error("expected a number")),
    }
}

/// An actor or export name.
pub(crate) fn name(parser: Parser<'_>) -> Result<String> {
    let (name, span) = word(parser, "a name")?;
    if !valid_name(name) {
        return Err(parser.error_at(
            span,
            format!("`{name}` is not a valid name (lowercase letters and digits)"),
        ));
    }
    Ok(name.to_string())
}

impl<'a> Parse<'a> for Target {
    fn parse(parser: Parser<'a>) -> Result<Target> {
        let (text, span) = word(parser, "ACTOR.EXPORT")?;
        match text.split_once('.') {
            Some((actor, export)) if valid_name(actor) && valid_name(export) => {
                Ok(Target::new(actor, export))
            }
            _ => Err(parser.error_at(span, format!("expected ACTOR.EXPORT, found `{text}`"))),
        }
    }
}

impl<'a> Parse<'a> for Lift {
    fn parse(parser: Parser<'a>) -> Result<Lift> {
        one_of!(parser,
            sync => Lift::Sync,
            callback => Lift::Callback,
            stackful => Lift::Stackful,
        )
    }
}

impl<'a> Parse<'a> for Lower {
    fn parse(parser: Parser<'a>) -> Result<Lower> {
        one_of!(parser, sync => Lower::Sync, async_ => Lower::Async)
    }
}

impl<'a> Parse<'a> for Step {
    fn parse(parser: Parser<'a>) -> Result<Step> {
        let mut lookahead = parser.lookahead1();
        if lookahead.peek::<LParen>()? {
            return parser.parens(|p| {
                one_of!(p,
                    block => Step::Block(number(p)?),
                    note => Step::Note(number(p)?),
                    spawn => Step::Spawn(number(p)? as usize),
                    call => Step::Call { target: p.parse()?, lower: p.parse()? },
                    call_cancel => Step::CallCancel { target: p.parse()? },
                    call_cancel_async => Step::CallCancelAsync { target: p.parse()? },
                    start => Step::Start { target: p.parse()? },
                    start_block => Step::StartBlock(number(p)?),
                )
            });
        }
        one_of!(@with parser, lookahead,
            return_ => Step::Return,
            yield_ => Step::Yield,
            yield_cancellable => Step::YieldCancellable,
            poll_cancellable => Step::PollCancellable,
            wait_cancel => Step::WaitCancel,
            cancel_kept => Step::CancelKept,
            cancel_kept_async => Step::CancelKeptAsync,
            wait_set => Step::WaitSet,
            drop_set => Step::DropSet,
            backpressure_inc => Step::BackpressureInc,
            backpressure_dec => Step::BackpressureDec,
            trap => Step::Trap,
            exit => Step::Exit,
        )
    }
}

/// `STEP...` up to the closing parenthesis, each with where it starts.
fn steps(parser: Parser<'_>) -> Result<Vec<(Span, Step)>> {
    let mut out = Vec::new();
    while !parser.is_empty() {
        out.push((parser.cur_span(), parser.parse()?));
    }
    Ok(out)
}

/// An export as parsed, with where each of its steps starts, for the checks
/// that need more than one step or the other actors.
struct Parsed {
    export: Export,
    body: Vec<(Span, Step)>,
    threads: Vec<Vec<(Span, Step)>>,
}

impl Parsed {
    fn steps(&self) -> impl Iterator<Item = &(Span, Step)> {
        self.body.iter().chain(self.threads.iter().flatten())
    }

    /// What one export alone must satisfy.
    fn check(&self, parser: Parser<'_>) -> Result<()> {
        let threads = self.threads.len();
        for (span, step) in self.steps() {
            if let Step::Spawn(n) = step
                && *n >= threads
            {
                return Err(parser.error_at(*span, format!("(spawn {n}) names no thread body")));
            }
        }
        if self.export.lift == Lift::Sync
            && let Some((span, _)) = self.body.iter().find(|(_, s)| !s.allowed_in_sync_body())
        {
            return Err(parser.error_at(
                *span,
                "a sync-lifted export can only make sync calls, start calls, cancel and drop without waiting, note, trap and exit",
            ));
        }
        let spawn = self.threads.iter().flatten();
        if let Some((span, _)) = spawn.into_iter().find(|(_, s)| matches!(s, Step::Spawn(_))) {
            return Err(parser.error_at(*span, "threads do not spawn threads in this suite"));
        }
        Ok(())
    }
}

impl<'a> Parse<'a> for Parsed {
    fn parse(parser: Parser<'a>) -> Result<Parsed> {
        parser.parse::<kw::export>()?;
        let name = name(parser)?;
        let lift = parser.parse()?;
        let result = parser.parens(|p| {
            p.parse::<kw::result>()?;
            number(p)
        })?;
        let body = parser.parens(|p| {
            p.parse::<kw::body>()?;
            steps(p)
        })?;
        let mut threads = Vec::new();
        while !parser.is_empty() {
            threads.push(parser.parens(|p| {
                p.parse::<kw::thread>()?;
                steps(p)
            })?);
        }
        let plain = |steps: &[(Span, Step)]| steps.iter().map(|(_, s)| s.clone()).collect();
        let export = Export {
            name,
            lift,
            result,
            body: plain(&body),
            threads: threads.iter().map(|t| plain(t)).collect(),
        };
        let parsed = Parsed {
            export,
            body,
            threads,
        };
        parsed.check(parser)?;
        Ok(parsed)
    }
}

impl<'a> Parse<'a> for Spec {
    fn parse(parser: Parser<'a>) -> Result<Spec> {
        parser.parens(|p| {
            let span = p.parse::<kw::component>()?.0;
            let mut spec = Spec { actors: Vec::new() };
            while !p.is_empty() {
                let actor = p.parens(|p| spec.parse_actor(p))?;
                spec.actors.push(actor);
            }
            if spec.actors.is_empty() {
                return Err(p.error_at(span, "a component needs at least one actor"));
            }
            Ok(spec)
        })
    }
}

impl Spec {
    /// `actor NAME EXPORT...`, whose calls may only go to the actors
    /// declared before it (that is the order in which the instances are
    /// created).
    fn parse_actor(&self, parser: Parser<'_>) -> Result<Actor> {
        parser.parse::<kw::actor>()?;
        let span = parser.cur_span();
        let name = name(parser)?;
        if self.actor(&name).is_some() {
            return Err(parser.error_at(span, format!("actor `{name}` declared twice")));
        }
        let mut exports = Vec::new();
        while !parser.is_empty() {
            let parsed: Parsed = parser.parens(|p| p.parse())?;
            for (span, step) in parsed.steps() {
                if let Some(target) = step.target()
                    && self.export(target).is_none()
                {
                    return Err(parser.error_at(
                        *span,
                        format!("`{target}` is not an export of an earlier actor"),
                    ));
                }
            }
            exports.push(parsed.export);
        }
        Ok(Actor { name, exports })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.actor, self.export)
    }
}

impl fmt::Display for Lift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lift::Sync => "sync",
            Lift::Callback => "callback",
            Lift::Stackful => "stackful",
        })
    }
}

impl fmt::Display for Lower {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lower::Sync => "sync",
            Lower::Async => "async",
        })
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Return => f.write_str("return"),
            Step::Yield => f.write_str("yield"),
            Step::Block(g) => write!(f, "(block {g})"),
            Step::Call { target, lower } => write!(f, "(call {target} {lower})"),
            Step::CallCancel { target } => write!(f, "(call-cancel {target})"),
            Step::CallCancelAsync { target } => write!(f, "(call-cancel-async {target})"),
            Step::Start { target } => write!(f, "(start {target})"),
            Step::StartBlock(g) => write!(f, "(start-block {g})"),
            Step::CancelKept => f.write_str("cancel-kept"),
            Step::CancelKeptAsync => f.write_str("cancel-kept-async"),
            Step::WaitSet => f.write_str("wait-set"),
            Step::DropSet => f.write_str("drop-set"),
            Step::YieldCancellable => f.write_str("yield-cancellable"),
            Step::PollCancellable => f.write_str("poll-cancellable"),
            Step::BackpressureInc => f.write_str("backpressure-inc"),
            Step::BackpressureDec => f.write_str("backpressure-dec"),
            Step::Spawn(n) => write!(f, "(spawn {n})"),
            Step::WaitCancel => f.write_str("wait-cancel"),
            Step::Note(v) => write!(f, "(note {v})"),
            Step::Trap => f.write_str("trap"),
            Step::Exit => f.write_str("exit"),
        }
    }
}

/// `(HEAD STEP...)`.
fn write_steps(f: &mut fmt::Formatter<'_>, head: &str, steps: &[Step]) -> fmt::Result {
    write!(f, "({head}")?;
    for step in steps {
        write!(f, " {step}")?;
    }
    f.write_str(")")
}

/// The component over several lines: one per actor, export, body and thread.
impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(component")?;
        for actor in &self.actors {
            write!(f, "\n  (actor {}", actor.name)?;
            for e in &actor.exports {
                write!(
                    f,
                    "\n    (export {} {} (result {})",
                    e.name, e.lift, e.result
                )?;
                f.write_str("\n      ")?;
                write_steps(f, "body", &e.body)?;
                for thread in &e.threads {
                    f.write_str("\n      ")?;
                    write_steps(f, "thread", thread)?;
                }
                f.write_str(")")?;
            }
            f.write_str(")")?;
        }
        f.write_str(")")
    }
}
