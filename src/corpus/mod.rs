//! The corpus model: what the trainer learns from a set of recordings and the plugin answers
//! with, and its file format `.mhc`.
//!
//! Plain library, no nice-plug import. The trainer fills a [`CorpusModel`] (per-frame records
//! with both streams' gesture tokens and the MIDI payload, the quantiser's centroids, the
//! oracle) and calls [`CorpusModel::save`]; the worker calls [`CorpusModel::load`] and
//! [`CorpusModel::oracle`]. Loading validates everything and returns a typed [`CorpusError`];
//! in particular a model whose frames lack tokens is rejected, never defaulted.
//!
//! # File layout (`.mhc`, little endian)
//!
//! | bytes | content |
//! |---|---|
//! | 0..8 | magic `b"MHCORPUS"` |
//! | 8..12 | format version `u32` ([`FORMAT_VERSION`]) |
//! | 12..20 | body length in bytes `u64` |
//! | 20..24 | CRC-32 (IEEE) of the body `u32` |
//! | 24.. | body: the [`CorpusModel`], postcard-encoded |
//!
//! # Versions
//!
//! - 1: frames, centroids and oracle.
//! - 2: also each source recording's note events and where they came from
//!   ([`RecordingNotes`]). A version 1 file gives [`CorpusError::OldFormat`], which says to
//!   retrain: its frames hold pitch sets, not notes, and cannot be turned into notes.
//! - 3 (current): also the musical events ([`CorpusEvent`], onset to onset) with their labels,
//!   and the oracle over them that the answer navigates. A version 2 file gives
//!   [`CorpusError::BeforeEvents`], which says to retrain.

mod consonance;
mod events;
mod file;
mod report;

pub use consonance::{consonance, interval_class_roughness, NUM_PARTIALS, REFERENCE_HZ};
pub use events::{
    event_label, filed_notes, label_events, note_frame, segment_events, CorpusEvent, EventStart,
    MAX_EVENT_S,
};
pub use file::{HEADER_LEN, MAGIC};
pub use report::{CorpusReport, RecordingReport, StreamStats};

use serde::{Deserialize, Serialize};

use crate::notes::{NoteError, NoteEvent, NoteSource};
use crate::oracle::{DriveStream, Oracle, OracleData, OracleError, OracleKind};
use crate::perception::{EncoderConfig, SphericalKMeans, Vocabulary};

/// Current (and highest readable) format version.
pub const FORMAT_VERSION: u32 = 3;
/// The first format version with notes; older files must be retrained.
pub const FIRST_NOTES_VERSION: u32 = 2;
/// The first format version with musical events and their oracle.
pub const FIRST_EVENTS_VERSION: u32 = 3;
/// Vocabulary sizes (number of gesture tokens per stream) the quantiser supports.
pub const SUPPORTED_VOCAB_SIZES: [u16; 3] = [16, 64, 256];
/// Highest MIDI note number.
pub const MAX_MIDI_NOTE: u8 = 127;

/// One of the two gesture-token streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TokenStream {
    /// Harmonic part of the HPSS split.
    Harmonic,
    /// Percussive part of the HPSS split.
    Percussive,
}

/// One analysis frame of the corpus: its two tokens and the payload the plugin plays back.
///
/// Written by the trainer; read by the worker when the oracle lands on the frame's state
/// (state `i` is frame `i - 1`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameRecord {
    /// Onset time of the frame within its source file, seconds.
    pub time_s: f32,
    /// Frame duration (hop), seconds.
    pub duration_s: f32,
    /// Harmonic-stream gesture token. Every frame must carry one: `None` (a partial or
    /// pre-token file) is rejected at load with [`CorpusError::MissingTokens`].
    pub harmonic_token: Option<u16>,
    /// Percussive-stream gesture token; same rule.
    pub percussive_token: Option<u16>,
    /// Loudness, dB (finite; the trainer floors silence, e.g. at -120 dB).
    pub loudness_db: f32,
    /// 12-bin chroma (C first), non-negative.
    pub chroma: [f32; 12],
    /// MIDI notes sounding in the frame (may be empty).
    pub pitches: crate::perception::FramePitches,
    /// True when a note/event starts in this frame.
    pub onset: bool,
    /// Consonance of `chroma` in 0..=1 ([`consonance`]).
    pub consonance: f32,
    /// Index into [`CorpusModel::source_files`] of the recording this frame comes from.
    pub source_idx: u16,
}

