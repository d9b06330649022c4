//! The worker thread: one per plugin instance, started on `activate`, stopped and joined on
//! `deactivate`/drop. It owns everything slow or allocating that the audio thread must never
//! touch: ONNX Runtime sessions (the EQ decoder), the corpus, perception and the oracle. It
//! never touches host objects.
//!
//! Answering: the worker takes each 350 ms segment from the audio thread's ring
//! ([`SegmentAssembler`]), runs it through the corpus' [`Answerer`] and hands the phrase's
//! notes to the audio thread's scheduler ([`NoteSender`]). The corpus (a user `.mhc` or the
//! embedded one) is loaded when its path changes; a bad file keeps the previous corpus and the
//! status says why.
//!
//! EQ morph: whenever term A/B or the model path changes, the worker decodes a [`MorphGrid`]
//! (intensity 1, [`GRID_POINTS`] morph values) and publishes it through a triple buffer; the
//! audio thread interpolates it per sub-block. If decoding fails (no ONNX Runtime, a bad user
//! model) the last good grid stays in place and the status says why.

use crate::corpus::CorpusModel;
use crate::engine::quantise::Quantiser;
use crate::engine::EARLY_LISTEN_S;
use crate::rt::clock::ClockSnapshot;

/// Shortest early phrase worth playing before the segment's own answer, seconds; an onset
/// later in its segment gets an early phrase that also covers that answer's time.
const MIN_EARLY_PHRASE_S: f64 = 0.15;
use crate::engine::{
    AnswerControls, Answerer, EngineCounters, EngineStatus, EMBEDDED_CORPUS, EMBEDDED_CORPUS_NAME,
};
use crate::eq_morph::{EqMorphModel, MorphGrid};
use crate::rt::{NoteEvent, NoteSender, SegmentAssembler};
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
const POLL_INTERVAL: Duration = Duration::from_millis(5);
/// Seed of the answer's random choices: the same session answers the same way every time.
const ANSWER_SEED: u64 = 0x4d75_7369_6348_616c;

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
    /// Answer parameters (audio thread writes, worker reads).
    pub controls: AnswerControls,
    /// Bumped when the corpus path changes.
    pub corpus_generation: AtomicU64,
    /// The user corpus (`.mhc`), `None` for the embedded one.
    pub corpus_path: Mutex<Option<PathBuf>>,
    /// Set after the worker's first corpus load attempt.
    pub corpus_attempt_done: AtomicBool,
    /// What the engine reports to the GUI.
    pub status: Mutex<EngineStatus>,
    /// Engine counters.
    pub counters: EngineCounters,
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

/// The worker's ends of the audio-thread hand-offs, made in `activate` for the host's sample
/// rate.
pub struct EngineIo {
    /// Segments of the live input.
    pub assembler: SegmentAssembler,
    /// Notes to play.
    pub notes: NoteSender,
    /// Host sample rate, Hz.
    pub host_rate_hz: u32,
    /// The audio thread's beat clock, as of its latest block.
    pub clock: triple_buffer::Output<ClockSnapshot>,
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

