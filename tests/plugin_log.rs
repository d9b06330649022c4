//! The plugin's own log reaches a log and is counted, so `assert_clean`'s "nothing logged at
//! error level" can fail: an activation at a sample rate the EQ cannot run at is refused with an
//! error, which the loaded binary counts and writes to the file named by `NICE_LOG`.
//!
//! One test in this binary on purpose: it provokes an error (which would fail every other host
//! test's `assert_clean` in the same process) and sets `NICE_LOG` before the plugin is loaded.

mod common;

use common::clap_host::*;

#[test]
fn an_error_the_plugin_logs_is_written_and_counted() {
    let log = std::env::temp_dir().join(format!("musichal-plugin-log-{}.txt", std::process::id()));
    let _ = std::fs::remove_file(&log);
    // Before the library is loaded (its logger is set up once, at load), in a binary with one
    // test: nothing else reads the environment concurrently.
    std::env::set_var("NICE_LOG", &log);
    let path = plugin_path();
    let mut host =
        ClapHost::load(&path).unwrap_or_else(|e| panic!("loading {}: {e}", path.display()));
    let before = common::plugin_diagnostics(&host);
    assert_eq!(before.errors_logged, 0, "{before:?}");
    // 1 Hz: no EQ can run there; activate must say no, and say why.
    assert!(
        host.activate(1.0, 1, 512).is_err(),
        "activation at 1 Hz was accepted"
    );
    let after = common::plugin_diagnostics(&host);
    assert_eq!(after.errors_logged, 1, "{after:?}");
    // nice-log writes files from a background thread: wait for the line (returning as soon as
    // it is there; the limit only bounds a failing run).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut text = String::new();
    while !text.contains("unsupported sample rate") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
        text = std::fs::read_to_string(&log).unwrap_or_default();
    }
    assert!(
        text.contains("ERROR") && text.contains("unsupported sample rate 1 Hz"),
        "the log file holds: {text:?}"
    );
    // A working activation logs no error.
    host.activate(48_000.0, 1, 512).unwrap();
    assert_eq!(common::plugin_diagnostics(&host).errors_logged, 1);
    let _ = std::fs::remove_file(&log);
}
