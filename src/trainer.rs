//! The corpus trainer: recordings in, a [`CorpusModel`] out.
//!
//! ```text
//! files -> decode (symphonia, mono) -> Perception::encode_file_segments   (the live path;
//!          on all cores, bit for bit, by perception::parallel)
//!       -> Vocabulary::fit (spherical K-means per stream)
//!       -> tokens per frame (both streams) + payload (loudness, chroma, pitches)
//!       -> notes per recording: given (its MIDI file), Basic Pitch, or the DSP tracker
//!       -> onsets (peak-picked spectral flux, or a new pitch) and consonance
//!       -> factor oracle over the driving stream's tokens
//! ```
//!
//! A `.mid` input is rendered with FluidSynth ([`crate::notes::fluidsynth`]): the tokens come
//! from the render, the notes are the file's own.
//!
//! Everything the live worker will see comes from the same
//! [`Perception`](crate::perception::Perception) calls, with the same segment length (the
//! prototype's lesson 3); the model keeps every per-frame field of both streams (lesson 2), and
//! the perception configuration travels in `CorpusModel::encoder_config`
//! ([`EncoderConfig`]) so the engine rebuilds the identical front end.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::corpus::{consonance, CorpusModel, FrameRecord, RecordingNotes, SUPPORTED_VOCAB_SIZES};
use crate::notes::basic_pitch::{transcribe, NoteCreationParams, TranscribeError};
use crate::notes::dsp::{dsp_notes, track_notes, DspTrackerError, DspTrackerParams};
use crate::notes::fluidsynth::{render_midi, RenderError};
use crate::notes::midi_file::{note_events, read_midi_notes, MidiError};
use crate::notes::{NoteEvent, NoteSource};
use crate::oracle::DriveStream;
use crate::perception::basic_pitch::{BasicPitch, BasicPitchError};
use crate::perception::parallel::{analysis_threads, encode_file_segments_parallel};
use crate::perception::{
    decode_file, EncoderConfig, FramePayload, KMeansConfig, KMeansReport, PerceptionConfig,
    PerceptionError, SegmentFrames, Vocabulary, SPECTRAL_ID,
};

/// Onset peak picking: a frame is an onset when its flux is the maximum of the
/// `+-ONSET_WINDOW` frames around it and exceeds the mean of the `+-ONSET_MEAN_WINDOW` frames
/// by [`ONSET_DELTA`] (Böck, Krebs & Schedl 2012, offline form).
pub const ONSET_WINDOW: usize = 3;
/// Half width of the moving mean, frames.
pub const ONSET_MEAN_WINDOW: usize = 10;
/// Threshold above the moving mean.
pub const ONSET_DELTA: f32 = 0.02;
/// Frames between two onsets at least (40 ms at 75 frames/s).
pub const MIN_ONSET_GAP: usize = 3;

/// Which transcription gives the notes of a recording that has no MIDI file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NoteChoice {
    /// Basic Pitch with the `basicpitch` encoder (its network already runs), the DSP tracker
    /// otherwise (fast, always available).
    #[default]
    Auto,
    /// Basic Pitch notes (needs `nmp.onnx` and ONNX Runtime, whatever the encoder).
    BasicPitch,
    /// The DSP note tracker.
    Dsp,
}

impl NoteChoice {
    /// The source used with `encoder`.
    pub fn resolve(self, encoder: &str) -> NoteSource {
        match self {
            NoteChoice::BasicPitch => NoteSource::BasicPitch,
            NoteChoice::Dsp => NoteSource::Dsp,
            NoteChoice::Auto if encoder == crate::perception::bp_encoder::BASICPITCH_ID => {
                NoteSource::BasicPitch
            }
            NoteChoice::Auto => NoteSource::Dsp,
        }
    }
}

