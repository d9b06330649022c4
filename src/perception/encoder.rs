//! Frame encoders: turn one stream's HPSS-masked frames into feature vectors.
//!
//! [`Encoder`] is the pluggable interface; [`SpectralEncoder`] (id `"spectral"`) is the default,
//! pure-Rust one, reading the masked magnitudes. Encoders that read audio (an ONNX model of the
//! waveform, `super::onnx_encoder`) declare an [`Encoder::audio_context`] and get each stream's
//! waveform, rebuilt from the masked spectra by overlap-add.

use super::error::{PerceptionError, Result};

/// Which HPSS stream a frame belongs to. Encoders keep separate state (e.g. the previous frame
/// for spectral flux) per stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Stream {
    /// Median across time (sustained, pitched content).
    Harmonic,
    /// Median across frequency (transients, noise).
    Percussive,
}

impl Stream {
    /// Both streams, harmonic first.
    pub const ALL: [Stream; 2] = [Stream::Harmonic, Stream::Percussive];

    fn index(self) -> usize {
        match self {
            Stream::Harmonic => 0,
            Stream::Percussive => 1,
        }
    }
}

/// What perception hands an encoder for one stream of one segment.
#[derive(Debug, Clone, Copy)]
pub struct EncoderInput<'a> {
    /// Frames to encode (rows to append).
    pub n_frames: usize,
    /// HPSS-masked magnitudes of those frames, row-major `[n_frames, n_fft/2+1]`.
    pub magnitudes: &'a [f32],
    /// Only for encoders with an [`Encoder::audio_context`] of `c` samples (otherwise empty):
    /// the stream's waveform at `sample_rate()`, rebuilt by overlap-add of the masked spectra,
    /// `c + n_frames * hop` samples. The last `n_frames * hop` are new: frame `k` of this
    /// segment completes the `hop` samples ending at `c + (k+1) * hop`. The first `c` were handed
    /// over before (zeros at a stream start). The waveform lags the stream by `n_fft / 2`
    /// samples (see `StreamingIstft`).
    pub audio: &'a [f32],
}

/// Chroma and pitches of one harmonic frame from a learned pitch model (deep chroma), in the
/// shape of [`super::FramePayload`]'s fields they replace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PitchPayload {
    /// Pitch-class weights, C first, summing to 1 (or all 0).
    pub chroma: [f32; 12],
    /// Notes, strongest first; `0` pads unused voices.
    pub pitches: super::pitch::FramePitches,
}

/// A frame encoder. It declares the audio rate and STFT it wants; perception resamples to
/// `sample_rate()`, frames with `n_fft()` / `hop()`, separates the streams and hands each
/// stream's masked magnitudes (and, if asked for, its waveform) here. One row per frame, in
/// frame order, whatever the segmentation: training and live must see the same rows.
pub trait Encoder: Send {
    /// Stable id stored in corpus files (`"spectral"`, `"onnx:<path>"`).
    fn id(&self) -> &str;
    /// Input sample rate in Hz.
    fn sample_rate(&self) -> u32;
    /// STFT size in samples at `sample_rate()`.
    fn n_fft(&self) -> usize;
    /// Frame hop in samples at `sample_rate()`.
    fn hop(&self) -> usize;
    /// Feature dimension.
    fn dim(&self) -> usize;
    /// `Some(c)`: the encoder reads each stream's waveform, with `c` samples of past context
    /// before the new ones ([`EncoderInput::audio`]). `None` (the default): magnitudes only, and
    /// perception skips the waveform rebuild.
    fn audio_context(&self) -> Option<usize> {
        None
    }
    /// Encodes `input.n_frames` consecutive frames of `stream` and appends `[n_frames, dim]` to
    /// `out`. Returns `n_frames`.
    fn frames(
        &mut self,
        stream: Stream,
        input: &EncoderInput<'_>,
        out: &mut Vec<f32>,
    ) -> Result<usize>;
    /// For encoders with a learned pitch model: after a [`Stream::Harmonic`] call of
    /// `frames`, one [`PitchPayload`] per frame of that call, which replaces the DSP chroma and
    /// pitches of those frames. `None` (the default) keeps the DSP payload.
    fn pitch_payload(&self) -> Option<&[PitchPayload]> {
        None
    }
    /// Forgets per-stream history (call on a discontinuity).
    fn reset(&mut self);
}

