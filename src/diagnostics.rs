//! Process-wide facts about the plugin binary that a host (or a test through a host) can check
//! from outside: how many worker threads are alive and which kernel threads they are, how many
//! errors and warnings the plugin has logged, and how much analysis its instances did (segments
//! and early encodes the workers analysed, offline waits of `process()`). Totals over every
//! instance of this library in the process: a test compares them before and after, with no
//! other instance running.
//!
//! The plugin's log goes through `tracing` (nice-plug's `nice_error!`/`nice_warn!`); this module
//! installs the subscriber ([`setup_logger`], called by nice-plug once per loaded library) that
//! writes it where nice-plug's own would (stderr, or the file named by `NICE_LOG`) and counts it.
//!
//! The counters are exported with C linkage ([`musichal_diagnostics`]) because a test that loads
//! the built plugin links its own copy of this crate: reading `live_workers()` there would read
//! the test binary's statics, not the plugin's. `tests/common`'s `plugin_diagnostics` finds it
//! in the loaded library through the CLAP host's `plugin_function`.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Most worker threads whose ids are kept (more instances still count in `live_workers`).
pub const MAX_TRACKED_WORKERS: usize = 16;

static LIVE_WORKERS: AtomicU32 = AtomicU32::new(0);
static WORKER_TIDS: [AtomicU64; MAX_TRACKED_WORKERS] =
    [const { AtomicU64::new(0) }; MAX_TRACKED_WORKERS];
static ERRORS_LOGGED: AtomicU64 = AtomicU64::new(0);
static WARNINGS_LOGGED: AtomicU64 = AtomicU64::new(0);
static SEGMENTS_ANALYSED: AtomicU64 = AtomicU64::new(0);
static EARLY_ANALYSES: AtomicU64 = AtomicU64::new(0);
static OFFLINE_WAITS: AtomicU64 = AtomicU64::new(0);

/// A worker ran a full segment through perception. Relaxed; real-time safe.
pub fn count_segment_analysed() {
    SEGMENTS_ANALYSED.fetch_add(1, Ordering::Relaxed);
}

/// A worker ran an early-answer encode. Relaxed; real-time safe.
pub fn count_early_analysis() {
    EARLY_ANALYSES.fetch_add(1, Ordering::Relaxed);
}

/// An offline `process()` waited for its worker (counted per segment or onset waited for).
/// Relaxed; real-time safe.
pub fn count_offline_wait() {
    OFFLINE_WAITS.fetch_add(1, Ordering::Relaxed);
}

/// What [`musichal_diagnostics`] returns (C layout, stable: fields are only ever appended).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Diagnostics {
    /// Worker threads started and not yet finished (their thread function has not returned).
    pub live_workers: u32,
    /// Errors logged since the library was loaded.
    pub errors_logged: u64,
    /// Warnings logged since the library was loaded.
    pub warnings_logged: u64,
    /// Kernel thread ids (`gettid`) of the running workers; 0 marks an empty slot.
    pub worker_tids: [u64; MAX_TRACKED_WORKERS],
    /// Full segments the workers ran through perception.
    pub segments_analysed: u64,
    /// Early-answer encodes the workers ran.
    pub early_analyses: u64,
    /// Offline waits of `process()` (per segment or onset waited for).
    pub offline_waits: u64,
}

impl Diagnostics {
    /// The non-empty entries of `worker_tids`.
    pub fn tids(&self) -> Vec<u64> {
        self.worker_tids
            .iter()
            .copied()
            .filter(|&t| t != 0)
            .collect()
    }
}

