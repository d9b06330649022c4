//! Stateful streaming resampler: host rate -> encoder rate, fed segment by segment.
//!
//! Wraps rubato's synchronous FFT resampler (`rubato::Fft`, fixed input chunk). Input samples
//! are queued in a FIFO and resampled in whole chunks; leftover samples wait for the next call.
//! The resampler's own delay (`output_delay()` frames) is dropped from the start of the output,
//! so output sample `n` corresponds to input time `n / out_rate`. Because the output depends only
//! on the concatenated input stream (not on how it was split into calls), the training path and
//! the live path produce the same samples.

use rubato::audioadapter_buffers::direct::SequentialSlice;
use rubato::{Fft, FixedSync, Resampler};

use super::error::{PerceptionError, Result};

/// Input chunk of the FFT resampler in ms of host audio (a hint; rubato rounds it up to a
/// multiple of its minimum block). Samples short of a chunk wait for the next segment, so this
/// is also the resampler's hand-off latency. 20 ms: a 1 kHz sine at 44.1 -> 24 kHz comes out
/// within 0.07 % of full scale; 10 ms chunks (FFT blocks of 147 samples) measured 7 %.
pub const RESAMPLER_CHUNK_MS: u32 = 20;
/// Smallest resampler chunk in samples.
pub const MIN_RESAMPLER_CHUNK_SAMPLES: usize = 64;

/// Streaming mono resampler; a pass-through when the rates are equal.
pub struct StreamResampler {
    in_rate_hz: u32,
    out_rate_hz: u32,
    inner: Option<Fft<f32>>,
    /// Host-rate samples not yet consumed by a whole resampler chunk.
    fifo_in: Vec<f32>,
    /// Scratch output of one chunk.
    chunk_out: Vec<f32>,
    /// Output samples still to drop to compensate the resampler delay.
    delay_to_drop: usize,
}

impl StreamResampler {
    /// Allocating: builds the FFT resampler for `in_rate_hz -> out_rate_hz`.
    pub fn new(in_rate_hz: u32, out_rate_hz: u32) -> Result<Self> {
        let inner = if in_rate_hz == out_rate_hz {
            None
        } else {
            Some(fft_resampler(in_rate_hz, out_rate_hz)?)
        };
        let delay_to_drop = inner.as_ref().map_or(0, |r| r.output_delay());
        let chunk_out_len = inner.as_ref().map_or(0, |r| r.output_frames_max());
        Ok(Self {
            in_rate_hz,
            out_rate_hz,
            inner,
            fifo_in: Vec::new(),
            chunk_out: vec![0.0; chunk_out_len],
            delay_to_drop,
        })
    }

    /// Host samples after which the chunking repeats: the least common multiple of the input
    /// chunk and rubato's FFT block (1 when the rates are equal). At a multiple of this from
    /// the stream start no input is held back (here or inside rubato), so a fresh resampler
    /// started there is in the continuous one's state except for rubato's overlap-add tail,
    /// which only carries the previous FFT block: after one block (at most one chunk) both
    /// give the same samples, bit for bit, and output sample `n` of the fresh one is output
    /// sample `start * out_rate / in_rate + n` of the continuous one (tested). The trainer
    /// splits files for parallel analysis on this grid.
    pub fn period_samples(in_rate_hz: u32, out_rate_hz: u32) -> Result<usize> {
        if in_rate_hz == out_rate_hz {
            return Ok(1);
        }
        let fft = fft_resampler(in_rate_hz, out_rate_hz)?;
        let (chunk, block) = (fft.input_frames_next(), fft.fft_size_in());
        Ok(chunk / gcd(chunk, block) * block)
    }

    /// Input (host) rate in Hz.
    pub fn in_rate_hz(&self) -> u32 {
        self.in_rate_hz
    }

    /// Output (encoder) rate in Hz.
    pub fn out_rate_hz(&self) -> u32 {
        self.out_rate_hz
    }

    /// Appends the resampled version of `input` (as far as whole chunks allow) to `out`.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<()> {
        let Some(resampler) = self.inner.as_mut() else {
            out.extend_from_slice(input);
            return Ok(());
        };
        self.fifo_in.extend_from_slice(input);
        let mut pos = 0usize;
        loop {
            let need = resampler.input_frames_next();
            if self.fifo_in.len() - pos < need {
                break;
            }
            let out_len = resampler.output_frames_max();
            if self.chunk_out.len() < out_len {
                self.chunk_out.resize(out_len, 0.0);
            }
            let adapter_in = SequentialSlice::new(&self.fifo_in[pos..pos + need], 1, need)
                .map_err(|e| PerceptionError::Resampler {
                    reason: e.to_string(),
                })?;
            let chunk_len = self.chunk_out.len();
            let mut adapter_out = SequentialSlice::new_mut(&mut self.chunk_out[..], 1, chunk_len)
                .map_err(|e| PerceptionError::Resampler {
                reason: e.to_string(),
            })?;
            let (n_in, n_out) = resampler
                .process_into_buffer(&adapter_in, &mut adapter_out, None)
                .map_err(|e| PerceptionError::Resampler {
                    reason: e.to_string(),
                })?;
            pos += n_in;
            let produced = &self.chunk_out[..n_out];
            let skip = self.delay_to_drop.min(produced.len());
            self.delay_to_drop -= skip;
            out.extend_from_slice(&produced[skip..]);
            if n_in == 0 {
                break;
            }
        }
        self.fifo_in.drain(..pos);
        Ok(())
    }
}

