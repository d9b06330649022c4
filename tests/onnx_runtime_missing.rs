//! Without the ONNX Runtime library, loading fails with a typed error that says where we looked
//! and how to fix it, and nothing panics. Its own test binary, because the runtime is a process-
//! wide singleton that can be initialised only once.

use musichal::onnx::{environment, RuntimeError};

#[test]
fn missing_onnx_runtime_library_gives_typed_error() {
    // The one environment variable this process reads for the library; pointing it at a file
    // that does not exist must not fall back to a search.
    std::env::set_var("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so.1.31.1");
    let err = environment().expect_err("a missing library must be an error");
    match &err {
        RuntimeError::LibraryNotFound { searched } => {
            assert!(searched.contains("/nonexistent/"), "{searched}")
        }
        other => panic!("expected LibraryNotFound, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("cargo xtask fetch-ort"), "{message}");
    // The failure is cached: a second caller gets the same answer without retrying.
    assert!(matches!(
        environment(),
        Err(RuntimeError::LibraryNotFound { .. })
    ));
}
