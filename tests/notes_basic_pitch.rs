//! Basic Pitch note creation against the Python reference (basic-pitch 0.4.0) on the committed
//! fixtures of `tests/fixtures/notes/` (posteriors + the reference's notes for five parameter
//! sets; `make_fixtures.py` there makes them), and the whole-file path on a synthetic tone.
//!
//! The fixture tests need nothing but the files. The whole-file test needs ONNX Runtime and
//! `nmp.onnx` (`cargo xtask test` provides both) and fails without them.

use std::path::{Path, PathBuf};

use musichal::notes::basic_pitch::{
    decode_notes, reference_frame_count, reference_posteriors, reference_posteriors_at_rate,
    transcribe, FrameNote, NoteCreationParams,
};
use musichal::perception::basic_pitch::{BasicPitch, NUM_NOTES, SAMPLE_RATE_HZ};
use serde_json::Value;

#[path = "notes_common/npy.rs"]
mod npy;

fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/notes")
        .join(name)
}

/// The reference's note: (start_frame, end_frame, pitch, amplitude, start_s, end_s, velocity).
type RefNote = (usize, usize, u8, f32, f64, f64, u8);

fn params_of(case: &Value) -> NoteCreationParams {
    let p = &case["params"];
    let d = NoteCreationParams::default();
    NoteCreationParams {
        onset_threshold: p["onset_thresh"].as_f64().unwrap(),
        frame_threshold: p["frame_thresh"].as_f64().unwrap(),
        minimum_note_length_ms: p["min_note_ms"].as_f64().unwrap(),
        infer_onsets: p.get("infer_onsets").is_none_or(|v| v.as_bool().unwrap()),
        melodia_trick: p.get("melodia_trick").is_none_or(|v| v.as_bool().unwrap()),
        minimum_frequency_hz: p.get("min_freq").map(|v| v.as_f64().unwrap()),
        maximum_frequency_hz: p.get("max_freq").map(|v| v.as_f64().unwrap()),
        ..d
    }
}

fn ref_notes(case: &Value) -> Vec<RefNote> {
    case["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let f = |i: usize| n[i].as_f64().unwrap();
            // Times are repr strings: Rust's parse is correctly rounded, serde_json's is not.
            let exact = |i: usize| n[i].as_str().unwrap().parse::<f64>().unwrap();
            (
                f(0) as usize,
                f(1) as usize,
                f(2) as u8,
                f(3) as f32,
                exact(4),
                exact(5),
                f(6) as u8,
            )
        })
        .collect()
}

fn ours(n: &FrameNote) -> RefNote {
    (
        n.start_frame,
        n.end_frame,
        n.pitch,
        n.amplitude,
        n.start_s(),
        n.end_s(),
        n.velocity(),
    )
}

/// Every case of a fixture: the same notes in the same order, frames, pitches, f32
/// amplitudes, f64 times and velocities all equal to the reference's.
fn check_fixture(name: &str) {
    let dir = fixture_dir(name);
    let (rows, cols, note) = npy::read_npy_f32(&dir.join("note.npy")).unwrap();
    let (onset_rows, onset_cols, onset) = npy::read_npy_f32(&dir.join("onset.npy")).unwrap();
    assert_eq!((cols, onset_cols, onset_rows), (NUM_NOTES, NUM_NOTES, rows));
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    assert_eq!(doc["n_frames"].as_u64().unwrap() as usize, rows);
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(
        cases.len(),
        5,
        "{name}: defaults, no_melodia, no_infer_onsets, freq_limits, thresholds"
    );
    for case in cases {
        let label = format!("{name}/{}", case["name"]);
        let want = ref_notes(case);
        assert!(
            !want.is_empty(),
            "{label}: a fixture case without notes tests nothing"
        );
        let got: Vec<RefNote> = decode_notes(&note, &onset, rows, &params_of(case))
            .unwrap()
            .iter()
            .map(ours)
            .collect();
        if let Some(i) = (0..got.len().min(want.len())).find(|&i| got[i] != want[i]) {
            panic!(
                "{label}: note {i} differs: ours {:?}, reference {:?}",
                got[i], want[i]
            );
        }
        assert_eq!(got.len(), want.len(), "{label}: note count");
    }
}

