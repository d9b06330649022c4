//! The EQ model's metadata (`assets/eq_morph.json`), validated on load.

use super::EqMorphError;
use serde::Deserialize;

/// Order of the 13 decoder outputs. Units follow the names.
pub const PARAM_ORDER: [&str; 13] = [
    "ls_gain_db",
    "ls_freq_hz",
    "p1_gain_db",
    "p1_freq_hz",
    "p1_q",
    "p2_gain_db",
    "p2_freq_hz",
    "p2_q",
    "p3_gain_db",
    "p3_freq_hz",
    "p3_q",
    "hs_gain_db",
    "hs_freq_hz",
];

/// The metadata format this build reads.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Deserialize)]
pub struct TermInfo {
    /// Lower-case descriptor, e.g. "warm".
    pub name: String,
    /// Training examples behind the centroid.
    pub count: usize,
    /// Mean latent of the term's training examples.
    pub centroid: Vec<f32>,
    /// Per-dimension standard deviation of those latents.
    #[serde(default)]
    pub spread: Vec<f32>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EqMorphMeta {
    pub format_version: u32,
    pub latent_dim: usize,
    pub param_order: Vec<String>,
    pub terms: Vec<TermInfo>,
    /// Per-parameter `[min, max]` in physical units: either an object keyed by parameter name
    /// or a list in [`PARAM_ORDER`]. Read through [`EqMorphMeta::ranges`].
    #[serde(default)]
    pub ranges: serde_json::Value,
    #[serde(default)]
    pub training_data_sha256: String,
    #[serde(default)]
    pub evaluation: serde_json::Value,
    #[serde(default = "default_input")]
    pub onnx_input: String,
    #[serde(default = "default_output")]
    pub onnx_output: String,
}

fn default_input() -> String {
    "latent".into()
}
fn default_output() -> String {
    "params".into()
}

impl EqMorphMeta {
    pub fn parse(json: &str) -> Result<Self, EqMorphError> {
        let invalid = |message: String| EqMorphError::MetadataInvalid { message };
        let meta: EqMorphMeta =
            serde_json::from_str(json).map_err(|e| invalid(format!("not valid JSON: {e}")))?;
        if meta.format_version != FORMAT_VERSION {
            return Err(invalid(format!(
                "format_version {} is not supported (this build reads {FORMAT_VERSION})",
                meta.format_version
            )));
        }
        if meta.latent_dim == 0 || meta.latent_dim > 64 {
            return Err(invalid(format!(
                "latent_dim {} out of range 1..=64",
                meta.latent_dim
            )));
        }
        if meta.param_order != PARAM_ORDER {
            return Err(invalid(format!(
                "param_order {:?} differs from {:?}",
                meta.param_order, PARAM_ORDER
            )));
        }
        if meta.terms.is_empty() {
            return Err(invalid("no terms".into()));
        }
        for (i, t) in meta.terms.iter().enumerate() {
            if t.name.is_empty() || t.name != t.name.trim().to_lowercase() {
                return Err(invalid(format!(
                    "term {i} name '{}' is not trimmed lower case",
                    t.name
                )));
            }
            if meta.terms[..i].iter().any(|o| o.name == t.name) {
                return Err(invalid(format!("term '{}' appears twice", t.name)));
            }
            if t.centroid.len() != meta.latent_dim || t.centroid.iter().any(|v| !v.is_finite()) {
                return Err(invalid(format!(
                    "term '{}' centroid must be {} finite numbers",
                    t.name, meta.latent_dim
                )));
            }
        }
        meta.parse_ranges().map_err(invalid)?;
        Ok(meta)
    }

    /// The decoder's output range per parameter, in [`PARAM_ORDER`]. Where the metadata gives
    /// none, the EQ's global limits (20 Hz–20 kHz, ±12 dB, Q 0.1–10).
    pub fn ranges(&self) -> [(f32, f32); 13] {
        self.parse_ranges().unwrap_or_else(|_| global_ranges())
    }

    fn parse_ranges(&self) -> Result<[(f32, f32); 13], String> {
        let mut out = global_ranges();
        let pair = |v: &serde_json::Value| -> Option<(f32, f32)> {
            let a = v.as_array()?;
            Some((a.first()?.as_f64()? as f32, a.get(1)?.as_f64()? as f32))
        };
        match &self.ranges {
            serde_json::Value::Null => return Ok(out),
            serde_json::Value::Object(map) => {
                for (k, name) in PARAM_ORDER.iter().enumerate() {
                    if let Some(v) = map.get(*name) {
                        out[k] = pair(v).ok_or(format!("range of {name} is not [min, max]"))?;
                    }
                }
            }
            serde_json::Value::Array(list) if list.len() == 13 => {
                for (k, v) in list.iter().enumerate() {
                    out[k] = pair(v).ok_or(format!("range {k} is not [min, max]"))?;
                }
            }
            _ => return Err("ranges must be an object or a list of 13 pairs".into()),
        }
        let global = global_ranges();
        for (k, ((lo, hi), (glo, ghi))) in out.iter().zip(global).enumerate() {
            // 1e-3 relative slack: ranges written as decimal text round-trip through f32.
            let slack = 1e-3 * ghi.abs().max(1.0);
            if !(lo < hi) || *lo < glo - slack || *hi > ghi + slack {
                return Err(format!(
                    "range of {} [{lo}, {hi}] is outside the EQ's limits [{glo}, {ghi}]",
                    PARAM_ORDER[k]
                ));
            }
        }
        Ok(out)
    }
}

/// The EQ's hard limits per parameter, in [`PARAM_ORDER`].
pub fn global_ranges() -> [(f32, f32); 13] {
    use crate::dsp::params::{MAX_FREQ_HZ, MAX_GAIN_DB, MAX_Q, MIN_FREQ_HZ, MIN_Q};
    let g = (-MAX_GAIN_DB, MAX_GAIN_DB);
    let f = (MIN_FREQ_HZ, MAX_FREQ_HZ);
    let q = (MIN_Q, MAX_Q);
    [g, f, g, f, q, g, f, q, g, f, q, g, f]
}
