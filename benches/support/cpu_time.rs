//! Shared by the benches that also report CPU time (`#[path]`-included; not a bench itself).

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