/// Id of the built-in [`SpectralEncoder`], stored in corpus files; the default encoder.
pub const SPECTRAL_ID: &str = "spectral";
/// Default encoder rate: 24 kHz with hop 320 gives 75 frames/s, the frame rate of MERT-v1 and
/// wav2vec 2.0 at 24 kHz, so corpora stay comparable across encoders.
pub const SPECTRAL_RATE_HZ: u32 = 24_000;
/// STFT size of the spectral encoder (85.3 ms at 24 kHz, 11.7 Hz bins, librosa's resolution).
/// 1024 was measured worse: with 23.4 Hz bins the main lobes of a triad's partials fill more
/// than half of a 17-bin window below 1 kHz, the frequency median rises and 16 % of a sustained
/// chord's energy leaked into the percussive stream (2.3 % with 2048; `tests/perception_hpss.rs`).
pub const SPECTRAL_N_FFT: usize = 2048;
/// Hop of the spectral encoder (13.3 ms, 75 frames/s).
pub const SPECTRAL_HOP: usize = 320;
/// Number of mel bands.
pub const NUM_MELS: usize = 64;
/// Number of chroma bins.
pub const NUM_CHROMA: usize = 12;
/// Octave sub-band edges for spectral contrast (Jiang et al. 2002; librosa's defaults).
pub const CONTRAST_EDGES_HZ: [f32; 8] =
    [0.0, 200.0, 400.0, 800.0, 1600.0, 3200.0, 6400.0, 12_000.0];
/// Number of contrast bands.
pub const NUM_CONTRAST: usize = CONTRAST_EDGES_HZ.len() - 1;
/// Scalar shape features: loudness, silence, centroid, flatness, flux, then contrast bands.
pub const NUM_SHAPE: usize = 5 + NUM_CONTRAST;
/// Spectral encoder feature dimension: 64 + 12 + 12 = 88.
pub const SPECTRAL_DIM: usize = NUM_MELS + NUM_CHROMA + NUM_SHAPE;
/// Lowest mel band edge.
pub const MEL_FMIN_HZ: f32 = 30.0;
/// Highest mel band edge.
pub const MEL_FMAX_HZ: f32 = 11_000.0;
/// Dynamic range kept per frame for log-mel (librosa `top_db`).
pub const TOP_DB: f32 = 80.0;

/// Block weights (after each block's own normalisation); the vector is L2-normalised later by
/// the quantiser, so only their ratios matter.
const W_MEL: f32 = 1.0;
const W_CHROMA: f32 = 0.8;
const W_SHAPE: f32 = 0.35;

/// Spectral encoder: per frame, 64 log-mel bands (shape only: dB minus the frame mean, over a
/// per-frame 80 dB range), 12 chroma (centred), and 12 scalars (loudness, silence, log
/// centroid, mel flatness, positive log-mel flux, 7 contrast bands). Each block is normalised on its own
/// and weighted, so no block (and no common offset) dominates the direction of the vector —
/// the property spherical K-means needs.
///
/// Layout of one `[SPECTRAL_DIM]` row: `[0..64)` mel, `[64..76)` chroma C..B, `[76..88)` shape.
pub struct SpectralEncoder {
    n_bins: usize,
    /// Per mel band: first bin and weights.
    mel_filters: Vec<(usize, Vec<f32>)>,
    /// Per bin: two (chroma class, weight) pairs; weight 0 outside the chroma range.
    chroma_map: Vec<[(usize, f32); 2]>,
    /// Per contrast band: bin range.
    contrast_bins: Vec<(usize, usize)>,
    bin_hz: Vec<f32>,
    /// Previous frame's log-mel (dB, floored at -80) per stream, for flux.
    prev_log: [Vec<f32>; 2],
    has_prev: [bool; 2],
    scratch: Vec<f32>,
}

fn hz_to_mel(f: f32) -> f32 {
    2595.0 * (1.0 + f / 700.0).log10()
}

fn mel_to_hz(m: f32) -> f32 {
    700.0 * (10f32.powf(m / 2595.0) - 1.0)
}