#[test]
fn ensemble_posteriors_decode_to_the_reference_notes() {
    check_fixture("ensemble");
}

#[test]
fn adversarial_posteriors_decode_to_the_reference_notes() {
    check_fixture("adversarial");
}

#[test]
fn fixture_cases_differ_from_each_other() {
    // Each parameter set changes the notes of each fixture, so each case tests its setting.
    for name in ["ensemble", "adversarial"] {
        let doc: Value = serde_json::from_str(
            &std::fs::read_to_string(fixture_dir(name).join("expected.json")).unwrap(),
        )
        .unwrap();
        let cases = doc["cases"].as_array().unwrap();
        let defaults = ref_notes(&cases[0]);
        for case in &cases[1..] {
            assert_ne!(ref_notes(case), defaults, "{name}/{}", case["name"]);
        }
    }
}

/// The model, or a failure naming what is missing: this test may not skip.
fn model() -> BasicPitch {
    BasicPitch::load_default().unwrap_or_else(|e| {
        panic!(
            "the whole-file Basic Pitch test needs ONNX Runtime (ORT_DYLIB_PATH) and nmp.onnx \
             (MUSICHAL_BASIC_PITCH_PATH; cargo xtask fetch-basic-pitch): {e}"
        )
    })
}

/// Silence, then A4 (six harmonics) from `on_s` to `off_s`, then silence, `len_s` long.
fn a4_tone(rate_hz: u32, on_s: f64, off_s: f64, len_s: f64) -> Vec<f32> {
    let n = (len_s * rate_hz as f64) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / rate_hz as f64;
            if t < on_s || t >= off_s {
                return 0.0;
            }
            let s: f64 = (1..=6)
                .map(|h| (2.0 * std::f64::consts::PI * 440.0 * h as f64 * t).sin() / h as f64)
                .sum();
            (0.25 * s) as f32
        })
        .collect()
}

#[test]
fn whole_file_notes_of_a_tone_at_two_rates() {
    let mut bp = model();
    // 5 s at 22,050 Hz: 110,250 samples, 110250 * 86 / 22050 = 430 frames, 4 windows
    // (3840 + 110250 = 114090 samples of padded input, 36164 apart).
    let audio = a4_tone(SAMPLE_RATE_HZ, 1.0, 4.0, 5.0);
    let post = reference_posteriors(&mut bp, &audio).unwrap();
    assert_eq!(post.n_frames, 430);
    assert_eq!(reference_frame_count(audio.len()), 430);
    assert_eq!(post.notes.len(), 430 * NUM_NOTES);
    for (rate, audio) in [
        (SAMPLE_RATE_HZ, audio),
        (44_100, a4_tone(44_100, 1.0, 4.0, 5.0)),
    ] {
        let notes = transcribe(&mut bp, &audio, rate, &NoteCreationParams::default()).unwrap();
        let a4: Vec<&FrameNote> = notes.iter().filter(|n| n.pitch == 69).collect();
        assert_eq!(a4.len(), 1, "{rate} Hz: one A4 in {notes:?}");
        let (on, off) = (a4[0].start_s(), a4[0].end_s());
        // Onsets within the 50 ms; the release within a few frames.
        assert!((on - 1.0).abs() <= 0.05, "{rate} Hz: onset {on}");
        assert!((off - 4.0).abs() <= 0.1, "{rate} Hz: offset {off}");
        // Nothing starts in the silence before the tone.
        assert!(
            notes.iter().all(|n| n.start_s() > 0.9),
            "{rate} Hz: {notes:?}"
        );
    }
    // Resampling is what the other rate adds: the 44.1 kHz posteriors have the frame count of
    // the 22.05 kHz audio they are resampled to.
    let post =
        reference_posteriors_at_rate(&mut bp, &a4_tone(44_100, 1.0, 4.0, 5.0), 44_100).unwrap();
    assert_eq!(post.n_frames, 430);
}
