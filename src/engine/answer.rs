//! The answering half of the worker: a live segment in, a timed MIDI phrase out.
//!
//! ```text
//! segment (host rate, 350 ms)
//!   -> Perception::process_segment          (the trainer's path, the corpus' configuration)
//!   -> Vocabulary::tokens                    (the corpus' centroids, both streams)
//!   -> live symbols (driving stream) appended to the query window
//!   -> Improviser::step_guided_taboo per frame (continuity, longest matching context,
//!                                            no state replayed within the taboo time)
//!   -> the chosen frames' payload            (pitches, loudness, onsets)
//!   -> notes: start at a pitch's first frame or at an onset, end when it stops
//! ```
//!
//! Timing: the phrase answering the segment `[s, s + L)` covers `[s + L + m, s + 2L + m)`
//! on the same sample clock, where `m` is [`ANSWER_MARGIN_S`] (room for the worker to finish
//! before the first note is due). The answer therefore follows the input by one segment plus
//! the margin, and consecutive phrases tile the timeline without gaps or overlaps.
//!
//! Plain library code, allocating (worker thread only); deterministic for a given seed,
//! corpus, input and settings.

use std::collections::VecDeque;

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg32;

use crate::corpus::CorpusModel;
use crate::oracle::{DriveStream, Improviser, Oracle, Symbol, MAX_QUERY_LEN};
use crate::perception::{FramePayload, FramePitches, Perception, Vocabulary};
use crate::rt::NoteEvent;

use super::transpose::{ChromaIndex, WINDOW as TRANSPOSE_WINDOW};

/// Time between the end of an input segment and the start of its answer, seconds.
pub const ANSWER_MARGIN_S: f64 = 0.03;
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
    /// Probability that a note the corpus plays is played (0..=1).
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
}

