//! Semantic EQ morph: words to EQ settings, decoded through ONNX Runtime on the worker thread.
//!
//! The model (trained by `training/`, see `docs/EQ_MODEL.md`) is a decoder from a small latent
//! space to the 13 parameters of the 5-band EQ, in physical units, bounded by construction. Each
//! term ("warm", "bright", ...) has a latent centroid in the metadata JSON. Decoding:
//!
//! 1. `latent = (1 - morph) * centroid[A] + morph * centroid[B]`;
//! 2. `params = decoder(latent)`;
//! 3. intensity `i` in [0, 2] scales every band gain in dB (`0` = flat, `1` = as learned), then
//!    gains are clamped to ±12 dB; frequencies and Qs are untouched.
//!
//! The audio thread never runs the network: the worker decodes a [`MorphGrid`] (intensity 1) for
//! the current term pair, and the audio thread interpolates it per sub-block
//! ([`MorphGrid::params_at`], real-time safe) and applies intensity there.

pub mod decoder;
mod grid;
mod meta;

pub use grid::MorphGrid;
pub use meta::{EqMorphMeta, TermInfo, PARAM_ORDER};

use crate::dsp::EqParams;
use crate::onnx::RuntimeError;
use ndarray::Array2;
use ort::session::Session;
use ort::value::TensorRef;
use std::path::{Path, PathBuf};

/// The default model, embedded in the binary so the plugin works with no files beside it.
pub const EMBEDDED_ONNX: &[u8] = include_bytes!("../../assets/eq_morph.onnx");
/// Metadata of the embedded model.
pub const EMBEDDED_META: &str = include_str!("../../assets/eq_morph.json");

/// Highest intensity: twice the learned gains (then clamped to ±12 dB).
pub const MAX_INTENSITY: f32 = 2.0;
/// Gain limit of every band, dB.
pub const MAX_GAIN_DB: f32 = 12.0;

#[derive(Debug, thiserror::Error)]
pub enum EqMorphError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(
        "{} cannot be read; an EQ model is an .onnx file with its .json metadata beside it",
        path.display()
    )]
    ModelMissing { path: PathBuf },
    #[error("EQ model could not be read by ONNX Runtime: {message}")]
    ModelCorrupt { message: String },
    #[error("EQ model metadata is invalid: {message}")]
    MetadataInvalid { message: String },
    #[error(
        "EQ model metadata does not match the model: {what}: expected {expected}, found {actual}"
    )]
    MetadataMismatch {
        what: &'static str,
        expected: String,
        actual: String,
    },
    #[error("unknown EQ term '{term}'; known terms: {known}")]
    UnknownTerm { term: String, known: String },
    #[error("EQ model inference failed: {message}")]
    Inference { message: String },
}

/// A loaded decoder and its metadata. Lives on the worker thread (owns an `ort::Session`).
pub struct EqMorphModel {
    meta: EqMorphMeta,
    session: Session,
    input_name: String,
    output_name: String,
}

impl EqMorphModel {
    /// The model embedded in the binary.
    pub fn embedded() -> Result<Self, EqMorphError> {
        Self::from_bytes(EMBEDDED_ONNX, EMBEDDED_META)
    }

    /// A user model: `model.onnx` with its metadata `model.json` beside it (same stem), or an
    /// explicit metadata path.
    pub fn from_files(onnx: &Path, meta: Option<&Path>) -> Result<Self, EqMorphError> {
        let meta_path = meta
            .map(Path::to_path_buf)
            .unwrap_or_else(|| onnx.with_extension("json"));
        let onnx_bytes = std::fs::read(onnx).map_err(|_| EqMorphError::ModelMissing {
            path: onnx.to_path_buf(),
        })?;
        let meta_text =
            std::fs::read_to_string(&meta_path).map_err(|_| EqMorphError::ModelMissing {
                path: meta_path.clone(),
            })?;
        Self::from_bytes(&onnx_bytes, &meta_text)
    }

    /// Load from memory; validates the metadata and checks it against the graph.
    pub fn from_bytes(onnx: &[u8], meta_json: &str) -> Result<Self, EqMorphError> {
        let meta = EqMorphMeta::parse(meta_json)?;
        let env = crate::onnx::environment()?;
        // One thread: the decoder is tiny, and ONNX Runtime's pool threads would otherwise be
        // spawned by (and named after) the plugin's worker, beside the host's own threads.
        let session = Session::builder(env)
            .and_then(|b| Ok(b.with_intra_threads(1)?))
            .and_then(|mut b| b.commit_from_memory(onnx))
            .map_err(|e| EqMorphError::ModelCorrupt {
                message: e.to_string(),
            })?;
        let input_name = meta.onnx_input.clone();
        let output_name = meta.onnx_output.clone();
        let inputs: Vec<String> = session
            .inputs()
            .iter()
            .map(|i| i.name().to_string())
            .collect();
        let outputs: Vec<String> = session
            .outputs()
            .iter()
            .map(|o| o.name().to_string())
            .collect();
        if !inputs.contains(&input_name) {
            return Err(EqMorphError::MetadataMismatch {
                what: "input name",
                expected: input_name,
                actual: inputs.join(", "),
            });
        }
        if !outputs.contains(&output_name) {
            return Err(EqMorphError::MetadataMismatch {
                what: "output name",
                expected: output_name,
                actual: outputs.join(", "),
            });
        }
        let mut model = Self {
            meta,
            session,
            input_name,
            output_name,
        };
        // A probe decode checks the latent width and the output width against the metadata.
        let probe = vec![0.0f32; model.meta.latent_dim];
        model.decode_latents(&probe)?;
        Ok(model)
    }

