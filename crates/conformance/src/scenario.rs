//! A scenario: the component (`spec`), then the script of host actions and
//! the checks after them. The language is described in
//! `docs/scenario-language.md`; this module parses it with the `wast`
//! crate and prints it back (`Display`), and parsing what was printed gives
//! the same value.

use crate::backends::Backend;
use crate::kw::{self, one_of};
use crate::spec::{Spec, Target, number, word};
use std::fmt;
use std::path::Path;
use wast::parser::{Parse, ParseBuffer, Parser, Result};
use wast::token::Span;

/// Where an item starts in the text it was parsed from (a byte offset), for
/// messages. Values built in code have none. It takes no part in equality:
/// a scenario printed and parsed again is the same scenario.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pos(pub Option<usize>);

impl PartialEq for Pos {
    fn eq(&self, _: &Pos) -> bool {
        true
    }
}

impl Eq for Pos {}

impl Pos {
    fn of(span: Span) -> Pos {
        Pos(Some(span.offset()))
    }

    /// The 1-based line in `text`, if known.
    pub fn line(self, text: &str) -> Option<usize> {
        let offset = self.0?;
        Some(1 + text.get(..offset)?.matches('\n').count())
    }
}

/// An item of a script, with where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    pub pos: Pos,
    pub item: T,
}

impl<T> Located<T> {
    /// An item built in code.
    pub fn new(item: T) -> Located<T> {
        Located {
            pos: Pos::default(),
            item,
        }
    }
}

/// The id a script gives a host call, `c1`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallId(pub String);

/// A waker the script polls with and counts the wakes of; `main` unless
/// named.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Probe(pub String);

impl Probe {
    pub fn main() -> Probe {
        Probe("main".into())
    }

    fn is_main(&self) -> bool {
        self.0 == "main"
    }
}

/// Where a host call stands: what `(result ID ...)` expects, and what the
/// generator's model computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// Not finished.
    Pending,
    /// Finished with this result.
    Returned(u32),
    /// The host dropped its future before it finished.
    Dropped,
    /// Finished with an error (a trap, or a refused call).
    Error,
}

/// One host action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `(call ID ACTOR.EXPORT)`: start a call with `call_concurrent`.
    Call { id: CallId, target: Target },
    /// `(call-async ID ACTOR.EXPORT)`: call with `call_async`, dropping the
    /// future if it cannot complete.
    CallAsync { id: CallId, target: Target },
    /// `(drop ID)`: drop the future of a `call_concurrent` call.
    Drop(CallId),
    /// `(release N)`: let every `block(N)` return.
    Release(u32),
    /// `(drive)`: run the event loop until nothing more can happen.
    Drive,
    /// `(drive-trap [NAME])`: the same, and it must trap (with the
    /// `wasmtime::Trap` variant NAME).
    DriveTrap(Option<String>),
    /// `(drive-panic "TEXT")`: the same, and Wasmtime must panic with a
    /// message containing TEXT.
    DrivePanic(String),
    /// `(poll PROBE)`: call `poll_no_interesting_tasks` with PROBE's waker.
    Poll(Probe),
    /// `(repeat N ACTION...)`: the actions N times.
    Repeat {
        times: u32,
        actions: Vec<Located<Action>>,
    },
    /// `(expect CHECK...)`: check the state now.
    Expect(Vec<Located<Check>>),
    /// `(diverge "WHY" (BACKEND ACTION...)... (default ACTION...))`.
    Diverge {
        why: String,
        branches: Vec<(Backend, Vec<Located<Action>>)>,
        default: Vec<Located<Action>>,
    },
}

/// One check of an `(expect ...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// `(count N)`: the number of interesting tasks.
    Count(usize),
    /// `(ready [PROBE])`: the poll is ready.
    Ready(Probe),
    /// `(pending [PROBE])`: the poll is pending.
    Pending(Probe),
    /// `(wakes [PROBE] N)`: how often the probe's waker was woken.
    Wakes(Probe, usize),
    /// `(result ID STATE)`: where a host call stands.
    Result(CallId, CallState),
    /// `(notes V...)`: every value the guests noted, in order.
    Notes(Vec<u32>),
}

