//! The worker thread: one per plugin instance, started on `activate`, stopped and joined on
//! `deactivate`/drop. It owns everything slow or allocating that the audio thread must never
//! touch and never touches host objects. It owns only the thread and its loop; each pass follows
//! the persisted paths, lets the EQ decoder publish a new grid if one was asked for
//! ([`GridDecoder`], `eq_morph`), and lets the [`Listener`] (`engine`) load the corpus when its
//! path changed and answer one segment.

use crate::engine::{EngineIo, EngineShared, Listener};
use crate::eq_morph::decoder::{EqShared, GridDecoder};
use crate::eq_morph::MorphGrid;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the worker looks for new requests when idle.
const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// What the plugin and its worker share: the EQ decoder's requests and reports, the engine's,
/// the plugin's persisted path fields, and the stop flag.
#[derive(Debug, Default)]
pub struct WorkerShared {
    /// The EQ morph: terms asked for, model path, grids published, status.
    pub eq: EqShared,
    /// Answering: controls, corpus path, status, counters, offline waits.
    pub engine: EngineShared,
    /// Set to stop the thread.
    stop: AtomicBool,
    /// The plugin's persisted path fields: the worker follows them, so a path set by the
    /// editor, restored with a session or changed by a state load while playing takes effect.
    pub persisted: Option<PersistedPaths>,
}

/// The plugin state's path fields (shared with `MusicHalParams`).
#[derive(Debug, Clone)]
pub struct PersistedPaths {
    /// `corpus-path`.
    pub corpus: Arc<parking_lot::RwLock<Option<String>>>,
    /// `eq-model-path`.
    pub eq_model: Arc<parking_lot::RwLock<Option<String>>>,
}

/// Handle to a running worker thread.
pub struct Worker {
    shared: Arc<WorkerShared>,
    handle: Option<JoinHandle<triple_buffer::Input<MorphGrid>>>,
}

impl WorkerShared {
    /// A worker state following the plugin's persisted path fields.
    pub fn with_persisted(persisted: PersistedPaths) -> Self {
        Self {
            persisted: Some(persisted),
            ..Self::default()
        }
    }

    /// Worker: adopt the persisted paths if they changed (empty strings mean "embedded").
    fn sync_persisted(&self) {
        let Some(p) = &self.persisted else { return };
        let read = |f: &parking_lot::RwLock<Option<String>>| -> Option<PathBuf> {
            f.read()
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(PathBuf::from)
        };
        let corpus = read(&p.corpus);
        if *self.engine.corpus_path.lock() != corpus {
            self.engine.set_corpus_path(corpus);
        }
        let eq = read(&p.eq_model);
        if *self.eq.model_path.lock() != eq {
            self.eq.set_model_path(eq);
        }
    }
}

impl Worker {
    /// Spawn the thread. `grid_in` is the writing end of the grid triple buffer; it comes back
    /// from [`Worker::stop`] so the next activation can reuse it.
    pub fn spawn(
        shared: Arc<WorkerShared>,
        grid_in: triple_buffer::Input<MorphGrid>,
        io: Option<EngineIo>,
    ) -> std::io::Result<Self> {
        shared.stop.store(false, Ordering::Release);
        shared.eq.first_attempt_done.store(false, Ordering::Release);
        shared
            .engine
            .corpus_attempt_done
            .store(false, Ordering::Release);
        shared
            .engine
            .counters
            .handled_until_sample
            .store(0, Ordering::Release);
        let thread_shared = shared.clone();
        // Counted from here until the thread function returns (dropped with the closure if the
        // thread cannot start).
        let mut live = crate::diagnostics::LiveWorker::new();
        let handle = std::thread::Builder::new()
            .name("musichal-worker".into())
            .spawn(move || {
                live.register_current_thread();
                let grid_in = run(thread_shared, grid_in, io);
                drop(live);
                grid_in
            })?;
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
                *self.shared.eq.status.lock() = "worker stopped after an internal error".into();
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

fn run(
    shared: Arc<WorkerShared>,
    mut grid_in: triple_buffer::Input<MorphGrid>,
    io: Option<EngineIo>,
) -> triple_buffer::Input<MorphGrid> {
    let mut decoder = GridDecoder::new();
    let mut listener = Listener::new(io);
    let engine = &shared.engine;
    while !shared.stop.load(Ordering::Acquire) {
        shared.sync_persisted();
        decoder.poll(&shared.eq, &mut grid_in);
        listener.poll_corpus(engine);
        // One segment per pass, so a corpus or EQ request made before a segment arrived is
        // taken up (above) before that segment is answered; no wait while segments are queued.
        let busy = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| listener.step(engine)));
        let more = match busy {
            Ok(handled) => handled,
            Err(_) => {
                engine.counters.errors.fetch_add(1, Ordering::Relaxed);
                engine.status.lock().corpus_message =
                    "answering failed with an internal error; the corpus was unloaded".into();
                listener.drop_answerer();
                false
            }
        };
        if !more {
            std::thread::park_timeout(POLL_INTERVAL);
        }
    }
    grid_in
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::CorpusModel;
    use crate::engine::{EMBEDDED_CORPUS, EMBEDDED_CORPUS_NAME};
    use std::time::Instant;

