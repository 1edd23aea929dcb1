//! Turns a [`Spec`] into a component binary.
//!
//! Every actor becomes a nested component built with `wasm-encoder`'s
//! [`ComponentBuilder`]: a tiny core module that owns the memory and the
//! function table, a main core module (written in the text format, generated
//! from the actor's steps) and the canonical functions between them. The
//! outer component imports the host functions `block` and `note`,
//! instantiates the actors in order (each gets the exports of the actors
//! before it as imports), and exports every actor export as `actor-export`.

use crate::spec::{Actor, Export, Lift, Lower, Spec, Step, Target};
use anyhow::{Context, Result};
use std::fmt::Write;
use wasm_encoder::{
    CanonicalOption, ComponentBuilder, ComponentExportKind, ComponentTypeRef, ComponentValType,
    ExportKind, ModuleArg, PrimitiveValType, ValType,
};

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

/// The component function types every component declares.
struct FuncTypes {
    /// `func() -> u32`
    sync_run: u32,
    /// `async func() -> u32`
    async_run: u32,
    /// `async func(id: u32)`
    block: u32,
    /// `func(v: u32)`
    note: u32,
}

impl FuncTypes {
    fn declare(b: &mut ComponentBuilder) -> FuncTypes {
        let u32_ty = ComponentValType::Primitive(PrimitiveValType::U32);
        let mut ty = |is_async: bool, param: Option<&str>, result: bool| {
            let (idx, mut enc) = b.type_function(None);
            enc.async_(is_async);
            match param {
                Some(p) => enc.params([(p, u32_ty)]),
                None => enc.params::<[(&str, ComponentValType); 0], _>([]),
            };
            enc.result(result.then_some(u32_ty));
            idx
        };
        FuncTypes {
            sync_run: ty(false, None, true),
            async_run: ty(true, None, true),
            block: ty(true, Some("id"), false),
            note: ty(false, Some("v"), false),
        }
    }

    fn run(&self, is_async: bool) -> u32 {
        if is_async {
            self.async_run
        } else {
            self.sync_run
        }
    }
}

/// The exports of earlier actors that `actor` calls, in a stable order.
fn targets(actor: &Actor) -> Vec<Target> {
    let mut out: Vec<Target> = Vec::new();
    for export in &actor.exports {
        for step in export.body.iter().chain(export.threads.iter().flatten()) {
            if let Step::Call { target, .. }
            | Step::CallCancel { target }
            | Step::CallCancelAsync { target } = step
            {
                if !out.contains(target) {
                    out.push(target.clone());
                }
            }
        }
    }
    out
}

/// Whether the export `target` has an async function type: it is lifted
/// async, or (for Wasmtime 48, which refuses an async lowering of a
/// sync-typed function) some actor lowers it async.
pub fn async_typed(spec: &Spec, target: &Target, encoding: Encoding) -> bool {
    let lifted_async = spec
        .export(target)
        .is_some_and(|(_, e)| e.lift != Lift::Sync);
    lifted_async
        || (encoding == Encoding::Cm48 && spec.actors.iter().any(|a| async_lowers(a, target)))
}

/// Whether `actor` needs an async lowering of `target`.
fn lowered_async(spec: &Spec, actor: &Actor, target: &Target, encoding: Encoding) -> bool {
    async_typed(spec, target, encoding) || async_lowers(actor, target)
}

/// Whether a step of `actor` lowers `target` async.
fn async_lowers(actor: &Actor, target: &Target) -> bool {
    actor.exports.iter().any(|export| {
        export
            .body
            .iter()
            .chain(export.threads.iter().flatten())
            .any(|step| match step {
                Step::Call {
                    target: t,
                    lower: Lower::Async,
                }
                | Step::CallCancel { target: t }
                | Step::CallCancelAsync { target: t } => t == target,
                _ => false,
            })
    })
}

fn import_name(target: &Target) -> String {
    format!("{}-{}", target.actor, target.export)
}

/// The binary encodings of the component model the suite emits: the
/// releases a backend runs parse one or the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// What `wasm-encoder` 0.246 writes, as Wasmtime 44 and 45 parse it.
    Cm44,
    /// Wasmtime 48 (`wasmparser` 0.254): `thread.unsuspend` became
    /// `thread.resume-later`, opcode 0x28 (0x2a now is
    /// `thread.suspend-then-resume`, which takes an immediate).
    Cm48,
}

/// Build the whole scenario component, in the encoding Wasmtime 44 parses.
pub fn compose(spec: &Spec) -> Result<Vec<u8>> {
    compose_for(spec, Encoding::Cm44)
}

