//! The engine: what the worker does with the live input (answer in MIDI), and the state it
//! shares with the audio thread and the GUI.
//!
//! - [`answer`]: perception -> tokens -> oracle navigation -> a timed phrase of notes
//!   (plain library code, deterministic, testable without a host);
//! - [`AnswerControls`]: the answer parameters as atomics (written by the audio thread each
//!   block, read by the worker once per segment);
//! - [`EngineStatus`]: what the worker reports (corpus, tokens, latency, drops), for the GUI.

pub mod answer;
pub mod listener;
pub mod provenance;
pub mod quantise;
pub mod transpose;

pub use answer::{
    AnswerError, AnswerSettings, Answerer, SegmentAnswer, ANSWER_MARGIN_S, EARLY_LISTEN_S,
};
pub use listener::{
    chord_check_point, early_onset_pending, EngineIo, Listener, CHECKS_PER_SEGMENT,
};

use crate::oracle::DriveStream;
use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::time::{Duration, Instant};

/// What the plugin (audio and main threads, the editor) and the worker share about answering:
/// the answer parameters (atomics the audio thread writes each block), which corpus to use,
/// and what the worker reports (status behind a mutex only the worker and the GUI take,
/// counters as relaxed atomics).
#[derive(Debug, Default)]
pub struct EngineShared {
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
}

impl EngineShared {
    /// Point the worker at a user corpus (`None`: the embedded one). GUI/main thread; the
    /// worker loads it before it answers the next segment.
    pub fn set_corpus_path(&self, path: Option<PathBuf>) {
        *self.corpus_path.lock() = path;
        self.corpus_generation.fetch_add(1, Ordering::Release);
    }

    /// Offline rendering: waits until the worker has handled every segment ending at or
    /// before `sample`, so their notes are queued before their time comes. `false` if `limit`
    /// passed first (a worker that stopped working). Not real-time: the audio thread calls it
    /// only in an offline render, where the host waits for it.
    pub fn wait_until_handled(&self, sample: u64, limit: Duration) -> bool {
        let done = &self.counters.handled_until_sample;
        wait_until(|| done.load(Ordering::Acquire) >= sample, limit)
    }

    /// Offline rendering: waits until the worker has checked the phrase it decided against the
    /// chord the input holds at `point` (a [`chord_check_point`]), so a render does not depend
    /// on the worker's timing. `false` if `limit` passed first.
    pub fn wait_for_chord_check(&self, point: u64, limit: Duration) -> bool {
        let checked = &self.counters.checked_until;
        wait_until(|| checked.load(Ordering::Acquire) > point, limit)
    }

    /// Offline rendering: waits until the worker has decided on its early answer to the onset
    /// at `onset` (answered or not). `false` if `limit` passed first.
    pub fn wait_for_early_decision(&self, onset: u64, limit: Duration) -> bool {
        let decided = &self.counters.early_decided;
        wait_until(|| decided.load(Ordering::Acquire) > onset, limit)
    }
}

/// Spins (yielding) until `done`, at most `limit`.
fn wait_until(done: impl Fn() -> bool, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::yield_now();
    }
    true
}

/// The embedded default corpus: trained by `musichal train` on 60 s of the project's synthetic
/// music (`musichal synth --seconds 60 --seed 1`); see `assets/README.md`.
pub const EMBEDDED_CORPUS: &[u8] = include_bytes!("../../assets/default_corpus.mhc");
/// Name shown for the embedded corpus.
pub const EMBEDDED_CORPUS_NAME: &str = "embedded (synthetic band, 60 s)";

/// An `f32` in an atomic.
#[derive(Debug, Default)]
pub struct AtomicF32(AtomicU32);

impl AtomicF32 {
    /// A new value.
    pub fn new(v: f32) -> Self {
        Self(AtomicU32::new(v.to_bits()))
    }
    /// Reads (relaxed).
    pub fn get(&self) -> f32 {
        f32::from_bits(self.0.load(Ordering::Relaxed))
    }
    /// Writes (relaxed).
    pub fn set(&self, v: f32) {
        self.0.store(v.to_bits(), Ordering::Relaxed)
    }
}

