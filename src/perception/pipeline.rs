//! [`Perception`]: the one path from audio to per-frame features, shared by the trainer
//! ([`Perception::encode_file`]) and the live worker ([`Perception::process_segment`]).
//!
//! # Alignment of frames to segments
//!
//! Everything between the host-rate samples and the feature frames is a stream: the resampler
//! keeps samples that do not fill a chunk, the STFT keeps samples that do not complete a frame,
//! HPSS keeps its ring of past frames. A frame is emitted by the segment during which its last
//! needed sample (plus the HPSS lookahead) arrives, so over consecutive segments every frame is
//! emitted exactly once, none duplicated, and the frames (and their values) depend only on the
//! sample stream, not on how it was cut. With 350 ms segments at 75 frames/s a segment carries
//! 26.25 frames on average: 26 or 27, or 25..=28 when resampling (its 20 ms chunks hold samples
//! back to the next segment). Frame `i` is centred on stream time
//! `i * hop / encoder_rate` seconds, minus the HPSS lookahead already accounted in `i`
//! (see [`SegmentFrames::first_frame_idx`]).
//!
//! A segment whose `start_sample` is not the end of the previous one (the worker dropped
//! segments, or the host rate changed) resets all stream state and restarts the frame count at
//! the frame nearest to the new start.

use std::collections::VecDeque;

use realfft::num_complex::Complex;

use super::encoder::{Encoder, EncoderInput, SpectralEncoder, Stream};
use super::error::{PerceptionError, Result};
use super::frontend::{StreamingHpss, StreamingIstft, StreamingStft};
use super::payload::{FramePayload, PayloadAnalyser, PitchSalience};
use super::resample::StreamResampler;

use crate::limits::{MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ, SEGMENT_MS};

/// Longest segment accepted by `process_segment` (10 s at the highest rate).
pub const MAX_SEGMENT_SAMPLES: usize = MAX_SAMPLE_RATE_HZ as usize * 10;

/// Perception settings. Stored (with the encoder id) in corpus files; training and live must
/// use the same values.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PerceptionConfig {
    /// Segment length in ms (default 350).
    pub segment_ms: u32,
    /// HPSS harmonic median length in frames (default 17 = 227 ms at 75 frames/s).
    pub harmonic_kernel_frames: usize,
    /// Frames of look-ahead of the harmonic median (default 8: centred like librosa; 0 is
    /// causal, no latency but harmonic onsets leak into the percussive stream for ~8 frames).
    pub harmonic_lookahead_frames: usize,
    /// HPSS percussive median length in bins (default 17 = 199 Hz at 11.7 Hz/bin).
    pub percussive_kernel_bins: usize,
    /// Soft mask exponent (default 2.0, librosa's `power`).
    pub mask_power: f32,
}

impl Default for PerceptionConfig {
    fn default() -> Self {
        Self {
            segment_ms: SEGMENT_MS,
            harmonic_kernel_frames: 17,
            harmonic_lookahead_frames: 8,
            percussive_kernel_bins: 17,
            mask_power: 2.0,
        }
    }
}

impl PerceptionConfig {
    /// Segment length in samples at `rate_hz` (rounded): 15435 at 44.1 kHz, 16800 at 48 kHz.
    pub fn segment_samples(&self, rate_hz: u32) -> usize {
        crate::limits::segment_samples(rate_hz as f64, self.segment_ms)
    }
}

/// Checks a host / file sample rate.
pub fn validate_rate(rate_hz: u32) -> Result<()> {
    if crate::limits::sample_rate_ok(rate_hz as f64) {
        Ok(())
    } else {
        Err(PerceptionError::UnsupportedSampleRate {
            rate_hz,
            min_hz: MIN_SAMPLE_RATE_HZ,
            max_hz: MAX_SAMPLE_RATE_HZ,
        })
    }
}

