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
///
/// Both medians keep their windows sorted and *rank-major* (row `r` holds the `r`-th smallest
/// value of every window side by side), so one update of many windows is a few branch-free
/// min/max/select operations per rank that the compiler vectorises across windows
/// ([`replace_in_ranks`]). The time median updates all bins' windows at once; the frequency
/// median slides [`FREQ_LANES`] windows along the bins together, each over its own stretch of
/// the spectrum. The windows hold exactly the values a sort would give, so the medians equal
/// a brute-force median's bit for bit (tested).
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
    /// Every bin's window over the ring, sorted, rank-major `[kernel_time, n_bins]`.
    time_ranks: Vec<f32>,
    /// Where the next `time_ranks` is written before the swap.
    time_ranks_next: Vec<f32>,
    /// `-inf` and `+inf` rows, `n_bins` (or `FREQ_LANES`) wide: the ranks beyond both ends.
    neg_inf: Vec<f32>,
    pos_inf: Vec<f32>,
    /// The frequency median's sliding windows, rank-major `[kernel_freq, FREQ_LANES]`, and
    /// the swap buffer, the per-lane outgoing and incoming values and each lane's first window.
    freq_ranks: Vec<f32>,
    freq_ranks_next: Vec<f32>,
    lane_old: Vec<f32>,
    lane_new: Vec<f32>,
    lane_start: Vec<usize>,
    /// One window for the bins near the spectrum edges (clipped windows, sorted directly).
    edge_window: Vec<f32>,
}

/// Frequency-median windows slid side by side (each over its own stretch of bins).
pub const FREQ_LANES: usize = 16;

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
        let width = n_bins.max(FREQ_LANES);
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
            time_ranks: vec![0.0; n_bins * kernel_time],
            time_ranks_next: vec![0.0; n_bins * kernel_time],
            neg_inf: vec![f32::NEG_INFINITY; width],
            pos_inf: vec![f32::INFINITY; width],
            freq_ranks: vec![0.0; FREQ_LANES * kernel_freq],
            freq_ranks_next: vec![0.0; FREQ_LANES * kernel_freq],
            lane_old: vec![0.0; FREQ_LANES],
            lane_new: vec![0.0; FREQ_LANES],
            lane_start: vec![0; FREQ_LANES],
            edge_window: Vec::with_capacity(kernel_freq),
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
        let (n, k) = (self.n_bins, self.kernel_time);
        // Overwrite the oldest row with the new frame; it becomes the newest. Every bin's
        // sorted window trades the outgoing value for the incoming one.
        let row = self.ring_head;
        replace_in_ranks(
            &self.time_ranks,
            &mut self.time_ranks_next,
            n,
            &self.ring[row * n..(row + 1) * n],
            mag,
            &self.neg_inf[..n],
            &self.pos_inf[..n],
        );
        std::mem::swap(&mut self.time_ranks, &mut self.time_ranks_next);
        self.ring[row * n..(row + 1) * n].copy_from_slice(mag);
        self.ring_head = (self.ring_head + 1) % k;
        self.frames_pushed += 1;
        if self.frames_pushed <= self.lookahead as u64 {
            return Ok(false);
        }
        // Newest is at (head - 1); centre frame is `lookahead` rows older.
        let centre_row = (self.ring_head + k - 1 - self.lookahead) % k;
        self.harm_ref
            .copy_from_slice(&self.time_ranks[(k / 2) * n..(k / 2 + 1) * n]);
        self.frequency_medians(centre_row);
        let centre = &self.ring[centre_row * n..(centre_row + 1) * n];
        let p = self.power;
        for b in 0..n {
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

    /// Fills `perc_ref` with the median over bins `[b - kernel_freq/2, b + kernel_freq/2]`
    /// (clipped at the edges) of ring row `centre_row`.
    fn frequency_medians(&mut self, centre_row: usize) {
        let (n, kf) = (self.n_bins, self.kernel_freq);
        let half = kf / 2;
        let centre = &self.ring[centre_row * n..(centre_row + 1) * n];
        // Window of bin b: [b - half, b - half + kf) clipped to [0, n).
        let window = |b: usize| (b.saturating_sub(half), (b + kf - half).min(n));
        // Bins whose window is whole: b - half in 0..=n - kf.
        let whole = if n >= kf { n - kf + 1 } else { 0 };
        // Clipped windows at both edges: sort each directly.
        let edge_bins = (0..half.min(n)).chain((half + whole).max(half.min(n))..n);
        for b in edge_bins {
            let (lo, hi) = window(b);
            self.edge_window.clear();
            self.edge_window.extend_from_slice(&centre[lo..hi]);
            self.edge_window.sort_unstable_by(f32::total_cmp);
            self.perc_ref[b] = self.edge_window[(hi - lo) / 2];
        }
        if whole == 0 {
            return;
        }
        // Whole windows: FREQ_LANES windows start at spread-out bins and slide together.
        // Lanes past the end overlap the last one (they recompute the same medians).
        let steps = whole.div_ceil(FREQ_LANES);
        let lanes = FREQ_LANES;
        for (lane, start) in self.lane_start.iter_mut().enumerate() {
            *start = (lane * steps).min(whole - steps);
        }
        for lane in 0..lanes {
            let start = self.lane_start[lane];
            self.edge_window.clear();
            self.edge_window
                .extend_from_slice(&centre[start..start + kf]);
            self.edge_window.sort_unstable_by(f32::total_cmp);
            for (r, &v) in self.edge_window.iter().enumerate() {
                self.freq_ranks[r * lanes + lane] = v;
            }
            self.perc_ref[start + half] = self.edge_window[kf / 2];
        }
        for step in 1..steps {
            for lane in 0..lanes {
                let first = self.lane_start[lane] + step;
                self.lane_old[lane] = centre[first - 1];
                self.lane_new[lane] = centre[first - 1 + kf];
            }
            replace_in_ranks(
                &self.freq_ranks,
                &mut self.freq_ranks_next,
                lanes,
                &self.lane_old,
                &self.lane_new,
                &self.neg_inf[..lanes],
                &self.pos_inf[..lanes],
            );
            std::mem::swap(&mut self.freq_ranks, &mut self.freq_ranks_next);
            let median = &self.freq_ranks[(kf / 2) * lanes..(kf / 2 + 1) * lanes];
            for lane in 0..lanes {
                self.perc_ref[self.lane_start[lane] + step + half] = median[lane];
            }
        }
    }
}

