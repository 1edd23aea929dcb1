//! The conformance suite's runner on upstream Wasmtime 45.0.3, from the
//! crates registry: the patched runner's sources (`run.rs`, `host.rs`,
//! `cli.rs`, `harness.rs`, `worker.rs`) compiled against this release,
//! with this crate's `backend` adapter.

pub use conformance::{backends, compose, generate, scenario, spec, supervise};

mod backend;
#[path = "../../conformance/src/cli.rs"]
pub mod cli;
#[path = "../../conformance/src/harness.rs"]
pub mod harness;
#[path = "../../conformance/src/host.rs"]
mod host;
#[path = "../../conformance/src/run.rs"]
pub mod run;
#[path = "../../conformance/src/worker.rs"]
pub mod worker;

pub use run::{Report, check, run_file, run_scenario, run_str};
