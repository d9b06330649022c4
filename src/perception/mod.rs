//! Perception: audio in, two streams (harmonic + percussive) of per-frame gesture tokens out.
//!
//! Plain Rust, no plugin-framework import; used by the worker thread and the trainer alike.
//!
//! ```text
//! host-rate mono audio (350 ms segments)
//!   -> resample to the encoder rate (rubato FFT resampler, streaming)        resample.rs
//!   -> STFT, Hann window (realfft), n_fft 2048, hop 320 @ 24 kHz = 75 fps    frontend.rs
//!   -> median-filter HPSS (Fitzgerald 2010), soft masks power 2              frontend.rs
//!   -> encoder per stream: [frames, dim] features (spectral: 88-D)           encoder.rs
//!   -> per frame: loudness, chroma, pitches, onset strength                  payload.rs
//!   -> spherical K-means vocabulary per stream: token per frame              kmeans.rs
//! ```
//!
//! The single entry point shared by training and live use is [`Perception`]:
//! `encode_file` (trainer) is implemented as consecutive `process_segment` calls (worker), so
//! both see the same resampler, STFT and HPSS state (see `pipeline.rs` for the frame/segment
//! alignment rule). [`Vocabulary`] holds one quantiser per stream. [`build`] makes a
//! perception from an encoder id (`encoders.rs`, with the [`EncoderConfig`] a corpus stores);
//! `parallel.rs` analyses one file on all cores, bit for bit the sequential analysis.

pub mod basic_pitch;
pub mod bp_encoder;
pub mod decode;
pub mod encoder;
pub mod encoders;
pub mod error;
pub mod frontend;
pub mod kmeans;
pub mod npy;
pub mod onnx_encoder;
pub mod parallel;
pub mod payload;
pub mod pipeline;
pub mod pitch;
pub mod resample;
pub mod synth;

pub use bp_encoder::BasicPitchEncoder;
pub use decode::{decode_file, DecodedAudio};
pub use encoder::{Encoder, EncoderInput, PitchPayload, SpectralEncoder, Stream, SPECTRAL_ID};
pub use encoders::{build, EncoderConfig};
pub use error::{PerceptionError, Result};
pub use kmeans::{entropy_bits, KMeansConfig, KMeansReport, SphericalKMeans, Token, SUPPORTED_K};
pub use npy::write_npy_f32;
pub use onnx_encoder::{OnnxEncoder, OnnxEncoderSidecar};
pub use payload::{FramePayload, PayloadAnalyser, PitchSalience};
pub use pipeline::{EncodedFrame, Perception, PerceptionConfig, SegmentFrames};
pub use pitch::FramePitches;

/// Token sequences of one segment, both streams, aligned with [`SegmentFrames`] rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentTokens {
    /// Stream frame index of the first token.
    pub first_frame_idx: u64,
    /// Harmonic tokens, one per frame.
    pub harmonic: Vec<Token>,
    /// Percussive tokens, one per frame.
    pub percussive: Vec<Token>,
}

/// The two per-stream vocabularies of a corpus, with the encoder they were fitted on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Vocabulary {
    /// Encoder id the centroids belong to ([`SPECTRAL_ID`], ...).
    pub encoder_id: String,
    /// Harmonic-stream quantiser.
    pub harmonic: SphericalKMeans,
    /// Percussive-stream quantiser.
    pub percussive: SphericalKMeans,
}

/// Fit reports of both streams.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VocabularyReport {
    /// Harmonic stream.
    pub harmonic: KMeansReport,
    /// Percussive stream.
    pub percussive: KMeansReport,
}

impl Vocabulary {
    /// Fits both streams on `segments` (all frames of a corpus).
    pub fn fit(
        encoder_id: &str,
        segments: &[SegmentFrames],
        config: &KMeansConfig,
    ) -> Result<(Self, VocabularyReport)> {
        let dim = segments
            .first()
            .map(|s| s.dim)
            .ok_or(PerceptionError::Empty { what: "segments" })?;
        let mut h = Vec::new();
        let mut p = Vec::new();
        for s in segments {
            if s.dim != dim {
                return Err(PerceptionError::ShapeMismatch {
                    expected: dim,
                    actual: s.dim,
                });
            }
            h.extend_from_slice(&s.harmonic);
            p.extend_from_slice(&s.percussive);
        }
        // The two streams are independent: fit them on two threads (same result as in turn).
        let (fit_h, fit_p) = std::thread::scope(|scope| {
            let harmonic = scope.spawn(|| SphericalKMeans::fit(&h, dim, config));
            let percussive = SphericalKMeans::fit(&p, dim, config);
            (
                harmonic
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
                percussive,
            )
        });
        let (harmonic, rh) = fit_h?;
        let (percussive, rp) = fit_p?;
        Ok((
            Self {
                encoder_id: encoder_id.to_owned(),
                harmonic,
                percussive,
            },
            VocabularyReport {
                harmonic: rh,
                percussive: rp,
            },
        ))
    }

    /// Tokens of one segment (the worker's per-segment call).
    pub fn tokens(&self, seg: &SegmentFrames) -> Result<SegmentTokens> {
        let harmonic = if seg.n_frames == 0 {
            Vec::new()
        } else {
            self.harmonic.transform(&seg.harmonic)?
        };
        let percussive = if seg.n_frames == 0 {
            Vec::new()
        } else {
            self.percussive.transform(&seg.percussive)?
        };
        Ok(SegmentTokens {
            first_frame_idx: seg.first_frame_idx,
            harmonic,
            percussive,
        })
    }
}
