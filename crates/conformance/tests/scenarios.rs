//! One test per scenario file in `tests/scenarios/` (see `build.rs`).

include!(concat!(env!("OUT_DIR"), "/scenarios.rs"));