impl FrameRecord {
    /// Both tokens, or `None` when one is missing (never the case in a validated model).
    pub fn tokens(&self) -> Option<(u16, u16)> {
        Some((self.harmonic_token?, self.percussive_token?))
    }
}

/// The note events of one source recording and where they came from.
///
/// Notes are in seconds from the recording's first sample, sorted by onset then pitch
/// ([`crate::notes::sort_notes`]). The frames of the same recording (`source_idx`) carry the
/// tokens; the notes carry what the plugin plays.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordingNotes {
    /// Basic Pitch, the DSP tracker, or given with the recording (its MIDI file).
    pub source: NoteSource,
    /// Length of the recording, seconds.
    pub duration_s: f64,
    /// The notes.
    pub notes: Vec<NoteEvent>,
}

/// The whole corpus model (the body of a `.mhc` file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CorpusModel {
    /// Format version the model was written with; equals the file header's.
    pub format_version: u32,
    /// Encoder id ([`crate::perception::SPECTRAL_ID`], `"onnx:<name>"`): the live path must use
    /// the same one.
    pub encoder_id: String,
    /// Encoder configuration, JSON text ([`CorpusModel::encoder_config`] reads it).
    pub encoder_config: String,
    /// Analysis sample rate, Hz (> 0).
    pub sample_rate_hz: u32,
    /// Segment length, seconds (0.35 by default).
    pub segment_len_s: f32,
    /// Analysis frame rate, frames per second (about 75).
    pub frames_per_s: f32,
    /// Tokens per stream: one of [`SUPPORTED_VOCAB_SIZES`].
    pub vocab_size: u16,
    /// Dimension of the frame embeddings (and of each centroid).
    pub dim: u32,
    /// Harmonic-stream centroids, row-major `vocab_size * dim`, L2-normalised rows.
    pub centroids_harmonic: Vec<f32>,
    /// Percussive-stream centroids, row-major `vocab_size * dim`.
    pub centroids_percussive: Vec<f32>,
    /// Every analysed frame, in corpus order.
    pub frames: Vec<FrameRecord>,
    /// The oracle over the frames (one state per frame).
    pub oracle: OracleData,
    /// The musical events, in corpus order, covering every frame once (format version 3).
    pub events: Vec<CorpusEvent>,
    /// The oracle over the events (one state per event, their labels packed by the frame
    /// oracle's driving stream): what the answer's jumps navigate.
    pub event_oracle: OracleData,
    /// Source recordings, file names only (no directories: the model must not leak paths).
    pub source_files: Vec<String>,
    /// Notes of each source recording, in the order of `source_files` (format version 2).
    pub recordings: Vec<RecordingNotes>,
    /// Tool and version that wrote the model, e.g. `"musichal 0.1.0"`.
    pub created_by: String,
}

