//! The encoders this build has, by id: a [`Perception`] built from an encoder id, and the
//! [`EncoderConfig`] a corpus stores so that the live engine rebuilds the front end the corpus
//! was analysed with.

use std::path::Path;

use super::bp_encoder::{BasicPitchEncoder, BASICPITCH_ID};
use super::encoder::SPECTRAL_ID;
use super::error::{PerceptionError, Result};
use super::onnx_encoder::{OnnxEncoder, ONNX_ID_PREFIX};
use super::pipeline::{Perception, PerceptionConfig};

/// A perception front end for `encoder`: `"spectral"` (built in), `"basicpitch"` (spectral plus
/// Basic Pitch posteriors and deep chroma, needs `nmp.onnx`, see [`super::bp_encoder`]) or
/// `"onnx:<path>"` (a model of the waveform with its JSON sidecar, see
/// [`super::onnx_encoder`]). Any other id is [`PerceptionError::UnknownEncoder`].
pub fn build(encoder: &str, config: PerceptionConfig) -> Result<Perception> {
    if let Some(path) = encoder.strip_prefix(ONNX_ID_PREFIX) {
        let onnx = OnnxEncoder::load(Path::new(path))?;
        return Perception::with_encoder(config, Box::new(onnx));
    }
    match encoder {
        SPECTRAL_ID => Perception::new(config),
        BASICPITCH_ID => {
            let bp = BasicPitchEncoder::load_default()?;
            Perception::with_encoder(config, Box::new(bp))
        }
        other => Err(PerceptionError::UnknownEncoder { id: other.into() }),
    }
}

/// Perception configuration as a corpus stores it (`CorpusModel::encoder_config`, JSON): the
/// encoder and the front end, enough to [`build`](EncoderConfig::build) the same perception.
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
    /// The configuration of `perception`, as the trainer stores it.
    pub fn of(perception: &Perception) -> Self {
        Self {
            encoder: perception.encoder_id().to_owned(),
            sample_rate_hz: perception.encoder_rate_hz(),
            hop: (perception.encoder_rate_hz() as f64 / perception.frames_per_s()).round() as usize,
            dim: perception.dim(),
            perception: perception.config().clone(),
        }
    }

    /// A fresh perception with this encoder and front end ([`build`]).
    pub fn build(&self) -> Result<Perception> {
        build(&self.encoder, self.perception.clone())
    }
}
