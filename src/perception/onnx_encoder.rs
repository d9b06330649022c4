//! `onnx:<path>`: any ONNX model of the waveform as a frame encoder, run through ONNX Runtime on
//! the worker thread (never on the audio thread).
//!
//! The model takes mono audio, float32 `[1, samples]`, and returns one feature row per `hop`
//! samples: `[1, frames, dim]` or `[frames, dim]` (`"output_layout": "frames_dim"`), or the
//! transpose (`"dim_frames"`). Its output frame `j` must read input samples
//! `[j * hop, j * hop + window)`, so `samples = window + (frames - 1) * hop`: the rule of a
//! strided convolution front end such as wav2vec 2.0's / MERT's (window 400, hop 320). Loading
//! checks the rule by running the model on two lengths.
//!
//! A JSON sidecar beside the model (`<model>.onnx.json`) declares what ONNX cannot:
//!
//! ```json
//! { "format": "musichal-encoder", "version": 1,
//!   "sample_rate": 24000, "hop": 320, "window": 400, "dim": 768,
//!   "context_frames": 0, "input": "audio", "output": "features",
//!   "output_layout": "frames_dim", "n_fft": 2048, "description": "..." }
//! ```
//!
//! `context_frames` extra frames of past audio are given to the model on every call (and their
//! rows dropped), for models whose frames use more than their own window (attention). `n_fft`
//! (optional) is the STFT size for HPSS; by default the power of two nearest to 85 ms.
//!
//! Per segment, perception hands each HPSS stream's rebuilt waveform (see
//! [`super::encoder::EncoderInput::audio`]): `window - hop + context_frames * hop` samples of
//! context and `hop` new samples per frame; the model's last `n_frames` rows are that segment's
//! frames. The context is part of the stream, so the rows do not depend on how it was cut.

use std::path::{Path, PathBuf};

use ndarray::ArrayView2;
use ort::session::Session;
use ort::value::TensorRef;

use super::encoder::{Encoder, EncoderInput, Stream};
use super::error::{PerceptionError, Result};
use super::frontend::MAX_N_FFT;

/// Value of the sidecar's `format` field.
pub const SIDECAR_FORMAT: &str = "musichal-encoder";
/// Sidecar version this build reads.
pub const SIDECAR_VERSION: u32 = 1;
/// Prefix of an ONNX encoder's id.
pub const ONNX_ID_PREFIX: &str = "onnx:";
/// Longest model window or context accepted, in seconds of audio.
const MAX_CONTEXT_S: usize = 30;
/// Widest feature row accepted.
const MAX_DIM: usize = 8192;

/// How the model lays out its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputLayout {
    /// `[1, frames, dim]` or `[frames, dim]`.
    #[default]
    FramesDim,
    /// `[1, dim, frames]` or `[dim, frames]`.
    DimFrames,
}

/// The JSON sidecar of an ONNX encoder.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OnnxEncoderSidecar {
    /// Must be [`SIDECAR_FORMAT`].
    pub format: String,
    /// Must be [`SIDECAR_VERSION`].
    pub version: u32,
    /// Input sample rate, Hz.
    pub sample_rate: u32,
    /// Input samples per output frame.
    pub hop: usize,
    /// Input samples one output frame reads (its receptive field).
    pub window: usize,
    /// Output feature dimension.
    pub dim: usize,
    /// Extra frames of past audio given on every call.
    #[serde(default)]
    pub context_frames: usize,
    /// Name of the audio input.
    pub input: String,
    /// Name of the feature output.
    pub output: String,
    /// Output layout.
    #[serde(default)]
    pub output_layout: OutputLayout,
    /// STFT size for HPSS at `sample_rate` (default: the power of two nearest to 85 ms).
    #[serde(default)]
    pub n_fft: Option<usize>,
    /// Free text: where the model comes from.
    #[serde(default)]
    pub description: String,
}

impl OnnxEncoderSidecar {
    /// The STFT size HPSS uses for this encoder.
    pub fn stft_size(&self) -> usize {
        self.n_fft.unwrap_or_else(|| {
            let target = 0.085 * self.sample_rate as f64;
            let n = 2f64.powf(target.log2().round()) as usize;
            n.max(2 * self.hop).next_power_of_two().min(MAX_N_FFT)
        })
    }