/// Everything that can be wrong with a corpus file or model.
///
/// Each message stands alone: a variant that holds another error puts its text in the message
/// and does not also return it as `source()` (anyhow's `{:#}` would print it twice).
/// [`CorpusModel::load`] names the file in every error ([`CorpusError::Io`] or
/// [`CorpusError::File`]), so callers do not add the path again.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// Reading or writing the file failed; `op` is what was being done (`"read"`, ...).
    #[error("{}", io_message(op, path, error))]
    Io {
        op: &'static str,
        path: String,
        error: std::io::Error,
    },
    /// What is wrong with the content of the file at `path` ([`CorpusModel::load`]);
    /// [`CorpusError::root`] gives `error` itself.
    #[error("{path}: {error}")]
    File {
        path: String,
        error: Box<CorpusError>,
    },
    /// The file does not start with `MHCORPUS`.
    #[error(
        "not a MusicHal corpus file: it starts with \"{}\", not \"MHCORPUS\"; pass a .mhc \
         written by `musichal train`",
        found.escape_ascii()
    )]
    BadMagic { found: Vec<u8> },
    /// A format version from before corpora kept notes.
    #[error("this corpus was written in format version {found}, before corpora kept notes; retrain it with `musichal train` (this build reads version {supported})")]
    OldFormat { found: u32, supported: u32 },
    /// A format version from before corpora kept musical events.
    #[error("this corpus was written in format version {found}, before corpora kept musical events; retrain it with `musichal train` (this build reads version {supported})")]
    BeforeEvents { found: u32, supported: u32 },
    /// A format version this build cannot read (newer, or 0).
    #[error("corpus format version {found} is not supported (this build reads version {supported}); retrain or update MusicHal")]
    UnsupportedVersion { found: u32, supported: u32 },
    /// The file is shorter than its header says.
    #[error("corpus file is truncated: {actual} bytes, expected {expected}")]
    Truncated { expected: u64, actual: u64 },
    /// Bytes after the body.
    #[error("corpus file has {extra} unexpected bytes after the body")]
    TrailingBytes { extra: u64 },
    /// The body's CRC-32 differs from the header's: the file is corrupted.
    #[error("corpus file is corrupted: checksum {actual:#010x}, header says {expected:#010x}")]
    ChecksumMismatch { expected: u32, actual: u32 },
    /// The body does not decode (or does not encode).
    #[error("corpus body does not decode: {0}")]
    Decode(postcard::Error),
    /// Header and body disagree on the version.
    #[error("corpus header says format version {header}, body says {body}")]
    VersionMismatch { header: u32, body: u32 },
    /// A frame without a token: the model predates tokens or was written partially.
    #[error("frame {frame} lacks its {stream:?} token: this corpus model's frames lack tokens and it must be retrained (`musichal train`)")]
    MissingTokens { frame: usize, stream: TokenStream },
    /// A token outside the vocabulary.
    #[error(
        "frame {frame}: {stream:?} token {token} is out of range for vocabulary size {vocab_size}"
    )]
    TokenOutOfRange {
        frame: usize,
        stream: TokenStream,
        token: u16,
        vocab_size: u16,
    },
    /// A vocabulary size the quantiser does not support.
    #[error("vocabulary size {vocab_size} is not one of 16, 64, 256")]
    UnsupportedVocabSize { vocab_size: u16 },
    /// Sample rate 0.
    #[error("sample rate must be > 0 Hz")]
    InvalidSampleRate,
    /// A global parameter that must be finite and positive.
    #[error("{field} must be finite and > 0, got {value}")]
    InvalidParameter { field: &'static str, value: f32 },
    /// Embedding dimension 0.
    #[error("embedding dimension must be > 0")]
    ZeroDimension,
    /// A centroid array whose length is not `vocab_size * dim`.
    #[error("{stream:?} centroids have {actual} values, expected vocab_size * dim = {expected}")]
    CentroidLength {
        stream: TokenStream,
        expected: usize,
        actual: usize,
    },
    /// NaN or infinity in a centroid.
    #[error("{stream:?} centroid {token} holds a non-finite value")]
    NonFiniteCentroid { stream: TokenStream, token: usize },
    /// NaN/infinity or an impossible value in a frame field.
    #[error("frame {frame}: field `{field}` is invalid ({value})")]
    InvalidFrameField {
        frame: usize,
        field: &'static str,
        value: f32,
    },
    /// A MIDI note above 127.
    #[error("frame {frame}: MIDI note {note} is out of range")]
    PitchOutOfRange { frame: usize, note: u8 },
    /// A frame pointing at a source file that is not listed.
    #[error("frame {frame}: source index {source_idx} but {num_sources} source files")]
    SourceOutOfRange {
        frame: usize,
        source_idx: u16,
        num_sources: usize,
    },
    /// Not one notes entry per source file.
    #[error("{recordings} note lists for {sources} source files; the corpus must be retrained")]
    RecordingCount { recordings: usize, sources: usize },
    /// A recording's note is invalid.
    #[error("notes of source file {recording}: {error}")]
    InvalidNote { recording: usize, error: NoteError },
    /// A recording length that is negative or not finite.
    #[error("source file {recording}: length {duration_s} s is not a finite time >= 0")]
    InvalidRecordingLength { recording: usize, duration_s: f64 },
    /// A source entry that is a path rather than a file name.
    #[error("source file entry {index} ({name:?}) is a path; store file names only")]
    SourceIsPath { index: usize, name: String },
    /// The encoder configuration is not JSON.
    #[error("encoder config is not valid JSON: {message}")]
    InvalidEncoderConfig { message: String },
    /// The encoder configuration is JSON but not an [`EncoderConfig`] this build reads.
    #[error("the corpus' encoder configuration is not one this build understands: {0}")]
    UnreadableEncoderConfig(serde_json::Error),
    /// The oracle's arrays are malformed.
    #[error("oracle: {0}")]
    Oracle(OracleError),
    /// The oracle does not have one state per frame.
    #[error("oracle has {oracle_frames} frames, the corpus {frames}")]
    OracleLength { oracle_frames: usize, frames: usize },
    /// The events do not cut the frames into consecutive runs of one recording each.
    #[error("event {event}: {why}; the corpus must be retrained")]
    InvalidEvent { event: usize, why: String },
    /// An event whose label is not the one its frames' tokens give.
    #[error("event {event}: {stream:?} label {label}, its frames' tokens give {expected}")]
    EventLabelMismatch {
        event: usize,
        stream: TokenStream,
        label: u16,
        expected: u16,
    },
    /// The event oracle does not have one state per event, or its symbols are not the events'
    /// labels.
    #[error("event oracle: {why}")]
    EventOracle { why: String },
    /// A factor oracle whose symbol for a frame is not that frame's token(s).
    #[error("oracle symbol of frame {frame} is {symbol}, the frame's tokens give {expected}")]
    OracleSymbolMismatch {
        frame: usize,
        symbol: u32,
        expected: u32,
    },
}