impl Default for SpectralEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl SpectralEncoder {
    /// Allocating: builds the mel filterbank (HTK mel scale, triangular, area-normalised as
    /// Slaney), the chroma map and contrast bands for 24 kHz / n_fft 2048.
    pub fn new() -> Self {
        let n_bins = SPECTRAL_N_FFT / 2 + 1;
        let bin_hz: Vec<f32> = (0..n_bins)
            .map(|b| b as f32 * SPECTRAL_RATE_HZ as f32 / SPECTRAL_N_FFT as f32)
            .collect();
        let (m_lo, m_hi) = (hz_to_mel(MEL_FMIN_HZ), hz_to_mel(MEL_FMAX_HZ));
        let edges: Vec<f32> = (0..NUM_MELS + 2)
            .map(|i| mel_to_hz(m_lo + (m_hi - m_lo) * i as f32 / (NUM_MELS + 1) as f32))
            .collect();
        let mut mel_filters = Vec::with_capacity(NUM_MELS);
        for m in 0..NUM_MELS {
            let (lo, c, hi) = (edges[m], edges[m + 1], edges[m + 2]);
            let mut first = usize::MAX;
            let mut weights = Vec::new();
            for (b, &f) in bin_hz.iter().enumerate() {
                let w = if f > lo && f <= c {
                    (f - lo) / (c - lo)
                } else if f > c && f < hi {
                    (hi - f) / (hi - c)
                } else {
                    0.0
                };
                if w > 0.0 {
                    if first == usize::MAX {
                        first = b;
                    }
                    weights.resize(b - first + 1, 0.0);
                    weights[b - first] = w;
                }
            }
            if weights.is_empty() {
                // Band narrower than a bin (low frequencies): take the nearest bin.
                let bin_width_hz = SPECTRAL_RATE_HZ as f32 / SPECTRAL_N_FFT as f32;
                first = ((c / bin_width_hz).round() as usize).min(n_bins - 1);
                weights.push(1.0);
            }
            let sum: f32 = weights.iter().sum();
            weights.iter_mut().for_each(|w| *w /= sum);
            mel_filters.push((first, weights));
        }
        let chroma_map = bin_hz
            .iter()
            .map(|&f| super::pitch::pitch_class_split(f))
            .collect();
        let contrast_bins = CONTRAST_EDGES_HZ
            .windows(2)
            .map(|e| {
                let lo = bin_hz.iter().position(|&f| f >= e[0]).unwrap_or(0);
                let hi = bin_hz
                    .iter()
                    .position(|&f| f >= e[1])
                    .unwrap_or(n_bins)
                    .max(lo + 1);
                (lo, hi.min(n_bins))
            })
            .collect();
        Self {
            n_bins,
            mel_filters,
            chroma_map,
            contrast_bins,
            bin_hz,
            prev_log: [vec![0.0; NUM_MELS], vec![0.0; NUM_MELS]],
            has_prev: [false; 2],
            scratch: Vec::with_capacity(n_bins),
        }
    }

