//! Shared by the benches that also report CPU time or one-shot figures (`#[path]`-included; not
//! a bench itself).
#![allow(dead_code)] // each bench uses its own subset

/// CPU time of this thread in seconds, from `/proc/thread-self/stat` (utime + stime, 10 ms
/// ticks). Criterion measures wall time, which on a shared machine includes time the thread
/// spent descheduled; CPU time does not. `None` off Linux.
pub fn thread_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command name: state is field 3 overall, utime 14 and stime 15.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Whether criterion runs this bench in test mode (`cargo test --benches`, as `cargo xtask test`
/// does, or `cargo bench -- --test`): every benchmark once, untimed, so that a bench that no
/// longer builds or panics fails the suite. Criterion's own rule: test mode unless `--bench` is
/// given without `--test`.
pub fn criterion_test_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench")
}

/// Seconds of CPU time a summary loop measures for: `full` when benchmarking, 0 in test mode
/// (the loop body then runs once: the code is exercised, nothing is timed).
pub fn cpu_budget_secs(full: f64) -> f64 {
    if criterion_test_mode() {
        0.0
    } else {
        full
    }
}

/// CPU time of the whole process (every thread: the host's audio thread and the plugin's
/// worker included) in seconds, from `/proc/self/stat`. `None` off Linux.
#[allow(dead_code)]
pub fn process_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