/// `(fails-on BACKEND "TEXT" "WHY")` (`must`) or `(may-fail-on ...)`: the
/// scenario fails on that backend with an error containing TEXT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedFailure {
    pub backend: Backend,
    pub text: String,
    pub why: String,
    pub must: bool,
}

/// A scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub spec: Spec,
    pub expected_failures: Vec<ExpectedFailure>,
    pub script: Vec<Located<Action>>,
}

impl Scenario {
    /// Parse a scenario's text; `path` names the file in errors.
    pub fn parse_str(src: &str, path: Option<&Path>) -> anyhow::Result<Scenario> {
        parse_text(src, path)
    }

    /// Parse the scenario file at `path`.
    pub fn parse_file(path: &Path) -> anyhow::Result<Scenario> {
        let src = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        parse_text(&src, Some(path))
    }
}

/// Parse all of `src` as a `T`. The error names the file, line and column
/// and shows the line.
pub fn parse_text<T: for<'a> Parse<'a>>(src: &str, path: Option<&Path>) -> anyhow::Result<T> {
    let parsed = ParseBuffer::new(src).and_then(|buf| wast::parser::parse::<T>(&buf));
    parsed.map_err(|mut e| {
        e.set_path(path.unwrap_or(Path::new("<scenario>")));
        e.set_text(src);
        anyhow::Error::new(e)
    })
}

impl<'a> Parse<'a> for CallId {
    fn parse(parser: Parser<'a>) -> Result<CallId> {
        Ok(CallId(word(parser, "a call id")?.0.to_string()))
    }
}

impl<'a> Parse<'a> for Probe {
    fn parse(parser: Parser<'a>) -> Result<Probe> {
        Ok(Probe(word(parser, "a probe name")?.0.to_string()))
    }
}

impl<'a> Parse<'a> for CallState {
    fn parse(parser: Parser<'a>) -> Result<CallState> {
        let mut lookahead = parser.lookahead1();
        if lookahead.peek::<u32>()? {
            return Ok(CallState::Returned(parser.parse()?));
        }
        one_of!(@with parser, lookahead,
            pending => CallState::Pending,
            dropped => CallState::Dropped,
            error => CallState::Error,
        )
    }
}

/// `ITEM...` up to the closing parenthesis, each with where it starts.
fn located<'a, T: Parse<'a>>(parser: Parser<'a>) -> Result<Vec<Located<T>>> {
    let mut out = Vec::new();
    while !parser.is_empty() {
        let pos = Pos::of(parser.cur_span());
        out.push(Located {
            pos,
            item: parser.parse()?,
        });
    }
    Ok(out)
}

/// A bare word or a string: the name of a trap, the text of a panic.
fn text(parser: Parser<'_>) -> Result<String> {
    if parser.peek::<&str>()? {
        return parser.parse();
    }
    parser.step(|c| match c.keyword()?.or(c.reserved()?) {
        Some((word, rest)) => Ok((word.to_string(), rest)),
        None => Err(c.error("expected a word or a string")),
    })
}

impl<'a> Parse<'a> for Check {
    fn parse(parser: Parser<'a>) -> Result<Check> {
        parser.parens(|p| {
            let probe = |p: Parser<'a>| -> Result<Probe> {
                match p.is_empty() {
                    true => Ok(Probe::main()),
                    false => p.parse(),
                }
            };
            one_of!(p,
                count => Check::Count(number(p)? as usize),
                ready => Check::Ready(probe(p)?),
                pending => Check::Pending(probe(p)?),
                wakes => match p.peek::<u32>()? {
                    true => Check::Wakes(Probe::main(), number(p)? as usize),
                    false => Check::Wakes(p.parse()?, number(p)? as usize),
                },
                result => Check::Result(p.parse()?, p.parse()?),
                notes => {
                    let mut notes = Vec::new();
                    while !p.is_empty() {
                        notes.push(number(p)?);
                    }
                    Check::Notes(notes)
                },
            )
        })
    }
}