    fn encode_frame(&mut self, stream: Stream, mag: &[f32], out: &mut [f32]) {
        let (mel_out, rest) = out.split_at_mut(NUM_MELS);
        let (chroma_out, shape_out) = rest.split_at_mut(NUM_CHROMA);
        // Power and total energy.
        let energy: f32 = mag.iter().map(|m| m * m).sum();
        let loud_db = 10.0 * (energy + 1e-12).log10();
        // --- log-mel shape ---
        let mut max_db = f32::NEG_INFINITY;
        for (o, (first, w)) in mel_out.iter_mut().zip(&self.mel_filters) {
            let e: f32 = w.iter().zip(&mag[*first..]).map(|(w, m)| w * m * m).sum();
            *o = 10.0 * (e + 1e-12).log10();
            max_db = max_db.max(*o);
        }
        let floor_db = max_db - TOP_DB;
        mel_out.iter_mut().for_each(|v| *v = v.max(floor_db));
        // Flatness (Wiener entropy) over mel band powers: geometric / arithmetic mean, from the
        // dB values (no per-bin logarithms: 64 bands instead of 1025 bins).
        let mean_db = mel_out.iter().sum::<f32>() / NUM_MELS as f32;
        let arith_pow = mel_out.iter().map(|v| 10f32.powf(v / 10.0)).sum::<f32>() / NUM_MELS as f32;
        let flatness = (10f32.powf(mean_db / 10.0) / (arith_pow + 1e-12)).clamp(1e-6, 1.0);
        let flat = (1.0 + flatness.log10() / 3.0).clamp(0.0, 1.0);
        // Onset flux on log-mel with absolute dB floored at -80 dB (as librosa's
        // `onset_strength`: mean positive difference of successive log-mel frames).
        let s = stream.index();
        let mut flux_db = 0.0f32;
        for (m, prev) in mel_out.iter().zip(self.prev_log[s].iter_mut()) {
            let cur = m.max(-TOP_DB);
            if self.has_prev[s] {
                flux_db += (cur - *prev).max(0.0);
            }
            *prev = cur;
        }
        self.has_prev[s] = true;
        let flux = (flux_db / NUM_MELS as f32 / 10.0).tanh();
        let mean = mean_db;
        mel_out.iter_mut().for_each(|v| *v -= mean);
        normalise_block(mel_out, 20.0, W_MEL);
        // --- chroma ---
        chroma_out.iter_mut().for_each(|v| *v = 0.0);
        for (m, pairs) in mag.iter().zip(&self.chroma_map) {
            let p = m * m;
            for &(c, w) in pairs {
                chroma_out[c] += w * p;
            }
        }
        let total: f32 = chroma_out.iter().sum();
        if total > 1e-12 {
            chroma_out
                .iter_mut()
                .for_each(|v| *v = *v / total - 1.0 / NUM_CHROMA as f32);
        }
        normalise_block(chroma_out, 0.3, W_CHROMA);
        // --- shape scalars ---
        let loud = ((loud_db + TOP_DB) / TOP_DB).clamp(0.0, 1.0);
        let msum: f32 = mag.iter().sum();
        let centroid_hz = if msum > 1e-9 {
            mag.iter()
                .zip(&self.bin_hz)
                .map(|(m, f)| m * f)
                .sum::<f32>()
                / msum
        } else {
            1000.0
        };
        let centroid = ((centroid_hz.max(50.0) / 1000.0).log2() / 4.0).clamp(-1.0, 1.0);
        shape_out[0] = loud;
        shape_out[1] = 1.0 - loud;
        shape_out[2] = centroid;
        shape_out[3] = flat;
        shape_out[4] = flux;
        for (i, &(lo, hi)) in self.contrast_bins.iter().enumerate() {
            self.scratch.clear();
            self.scratch.extend_from_slice(&mag[lo..hi]);
            let len = self.scratch.len();
            let q = ((len as f32 * 0.2).ceil() as usize).clamp(1, len);
            // Partition instead of sorting: lowest q values first, then highest q last.
            self.scratch
                .select_nth_unstable_by(q - 1, |a, b| a.total_cmp(b));
            let valley = self.scratch[..q].iter().sum::<f32>() / q as f32;
            if len - q > q {
                self.scratch[q..].select_nth_unstable_by(len - 2 * q, |a, b| a.total_cmp(b));
            }
            let peak = self.scratch[len - q..].iter().sum::<f32>() / q as f32;
            let contrast_db = 20.0 * ((peak + 1e-6) / (valley + 1e-6)).log10();
            shape_out[5 + i] = (contrast_db / 40.0).clamp(0.0, 1.0);
        }
        shape_out.iter_mut().for_each(|v| *v *= W_SHAPE);
    }
}

/// Scales `block` to unit norm (or less, for norms under `floor`), then by `weight`.
fn normalise_block(block: &mut [f32], floor: f32, weight: f32) {
    let norm = block.iter().map(|v| v * v).sum::<f32>().sqrt();
    let scale = weight / norm.max(floor);
    block.iter_mut().for_each(|v| *v *= scale);
}

