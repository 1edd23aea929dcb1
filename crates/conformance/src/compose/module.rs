//! The text of an actor's main core module: its exports' bodies as core
//! code, each step a few instructions calling the canonical built-ins and
//! the imports the component gives it.

use super::{Encoding, import_name, lowered_async};
use crate::spec::{Actor, Export, Lift, Lower, Spec, Step, Target};
use anyhow::Result;
use std::fmt::Write;

/// Callback codes and event numbers of the component model's async ABI.
const EXIT: u32 = 0;
const YIELD: u32 = 1;
const WAIT: u32 = 2;
const EVENT_SUBTASK: u32 = 1;
const EVENT_CANCELLED: u32 = 6;
const STATUS_RETURNED: u32 = 2;
/// What the async `subtask.cancel` returns when the cancellation is not
/// resolved yet (as an `i32.const`).
const STATUS_BLOCKED: i32 = -1;
/// What `yield-cancellable` and `poll-cancellable` note when they see the
/// cancellation.
pub const NOTE_YIELD_CANCELLED: u32 = 301;
pub const NOTE_POLL_CANCELLED: u32 = 302;
/// What `call-cancel-async` notes when its cancel is BLOCKED.
pub const NOTE_CANCEL_BLOCKED: u32 = 99;

/// Scratch addresses in each actor's memory.
const EVENT_PTR: u32 = 32;
const RET_PTR: u32 = 64;

/// The text of an actor's main core module. Long: it is the module's
/// import list, one line per built-in, followed by its functions.
pub(super) fn main_module(
    spec: &Spec,
    actor: &Actor,
    targets: &[Target],
    encoding: Encoding,
) -> Result<String> {
    let mut m = String::from("(module\n");
    m.push_str(
        r#"  (import "env" "mem" (memory 1))
  (import "env" "tab" (table 1 funcref))
  (import "env" "block" (func $block (param i32) (result i32)))
  (import "env" "note" (func $note (param i32)))
  (import "env" "task-return" (func $task_return (param i32)))
  (import "env" "ctx-get" (func $ctx_get (result i32)))
  (import "env" "ctx-set" (func $ctx_set (param i32)))
  (import "env" "ws-new" (func $ws_new (result i32)))
  (import "env" "ws-drop" (func $ws_drop (param i32)))
  (import "env" "join" (func $join (param i32 i32)))
  (import "env" "ws-wait" (func $ws_wait (param i32 i32) (result i32)))
  (import "env" "ws-wait-cancellable" (func $ws_wait_cancellable (param i32 i32) (result i32)))
  (import "env" "ws-poll-cancellable" (func $ws_poll_cancellable (param i32 i32) (result i32)))
  (import "env" "subtask-drop" (func $subtask_drop (param i32)))
  (import "env" "subtask-cancel" (func $subtask_cancel (param i32) (result i32)))
  (import "env" "subtask-cancel-async" (func $subtask_cancel_async (param i32) (result i32)))
  (import "env" "task-cancel" (func $task_cancel))
  (import "env" "bp-inc" (func $bp_inc))
  (import "env" "bp-dec" (func $bp_dec))
  (import "env" "yield" (func $yield (result i32)))
  (import "env" "yield-cancellable" (func $yield_cancellable (result i32)))
  (import "env" "thread-new" (func $thread_new (param i32 i32) (result i32)))
  (import "env" "thread-unsuspend" (func $thread_unsuspend (param i32)))
"#,
    );
    for target in targets {
        let t = import_name(target);
        writeln!(
            m,
            r#"  (import "env" "{t}-sync" (func ${t}-sync (result i32)))"#
        )?;
        if lowered_async(spec, actor, target, encoding) {
            writeln!(
                m,
                r#"  (import "env" "{t}-async" (func ${t}-async (param i32) (result i32)))"#
            )?;
        }
    }

    // The slots every task and thread of the instance shares: the subtask
    // `start` keeps, and the waitable set of `wait-set` and `drop-set`.
    m.push_str("  (global $kept (mut i32) (i32.const 0))\n");
    m.push_str("  (global $set (mut i32) (i32.const 0))\n");

    // Explicit thread bodies, in table order.
    let mut table = Vec::new();
    let mut thread_base = Vec::new();
    for (i, export) in actor.exports.iter().enumerate() {
        thread_base.push(table.len());
        for (k, body) in export.threads.iter().enumerate() {
            let name = format!("$t{i}_{k}");
            writeln!(
                m,
                "  (func {name} (param i32) (local $s i32) (local $ws i32) (local $h i32)\n{}  )",
                straight_line(body, export, Lift::Stackful, 0)
            )?;
            table.push(name);
        }
    }
    if !table.is_empty() {
        writeln!(
            m,
            "  (elem (table 0) (i32.const 0) func {})",
            table.join(" ")
        )?;
    }

    for (i, export) in actor.exports.iter().enumerate() {
        let base = thread_base[i];
        match export.lift {
            Lift::Sync => writeln!(
                m,
                "  (func (export \"e{i}\") (result i32) (local $s i32) (local $ws i32) (local $h i32)\n{}    (i32.const {})\n  )",
                straight_line(&export.body, export, Lift::Sync, base),
                export.result
            )?,
            Lift::Stackful => writeln!(
                m,
                "  (func (export \"e{i}\") (local $s i32) (local $ws i32) (local $h i32)\n{}  )",
                straight_line(&export.body, export, Lift::Stackful, base)
            )?,
            Lift::Callback => m.push_str(&callback(i, export, base)),
        }
    }
    m.push_str(")\n");
    Ok(m)
}