/// The branches of a `(diverge "WHY" ...)`, after the reason.
type Branches = (Vec<(Backend, Vec<Located<Action>>)>, Vec<Located<Action>>);

fn branches(parser: Parser<'_>) -> Result<Branches> {
    let mut backends: Vec<(Backend, Vec<Located<Action>>)> = Vec::new();
    loop {
        if parser.is_empty() {
            return Err(parser.error("`(diverge ...)` needs a `(default ...)` branch, last"));
        }
        let span = parser.cur_span();
        let default = parser.parens(|p| {
            if p.peek::<kw::default>()? {
                p.parse::<kw::default>()?;
                return Ok(Some(located(p)?));
            }
            let backend = p.parse()?;
            if backends.iter().any(|(b, _)| *b == backend) {
                return Err(p.error_at(span, format!("a second `{backend}` branch")));
            }
            backends.push((backend, located(p)?));
            Ok(None)
        })?;
        if let Some(default) = default {
            return Ok((backends, default));
        }
    }
}

impl<'a> Parse<'a> for Action {
    fn parse(parser: Parser<'a>) -> Result<Action> {
        parser.parens(|p| {
            one_of!(p,
                call => Action::Call { id: p.parse()?, target: p.parse()? },
                call_async => Action::CallAsync { id: p.parse()?, target: p.parse()? },
                drop => Action::Drop(p.parse()?),
                release => Action::Release(number(p)?),
                drive => Action::Drive,
                drive_trap => Action::DriveTrap(match p.is_empty() {
                    true => None,
                    false => Some(text(p)?),
                }),
                drive_panic => Action::DrivePanic(text(p)?),
                poll => Action::Poll(p.parse()?),
                repeat => Action::Repeat { times: number(p)?, actions: located(p)? },
                expect => Action::Expect(located(p)?),
                diverge => {
                    let why = p.parse()?;
                    let (branches, default) = branches(p)?;
                    Action::Diverge { why, branches, default }
                },
            )
        })
    }
}

/// A top-level item after the component.
enum Item {
    Action(Located<Action>),
    Expected(ExpectedFailure),
}

impl<'a> Parse<'a> for Item {
    fn parse(parser: Parser<'a>) -> Result<Item> {
        let pos = Pos::of(parser.cur_span());
        let must = match (
            parser.peek2::<kw::fails_on>()?,
            parser.peek2::<kw::may_fail_on>()?,
        ) {
            (true, _) => true,
            (_, true) => false,
            _ => {
                return Ok(Item::Action(Located {
                    pos,
                    item: parser.parse()?,
                }));
            }
        };
        parser.parens(|p| {
            match must {
                true => p.parse::<kw::fails_on>().map(drop)?,
                false => p.parse::<kw::may_fail_on>().map(drop)?,
            }
            Ok(Item::Expected(ExpectedFailure {
                backend: p.parse()?,
                text: p.parse()?,
                why: p.parse()?,
                must,
            }))
        })
    }
}

impl<'a> Parse<'a> for Scenario {
    fn parse(parser: Parser<'a>) -> Result<Scenario> {
        let spec: Spec = parser.parse()?;
        let mut scenario = Scenario {
            spec,
            expected_failures: Vec::new(),
            script: Vec::new(),
        };
        while !parser.is_empty() {
            let span = parser.cur_span();
            match parser.parse()? {
                Item::Action(action) => {
                    if let Some(target) = action.item.unknown_target(&scenario.spec) {
                        return Err(parser.error_at(span, format!("no export `{target}`")));
                    }
                    scenario.script.push(action)
                }
                Item::Expected(e) => scenario.expected_failures.push(e),
            }
        }
        Ok(scenario)
    }
}

