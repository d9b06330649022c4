//! The worker thread: one per plugin instance, started on `activate`, stopped and joined on
//! `deactivate`/drop. It owns everything slow or allocating that the audio thread must never
//! touch: ONNX Runtime sessions (the EQ decoder now; perception and the oracle join it in the
//! engine issue). It never touches host objects.
//!
//! EQ morph: whenever term A/B or the model path changes, the worker decodes a [`MorphGrid`]
//! (intensity 1, [`GRID_POINTS`] morph values) and publishes it through a triple buffer; the
//! audio thread interpolates it per sub-block. If decoding fails (no ONNX Runtime, a bad user
//! model) the last good grid stays in place and the status says why.

use crate::eq_morph::{EqMorphModel, MorphGrid};
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Morph grid resolution: 33 points keep the interpolated response within 0.25 dB of exact
/// decoding (tests/eq_morph.rs) at a one-off cost of one batched ONNX call.
pub const GRID_POINTS: usize = 33;
/// How often the worker looks for new requests when idle.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// What the plugin (audio/main thread) asks of the worker, and what the worker reports back.
/// Requests are atomics the audio thread may write without blocking; reports are behind a
/// mutex that only the worker and the GUI take.
#[derive(Debug, Default)]
pub struct WorkerShared {
    /// Index of term A in the model's term list.
    pub term_a: AtomicU32,
    /// Index of term B.
    pub term_b: AtomicU32,
    /// Bumped by the GUI/main thread when the user EQ model path changes.
    pub model_generation: AtomicU64,
    /// The user EQ model (ONNX path; its JSON beside it), `None` for the embedded one.
    pub eq_model_path: Mutex<Option<PathBuf>>,
    /// Set to stop the thread.
    stop: AtomicBool,
    /// Grids published since start (for tests and the GUI).
    pub grids_published: AtomicU64,
    /// Set after the worker's first decoding attempt, successful or not.
    pub first_attempt_done: AtomicBool,
    /// Human-readable EQ status for the GUI and log.
    pub eq_status: Mutex<String>,
    /// Term names of the loaded model (GUI pickers).
    pub eq_terms: Mutex<Vec<String>>,
}

/// Handle to a running worker thread.
pub struct Worker {
    shared: Arc<WorkerShared>,
    handle: Option<JoinHandle<triple_buffer::Input<MorphGrid>>>,
}

impl WorkerShared {
    /// Point the worker at a user EQ model (`None`: the embedded one). GUI/main thread; the
    /// worker loads it within one poll interval.
    pub fn set_eq_model_path(&self, path: Option<PathBuf>) {
        *self.eq_model_path.lock() = path;
        self.model_generation.fetch_add(1, Ordering::Release);
    }
}

impl Worker {
    /// Spawn the thread. `grid_in` is the writing end of the grid triple buffer; it comes back
    /// from [`Worker::stop`] so the next activation can reuse it.
    pub fn spawn(
        shared: Arc<WorkerShared>,
        grid_in: triple_buffer::Input<MorphGrid>,
    ) -> std::io::Result<Self> {
        shared.stop.store(false, Ordering::Release);
        shared.first_attempt_done.store(false, Ordering::Release);
        let thread_shared = shared.clone();
        let handle = std::thread::Builder::new()
            .name("musichal-worker".into())
            .spawn(move || run(thread_shared, grid_in))?;
        Ok(Self {
            shared,
            handle: Some(handle),
        })
    }

