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

#[derive(Params)]
pub struct MusicHalParams {
    /// Linear output gain applied after the EQ. Written by the host/GUI, read by `process()`.
    #[id = "out_gain"]
    pub output_gain: FloatParam,

    /// When on, the EQ is skipped and audio passes through untouched (before output gain).
    #[id = "eq_bypass"]
    pub eq_bypass: BoolParam,

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
            corpus_path: Arc::new(RwLock::new(None)),
            eq_model_path: Arc::new(RwLock::new(None)),
        }
    }
}