    /// Wait until `cond` holds, up to 60 s (first ONNX Runtime load included). Generous on
    /// purpose: it returns as soon as the condition holds, so a passing run costs nothing more,
    /// and the first ONNX Runtime load on a loaded 2-core machine can take seconds.
    fn wait_for(what: &str, cond: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
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
        let worker = Worker::spawn(shared.clone(), grid_in, None).expect("spawn");
        wait_for("first grid", || {
            shared.eq.grids_published.load(Ordering::Acquire) >= 1
        });
        let first = grid_out.read().row(0);
        assert_ne!(
            first, flat,
            "the embedded model should not decode to a flat EQ"
        );

        // A bad user model: status says so, and the worker republishes the previous model's
        // grid for the new generation. Wait for that publish, so the count read below cannot
        // be overtaken by it (the CI once saw exactly that race).
        let before_bad = shared.eq.grids_published.load(Ordering::Acquire);
        shared
            .eq
            .set_model_path(Some("/nonexistent/model.onnx".into()));
        wait_for("bad-model status and republish", || {
            shared.eq.status.lock().contains("keeping the previous")
                && shared.eq.grids_published.load(Ordering::Acquire) > before_bad
        });
        assert_eq!(
            grid_out.read().row(0),
            first,
            "a bad user model keeps the previous model's grid"
        );
        let before = shared.eq.grids_published.load(Ordering::Acquire);
        shared.eq.term_a.store(1, Ordering::Relaxed);
        wait_for("grid after term change", || {
            shared.eq.grids_published.load(Ordering::Acquire) > before
        });
        assert_ne!(
            grid_out.read().row(0),
            first,
            "term A changed, so morph 0 must change"
        );

        // Back to the embedded model.
        shared.eq.set_model_path(None);
        wait_for("embedded status", || {
            shared.eq.status.lock().contains("embedded")
        });
        let input = worker.stop();
        assert!(
            input.is_some(),
            "the worker returns the grid writer when it stops cleanly"
        );
    }

    #[test]
    fn worker_follows_the_persisted_corpus_path_and_keeps_a_good_corpus_over_a_bad_one() {
        let persisted = PersistedPaths {
            corpus: Arc::new(parking_lot::RwLock::new(None)),
            eq_model: Arc::new(parking_lot::RwLock::new(None)),
        };
        let shared = Arc::new(WorkerShared::with_persisted(persisted.clone()));
        let (grid_in, _grid_out) = triple_buffer::triple_buffer(&MorphGrid::default());
        let worker = Worker::spawn(shared.clone(), grid_in, None).expect("spawn");
        wait_for("embedded corpus", || {
            shared.engine.status.lock().corpus_name == EMBEDDED_CORPUS_NAME
        });
        let embedded_frames = shared.engine.status.lock().corpus_frames;
        assert!(embedded_frames > 4000, "{embedded_frames}");

        // A state load (or the editor) writes the persisted field: the worker follows it.
        let dir = std::env::temp_dir().join(format!("musichal-worker-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.mhc");
        std::fs::write(&bad, b"not a corpus").unwrap();
        *persisted.corpus.write() = Some(bad.display().to_string());
        wait_for("bad-corpus message", || {
            shared
                .engine
                .status
                .lock()
                .corpus_message
                .contains("keeping the previous corpus")
        });
        assert_eq!(
            shared.engine.status.lock().corpus_name,
            EMBEDDED_CORPUS_NAME
        );

        // A corpus from before musical events (format version 2): the status says to retrain
        // and the previous corpus keeps answering.
        let mut v2 = EMBEDDED_CORPUS.to_vec();
        v2[8..12].copy_from_slice(&2u32.to_le_bytes());
        let old = dir.join("old.mhc");
        std::fs::write(&old, &v2).unwrap();
        *persisted.corpus.write() = Some(old.display().to_string());
        wait_for("the retrain message", || {
            let status = shared.engine.status.lock();
            status.corpus_message.contains("musical events")
                && status.corpus_message.contains("musichal train")
                && status
                    .corpus_message
                    .contains("keeping the previous corpus")
        });
        assert_eq!(
            shared.engine.status.lock().corpus_name,
            EMBEDDED_CORPUS_NAME
        );

        let mut small = CorpusModel::from_bytes(EMBEDDED_CORPUS).unwrap();
        small.frames.truncate(1000);
        small.build_factor_oracle(small.oracle.drive).unwrap();
        let good = dir.join("small.mhc");
        small.save(&good).unwrap();
        *persisted.corpus.write() = Some(good.display().to_string());
        wait_for("the new corpus", || {
            shared.engine.status.lock().corpus_name == "small.mhc"
        });
        assert_eq!(shared.engine.status.lock().corpus_frames, 1000);
        assert!(shared.engine.status.lock().corpus_message.is_empty());
        drop(worker);
        std::fs::remove_dir_all(&dir).ok();
    }

    /// A session reopened with a user corpus that is gone: the error is shown and the
    /// embedded corpus answers instead of nothing.
    #[test]
    fn a_missing_corpus_at_start_falls_back_to_the_embedded_one_and_says_so() {
        let missing = std::env::temp_dir().join("musichal-no-such-dir/gone.mhc");
        let persisted = PersistedPaths {
            corpus: Arc::new(parking_lot::RwLock::new(Some(
                missing.display().to_string(),
            ))),
            eq_model: Arc::new(parking_lot::RwLock::new(None)),
        };
        let shared = Arc::new(WorkerShared::with_persisted(persisted));
        let (grid_in, _grid_out) = triple_buffer::triple_buffer(&MorphGrid::default());
        let worker = Worker::spawn(shared.clone(), grid_in, None).expect("spawn");
        wait_for("the fallback message", || {
            shared.engine.corpus_attempt_done.load(Ordering::Acquire)
        });
        let status = shared.engine.status.lock();
        assert!(
            status.corpus_message.contains("gone.mhc")
                && status.corpus_message.contains("using the embedded corpus"),
            "{}",
            status.corpus_message
        );
        assert_eq!(status.corpus_name, EMBEDDED_CORPUS_NAME);
        assert!(status.corpus_frames > 4000, "{}", status.corpus_frames);
        drop(status);
        drop(worker);
    }
}
