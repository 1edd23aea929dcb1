//! The backend adapter for the patched Wasmtime 44.0.3: what the runner
//! (`run.rs`, compiled once per backend) needs from the Wasmtime it runs on
//! and that differs between versions.

use crate::backends::Backend;
use crate::compose::Encoding;
use wasmtime::{AsContextMut, Config, Store};

/// Which backend this is.
pub const BACKEND: Backend = Backend::Patched;

/// The binary encoding of the components the suite builds.
pub const ENCODING: Encoding = Encoding::Cm44;

/// Turn on the component-model features a scenario may use beyond those
/// every version names alike.
pub fn configure(config: &mut Config) {
    config.wasm_component_model_async_builtins(true);
}

/// The exact number of interesting tasks in the store, where the backend can
/// tell it.
pub fn exact_count<T: 'static>(store: &mut Store<T>) -> Option<usize> {
    Some(store.as_context_mut().interesting_task_count())
}
