//! Without the ONNX Runtime library the EQ model reports a typed error (and nothing panics), so
//! the plugin can show the reason and keep passing audio. Own binary: the runtime is a
//! process-wide singleton.

use musichal::eq_morph::{EqMorphError, EqMorphModel};
use musichal::onnx::RuntimeError;

#[test]
fn missing_onnx_runtime_library_gives_typed_eq_error() {
    std::env::set_var("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so.1.31.1");
    match EqMorphModel::embedded() {
        Err(EqMorphError::Runtime(RuntimeError::LibraryNotFound { .. })) => {}
        Err(other) => panic!("expected a missing-runtime error, got {other:?}"),
        Ok(_) => panic!("the model cannot load without ONNX Runtime"),
    }
}
