//! The answering half of the worker: a live segment in, a timed MIDI phrase out.
//!
//! ```text
//! segment (host rate, 350 ms)
//!   -> Perception::process_segment          (the trainer's path, the corpus' configuration)
//!   -> Vocabulary::tokens                    (the corpus' centroids, both streams)
//!   -> live events: the frames cut at the live onsets (and every MAX_EVENT_S), each labelled
//!      by its frames' most frequent tokens, as the trainer labels the corpus' events
//!   -> the walk: where a corpus event ends, one step on the event oracle (the next event with
//!      the continuity, else the event whose preceding events match the live events and whose
//!      harmony fits the input's, none played within the taboo time); inside an event, frame
//!      by frame
//!   -> the corpus notes that start in the walked frames, with their own lengths (at most
//!      MAX_EVENT_S), and those still sounding where the walk jumped in
//!   -> transposition search: the interval that puts them into the input's key and chord
//!      (kept while the walk goes on quoting unless another fits much better)
//!   -> voicing: the notes that clash with the input's chord left out, each step's best kept
//!   -> live-learned frames (no notes): their pitch runs, as before notes
//!
//! An early reaction to an onset walks the same way from the partial segment, starting a
//! corpus event at once, voiced to the chord the onset starts, in the interval in use.
//! ```
//!
//! Events: a corpus event runs from one note onset of its recording to the next; a held
//! stretch without an onset is cut every [`MAX_EVENT_S`] (the held notes re-enter there). The
//! trainer stores them, their labels and the oracle over them in the corpus
//! ([`crate::corpus::CorpusEvent`]). Continuity, taboo and the novelty dial count events, not
//! frames: at 80 % the answer quotes about five events of one passage before it jumps. Only a
//! novelty setting whose runs are shorter than an event, and a walk inside a live-learned event
//! not yet cut, decide frame by frame on the frame oracle.
//!
//! Timing: the phrase answering the segment `[s, s + L)` walks the frames of
//! `[s + L + m, s + 2L + m)` on the same sample clock, where `m` is [`ANSWER_MARGIN_S`] (room
//! for the worker to finish before the first note is due); its notes start there and may
//! sound into the next phrases. The answer follows the input by one segment plus the margin.
//!
//! Plain library code, allocating (worker thread only); deterministic for a given seed,
//! corpus, input and settings.

use std::collections::VecDeque;

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg32;

pub use crate::corpus::MAX_EVENT_S;
use crate::corpus::{event_label, filed_notes, CorpusModel, EventStart};
use crate::oracle::{DriveStream, Improviser, Oracle, Symbol, MAX_QUERY_LEN};
use crate::perception::{FramePayload, FramePitches, Perception, Vocabulary};
use crate::rt::NoteEvent;

use super::provenance::{Provenance, QuoteMark};
use super::transpose::{
    add_chroma, best_fit_interval, chord_behind, chord_cosine, event_chords, recording_chroma,
    CHORD_FIT_WEIGHT, CHORD_MEMORY_S, CONTEXT_FIT_WEIGHT, INTERVAL_HYSTERESIS, KEY_MEMORY_S,
    MAX_DOWN, MAX_UP, QUOTE_INTERVAL_HYSTERESIS,
};

/// Time between the end of an input segment and the start of its answer, seconds.
pub const ANSWER_MARGIN_S: f64 = 0.03;
/// Share of the live chord profile an input onset keeps: the chord before an onset is mostly
/// the chord the input has just left.
pub const ONSET_CHORD_CARRY: f32 = 0.1;
/// Audio after an onset that the early answer listens to before it answers, seconds (about
/// four encoder frames).
pub const EARLY_LISTEN_S: f64 = 0.06;
/// Silence appended to an early encode so the front end's look-ahead emits every frame of it.
const EARLY_FLUSH_S: f64 = 0.25;
/// Navigations tried for an early phrase before giving up on it (see `answer_early`).
const EARLY_ATTEMPTS: usize = 16;
/// Of those, the first ones guided by the whole query; the others by its last symbol.
const EARLY_FULL_QUERY_ATTEMPTS: usize = 4;
/// An early phrase is prompt when its first note starts within this of the phrase, seconds
/// (about three frames).
const EARLY_PROMPT_S: f64 = 0.04;
/// The chord the input holds now is heard over the last this much of it, seconds, when a
/// decided phrase is checked against it ([`Answerer::chord_now`]): the STFT frames whose
/// 85-ms window lies inside it (three at 75 frames a second).
pub const CHORD_NOW_S: f64 = 0.12;
/// Audio before that window that [`Answerer::chord_now`] reads, so the resampler has settled
/// and the STFT's first window is whole, seconds.
const CHORD_NOW_LOOKBACK_S: f64 = 0.15;
/// A segment whose loudest frame is below this (dB) is silence: no answer.
pub const SILENCE_GATE_DB: f32 = -55.0;
/// Notes shorter than this many frames are not played (pitch-tracker flicker).
pub const MIN_NOTE_FRAMES: usize = 3;
/// Live frames kept for live learning (30 min at 75 frames/s); older ones stop being added.
pub const MAX_LIVE_FRAMES: usize = 75 * 60 * 30;

/// How the answer is shaped; the plugin's parameters, read once per segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnswerSettings {
    /// Answer at all.
    pub listen: bool,
    /// Share of the quoted corpus notes that are played (0..=1), thinning the texture before
    /// the rhythm (`thin_to_density`); for live-learned frames, each note's probability.
    pub density: f32,
    /// Probability of continuing linearly in the corpus (0..=1).
    pub continuity: f32,
    /// MIDI channel, 0..=15.
    pub channel: u8,
    /// Note length multiplier.
    pub length_scale: f32,
    /// Velocity multiplier.
    pub velocity_scale: f32,
    /// Semitones added to every note.
    pub transpose: i8,
    /// Token stream(s) that drive the oracle.
    pub drive: DriveStream,
    /// Append the live frames to the oracle.
    pub live_learning: bool,
    /// Seconds during which a state already played is not chosen again, unless nothing else
    /// matches (0 = off).
    pub taboo_s: f32,
    /// Transposition search range in semitones (0 = off): the live harmony is also matched
    /// against the corpus moved by -min(r, 5)..=+min(r, 6) semitones and the answer follows the
    /// best interval ([`super::transpose`]).
    pub transpose_search: u8,
    /// The novelty dial (0..=1), when in use: sets the continuity from the corpus' own repeat
    /// structure ([`Answerer::continuity_for_novelty`]) instead of `continuity`.
    pub novelty: Option<f32>,
    /// Answer a transient after silence early, from the part of its segment that has arrived
    /// ([`Answerer::answer_early`]), instead of a whole segment later.
    pub early: bool,
    /// Follow chord changes: when the input changes chord under a phrase already decided, its
    /// notes still to come that clash with the new chord are left out ([`Answerer::chord_now`],
    /// `crate::rt::Revoice`).
    pub follow_changes: bool,
}

impl Default for AnswerSettings {
    fn default() -> Self {
        Self {
            listen: true,
            density: 1.0,
            continuity: 0.8,
            channel: 0,
            length_scale: 1.0,
            velocity_scale: 1.0,
            transpose: 0,
            drive: DriveStream::Harmonic,
            live_learning: false,
            taboo_s: 2.0,
            transpose_search: 0,
            novelty: None,
            early: true,
            follow_changes: true,
        }
    }
}

/// Why a corpus cannot be used for answering.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// The corpus' vectors and the encoder its configuration names disagree in dimension.
    #[error("the corpus' vectors have {corpus} dimensions, its encoder {encoder}")]
    DimensionMismatch { corpus: u32, encoder: usize },
    /// The corpus is invalid, or its encoder configuration is not one this build reads.
    #[error(transparent)]
    Corpus(#[from] crate::corpus::CorpusError),
    /// Its encoder cannot be built (unknown id, model missing), or a segment's analysis failed.
    #[error(transparent)]
    Perception(#[from] crate::perception::PerceptionError),
}

/// What one segment gave, for the GUI and tests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SegmentAnswer {
    /// Harmonic tokens of the live frames.
    pub harmonic: Vec<u16>,
    /// Percussive tokens of the live frames.
    pub percussive: Vec<u16>,
    /// Loudest live frame, dB.
    pub peak_db: f32,
    /// Notes sent.
    pub notes: usize,
    /// Oracle states visited (one per answer frame).
    pub states: Vec<usize>,
    /// Interval found by the transposition search and applied (0 when off or none).
    pub interval: i8,
    /// Labels (harmonic, percussive) of the live event the event query ends with: the one
    /// being heard, else the last one cut; `None` before any.
    pub live_event: Option<(u16, u16)>,
}

/// What [`Answerer::phrase`] produced.
struct Phrase {
    notes: usize,
    states: Vec<usize>,
    /// Interval applied to the first quoted corpus frame's recording.
    interval: i8,
}

/// A corpus note, filed under the frame its onset falls in.
#[derive(Clone, Copy, Debug)]
struct FrameNote {
    /// Onset after the start of its frame, seconds.
    offset_s: f64,
    /// Length, seconds.
    duration_s: f64,
    pitch: u8,
    /// MIDI velocity 1..=127.
    velocity: u8,
}

/// Per-frame payload of a state: a corpus frame or a live-learned one.
#[derive(Clone, Copy)]
struct Played {
    pitches: FramePitches,
    loudness_db: f32,
    onset: bool,
}

impl Played {
    fn pitches(&self) -> &[u8] {
        self.pitches.as_slice()
    }
}

/// The answering state of one corpus: its perception front end, vocabulary, oracle and the
/// live context.
pub struct Answerer {
    corpus_frames: Vec<Played>,
    /// The corpus' notes by the frame their onset falls in: `note_index[i]..note_index[i + 1]`
    /// of `frame_notes` start in corpus frame `i`.
    frame_notes: Vec<FrameNote>,
    note_index: Vec<u32>,
    /// Which frames (corpus, then live-learned) start an event ([`EVENT_ONSET`]: a note
    /// starts there or its recording does, or a live onset; [`EVENT_SPLIT`]: a held stretch
    /// reached [`MAX_EVENT_S`]; 0: none): where the walk may jump.
    event_start: Vec<u8>,
    /// The event each frame (corpus, then live-learned) belongs to.
    frame_event: Vec<u32>,
    /// First frame of each event (corpus, then live-learned): event `e` is state `e + 1` of
    /// `events`.
    event_first: Vec<u32>,
    /// Labels (harmonic, percussive) of each event, to rebuild the event oracle for another
    /// driving stream.
    event_labels: Vec<(u16, u16)>,
    /// The oracle over the events with its navigator: where the walk jumps.
    events: Improviser,
    /// Labels of the live events heard (cut by the live onsets), newest last: the event query.
    event_query: VecDeque<Symbol>,
    /// Tokens of the live event being heard (not yet cut).
    open_event: Vec<(u16, u16)>,
    /// Labels of the last live event cut.
    last_event: Option<(u16, u16)>,
    /// First frame of the open live event when its frames are being learned.
    open_learned: Option<u32>,
    /// Frames per [`MAX_EVENT_S`]: a live event without an onset is cut this long.
    max_event_frames: usize,
    /// Mean frames per corpus event.
    frames_per_event: f64,
    /// Each recording's notes (sorted), for the notes still sounding where a jump lands.
    recording_notes: Vec<Vec<crate::notes::NoteEvent>>,
    /// Start of each corpus frame in its recording, seconds.
    frame_time_s: Vec<f64>,
    live_frames: Vec<Played>,
    harmonic_tokens: Vec<u16>,
    percussive_tokens: Vec<u16>,
    perception: Perception,
    vocab: Vocabulary,
    improviser: Improviser,
    drive: DriveStream,
    query: VecDeque<Symbol>,
    rng: Pcg32,
    frames_per_s: f64,
    /// Host sample at which each oracle state was last played (`u64::MAX`: never), one entry
    /// per oracle state: the taboo's memory. Sized to the oracle in [`Self::new`] and grown by
    /// live learning, so a phrase only writes into it.
    last_played: Vec<u64>,
    /// Recording (source index) of each corpus frame.
    frame_source: Vec<u16>,
    /// Interval the transposition search chose for the previous phrase.
    last_interval: i8,
    /// Each recording's pitch-class profile (its frames' chroma summed): its key.
    recording_chroma: Vec<[f32; 12]>,
    /// The live input's pitch-class profile, a sum decaying with [`KEY_MEMORY_S`].
    live_key: [f32; 12],
    /// The chord the input holds now: its pitch-class profile decaying with
    /// [`CHORD_MEMORY_S`], cut to [`ONSET_CHORD_CARRY`] at each live onset.
    live_chord: [f32; 12],
    /// Per corpus frame: the unit pitch-class profile of the [`CHORD_CONTEXT_S`] of its
    /// recording before it (the harmony a quote from there follows).
    chord_behind: Vec<[f32; 12]>,
    /// Per event (corpus, then live-learned: none), the chord its notes sound from its start.
    event_chord: Vec<[f32; 12]>,
    /// The live onset detector and rate ([`OnsetRate`]).
    live_onsets: OnsetRate,
    /// The corpus' note onsets per second (onsets within 50 ms are one).
    corpus_onset_rate: f64,
    /// Share of the quoted events of the next phrase that play: the input's onset rate against
    /// the corpus' ([`DENSITY_FOLLOW`]), in whole quotes ([`QuoteGate`]).
    follow: f32,
    /// The running credit of [`Self::follow`] and whether the quote being walked plays
    /// ([`QuoteGate`]).
    gate: QuoteGate,
    /// An early answer is being made: its first event is not thinned by `follow`.
    react: bool,
    /// Mean length (frames) of the blocks of the corpus oracle's compror parse.
    typical_run: f64,
    /// The early answers' own front end (never continues a stream).
    early_perception: Perception,
    /// Early encodes so far.
    early_calls: u64,
    /// The audio [`Self::chord_now`] reads (reused buffer).
    chord_audio: Vec<f32>,
    /// (state, its previous play time) for each step of the latest phrase, so an early phrase
    /// that is not kept can be undone.
    played_log: Vec<(usize, u64)>,
    /// The navigator's state before an early answer's attempts, each of which starts there.
    early_start_state: usize,
    /// The state the last phrase first jumped to (`None` when it only went on).
    first_jump: Option<usize>,
    /// Per early attempt that was not prompt, the state it first jumped to: taboo for the
    /// attempts after it.
    early_tried: Vec<Option<usize>>,
    /// Where the quoted notes come from, when asked for ([`Self::keep_provenance`]).
    provenance: Option<Provenance>,
}