    /// Point the worker at a user corpus (`None`: the embedded one). GUI/main thread.
    pub fn set_corpus_path(&self, path: Option<PathBuf>) {
        *self.corpus_path.lock() = path;
        self.corpus_generation.fetch_add(1, Ordering::Release);
    }

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
        if *self.corpus_path.lock() != corpus {
            self.set_corpus_path(corpus);
        }
        let eq = read(&p.eq_model);
        if *self.eq_model_path.lock() != eq {
            self.set_eq_model_path(eq);
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
        shared.first_attempt_done.store(false, Ordering::Release);
        shared.corpus_attempt_done.store(false, Ordering::Release);
        shared
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
    mut io: Option<EngineIo>,
) -> triple_buffer::Input<MorphGrid> {
    let mut answerer: Option<Answerer> = None;
    let mut corpus_generation = u64::MAX;
    let mut notes: Vec<NoteEvent> = Vec::with_capacity(256);
    let mut quantiser = Quantiser::new();
    let mut early = EarlyState::default();
    let mut model: Option<EqMorphModel> = None;
    let mut loaded_generation = u64::MAX;
    let mut published: Option<GridKey> = None;
    while !shared.stop.load(Ordering::Acquire) {
        shared.sync_persisted();
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
        let generation = shared.corpus_generation.load(Ordering::Acquire);
        if generation != corpus_generation {
            corpus_generation = generation;
            let has_previous = answerer.is_some();
            let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                load_corpus(&shared, has_previous)
            }));
            match loaded {
                Ok(Some(a)) => answerer = Some(a),
                Ok(None) => {}
                Err(_) => {
                    shared.status.lock().corpus_message =
                        "corpus loading failed with an internal error".into();
                }
            }
            shared.corpus_attempt_done.store(true, Ordering::Release);
        }
        let mut more = false;
        if let Some(io) = io.as_mut() {
            let busy = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                answer_next_segment(
                    &shared,
                    io,
                    answerer.as_mut(),
                    &mut notes,
                    &mut quantiser,
                    &mut early,
                )
            }));
            match busy {
                Ok(handled) => more = handled,
                Err(_) => {
                    shared.counters.errors.fetch_add(1, Ordering::Relaxed);
                    shared.status.lock().corpus_message =
                        "answering failed with an internal error; the corpus was unloaded".into();
                    answerer = None;
                }
            }
        }
        // One segment per pass, so a corpus or EQ request made before a segment arrived is
        // taken up (top of the loop) before that segment is answered; no wait while segments
        // are queued.
        if !more {
            std::thread::park_timeout(POLL_INTERVAL);
        }
    }
    grid_in
}

/// Loads the requested corpus. On failure the previous one stays (the caller keeps it) and
/// the status says why; with no previous one (`has_previous` false: a session opened with a
/// user corpus that is gone or broken) the embedded corpus stands in, so the plugin still
/// answers, and the status says that too.
fn load_corpus(shared: &WorkerShared, has_previous: bool) -> Option<Answerer> {
    let path = shared.corpus_path.lock().clone();
    let what = path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "the embedded corpus".into());
    // Every message names the corpus once: `load` errors name the file themselves, the others
    // get `what` in front.
    let (name, model) = match &path {
        Some(p) => (
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string()),
            CorpusModel::load(p).map_err(|e| e.to_string()),
        ),
        None => (
            EMBEDDED_CORPUS_NAME.to_owned(),
            CorpusModel::from_bytes(EMBEDDED_CORPUS).map_err(|e| format!("{what}: {e}")),
        ),
    };
    let error = match install_corpus(shared, name, &what, model) {
        Ok(answerer) => return Some(answerer),
        Err(e) => e,
    };
    let mut fallback = None;
    let keep = if has_previous {
        " (keeping the previous corpus)"
    } else if path.is_some() {
        fallback = install_corpus(
            shared,
            EMBEDDED_CORPUS_NAME.to_owned(),
            "the embedded corpus",
            CorpusModel::from_bytes(EMBEDDED_CORPUS).map_err(|e| e.to_string()),
        )
        .ok();
        if fallback.is_some() {
            " (using the embedded corpus)"
        } else {
            ""
        }
    } else {
        ""
    };
    let mut status = shared.status.lock();
    status.corpus_message = format!("{error}{keep}");
    nice_plug::nice_warn!("{}", status.corpus_message);
    fallback
}