impl From<postcard::Error> for CorpusError {
    fn from(e: postcard::Error) -> Self {
        Self::Decode(e)
    }
}

impl From<OracleError> for CorpusError {
    fn from(e: OracleError) -> Self {
        Self::Oracle(e)
    }
}

impl CorpusError {
    /// The error itself, seen through the file name [`CorpusError::File`] adds.
    pub fn root(&self) -> &CorpusError {
        match self {
            Self::File { error, .. } => error.root(),
            other => other,
        }
    }
}

/// One sentence for a failed file operation on a corpus file.
fn io_message(op: &str, path: &str, source: &std::io::Error) -> String {
    match source.kind() {
        std::io::ErrorKind::NotFound if op == "read" => {
            format!("{path} does not exist; check the path")
        }
        std::io::ErrorKind::IsADirectory => {
            format!("{path} is a directory, not a corpus file (.mhc)")
        }
        _ => format!("cannot {op} {path}: {source}"),
    }
}

impl CorpusModel {
    /// A model with no frames and an empty factor oracle; the trainer fills it in.
    pub fn new(
        encoder_id: impl Into<String>,
        encoder_config: impl Into<String>,
        sample_rate_hz: u32,
        frames_per_s: f32,
        vocab_size: u16,
        dim: u32,
        drive: DriveStream,
    ) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            encoder_id: encoder_id.into(),
            encoder_config: encoder_config.into(),
            sample_rate_hz,
            segment_len_s: crate::limits::SEGMENT_MS as f32 / 1000.0,
            frames_per_s,
            vocab_size,
            dim,
            centroids_harmonic: Vec::new(),
            centroids_percussive: Vec::new(),
            frames: Vec::new(),
            oracle: Oracle::new_factor(drive).to_data(),
            events: Vec::new(),
            event_oracle: Oracle::new_factor(drive).to_data(),
            source_files: Vec::new(),
            recordings: Vec::new(),
            created_by: format!("musichal {}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// The two token streams; [`CorpusError::MissingTokens`] at the first frame lacking one.
    pub fn token_streams(&self) -> Result<(Vec<u16>, Vec<u16>), CorpusError> {
        let mut h = Vec::with_capacity(self.frames.len());
        let mut p = Vec::with_capacity(self.frames.len());
        for (frame, f) in self.frames.iter().enumerate() {
            h.push(f.harmonic_token.ok_or(CorpusError::MissingTokens {
                frame,
                stream: TokenStream::Harmonic,
            })?);
            p.push(f.percussive_token.ok_or(CorpusError::MissingTokens {
                frame,
                stream: TokenStream::Percussive,
            })?);
        }
        Ok((h, p))
    }

    /// (Re)builds the factor oracle over the frames' tokens, driven by `drive`, and the
    /// musical events ([`label_events`]: cut by the recordings' notes, labelled by the frames'
    /// tokens) with the oracle over them.
    pub fn build_factor_oracle(&mut self, drive: DriveStream) -> Result<(), CorpusError> {
        let (h, p) = self.token_streams()?;
        self.oracle = Oracle::from_tokens(drive, &h, &p).to_data();
        self.events = label_events(&self.frames, &self.recordings, self.frames_per_s);
        let (eh, ep): (Vec<u16>, Vec<u16>) = self
            .events
            .iter()
            .map(|e| (e.harmonic_label, e.percussive_label))
            .unzip();
        self.event_oracle = Oracle::from_tokens(drive, &eh, &ep).to_data();
        Ok(())
    }

    /// The navigable oracle over the events (validated, indices rebuilt).
    pub fn event_oracle(&self) -> Result<Oracle, CorpusError> {
        Ok(Oracle::from_data(&self.event_oracle)?)
    }

    /// The navigable oracle (validated, indices rebuilt). The worker calls this once per load.
    pub fn oracle(&self) -> Result<Oracle, CorpusError> {
        Ok(Oracle::from_data(&self.oracle)?)
    }

    /// The perception configuration the corpus was analysed with (its `encoder_config` JSON),
    /// from which the live engine builds the same perception ([`EncoderConfig::build`]).
    pub fn encoder_config(&self) -> Result<EncoderConfig, CorpusError> {
        serde_json::from_str(&self.encoder_config).map_err(CorpusError::UnreadableEncoderConfig)
    }

    /// The two per-stream vocabularies of the corpus (its centroids), ready to tokenise live
    /// frames.
    pub fn vocabulary(&self) -> Vocabulary {
        let stream = |centroids: &Vec<f32>| SphericalKMeans {
            k: self.vocab_size as usize,
            dim: self.dim as usize,
            centroids: centroids.clone(),
        };
        Vocabulary {
            encoder_id: self.encoder_id.clone(),
            harmonic: stream(&self.centroids_harmonic),
            percussive: stream(&self.centroids_percussive),
        }
    }

    /// Checks every invariant of the model (the same checks `load` runs).
    pub fn validate(&self) -> Result<(), CorpusError> {
        if !SUPPORTED_VOCAB_SIZES.contains(&self.vocab_size) {
            return Err(CorpusError::UnsupportedVocabSize {
                vocab_size: self.vocab_size,
            });
        }
        if self.sample_rate_hz == 0 {
            return Err(CorpusError::InvalidSampleRate);
        }
        for (field, value) in [
            ("segment_len_s", self.segment_len_s),
            ("frames_per_s", self.frames_per_s),
        ] {
            if !value.is_finite() || value <= 0.0 {
                return Err(CorpusError::InvalidParameter { field, value });
            }
        }
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&self.encoder_config) {
            return Err(CorpusError::InvalidEncoderConfig {
                message: e.to_string(),
            });
        }
        if self.dim == 0 {
            return Err(CorpusError::ZeroDimension);
        }
        let expected = self.vocab_size as usize * self.dim as usize;
        for (stream, c) in [
            (TokenStream::Harmonic, &self.centroids_harmonic),
            (TokenStream::Percussive, &self.centroids_percussive),
        ] {
            if c.len() != expected {
                return Err(CorpusError::CentroidLength {
                    stream,
                    expected,
                    actual: c.len(),
                });
            }
            if let Some(i) = c.iter().position(|x| !x.is_finite()) {
                return Err(CorpusError::NonFiniteCentroid {
                    stream,
                    token: i / self.dim as usize,
                });
            }
        }
        for (index, name) in self.source_files.iter().enumerate() {
            if name.contains('/') || name.contains('\\') {
                return Err(CorpusError::SourceIsPath {
                    index,
                    name: name.clone(),
                });
            }
        }
        if self.recordings.len() != self.source_files.len() {
            return Err(CorpusError::RecordingCount {
                recordings: self.recordings.len(),
                sources: self.source_files.len(),
            });
        }
        for (recording, r) in self.recordings.iter().enumerate() {
            if !r.duration_s.is_finite() || r.duration_s < 0.0 {
                return Err(CorpusError::InvalidRecordingLength {
                    recording,
                    duration_s: r.duration_s,
                });
            }
            crate::notes::validate(&r.notes)
                .map_err(|error| CorpusError::InvalidNote { recording, error })?;
        }
        for (frame, f) in self.frames.iter().enumerate() {
            self.validate_frame(frame, f)?;
        }
        self.oracle.validate()?;
        if self.oracle.len() != self.frames.len() {
            return Err(CorpusError::OracleLength {
                oracle_frames: self.oracle.len(),
                frames: self.frames.len(),
            });
        }
        if self.oracle.kind == OracleKind::Factor {
            for (frame, (f, &symbol)) in self.frames.iter().zip(&self.oracle.symbols).enumerate() {
                let (h, p) = f.tokens().unwrap_or((0, 0)); // present: checked above
                let expected = self.oracle.drive.symbol(h, p);
                if symbol != expected {
                    return Err(CorpusError::OracleSymbolMismatch {
                        frame,
                        symbol,
                        expected,
                    });
                }
            }
        }
        self.validate_events()
    }

