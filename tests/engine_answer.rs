//! The answering engine without a host: segments in, timed notes out.

use musichal::corpus::CorpusModel;
use musichal::engine::{AnswerSettings, Answerer, ANSWER_MARGIN_S, EMBEDDED_CORPUS};
use musichal::perception::synth::render_music;
use musichal::rt::{segment_len, NoteEvent};
use std::collections::BTreeSet;

const RATE: u32 = 48_000;

fn embedded() -> CorpusModel {
    CorpusModel::from_bytes(EMBEDDED_CORPUS).expect("the embedded corpus loads")
}

/// Answers `audio` segment by segment; returns every note and the per-segment note counts.
fn answer_all(
    answerer: &mut Answerer,
    audio: &[f32],
    settings: &AnswerSettings,
) -> (Vec<NoteEvent>, Vec<usize>) {
    let l = segment_len(RATE as f64);
    let mut notes = Vec::new();
    let mut counts = Vec::new();
    for (k, seg) in audio.chunks_exact(l).enumerate() {
        let before = notes.len();
        answerer
            .answer(seg, (k * l) as u64, RATE, settings, &mut notes)
            .unwrap();
        counts.push(notes.len() - before);
    }
    (notes, counts)
}

#[test]
fn every_phrase_follows_its_segment_and_plays_corpus_pitches() {
    let corpus = embedded();
    let corpus_pitches: BTreeSet<u8> = corpus
        .frames
        .iter()
        .flat_map(|f| f.pitches.iter().copied())
        .collect();
    let mut a = Answerer::new(&corpus, 1).unwrap();
    let audio = render_music(10.0, RATE, 77);
    let settings = AnswerSettings::default();
    let l = segment_len(RATE as f64) as u64;
    let margin = (ANSWER_MARGIN_S * RATE as f64).round() as u64;
    let mut notes = Vec::new();
    for (k, seg) in audio.chunks_exact(l as usize).enumerate() {
        let before = notes.len();
        a.answer(seg, k as u64 * l, RATE, &settings, &mut notes)
            .unwrap();
        // The phrase for segment k lies in [end + margin, end + margin + L).
        let start = (k as u64 + 1) * l + margin;
        for n in &notes[before..] {
            assert!(
                n.start_sample >= start && n.start_sample < start + l,
                "segment {k}: note at {} outside [{start}, {})",
                n.start_sample,
                start + l
            );
            assert!(n.duration_samples >= 3 * RATE / 75 - 1, "{n:?}");
            assert!(
                corpus_pitches.contains(&n.note),
                "{} never occurs in the corpus",
                n.note
            );
        }
    }
    let answered = notes.len();
    assert!(answered > 20, "only {answered} notes for 10 s of music");

    // Transpose shifts the same answer; density 0 silences it; listen off silences it.
    let mut a = Answerer::new(&corpus, 1).unwrap();
    let (base, _) = answer_all(&mut a, &audio, &settings);
    let mut a = Answerer::new(&corpus, 1).unwrap();
    let up = AnswerSettings {
        transpose: 5,
        ..settings
    };
    let (shifted, _) = answer_all(&mut a, &audio, &up);
    let keys = |v: &[NoteEvent]| {
        v.iter()
            .map(|n| (n.start_sample, n.note))
            .collect::<Vec<_>>()
    };
    let expected: Vec<_> = keys(&base)
        .into_iter()
        .filter(|&(_, n)| n <= 122)
        .map(|(t, n)| (t, n + 5))
        .collect();
    assert_eq!(keys(&shifted), expected);
    for quiet in [
        AnswerSettings {
            density: 0.0,
            ..settings
        },
        AnswerSettings {
            listen: false,
            ..settings
        },
    ] {
        let mut a = Answerer::new(&corpus, 1).unwrap();
        assert!(answer_all(&mut a, &audio, &quiet).0.is_empty());
    }
}

#[test]
fn silence_gets_no_answer_and_the_same_input_the_same_answer() {
    let corpus = embedded();
    let mut a = Answerer::new(&corpus, 3).unwrap();
    let silence = vec![0.0f32; RATE as usize * 3];
    let (notes, _) = answer_all(&mut a, &silence, &AnswerSettings::default());
    assert!(notes.is_empty(), "{} notes answered silence", notes.len());

    let audio = render_music(5.0, RATE, 5);
    let run = || {
        let mut a = Answerer::new(&corpus, 3).unwrap();
        answer_all(&mut a, &audio, &AnswerSettings::default()).0
    };
    assert_eq!(run(), run());
}

#[test]
fn live_learning_grows_the_oracle_and_every_drive_answers() {
    let corpus = embedded();
    let audio = render_music(4.0, RATE, 11);
    let mut a = Answerer::new(&corpus, 3).unwrap();
    let states = a.oracle_states();
    let learn = AnswerSettings {
        live_learning: true,
        ..AnswerSettings::default()
    };
    answer_all(&mut a, &audio, &learn);
    // 4 s at 75 frames/s, minus the front end's start-up latency.
    let grown = a.oracle_states() - states;
    assert!((250..=300).contains(&grown), "{grown} states learned");
    for drive in [
        musichal::oracle::DriveStream::Percussive,
        musichal::oracle::DriveStream::Both,
    ] {
        let mut a = Answerer::new(&corpus, 3).unwrap();
        let s = AnswerSettings {
            drive,
            ..AnswerSettings::default()
        };
        let (notes, _) = answer_all(&mut a, &audio, &s);
        assert!(!notes.is_empty(), "{drive:?}: no answer");
        assert_eq!(a.drive(), drive);
    }
}