/// Trainer settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Gesture tokens per stream: 16, 64 or 256.
    pub vocab_size: u16,
    /// Token stream(s) that drive the oracle.
    pub drive: DriveStream,
    /// Encoder id: [`SPECTRAL_ID`] (built in), `"basicpitch"` or `"onnx:<path>"`.
    pub encoder: String,
    /// K-means seed (training is deterministic for a given seed and input).
    pub seed: u64,
    /// Perception front end (segment length, HPSS).
    pub perception: PerceptionConfig,
    /// Transcription of recordings without given notes.
    pub notes: NoteChoice,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            vocab_size: 64,
            drive: DriveStream::Harmonic,
            encoder: SPECTRAL_ID.into(),
            seed: 0x5eed,
            perception: PerceptionConfig::default(),
            notes: NoteChoice::Auto,
        }
    }
}

/// Progress of a training run, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TrainProgress {
    /// Analysing source `file` of `files`: `done_s` of `total_s` seconds of audio so far.
    Analysing {
        file: usize,
        files: usize,
        done_s: f64,
        total_s: f64,
    },
    /// Fitting the vocabularies on `frames` frames.
    Fitting { frames: usize },
    /// Transcribing source `file` of `files` into notes.
    Notes { file: usize, files: usize },
    /// Building the oracle.
    Building,
}

/// What a training run measured, beyond the model's own [`crate::corpus::CorpusReport`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TrainReport {
    /// Harmonic vocabulary fit.
    pub harmonic: KMeansReport,
    /// Percussive vocabulary fit.
    pub percussive: KMeansReport,
    /// Seconds of audio analysed.
    pub audio_s: f64,
    /// Wall time of the analysis (decode excluded), seconds.
    pub analysis_s: f64,
    /// Wall time of the vocabulary fit, seconds.
    pub fit_s: f64,
    /// Wall time of the transcription into notes (beyond the analysis), seconds.
    pub notes_s: f64,
    /// Wall time of the oracle construction, seconds.
    pub oracle_s: f64,
    /// Total wall time, seconds.
    pub total_s: f64,
}