/// rubato's synchronous FFT resampler with this module's chunk.
fn fft_resampler(in_rate_hz: u32, out_rate_hz: u32) -> Result<Fft<f32>> {
    Fft::<f32>::new(
        in_rate_hz as usize,
        out_rate_hz as usize,
        (in_rate_hz as usize * RESAMPLER_CHUNK_MS as usize / 1000).max(MIN_RESAMPLER_CHUNK_SAMPLES),
        1,
        FixedSync::Input,
    )
    .map_err(|e| PerceptionError::Resampler {
        reason: e.to_string(),
    })
}

/// Greatest common divisor.
pub(crate) fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, freq_hz: f32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * std::f32::consts::PI * freq_hz * i as f32 / rate as f32).sin())
            .collect()
    }

    #[test]
    fn split_independent_and_delay_compensated() {
        let x = sine(44100, 1000.0, 44100);
        let mut a = StreamResampler::new(44100, 24000).unwrap();
        let mut whole = Vec::new();
        a.push(&x, &mut whole).unwrap();
        let mut b = StreamResampler::new(44100, 24000).unwrap();
        let mut parts = Vec::new();
        for c in x.chunks(777) {
            b.push(c, &mut parts).unwrap();
        }
        assert_eq!(whole.len(), parts.len());
        assert_eq!(whole, parts);
        // Delay compensated: output sample n is input time n / 24000, so the output is
        // sin(2 pi f n / 24000). At 1 kHz a residual delay of d samples (at 24 kHz) is an
        // error of up to 2 pi f / 24000 * d = 0.26 d, so the 2e-3 bound means |d| < 0.008.
        let reference = sine(24000, 1000.0, whole.len());
        let err: f32 = (2000..whole.len() - 2000)
            .map(|i| (whole[i] - reference[i]).abs())
            .fold(0.0, f32::max);
        eprintln!("max error {err}");
        assert!(err < 2e-3, "max error {err}");
    }

    /// Least-squares fit of `a sin(w n) + b cos(w n)` to `y` away from its ends: the amplitude
    /// and the delay (samples) of `y` against `sin(w n)`, i.e. `y(n) = amp sin(w (n - delay))`.
    fn amplitude_and_delay(y: &[f32], w: f64) -> (f64, f64) {
        let (mut ss, mut sc, mut cc, mut ys, mut yc) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
        for (n, &v) in y.iter().enumerate().take(y.len() - 2000).skip(2000) {
            let (s, c) = (w * n as f64).sin_cos();
            ss += s * s;
            sc += s * c;
            cc += c * c;
            ys += v as f64 * s;
            yc += v as f64 * c;
        }
        let det = ss * cc - sc * sc;
        let (a, b) = ((ys * cc - yc * sc) / det, (yc * ss - ys * sc) / det);
        ((a * a + b * b).sqrt(), -b.atan2(a) / w)
    }

    /// The delay is compensated to a hundredth of an output sample at every frequency (rubato's
    /// sinc filter is linear-phase, so one delay fits all), and the gain is 1 (the chunk's doc:
    /// within 0.07 % of full scale).
    #[test]
    fn no_residual_delay_at_any_frequency() {
        for f in [440.0f32, 1000.0, 5000.0, 9000.0] {
            let mut out = Vec::new();
            StreamResampler::new(44100, 24000)
                .unwrap()
                .push(&sine(44100, f, 44100), &mut out)
                .unwrap();
            let (amp, delay) = amplitude_and_delay(&out, std::f64::consts::TAU * f as f64 / 24e3);
            eprintln!("{f} Hz: gain {amp:.6}, delay {delay:+.6} samples");
            assert!(delay.abs() < 0.01, "{f} Hz: residual delay {delay} samples");
            assert!((amp - 1.0).abs() < 7e-4, "{f} Hz: gain {amp}");
        }
    }

    #[test]
    fn fresh_resampler_on_the_period_joins_the_stream() {
        for (rate, len) in [(44100u32, 100_000usize), (48000, 100_000), (22050, 60_000)] {
            let x = sine(rate, 440.0, len);
            let period = StreamResampler::period_samples(rate, 24000).unwrap();
            let mut whole = Vec::new();
            StreamResampler::new(rate, 24000)
                .unwrap()
                .push(&x, &mut whole)
                .unwrap();
            let start = 3 * period;
            let mut fresh = Vec::new();
            StreamResampler::new(rate, 24000)
                .unwrap()
                .push(&x[start..], &mut fresh)
                .unwrap();
            let offset = start * 24000 / rate as usize;
            assert_eq!(offset * rate as usize, start * 24000, "{rate}");
            // Past one chunk the fresh stream's samples are the continuous one's.
            let settle = period * 24000 / rate as usize;
            assert!(fresh.len() > settle + 1000);
            assert_eq!(
                fresh[settle..],
                whole[offset + settle..offset + fresh.len()],
                "{rate}"
            );
        }
        assert_eq!(StreamResampler::period_samples(44100, 24000).unwrap(), 882);
        assert_eq!(StreamResampler::period_samples(24000, 24000).unwrap(), 1);
    }

    #[test]
    fn passthrough_when_rates_equal() {
        let mut r = StreamResampler::new(24000, 24000).unwrap();
        let mut out = Vec::new();
        r.push(&[1.0, 2.0], &mut out).unwrap();
        assert_eq!(out, vec![1.0, 2.0]);
    }
}
