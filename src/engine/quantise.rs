//! Where answers land against the beat clock ([`crate::rt::clock`]): the worker's side.
//!
//! Three answer modes ([`AnswerMode`]):
//! - *free*: notes play as soon as decoded, at their sample times (the engine's default);
//! - *beat*: every event (a note, or the notes starting with it: a chord) moves to the next
//!   point of a grid (1/4, 1/8, 1/16 or their triplets, counted from the bar line), its first
//!   note on the point and the others keeping their distance to it, with an optional swing that
//!   delays every second grid point;
//! - *bar*: call and response. The answer is cut into one phrase per bar of listening; each
//!   phrase keeps its rhythm and starts on the next bar line (Follow Changes may then leave
//!   out its whole first onset, when every note of it clashes with the chord the input holds
//!   there: the phrase starts with its next note; see [`crate::rt::Revoice`]).
//!
//! The [`Quantiser`] turns each decoded note's sample time into a beat time on the grid (using
//! the latest clock snapshot) and sends it *in beats*; the audio thread's scheduler times it by
//! beats at each block's tempo.

use crate::rt::clock::{next_grid_point, ClockSnapshot};
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

/// The worker's side: decoded notes (sample times) to beat times in the current mode.
#[derive(Debug, Default)]
pub struct Quantiser {
    /// *bar* mode: the bar of listening being answered (its first beat), the shift (beats)
    /// that moves its first note onto the next bar line, and that bar line.
    phrase: Option<(f64, f64, f64)>,
    /// Start (beats) of the last note placed in *bar* mode: a new phrase starts after it.
    last_start: Option<f64>,
    /// The clock epoch and mode this state belongs to: a jump of the transport or a change of
    /// mode forgets the open phrase ([`Self::follow`]).
    epoch: Option<(u64, AnswerMode)>,
    /// *beat* mode: the event being placed: its first note's decoded start (sample) and the
    /// shift (beats) that put that note on the grid.
    event: Option<(u64, f64)>,
}

/// *beat* mode: notes starting within this long after an event's first note belong to it
/// and move with it (a chord, or a spread chord, stays one event), seconds.
pub const EVENT_SPREAD_S: f64 = 0.05;

impl Quantiser {
    /// A quantiser with no phrase open.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forget the open phrase (transport jump, mode change).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Follows the clock and the mode: after a jump of the transport (a new clock epoch) or a
    /// change of mode the open phrase no longer applies and is forgotten. Call before placing
    /// a batch of notes.
    pub fn follow(&mut self, clock: &ClockSnapshot, mode: AnswerMode) {
        if self.epoch != Some((clock.epoch, mode)) {
            self.reset();
            self.epoch = Some((clock.epoch, mode));
        }
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
                // An event's first note goes to the next grid point; the notes of the same
                // event (starting within EVENT_SPREAD_S after it) move with it, so a chord
                // stays a chord and a spread chord keeps its spread.
                let spread = (EVENT_SPREAD_S * clock.sample_rate).round() as u64;
                let step = settings.grid.beats();
                let follower = self.event.filter(|&(first, _)| {
                    note.start_sample >= first && note.start_sample - first <= spread
                });
                let (at, grid) = match follower {
                    Some((_, shift)) => (start + shift, 0.0),
                    None => {
                        let at = next_grid_point(
                            start,
                            clock.bar_start_beats,
                            clock.beats_per_bar,
                            step,
                            f64::from(settings.swing),
                        );
                        self.event = Some((note.start_sample, at - start));
                        (at, step as f32)
                    }
                };
                note.beat = Some(BeatTime {
                    start: at,
                    duration,
                    grid,
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
            chord: 0,
        }
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
        // Notes further apart than an event's spread: each is an event of its own.
        for s in (0..400_000u64).step_by(3_777) {
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
    fn beat_mode_moves_an_events_notes_together() {
        let c = clock(120.0, 4.0);
        let mut q = Quantiser::new();
        let settings = TimingSettings {
            mode: AnswerMode::Beat,
            grid: Grid::Eighth,
            swing: 0.0,
        };
        // A spread chord at 1.1 beats (0.55 s), its notes 10 ms apart, then a note at 2.6 beats.
        let spb = 1.0 / c.beats_per_sample();
        let starts = [1.1, 1.12, 1.14, 2.6];
        let placed: Vec<(f64, f32)> = starts
            .iter()
            .map(|b| {
                let t = q
                    .place(note((b * spb).round() as u64, 1_000), &c, &settings)
                    .beat
                    .unwrap();
                (t.start, t.grid)
            })
            .collect();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
        // The chord's first note on the next eighth (1.5), the others 0.02 and 0.04 after it.
        assert!(close(placed[0].0, 1.5), "{placed:?}");
        assert!(
            close(placed[1].0, 1.52) && close(placed[2].0, 1.54),
            "{placed:?}"
        );
        // Only the first note is re-snapped to the grid after a jump; the next event is its own.
        assert_eq!((placed[0].1, placed[1].1, placed[2].1), (0.5, 0.0, 0.0));
        assert!(close(placed[3].0, 3.0) && placed[3].1 == 0.5, "{placed:?}");
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
}