/// Builds the answerer for a loaded model and shows it in the status; the error as text (an
/// answerer error gets `what`, the corpus, in front).
fn install_corpus(
    shared: &WorkerShared,
    name: String,
    what: &str,
    model: std::result::Result<CorpusModel, String>,
) -> std::result::Result<Answerer, String> {
    let (model, answerer) = model.and_then(|m| {
        Answerer::new(&m, ANSWER_SEED)
            .map(|a| (m, a))
            .map_err(|e| format!("{what}: {e}"))
    })?;
    let mut status = shared.status.lock();
    status.corpus_name = name;
    status.corpus_frames = answerer.corpus_frames();
    status.oracle_states = answerer.oracle_states();
    status.vocab_size = model.vocab_size as usize;
    status.harmonic_hist = vec![0; model.vocab_size as usize];
    status.percussive_hist = vec![0; model.vocab_size as usize];
    status.corpus_message.clear();
    Ok(answerer)
}

/// Answers the oldest complete segment waiting in the ring and returns `true`; with none
/// waiting, considers an early answer to an onset in the segment still arriving and returns
/// `false`. A segment the audio thread did not mark for analysis (Listen and Live Learning
/// were off for some of it) is skipped: not analysed, not answered, and the answerer forgets
/// its live context; it still counts as handled, so an offline render that waits later does
/// not wait for it.
fn answer_next_segment(
    shared: &WorkerShared,
    io: &mut EngineIo,
    mut answerer: Option<&mut Answerer>,
    notes: &mut Vec<NoteEvent>,
    quantiser: &mut Quantiser,
    early: &mut EarlyState,
) -> bool {
    let counters = &shared.counters;
    if let Some(segment) = io.assembler.next_segment() {
        let started = std::time::Instant::now();
        let end = segment.start_sample + segment.samples.len() as u64;
        let analyse = segment.analyse;
        if let (Some(a), false) = (answerer.as_deref_mut(), analyse) {
            a.pause();
            early.silent_before = true;
        }
        if let (Some(a), true) = (answerer.as_deref_mut(), analyse) {
            counters.segments_analysed.fetch_add(1, Ordering::Relaxed);
            crate::diagnostics::count_segment_analysed();
            let settings = shared.controls.load();
            notes.clear();
            // A segment an early answer already answered in full is only heard.
            let heard = if early.replaced_segment == Some(segment.start_sample) {
                a.listen(
                    &segment.samples,
                    segment.start_sample,
                    io.host_rate_hz,
                    &settings,
                )
            } else {
                a.answer(
                    &segment.samples,
                    segment.start_sample,
                    io.host_rate_hz,
                    &settings,
                    notes,
                )
            };
            match heard {
                Ok(heard) => {
                    // The first answer after silence: its delay from the segment it answers
                    // (an early answer already reported its own).
                    let report = (early.silent_before
                        && early.answered_segment != Some(segment.start_sample))
                    .then_some(segment.start_sample);
                    send_notes(
                        shared,
                        io.host_rate_hz,
                        &mut io.notes,
                        &mut io.clock,
                        quantiser,
                        notes,
                        report,
                    );
                    early.silent_before =
                        heard.peak_db < crate::engine::answer::SILENCE_GATE_DB || !settings.listen;
                    if heard.notes > 0 {
                        counters.segments_answered.fetch_add(1, Ordering::Relaxed);
                    }
                    let mut guard = shared.status.lock();
                    let status = &mut *guard;
                    for (hist, tokens) in [
                        (&mut status.harmonic_hist, &heard.harmonic),
                        (&mut status.percussive_hist, &heard.percussive),
                    ] {
                        for &t in tokens.iter() {
                            if let Some(c) = hist.get_mut(t as usize) {
                                *c += 1;
                            }
                        }
                    }
                    status.harmonic = heard.harmonic;
                    status.percussive = heard.percussive;
                    status.peak_db = heard.peak_db;
                    status.interval = heard.interval;
                }
                Err(e) => {
                    counters.errors.fetch_add(1, Ordering::Relaxed);
                    shared.status.lock().corpus_message = format!("analysis failed: {e}");
                }
            }
        }
        early.context.clear();
        early.context.extend_from_slice(&segment.samples);
        early.context_end = end;
        if analyse {
            let us = started.elapsed().as_micros() as u64;
            counters.last_latency_us.store(us, Ordering::Relaxed);
            counters.max_latency_us.fetch_max(us, Ordering::Relaxed);
            let seg_us = segment.samples.len() as u64 * 1_000_000 / io.host_rate_hz.max(1) as u64;
            if us > seg_us {
                counters.deadline_misses.fetch_add(1, Ordering::Relaxed);
            }
        }
        counters.segments_handled.fetch_add(1, Ordering::Relaxed);
        counters
            .handled_until_sample
            .fetch_max(end, Ordering::Release);
        return true;
    }
    counters.segments_dropped.store(
        io.assembler.counters().snapshot().segments_dropped,
        Ordering::Relaxed,
    );
    if let Some(a) = answerer {
        answer_onset_early(shared, io, a, notes, quantiser, early);
    }
    false
}

