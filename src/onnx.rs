//! ONNX Runtime, loaded at run time (`ort` with `load-dynamic`).
//!
//! The library is not linked: a plugin that cannot find it must still load in the host and pass
//! audio, showing a clear status instead. Exactly one ONNX Runtime environment may exist per
//! process (an `ort` rule), and several plugin instances can live in one host process, so the
//! environment is a process-wide singleton created on first use by a worker (never by
//! `process()`).
//!
//! Where the library is looked for, in order:
//! 1. `ORT_DYLIB_PATH` (a file path), as `ort` itself documents;
//! 2. beside the binary this code lives in (the `.clap` file, the `.vst3` bundle's `.so`, or the
//!    `musichal` executable) and up to three folders above it, which covers
//!    `target/bundled/libonnxruntime.so.1.31.1` next to `MusicHal.clap` and `MusicHal.vst3/`;
//! 3. `../bundled/` relative to that binary (the `musichal` CLI in `target/release/`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// ONNX Runtime version this build's `ort` API level (`api-31`) expects.
pub const ORT_VERSION: &str = "1.31.1";
/// File name of the library inside the `onnxruntime==1.31.1` PyPI wheel (`onnxruntime/capi/`).
pub const ORT_LIBRARY_FILE: &str = "libonnxruntime.so.1.31.1";
/// Environment variable that overrides the search.
pub const ORT_PATH_ENV: &str = "ORT_DYLIB_PATH";

/// Why ONNX Runtime is unavailable. Cloneable so that the cached failure can be reported to
/// every caller (and every plugin instance) without retrying a slow, failing `dlopen`.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RuntimeError {
    #[error(
        "ONNX Runtime library ({ORT_LIBRARY_FILE}) not found; looked in: {searched}. \
         Run `cargo xtask fetch-ort`, or set {ORT_PATH_ENV} to the library file"
    )]
    LibraryNotFound { searched: String },
    #[error("could not load ONNX Runtime from {path}: {message}")]
    LoadFailed { path: PathBuf, message: String },
    #[error("ONNX Runtime environment could not be created: {0}")]
    Environment(String),
}

static ENVIRONMENT: OnceLock<Result<(ort::environment::Environment, PathBuf), RuntimeError>> =
    OnceLock::new();

/// The process-wide ONNX Runtime environment, created on first call.
///
/// Not real-time safe (loads a shared library on first call): call from the worker or the CLI.
pub fn environment() -> Result<&'static ort::environment::Environment, RuntimeError> {
    ENVIRONMENT
        .get_or_init(create)
        .as_ref()
        .map(|(env, _)| env)
        .map_err(Clone::clone)
}

/// Path of the library the environment was loaded from, if it loaded.
pub fn loaded_library_path() -> Option<&'static Path> {
    match ENVIRONMENT.get() {
        Some(Ok((_, path))) => Some(path.as_path()),
        _ => None,
    }
}

fn create() -> Result<(ort::environment::Environment, PathBuf), RuntimeError> {
    let path = find_library()?;
    let builder = ort::init_from(&path).map_err(|e| RuntimeError::LoadFailed {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let env = builder
        .with_name("musichal")
        .build()
        .map_err(|e| RuntimeError::Environment(e.to_string()))?;
    Ok((env, path))
}

/// Resolve the library path without loading it.
pub fn find_library() -> Result<PathBuf, RuntimeError> {
    if let Some(path) = std::env::var_os(ORT_PATH_ENV) {
        let path = PathBuf::from(path);
        // An explicit override that points nowhere is an error, not a reason to search elsewhere:
        // the user asked for that file.
        return if path.is_file() {
            Ok(path)
        } else {
            Err(RuntimeError::LibraryNotFound {
                searched: format!("{ORT_PATH_ENV}={}", path.display()),
            })
        };
    }
    let candidates = search_dirs();
    for dir in &candidates {
        let path = dir.join(ORT_LIBRARY_FILE);
        if path.is_file() {
            return Ok(path);
        }
    }
    Err(RuntimeError::LibraryNotFound {
        searched: candidates
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let binary = own_binary_path().or_else(|| std::env::current_exe().ok());
    if let Some(binary) = binary {
        let mut dir = binary.parent().map(Path::to_path_buf);
        for _ in 0..4 {
            let Some(d) = dir else { break };
            dirs.push(d.clone());
            dirs.push(d.join("bundled"));
            dir = d.parent().map(Path::to_path_buf);
        }
    }
    dirs.dedup();
    dirs
}

/// The file this code was loaded from: the plugin's shared object inside a host, or the
/// executable for the CLI and tests.
fn own_binary_path() -> Option<PathBuf> {
    #[cfg(unix)]
    {
        use std::ffi::CStr;
        // SAFETY: dladdr only reads the loader's tables; `info` is plain data we own, and
        // `dli_fname` (when non-null) points at a NUL-terminated string owned by the loader that
        // lives as long as the object stays loaded, which it does while this code runs.
        unsafe {
            let mut info: libc::Dl_info = std::mem::zeroed();
            let addr = own_binary_path as *const () as *const libc::c_void;
            if libc::dladdr(addr, &mut info) != 0 && !info.dli_fname.is_null() {
                let name = CStr::from_ptr(info.dli_fname)
                    .to_string_lossy()
                    .into_owned();
                let path = PathBuf::from(name);
                return path.canonicalize().ok().or(Some(path));
            }
        }
    }
    None
}
