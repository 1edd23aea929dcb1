//! The keywords of the scenario language, as `wast` custom keywords.
//!
//! Every keyword the parser knows is declared here, once: the macro makes a
//! `wast` keyword type of each and lists their spellings in [`KEYWORDS`],
//! which the test of `docs/scenario-language.md` checks the page against.

macro_rules! keywords {
    ($($name:ident = $text:literal,)*) => {
        $(wast::custom_keyword!($name = $text);)*

        /// The spelling of every keyword of the scenario language.
        pub const KEYWORDS: &[&str] = &[$($text),*];
    };
}

keywords! {
    // The component.
    component = "component",
    actor = "actor",
    export = "export",
    sync = "sync",
    callback = "callback",
    stackful = "stackful",
    result = "result",
    body = "body",
    thread = "thread",
    // Steps.
    return_ = "return",
    yield_ = "yield",
    yield_cancellable = "yield-cancellable",
    poll_cancellable = "poll-cancellable",
    wait_cancel = "wait-cancel",
    backpressure_inc = "backpressure-inc",
    backpressure_dec = "backpressure-dec",
    trap = "trap",
    exit = "exit",
    block = "block",
    note = "note",
    spawn = "spawn",
    call = "call",
    async_ = "async",
    call_cancel = "call-cancel",
    call_cancel_async = "call-cancel-async",
    start = "start",
    start_block = "start-block",
    cancel_kept = "cancel-kept",
    cancel_kept_async = "cancel-kept-async",
    wait_set = "wait-set",
    drop_set = "drop-set",
    // Host actions.
    call_async = "call-async",
    drop = "drop",
    release = "release",
    drive = "drive",
    drive_trap = "drive-trap",
    drive_panic = "drive-panic",
    poll = "poll",
    repeat = "repeat",
    expect = "expect",
    diverge = "diverge",
    default = "default",
    fails_on = "fails-on",
    may_fail_on = "may-fail-on",
    // Checks.
    count = "count",
    ready = "ready",
    pending = "pending",
    wakes = "wakes",
    notes = "notes",
    dropped = "dropped",
    error = "error",
    // Backends.
    patched = "patched",
    upstream_45 = "upstream-45",
    upstream_48 = "upstream-48",
}

/// Parse one of several keywords into the value paired with it, or fail
/// with the list of what was expected:
/// `one_of!(parser, sync => Lift::Sync, callback => Lift::Callback)`.
/// `one_of!(@with parser, lookahead, ...)` goes on with a lookahead that
/// was already asked about other tokens, so that the error lists them too.
macro_rules! one_of {
    ($parser:expr, $($kw:ident => $value:expr),+ $(,)?) => {{
        let parser = $parser;
        let mut lookahead = parser.lookahead1();
        $crate::kw::one_of!(@with parser, lookahead, $($kw => $value),+)
    }};
    (@with $parser:ident, $lookahead:ident, $($kw:ident => $value:expr),+ $(,)?) => {{
        $(
            if $lookahead.peek::<$crate::kw::$kw>()? {
                $parser.parse::<$crate::kw::$kw>()?;
                Ok($value)
            } else
        )+
        {
            Err($lookahead.error())
        }
    }};
}
pub(crate) use one_of;
