//! Basic Pitch: learned note posteriors and the "deep chroma" folded out of them.
//!
//! Spotify's Basic Pitch (Bittner et al., "A Lightweight Instrument-Agnostic Model for
//! Polyphonic Note Transcription and Multipitch Estimation", ICASSP 2022; Apache-2.0) ships its
//! network as `nmp.onnx` in the `basic-pitch==0.4.0` wheel (`basic_pitch/saved_models/
//! icassp_2022/`). `cargo xtask fetch-basic-pitch` puts it in `target/bundled/nmp.onnx`, beside
//! the ONNX Runtime library; it is never committed.
//!
//! The network takes 43,844 mono samples at 22,050 Hz (2 s minus one hop) and returns, for 172
//! frames 256 samples apart (86.13 frames/s, frame `j` centred on window sample `j * 256`):
//! note posteriors `[172, 88]` (MIDI 21..=108), onset posteriors `[172, 88]` and a pitch contour
//! `[172, 264]` (three bins per semitone from 27.5 Hz). The ONNX output names are not in that
//! order: `StatefulPartitionedCall:1` is the notes, `:2` the onsets, `:0` the contour (as
//! `basic_pitch/inference.py` maps them).
//!
//! Longer audio is cut into overlapping windows as the reference does: `TRIM_FRAMES` (15)
//! frames of zeros are put before the audio, and each window's first and last 15 frames, which
//! lack context, are dropped. The reference steps its windows by 36,164 samples (141.3 frames)
//! yet keeps 142 frames of each, so its frames drift by 0.73 frame per window; we step by
//! exactly [`KEPT_FRAMES`] * 256 samples, so output frame `i` is centred on input sample
//! `i * 256` however long the audio is.
//!
//! Deep chroma ([`chroma_from_notes`]) folds the 88 note posteriors of a frame into 12 pitch
//! classes, the same shape as [`super::FramePayload::chroma`]; [`pitches_from_notes`] picks
//! the strongest notes, like [`super::FramePayload::pitches`]. `docs/PERCEPTION.md` compares
//! both with the DSP stage on rendered four-voice chorales.
//!
//! Not real-time: loading and inference allocate and take milliseconds. Run on the worker.

use std::path::{Path, PathBuf};

use ndarray::Array3;
use ort::session::Session;
use ort::value::{TensorElementType, TensorRef, ValueType};

use super::error::PerceptionError;
use super::resample::StreamResampler;
use crate::onnx::RuntimeError;

/// The model's sample rate, Hz.
pub const SAMPLE_RATE_HZ: u32 = 22_050;
/// Samples between frames (the model's CQT hop).
pub const HOP_SAMPLES: usize = 256;
/// Samples the model takes per window: 2 s minus one hop.
pub const WINDOW_SAMPLES: usize = 2 * SAMPLE_RATE_HZ as usize - HOP_SAMPLES;
/// Frames the model returns per window.
pub const WINDOW_FRAMES: usize = 172;
/// Frames dropped at each end of a window (half the reference's 30-frame overlap).
pub const TRIM_FRAMES: usize = 15;
/// Frames kept per window; also the window step in frames.
pub const KEPT_FRAMES: usize = WINDOW_FRAMES - 2 * TRIM_FRAMES;
/// Window step in samples.
pub const WINDOW_STEP_SAMPLES: usize = KEPT_FRAMES * HOP_SAMPLES;
/// The newest frame of a [`BasicPitch::posteriors_window`] result that has the full right
/// context the offline path gives it (later frames see zero padding inside the network).
pub const LIVE_FRAME: usize = WINDOW_FRAMES - 1 - TRIM_FRAMES;
/// Note bins: the 88 piano keys.
pub const NUM_NOTES: usize = 88;
/// MIDI note of note bin 0 (A0).
pub const LOWEST_NOTE: u8 = 21;
/// Contour bins: three per semitone over the 88 keys.
pub const NUM_CONTOUR_BINS: usize = 3 * NUM_NOTES;
/// Frames per second of the posteriors (86.13).
pub const FRAMES_PER_S: f64 = SAMPLE_RATE_HZ as f64 / HOP_SAMPLES as f64;
/// Most notes [`pitches_from_notes`] returns (as many as [`super::payload::MAX_VOICES`]).
pub const MAX_PITCHES: usize = 4;
/// Note posteriors below this add nothing to the deep chroma, and a frame with none above it has
/// an all-zero chroma: Basic Pitch's own `frame_threshold`. Summing every posterior instead lets
/// the model's faint octave and fifth ghosts in: on the rendered chorales of
/// `tests/deep_chroma.rs` a floor of 0.1 gave chroma precision 0.45 (at 0.3 of the frame's
/// maximum), 0.2–0.3 gave 0.95–0.96 at the same recall (0.93–0.95), 0.5 lost recall (0.81).
pub const CHROMA_FLOOR: f32 = 0.3;
/// Default posterior a note needs to be reported by [`pitches_from_notes`]: Basic Pitch's
/// `frame_threshold`.
pub const DEFAULT_PITCH_THRESHOLD: f32 = 0.3;
/// File name of the model, in `target/bundled/` beside the ONNX Runtime library.
pub const MODEL_FILE: &str = "nmp.onnx";
/// Environment variable holding the model path (set by `cargo xtask test`).
pub const MODEL_PATH_ENV: &str = "MUSICHAL_BASIC_PITCH_PATH";
/// Threads ONNX Runtime may use inside one inference. One: the model is small (a window takes
/// milliseconds), and a plugin's worker must not take every core from the host.
pub const INTRA_THREADS: usize = 1;