/// The counters as they are now.
pub fn snapshot() -> Diagnostics {
    let mut worker_tids = [0u64; MAX_TRACKED_WORKERS];
    for (out, slot) in worker_tids.iter_mut().zip(&WORKER_TIDS) {
        *out = slot.load(Ordering::Acquire);
    }
    Diagnostics {
        live_workers: LIVE_WORKERS.load(Ordering::Acquire),
        errors_logged: ERRORS_LOGGED.load(Ordering::Relaxed),
        warnings_logged: WARNINGS_LOGGED.load(Ordering::Relaxed),
        worker_tids,
        segments_analysed: SEGMENTS_ANALYSED.load(Ordering::Relaxed),
        early_analyses: EARLY_ANALYSES.load(Ordering::Relaxed),
        offline_waits: OFFLINE_WAITS.load(Ordering::Relaxed),
    }
}

/// The diagnostics of this copy of the library (C ABI, for hosts and tests; see the module doc).
#[no_mangle]
pub extern "C" fn musichal_diagnostics() -> Diagnostics {
    snapshot()
}

/// Counts one worker thread as alive from its creation until the guard drops. Created on the
/// spawning thread *before* the thread starts and moved into it, so the count is right as soon
/// as `spawn` returns and, since the guard drops when the thread function returns, is already
/// back down when `join` returns.
#[derive(Debug)]
pub struct LiveWorker {
    slot: Option<usize>,
}

impl LiveWorker {
    /// Counts a worker about to start.
    pub fn new() -> Self {
        LIVE_WORKERS.fetch_add(1, Ordering::AcqRel);
        Self { slot: None }
    }

    /// On the worker thread: records its kernel thread id (a free slot, if any).
    pub fn register_current_thread(&mut self) {
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() } as u64;
        for (i, slot) in WORKER_TIDS.iter().enumerate() {
            if slot
                .compare_exchange(0, tid, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                self.slot = Some(i);
                return;
            }
        }
    }
}

impl Default for LiveWorker {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for LiveWorker {
    fn drop(&mut self) {
        if let Some(i) = self.slot.take() {
            WORKER_TIDS[i].store(0, Ordering::Release);
        }
        LIVE_WORKERS.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Counts errors and warnings as they are logged.
struct CountingLayer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountingLayer {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        match *event.metadata().level() {
            tracing::Level::ERROR => {
                ERRORS_LOGGED.fetch_add(1, Ordering::Relaxed);
            }
            tracing::Level::WARN => {
                WARNINGS_LOGGED.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

/// Installs the plugin's logger: messages at INFO and above (DEBUG in debug builds) to stderr
/// or the file named by `NICE_LOG`, as nice-plug's default logger would, and counted for
/// [`musichal_diagnostics`]. `Some(false)` when the process already has a global logger (a host
/// that installed its own): nothing is written or counted then.
pub fn setup_logger() -> Option<bool> {
    use tracing_subscriber::layer::SubscriberExt;
    let level = if cfg!(debug_assertions) {
        tracing::level_filters::LevelFilter::DEBUG
    } else {
        tracing::level_filters::LevelFilter::INFO
    };
    let subscriber = tracing_subscriber::registry()
        .with(level)
        .with(CountingLayer)
        .with(
            tracing_subscriber::fmt::layer()
                .with_target(false)
                .without_time()
                .with_writer(nice_log::writer_from_env()),
        );
    Some(tracing::subscriber::set_global_default(subscriber).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker counted while its guard lives, with its thread id, and no longer once the thread
    /// function has returned: by the time `join` returns, the count is already down.
    #[test]
    fn a_live_worker_is_counted_until_its_thread_function_returns() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let (tid_tx, tid_rx) = std::sync::mpsc::channel::<u64>();
        let mut guard = LiveWorker::new();
        let handle = std::thread::spawn(move || {
            guard.register_current_thread();
            // SAFETY: no preconditions.
            tid_tx.send(unsafe { libc::gettid() } as u64).unwrap();
            rx.recv().unwrap();
            drop(guard);
        });
        let tid = tid_rx.recv().unwrap();
        // Other tests in this binary may run workers too: look for this one's id.
        assert!(snapshot().tids().contains(&tid));
        assert!(snapshot().live_workers >= 1);
        tx.send(()).unwrap();
        handle.join().unwrap();
        assert!(!snapshot().tids().contains(&tid));
    }
}