impl Answerer {
    /// Prepares `corpus` for answering (validated model; its encoder must exist in this build).
    pub fn new(corpus: &CorpusModel, seed: u64) -> Result<Self, AnswerError> {
        let cfg = corpus.encoder_config()?;
        let perception = cfg.build()?;
        if perception.dim() != corpus.dim as usize {
            return Err(AnswerError::DimensionMismatch {
                corpus: corpus.dim,
                encoder: perception.dim(),
            });
        }
        let vocab = corpus.vocabulary();
        let (harmonic_tokens, percussive_tokens) = corpus.token_streams()?;
        let corpus_frames = corpus
            .frames
            .iter()
            .map(|f| Played {
                pitches: f.pitches,
                loudness_db: f.loudness_db,
                onset: f.onset,
            })
            .collect();
        let (frame_notes, note_index) = file_notes_by_frame(corpus);
        let (event_start, frame_event) = frame_events(corpus);
        let frames_per_event =
            (corpus.frames.len() as f64 / corpus.events.len().max(1) as f64).max(1.0);
        let drive = corpus.oracle.drive;
        let oracle = corpus.oracle()?;
        let event_oracle = corpus.event_oracle()?;
        let typical_run = typical_run(&oracle);
        let last_played = vec![NEVER_PLAYED; oracle.num_states()];
        let early_perception = cfg.build()?;
        Ok(Self {
            typical_run,
            played_log: Vec::with_capacity(256),
            early_start_state: 0,
            first_jump: None,
            early_tried: Vec::with_capacity(EARLY_ATTEMPTS),
            early_perception,
            early_calls: 0,
            chord_audio: Vec::new(),
            corpus_frames,
            frame_notes,
            note_index,
            event_start,
            frame_event,
            event_first: corpus.events.iter().map(|e| e.first_frame).collect(),
            event_labels: corpus
                .events
                .iter()
                .map(|e| (e.harmonic_label, e.percussive_label))
                .collect(),
            events: Improviser::new(event_oracle, 0.8),
            event_query: VecDeque::with_capacity(MAX_QUERY_LEN),
            open_event: Vec::new(),
            open_learned: None,
            last_event: None,
            max_event_frames: (MAX_EVENT_S * f64::from(corpus.frames_per_s))
                .round()
                .max(1.0) as usize,
            frames_per_event,
            recording_notes: corpus.recordings.iter().map(|r| r.notes.clone()).collect(),
            frame_time_s: corpus.frames.iter().map(|f| f64::from(f.time_s)).collect(),
            live_frames: Vec::new(),
            harmonic_tokens,
            percussive_tokens,
            perception,
            vocab,
            improviser: Improviser::new(oracle, 0.8),
            drive,
            query: VecDeque::with_capacity(MAX_QUERY_LEN),
            rng: Pcg32::seed_from_u64(seed),
            frames_per_s: corpus.frames_per_s as f64,
            last_played,
            frame_source: corpus.frames.iter().map(|f| f.source_idx).collect(),
            last_interval: 0,
            recording_chroma: recording_chroma(corpus),
            live_key: [0.0; 12],
            live_chord: [0.0; 12],
            chord_behind: chord_behind(corpus),
            event_chord: event_chords(corpus),
            live_onsets: OnsetRate::new(corpus.frames_per_s as f64),
            corpus_onset_rate: corpus_onset_rate(corpus),
            follow: 1.0,
            gate: QuoteGate::default(),
            react: false,
            provenance: None,
        })
    }

    /// From now on, writes a [`QuoteMark`] line to `sink` for each quoted note the answer
    /// sends (after each [`Self::answer`] and [`Self::answer_early`]). A sink that fails is
    /// dropped with a warning; the answer goes on.
    pub fn keep_provenance(&mut self, sink: Box<dyn std::io::Write + Send>) {
        self.provenance = Some(Provenance::new(sink));
    }

    fn write_provenance(&mut self) {
        if let Some(Err(e)) = self.provenance.as_mut().map(Provenance::write_pending) {
            nice_plug::nice_warn!("provenance not written, no longer recorded: {e}");
            self.provenance = None;
        }
    }

    /// The corpus' typical run: frames per block of its oracle's compror parse (the
    /// Lempel-Ziv-like parse behind the information rate,
    /// [`crate::oracle::information_rate`]), i.e. how long the corpus' repeated passages are
    /// on average. The novelty dial's middle.
    pub fn typical_run(&self) -> f64 {
        self.typical_run
    }

    /// The continuity that the novelty dial's value `novelty` (0..=1) means on this corpus:
    /// the expected run between jumps is 16 typical runs at 0, one typical run at 0.5 and a
    /// single frame at 1 (log-linear in between), so the middle means "replay about as long as
    /// this corpus repeats itself" on any corpus.
    pub fn continuity_for_novelty(&self, novelty: f32) -> f32 {
        let n = f64::from(novelty.clamp(0.0, 1.0));
        let t = self.typical_run.ln();
        let ln_run = if n <= 0.5 {
            (16.0f64.ln() + t) * (1.0 - 2.0 * n) + t * 2.0 * n
        } else {
            t * (2.0 - 2.0 * n)
        };
        (1.0 - 1.0 / ln_run.exp().max(1.0)) as f32
    }

    /// Mean frames per corpus event (onset to onset, held stretches cut at [`MAX_EVENT_S`]).
    pub fn frames_per_event(&self) -> f64 {
        self.frames_per_event
    }

    /// Frames in the corpus.
    pub fn corpus_frames(&self) -> usize {
        self.corpus_frames.len()
    }

    /// Oracle states (corpus plus live-learned frames, plus the initial state).
    pub fn oracle_states(&self) -> usize {
        self.improviser.oracle().num_states()
    }

    /// Event oracle states (corpus plus live-learned events, plus the initial state).
    pub fn event_states(&self) -> usize {
        self.events.oracle().num_states()
    }

    /// The driving stream in use.
    pub fn drive(&self) -> DriveStream {
        self.drive
    }

    /// Rebuilds the oracle for another driving stream (live-learned frames are kept).
    fn set_drive(&mut self, drive: DriveStream) {
        if drive == self.drive {
            return;
        }
        let oracle = Oracle::from_tokens(drive, &self.harmonic_tokens, &self.percussive_tokens);
        let mut improviser = Improviser::new(oracle, self.improviser.navigator_mut().continuity());
        let corpus_len = self.corpus_frames.len();
        for i in 0..self.live_frames.len() {
            let (h, p) = (
                self.harmonic_tokens[corpus_len + i],
                self.percussive_tokens[corpus_len + i],
            );
            if improviser
                .append(drive.symbol(h, p), (corpus_len + i) as u32)
                .is_err()
            {
                break;
            }
        }
        self.improviser = improviser;
        let (h, p): (Vec<u16>, Vec<u16>) = self.event_labels.iter().copied().unzip();
        self.events = Improviser::new(Oracle::from_tokens(drive, &h, &p), 0.8);
        self.drive = drive;
        self.query.clear();
        self.event_query.clear();
        // Forget what was played: the states are renumbered by the new oracle.
        self.last_played.clear();
        self.last_played
            .resize(self.improviser.oracle().num_states(), NEVER_PLAYED);
    }

    /// Forgets the live context, the query of recent symbols (the key profile decays on its own):
    /// segments went unheard (nothing needed their analysis), so what is heard next does not
    /// continue what was heard before. Perception starts a new stream by itself at the gap in
    /// sample positions.
    pub fn pause(&mut self) {
        self.close_event();
        self.query.clear();
        self.event_query.clear();
    }

    /// One live frame's part in the live events: the frame's tokens `(h, p)`, whether the
    /// live onset detector fired on it, and its frame index when it was learned. A live event
    /// is cut at an onset and after [`MAX_EVENT_S`] without one (and where learning starts);
    /// closing an event adds its label to the event query, and a learned event to the event
    /// oracle.
    fn hear_event_frame(&mut self, h: u16, p: u16, onset: bool, learned: Option<u32>) {
        let open = !self.open_event.is_empty();
        let split = open && self.open_event.len() >= self.max_event_frames;
        let cut = !open || onset || split || (learned.is_some() && self.open_learned.is_none());
        if cut {
            self.close_event();
            self.open_learned = learned;
        }
        self.open_event.push((h, p));
        if learned.is_some() {
            self.event_start.push(match (cut, split && !onset) {
                (false, _) => 0,
                (true, true) => EVENT_SPLIT,
                (true, false) => EVENT_ONSET,
            });
            self.frame_event.push(self.event_first.len() as u32);
        }
    }

    /// Cuts the open live event (see [`Self::hear_event_frame`]).
    fn close_event(&mut self) {
        let Some((h, p)) = self.open_label() else {
            return;
        };
        self.open_event.clear();
        self.last_event = Some((h, p));
        if self.event_query.len() == MAX_QUERY_LEN {
            self.event_query.pop_front();
        }
        let symbol = self.drive.symbol(h, p);
        self.event_query.push_back(symbol);
        if let Some(first) = self.open_learned.take() {
            let index = self.event_first.len() as u32;
            if self.events.append(symbol, index).is_ok() {
                self.event_first.push(first);
                self.event_labels.push((h, p));
            }
        }
    }

    /// The labels of the open live event so far, `None` when none is open.
    fn open_label(&self) -> Option<(u16, u16)> {
        let h: Vec<u16> = self.open_event.iter().map(|t| t.0).collect();
        let p: Vec<u16> = self.open_event.iter().map(|t| t.1).collect();
        Some((event_label(&h)?, event_label(&p)?))
    }

    /// The event query: the closed live events' labels and the open one's so far.
    fn event_symbols(&self) -> Vec<Symbol> {
        let mut q: Vec<Symbol> = self.event_query.iter().copied().collect();
        if let Some((h, p)) = self.open_label() {
            q.push(self.drive.symbol(h, p));
        }
        q
    }