    pub fn meta(&self) -> &EqMorphMeta {
        &self.meta
    }

    /// Term names, in metadata order.
    pub fn term_names(&self) -> impl Iterator<Item = &str> {
        self.meta.terms.iter().map(|t| t.name.as_str())
    }

    /// Index of a term, or a typed error listing the known ones.
    pub fn term_index(&self, term: &str) -> Result<usize, EqMorphError> {
        let wanted = term.trim().to_lowercase();
        self.meta
            .terms
            .iter()
            .position(|t| t.name == wanted)
            .ok_or_else(|| EqMorphError::UnknownTerm {
                term: term.to_string(),
                known: self
                    .meta
                    .terms
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Run the decoder on latent rows (row-major, `latent_dim` values each). Returns one
    /// parameter array per row, in [`PARAM_ORDER`], physical units.
    pub fn decode_latents(&mut self, latents: &[f32]) -> Result<Vec<[f32; 13]>, EqMorphError> {
        let d = self.meta.latent_dim;
        if d == 0 || latents.len() % d != 0 {
            return Err(EqMorphError::MetadataMismatch {
                what: "latent length",
                expected: format!("a multiple of {d}"),
                actual: latents.len().to_string(),
            });
        }
        let n = latents.len() / d;
        let input = Array2::from_shape_vec((n, d), latents.to_vec()).map_err(|e| {
            EqMorphError::Inference {
                message: e.to_string(),
            }
        })?;
        let tensor = TensorRef::from_array_view(&input).map_err(|e| EqMorphError::Inference {
            message: e.to_string(),
        })?;
        let outputs = self
            .session
            .run(ort::inputs![self.input_name.as_str() => tensor])
            .map_err(|e| EqMorphError::MetadataMismatch {
                what: "latent width",
                expected: d.to_string(),
                actual: e.to_string(),
            })?;
        let out = outputs[self.output_name.as_str()]
            .try_extract_array::<f32>()
            .map_err(|e| EqMorphError::Inference {
                message: e.to_string(),
            })?;
        if out.shape() != [n, 13] {
            return Err(EqMorphError::MetadataMismatch {
                what: "output shape",
                expected: format!("[{n}, 13]"),
                actual: format!("{:?}", out.shape()),
            });
        }
        let mut rows = Vec::with_capacity(n);
        for r in 0..n {
            let mut row = [0.0f32; 13];
            for (c, v) in row.iter_mut().enumerate() {
                *v = out[[r, c]];
            }
            rows.push(row);
        }
        Ok(rows)
    }

    /// The latent point `morph` of the way from term A's centroid to term B's.
    pub fn morph_latent(&self, term_a: usize, term_b: usize, morph: f32) -> Vec<f32> {
        let m = if morph.is_finite() {
            morph.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let a = &self.meta.terms[term_a].centroid;
        let b = &self.meta.terms[term_b].centroid;
        a.iter()
            .zip(b)
            .map(|(a, b)| (1.0 - m) * a + m * b)
            .collect()
    }

    /// Decode one setting.
    pub fn decode(
        &mut self,
        term_a: &str,
        term_b: &str,
        morph: f32,
        intensity: f32,
    ) -> Result<EqParams, EqMorphError> {
        let (a, b) = (self.term_index(term_a)?, self.term_index(term_b)?);
        let latent = self.morph_latent(a, b, morph);
        let row = self.decode_latents(&latent)?[0];
        Ok(apply_intensity(EqParams::from_array(row), intensity))
    }

    /// Decode `n` (≥ 2) evenly spaced morph points from A (0) to B (1) at intensity 1, for the
    /// audio thread to interpolate.
    pub fn decode_grid(
        &mut self,
        term_a: &str,
        term_b: &str,
        n: usize,
    ) -> Result<MorphGrid, EqMorphError> {
        let (a, b) = (self.term_index(term_a)?, self.term_index(term_b)?);
        let n = n.clamp(2, grid::MAX_GRID_POINTS);
        let mut latents = Vec::with_capacity(n * self.meta.latent_dim);
        for i in 0..n {
            latents.extend(self.morph_latent(a, b, i as f32 / (n - 1) as f32));
        }
        let rows = self.decode_latents(&latents)?;
        Ok(MorphGrid::from_rows(&rows))
    }
}

/// Scale every band gain by `intensity` (clamped to [0, 2]; NaN counts as 0) and clamp the
/// result to ±12 dB. Real-time safe: no alloc, no locks.
#[inline]
pub fn apply_intensity(mut p: EqParams, intensity: f32) -> EqParams {
    let i = if intensity.is_finite() {
        intensity.clamp(0.0, MAX_INTENSITY)
    } else {
        0.0
    };
    let g = |x: f32| (x * i).clamp(-MAX_GAIN_DB, MAX_GAIN_DB);
    p.ls_gain_db = g(p.ls_gain_db);
    p.p1_gain_db = g(p.p1_gain_db);
    p.p2_gain_db = g(p.p2_gain_db);
    p.p3_gain_db = g(p.p3_gain_db);
    p.hs_gain_db = g(p.hs_gain_db);
    p
}
