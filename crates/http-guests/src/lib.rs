//! Example WASIp3 HTTP guests, built at run time from the text format.
//!
//! There is no wasm target for the Rust toolchain on the machines this
//! project builds on, so the guests are written by hand: each is a core
//! module in WAT (see the `.wat` files next to this one, which are commented
//! for embedders) implementing the `wasi:http/service` world of
//! `wasi:http@0.3.0-rc-2026-03-15`, the version `wasmtime-wasi-http` 44.0.3
//! ships. [`build`] embeds the world's component type in the module and
//! turns it into a component with `wit-component`.
//!
//! The WIT comes from the patched tree that `scripts/apply.sh` lays out
//! (`work/wasmtime/crates/wasi-http/src/p3/wit`), so the guests always match
//! the host they run on.

use anyhow::{Context as _, Result};
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{Resolve, WorldId};

/// The WIT packages of the `wasi:http/service` world, dependencies first.
const WIT: &[(&str, &str)] = &[
    (
        "clocks.wit",
        include_str!("../../../work/wasmtime/crates/wasi-http/src/p3/wit/deps/clocks.wit"),
    ),
    (
        "random.wit",
        include_str!("../../../work/wasmtime/crates/wasi-http/src/p3/wit/deps/random.wit"),
    ),
    (
        "filesystem.wit",
        include_str!("../../../work/wasmtime/crates/wasi-http/src/p3/wit/deps/filesystem.wit"),
    ),
    (
        "sockets.wit",
        include_str!("../../../work/wasmtime/crates/wasi-http/src/p3/wit/deps/sockets.wit"),
    ),
    (
        "cli.wit",
        include_str!("../../../work/wasmtime/crates/wasi-http/src/p3/wit/deps/cli.wit"),
    ),
    (
        "http.wit",
        include_str!("../../../work/wasmtime/crates/wasi-http/src/p3/wit/deps/http.wit"),
    ),
];

/// The line [`post_response`] writes to stdout once its post-response work
/// is done.
pub const POST_RESPONSE_MESSAGE: &str = "post-response work done\n";

/// The body [`streaming`] sends, in three writes, after `handle` returned.
pub const STREAMING_BODY: &str = "chunk 1\nchunk 2\nchunk 3\n";

/// Resolves the `wasi:http/service` world.
pub fn service_world() -> Result<(Resolve, WorldId)> {
    let mut resolve = Resolve::default();
    let mut last = None;
    for (name, text) in WIT {
        last = Some(
            resolve
                .push_source(name, text)
                .with_context(|| format!("parsing {name}"))?,
        );
    }
    let world = resolve.select_world(&[last.unwrap()], Some("service"))?;
    Ok((resolve, world))
}

/// Builds a `wasi:http/service` component from a core module in WAT.
///
/// The module follows `wit-component`'s naming conventions for imports and
/// exports (`[async-lift]`, `[task-return]`, `[future-new-N]`, ...).
pub fn build(wat: &str) -> Result<Vec<u8>> {
    let (resolve, world) = service_world()?;
    let mut module = wat::parse_str(wat)?;
    wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)?;
    ComponentEncoder::default()
        .validate(true)
        .module(&module)?
        .encode()
}

/// A guest that answers 200 with an empty body at once, then keeps working:
/// it sends the trailers, yields three times, sleeps 100 ms on
/// `wasi:clocks/monotonic-clock`, and writes [`POST_RESPONSE_MESSAGE`] to
/// stdout, waiting until the host has taken it, before its task exits.
pub fn post_response() -> Result<Vec<u8>> {
    build(include_str!("post_response.wat"))
}

/// [`post_response`] with another sleep than 100 ms: post-response work that
/// takes about `sleep`.
pub fn post_response_sleeping(sleep: std::time::Duration) -> Result<Vec<u8>> {
    let wat = include_str!("post_response.wat");
    let default = "(global $sleep i64 (i64.const 100_000_000))";
    anyhow::ensure!(
        wat.contains(default),
        "post_response.wat has no sleep global"
    );
    let nanos = u64::try_from(sleep.as_nanos()).context("sleep too long")?;
    build(&wat.replace(default, &format!("(global $sleep i64 (i64.const {nanos}))")))
}