    /// Answers one segment of mono host-rate audio starting at `start_sample`: appends the
    /// phrase's notes to `out` (sorted by start) and reports what it heard.
    pub fn answer(
        &mut self,
        samples: &[f32],
        start_sample: u64,
        host_rate_hz: u32,
        settings: &AnswerSettings,
        out: &mut Vec<NoteEvent>,
    ) -> Result<SegmentAnswer, AnswerError> {
        let answer = self.hear(samples, start_sample, host_rate_hz, settings, Some(out));
        self.write_provenance();
        answer
    }

    /// Hears one segment as [`Self::answer`] does (tokens, query, live learning) without
    /// answering it: for a segment whose answer an early answer already gave, so the oracle
    /// walk and the taboo's memory go on from the phrase that was actually played.
    pub fn listen(
        &mut self,
        samples: &[f32],
        start_sample: u64,
        host_rate_hz: u32,
        settings: &AnswerSettings,
    ) -> Result<SegmentAnswer, AnswerError> {
        self.hear(samples, start_sample, host_rate_hz, settings, None)
    }

    fn hear(
        &mut self,
        samples: &[f32],
        start_sample: u64,
        host_rate_hz: u32,
        settings: &AnswerSettings,
        out: Option<&mut Vec<NoteEvent>>,
    ) -> Result<SegmentAnswer, AnswerError> {
        self.set_drive(settings.drive);
        let seg = self
            .perception
            .process_segment(samples, host_rate_hz, start_sample)?;
        let tokens = self.vocab.tokens(&seg)?;
        let peak_db = seg
            .payload
            .iter()
            .map(|p| p.loudness_db)
            .fold(crate::perception::payload::SILENCE_DB, f32::max);
        for i in 0..seg.n_frames {
            let (h, p) = (tokens.harmonic[i], tokens.percussive[i]);
            let symbol = self.drive.symbol(h, p);
            if self.query.len() == MAX_QUERY_LEN {
                self.query.pop_front();
            }
            self.query.push_back(symbol);
            let decay = (-1.0 / (KEY_MEMORY_S * self.frames_per_s)).exp() as f32;
            let chord_decay = (-1.0 / (CHORD_MEMORY_S * self.frames_per_s)).exp() as f32;
            // An onset starts the chord the input now holds: what sounded before it mostly
            // goes, so a change heard late in the segment is not outweighed by the chord it
            // left (a repeated chord loses nothing: its profile is the same).
            let onset = self.live_onsets.push(&seg.payload[i]);
            if onset {
                for ch in &mut self.live_chord {
                    *ch *= ONSET_CHORD_CARRY;
                }
            }
            for ((k, ch), c) in self
                .live_key
                .iter_mut()
                .zip(self.live_chord.iter_mut())
                .zip(seg.payload[i].chroma)
            {
                let c = if c.is_finite() { c.max(0.0) } else { 0.0 };
                *k = *k * decay + c;
                *ch = *ch * chord_decay + c;
            }
            let learned = (settings.live_learning && self.live_frames.len() < MAX_LIVE_FRAMES)
                .then(|| self.learn(h, p, &seg.payload[i]))
                .flatten();
            self.hear_event_frame(h, p, onset, learned);
        }
        // A sparse input gets a sparse answer: quoted events are thinned so the answer starts
        // at most DENSITY_FOLLOW times as many onsets as the input.
        self.follow = match self.live_onsets.per_s() {
            Some(live) if self.corpus_onset_rate > 0.0 => {
                (DENSITY_FOLLOW * live / self.corpus_onset_rate).clamp(MIN_FOLLOW, 1.0) as f32
            }
            _ => 1.0,
        };

        let mut answer = SegmentAnswer {
            harmonic: tokens.harmonic,
            percussive: tokens.percussive,
            peak_db,
            notes: 0,
            states: Vec::new(),
            interval: 0,
            live_event: self.open_label().or(self.last_event),
        };
        let Some(out) = out else {
            return Ok(answer);
        };
        if !settings.listen || peak_db < SILENCE_GATE_DB || self.query.is_empty() {
            return Ok(answer);
        }

        // The phrase: one oracle state per corpus frame, covering one segment.
        let seg_len = samples.len() as f64;
        let frame_len = host_rate_hz as f64 / self.frames_per_s;
        let base = start_sample as f64 + seg_len + (ANSWER_MARGIN_S * host_rate_hz as f64).round();
        let n_frames = (seg_len / frame_len).round().max(1.0) as usize;
        let query: Vec<Symbol> = self.query.iter().copied().collect();
        let event_query = self.event_symbols();
        let phrase = self.phrase(
            &query,
            &event_query,
            n_frames,
            base,
            frame_len,
            IntervalChoice::of(settings.transpose_search),
            settings,
            out,
        );
        answer.interval = phrase.interval;
        answer.notes = phrase.notes;
        answer.states = phrase.states;
        Ok(answer)
    }

    /// The early answer to a transient: encodes the `partial` segment (the samples of the
    /// current segment that have arrived, with `context`, the previous segment's samples, in
    /// front so the HPSS filters have their look-back) with a perception front end of its own,
    /// so the segment stream's state (and the tokens of the full segment later, which must
    /// equal the trainer's) is untouched. Its tokens extend a copy of the live query; the phrase
    /// covers `[from_sample, until_sample)`, the time before the full segment's own answer.
    /// Returns the number of notes appended to `out`.
    #[allow(clippy::too_many_arguments)]
    pub fn answer_early(
        &mut self,
        context: &[f32],
        partial: &[f32],
        host_rate_hz: u32,
        settings: &AnswerSettings,
        from_sample: u64,
        until_sample: u64,
        out: &mut Vec<NoteEvent>,
    ) -> Result<usize, AnswerError> {
        let frame_len = host_rate_hz as f64 / self.frames_per_s;
        if !settings.listen
            || partial.is_empty()
            || until_sample as f64 <= from_sample as f64 + frame_len * MIN_NOTE_FRAMES as f64
        {
            return Ok(0);
        }
        self.set_drive(settings.drive);
        // The front end's STFT and median filters look ahead, so its frames lag the input:
        // silence after the partial flushes the frames that cover it (the look-ahead then sees
        // silence, an approximation only the early answer makes).
        let flush = (EARLY_FLUSH_S * host_rate_hz as f64).round() as usize;
        let mut audio = Vec::with_capacity(context.len() + partial.len() + flush);
        audio.extend_from_slice(context);
        audio.extend_from_slice(partial);
        audio.resize(audio.len() + flush, 0.0);
        // A start that never continues the previous call: every early encode is a new stream.
        self.early_calls += 1;
        let start = (1u64 << 62) + self.early_calls * (1u64 << 32);
        let seg = self
            .early_perception
            .process_segment(&audio, host_rate_hz, start)?;
        let tokens = self.vocab.tokens(&seg)?;
        // Frame k of a new stream starts at sample k * frame_len: the partial's frames.
        let first = ((context.len() as f64 / frame_len).round() as usize).min(seg.n_frames);
        let end = (((context.len() + partial.len()) as f64 / frame_len).round() as usize)
            .min(seg.n_frames);
        let peak_db = seg.payload[first..end]
            .iter()
            .map(|p| p.loudness_db)
            .fold(crate::perception::payload::SILENCE_DB, f32::max);
        if end == first || peak_db < SILENCE_GATE_DB {
            return Ok(0);
        }
        let mut query: Vec<Symbol> = self.query.iter().copied().collect();
        for i in first..end {
            query.push(self.drive.symbol(tokens.harmonic[i], tokens.percussive[i]));
        }
        let keep = query.len().saturating_sub(MAX_QUERY_LEN);
        // The transient starts a live event of its own: the partial's frames are its tokens.
        let mut event_query = self.event_symbols();
        let h: Vec<u16> = tokens.harmonic[first..end].to_vec();
        let p: Vec<u16> = tokens.percussive[first..end].to_vec();
        if let (Some(h), Some(p)) = (event_label(&h), event_label(&p)) {
            event_query.push(self.drive.symbol(h, p));
        }
        let n_frames = ((until_sample - from_sample) as f64 / frame_len)
            .floor()
            .max(1.0) as usize;
        // A reaction that says nothing, or says it late, is no reaction. A path whose first
        // note starts more than EARLY_PROMPT_S into the phrase (its frames hold no pitch long
        // enough at first, or Density thinned the note away) is undone, play times and all, and
        // the navigation tried again, up to EARLY_ATTEMPTS times; if none is prompt, the
        // attempt with the earliest first note is replayed. Density 0 still answers nothing.
        // Every attempt draws from the one seeded generator, so a render repeats exactly.
        let before = out.len();
        // The reaction answers the chord the transient starts: the partial's chroma stands
        // for the input's chord while the reaction is chosen and voiced (the full segment
        // then updates the live chord as always).
        let mut chord = [0.0f32; 12];
        for f in &seg.payload[first..end] {
            add_chroma(&mut chord, &f.chroma);
        }
        let heard_chord = self.live_chord;
        if chord.iter().any(|&c| c > 0.0) {
            self.live_chord = chord;
        }
        // A reaction to a transient: its first event always plays (the rest follow the
        // input's density).
        self.react = true;
        let result = self.answer_early_attempts(
            &query[keep..],
            &event_query,
            n_frames,
            from_sample,
            frame_len,
            host_rate_hz,
            settings,
            before,
            out,
        );
        self.react = false;
        self.live_chord = heard_chord;
        self.write_provenance();
        result
    }

    /// The chord the input holds now: the pitch-class energy of the last [`CHORD_NOW_S`] of
    /// `context` followed by `heard` (the samples that have arrived), from the unseparated
    /// spectrum ([`Perception::mixture_chroma`], the early answer's front end, a new stream),
    /// with up to [`CHORD_NOW_LOOKBACK_S`] before it for the resampler and the STFT window.
    /// `None` when that window is silent or too short, or Listen is off. Touches neither the
    /// live query nor the random draws.
    pub fn chord_now(
        &mut self,
        context: &[f32],
        heard: &[f32],
        host_rate_hz: u32,
        settings: &AnswerSettings,
    ) -> Result<Option<[f32; 12]>, AnswerError> {
        let rate = host_rate_hz as f64;
        let window = (CHORD_NOW_S * rate).round() as usize;
        let want = window + (CHORD_NOW_LOOKBACK_S * rate).round() as usize;
        if !settings.listen || heard.len() + context.len() < window {
            return Ok(None);
        }
        let heard = &heard[heard.len().saturating_sub(want)..];
        let context = &context[context.len().saturating_sub(want - heard.len())..];
        self.chord_audio.clear();
        self.chord_audio.extend_from_slice(context);
        self.chord_audio.extend_from_slice(heard);
        let heard =
            self.early_perception
                .mixture_chroma(&self.chord_audio, host_rate_hz, window)?;
        Ok(heard
            .filter(|(chord, peak_db)| {
                *peak_db >= SILENCE_GATE_DB && chord.iter().any(|&c| c > 0.0)
            })
            .map(|(chord, _)| chord))
    }

    /// The pitch classes of `chord` ([`chord_classes`]) when one of them did not sound in the
    /// chord the phrases decided so far were voiced to (the live chord): the input has changed
    /// chord. `None` when nothing new sounds (the same chord, or fewer of its tones), or the
    /// live chord is silent.
    pub fn changed_classes(&self, chord: &[f32; 12]) -> Option<u16> {
        let before = chord_classes(&self.live_chord);
        let now = chord_classes(chord);
        (before != ALL_CLASSES && now & !before != 0).then_some(now)
    }

