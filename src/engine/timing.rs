//! Musical time: where answers land against the host's (or the plugin's own) beat clock.
//!
//! Three answer modes ([`AnswerMode`]):
//! - *free*: notes play as soon as decoded, at their sample times (the engine's default);
//! - *beat*: every note start moves to the next point of a grid (1/4, 1/8, 1/16 or their
//!   triplets, counted from the bar line), with an optional swing that delays every second
//!   grid point;
//! - *bar*: call and response. The answer is cut into one phrase per bar of listening; each
//!   phrase keeps its rhythm and starts on the next bar line.
//!
//! Division of labour (see DESIGN.md, "Threads"):
//! - the audio thread runs a [`MusicalClock`]: each block it reads the host transport (tempo,
//!   time signature, position, playing) or, without one, advances its own beat count at the
//!   `tempo` parameter. It publishes a [`ClockSnapshot`] for the worker and reports loop jumps
//!   and transport stops ([`ClockBlock`]);
//! - the worker's [`Quantiser`] turns each decoded note's sample time into a beat time on the
//!   grid (using the latest snapshot) and sends it *in beats*;
//! - the audio thread's scheduler converts beats to sample offsets block by block with the
//!   block's own tempo, so notes stay on the grid across tempo changes; on a loop jump pending
//!   notes move with the playhead (and back onto their grid); a transport stop ends every
//!   sounding note and drops pending ones.
//!
//! Beats are quarter notes throughout (CLAP's and nice-plug's unit); a 7/8 bar is 3.5 beats.

use crate::rt::{BeatTime, NoteEvent};

/// When answers play.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AnswerMode {
    /// As soon as decoded.
    #[default]
    Free,
    /// Note starts quantised to a grid.
    Beat,
    /// One phrase per bar, starting on the next bar line.
    Bar,
}

/// Grid of the *beat* mode, as a note value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Grid {
    Quarter,
    #[default]
    Eighth,
    Sixteenth,
    QuarterTriplet,
    EighthTriplet,
    SixteenthTriplet,
}

impl Grid {
    /// Every grid, in parameter order.
    pub const ALL: [Grid; 6] = [
        Grid::Quarter,
        Grid::Eighth,
        Grid::Sixteenth,
        Grid::QuarterTriplet,
        Grid::EighthTriplet,
        Grid::SixteenthTriplet,
    ];

    /// Grid step in quarter-note beats.
    pub fn beats(self) -> f64 {
        match self {
            Grid::Quarter => 1.0,
            Grid::Eighth => 0.5,
            Grid::Sixteenth => 0.25,
            Grid::QuarterTriplet => 2.0 / 3.0,
            Grid::EighthTriplet => 1.0 / 3.0,
            Grid::SixteenthTriplet => 1.0 / 6.0,
        }
    }

    /// Parameter index (stable: stored by hosts through the enum parameter).
    pub fn index(self) -> u8 {
        Grid::ALL.iter().position(|&g| g == self).unwrap_or(1) as u8
    }

    /// From [`Grid::index`]; unknown values give the default.
    pub fn from_index(i: u8) -> Self {
        Grid::ALL.get(i as usize).copied().unwrap_or_default()
    }
}

/// The timing settings (parameters), as the worker reads them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimingSettings {
    pub mode: AnswerMode,
    pub grid: Grid,
    /// 0..=1: every second grid point is delayed by `swing / 2` grid steps (1 puts the off-beat
    /// three quarters of the way through the pair, 2/3 gives a triplet feel).
    pub swing: f32,
}

impl Default for TimingSettings {
    fn default() -> Self {
        Self {
            mode: AnswerMode::Free,
            grid: Grid::Eighth,
            swing: 0.0,
        }
    }
}

/// What the worker needs to map sample times to beats: the clock at one block start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClockSnapshot {
    /// Audio clock (samples since activation) of the block start.
    pub sample: u64,
    /// Beat position at that sample.
    pub beats: f64,
    /// Tempo, quarter notes per minute.
    pub tempo_bpm: f64,
    /// Position of the current bar's first beat.
    pub bar_start_beats: f64,
    /// Bar length in beats.
    pub beats_per_bar: f64,
    /// Sample rate, Hz.
    pub sample_rate: f64,
    /// Bumped at every jump of the position (the worker then forgets its open phrase).
    pub epoch: u64,
}