/// The frames one segment produced, both streams, row-major `[n_frames, dim]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentFrames {
    /// Index of this segment since the last reset-free run (0, 1, ...).
    pub segment_idx: u64,
    /// Host-rate sample index of the segment start, as given.
    pub start_sample: u64,
    /// Stream frame index of the first row (frames are numbered from the stream start).
    pub first_frame_idx: u64,
    /// Number of frames (rows) in each stream.
    pub n_frames: usize,
    /// Feature dimension.
    pub dim: usize,
    /// Harmonic stream features, `[n_frames, dim]`.
    pub harmonic: Vec<f32>,
    /// Percussive stream features, `[n_frames, dim]`.
    pub percussive: Vec<f32>,
    /// Loudness, chroma, pitches and onset strength of each frame (`n_frames` entries).
    pub payload: Vec<FramePayload>,
    /// DSP pitch salience of each frame (`n_frames` entries) when
    /// [`Perception::set_pitch_salience`] is on; empty otherwise.
    pub salience: Vec<PitchSalience>,
    /// Non-finite input samples replaced by 0 in this segment.
    pub non_finite_replaced: usize,
}

impl SegmentFrames {
    /// Row `i` of `stream`.
    pub fn row(&self, stream: Stream, i: usize) -> &[f32] {
        let data = match stream {
            Stream::Harmonic => &self.harmonic,
            Stream::Percussive => &self.percussive,
        };
        &data[i * self.dim..(i + 1) * self.dim]
    }
}

/// One frame of a file, for the trainer and the `features` command.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedFrame {
    /// Stream frame index.
    pub frame_idx: u64,
    /// Segment that emitted it.
    pub segment_idx: u64,
    /// Frame centre in seconds from the file start.
    pub time_s: f64,
    /// Harmonic features `[dim]`.
    pub harmonic: Vec<f32>,
    /// Percussive features `[dim]`.
    pub percussive: Vec<f32>,
    /// Loudness, chroma, pitches, onset strength.
    pub payload: FramePayload,
}

/// Stateful audio -> features pipeline: resample (rubato), STFT (realfft, Hann), HPSS, encoder.
pub struct Perception {
    config: PerceptionConfig,
    encoder: Box<dyn Encoder>,
    payload: PayloadAnalyser,
    /// Whether segments carry [`SegmentFrames::salience`].
    pitch_salience: bool,
    state: Option<StreamState>,
    sanitised: Vec<f32>,
    resampled: Vec<f32>,
    mags: Vec<f32>,
    harm_mags: Vec<f32>,
    perc_mags: Vec<f32>,
    spectra: Vec<Complex<f32>>,
}

/// Everything that depends on the stream's past; rebuilt on a discontinuity.
struct StreamState {
    host_rate_hz: u32,
    next_start_sample: u64,
    next_frame_idx: u64,
    segment_idx: u64,
    resampler: StreamResampler,
    stft: StreamingStft,
    hpss: StreamingHpss,
    /// For encoders that read audio: the waveform rebuild of both streams.
    rebuild: Option<WaveRebuild>,
}

/// Rebuilds each stream's waveform from the mixture's complex spectra and the HPSS masks
/// (`|S_H| / (|S_H| + |S_P|)`, which is the soft mask because the masks sum to one), by
/// overlap-add. HPSS emits frame `t - lookahead` when STFT frame `t` arrives, so the spectra
/// wait in a FIFO until their masks exist.
struct WaveRebuild {
    context: usize,
    /// Complex spectra of STFT frames not yet separated, `n_bins` per frame, oldest first.
    pending: VecDeque<Complex<f32>>,
    istft: [StreamingIstft; 2],
    /// Per stream: `context` samples handed over before, then this segment's new samples.
    history: [Vec<f32>; 2],
    frame: Vec<Complex<f32>>,
    masked: Vec<Complex<f32>>,
}

impl WaveRebuild {
    fn new(n_fft: usize, hop: usize, context: usize) -> Result<Self> {
        Ok(Self {
            context,
            pending: VecDeque::new(),
            istft: [
                StreamingIstft::new(n_fft, hop)?,
                StreamingIstft::new(n_fft, hop)?,
            ],
            history: [vec![0.0; context], vec![0.0; context]],
            frame: Vec::with_capacity(n_fft / 2 + 1),
            masked: Vec::with_capacity(n_fft / 2 + 1),
        })
    }