    #[allow(clippy::too_many_arguments)]
    fn answer_early_attempts(
        &mut self,
        query: &[Symbol],
        event_query: &[Symbol],
        n_frames: usize,
        from_sample: u64,
        frame_len: f64,
        host_rate_hz: u32,
        settings: &AnswerSettings,
        before: usize,
        out: &mut Vec<NoteEvent>,
    ) -> Result<usize, AnswerError> {
        self.early_start_state = self.improviser.navigator_mut().state();
        // Each attempt (and the replay of the best) thins from the same gate.
        let gate_before = self.gate;
        let marks_before = self.provenance.as_ref().map_or(0, |p| p.marks.len());
        let prompt = from_sample + (EARLY_PROMPT_S * host_rate_hz as f64).round() as u64;
        // The state each attempt that was not prompt first jumped to is taboo for the
        // attempts after it (a jump weighing harmony lands on the same event again and again
        // otherwise).
        self.early_tried.clear();
        // (first note's start, attempt, the generator before it)
        let mut best: Option<(u64, usize, Pcg32)> = None;
        let run = |this: &mut Self, attempt: usize, out: &mut Vec<NoteEvent>| {
            this.early_attempt(
                attempt,
                (query, event_query),
                n_frames,
                from_sample,
                frame_len,
                settings,
                out,
            )
        };
        for attempt in 0..EARLY_ATTEMPTS {
            let rng_before = self.rng.clone();
            self.gate = gate_before;
            let phrase = run(self, attempt, out);
            let first = out[before..].iter().map(|e| e.start_sample).min();
            if let Some(first) = first {
                if first <= prompt {
                    self.early_tried.clear();
                    return Ok(phrase);
                }
                if best.as_ref().is_none_or(|b| first < b.0) {
                    best = Some((first, attempt, rng_before));
                }
            }
            out.truncate(before);
            if let Some(p) = self.provenance.as_mut() {
                p.marks.truncate(marks_before);
            }
            // Newest first, so a state visited twice gets back its time from before both.
            for &(state, was) in self.played_log.iter().rev() {
                if let Some(t) = self.last_played.get_mut(state) {
                    *t = was;
                }
            }
            self.early_tried.push(self.first_jump);
        }
        let Some((_, attempt, rng)) = best else {
            self.early_tried.clear();
            self.gate = gate_before;
            return Ok(0);
        };
        // The attempt replayed as it was drawn: with the landings of the attempts before it.
        self.early_tried.truncate(attempt);
        self.rng = rng;
        self.gate = gate_before;
        let notes = run(self, attempt, out);
        self.early_tried.clear();
        Ok(notes)
    }

    /// One navigation of an early phrase from the navigator's state before the first attempt:
    /// guided by the whole `query` for the first EARLY_FULL_QUERY_ATTEMPTS, then by its last
    /// symbol alone (the longest match may be one passage without a held pitch, a drum fill;
    /// any state that follows the sound just heard may start the phrase). Notes appended.
    #[allow(clippy::too_many_arguments)]
    fn early_attempt(
        &mut self,
        attempt: usize,
        (query, event_query): (&[Symbol], &[Symbol]),
        n_frames: usize,
        from_sample: u64,
        frame_len: f64,
        settings: &AnswerSettings,
        out: &mut Vec<NoteEvent>,
    ) -> usize {
        let start_state = self.early_start_state;
        self.improviser.navigator_mut().set_state(start_state);
        let last = |q: &'_ [Symbol]| -> usize {
            if attempt < EARLY_FULL_QUERY_ATTEMPTS {
                0
            } else {
                q.len().saturating_sub(1)
            }
        };
        let (q, eq) = (&query[last(query)..], &event_query[last(event_query)..]);
        self.phrase(
            q,
            eq,
            n_frames,
            from_sample as f64,
            frame_len,
            // A reaction plays in the interval the answer is in; the next full phrase decides.
            match IntervalChoice::of(settings.transpose_search) {
                IntervalChoice::Search(_) => IntervalChoice::Keep,
                off => off,
            },
            settings,
            out,
        )
        .notes
    }

    /// Navigates `n_frames` oracle steps guided by `query` and appends their notes, the first
    /// frame at sample `base`, moved by the transpose setting and, when `search` > 0, by the
    /// interval in -min(search, 5)..=min(search, 6) that fits the quoted notes best into the
    /// input's key.
    ///
    /// Taboo: each state's play time (host samples) is remembered, and a state played less than
    /// `settings.taboo_s` seconds before (or after: an early phrase may be placed ahead of a
    /// later one) the frame being chosen is avoided unless nothing else matches the query
    /// ([`crate::oracle::Navigator::step_guided_taboo`]). 0 s turns it off.
    #[allow(clippy::too_many_arguments)]
    fn phrase(
        &mut self,
        query: &[Symbol],
        event_query: &[Symbol],
        n_frames: usize,
        base: f64,
        frame_len: f64,
        search: IntervalChoice,
        settings: &AnswerSettings,
        out: &mut Vec<NoteEvent>,
    ) -> Phrase {
        if search == IntervalChoice::Off {
            self.last_interval = 0;
        }
        self.first_jump = None;
        // Continuity counts events: inside a corpus event the walk goes on linearly, and only
        // where the next event starts does it continue with probability `continuity`. The
        // novelty dial sets an expected run in frames from the oracle's own repeats
        // ([`Self::continuity_for_novelty`]); a run of at least an event is counted in events
        // too ([`event_continuity`]), and only a run shorter than an event (which events cannot
        // express) is decided frame by frame.
        let (continuity, by_event) = match settings.novelty {
            Some(n) => event_continuity(self.continuity_for_novelty(n), self.frames_per_event),
            None => (settings.continuity, true),
        };
        let mut states = Vec::with_capacity(n_frames);
        let mut frames: Vec<Played> = Vec::with_capacity(n_frames);
        let mut indices: Vec<usize> = Vec::with_capacity(n_frames);
        // Steps where the walk jumped (or started): the notes still sounding there enter too.
        let mut landings: Vec<usize> = Vec::new();
        // Per step: whether the walk jumped there (or started), landing on a new quote.
        let mut jumped: Vec<bool> = Vec::with_capacity(n_frames);
        // The step of the phrase's first jump (0 without one): the quote before it keeps the
        // interval it was playing in.
        let mut jump_step = 0usize;
        // Each recording's key against the input's, moved by the interval in use: what an
        // event-oracle jump weighs for every candidate, the same all phrase long.
        let key_fit: Vec<f64> = self
            .recording_chroma
            .iter()
            .map(|k| chord_cosine(k, &self.live_key, self.last_interval))
            .collect();
        let taboo_samples = taboo_samples(settings.taboo_s, frame_len * self.frames_per_s);
        self.played_log.clear();
        for j in 0..n_frames {
            let now = (base + j as f64 * frame_len).round() as u64;
            let (last_played, tried) = (&self.last_played, &self.early_tried);
            let taboo = |state: usize| {
                last_played
                    .get(state)
                    .is_some_and(|&t| t != NEVER_PLAYED && t.abs_diff(now) < taboo_samples)
                    || tried.contains(&Some(state))
            };
            let before = self.improviser.navigator_mut().state();
            let here = (before > 0).then(|| self.improviser.payload(before) as usize);
            // A reaction starts an event at once: the input's onset is answered by one, not
            // by the rest of the corpus event the walk was in.
            let at_boundary = !by_event
                || (self.react && j == 0)
                || here.is_none_or(|i| self.event_start.get(i + 1).is_none_or(|&e| e != 0));
            // A jump prefers the places whose harmony just before (moved by the search's
            // interval in use; the Transpose setting moves the answer, not what it fits) is
            // the chord the input just sounded: what the corpus plays next there is its own
            // continuation of that chord.
            let shift = self.last_interval;
            let (chord_behind, live_chord) = (&self.chord_behind, &self.live_chord);
            let prefer = |index: usize| -> f32 {
                chord_behind
                    .get(index)
                    .map_or(0.0, |behind| chord_cosine(behind, live_chord, shift) as f32)
            };
            // Where an event ends (or the walk starts), the walk steps on the event oracle:
            // the next event with the continuity, else the event whose preceding events match
            // the live events best (and whose harmony before it fits the input's chord); it
            // plays on from that event's first frame. Inside an event it goes on frame by
            // frame; a walk in a live event not yet cut, or one deciding at every frame (the
            // novelty dial's shortest runs), steps on the frame oracle.
            let event_here = match here {
                None => Some(0),
                Some(i) => self
                    .frame_event
                    .get(i)
                    .filter(|&&e| (e as usize) < self.event_first.len())
                    .map(|&e| e as usize + 1),
            };
            let by_events = by_event && at_boundary && event_here.is_some();
            let stepped = if let (true, Some(event_state)) = (by_events, event_here) {
                let event_first = &self.event_first;
                let first_state = |state: usize| {
                    state
                        .checked_sub(1)
                        .and_then(|e| event_first.get(e))
                        .map(|&f| f as usize + 1)
                };
                let event_taboo = |state: usize| first_state(state).is_some_and(&taboo);
                // The harmony a landing plays: the chord of the event's first notes against
                // the input's chord, and its recording's key against the input's (moved by the
                // search's interval in use).
                let (event_chord, frame_source) = (&self.event_chord, &self.frame_source);
                let event_prefer = |event: usize| -> f32 {
                    let chord = event_chord
                        .get(event)
                        .map_or(0.0, |c| chord_cosine(c, live_chord, shift));
                    let key = event_first
                        .get(event)
                        .and_then(|&f| frame_source.get(f as usize))
                        .and_then(|&r| key_fit.get(r as usize))
                        .copied()
                        .unwrap_or(0.0);
                    (0.5 * (chord + key)) as f32
                };
                let nav = self.events.navigator_mut();
                nav.set_state(event_state);
                nav.set_continuity(continuity);
                self.events
                    .step_guided_weighing_all(
                        event_query,
                        &mut self.rng,
                        &event_taboo,
                        &event_prefer,
                        EVENT_HARMONY_WEIGHT,
                    )
                    .and_then(|e| self.event_first.get(e as usize).copied())
                    .inspect(|&f| self.improviser.navigator_mut().set_state(f as usize + 1))
            } else {
                let (c, weight) = if at_boundary {
                    (continuity, HARMONY_WEIGHT)
                } else {
                    (1.0, 0.0)
                };
                self.improviser.navigator_mut().set_continuity(c);
                let no_taboo = |_: usize| false;
                let taboo: &dyn Fn(usize) -> bool = if at_boundary { &taboo } else { &no_taboo };
                self.improviser
                    .step_guided_preferring(query, &mut self.rng, taboo, &prefer, weight)
            };
            let Some(payload) = stepped else {
                return Phrase {
                    notes: 0,
                    states,
                    interval: 0,
                };
            };
            let state = self.improviser.navigator_mut().state();
            if let Some(t) = self.last_played.get_mut(state) {
                self.played_log.push((state, *t));
                *t = now;
            }
            // A jump, the start, or a held stretch's next event: the notes sounding there
            // (re-)enter.
            let split = self.event_start.get(payload as usize) == Some(&EVENT_SPLIT);
            if state != before + 1 && self.first_jump.is_none() {
                self.first_jump = Some(state);
                jump_step = j;
            }
            if state != before + 1 || split {
                landings.push(j);
            }
            jumped.push(state != before + 1);
            states.push(state);
            indices.push(payload as usize);
            frames.push(self.played(payload as usize));
        }
        let corpus_len = self.corpus_frames.len();
        // The corpus notes this phrase quotes, untransposed: (start sample, length in samples,
        // pitch, velocity). Corpus frames play the notes that start in them with their own
        // lengths (which may run past the phrase); where the walk jumped (or started), the
        // notes still sounding there enter too, for what is left of them. Live-learned frames
        // (no notes) play their pitch runs below.
        let mut quoted: Vec<(f64, f64, u8, u8, bool, usize)> = Vec::new();
        let samples_per_s = frame_len * self.frames_per_s;
        let scale = f64::from(settings.length_scale);
        // The input's density, in whole quotes ([`QuoteGate`]): per step, whether the event
        // starting there (its onsets and, at a landing, the notes that enter) plays. A
        // reaction's first event always plays.
        let mut sounds = vec![true; indices.len()];
        let mut first = self.react;
        for (j, &index) in indices.iter().enumerate() {
            if index >= corpus_len {
                continue;
            }
            let onsets = self.note_index[index] < self.note_index[index + 1];
            if !onsets && landings.binary_search(&j).is_err() {
                continue;
            }
            if std::mem::take(&mut first) {
                continue;
            }
            sounds[j] = self.gate.plays(self.follow, jumped[j]);
        }
        for (j, &index) in indices.iter().enumerate() {
            if index >= corpus_len {
                continue;
            }
            let (a, b) = (
                self.note_index[index] as usize,
                self.note_index[index + 1] as usize,
            );
            if !sounds[j] {
                continue;
            }
            for n in &self.frame_notes[a..b] {
                let start = base + j as f64 * frame_len + n.offset_s * samples_per_s;
                let len = n.duration_s.min(MAX_EVENT_S) * samples_per_s * scale;
                quoted.push((start, len, n.pitch, n.velocity, false, j));
            }
        }
        for &j in &landings {
            let index = indices[j];
            if index >= corpus_len {
                continue;
            }
            let t = self.frame_time_s[index];
            let Some(notes) = self.recording_notes.get(self.frame_source[index] as usize) else {
                continue;
            };
            if !sounds[j] {
                continue;
            }
            for n in &notes[..notes.partition_point(|n| n.onset_s < t)] {
                let left = n.offset_s - t;
                if left >= MIN_ENTERED_NOTE_S {
                    let start = base + j as f64 * frame_len;
                    let len = left.min(MAX_EVENT_S) * samples_per_s * scale;
                    quoted.push((start, len, n.pitch, n.velocity, true, j));
                }
            }
        }
        // How much further than the phrase's interval the notes before its jump are moved to
        // keep their quote's interval (0 where nothing was kept): their corpus pitch is their
        // pitch less this.
        let mut kept_shift = 0i16;
        // Transposition search: the interval that puts the quoted notes best into the input's
        // key (its pitch-class profile over the last seconds), kept from phrase to phrase
        // unless another fits clearly better: INTERVAL_HYSTERESIS better where the walk
        // jumped, QUOTE_INTERVAL_HYSTERESIS better while it goes on quoting. Where the walk
        // jumped after the phrase's start, the interval is chosen for what it quotes from the
        // jump on; the quote it was playing before keeps its interval to its end.
        let interval = if let IntervalChoice::Search(search) = search {
            let weights: Vec<(u8, f64)> = quoted
                .iter()
                .filter(|q| q.5 >= jump_step)
                .map(|q| (q.2, q.1))
                .collect();
            // The key of what is quoted: its recordings' profiles, one per quoted frame.
            let mut source_key = [0.0f32; 12];
            for &index in indices[jump_step..].iter().filter(|&&i| i < corpus_len) {
                let r = self.frame_source[index] as usize;
                if let Some(profile) = self.recording_chroma.get(r) {
                    let norm = profile.iter().sum::<f32>().max(1e-9);
                    for (k, p) in source_key.iter_mut().zip(profile) {
                        *k += p / norm;
                    }
                }
            }
            // The harmony the quote follows in its recording, against the input's chord.
            let context = indices
                .get(jump_step)
                .and_then(|&i| self.chord_behind.get(i))
                .map(|behind| (behind, &self.live_chord));
            let t = best_fit_interval(
                &weights,
                &source_key,
                &self.live_key,
                context,
                (CHORD_FIT_WEIGHT, CONTEXT_FIT_WEIGHT),
                search.min(MAX_DOWN),
                search.min(MAX_UP),
                self.last_interval,
                // Where the walk jumped; else it goes on quoting what it quoted.
                if self.first_jump.is_some() {
                    INTERVAL_HYSTERESIS
                } else {
                    QUOTE_INTERVAL_HYSTERESIS
                },
            );
            if jump_step > 0 && t != self.last_interval {
                kept_shift = keep_interval_before(&mut quoted, jump_step, self.last_interval, t);
            }
            self.last_interval = t;
            t
        } else {
            self.last_interval
        };
        // Voicing: the quoted notes that sound little in the chord the input holds now
        // (since its last onset; moved by the interval) are left out, as a player leaves
        // out the notes of a voicing that clash; each step keeps its best-fitting note, so
        // the quote's rhythm stays.
        let heard = quoted.len();
        voice_to_chord(&mut quoted, &self.live_chord, interval, n_frames);
        // Density: the share of the quoted notes that play, thinning the texture first.
        thin_to_density(
            &mut quoted,
            &self.live_chord,
            interval,
            settings.density,
            heard,
            &mut self.rng,
        );
        let shaped = AnswerSettings {
            transpose: settings.transpose.saturating_add(interval),
            ..*settings
        };
        let before = out.len();
        // What the notes were chosen against: Follow Changes judges them by it when they wait.
        let chord = chord_classes(&self.live_chord);
        // No stutter: a pitch is not struck again within MIN_REATTACK_S of its last start in
        // this phrase, and a note entering at a jump does not strike a pitch the phrase is
        // already sounding (walks that jump often would otherwise re-enter the same held
        // note at every landing).
        quoted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let reattack = MIN_REATTACK_S * samples_per_s;
        let mut last_start = [f64::NEG_INFINITY; 128];
        let mut until = [f64::NEG_INFINITY; 128];
        quoted.retain(|&(start, len, pitch, _, entered, _)| {
            let p = usize::from(pitch.min(127));
            if start - last_start[p] < reattack || (entered && until[p] > start) {
                return false;
            }
            last_start[p] = start;
            until[p] = until[p].max(start + len);
            true
        });
        for (start, len, pitch, vel, _, j) in quoted {
            let corpus_pitch = if j < jump_step {
                (i16::from(pitch) - kept_shift) as u8
            } else {
                pitch
            };
            let pitch = i16::from(pitch) + i16::from(shaped.transpose);
            if !(0..=127).contains(&pitch) {
                continue;
            }
            if let Some(p) = self.provenance.as_mut() {
                // Where the note starts in its recording: its step's frame, and its own
                // offset from that frame's start (0 for a note entered at a landing).
                let index = indices[j];
                let step_start = base + j as f64 * frame_len;
                p.marks.push(QuoteMark {
                    start_sample: start.round() as u64,
                    note: pitch as u8,
                    recording: self.frame_source[index],
                    corpus_time_s: self.frame_time_s[index] + (start - step_start) / samples_per_s,
                    corpus_pitch,
                });
            }
            out.push(NoteEvent {
                note: pitch as u8,
                velocity: (f32::from(vel) / 127.0 * settings.velocity_scale.max(0.0))
                    .clamp(0.0, 1.0),
                channel: settings.channel.min(15),
                start_sample: start.round() as u64,
                duration_samples: len.max(1.0).round().min(u32::MAX as f64) as u32,
                beat: None,
                chord,
            });
        }
        for (frame, &index) in frames.iter_mut().zip(&indices) {
            if index < corpus_len {
                frame.pitches = FramePitches::EMPTY;
                frame.onset = false;
            }
        }
        notes_from_frames(&frames, &shaped, &mut self.rng, |j0, j1, note, loud| {
            let start = base + j0 as f64 * frame_len;
            let len = ((j1 - j0) as f64 * frame_len * settings.length_scale as f64).max(1.0);
            out.push(NoteEvent {
                note,
                velocity: velocity(loud, settings.velocity_scale),
                channel: settings.channel.min(15),
                start_sample: start.round() as u64,
                duration_samples: len.round().min(u32::MAX as f64) as u32,
                beat: None,
                chord,
            });
        });
        out[before..].sort_by_key(|e| (e.start_sample, e.note));
        Phrase {
            notes: out.len() - before,
            states,
            interval,
        }
    }

    fn played(&self, index: usize) -> Played {
        let n = self.corpus_frames.len();
        if index < n {
            self.corpus_frames[index]
        } else {
            self.live_frames.get(index - n).copied().unwrap_or(Played {
                pitches: FramePitches::EMPTY,
                loudness_db: crate::perception::payload::SILENCE_DB,
                onset: false,
            })
        }
    }

    /// Live learning: appends the frame to the frame oracle; its frame index, `None` when the
    /// oracle refused it.
    fn learn(&mut self, h: u16, p: u16, payload: &FramePayload) -> Option<u32> {
        let index = (self.corpus_frames.len() + self.live_frames.len()) as u32;
        if let Ok(state) = self.improviser.append(self.drive.symbol(h, p), index) {
            if self.last_played.len() <= state {
                self.last_played.resize(state + 1, NEVER_PLAYED);
            }

            self.live_frames.push(Played {
                pitches: payload.pitches,
                loudness_db: payload.loudness_db,
                onset: payload.onset_strength > 0.5,
            });
            self.harmonic_tokens.push(h);
            self.percussive_tokens.push(p);
            return Some(index);
        }
        None
    }
}

