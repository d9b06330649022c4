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
//! - **Pitch salience** (optional, [`PayloadAnalyser::analyse_with_salience`]): the same
//!   search continued for up to [`SALIENCE_PICKS`] picks while a candidate keeps
//!   [`SALIENCE_FLOOR`] of the first pick's salience; each picked candidate's salience (at its
//!   pick) is reported in a [`PitchSalience`] row, every other candidate 0. The first
//!   [`MAX_VOICES`] picks are the `pitches` above, so turning it on changes no other field.
//!   It is the evidence of the DSP note tracker (`crate::notes::dsp`).
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
/// Candidate notes of the pitch search and of a [`PitchSalience`] row (C2..=C7).
pub const NUM_CANDIDATES: usize = (HIGHEST_NOTE - LOWEST_NOTE + 1) as usize;
/// Most picks of the salience search (the first [`MAX_VOICES`] are the frame's pitches).
pub const SALIENCE_PICKS: usize = 8;
/// The salience search stops at a candidate below this fraction of the first pick's
/// salience (the pitches stop at [`RELATIVE_THRESHOLD`]).
pub const SALIENCE_FLOOR: f32 = 0.1;

/// Harmonic-sum salience of every candidate note in one frame (see the module docs): entry
/// `i` is MIDI note `LOWEST_NOTE + i`, in the STFT's magnitude units (a bin-centred
/// full-scale sine reads 1 per partial); 0 for candidates the search did not pick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PitchSalience {
    /// Salience per candidate, lowest note first.
    pub values: [f32; NUM_CANDIDATES],
}

impl Default for PitchSalience {
    fn default() -> Self {
        Self {
            values: [0.0; NUM_CANDIDATES],
        }
    }
}

impl PitchSalience {
    /// Salience of MIDI note `note` (0 outside [`LOWEST_NOTE`]..=[`HIGHEST_NOTE`]).
    pub fn of(&self, note: u8) -> f32 {
        note.checked_sub(LOWEST_NOTE)
            .and_then(|i| self.values.get(i as usize))
            .copied()
            .unwrap_or(0.0)
    }
}

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

    /// The energy of the magnitudes `mags` (one frame's bins) in each pitch class over the
    /// chroma range, and its sum (the chroma of a frame before it is normalised).
    pub fn chroma_energy(&self, mags: &[f32]) -> ([f32; 12], f32) {
        let (mut chroma, mut total) = ([0.0f32; 12], 0.0f32);
        for (&h, pairs) in mags.iter().zip(&self.chroma_map) {
            let e = h * h;
            for &(c, w) in pairs {
                chroma[c] += w * e;
                total += w * e;
            }
        }
        (chroma, total)
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
        self.analyse_with_salience(harmonic, percussive, None)
    }

    /// As [`Self::analyse`] (the payload is the same bit for bit) and, when `salience` is
    /// given, fills it with the frame's [`PitchSalience`] (all 0 in frames that carry no
    /// pitches).
    pub fn analyse_with_salience(
        &mut self,
        harmonic: &[f32],
        percussive: &[f32],
        mut salience: Option<&mut PitchSalience>,
    ) -> FramePayload {
        if let Some(s) = salience.as_deref_mut() {
            *s = PitchSalience::default();
        }
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

        let chroma_total;
        (out.chroma, chroma_total) = self.chroma_energy(harmonic);
        if chroma_total > 1e-20 {
            out.chroma.iter_mut().for_each(|c| *c /= chroma_total);
        } else {
            out.chroma = [0.0; 12];
        }

        if out.loudness_db >= PITCH_GATE_DB && harm_energy >= MIN_HARMONIC_SHARE * total {
            self.work.copy_from_slice(harmonic);
            self.detect_pitches(&mut out, salience);
        }
        out
    }

    /// The iterative search. Its first [`MAX_VOICES`] picks, up to the first one below
    /// [`RELATIVE_THRESHOLD`], are the pitches; with `salience`, the search goes on (same
    /// picks, same subtraction) for [`SALIENCE_PICKS`] picks down to [`SALIENCE_FLOOR`].
    fn detect_pitches(&mut self, out: &mut FramePayload, mut profile: Option<&mut PitchSalience>) {
        let mut first_salience = 0.0f32;
        let picks = if profile.is_some() {
            SALIENCE_PICKS
        } else {
            MAX_VOICES
        };
        let mut pitches_open = true;
        for pick in 0..picks {
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
            let Some((c, value)) = best else { break };
            if pick == 0 {
                first_salience = value;
            } else if value < RELATIVE_THRESHOLD * first_salience || pick >= MAX_VOICES {
                pitches_open = false;
            }
            if !pitches_open && value < SALIENCE_FLOOR * first_salience {
                break;
            }
            if pitches_open {
                let note = LOWEST_NOTE + c as u8;
                if !out.pitches().contains(&note) {
                    out.pitches.push(note);
                }
            }
            if let Some(p) = profile.as_deref_mut() {
                p.values[c] = p.values[c].max(value);
            } else if !pitches_open {
                break;
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
    fn salience_leaves_the_payload_unchanged_and_covers_its_pitches() {
        let nb = N_FFT / 2 + 1;
        let zeros = vec![0.0; nb];
        // A five-note chord: more notes than pitches, so the salience search goes further.
        for notes in [
            &[57.0][..],
            &[60.0, 64.0, 67.0],
            &[48.0, 54.0, 63.0, 70.0, 77.0],
        ] {
            let mags = mags_of(notes, 0.15);
            let mut plain = PayloadAnalyser::new(RATE, N_FFT);
            let mut with = PayloadAnalyser::new(RATE, N_FFT);
            let mut profile = PitchSalience::default();
            profile.values[3] = 9.0; // stale values are cleared
            let a = plain.analyse(&mags, &zeros);
            let b = with.analyse_with_salience(&mags, &zeros, Some(&mut profile));
            assert_eq!(
                format!("{a:?}"),
                format!("{b:?}"),
                "payload changed for {notes:?}"
            );
            let picked: Vec<u8> = (LOWEST_NOTE..=HIGHEST_NOTE)
                .filter(|&n| profile.of(n) > 0.0)
                .collect();
            for &p in a.pitches() {
                assert!(
                    picked.contains(&p),
                    "{p} of {:?} not in {picked:?}",
                    a.pitches()
                );
            }
            let strongest = profile.values.iter().fold(0.0f32, |x, &y| x.max(y));
            assert_eq!(profile.of(a.pitches()[0]), strongest);
            assert!(picked.len() <= SALIENCE_PICKS);
            let mut want: Vec<u8> = notes.iter().map(|&m| m as u8).collect();
            want.sort_unstable();
            if notes.len() <= 3 {
                assert!(
                    want.iter().all(|n| picked.contains(n)),
                    "{want:?} not all in {picked:?}"
                );
            }
            if notes.len() > MAX_VOICES {
                assert!(picked.len() > MAX_VOICES, "{picked:?}");
            }
        }
        let mut silent = PitchSalience::default();
        silent.values[0] = 1.0;
        PayloadAnalyser::new(RATE, N_FFT).analyse_with_salience(&zeros, &zeros, Some(&mut silent));
        assert_eq!(silent, PitchSalience::default());
        assert_eq!(silent.of(LOWEST_NOTE - 1), 0.0);
        assert_eq!(silent.of(HIGHEST_NOTE + 1), 0.0);
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
