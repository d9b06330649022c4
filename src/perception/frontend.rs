//! Streaming STFT (Hann window, `realfft`) and streaming median-filter HPSS.
//!
//! HPSS follows Fitzgerald, "Harmonic/percussive separation using median filtering", DAFx 2010,
//! with librosa's soft masks (`librosa.decompose.hpss(margin=1, power=2)`):
//! `H = median_time(S)`, `P = median_freq(S)`, `mask_H = H^p / (H^p + P^p)`,
//! `mask_P = P^p / (H^p + P^p)`, outputs `S * mask_H` and `S * mask_P`. Where `H = P = 0` both
//! masks are 0.5, so `S_H + S_P == S` for every bin (tested).
//!
//! Both types are streaming: they hold the past they need (samples not yet framed, a ring of
//! past magnitude frames) so that feeding a signal in any split gives the same frames.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use super::error::{PerceptionError, Result};

/// Largest FFT size accepted (keeps ring buffers and scratch bounded).
pub const MAX_N_FFT: usize = 8192;
/// Largest median kernel (time frames or frequency bins).
pub const MAX_KERNEL: usize = 63;

/// Periodic Hann window of length `n` (as `scipy.signal.get_window("hann", n)`).
pub fn hann_periodic(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let x = 2.0 * std::f64::consts::PI * i as f64 / n as f64;
            (0.5 - 0.5 * x.cos()) as f32
        })
        .collect()
}

/// Streaming magnitude STFT.
///
/// Frame `t` covers encoder-rate samples `[t*hop - n_fft/2, t*hop + n_fft/2)` of the stream
/// (the stream is preceded by `n_fft/2` zeros, like librosa's `center=True` at the start), so
/// frame `t` is centred on sample `t*hop`. Samples that do not yet complete a frame are kept for
/// the next call. Magnitudes are scaled by `2 / sum(window)`: a full-scale sine on a bin centre
/// gives a peak of 1.0.
pub struct StreamingStft {
    n_fft: usize,
    hop: usize,
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
    pending: Vec<f32>,
    frame_in: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    scale: f32,
}

impl StreamingStft {
    /// Allocating. `n_fft` even, `1 <= hop <= n_fft <= MAX_N_FFT`.
    pub fn new(n_fft: usize, hop: usize) -> Result<Self> {
        if n_fft < 16 || n_fft > MAX_N_FFT || n_fft % 2 != 0 {
            return Err(PerceptionError::InvalidConfig {
                reason: format!("n_fft = {n_fft} must be even and in 16..={MAX_N_FFT}"),
            });
        }
        if hop == 0 || hop > n_fft {
            return Err(PerceptionError::InvalidConfig {
                reason: format!("hop = {hop} must be in 1..=n_fft ({n_fft})"),
            });
        }
        let mut planner = RealFftPlanner::<f32>::new();
        let fft = planner.plan_fft_forward(n_fft);
        let window = hann_periodic(n_fft);
        let sum: f32 = window.iter().sum();
        Ok(Self {
            n_fft,
            hop,
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            frame_in: vec![0.0; n_fft],
            pending: vec![0.0; n_fft / 2],
            window,
            fft,
            scale: 2.0 / sum,
        })
    }

    /// Number of frequency bins, `n_fft / 2 + 1`.
    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Appends `n_bins` magnitudes per completed frame to `mags`; returns the number of frames.
    pub fn push(&mut self, samples: &[f32], mags: &mut Vec<f32>) -> Result<usize> {
        self.push_inner(samples, mags, None)
    }

    /// As [`Self::push`], and also appends each frame's unscaled complex spectrum (`n_bins`
    /// values, the forward FFT of the windowed frame) to `spectra`, for [`StreamingIstft`].
    pub fn push_with_spectra(
        &mut self,
        samples: &[f32],
        mags: &mut Vec<f32>,
        spectra: &mut Vec<Complex<f32>>,
    ) -> Result<usize> {
        self.push_inner(samples, mags, Some(spectra))
    }