/// The answer parameters, shared lock-free between the audio thread (writer) and the worker.
#[derive(Debug)]
pub struct AnswerControls {
    pub listen: AtomicBool,
    pub density: AtomicF32,
    pub continuity: AtomicF32,
    pub channel: AtomicU8,
    pub length_scale: AtomicF32,
    pub velocity_scale: AtomicF32,
    pub transpose: AtomicU8,
    /// 0 harmonic, 1 percussive, 2 both.
    pub drive: AtomicU8,
    pub live_learning: AtomicBool,
    pub taboo_s: AtomicF32,
    /// Timing: 0 free, 1 beat, 2 bar.
    pub mode: AtomicU8,
    /// [`quantise::Grid::index`].
    pub grid: AtomicU8,
    pub swing: AtomicF32,
    pub transpose_search: AtomicU8,
    /// The novelty dial, negative when off.
    pub novelty: AtomicF32,
    pub early: AtomicBool,
    pub follow_changes: AtomicBool,
}

impl Default for AnswerControls {
    fn default() -> Self {
        let d = AnswerSettings::default();
        let c = Self {
            listen: AtomicBool::new(true),
            density: AtomicF32::new(0.0),
            continuity: AtomicF32::new(0.0),
            channel: AtomicU8::new(0),
            length_scale: AtomicF32::new(0.0),
            velocity_scale: AtomicF32::new(0.0),
            transpose: AtomicU8::new(0),
            drive: AtomicU8::new(0),
            live_learning: AtomicBool::new(false),
            taboo_s: AtomicF32::new(0.0),
            mode: AtomicU8::new(0),
            grid: AtomicU8::new(quantise::Grid::default().index()),
            swing: AtomicF32::new(0.0),
            transpose_search: AtomicU8::new(0),
            novelty: AtomicF32::new(-1.0),
            early: AtomicBool::new(true),
            follow_changes: AtomicBool::new(true),
        };
        c.store(&d);
        c
    }
}

impl AnswerControls {
    /// Publishes `s`. Real-time safe.
    pub fn store(&self, s: &AnswerSettings) {
        self.listen.store(s.listen, Ordering::Relaxed);
        self.density.set(s.density);
        self.continuity.set(s.continuity);
        self.channel.store(s.channel, Ordering::Relaxed);
        self.length_scale.set(s.length_scale);
        self.velocity_scale.set(s.velocity_scale);
        self.transpose.store(s.transpose as u8, Ordering::Relaxed);
        self.drive.store(
            match s.drive {
                DriveStream::Harmonic => 0,
                DriveStream::Percussive => 1,
                DriveStream::Both => 2,
            },
            Ordering::Relaxed,
        );
        self.live_learning.store(s.live_learning, Ordering::Relaxed);
        self.taboo_s.set(s.taboo_s);
        self.transpose_search
            .store(s.transpose_search, Ordering::Relaxed);
        self.novelty.set(s.novelty.unwrap_or(-1.0));
        self.early.store(s.early, Ordering::Relaxed);
        self.follow_changes
            .store(s.follow_changes, Ordering::Relaxed);
    }

    /// Publishes the timing settings. Real-time safe.
    pub fn store_timing(&self, t: &quantise::TimingSettings) {
        let mode = match t.mode {
            quantise::AnswerMode::Free => 0,
            quantise::AnswerMode::Beat => 1,
            quantise::AnswerMode::Bar => 2,
        };
        self.mode.store(mode, Ordering::Relaxed);
        self.grid.store(t.grid.index(), Ordering::Relaxed);
        self.swing.set(t.swing);
    }

    /// The current timing settings.
    pub fn load_timing(&self) -> quantise::TimingSettings {
        quantise::TimingSettings {
            mode: match self.mode.load(Ordering::Relaxed) {
                1 => quantise::AnswerMode::Beat,
                2 => quantise::AnswerMode::Bar,
                _ => quantise::AnswerMode::Free,
            },
            grid: quantise::Grid::from_index(self.grid.load(Ordering::Relaxed)),
            swing: self.swing.get().clamp(0.0, 1.0),
        }
    }