const INPUT_NAME: &str = "serving_default_input_2:0";
const NOTES_OUTPUT: &str = "StatefulPartitionedCall:1";
const ONSETS_OUTPUT: &str = "StatefulPartitionedCall:2";
const CONTOUR_OUTPUT: &str = "StatefulPartitionedCall:0";

/// Why the model could not be found, loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum BasicPitchError {
    /// ONNX Runtime itself is unavailable.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// No model file at the default places.
    #[error(
        "Basic Pitch model ({MODEL_FILE}) not found; looked in: {searched}. Run \
         `cargo xtask fetch-basic-pitch`, or set {MODEL_PATH_ENV} to the file"
    )]
    ModelNotFound { searched: String },
    /// The given model file does not exist.
    #[error("Basic Pitch model file not found: {path}")]
    ModelMissing { path: PathBuf },
    /// The model file exists but could not be read.
    #[error("cannot read Basic Pitch model {}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// ONNX Runtime could not parse the file as a model.
    #[error("{path} is not an ONNX model ONNX Runtime can load: {message}")]
    NotOnnx { path: PathBuf, message: String },
    /// The graph's inputs or outputs are not Basic Pitch's.
    #[error(
        "{path} is not the Basic Pitch note model: {what}: expected {expected}, found {actual}"
    )]
    WrongSignature {
        path: PathBuf,
        what: &'static str,
        expected: String,
        actual: String,
    },
    /// An output came back with a shape other than the one checked at load.
    #[error("Basic Pitch output {output}: expected shape {expected}, got {actual}")]
    ShapeMismatch {
        output: &'static str,
        expected: String,
        actual: String,
    },
    /// ONNX Runtime failed while running the model.
    #[error("Basic Pitch inference failed: {message}")]
    Inference { message: String },
    /// Resampling to 22,050 Hz failed (rate out of range, ...).
    #[error(transparent)]
    Resample(#[from] PerceptionError),
}

/// Per-frame posteriors of a stretch of audio, row-major, all in `0..=1`.
///
/// Frame `i` is centred on sample `i * 256` of the 22,050 Hz input (time `i / FRAMES_PER_S`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Posteriors {
    /// Number of frames.
    pub n_frames: usize,
    /// Note posteriors `[n_frames, 88]`, bin `k` = MIDI `21 + k`.
    pub notes: Vec<f32>,
    /// Onset posteriors `[n_frames, 88]`.
    pub onsets: Vec<f32>,
    /// Pitch contour `[n_frames, 264]`, three bins per semitone, bin 0 = 27.5 Hz.
    pub contour: Vec<f32>,
}

