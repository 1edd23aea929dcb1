//! A wast-style conformance suite for the tracking of interesting tasks in
//! the patched Wasmtime (`Accessor::poll_no_interesting_tasks`).
//!
//! A scenario file starts with a `(component ...)` that declares actors and
//! what their exports do ([`spec`]); the suite builds it with `wasm-encoder`
//! ([`compose`]) and plays the rest of the file, a script of host actions and
//! checks, against the store ([`run`]).

pub mod compose;
pub mod generate;
#[cfg(feature = "runner")]
pub mod run;
pub mod sexpr;
pub mod spec;

#[cfg(feature = "runner")]
pub use run::{run_file, run_str};
