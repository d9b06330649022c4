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

/// The `drive` parameter: which token stream(s) steer the oracle.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriveParam {
    #[id = "harmonic"]
    #[name = "Harmonic"]
    Harmonic,
    #[id = "percussive"]
    #[name = "Percussive"]
    Percussive,
    #[id = "both"]
    #[name = "Both"]
    Both,
}

impl From<DriveParam> for crate::oracle::DriveStream {
    fn from(d: DriveParam) -> Self {
        match d {
            DriveParam::Harmonic => Self::Harmonic,
            DriveParam::Percussive => Self::Percussive,
            DriveParam::Both => Self::Both,
        }
    }
}

/// The `answer_mode` parameter: when answers play (see [`crate::engine::quantise`]).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerModeParam {
    #[id = "free"]
    #[name = "Free"]
    Free,
    #[id = "beat"]
    #[name = "Beat"]
    Beat,
    #[id = "bar"]
    #[name = "Bar"]
    Bar,
}

/// The `grid` parameter of the *beat* mode.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum GridParam {
    #[id = "quarter"]
    #[name = "1/4"]
    Quarter,
    #[id = "eighth"]
    #[name = "1/8"]
    Eighth,
    #[id = "sixteenth"]
    #[name = "1/16"]
    Sixteenth,
    #[id = "quarter_triplet"]
    #[name = "1/4 T"]
    QuarterTriplet,
    #[id = "eighth_triplet"]
    #[name = "1/8 T"]
    EighthTriplet,
    #[id = "sixteenth_triplet"]
    #[name = "1/16 T"]
    SixteenthTriplet,
}

impl From<GridParam> for crate::engine::quantise::Grid {
    fn from(g: GridParam) -> Self {
        use crate::engine::quantise::Grid;
        match g {
            GridParam::Quarter => Grid::Quarter,
            GridParam::Eighth => Grid::Eighth,
            GridParam::Sixteenth => Grid::Sixteenth,
            GridParam::QuarterTriplet => Grid::QuarterTriplet,
            GridParam::EighthTriplet => Grid::EighthTriplet,
            GridParam::SixteenthTriplet => Grid::SixteenthTriplet,
        }
    }
}

impl MusicHalParams {
    /// The timing settings the parameters ask for. Real-time safe.
    pub fn timing_settings(&self) -> crate::engine::quantise::TimingSettings {
        use crate::engine::quantise::AnswerMode;
        crate::engine::quantise::TimingSettings {
            mode: match self.answer_mode.value() {
                AnswerModeParam::Free => AnswerMode::Free,
                AnswerModeParam::Beat => AnswerMode::Beat,
                AnswerModeParam::Bar => AnswerMode::Bar,
            },
            grid: self.grid.value().into(),
            swing: self.swing.value(),
        }
    }