/// Training errors: which file and why.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// No input.
    #[error("no input files")]
    NoInput,
    /// A vocabulary size other than 16, 64 or 256.
    #[error("vocabulary size {0} is not one of 16, 64, 256")]
    VocabSize(u16),
    /// Source number `index` could not be analysed (too short, ...). `path` is its name, or
    /// the path it was read from (`train_files`). The message holds the perception error's
    /// text, so it is not also the `source()` (that would print it twice).
    #[error("{path}: {error}")]
    Source {
        index: usize,
        path: String,
        error: PerceptionError,
    },
    /// Perception or quantiser failure on the whole corpus, an encoder this build does not have
    /// ([`PerceptionError::UnknownEncoder`]), or a file that cannot be decoded (those errors name
    /// the file).
    #[error(transparent)]
    Perception(#[from] PerceptionError),
    /// The model failed its own validation.
    #[error(transparent)]
    Corpus(#[from] crate::corpus::CorpusError),
    /// A MIDI file (`--notes`, or a `.mid` input) could not be read.
    #[error(transparent)]
    Midi(#[from] MidiError),
    /// A `.mid` input could not be rendered (FluidSynth or the soundfont is missing, ...).
    #[error(transparent)]
    Render(#[from] RenderError),
    /// Basic Pitch notes were asked for and the model cannot run.
    /// (Not `#[from]`: the message holds the model error's text, so it is not also the
    /// `source()`.)
    #[error("{0} (Basic Pitch notes need it; `--note-source dsp` transcribes without it)")]
    BasicPitch(BasicPitchError),
    /// Basic Pitch transcription of source `path` failed.
    #[error("{path}: Basic Pitch notes: {error}")]
    Transcribe {
        path: String,
        error: TranscribeError,
    },
    /// The DSP note tracker failed on source `path`.
    #[error("{path}: DSP notes: {error}")]
    DspNotes {
        path: String,
        error: DspTrackerError,
    },
    /// Given notes that are not valid notes.
    #[error("{path}: {error}")]
    GivenNotes {
        path: String,
        error: crate::notes::NoteError,
    },
    /// A MIDI file with no (non-drum) notes.
    #[error("{path} holds no pitched notes (drum-channel notes are not used)")]
    NoNotes { path: String },
    /// Too many source files for the model's 16-bit source index.
    #[error("at most {max} source files per corpus")]
    TooManySources { max: usize },
}

impl From<BasicPitchError> for TrainError {
    fn from(e: BasicPitchError) -> Self {
        Self::BasicPitch(e)
    }
}

/// One decoded source: a name (file name only), mono samples, and its notes when they are
/// given.
pub struct Source {
    /// File name stored in the model (no directories).
    pub name: String,
    /// Mono samples.
    pub samples: Vec<f32>,
    /// Sample rate, Hz.
    pub rate_hz: u32,
    /// The recording's notes when they come with it (its MIDI file): stored as they are
    /// ([`NoteSource::Given`]) instead of transcribed.
    pub notes: Option<Vec<NoteEvent>>,
}

/// One input of [`train_inputs`]: an audio file, with its MIDI file when it has one, or a MIDI
/// file alone (rendered with FluidSynth).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainInput {
    /// Audio (WAV, FLAC, MP3, OGG) or MIDI (`.mid`, `.midi`).
    pub path: PathBuf,
    /// The notes of the audio file, aligned from its start (`--notes`).
    pub notes: Option<PathBuf>,
}

/// True for a `.mid` / `.midi` path (any case).
pub fn is_midi_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi"))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "audio".into())
}

/// The pitched notes of a MIDI file (drum channel left out); none is an error.
pub fn given_notes(path: &Path) -> Result<Vec<NoteEvent>, TrainError> {
    let notes = note_events(&read_midi_notes(path)?, false);
    if notes.is_empty() {
        return Err(TrainError::NoNotes {
            path: path.display().to_string(),
        });
    }
    crate::notes::validate(&notes).map_err(|error| TrainError::GivenNotes {
        path: path.display().to_string(),
        error,
    })?;
    Ok(notes)
}

impl Source {
    /// Decodes `path` (WAV, FLAC, MP3, OGG) to mono.
    pub fn from_file(path: &Path) -> Result<Self, TrainError> {
        // Decoding errors name the file themselves.
        let audio = decode_file(path)?;
        Ok(Self {
            name: file_name(path),
            samples: audio.samples,
            rate_hz: audio.sample_rate_hz,
            notes: None,
        })
    }

    /// Renders the MIDI file `path` with FluidSynth (`soundfont`, or the GM soundfont) and
    /// keeps its exact notes.
    pub fn from_midi(path: &Path, soundfont: Option<&Path>) -> Result<Self, TrainError> {
        let notes = given_notes(path)?;
        let (samples, rate_hz) = render_midi(path, soundfont)?;
        Ok(Self {
            name: file_name(path),
            samples,
            rate_hz,
            notes: Some(notes),
        })
    }

    /// Loads one [`TrainInput`].
    pub fn from_input(input: &TrainInput, soundfont: Option<&Path>) -> Result<Self, TrainError> {
        if is_midi_path(&input.path) {
            return Self::from_midi(&input.path, soundfont);
        }
        let mut source = Self::from_file(&input.path)?;
        if let Some(mid) = &input.notes {
            source.notes = Some(given_notes(mid)?);
        }
        Ok(source)
    }
}

/// Trains a corpus from files (audio or MIDI, notes transcribed). See [`train_inputs`].
pub fn train_files(
    paths: &[PathBuf],
    config: &TrainConfig,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<(CorpusModel, TrainReport), TrainError> {
    let inputs: Vec<TrainInput> = paths
        .iter()
        .map(|p| TrainInput {
            path: p.clone(),
            notes: None,
        })
        .collect();
    train_inputs(&inputs, None, config, progress)
}

/// Trains a corpus from inputs: audio files (with their MIDI notes when given) and MIDI files
/// rendered with FluidSynth (`soundfont`, or the GM soundfont). See [`train_sources`].
pub fn train_inputs(
    inputs: &[TrainInput],
    soundfont: Option<&Path>,
    config: &TrainConfig,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<(CorpusModel, TrainReport), TrainError> {
    if inputs.is_empty() {
        return Err(TrainError::NoInput);
    }
    let sources = inputs
        .iter()
        .map(|input| Source::from_input(input, soundfont))
        .collect::<Result<Vec<_>, _>>()?;
    let paths: Vec<&PathBuf> = inputs.iter().map(|i| &i.path).collect();
    // An analysis error names the source by its stored file name: say the path given instead.
    train_sources(&sources, config, progress).map_err(|e| match e {
        TrainError::Source { index, path, error } => TrainError::Source {
            index,
            path: paths.get(index).map_or(path, |p| p.display().to_string()),
            error,
        },
        other => other,
    })
}

/// Trains a corpus from decoded sources: analysis through the live perception path, a
/// vocabulary per stream, tokens and payload for every frame, onsets, and the oracle.
pub fn train_sources(
    sources: &[Source],
    config: &TrainConfig,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<(CorpusModel, TrainReport), TrainError> {
    let started = Instant::now();
    if sources.is_empty() {
        return Err(TrainError::NoInput);
    }
    if sources.len() > u16::MAX as usize {
        return Err(TrainError::TooManySources {
            max: u16::MAX as usize,
        });
    }
    if !SUPPORTED_VOCAB_SIZES.contains(&config.vocab_size) {
        return Err(TrainError::VocabSize(config.vocab_size));
    }
    let mut perception = crate::perception::build(&config.encoder, config.perception.clone())?;
    let note_source = config.notes.resolve(&config.encoder);
    // DSP notes of the spectral path come from the same pass (its pitch salience); any other
    // encoder runs the DSP tracker's own pass.
    let same_pass_dsp = note_source == NoteSource::Dsp && perception.encoder_id() == SPECTRAL_ID;
    if same_pass_dsp && sources.iter().any(|s| s.notes.is_none()) {
        perception.set_pitch_salience(true);
    }
    let total_s: f64 = sources
        .iter()
        .map(|s| s.samples.len() as f64 / s.rate_hz.max(1) as f64)
        .sum();

    // 1. Analysis: the same segment-by-segment path the worker runs live.
    let mut per_source: Vec<Vec<SegmentFrames>> = Vec::with_capacity(sources.len());
    let mut done_s = 0.0;
    for (i, src) in sources.iter().enumerate() {
        progress(TrainProgress::Analysing {
            file: i,
            files: sources.len(),
            done_s,
            total_s,
        });
        let segments = encode_file_segments_parallel(
            &mut perception,
            &src.samples,
            src.rate_hz,
            analysis_threads(),
        )
        .map_err(|source| TrainError::Source {
            index: i,
            path: src.name.clone(),
            error: source,
        })?;
        done_s += src.samples.len() as f64 / src.rate_hz as f64;
        per_source.push(segments);
    }
    progress(TrainProgress::Analysing {
        file: sources.len(),
        files: sources.len(),
        done_s,
        total_s,
    });
    let analysis_s = started.elapsed().as_secs_f64();

    // 2. Notes of every recording.
    let notes_started = Instant::now();
    let fps = perception.frames_per_s();
    let recordings = recording_notes(
        sources,
        &per_source,
        note_source,
        same_pass_dsp,
        fps,
        progress,
    )?;
    let notes_s = notes_started.elapsed().as_secs_f64();

    // 3. Vocabularies over every frame of every source.
    let all: Vec<SegmentFrames> = per_source.iter().flatten().cloned().collect();
    let n_frames: usize = all.iter().map(|s| s.n_frames).sum();
    progress(TrainProgress::Fitting { frames: n_frames });
    let fit_started = Instant::now();
    let kmeans = KMeansConfig {
        k: config.vocab_size as usize,
        seed: config.seed,
        ..KMeansConfig::default()
    };
    let (vocab, vocab_report) = Vocabulary::fit(perception.encoder_id(), &all, &kmeans)?;
    drop(all);
    let fit_s = fit_started.elapsed().as_secs_f64();

    // 4. Frames: tokens, payload, onsets, consonance. (The answer still plays the frames'
    //    pitch sets; playing the notes is the event oracle's job, issue #17.)
    let encoder_config = EncoderConfig::of(&perception);
    let mut model = CorpusModel::new(
        perception.encoder_id(),
        serde_json::to_string(&encoder_config).expect("config serialises"),
        perception.encoder_rate_hz(),
        fps as f32,
        config.vocab_size,
        perception.dim() as u32,
        config.drive,
    );
    model.segment_len_s = config.perception.segment_ms as f32 / 1000.0;
    model.centroids_harmonic = vocab.harmonic.centroids.clone();
    model.centroids_percussive = vocab.percussive.centroids.clone();
    model.source_files = sources.iter().map(|s| s.name.clone()).collect();
    for (source_idx, segments) in per_source.iter().enumerate() {
        let mut payloads: Vec<FramePayload> = Vec::new();
        let mut tokens: Vec<(u16, u16)> = Vec::new();
        let mut frame_idx: Vec<u64> = Vec::new();
        for seg in segments {
            let t = vocab.tokens(seg)?;
            for i in 0..seg.n_frames {
                tokens.push((t.harmonic[i], t.percussive[i]));
                payloads.push(seg.payload[i]);
                frame_idx.push(seg.first_frame_idx + i as u64);
            }
        }
        let onsets = detect_onsets(&payloads);
        for (i, p) in payloads.iter().enumerate() {
            model.frames.push(FrameRecord {
                time_s: (frame_idx[i] as f64 / fps) as f32,
                duration_s: (1.0 / fps) as f32,
                harmonic_token: Some(tokens[i].0),
                percussive_token: Some(tokens[i].1),
                loudness_db: p.loudness_db,
                chroma: p.chroma,
                pitches: p.pitches,
                onset: onsets[i],
                consonance: consonance(&p.chroma),
                source_idx: source_idx as u16,
            });
        }
    }
    drop(per_source);
    model.recordings = recordings;

    // 5. The oracle.
    progress(TrainProgress::Building);
    let oracle_started = Instant::now();
    model.build_factor_oracle(config.drive)?;
    let oracle_s = oracle_started.elapsed().as_secs_f64();
    model.validate()?;
    Ok((
        model,
        TrainReport {
            harmonic: vocab_report.harmonic,
            percussive: vocab_report.percussive,
            audio_s: total_s,
            analysis_s,
            fit_s,
            notes_s,
            oracle_s,
            total_s: started.elapsed().as_secs_f64(),
        },
    ))
}

/// The notes of each source: given, or transcribed by `source`. `same_pass_dsp`: the
/// segments carry the pitch salience the DSP tracker reads.
fn recording_notes(
    sources: &[Source],
    per_source: &[Vec<SegmentFrames>],
    source: NoteSource,
    same_pass_dsp: bool,
    fps: f64,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<Vec<RecordingNotes>, TrainError> {
    let mut model: Option<BasicPitch> = None;
    let mut out = Vec::with_capacity(sources.len());
    for (i, (src, segments)) in sources.iter().zip(per_source).enumerate() {
        progress(TrainProgress::Notes {
            file: i,
            files: sources.len(),
        });
        let duration_s = src.samples.len() as f64 / f64::from(src.rate_hz.max(1));
        let (source, mut notes) = match (&src.notes, source) {
            (Some(given), _) => (NoteSource::Given, given.clone()),
            (None, NoteSource::Dsp) if same_pass_dsp => {
                let payload: Vec<FramePayload> = segments
                    .iter()
                    .flat_map(|s| s.payload.iter().copied())
                    .collect();
                let salience: Vec<_> = segments
                    .iter()
                    .flat_map(|s| s.salience.iter().copied())
                    .collect();
                let notes = track_notes(&payload, &salience, fps, &DspTrackerParams::default())
                    .map_err(|error| TrainError::DspNotes {
                        path: src.name.clone(),
                        error,
                    })?;
                (NoteSource::Dsp, notes)
            }
            (None, source) => (source, transcribe_notes(src, source, &mut model)?),
        };
        crate::notes::sort_notes(&mut notes);
        out.push(RecordingNotes {
            source,
            duration_s,
            notes,
        });
    }
    Ok(out)
}

/// The notes of `src` transcribed by `source` (Basic Pitch or the DSP tracker over its own
/// perception pass; [`NoteSource::Given`] returns the source's given notes). `model` holds
/// the Basic Pitch network between calls (loaded on first use). Sorted.
pub fn transcribe_notes(
    src: &Source,
    source: NoteSource,
    model: &mut Option<BasicPitch>,
) -> Result<Vec<NoteEvent>, TrainError> {
    let mut notes = match source {
        NoteSource::Given => src.notes.clone().unwrap_or_default(),
        NoteSource::BasicPitch => {
            let model = match model {
                Some(m) => m,
                slot => slot.insert(BasicPitch::load_default()?),
            };
            let params = NoteCreationParams::default();
            transcribe(model, &src.samples, src.rate_hz, &params)
                .map_err(|error| TrainError::Transcribe {
                    path: src.name.clone(),
                    error,
                })?
                .iter()
                .map(|n| {
                    let mut e = n.to_event();
                    // Basic Pitch's frame times can fall a hair before 0.
                    e.onset_s = e.onset_s.max(0.0);
                    e
                })
                .filter(|e| e.offset_s > e.onset_s)
                .collect()
        }
        NoteSource::Dsp => dsp_notes(&src.samples, src.rate_hz, &DspTrackerParams::default())
            .map_err(|error| TrainError::DspNotes {
                path: src.name.clone(),
                error,
            })?,
    };
    crate::notes::sort_notes(&mut notes);
    Ok(notes)
}

/// Onsets of one source's frames: a flux peak (see [`ONSET_WINDOW`]) or a note that was not
/// sounding in the previous frame, at least [`MIN_ONSET_GAP`] frames apart.
pub fn detect_onsets(payloads: &[FramePayload]) -> Vec<bool> {
    let n = payloads.len();
    let flux: Vec<f32> = payloads.iter().map(|p| p.onset_strength).collect();
    let mut out = vec![false; n];
    let mut last: Option<usize> = None;
    for i in 0..n {
        let lo = i.saturating_sub(ONSET_WINDOW);
        let hi = (i + ONSET_WINDOW + 1).min(n);
        let is_max = flux[lo..hi].iter().all(|&f| f <= flux[i]);
        let mlo = i.saturating_sub(ONSET_MEAN_WINDOW);
        let mhi = (i + ONSET_MEAN_WINDOW + 1).min(n);
        let mean = flux[mlo..mhi].iter().sum::<f32>() / (mhi - mlo) as f32;
        let peak = is_max && flux[i] > mean + ONSET_DELTA;
        let new_note = !payloads[i].pitches.is_empty()
            && (i == 0
                || payloads[i]
                    .pitches()
                    .iter()
                    .any(|p| !payloads[i - 1].pitches().contains(p)));
        // The very first frame of a sounding source starts an event.
        let first_sound =
            i == 0 && payloads[0].loudness_db > crate::perception::payload::PITCH_GATE_DB;
        if (peak || new_note || first_sound) && last.is_none_or(|l| i - l >= MIN_ONSET_GAP) {
            out[i] = true;
            last = Some(i);
        }
    }
    out
}