    fn push_inner(
        &mut self,
        samples: &[f32],
        mags: &mut Vec<f32>,
        mut spectra: Option<&mut Vec<Complex<f32>>>,
    ) -> Result<usize> {
        self.pending.extend_from_slice(samples);
        let mut start = 0usize;
        let mut n_frames = 0usize;
        while self.pending.len() - start >= self.n_fft {
            let frame = &self.pending[start..start + self.n_fft];
            for ((dst, &x), &w) in self.frame_in.iter_mut().zip(frame).zip(&self.window) {
                *dst = x * w;
            }
            self.fft
                .process_with_scratch(&mut self.frame_in, &mut self.spectrum, &mut self.scratch)
                .map_err(|e| PerceptionError::InvalidConfig {
                    reason: e.to_string(),
                })?;
            mags.extend(self.spectrum.iter().map(|c| c.norm() * self.scale));
            if let Some(spectra) = spectra.as_deref_mut() {
                spectra.extend_from_slice(&self.spectrum);
            }
            start += self.hop;
            n_frames += 1;
        }
        self.pending.drain(..start);
        Ok(n_frames)
    }
}

/// Streaming inverse STFT by weighted overlap-add, the inverse of [`StreamingStft`].
///
/// Each pushed spectrum (as [`StreamingStft::push_with_spectra`] gives, possibly masked) is
/// inverse transformed, multiplied by the same Hann window and added into an accumulator
/// together with the squared window; a sample is final once no later frame overlaps it and is
/// emitted as `sum(w * y) / sum(w^2)` (Griffin & Lim 1984), which reconstructs unmasked input
/// exactly for any hop (also when `n_fft` is not a multiple of it). Frame `t` covers stream
/// samples `[t*hop - n_fft/2, t*hop + n_fft/2)`, so after frame `t` the samples before
/// `(t+1)*hop - n_fft/2` are final: **every pushed frame emits exactly `hop` samples**, and the
/// output is the stream delayed by `n_fft/2` samples (it starts with the STFT's `n_fft/2`
/// samples of leading zero padding).
pub struct StreamingIstft {
    n_fft: usize,
    hop: usize,
    window: Vec<f32>,
    ifft: Arc<dyn realfft::ComplexToReal<f32>>,
    spectrum: Vec<Complex<f32>>,
    frame_out: Vec<f32>,
    scratch: Vec<Complex<f32>>,
    /// Overlap-add accumulators for the `n_fft` samples starting at the next output sample.
    acc: Vec<f32>,
    weight: Vec<f32>,
}

impl StreamingIstft {
    /// Allocating. Same constraints as [`StreamingStft::new`].
    pub fn new(n_fft: usize, hop: usize) -> Result<Self> {
        // Validates the sizes the same way as the forward transform.
        StreamingStft::new(n_fft, hop)?;
        let mut planner = RealFftPlanner::<f32>::new();
        let ifft = planner.plan_fft_inverse(n_fft);
        Ok(Self {
            n_fft,
            hop,
            window: hann_periodic(n_fft),
            spectrum: ifft.make_input_vec(),
            frame_out: ifft.make_output_vec(),
            scratch: ifft.make_scratch_vec(),
            ifft,
            acc: vec![0.0; n_fft],
            weight: vec![0.0; n_fft],
        })
    }

