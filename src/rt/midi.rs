//! Worker -> audio hand-off of timed notes, and their sample-accurate playout.
//!
//! The worker sends [`NoteEvent`]s (absolute start sample on the writer's clock, duration)
//! through a bounded wait-free SPSC ring ([`NoteSender`]). On the audio thread the
//! [`MidiScheduler`] moves them into a fixed-capacity pending list sorted by start, and per
//! block emits note on/off as [`MidiOut`] with `timing` = offset inside the block, in time
//! order (offs before ons at the same offset). Started notes wait for their note off in a
//! fixed active-notes table, so notes may straddle any number of blocks.
//!
//! Policies (all counted in [`MidiCounters`]):
//! - A note whose start is already past: if its end is still ahead it starts at offset 0 and
//!   still ends at its original absolute sample (`late_started`); if it has ended too it is
//!   dropped (`late_dropped`).
//! - Queue full (worker side), pending list full or active table full: the new note is
//!   dropped before it ever sounds, so nothing can hang (`dropped_*`).
//! - A note on for a note already sounding on the same channel first sends that note's note
//!   off at the same offset, then restarts it with the new end. If that note started at the
//!   very same sample (notes of one pitch quantised onto one grid point), the two are one
//!   note: it keeps sounding until the later of the two ends, with no zero-length restart.
//! - Duration 0 is played as 1 sample. Notes above 127 or channels above 15 are dropped
//!   (`dropped_invalid`).
//! - [`MidiScheduler::all_notes_off`] ends every sounding note and discards every pending one
//!   (deactivate, reset, transport stop).
//! - A [`Revoice`] (the chord the input holds now, heard while phrases wait) leaves out every
//!   note queued before it that has not started, starts in its span, whose pitch class is not
//!   in its chord and which was chosen against a chord that lacks one of its classes or held
//!   the note's (the input changed chord since: `revoiced`), except the notes that mark
//!   musical time while a note of their onset stays: a beat-mode event's note on the grid, a
//!   bar-mode phrase's first note. The queue keeps the order the worker sent in, so notes sent
//!   after a revoice are never touched by it.
//!
//! Capacities are fixed at compile time; nothing here allocates after construction.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Capacity of the worker -> audio queue and of the pending list.
pub const MAX_PENDING: usize = 512;
/// Most notes sounding at once.
pub const MAX_ACTIVE: usize = 128;
/// Highest MIDI channel index (0-based).
pub const MAX_CHANNEL: u8 = 15;
/// Highest MIDI note number.
pub const MAX_NOTE: u8 = 127;

/// A note to play, decided by the worker.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoteEvent {
    /// MIDI note number, 0..=127.
    pub note: u8,
    /// Velocity, 0..=1 (clamped when played).
    pub velocity: f32,
    /// MIDI channel, 0..=15.
    pub channel: u8,
    /// Absolute sample index of the note on, on the segment writer's clock.
    pub start_sample: u64,
    /// Length in samples (0 is played as 1).
    pub duration_samples: u32,
    /// Musical timing: when set, the note is timed by the beat clock instead of
    /// `start_sample`/`duration_samples` (see [`MidiScheduler::process_block_clocked`]).
    pub beat: Option<BeatTime>,
    /// Pitch classes of the input's chord the note was chosen against (bit 0 = C; 0: not
    /// known). A [`Revoice`] leaves the note out only when the input has changed chord since:
    /// the chord it brings holds a class this one does not, or lacks the note's class where
    /// this one had it.
    pub chord: u16,
}

/// A note's place in musical time (quarter-note beats on the plugin's beat clock).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BeatTime {
    /// Beat position of the note on.
    pub start: f64,
    /// Length in beats (converted to samples at the tempo of the block the note starts in).
    pub duration: f64,
    /// Grid step the start sits on (beats), 0 for none: after a jump or a late arrival the note
    /// goes back onto this grid.
    pub grid: f32,
    /// Swing of that grid (see [`crate::rt::clock::next_grid_point`]).
    pub swing: f32,
    /// *bar* mode: beats from the first note of the note's phrase, which sits on a bar line.
    /// After a jump the phrase moves as one so that its first note is on the next bar line.
    pub phrase_offset: Option<f64>,
}

/// The chord the worker heard the input hold while notes it had already queued wait to start:
/// of those, the ones that start in `[from_sample, until_sample)` (beat-timed ones: in
/// `beats`), whose pitch class is not in `keep` (bit `pc` set for pitch class `pc`) and whose
/// own [`NoteEvent::chord`] lacks a class of `keep` or holds the note's (the input changed
/// chord since the note was chosen) are left out. A player who hears the harmony move leaves
/// out what would now clash. The span ends where the worker listens again, so each note is
/// judged by the chord heard just before it, not by every chord the input passes through
/// while it waits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Revoice {
    /// The span it applies to, samples on the segment writer's clock.
    pub from_sample: u64,
    pub until_sample: u64,
    /// For beat-timed notes: the span in beats on the worker's clock (`None`: beat-timed notes
    /// are kept).
    pub beats: Option<(f64, f64)>,
    /// Pitch classes that sound in the chord now (bit 0 = C).
    pub keep: u16,
    /// *Beat* and *Bar* mode: notes that start up to this many beats after a note that marks
    /// musical time (on the grid, or a phrase's first on its bar line) belong to its onset and
    /// moved with it. That note goes only with all of them, so what stays of an event still
    /// starts on the grid, and a phrase on its line unless its whole first onset clashes.
    pub event_beats: f64,
}

impl Revoice {
    /// Whether `e` (not started yet) is left out.
    fn leaves_out(&self, e: &NoteEvent) -> bool {
        let inside = match e.beat {
            Some(b) => self
                .beats
                .is_some_and(|(from, until)| (from..until).contains(&b.start)),
            None => (self.from_sample..self.until_sample).contains(&e.start_sample),
        };
        // Only a chord the note was not chosen against moves it: one with a class its chord
        // lacked, or one without the note's class where its chord had it (a clashing note
        // chosen against this very chord, or one of its tones, was kept by the voicing on
        // purpose).
        let class = 1 << (e.note % 12);
        let changed = e.chord == 0 || self.keep & !e.chord != 0 || e.chord & class != 0;
        inside && changed && self.keep & class == 0
    }