/// Wait, in a stackful context, for the subtask whose packed status is in
/// `$s` to return, then drop it.
const WAIT_SUBTASK: &str = "    (if (i32.ne (i32.and (local.get $s) (i32.const 15)) (i32.const 2))
      (then
        (if (i32.eqz (local.get $ws)) (then (local.set $ws (call $ws_new))))
        (call $join (i32.shr_u (local.get $s) (i32.const 4)) (local.get $ws))
        (block $done
          (loop $wait
            (br_if $done
              (i32.and
                (i32.eq (call $ws_wait (local.get $ws) (i32.const EVENT_PTR)) (i32.const 1))
                (i32.eq (i32.load (i32.const PAYLOAD_PTR)) (i32.const 2))))
            (br $wait)))
        (call $subtask_drop (i32.shr_u (local.get $s) (i32.const 4)))))
";

fn wait_subtask() -> String {
    WAIT_SUBTASK
        .replace("EVENT_PTR", &EVENT_PTR.to_string())
        .replace("PAYLOAD_PTR", &(EVENT_PTR + 4).to_string())
}

/// Create the actor's shared waitable set if it has none.
const ENSURE_SET: &str =
    "    (if (i32.eqz (global.get $set)) (then (global.set $set (call $ws_new))))\n";

/// Create the body's waitable set in `$ws` if it has none yet (the callback
/// form always has one).
const ENSURE_WS: &str =
    "    (if (i32.eqz (local.get $ws)) (then (local.set $ws (call $ws_new))))\n";

/// Wait, not cancellably, for the terminal SUBTASK event of the subtask
/// `$h` whose async cancel returned BLOCKED, leaving its status in `$s`.
fn wait_cancelled() -> String {
    format!(
        "{ENSURE_WS}            (call $join (local.get $h) (local.get $ws))
            (block $done
              (loop $wait
                (br_if $done
                  (i32.and
                    (i32.and
                      (i32.eq (call $ws_wait (local.get $ws) (i32.const {EVENT_PTR})) (i32.const {EVENT_SUBTASK}))
                      (i32.eq (i32.load (i32.const {EVENT_PTR})) (local.get $h)))
                    (i32.ge_u (local.tee $s (i32.load (i32.const {payload}))) (i32.const {STATUS_RETURNED}))))
                (br $wait)))
",
        payload = EVENT_PTR + 4,
    )
}

/// Keep the subtask of the async call whose packed status is in `$s` in
/// the actor's slot, unless it already returned.
const KEEP: &str = "    (if (i32.ne (i32.and (local.get $s) (i32.const 15)) (i32.const 2))
      (then (global.set $kept (i32.shr_u (local.get $s) (i32.const 4)))))
";

