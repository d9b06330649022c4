//! Per-frame musical payload: loudness, chroma, pitches and onset strength.
//!
//! Computed inside [`super::Perception`] from the same HPSS-separated magnitudes the encoder
//! sees, frame for frame, so the trainer's corpus records and the worker's live frames come out
//! of one code path (the prototype's lesson 3). This is the DSP pitch/chroma stage; a learned
//! one (Basic Pitch) would fill the same [`FramePayload`].
//!
//! - **Loudness**: mean-square level of the frame (harmonic + percussive magnitudes, which sum
//!   to the mix because the HPSS soft masks sum to one), in dB relative to a full-scale sine's
//!   peak: the STFT scales a bin-centred full-scale sine to magnitude 1 and the Hann window's
//!   equivalent noise bandwidth is 1.5 bins, so `sum |X|^2 / 3` is the signal's mean square and
//!   a full-scale sine reads -3 dB. Floored at [`SILENCE_DB`].
//! - **Chroma**: 12 pitch-class energies (C first) of the harmonic stream between
//!   [`CHROMA_FMIN_HZ`] and [`CHROMA_FMAX_HZ`], normalised to sum 1 (all zero in silence).
//! - **Pitches**: up to [`MAX_VOICES`] MIDI notes by iterative harmonic-sum salience with
//!   spectral subtraction (after Klapuri 2006, simplified): each candidate note from
//!   [`LOWEST_NOTE`] to [`HIGHEST_NOTE`] sums the peak magnitudes near its first
//!   [`NUM_HARMONICS`] partials with weights `0.84^(h-1)`; the strongest candidate whose
//!   fundamental is itself present is taken, its partials are removed, and the search repeats
//!   while candidates stay above [`RELATIVE_THRESHOLD`] of the first.
//! - **Onset strength**: mean positive difference of log-compressed magnitudes
//!   (`ln(1 + 100 |X|)`) from the previous frame of the same stream run (spectral flux,
//!   Dixon 2006). The trainer peak-picks it into onsets.

use super::pitch::{midi_hz, pitch_class_split, FramePitches, CHROMA_FMAX_HZ, MAX_VOICES};

/// Loudness floor, dB.
pub const SILENCE_DB: f32 = -120.0;
/// Lowest candidate note (C2).
pub const LOWEST_NOTE: u8 = 36;
/// Highest candidate note (C7).
pub const HIGHEST_NOTE: u8 = 96;
/// Partials summed per candidate.
pub const NUM_HARMONICS: usize = 8;
/// Later voices must reach this fraction of the first voice's salience.
pub const RELATIVE_THRESHOLD: f32 = 0.3;
/// Frames quieter than this (dB) carry no pitches.
pub const PITCH_GATE_DB: f32 = -50.0;
/// Frames whose harmonic stream holds less than this share of the energy carry no pitches.
pub const MIN_HARMONIC_SHARE: f32 = 0.2;
/// Partial search tolerance: +-3 % (about half a semitone) around each harmonic.
const PARTIAL_TOLERANCE: f32 = 0.03;
/// Harmonic weight decay per partial.
const HARMONIC_DECAY: f32 = 0.84;
/// A candidate's fundamental peak must reach this fraction of the strongest peak it sums,
/// which keeps sub-octave candidates (that collect only every other partial) out.
const MIN_FUNDAMENTAL_SHARE: f32 = 0.1;
/// Flux compression constant.
const FLUX_GAMMA: f32 = 100.0;

/// What one frame carries besides its feature vectors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FramePayload {
    /// Level in dB (full-scale sine = -3 dB), floored at [`SILENCE_DB`].
    pub loudness_db: f32,
    /// Pitch-class energies of the harmonic stream, C first, summing to 1 (or all 0).
    pub chroma: [f32; 12],
    /// Detected notes, strongest first.
    pub pitches: FramePitches,
    /// Spectral flux onset strength (>= 0).
    pub onset_strength: f32,
}

impl Default for FramePayload {
    fn default() -> Self {
        Self {
            loudness_db: SILENCE_DB,
            chroma: [0.0; 12],
            pitches: FramePitches::EMPTY,
            onset_strength: 0.0,
        }
    }
}

impl FramePayload {
    /// The detected notes, strongest first.
    pub fn pitches(&self) -> &[u8] {
        self.pitches.as_slice()
    }
}

/// Computes [`FramePayload`]s; one per perception stream run (its flux history is reset with
/// the stream).
pub struct PayloadAnalyser {
    bin_hz: f32,
    n_bins: usize,
    /// Per bin: (pitch class, weight) pairs for chroma; weight 0 outside the chroma range.
    chroma_map: Vec<[(usize, f32); 2]>,
    /// Per candidate note and harmonic: the bin range searched for the partial's peak.
    partial_bins: Vec<[(u16, u16); NUM_HARMONICS]>,
    prev_log: Vec<f32>,
    has_prev: bool,
    work: Vec<f32>,
    log_mag: Vec<f32>,
}