/// A guest that answers 200 at once and streams [`STREAMING_BODY`] after
/// `handle` returned, yielding between the chunks, then sends the trailers
/// and exits.
pub fn streaming() -> Result<Vec<u8>> {
    build(include_str!("streaming.wat"))
}

/// A guest that answers 200 with an empty body, sends the trailers, yields
/// once, and then traps.
pub fn trap_after_response() -> Result<Vec<u8>> {
    build(include_str!("trap_after_response.wat"))
}

/// [`post_response`] with its log line replaced by an endless loop: a guest
/// that answers, sleeps 100 ms, and then runs without ever yielding again.
/// Only epoch interruption (or fuel) lets its host take the thread back.
pub fn spin_after_response() -> Result<Vec<u8>> {
    let wat = include_str!("post_response.wat");
    let log = "(call $subtask-drop (local.get $waitable))\n        (return (call $start-log))))";
    anyhow::ensure!(
        wat.contains(log),
        "post_response.wat does not log after its sleep"
    );
    build(&wat.replace(
        log,
        "(call $subtask-drop (local.get $waitable))\n        (loop $spin (br $spin))\n        unreachable))",
    ))
}

/// [`post_response`] with a start function that counts to 300 million
/// first: a component whose instantiation takes a while (a large guest's,
/// say).
pub fn slow_start() -> Result<Vec<u8>> {
    let wat = include_str!("post_response.wat");
    let memory = "(memory (export \"memory\") 1)";
    anyhow::ensure!(wat.contains(memory), "post_response.wat has no memory");
    build(&wat.replacen(
        memory,
        &format!(
            "{memory}\n  (func $count (local $i i32)\n    (loop $more\n      \
             (local.set $i (i32.add (local.get $i) (i32.const 1)))\n      \
             (br_if $more (i32.lt_u (local.get $i) (i32.const 300000000)))))\n  \
             (start $count)"
        ),
        1,
    ))
}

/// A guest that answers 200 with no body and exits as soon as the host has
/// taken the (empty) trailers: the trivial handler the HTTP benchmark
/// serves.
pub fn minimal() -> Result<Vec<u8>> {
    build(include_str!("minimal.wat"))
}

/// Every example guest with a file name for it (without extension).
pub fn all() -> Result<Vec<(&'static str, Vec<u8>)>> {
    Ok(vec![
        ("minimal", minimal()?),
        ("post-response", post_response()?),
        ("streaming", streaming()?),
        ("trap-after-response", trap_after_response()?),
        ("spin-after-response", spin_after_response()?),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, bytes: Result<Vec<u8>>) {
        let bytes = bytes.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let mut features = wasmparser::WasmFeatures::default();
        features |= wasmparser::WasmFeatures::COMPONENT_MODEL
            | wasmparser::WasmFeatures::CM_ASYNC
            | wasmparser::WasmFeatures::CM_ASYNC_BUILTINS;
        wasmparser::Validator::new_with_features(features)
            .validate_all(&bytes)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(wasmparser::Parser::is_component(&bytes), "{name}");
    }

    #[test]
    fn post_response_builds_and_validates() {
        check("post_response", post_response());
    }

    #[test]
    fn post_response_sleeping_builds_and_validates() {
        check(
            "post_response_sleeping",
            post_response_sleeping(std::time::Duration::from_secs(3600)),
        );
    }

    #[test]
    fn streaming_builds_and_validates() {
        check("streaming", streaming());
    }

    #[test]
    fn trap_after_response_builds_and_validates() {
        check("trap_after_response", trap_after_response());
    }

    #[test]
    fn spin_after_response_builds_and_validates() {
        check("spin_after_response", spin_after_response());
    }

    #[test]
    fn slow_start_builds_and_validates() {
        check("slow_start", slow_start());
    }

    #[test]
    fn minimal_builds_and_validates() {
        check("minimal", minimal());
    }

    #[test]
    fn service_world_resolves() {
        let (resolve, world) = service_world().unwrap();
        let world = &resolve.worlds[world];
        assert_eq!(world.name, "service");
        assert_eq!(world.exports.len(), 1);
    }
}