    /// Whether `list[i]`, a beat-timed note that [`Self::leaves_out`], may go: a note that
    /// marks musical time ([`marks_time`]) goes only when every note of its onset (`list`
    /// sorted by beat, descending: those before it, up to `event_beats` later, not marking
    /// time themselves) goes too.
    fn takes_beat_note(&self, list: &[NoteEvent], i: usize) -> bool {
        let Some(anchor) = list[i].beat.filter(marks_time) else {
            return true;
        };
        list[..i]
            .iter()
            .rev()
            .map_while(|n| {
                n.beat
                    .filter(|b| b.start <= anchor.start + self.event_beats)
                    .map(|b| (n, b))
            })
            .all(|(n, b)| marks_time(&b) || self.leaves_out(n))
    }
}

/// Whether a beat-timed note marks musical time: a note on the grid (the first of a Beat-mode
/// event) or the first of a Bar-mode phrase (on its bar line).
fn marks_time(b: &BeatTime) -> bool {
    b.grid > 0.0 || b.phrase_offset == Some(0.0)
}

/// What travels from the worker to the audio thread, in the order it was sent.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Hand {
    Note(NoteEvent),
    Revoice(Revoice),
}

/// The beat clock over one block, as the scheduler needs it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BeatSpan {
    /// Beat position of the block's first sample.
    pub beats: f64,
    /// Beats per sample (tempo) during the block.
    pub beats_per_sample: f64,
    /// First beat of the current bar (the grid's origin).
    pub bar_start: f64,
    /// Bar length in beats (the grid restarts at every bar line).
    pub beats_per_bar: f64,
}

/// What the scheduler emits; `timing` is the sample offset inside the current block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MidiOut {
    NoteOn {
        timing: u32,
        channel: u8,
        note: u8,
        velocity: f32,
    },
    NoteOff {
        timing: u32,
        channel: u8,
        note: u8,
        velocity: f32,
    },
}

impl MidiOut {
    /// Offset inside the block.
    pub fn timing(&self) -> u32 {
        match *self {
            MidiOut::NoteOn { timing, .. } | MidiOut::NoteOff { timing, .. } => timing,
        }
    }
}

/// Counters shared by both ends (relaxed atomics; telemetry reads them).
#[derive(Debug, Default)]
pub struct MidiCounters {
    /// Notes accepted by the queue.
    pub sent: AtomicU64,
    /// Note ons emitted.
    pub started: AtomicU64,
    /// Dropped because the worker -> audio queue was full.
    pub dropped_queue_full: AtomicU64,
    /// Dropped because the pending list was full.
    pub dropped_pending_full: AtomicU64,
    /// Dropped because [`MAX_ACTIVE`] notes were already sounding.
    pub dropped_active_full: AtomicU64,
    /// Dropped for an out-of-range note or channel.
    pub dropped_invalid: AtomicU64,
    /// Started late, at offset 0.
    pub late_started: AtomicU64,
    /// Dropped because they had already ended when they reached the audio thread.
    pub late_dropped: AtomicU64,
    /// Pending notes discarded by `all_notes_off`.
    pub cancelled: AtomicU64,
    /// Revoices received.
    pub revoices: AtomicU64,
    /// Pending notes a revoice left out.
    pub revoiced: AtomicU64,
}

/// A copy of [`MidiCounters`] at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MidiStats {
    pub sent: u64,
    pub started: u64,
    pub dropped_queue_full: u64,
    pub dropped_pending_full: u64,
    pub dropped_active_full: u64,
    pub dropped_invalid: u64,
    pub late_started: u64,
    pub late_dropped: u64,
    pub cancelled: u64,
    pub revoices: u64,
    pub revoiced: u64,
}

impl MidiCounters {
    /// Snapshot of all counters.
    pub fn snapshot(&self) -> MidiStats {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        MidiStats {
            sent: l(&self.sent),
            started: l(&self.started),
            dropped_queue_full: l(&self.dropped_queue_full),
            dropped_pending_full: l(&self.dropped_pending_full),
            dropped_active_full: l(&self.dropped_active_full),
            dropped_invalid: l(&self.dropped_invalid),
            late_started: l(&self.late_started),
            late_dropped: l(&self.late_dropped),
            cancelled: l(&self.cancelled),
            revoices: l(&self.revoices),
            revoiced: l(&self.revoiced),
        }
    }
}

/// Create the worker-side sender and the audio-side scheduler. Allocates: not real-time.
pub fn midi_channel() -> (NoteSender, MidiScheduler) {
    let (producer, consumer) = rtrb::RingBuffer::<Hand>::new(MAX_PENDING);
    let counters = Arc::new(MidiCounters::default());
    (
        NoteSender {
            producer,
            counters: counters.clone(),
        },
        MidiScheduler {
            consumer,
            pending: Vec::with_capacity(MAX_PENDING),
            beat_pending: Vec::with_capacity(MAX_PENDING),
            active: [None; MAX_ACTIVE],
            num_active: 0,
            counters,
        },
    )
}

/// Worker end of the note queue.
pub struct NoteSender {
    producer: rtrb::Producer<Hand>,
    counters: Arc<MidiCounters>,
}