/// Build the whole scenario component in `encoding`.
pub fn compose_for(spec: &Spec, encoding: Encoding) -> Result<Vec<u8>> {
    let mut outer = ComponentBuilder::default();
    let types = FuncTypes::declare(&mut outer);
    let block = outer.import("block", ComponentTypeRef::Func(types.block));
    let note = outer.import("note", ComponentTypeRef::Func(types.note));

    // Outer function index of every export instantiated so far.
    let mut exported: Vec<(Target, u32)> = Vec::new();
    for actor in &spec.actors {
        let inner = compose_actor(spec, actor, encoding)?;
        let component = outer.component(Some(&actor.name), inner);
        let mut args: Vec<(String, ComponentExportKind, u32)> = vec![
            ("block".into(), ComponentExportKind::Func, block),
            ("note".into(), ComponentExportKind::Func, note),
        ];
        for target in targets(actor) {
            let (_, idx) = exported
                .iter()
                .find(|(name, _)| *name == target)
                .with_context(|| format!("`{target}` is not instantiated yet"))?;
            args.push((import_name(&target), ComponentExportKind::Func, *idx));
        }
        let instance = outer.instantiate(Some(&actor.name), component, args);
        for export in &actor.exports {
            let func = outer.alias_export(instance, &export.name, ComponentExportKind::Func);
            let name = Target::new(&actor.name, &export.name);
            outer.export(&import_name(&name), ComponentExportKind::Func, func, None);
            exported.push((name, func));
        }
    }
    let mut bytes = outer.finish();
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&bytes)
        .context("the composed component does not validate")?;
    if encoding == Encoding::Cm48 {
        resume_later(&mut bytes)?;
    }
    Ok(bytes)
}

/// Rewrite every `thread.unsuspend` (0x2a, no immediates) into
/// `thread.resume-later` (0x28), in place: the two take the same operand
/// and mean the same thing.
fn resume_later(bytes: &mut [u8]) -> Result<()> {
    let mut at = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let wasmparser::Payload::ComponentCanonicalSection(reader) = payload? {
            for item in reader.into_iter_with_offsets() {
                let (offset, func) = item?;
                if matches!(func, wasmparser::CanonicalFunction::ThreadUnsuspend) {
                    at.push(offset);
                }
            }
        }
    }
    for offset in at {
        debug_assert_eq!(bytes[offset], 0x2a);
        bytes[offset] = 0x28;
    }
    Ok(())
}