impl Encoder for SpectralEncoder {
    fn id(&self) -> &str {
        SPECTRAL_ID
    }
    fn sample_rate(&self) -> u32 {
        SPECTRAL_RATE_HZ
    }
    fn n_fft(&self) -> usize {
        SPECTRAL_N_FFT
    }
    fn hop(&self) -> usize {
        SPECTRAL_HOP
    }
    fn dim(&self) -> usize {
        SPECTRAL_DIM
    }
    fn frames(
        &mut self,
        stream: Stream,
        input: &EncoderInput<'_>,
        out: &mut Vec<f32>,
    ) -> Result<usize> {
        let (magnitudes, n_frames) = (input.magnitudes, input.n_frames);
        if magnitudes.len() != n_frames * self.n_bins {
            return Err(PerceptionError::ShapeMismatch {
                expected: n_frames * self.n_bins,
                actual: magnitudes.len(),
            });
        }
        let start = out.len();
        out.resize(start + n_frames * SPECTRAL_DIM, 0.0);
        for (f, mag) in magnitudes.chunks_exact(self.n_bins).enumerate() {
            let row = start + f * SPECTRAL_DIM;
            let mut buf = [0.0f32; SPECTRAL_DIM];
            self.encode_frame(stream, mag, &mut buf);
            out[row..row + SPECTRAL_DIM].copy_from_slice(&buf);
        }
        Ok(n_frames)
    }
    fn reset(&mut self) {
        self.has_prev = [false; 2];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mags(m: &[f32]) -> EncoderInput<'_> {
        EncoderInput {
            n_frames: m.len() / (SPECTRAL_N_FFT / 2 + 1),
            magnitudes: m,
            audio: &[],
        }
    }

    fn tone_frame(freq_hz: f32) -> Vec<f32> {
        let mut m = vec![1e-5f32; SPECTRAL_N_FFT / 2 + 1];
        let b = (freq_hz / (SPECTRAL_RATE_HZ as f32 / SPECTRAL_N_FFT as f32)).round() as usize;
        m[b] = 0.5;
        m
    }

    #[test]
    fn chroma_peaks_on_pitch_class_and_features_finite() {
        let mut e = SpectralEncoder::new();
        let mut out = Vec::new();
        // A4 = 440 Hz -> class 9; bin 38 = 445.3 Hz (11.7 Hz bins) is close enough.
        e.frames(Stream::Harmonic, &mags(&tone_frame(440.0)), &mut out)
            .unwrap();
        assert_eq!(out.len(), SPECTRAL_DIM);
        assert!(out.iter().all(|v| v.is_finite()));
        let chroma = &out[NUM_MELS..NUM_MELS + NUM_CHROMA];
        let argmax = (0..12)
            .max_by(|&a, &b| chroma[a].total_cmp(&chroma[b]))
            .unwrap();
        assert_eq!(argmax, 9, "chroma {chroma:?}");
        // Silence: finite, silence feature on.
        let mut out2 = Vec::new();
        let silent = vec![0.0; SPECTRAL_N_FFT / 2 + 1];
        e.frames(Stream::Percussive, &mags(&silent), &mut out2)
            .unwrap();
        assert!(out2.iter().all(|v| v.is_finite()));
        assert!(out2[NUM_MELS + NUM_CHROMA + 1] > 0.3);
    }

    // The spectral encoder's row, restated from its documentation and computed here in f64,
    // for the tests below. Layout [0..64) mel, [64..76) chroma, [76..88) shape.
    const RATE: f64 = 24_000.0;
    const N_FFT: usize = 2048;
    const BINS: usize = N_FFT / 2 + 1;
    const BIN_HZ: f64 = RATE / N_FFT as f64;
    /// Block weights: mel 1, chroma 0.8, shape 0.35.
    const MEL_W: f64 = 1.0;
    const CHROMA_W: f64 = 0.8;
    const SHAPE_W: f64 = 0.35;
    const MEL: std::ops::Range<usize> = 0..64;
    const SHAPE: std::ops::Range<usize> = 76..88;

    /// HTK mel: 2595 log10(1 + f / 700).
    fn mel(f: f64) -> f64 {
        2595.0 * (1.0 + f / 700.0).log10()
    }

    /// The 66 band edges (Hz) of 64 triangles equally spaced in HTK mel from 30 Hz to 11 kHz.
    fn mel_edges() -> Vec<f64> {
        let (lo, hi) = (mel(30.0), mel(11_000.0));
        (0..66)
            .map(|i| {
                let m = lo + (hi - lo) * i as f64 / 65.0;
                700.0 * (10f64.powf(m / 2595.0) - 1.0)
            })
            .collect()
    }