impl NoteSender {
    /// Queue a note; if the queue is full the note is dropped, counted and handed back.
    /// Never blocks, never allocates.
    pub fn send(&mut self, event: NoteEvent) -> Result<(), NoteEvent> {
        match self.producer.push(Hand::Note(event)) {
            Ok(()) => {
                self.counters.sent.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(rtrb::PushError::Full(_)) => {
                self.counters
                    .dropped_queue_full
                    .fetch_add(1, Ordering::Relaxed);
                Err(event)
            }
        }
    }

    /// Queue a revoice for the notes queued before it; `false` when the queue is full (it is
    /// then lost: the notes play as decided). Never blocks, never allocates.
    pub fn revoice(&mut self, revoice: Revoice) -> bool {
        self.producer.push(Hand::Revoice(revoice)).is_ok()
    }

    /// Free slots in the queue right now.
    pub fn free_slots(&self) -> usize {
        self.producer.slots()
    }

    /// Shared counters.
    pub fn counters(&self) -> &Arc<MidiCounters> {
        &self.counters
    }
}

/// Beat of a beat-timed note's start (the pending list's sort key).
fn beat_start(e: &NoteEvent) -> f64 {
    e.beat.map_or(f64::NEG_INFINITY, |b| b.start)
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct ActiveNote {
    channel: u8,
    note: u8,
    /// Sample of its note on.
    start_sample: u64,
    end_sample: u64,
}

/// Audio end: plays queued notes out sample-accurately.
pub struct MidiScheduler {
    consumer: rtrb::Consumer<Hand>,
    /// Notes not started yet, sorted by `start_sample` *descending* (next one last, so taking
    /// it is a `pop`); equal starts keep arrival order. Capacity [`MAX_PENDING`], never grown.
    pending: Vec<NoteEvent>,
    /// Beat-timed notes not started yet, sorted by beat *descending* like `pending`. A note
    /// moves to `pending` in the block its beat falls in.
    beat_pending: Vec<NoteEvent>,
    active: [Option<ActiveNote>; MAX_ACTIVE],
    num_active: usize,
    counters: Arc<MidiCounters>,
}

impl MidiScheduler {
    /// Shared counters.
    pub fn counters(&self) -> &Arc<MidiCounters> {
        &self.counters
    }

    /// Notes currently sounding.
    pub fn num_active(&self) -> usize {
        self.num_active
    }

    /// Notes waiting to start (already taken from the queue).
    pub fn num_pending(&self) -> usize {
        self.pending.len() + self.beat_pending.len()
    }

    /// Like [`Self::process_block`], with the beat clock over the block: beat-timed notes
    /// whose beat falls in the block are converted to sample offsets at this block's tempo
    /// (rounded to the nearest sample) and played with the others. A beat-timed note that
    /// arrives after its beat moves to the next point of its grid (or, without a grid, plays
    /// at once). Without a clock (`None`) beat-timed notes wait. Real-time safe.
    pub fn process_block_clocked(
        &mut self,
        block_start_sample: u64,
        block_len: u32,
        clock: Option<BeatSpan>,
        emit: impl FnMut(MidiOut),
    ) {
        self.drain_queue();
        if let Some(span) = clock.filter(|s| s.beats_per_sample > 0.0 && block_len > 0) {
            self.release_due_beats(block_start_sample, block_len, span);
        }
        self.play_block(block_start_sample, block_len, emit);
    }

    /// Moves every pending beat-timed note by `delta` beats (a loop jump or relocation: the
    /// answers keep their distance to the playhead) and back onto its grid, counted from the
    /// bar lines (`bar_start` is one, bars are `beats_per_bar` long); a *bar* mode phrase moves
    /// as one so that its first note is on the next bar line. Real-time safe.
    pub fn shift_beats(&mut self, delta: f64, bar_start: f64, beats_per_bar: f64) {
        for e in self.beat_pending.iter_mut() {
            if let Some(b) = e.beat.as_mut() {
                b.start += delta;
                if let Some(offset) = b.phrase_offset.filter(|_| beats_per_bar > 0.0) {
                    // The phrase's first note (shared by all its notes) to the next bar line.
                    let first = b.start - offset;
                    let bars = ((first - bar_start) / beats_per_bar - 1e-9).ceil();
                    b.start = bar_start + bars * beats_per_bar + offset;
                } else if b.grid > 0.0 {
                    b.start = crate::rt::clock::next_grid_point(
                        b.start,
                        bar_start,
                        beats_per_bar,
                        f64::from(b.grid),
                        f64::from(b.swing),
                    );
                }
            }
        }
        // Phrases snapped to bar lines may now overlap other notes out of order: restore the
        // descending order (insertion sort: stable, no allocation, the list is short).
        for i in 1..self.beat_pending.len() {
            let mut j = i;
            while j > 0 && beat_start(&self.beat_pending[j - 1]) < beat_start(&self.beat_pending[j])
            {
                self.beat_pending.swap(j - 1, j);
                j -= 1;
            }
        }
    }

    fn release_due_beats(&mut self, block_start: u64, block_len: u32, span: BeatSpan) {
        // A note's offset is its beat's distance from the block start, rounded: it belongs to
        // this block when that rounds to less than the block length.
        let last = block_len as f64 - 0.5;
        while let Some(mut e) = self.beat_pending.pop() {
            let Some(mut b) = e.beat else { continue };
            let mut x = (b.start - span.beats) / span.beats_per_sample;
            if x >= last {
                self.beat_pending.push(e);
                break;
            }
            if x < -0.5 {
                self.counters.late_started.fetch_add(1, Ordering::Relaxed);
                if b.grid > 0.0 {
                    // Late: the next point of its grid, not off the grid.
                    b.start = crate::rt::clock::next_grid_point(
                        span.beats,
                        span.bar_start,
                        span.beats_per_bar,
                        f64::from(b.grid),
                        f64::from(b.swing),
                    );
                    x = (b.start - span.beats) / span.beats_per_sample;
                    if x >= last {
                        e.beat = Some(b);
                        self.insert_beat(e);
                        continue;
                    }
                }
            }
            let offset = x.round().max(0.0) as u64;
            let duration = (b.duration / span.beats_per_sample).round();
            e.start_sample = block_start + offset;
            e.duration_samples = duration.clamp(1.0, u32::MAX as f64) as u32;
            e.beat = None;
            self.insert_pending(e);
        }
    }

    fn insert_beat(&mut self, e: NoteEvent) {
        if self.beat_pending.len() == MAX_PENDING {
            self.counters
                .dropped_pending_full
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        let start = e.beat.map_or(0.0, |b| b.start);
        let idx = self
            .beat_pending
            .partition_point(|p| p.beat.map_or(0.0, |b| b.start) > start);
        self.beat_pending.insert(idx, e);
    }

    fn insert_pending(&mut self, e: NoteEvent) {
        if self.pending.len() == MAX_PENDING {
            self.counters
                .dropped_pending_full
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        // Descending by start; a new note goes before (lower index than) equal starts so
        // that those, which arrived first, pop first.
        let idx = self
            .pending
            .partition_point(|p| p.start_sample > e.start_sample);
        self.pending.insert(idx, e);
    }

    /// Emit, in time order, every note on/off falling in
    /// `[block_start_sample, block_start_sample + block_len)`, with `timing` in `0..block_len`.
    /// Real-time safe: no alloc, no locks.
    pub fn process_block(
        &mut self,
        block_start_sample: u64,
        block_len: u32,
        emit: impl FnMut(MidiOut),
    ) {
        self.drain_queue();
        self.play_block(block_start_sample, block_len, emit);
    }

    /// Emits the block's note ons and offs from the pending list (the queue already drained).
    fn play_block(
        &mut self,
        block_start_sample: u64,
        block_len: u32,
        mut emit: impl FnMut(MidiOut),
    ) {
        if block_len == 0 {
            return;
        }
        let block_end = block_start_sample + block_len as u64;
        loop {
            let off = self.earliest_off().filter(|&(_, end)| end < block_end);
            let on = self
                .pending
                .last()
                .map(|e| e.start_sample.max(block_start_sample))
                .filter(|&s| s < block_end);
            // Offs first when at the same sample (or earlier), so a note can end and restart
            // on the same sample.
            let take_off = match (off, on) {
                (Some((_, end)), Some(start)) => end <= start,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            if take_off {
                if let Some((slot, end)) = off {
                    self.end_note(
                        slot,
                        end.saturating_sub(block_start_sample) as u32,
                        &mut emit,
                    );
                }
            } else if let Some(e) = self.pending.pop() {
                self.start_note(e, block_start_sample, &mut emit);
            }
        }
    }

    fn end_note(&mut self, slot: usize, timing: u32, emit: &mut impl FnMut(MidiOut)) {
        if let Some(a) = self.active[slot].take() {
            self.num_active -= 1;
            emit(MidiOut::NoteOff {
                timing,
                channel: a.channel,
                note: a.note,
                velocity: 0.0,
            });
        }
    }

    /// Takes over the notes still sounding in `previous` (the scheduler of an earlier
    /// activation, whose clock is gone), so that the next [`Self::all_notes_off`] ends them: a
    /// deactivation in the middle of a note must not leave it hanging downstream. Notes already
    /// sounding here on the same key are kept once; beyond [`MAX_ACTIVE`] the rest are dropped
    /// (counted). Main thread (activation); no allocation.
    pub fn adopt_sounding(&mut self, previous: &MidiScheduler) {
        for a in previous.active.iter().flatten() {
            let held = self
                .active
                .iter()
                .flatten()
                .any(|b| b.channel == a.channel && b.note == a.note);
            if held {
                continue;
            }
            match self.active.iter_mut().find(|slot| slot.is_none()) {
                Some(slot) => {
                    *slot = Some(ActiveNote {
                        start_sample: 0,
                        end_sample: 0,
                        ..*a
                    });
                    self.num_active += 1;
                }
                None => {
                    self.counters
                        .dropped_active_full
                        .fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// End every sounding note at `timing` and discard every pending note, including those
    /// still in the queue (deactivate, reset, transport stop). Real-time safe: no alloc, no
    /// locks.
    pub fn all_notes_off(&mut self, timing: u32, mut emit: impl FnMut(MidiOut)) {
        for slot in self.active.iter_mut() {
            if let Some(a) = slot.take() {
                emit(MidiOut::NoteOff {
                    timing,
                    channel: a.channel,
                    note: a.note,
                    velocity: 0.0,
                });
            }
        }
        self.num_active = 0;
        let mut cancelled = (self.pending.len() + self.beat_pending.len()) as u64;
        self.pending.clear();
        self.beat_pending.clear();
        while let Ok(hand) = self.consumer.pop() {
            cancelled += u64::from(matches!(hand, Hand::Note(_)));
        }
        if cancelled > 0 {
            self.counters
                .cancelled
                .fetch_add(cancelled, Ordering::Relaxed);
        }
    }

    fn drain_queue(&mut self) {
        while let Ok(hand) = self.consumer.pop() {
            let e = match hand {
                Hand::Note(e) => e,
                Hand::Revoice(r) => {
                    self.revoice(&r);
                    continue;
                }
            };
            if e.note > MAX_NOTE || e.channel > MAX_CHANNEL {
                self.counters
                    .dropped_invalid
                    .fetch_add(1, Ordering::Relaxed);
                continue;
            }
            if e.beat
                .is_some_and(|b| b.start.is_finite() && b.duration.is_finite())
            {
                self.insert_beat(e);
            } else if e.beat.is_some() {
                self.counters
                    .dropped_invalid
                    .fetch_add(1, Ordering::Relaxed);
            } else {
                self.insert_pending(e);
            }
        }
    }

    /// Applies `r` to the notes waiting (both lists keep their order: `retain` is stable and
    /// does not allocate).
    fn revoice(&mut self, r: &Revoice) {
        let before = self.pending.len() + self.beat_pending.len();
        self.pending.retain(|e| !r.leaves_out(e));
        // Decided on the list as it stands (an event's notes are judged together), then
        // removed in one pass.
        let mut gone = [false; MAX_PENDING];
        for (i, e) in self.beat_pending.iter().enumerate() {
            gone[i] = r.leaves_out(e) && r.takes_beat_note(&self.beat_pending, i);
        }
        let mut i = 0;
        self.beat_pending.retain(|_| {
            i += 1;
            !gone[i - 1]
        });
        let left_out = before - self.pending.len() - self.beat_pending.len();
        self.counters.revoices.fetch_add(1, Ordering::Relaxed);
        self.counters
            .revoiced
            .fetch_add(left_out as u64, Ordering::Relaxed);
    }

    fn earliest_off(&self) -> Option<(usize, u64)> {
        if self.num_active == 0 {
            return None;
        }
        let mut best: Option<(usize, u64)> = None;
        for (i, a) in self.active.iter().enumerate() {
            if let Some(a) = a {
                if best.is_none_or(|(_, e)| a.end_sample < e) {
                    best = Some((i, a.end_sample));
                }
            }
        }
        best
    }

    fn start_note(&mut self, e: NoteEvent, block_start: u64, emit: &mut impl FnMut(MidiOut)) {
        let end = e.start_sample + e.duration_samples.max(1) as u64;
        let start = if e.start_sample < block_start {
            if end <= block_start {
                self.counters.late_dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            self.counters.late_started.fetch_add(1, Ordering::Relaxed);
            block_start
        } else {
            e.start_sample
        };
        let timing = (start - block_start) as u32;
        let existing = self
            .active
            .iter()
            .position(|a| a.is_some_and(|a| a.channel == e.channel && a.note == e.note));
        let slot = match existing {
            Some(i) => {
                if let Some(a) = self.active[i].as_mut().filter(|a| a.start_sample == start) {
                    // The same note twice at one sample: one note, to the later end.
                    a.end_sample = a.end_sample.max(end);
                    return;
                }
                self.end_note(i, timing, emit);
                i
            }
            None => match self.active.iter().position(|a| a.is_none()) {
                Some(i) => i,
                None => {
                    self.counters
                        .dropped_active_full
                        .fetch_add(1, Ordering::Relaxed);
                    return;
                }
            },
        };
        self.active[slot] = Some(ActiveNote {
            channel: e.channel,
            note: e.note,
            start_sample: start,
            end_sample: end,
        });
        self.num_active += 1;
        self.counters.started.fetch_add(1, Ordering::Relaxed);
        emit(MidiOut::NoteOn {
            timing,
            channel: e.channel,
            note: e.note,
            velocity: e.velocity.clamp(0.0, 1.0),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(note: u8, start: u64, dur: u32) -> NoteEvent {
        NoteEvent {
            note,
            velocity: 0.8,
            channel: 0,
            start_sample: start,
            duration_samples: dur,
            beat: None,
            chord: 0,
        }
    }

    fn run(s: &mut MidiScheduler, start: u64, len: u32) -> Vec<MidiOut> {
        let mut v = vec![];
        s.process_block(start, len, |e| v.push(e));
        v
    }

    fn on(timing: u32, note: u8) -> MidiOut {
        MidiOut::NoteOn {
            timing,
            channel: 0,
            note,
            velocity: 0.8,
        }
    }

    fn off(timing: u32, note: u8) -> MidiOut {
        MidiOut::NoteOff {
            timing,
            channel: 0,
            note,
            velocity: 0.0,
        }
    }

    mod timing {
        use super::*;

        #[test]
        fn note_straddling_blocks_ends_at_its_sample() {
            let (mut tx, mut s) = midi_channel();
            tx.send(note(60, 100, 300)).unwrap();
            assert_eq!(run(&mut s, 0, 128), vec![on(100, 60)]);
            assert_eq!(run(&mut s, 128, 128), vec![]);
            assert_eq!(run(&mut s, 256, 128), vec![]);
            assert_eq!(run(&mut s, 384, 128), vec![off(400 - 384, 60)]);
            assert_eq!(s.num_active(), 0);
        }

        #[test]
        fn events_come_out_sorted_with_offs_first() {
            let (mut tx, mut s) = midi_channel();
            tx.send(note(64, 50, 10)).unwrap();
            tx.send(note(60, 10, 40)).unwrap(); // ends at 50, where 64 starts
            tx.send(note(62, 10, 5)).unwrap();
            let out = run(&mut s, 0, 64);
            assert_eq!(
                out,
                vec![
                    on(10, 60),
                    on(10, 62),
                    off(15, 62),
                    off(50, 60),
                    on(50, 64),
                    off(60, 64)
                ]
            );
        }

        #[test]
        fn retrigger_sends_note_off_first() {
            let (mut tx, mut s) = midi_channel();
            tx.send(note(60, 0, 100)).unwrap();
            tx.send(note(60, 20, 10)).unwrap();
            assert_eq!(
                run(&mut s, 0, 64),
                vec![on(0, 60), off(20, 60), on(20, 60), off(30, 60)]
            );
            assert_eq!(s.num_active(), 0);
        }

        #[test]
        fn late_notes_start_at_zero_or_drop() {
            let (mut tx, mut s) = midi_channel();
            tx.send(note(60, 10, 200)).unwrap(); // ends at 210: still ahead
            tx.send(note(61, 10, 50)).unwrap(); // ended at 60: dropped
            assert_eq!(run(&mut s, 128, 128), vec![on(0, 60), off(82, 60)]);
            let st = s.counters().snapshot();
            assert_eq!((st.late_started, st.late_dropped), (1, 1));
        }

        #[test]
        fn zero_duration_lasts_one_sample() {
            let (mut tx, mut s) = midi_channel();
            tx.send(note(60, 63, 0)).unwrap();
            assert_eq!(run(&mut s, 0, 64), vec![on(63, 60)]);
            assert_eq!(run(&mut s, 64, 64), vec![off(0, 60)]);
        }
    }

    mod overflow {
        use super::*;

        #[test]
        fn queue_full_is_counted_and_returned() {
            let (mut tx, _s) = midi_channel();
            for i in 0..MAX_PENDING {
                tx.send(note(60, i as u64, 1)).unwrap();
            }
            assert!(tx.send(note(61, 0, 1)).is_err());
            assert_eq!(tx.counters().snapshot().dropped_queue_full, 1);
        }

        #[test]
        fn active_table_full_drops_new_notes_without_hanging() {
            let (mut tx, mut s) = midi_channel();
            for i in 0..(MAX_ACTIVE + 3) {
                tx.send(NoteEvent {
                    channel: (i / 128) as u8,
                    note: (i % 128) as u8,
                    ..note(0, 0, 1000)
                })
                .unwrap();
            }
            let out = run(&mut s, 0, 64);
            assert_eq!(out.len(), MAX_ACTIVE);
            assert_eq!(s.counters().snapshot().dropped_active_full, 3);
            let out = run(&mut s, 1000, 64);
            assert_eq!(out.len(), MAX_ACTIVE);
            assert!(out
                .iter()
                .all(|e| matches!(e, MidiOut::NoteOff { timing: 0, .. })));
        }

        #[test]
        fn invalid_notes_are_dropped() {
            let (mut tx, mut s) = midi_channel();
            tx.send(note(128, 0, 10)).unwrap();
            tx.send(NoteEvent {
                channel: 16,
                ..note(60, 0, 10)
            })
            .unwrap();
            assert!(run(&mut s, 0, 64).is_empty());
            assert_eq!(s.counters().snapshot().dropped_invalid, 2);
        }
    }

    mod reset {
        use super::*;

        #[test]
        fn all_notes_off_ends_sounding_and_cancels_pending() {
            let (mut tx, mut s) = midi_channel();
            tx.send(note(60, 0, 1000)).unwrap();
            tx.send(note(62, 5000, 10)).unwrap();
            run(&mut s, 0, 64);
            tx.send(note(64, 6000, 10)).unwrap(); // still in the queue
            let mut out = vec![];
            s.all_notes_off(7, |e| out.push(e));
            assert_eq!(out, vec![off(7, 60)]);
            assert_eq!(s.counters().snapshot().cancelled, 2);
            assert!(run(&mut s, 5000, 2000).is_empty());
        }

        /// Two notes of one key at one sample are one note to the later end (beat mode puts
        /// a pitch held over several frames onto one grid point); at another sample the
        /// second restarts the key.
        #[test]
        fn the_same_key_twice_at_one_sample_is_one_note() {
            let (mut tx, mut s) = midi_channel();
            tx.send(note(60, 10, 100)).unwrap();
            tx.send(note(60, 10, 300)).unwrap();
            tx.send(note(60, 10, 50)).unwrap();
            tx.send(note(62, 20, 40)).unwrap();
            tx.send(note(62, 30, 40)).unwrap();
            let mut out = run(&mut s, 0, 256);
            out.extend(run(&mut s, 256, 256));
            let key = |e: &MidiOut| match *e {
                MidiOut::NoteOn { timing, note, .. } => (note, true, timing),
                MidiOut::NoteOff { timing, note, .. } => (note, false, timing),
            };
            let sixty: Vec<_> = out.iter().map(key).filter(|k| k.0 == 60).collect();
            assert_eq!(sixty, vec![(60, true, 10), (60, false, 310 - 256)]);
            let sixty_two: Vec<_> = out.iter().map(key).filter(|k| k.0 == 62).collect();
            assert_eq!(
                sixty_two,
                vec![
                    (62, true, 20),
                    (62, false, 30),
                    (62, true, 30),
                    (62, false, 70)
                ]
            );
        }

        /// Notes sounding when the plugin is deactivated are ended by the next activation's
        /// scheduler, once each; notes that already ended are not repeated.
        #[test]
        fn a_new_scheduler_ends_the_notes_the_previous_one_left_sounding() {
            let (mut tx, mut old) = midi_channel();
            tx.send(note(60, 0, 100_000)).unwrap();
            tx.send(note(64, 10, 100_000)).unwrap();
            tx.send(note(67, 20, 30)).unwrap(); // ends inside the block
            let played = run(&mut old, 0, 256);
            assert_eq!(
                played
                    .iter()
                    .filter(|e| matches!(e, MidiOut::NoteOn { .. }))
                    .count(),
                3
            );
            assert_eq!(old.num_active(), 2);
            let (_tx2, mut new) = midi_channel();
            new.adopt_sounding(&old);
            new.adopt_sounding(&old); // twice: still one note off per key
            assert_eq!(new.num_active(), 2);
            let mut out = vec![];
            new.all_notes_off(0, |e| out.push(e));
            assert_eq!(out, vec![off(0, 60), off(0, 64)]);
            assert!(run(&mut new, 0, 256).is_empty());
        }

        /// A loop jump to another place in the bar: a pending *bar* phrase moves as one, its
        /// first note onto the next bar line, its other notes at their distances from it.
        #[test]
        fn a_bar_phrase_pending_at_a_jump_starts_on_the_next_bar_line() {
            let (mut tx, mut s) = midi_channel();
            // A phrase on the bar line at beat 8 (4/4), notes at 8, 9 and 10.5.
            for (n, offset) in [(60, 0.0), (62, 1.0), (64, 2.5)] {
                tx.send(bar_note(n, 8.0 + offset, offset, 0.5)).unwrap();
            }
            // Take them from the queue (clock at beat 0, nothing due yet).
            let bps = 2.0 / 48_000.0;
            let span = BeatSpan {
                beats: 0.0,
                beats_per_sample: bps,
                bar_start: 0.0,
                beats_per_bar: 4.0,
            };
            s.process_block_clocked(0, 64, Some(span), |_| {});
            // The host jumps back 1.25 beats: the phrase would start at 6.75, mid-bar.
            s.shift_beats(-1.25, 0.0, 4.0);
            let mut pending: Vec<(u8, f64)> = s
                .beat_pending
                .iter()
                .map(|e| (e.note, e.beat.unwrap().start))
                .collect();
            pending.sort_by(|a, b| a.1.total_cmp(&b.1));
            assert_eq!(pending, vec![(60, 8.0), (62, 9.0), (64, 10.5)]);
            // Jumping forward by 0.5 beat: from 8.5 to the next bar line, 12.
            s.shift_beats(0.5, 0.0, 4.0);
            let firsts: Vec<f64> = s
                .beat_pending
                .iter()
                .map(|e| e.beat.unwrap().start)
                .collect();
            assert_eq!(firsts, vec![14.5, 13.0, 12.0], "descending, next one last");
        }

        fn beat_note(n: u8, start: f64, duration: f64, grid: f32) -> NoteEvent {
            NoteEvent {
                beat: Some(BeatTime {
                    start,
                    duration,
                    grid,
                    swing: 0.0,
                    phrase_offset: None,
                }),
                ..note(n, 0, 0)
            }
        }

        /// A note of a Bar-mode phrase: it starts `offset` beats after the phrase's first.
        fn bar_note(n: u8, start: f64, offset: f64, duration: f64) -> NoteEvent {
            NoteEvent {
                beat: Some(BeatTime {
                    start,
                    duration,
                    grid: 0.0,
                    swing: 0.0,
                    phrase_offset: Some(offset),
                }),
                ..note(n, 0, 0)
            }
        }

        /// The note ons of `out` as (absolute sample, note), in time order.
        fn note_ons(out: &[(u64, MidiOut)]) -> Vec<(u64, u8)> {
            let mut ons: Vec<(u64, u8)> = out
                .iter()
                .filter_map(|&(at, e)| match e {
                    MidiOut::NoteOn { note, .. } => Some((at, note)),
                    _ => None,
                })
                .collect();
            ons.sort_unstable();
            ons
        }

        /// Plays `blocks` blocks of `len` samples on a clock of `bps` beats per sample that
        /// starts at beat `beats0`; returns (absolute sample, event).
        fn play_clocked(
            s: &mut MidiScheduler,
            len: u32,
            blocks: u64,
            beats0: f64,
            bps: f64,
        ) -> Vec<(u64, MidiOut)> {
            let mut out = vec![];
            for k in 0..blocks {
                let start = k * len as u64;
                let span = BeatSpan {
                    beats: beats0 + start as f64 * bps,
                    beats_per_sample: bps,
                    bar_start: 0.0,
                    beats_per_bar: 4.0,
                };
                s.process_block_clocked(start, len, Some(span), |e| {
                    out.push((start + e.timing() as u64, e))
                });
            }
            out
        }

        #[test]
        fn beat_timed_notes_land_on_their_beat_at_the_blocks_tempo() {
            let (mut tx, mut s) = midi_channel();
            // 120 BPM at 48 kHz: 24,000 samples per beat. Beats 1, 2.5 and 3.25, odd blocks.
            let bps = 1.0 / 24_000.0;
            for (n, b) in [(60, 1.0), (62, 2.5), (64, 3.25)] {
                tx.send(beat_note(n, b, 0.5, 0.0)).unwrap();
            }
            let out = play_clocked(&mut s, 997, 100, 0.0, bps);
            let ons: Vec<(u64, u8)> = out
                .iter()
                .filter_map(|&(t, e)| match e {
                    MidiOut::NoteOn { note, .. } => Some((t, note)),
                    _ => None,
                })
                .collect();
            assert_eq!(ons, vec![(24_000, 60), (60_000, 62), (78_000, 64)]);
            // Half a beat long.
            let off60 = out
                .iter()
                .find(|(_, e)| matches!(e, MidiOut::NoteOff { note: 60, .. }))
                .unwrap();
            assert_eq!(off60.0, 36_000);
            // A beat-timed note never plays without a clock.
            let (mut tx, mut s) = midi_channel();
            tx.send(beat_note(60, 0.0, 1.0, 0.0)).unwrap();
            assert!(run(&mut s, 0, 48_000).is_empty());
            assert_eq!(s.num_pending(), 1);
        }

        #[test]
        fn a_jump_moves_pending_beat_notes_with_the_playhead_and_a_late_one_goes_to_its_grid() {
            let (mut tx, mut s) = midi_channel();
            let bps = 1.0 / 24_000.0;
            tx.send(beat_note(60, 16.5, 0.25, 0.5)).unwrap();
            play_clocked(&mut s, 1000, 1, 15.0, bps);
            // Loop from 16 back to 0: the note due at 16.5 now plays at 0.5.
            s.shift_beats(-16.0, 0.0, 4.0);
            let out = play_clocked(&mut s, 1000, 30, 0.0, bps);
            assert_eq!(out[0].0, 12_000, "{out:?}");
            // Arriving after its beat: the next eighth, not off the grid.
            let (mut tx, mut s) = midi_channel();
            tx.send(beat_note(60, 0.1, 0.25, 0.5)).unwrap();
            let out = play_clocked(&mut s, 1000, 30, 0.2, bps);
            let on = out
                .iter()
                .find(|(_, e)| matches!(e, MidiOut::NoteOn { .. }));
            // Beat 0.5 is 0.3 beats = 7,200 samples after the clock's start.
            assert_eq!(on.unwrap().0, 7_200);
            assert_eq!(s.counters().snapshot().late_started, 1);
        }

        /// A revoice leaves out exactly the notes queued before it that start in its span
        /// (beat-timed ones: its beats) with a pitch class outside its chord; notes already
        /// sounding, notes outside the span and notes sent after it all play.
        #[test]
        fn a_revoice_leaves_out_only_later_clashing_notes_queued_before_it() {
            const C_MAJOR: u16 = 1 | 1 << 4 | 1 << 7;
            let (mut tx, mut s) = midi_channel();
            let bps = 1.0 / 24_000.0;
            // Sounding already when the chord changes (F, not in C major).
            tx.send(note(65, 0, 30_000)).unwrap();
            play_clocked(&mut s, 1000, 1, 0.0, bps);
            // Waiting: before the span (D), in it (D, E, F#+12, C), at its end (D), beat-timed
            // (D and G in it, D before it).
            for (n, start) in [
                (62, 9_000),
                (62, 10_000),
                (64, 10_000),
                (78, 12_000),
                (72, 13_000),
                (62, 14_000),
            ] {
                tx.send(note(n, start, 1_000)).unwrap();
            }
            tx.send(beat_note(62, 0.5, 0.1, 0.0)).unwrap();
            tx.send(beat_note(67, 0.5, 0.1, 0.0)).unwrap();
            tx.send(beat_note(74, 0.3, 0.1, 0.0)).unwrap();
            tx.revoice(Revoice {
                from_sample: 10_000,
                until_sample: 14_000,
                beats: Some((10_000.0 * bps, 14_000.0 * bps)),
                keep: C_MAJOR,
                event_beats: 0.0,
            });
            // Sent after the revoice: decided with the new chord in mind, so it plays.
            tx.send(note(62, 15_000, 1_000)).unwrap();
            let out = play_clocked(&mut s, 1000, 40, 0.0, bps);
            assert_eq!(
                note_ons(&out),
                vec![
                    (7_200, 74),
                    (9_000, 62),
                    (10_000, 64),
                    (12_000, 67),
                    (13_000, 72),
                    (14_000, 62),
                    (15_000, 62)
                ]
            );
            // The note that was sounding ends when it was meant to.
            assert!(out
                .iter()
                .any(|&(at, e)| at == 30_000 && matches!(e, MidiOut::NoteOff { note: 65, .. })));
            let stats = s.counters().snapshot();
            assert_eq!((stats.revoices, stats.revoiced), (1, 3));
            // Without a beat point, beat-timed notes are kept.
            let (mut tx, mut s) = midi_channel();
            tx.send(beat_note(62, 0.5, 0.1, 0.0)).unwrap();
            tx.revoice(Revoice {
                from_sample: 0,
                until_sample: u64::MAX,
                beats: None,
                keep: C_MAJOR,
                event_beats: 0.0,
            });
            let out = play_clocked(&mut s, 1000, 20, 0.0, bps);
            assert_eq!(out.len(), 2, "{out:?}");
        }

        /// In Beat and Bar mode a revoice keeps what marks musical time while a note of its
        /// onset stays: a beat-mode event's note on the grid, a bar-mode phrase's first note
        /// (on its line); the other clashing notes go as in free timing. A phrase whose whole
        /// first onset clashes loses it and starts later.
        #[test]
        fn a_revoice_keeps_the_notes_that_mark_the_grid_and_the_bar_line() {
            const C_MAJOR: u16 = 1 | 1 << 4 | 1 << 7;
            let bps = 1.0 / 24_000.0;
            let (mut tx, mut s) = midi_channel();
            for e in [
                // On the grid (D, clashing) with E of its event: both stay.
                beat_note(62, 1.0, 0.1, 0.25),
                beat_note(64, 1.01, 0.1, 0.0),
                // On the grid with F# of its event, both clashing: both go.
                beat_note(62, 2.0, 0.1, 0.25),
                beat_note(66, 2.02, 0.1, 0.0),
                // E on the grid stays; F# of its event goes.
                beat_note(64, 2.5, 0.1, 0.25),
                beat_note(66, 2.51, 0.1, 0.0),
                // A bar-mode phrase: its first note (D) is kept on the line by the E struck
                // with it; its F# goes.
                bar_note(62, 4.0, 0.0, 0.1),
                bar_note(64, 4.01, 0.01, 0.1),
                bar_note(66, 4.5, 0.5, 0.1),
                // The next phrase's first onset (D, F#) clashes whole: it goes, and the phrase
                // starts with its G.
                bar_note(62, 8.0, 0.0, 0.1),
                bar_note(66, 8.02, 0.02, 0.1),
                bar_note(67, 8.5, 0.5, 0.1),
            ] {
                tx.send(e).unwrap();
            }
            tx.revoice(Revoice {
                from_sample: 0,
                until_sample: 0,
                beats: Some((0.5, 9.0)),
                keep: C_MAJOR,
                event_beats: 0.05,
            });
            assert_eq!(
                note_ons(&play_clocked(&mut s, 1000, 250, 0.0, bps)),
                vec![
                    (24_000, 62),
                    (24_240, 64),
                    (60_000, 64),
                    (96_000, 62),
                    (96_240, 64),
                    (204_000, 67)
                ]
            );
            assert_eq!(s.counters().snapshot().revoiced, 6);
        }

        /// A revoice judges each waiting note by the chord it was chosen against: a note whose
        /// class is not in the new chord goes when the new chord holds a class that chord
        /// lacked, or when the note fitted that chord (the input moved on since). A clashing
        /// note the voicing kept against this very chord stays, as does one kept against a
        /// chord that holds the new one.
        #[test]
        fn a_revoice_leaves_out_only_notes_chosen_against_a_chord_the_input_left() {
            const C_MAJOR: u16 = 1 | 1 << 4 | 1 << 7;
            const F_MAJOR: u16 = 1 << 5 | 1 << 9 | 1;
            let (mut tx, mut s) = midi_channel();
            let chosen = |n: u8, start: u64, chord: u16| NoteEvent {
                chord,
                ..note(n, start, 500)
            };
            for e in [
                // D, kept by the voicing against C major itself: stays.
                chosen(62, 1_000, C_MAJOR),
                // D, chosen against F major: the input left it, D clashes with C major: goes.
                chosen(62, 2_000, F_MAJOR),
                // E, chosen against F major, sounds in C major: stays.
                chosen(64, 3_000, F_MAJOR),
                // F, chosen against nothing known: judged by the new chord alone, goes.
                chosen(65, 4_000, 0),
                // D, chosen against a blend of C major and D: it fitted, and the input left
                // it: goes.
                chosen(62, 5_000, C_MAJOR | 1 << 2),
                // F#, kept by the voicing against that blend: nothing new sounds, stays.
                chosen(66, 6_000, C_MAJOR | 1 << 2),
            ] {
                tx.send(e).unwrap();
            }
            tx.revoice(Revoice {
                from_sample: 0,
                until_sample: u64::MAX,
                beats: None,
                keep: C_MAJOR,
                event_beats: 0.0,
            });
            let ons: Vec<(u64, u8)> = run(&mut s, 0, 8_000)
                .into_iter()
                .filter_map(|e| match e {
                    MidiOut::NoteOn { note, .. } => Some((e.timing() as u64, note)),
                    _ => None,
                })
                .collect();
            assert_eq!(ons, vec![(1_000, 62), (3_000, 64), (6_000, 66)]);
            assert_eq!(s.counters().snapshot().revoiced, 3);
        }

        #[test]
        fn ends_are_send() {
            fn assert_send<T: Send + 'static>() {}
            assert_send::<NoteSender>();
            assert_send::<MidiScheduler>();
            assert_send::<NoteEvent>();
        }
    }
}
