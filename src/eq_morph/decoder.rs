//! The worker's EQ loop: whenever term A/B or the model path changes, decode a [`MorphGrid`]
//! (intensity 1, [`GRID_POINTS`] morph values) and publish it through a triple buffer for the
//! audio thread, which interpolates it per sub-block. If decoding fails (no ONNX Runtime, a bad
//! user model) the last good grid stays in place and the status says why.
//!
//! [`EqShared`] is what the plugin (audio and main threads, the editor) and the worker share
//! about the EQ: requests as atomics the audio thread may write without blocking, reports
//! behind mutexes that only the worker and the GUI take. [`GridDecoder`] is the worker's side.

use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use super::{EqMorphModel, MorphGrid};

/// Morph grid resolution: 33 points keep the interpolated response within 0.25 dB of exact
/// decoding (tests/eq_morph.rs) at a one-off cost of one batched ONNX call.
pub const GRID_POINTS: usize = 33;

/// Requests to and reports from the worker's EQ loop.
#[derive(Debug, Default)]
pub struct EqShared {
    /// Index of term A in the model's term list (audio thread writes).
    pub term_a: AtomicU32,
    /// Index of term B.
    pub term_b: AtomicU32,
    /// Bumped by the GUI/main thread when the user EQ model path changes.
    pub model_generation: AtomicU64,
    /// The user EQ model (ONNX path; its JSON beside it), `None` for the embedded one.
    pub model_path: Mutex<Option<PathBuf>>,
    /// Grids published since start (for tests and the GUI).
    pub grids_published: AtomicU64,
    /// Set after the decoder's first attempt, successful or not.
    pub first_attempt_done: AtomicBool,
    /// Human-readable EQ status for the GUI and log.
    pub status: Mutex<String>,
    /// Term names of the loaded model (GUI pickers).
    pub terms: Mutex<Vec<String>>,
}

impl EqShared {
    /// Point the decoder at a user EQ model (`None`: the embedded one). GUI/main thread; the
    /// worker loads it at its next pass.
    pub fn set_model_path(&self, path: Option<PathBuf>) {
        *self.model_path.lock() = path;
        self.model_generation.fetch_add(1, Ordering::Release);
    }

    /// Whether the decoder has tried to publish a grid since `published_before` grids (the
    /// count read before a worker started): a grid came, or the attempt is over.
    pub fn first_grid_settled(&self, published_before: u64) -> bool {
        self.grids_published.load(Ordering::Acquire) != published_before
            || self.first_attempt_done.load(Ordering::Acquire)
    }
}

/// What the current grid was decoded for.
#[derive(PartialEq, Clone, Copy)]
struct GridKey {
    term_a: u32,
    term_b: u32,
    generation: u64,
}

/// The worker's EQ state: the loaded model and what was last published.
#[derive(Default)]
pub struct GridDecoder {
    model: Option<EqMorphModel>,
    loaded_generation: Option<u64>,
    published: Option<GridKey>,
}

impl GridDecoder {
    /// No model loaded yet: the first [`Self::poll`] loads one.
    pub fn new() -> Self {
        Self::default()
    }

    /// Worker: (re)loads the model when its path changed and decodes a grid when the request
    /// changed, publishing it into `grid_in`. Any panic from a model or ONNX Runtime is
    /// contained here (the worker must outlive bad files). A failing request is retried only
    /// when it changes.
    pub fn poll(&mut self, shared: &EqShared, grid_in: &mut triple_buffer::Input<MorphGrid>) {
        let key = GridKey {
            term_a: shared.term_a.load(Ordering::Relaxed),
            term_b: shared.term_b.load(Ordering::Relaxed),
            generation: shared.model_generation.load(Ordering::Relaxed),
        };
        if self.published == Some(key) {
            return;
        }
        let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if self.loaded_generation != Some(key.generation) || self.model.is_none() {
                // A bad user file keeps the previous model (and says why in the status).
                if let Some(new_model) = load_model(shared, self.model.is_some()) {
                    self.model = Some(new_model);
                }
                self.loaded_generation = Some(key.generation);
            }
            self.model.as_mut().and_then(|m| decode(shared, m, key))
        }));
        match step {
            Ok(Some(grid)) => {
                grid_in.write(grid);
                shared.grids_published.fetch_add(1, Ordering::Relaxed);
            }
            Ok(None) => {}
            Err(_) => {
                *shared.status.lock() = "EQ decoding failed with an internal error".into();
                self.model = None;
            }
        }
        self.published = Some(key);
        shared.first_attempt_done.store(true, Ordering::Release);
    }
}

fn load_model(shared: &EqShared, have_previous: bool) -> Option<EqMorphModel> {
    let path = shared.model_path.lock().clone();
    let result = match &path {
        Some(p) => EqMorphModel::from_files(p, None),
        None => EqMorphModel::embedded(),
    };
    match result {
        Ok(model) => {
            *shared.terms.lock() = model.term_names().map(str::to_owned).collect();
            let name = path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "embedded".into());
            *shared.status.lock() = format!("EQ model: {name}");
            Some(model)
        }
        Err(e) => {
            let keep = if have_previous {
                " (keeping the previous model)"
            } else {
                ""
            };
            *shared.status.lock() = format!("EQ model unavailable: {e}{keep}");
            None
        }
    }
}

fn decode(shared: &EqShared, model: &mut EqMorphModel, key: GridKey) -> Option<MorphGrid> {
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
            *shared.status.lock() = format!("EQ decoding failed: {e}");
            None
        }
    }
}