impl Default for ClockSnapshot {
    fn default() -> Self {
        Self {
            sample: 0,
            beats: 0.0,
            tempo_bpm: DEFAULT_TEMPO_BPM,
            bar_start_beats: 0.0,
            beats_per_bar: 4.0,
            sample_rate: 48_000.0,
            epoch: 0,
        }
    }
}

impl ClockSnapshot {
    /// Beats per sample at this tempo.
    pub fn beats_per_sample(&self) -> f64 {
        self.tempo_bpm / 60.0 / self.sample_rate.max(1.0)
    }

    /// Beat position of audio-clock sample `sample`, assuming the tempo holds.
    pub fn beats_at(&self, sample: u64) -> f64 {
        self.beats + (sample as f64 - self.sample as f64) * self.beats_per_sample()
    }

    /// Audio-clock sample (rounded, at least 0) of beat position `beats`, assuming the tempo
    /// holds: the inverse of [`Self::beats_at`].
    pub fn sample_at(&self, beats: f64) -> u64 {
        let sample = self.sample as f64 + (beats - self.beats) / self.beats_per_sample();
        if sample.is_finite() {
            sample.round().max(0.0) as u64
        } else {
            self.sample
        }
    }
}

/// Tempo when neither the host nor the parameter says otherwise.
pub const DEFAULT_TEMPO_BPM: f64 = 120.0;
/// Tempo range accepted from hosts and the parameter.
pub const TEMPO_RANGE_BPM: (f64, f64) = (20.0, 400.0);

/// The first point at or after `beats` of a grid of step `step` that restarts at every bar
/// line (bars of `bar_len` beats, one of them starting at `origin`), with every odd point of
/// a bar delayed by `swing * step / 2`. A bar whose length is not a whole number of steps
/// (triplets in 7/8) ends with a short step: the next bar line is always a grid point.
pub fn next_grid_point(beats: f64, origin: f64, bar_len: f64, step: f64, swing: f64) -> f64 {
    // Tolerance for positions that are on the grid up to rounding.
    const EPS: f64 = 1e-9;
    let bar_len = if bar_len > EPS { bar_len } else { 4.0 };
    let step = if step > EPS { step } else { bar_len };
    let bar_start = origin + ((beats - origin) / bar_len + EPS).floor() * bar_len;
    let delay = swing.clamp(0.0, 1.0) * step / 2.0;
    // Start one point early: a swung (odd) point lies after its straight place, so the point
    // before the first straight one at or after `beats` may still be late enough.
    let mut k = (((beats - bar_start) / step - EPS).ceil() - 1.0).max(0.0);
    loop {
        let straight = k * step;
        if straight >= bar_len - EPS {
            return bar_start + bar_len;
        }
        let point = bar_start + straight + if k.rem_euclid(2.0) == 1.0 { delay } else { 0.0 };
        if point >= beats - EPS * step {
            return point.min(bar_start + bar_len);
        }
        k += 1.0;
    }
}

/// The worker's side: decoded notes (sample times) to beat times in the current mode.
#[derive(Debug, Default)]
pub struct Quantiser {
    /// *bar* mode: the bar of listening being answered (its first beat), the shift (beats)
    /// that moves its first note onto the next bar line, and that bar line.
    phrase: Option<(f64, f64, f64)>,
    /// Start (beats) of the last note placed in *bar* mode: a new phrase starts after it.
    last_start: Option<f64>,
    /// The clock epoch and mode this state belongs to (the worker resets on a change).
    pub epoch: Option<(u64, AnswerMode)>,
}

