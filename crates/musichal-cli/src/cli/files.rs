//! The command line's errors about files: each one sentence that names the file once and says
//! what to do. Library errors that already name their file (`decode_file`, `CorpusModel::load`,
//! `write_npy_f32`) are passed on as they are; nothing here wraps them with the path again.

use musichal::perception::PerceptionError;
use std::path::{Path, PathBuf};

/// A file the command line cannot use.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{} does not exist; check the path", path.display())]
    Missing { path: PathBuf },
    #[error("{} is a directory, not {what}", path.display())]
    Directory { path: PathBuf, what: &'static str },
    #[error("{} is empty (0 bytes), not {what}", path.display())]
    Empty { path: PathBuf, what: &'static str },
    /// `render` reads WAV only (it keeps the channels; `decode_file` mixes to mono).
    #[error(
        "{}: not a WAV file we can read ({reason}); render takes WAV, so convert FLAC/MP3/OGG \
         first",
        path.display()
    )]
    NotWav { path: PathBuf, reason: String },
    #[error("{}: not a CLAP plugin we can load; pass the built MusicHal.clap", path.display())]
    NotPlugin { path: PathBuf },
    #[error("cannot {op} {}: {error}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        error: std::io::Error,
    },
    /// An EQ model (`eq --model`) that exists but cannot be used.
    #[error("{}: {error}", path.display())]
    EqModel {
        path: PathBuf,
        error: musichal::eq_morph::EqMorphError,
    },
    /// Audio that was read but cannot be analysed (too short, ...); the perception error does
    /// not name the file.
    #[error("{}: {error}", path.display())]
    Audio {
        path: PathBuf,
        error: PerceptionError,
    },
}

/// Checks that `path` is a non-empty file before it is opened, so a missing file, a directory
/// or an empty file is said plainly (`what`: "an audio file", "a corpus file (.mhc)", ...).
pub fn check_input(path: &Path, what: &'static str) -> Result<(), FileError> {
    let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => FileError::Missing { path: path.into() },
        _ => FileError::Io {
            op: "read",
            path: path.into(),
            error: source,
        },
    })?;
    if meta.is_dir() {
        return Err(FileError::Directory {
            path: path.into(),
            what,
        });
    }
    if meta.len() == 0 {
        return Err(FileError::Empty {
            path: path.into(),
            what,
        });
    }
    Ok(())
}

/// A `hound` error while reading `path`: I/O failures as such, everything else (no RIFF
/// header, a file cut short, an encoding hound does not read) as "not a WAV file".
pub fn wav_read_error(path: &Path, e: hound::Error) -> FileError {
    match e {
        // hound reports a file cut short as `Other` ("Failed to read enough bytes.").
        hound::Error::IoError(source)
            if matches!(
                source.kind(),
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::Other
            ) =>
        {
            FileError::NotWav {
                path: path.into(),
                reason: "it ends before its header or its data does".into(),
            }
        }
        hound::Error::IoError(source) => FileError::Io {
            op: "read",
            path: path.into(),
            error: source,
        },
        other => FileError::NotWav {
            path: path.into(),
            reason: other.to_string(),
        },
    }
}

/// A `hound` error while writing `path`.
pub fn wav_write_error(path: &Path, op: &'static str, e: hound::Error) -> FileError {
    let source = match e {
        hound::Error::IoError(source) => source,
        other => std::io::Error::other(other.to_string()),
    };
    FileError::Io {
        op,
        path: path.into(),
        error: source,
    }
}

/// An I/O error while writing `path`.
pub fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> FileError + '_ {
    move |source| FileError::Io {
        op: "write",
        path: path.into(),
        error: source,
    }
}

/// Sample format of a WAV file the command line writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WavFormat {
    /// 16-bit integer PCM, samples clamped to [-1, 1] (`musichal synth`).
    Pcm16,
    /// 32-bit float, samples as they are (`musichal render`).
    Float32,
}

/// Writes `channels` (equal lengths, interleaved in the file) at `rate` Hz: the command line's
/// one WAV writer. Errors name the file and what failed.
pub fn write_wav(
    path: &Path,
    channels: &[&[f32]],
    rate: u32,
    format: WavFormat,
) -> Result<(), FileError> {
    let (bits_per_sample, sample_format) = match format {
        WavFormat::Pcm16 => (16, hound::SampleFormat::Int),
        WavFormat::Float32 => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample,
        sample_format,
    };
    let mut w =
        hound::WavWriter::create(path, spec).map_err(|e| wav_write_error(path, "create", e))?;
    let frames = channels.first().map_or(0, |c| c.len());
    for i in 0..frames {
        for ch in channels {
            let x = ch[i];
            let written = match format {
                WavFormat::Pcm16 => w.write_sample((x.clamp(-1.0, 1.0) * 32767.0).round() as i16),
                WavFormat::Float32 => w.write_sample(x),
            };
            written.map_err(|e| wav_write_error(path, "write", e))?;
        }
    }
    w.finalize().map_err(|e| wav_write_error(path, "write", e))
}