/// One update of many sorted windows stored rank-major (`ranks[r * width + c]` is the `r`-th
/// smallest value of window `c`): in every window `c`, one occurrence of `old[c]` (which must be
/// present) is replaced by `new[c]`, and the sorted result written to `out`. `below` and `above`
/// are rows of `-inf` and `+inf` (the ranks past either end).
///
/// With `s` the old ranks and `o`, `v` the outgoing and incoming values, the new rank `m` is:
/// - if `v >= o`: `s[m]` where `s[m] < o` (untouched below the removed value), otherwise
///   `min(s[m+1], max(v, s[m]))` (the values in `(o, v)` move down one rank, `v` lands after
///   them, the rest stay);
/// - if `v < o`: `s[m]` where `s[m] > o`, otherwise `max(s[m-1], min(v, s[m]))` (the mirror).
///
/// Every term is a branch-free select, so the loop runs as vector min/max/blend across windows.
fn replace_in_ranks(
    ranks: &[f32],
    out: &mut [f32],
    width: usize,
    old: &[f32],
    new: &[f32],
    below: &[f32],
    above: &[f32],
) {
    let k = ranks.len() / width;
    let (old, new) = (&old[..width], &new[..width]);
    for r in 0..k {
        let cur = &ranks[r * width..(r + 1) * width];
        let prev = if r > 0 {
            &ranks[(r - 1) * width..r * width]
        } else {
            &below[..width]
        };
        let next = if r + 1 < k {
            &ranks[(r + 1) * width..(r + 2) * width]
        } else {
            &above[..width]
        };
        let dst = &mut out[r * width..(r + 1) * width];
        // Zipped slices of one length: no bounds checks, so the loop vectorises.
        let rows = cur.iter().zip(prev).zip(next).zip(old).zip(new);
        for (d, ((((&s, &lower), &upper), &o), &v)) in dst.iter_mut().zip(rows) {
            let up = select(s < o, s, min_f32(upper, max_f32(v, s)));
            let down = select(s > o, s, max_f32(lower, min_f32(v, s)));
            *d = select(v >= o, up, down);
        }
    }
}

