//! The answering loop on the worker thread: take each complete 350 ms segment from the audio
//! thread's ring, let the corpus' [`Answerer`] hear it and answer it, place the phrase in
//! musical time ([`Quantiser`]) and hand its notes to the audio thread's scheduler; answer a
//! transient after silence early, from the part of its segment that has arrived; publish what
//! was heard and the answer delay for the GUI ([`EngineShared`]).
//!
//! ```text
//! SegmentAssembler::next_segment -> Answerer::answer -> Quantiser::place -> NoteSender::send
//! ```
//!
//! [`Listener`] owns the worker's ends of the hand-offs ([`EngineIo`]), the corpus it answers
//! from and the answering state; the worker thread (`crate::worker`) owns the thread and calls
//! [`Listener::poll_corpus`] and [`Listener::step`] on each pass.
//!
//! The corpus (a user `.mhc` or the embedded one) is loaded when its path changes; a bad file
//! keeps the previous corpus and the status says why.

use std::sync::atomic::Ordering;

use super::answer::{chord_classes, Answerer, ALL_CLASSES};
use super::provenance::PROVENANCE_ENV;
use super::quantise::{AnswerMode, Quantiser, EVENT_SPREAD_S};
use super::{EngineCounters, EngineShared, EARLY_LISTEN_S, EMBEDDED_CORPUS, EMBEDDED_CORPUS_NAME};
use crate::corpus::CorpusModel;
use crate::rt::clock::ClockSnapshot;
use crate::rt::{NoteEvent, NoteSender, Revoice, SegmentAssembler, CHUNK_LEN, ONSET_FLOOR};

/// Seed of the answer's random choices: the same session answers the same way every time.
const ANSWER_SEED: u64 = 0x4d75_7369_6348_616c;

/// Environment variable that varies the answer's random choices: an unsigned integer mixed
/// into [`ANSWER_SEED`] when a corpus is installed (0, or no value, keeps it). The answer's
/// figures are averages over several such draws (`docs/ANSWERS.md`).
pub const ANSWER_SEED_ENV: &str = "MUSICHAL_ANSWER_SEED";

/// The seed for a value of [`ANSWER_SEED_ENV`]: that number mixed into [`ANSWER_SEED`];
/// without a value, [`ANSWER_SEED`]; a value that is not an unsigned integer is an error.
fn answer_seed(var: Option<&str>) -> std::result::Result<u64, String> {
    match var {
        None => Ok(ANSWER_SEED),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map(|v| ANSWER_SEED ^ v)
            .map_err(|_| format!("{ANSWER_SEED_ENV}={v:?} is not an unsigned integer")),
    }
}

/// Shortest early phrase worth playing before the segment's own answer, seconds; an onset
/// later in its segment gets an early phrase that also covers that answer's time.
const MIN_EARLY_PHRASE_S: f64 = 0.15;

/// Chord check points per segment: at 1/4, 2/4 and 3/4 of every segment the worker checks the
/// phrase it has already decided against the chord the input holds then (the segment's end
/// gets an answer of its own). A phrase is decided at the end of the segment it answers and
/// plays during the next one, so an input that changes chord meanwhile would otherwise hear
/// the chord it left for up to a segment.
pub const CHECKS_PER_SEGMENT: u64 = 4;