    /// Samples of context handed to the model before a segment's new samples.
    pub fn context_samples(&self) -> usize {
        self.window - self.hop + self.context_frames * self.hop
    }

    fn validate(&self) -> std::result::Result<(), String> {
        if self.format != SIDECAR_FORMAT {
            return Err(format!(
                "\"format\" is {:?}, expected {SIDECAR_FORMAT:?}",
                self.format
            ));
        }
        if self.version != SIDECAR_VERSION {
            return Err(format!(
                "version {} is not supported (this build reads version {SIDECAR_VERSION})",
                self.version
            ));
        }
        super::pipeline::validate_rate(self.sample_rate).map_err(|e| e.to_string())?;
        let max = MAX_CONTEXT_S * self.sample_rate as usize;
        if self.hop == 0 || self.window < self.hop || self.window > max {
            return Err(format!(
                "hop {} and window {} must satisfy 1 <= hop <= window <= {max}",
                self.hop, self.window
            ));
        }
        if self.context_samples() > max {
            return Err(format!(
                "context of {} frames is longer than {MAX_CONTEXT_S} s",
                self.context_frames
            ));
        }
        if self.dim == 0 || self.dim > MAX_DIM {
            return Err(format!("dim {} must be in 1..={MAX_DIM}", self.dim));
        }
        let n_fft = self.stft_size();
        if !n_fft.is_multiple_of(2) || !(16..=MAX_N_FFT).contains(&n_fft) || self.hop > n_fft {
            return Err(format!(
                "n_fft {n_fft} must be even, in 16..={MAX_N_FFT} and at least the hop {}",
                self.hop
            ));
        }
        Ok(())
    }
}

/// Path of the sidecar of `model`: `model.onnx` -> `model.onnx.json`.
pub fn sidecar_path(model: &Path) -> PathBuf {
    let mut name = model.as_os_str().to_owned();
    name.push(".json");
    PathBuf::from(name)
}

/// An ONNX model of the waveform as an [`Encoder`].
pub struct OnnxEncoder {
    id: String,
    path: PathBuf,
    sidecar: OnnxEncoderSidecar,
    n_fft: usize,
    session: Session,
}

impl std::fmt::Debug for OnnxEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxEncoder")
            .field("id", &self.id)
            .field("sidecar", &self.sidecar)
            .finish()
    }
}

