//! The tests of `wasmtime-wasi-http`'s `ProxyHandler`, in one binary (each
//! binary linked against Wasmtime costs a link of its own, which the mutant
//! check pays once per mutant).
//!
//! - `handler`: the example guests through the handler, as an embedder runs
//!   them: post-response work, reuse, idle and request timeouts, traps.
//! - `lifecycle`: the post-return budget, the reports, shutdown, waiting for
//!   room in a full pool.
//! - `dispatch`: the rules of the handler's queue and the bounds around them,
//!   one test per rule.
//! - `schedule`: randomized, deterministic schedules with every rule checked
//!   after each.

mod common;
mod dispatch;
mod handler;
mod lifecycle;
mod schedule;
