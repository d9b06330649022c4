//! The corpus trainer: recordings in, a [`CorpusModel`] out.
//!
//! ```text
//! files -> decode (symphonia, mono) -> Perception::encode_file_segments   (the live path;
//!          on all cores, bit for bit, by encode_file_segments_parallel)
//!       -> Vocabulary::fit (spherical K-means per stream)
//!       -> tokens per frame (both streams) + payload (loudness, chroma, pitches)
//!       -> onsets (peak-picked spectral flux, or a new pitch) and consonance
//!       -> factor oracle over the driving stream's tokens
//! ```
//!
//! Everything the live worker will see comes from the same [`Perception`] calls, with the
//! same segment length (the prototype's lesson 3); the model keeps every per-frame field of
//! both streams (lesson 2), and the perception configuration travels in
//! `CorpusModel::encoder_config` so the worker rebuilds the identical front end.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::corpus::{consonance, CorpusModel, FrameRecord, SUPPORTED_VOCAB_SIZES};
use crate::oracle::DriveStream;
use crate::perception::{
    decode_file, FramePayload, KMeansConfig, KMeansReport, Perception, PerceptionConfig,
    PerceptionError, SegmentFrames, Vocabulary,
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

/// Audio a fresh perception analyses before its split point, seconds at least (rounded up to
/// the split grid). Its state joins the continuous stream's within about 13 frames (one
/// resampler block, half an STFT window, the HPSS time kernel and one previous frame, ~0.2 s).
pub const SPLIT_WARMUP_S: f64 = 1.0;
/// Segments each part of a split analysis runs past its end, compared bit for bit with the
/// next part's first segments: a mismatch (a stream state that does not forget) falls back to
/// the sequential analysis.
pub const SPLIT_CHECK_SEGMENTS: usize = 1;

/// Trainer settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainConfig {
    /// Gesture tokens per stream: 16, 64 or 256.
    pub vocab_size: u16,
    /// Token stream(s) that drive the oracle.
    pub drive: DriveStream,
    /// Encoder id: `"spectral"` (built in), `"basicpitch"` or `"onnx:<path>"`.
    pub encoder: String,
    /// K-means seed (training is deterministic for a given seed and input).
    pub seed: u64,
    /// Perception front end (segment length, HPSS).
    pub perception: PerceptionConfig,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            vocab_size: 64,
            drive: DriveStream::Harmonic,
            encoder: "spectral".into(),
            seed: 0x5eed,
            perception: PerceptionConfig::default(),
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
    /// An encoder this build does not have.
    #[error("unknown encoder {0:?} (available: spectral, basicpitch, onnx:<model.onnx>)")]
    UnknownEncoder(String),
    /// Source number `index` could not be analysed (too short, ...). `path` is its name, or
    /// the path it was read from (`train_files`). The message holds the perception error's
    /// text, so it is not also the `source()` (that would print it twice).
    #[error("{path}: {error}")]
    Source {
        index: usize,
        path: String,
        error: crate::perception::PerceptionError,
    },
    /// Perception or quantiser failure on the whole corpus, or a file that cannot be decoded
    /// (those errors name the file).
    #[error(transparent)]
    Perception(#[from] crate::perception::PerceptionError),
    /// The model failed its own validation.
    #[error(transparent)]
    Corpus(#[from] crate::corpus::CorpusError),
    /// Too many source files for the model's 16-bit source index.
    #[error("at most {max} source files per corpus")]
    TooManySources { max: usize },
}

/// One decoded source: a name (file name only) and mono samples.
pub struct Source {
    /// File name stored in the model (no directories).
    pub name: String,
    /// Mono samples.
    pub samples: Vec<f32>,
    /// Sample rate, Hz.
    pub rate_hz: u32,
}

impl Source {
    /// Decodes `path` (WAV, FLAC, MP3, OGG) to mono.
    pub fn from_file(path: &Path) -> Result<Self, TrainError> {
        // Decoding errors name the file themselves.
        let audio = decode_file(path)?;
        Ok(Self {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "audio".into()),
            samples: audio.samples,
            rate_hz: audio.sample_rate_hz,
        })
    }
}

/// Perception configuration as stored in `CorpusModel::encoder_config`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EncoderConfig {
    /// Encoder id.
    pub encoder: String,
    /// Encoder input rate, Hz.
    pub sample_rate_hz: u32,
    /// Hop, samples at the encoder rate.
    pub hop: usize,
    /// Feature dimension.
    pub dim: usize,
    /// The front end.
    pub perception: PerceptionConfig,
}

