//! Corpus statistics (the trainer's closing report, `inspect`) and the full JSON dump
//! (`inspect --json`).

use std::fmt;

use serde::Serialize;
use serde_json::{json, Value};

use super::CorpusModel;
use crate::oracle::{DriveStream, OracleKind, NO_SUFFIX};

/// Token statistics of one stream.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StreamStats {
    /// Tokens that occur at least once.
    pub active_tokens: usize,
    /// Shannon entropy of the token histogram, bits per frame.
    pub entropy_bits: f32,
    /// `log2(vocab_size)`: the entropy of a uniform use of the vocabulary.
    pub max_entropy_bits: f32,
}

/// Note figures of one source recording.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordingReport {
    /// File name.
    pub file: String,
    /// Where its notes came from.
    pub note_source: crate::notes::NoteSource,
    /// Number of notes.
    pub notes: usize,
    /// Length, seconds.
    pub duration_s: f64,
    /// Notes per second (onsets per second).
    pub notes_per_s: f64,
    /// Median note length, seconds (`None` without notes).
    pub median_note_s: Option<f64>,
}

/// Summary of a corpus model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CorpusReport {
    /// Encoder id.
    pub encoder_id: String,
    /// Tokens per stream.
    pub vocab_size: u16,
    /// Number of frames.
    pub frames: usize,
    /// Frames with an onset (a new pitch or a note starts).
    pub onset_frames: usize,
    /// Musical events (onset to onset, held stretches cut at [`super::MAX_EVENT_S`]).
    pub events: usize,
    /// Mean event length, seconds.
    pub mean_event_s: f32,
    /// States of the oracle over the events.
    pub event_oracle_states: usize,
    /// Corpus duration, seconds (`frames / frames_per_s`).
    pub duration_s: f32,
    /// Number of source recordings.
    pub source_files: usize,
    /// Harmonic-stream token statistics.
    pub harmonic: StreamStats,
    /// Percussive-stream token statistics.
    pub percussive: StreamStats,
    /// Oracle kind.
    pub oracle_kind: OracleKind,
    /// Stream(s) driving the oracle.
    pub drive: DriveStream,
    /// Oracle states (frames + 1).
    pub oracle_states: usize,
    /// Forward transitions, the linear ones included.
    pub oracle_transitions: usize,
    /// Mean longest-repeated-suffix length over states 1..=n, frames.
    pub mean_lrs: f32,
    /// Longest repeated suffix, frames.
    pub max_lrs: u32,
    /// Share of states 1..=n with a repeated suffix (lrs > 0).
    pub repeated_share: f32,
    /// Mean frame consonance.
    pub mean_consonance: f32,
    /// Notes of each source recording.
    pub recordings: Vec<RecordingReport>,
}

fn stream_stats(tokens: impl Iterator<Item = Option<u16>>, vocab_size: u16) -> StreamStats {
    let mut hist = vec![0usize; vocab_size.max(1) as usize];
    for t in tokens.flatten() {
        if let Some(h) = hist.get_mut(t as usize) {
            *h += 1;
        }
    }
    let entropy_bits = crate::perception::entropy_bits(hist.iter().copied()) as f32;
    StreamStats {
        active_tokens: hist.iter().filter(|&&c| c > 0).count(),
        entropy_bits,
        max_entropy_bits: (vocab_size.max(1) as f32).log2(),
    }
}

impl CorpusReport {
    /// The report of `model` (which need not be valid; missing tokens are skipped).
    pub fn of(model: &CorpusModel) -> Self {
        let n = model.frames.len();
        let lrs = model.oracle.lrs.get(1..).unwrap_or(&[]);
        let states = lrs.len().max(1) as f32;
        Self {
            encoder_id: model.encoder_id.clone(),
            vocab_size: model.vocab_size,
            frames: n,
            onset_frames: model.frames.iter().filter(|f| f.onset).count(),
            events: model.events.len(),
            mean_event_s: if model.events.is_empty() || model.frames_per_s <= 0.0 {
                0.0
            } else {
                n as f32 / model.events.len() as f32 / model.frames_per_s
            },
            event_oracle_states: model.event_oracle.sfx.len(),
            duration_s: if model.frames_per_s > 0.0 {
                n as f32 / model.frames_per_s
            } else {
                0.0
            },
            source_files: model.source_files.len(),
            harmonic: stream_stats(
                model.frames.iter().map(|f| f.harmonic_token),
                model.vocab_size,
            ),
            percussive: stream_stats(
                model.frames.iter().map(|f| f.percussive_token),
                model.vocab_size,
            ),
            oracle_kind: model.oracle.kind,
            drive: model.oracle.drive,
            oracle_states: model.oracle.sfx.len(),
            oracle_transitions: model.oracle.trn_targets.len(),
            mean_lrs: lrs.iter().map(|&l| l as f64).sum::<f64>() as f32 / states,
            max_lrs: lrs.iter().copied().max().unwrap_or(0),
            repeated_share: lrs.iter().filter(|&&l| l > 0).count() as f32 / states,
            recordings: model
                .recordings
                .iter()
                .zip(&model.source_files)
                .map(|(r, file)| RecordingReport {
                    file: file.clone(),
                    note_source: r.source,
                    notes: r.notes.len(),
                    duration_s: r.duration_s,
                    notes_per_s: crate::notes::metrics::notes_per_second(&r.notes, r.duration_s),
                    median_note_s: crate::notes::metrics::median_note_length_s(&r.notes),
                })
                .collect(),
            mean_consonance: if n == 0 {
                0.0
            } else {
                model
                    .frames
                    .iter()
                    .map(|f| f.consonance as f64)
                    .sum::<f64>() as f32
                    / n as f32
            },
        }
    }
}