    /// Separates the oldest pending spectrum with the frame's HPSS magnitudes and appends one
    /// hop of each stream's waveform.
    fn push_separated(&mut self, harm: &[f32], perc: &[f32]) -> Result<()> {
        let n_bins = harm.len();
        if self.pending.len() < n_bins {
            return Err(PerceptionError::ShapeMismatch {
                expected: n_bins,
                actual: self.pending.len(),
            });
        }
        self.frame.clear();
        self.frame.extend(self.pending.drain(..n_bins));
        for (s, stream) in Stream::ALL.into_iter().enumerate() {
            self.masked.clear();
            self.masked
                .extend(self.frame.iter().zip(harm).zip(perc).map(|((&x, &h), &p)| {
                    let total = h + p;
                    let mask_h = if total > 0.0 { h / total } else { 0.5 };
                    match stream {
                        Stream::Harmonic => x * mask_h,
                        Stream::Percussive => x * (1.0 - mask_h),
                    }
                }));
            self.istft[s].push_frame(&self.masked, &mut self.history[s])?;
        }
        Ok(())
    }

    /// Keeps the last `context` samples of each stream for the next segment.
    fn keep_context(&mut self) {
        for h in &mut self.history {
            let excess = h.len().saturating_sub(self.context);
            h.drain(..excess);
        }
    }
}

impl Perception {
    /// Allocating. Perception with the default `spectral` encoder.
    pub fn new(config: PerceptionConfig) -> Result<Self> {
        Self::with_encoder(config, Box::new(SpectralEncoder::new()))
    }

    /// Allocating. Perception with any encoder.
    pub fn with_encoder(config: PerceptionConfig, encoder: Box<dyn Encoder>) -> Result<Self> {
        if config.segment_ms == 0 || config.segment_ms > 10_000 {
            return Err(PerceptionError::InvalidConfig {
                reason: format!("segment_ms = {} must be in 1..=10000", config.segment_ms),
            });
        }
        // Validate STFT/HPSS settings now rather than on the first segment.
        let stft = StreamingStft::new(encoder.n_fft(), encoder.hop())?;
        StreamingHpss::new(
            stft.n_bins(),
            config.harmonic_kernel_frames,
            config.harmonic_lookahead_frames,
            config.percussive_kernel_bins,
            config.mask_power,
        )?;
        let payload = PayloadAnalyser::new(encoder.sample_rate(), encoder.n_fft());
        Ok(Self {
            config,
            encoder,
            payload,
            pitch_salience: false,
            state: None,
            sanitised: Vec::new(),
            resampled: Vec::new(),
            mags: Vec::new(),
            harm_mags: Vec::new(),
            perc_mags: Vec::new(),
            spectra: Vec::new(),
        })
    }

    /// Makes every segment carry the DSP [`PitchSalience`] of its frames (the DSP note
    /// tracker's input, `crate::notes::dsp`), or not (the default). Computed in the same pass
    /// from the same magnitudes; no other field of a segment changes. Not part of
    /// [`PerceptionConfig`]: corpus files and tokens do not depend on it.
    pub fn set_pitch_salience(&mut self, on: bool) {
        self.pitch_salience = on;
    }

    /// Whether segments carry pitch salience ([`Perception::set_pitch_salience`]).
    pub fn pitch_salience(&self) -> bool {
        self.pitch_salience
    }

    /// The configuration.
    pub fn config(&self) -> &PerceptionConfig {
        &self.config
    }

    /// Encoder id (`"spectral"`).
    pub fn encoder_id(&self) -> &str {
        self.encoder.id()
    }

    /// Feature dimension per stream.
    pub fn dim(&self) -> usize {
        self.encoder.dim()
    }

    /// Encoder rate in Hz.
    pub fn encoder_rate_hz(&self) -> u32 {
        self.encoder.sample_rate()
    }

    /// Frames per second (75 for `spectral`).
    pub fn frames_per_s(&self) -> f64 {
        self.encoder.sample_rate() as f64 / self.encoder.hop() as f64
    }

    /// Shortest input (host-rate samples) that yields at least one frame.
    pub fn min_samples(&self, rate_hz: u32) -> usize {
        let n_fft = self.encoder.n_fft() as u64;
        (n_fft * rate_hz as u64).div_ceil(self.encoder.sample_rate() as u64) as usize
    }

    /// Forgets the stream (next segment starts a new one).
    pub fn reset(&mut self) {
        self.state = None;
        self.encoder.reset();
        self.payload.reset();
    }