/// The continuity per event that keeps the expected run of a per-frame continuity `c` (1 /
/// (1 - c) frames) on a corpus of `frames_per_event`, and `true`; or `(c, false)` (decide per
/// frame) when that run is shorter than an event.
pub fn event_continuity(c: f32, frames_per_event: f64) -> (f32, bool) {
    let c = if c.is_finite() {
        c.clamp(0.0, 1.0)
    } else {
        0.0
    };
    if c >= 1.0 {
        return (1.0, true);
    }
    let run_frames = 1.0 / (1.0 - f64::from(c));
    let fpe = frames_per_event.max(1.0);
    if run_frames < fpe {
        return (c, false);
    }
    ((1.0 - fpe / run_frames) as f32, true)
}

/// [`Answerer::event_start`]: a note (or the recording) starts in the frame.
const EVENT_ONSET: u8 = 1;
/// [`Answerer::event_start`]: a held stretch is cut here.
const EVENT_SPLIT: u8 = 2;
/// A phrase strikes no pitch again within this long of its last start, seconds.
pub const MIN_REATTACK_S: f64 = 0.15;

/// A note still sounding where a jump lands enters the answer if this much of it is left, s.
pub const MIN_ENTERED_NOTE_S: f64 = 0.25;

/// Quoted events are thinned when the corpus starts more than this many events per input
/// onset: a sparse input gets a sparse answer. (The notes entering at jumps and the early
/// reactions add to the answer's onsets: with 1, plucks every 2 s are answered by 1.6 onsets
/// per input onset, `tests/engine_host.rs`; issue #17 asks for 0.5–2x.)
pub const DENSITY_FOLLOW: f64 = 1.0;

/// The input's density never thins quoted events below this probability.
pub const MIN_FOLLOW: f64 = 0.1;

/// How long the live onset rate remembers, seconds (time constant of its decay).
pub const ONSET_MEMORY_S: f64 = 4.0;

/// Frames between two live onsets at least (about 50 ms).
const ONSET_REFRACTORY_FRAMES: u32 = 4;

/// How far above its running mean the onset strength must rise to be an onset, in running
/// standard deviations. 2 counts about one onset per chord of the rendered chorales
/// (0.6–1.2 a second where the scores have 0.6–0.8), where 1 counted up to 3x as many on
/// sustained instruments.
const ONSET_THRESHOLD_SD: f32 = 2.0;

/// Live onsets per second: an onset is a frame whose onset strength rises through its
/// running mean plus [`ONSET_THRESHOLD_SD`] running standard deviations (both over a few
/// seconds), in a frame above the silence gate, at least [`ONSET_REFRACTORY_FRAMES`] after
/// the last. The rate is their decaying count over the decaying count of sounding frames
/// ([`ONSET_MEMORY_S`]), so it is right from the first second of sound, and silence (a pause,
/// the time before the music) neither thins nor thickens the answer to what follows.
#[derive(Clone, Debug)]
struct OnsetRate {
    frames_per_s: f64,
    mean: f32,
    var: f32,
    previous: f32,
    since: u32,
    onsets: f64,
    frames: f64,
}

impl OnsetRate {
    fn new(frames_per_s: f64) -> Self {
        Self {
            frames_per_s: frames_per_s.max(1.0),
            mean: 0.0,
            var: 0.0,
            previous: 0.0,
            since: ONSET_REFRACTORY_FRAMES,
            onsets: 0.0,
            frames: 0.0,
        }
    }

    /// Hears one frame; `true` when it is an onset.
    fn push(&mut self, frame: &FramePayload) -> bool {
        let x = if frame.onset_strength.is_finite() {
            frame.onset_strength.max(0.0)
        } else {
            0.0
        };
        let threshold = self.mean + ONSET_THRESHOLD_SD * self.var.sqrt();
        let onset = x > threshold
            && self.previous <= threshold
            && self.since >= ONSET_REFRACTORY_FRAMES
            && frame.loudness_db >= SILENCE_GATE_DB;
        self.since = if onset {
            0
        } else {
            self.since.saturating_add(1)
        };
        let alpha = (1.0 / (3.0 * self.frames_per_s)) as f32;
        let d = x - self.mean;
        self.mean += alpha * d;
        self.var = (1.0 - alpha) * (self.var + alpha * d * d);
        self.previous = x;
        if frame.loudness_db >= SILENCE_GATE_DB {
            let decay = (-1.0 / (ONSET_MEMORY_S * self.frames_per_s)).exp();
            self.onsets = self.onsets * decay + f64::from(u8::from(onset));
            self.frames = self.frames * decay + 1.0;
        }
        onset
    }