/// `if pick_a { a } else { b }` as bit masks, which the loop vectoriser takes where it leaves
/// an `if` of floats as a branch.
#[inline(always)]
fn select(pick_a: bool, a: f32, b: f32) -> f32 {
    let mask = 0u32.wrapping_sub(u32::from(pick_a));
    f32::from_bits((a.to_bits() & mask) | (b.to_bits() & !mask))
}

/// `min` as one compare-and-select (the inputs are never NaN), which vectorises to `minps`.
#[inline(always)]
fn min_f32(a: f32, b: f32) -> f32 {
    if a < b {
        a
    } else {
        b
    }
}

#[inline(always)]
fn max_f32(a: f32, b: f32) -> f32 {
    if a > b {
        a
    } else {
        b
    }
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

    /// The rank-major sorted windows give exactly the medians of sorting each window from
    /// scratch, for odd and even kernels, spectra narrower than the frequency kernel, fewer
    /// bins than lanes, many ties (quantised values) and continuous values; and the masked
    /// outputs follow the soft-mask formula.
    #[test]
    fn hpss_matches_brute_force_medians() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(3);
        let configs = [
            (40usize, 7usize, 3usize, 5usize, true),
            (1025, 17, 8, 17, false),
            (1025, 17, 8, 17, true),
            (10, 3, 1, 17, true),
            (16, 17, 0, 16, false),
            (33, 1, 0, 1, false),
            (50, 16, 8, 16, true),
            (20, 4, 0, 20, true),
            (21, 5, 2, 20, false),
            (300, 63, 31, 63, true),
        ];
        for (bins, kt, la, kf, quantised) in configs {
            let n_frames = kt + la + 12;
            let frames: Vec<Vec<f32>> = (0..n_frames)
                .map(|_| {
                    (0..bins)
                        .map(|_| {
                            let x = rng.random::<f32>();
                            if quantised {
                                (x * 4.0).floor()
                            } else {
                                x * x * 100.0
                            }
                        })
                        .collect()
                })
                .collect();
            let mut h = StreamingHpss::new(bins, kt, la, kf, 2.0).unwrap();
            let (mut hs, mut ps) = (Vec::new(), Vec::new());
            let median = |mut v: Vec<f32>| {
                v.sort_by(|a, b| a.total_cmp(b));
                v[v.len() / 2]
            };
            for (t, f) in frames.iter().enumerate() {
                let ready = h.push_frame(f, &mut hs, &mut ps).unwrap();
                assert_eq!(ready, t >= la);
                if !ready {
                    continue;
                }
                let c = t - la;
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
                    let what = format!("config {bins}/{kt}/{la}/{kf} frame {c} bin {b}");
                    assert_eq!(h.harm_ref[b].to_bits(), hm.to_bits(), "harmonic {what}");
                    assert_eq!(h.perc_ref[b].to_bits(), pm.to_bits(), "percussive {what}");
                    let s = frames[c][b];
                    let expect = if hm.max(pm) <= f32::MIN_POSITIVE {
                        0.5 * s
                    } else {
                        s * hm * hm / (hm * hm + pm * pm)
                    };
                    let got = hs[c * bins + b];
                    assert!((got - expect).abs() <= 1e-5 * s.max(1.0), "mask {what}");
                    let sum = got + ps[c * bins + b];
                    assert!(
                        (sum - s).abs() <= 1e-6 * s.max(1.0),
                        "masks sum to one, {what}"
                    );
                }
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
