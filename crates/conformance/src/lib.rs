//! A wast-style conformance suite for the tracking of interesting tasks in
//! a Wasmtime store (`Accessor::poll_no_interesting_tasks`).
//!
//! A scenario file starts with a `(component ...)` that declares actors and
//! what their exports do ([`spec`]); the suite builds it with `wasm-encoder`
//! ([`compose`]) and plays the rest of the file, a script of host actions and
//! checks, against the store (`run`). With the `runner` feature this crate
//! is the runner for the patched Wasmtime 44.0.3; the crates
//! `conformance-upstream-*` compile the same runner (`run.rs`, `host.rs`,
//! `cli.rs`, `harness.rs`, `worker.rs`) against upstream releases, each
//! with its own `backend` adapter. The runners run scenarios in a worker
//! process ([`supervise`]), so that one that aborts the process fails alone.

pub mod backends;
pub mod compose;
pub mod generate;
mod kw;
pub mod scenario;
pub mod spec;
pub mod supervise;

pub use kw::KEYWORDS;

#[cfg(feature = "runner")]
mod backend;
#[cfg(feature = "runner")]
pub mod cli;
#[cfg(feature = "runner")]
pub mod harness;
#[cfg(feature = "runner")]
mod host;
#[cfg(feature = "runner")]
pub mod run;
#[cfg(feature = "runner")]
pub mod worker;

#[cfg(feature = "runner")]
pub use run::{Report, check, run_file, run_scenario, run_str};