/// Code shared by the stackful and the callback forms of a step that does
/// not leave the core function (though it may block in it). `exit` is how
/// the body exits after it acknowledged a cancellation; `lift` is the
/// body's (a sync body may not wait). Long: one arm of core code per step.
fn simple_step(
    step: &Step,
    export: &Export,
    lift: Lift,
    thread_base: usize,
    exit: &str,
) -> Option<String> {
    Some(match step {
        Step::Return => format!("    (call $task_return (i32.const {}))\n", export.result),
        Step::Call {
            target,
            lower: Lower::Sync,
        } => format!("    (drop (call ${}-sync))\n", import_name(target)),
        Step::CallCancel { target } => format!(
            "    (local.set $s (call ${t}-async (i32.const {RET_PTR})))
    (if (i32.ne (i32.and (local.get $s) (i32.const 15)) (i32.const 2))
      (then
        (call $note (i32.add (i32.const 100)
          (call $subtask_cancel (i32.shr_u (local.get $s) (i32.const 4)))))
        (call $subtask_drop (i32.shr_u (local.get $s) (i32.const 4))))
      (else (call $note (i32.const 102))))
",
            t = import_name(target)
        ),
        Step::CallCancelAsync { target } => format!(
            "    (local.set $s (call ${t}-async (i32.const {RET_PTR})))
    (if (i32.ne (i32.and (local.get $s) (i32.const 15)) (i32.const {STATUS_RETURNED}))
      (then
        (local.set $h (i32.shr_u (local.get $s) (i32.const 4)))
        (local.set $s (call $subtask_cancel_async (local.get $h)))
        (if (i32.eq (local.get $s) (i32.const {STATUS_BLOCKED}))
          (then
            (call $note (i32.const {NOTE_CANCEL_BLOCKED}))
{wait}          ))
        (call $note (i32.add (i32.const 100) (local.get $s)))
        (call $subtask_drop (local.get $h)))
      (else (call $note (i32.const 102))))
",
            t = import_name(target),
            wait = wait_cancelled(),
        ),
        Step::Start { target } => format!(
            "    (local.set $s (call ${}-async (i32.const {RET_PTR})))\n{KEEP}",
            import_name(target)
        ),
        Step::StartBlock(id) => {
            format!("    (local.set $s (call $block (i32.const {id})))\n{KEEP}")
        }
        Step::CancelKept => "    (local.set $h (global.get $kept))
    (global.set $kept (i32.const 0))
    (if (local.get $h)
      (then
        (call $note (i32.add (i32.const 100) (call $subtask_cancel (local.get $h))))
        (call $subtask_drop (local.get $h))))
"
        .into(),
        Step::CancelKeptAsync => {
            // A sync body may not wait: it keeps a BLOCKED subtask.
            let blocked = match lift {
                Lift::Sync => String::new(),
                _ => format!(
                    "{}            (call $note (i32.add (i32.const 100) (local.get $s)))
            (call $subtask_drop (local.get $h))\n",
                    wait_cancelled()
                ),
            };
            format!(
                "    (local.set $h (global.get $kept))
    (global.set $kept (i32.const 0))
    (if (local.get $h)
      (then
        (local.set $s (call $subtask_cancel_async (local.get $h)))
        (if (i32.eq (local.get $s) (i32.const {STATUS_BLOCKED}))
          (then
            (call $note (i32.const {NOTE_CANCEL_BLOCKED}))
{blocked}          )
          (else
            (call $note (i32.add (i32.const 100) (local.get $s)))
            (call $subtask_drop (local.get $h))))))
"
            )
        }
        Step::DropSet => "    (if (i32.eqz (global.get $set))
      (then (call $ws_drop (call $ws_new)))
      (else (call $ws_drop (global.get $set)) (global.set $set (i32.const 0))))
"
        .into(),
        Step::YieldCancellable => format!(
            "    (if (i32.eq (call $yield_cancellable) (i32.const 1))
      (then (call $note (i32.const {NOTE_YIELD_CANCELLED})) (call $task_cancel) {exit}))
"
        ),
        Step::PollCancellable => format!(
            "{ENSURE_WS}    (if (i32.eq (call $ws_poll_cancellable (local.get $ws) (i32.const {EVENT_PTR})) (i32.const {EVENT_CANCELLED}))
      (then (call $note (i32.const {NOTE_POLL_CANCELLED})) (call $task_cancel) {exit}))
"
        ),
        Step::BackpressureInc => "    (call $bp_inc)\n".into(),
        Step::BackpressureDec => "    (call $bp_dec)\n".into(),
        Step::Spawn(n) => format!(
            "    (call $thread_unsuspend (call $thread_new (i32.const {}) (i32.const 0)))\n",
            thread_base + n
        ),
        Step::Note(v) => format!("    (call $note (i32.const {v}))\n"),
        Step::Trap => "    (unreachable)\n".into(),
        _ => return None,
    })
}

/// A body that runs from top to bottom on its own stack: a sync or stackful
/// export, or an explicit thread.
fn straight_line(body: &[Step], export: &Export, lift: Lift, thread_base: usize) -> String {
    let mut out = String::new();
    let exit = match lift {
        Lift::Sync => format!("(return (i32.const {}))", export.result),
        _ => "(return)".into(),
    };
    for step in body {
        if let Some(code) = simple_step(step, export, lift, thread_base, &exit) {
            out.push_str(&code);
            continue;
        }
        match step {
            Step::Yield => out.push_str("    (drop (call $yield))\n"),
            Step::Block(id) => {
                out.push_str(&format!("    (local.set $s (call $block (i32.const {id})))\n"));
                out.push_str(&wait_subtask());
            }
            Step::Call {
                target,
                lower: Lower::Async,
            } => {
                out.push_str(&format!(
                    "    (local.set $s (call ${}-async (i32.const {RET_PTR})))\n",
                    import_name(target)
                ));
                out.push_str(&wait_subtask());
            }
            Step::WaitCancel => out.push_str(&format!(
                "{ENSURE_WS}    (if (i32.eq (call $ws_wait_cancellable (local.get $ws) (i32.const {EVENT_PTR})) (i32.const {EVENT_CANCELLED}))
      (then (call $task_cancel) (return)))
    (unreachable)
"
            )),
            Step::WaitSet => out.push_str(&format!(
                "{ENSURE_SET}    (loop $forever
      (drop (call $ws_wait (global.get $set) (i32.const {EVENT_PTR})))
      (br $forever))
"
            )),
            Step::Exit => out.push_str(&format!("    {exit}\n")),
            _ => unreachable!("{step:?} is a simple step"),
        }
    }
    out
}

