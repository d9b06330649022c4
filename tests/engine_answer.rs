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

/// A chord progression of sustained tones (C major diatonic chords, two per second), moved by
/// `shift` semitones.
fn progression(seconds: f32, shift: f32) -> Vec<f32> {
    use musichal::perception::synth::add_tone;
    let mut out = vec![0.0f32; (seconds * RATE as f32) as usize];
    let chords: [[f32; 3]; 6] = [
        [60.0, 64.0, 67.0],
        [65.0, 69.0, 72.0],
        [67.0, 71.0, 74.0],
        [57.0, 60.0, 64.0],
        [62.0, 65.0, 69.0],
        [64.0, 67.0, 71.0],
    ];
    let len = RATE as usize / 2;
    let mut t = 0;
    let mut k = 0;
    while t < out.len() {
        for m in chords[k % chords.len()] {
            add_tone(
                &mut out,
                RATE,
                t,
                len,
                m + shift,
                0.15,
                6,
                1.0,
                0.01,
                f32::INFINITY,
                0.0,
            );
        }
        t += len;
        k += 1;
    }
    out
}

/// A corpus trained on the C major progression.
fn progression_corpus() -> CorpusModel {
    use musichal::trainer::{train_sources, Source, TrainConfig};
    let corpus_audio = progression(12.0, 0.0);
    let (corpus, _) = train_sources(
        &[Source {
            name: "progression.wav".into(),
            samples: corpus_audio,
            rate_hz: RATE,
        }],
        &TrainConfig {
            vocab_size: 16,
            ..TrainConfig::default()
        },
        &mut |_| {},
    )
    .unwrap();
    corpus
}

#[test]
fn transposition_search_follows_a_transposed_corpus_passage() {
    let corpus = progression_corpus();
    let corpus_notes: BTreeSet<u8> = corpus
        .frames
        .iter()
        .flat_map(|f| f.pitches.iter().copied())
        .collect();
    // The same progression a minor third up.
    let live = progression(8.0, 3.0);
    let l = segment_len(RATE as f64);
    let intervals = |range: u8| -> (Vec<i8>, Vec<NoteEvent>) {
        let mut a = Answerer::new(&corpus, 2).unwrap();
        let settings = AnswerSettings {
            transpose_search: range,
            density: 1.0,
            ..AnswerSettings::default()
        };
        let mut notes = Vec::new();
        let mut found = Vec::new();
        for (k, seg) in live.chunks_exact(l).enumerate() {
            let heard = a
                .answer(seg, (k * l) as u64, RATE, &settings, &mut notes)
                .unwrap();
            found.push(heard.interval);
        }
        (found, notes)
    };
    // The search needs a full window of live frames: judge from the third segment on.
    let (full, notes) = intervals(6);
    let thirds = full[2..].iter().filter(|&&i| i == 3).count();
    assert!(
        thirds * 10 >= (full.len() - 2) * 8,
        "a minor third found in only {thirds} of {} segments: {full:?}",
        full.len() - 2
    );
    // The answer is moved by the interval: after the window fills, the notes are the corpus'
    // pitches three semitones up.
    let late: Vec<&NoteEvent> = notes
        .iter()
        .filter(|n| n.start_sample > 3 * l as u64)
        .collect();
    assert!(late.len() > 5);
    let moved = late
        .iter()
        .filter(|n| {
            n.note
                .checked_sub(3)
                .is_some_and(|m| corpus_notes.contains(&m))
        })
        .count();
    assert!(
        moved * 10 >= late.len() * 8,
        "{moved} of {} notes moved",
        late.len()
    );
    // A range of 2 cannot reach a minor third; off means no interval at all.
    let (narrow, _) = intervals(2);
    assert!(!narrow.contains(&3), "{narrow:?}");
    let (off, _) = intervals(0);
    assert!(off.iter().all(|&i| i == 0));
}

/// Mean length of the runs of consecutive states (i -> i + 1) in a navigation.
fn mean_run(states: &[usize]) -> f64 {
    let breaks = states.windows(2).filter(|w| w[1] != w[0] + 1).count();
    states.len() as f64 / (breaks + 1) as f64
}