impl Quantiser {
    /// A quantiser with no phrase open.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forget the open phrase (transport jump, mode change).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Places `note` (decoded with a sample start time) in musical time: returns it unchanged in
    /// *free* mode, otherwise with [`NoteEvent::beat`] set (the scheduler then times it by beats).
    pub fn place(
        &mut self,
        mut note: NoteEvent,
        clock: &ClockSnapshot,
        settings: &TimingSettings,
    ) -> NoteEvent {
        let bps = clock.beats_per_sample();
        let start = clock.beats_at(note.start_sample);
        let duration = f64::from(note.duration_samples.max(1)) * bps;
        let bar = clock.beats_per_bar.max(1e-3);
        match settings.mode {
            AnswerMode::Free => return note,
            AnswerMode::Beat => {
                let step = settings.grid.beats();
                let at = next_grid_point(
                    start,
                    clock.bar_start_beats,
                    clock.beats_per_bar,
                    step,
                    f64::from(settings.swing),
                );
                note.beat = Some(BeatTime {
                    start: at,
                    duration,
                    grid: step as f32,
                    swing: settings.swing,
                    phrase_offset: None,
                });
            }
            AnswerMode::Bar => {
                // The bar the note falls in, by its first beat.
                let heard_in =
                    clock.bar_start_beats + ((start - clock.bar_start_beats) / bar).floor() * bar;
                let (shift, line) = match self.phrase {
                    Some((open, shift, line)) if (open - heard_in).abs() < 1e-6 => (shift, line),
                    _ => {
                        // A new phrase: its first note goes to the next bar line after the
                        // previous phrase's notes.
                        let mut line = heard_in + bar;
                        while self.last_start.is_some_and(|last| line <= last + 1e-9) {
                            line += bar;
                        }
                        let shift = line - start;
                        self.phrase = Some((heard_in, shift, line));
                        (shift, line)
                    }
                };
                let at = start + shift;
                self.last_start = Some(self.last_start.map_or(at, |last| last.max(at)));
                note.beat = Some(BeatTime {
                    start: at,
                    duration,
                    grid: 0.0,
                    swing: 0.0,
                    phrase_offset: Some((at - line).max(0.0)),
                });
            }
        }
        note
    }
}

/// The host's transport for one block, as far as it knows it (nice-plug's `Transport` reduced
/// to what the clock uses, so the clock is testable without a host).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HostTransport {
    pub playing: bool,
    pub tempo_bpm: Option<f64>,
    pub time_sig: Option<(i32, i32)>,
    pub pos_beats: Option<f64>,
    pub bar_start_beats: Option<f64>,
}

/// What the clock says about one block.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClockBlock {
    /// The clock at the block's first sample.
    pub snapshot: ClockSnapshot,
    /// Set when the position jumped (loop, relocation, transport start): pending beat-timed
    /// notes move by this many beats.
    pub jump: Option<f64>,
    /// The host transport stopped at this block: every note ends.
    pub stopped: bool,
    /// True when the position comes from the host (not the plugin's own clock).
    pub from_host: bool,
}

/// The audio thread's beat clock: follows the host transport while it plays, otherwise keeps
/// counting beats at the host's tempo (or the `tempo` parameter). Real-time safe (plain
/// arithmetic).
#[derive(Clone, Debug)]
pub struct MusicalClock {
    sample_rate: f64,
    /// Expected position of the next block's first sample.
    next_beats: f64,
    was_playing: bool,
    started: bool,
    epoch: u64,
}

impl MusicalClock {
    /// A clock at beat 0.
    pub fn new(sample_rate: f64) -> Self {
        Self {
            sample_rate: sample_rate.max(1.0),
            next_beats: 0.0,
            was_playing: false,
            started: false,
            epoch: 0,
        }
    }