    /// The answer settings the parameters ask for. Real-time safe.
    pub fn answer_settings(&self) -> crate::engine::AnswerSettings {
        crate::engine::AnswerSettings {
            listen: self.listen.value(),
            density: self.density.value(),
            continuity: self.continuity.value(),
            channel: (self.midi_channel.value().clamp(1, 16) - 1) as u8,
            length_scale: self.note_length.value(),
            velocity_scale: self.velocity.value(),
            transpose: self.transpose.value().clamp(-24, 24) as i8,
            drive: self.drive.value().into(),
            live_learning: self.live_learning.value(),
            taboo_s: self.taboo.value(),
            transpose_search: self.transpose_search.value().clamp(0, 6) as u8,
            novelty: self.novelty_dial.value().then(|| self.novelty.value()),
            early: self.onset_reaction.value(),
            follow_changes: self.follow_changes.value(),
        }
    }
}

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
    /// Keep the EQ's output as loud as its input (BS.1770 short-term loudness).
    #[id = "auto_gain"]
    pub auto_gain: BoolParam,

    /// Answer the input in MIDI at all.
    #[id = "listen"]
    pub listen: BoolParam,

    /// Probability that a note the corpus plays is played.
    #[id = "density"]
    pub density: FloatParam,

    /// Probability of continuing linearly in the corpus rather than jumping.
    #[id = "continuity"]
    pub continuity: FloatParam,

    /// MIDI channel of the answer, 1..=16.
    #[id = "midi_channel"]
    pub midi_channel: IntParam,

    /// Note length multiplier.
    #[id = "note_length"]
    pub note_length: FloatParam,

    /// Velocity multiplier.
    #[id = "velocity"]
    pub velocity: FloatParam,

    /// Semitones added to the answer.
    #[id = "transpose"]
    pub transpose: IntParam,

    /// Which token stream(s) drive the oracle.
    #[id = "drive"]
    pub drive: EnumParam<DriveParam>,

    /// Append the live input to the oracle while playing.
    #[id = "live_learn"]
    pub live_learning: BoolParam,

    /// Seconds before a corpus moment already played may be played again.
    #[id = "taboo"]
    pub taboo: FloatParam,

    /// Answer a transient after silence from the part of its segment that has arrived.
    #[id = "onset_reaction"]
    pub onset_reaction: BoolParam,

    /// Leave out the notes of a decided phrase that clash with a chord the input changes to.
    #[id = "follow_changes"]
    pub follow_changes: BoolParam,

    /// Use the novelty dial instead of the raw continuity.
    #[id = "novelty_dial"]
    pub novelty_dial: BoolParam,

    /// Novelty: replay (0) to jumps (1), calibrated on the corpus' repeat structure.
    #[id = "novelty"]
    pub novelty: FloatParam,

    /// Transposition search range, semitones (0 = off): the answer follows the input's key.
    #[id = "transpose_search"]
    pub transpose_search: IntParam,

    /// When answers play: free, on a beat grid, or a phrase per bar.
    #[id = "answer_mode"]
    pub answer_mode: EnumParam<AnswerModeParam>,

    /// Grid of the beat mode.
    #[id = "grid"]
    pub grid: EnumParam<GridParam>,

    /// Swing of the beat grid: every second grid point is delayed by up to half a step.
    #[id = "swing"]
    pub swing: FloatParam,

    /// Tempo when the host gives none (offline render, hosts without a transport).
    #[id = "tempo"]
    pub tempo: FloatParam,

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
            auto_gain: BoolParam::new("Auto Gain", true),
            listen: BoolParam::new("Listen", true),
            density: FloatParam::new("Density", 0.8, FloatRange::Linear { min: 0.0, max: 1.0 })
                .with_unit(" %")
                .with_value_to_string(formatters::v2s_f32_percentage(0))
                .with_string_to_value(formatters::s2v_f32_percentage()),
            continuity: FloatParam::new(
                "Continuity",
                0.8,
                FloatRange::Linear { min: 0.0, max: 1.0 },
            )
            .with_unit(" %")
            .with_value_to_string(formatters::v2s_f32_percentage(0))
            .with_string_to_value(formatters::s2v_f32_percentage()),
            midi_channel: IntParam::new("MIDI Channel", 1, IntRange::Linear { min: 1, max: 16 }),
            note_length: FloatParam::new(
                "Note Length",
                1.0,
                FloatRange::Skewed {
                    min: 0.25,
                    max: 4.0,
                    factor: FloatRange::skew_factor(-1.0),
                },
            )
            .with_unit(" x")
            .with_step_size(0.01),
            velocity: FloatParam::new("Velocity", 1.0, FloatRange::Linear { min: 0.0, max: 2.0 })
                .with_unit(" x")
                .with_step_size(0.01),
            transpose: IntParam::new("Transpose", 0, IntRange::Linear { min: -24, max: 24 })
                .with_unit(" st"),
            drive: EnumParam::new("Drive", DriveParam::Harmonic),
            live_learning: BoolParam::new("Live Learning", false),
            taboo: FloatParam::new(
                "Taboo",
                2.0,
                FloatRange::Linear {
                    min: 0.0,
                    max: 10.0,
                },
            )
            .with_unit(" s")
            .with_step_size(0.1),
            onset_reaction: BoolParam::new("Onset Reaction", true),
            follow_changes: BoolParam::new("Follow Changes", true),
            novelty_dial: BoolParam::new("Novelty Dial", false),
            novelty: FloatParam::new("Novelty", 0.5, FloatRange::Linear { min: 0.0, max: 1.0 })
                .with_unit(" %")
                .with_value_to_string(formatters::v2s_f32_percentage(0))
                .with_string_to_value(formatters::s2v_f32_percentage()),
            transpose_search: IntParam::new(
                "Transpose Search",
                0,
                IntRange::Linear { min: 0, max: 6 },
            )
            .with_unit(" st"),
            answer_mode: EnumParam::new("Answer Mode", AnswerModeParam::Free),
            grid: EnumParam::new("Grid", GridParam::Eighth),
            swing: FloatParam::new("Swing", 0.0, FloatRange::Linear { min: 0.0, max: 1.0 })
                .with_unit(" %")
                .with_value_to_string(formatters::v2s_f32_percentage(0))
                .with_string_to_value(formatters::s2v_f32_percentage()),
            tempo: FloatParam::new(
                "Tempo",
                crate::rt::clock::DEFAULT_TEMPO_BPM as f32,
                FloatRange::Linear {
                    min: 40.0,
                    max: 240.0,
                },
            )
            .with_unit(" BPM")
            .with_step_size(0.01),
            corpus_path: Arc::new(RwLock::new(None)),
            eq_model_path: Arc::new(RwLock::new(None)),
        }
    }
}