    fn new_state(&mut self, host_rate_hz: u32, start_sample: u64) -> Result<StreamState> {
        self.encoder.reset();
        self.payload.reset();
        let stft = StreamingStft::new(self.encoder.n_fft(), self.encoder.hop())?;
        let hpss = StreamingHpss::new(
            stft.n_bins(),
            self.config.harmonic_kernel_frames,
            self.config.harmonic_lookahead_frames,
            self.config.percussive_kernel_bins,
            self.config.mask_power,
        )?;
        let frame_len_host =
            self.encoder.hop() as f64 * host_rate_hz as f64 / self.encoder.sample_rate() as f64;
        let rebuild = match self.encoder.audio_context() {
            Some(context) => Some(WaveRebuild::new(
                self.encoder.n_fft(),
                self.encoder.hop(),
                context,
            )?),
            None => None,
        };
        Ok(StreamState {
            host_rate_hz,
            next_start_sample: start_sample,
            next_frame_idx: (start_sample as f64 / frame_len_host).round() as u64,
            segment_idx: 0,
            resampler: StreamResampler::new(host_rate_hz, self.encoder.sample_rate())?,
            stft,
            hpss,
            rebuild,
        })
    }

    /// Worker entry point: processes one segment of mono host-rate audio that starts at host
    /// sample `start_sample` of the stream, and returns the frames it completes (25..=28 for a
    /// 350 ms segment, fewer for the first segment of a stream because of the STFT window and
    /// HPSS lookahead). Non-finite samples are replaced by 0 (counted), samples are clamped to
    /// +-16 (24 dB over full scale) so one bad block cannot blow up the features.
    ///
    /// Allocating (worker thread only). Any segment length works; the trainer and the live path
    /// use `config.segment_samples(host_rate_hz)`.
    pub fn process_segment(
        &mut self,
        samples: &[f32],
        host_rate_hz: u32,
        start_sample: u64,
    ) -> Result<SegmentFrames> {
        validate_rate(host_rate_hz)?;
        if samples.len() > MAX_SEGMENT_SAMPLES {
            return Err(PerceptionError::ShapeMismatch {
                expected: MAX_SEGMENT_SAMPLES,
                actual: samples.len(),
            });
        }
        let continuous = self
            .state
            .as_ref()
            .is_some_and(|s| s.host_rate_hz == host_rate_hz && s.next_start_sample == start_sample);
        if !continuous {
            let st = self.new_state(host_rate_hz, start_sample)?;
            self.state = Some(st);
        }
        let Some(state) = self.state.as_mut() else {
            return Err(PerceptionError::InvalidConfig {
                reason: "stream state missing".into(),
            });
        };
        self.sanitised.clear();
        let mut non_finite = 0usize;
        self.sanitised.extend(samples.iter().map(|&x| {
            if x.is_finite() {
                x.clamp(-16.0, 16.0)
            } else {
                non_finite += 1;
                0.0
            }
        }));
        self.resampled.clear();
        state.resampler.push(&self.sanitised, &mut self.resampled)?;
        self.mags.clear();
        let n_stft = match state.rebuild.as_mut() {
            Some(rebuild) => {
                self.spectra.clear();
                let n = state.stft.push_with_spectra(
                    &self.resampled,
                    &mut self.mags,
                    &mut self.spectra,
                )?;
                rebuild.pending.extend(&self.spectra);
                n
            }
            None => state.stft.push(&self.resampled, &mut self.mags)?,
        };
        self.harm_mags.clear();
        self.perc_mags.clear();
        let n_bins = state.stft.n_bins();
        let mut n_frames = 0usize;
        for f in 0..n_stft {
            if state.hpss.push_frame(
                &self.mags[f * n_bins..(f + 1) * n_bins],
                &mut self.harm_mags,
                &mut self.perc_mags,
            )? {
                if let Some(rebuild) = state.rebuild.as_mut() {
                    let row = n_frames * n_bins..(n_frames + 1) * n_bins;
                    rebuild.push_separated(&self.harm_mags[row.clone()], &self.perc_mags[row])?;
                }
                n_frames += 1;
            }
        }
        let mut salience = if self.pitch_salience {
            vec![PitchSalience::default(); n_frames]
        } else {
            Vec::new()
        };
        let mut payload: Vec<FramePayload> = (0..n_frames)
            .map(|f| {
                let bins = f * n_bins..(f + 1) * n_bins;
                self.payload.analyse_with_salience(
                    &self.harm_mags[bins.clone()],
                    &self.perc_mags[bins],
                    salience.get_mut(f),
                )
            })
            .collect();
        let dim = self.encoder.dim();
        let mut harmonic = Vec::with_capacity(n_frames * dim);
        let mut percussive = Vec::with_capacity(n_frames * dim);
        let audio = |s: usize| match &state.rebuild {
            Some(rebuild) => rebuild.history[s].as_slice(),
            None => &[],
        };
        let input = |magnitudes, s| EncoderInput {
            n_frames,
            magnitudes,
            audio: audio(s),
        };
        self.encoder
            .frames(Stream::Harmonic, &input(&self.harm_mags, 0), &mut harmonic)?;
        self.encoder.frames(
            Stream::Percussive,
            &input(&self.perc_mags, 1),
            &mut percussive,
        )?;
        if let Some(rebuild) = state.rebuild.as_mut() {
            rebuild.keep_context();
        }
        if let Some(deep) = self.encoder.pitch_payload() {
            if deep.len() != n_frames {
                return Err(PerceptionError::ShapeMismatch {
                    expected: n_frames,
                    actual: deep.len(),
                });
            }
            for (p, d) in payload.iter_mut().zip(deep) {
                p.chroma = d.chroma;
                p.pitches = d.pitches;
            }
        }
        let out = SegmentFrames {
            segment_idx: state.segment_idx,
            start_sample,
            first_frame_idx: state.next_frame_idx,
            n_frames,
            dim,
            harmonic,
            percussive,
            payload,
            salience,
            non_finite_replaced: non_finite,
        };
        state.next_frame_idx += n_frames as u64;
        state.next_start_sample = start_sample + samples.len() as u64;
        state.segment_idx += 1;
        Ok(out)
    }