impl fmt::Display for CorpusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "encoder           {} (vocabulary {})",
            self.encoder_id, self.vocab_size
        )?;
        writeln!(
            f,
            "frames            {} ({:.1} s, {} source files), onset frames {}",
            self.frames, self.duration_s, self.source_files, self.onset_frames
        )?;
        writeln!(
            f,
            "events            {} (mean {:.2} s), event oracle {} states",
            self.events, self.mean_event_s, self.event_oracle_states
        )?;
        for (name, s) in [
            ("harmonic", &self.harmonic),
            ("percussive", &self.percussive),
        ] {
            writeln!(
                f,
                "{name:<17} {} active tokens, entropy {:.2} / {:.2} bits",
                s.active_tokens, s.entropy_bits, s.max_entropy_bits
            )?;
        }
        writeln!(
            f,
            "oracle            {:?} on {:?}: {} states, {} transitions",
            self.oracle_kind, self.drive, self.oracle_states, self.oracle_transitions
        )?;
        writeln!(
            f,
            "repeated suffixes mean lrs {:.2}, max {}, {:.1} % of states repeat",
            self.mean_lrs,
            self.max_lrs,
            100.0 * self.repeated_share
        )?;
        write!(f, "consonance        mean {:.3}", self.mean_consonance)?;
        for r in &self.recordings {
            write!(
                f,
                "\nnotes             {}: {} notes from {}, {:.2} notes/s, median length {}",
                r.file,
                r.notes,
                r.note_source,
                r.notes_per_s,
                r.median_note_s
                    .map_or_else(|| "-".to_string(), |m| format!("{m:.3} s"))
            )?;
        }
        Ok(())
    }
}

impl CorpusModel {
    /// The full dump: header fields, the report, every frame with both tokens, the centroids
    /// and the oracle's transitions, suffix links (`null` for state 0) and lrs arrays.
    pub fn to_json(&self) -> Value {
        let link = |v: &[u32]| -> Vec<Value> {
            v.iter()
                .map(|&s| {
                    if s == NO_SUFFIX {
                        Value::Null
                    } else {
                        json!(s)
                    }
                })
                .collect()
        };
        let oracle = |o: &crate::oracle::OracleData| -> Value {
            let transitions: Vec<&[u32]> = (0..o.sfx.len())
                .map(|i| {
                    let a = o.trn_offsets.get(i).copied().unwrap_or(0) as usize;
                    let b = o.trn_offsets.get(i + 1).copied().unwrap_or(0) as usize;
                    o.trn_targets.get(a..b).unwrap_or(&[])
                })
                .collect();
            json!({
                "kind": o.kind,
                "drive": o.drive,
                "distance": o.distance,
                "threshold": o.threshold,
                "symbols": o.symbols,
                "transitions": transitions,
                "sfx": link(&o.sfx),
                "construction_sfx": link(&o.construction_sfx),
                "lrs": o.lrs,
                "latent_centroids": o.latent_centroids,
            })
        };
        json!({
            "format_version": self.format_version,
            "encoder_id": self.encoder_id,
            "encoder_config": serde_json::from_str::<Value>(&self.encoder_config)
                .unwrap_or_else(|_| Value::String(self.encoder_config.clone())),
            "sample_rate_hz": self.sample_rate_hz,
            "segment_len_s": self.segment_len_s,
            "frames_per_s": self.frames_per_s,
            "vocab_size": self.vocab_size,
            "dim": self.dim,
            "source_files": self.source_files,
            "created_by": self.created_by,
            "report": self.report(),
            "centroids_harmonic": self.centroids_harmonic,
            "centroids_percussive": self.centroids_percussive,
            "frames": self.frames,
            "recordings": self.recordings,
            "oracle": oracle(&self.oracle),
            "events": self.events,
            "event_oracle": oracle(&self.event_oracle),
        })
    }
}
