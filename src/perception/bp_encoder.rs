//! `basicpitch`: the `spectral` features joined with Basic Pitch's posteriors, and deep chroma.
//!
//! Per frame, `[0..88)` is the [`SpectralEncoder`] row of the stream, then three blocks from
//! Basic Pitch on the **harmonic** stream's rebuilt waveform (resampled to 22,050 Hz):
//! note posteriors (88 keys), onset posteriors (88) and the pitch contour pooled to one value
//! per key (the maximum of its three bins). Each Basic Pitch block is scaled to unit L2 norm and
//! weighted (notes 1.0, onsets 0.5, contour 0.5; the spectral blocks are already normalised and
//! weighted, see `encoder.rs`); silent blocks stay zero. The percussive stream's Basic Pitch
//! blocks are zero: the model transcribes pitched notes, and running it twice per segment would
//! double the worker's largest cost. The harmonic frames' deep chroma and pitches replace the
//! DSP payload's ([`Encoder::pitch_payload`]).
//!
//! Timing: each harmonic call runs the network once, on the newest 2 s of harmonic audio
//! ([`BasicPitch::posteriors_window`]). Frame `c` takes the posteriors interpolated at its STFT
//! centre (stream sample `c * hop`). The newest frames of a segment therefore sit within the
//! last 15 network frames (174 ms), which see zero padding on their right: less accurate than
//! the offline transcription, but the same for training and live, which cut the same segments
//! and so make the same calls. Unlike `spectral`, the rows depend on where segments start.
//!
//! Cost: one inference (~80 ms of one core, `benches/basic_pitch.rs`) per 350 ms segment.

use super::basic_pitch::{
    chroma_from_notes, pitches_from_notes, BasicPitch, BasicPitchError, DEFAULT_PITCH_THRESHOLD,
    HOP_SAMPLES, NUM_NOTES, SAMPLE_RATE_HZ, WINDOW_FRAMES, WINDOW_SAMPLES,
};
use super::encoder::{
    Encoder, EncoderInput, PitchPayload, SpectralEncoder, Stream, SPECTRAL_DIM, SPECTRAL_HOP,
    SPECTRAL_N_FFT, SPECTRAL_RATE_HZ,
};
use super::error::{PerceptionError, Result};
use super::pitch::{FramePitches, MAX_VOICES};
use super::resample::StreamResampler;

/// Encoder id.
pub const BASICPITCH_ID: &str = "basicpitch";
/// Feature width: spectral, notes, onsets, pooled contour.
pub const BASICPITCH_DIM: usize = SPECTRAL_DIM + 3 * NUM_NOTES;
/// Weights of the note, onset and contour blocks.
const BLOCK_WEIGHTS: [f32; 3] = [1.0, 0.5, 0.5];

/// The `basicpitch` encoder.
pub struct BasicPitchEncoder {
    spectral: SpectralEncoder,
    model: BasicPitch,
    resampler: StreamResampler,
    /// Newest harmonic audio at 22,050 Hz (at most one network window).
    recent: Vec<f32>,
    resampled: Vec<f32>,
    /// Harmonic waveform samples received (encoder rate) and produced (22,050 Hz).
    consumed: u64,
    produced: u64,
    /// Deep chroma and pitches of the last harmonic call's frames.
    pitch: Vec<PitchPayload>,
    /// The spectral rows of a call, before they are spread into the wider rows.
    spectral_rows: Vec<f32>,
}

impl std::fmt::Debug for BasicPitchEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicPitchEncoder").finish_non_exhaustive()
    }
}

fn model_error(e: BasicPitchError) -> PerceptionError {
    PerceptionError::EncoderModel {
        path: BASICPITCH_ID.into(),
        reason: e.to_string(),
    }
}

impl BasicPitchEncoder {
    /// Allocating, loads ONNX Runtime and the model (worker or CLI only): the model at
    /// `MUSICHAL_BASIC_PITCH_PATH`, else `nmp.onnx` beside the ONNX Runtime library.
    pub fn load_default() -> Result<Self> {
        Self::with_model(BasicPitch::load_default().map_err(model_error)?)
    }

    /// Allocating. The encoder around a loaded model.
    pub fn with_model(model: BasicPitch) -> Result<Self> {
        Ok(Self {
            spectral: SpectralEncoder::new(),
            model,
            resampler: StreamResampler::new(SPECTRAL_RATE_HZ, SAMPLE_RATE_HZ)?,
            recent: Vec::with_capacity(2 * WINDOW_SAMPLES),
            resampled: Vec::new(),
            consumed: 0,
            produced: 0,
            pitch: Vec::new(),
            spectral_rows: Vec::new(),
        })
    }