    /// Onsets per second of sound, `None` before a second of it.
    fn per_s(&self) -> Option<f64> {
        (self.frames >= self.frames_per_s).then(|| self.onsets / self.frames * self.frames_per_s)
    }
}

/// Onsets of the corpus' notes closer than this to the previous counted one are one onset
/// when the corpus' onset rate is counted, seconds: transcribed voices of one chord start up
/// to about this far apart, and the live detector hears them as one.
const CORPUS_ONSET_MERGE_S: f64 = 0.1;

/// The corpus' note onsets per second: each recording's onsets (within
/// [`CORPUS_ONSET_MERGE_S`] of the previous counted one they are one) over the recordings'
/// length; 0 without notes.
fn corpus_onset_rate(corpus: &CorpusModel) -> f64 {
    let (mut onsets, mut seconds) = (0usize, 0.0f64);
    for r in &corpus.recordings {
        let mut last = f64::NEG_INFINITY;
        for n in &r.notes {
            if n.onset_s - last >= CORPUS_ONSET_MERGE_S {
                onsets += 1;
                last = n.onset_s;
            }
        }
        seconds += r.duration_s;
    }
    if seconds > 0.0 {
        onsets as f64 / seconds
    } else {
        0.0
    }
}

/// Weight of the chord fit against the shared context when the walk jumps
/// ([`crate::oracle::Navigator::step_guided_preferring`]).
pub const HARMONY_WEIGHT: f32 = 0.5;

/// Weight of the harmony a landing plays against the shared context of events when the walk
/// jumps on the event oracle, where every event is a candidate
/// ([`crate::oracle::Navigator::step_guided_weighing_all`]). The live and corpus events are cut
/// differently (live onsets, notes), so their labels rarely share more than the last one, and
/// with only the events after that label as candidates (as the frame walk has it) the jump had
/// little harmony to choose from. Measured on the 12-piece evaluation (docs/ANSWERS.md),
/// harmony against the null: 1.04 / 1.22 / 0.96 / 1.37 (DSP-note corpora search off / 6 st,
/// given-note corpora off / 6 st) with the last label's events at 0.5; 1.14 / 1.40 / 1.25 /
/// 1.40 with every event at 0.8.
pub const EVENT_HARMONY_WEIGHT: f32 = 0.8;

/// The corpus' notes filed by the frame their onset falls in (module docs of [`Answerer`]):
/// `(notes, index)` with `index.len() == frames + 1`. A frame covers `[time_s, time_s +
/// duration_s)` of its recording; a note before the first frame of its recording goes to that
/// frame, one after the last to none.
fn file_notes_by_frame(corpus: &CorpusModel) -> (Vec<FrameNote>, Vec<u32>) {
    let frames = &corpus.frames;
    let mut per_frame: Vec<Vec<FrameNote>> = vec![Vec::new(); frames.len()];
    // Each note in the frame its onset falls in, as the events are cut.
    for (i, note) in filed_notes(frames, &corpus.recordings) {
        let f = &frames[i];
        per_frame[i].push(FrameNote {
            offset_s: (note.onset_s - f64::from(f.time_s)).max(0.0),
            duration_s: note.duration_s(),
            pitch: note.pitch,
            velocity: note.velocity,
        });
    }
    let mut notes = Vec::new();
    let mut index = Vec::with_capacity(frames.len() + 1);
    index.push(0);
    for list in per_frame {
        notes.extend(list);
        index.push(notes.len() as u32);
    }
    (notes, index)
}

/// Per corpus frame: whether an event starts there ([`Answerer::event_start`]) and the event
/// it belongs to.
fn frame_events(corpus: &CorpusModel) -> (Vec<u8>, Vec<u32>) {
    let mut event_start = vec![0u8; corpus.frames.len()];
    let mut frame_event = vec![0u32; corpus.frames.len()];
    for (k, e) in corpus.events.iter().enumerate() {
        let a = e.first_frame as usize;
        let b = (a + e.frames as usize).min(corpus.frames.len());
        if a >= b {
            continue; // never in a validated model
        }
        event_start[a] = if e.start == EventStart::Split {
            EVENT_SPLIT
        } else {
            EVENT_ONSET
        };
        frame_event[a..b].fill(k as u32);
    }
    (event_start, frame_event)
}

/// [`Answerer::last_played`] of a state never played.
const NEVER_PLAYED: u64 = u64::MAX;

/// The taboo time in host samples (0, i.e. off, for 0 s, negative or NaN).
fn taboo_samples(taboo_s: f32, host_rate_hz: f64) -> u64 {
    let samples = f64::from(taboo_s) * host_rate_hz;
    if samples.is_finite() && samples >= 1.0 {
        samples.round() as u64
    } else {
        0
    }
}

/// Frames per block of the oracle's compror parse (at least 1.5, at most 1,000).
fn typical_run(oracle: &Oracle) -> f64 {
    let blocks = crate::oracle::compror(oracle).len();
    if blocks == 0 {
        return 1.5;
    }
    (oracle.len() as f64 / blocks as f64).clamp(1.5, 1_000.0)
}

/// MIDI velocity (0..=1) of a note from its frame loudness: -60 dB -> 0.05, -6 dB -> 1.
pub fn velocity(loudness_db: f32, scale: f32) -> f32 {
    (((loudness_db + 60.0) / 54.0).clamp(0.05, 1.0) * scale.max(0.0)).clamp(0.0, 1.0)
}

/// Turns a phrase of frames into notes: a note starts where its pitch appears (or at an
/// onset frame, which re-attacks every sounding pitch; a jump in the oracle to a frame that
/// holds the same pitch without an onset continues the note) and ends where it stops or at
/// the phrase end. Notes shorter than [`MIN_NOTE_FRAMES`] are skipped; each started note is
/// kept with probability `density`.
/// Calls `emit(first_frame, end_frame, note, loudness_db)`.
fn notes_from_frames(
    frames: &[Played],
    settings: &AnswerSettings,
    rng: &mut Pcg32,
    mut emit: impl FnMut(usize, usize, u8, f32),
) {
    // (note, first frame, loudness at the start)
    let mut open: Vec<(u8, usize, f32)> = Vec::new();
    let transpose = |n: u8| -> Option<u8> {
        let t = n as i16 + settings.transpose as i16;
        (0..=127).contains(&t).then_some(t as u8)
    };
    let mut close = |open: &mut Vec<(u8, usize, f32)>, k: usize, j: usize| {
        let (note, j0, loud) = open.swap_remove(k);
        if j - j0 >= MIN_NOTE_FRAMES && keep(rng, settings.density) {
            emit(j0, j, note, loud);
        }
    };
    for (j, f) in frames.iter().enumerate() {
        let now: Vec<u8> = f.pitches().iter().filter_map(|&n| transpose(n)).collect();
        let mut k = 0;
        while k < open.len() {
            let note = open[k].0;
            if !now.contains(&note) || f.onset {
                close(&mut open, k, j);
            } else {
                k += 1;
            }
        }
        for n in now {
            if !open.iter().any(|o| o.0 == n) {
                open.push((n, j, f.loudness_db));
            }
        }
    }
    while let Some(last) = open.len().checked_sub(1) {
        close(&mut open, last, frames.len());
    }
}

/// How a phrase sets the transposition search's interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IntervalChoice {
    /// No search: the corpus' own pitches (moved by the Transpose setting only).
    Off,
    /// The interval in use, not decided again (an early reaction).
    Keep,
    /// Decided for the phrase within this range, semitones.
    Search(i8),
}

impl IntervalChoice {
    fn of(transpose_search: u8) -> Self {
        match transpose_search {
            0 => Self::Off,
            s => Self::Search(s.min(i8::MAX as u8) as i8),
        }
    }
}

/// A note whose pitch class weighs less than this share of the strongest in the input's
/// chord is left out of a quote's voicing ([`voice_to_chord`]). Measured on the 12-piece
/// evaluation (docs/ANSWERS.md), harmony against the null with the search at 6 st: 1.40 /
/// 1.40 (DSP / given-note corpora) without the voicing; 1.52 / 1.53 at 0.2, 1.55 / 1.55 at
/// 0.35, 1.57 / 1.56 at 0.5; the quote's rhythm and runs are kept.
pub const VOICING_SHARE: f32 = 0.5;

/// How much `pitch`, moved by `interval`, sounds in `chord`: its pitch class's weight as a
/// share of the strongest. `None` while the chord is silent (or not finite).
fn chord_weight(chord: &[f32; 12], interval: i8) -> Option<impl Fn(u8) -> f32 + '_> {
    let max = chord.iter().fold(0.0f32, |a, &c| a.max(c));
    (max > 1e-9 && max.is_finite()).then_some(move |pitch: u8| {
        chord[(i32::from(pitch) + i32::from(interval)).rem_euclid(12) as usize] / max
    })
}

/// Every pitch class (bit `pc` set for each): what [`chord_classes`] gives a silent chord.
pub const ALL_CLASSES: u16 = 0x0fff;

/// The pitch classes that sound in `chord` (bit `pc` set), by the voicing's rule: those that
/// weigh at least [`VOICING_SHARE`] of the strongest. A silent chord keeps every class.
pub fn chord_classes(chord: &[f32; 12]) -> u16 {
    let Some(weight) = chord_weight(chord, 0) else {
        return ALL_CLASSES;
    };
    (0..12u8)
        .filter(|&pc| weight(pc) >= VOICING_SHARE)
        .fold(0, |m, pc| m | 1 << pc)
}

/// Leaves out of `quoted` (`(start, length, pitch, velocity, entered, step)`) the notes
/// whose pitch class, moved by `interval`, weighs less than [`VOICING_SHARE`] of the
/// strongest in `chord`, unless it is the best-fitting note of its step: every step that
/// starts notes still starts one. Nothing changes while the chord is silent.
fn voice_to_chord(
    quoted: &mut Vec<(f64, f64, u8, u8, bool, usize)>,
    chord: &[f32; 12],
    interval: i8,
    steps: usize,
) {
    let Some(weight) = chord_weight(chord, interval) else {
        return;
    };
    let mut best = vec![f32::NEG_INFINITY; steps.max(1)];
    let slot = |step: usize| step.min(steps.max(1) - 1);
    for q in quoted.iter() {
        let b = &mut best[slot(q.5)];
        *b = b.max(weight(q.2));
    }
    quoted.retain(|q| {
        let w = weight(q.2);
        w >= VOICING_SHARE || w >= best[slot(q.5)]
    });
}

/// The notes of steps before `jump_step` are moved so that, played at the phrase's new
/// interval `to`, they sound at `from`, the interval their quote was playing in; a note that
/// would leave the MIDI range is left out. Returns the move, `from - to` semitones (what the
/// notes' provenance takes back to name their corpus pitch).
fn keep_interval_before(
    quoted: &mut Vec<(f64, f64, u8, u8, bool, usize)>,
    jump_step: usize,
    from: i8,
    to: i8,
) -> i16 {
    let shift = i16::from(from) - i16::from(to);
    quoted.retain_mut(|q| {
        if q.5 >= jump_step {
            return true;
        }
        let pitch = i16::from(q.2) + shift;
        let inside = (0..=127).contains(&pitch);
        if inside {
            q.2 = pitch as u8;
        }
        inside
    });
    shift
}