impl Posteriors {
    fn with_frames(n_frames: usize) -> Self {
        Self {
            n_frames,
            notes: vec![0.0; n_frames * NUM_NOTES],
            onsets: vec![0.0; n_frames * NUM_NOTES],
            contour: vec![0.0; n_frames * NUM_CONTOUR_BINS],
        }
    }

    /// Note posteriors of frame `i` (88 values); empty past the end.
    pub fn notes_row(&self, i: usize) -> &[f32] {
        self.notes
            .get(i * NUM_NOTES..(i + 1) * NUM_NOTES)
            .unwrap_or(&[])
    }

    /// Onset posteriors of frame `i` (88 values); empty past the end.
    pub fn onsets_row(&self, i: usize) -> &[f32] {
        self.onsets
            .get(i * NUM_NOTES..(i + 1) * NUM_NOTES)
            .unwrap_or(&[])
    }

    /// Contour of frame `i` (264 values); empty past the end.
    pub fn contour_row(&self, i: usize) -> &[f32] {
        self.contour
            .get(i * NUM_CONTOUR_BINS..(i + 1) * NUM_CONTOUR_BINS)
            .unwrap_or(&[])
    }

    /// Centre of frame `i` in seconds.
    pub fn frame_time_s(i: usize) -> f64 {
        i as f64 / FRAMES_PER_S
    }
}

/// The loaded network. Owns an `ort::Session`; lives on the worker thread.
pub struct BasicPitch {
    session: Session,
    /// One `[1, WINDOW_SAMPLES, 1]` input, reused by every call.
    input: Array3<f32>,
}

impl std::fmt::Debug for BasicPitch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicPitch").finish_non_exhaustive()
    }
}

/// Where the model is looked for: `MUSICHAL_BASIC_PITCH_PATH` if set (and then only there: an
/// override that points nowhere is an error), else `nmp.onnx` beside the ONNX Runtime library
/// [`crate::onnx::find_library`] resolves (`target/bundled/` in a checkout).
pub fn default_model_path() -> Result<PathBuf, BasicPitchError> {
    if let Some(path) = std::env::var_os(MODEL_PATH_ENV) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(BasicPitchError::ModelNotFound {
                searched: format!("{MODEL_PATH_ENV}={}", path.display()),
            })
        };
    }
    let library = crate::onnx::find_library().map_err(|e| BasicPitchError::ModelNotFound {
        searched: format!("beside the ONNX Runtime library, which was not found either ({e})"),
    })?;
    let dir = library.parent().unwrap_or(Path::new("."));
    let path = dir.join(MODEL_FILE);
    if path.is_file() {
        Ok(path)
    } else {
        Err(BasicPitchError::ModelNotFound {
            searched: dir.display().to_string(),
        })
    }
}

fn describe(ty: &ValueType) -> String {
    match (ty.tensor_type(), ty.tensor_shape()) {
        (Some(t), Some(shape)) => format!("{t:?} {:?}", &shape[..]),
        _ => format!("{ty:?}"),
    }
}

/// True when `ty` is an f32 tensor of `dims`; a wanted `-1` (the batch axis) accepts a dynamic
/// axis or a fixed batch of 1.
impl BasicPitchError {
    /// The model or ONNX Runtime is simply not installed here (as opposed to present and
    /// broken): what `musichal doctor` reports as "not fetched", and the only failure a test
    /// may treat as a missing resource.
    pub fn is_not_installed(&self) -> bool {
        matches!(
            self,
            Self::ModelNotFound { .. }
                | Self::ModelMissing { .. }
                | Self::Runtime(RuntimeError::LibraryNotFound { .. })
        )
    }
}

fn is_f32_tensor(ty: &ValueType, dims: &[i64]) -> bool {
    ty.tensor_type() == Some(TensorElementType::Float32)
        && ty.tensor_shape().is_some_and(|shape| {
            shape.len() == dims.len()
                && shape
                    .iter()
                    .zip(dims)
                    .all(|(&got, &want)| got == want || (want == -1 && (got == -1 || got == 1)))
        })
}

