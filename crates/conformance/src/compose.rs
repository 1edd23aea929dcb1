//! Turns a [`Spec`] into a component binary.
//!
//! Every actor becomes a nested component built with `wasm-encoder`'s
//! [`ComponentBuilder`]: a tiny core module that owns the memory and the
//! function table, a main core module (written in the text format, generated
//! from the actor's steps) and the canonical functions between them. The
//! outer component imports the host functions `block` and `note`,
//! instantiates the actors in order (each gets the exports of the actors
//! before it as imports), and exports every actor export as `actor-export`.

mod module;

use crate::spec::{Actor, Lift, Lower, Spec, Step, Target};
use anyhow::{Context, Result};
use module::main_module;
use wasm_encoder::{
    CanonicalOption, ComponentBuilder, ComponentExportKind, ComponentTypeRef, ComponentValType,
    ExportKind, ModuleArg, PrimitiveValType, ValType,
};

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
            if let Some(target) = step.target() {
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
                | Step::CallCancelAsync { target: t }
                | Step::Start { target: t } => t == target,
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

/// One actor's nested component. Long: it declares, in the order the
/// component's index spaces need, the imports, the memory module, every
/// canonical built-in the steps use, the main module and the lifts; split,
/// each part would take the builder and the indices of all the others.
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
    func("ws-drop", b.waitable_set_drop());
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