/// Density: of the `heard` notes a phrase quoted before its voicing, the share `density`
/// plays (its fraction rounded at random); what the voicing left out counts toward it. The
/// rest comes out of the texture first: the notes that share their step with a
/// better-fitting one, the least fitting to `chord` (moved by `interval`) first, and only then
/// whole steps, the least fitting first. A player asked for fewer notes thins the voicings
/// before leaving out beats, so a thinned quote keeps its rhythm as long as it can. Density 0
/// plays nothing; ties are broken at random.
fn thin_to_density(
    quoted: &mut Vec<(f64, f64, u8, u8, bool, usize)>,
    chord: &[f32; 12],
    interval: i8,
    density: f32,
    heard: usize,
    rng: &mut Pcg32,
) {
    if density >= 1.0 || quoted.is_empty() {
        return;
    }
    // (Rounded to a millionth, so that 4/7 of 7 is 4 and not 3.9999999.)
    let want = (f64::from(density.max(0.0)) * heard as f64 * 1e6).round() / 1e6;
    let mut plays = want.floor() as usize;
    if rng.random::<f64>() < want - plays as f64 {
        plays += 1;
    }
    let mut drop = quoted.len().saturating_sub(plays);
    if drop == 0 {
        return;
    }
    let weight = chord_weight(chord, interval);
    let fit: Vec<f32> = quoted
        .iter()
        .map(|q| weight.as_ref().map_or(0.0, |w| w(q.2)) + rng.random::<f32>() * 1e-3)
        .collect();
    // Each step's notes, best-fitting first: the first of a step is its best.
    let mut by_step: Vec<usize> = (0..quoted.len()).collect();
    by_step.sort_by(|&a, &b| {
        quoted[a]
            .5
            .cmp(&quoted[b].5)
            .then(fit[b].total_cmp(&fit[a]))
    });
    let is_best: Vec<bool> = {
        let mut best = vec![false; quoted.len()];
        for (k, &i) in by_step.iter().enumerate() {
            best[i] = k == 0 || quoted[by_step[k - 1]].5 != quoted[i].5;
        }
        best
    };
    // The order notes leave in: the texture (least fitting first), then whole steps.
    let mut order: Vec<usize> = (0..quoted.len()).collect();
    order.sort_by(|&a, &b| is_best[a].cmp(&is_best[b]).then(fit[a].total_cmp(&fit[b])));
    let mut plays_note = vec![true; quoted.len()];
    for &i in &order {
        if drop == 0 {
            break;
        }
        plays_note[i] = false;
        drop -= 1;
    }
    let mut i = 0;
    quoted.retain(|_| {
        i += 1;
        plays_note[i - 1]
    });
}

/// Density following in whole quotes: a running credit gains the share that plays (the
/// input's density, [`Answerer::follow`]) for each quoted event that rests and loses the rest of
/// one for each that plays, so over time exactly that share plays. Where the walk lands on a new
/// quote, the quote plays if the credit is at least [`QUOTE_GATE_HOLD`] and rests whole
/// otherwise; a playing quote is cut where the credit falls below `-QUOTE_GATE_HOLD`, and a
/// resting one waits for the walk's next landing, starting again mid-quote at twice the hold only
/// in a quote longer than [`QUOTE_GATE_LONG`] events (so a walk that never jumps still plays its
/// share). The credit starts at the hold, so the first quote plays at once; at a share of one
/// everything plays and the gate is open, so the quote being walked when the input thins out
/// goes on. An even thinning (one event in `1 / share`) lost the
/// quote's ends to a listener: the walk quotes about five events and one heard three or four.
/// Measured in docs/ANSWERS.md, "Whole quotes instead of an even thinning" and "Whole quotes
/// at the defaults".
#[derive(Debug, Clone, Copy, PartialEq)]
struct QuoteGate {
    credit: f32,
    open: bool,
    /// Events since the walk last landed.
    since_landing: u32,
}

/// The credit at which [`QuoteGate`] opens at a landing (and its negative, where it cuts).
const QUOTE_GATE_HOLD: f32 = 2.0;

/// Events since the walk's last landing after which a resting quote may start again mid-quote
/// (at twice [`QUOTE_GATE_HOLD`] of credit). A landing is chosen for what the input sounds like
/// then; the rest of a quote that rested was chosen for what it sounded like before, so it waits
/// for the next landing. Only a walk that rarely jumps quotes this long (at Continuity 80 %, one
/// quote in 35), and there, as in a walk that never jumps (Continuity 100 %), the gate opens
/// again mid-quote, so the share still plays. As first built (restarting at twice the hold in
/// any quote), harmony against the null was 0.06× / 0.09× lower on sets 3 / 4, the runs the
/// same within their error (docs/ANSWERS.md, "A resting quote waits for the next landing").
const QUOTE_GATE_LONG: u32 = 16;

impl Default for QuoteGate {
    fn default() -> Self {
        Self {
            credit: QUOTE_GATE_HOLD,
            open: false,
            since_landing: 0,
        }
    }
}

impl QuoteGate {
    /// Whether the next quoted event plays at `share` (clamped to 0..=1); `landing`: the walk
    /// jumped to it (a new quote).
    fn plays(&mut self, share: f32, landing: bool) -> bool {
        // As dense as the corpus: everything plays, and the quote being walked goes on
        // playing when the input thins out.
        self.since_landing = if landing {
            0
        } else {
            self.since_landing.saturating_add(1)
        };
        if share >= 1.0 {
            self.open = true;
            return true;
        }
        let share = share.max(0.0);
        if landing {
            self.open = self.credit >= QUOTE_GATE_HOLD;
        } else if !self.open
            && self.since_landing >= QUOTE_GATE_LONG
            && self.credit >= 2.0 * QUOTE_GATE_HOLD
        {
            self.open = true;
        }
        if self.open && self.credit - (1.0 - share) < -QUOTE_GATE_HOLD {
            self.open = false;
        }
        if self.open {
            self.credit -= 1.0 - share;
        } else {
            self.credit += share;
        }
        self.open
    }
}