    /// The pitch-class energy of the unseparated spectrum (no HPSS, no encoder) over the STFT
    /// frames whose window lies within the last `window` samples of `samples` (at least the
    /// last whole frame), and the loudest of those frames in dB: the chord that sounds now, seen
    /// as soon as it sounds (the harmonic stream's time median admits a new chord only once it
    /// fills half its kernel). A new stream each call (the segment stream is untouched); `None`
    /// when `samples` hold no whole frame.
    pub fn mixture_chroma(
        &mut self,
        samples: &[f32],
        host_rate_hz: u32,
        window: usize,
    ) -> Result<Option<([f32; 12], f32)>> {
        validate_rate(host_rate_hz)?;
        let mut state = self.new_state(host_rate_hz, 0)?;
        self.sanitised.clear();
        self.sanitised.extend(samples.iter().map(|&x| {
            if x.is_finite() {
                x.clamp(-16.0, 16.0)
            } else {
                0.0
            }
        }));
        self.resampled.clear();
        state.resampler.push(&self.sanitised, &mut self.resampled)?;
        self.mags.clear();
        let n = state.stft.push(&self.resampled, &mut self.mags)?;
        if n == 0 {
            return Ok(None);
        }
        let (n_fft, hop) = (self.encoder.n_fft() as f64, self.encoder.hop() as f64);
        let rate = f64::from(self.encoder.sample_rate()) / f64::from(host_rate_hz);
        // Frame t covers encoder samples [t*hop - n_fft/2, t*hop + n_fft/2).
        let from = self.resampled.len() as f64 - window as f64 * rate;
        let first = (0..n)
            .find(|&t| t as f64 * hop - n_fft / 2.0 >= from)
            .unwrap_or(n - 1);
        let n_bins = state.stft.n_bins();
        let (mut chroma, mut peak_db) = ([0.0f32; 12], super::payload::SILENCE_DB);
        for t in first..n {
            let mags = &self.mags[t * n_bins..(t + 1) * n_bins];
            let (c, _) = self.payload.chroma_energy(mags);
            chroma.iter_mut().zip(c).for_each(|(a, c)| *a += c);
            let total: f32 = mags.iter().map(|m| m * m).sum();
            peak_db =
                peak_db.max((10.0 * (total / 3.0 + 1e-30).log10()).max(super::payload::SILENCE_DB));
        }
        Ok(Some((chroma, peak_db)))
    }