/// The latest chord check point of the segment that starts at `start` (`seg_len` samples) that
/// the samples delivered up to `delivered` have reached; `None` before the first. Point `j` is
/// `start + j * seg_len / CHECKS_PER_SEGMENT`. The audio thread's offline wait
/// (`MusicHal::wait_for_chord_check`) and the worker use this one rule.
pub fn chord_check_point(start: u64, delivered: u64, seg_len: u64) -> Option<u64> {
    (1..CHECKS_PER_SEGMENT)
        .rev()
        .map(|j| start + j * seg_len / CHECKS_PER_SEGMENT)
        .find(|&p| p > start && p <= delivered)
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

/// The answering state of one worker run: the hand-offs, the corpus' answerer (once loaded),
/// the quantiser and what the early answer remembers.
pub struct Listener {
    io: Option<EngineIo>,
    answerer: Option<Answerer>,
    /// `EngineShared::corpus_generation` of the last corpus request handled.
    corpus_generation: u64,
    notes: Vec<NoteEvent>,
    quantiser: Quantiser,
    early: EarlyState,
}

impl Listener {
    /// A listener on `io` (`None`: no audio hand-offs, e.g. a sample rate the ring refuses;
    /// corpora still load and report).
    pub fn new(io: Option<EngineIo>) -> Self {
        Self {
            io,
            answerer: None,
            corpus_generation: u64::MAX,
            notes: Vec::with_capacity(256),
            quantiser: Quantiser::new(),
            early: EarlyState::default(),
        }
    }

    /// Whether a corpus is loaded.
    pub fn has_answerer(&self) -> bool {
        self.answerer.is_some()
    }

    /// Loads the corpus if its path changed since the last call (the first call loads it):
    /// from the next segment on the new corpus answers; a bad file keeps the previous one, and
    /// with none the embedded corpus stands in (see [`load_corpus`]). A panic while loading is
    /// contained and reported in the status. Marks the attempt done for an offline `activate`.
    pub fn poll_corpus(&mut self, shared: &EngineShared) {
        let generation = shared.corpus_generation.load(Ordering::Acquire);
        if generation == self.corpus_generation {
            return;
        }
        self.corpus_generation = generation;
        let has_previous = self.has_answerer();
        let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            load_corpus(shared, has_previous)
        }));
        match loaded {
            Ok(Some(a)) => self.answerer = Some(a),
            Ok(None) => {}
            Err(_) => {
                shared.status.lock().corpus_message =
                    "corpus loading failed with an internal error".into();
            }
        }
        shared.corpus_attempt_done.store(true, Ordering::Release);
    }

    /// Unloads the corpus (after an internal error): nothing is answered until one loads.
    pub fn drop_answerer(&mut self) {
        self.answerer = None;
    }

    /// Handles the oldest complete segment waiting in the ring and returns `true`; with none
    /// waiting, considers an early answer and returns `false` (see [`answer_next_segment`]).
    pub fn step(&mut self, shared: &EngineShared) -> bool {
        let Some(io) = self.io.as_mut() else {
            return false;
        };
        answer_next_segment(
            shared,
            io,
            self.answerer.as_mut(),
            &mut self.notes,
            &mut self.quantiser,
            &mut self.early,
        )
    }
}

/// Loads the requested corpus. On failure the previous one stays (the caller keeps it) and
/// the status says why; with no previous one (`has_previous` false: a session opened with a
/// user corpus that is gone or broken) the embedded corpus stands in, so the plugin still
/// answers, and the status says that too.
fn load_corpus(shared: &EngineShared, has_previous: bool) -> Option<Answerer> {
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
    shared: &EngineShared,
    name: String,
    what: &str,
    model: std::result::Result<CorpusModel, String>,
) -> std::result::Result<Answerer, String> {
    let seed = answer_seed(std::env::var(ANSWER_SEED_ENV).ok().as_deref())?;
    let (model, mut answerer) = model.and_then(|m| {
        Answerer::new(&m, seed)
            .map(|a| (m, a))
            .map_err(|e| format!("{what}: {e}"))
    })?;
    // Evaluation: the quoted notes' provenance, appended to the file the variable names.
    if let Some(path) = std::env::var_os(PROVENANCE_ENV) {
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            Ok(f) => answerer.keep_provenance(Box::new(std::io::BufWriter::new(f))),
            Err(e) => nice_plug::nice_warn!(
                "{PROVENANCE_ENV}: cannot open {}: {e}",
                std::path::Path::new(&path).display()
            ),
        }
    }
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
    shared: &EngineShared,
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
        // The check points this segment's samples passed before the worker saw it whole.
        let context: &[f32] = if early.context_end == segment.start_sample {
            &early.context
        } else {
            &[]
        };
        check_chords(
            shared,
            io.host_rate_hz,
            &mut io.notes,
            &mut io.clock,
            answerer.as_deref_mut().filter(|_| analyse),
            &mut early.checked,
            context,
            segment.start_sample,
            &segment.samples,
            segment.samples.len() as u64,
            u64::MAX,
        );
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
                    // Sound that began only in the segment's last EARLY_LISTEN_S, answered with
                    // nothing, has not been answered yet: its onset may still get an early
                    // answer from the next segment (see `answer_onset_early`).
                    let listen = (EARLY_LISTEN_S * io.host_rate_hz as f64).round() as usize;
                    let unanswered_tail = early.silent_before
                        && heard.notes == 0
                        && early.answered_segment != Some(segment.start_sample)
                        && sound_starts_at(&segment.samples)
                            .is_some_and(|i| i + listen >= segment.samples.len());
                    early.silent_before = heard.peak_db < super::answer::SILENCE_GATE_DB
                        || !settings.listen
                        || unanswered_tail;
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
    // The chord checks and the early answer, each in the order of the sample it waits for,
    // so a render does not depend on when the worker gets to them.
    let listen = (EARLY_LISTEN_S * io.host_rate_hz as f64).round() as u64;
    let early_due = io
        .assembler
        .last_onset()
        .filter(|&onset| counters.early_decided.load(Ordering::Acquire) != onset + 1)
        .map_or(u64::MAX, |onset| onset + listen);
    check_partial(shared, io, answerer.as_deref_mut(), early, early_due);
    if let Some(a) = answerer.as_deref_mut() {
        answer_onset_early(shared, io, a, notes, quantiser, early);
    } else if let Some(onset) = io.assembler.last_onset() {
        // No corpus to answer with (it failed to load, its status says why): the onset is
        // decided, unanswered, so an offline render does not wait for it.
        counters.early_decided.store(onset + 1, Ordering::Release);
    }
    check_partial(shared, io, answerer, early, u64::MAX);
    false
}

