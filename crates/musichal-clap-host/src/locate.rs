//! Locating the plugin binary under test.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Name of the plugin library cargo builds for this package (`libmusichal.so` on Linux).
pub fn plugin_file_name() -> String {
    format!(
        "{}musichal{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// The CLAP binary under test.
///
/// 1. `MUSICHAL_CLAP_PATH`, if set (any CLAP binary or `.clap` bundle);
/// 2. else the library cargo built for this test run: `<target>/<profile>/deps/`, next to this
///    test executable (fresh, with this run's features; follows `CARGO_TARGET_DIR`,
///    `build.target-dir` and the profile), then `<target>/<profile>/` (uplifted by
///    `cargo build --lib`, possibly stale);
/// 3. else `$CARGO_TARGET_DIR/debug/` or `<CARGO_MANIFEST_DIR>/target/debug/`.
///
/// Panics with build instructions when no candidate exists.
pub fn plugin_path() -> PathBuf {
    if let Some(path) = std::env::var_os("MUSICHAL_CLAP_PATH").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.exists(),
            "MUSICHAL_CLAP_PATH points to {}, which does not exist",
            path.display()
        );
        return path;
    }
    let name = plugin_file_name();
    let mut candidates = Vec::new();
    // Integration tests run as <target>/<profile>/deps/<test>-<hash>. The cdylib that this
    // `cargo test` run built (with this run's features, e.g. `assert_process_allocs`) is
    // `deps/libmusichal.so`; cargo copies it up to `<target>/<profile>/` only for `cargo build`,
    // so the copy up there may be stale. Prefer `deps/`.
    if let Ok(exe) = std::env::current_exe() {
        if let Some(deps) = exe.parent() {
            candidates.push(deps.join(&name));
            if let Some(profile_dir) = deps.parent() {
                candidates.push(profile_dir.join(&name));
            }
        }
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|p| !p.is_empty()) {
        candidates.push(PathBuf::from(dir).join("debug").join(&name));
    }
    // This crate sits in `crates/musichal-clap-host/` of the workspace, whose target dir is `target/`.
    candidates.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../target")
            .join("debug")
            .join(&name),
    );
    let mut seen = HashSet::new();
    candidates.retain(|p| seen.insert(p.clone()));
    if let Some(found) = candidates.iter().find(|p| p.is_file()) {
        return found.clone();
    }
    panic!(
        "the plugin binary {name} was not found (looked at: {}).\n\
         Build it first with `cargo build --lib` (it is built by `cargo test` as well, since the \
         package's lib has crate-type [\"cdylib\", \"lib\"]), or point MUSICHAL_CLAP_PATH at a \
         CLAP binary.",
        candidates
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
}
