//! Corpus report and JSON dump.

use musichal::corpus::{consonance, CorpusModel, FrameRecord};
use musichal::oracle::{DriveStream, NO_SUFFIX};

fn frame(h: u16, p: u16, onset: bool) -> FrameRecord {
    let mut chroma = [0.0; 12];
    chroma[h as usize % 12] = 1.0;
    FrameRecord {
        time_s: 0.0,
        duration_s: 1.0 / 75.0,
        harmonic_token: Some(h),
        percussive_token: Some(p),
        loudness_db: -20.0,
        chroma,
        pitches: musichal::perception::FramePitches::from_slice(&[60]),
        onset,
        consonance: consonance(&chroma),
        source_idx: 0,
    }
}

fn model() -> CorpusModel {
    let mut m = CorpusModel::new("spectral", "{}", 24_000, 75.0, 16, 2, DriveStream::Harmonic);
    m.centroids_harmonic = vec![0.5; 32];
    m.centroids_percussive = vec![0.5; 32];
    m.source_files = vec!["a.wav".into()];
    // Harmonic tokens 0..16 twice (uniform: 4 bits); percussive always 3 (0 bits).
    for i in 0..32u16 {
        m.frames.push(frame(i % 16, 3, i % 8 == 0));
    }
    m.build_factor_oracle(DriveStream::Harmonic).unwrap();
    m
}

#[test]
fn report_counts_and_entropies() {
    let m = model();
    let r = m.report();
    assert_eq!(r.frames, 32);
    assert_eq!(r.onset_frames, 4);
    // No notes: one event from the recording's start (32 frames are less than MAX_EVENT_S).
    assert_eq!((r.events, r.event_oracle_states), (1, 2));
    assert!((r.mean_event_s - 32.0 / 75.0).abs() < 1e-6);
    assert_eq!(r.harmonic.active_tokens, 16);
    assert!((r.harmonic.entropy_bits - 4.0).abs() < 1e-5);
    assert_eq!(r.percussive.active_tokens, 1);
    assert_eq!(r.percussive.entropy_bits, 0.0);
    assert_eq!(r.harmonic.max_entropy_bits, 4.0);
    assert_eq!(r.oracle_states, 33);
    // Second pass repeats the first: lrs = 1..=16 on states 17..=32.
    assert_eq!(r.max_lrs, 16);
    assert!((r.repeated_share - 0.5).abs() < 1e-6);
    assert!((r.mean_lrs - (136.0 / 32.0)).abs() < 1e-5);
    assert!((r.duration_s - 32.0 / 75.0).abs() < 1e-6);
    assert_eq!(r.mean_consonance, 1.0);
    let text = r.to_string();
    assert!(
        text.contains("16 active tokens") && text.contains("33 states"),
        "{text}"
    );
}

#[test]
fn json_dump_holds_every_frame_and_the_oracle_arrays() {
    let m = model();
    let j = m.to_json();
    let frames = j["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 32);
    for (f, v) in m.frames.iter().zip(frames) {
        assert_eq!(
            v["harmonic_token"].as_u64(),
            f.harmonic_token.map(u64::from)
        );
        assert_eq!(
            v["percussive_token"].as_u64(),
            f.percussive_token.map(u64::from)
        );
    }
    let o = &j["oracle"];
    assert_eq!(o["sfx"].as_array().unwrap().len(), 33);
    assert!(o["sfx"][0].is_null());
    assert_eq!(m.oracle.sfx[0], NO_SUFFIX);
    assert_eq!(o["lrs"].as_array().unwrap().len(), 33);
    assert_eq!(o["transitions"].as_array().unwrap().len(), 33);
    assert_eq!(o["transitions"][0].as_array().unwrap().len(), 16);
    assert_eq!(j["report"]["frames"], 32);
    // Valid JSON text.
    let text = serde_json::to_string(&j).unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
}