impl EncoderConfig {
    /// Parses a model's `encoder_config`.
    pub fn from_model(model: &CorpusModel) -> Result<Self, String> {
        serde_json::from_str(&model.encoder_config).map_err(|e| {
            format!("the corpus' encoder configuration is not one this build understands: {e}")
        })
    }
}

/// The two per-stream vocabularies stored in a corpus model, ready to tokenise live frames.
pub fn corpus_vocabulary(model: &CorpusModel) -> Vocabulary {
    let stream = |centroids: &Vec<f32>| crate::perception::SphericalKMeans {
        k: model.vocab_size as usize,
        dim: model.dim as usize,
        centroids: centroids.clone(),
    };
    Vocabulary {
        encoder_id: model.encoder_id.clone(),
        harmonic: stream(&model.centroids_harmonic),
        percussive: stream(&model.centroids_percussive),
    }
}

/// A perception front end for `encoder`: `"spectral"` (built in), `"basicpitch"` (spectral plus
/// Basic Pitch posteriors and deep chroma, needs `nmp.onnx`, see
/// [`crate::perception::bp_encoder`]) or `"onnx:<path>"` (a model of the waveform with its
/// JSON sidecar, see [`crate::perception::onnx_encoder`]).
pub fn perception_for(encoder: &str, config: PerceptionConfig) -> Result<Perception, TrainError> {
    if let Some(path) = encoder.strip_prefix(crate::perception::onnx_encoder::ONNX_ID_PREFIX) {
        let onnx = crate::perception::OnnxEncoder::load(std::path::Path::new(path))?;
        return Ok(Perception::with_encoder(config, Box::new(onnx))?);
    }
    match encoder {
        "spectral" => Ok(Perception::new(config)?),
        crate::perception::bp_encoder::BASICPITCH_ID => {
            let bp = crate::perception::BasicPitchEncoder::load_default()?;
            Ok(Perception::with_encoder(config, Box::new(bp))?)
        }
        other => Err(TrainError::UnknownEncoder(other.into())),
    }
}

/// Trains a corpus from files. See [`train_sources`].
pub fn train_files(
    paths: &[PathBuf],
    config: &TrainConfig,
    progress: &mut dyn FnMut(TrainProgress),
) -> Result<(CorpusModel, TrainReport), TrainError> {
    if paths.is_empty() {
        return Err(TrainError::NoInput);
    }
    let sources = paths
        .iter()
        .map(|p| Source::from_file(p))
        .collect::<Result<Vec<_>, _>>()?;
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
    let mut perception = perception_for(&config.encoder, config.perception.clone())?;
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

    // 2. Vocabularies over every frame of every source.
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

    // 3. Frames: tokens, payload, onsets, consonance.
    let fps = perception.frames_per_s();
    let encoder_config = EncoderConfig {
        encoder: perception.encoder_id().to_owned(),
        sample_rate_hz: perception.encoder_rate_hz(),
        hop: (perception.encoder_rate_hz() as f64 / fps).round() as usize,
        dim: perception.dim(),
        perception: config.perception.clone(),
    };
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

    // 4. The oracle.
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
            oracle_s,
            total_s: started.elapsed().as_secs_f64(),
        },
    ))
}