impl Action {
    /// A host call in this action (or the actions inside it) of an export
    /// that `spec` does not have.
    fn unknown_target<'s>(&'s self, spec: &Spec) -> Option<&'s Target> {
        let inner = |actions: &'s [Located<Action>]| {
            actions.iter().find_map(|a| a.item.unknown_target(spec))
        };
        match self {
            Action::Call { target, .. } | Action::CallAsync { target, .. } => {
                spec.export(target).is_none().then_some(target)
            }
            Action::Repeat { actions, .. } => inner(actions),
            Action::Diverge {
                branches, default, ..
            } => branches
                .iter()
                .find_map(|(_, actions)| inner(actions))
                .or_else(|| inner(default)),
            _ => None,
        }
    }
}

/// `"TEXT"`, escaped as the `wast` lexer reads it back.
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c if c.is_control() => write!(f, "\\u{{{:x}}}", c as u32)?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for CallState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallState::Pending => f.write_str("pending"),
            CallState::Returned(v) => write!(f, "{v}"),
            CallState::Dropped => f.write_str("dropped"),
            CallState::Error => f.write_str("error"),
        }
    }
}

impl<T: fmt::Display> fmt::Display for Located<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.item.fmt(f)
    }
}

/// ` ITEM ITEM...`
fn write_all<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    items.iter().try_for_each(|item| write!(f, " {item}"))
}

/// ` PROBE`, left out for `main`.
struct NotMain<'a>(&'a Probe);

impl fmt::Display for NotMain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.is_main() {
            true => Ok(()),
            false => write!(f, " {}", self.0),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::Count(n) => write!(f, "(count {n})"),
            Check::Ready(probe) => write!(f, "(ready{})", NotMain(probe)),
            Check::Pending(probe) => write!(f, "(pending{})", NotMain(probe)),
            Check::Wakes(probe, n) => write!(f, "(wakes{} {n})", NotMain(probe)),
            Check::Result(id, state) => write!(f, "(result {id} {state})"),
            Check::Notes(notes) => {
                f.write_str("(notes")?;
                write_all(f, notes)?;
                f.write_str(")")
            }
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Call { id, target } => write!(f, "(call {id} {target})"),
            Action::CallAsync { id, target } => write!(f, "(call-async {id} {target})"),
            Action::Drop(id) => write!(f, "(drop {id})"),
            Action::Release(gate) => write!(f, "(release {gate})"),
            Action::Drive => f.write_str("(drive)"),
            Action::DriveTrap(None) => f.write_str("(drive-trap)"),
            Action::DriveTrap(Some(name)) => write!(f, "(drive-trap {name})"),
            Action::DrivePanic(text) => write!(f, "(drive-panic {})", Quoted(text)),
            Action::Poll(probe) => write!(f, "(poll {probe})"),
            Action::Repeat { times, actions } => {
                write!(f, "(repeat {times}")?;
                write_all(f, actions)?;
                f.write_str(")")
            }
            Action::Expect(checks) => {
                f.write_str("(expect")?;
                write_all(f, checks)?;
                f.write_str(")")
            }
            Action::Diverge {
                why,
                branches,
                default,
            } => {
                write!(f, "(diverge {}", Quoted(why))?;
                for (backend, actions) in branches {
                    write!(f, " ({backend}")?;
                    write_all(f, actions)?;
                    f.write_str(")")?;
                }
                f.write_str(" (default")?;
                write_all(f, default)?;
                f.write_str("))")
            }
        }
    }
}

impl fmt::Display for ExpectedFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = match self.must {
            true => "fails-on",
            false => "may-fail-on",
        };
        let (text, why) = (Quoted(&self.text), Quoted(&self.why));
        write!(f, "({head} {} {text} {why})", self.backend)
    }
}

/// The component, a blank line, then one line per expected failure and per
/// action.
impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}\n", self.spec)?;
        for e in &self.expected_failures {
            writeln!(f, "{e}")?;
        }
        for action in &self.script {
            writeln!(f, "{action}")?;
        }
        Ok(())
    }
}