/// The entry point, the step machine and the callback of a callback-lifted
/// export. The task's context slot 0 holds the index of the next step in its
/// low 16 bits and its waitable set in the high bits. Long: one arm of
/// core code per step that leaves the callback.
fn callback(i: usize, export: &Export, thread_base: usize) -> String {
    let wait_code = format!("(i32.or (i32.const {WAIT}) (i32.shl (local.get $ws) (i32.const 4)))");
    let exit = format!("(return (i32.const {EXIT}))");
    let mut m = String::new();
    writeln!(
        m,
        "  (func (export \"e{i}\") (result i32)
    (call $ctx_set (i32.shl (call $ws_new) (i32.const 16)))
    (call $run{i}))"
    )
    .unwrap();
    writeln!(
        m,
        "  (func $run{i} (result i32) (local $i i32) (local $s i32) (local $ws i32) (local $h i32)
    (loop $next
      (local.set $i (i32.and (call $ctx_get) (i32.const 0xffff)))
      (local.set $ws (i32.shr_u (call $ctx_get) (i32.const 16)))"
    )
    .unwrap();
    for (k, step) in export.body.iter().enumerate() {
        writeln!(
            m,
            "      (if (i32.eq (local.get $i) (i32.const {k})) (then
    (call $ctx_set (i32.or (i32.shl (local.get $ws) (i32.const 16)) (i32.const {})))",
            k + 1
        )
        .unwrap();
        if let Some(code) = simple_step(step, export, Lift::Callback, thread_base, &exit) {
            m.push_str(&code);
            m.push_str("    (br $next)\n");
        } else {
            match step {
                Step::Yield => writeln!(m, "    (return (i32.const {YIELD}))").unwrap(),
                Step::Block(_)
                | Step::Call {
                    lower: Lower::Async,
                    ..
                } => {
                    let call = match step {
                        Step::Block(id) => format!("(call $block (i32.const {id}))"),
                        Step::Call { target, .. } => {
                            format!(
                                "(call ${}-async (i32.const {RET_PTR}))",
                                import_name(target)
                            )
                        }
                        _ => unreachable!(),
                    };
                    writeln!(
                        m,
                        "    (local.set $s {call})
    (if (i32.eq (i32.and (local.get $s) (i32.const 15)) (i32.const {STATUS_RETURNED}))
      (then (br $next)))
    (call $join (i32.shr_u (local.get $s) (i32.const 4)) (local.get $ws))
    (return {wait_code})"
                    )
                    .unwrap();
                }
                Step::WaitCancel => writeln!(m, "    (return {wait_code})").unwrap(),
                // Again and again, should the callback ever be called.
                Step::WaitSet => writeln!(
                    m,
                    "    (call $ctx_set (i32.or (i32.shl (local.get $ws) (i32.const 16)) (i32.const {k})))
{ENSURE_SET}    (return (i32.or (i32.const {WAIT}) (i32.shl (global.get $set) (i32.const 4))))"
                )
                .unwrap(),
                Step::Exit => writeln!(m, "    (return (i32.const {EXIT}))").unwrap(),
                _ => unreachable!("{step:?} is a simple step"),
            }
        }
        m.push_str("      ))\n");
    }
    writeln!(m, "    )\n    (i32.const {EXIT}))").unwrap();
    writeln!(
        m,
        "  (func (export \"cb{i}\") (param $event i32) (param $handle i32) (param $payload i32) (result i32)
    (local $ws i32)
    (local.set $ws (i32.shr_u (call $ctx_get) (i32.const 16)))
    (if (i32.eq (local.get $event) (i32.const {EVENT_CANCELLED}))
      (then (call $task_cancel) (return (i32.const {EXIT}))))
    (if (i32.eq (local.get $event) (i32.const {EVENT_SUBTASK}))
      (then
        (if (i32.ne (local.get $payload) (i32.const {STATUS_RETURNED}))
          (then (return {wait_code})))
        (call $subtask_drop (local.get $handle))))
    (call $run{i}))"
    )
    .unwrap();
    m
}