impl BasicPitch {
    /// Loads the model from the default place ([`default_model_path`]).
    pub fn load_default() -> Result<Self, BasicPitchError> {
        Self::load(&default_model_path()?)
    }

    /// Loads `nmp.onnx` from `path` and checks that its input and outputs are Basic Pitch's.
    ///
    /// Errors: `ModelMissing` (no such file), `Io`, `Runtime` (ONNX Runtime not found),
    /// `NotOnnx` (ONNX Runtime cannot parse it), `WrongSignature` (another graph).
    pub fn load(path: &Path) -> Result<Self, BasicPitchError> {
        let bytes = std::fs::read(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                BasicPitchError::ModelMissing { path: path.into() }
            } else {
                BasicPitchError::Io {
                    path: path.into(),
                    error: source,
                }
            }
        })?;
        let env = crate::onnx::environment()?;
        let not_onnx = |message: String| BasicPitchError::NotOnnx {
            path: path.into(),
            message,
        };
        let session = Session::builder(env)
            .map_err(|e| not_onnx(e.to_string()))?
            .with_intra_threads(INTRA_THREADS)
            .map_err(|e| not_onnx(e.to_string()))?
            .commit_from_memory(&bytes)
            .map_err(|e| not_onnx(e.to_string()))?;
        let wrong = |what: &'static str, expected: String, actual: String| {
            BasicPitchError::WrongSignature {
                path: path.into(),
                what,
                expected,
                actual,
            }
        };
        let inputs = session.inputs();
        let input_dims = [-1, WINDOW_SAMPLES as i64, 1];
        match inputs {
            [only] if only.name() == INPUT_NAME && is_f32_tensor(only.dtype(), &input_dims) => {}
            _ => {
                return Err(wrong(
                    "inputs",
                    format!("{INPUT_NAME}: Float32 {input_dims:?}"),
                    inputs
                        .iter()
                        .map(|i| format!("{}: {}", i.name(), describe(i.dtype())))
                        .collect::<Vec<_>>()
                        .join(", "),
                ))
            }
        }
        for (name, width) in [
            (NOTES_OUTPUT, NUM_NOTES),
            (ONSETS_OUTPUT, NUM_NOTES),
            (CONTOUR_OUTPUT, NUM_CONTOUR_BINS),
        ] {
            let dims = [-1, WINDOW_FRAMES as i64, width as i64];
            let outputs = session.outputs();
            let ok = outputs
                .iter()
                .any(|o| o.name() == name && is_f32_tensor(o.dtype(), &dims));
            if !ok {
                return Err(wrong(
                    "outputs",
                    format!("{name}: Float32 {dims:?}"),
                    outputs
                        .iter()
                        .map(|o| format!("{}: {}", o.name(), describe(o.dtype())))
                        .collect::<Vec<_>>()
                        .join(", "),
                ));
            }
        }
        Ok(Self {
            session,
            input: Array3::zeros((1, WINDOW_SAMPLES, 1)),
        })
    }

    /// Runs the network once on `self.input`; copies frames `first..first + n` of the window
    /// to frames `dest_frame..` of `out`.
    fn run_window(
        &mut self,
        first: usize,
        n: usize,
        out: &mut Posteriors,
        dest_frame: usize,
    ) -> Result<(), BasicPitchError> {
        let inference = |e: ort::Error| BasicPitchError::Inference {
            message: e.to_string(),
        };
        let tensor = TensorRef::from_array_view(&self.input).map_err(inference)?;
        let outputs = self
            .session
            .run(ort::inputs![INPUT_NAME => tensor])
            .map_err(inference)?;
        for (name, width, dest) in [
            (NOTES_OUTPUT, NUM_NOTES, &mut out.notes),
            (ONSETS_OUTPUT, NUM_NOTES, &mut out.onsets),
            (CONTOUR_OUTPUT, NUM_CONTOUR_BINS, &mut out.contour),
        ] {
            let array = outputs
                .get(name)
                .ok_or_else(|| BasicPitchError::Inference {
                    message: format!("output {name} missing"),
                })?
                .try_extract_array::<f32>()
                .map_err(inference)?;
            if array.shape() != [1, WINDOW_FRAMES, width] {
                return Err(BasicPitchError::ShapeMismatch {
                    output: name,
                    expected: format!("[1, {WINDOW_FRAMES}, {width}]"),
                    actual: format!("{:?}", array.shape()),
                });
            }
            let rows = &mut dest[dest_frame * width..(dest_frame + n) * width];
            for (row, frame) in rows.chunks_exact_mut(width).zip(first..first + n) {
                for (d, bin) in row.iter_mut().zip(0..width) {
                    *d = array[[0, frame, bin]];
                }
            }
        }
        Ok(())
    }

    /// Posteriors of mono audio at 22,050 Hz of any length: one frame per 256 samples
    /// (`ceil(len / 256)` frames, frame `i` centred on sample `i * 256`), windowed with the
    /// reference's 15-frame trims (see the module docs). Non-finite samples count as silence.
    pub fn posteriors(&mut self, audio_22050: &[f32]) -> Result<Posteriors, BasicPitchError> {
        let n_frames = audio_22050.len().div_ceil(HOP_SAMPLES);
        let mut out = Posteriors::with_frames(n_frames);
        let pad = TRIM_FRAMES * HOP_SAMPLES;
        let mut frame = 0;
        while frame < n_frames {
            // Window sample s holds input sample frame * 256 - pad + s.
            let start = (frame * HOP_SAMPLES) as isize - pad as isize;
            for (s, x) in self.input.iter_mut().enumerate() {
                let i = start + s as isize;
                *x = usize::try_from(i)
                    .ok()
                    .and_then(|i| audio_22050.get(i))
                    .copied()
                    .filter(|v| v.is_finite())
                    .unwrap_or(0.0);
            }
            let n = KEPT_FRAMES.min(n_frames - frame);
            self.run_window(TRIM_FRAMES, n, &mut out, frame)?;
            frame += KEPT_FRAMES;
        }
        Ok(out)
    }

    /// As [`Self::posteriors`] for mono audio at any supported rate: resampled to 22,050 Hz
    /// with rubato first (the perception front end's [`StreamResampler`], flushed at the end).
    pub fn posteriors_at_rate(
        &mut self,
        audio: &[f32],
        rate_hz: u32,
    ) -> Result<Posteriors, BasicPitchError> {
        let resampled = resample_to_model_rate(audio, rate_hz)?;
        self.posteriors(&resampled)
    }

    /// One inference on the most recent [`WINDOW_SAMPLES`] samples of `recent_22050` (zeros
    /// before them when it is shorter): the live variant. Returns all 172 frames of the window,
    /// frame `j` centred on window sample `j * 256`, i.e. `WINDOW_SAMPLES - j * 256` samples
    /// before the end. Frames after [`LIVE_FRAME`] lack right context (the network pads them
    /// with zeros) and may differ from what the offline path gives; [`LIVE_FRAME`] is the newest
    /// one to trust, 15 frames (174 ms) behind the newest sample.
    pub fn posteriors_window(
        &mut self,
        recent_22050: &[f32],
    ) -> Result<Posteriors, BasicPitchError> {
        let take = recent_22050.len().min(WINDOW_SAMPLES);
        let lead = WINDOW_SAMPLES - take;
        let tail = &recent_22050[recent_22050.len() - take..];
        for (s, x) in self.input.iter_mut().enumerate() {
            *x = s
                .checked_sub(lead)
                .and_then(|i| tail.get(i))
                .copied()
                .filter(|v| v.is_finite())
                .unwrap_or(0.0);
        }
        let mut out = Posteriors::with_frames(WINDOW_FRAMES);
        self.run_window(0, WINDOW_FRAMES, &mut out, 0)?;
        Ok(out)
    }
}