    /// Trainer entry point: encodes a whole mono file by cutting it into consecutive segments of
    /// `config.segment_samples(rate_hz)` and calling [`Self::process_segment`] on each, on a fresh
    /// stream. Returns every frame once, in order. The final partial segment is processed too (it
    /// only completes the frames whose samples it holds, as a live stream would).
    ///
    /// Errors: `Empty` for no samples, `TooShort` below one STFT window, rate out of range.
    pub fn encode_file(&mut self, samples: &[f32], rate_hz: u32) -> Result<Vec<EncodedFrame>> {
        Ok(self
            .encode_file_segments(samples, rate_hz)?
            .iter()
            .flat_map(|s| self.records(s))
            .collect())
    }

    /// As [`Self::encode_file`] but keeps the per-segment grouping.
    pub fn encode_file_segments(
        &mut self,
        samples: &[f32],
        rate_hz: u32,
    ) -> Result<Vec<SegmentFrames>> {
        validate_rate(rate_hz)?;
        if samples.is_empty() {
            return Err(PerceptionError::Empty { what: "audio" });
        }
        let min = self.min_samples(rate_hz);
        if samples.len() < min {
            return Err(PerceptionError::TooShort {
                samples: samples.len(),
                min_samples: min,
                rate_hz,
            });
        }
        self.reset();
        let seg = self.config.segment_samples(rate_hz).max(1);
        let mut out = Vec::with_capacity(samples.len() / seg + 1);
        for (i, chunk) in samples.chunks(seg).enumerate() {
            out.push(self.process_segment(chunk, rate_hz, (i * seg) as u64)?);
        }
        Ok(out)
    }

    /// Splits a segment into per-frame records.
    pub fn records(&self, seg: &SegmentFrames) -> Vec<EncodedFrame> {
        let hop_s = self.encoder.hop() as f64 / self.encoder.sample_rate() as f64;
        (0..seg.n_frames)
            .map(|i| {
                let idx = seg.first_frame_idx + i as u64;
                EncodedFrame {
                    frame_idx: idx,
                    segment_idx: seg.segment_idx,
                    time_s: idx as f64 * hop_s,
                    harmonic: seg.row(Stream::Harmonic, i).to_vec(),
                    percussive: seg.row(Stream::Percussive, i).to_vec(),
                    payload: seg.payload[i],
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_signal(rate: u32, secs: f32) -> Vec<f32> {
        let n = (rate as f32 * secs) as usize;
        (0..n)
            .map(|i| {
                let t = i as f32 / rate as f32;
                0.3 * (2.0 * std::f32::consts::PI * 220.0 * t).sin()
                    + if (t * 4.0).fract() < 0.01 { 0.5 } else { 0.0 }
            })
            .collect()
    }

    #[test]
    fn frames_kept_once_and_counts() {
        let x = test_signal(44100, 3.0);
        let mut p = Perception::new(PerceptionConfig::default()).unwrap();
        let segs = p.encode_file_segments(&x, 44100).unwrap();
        let mut next = 0u64;
        for s in &segs {
            assert_eq!(s.first_frame_idx, next, "frames must be contiguous");
            next += s.n_frames as u64;
            assert_eq!(s.harmonic.len(), s.n_frames * s.dim);
            assert!(s
                .harmonic
                .iter()
                .chain(&s.percussive)
                .all(|v| v.is_finite()));
        }
        // Steady-state segments carry 26.25 frames on average; the resampler's 20 ms chunks
        // hold back up to 1.5 frames' worth of samples, so 25..=28 per segment.
        for s in &segs[2..segs.len() - 1] {
            assert!((25..=28).contains(&s.n_frames), "{}", s.n_frames);
        }
        // Total about 75 frames/s minus window/lookahead/resampler tail.
        assert!((next as i64 - 225).abs() < 20, "{next}");
    }

    #[test]
    fn discontinuity_resets_stream() {
        let x = test_signal(48000, 1.0);
        let mut p = Perception::new(PerceptionConfig::default()).unwrap();
        let seg = p.config().segment_samples(48000);
        assert_eq!(seg, 16800);
        let a = p.process_segment(&x[..seg], 48000, 0).unwrap();
        // Skip a segment: start far away; frame count restarts (first segment of a stream).
        let b = p
            .process_segment(&x[..seg], 48000, 10 * seg as u64)
            .unwrap();
        assert_eq!(a.n_frames, b.n_frames);
        assert_eq!(a.harmonic, b.harmonic);
        assert_eq!(
            b.first_frame_idx,
            10 * 26 + 3,
            "nearest frame to 3.5 s is 262.5 -> 263"
        );
    }
}