    /// Number of frequency bins a pushed spectrum must have, `n_fft / 2 + 1`.
    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Overlap-adds one spectrum and appends the `hop` samples it completes to `out`.
    pub fn push_frame(&mut self, spectrum: &[Complex<f32>], out: &mut Vec<f32>) -> Result<()> {
        if spectrum.len() != self.n_bins() {
            return Err(PerceptionError::ShapeMismatch {
                expected: self.n_bins(),
                actual: spectrum.len(),
            });
        }
        self.spectrum.copy_from_slice(spectrum);
        // A real signal's DC and Nyquist bins are real; clear rounding residue so the inverse
        // transform accepts them.
        let last = self.spectrum.len() - 1;
        self.spectrum[0].im = 0.0;
        self.spectrum[last].im = 0.0;
        self.ifft
            .process_with_scratch(&mut self.spectrum, &mut self.frame_out, &mut self.scratch)
            .map_err(|e| PerceptionError::InvalidConfig {
                reason: e.to_string(),
            })?;
        let norm = 1.0 / self.n_fft as f32;
        for i in 0..self.n_fft {
            let w = self.window[i];
            self.acc[i] += self.frame_out[i] * norm * w;
            self.weight[i] += w * w;
        }
        out.extend(
            self.acc[..self.hop]
                .iter()
                .zip(&self.weight[..self.hop])
                .map(|(&a, &w)| if w > 1e-6 { a / w } else { 0.0 }),
        );
        self.acc.copy_within(self.hop.., 0);
        self.weight.copy_within(self.hop.., 0);
        let keep = self.n_fft - self.hop;
        self.acc[keep..].fill(0.0);
        self.weight[keep..].fill(0.0);
        Ok(())
    }
}

/// Streaming median-filter HPSS on magnitude frames.
///
/// Keeps the last `kernel_time` frames. When frame `t` arrives, frame `c = t - lookahead` is
/// separated: its harmonic reference is the per-bin median over frames
/// `[t - kernel_time + 1, t]` (frames before the stream start count as zeros), its percussive
/// reference the median over bins `[b - kernel_freq/2, b + kernel_freq/2]` of frame `c`
/// (clipped at the spectrum edges). `lookahead = kernel_time / 2` is librosa's centred filter;
/// `lookahead = 0` is causal (no added latency, slower harmonic onsets).
pub struct StreamingHpss {
    n_bins: usize,
    kernel_time: usize,
    lookahead: usize,
    kernel_freq: usize,
    power: f32,
    /// `kernel_time` frames, oldest first, as a circular buffer of `n_bins` rows.
    ring: Vec<f32>,
    /// Row index of the oldest frame in `ring`.
    ring_head: usize,
    frames_pushed: u64,
    harm_ref: Vec<f32>,
    perc_ref: Vec<f32>,
    /// Per bin, the `kernel_time` values of the ring in ascending order, `[n_bins, kernel_time]`.
    sorted_time: Vec<f32>,
}

impl StreamingHpss {
    /// Allocating. Kernels odd-or-even in `1..=MAX_KERNEL`, `lookahead < kernel_time`.
    pub fn new(
        n_bins: usize,
        kernel_time: usize,
        lookahead: usize,
        kernel_freq: usize,
        power: f32,
    ) -> Result<Self> {
        if kernel_time == 0
            || kernel_time > MAX_KERNEL
            || kernel_freq == 0
            || kernel_freq > MAX_KERNEL
        {
            return Err(PerceptionError::InvalidConfig {
                reason: format!(
                    "HPSS kernels ({kernel_time} frames, {kernel_freq} bins) must be in 1..={MAX_KERNEL}"
                ),
            });
        }
        if lookahead >= kernel_time {
            return Err(PerceptionError::InvalidConfig {
                reason: format!("HPSS lookahead {lookahead} must be < kernel {kernel_time}"),
            });
        }
        if !(power.is_finite() && power > 0.0) {
            return Err(PerceptionError::InvalidConfig {
                reason: format!("mask power {power} must be > 0"),
            });
        }
        Ok(Self {
            n_bins,
            kernel_time,
            lookahead,
            kernel_freq,
            power,
            ring: vec![0.0; n_bins * kernel_time],
            ring_head: 0,
            frames_pushed: 0,
            harm_ref: vec![0.0; n_bins],
            perc_ref: vec![0.0; n_bins],
            sorted_time: vec![0.0; n_bins * kernel_time],
        })
    }

    /// Frames of delay between input and output (`lookahead`).
    pub fn latency_frames(&self) -> usize {
        self.lookahead
    }