/// Threads for the analysis of one file: the machine's parallelism.
fn analysis_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Host samples between the points where a file may be split for parallel analysis: a whole
/// number of segments, of resampler periods ([`StreamResampler::period_samples`]) and of
/// encoder hops. A fresh perception started on this grid cuts the same segments, resampler
/// chunks and STFT frames as the continuous stream, and numbers its frames the same.
///
/// [`StreamResampler::period_samples`]: crate::perception::resample::StreamResampler::period_samples
pub fn split_grid_samples(perception: &Perception, rate_hz: u32) -> Result<usize, PerceptionError> {
    use crate::perception::resample::{gcd, StreamResampler};
    let lcm = |a: usize, b: usize| a / gcd(a, b) * b;
    let encoder_hz = perception.encoder_rate_hz() as usize;
    let hop = (encoder_hz as f64 / perception.frames_per_s()).round() as usize;
    // Host samples per whole number of hops: `hop * rate / encoder_rate` in lowest terms.
    let hop_host = hop * rate_hz as usize;
    let hop_period = hop_host / gcd(hop_host, encoder_hz);
    let segment = perception.config().segment_samples(rate_hz).max(1);
    let resampler = StreamResampler::period_samples(rate_hz, encoder_hz as u32)?;
    Ok(lcm(lcm(segment, resampler), hop_period))
}

/// Analyses one file exactly as `perception.encode_file_segments(samples, rate_hz)` does, bit
/// for bit, split into up to `threads` parts analysed at once.
///
/// Part `p > 0` starts at a point `S_p` of [`split_grid_samples`]; a fresh perception (same
/// encoder and configuration) starts [`SPLIT_WARMUP_S`] (rounded up to the grid) before
/// `S_p` and its segments before `S_p` are dropped. Every piece of stream state forgets:
/// the resampler's overlap-add tail spans one FFT block, the STFT frames and the HPSS ring a
/// window and 17 frames, the encoder and payload one previous frame; on the grid the chunk,
/// frame and segment boundaries and the frame numbers are the continuous stream's, so after
/// the warm-up the fresh stream is the continuous one (the test `split_analysis_equals_sequential_bit_for_bit`). Each part also runs [`SPLIT_CHECK_SEGMENTS`] past its end and must match the
/// next part there bit for bit, or the file is analysed sequentially.
///
/// Only the built-in `spectral` encoder is split (others run sequentially: an ONNX session per
/// thread is heavy and ONNX Runtime has threads of its own); short files run sequentially.
pub fn encode_file_segments_parallel(
    perception: &mut Perception,
    samples: &[f32],
    rate_hz: u32,
    threads: usize,
) -> Result<Vec<SegmentFrames>, PerceptionError> {
    if threads >= 2 && perception.encoder_id() == "spectral" {
        if let Some(segments) = encode_split(perception, samples, rate_hz, threads)? {
            return Ok(segments);
        }
    }
    perception.encode_file_segments(samples, rate_hz)
}