    /// The events cut the frames into consecutive runs, each of one recording and starting
    /// where its recording does or later; their labels are their frames'; the event oracle
    /// has one state per event with their labels as symbols.
    fn validate_events(&self) -> Result<(), CorpusError> {
        let mut next = 0usize;
        for (event, e) in self.events.iter().enumerate() {
            let invalid = |why: String| Err(CorpusError::InvalidEvent { event, why });
            let (a, len) = (e.first_frame as usize, e.frames as usize);
            if a != next {
                return invalid(format!(
                    "starts at frame {a}, the previous event ends at {next}"
                ));
            }
            if len == 0 || a + len > self.frames.len() {
                return invalid(format!(
                    "{len} frames from frame {a} of {}",
                    self.frames.len()
                ));
            }
            let span = &self.frames[a..a + len];
            let source = span[0].source_idx;
            if span.iter().any(|f| f.source_idx != source) {
                return invalid("spans two recordings".into());
            }
            let new_recording = a == 0 || self.frames[a - 1].source_idx != source;
            if new_recording != (e.start == EventStart::Recording) {
                return invalid(format!("starts as {:?} at frame {a}", e.start));
            }
            for (stream, label, tokens) in [
                (
                    TokenStream::Harmonic,
                    e.harmonic_label,
                    span.iter()
                        .map(|f| f.harmonic_token.unwrap_or(0))
                        .collect::<Vec<_>>(),
                ),
                (
                    TokenStream::Percussive,
                    e.percussive_label,
                    span.iter()
                        .map(|f| f.percussive_token.unwrap_or(0))
                        .collect(),
                ),
            ] {
                let expected = event_label(&tokens).unwrap_or(0);
                if label != expected {
                    return Err(CorpusError::EventLabelMismatch {
                        event,
                        stream,
                        label,
                        expected,
                    });
                }
            }
            next = a + len;
        }
        if next != self.frames.len() {
            return Err(CorpusError::InvalidEvent {
                event: self.events.len(),
                why: format!("the events end at frame {next} of {}", self.frames.len()),
            });
        }
        let oracle = &self.event_oracle;
        oracle
            .validate()
            .map_err(|e| CorpusError::EventOracle { why: e.to_string() })?;
        let why = if oracle.kind != OracleKind::Factor {
            Some("not a factor oracle".to_string())
        } else if oracle.drive != self.oracle.drive {
            Some(format!(
                "driven by {:?}, the frame oracle by {:?}",
                oracle.drive, self.oracle.drive
            ))
        } else if oracle.len() != self.events.len() {
            Some(format!(
                "{} states for {} events",
                oracle.len(),
                self.events.len()
            ))
        } else {
            self.events
                .iter()
                .zip(&oracle.symbols)
                .position(|(e, &s)| s != oracle.drive.symbol(e.harmonic_label, e.percussive_label))
                .map(|k| format!("the symbol of event {k} is not its labels'"))
        };
        match why {
            Some(why) => Err(CorpusError::EventOracle { why }),
            None => Ok(()),
        }
    }