impl PayloadAnalyser {
    /// Allocating. For STFT frames of `n_fft` at `rate_hz`.
    pub fn new(rate_hz: u32, n_fft: usize) -> Self {
        let n_bins = n_fft / 2 + 1;
        let bin_hz = rate_hz as f32 / n_fft as f32;
        let chroma_map = (0..n_bins)
            .map(|b| pitch_class_split(b as f32 * bin_hz))
            .collect();
        let nyquist_bin = n_bins - 1;
        let partial_bins = (LOWEST_NOTE..=HIGHEST_NOTE)
            .map(|note| {
                let f0 = midi_hz(note as f32);
                let mut ranges = [(0u16, 0u16); NUM_HARMONICS];
                for (h, r) in ranges.iter_mut().enumerate() {
                    let f = f0 * (h + 1) as f32;
                    if f >= CHROMA_FMAX_HZ {
                        break; // empty range: contributes nothing
                    }
                    let lo = ((f * (1.0 - PARTIAL_TOLERANCE)) / bin_hz).floor() as usize;
                    let hi = ((f * (1.0 + PARTIAL_TOLERANCE)) / bin_hz).ceil() as usize;
                    *r = (lo.min(nyquist_bin) as u16, (hi + 1).min(n_bins) as u16);
                }
                ranges
            })
            .collect();
        Self {
            bin_hz,
            n_bins,
            chroma_map,
            partial_bins,
            prev_log: vec![0.0; n_bins],
            has_prev: false,
            work: vec![0.0; n_bins],
            log_mag: vec![0.0; n_bins],
        }
    }

    /// Forgets the flux history (a new stream run).
    pub fn reset(&mut self) {
        self.has_prev = false;
    }

    /// Bin spacing in Hz.
    pub fn bin_hz(&self) -> f32 {
        self.bin_hz
    }

    /// One frame from its harmonic and percussive magnitudes (`n_fft / 2 + 1` each).
    pub fn analyse(&mut self, harmonic: &[f32], percussive: &[f32]) -> FramePayload {
        debug_assert_eq!(harmonic.len(), self.n_bins);
        debug_assert_eq!(percussive.len(), self.n_bins);
        let mut out = FramePayload::default();
        let mut total = 0.0f32;
        let mut harm_energy = 0.0f32;
        for (i, (&h, &p)) in harmonic.iter().zip(percussive).enumerate() {
            let m = h + p;
            total += m * m;
            harm_energy += h * h;
            self.log_mag[i] = (1.0 + FLUX_GAMMA * m).ln();
        }
        out.loudness_db = (10.0 * (total / 3.0 + 1e-30).log10()).max(SILENCE_DB);

        if self.has_prev {
            let flux: f32 = self
                .log_mag
                .iter()
                .zip(&self.prev_log)
                .map(|(c, p)| (c - p).max(0.0))
                .sum();
            out.onset_strength = flux / self.n_bins as f32;
        }
        std::mem::swap(&mut self.prev_log, &mut self.log_mag);
        self.has_prev = true;

        let mut chroma_total = 0.0f32;
        for (&h, pairs) in harmonic.iter().zip(&self.chroma_map) {
            let e = h * h;
            for &(c, w) in pairs {
                out.chroma[c] += w * e;
                chroma_total += w * e;
            }
        }
        if chroma_total > 1e-20 {
            out.chroma.iter_mut().for_each(|c| *c /= chroma_total);
        } else {
            out.chroma = [0.0; 12];
        }

        if out.loudness_db >= PITCH_GATE_DB && harm_energy >= MIN_HARMONIC_SHARE * total {
            self.work.copy_from_slice(harmonic);
            self.detect_pitches(&mut out);
        }
        out
    }