/// The split analysis of [`encode_file_segments_parallel`]; `None` when the file is too short
/// to split or a check failed (the caller then runs the sequential analysis).
fn encode_split(
    perception: &mut Perception,
    samples: &[f32],
    rate_hz: u32,
    threads: usize,
) -> Result<Option<Vec<SegmentFrames>>, PerceptionError> {
    crate::perception::pipeline::validate_rate(rate_hz)?;
    let grid = split_grid_samples(perception, rate_hz)?;
    let segment = perception.config().segment_samples(rate_hz).max(1);
    let warmup = ((SPLIT_WARMUP_S * rate_hz as f64) / grid as f64)
        .ceil()
        .max(1.0) as usize
        * grid;
    // Split points on the grid, each part at least a warm-up long.
    let parts = threads.min(samples.len() / warmup.max(1)).max(1);
    let mut splits: Vec<usize> = (1..parts)
        .map(|p| p * samples.len() / parts / grid * grid)
        .filter(|&s| s >= warmup)
        .collect();
    splits.dedup();
    if splits.is_empty() || samples.len() < perception.min_samples(rate_hz) {
        return Ok(None);
    }
    let check = SPLIT_CHECK_SEGMENTS * segment;
    let config = perception.config().clone();
    // Part p analyses [from, to): from the warm-up start (0 for part 0) to its end plus the
    // check segments; it keeps the segments from `keep_from`.
    let mut bounds: Vec<(usize, usize, usize)> = Vec::with_capacity(splits.len() + 1);
    for p in 0..=splits.len() {
        let keep_from = if p == 0 { 0 } else { splits[p - 1] };
        let from = keep_from.saturating_sub(if p == 0 { 0 } else { warmup });
        let to = splits
            .get(p)
            .map_or(samples.len(), |&s| s + check)
            .min(samples.len());
        bounds.push((from, keep_from, to));
    }
    let run = |p: &mut Perception, (from, keep_from, to): (usize, usize, usize)| {
        p.reset();
        let mut out = Vec::with_capacity((to - keep_from) / segment + 1);
        let mut start = from;
        while start < to {
            let end = (start + segment).min(samples.len());
            let mut seg = p.process_segment(&samples[start..end], rate_hz, start as u64)?;
            if start >= keep_from {
                seg.segment_idx = (start / segment) as u64;
                out.push(seg);
            }
            start = end;
        }
        Ok::<_, PerceptionError>(out)
    };
    let results: Vec<Result<Vec<SegmentFrames>, PerceptionError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = bounds[1..]
            .iter()
            .map(|&b| {
                let config = config.clone();
                scope.spawn(move || {
                    let mut fresh = Perception::new(config)?;
                    run(&mut fresh, b)
                })
            })
            .collect();
        let mut results = vec![run(perception, bounds[0])];
        results.extend(
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))),
        );
        results
    });
    let mut out: Vec<SegmentFrames> = Vec::new();
    for (p, part) in results.into_iter().enumerate() {
        let mut part = part?;
        if p > 0 {
            // The previous part's check segments must equal this part's first ones.
            let n_check =
                out.len() - out.partition_point(|s| (s.start_sample as usize) < bounds[p].1);
            let tail = out.split_off(out.len() - n_check);
            if part.len() < tail.len() || tail[..] != part[..tail.len()] {
                return Ok(None);
            }
            out.append(&mut part);
            continue;
        }
        out.append(&mut part);
    }
    Ok(Some(out))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perception::synth::render_music;

    /// Every float of every segment as bits, and the rest of each segment's fields.
    fn bits(segments: &[SegmentFrames]) -> Vec<String> {
        segments
            .iter()
            .map(|s| {
                let floats: Vec<u32> = s
                    .harmonic
                    .iter()
                    .chain(&s.percussive)
                    .map(|v| v.to_bits())
                    .collect();
                format!(
                    "{} {} {} {} {} {:?} {:?}",
                    s.segment_idx,
                    s.start_sample,
                    s.first_frame_idx,
                    s.n_frames,
                    s.dim,
                    floats,
                    s.payload
                )
            })
            .collect()
    }

    #[test]
    fn split_analysis_equals_sequential_bit_for_bit() {
        for rate in [44_100u32, 48_000, 24_000, 22_050] {
            let mut perception = Perception::new(PerceptionConfig::default()).unwrap();
            let grid = split_grid_samples(&perception, rate).unwrap();
            // Shorter than the warm-up, just over two grids and warm-ups, longer and odd; one
            // thread (never split) and more threads than the file has warm-ups for (the parts
            // are capped).
            for (seconds, threads) in [
                (0.5f32, 2usize),
                (3.1, 2),
                (9.73, 3),
                (9.73, 2),
                (9.73, 1),
                (9.73, 8),
            ] {
                let audio = render_music(seconds, rate, 11);
                let sequential = perception.encode_file_segments(&audio, rate).unwrap();
                let split = encode_split(&mut perception, &audio, rate, threads).unwrap();
                let warmup = (rate as usize).div_ceil(grid) * grid;
                let long = audio.len() >= 2 * warmup;
                assert_eq!(
                    split.is_some(),
                    long && threads >= 2,
                    "{rate} Hz, {seconds} s, {threads} threads: split only when long"
                );
                let parallel =
                    encode_file_segments_parallel(&mut perception, &audio, rate, threads).unwrap();
                assert_eq!(
                    bits(&parallel),
                    bits(&sequential),
                    "{rate} Hz, {seconds} s, {threads} threads"
                );
            }
        }
    }

    #[test]
    fn split_grid_aligns_segments_resampler_and_hops() {
        let perception = Perception::new(PerceptionConfig::default()).unwrap();
        // 44.1 kHz: segment 15435, resampler 882, hop 588 host samples -> 4 segments.
        assert_eq!(split_grid_samples(&perception, 44_100).unwrap(), 61_740);
        assert_eq!(split_grid_samples(&perception, 48_000).unwrap(), 67_200);
        assert_eq!(split_grid_samples(&perception, 24_000).unwrap(), 33_600);
    }
}