#[test]
fn the_novelty_dial_means_the_same_on_a_repetitive_and_a_varied_corpus() {
    let varied = embedded();
    let repetitive = progression_corpus();
    let input = render_music(30.0, RATE, 5);
    let l = segment_len(RATE as f64);
    let runs = |corpus: &CorpusModel, novelty: Option<f32>, continuity: f32| -> (f64, f64) {
        let mut a = Answerer::new(corpus, 3).unwrap();
        let settings = AnswerSettings {
            novelty,
            continuity,
            taboo_s: 0.0,
            ..AnswerSettings::default()
        };
        let mut states = Vec::new();
        let mut notes = Vec::new();
        for (k, seg) in input.chunks_exact(l).enumerate() {
            let heard = a
                .answer(seg, (k * l) as u64, RATE, &settings, &mut notes)
                .unwrap();
            states.extend(heard.states);
        }
        (mean_run(&states), a.typical_run())
    };
    let (_, typical_varied) = runs(&varied, None, 0.8);
    let (_, typical_repetitive) = runs(&repetitive, None, 0.8);
    eprintln!("typical runs: varied {typical_varied:.1}, repetitive {typical_repetitive:.1}");
    assert!(
        typical_repetitive > 2.0 * typical_varied,
        "the corpora do not differ enough to prove anything"
    );
    // At the dial's middle each corpus replays about one of its own typical runs between
    // jumps, so the ratio run / typical run is about the same on both ...
    let (mid_varied, _) = runs(&varied, Some(0.5), 0.0);
    let (mid_repetitive, _) = runs(&repetitive, Some(0.5), 0.0);
    let ratio_varied = mid_varied / typical_varied;
    let ratio_repetitive = mid_repetitive / typical_repetitive;
    eprintln!("novelty 0.5: runs {mid_varied:.1} / {mid_repetitive:.1}");
    for r in [ratio_varied, ratio_repetitive] {
        assert!((0.5..=2.0).contains(&r), "run / typical run = {r:.2}");
    }
    // ... which one fixed continuity cannot do: the same continuity gives runs that ignore the
    // corpus (their ratio to the typical run differs by the corpora's difference).
    let c = 1.0 - 1.0 / typical_varied as f32;
    let (fixed_varied, _) = runs(&varied, None, c);
    let (fixed_repetitive, _) = runs(&repetitive, None, c);
    let fixed_spread = (fixed_varied / typical_varied) / (fixed_repetitive / typical_repetitive);
    let dial_spread = ratio_varied / ratio_repetitive;
    assert!(
        fixed_spread > 1.5 * dial_spread.max(1.0 / dial_spread),
        "fixed continuity spread {fixed_spread:.2}, dial spread {dial_spread:.2}"
    );
    // The dial is monotonic: low novelty replays longer than high novelty, on both corpora.
    for corpus in [&varied, &repetitive] {
        let (low, _) = runs(corpus, Some(0.15), 0.0);
        let (high, _) = runs(corpus, Some(0.85), 0.0);
        assert!(
            low > 1.5 * high,
            "novelty 0.15 runs {low:.1}, 0.85 runs {high:.1}"
        );
    }
}

/// Taboo: the input loops 1.4 s of music, so the query keeps matching the same corpus
/// contexts and, without a taboo, the navigation replays the same states again and again.
/// With a taboo of N seconds no state is played again within N seconds of host time while an
/// alternative exists: some state entered after an occurrence of the query's last symbol that
/// was not played within N seconds (the navigator's candidates). With taboo 0 the same input
/// does replay states inside that window while alternatives exist.
#[test]
fn taboo_keeps_states_from_replaying_within_its_window() {
    let corpus = embedded();
    let (tokens, _) = corpus.token_streams().unwrap();
    let n = tokens.len();
    let l = segment_len(RATE as f64);
    let margin = (ANSWER_MARGIN_S * RATE as f64).round();
    let frame_len = RATE as f64 / corpus.frames_per_s as f64;
    let phrase = render_music(4.0, RATE, 23);
    let phrase = &phrase[RATE as usize..RATE as usize + 4 * l];
    let input: Vec<f32> = phrase.iter().copied().cycle().take(40 * l).collect();
    // (states played, replays within `window_s` while an alternative existed, replays without
    // one)
    let replays = |taboo_s: f32, window_s: f64| -> (usize, usize, usize) {
        let mut a = Answerer::new(&corpus, 5).unwrap();
        let settings = AnswerSettings {
            taboo_s,
            ..AnswerSettings::default()
        };
        // Host time (s) each state was last played.
        let mut last = vec![f64::NEG_INFINITY; n + 1];
        let (mut played, mut avoidable, mut forced) = (0, 0, 0);
        let mut notes = Vec::new();
        for (k, seg) in input.chunks_exact(l).enumerate() {
            let heard = a
                .answer(seg, (k * l) as u64, RATE, &settings, &mut notes)
                .unwrap();
            let symbol = *heard.harmonic.last().unwrap();
            // The phrase answering segment k starts one segment plus the margin after it, one
            // state per corpus frame.
            let base = ((k + 1) * l) as f64 + margin;
            for (j, &state) in heard.states.iter().enumerate() {
                let t = (base + j as f64 * frame_len) / RATE as f64;
                if t - last[state] < window_s {
                    // State c + 1 follows frame c - 1 carrying the symbol.
                    let alternative = (0..n - 1)
                        .filter(|&f| tokens[f] == symbol)
                        .any(|f| t - last[f + 2] >= window_s);
                    if alternative {
                        avoidable += 1;
                    } else {
                        forced += 1;
                    }
                }
                last[state] = t;
                played += 1;
            }
        }
        (played, avoidable, forced)
    };
    for taboo_s in [2.0f32, 5.0] {
        // Half a sample short of the taboo: frame times are rounded to samples.
        let window = taboo_s as f64 - 0.5 / RATE as f64;
        let (played, with, forced) = replays(taboo_s, window);
        let (_, without, forced_off) = replays(0.0, window);
        eprintln!(
            "taboo {taboo_s} s: {played} states, {with} avoidable replays within {taboo_s} s \
             ({forced} with no alternative); taboo 0: {without} avoidable ({forced_off} not)"
        );
        assert!(played > 1000, "only {played} states played");
        assert_eq!(with, 0, "taboo {taboo_s} s replays states it could avoid");
        assert!(
            without > 50,
            "taboo 0 replays only {without} states within {taboo_s} s: the test cannot fail"
        );
    }
}