/// Resamples mono audio at `rate_hz` to 22,050 Hz (rubato, through [`StreamResampler`]), with
/// the resampler flushed so the output holds `round(len * 22050 / rate_hz)` samples.
pub fn resample_to_model_rate(audio: &[f32], rate_hz: u32) -> Result<Vec<f32>, BasicPitchError> {
    super::pipeline::validate_rate(rate_hz)?;
    if rate_hz == SAMPLE_RATE_HZ {
        return Ok(audio.to_vec());
    }
    let want = ((audio.len() as u64 * SAMPLE_RATE_HZ as u64 + rate_hz as u64 / 2) / rate_hz as u64)
        as usize;
    let mut resampler = StreamResampler::new(rate_hz, SAMPLE_RATE_HZ)?;
    let mut out = Vec::with_capacity(want + HOP_SAMPLES);
    resampler.push(audio, &mut out)?;
    // Zeros push the last partial chunk and the resampler's delay line through; a few 20 ms
    // chunks are enough, the loop bound only guards against a resampler that stops producing.
    let flush = vec![0.0f32; rate_hz as usize / 10];
    for _ in 0..20 {
        if out.len() >= want {
            break;
        }
        resampler.push(&flush, &mut out)?;
    }
    out.truncate(want);
    Ok(out)
}