fn compose_actor(spec: &Spec, actor: &Actor, encoding: Encoding) -> Result<ComponentBuilder> {
    let mut b = ComponentBuilder::default();
    let types = FuncTypes::declare(&mut b);
    let block = b.import("block", ComponentTypeRef::Func(types.block));
    let note = b.import("note", ComponentTypeRef::Func(types.note));
    let targets = targets(actor);
    let mut target_funcs = Vec::new();
    for target in &targets {
        spec.export(target).context("unknown target")?;
        let ty = types.run(async_typed(spec, target, encoding));
        target_funcs.push(b.import(&import_name(target), ComponentTypeRef::Func(ty)));
    }

    // The memory and the table live in their own module so that the
    // canonical functions below can refer to them before the main module is
    // instantiated.
    let thread_count: usize = actor.exports.iter().map(|e| e.threads.len()).sum();
    let table_size = thread_count.max(1);
    let shared = wat::parse_str(format!(
        r#"(module (memory (export "mem") 1) (table (export "tab") {table_size} funcref))"#
    ))?;
    let shared = b.core_module_raw(Some("shared"), &shared);
    let shared = b.core_instantiate(Some("shared"), shared, Vec::<(&str, ModuleArg)>::new());
    let mem = b.core_alias_export(Some("mem"), shared, "mem", ExportKind::Memory);
    let tab = b.core_alias_export(Some("tab"), shared, "tab", ExportKind::Table);

    let u32_ty = ComponentValType::Primitive(PrimitiveValType::U32);
    let (thread_start_ty, enc) = b.core_type(Some("thread-start"));
    enc.core().function([ValType::I32], []);

    let mut env: Vec<(String, ExportKind, u32)> = vec![
        ("mem".into(), ExportKind::Memory, mem),
        ("tab".into(), ExportKind::Table, tab),
    ];
    let mut func = |name: &str, idx: u32| env.push((name.to_string(), ExportKind::Func, idx));
    func(
        "block",
        b.lower_func(
            None,
            block,
            [CanonicalOption::Async, CanonicalOption::Memory(mem)],
        ),
    );
    func("note", b.lower_func(None, note, []));
    for (target, f) in targets.iter().zip(&target_funcs) {
        func(
            &format!("{}-sync", import_name(target)),
            b.lower_func(None, *f, []),
        );
        if lowered_async(spec, actor, target, encoding) {
            func(
                &format!("{}-async", import_name(target)),
                b.lower_func(
                    None,
                    *f,
                    [CanonicalOption::Async, CanonicalOption::Memory(mem)],
                ),
            );
        }
    }
    func("task-return", b.task_return(Some(u32_ty), []));
    func("ctx-get", b.context_get(0));
    func("ctx-set", b.context_set(0));
    func("ws-new", b.waitable_set_new());
    func("join", b.waitable_join());
    func("ws-wait", b.waitable_set_wait(false, mem));
    func("ws-wait-cancellable", b.waitable_set_wait(true, mem));
    func("ws-poll-cancellable", b.waitable_set_poll(true, mem));
    func("subtask-drop", b.subtask_drop());
    func("subtask-cancel", b.subtask_cancel(false));
    func("subtask-cancel-async", b.subtask_cancel(true));
    func("task-cancel", b.task_cancel());
    func("bp-inc", b.backpressure_inc());
    func("bp-dec", b.backpressure_dec());
    func("yield", b.thread_yield(false));
    func("yield-cancellable", b.thread_yield(true));
    func("thread-new", b.thread_new_indirect(thread_start_ty, tab));
    func("thread-unsuspend", b.thread_unsuspend());

    let main = wat::parse_str(main_module(spec, actor, &targets, encoding)?)
        .with_context(|| format!("actor `{}`: generated core module", actor.name))?;
    let main = b.core_module_raw(Some("main"), &main);
    let env_instance = b.core_instantiate_exports(
        Some("env"),
        env.iter()
            .map(|(n, k, i)| (n.as_str(), *k, *i))
            .collect::<Vec<_>>(),
    );
    let main = b.core_instantiate(
        Some("main"),
        main,
        [("env", ModuleArg::Instance(env_instance))],
    );

    for (i, export) in actor.exports.iter().enumerate() {
        let entry = b.core_alias_export(None, main, &format!("e{i}"), ExportKind::Func);
        let options = match export.lift {
            Lift::Sync => vec![],
            Lift::Stackful => vec![CanonicalOption::Async, CanonicalOption::Memory(mem)],
            Lift::Callback => {
                let cb = b.core_alias_export(None, main, &format!("cb{i}"), ExportKind::Func);
                vec![
                    CanonicalOption::Async,
                    CanonicalOption::Memory(mem),
                    CanonicalOption::Callback(cb),
                ]
            }
        };
        let name = Target::new(&actor.name, &export.name);
        let ty = types.run(async_typed(spec, &name, encoding));
        let lifted = b.lift_func(Some(&export.name), entry, ty, options);
        b.export(&export.name, ComponentExportKind::Func, lifted, None);
    }
    Ok(b)
}

/// The text of an actor's main core module.
fn main_module(
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

/// Create the body's waitable set in `$ws` if it has none yet (the callback
/// form always has one).
const ENSURE_WS: &str =
    "    (if (i32.eqz (local.get $ws)) (then (local.set $ws (call $ws_new))))\n";

/// Code shared by the stackful and the callback forms of a step that does
/// not leave the core function (though it may block in it). `exit` is how
/// the body exits after it acknowledged a cancellation.
fn simple_step(step: &Step, export: &Export, thread_base: usize, exit: &str) -> Option<String> {
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
{ENSURE_WS}            (call $join (local.get $h) (local.get $ws))
            (block $done
              (loop $wait
                (br_if $done
                  (i32.and
                    (i32.and
                      (i32.eq (call $ws_wait (local.get $ws) (i32.const {EVENT_PTR})) (i32.const {EVENT_SUBTASK}))
                      (i32.eq (i32.load (i32.const {EVENT_PTR})) (local.get $h)))
                    (i32.ge_u (local.tee $s (i32.load (i32.const {payload}))) (i32.const {STATUS_RETURNED}))))
                (br $wait)))))
        (call $note (i32.add (i32.const 100) (local.get $s)))
        (call $subtask_drop (local.get $h)))
      (else (call $note (i32.const 102))))
",
            t = import_name(target),
            payload = EVENT_PTR + 4,
        ),
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
        if let Some(code) = simple_step(step, export, thread_base, &exit) {
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
            Step::Exit => out.push_str(&format!("    {exit}\n")),
            _ => unreachable!("{step:?} is a simple step"),
        }
    }
    out
}

/// The entry point, the step machine and the callback of a callback-lifted
/// export. The task's context slot 0 holds the index of the next step in its
/// low 16 bits and its waitable set in the high bits.
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
        if let Some(code) = simple_step(step, export, thread_base, &exit) {
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