    /// Band `m`'s weight on each bin: a triangle over (edge m, edge m + 2) peaking at edge
    /// m + 1, scaled to sum 1 (area normalisation).
    fn mel_weights(m: usize) -> Vec<f64> {
        let e = mel_edges();
        let (lo, c, hi) = (e[m], e[m + 1], e[m + 2]);
        let w: Vec<f64> = (0..BINS)
            .map(|b| {
                let f = b as f64 * BIN_HZ;
                if f > lo && f <= c {
                    (f - lo) / (c - lo)
                } else if f > c && f < hi {
                    (hi - f) / (hi - c)
                } else {
                    0.0
                }
            })
            .collect();
        let sum: f64 = w.iter().sum();
        assert!(sum > 0.0, "band {m} covers no bin");
        w.iter().map(|v| v / sum).collect()
    }

    /// Band powers in dB (+1e-12), floored 80 dB under the frame's loudest band.
    fn mel_db(mag: &[f32]) -> Vec<f64> {
        let db: Vec<f64> = (0..64)
            .map(|m| {
                let e: f64 = mel_weights(m)
                    .iter()
                    .zip(mag)
                    .map(|(w, &x)| w * (x as f64).powi(2))
                    .sum();
                10.0 * (e + 1e-12).log10()
            })
            .collect();
        let max = db.iter().copied().fold(f64::MIN, f64::max);
        db.iter().map(|v| v.max(max - 80.0)).collect()
    }

    /// Scaled to unit norm (or by 1 / floor for norms under `floor`), times `weight`.
    fn normalised(v: Vec<f64>, floor: f64, weight: f64) -> Vec<f64> {
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.iter().map(|x| x * weight / norm.max(floor)).collect()
    }

    /// The documented row of `mag`, `prev` being the same stream's previous frame (None at a
    /// stream start).
    fn expected_row(prev: Option<&[f32]>, mag: &[f32]) -> Vec<f64> {
        let db = mel_db(mag);
        let mean = db.iter().sum::<f64>() / 64.0;
        // Mel: dB minus the frame mean, block norm floored at 20.
        let mut row = normalised(db.iter().map(|v| v - mean).collect(), 20.0, MEL_W);
        // Chroma: bin energies between 50 Hz and 5 kHz split linearly between the two nearest
        // pitch classes (C = 0), as shares of the total, minus 1/12; block norm floored at 0.3.
        let mut chroma = [0.0f64; 12];
        for (b, &x) in mag.iter().enumerate() {
            let f = b as f64 * BIN_HZ;
            if (50.0..=5000.0).contains(&f) {
                let pc = (69.0 + 12.0 * (f / 440.0).log2()).rem_euclid(12.0);
                let (lo, frac) = (pc.floor() as usize % 12, pc - pc.floor());
                chroma[lo] += (1.0 - frac) * (x as f64).powi(2);
                chroma[(lo + 1) % 12] += frac * (x as f64).powi(2);
            }
        }
        let total: f64 = chroma.iter().sum();
        let chroma: Vec<f64> = if total > 1e-12 {
            chroma.iter().map(|c| c / total - 1.0 / 12.0).collect()
        } else {
            vec![0.0; 12]
        };
        row.extend(normalised(chroma, 0.3, CHROMA_W));
        // Shape.
        let energy: f64 = mag.iter().map(|&x| (x as f64).powi(2)).sum();
        let loud = ((10.0 * (energy + 1e-12).log10() + 80.0) / 80.0).clamp(0.0, 1.0);
        let mag_sum: f64 = mag.iter().map(|&x| x as f64).sum();
        let centroid_hz = if mag_sum > 1e-9 {
            mag.iter()
                .enumerate()
                .map(|(b, &x)| x as f64 * b as f64 * BIN_HZ)
                .sum::<f64>()
                / mag_sum
        } else {
            1000.0
        };
        let centroid = ((centroid_hz.max(50.0) / 1000.0).log2() / 4.0).clamp(-1.0, 1.0);
        // Flatness of the (floored) band powers: geometric over arithmetic mean.
        let geometric = 10f64.powf(mean / 10.0);
        let arithmetic = db.iter().map(|v| 10f64.powf(v / 10.0)).sum::<f64>() / 64.0;
        let flatness = (geometric / (arithmetic + 1e-12)).clamp(1e-6, 1.0);
        let flat = (1.0 + flatness.log10() / 3.0).clamp(0.0, 1.0);
        // Flux: mean positive rise of the band dB (also floored at -80 dB) since the previous
        // frame, over 10 dB, through tanh.
        let flux = prev.map_or(0.0, |p| {
            let rise: f64 = mel_db(p)
                .iter()
                .zip(&db)
                .map(|(a, b)| (b.max(-80.0) - a.max(-80.0)).max(0.0))
                .sum();
            (rise / 64.0 / 10.0).tanh()
        });
        let mut shape = vec![loud, 1.0 - loud, centroid, flat, flux];
        // Contrast per octave band [0, 200, 400, ..., 6400, 12000) Hz: mean of the top 20 % of
        // the band's magnitudes over the mean of the bottom 20 % (at least one bin each), in
        // dB (+1e-6 each), over 40 dB, clamped to 0..1.
        let edges = [0.0, 200.0, 400.0, 800.0, 1600.0, 3200.0, 6400.0, 12_000.0];
        for e in edges.windows(2) {
            let mut band: Vec<f64> = (0..BINS)
                .filter(|&b| (e[0]..e[1]).contains(&(b as f64 * BIN_HZ)))
                .map(|b| mag[b] as f64)
                .collect();
            band.sort_by(f64::total_cmp);
            let q = ((band.len() as f64 * 0.2).ceil() as usize).clamp(1, band.len());
            let valley = band[..q].iter().sum::<f64>() / q as f64;
            let peak = band[band.len() - q..].iter().sum::<f64>() / q as f64;
            let db = 20.0 * ((peak + 1e-6) / (valley + 1e-6)).log10();
            shape.push((db / 40.0).clamp(0.0, 1.0));
        }
        row.extend(shape.iter().map(|v| v * SHAPE_W));
        row
    }