    fn validate_frame(&self, frame: usize, f: &FrameRecord) -> Result<(), CorpusError> {
        for (stream, token) in [
            (TokenStream::Harmonic, f.harmonic_token),
            (TokenStream::Percussive, f.percussive_token),
        ] {
            let token = token.ok_or(CorpusError::MissingTokens { frame, stream })?;
            if token >= self.vocab_size {
                return Err(CorpusError::TokenOutOfRange {
                    frame,
                    stream,
                    token,
                    vocab_size: self.vocab_size,
                });
            }
        }
        let bad = |field, value: f32| {
            Err(CorpusError::InvalidFrameField {
                frame,
                field,
                value,
            })
        };
        if !f.time_s.is_finite() || f.time_s < 0.0 {
            return bad("time_s", f.time_s);
        }
        if !f.duration_s.is_finite() || f.duration_s < 0.0 {
            return bad("duration_s", f.duration_s);
        }
        if !f.loudness_db.is_finite() {
            return bad("loudness_db", f.loudness_db);
        }
        if !(0.0..=1.0).contains(&f.consonance) {
            return bad("consonance", f.consonance);
        }
        if let Some(&x) = f.chroma.iter().find(|x| !x.is_finite() || **x < 0.0) {
            return bad("chroma", x);
        }
        if let Some(&note) = f.pitches.iter().find(|&&n| n > MAX_MIDI_NOTE) {
            return Err(CorpusError::PitchOutOfRange { frame, note });
        }
        let num_sources = self.source_files.len();
        if (f.source_idx as usize) >= num_sources.max(1) {
            return Err(CorpusError::SourceOutOfRange {
                frame,
                source_idx: f.source_idx,
                num_sources,
            });
        }
        Ok(())
    }

    /// Statistics for the trainer's closing report and `inspect`.
    pub fn report(&self) -> CorpusReport {
        CorpusReport::of(self)
    }
}
