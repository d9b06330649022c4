//! Parameter ids are forever: hosts save automation and presets by these strings. This snapshot
//! fails when an id is renamed or removed; adding a parameter means adding its id here on
//! purpose.

use nice_plug::prelude::Params;
use std::collections::BTreeSet;

/// Every id ever shipped. Never remove or rename an entry.
const SHIPPED_IDS: &[&str] = &[
    "answer_mode",
    "auto_gain",
    "continuity",
    "density",
    "drive",
    "eq_bypass",
    "follow_changes",
    "grid",
    "intensity",
    "listen",
    "live_learn",
    "midi_channel",
    "morph",
    "note_length",
    "novelty",
    "novelty_dial",
    "onset_reaction",
    "out_gain",
    "swing",
    "tempo",
    "term_a",
    "taboo",
    "term_b",
    "transpose",
    "transpose_search",
    "velocity",
];

#[test]
fn parameter_ids_match_the_snapshot() {
    let params = musichal::params::MusicHalParams::default();
    let ids: BTreeSet<String> = params
        .param_map()
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    let shipped: BTreeSet<String> = SHIPPED_IDS.iter().map(|s| s.to_string()).collect();
    let removed: Vec<_> = shipped.difference(&ids).collect();
    assert!(
        removed.is_empty(),
        "shipped parameter ids disappeared: {removed:?}"
    );
    let new: Vec<_> = ids.difference(&shipped).collect();
    assert!(
        new.is_empty(),
        "new parameter ids must be added to SHIPPED_IDS: {new:?}"
    );
}

#[test]
fn persisted_state_keys_are_stable() {
    let params = musichal::params::MusicHalParams::default();
    *params.corpus_path.write() = Some("my corpus.mhc".into());
    let fields = params.serialize_fields();
    let keys: BTreeSet<&str> = fields.keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["corpus-path", "eq-model-path"]));
    // And they restore.
    let restored = musichal::params::MusicHalParams::default();
    restored.deserialize_fields(&fields);
    assert_eq!(
        restored.corpus_path.read().as_deref(),
        Some("my corpus.mhc")
    );
    assert_eq!(*restored.eq_model_path.read(), None);
}
