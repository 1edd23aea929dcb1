//! The backend adapter for upstream Wasmtime 45.0.3.

use crate::backends::Backend;
use crate::compose::Encoding;
use wasmtime::{Config, Store};

/// Which backend this is.
pub const BACKEND: Backend = Backend::Upstream45;

/// The binary encoding of the components the suite builds.
pub const ENCODING: Encoding = Encoding::Cm44;

/// 45 renamed `wasm_component_model_async_builtins` to
/// `wasm_component_model_more_async_builtins`.
pub fn configure(config: &mut Config) {
    config.wasm_component_model_more_async_builtins(true);
}

/// Upstream keeps the count private: `(count N)` is derived from the poll.
pub fn exact_count<T: 'static>(_store: &mut Store<T>) -> Option<usize> {
    None
}