    /// The current settings.
    pub fn load(&self) -> AnswerSettings {
        AnswerSettings {
            listen: self.listen.load(Ordering::Relaxed),
            density: self.density.get(),
            continuity: self.continuity.get(),
            channel: self.channel.load(Ordering::Relaxed),
            length_scale: self.length_scale.get(),
            velocity_scale: self.velocity_scale.get(),
            transpose: self.transpose.load(Ordering::Relaxed) as i8,
            drive: match self.drive.load(Ordering::Relaxed) {
                1 => DriveStream::Percussive,
                2 => DriveStream::Both,
                _ => DriveStream::Harmonic,
            },
            live_learning: self.live_learning.load(Ordering::Relaxed),
            taboo_s: self.taboo_s.get(),
            transpose_search: self.transpose_search.load(Ordering::Relaxed),
            novelty: Some(self.novelty.get()).filter(|n| *n >= 0.0),
            early: self.early.load(Ordering::Relaxed),
            follow_changes: self.follow_changes.load(Ordering::Relaxed),
        }
    }
}

/// Worker -> GUI report on answering (behind a mutex only the worker and the GUI take).
#[derive(Debug, Clone, Default)]
pub struct EngineStatus {
    /// Corpus name (file name, or the embedded one).
    pub corpus_name: String,
    /// Corpus frames and oracle states.
    pub corpus_frames: usize,
    pub oracle_states: usize,
    /// Vocabulary size (histogram length).
    pub vocab_size: usize,
    /// Last error or note about the corpus, empty when fine.
    pub corpus_message: String,
    /// Latest live tokens (last segment).
    pub harmonic: Vec<u16>,
    pub percussive: Vec<u16>,
    /// Token histograms since the corpus was loaded.
    pub harmonic_hist: Vec<u64>,
    pub percussive_hist: Vec<u64>,
    /// Loudest frame of the last segment, dB.
    pub peak_db: f32,
    /// Interval the transposition search applied to the last answer, semitones.
    pub interval: i8,
}

/// Worker counters (relaxed atomics) for the GUI, tests and the offline render.
#[derive(Debug, Default)]
pub struct EngineCounters {
    /// Segments the worker has taken from the ring (answered or not).
    pub segments_handled: AtomicU64,
    /// Host sample index up to which every completed segment has been handled.
    pub handled_until_sample: AtomicU64,
    /// Segments that produced notes.
    pub segments_answered: AtomicU64,
    /// Segments run through perception (Listen or Live Learning on); the others were skipped.
    pub segments_analysed: AtomicU64,
    /// Early-answer encodes run (an onset after silence, Listen and Onset Reaction on).
    pub early_analyses: AtomicU64,
    /// Notes handed to the audio thread.
    pub notes_sent: AtomicU64,
    /// Notes the queue refused (full).
    pub notes_refused: AtomicU64,
    /// Worker time per segment (perception + navigation), last and worst, microseconds.
    pub last_latency_us: AtomicU64,
    pub max_latency_us: AtomicU64,
    /// Segments that took longer than a segment to process (missed deadline).
    pub deadline_misses: AtomicU64,
    /// Segments whose analysis failed.
    pub errors: AtomicU64,
    /// Segments the ring lost (the worker fell behind), from the assembler's counters.
    pub segments_dropped: AtomicU64,
    /// The latest onset (sample + 1) the worker has decided on for an early answer, answered
    /// or not (offline renders wait for it).
    pub early_decided: AtomicU64,
    /// Early answers given.
    pub early_answers: AtomicU64,
    /// The latest chord check point (sample + 1) the worker has handled, checked or not
    /// (offline renders wait for it).
    pub checked_until: AtomicU64,
    /// Chord checks run (Follow Changes on, the input sounding) and revoices sent (the input
    /// had changed chord).
    pub chord_checks: AtomicU64,
    pub revoices_sent: AtomicU64,
    /// Measured answer delay: the first note of the latest answer after silence, from the
    /// onset (or the segment start) that it answers, microseconds of audio; in beat and bar
    /// mode up to where the note is placed (the wait for the grid or the bar line included).
    pub answer_delay_us: AtomicU64,
}
