//! Musical time, below both threads: the audio thread's [`MusicalClock`] (the host transport,
//! or its own beat count at the `tempo` parameter), the [`ClockSnapshot`] it publishes for the
//! worker each block, and the grid every note start lands on ([`next_grid_point`]), which the
//! worker's quantiser (`engine::quantise`) and the audio thread's scheduler (`rt::midi`) share.
//!
//! - the audio thread runs a [`MusicalClock`]: each block it reads the host transport (tempo,
//!   time signature, position, playing) or, without one, advances its own beat count at the
//!   `tempo` parameter. It publishes a [`ClockSnapshot`] for the worker and reports loop jumps
//!   and transport stops ([`ClockBlock`]);
//! - the scheduler converts beats to sample offsets block by block with the block's own tempo,
//!   so notes stay on the grid across tempo changes; on a loop jump pending notes move with the
//!   playhead (and back onto their grid); a transport stop ends every sounding note and drops
//!   pending ones.
//!
//! Beats are quarter notes throughout (CLAP's and nice-plug's unit); a 7/8 bar is 3.5 beats.
//! Real-time safe: plain arithmetic, no allocation.

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