/// What the early answer remembers between segments.
#[derive(Debug)]
struct EarlyState {
    /// The previous segment was silent (or not answered): an onset now starts a new answer.
    silent_before: bool,
    /// The previous segment's samples (the early encode's look-back) and its end.
    context: Vec<f32>,
    context_end: u64,
    /// Start of the segment that got an early answer (one per segment).
    answered_segment: Option<u64>,
    /// Start of the segment whose own answer the early one replaced.
    replaced_segment: Option<u64>,
}

impl Default for EarlyState {
    fn default() -> Self {
        Self {
            silent_before: true,
            context: Vec::new(),
            context_end: 0,
            answered_segment: None,
            replaced_segment: None,
        }
    }
}

/// Places `notes` in musical time and hands them to the audio thread. With `heard` (the onset
/// or segment start answered after silence) and at least one note, publishes the answer delay:
/// from `heard` to where the first note is placed (after the quantiser's wait for the grid or
/// the bar line, converted to samples at the current tempo), i.e. when it will sound.
fn send_notes(
    shared: &WorkerShared,
    rate_hz: u32,
    sender: &mut NoteSender,
    clock: &mut triple_buffer::Output<ClockSnapshot>,
    quantiser: &mut Quantiser,
    notes: &[NoteEvent],
    heard: Option<u64>,
) {
    let counters = &shared.counters;
    // Musical time: the latest clock of the audio thread places the notes on the grid or the
    // next bar (free mode leaves them as decoded).
    let timing = shared.controls.load_timing();
    let clock = *clock.read();
    quantiser.follow(&clock, timing.mode);
    let mut first: Option<u64> = None;
    for &n in notes {
        let n = quantiser.place(n, &clock, &timing);
        let at = n.beat.map_or(n.start_sample, |b| clock.sample_at(b.start));
        first = Some(first.map_or(at, |f| f.min(at)));
        if sender.send(n).is_ok() {
            counters.notes_sent.fetch_add(1, Ordering::Relaxed);
        } else {
            counters.notes_refused.fetch_add(1, Ordering::Relaxed);
        }
    }
    if let (Some(first), Some(heard)) = (first, heard) {
        report_delay(rate_hz, counters, first, heard);
    }
}

/// Publishes the delay from `heard` (onset or segment start) to the first answering note.
fn report_delay(rate_hz: u32, counters: &EngineCounters, first_note: u64, heard: u64) {
    let us = first_note.saturating_sub(heard) * 1_000_000 / rate_hz.max(1) as u64;
    counters.answer_delay_us.store(us, Ordering::Relaxed);
}