/// Pitch class (C = 0) of note bin `k` (MIDI `21 + k`).
#[inline]
fn pitch_class(bin: usize) -> usize {
    (LOWEST_NOTE as usize + bin) % 12
}

/// Deep chroma: folds one frame's note posteriors (88 values, bin 0 = MIDI 21 = A0) into 12
/// pitch classes, C first. Posteriors below [`CHROMA_FLOOR`] add nothing; the result sums to 1,
/// or is all zero when no posterior reaches the floor (as the DSP chroma is in silence). Extra
/// values past 88 are ignored; NaN counts as 0.
pub fn chroma_from_notes(notes_row: &[f32]) -> [f32; 12] {
    let mut chroma = [0.0f32; 12];
    for (bin, &p) in notes_row.iter().take(NUM_NOTES).enumerate() {
        if p >= CHROMA_FLOOR {
            chroma[pitch_class(bin)] += p;
        }
    }
    let sum: f32 = chroma.iter().sum();
    if sum > 0.0 {
        for c in &mut chroma {
            *c /= sum;
        }
    }
    chroma
}

/// The MIDI notes whose posterior reaches `threshold`, strongest first, at most
/// `max.min(MAX_PITCHES)` of them. Ties keep the lower note first; NaN never qualifies.
pub fn pitches_from_notes(notes_row: &[f32], threshold: f32, max: usize) -> Vec<u8> {
    let mut found: Vec<(f32, u8)> = notes_row
        .iter()
        .take(NUM_NOTES)
        .enumerate()
        .filter(|&(_, &p)| p >= threshold)
        .map(|(bin, &p)| (p, LOWEST_NOTE + bin as u8))
        .collect();
    found.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    found
        .into_iter()
        .take(max.min(MAX_PITCHES))
        .map(|(_, note)| note)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Set by `cargo xtask test`: every resource a test needs must be there.
    const REQUIRE_ALL_ENV: &str = "MUSICHAL_REQUIRE_ALL";

    /// ONNX Runtime could not be loaded: a failure under `cargo xtask test`, a note elsewhere.
    fn runtime_missing(e: &RuntimeError) {
        assert!(
            std::env::var_os(REQUIRE_ALL_ENV).is_none(),
            "ONNX Runtime is required here ({REQUIRE_ALL_ENV} is set): {e}"
        );
        eprintln!("skipped: no ONNX Runtime here: {e}");
    }

    fn row_with(notes: &[(u8, f32)]) -> Vec<f32> {
        let mut row = vec![0.0f32; NUM_NOTES];
        for &(midi, p) in notes {
            row[(midi - LOWEST_NOTE) as usize] = p;
        }
        row
    }

    mod chroma {
        use super::*;

        #[test]
        fn middle_c_folds_to_c_and_a4_to_a() {
            let c = chroma_from_notes(&row_with(&[(60, 0.9)]));
            assert_eq!(c[0], 1.0);
            let a = chroma_from_notes(&row_with(&[(69, 0.9)]));
            assert_eq!(a[9], 1.0);
            let lowest = chroma_from_notes(&row_with(&[(21, 0.5)]));
            assert_eq!(lowest[9], 1.0, "MIDI 21 is an A");
            let highest = chroma_from_notes(&row_with(&[(108, 0.5)]));
            assert_eq!(highest[0], 1.0, "MIDI 108 is a C");
        }

        #[test]
        fn octaves_add_and_result_sums_to_one() {
            let c = chroma_from_notes(&row_with(&[(48, 0.6), (60, 0.6), (64, 0.3)]));
            assert!((c[0] - 0.8).abs() < 1e-6, "{c:?}");
            assert!((c[4] - 0.2).abs() < 1e-6, "{c:?}");
            assert!((c.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }

        #[test]
        fn nothing_above_floor_is_all_zero() {
            let quiet = row_with(&[(60, CHROMA_FLOOR * 0.5), (67, 0.01)]);
            assert_eq!(chroma_from_notes(&quiet), [0.0; 12]);
            assert_eq!(chroma_from_notes(&[]), [0.0; 12]);
            assert_eq!(chroma_from_notes(&[f32::NAN; NUM_NOTES]), [0.0; 12]);
        }
    }

    mod pitches {
        use super::*;

        #[test]
        fn above_threshold_strongest_first_at_most_four() {
            let row = row_with(&[
                (40, 0.35),
                (52, 0.9),
                (59, 0.6),
                (64, 0.7),
                (71, 0.5),
                (76, 0.25),
            ]);
            assert_eq!(pitches_from_notes(&row, 0.3, 10), vec![52, 64, 59, 71]);
            assert_eq!(pitches_from_notes(&row, 0.3, 2), vec![52, 64]);
            assert_eq!(pitches_from_notes(&row, 0.65, 4), vec![52, 64]);
            assert!(pitches_from_notes(&row, 0.95, 4).is_empty());
            assert!(pitches_from_notes(&[f32::NAN; NUM_NOTES], 0.0, 4).is_empty());
        }
    }

    mod load_errors {
        use super::*;

        #[test]
        fn missing_file_is_model_missing() {
            let path = Path::new("/nonexistent/musichal/nmp.onnx");
            match BasicPitch::load(path) {
                Err(BasicPitchError::ModelMissing { path: p }) => assert_eq!(p, path),
                other => panic!("expected ModelMissing, got {other:?}"),
            }
        }

        /// Without ONNX Runtime this is a `Runtime` error, never a panic; with it, `NotOnnx`.
        #[test]
        fn non_onnx_file_is_a_typed_error() {
            let dir = std::env::temp_dir().join(format!("musichal-bp-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("not_a_model.onnx");
            std::fs::write(&path, b"RIFF....WAVEfmt definitely not protobuf").unwrap();
            let result = BasicPitch::load(&path);
            let _ = std::fs::remove_dir_all(&dir);
            match result {
                Err(e @ BasicPitchError::NotOnnx { .. }) => {
                    assert!(e.to_string().contains("not_a_model.onnx"), "{e}")
                }
                Err(BasicPitchError::Runtime(e)) => runtime_missing(&e),
                other => panic!("expected NotOnnx, got {other:?}"),
            }
        }

        #[test]
        fn another_onnx_graph_is_wrong_signature() {
            let path = Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/tiny_tanh_affine.onnx"
            ));
            match BasicPitch::load(path) {
                Err(e @ BasicPitchError::WrongSignature { .. }) => {
                    assert!(e.to_string().contains(INPUT_NAME), "{e}")
                }
                Err(BasicPitchError::Runtime(e)) => runtime_missing(&e),
                other => panic!("expected WrongSignature, got {other:?}"),
            }
        }
    }

    /// These need the model (`cargo xtask fetch-basic-pitch`). Under `cargo xtask test`
    /// (`MUSICHAL_REQUIRE_ALL` set) a missing model fails them; elsewhere they say so and pass.
    /// A model that is present but broken always fails.
    mod with_model {
        use super::*;

        fn model() -> Option<BasicPitch> {
            match BasicPitch::load_default() {
                Ok(m) => Some(m),
                Err(e) if e.is_not_installed() && std::env::var_os(REQUIRE_ALL_ENV).is_none() => {
                    eprintln!("skipped: Basic Pitch model not installed: {e}");
                    None
                }
                Err(e) => panic!("Basic Pitch model unusable: {e}"),
            }
        }

        /// A4 with six harmonics (amplitudes 1/h), 0.6 of full scale at `rate_hz`.
        fn a4(rate_hz: u32, seconds: f32) -> Vec<f32> {
            let n = (rate_hz as f32 * seconds) as usize;
            (0..n)
                .map(|i| {
                    let t = i as f32 / rate_hz as f32;
                    let s: f32 = (1..=6)
                        .map(|h| {
                            (2.0 * std::f32::consts::PI * 440.0 * h as f32 * t).sin() / h as f32
                        })
                        .sum();
                    0.25 * s
                })
                .collect()
        }

        fn argmax(row: &[f32]) -> usize {
            row.iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i)
        }

        #[test]
        fn a4_tone_peaks_at_note_69() {
            let Some(mut bp) = model() else { return };
            // 4 s spans three windows, so the stitching is exercised too.
            let audio = a4(SAMPLE_RATE_HZ, 4.0);
            let post = bp.posteriors(&audio).unwrap();
            assert_eq!(post.n_frames, audio.len().div_ceil(HOP_SAMPLES));
            assert_eq!(post.contour.len(), post.n_frames * NUM_CONTOUR_BINS);
            let mut hits = 0;
            let inner = 20..post.n_frames - 20;
            for i in inner.clone() {
                let row = post.notes_row(i);
                if LOWEST_NOTE as usize + argmax(row) == 69 && row[69 - 21] > 0.5 {
                    hits += 1;
                }
            }
            assert!(
                hits * 10 >= inner.len() * 9,
                "note 69 strongest in {hits} of {} frames",
                inner.len()
            );
            let chroma = chroma_from_notes(post.notes_row(post.n_frames / 2));
            assert_eq!(argmax(&chroma), 9, "{chroma:?}");
            assert_eq!(
                pitches_from_notes(post.notes_row(post.n_frames / 2), 0.5, 4).first(),
                Some(&69)
            );
            // The contour peaks at A4 too: bin k is 27.5 Hz * 2^(k / 36), so 440 Hz is bin 144.
            let c = argmax(post.contour_row(post.n_frames / 2));
            assert!((143..=145).contains(&c), "contour peak at bin {c}");
        }

        #[test]
        fn live_window_and_resampled_input_agree_with_offline() {
            let Some(mut bp) = model() else { return };
            let at_44k = a4(44_100, 2.5);
            let post = bp.posteriors_at_rate(&at_44k, 44_100).unwrap();
            let expected_len = (at_44k.len() as f64 * 0.5).round() as usize;
            assert_eq!(post.n_frames, expected_len.div_ceil(HOP_SAMPLES));
            let mid = post.notes_row(post.n_frames / 2);
            assert_eq!(LOWEST_NOTE as usize + argmax(mid), 69);

            let live = bp.posteriors_window(&a4(SAMPLE_RATE_HZ, 3.0)).unwrap();
            assert_eq!(live.n_frames, WINDOW_FRAMES);
            let row = live.notes_row(LIVE_FRAME);
            assert_eq!(LOWEST_NOTE as usize + argmax(row), 69);
            assert!(row[69 - 21] > 0.5, "{}", row[69 - 21]);
            // Shorter than a window: zeros first, the tone at the end.
            let short = bp.posteriors_window(&a4(SAMPLE_RATE_HZ, 1.0)).unwrap();
            assert_eq!(
                LOWEST_NOTE as usize + argmax(short.notes_row(LIVE_FRAME)),
                69
            );
            assert!(
                short.notes_row(10).iter().all(|&p| p < 0.3),
                "silence reads silent"
            );
        }

        #[test]
        fn empty_and_short_audio() {
            let Some(mut bp) = model() else { return };
            let empty = bp.posteriors(&[]).unwrap();
            assert_eq!(empty.n_frames, 0);
            assert!(empty.notes.is_empty());
            let short = bp.posteriors(&[0.0; 300]).unwrap();
            assert_eq!(short.n_frames, 2);
            assert_eq!(short.notes.len(), 2 * NUM_NOTES);
        }
    }
}