    /// Ask the thread to stop and join it. Returns the grid writer, or `None` if the thread
    /// panicked (the panic is contained here and reported in the status).
    pub fn stop(mut self) -> Option<triple_buffer::Input<MorphGrid>> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> Option<triple_buffer::Input<MorphGrid>> {
        self.shared.stop.store(true, Ordering::Release);
        let handle = self.handle.take()?;
        handle.thread().unpark();
        match handle.join() {
            Ok(input) => Some(input),
            Err(_) => {
                *self.shared.eq_status.lock() = "worker stopped after an internal error".into();
                None
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.stop_inner();
    }
}

/// What the current grid was decoded for.
#[derive(PartialEq, Clone, Copy)]
struct GridKey {
    term_a: u32,
    term_b: u32,
    generation: u64,
}

fn run(
    shared: Arc<WorkerShared>,
    mut grid_in: triple_buffer::Input<MorphGrid>,
) -> triple_buffer::Input<MorphGrid> {
    let mut model: Option<EqMorphModel> = None;
    let mut loaded_generation = u64::MAX;
    let mut published: Option<GridKey> = None;
    while !shared.stop.load(Ordering::Acquire) {
        let key = GridKey {
            term_a: shared.term_a.load(Ordering::Relaxed),
            term_b: shared.term_b.load(Ordering::Relaxed),
            generation: shared.model_generation.load(Ordering::Relaxed),
        };
        if published != Some(key) {
            // Contain any panic from a model or ONNX Runtime: the worker must outlive bad files.
            let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                if loaded_generation != key.generation || model.is_none() {
                    // A bad user file keeps the previous model (and says why in the status).
                    if let Some(new_model) = load_model(&shared, model.is_some()) {
                        model = Some(new_model);
                    }
                    loaded_generation = key.generation;
                }
                model.as_mut().map(|m| decode(&shared, m, key))
            }));
            match step {
                Ok(Some(Some(grid))) => {
                    grid_in.write(grid);
                    shared.grids_published.fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
                Err(_) => {
                    *shared.eq_status.lock() = "EQ decoding failed with an internal error".into();
                    model = None;
                }
            }
            // Marked done even on failure: a failing request is retried only when it changes.
            published = Some(key);
            shared.first_attempt_done.store(true, Ordering::Release);
        }
        std::thread::park_timeout(POLL_INTERVAL);
    }
    grid_in
}

fn load_model(shared: &WorkerShared, have_previous: bool) -> Option<EqMorphModel> {
    let path = shared.eq_model_path.lock().clone();
    let result = match &path {
        Some(p) => EqMorphModel::from_files(p, None),
        None => EqMorphModel::embedded(),
    };
    match result {
        Ok(model) => {
            *shared.eq_terms.lock() = model.term_names().map(str::to_owned).collect();
            let name = path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "embedded".into());
            *shared.eq_status.lock() = format!("EQ model: {name}");
            Some(model)
        }
        Err(e) => {
            let keep = if have_previous {
                " (keeping the previous model)"
            } else {
                ""
            };
            *shared.eq_status.lock() = format!("EQ model unavailable: {e}{keep}");
            None
        }
    }
}

fn decode(shared: &WorkerShared, model: &mut EqMorphModel, key: GridKey) -> Option<MorphGrid> {
    let terms: Vec<String> = model.term_names().map(str::to_owned).collect();
    if terms.is_empty() {
        return None;
    }
    // Indices beyond a (smaller) user model's list wrap, so every parameter value means a term.
    let a = &terms[key.term_a as usize % terms.len()];
    let b = &terms[key.term_b as usize % terms.len()];
    match model.decode_grid(a, b, GRID_POINTS) {
        Ok(grid) => Some(grid),
        Err(e) => {
            *shared.eq_status.lock() = format!("EQ decoding failed: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// Wait until `cond` holds, up to 10 s (first ONNX Runtime load included).
    fn wait_for(what: &str, cond: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !cond() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Needs ONNX Runtime (`cargo xtask test` sets ORT_DYLIB_PATH).
    #[test]
    fn worker_decodes_on_term_change_and_survives_a_bad_user_model() {
        let shared = Arc::new(WorkerShared::default());
        let (grid_in, mut grid_out) = triple_buffer::triple_buffer(&MorphGrid::default());
        let flat = grid_out.read().row(0);
        let worker = Worker::spawn(shared.clone(), grid_in).expect("spawn");
        wait_for("first grid", || {
            shared.grids_published.load(Ordering::Acquire) >= 1
        });
        let first = grid_out.read().row(0);
        assert_ne!(
            first, flat,
            "the embedded model should not decode to a flat EQ"
        );

        // A bad user model: status says so, the previous model stays in use.
        shared.set_eq_model_path(Some("/nonexistent/model.onnx".into()));
        wait_for("bad-model status", || {
            shared.eq_status.lock().contains("keeping the previous")
        });
        let before = shared.grids_published.load(Ordering::Acquire);
        shared.term_a.store(1, Ordering::Relaxed);
        wait_for("grid after term change", || {
            shared.grids_published.load(Ordering::Acquire) > before
        });
        assert_ne!(
            grid_out.read().row(0),
            first,
            "term A changed, so morph 0 must change"
        );

        // Back to the embedded model.
        shared.set_eq_model_path(None);
        wait_for("embedded status", || {
            shared.eq_status.lock().contains("embedded")
        });
        let input = worker.stop();
        assert!(
            input.is_some(),
            "the worker returns the grid writer when it stops cleanly"
        );
    }
}