    /// Pushes one magnitude frame; when a frame is ready, appends its harmonic and percussive
    /// magnitudes (`n_bins` each) and returns `true`.
    pub fn push_frame(
        &mut self,
        mag: &[f32],
        harm: &mut Vec<f32>,
        perc: &mut Vec<f32>,
    ) -> Result<bool> {
        if mag.len() != self.n_bins {
            return Err(PerceptionError::ShapeMismatch {
                expected: self.n_bins,
                actual: mag.len(),
            });
        }
        // Overwrite the oldest row with the new frame; it becomes the newest. Each bin's sorted
        // window trades the outgoing value for the incoming one (O(k) moves, no sort).
        let row = self.ring_head;
        let k = self.kernel_time;
        for (b, &new) in mag.iter().enumerate() {
            let old = self.ring[row * self.n_bins + b];
            sorted_replace(&mut self.sorted_time[b * k..(b + 1) * k], old, new);
        }
        self.ring[row * self.n_bins..(row + 1) * self.n_bins].copy_from_slice(mag);
        self.ring_head = (self.ring_head + 1) % self.kernel_time;
        self.frames_pushed += 1;
        if self.frames_pushed <= self.lookahead as u64 {
            return Ok(false);
        }
        // Newest is at (head - 1); centre frame is `lookahead` rows older.
        let centre_row = (self.ring_head + k - 1 - self.lookahead) % k;
        for b in 0..self.n_bins {
            self.harm_ref[b] = self.sorted_time[b * k + k / 2];
        }
        let centre = &self.ring[centre_row * self.n_bins..(centre_row + 1) * self.n_bins];
        let half = self.kernel_freq / 2;
        // Sliding sorted window over bins [lo, hi) of the centre frame.
        let mut window = [0.0f32; MAX_KERNEL];
        let (mut lo, mut hi) = (0usize, 0usize);
        for b in 0..self.n_bins {
            let new_lo = b.saturating_sub(half);
            let new_hi = (b + self.kernel_freq - half).min(self.n_bins);
            // Steady state: one value leaves and one enters the window.
            while lo < new_lo && hi < new_hi {
                sorted_replace(&mut window[..hi - lo], centre[lo], centre[hi]);
                lo += 1;
                hi += 1;
            }
            while lo < new_lo {
                let len = hi - lo;
                sorted_remove(&mut window[..len], centre[lo]);
                lo += 1;
            }
            while hi < new_hi {
                let len = hi - lo;
                sorted_insert(&mut window[..len + 1], centre[hi]);
                hi += 1;
            }
            let len = hi - lo;
            self.perc_ref[b] = window[len / 2];
        }
        let p = self.power;
        for b in 0..self.n_bins {
            let (h, q) = (self.harm_ref[b], self.perc_ref[b]);
            let z = h.max(q);
            let mask_h = if z <= f32::MIN_POSITIVE {
                0.5
            } else if p == 2.0 {
                // Fast path for the default power (powf is ~10x a multiply).
                let (hn, qn) = (h / z, q / z);
                hn * hn / (hn * hn + qn * qn)
            } else {
                let hp = (h / z).powf(p);
                let qp = (q / z).powf(p);
                hp / (hp + qp)
            };
            harm.push(centre[b] * mask_h);
            perc.push(centre[b] * (1.0 - mask_h));
        }
        Ok(true)
    }
}