fn keep(rng: &mut Pcg32, density: f32) -> bool {
    density >= 1.0 || (density > 0.0 && rng.random::<f32>() < density)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(pitches: &[u8], onset: bool) -> Played {
        Played {
            pitches: FramePitches::from_slice(pitches),
            loudness_db: -20.0,
            onset,
        }
    }

    fn notes(frames: &[Played], settings: &AnswerSettings) -> Vec<(usize, usize, u8)> {
        let mut rng = Pcg32::seed_from_u64(1);
        let mut out = Vec::new();
        notes_from_frames(frames, settings, &mut rng, |a, b, n, _| out.push((a, b, n)));
        out.sort();
        out
    }

    #[test]
    fn held_pitches_become_one_note_and_onsets_reattack() {
        let s = AnswerSettings::default();
        let mut f = vec![frame(&[60], true)];
        f.extend(vec![frame(&[60], false); 9]);
        f.extend(vec![frame(&[60, 64], false); 10]);
        f.push(frame(&[60, 64], true));
        f.extend(vec![frame(&[60, 64], false); 5]);
        let got = notes(&f, &s);
        assert_eq!(
            got,
            vec![(0, 20, 60), (10, 20, 64), (20, 26, 60), (20, 26, 64)]
        );
        // Transposition shifts every note; out-of-range notes are dropped.
        let up = AnswerSettings { transpose: 12, ..s };
        assert!(notes(&f, &up).iter().all(|&(_, _, n)| n == 72 || n == 76));
        let f2 = [vec![frame(&[120], true)], vec![frame(&[120], false); 9]].concat();
        assert!(notes(&f2, &up).is_empty());
    }

    #[test]
    fn flicker_is_ignored_and_density_thins_notes() {
        let s = AnswerSettings::default();
        let mut f = vec![frame(&[60], true); 2];
        f.extend(vec![frame(&[], false); 3]);
        assert!(notes(&f, &s).is_empty(), "2-frame notes are flicker");
        let mut many = Vec::new();
        for i in 0..400 {
            let n = 40 + (i % 40) as u8;
            many.push(frame(&[n], true));
            many.extend(vec![frame(&[n], false); 3]);
        }
        let all = notes(&many, &s).len();
        let half = notes(&many, &AnswerSettings { density: 0.5, ..s }).len();
        assert_eq!(all, 400);
        assert!(
            (150..250).contains(&half),
            "{half} of 400 kept at density 0.5"
        );
        let none = notes(&many, &AnswerSettings { density: 0.0, ..s });
        assert!(none.is_empty());
    }

    /// The corpus events the walk decides at, on a known note sequence, against a hand-built
    /// list. Recording 0 (2 s): a C major chord at 0 s, a note at 0.5 s, a note held from
    /// 0.61 s to 2 s; recording 1 (1 s): a note at 0.21 s. At 75 frames a second the events
    /// start at frames 0, 37 and 45 (onsets), 120 (the held note cut after 75 frames), 150
    /// (recording 1 starts) and 165 (its onset); the notes are filed in those frames. The
    /// frames' tokens give the events the labels A B A B C A, and the event oracle over them
    /// equals the factor oracle of "ABABCA" built by hand.
    #[test]
    fn corpus_events_on_a_known_sequence_equal_the_hand_built_ones() {
        use crate::corpus::{consonance, FrameRecord, RecordingNotes};
        use crate::notes::{NoteEvent as Note, NoteSource};
        let mut corpus =
            CorpusModel::new("spectral", "{}", 24_000, 75.0, 16, 2, DriveStream::Harmonic);
        corpus.centroids_harmonic = [1.0, 0.0].repeat(16);
        corpus.centroids_percussive = [1.0, 0.0].repeat(16);
        corpus.source_files = vec!["a.wav".into(), "b.wav".into()];
        // Harmonic tokens per frame: mostly the event's label, with a minority of others (the
        // label is the most frequent token, not the first).
        const A: u16 = 1;
        const B: u16 = 2;
        const C: u16 = 3;
        let token = |frame: usize| -> u16 {
            let label = match frame {
                0..37 => A,
                37..45 => B,
                45..120 => A,
                120..150 => B,
                150..165 => C,
                _ => A,
            };
            if frame.is_multiple_of(3) {
                0
            } else {
                label
            }
        };
        for (source, frames) in [(0u16, 150usize), (1, 75)] {
            for i in 0..frames {
                let index = corpus.frames.len();
                corpus.frames.push(FrameRecord {
                    time_s: i as f32 / 75.0,
                    duration_s: 1.0 / 75.0,
                    harmonic_token: Some(token(index)),
                    percussive_token: Some(0),
                    loudness_db: -20.0,
                    chroma: [0.0; 12],
                    pitches: FramePitches::EMPTY,
                    onset: false,
                    consonance: consonance(&[0.0; 12]),
                    source_idx: source,
                });
            }
        }
        let note = |onset_s: f64, offset_s: f64, pitch: u8| Note {
            onset_s,
            offset_s,
            pitch,
            velocity: 90,
        };
        corpus.recordings = vec![
            RecordingNotes {
                source: NoteSource::Given,
                duration_s: 2.0,
                notes: vec![
                    note(0.0, 0.5, 60),
                    note(0.0, 0.5, 64),
                    note(0.0, 0.5, 67),
                    note(0.5, 0.6, 62),
                    note(0.61, 2.0, 65),
                ],
            },
            RecordingNotes {
                source: NoteSource::Given,
                duration_s: 1.0,
                notes: vec![note(0.21, 0.8, 69)],
            },
        ];
        corpus.build_factor_oracle(DriveStream::Harmonic).unwrap();
        corpus.validate().unwrap();
        let (notes, index) = file_notes_by_frame(&corpus);
        let events: Vec<(u32, u32, EventStart, u16)> = corpus
            .events
            .iter()
            .map(|e| (e.first_frame, e.frames, e.start, e.harmonic_label))
            .collect();
        use EventStart::{Onset, Recording, Split};
        assert_eq!(
            events,
            vec![
                (0, 37, Recording, A),
                (37, 8, Onset, B),
                (45, 75, Onset, A),
                (120, 30, Split, B),
                (150, 15, Recording, C),
                (165, 60, Onset, A),
            ]
        );
        // The factor oracle of A B A B C A by hand: forward transitions i -> i + 1, the added
        // ones 0 -B-> 2, 0 -C-> 5, 2 -C-> 5, and the suffix links 0 0 1 2 0 1 of states 1..=6.
        let oracle = corpus.event_oracle().unwrap();
        let symbol = |t: u16| DriveStream::Harmonic.symbol(t, 0);
        let mut by_hand: Vec<(usize, Symbol, usize)> = vec![
            (0, symbol(A), 1),
            (0, symbol(B), 2),
            (0, symbol(C), 5),
            (1, symbol(B), 2),
            (2, symbol(A), 3),
            (2, symbol(C), 5),
            (3, symbol(B), 4),
            (4, symbol(C), 5),
            (5, symbol(A), 6),
        ];
        by_hand.sort();
        let mut built: Vec<(usize, Symbol, usize)> = Vec::new();
        for state in 0..oracle.num_states() {
            for t in [0, A, B, C] {
                if let Some(to) = oracle.transition(state, symbol(t)) {
                    built.push((state, symbol(t), to));
                }
            }
        }
        built.sort();
        assert_eq!(built, by_hand);
        assert_eq!(&oracle.sfx()[1..], &[0, 0, 1, 2, 0, 1]);
        // The walk's view: where events start, and each frame's event.
        let (event_start, frame_event) = frame_events(&corpus);
        let starts: Vec<(usize, u8)> = (0..corpus.frames.len())
            .filter(|&i| event_start[i] != 0)
            .map(|i| (i, event_start[i]))
            .collect();
        assert_eq!(
            starts,
            vec![
                (0, EVENT_ONSET),
                (37, EVENT_ONSET),
                (45, EVENT_ONSET),
                (120, EVENT_SPLIT),
                (150, EVENT_ONSET),
                (165, EVENT_ONSET),
            ]
        );
        assert_eq!((frame_event[119], frame_event[120]), (2, 3));
        // The notes filed in their onset's frame, with their offset into it and their length.
        let filed: Vec<(usize, u8)> = (0..corpus.frames.len())
            .flat_map(|i| {
                notes[index[i] as usize..index[i + 1] as usize]
                    .iter()
                    .map(move |n| (i, n.pitch))
            })
            .collect();
        assert_eq!(
            filed,
            vec![(0, 60), (0, 64), (0, 67), (37, 62), (45, 65), (165, 69)]
        );
        let held = &notes[index[45] as usize];
        assert!((held.duration_s - 1.39).abs() < 1e-9 && (held.offset_s - 0.01).abs() < 1e-6);
    }

    #[test]
    fn the_novelty_dials_runs_are_counted_in_events_when_they_are_an_event_long() {
        // 100 frames a run on 25-frame events: 4 events a run, continuity 3/4 per event.
        let (c, by_event) = event_continuity(0.99, 25.0);
        assert!(by_event && (c - 0.75).abs() < 1e-5, "{c}");
        assert!((1.0 / (1.0 - f64::from(c)) * 25.0 - 100.0).abs() < 0.01);
        // A run of 10 frames is shorter than an event: decided frame by frame.
        assert_eq!(event_continuity(0.9, 25.0), (0.9, false));
        // 40 frames on 20-frame events: two events a run.
        let (c, by_event) = event_continuity(0.975, 20.0);
        assert!(by_event && (c - 0.5).abs() < 1e-4, "{c}");
        assert_eq!(event_continuity(1.0, 25.0), (1.0, true));
        assert_eq!(event_continuity(f32::NAN, 25.0), (0.0, false));
    }

    /// A pitch-class profile from (pitch class, weight) pairs.
    fn profile(weights: &[(usize, f32)]) -> [f32; 12] {
        let mut out = [0.0f32; 12];
        for &(pc, w) in weights {
            out[pc] = w;
        }
        out
    }

    /// A quoted note at `step`, as `phrase` collects them.
    fn note(pitch: u8, step: usize) -> (f64, f64, u8, u8, bool, usize) {
        (step as f64, 1.0, pitch, 100, false, step)
    }

    /// The voicing leaves out the notes that clash with the input's chord (moved by the
    /// interval), keeps each step's best-fitting note even when all clash, and changes
    /// nothing while the chord is silent.
    #[test]
    fn the_voicing_leaves_out_clashing_notes_but_keeps_every_step() {
        let c_major = profile(&[(0, 1.0), (4, 0.8), (7, 0.9), (2, 0.2)]);
        // Step 0: C E G B (B clashes); step 1: D F (both clash: D, weight 0.2, is kept);
        // step 2: F# alone (weight 0, kept: the step still plays).
        let quoted = vec![
            note(60, 0),
            note(64, 0),
            note(67, 0),
            note(71, 0),
            note(62, 1),
            note(65, 1),
            note(66, 2),
        ];
        let mut voiced = quoted.clone();
        voice_to_chord(&mut voiced, &c_major, 0, 3);
        let pitches: Vec<u8> = voiced.iter().map(|q| q.2).collect();
        assert_eq!(pitches, vec![60, 64, 67, 62, 66]);
        // Moved up a fifth, the quoted F C E (65 60 64) sound as C G B: against C major, C
        // and G stay, B goes.
        let mut moved = vec![note(65, 0), note(60, 0), note(64, 0)];
        voice_to_chord(&mut moved, &c_major, 7, 1);
        assert_eq!(moved.iter().map(|q| q.2).collect::<Vec<_>>(), vec![65, 60]);
        let mut silent = quoted.clone();
        voice_to_chord(&mut silent, &[0.0; 12], 0, 3);
        assert_eq!(silent.len(), quoted.len());
    }

    #[test]
    fn density_thins_the_texture_before_the_rhythm() {
        let c_major = profile(&[(0, 1.0), (4, 0.8), (7, 0.9)]);
        // Four steps: a C major triad, a C-G dyad, a lone E, a lone D (which clashes).
        let quoted = vec![
            note(60, 0),
            note(64, 0),
            note(67, 0),
            note(60, 1),
            note(67, 1),
            note(64, 2),
            note(62, 3),
        ];
        let steps = |q: &[(f64, f64, u8, u8, bool, usize)]| {
            let mut s: Vec<usize> = q.iter().map(|n| n.5).collect();
            s.dedup();
            s
        };
        let mut rng = Pcg32::seed_from_u64(3);
        // 4 of 7 play: the three chord notes that have a better-fitting partner go (E and G
        // under C in step 0, G under C in step 1), every step still starts.
        let mut thinned = quoted.clone();
        thin_to_density(&mut thinned, &c_major, 0, 4.0 / 7.0, 7, &mut rng);
        assert_eq!(
            thinned.iter().map(|q| q.2).collect::<Vec<_>>(),
            vec![60, 60, 64, 62]
        );
        // 3 of 7: only then a whole step goes, the one that fits least (the lone D).
        let mut thinned = quoted.clone();
        thin_to_density(&mut thinned, &c_major, 0, 3.0 / 7.0, 7, &mut rng);
        assert_eq!(steps(&thinned), vec![0, 1, 2]);
        // What the voicing already left out counts: 7 of 9 heard at 7/9 thins nothing.
        let mut thinned = quoted.clone();
        thin_to_density(&mut thinned, &c_major, 0, 7.0 / 9.0, 9, &mut rng);
        assert_eq!(thinned.len(), 7);
        // The interval moves what fits: up a fifth, D sounds as A (no chord tone) and C as G.
        let mut moved = vec![note(62, 0), note(60, 0)];
        thin_to_density(&mut moved, &c_major, 7, 0.5, 2, &mut rng);
        assert_eq!(moved.iter().map(|q| q.2).collect::<Vec<_>>(), vec![60]);
        // Density 0 plays nothing; 1 everything.
        let mut none = quoted.clone();
        thin_to_density(&mut none, &c_major, 0, 0.0, 7, &mut rng);
        assert!(none.is_empty());
        let mut all = quoted.clone();
        thin_to_density(&mut all, &c_major, 0, 1.0, 7, &mut rng);
        assert_eq!(all.len(), 7);
        // Over many phrases a fractional share is met on average.
        let played: usize = (0..2000)
            .map(|_| {
                let mut q = quoted.clone();
                thin_to_density(&mut q, &c_major, 0, 0.5, 7, &mut rng);
                q.len()
            })
            .sum();
        let share = played as f64 / (2000.0 * 7.0);
        assert!((share - 0.5).abs() < 0.02, "{share}");
    }

    #[test]
    fn the_quote_before_a_jump_keeps_its_interval() {
        let mut quoted = vec![
            note(60, 0),
            note(64, 3),
            note(2, 4),
            note(67, 5),
            note(70, 9),
        ];
        // Playing at +2 until the jump at step 5, +5 after it: before the jump, the notes are
        // moved down 3 so that +5 sounds them at +2; one that would leave the MIDI range goes.
        assert_eq!(keep_interval_before(&mut quoted, 5, 2, 5), -3);
        let sounding: Vec<(i16, usize)> =
            quoted.iter().map(|q| (i16::from(q.2) + 5, q.5)).collect();
        assert_eq!(sounding, vec![(62, 0), (66, 3), (72, 5), (75, 9)]);
    }

    /// The quote gate plays the share it is given, in whole quotes: of quotes of four events,
    /// almost every one plays whole or rests whole (an even thinning plays no quote of four
    /// whole at a share of 0.5 or less), and a walk that never jumps still plays its share.
    #[test]
    fn the_quote_gate_plays_its_share_in_whole_quotes() {
        for share in [0.1f32, 0.25, 0.5, 0.8] {
            let mut gate = QuoteGate::default();
            let (quotes, len) = (1000usize, 4usize);
            let (mut played, mut whole) = (0usize, 0usize);
            for _ in 0..quotes {
                let plays: Vec<bool> = (0..len).map(|e| gate.plays(share, e == 0)).collect();
                played += plays.iter().filter(|&&p| p).count();
                if plays.iter().all(|&p| p) || plays.iter().all(|&p| !p) {
                    whole += 1;
                }
            }
            let got = played as f64 / (quotes * len) as f64;
            assert!(
                (got - f64::from(share)).abs() <= 0.01,
                "share {share}: {got:.3} played"
            );
            assert!(
                whole as f64 >= 0.9 * quotes as f64,
                "share {share}: only {whole} of {quotes} quotes whole"
            );
            // The first quote plays at once, and so does the quote being walked when the
            // input thins out (as dense as the corpus, everything plays).
            let mut gate = QuoteGate::default();
            assert!(gate.plays(share, true));
            let mut gate = QuoteGate::default();
            assert!(gate.plays(1.0, true) && gate.plays(1.0, false) && gate.plays(share, false));
            // A walk that never jumps: the gate opens again mid-quote.
            let mut gate = QuoteGate::default();
            let played = (0..1000).filter(|&e| gate.plays(share, e == 0)).count();
            assert!(
                (played as f64 / 1000.0 - f64::from(share)).abs() <= 0.01,
                "share {share}, one long quote: {played} of 1000 played"
            );
        }
        // A quote that rests waits for the next landing: at a share of one half, quotes of
        // twelve events play or rest whole after the first cut (restarting at twice the hold
        // in any quote, as first built, a resting quote started again eight events in), and
        // the share holds.
        let mut gate = QuoteGate::default();
        let (mut started_mid, mut played) = (0, 0);
        for _ in 0..500 {
            let plays: Vec<bool> = (0..12).map(|e| gate.plays(0.5, e == 0)).collect();
            started_mid += usize::from(!plays[0] && plays.iter().any(|&p| p));
            played += plays.iter().filter(|&&p| p).count();
        }
        assert_eq!(started_mid, 0, "quotes started mid-way");
        assert!(
            (played as f64 / 6000.0 - 0.5).abs() <= 0.01,
            "{played} of 6000"
        );
        // A long quote is cut, not the share: the credit falls from +2 to -2 at 0.9 an event,
        // so at a share of 0.1 a quote plays four events.
        let mut gate = QuoteGate::default();
        let run = (0..20).take_while(|&e| gate.plays(0.1, e == 0)).count();
        assert_eq!(run, 4);
        // Out-of-range shares are clamped: above one everything plays; below zero, nothing
        // after the first quote.
        let mut gate = QuoteGate::default();
        assert!((0..100).all(|e| gate.plays(1.5, e % 3 == 0)));
        let mut gate = QuoteGate::default();
        let played = (0..100).filter(|&e| gate.plays(-1.0, e % 3 == 0)).count();
        assert_eq!(played, 3);
    }

    #[test]
    fn velocity_follows_loudness() {
        assert!(velocity(-6.0, 1.0) > 0.99);
        assert!(velocity(-60.0, 1.0) <= 0.05);
        assert!(velocity(-30.0, 1.0) > velocity(-40.0, 1.0));
        assert_eq!(velocity(-6.0, 0.0), 0.0);
    }
}