    /// Appends the Basic Pitch blocks of `n` new harmonic frames (whose waveform is `audio`).
    fn harmonic_blocks(&mut self, audio: &[f32], n: usize, rows: &mut [f32]) -> Result<()> {
        self.resampled.clear();
        self.resampler.push(audio, &mut self.resampled)?;
        self.produced += self.resampled.len() as u64;
        self.recent.extend_from_slice(&self.resampled);
        let excess = self.recent.len().saturating_sub(WINDOW_SAMPLES);
        self.recent.drain(..excess);
        let consumed_before = self.consumed;
        self.consumed += audio.len() as u64;
        self.pitch.clear();
        let post = self
            .model
            .posteriors_window(&self.recent)
            .map_err(model_error)?;
        // The waveform lags the stream by n_fft / 2: frame c's STFT centre is n_fft/2 - hop
        // samples before the end of the waveform its call completed.
        let lag = (SPECTRAL_N_FFT / 2 - SPECTRAL_HOP) as f64;
        let window_start = self.produced as f64 - WINDOW_SAMPLES as f64;
        let mut notes = [0.0f32; NUM_NOTES];
        let mut onsets = [0.0f32; NUM_NOTES];
        let mut contour = [0.0f32; NUM_NOTES];
        for k in 0..n {
            let end = (consumed_before + ((k + 1) * SPECTRAL_HOP) as u64) as f64;
            let centre_s = (end - lag) / SPECTRAL_RATE_HZ as f64;
            let j = ((centre_s * SAMPLE_RATE_HZ as f64 - window_start) / HOP_SAMPLES as f64)
                .clamp(0.0, (WINDOW_FRAMES - 1) as f64);
            let (j0, frac) = (j.floor() as usize, (j - j.floor()) as f32);
            let j1 = (j0 + 1).min(WINDOW_FRAMES - 1);
            let lerp = |a: &[f32], b: &[f32], i: usize| a[i] + frac * (b[i] - a[i]);
            let (n0, n1) = (post.notes_row(j0), post.notes_row(j1));
            let (o0, o1) = (post.onsets_row(j0), post.onsets_row(j1));
            let (c0, c1) = (post.contour_row(j0), post.contour_row(j1));
            for key in 0..NUM_NOTES {
                notes[key] = lerp(n0, n1, key);
                onsets[key] = lerp(o0, o1, key);
                contour[key] = (0..3)
                    .map(|b| lerp(c0, c1, 3 * key + b))
                    .fold(0.0f32, f32::max);
            }
            let row = &mut rows[k * BASICPITCH_DIM + SPECTRAL_DIM..(k + 1) * BASICPITCH_DIM];
            for (b, block) in [&notes, &onsets, &contour].into_iter().enumerate() {
                let norm = block.iter().map(|v| v * v).sum::<f32>().sqrt();
                let scale = if norm > 1e-6 {
                    BLOCK_WEIGHTS[b] / norm
                } else {
                    0.0
                };
                for (dst, &v) in row[b * NUM_NOTES..(b + 1) * NUM_NOTES]
                    .iter_mut()
                    .zip(block.iter())
                {
                    *dst = v * scale;
                }
            }
            let found = pitches_from_notes(&notes, DEFAULT_PITCH_THRESHOLD, MAX_VOICES);
            let pitches = FramePitches::from_slice(&found);
            self.pitch.push(PitchPayload {
                chroma: chroma_from_notes(&notes),
                pitches,
            });
        }
        Ok(())
    }
}

impl Encoder for BasicPitchEncoder {
    fn id(&self) -> &str {
        BASICPITCH_ID
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
        BASICPITCH_DIM
    }
    fn audio_context(&self) -> Option<usize> {
        Some(0)
    }
    fn frames(
        &mut self,
        stream: Stream,
        input: &EncoderInput<'_>,
        out: &mut Vec<f32>,
    ) -> Result<usize> {
        let n = input.n_frames;
        if input.audio.len() != n * SPECTRAL_HOP {
            return Err(PerceptionError::ShapeMismatch {
                expected: n * SPECTRAL_HOP,
                actual: input.audio.len(),
            });
        }
        if stream == Stream::Harmonic {
            self.pitch.clear();
        }
        self.spectral_rows.clear();
        self.spectral
            .frames(stream, input, &mut self.spectral_rows)?;
        let start = out.len();
        out.resize(start + n * BASICPITCH_DIM, 0.0);
        let rows = &mut out[start..];
        for (k, s) in self.spectral_rows.chunks_exact(SPECTRAL_DIM).enumerate() {
            rows[k * BASICPITCH_DIM..k * BASICPITCH_DIM + SPECTRAL_DIM].copy_from_slice(s);
        }
        if stream == Stream::Harmonic && n > 0 {
            if let Err(e) = self.harmonic_blocks(input.audio, n, rows) {
                out.truncate(start);
                return Err(e);
            }
        }
        Ok(n)
    }
    fn pitch_payload(&self) -> Option<&[PitchPayload]> {
        Some(&self.pitch)
    }
    fn reset(&mut self) {
        self.spectral.reset();
        if let Ok(r) = StreamResampler::new(SPECTRAL_RATE_HZ, SAMPLE_RATE_HZ) {
            self.resampler = r;
        }
        self.recent.clear();
        self.consumed = 0;
        self.produced = 0;
        self.pitch.clear();
    }
}