    fn detect_pitches(&mut self, out: &mut FramePayload) {
        let mut first_salience = 0.0f32;
        for _ in 0..MAX_VOICES {
            let mut best: Option<(usize, f32)> = None;
            for (c, ranges) in self.partial_bins.iter().enumerate() {
                let mut salience = 0.0f32;
                let mut strongest = 0.0f32;
                let mut weight = 1.0f32;
                let mut fundamental = 0.0f32;
                for (h, &(lo, hi)) in ranges.iter().enumerate() {
                    let peak = self.work[lo as usize..hi as usize]
                        .iter()
                        .fold(0.0f32, |a, &b| a.max(b));
                    if h == 0 {
                        fundamental = peak;
                    }
                    strongest = strongest.max(peak);
                    salience += weight * peak;
                    weight *= HARMONIC_DECAY;
                }
                if fundamental < MIN_FUNDAMENTAL_SHARE * strongest || salience <= 0.0 {
                    continue;
                }
                if best.is_none_or(|(_, s)| salience > s) {
                    best = Some((c, salience));
                }
            }
            let Some((c, salience)) = best else { break };
            if out.pitches.is_empty() {
                first_salience = salience;
            } else if salience < RELATIVE_THRESHOLD * first_salience {
                break;
            }
            let note = LOWEST_NOTE + c as u8;
            if !out.pitches().contains(&note) {
                out.pitches.push(note);
            }
            // Remove the chosen note's partials so its harmonics cannot elect another note.
            for &(lo, hi) in &self.partial_bins[c] {
                self.work[lo as usize..hi as usize].fill(0.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perception::frontend::StreamingStft;

    const RATE: u32 = 24_000;
    const N_FFT: usize = 2048;

    /// Magnitudes of the middle frame of a harmonic tone mix (sawtooth-like partials 1/h).
    fn mags_of(notes: &[f32], amp: f32) -> Vec<f32> {
        let n = N_FFT * 2;
        let x: Vec<f32> = (0..n)
            .map(|i| {
                let t = i as f32 / RATE as f32;
                notes
                    .iter()
                    .map(|&m| {
                        let f = midi_hz(m);
                        (1..=8)
                            .filter(|h| f * *h as f32 <= 10_000.0)
                            .map(|h| {
                                (std::f32::consts::TAU * f * h as f32 * t).sin() * amp / h as f32
                            })
                            .sum::<f32>()
                    })
                    .sum()
            })
            .collect();
        let mut stft = StreamingStft::new(N_FFT, 320).unwrap();
        let mut mags = Vec::new();
        let frames = stft.push(&x, &mut mags).unwrap();
        let nb = N_FFT / 2 + 1;
        mags[(frames / 2) * nb..(frames / 2 + 1) * nb].to_vec()
    }

    #[test]
    fn full_scale_sine_reads_minus_3_db() {
        let n = N_FFT * 2;
        // 1500 Hz is exactly bin 128 at 24 kHz / 2048.
        let x: Vec<f32> = (0..n)
            .map(|i| (std::f32::consts::TAU * 1500.0 * i as f32 / RATE as f32).sin())
            .collect();
        let mut stft = StreamingStft::new(N_FFT, 320).unwrap();
        let mut mags = Vec::new();
        let frames = stft.push(&x, &mut mags).unwrap();
        let nb = N_FFT / 2 + 1;
        let zeros = vec![0.0; nb];
        let mut a = PayloadAnalyser::new(RATE, N_FFT);
        // A frame well inside the signal (the first frames are centred on the stream start).
        let mid = frames - 1;
        let p = a.analyse(&mags[mid * nb..(mid + 1) * nb], &zeros);
        assert!((p.loudness_db + 3.0).abs() < 0.1, "{}", p.loudness_db);
        // Pitch class of 1500 Hz is between F#6 (1480 Hz) and G6: mostly F# (6).
        let top = (0..12).max_by(|&a, &b| p.chroma[a].total_cmp(&p.chroma[b]));
        assert_eq!(top, Some(6));
        let silent = a.analyse(&zeros, &zeros);
        assert_eq!(silent.loudness_db, SILENCE_DB);
        assert!(silent.pitches.is_empty());
        assert_eq!(silent.chroma, [0.0; 12]);
    }

    #[test]
    fn detects_the_notes_of_a_triad_and_a_single_note() {
        let nb = N_FFT / 2 + 1;
        let zeros = vec![0.0; nb];
        let mut a = PayloadAnalyser::new(RATE, N_FFT);
        let single = a.analyse(&mags_of(&[57.0], 0.3), &zeros);
        assert_eq!(single.pitches(), &[57]);
        // C major triad, C4 E4 G4.
        let triad = a.analyse(&mags_of(&[60.0, 64.0, 67.0], 0.2), &zeros);
        let mut got = triad.pitches().to_vec();
        got.sort_unstable();
        assert_eq!(got, vec![60, 64, 67]);
        // The chroma of the triad peaks on C, E and G.
        let mut order: Vec<usize> = (0..12).collect();
        order.sort_by(|&x, &y| triad.chroma[y].total_cmp(&triad.chroma[x]));
        let mut top3 = order[..3].to_vec();
        top3.sort_unstable();
        assert_eq!(top3, vec![0, 4, 7]);
    }

    #[test]
    fn percussive_frames_carry_no_pitch_and_flux_rises_at_an_onset() {
        let nb = N_FFT / 2 + 1;
        let zeros = vec![0.0; nb];
        let noise: Vec<f32> = (0..nb)
            .map(|i| 0.01 + 0.005 * ((i * 7) % 13) as f32)
            .collect();
        let mut a = PayloadAnalyser::new(RATE, N_FFT);
        let quiet = a.analyse(&zeros, &zeros);
        assert_eq!(quiet.onset_strength, 0.0, "the first frame has no history");
        let hit = a.analyse(&zeros, &noise);
        assert_eq!(
            hit.pitches.len(),
            0,
            "a noise burst in the percussive stream has no pitch"
        );
        let held = a.analyse(&zeros, &noise);
        assert!(hit.onset_strength > 0.5, "{}", hit.onset_strength);
        assert!(held.onset_strength < 1e-6 * hit.onset_strength.max(1.0));
    }
}