/// In a sorted slice, replaces one `old` by `new`, keeping it sorted. Positions are found by
/// counting (`x < v` over the slice, which compiles to branch-free vector compares: the values
/// are noisy magnitudes, so a binary search's branches mispredict) and the values ranked
/// between them move in one `copy_within`. `old` must be present.
fn sorted_replace(sorted: &mut [f32], old: f32, new: f32) {
    let len = sorted.len();
    let count_below = |s: &[f32], v: f32| s.iter().map(|&x| usize::from(x < v)).sum::<usize>();
    let i = count_below(sorted, old).min(len - 1);
    if new > old {
        // Values in (old, new) move one place down; `new` lands after the last of them.
        let j = i + count_below(&sorted[i + 1..], new);
        sorted.copy_within(i + 1..j + 1, i);
        sorted[j] = new;
    } else {
        // Values in (new, old) before `i` move one place up; `new` lands before the first.
        let j = sorted[..i]
            .iter()
            .map(|&x| usize::from(x <= new))
            .sum::<usize>();
        sorted.copy_within(j..i, j + 1);
        sorted[j] = new;
    }
}

/// Removes one occurrence of `value` from sorted `window` (values after it shift left; the last
/// slot becomes free). `value` must be present.
fn sorted_remove(window: &mut [f32], value: f32) {
    let i = window
        .partition_point(|&x| x < value)
        .min(window.len().saturating_sub(1));
    window.copy_within(i + 1.., i);
}