    /// Advances over a block of `len` samples starting at audio-clock sample `block_start`.
    pub fn advance(
        &mut self,
        block_start: u64,
        len: usize,
        host: &HostTransport,
        tempo_param_bpm: f64,
    ) -> ClockBlock {
        let clamp = |t: f64| {
            if t.is_finite() {
                t.clamp(TEMPO_RANGE_BPM.0, TEMPO_RANGE_BPM.1)
            } else {
                DEFAULT_TEMPO_BPM
            }
        };
        let tempo = clamp(host.tempo_bpm.unwrap_or(tempo_param_bpm));
        let beats_per_bar = match host.time_sig {
            Some((num, den)) if num > 0 && den > 0 => f64::from(num) * 4.0 / f64::from(den),
            _ => 4.0,
        };
        let host_pos = host.pos_beats.filter(|p| p.is_finite() && host.playing);
        let (beats, from_host) = match host_pos {
            Some(p) => (p, true),
            None => (self.next_beats, false),
        };
        let jump = (self.started && (beats - self.next_beats).abs() > 1e-6)
            .then_some(beats - self.next_beats);
        let bar_start = match (from_host, host.bar_start_beats) {
            (true, Some(b)) if b.is_finite() && b <= beats + 1e-9 => {
                // A host's bar start is the current bar's; later bars follow the signature.
                b + ((beats - b) / beats_per_bar).floor() * beats_per_bar
            }
            _ => (beats / beats_per_bar).floor() * beats_per_bar,
        };
        if jump.is_some() {
            self.epoch += 1;
        }
        let stopped = self.was_playing && !host.playing;
        self.was_playing = host.playing;
        self.started = true;
        let snapshot = ClockSnapshot {
            sample: block_start,
            beats,
            tempo_bpm: tempo,
            bar_start_beats: bar_start,
            beats_per_bar,
            sample_rate: self.sample_rate,
            epoch: self.epoch,
        };
        self.next_beats = beats + len as f64 * snapshot.beats_per_sample();
        ClockBlock {
            snapshot,
            jump,
            stopped,
            from_host,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(tempo: f64, bar: f64) -> ClockSnapshot {
        ClockSnapshot {
            sample: 0,
            beats: 0.0,
            tempo_bpm: tempo,
            bar_start_beats: 0.0,
            beats_per_bar: bar,
            sample_rate: 48_000.0,
            epoch: 0,
        }
    }

    fn note(start_sample: u64, duration_samples: u32) -> NoteEvent {
        NoteEvent {
            note: 60,
            velocity: 0.8,
            channel: 0,
            start_sample,
            duration_samples,
            beat: None,
        }
    }

    #[test]
    fn grid_points_are_at_or_after_the_position_and_swing_delays_odd_points() {
        assert_eq!(next_grid_point(0.0, 0.0, 4.0, 0.5, 0.0), 0.0);
        assert_eq!(next_grid_point(0.01, 0.0, 4.0, 0.5, 0.0), 0.5);
        assert_eq!(next_grid_point(0.5, 0.0, 4.0, 0.5, 0.0), 0.5);
        // 7/8: the second bar starts at 3.5 beats; a quarter grid counts from there.
        assert_eq!(next_grid_point(3.6, 0.0, 3.5, 1.0, 0.0), 4.5);
        assert_eq!(next_grid_point(3.6, 3.5, 3.5, 1.0, 0.0), 4.5);
        // The bar's last (half) quarter ends at the next bar line, which is a grid point.
        assert_eq!(next_grid_point(3.2, 0.0, 3.5, 1.0, 0.0), 3.5);
        // Eighth triplets in 7/8 (10.5 per bar) restart at the bar line.
        assert!((next_grid_point(3.45, 0.0, 3.5, 1.0 / 3.0, 0.0) - 3.5).abs() < 1e-12);
        assert!((next_grid_point(3.6, 0.0, 3.5, 1.0 / 3.0, 0.0) - (3.5 + 1.0 / 3.0)).abs() < 1e-12);
        // Full swing puts the off-beat eighth at 0.75 of the beat.
        assert!((next_grid_point(0.1, 0.0, 4.0, 0.5, 1.0) - 0.75).abs() < 1e-12);
        assert!((next_grid_point(0.8, 0.0, 4.0, 0.5, 1.0) - 1.0).abs() < 1e-12);
        // A position between the straight and swung off-beat goes to the swung one.
        assert!((next_grid_point(0.6, 0.0, 4.0, 0.5, 0.5) - 0.625).abs() < 1e-12);
        // Triplets.
        assert!((next_grid_point(0.34, 0.0, 4.0, 1.0 / 3.0, 0.0) - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn beat_mode_never_moves_a_note_earlier_and_lands_on_the_grid() {
        let c = clock(97.0, 4.0);
        let mut q = Quantiser::new();
        let settings = TimingSettings {
            mode: AnswerMode::Beat,
            grid: Grid::Sixteenth,
            swing: 0.0,
        };
        for s in (0..200_000u64).step_by(1_777) {
            let placed = q.place(note(s, 4_800), &c, &settings).beat.unwrap();
            let free = c.beats_at(s);
            assert!(placed.start >= free - 1e-9, "moved earlier at {s}");
            assert!(
                placed.start - free < 0.25 + 1e-9,
                "more than a step later at {s}"
            );
            let steps = placed.start / 0.25;
            assert!(
                (steps - steps.round()).abs() < 1e-9,
                "{} is off the grid",
                placed.start
            );
            // The duration is kept in beats.
            assert!((placed.duration - 4_800.0 * c.beats_per_sample()).abs() < 1e-9);
        }
    }

    #[test]
    fn bar_mode_starts_each_phrase_on_the_next_bar_line_and_keeps_its_rhythm() {
        // 7/8 at 120 BPM: 3.5 beats = 1.75 s = 84,000 samples per bar.
        let c = clock(120.0, 3.5);
        let mut q = Quantiser::new();
        let settings = TimingSettings {
            mode: AnswerMode::Bar,
            ..Default::default()
        };
        let spb = 1.0 / c.beats_per_sample();
        // Notes heard in bar 0 at 1.0, 1.5, 2.25 beats; in bar 1 at 4.0 and 5.0 beats.
        let times = [1.0, 1.5, 2.25, 4.0, 5.0];
        let placed: Vec<f64> = times
            .iter()
            .map(|b| {
                q.place(note((b * spb).round() as u64, 1_000), &c, &settings)
                    .beat
                    .unwrap()
                    .start
            })
            .collect();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
        // Bar 0's phrase starts on bar line 1 (3.5) with its rhythm kept.
        assert!(close(placed[0], 3.5) && close(placed[1], 4.0) && close(placed[2], 4.75));
        // Bar 1's phrase starts on bar line 2 (7.0).
        assert!(close(placed[3], 7.0) && close(placed[4], 8.0), "{placed:?}");
    }

    #[test]
    fn free_mode_leaves_notes_alone() {
        let n = note(12_345, 678);
        let mut q = Quantiser::new();
        assert_eq!(
            q.place(n, &clock(120.0, 4.0), &TimingSettings::default()),
            n
        );
    }

    #[test]
    fn clock_follows_the_host_and_reports_jumps_and_stops() {
        let mut clock = MusicalClock::new(48_000.0);
        let host = |pos: f64, playing: bool| HostTransport {
            playing,
            tempo_bpm: Some(120.0),
            time_sig: Some((7, 8)),
            pos_beats: Some(pos),
            bar_start_beats: Some((pos / 3.5).floor() * 3.5),
        };
        // 24,000 samples at 120 BPM = 1 beat.
        let a = clock.advance(0, 24_000, &host(0.0, true), 100.0);
        assert!(a.from_host && a.jump.is_none() && !a.stopped);
        assert_eq!(a.snapshot.beats_per_bar, 3.5);
        let b = clock.advance(24_000, 24_000, &host(1.0, true), 100.0);
        assert!(b.jump.is_none());
        // Loop back to 0 from 2.
        let c = clock.advance(48_000, 24_000, &host(0.0, true), 100.0);
        assert!((c.jump.unwrap() + 2.0).abs() < 1e-9);
        // Stop: the plugin keeps counting on its own from where it was.
        let d = clock.advance(72_000, 24_000, &host(1.0, false), 100.0);
        assert!(d.stopped && !d.from_host && d.jump.is_none());
        assert!((d.snapshot.beats - 1.0).abs() < 1e-9);
        let e = clock.advance(96_000, 24_000, &host(1.0, false), 100.0);
        assert!(!e.stopped && (e.snapshot.beats - 2.0).abs() < 1e-9);
    }

    #[test]
    fn without_a_host_tempo_the_parameter_sets_the_pace() {
        let mut clock = MusicalClock::new(48_000.0);
        let none = HostTransport::default();
        clock.advance(0, 48_000, &none, 90.0);
        let b = clock.advance(48_000, 10, &none, 90.0);
        // One second at 90 BPM is 1.5 beats; a 4/4 bar by default.
        assert!((b.snapshot.beats - 1.5).abs() < 1e-9);
        assert_eq!(b.snapshot.tempo_bpm, 90.0);
        assert_eq!(b.snapshot.beats_per_bar, 4.0);
        // Nonsense tempi are clamped, never propagated.
        let c = clock.advance(48_010, 10, &none, f64::NAN);
        assert_eq!(c.snapshot.tempo_bpm, DEFAULT_TEMPO_BPM);
    }
}