/// What [`Answerer::phrase`] produced.
struct Phrase {
    notes: usize,
    states: Vec<usize>,
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
    /// The corpus' chroma, for the transposition search.
    chroma_index: ChromaIndex,
    /// Chroma of the latest live frames (oldest first).
    live_chroma: VecDeque<[f32; 12]>,
    /// Mean length (frames) of the blocks of the corpus oracle's compror parse.
    typical_run: f64,
    /// The early answers' own front end (never continues a stream).
    early_perception: Perception,
    /// Early encodes so far.
    early_calls: u64,
    /// (state, its previous play time) for each step of the latest phrase, so an early phrase
    /// that is not kept can be undone.
    played_log: Vec<(usize, u64)>,
    /// The navigator's state before an early answer's attempts, each of which starts there.
    early_start_state: usize,
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
        let drive = corpus.oracle.drive;
        let oracle = corpus.oracle()?;
        let typical_run = typical_run(&oracle);
        let last_played = vec![NEVER_PLAYED; oracle.num_states()];
        let early_perception = cfg.build()?;
        Ok(Self {
            typical_run,
            played_log: Vec::with_capacity(256),
            early_start_state: 0,
            early_perception,
            early_calls: 0,
            corpus_frames,
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
            chroma_index: ChromaIndex::new(corpus.frames.iter().map(|f| f.chroma)),
            live_chroma: VecDeque::with_capacity(TRANSPOSE_WINDOW),
        })
    }

    /// The corpus' typical run: frames per block of its oracle's compror parse (the
    /// Lempel-Ziv-like parse behind the information rate, [`crate::oracle::information_rate`]), i.e. how long
    /// the corpus' repeated passages are on average. The novelty dial's middle.
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

    /// Frames in the corpus.
    pub fn corpus_frames(&self) -> usize {
        self.corpus_frames.len()
    }

    /// Oracle states (corpus plus live-learned frames, plus the initial state).
    pub fn oracle_states(&self) -> usize {
        self.improviser.oracle().num_states()
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
        self.drive = drive;
        self.query.clear();
        // Forget what was played: the states are renumbered by the new oracle.
        self.last_played.clear();
        self.last_played
            .resize(self.improviser.oracle().num_states(), NEVER_PLAYED);
    }

    /// Forgets the live context, the query of recent symbols and the key-following window:
    /// segments went unheard (nothing needed their analysis), so what is heard next does not
    /// continue what was heard before. Perception starts a new stream by itself at the gap in
    /// sample positions.
    pub fn pause(&mut self) {
        self.query.clear();
        self.live_chroma.clear();
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
        self.hear(samples, start_sample, host_rate_hz, settings, Some(out))
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
            if self.live_chroma.len() == TRANSPOSE_WINDOW {
                self.live_chroma.pop_front();
            }
            self.live_chroma.push_back(seg.payload[i].chroma);
            if settings.live_learning && self.live_frames.len() < MAX_LIVE_FRAMES {
                self.learn(h, p, &seg.payload[i]);
            }
        }
        let mut answer = SegmentAnswer {
            harmonic: tokens.harmonic,
            percussive: tokens.percussive,
            peak_db,
            notes: 0,
            states: Vec::new(),
            interval: 0,
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
        if settings.transpose_search > 0 {
            let r = settings.transpose_search as i8;
            let live = self.live_chroma.make_contiguous();
            if let Some(found) = self.chroma_index.search(live, r, r) {
                answer.interval = found.interval;
            }
        }
        let query: Vec<Symbol> = self.query.iter().copied().collect();
        let phrase = self.phrase(
            &query,
            n_frames,
            base,
            frame_len,
            answer.interval,
            settings,
            out,
        );
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
        self.early_start_state = self.improviser.navigator_mut().state();
        let prompt = from_sample + (EARLY_PROMPT_S * host_rate_hz as f64).round() as u64;
        // (first note's start, attempt, the generator before it)
        let mut best: Option<(u64, usize, Pcg32)> = None;
        let run = |this: &mut Self, attempt: usize, out: &mut Vec<NoteEvent>| {
            this.early_attempt(
                attempt,
                &query[keep..],
                n_frames,
                from_sample,
                frame_len,
                settings,
                out,
            )
        };
        for attempt in 0..EARLY_ATTEMPTS {
            let rng_before = self.rng.clone();
            let phrase = run(self, attempt, out);
            let first = out[before..].iter().map(|e| e.start_sample).min();
            if let Some(first) = first {
                if first <= prompt {
                    return Ok(phrase);
                }
                if best.as_ref().is_none_or(|b| first < b.0) {
                    best = Some((first, attempt, rng_before));
                }
            }
            out.truncate(before);
            // Newest first, so a state visited twice gets back its time from before both.
            for &(state, was) in self.played_log.iter().rev() {
                if let Some(t) = self.last_played.get_mut(state) {
                    *t = was;
                }
            }
        }
        let Some((_, attempt, rng)) = best else {
            return Ok(0);
        };
        self.rng = rng;
        Ok(run(self, attempt, out))
    }

    /// One navigation of an early phrase from the navigator's state before the first attempt:
    /// guided by the whole `query` for the first EARLY_FULL_QUERY_ATTEMPTS, then by its last
    /// symbol alone (the longest match may be one passage without a held pitch, a drum fill;
    /// any state that follows the sound just heard may start the phrase). Notes appended.
    #[allow(clippy::too_many_arguments)]
    fn early_attempt(
        &mut self,
        attempt: usize,
        query: &[Symbol],
        n_frames: usize,
        from_sample: u64,
        frame_len: f64,
        settings: &AnswerSettings,
        out: &mut Vec<NoteEvent>,
    ) -> usize {
        let start_state = self.early_start_state;
        self.improviser.navigator_mut().set_state(start_state);
        let q = if attempt < EARLY_FULL_QUERY_ATTEMPTS {
            query
        } else {
            &query[query.len() - 1..]
        };
        self.phrase(q, n_frames, from_sample as f64, frame_len, 0, settings, out)
            .notes
    }

    /// Navigates `n_frames` oracle steps guided by `query` and appends their notes, the first
    /// frame at sample `base`, moved by `interval` semitones besides the transpose setting.
    ///
    /// Taboo: each state's play time (host samples) is remembered, and a state played less than
    /// `settings.taboo_s` seconds before (or after: an early phrase may be placed ahead of a
    /// later one) the frame being chosen is avoided unless nothing else matches the query
    /// ([`crate::oracle::Navigator::step_guided_taboo`]). 0 s turns it off.
    #[allow(clippy::too_many_arguments)]
    fn phrase(
        &mut self,
        query: &[Symbol],
        n_frames: usize,
        base: f64,
        frame_len: f64,
        interval: i8,
        settings: &AnswerSettings,
        out: &mut Vec<NoteEvent>,
    ) -> Phrase {
        let continuity = match settings.novelty {
            Some(n) => self.continuity_for_novelty(n),
            None => settings.continuity,
        };
        self.improviser.navigator_mut().set_continuity(continuity);
        let mut states = Vec::with_capacity(n_frames);
        let mut frames: Vec<Played> = Vec::with_capacity(n_frames);
        let taboo_samples = taboo_samples(settings.taboo_s, frame_len * self.frames_per_s);
        self.played_log.clear();
        for j in 0..n_frames {
            let now = (base + j as f64 * frame_len).round() as u64;
            let last_played = &self.last_played;
            let taboo = |state: usize| {
                last_played
                    .get(state)
                    .is_some_and(|&t| t != NEVER_PLAYED && t.abs_diff(now) < taboo_samples)
            };
            let Some(payload) = self
                .improviser
                .step_guided_taboo(query, &mut self.rng, &taboo)
            else {
                return Phrase { notes: 0, states };
            };
            let state = self.improviser.navigator_mut().state();
            if let Some(t) = self.last_played.get_mut(state) {
                self.played_log.push((state, *t));
                *t = now;
            }
            states.push(state);
            frames.push(self.played(payload as usize));
        }
        let shaped = AnswerSettings {
            transpose: settings.transpose.saturating_add(interval),
            ..*settings
        };
        let before = out.len();
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
            });
        });
        out[before..].sort_by_key(|e| (e.start_sample, e.note));
        Phrase {
            notes: out.len() - before,
            states,
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

    fn learn(&mut self, h: u16, p: u16, payload: &FramePayload) {
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
        }
    }
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
/// holds the same pitch without an onset continues the note) and ends where it stops or at the phrase end. Notes shorter than
/// [`MIN_NOTE_FRAMES`] are skipped; each started note is kept with probability `density`.
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

    #[test]
    fn velocity_follows_loudness() {
        assert!(velocity(-6.0, 1.0) > 0.99);
        assert!(velocity(-60.0, 1.0) <= 0.05);
        assert!(velocity(-30.0, 1.0) > velocity(-40.0, 1.0));
        assert_eq!(velocity(-6.0, 0.0), 0.0);
    }
}