/// Inserts `value` into `window`, whose first `len - 1` values are sorted (the last slot free).
fn sorted_insert(window: &mut [f32], value: f32) {
    let len = window.len();
    let i = window[..len - 1].partition_point(|&x| x < value);
    window.copy_within(i..len - 1, i + 1);
    window[i] = value;
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    #[test]
    fn istft_reconstructs_the_stream_delayed_by_half_a_window() {
        // n_fft not a multiple of hop (as 2048 / 320 in the encoders): the weighted
        // overlap-add must still be exact.
        let (n_fft, hop) = (1024usize, 320usize);
        let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
        let x: Vec<f32> = (0..20_000)
            .map(|_| rng.random_range(-1.0f32..1.0))
            .collect();
        let mut stft = StreamingStft::new(n_fft, hop).unwrap();
        let mut istft = StreamingIstft::new(n_fft, hop).unwrap();
        let (mut mags, mut spectra, mut y) = (Vec::new(), Vec::new(), Vec::new());
        let mut frames = 0;
        for chunk in x.chunks(777) {
            frames += stft
                .push_with_spectra(chunk, &mut mags, &mut spectra)
                .unwrap();
        }
        assert_eq!(spectra.len(), frames * stft.n_bins());
        assert_eq!(mags.len(), spectra.len());
        for s in spectra.chunks_exact(istft.n_bins()) {
            istft.push_frame(s, &mut y).unwrap();
        }
        assert_eq!(
            y.len(),
            frames * hop,
            "each frame completes exactly one hop"
        );
        // y[j] is stream sample j - n_fft/2; the first n_fft/2 are the padding zeros (only
        // frame 0 covers the first hop, where its small window weights amplify rounding).
        let pad = y[..n_fft / 2].iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(pad < 1e-3, "padding reads {pad}");
        let mut worst = 0.0f32;
        for (j, &v) in y.iter().enumerate().skip(n_fft / 2) {
            worst = worst.max((v - x[j - n_fft / 2]).abs());
        }
        assert!(worst < 1e-4, "worst reconstruction error {worst}");
    }

    #[test]
    fn stft_sine_peak_is_one_and_split_independent() {
        let n = 24000;
        let x: Vec<f32> = (0..n)
            .map(|i| (2.0 * std::f32::consts::PI * 32.0 * 23.4375 * i as f32 / 24000.0).sin())
            .collect();
        let mut a = StreamingStft::new(1024, 320).unwrap();
        let mut ma = Vec::new();
        let na = a.push(&x, &mut ma).unwrap();
        let mut b = StreamingStft::new(1024, 320).unwrap();
        let mut mb = Vec::new();
        let mut nb = 0;
        for c in x.chunks(333) {
            nb += b.push(c, &mut mb).unwrap();
        }
        assert_eq!(na, nb);
        assert_eq!(ma, mb);
        // Frame count: centred frames whose window is complete: floor((n + 512 - 1024)/320) + 1.
        assert_eq!(na, (n + 512 - 1024) / 320 + 1);
        let frame = &ma[10 * 513..11 * 513];
        assert!((frame[32] - 1.0).abs() < 1e-3, "peak {}", frame[32]);
    }

    #[test]
    fn hpss_masks_sum_to_one_over_grid() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
        for &(kt, la, kf, p) in &[
            (17, 8, 17, 2.0f32),
            (31, 0, 31, 1.0),
            (5, 2, 3, 2.0),
            (1, 0, 1, 2.0),
        ] {
            let mut h = StreamingHpss::new(64, kt, la, kf, p).unwrap();
            let frames: Vec<Vec<f32>> = (0..40)
                .map(|_| {
                    (0..64)
                        .map(|_| {
                            if rng.random::<f32>() < 0.2 {
                                0.0
                            } else {
                                rng.random::<f32>()
                            }
                        })
                        .collect()
                })
                .collect();
            let (mut hs, mut ps) = (Vec::new(), Vec::new());
            let mut emitted = 0;
            for f in &frames {
                if h.push_frame(f, &mut hs, &mut ps).unwrap() {
                    emitted += 1;
                }
            }
            assert_eq!(emitted, 40 - la);
            for c in 0..emitted {
                for b in 0..64 {
                    let s = hs[c * 64 + b] + ps[c * 64 + b];
                    assert!((s - frames[c][b]).abs() < 1e-6, "H+P != S");
                    assert!(hs[c * 64 + b] >= 0.0 && ps[c * 64 + b] >= 0.0);
                }
            }
        }
    }

    /// The sliding sorted windows give the same medians as sorting each window from scratch.
    #[test]
    fn hpss_matches_brute_force_medians() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(3);
        let (bins, kt, la, kf) = (40usize, 7usize, 3usize, 5usize);
        let frames: Vec<Vec<f32>> = (0..30)
            .map(|_| {
                (0..bins)
                    .map(|_| (rng.random::<f32>() * 4.0).floor())
                    .collect()
            })
            .collect();
        let mut h = StreamingHpss::new(bins, kt, la, kf, 2.0).unwrap();
        let (mut hs, mut ps) = (Vec::new(), Vec::new());
        for f in &frames {
            h.push_frame(f, &mut hs, &mut ps).unwrap();
        }
        let median = |mut v: Vec<f32>| {
            v.sort_by(|a, b| a.total_cmp(b));
            v[v.len() / 2]
        };
        for c in 0..30 - la {
            let t = c + la;
            for b in 0..bins {
                let hm = median(
                    (0..kt)
                        .map(|j| {
                            if t + j + 1 >= kt {
                                frames[t + j + 1 - kt][b]
                            } else {
                                0.0
                            }
                        })
                        .collect(),
                );
                let lo = b.saturating_sub(kf / 2);
                let hi = (b + kf - kf / 2).min(bins);
                let pm = median(frames[c][lo..hi].to_vec());
                let s = frames[c][b];
                let z = hm.max(pm);
                let expect = if z <= f32::MIN_POSITIVE {
                    0.5 * s
                } else {
                    s * hm * hm / (hm * hm + pm * pm)
                };
                assert!(
                    (hs[c * bins + b] - expect).abs() < 1e-6,
                    "frame {c} bin {b}"
                );
            }
        }
    }

    #[test]
    fn hpss_rejects_bad_config_and_shapes() {
        assert!(StreamingHpss::new(10, 17, 17, 17, 2.0).is_err());
        assert!(StreamingHpss::new(10, 0, 0, 17, 2.0).is_err());
        assert!(StreamingHpss::new(10, 17, 8, 17, f32::NAN).is_err());
        let mut h = StreamingHpss::new(10, 3, 1, 3, 2.0).unwrap();
        let err = h
            .push_frame(&[0.0; 9], &mut Vec::new(), &mut Vec::new())
            .unwrap_err();
        assert!(matches!(
            err,
            PerceptionError::ShapeMismatch {
                expected: 10,
                actual: 9
            }
        ));
    }
}
