//! Audio file decoding (symphonia: WAV, FLAC, MP3, OGG/Vorbis) to mono f32.

use std::fs::File;
use std::path::Path;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use super::error::{PerceptionError, Result};
use super::pipeline::validate_rate;
use crate::limits::{MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ};

/// Most channels downmixed (7.1.4 = 12; more is rejected as unsupported).
pub const MAX_CHANNELS: usize = 32;
/// Longest file decoded, in seconds (guards memory: 2 h at 192 kHz is 5.5 GB of f32 otherwise).
pub const MAX_DURATION_S: u64 = 4 * 3600;

/// A decoded file, downmixed to mono.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedAudio {
    /// Mono samples (mean of channels), non-finite values replaced by 0.
    pub samples: Vec<f32>,
    /// Sample rate of the file in Hz.
    pub sample_rate_hz: u32,
    /// Channels in the file (before downmix).
    pub channels: usize,
    /// Samples that were NaN or infinite and were replaced by 0.
    pub non_finite_replaced: usize,
}

fn unsupported(path: &Path, reason: impl ToString) -> PerceptionError {
    PerceptionError::UnsupportedFormat {
        path: path.into(),
        reason: reason.to_string(),
    }
}

/// Decodes `path` to mono f32 at the file's rate.
///
/// Errors, each naming the file: `Io` (missing or unreadable file), `IsDirectory`,
/// `EmptyFile` (0 bytes), `UnsupportedFormat` (not WAV/FLAC/MP3/OGG-Vorbis, no audio track,
/// too many channels), `Decode` (corrupt stream), `FileSampleRate`, `NoSamples`. Corrupt
/// packets inside an otherwise good stream are skipped, as players do. A file shorter than one
/// analysis frame decodes fine; `Perception::encode_file` then returns `TooShort`.
pub fn decode_file(path: &Path) -> Result<DecodedAudio> {
    let io = |source| PerceptionError::Io {
        op: "read",
        path: path.into(),
        error: source,
    };
    // A directory opens fine on Unix and only fails as "no format reader": say what it is.
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return Err(PerceptionError::IsDirectory { path: path.into() });
    }
    if meta.len() == 0 {
        return Err(PerceptionError::EmptyFile { path: path.into() });
    }
    let file = File::open(path).map_err(io)?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| match e {
            // symphonia's words for these are "unsupported feature: core (probe): no suitable
            // format reader found" and "end of stream": say what they mean for a user's file.
            SymError::Unsupported(_) => {
                unsupported(path, "no WAV, FLAC, MP3 or OGG header at its start")
            }
            SymError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                unsupported(path, "it ends before its header does")
            }
            other => unsupported(path, other),
        })?;
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| unsupported(path, "no audio track"))?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| unsupported(path, "track has no audio codec parameters"))?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|e| unsupported(path, e))?;
    let mut mono = Vec::new();
    let mut interleaved: Vec<f32> = Vec::new();
    let mut rate_hz = 0u32;
    let mut channels = 0usize;
    let mut non_finite = 0usize;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => {
                return Err(PerceptionError::Decode {
                    path: path.into(),
                    reason: e.to_string(),
                })
            }
        };
        if packet.track_id != track_id {
            continue;
        }
        let buf = match decoder.decode(&packet) {
            Ok(b) => b,
            Err(SymError::DecodeError(_)) => continue,
            Err(e) => {
                return Err(PerceptionError::Decode {
                    path: path.into(),
                    reason: e.to_string(),
                })
            }
        };
        let spec = buf.spec();
        let ch = spec.channels().count();
        if ch == 0 || ch > MAX_CHANNELS {
            return Err(unsupported(
                path,
                format!("{ch} channels (max {MAX_CHANNELS})"),
            ));
        }
        if rate_hz == 0 {
            rate_hz = spec.rate();
            if validate_rate(rate_hz).is_err() {
                return Err(PerceptionError::FileSampleRate {
                    path: path.into(),
                    rate_hz,
                    min_hz: MIN_SAMPLE_RATE_HZ,
                    max_hz: MAX_SAMPLE_RATE_HZ,
                });
            }
            channels = ch;
        }
        interleaved.resize(buf.samples_interleaved(), 0.0);
        buf.copy_to_slice_interleaved(&mut interleaved);
        let inv = 1.0 / ch as f32;
        for frame in interleaved.chunks_exact(ch) {
            let mut s = 0.0f32;
            for &x in frame {
                if x.is_finite() {
                    s += x;
                } else {
                    non_finite += 1;
                }
            }
            mono.push(s * inv);
        }
        if mono.len() as u64 > MAX_DURATION_S * rate_hz as u64 {
            return Err(unsupported(path, format!("longer than {MAX_DURATION_S} s")));
        }
    }
    if mono.is_empty() {
        return Err(PerceptionError::NoSamples { path: path.into() });
    }
    Ok(DecodedAudio {
        samples: mono,
        sample_rate_hz: rate_hz,
        channels,
        non_finite_replaced: non_finite,
    })
}