/// [`check_chords`] on the segment still arriving, up to `limit`.
fn check_partial(
    shared: &EngineShared,
    io: &mut EngineIo,
    answerer: Option<&mut Answerer>,
    early: &mut EarlyState,
    limit: u64,
) {
    let EngineIo {
        assembler,
        notes,
        host_rate_hz,
        clock,
        ..
    } = io;
    let Some((start, partial)) = assembler.partial() else {
        return;
    };
    let context: &[f32] = if early.context_end == start {
        &early.context
    } else {
        &[]
    };
    let analyse = assembler.partial_wants_analysis();
    check_chords(
        shared,
        *host_rate_hz,
        notes,
        clock,
        answerer.filter(|_| analyse),
        &mut early.checked,
        context,
        start,
        partial,
        assembler.segment_len() as u64,
        limit,
    );
}

/// Follow Changes: at each chord check point ([`chord_check_point`]) of the segment that starts
/// at `start` that `heard` (its samples so far, `context` the previous segment's when they
/// join) has reached, not yet handled (after `checked`) and not after `limit`, hears the chord
/// the input holds now ([`Answerer::chord_now`]) and tells the audio thread to leave out the
/// waiting notes that start from the point + [`super::ANSWER_MARGIN_S`] to the next point + that
/// margin, whose pitch class is not in that chord and which were chosen before the input
/// changed chord (a [`Revoice`]; the scheduler judges each note by the chord it carries). In Free timing the notes of that span were chosen against the chord the latest
/// phrase was voiced to, so the point sends only when the input's chord has a class that one
/// lacks ([`Answerer::changed_classes`]); in Beat and Bar mode the notes of the span wait for
/// the grid or the bar line and were chosen up to a bar or more before, against chords since
/// passed, so every point that hears a chord sends it. Every point is marked handled
/// (`checked_until`), checked or not (`answerer` `None`: no corpus, or the segment is not
/// analysed).
#[allow(clippy::too_many_arguments)]
fn check_chords(
    shared: &EngineShared,
    rate_hz: u32,
    sender: &mut NoteSender,
    clock: &mut triple_buffer::Output<ClockSnapshot>,
    mut answerer: Option<&mut Answerer>,
    checked: &mut u64,
    context: &[f32],
    start: u64,
    heard: &[f32],
    seg_len: u64,
    limit: u64,
) {
    let counters = &shared.counters;
    // In Beat and Bar mode the segment's end is a point too: notes chosen long before may
    // start in the next segment's first quarter (in Free timing the phrase decided there
    // covers it, voiced to the chord heard then).
    let mode = shared.controls.load_timing().mode;
    let last = match mode {
        AnswerMode::Free => CHECKS_PER_SEGMENT - 1,
        _ => CHECKS_PER_SEGMENT,
    };
    for j in 1..=last {
        let point = start + j * seg_len / CHECKS_PER_SEGMENT;
        if point <= *checked || point <= start {
            continue;
        }
        if point > start + heard.len() as u64 || point > limit {
            break;
        }
        *checked = point;
        let settings = shared.controls.load();
        if let Some(a) = answerer
            .as_deref_mut()
            .filter(|_| settings.follow_changes && settings.listen)
        {
            counters.chord_checks.fetch_add(1, Ordering::Relaxed);
            let heard = &heard[..(point - start) as usize];
            match a.chord_now(context, heard, rate_hz, &settings) {
                Ok(Some(chord)) => {
                    let keep = match mode {
                        AnswerMode::Free => a.changed_classes(&chord),
                        _ => Some(chord_classes(&chord)).filter(|&k| k != ALL_CLASSES),
                    };
                    if let Some(keep) = keep {
                        // Up to where the next check point's span starts.
                        let margin = (super::ANSWER_MARGIN_S * rate_hz as f64).round() as u64;
                        let from_sample = point + margin;
                        let until_sample = start + (j + 1) * seg_len / CHECKS_PER_SEGMENT + margin;
                        // In Beat and Bar mode the notes wait for the grid or the bar line:
                        // the span is where the beat clock will be then (the scheduler keeps
                        // the notes that mark the grid and the bar line).
                        let (beats, event_beats) = match mode {
                            AnswerMode::Free => (None, 0.0),
                            _ => {
                                let clock = *clock.read();
                                (
                                    Some((
                                        clock.beats_at(from_sample),
                                        clock.beats_at(until_sample),
                                    )),
                                    EVENT_SPREAD_S * clock.tempo_bpm / 60.0,
                                )
                            }
                        };
                        if sender.revoice(Revoice {
                            from_sample,
                            until_sample,
                            beats,
                            keep,
                            event_beats,
                        }) {
                            counters.revoices_sent.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    counters.errors.fetch_add(1, Ordering::Relaxed);
                    shared.status.lock().corpus_message = format!("chord check failed: {e}");
                }
            }
        }
        counters
            .checked_until
            .fetch_max(point + 1, Ordering::Release);
    }
}

/// Whether the onset at `onset` still waits for its early-answer decision, with the segment
/// that starts at `start` delivered up to `delivered`: its first [`EARLY_LISTEN_S`] (`listen`
/// samples) have all arrived and end inside that segment (an onset whose listening window
/// ended in an earlier segment was that segment's to answer). The audio thread's offline wait
/// (`MusicHal::wait_for_early_answer`) and the worker use this one rule, so an offline render
/// waits exactly for the decisions the worker makes.
pub fn early_onset_pending(onset: u64, start: u64, delivered: u64, listen: u64) -> bool {
    onset + listen > start && delivered >= onset + listen
}

/// Index of the first [`CHUNK_LEN`] chunk of `samples` (counted from their start) whose mean
/// square exceeds the onset detector's floor, in samples; `None` for a silent segment.
fn sound_starts_at(samples: &[f32]) -> Option<usize> {
    samples
        .chunks(CHUNK_LEN)
        .position(|c| c.iter().map(|x| x * x).sum::<f32>() / c.len() as f32 > ONSET_FLOOR)
        .map(|k| k * CHUNK_LEN)
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
    /// The heard samples of an onset that began in the previous segment (reused buffer).
    heard: Vec<f32>,
    /// The latest chord check point handled (see [`check_chords`]).
    checked: u64,
}

impl Default for EarlyState {
    fn default() -> Self {
        Self {
            silent_before: true,
            context: Vec::new(),
            context_end: 0,
            answered_segment: None,
            replaced_segment: None,
            heard: Vec::new(),
            checked: 0,
        }
    }
}

/// Places `notes` in musical time and hands them to the audio thread. With `heard` (the onset
/// or segment start answered after silence) and at least one note, publishes the answer delay:
/// from `heard` to where the first note is placed (after the quantiser's wait for the grid or
/// the bar line, converted to samples at the current tempo), i.e. when it will sound.
fn send_notes(
    shared: &EngineShared,
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
    shared: &EngineShared,
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
    if !early_onset_pending(onset, start, start + partial.len() as u64, listen) {
        // Heard in full by an earlier segment (whose answer had the chance), or not enough
        // heard yet.
        return;
    }
    // An onset in the previous segment's last EARLY_LISTEN_S: its sound runs on into this
    // segment, and it is answered from there if that segment's answer said nothing.
    let in_tail = onset < start;
    let settings = shared.controls.load();
    // The audio thread's flag, not only the settings now: whether this onset may be answered
    // must not depend on when the worker gets to it.
    let wanted = io.assembler.partial_wants_analysis()
        && settings.early
        && settings.listen
        && early.silent_before
        && early.answered_segment != Some(start)
        && (!in_tail || early.context_end == start);
    if wanted {
        let margin = (super::ANSWER_MARGIN_S * rate as f64).round() as u64;
        let heard_end = (onset + listen - start) as usize;
        let (context, heard): (&[f32], &[f32]) = if in_tail {
            // The onset's own samples start in the previous segment (held as context).
            let split = early.context.len() - (start - onset) as usize;
            early.heard.clear();
            early.heard.extend_from_slice(&early.context[split..]);
            early.heard.extend_from_slice(&partial[..heard_end]);
            (&early.context[..split], &early.heard)
        } else if early.context_end == start {
            (&early.context, &partial[..heard_end])
        } else {
            (&[], &partial[..heard_end])
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed variable mixes its number into the fixed seed (0 keeps it) and refuses a
    /// value that is not an unsigned integer, naming the variable.
    #[test]
    fn the_seed_variable_varies_the_draws_and_refuses_what_is_not_a_number() {
        assert_eq!(answer_seed(None), Ok(ANSWER_SEED));
        assert_eq!(answer_seed(Some("0")), Ok(ANSWER_SEED));
        let (a, b) = (answer_seed(Some("11")), answer_seed(Some(" 23 ")));
        assert!(a.is_ok() && b.is_ok() && a != b && a != Ok(ANSWER_SEED));
        let err = answer_seed(Some("eleven")).unwrap_err();
        assert!(
            err.contains(ANSWER_SEED_ENV) && err.contains("eleven"),
            "{err}"
        );
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
            chord: 0,
        });
        let delay_ms = |mode: AnswerMode, grid: Grid| -> f64 {
            let shared = EngineShared::default();
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
}