    fn encode(e: &mut SpectralEncoder, stream: Stream, mag: &[f32]) -> Vec<f32> {
        let mut out = Vec::new();
        e.frames(stream, &mags(mag), &mut out).unwrap();
        out
    }

    fn assert_row(got: &[f32], want: &[f64], what: &str) {
        assert_eq!(got.len(), SPECTRAL_DIM);
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (*g as f64 - w).abs() < 1e-4,
                "{what}: value {i} is {g}, the documented formula gives {w}"
            );
        }
    }

    /// A spectrum with a bit of everything: a floor, two peaks, a ramp, and a stretch 140 dB
    /// down (below the 80 dB range, so the mel floor and the flux's -80 dB floor both act).
    fn busy_spectrum(gain: f32) -> Vec<f32> {
        (0..BINS)
            .map(|b| {
                let f = b as f32 * BIN_HZ as f32;
                let x = if f > 9000.0 {
                    1e-7
                } else {
                    0.01 + 0.5 * (-((f - 440.0) / 30.0).powi(2)).exp()
                        + 0.2 * (-((f - 3000.0) / 200.0).powi(2)).exp()
                        + 0.02 * (f / 9000.0)
                };
                gain * x
            })
            .collect()
    }

    #[test]
    fn every_feature_follows_its_documented_formula() {
        let mut e = SpectralEncoder::new();
        let (a, b) = (busy_spectrum(1.0), busy_spectrum(3.0));
        let first = encode(&mut e, Stream::Harmonic, &a);
        assert_row(&first, &expected_row(None, &a), "first frame");
        let second = encode(&mut e, Stream::Harmonic, &b);
        assert_row(&second, &expected_row(Some(&a), &b), "second frame");
        // Flux is per stream: the percussive stream starts afresh.
        let other = encode(&mut e, Stream::Percussive, &b);
        assert_row(&other, &expected_row(None, &b), "other stream");
        // A tone after it, then silence.
        let tone = tone_frame(1000.0);
        assert_row(
            &encode(&mut e, Stream::Percussive, &tone),
            &expected_row(Some(&b), &tone),
            "tone",
        );
        let silence = vec![0.0f32; BINS];
        assert_row(
            &encode(&mut e, Stream::Percussive, &silence),
            &expected_row(Some(&tone), &silence),
            "silence",
        );
    }

    /// Closed-form cases of the shape block.
    #[test]
    fn shape_features_in_closed_form() {
        let mut e = SpectralEncoder::new();
        let shape = |row: &[f32]| row[SHAPE].to_vec();
        // A flat spectrum at 0.01: every band has the same power, so flatness 1 (slot 0.35), no
        // contrast anywhere, the mel block is all zeros (each band at the mean), the centroid
        // is the mean bin frequency (6 kHz: log2(6) / 4), loudness 10 log10(1025e-4) dB.
        let flat = vec![0.01f32; BINS];
        let row = encode(&mut e, Stream::Harmonic, &flat);
        let s = shape(&row);
        let loud = (10.0 * (1025e-4f64).log10() + 80.0) / 80.0;
        assert!((s[0] as f64 - SHAPE_W * loud).abs() < 1e-5, "{s:?}");
        assert!(
            (s[2] as f64 - SHAPE_W * 6f64.log2() / 4.0).abs() < 1e-4,
            "{s:?}"
        );
        assert!((s[3] as f64 - SHAPE_W).abs() < 1e-5, "{s:?}");
        assert!(s[5..].iter().all(|v| v.abs() < 1e-6), "{s:?}");
        assert!(row[MEL].iter().all(|v| v.abs() < 1e-5));
        // The same spectrum 20 dB louder: every band rises 20 dB, flux tanh(20 / 10).
        let louder = vec![0.1f32; BINS];
        let s = shape(&encode(&mut e, Stream::Harmonic, &louder));
        assert!((s[4] as f64 - SHAPE_W * 2f64.tanh()).abs() < 1e-5, "{s:?}");
        // ... and the same again: no rise, flux 0.
        let s = shape(&encode(&mut e, Stream::Harmonic, &louder));
        assert!(s[4].abs() < 1e-6, "{s:?}");
        // A single bin at 445.3 Hz (bin 38): centroid log2(445.3 / 1000) / 4; full contrast in
        // its octave band (400-800 Hz) and none elsewhere; loudness 10 log10(0.25) dB.
        let mut tone = vec![0.0f32; BINS];
        tone[38] = 0.5;
        let row = encode(&mut e, Stream::Harmonic, &tone);
        let s = shape(&row);
        let f = 38.0 * BIN_HZ;
        assert!(
            (s[2] as f64 - SHAPE_W * (f / 1000.0).log2() / 4.0).abs() < 1e-5,
            "{s:?}"
        );
        let loud = (10.0 * 0.25f64.log10() + 80.0) / 80.0;
        assert!((s[0] as f64 - SHAPE_W * loud).abs() < 1e-5, "{s:?}");
        assert!((s[1] as f64 - SHAPE_W * (1.0 - loud)).abs() < 1e-5, "{s:?}");
        for (band, v) in s[5..].iter().enumerate() {
            let want = if band == 2 { SHAPE_W } else { 0.0 };
            assert!(
                (*v as f64 - want).abs() < 1e-6,
                "contrast band {band}: {s:?}"
            );
        }
        // Mel: the loudest band is the one whose triangle weighs bin 38 most (after area
        // normalisation), and the block has norm 1 (its norm before scaling exceeds 20).
        let weight_at_38 = |m: usize| mel_weights(m)[38];
        let want = (0..64)
            .max_by(|&a, &b| weight_at_38(a).total_cmp(&weight_at_38(b)))
            .unwrap();
        let got = (0..64).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
        assert_eq!(got, want);
        let edges = mel_edges();
        assert!(edges[want] < f && f < edges[want + 2]);
        let norm = row[MEL].iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm as f64 - MEL_W).abs() < 1e-5, "mel norm {norm}");
    }

    #[test]
    fn rejects_ragged_input() {
        let mut e = SpectralEncoder::new();
        assert!(matches!(
            e.frames(
                Stream::Harmonic,
                &EncoderInput {
                    n_frames: 1,
                    magnitudes: &[0.0; 600],
                    audio: &[],
                },
                &mut Vec::new()
            ),
            Err(PerceptionError::ShapeMismatch { .. })
        ));
    }
}
