//! The plugin's parameters and persisted non-parameter state.
//!
//! Parameter ids are forever: hosts store automation and presets by these strings. Fields may be
//! renamed; the `#[id = "..."]` strings must not change. `tests/param_ids.rs` snapshots them.

use nice_plug::prelude::*;
use parking_lot::RwLock;
use std::sync::Arc;

/// Lowest selectable output gain, in dB.
pub const OUTPUT_GAIN_MIN_DB: f32 = -24.0;
/// Highest selectable output gain, in dB.
pub const OUTPUT_GAIN_MAX_DB: f32 = 24.0;
/// Output gain smoothing time. Long enough to avoid zipper noise, short enough to feel direct.
pub const OUTPUT_GAIN_SMOOTHING_MS: f32 = 20.0;

/// Term names of the embedded EQ model, in metadata order: the values of "Term A" and "Term B".
/// A user model with other terms maps the same indices onto its own list (modulo its length).
pub fn embedded_term_names() -> Arc<Vec<String>> {
    let names = crate::eq_morph::EqMorphMeta::parse(crate::eq_morph::EMBEDDED_META)
        .map(|m| m.terms.into_iter().map(|t| t.name).collect::<Vec<_>>())
        .unwrap_or_default();
    Arc::new(if names.is_empty() {
        vec!["flat".to_owned()]
    } else {
        names
    })
}

fn term_param(name: &str, default_term: &str, names: &Arc<Vec<String>>) -> IntParam {
    let default = names.iter().position(|n| n == default_term).unwrap_or(0) as i32;
    let (to_text, from_text) = (names.clone(), names.clone());
    IntParam::new(
        name,
        default,
        IntRange::Linear {
            min: 0,
            max: names.len() as i32 - 1,
        },
    )
    .with_value_to_string(Arc::new(move |i| {
        to_text
            .get(i as usize)
            .cloned()
            .unwrap_or_else(|| i.to_string())
    }))
    .with_string_to_value(Arc::new(move |text| {
        let wanted = text.trim().to_lowercase();
        from_text
            .iter()
            .position(|n| *n == wanted)
            .map(|i| i as i32)
            .or_else(|| wanted.parse().ok())
    }))
}

/// Glide time of the morph and intensity smoothers. Short, because the EQ engine glides its
/// coefficients again; this only removes the staircase of stepped automation.
pub const MORPH_SMOOTHING_MS: f32 = 10.0;

#[derive(Params)]
pub struct MusicHalParams {
    /// Linear output gain applied after the EQ. Written by the host/GUI, read by `process()`.
    #[id = "out_gain"]
    pub output_gain: FloatParam,

    /// When on, the EQ is skipped and audio passes through untouched (before output gain).
    #[id = "eq_bypass"]
    pub eq_bypass: BoolParam,

    /// The word at morph 0 (an index into the EQ model's terms).
    #[id = "term_a"]
    pub term_a: IntParam,

    /// The word at morph 1.
    #[id = "term_b"]
    pub term_b: IntParam,

    /// Position between term A (0) and term B (1): the warm <-> bright automation lane.
    /// Automated sample-accurately.
    #[id = "morph"]
    pub morph: FloatParam,

    /// How much of the learned EQ to apply: 0 = flat, 1 = as learned, 2 = twice (gains clamped
    /// to ±12 dB).
    #[id = "intensity"]
    pub intensity: FloatParam,

    /// Path of the user's corpus model (`.mhc`), or `None` for the embedded default. Persisted in
    /// the host's project so a session reopens with the same corpus. Written by the GUI thread.
    #[persist = "corpus-path"]
    pub corpus_path: Arc<RwLock<Option<String>>>,

    /// Path of a user EQ morph model (ONNX; its JSON metadata sits beside it), or `None` for the
    /// embedded default. Persisted like `corpus_path`.
    #[persist = "eq-model-path"]
    pub eq_model_path: Arc<RwLock<Option<String>>>,
}

impl Default for MusicHalParams {
    fn default() -> Self {
        let terms = embedded_term_names();
        Self {
            output_gain: FloatParam::new(
                "Output Gain",
                util::db_to_gain(0.0),
                FloatRange::Skewed {
                    min: util::db_to_gain(OUTPUT_GAIN_MIN_DB),
                    max: util::db_to_gain(OUTPUT_GAIN_MAX_DB),
                    factor: FloatRange::gain_skew_factor(OUTPUT_GAIN_MIN_DB, OUTPUT_GAIN_MAX_DB),
                },
            )
            .with_smoother(SmoothingStyle::Logarithmic(OUTPUT_GAIN_SMOOTHING_MS))
            .with_unit(" dB")
            .with_value_to_string(formatters::v2s_f32_gain_to_db(2))
            .with_string_to_value(formatters::s2v_f32_gain_to_db()),
            eq_bypass: BoolParam::new("EQ Bypass", true),
            term_a: term_param("Term A", "warm", &terms),
            term_b: term_param("Term B", "bright", &terms),
            morph: FloatParam::new("Morph", 0.5, FloatRange::Linear { min: 0.0, max: 1.0 })
                .with_smoother(SmoothingStyle::Linear(MORPH_SMOOTHING_MS))
                .with_unit(" %")
                .with_value_to_string(formatters::v2s_f32_percentage(0))
                .with_string_to_value(formatters::s2v_f32_percentage()),
            intensity: FloatParam::new(
                "Intensity",
                1.0,
                FloatRange::Linear {
                    min: 0.0,
                    max: crate::eq_morph::MAX_INTENSITY,
                },
            )
            .with_smoother(SmoothingStyle::Linear(MORPH_SMOOTHING_MS))
            .with_step_size(0.01),
            corpus_path: Arc::new(RwLock::new(None)),
            eq_model_path: Arc::new(RwLock::new(None)),
        }
    }
}
