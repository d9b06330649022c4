//! The one error type of the perception library.
//!
//! Every message is one sentence that stands alone: a variant that wraps another error puts
//! that error's text in its own message and does not also return it as `source()` (anyhow's
//! `{:#}` prints the whole chain, which would say it twice). Errors about a file name the file;
//! callers do not add it again.

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
    #[error(
        "{samples} sample{} long; MusicHal needs at least {min_samples} samples ({:.2} s) of audio",
        if *samples == 1 { "" } else { "s" },
        *min_samples as f64 / f64::from((*rate_hz).max(1))
    )]
    TooShort {
        samples: usize,
        min_samples: usize,
        rate_hz: u32,
    },
    /// Vectors given to the quantiser contain NaN or infinity (audio is sanitised instead).
    #[error("non-finite value at index {index}")]
    NonFinite { index: usize },
    /// Fewer vectors than clusters.
    #[error("cannot fit K = {k} clusters on {n_samples} vectors")]
    TooFewSamples { k: usize, n_samples: usize },
    /// The container or codec is not one we decode (WAV, FLAC, MP3, OGG/Vorbis).
    #[error("{}: not a WAV/FLAC/MP3/OGG file we can decode ({reason})", path.display())]
    UnsupportedFormat { path: PathBuf, reason: String },
    /// The file could be probed but its audio could not be decoded.
    #[error(
        "{}: the audio in it is damaged and cannot be decoded ({reason})",
        path.display()
    )]
    Decode { path: PathBuf, reason: String },
    /// An audio file path names a directory.
    #[error("{} is a directory, not an audio file; pass the audio files in it", path.display())]
    IsDirectory { path: PathBuf },
    /// An audio file of 0 bytes.
    #[error("{} is empty (0 bytes), not an audio file", path.display())]
    EmptyFile { path: PathBuf },
    /// A valid audio file holding no samples.
    #[error("{} holds no audio samples", path.display())]
    NoSamples { path: PathBuf },
    /// An audio file at a sample rate perception does not take.
    #[error(
        "{} is sampled at {rate_hz} Hz; MusicHal reads {min_hz} to {max_hz} Hz, so resample it \
         first",
        path.display()
    )]
    FileSampleRate {
        path: PathBuf,
        rate_hz: u32,
        min_hz: u32,
        max_hz: u32,
    },
    /// The resampler refused a rate pair or a buffer.
    #[error("resampler: {reason}")]
    Resampler { reason: String },
    /// Reading or writing a file failed; `op` is what was being done (`"read"`, `"write"`).
    #[error("{}", io_message(op, path, error))]
    Io {
        op: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    /// An encoder id this build does not have.
    #[error("unknown encoder {id:?} (available: spectral, basicpitch, onnx:<model.onnx>)")]
    UnknownEncoder { id: String },
    /// An `onnx:<path>` encoder's model is missing, not loadable, or misbehaves (ONNX Runtime
    /// missing included); `reason` says which.
    #[error("ONNX encoder {path}: {reason}")]
    EncoderModel { path: PathBuf, reason: String },
    /// An ONNX encoder's JSON sidecar is missing, malformed, or disagrees with the model.
    #[error("ONNX encoder sidecar {path}: {reason}")]
    EncoderSidecar { path: PathBuf, reason: String },
    /// A saved vocabulary could not be (de)serialised.
    #[error("vocabulary (de)serialisation: {0}")]
    Serde(serde_json::Error),
}

impl From<serde_json::Error> for PerceptionError {
    fn from(e: serde_json::Error) -> Self {
        Self::Serde(e)
    }
}

/// One sentence for a failed file operation: a missing file or a directory said plainly, any
/// other failure with the system's reason.
pub fn io_message(op: &str, path: &std::path::Path, source: &std::io::Error) -> String {
    let path = path.display();
    match source.kind() {
        std::io::ErrorKind::NotFound if op == "read" => {
            format!("{path} does not exist; check the path")
        }
        std::io::ErrorKind::IsADirectory => format!("{path} is a directory, not a file"),
        _ => format!("cannot {op} {path}: {source}"),
    }
}

/// Short alias used throughout the module.
pub type Result<T> = std::result::Result<T, PerceptionError>;