impl OnnxEncoder {
    /// Allocating, loads ONNX Runtime on first use: worker thread or CLI only. Reads the model
    /// and its sidecar, and checks the model against the sidecar (names, frame rule, dim) by
    /// running it on silence. The id is `onnx:` and the canonical path.
    pub fn load(path: &Path) -> Result<Self> {
        let model_err = |reason: String| PerceptionError::EncoderModel {
            path: path.to_owned(),
            reason,
        };
        let canonical = std::fs::canonicalize(path)
            .map_err(|e| model_err(format!("cannot open the model: {e}")))?;
        let side_path = sidecar_path(path);
        let side_err = |reason: String| PerceptionError::EncoderSidecar {
            path: side_path.clone(),
            reason,
        };
        let text = std::fs::read_to_string(&side_path).map_err(|e| {
            side_err(format!(
                "cannot read it ({e}); an ONNX encoder needs its JSON sidecar beside the model"
            ))
        })?;
        // serde would read a list as the fields in order and complain about its first item's
        // type; say what is wrong instead.
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| side_err(e.to_string()))?;
        if !json.is_object() {
            let kind = match json {
                serde_json::Value::Array(_) => "a list",
                serde_json::Value::String(_) => "a string",
                serde_json::Value::Number(_) => "a number",
                serde_json::Value::Bool(_) => "a boolean",
                _ => "null",
            };
            return Err(side_err(format!(
                "it holds {kind}, not a JSON object; write it as an object of the sidecar's \
                 fields (format, version, sample_rate, hop, window, dim, input, output)"
            )));
        }
        let sidecar: OnnxEncoderSidecar =
            serde_json::from_str(&text).map_err(|e| side_err(e.to_string()))?;
        sidecar.validate().map_err(side_err)?;
        let bytes =
            std::fs::read(&canonical).map_err(|e| model_err(format!("cannot read it: {e}")))?;
        let env = crate::onnx::environment().map_err(|e| model_err(e.to_string()))?;
        // One thread, as the other models: the worker must not take the host's cores.
        let session = Session::builder(env)
            .and_then(|b| Ok(b.with_intra_threads(1)?))
            .and_then(|mut b| b.commit_from_memory(&bytes))
            .map_err(|e| model_err(format!("not a loadable ONNX model: {e}")))?;
        let names = |v: Vec<String>| v.join(", ");
        let inputs: Vec<String> = session
            .inputs()
            .iter()
            .map(|i| i.name().to_string())
            .collect();
        if !inputs.contains(&sidecar.input) {
            return Err(side_err(format!(
                "input {:?} is not among the model's inputs ({})",
                sidecar.input,
                names(inputs)
            )));
        }
        let outputs: Vec<String> = session
            .outputs()
            .iter()
            .map(|o| o.name().to_string())
            .collect();
        if !outputs.contains(&sidecar.output) {
            return Err(side_err(format!(
                "output {:?} is not among the model's outputs ({})",
                sidecar.output,
                names(outputs)
            )));
        }
        let mut encoder = Self {
            id: format!("{ONNX_ID_PREFIX}{}", canonical.display()),
            path: canonical,
            n_fft: sidecar.stft_size(),
            sidecar,
            session,
        };
        // The frame rule, checked on silence: n new hops must give exactly n more rows.
        for n in [1usize, 3] {
            let audio = vec![0.0f32; encoder.sidecar.context_samples() + n * encoder.sidecar.hop];
            let (frames, dim) = encoder.run(&audio, |_, _| ())?;
            let expected = encoder.sidecar.context_frames + n;
            if frames != expected || dim != encoder.sidecar.dim {
                return Err(side_err(format!(
                    "on {} samples the model gave {frames} frames of {dim} values; the sidecar \
                     (window {}, hop {}, context_frames {}, dim {}) means {expected} frames of {}",
                    audio.len(),
                    encoder.sidecar.window,
                    encoder.sidecar.hop,
                    encoder.sidecar.context_frames,
                    encoder.sidecar.dim,
                    encoder.sidecar.dim
                )));
            }
        }
        Ok(encoder)
    }

    /// The sidecar.
    pub fn sidecar(&self) -> &OnnxEncoderSidecar {
        &self.sidecar
    }

    /// Canonical path of the model.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs the model on `audio`; calls `row(frame, values)` for every output row (in the
    /// declared layout) and returns `(frames, dim)`.
    fn run(&mut self, audio: &[f32], mut row: impl FnMut(usize, &[f32])) -> Result<(usize, usize)> {
        let path = self.path.clone();
        let err = |reason: String| PerceptionError::EncoderModel {
            path: path.clone(),
            reason,
        };
        let view = ArrayView2::from_shape((1, audio.len()), audio)
            .map_err(|e| err(format!("input shape: {e}")))?;
        let tensor = TensorRef::from_array_view(view).map_err(|e| err(e.to_string()))?;
        let outputs = self
            .session
            .run(ort::inputs![self.sidecar.input.as_str() => tensor])
            .map_err(|e| err(format!("inference failed: {e}")))?;
        let out = outputs[self.sidecar.output.as_str()]
            .try_extract_array::<f32>()
            .map_err(|e| err(format!("output is not float32: {e}")))?;
        let shape = out.shape().to_vec();
        let (a, b) = match shape.as_slice() {
            [1, a, b] | [a, b] => (*a, *b),
            _ => {
                return Err(err(format!(
                    "output shape {shape:?} is not [1, _, _] or [_, _]"
                )))
            }
        };
        let (frames, dim) = match self.sidecar.output_layout {
            OutputLayout::FramesDim => (a, b),
            OutputLayout::DimFrames => (b, a),
        };
        // A view as `[a, b]` (no copy: ONNX Runtime's outputs are contiguous).
        let out = out
            .to_shape((a, b))
            .map_err(|e| err(format!("output shape {shape:?}: {e}")))?;
        let mut values = vec![0.0f32; dim];
        for f in 0..frames {
            for (d, v) in values.iter_mut().enumerate() {
                *v = match self.sidecar.output_layout {
                    OutputLayout::FramesDim => out[[f, d]],
                    OutputLayout::DimFrames => out[[d, f]],
                };
            }
            row(f, &values);
        }
        Ok((frames, dim))
    }
}