/// A transient after silence, in the segment still arriving: answer it from the samples that
/// have arrived, [`EARLY_LISTEN_S`] after the onset, rather than a segment later. Decides once
/// per onset (answered or not) and says so in `early_decided`, which offline renders wait for.
fn answer_onset_early(
    shared: &WorkerShared,
    io: &mut EngineIo,
    answerer: &mut Answerer,
    notes: &mut Vec<NoteEvent>,
    quantiser: &mut Quantiser,
    early: &mut EarlyState,
) {
    let counters = &shared.counters;
    let Some(onset) = io.assembler.last_onset() else {
        return;
    };
    if counters.early_decided.load(Ordering::Acquire) == onset + 1 {
        return;
    }
    let Some((start, partial)) = io.assembler.partial() else {
        return;
    };
    let rate = io.host_rate_hz as u64;
    let listen = (EARLY_LISTEN_S * rate as f64).round() as u64;
    if onset < start || (partial.len() as u64) < onset - start + listen {
        // Not in this segment (the full segment answers it), or not enough heard yet.
        return;
    }
    let settings = shared.controls.load();
    // The audio thread's flag, not only the settings now: whether this onset may be answered
    // must not depend on when the worker gets to it.
    let wanted = io.assembler.partial_wants_analysis()
        && settings.early
        && settings.listen
        && early.silent_before
        && early.answered_segment != Some(start);
    if wanted {
        let margin = (crate::engine::ANSWER_MARGIN_S * rate as f64).round() as u64;
        let heard = &partial[..(onset - start + listen) as usize];
        let context: &[f32] = if early.context_end == start {
            &early.context
        } else {
            &[]
        };
        let from = onset + listen + margin;
        let seg_len = io.assembler.segment_len() as u64;
        let mut until = start + seg_len + margin;
        // Too little time before the segment's own answer: the early phrase takes that answer's
        // place too.
        let replaces = until < from + (MIN_EARLY_PHRASE_S * rate as f64) as u64;
        if replaces {
            until += seg_len;
        }
        notes.clear();
        counters.early_analyses.fetch_add(1, Ordering::Relaxed);
        crate::diagnostics::count_early_analysis();
        let result = answerer.answer_early(
            context,
            heard,
            io.host_rate_hz,
            &settings,
            from,
            until,
            notes,
        );
        match result {
            Ok(n) if n > 0 => {
                early.answered_segment = Some(start);
                early.replaced_segment = replaces.then_some(start);
                counters.early_answers.fetch_add(1, Ordering::Relaxed);
                send_notes(
                    shared,
                    io.host_rate_hz,
                    &mut io.notes,
                    &mut io.clock,
                    quantiser,
                    notes,
                    Some(onset),
                );
            }
            Ok(_) => {}
            Err(e) => {
                counters.errors.fetch_add(1, Ordering::Relaxed);
                shared.status.lock().corpus_message = format!("early answer failed: {e}");
            }
        }
    }
    counters.early_decided.store(onset + 1, Ordering::Release);
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

    /// The published answer delay runs to where the first note sounds: in beat and bar mode
    /// it includes the wait for the grid point or bar line, not just the decoded start.
    #[test]
    fn answer_delay_includes_the_wait_for_the_grid_or_the_bar_line() {
        use crate::engine::quantise::{AnswerMode, Grid, TimingSettings};
        const RATE: u32 = 48_000;
        // 120 bpm at 48 kHz: 24,000 samples a beat, bars of 4 beats from sample 0.
        let clock = ClockSnapshot {
            sample: 0,
            beats: 0.0,
            tempo_bpm: 120.0,
            bar_start_beats: 0.0,
            beats_per_bar: 4.0,
            sample_rate: RATE as f64,
            epoch: 1,
        };
        let heard = 24_000u64;
        // Decoded at beat 1.25 (6,000 samples after what it answers) and beat 1.5.
        let decoded = [30_000u64, 36_000].map(|start_sample| NoteEvent {
            note: 60,
            velocity: 0.8,
            channel: 0,
            start_sample,
            duration_samples: 4_800,
            beat: None,
        });
        let delay_ms = |mode: AnswerMode, grid: Grid| -> f64 {
            let shared = WorkerShared::default();
            shared.controls.store_timing(&TimingSettings {
                mode,
                grid,
                swing: 0.0,
            });
            let (mut sender, _scheduler) = crate::rt::midi_channel();
            let (_clock_in, mut clock_out) = triple_buffer::triple_buffer(&clock);
            let mut quantiser = Quantiser::new();
            send_notes(
                &shared,
                RATE,
                &mut sender,
                &mut clock_out,
                &mut quantiser,
                &decoded,
                Some(heard),
            );
            assert_eq!(shared.counters.notes_sent.load(Ordering::Relaxed), 2);
            shared.counters.answer_delay_us.load(Ordering::Relaxed) as f64 / 1000.0
        };
        // Free: as decoded, 0.25 beat = 125 ms.
        assert_eq!(delay_ms(AnswerMode::Free, Grid::Quarter), 125.0);
        // Beat, 1/4 grid: the first note waits for beat 2, 1 beat = 500 ms after `heard`.
        assert_eq!(delay_ms(AnswerMode::Beat, Grid::Quarter), 500.0);
        // Beat, 1/8 grid: beat 1.5, 250 ms.
        assert_eq!(delay_ms(AnswerMode::Beat, Grid::Eighth), 250.0);
        // Bar: the phrase heard in bar 0 starts on the next bar line, beat 4: 1.5 s.
        assert_eq!(delay_ms(AnswerMode::Bar, Grid::Quarter), 1500.0);
    }

    /// Needs ONNX Runtime (`cargo xtask test` sets ORT_DYLIB_PATH).
    #[test]
    fn worker_decodes_on_term_change_and_survives_a_bad_user_model() {
        let shared = Arc::new(WorkerShared::default());
        let (grid_in, mut grid_out) = triple_buffer::triple_buffer(&MorphGrid::default());
        let flat = grid_out.read().row(0);
        let worker = Worker::spawn(shared.clone(), grid_in, None).expect("spawn");
        wait_for("first grid", || {
            shared.grids_published.load(Ordering::Acquire) >= 1
        });
        let first = grid_out.read().row(0);
        assert_ne!(
            first, flat,
            "the embedded model should not decode to a flat EQ"
        );

        // A bad user model: status says so, and the worker republishes the previous model's
        // grid for the new generation. Wait for that publish, so the count read below cannot
        // be overtaken by it (the CI once saw exactly that race).
        let before_bad = shared.grids_published.load(Ordering::Acquire);
        shared.set_eq_model_path(Some("/nonexistent/model.onnx".into()));
        wait_for("bad-model status and republish", || {
            shared.eq_status.lock().contains("keeping the previous")
                && shared.grids_published.load(Ordering::Acquire) > before_bad
        });
        assert_eq!(
            grid_out.read().row(0),
            first,
            "a bad user model keeps the previous model's grid"
        );
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
            shared.status.lock().corpus_name == EMBEDDED_CORPUS_NAME
        });
        let embedded_frames = shared.status.lock().corpus_frames;
        assert!(embedded_frames > 4000, "{embedded_frames}");

        // A state load (or the editor) writes the persisted field: the worker follows it.
        let dir = std::env::temp_dir().join(format!("musichal-worker-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.mhc");
        std::fs::write(&bad, b"not a corpus").unwrap();
        *persisted.corpus.write() = Some(bad.display().to_string());
        wait_for("bad-corpus message", || {
            shared
                .status
                .lock()
                .corpus_message
                .contains("keeping the previous corpus")
        });
        assert_eq!(shared.status.lock().corpus_name, EMBEDDED_CORPUS_NAME);

        let mut small = CorpusModel::from_bytes(EMBEDDED_CORPUS).unwrap();
        small.frames.truncate(1000);
        small.build_factor_oracle(small.oracle.drive).unwrap();
        let good = dir.join("small.mhc");
        small.save(&good).unwrap();
        *persisted.corpus.write() = Some(good.display().to_string());
        wait_for("the new corpus", || {
            shared.status.lock().corpus_name == "small.mhc"
        });
        assert_eq!(shared.status.lock().corpus_frames, 1000);
        assert!(shared.status.lock().corpus_message.is_empty());
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
            shared.corpus_attempt_done.load(Ordering::Acquire)
        });
        let status = shared.status.lock();
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
