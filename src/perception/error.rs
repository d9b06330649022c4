//! The one error type of the perception library.

use std::path::PathBuf;

/// Everything that can go wrong in perception: decoding, configuration, shapes, fitting.
///
/// Construction/configuration errors (`InvalidConfig`, `UnsupportedSampleRate`,
/// `UnsupportedK`) are kept apart from data errors (`Empty`, `TooShort`, `NonFinite`,
/// `ShapeMismatch`) so callers can tell a bad setting from a bad file.
#[derive(Debug, thiserror::Error)]
pub enum PerceptionError {
    /// A configuration value is out of range; `reason` says which and why.
    #[error("invalid perception config: {reason}")]
    InvalidConfig { reason: String },
    /// The sample rate is outside `MIN_SAMPLE_RATE_HZ..=MAX_SAMPLE_RATE_HZ`.
    #[error("unsupported sample rate {rate_hz} Hz (supported {min_hz}..={max_hz} Hz)")]
    UnsupportedSampleRate {
        rate_hz: u32,
        min_hz: u32,
        max_hz: u32,
    },
    /// The vocabulary size is not one of `SUPPORTED_K`.
    #[error("unsupported vocabulary size K = {k} (supported: 16, 64, 256)")]
    UnsupportedK { k: usize },
    /// Two arrays that must agree in size do not.
    #[error("shape mismatch: expected {expected}, got {actual}")]
    ShapeMismatch { expected: usize, actual: usize },
    /// The input holds no audio samples / no vectors.
    #[error("empty input: {what}")]
    Empty { what: &'static str },
    /// The input is shorter than one analysis frame.
    #[error("input too short: {samples} samples, need at least {min_samples}")]
    TooShort { samples: usize, min_samples: usize },
    /// Vectors given to the quantiser contain NaN or infinity (audio is sanitised instead).
    #[error("non-finite value at index {index}")]
    NonFinite { index: usize },
    /// Fewer vectors than clusters.
    #[error("cannot fit K = {k} clusters on {n_samples} vectors")]
    TooFewSamples { k: usize, n_samples: usize },
    /// The container or codec is not one we decode (WAV, FLAC, MP3, OGG/Vorbis).
    #[error("unsupported audio file {path}: {reason}")]
    UnsupportedFormat { path: PathBuf, reason: String },
    /// The file could be probed but its audio could not be decoded.
    #[error("cannot decode {path}: {reason}")]
    Decode { path: PathBuf, reason: String },
    /// The resampler refused a rate pair or a buffer.
    #[error("resampler: {reason}")]
    Resampler { reason: String },
    /// Reading or writing a file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An `onnx:<path>` encoder's model is missing, not loadable, or misbehaves (ONNX Runtime
    /// missing included); `reason` says which.
    #[error("ONNX encoder {path}: {reason}")]
    EncoderModel { path: PathBuf, reason: String },
    /// An ONNX encoder's JSON sidecar is missing, malformed, or disagrees with the model.
    #[error("ONNX encoder sidecar {path}: {reason}")]
    EncoderSidecar { path: PathBuf, reason: String },
    /// A saved vocabulary could not be (de)serialised.
    #[error("vocabulary (de)serialisation: {0}")]
    Serde(#[from] serde_json::Error),
}

/// Short alias used throughout the module.
pub type Result<T> = std::result::Result<T, PerceptionError>;