impl Encoder for OnnxEncoder {
    fn id(&self) -> &str {
        &self.id
    }
    fn sample_rate(&self) -> u32 {
        self.sidecar.sample_rate
    }
    fn n_fft(&self) -> usize {
        self.n_fft
    }
    fn hop(&self) -> usize {
        self.sidecar.hop
    }
    fn dim(&self) -> usize {
        self.sidecar.dim
    }
    fn audio_context(&self) -> Option<usize> {
        Some(self.sidecar.context_samples())
    }
    fn frames(
        &mut self,
        _stream: Stream,
        input: &EncoderInput<'_>,
        out: &mut Vec<f32>,
    ) -> Result<usize> {
        let n = input.n_frames;
        let expected = self.sidecar.context_samples() + n * self.sidecar.hop;
        if input.audio.len() != expected {
            return Err(PerceptionError::ShapeMismatch {
                expected,
                actual: input.audio.len(),
            });
        }
        if n == 0 {
            return Ok(0);
        }
        let first = self.sidecar.context_frames;
        let start = out.len();
        let mut non_finite = false;
        let (frames, dim) = self.run(input.audio, |f, values| {
            if f >= first {
                non_finite |= values.iter().any(|v| !v.is_finite());
                out.extend_from_slice(values);
            }
        })?;
        if frames != first + n || dim != self.sidecar.dim || out.len() != start + n * dim {
            out.truncate(start);
            return Err(PerceptionError::EncoderModel {
                path: self.path.clone(),
                reason: format!(
                    "gave {frames} frames of {dim} values for {} samples, expected {} of {}",
                    input.audio.len(),
                    first + n,
                    self.sidecar.dim
                ),
            });
        }
        if non_finite {
            out.truncate(start);
            return Err(PerceptionError::EncoderModel {
                path: self.path.clone(),
                reason: "the model output NaN or infinity".into(),
            });
        }
        Ok(n)
    }
    fn reset(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sidecar() -> OnnxEncoderSidecar {
        OnnxEncoderSidecar {
            format: SIDECAR_FORMAT.into(),
            version: SIDECAR_VERSION,
            sample_rate: 24_000,
            hop: 320,
            window: 400,
            dim: 768,
            context_frames: 0,
            input: "audio".into(),
            output: "features".into(),
            output_layout: OutputLayout::FramesDim,
            n_fft: None,
            description: String::new(),
        }
    }

    #[test]
    fn default_stft_size_is_the_power_of_two_nearest_85_ms() {
        assert_eq!(sidecar().stft_size(), 2048, "2040 samples at 24 kHz");
        let s16 = OnnxEncoderSidecar {
            sample_rate: 16_000,
            hop: 160,
            ..sidecar()
        };
        assert_eq!(s16.stft_size(), 1024, "1360 samples at 16 kHz");
        assert_eq!(sidecar().context_samples(), 80);
        let ctx = OnnxEncoderSidecar {
            context_frames: 10,
            ..sidecar()
        };
        assert_eq!(ctx.context_samples(), 80 + 3200);
    }

    #[test]
    fn sidecar_validation_names_the_bad_field() {
        let bad = |s: OnnxEncoderSidecar| s.validate().unwrap_err();
        assert!(bad(OnnxEncoderSidecar {
            format: "x".into(),
            ..sidecar()
        })
        .contains("format"));
        assert!(bad(OnnxEncoderSidecar {
            version: 2,
            ..sidecar()
        })
        .contains("version 2"));
        assert!(bad(OnnxEncoderSidecar {
            window: 100,
            ..sidecar()
        })
        .contains("window"));
        assert!(bad(OnnxEncoderSidecar {
            dim: 0,
            ..sidecar()
        })
        .contains("dim"));
        assert!(bad(OnnxEncoderSidecar {
            sample_rate: 1000,
            ..sidecar()
        })
        .contains("sample rate"));
        assert!(sidecar().validate().is_ok());
        assert_eq!(
            sidecar_path(Path::new("/m/enc.onnx")),
            PathBuf::from("/m/enc.onnx.json")
        );
    }
}
