//! The answering engine without a host: segments in, timed notes out.

use musichal::corpus::CorpusModel;
use musichal::engine::{AnswerSettings, Answerer, ANSWER_MARGIN_S, EMBEDDED_CORPUS};
use musichal::limits::segment_len;
use musichal::perception::synth::render_music;
use musichal::rt::NoteEvent;
use std::collections::BTreeSet;

const RATE: u32 = 48_000;

fn embedded() -> CorpusModel {
    CorpusModel::from_bytes(EMBEDDED_CORPUS).expect("the embedded corpus loads")
}

/// Distinct onsets of `notes`: starts within 50 ms of the previous counted one are one (a
/// chord is one onset).
fn onset_count(notes: &[NoteEvent]) -> usize {
    let mut starts: Vec<u64> = notes.iter().map(|n| n.start_sample).collect();
    starts.sort_unstable();
    starts.dedup_by(|b, a| b.abs_diff(*a) < u64::from(RATE) / 20);
    starts.len()
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
    // 12 s: the answer is voiced to the input's chord, which leaves clashing notes out.
    let audio = render_music(12.0, RATE, 77);
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
    assert!(answered > 20, "only {answered} notes for 12 s of music");

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
fn live_learning_appends_every_live_frame_to_the_oracle() {
    let corpus = embedded();
    let audio = render_music(4.0, RATE, 11);
    let mut a = Answerer::new(&corpus, 3).unwrap();
    let states = a.oracle_states();
    let learn = AnswerSettings {
        live_learning: true,
        ..AnswerSettings::default()
    };
    let l = segment_len(RATE as f64);
    let mut notes = Vec::new();
    let mut heard_frames = 0;
    for (k, seg) in audio.chunks_exact(l).enumerate() {
        let heard = a
            .answer(seg, (k * l) as u64, RATE, &learn, &mut notes)
            .unwrap();
        heard_frames += heard.harmonic.len();
    }
    // One oracle state per live frame heard, no more, no fewer.
    assert!(heard_frames > 250, "only {heard_frames} frames in 4 s");
    assert_eq!(a.oracle_states() - states, heard_frames);
    // The live frames are cut into events (at the live onsets, at least every second, never
    // closer than the onset detector's 4 refractory frames), and each event cut is appended to
    // the event oracle (the one still being heard is not).
    let live_events = a.event_states() - (corpus.events.len() + 1);
    let per_second = (heard_frames as f64 / 75.0).floor() as usize;
    assert!(
        live_events + 1 >= per_second && live_events <= heard_frames / 4,
        "{live_events} live events in {heard_frames} frames"
    );
    // Without live learning the oracle stays the corpus'.
    let mut a = Answerer::new(&corpus, 3).unwrap();
    answer_all(&mut a, &audio, &AnswerSettings::default());
    assert_eq!(a.oracle_states(), states);
    assert_eq!(a.event_states(), corpus.events.len() + 1);
}

/// Drive picks the token stream that steers the walk (README: "which gesture-token stream
/// steers the oracle"). With Continuity 0 and no taboo every step into a new corpus event is a
/// jump on the event oracle, which weighs the events before a candidate against the live
/// events (their labels in the driving stream) and the harmony it lands in. So a landing
/// follows an event with the live event's label in the driving stream far more often than one
/// with its label in the other stream, which matches only by chance or through the harmony.
#[test]
fn the_drive_picks_the_stream_whose_context_the_answer_follows() {
    use musichal::oracle::DriveStream;
    let corpus = embedded();
    // The corpus event starting at each frame.
    let mut event_at = vec![None; corpus.frames.len()];
    for (k, e) in corpus.events.iter().enumerate() {
        event_at[e.first_frame as usize] = Some(k);
    }
    let audio = render_music(30.0, RATE, 11);
    let l = segment_len(RATE as f64);
    // (jumps judged, share landing after an event with the live event's harmonic label, share
    // after one with its percussive label)
    let follows = |drive: DriveStream| -> (usize, f64, f64) {
        let mut a = Answerer::new(&corpus, 3).unwrap();
        let settings = AnswerSettings {
            drive,
            continuity: 0.0,
            taboo_s: 0.0,
            ..AnswerSettings::default()
        };
        let (mut judged, mut h_match, mut p_match) = (0usize, 0usize, 0usize);
        let mut previous = 0usize;
        let mut notes = Vec::new();
        for (k, seg) in audio.chunks_exact(l).enumerate() {
            let heard = a
                .answer(seg, (k * l) as u64, RATE, &settings, &mut notes)
                .unwrap();
            let Some((h, p)) = heard.live_event else {
                continue;
            };
            // Continuity counts events: inside a corpus event the walk goes on linearly, and
            // at continuity 0 every step into a new event is a jump on the event oracle, to an
            // event whose events before it match the live events'. Those are judged: the
            // labels of the event before the landing against the live event's.
            for &state in &heard.states {
                let jumped = state != previous + 1;
                previous = state;
                if !jumped {
                    continue;
                }
                let Some(e) = event_at[state - 1] else {
                    panic!(
                        "{drive:?}: a jump landed inside an event (frame {})",
                        state - 1
                    );
                };
                if e == 0 {
                    continue; // no event before it
                }
                let before = &corpus.events[e - 1];
                judged += 1;
                h_match += usize::from(before.harmonic_label == h);
                p_match += usize::from(before.percussive_label == p);
            }
        }
        let share = |m: usize| m as f64 / judged as f64;
        (judged, share(h_match), share(p_match))
    };
    for drive in [
        DriveStream::Harmonic,
        DriveStream::Percussive,
        DriveStream::Both,
    ] {
        let (judged, h, p) = follows(drive);
        eprintln!(
            "{drive:?}: {judged} jumps; after the live event's harmonic label {h:.3}, \
             percussive {p:.3}"
        );
        assert!(judged >= 30, "{drive:?}: only {judged} jumps judged");
        // A jump weighs the shared context of events in the driving stream against the harmony
        // it lands in (EVENT_HARMONY_WEIGHT), so not every jump follows the live label; but the
        // driving stream's label is followed far more often than the other's, which matches by
        // chance (1/64 at random) or through the harmony preference.
        match drive {
            DriveStream::Harmonic | DriveStream::Percussive => {
                let (steered, other) = if drive == DriveStream::Harmonic {
                    (h, p)
                } else {
                    (p, h)
                };
                assert!(
                    steered >= 0.25 && steered >= 4.0 * other,
                    "{drive:?}: {steered:.3} of the jumps follow the driving stream's label, \
                     {other:.3} the other's"
                );
            }
            // Both: the symbol is the pair, so exact matches are rarer and the harmony wins
            // more jumps; each stream's label is still followed far above chance (1/64).
            DriveStream::Both => assert!(h >= 0.12 && p >= 0.12, "{h:.3} / {p:.3}"),
        }
    }
}

/// README: "Silence (below −55 dB) is not answered". The level is the frame's: the mean square
/// of an 85 ms Hann-windowed frame (the spectral encoder's n_fft 2048 at 24 kHz), in dB, a
/// full-scale sine reading −3 dB; a segment is answered when its loudest frame reaches −55 dB.
/// The test measures that level itself on the host-rate input (4096-sample Hann windows, hop
/// 640, `sum (w x)^2 / sum w^2`) and scales the music 2 dB either side of the gate. Music whose
/// sample peak is at −60 dBFS cannot have a frame above −60 dB, so it is never answered.
#[test]
fn the_silence_gate_answers_only_frames_above_minus_55_db() {
    const GATE_DB: f64 = -55.0;
    let corpus = embedded();
    let audio = render_music(6.0, RATE, 5);
    let win = 4096;
    let w: Vec<f64> = (0..win)
        .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / win as f64).cos())
        .collect();
    let w2: f64 = w.iter().map(|v| v * v).sum();
    let loudest_ms = (0..=audio.len() - win)
        .step_by(640)
        .map(|s| {
            audio[s..s + win]
                .iter()
                .zip(&w)
                .map(|(&x, w)| (x as f64 * w).powi(2))
                .sum::<f64>()
                / w2
        })
        .fold(0.0f64, f64::max);
    let loudest_db = 10.0 * loudest_ms.log10();
    let peak_db = 20.0 * audio.iter().fold(0.0f32, |m, x| m.max(x.abs())).log10() as f64;
    eprintln!("music: sample peak {peak_db:.2} dBFS, loudest frame {loudest_db:.2} dB");
    let notes_at = |gain_db: f64| -> usize {
        let g = 10f64.powf(gain_db / 20.0) as f32;
        let scaled: Vec<f32> = audio.iter().map(|x| x * g).collect();
        let mut a = Answerer::new(&corpus, 3).unwrap();
        answer_all(&mut a, &scaled, &AnswerSettings::default())
            .0
            .len()
    };
    // Loudest frame 2 dB above the gate: answered.
    let above = notes_at(GATE_DB + 2.0 - loudest_db);
    // Loudest frame 2 dB below: not answered.
    let below = notes_at(GATE_DB - 2.0 - loudest_db);
    // Sample peak at −60 dBFS: not answered.
    let quiet = notes_at(-60.0 - peak_db);
    eprintln!("notes: frame at -53 dB {above}, at -57 dB {below}, peak at -60 dBFS {quiet}");
    assert!(above > 5, "music 2 dB above the gate gave {above} notes");
    assert_eq!(below, 0, "music 2 dB below the gate was answered");
    assert_eq!(quiet, 0, "music peaking at -60 dBFS was answered");
}

/// The C major diatonic chords [`progression`] plays, half a second each.
const PROGRESSION: [[u8; 3]; 6] = [
    [60, 64, 67],
    [65, 69, 72],
    [67, 71, 74],
    [57, 60, 64],
    [62, 65, 69],
    [64, 67, 71],
];

/// A chord progression of sustained tones (C major diatonic chords, two per second), moved by
/// `shift` semitones.
fn progression(seconds: f32, shift: f32) -> Vec<f32> {
    use musichal::perception::synth::add_tone;
    let mut out = vec![0.0f32; (seconds * RATE as f32) as usize];
    let len = RATE as usize / 2;
    let mut t = 0;
    let mut k = 0;
    while t < out.len() {
        for m in PROGRESSION[k % PROGRESSION.len()].map(f32::from) {
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

/// A corpus with a vocabulary of 16 trained on `recordings` (name, audio at [`RATE`]), their
/// notes found by the DSP.
fn small_corpus(recordings: Vec<(String, Vec<f32>)>) -> CorpusModel {
    use musichal::trainer::{train_sources, Source, TrainConfig};
    let sources: Vec<Source> = recordings
        .into_iter()
        .map(|(name, samples)| Source {
            name,
            samples,
            rate_hz: RATE,
            notes: None,
        })
        .collect();
    let config = TrainConfig {
        vocab_size: 16,
        ..TrainConfig::default()
    };
    train_sources(&sources, &config, &mut |_| {}).unwrap().0
}

/// A corpus trained on the C major progression.
fn progression_corpus() -> CorpusModel {
    small_corpus(vec![("progression.wav".into(), progression(12.0, 0.0))])
}

/// A corpus of two recordings of the synthetic music, whose sections change key: the search
/// moves quotes from them by different intervals, and the walk jumps between them.
fn two_recording_corpus() -> CorpusModel {
    small_corpus(
        [3u64, 4]
            .map(|seed| (format!("music_{seed}.wav"), render_music(16.0, RATE, seed)))
            .into(),
    )
}

#[test]
fn transposition_search_follows_a_transposed_corpus_passage() {
    // The corpus: C major diatonic chords. The input: the same progression a minor third up
    // (E flat major). The search moves the notes it quotes into the input's key; without it
    // they stay in C, and the voicing can only leave out those that clash with the input's
    // chord, so what plays is the tones the two keys share (C D F G), never E flat, A flat or
    // B flat.
    let corpus = progression_corpus();
    let live = progression(8.0, 3.0);
    let l = segment_len(RATE as f64);
    let e_flat_major = [3u8, 5, 7, 8, 10, 0, 2];
    let answer_drawn = |range: u8, seed: u64| -> (Vec<i8>, Vec<NoteEvent>) {
        let mut a = Answerer::new(&corpus, seed).unwrap();
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
    let answer = |range: u8| answer_drawn(range, 2);
    // Share of the notes after the first second (the key profile needs a little input) whose
    // pitch class is in E flat major.
    let in_key = |notes: &[NoteEvent]| -> (f64, usize) {
        let late: Vec<&NoteEvent> = notes
            .iter()
            .filter(|n| n.start_sample > RATE as u64)
            .collect();
        let n = late
            .iter()
            .filter(|n| e_flat_major.contains(&(n.note % 12)))
            .count();
        (n as f64 / late.len().max(1) as f64, late.len())
    };
    let (full, notes) = answer(6);
    let (share, count) = in_key(&notes);
    let (_, off_notes) = answer(0);
    let (off_share, off_count) = in_key(&off_notes);
    eprintln!(
        "in E flat major: search 6 st {share:.2} of {count} notes (intervals {full:?}); off \
         {off_share:.2} of {off_count}"
    );
    assert!(
        count >= 10 && off_count >= 10,
        "{count} / {off_count} notes"
    );
    assert!(
        share >= 0.9,
        "with the search {share:.2} of the notes are in the input's key"
    );
    let own = |notes: &[NoteEvent]| -> f64 {
        let n = notes
            .iter()
            .filter(|n| [3, 8, 10].contains(&(n.note % 12)))
            .count();
        n as f64 / notes.len().max(1) as f64
    };
    let (own_on, own_off) = (own(&notes), own(&off_notes));
    eprintln!(
        "on E flat, A flat and B flat: search {own_on:.2}, off {own_off:.2} (in key off \
         {off_share:.2})"
    );
    assert_eq!(own_off, 0.0, "without the search the corpus' pitches play");
    assert!(
        own_on >= 0.2,
        "with the search only {own_on:.2} of the notes use the input key's own tones"
    );
    // Within the key, the search also follows the chord: the interval moves each phrase
    // onto the chord the input sounds (one every 0.5 s, a minor third above the corpus'), so
    // most of its notes sound in the input's chord as they start, and more of them than
    // without the search, where the voicing gets there only by leaving notes out. (Before the
    // voicing fitted the chord since the input's last onset, the unsearched answer sounded in
    // the chord a fifth as often as the searched one; now as often, with fewer notes.) Pooled
    // over four draws: one draw of about twenty notes may land either way (seeds 1 to 12 alone:
    // seed 4 fails).
    let on_chord = |notes: &[NoteEvent]| -> (usize, usize) {
        let late: Vec<&NoteEvent> = notes
            .iter()
            .filter(|n| n.start_sample > RATE as u64 && n.start_sample < live.len() as u64)
            .collect();
        let hits = late
            .iter()
            .filter(|n| {
                let chord = PROGRESSION[(n.start_sample as usize / (RATE as usize / 2)) % 6];
                chord.iter().any(|&m| (m + 3) % 12 == n.note % 12)
            })
            .count();
        (hits, late.len())
    };
    let (mut hits_on, mut heard_on, mut hits_off, mut heard_off) = (0, 0, 0, 0);
    for seed in 1..=4 {
        let ((h, n), (h_off, n_off)) = (
            on_chord(&answer_drawn(6, seed).1),
            on_chord(&answer_drawn(0, seed).1),
        );
        (hits_on, heard_on, hits_off, heard_off) = (
            hits_on + h,
            heard_on + n,
            hits_off + h_off,
            heard_off + n_off,
        );
    }
    let chord_on = hits_on as f64 / heard_on.max(1) as f64;
    let chord_off = hits_off as f64 / heard_off.max(1) as f64;
    eprintln!(
        "on the input's chord: search {chord_on:.2} ({hits_on} notes), off {chord_off:.2} \
         ({hits_off} notes) ({full:?})"
    );
    assert!(
        chord_on >= 0.5 && hits_on > hits_off,
        "on the chord: search {chord_on:.2} ({hits_on}), off {chord_off:.2} ({hits_off})"
    );
    // A range of 2 cannot reach a minor third; off means no interval at all.
    let (narrow, _) = answer(2);
    assert!(narrow.iter().all(|i| (-2..=2).contains(i)), "{narrow:?}");
    let (off, _) = answer(0);
    assert!(off.iter().all(|&i| i == 0));
}

/// An early reaction (an onset answered from the part of its segment that has arrived) plays
/// in the interval the transposition search is using, as the full phrases around it do. The
/// corpus is in C major, the input a minor third up; with the search on, the reactions'
/// notes are in the input's key, and each is a corpus pitch moved by the interval in use.
/// (Reactions used to play the corpus' own pitches, out of the key the answer was in.)
#[test]
fn early_reactions_play_in_the_interval_in_use() {
    let corpus = progression_corpus();
    let corpus_pcs: BTreeSet<u8> = PROGRESSION.iter().flatten().map(|m| m % 12).collect();
    let live = progression(8.0, 3.0);
    let l = segment_len(RATE as f64);
    let e_flat_major = [3u8, 5, 7, 8, 10, 0, 2];
    let mut a = Answerer::new(&corpus, 2).unwrap();
    let settings = AnswerSettings {
        transpose_search: 6,
        density: 1.0,
        ..AnswerSettings::default()
    };
    let segments: Vec<&[f32]> = live.chunks_exact(l).collect();
    let (mut reactions, mut moved) = (Vec::new(), 0usize);
    let mut full = Vec::new();
    for k in 0..segments.len() - 1 {
        let heard = a
            .answer(segments[k], (k * l) as u64, RATE, &settings, &mut full)
            .unwrap();
        if k < 3 {
            continue; // the key profile needs a little input
        }
        // The next segment's first 60 ms, answered early.
        let partial = &segments[k + 1][..(RATE as usize * 6 / 100)];
        let from = ((k + 1) * l + partial.len()) as u64;
        let mut out = Vec::new();
        a.answer_early(
            segments[k],
            partial,
            RATE,
            &settings,
            from,
            from + l as u64 / 2,
            &mut out,
        )
        .unwrap();
        for n in &out {
            let back = (i16::from(n.note) - i16::from(heard.interval)).rem_euclid(12) as u8;
            assert!(
                corpus_pcs.contains(&back),
                "reaction note {} is no corpus pitch class moved by the interval {}",
                n.note,
                heard.interval
            );
        }
        moved += usize::from(heard.interval != 0 && !out.is_empty());
        reactions.extend(out);
    }
    let in_key = reactions
        .iter()
        .filter(|n| e_flat_major.contains(&(n.note % 12)))
        .count() as f64
        / reactions.len().max(1) as f64;
    eprintln!(
        "{} reaction notes, {in_key:.2} in E flat major, {moved} reactions moved",
        reactions.len()
    );
    assert!(reactions.len() >= 10, "{} reaction notes", reactions.len());
    assert!(
        moved >= 3,
        "only {moved} reactions played in a moved interval"
    );
    assert!(
        in_key >= 0.9,
        "{in_key:.2} of the reactions' notes in the input's key"
    );
}

/// Mean length of the runs of consecutive states (i -> i + 1) in a navigation, and the number
/// of runs.
fn runs_of(states: &[usize]) -> (f64, usize) {
    let runs = states.windows(2).filter(|w| w[1] != w[0] + 1).count() + 1;
    (states.len() as f64 / runs as f64, runs)
}

#[test]
fn the_novelty_dial_means_the_same_on_a_repetitive_and_a_varied_corpus() {
    let varied = embedded();
    let repetitive = progression_corpus();
    let input = render_music(30.0, RATE, 5);
    let l = segment_len(RATE as f64);
    // (mean run, number of runs, the corpus' typical run)
    let runs_n = |corpus: &CorpusModel, novelty: Option<f32>, continuity: f32| {
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
        let (mean, n) = runs_of(&states);
        (mean, n, a.typical_run())
    };
    let runs = |corpus: &CorpusModel, novelty: Option<f32>, continuity: f32| -> (f64, f64) {
        let (mean, _, typical) = runs_n(corpus, novelty, continuity);
        (mean, typical)
    };
    let (_, typical_varied) = runs(&varied, None, 0.8);
    let (_, typical_repetitive) = runs(&repetitive, None, 0.8);
    eprintln!("typical runs: varied {typical_varied:.2}, repetitive {typical_repetitive:.2}");
    // The README's figures for the two corpora (deterministic: the compror parse of a fixed
    // corpus), to the digit it prints.
    for (typical, readme) in [(typical_varied, 10.9), (typical_repetitive, 27.8)] {
        assert!(
            (typical - readme).abs() < 0.05,
            "typical run {typical:.2}, README says {readme}"
        );
    }
    assert!(
        typical_repetitive > 2.0 * typical_varied,
        "the corpora do not differ enough to prove anything"
    );
    // At the dial's middle each corpus replays one of its own typical runs between jumps
    // (README: 10.8 frames against 10.9, 27.6 against 27.8), so run / typical run is 1 on
    // both, up to sampling: a jump ends a run with probability 1 / typical per frame, so runs
    // are geometric with mean T = typical and variance T (T - 1), and the mean of n runs has a
    // relative standard error sqrt((1 - 1 / T) / n): about 0.07 on the varied corpus (~200
    // runs) and 0.11 on the repetitive one (~80). Two standard errors are allowed (the seeds
    // are fixed, so the figures are too; a dial that missed by more fails).
    let (mid_varied, n_varied, _) = runs_n(&varied, Some(0.5), 0.0);
    let (mid_repetitive, n_repetitive, _) = runs_n(&repetitive, Some(0.5), 0.0);
    let ratio_varied = mid_varied / typical_varied;
    let ratio_repetitive = mid_repetitive / typical_repetitive;
    eprintln!(
        "novelty 0.5: runs {mid_varied:.2} ({n_varied} runs) / {mid_repetitive:.2} \
         ({n_repetitive} runs)"
    );
    for (r, typical, n) in [
        (ratio_varied, typical_varied, n_varied),
        (ratio_repetitive, typical_repetitive, n_repetitive),
    ] {
        let se = ((1.0 - 1.0 / typical) / n as f64).sqrt();
        assert!(
            (r - 1.0).abs() <= 2.0 * se,
            "run / typical run = {r:.3}, more than two standard errors ({se:.3}) from 1"
        );
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
        // Continuity 0: a guided jump at every event, so the query's contexts come back often.
        let settings = AnswerSettings {
            taboo_s,
            continuity: 0.0,
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

/// Issue #17: the answer quotes the corpus' notes with their own lengths, not runs of frames cut
/// at the segment's end. A corpus of sustained chords (half a second each), answered while the
/// same progression plays: the notes last about as long as the corpus' (longer than a 350 ms
/// segment, which no note could before), and the answer starts notes about as often as the
/// input changes chords (two a second), not every few frames.
#[test]
fn quoted_notes_keep_their_corpus_lengths_and_the_inputs_pace() {
    let corpus = progression_corpus();
    let live = progression(10.0, 0.0);
    let l = segment_len(RATE as f64);
    let mut a = Answerer::new(&corpus, 4).unwrap();
    let settings = AnswerSettings::default();
    let mut notes = Vec::new();
    for (k, seg) in live.chunks_exact(l).enumerate() {
        a.answer(seg, (k * l) as u64, RATE, &settings, &mut notes)
            .unwrap();
    }
    assert!(notes.len() >= 20, "{} notes", notes.len());
    let mut lengths: Vec<f64> = notes
        .iter()
        .map(|n| n.duration_samples as f64 / RATE as f64)
        .collect();
    lengths.sort_by(f64::total_cmp);
    let median = lengths[lengths.len() / 2];
    let segment_s = l as f64 / RATE as f64;
    let per_s = onset_count(&notes) as f64 / 10.0;
    eprintln!(
        "{} notes, median length {median:.3} s (segment {segment_s:.3} s), {per_s:.2} onsets/s",
        notes.len()
    );
    assert!(
        median > segment_s,
        "median note {median:.3} s, a segment is {segment_s:.3} s"
    );
    assert!(
        (1.0..=4.0).contains(&per_s),
        "{per_s:.2} onsets a second against the input's 2"
    );
}

/// A chord struck late in a segment is the chord the answer to that segment follows. The
/// input alternates C major and D minor (no tone in common) every 0.7 s, each change struck
/// 0.25 s before a segment ends; the phrase answering that segment plays after the change, so
/// its notes should sound in the new chord. The live chord is cut at each input onset
/// (`ONSET_CHORD_CARRY`): 27 of 32 such notes sound in the new chord. With the 0.2-s memory
/// alone, the chord the input had left still outweighed the new one and 23 of 53 did. (A
/// change less than about 0.15 s before the end is not yet in the segment's harmonic frames,
/// whose median filter looks ahead; its answer is a segment late either way.)
#[test]
fn a_chord_struck_late_in_a_segment_is_the_chord_its_answer_follows() {
    use musichal::perception::synth::add_tone;
    const LATE_S: f64 = 0.25;
    const C_MAJOR: [u8; 3] = [60, 64, 67];
    const D_MINOR: [u8; 3] = [62, 65, 69];
    let corpus = progression_corpus();
    let l = segment_len(RATE as f64);
    let late = (LATE_S * RATE as f64) as usize;
    // Changes LATE_S before the end of every other segment; the first chord from 0.
    let segments = 60;
    let changes: Vec<usize> = (1..segments / 2).map(|k| 2 * k * l - late).collect();
    let mut live = vec![0.0f32; segments * l];
    let mut start = 0;
    for (k, &end) in changes.iter().chain([&(segments * l)]).enumerate() {
        let chord = if k % 2 == 0 { C_MAJOR } else { D_MINOR };
        for m in chord.map(f32::from) {
            add_tone(
                &mut live,
                RATE,
                start,
                end - start,
                m,
                0.15,
                6,
                1.0,
                0.005,
                f32::INFINITY,
                0.0,
            );
        }
        start = end;
    }
    let mut a = Answerer::new(&corpus, 5).unwrap();
    let settings = AnswerSettings {
        density: 1.0,
        ..AnswerSettings::default()
    };
    let (notes, _) = answer_all(&mut a, &live, &settings);
    let margin = (ANSWER_MARGIN_S * RATE as f64).round() as u64;
    let (mut hits, mut counted) = (0usize, 0usize);
    for (k, &change) in changes.iter().enumerate() {
        // The chord struck at `change` (k = 0 is the first D minor).
        let chord = if k % 2 == 0 { D_MINOR } else { C_MAJOR };
        let from = (change + late) as u64 + margin;
        for n in notes
            .iter()
            .filter(|n| (from..from + l as u64).contains(&n.start_sample))
        {
            counted += 1;
            hits += usize::from(chord.iter().any(|&m| m % 12 == n.note % 12));
        }
    }
    let share = hits as f64 / counted.max(1) as f64;
    eprintln!("answers to a late change: {hits} of {counted} notes in the new chord");
    assert!(counted >= 10, "only {counted} notes answered the changes");
    assert!(
        share >= 0.7,
        "{share:.2} of the notes answering a late change sound in the new chord"
    );
}

/// Follow Changes hears the chord the input holds now from the unseparated spectrum: 0.12 s
/// after C major gives way to D minor (no tone in common), `chord_now` holds D, F and A and
/// none of C, E and G, and against the C major the answerer voiced its phrases to,
/// `changed_classes` reports the change with exactly D minor's classes. While C major holds,
/// it reports none; silence gives no chord.
#[test]
fn the_chord_now_is_the_chord_struck_an_eighth_of_a_second_ago() {
    use musichal::engine::answer::chord_classes;
    use musichal::perception::synth::add_tone;
    const C_MAJOR: [u8; 3] = [60, 64, 67];
    const D_MINOR: [u8; 3] = [62, 65, 69];
    let l = segment_len(RATE as f64);
    let change = 3 * l + l / 2;
    let now = change + (0.12 * RATE as f64) as usize;
    let mut live = vec![0.0f32; 4 * l];
    for (chord, from, to) in [(C_MAJOR, 0, change), (D_MINOR, change, 4 * l)] {
        for m in chord {
            add_tone(
                &mut live,
                RATE,
                from,
                to - from,
                f32::from(m),
                0.15,
                6,
                1.0,
                0.005,
                f32::INFINITY,
                0.0,
            );
        }
    }
    let mut a = Answerer::new(&progression_corpus(), 5).unwrap();
    let settings = AnswerSettings::default();
    // The answerer hears three segments of C major.
    answer_all(&mut a, &live[..3 * l], &settings);
    let classes = |notes: &[u8]| notes.iter().fold(0u16, |m, n| m | 1 << (n % 12));
    let (c, d) = (classes(&C_MAJOR), classes(&D_MINOR));
    let heard = |from: usize, to: usize| {
        let mut b = Answerer::new(&progression_corpus(), 5).unwrap();
        b.chord_now(&live[from..3 * l], &live[3 * l..to], RATE, &settings)
            .unwrap()
    };
    let before = heard(l, change).expect("C major sounds");
    assert_eq!(chord_classes(&before), c, "{before:?}");
    assert_eq!(a.changed_classes(&before), None);
    let after = heard(2 * l, now).expect("D minor sounds");
    assert_eq!(chord_classes(&after), d, "{after:?}");
    assert_eq!(a.changed_classes(&after), Some(d));
    let silence = vec![0.0f32; l];
    assert_eq!(
        a.chord_now(&silence, &silence, RATE, &settings).unwrap(),
        None
    );
}

/// A writer into a buffer the test still holds.
#[derive(Clone, Default)]
struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The provenance `musichal evaluate` reads the quoted runs from: one mark per note sent,
/// full phrases and early reactions alike (an early attempt that is undone takes its marks
/// back), each naming a note of the corpus that sounds at the mark's corpus time, moved by the
/// interval the note was sent in. Over eight draws of the answer, so that among the phrases
/// are some where the walk jumps after the phrase's start and the search moves the new quote
/// to another interval while the notes before the jump keep theirs: their marks named the
/// corpus pitch moved by the difference, a note the corpus does not sound there (seed 2
/// failed so).
#[test]
fn provenance_marks_name_the_corpus_note_each_sent_note_plays() {
    let corpus = two_recording_corpus();
    let live = render_music(12.0, RATE, 5);
    for seed in 0..8 {
        marks_name_the_corpus_notes(&corpus, &live, seed);
    }
}

fn marks_name_the_corpus_notes(corpus: &CorpusModel, live: &[f32], seed: u64) {
    use musichal::engine::provenance::QuoteMark;
    let l = segment_len(RATE as f64);
    let mut a = Answerer::new(corpus, seed).unwrap();
    let buf = Shared::default();
    a.keep_provenance(Box::new(buf.clone()));
    let settings = AnswerSettings {
        transpose_search: 6,
        transpose: 2,
        density: 1.0,
        ..AnswerSettings::default()
    };
    // The reactions are thinned hard: an attempt whose first note Density took is undone.
    let sparse = AnswerSettings {
        density: 0.15,
        ..settings
    };
    let segments: Vec<&[f32]> = live.chunks_exact(l).collect();
    let mut sent = Vec::new();
    let mut early = 0usize;
    for k in 0..segments.len() - 1 {
        a.answer(segments[k], (k * l) as u64, RATE, &settings, &mut sent)
            .unwrap();
        if k >= 3 {
            let partial = &segments[k + 1][..(RATE as usize * 6 / 100)];
            let from = ((k + 1) * l + partial.len()) as u64;
            let before = sent.len();
            a.answer_early(
                segments[k],
                partial,
                RATE,
                &sparse,
                from,
                from + l as u64 / 2,
                &mut sent,
            )
            .unwrap();
            early += sent.len() - before;
        }
    }
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let marks: Vec<QuoteMark> = text.lines().map(|l| QuoteMark::parse(l).unwrap()).collect();
    let mut want: Vec<(u64, u8)> = sent.iter().map(|n| (n.start_sample, n.note)).collect();
    let mut got: Vec<(u64, u8)> = marks.iter().map(|m| (m.start_sample, m.note)).collect();
    want.sort_unstable();
    got.sort_unstable();
    assert!(
        want.len() >= 20 && early >= 5,
        "seed {seed}: {} notes, {early} early",
        want.len()
    );
    assert_eq!(got, want, "seed {seed}: one mark per note sent, no more");
    let mut moved = 0usize;
    for m in &marks {
        let notes = &corpus.recordings[usize::from(m.recording)].notes;
        assert!(
            notes.iter().any(|n| n.pitch == m.corpus_pitch
                && n.onset_s <= m.corpus_time_s + 1e-3
                && m.corpus_time_s < n.offset_s),
            "seed {seed}: {m:?}: no such note sounds in the corpus there"
        );
        let interval = i16::from(m.note) - i16::from(m.corpus_pitch) - 2;
        assert!((-5..=6).contains(&interval), "seed {seed}: {m:?}");
        moved += usize::from(interval != 0);
    }
    assert!(
        moved > 0,
        "seed {seed}: the search never moved a quote: the interval is not tested"
    );
}

/// Density thins the texture first and then whole onsets: at 50 % the answer to the same
/// music keeps about half its notes, and its onsets (a chord is one) thin too, not only its
/// chords (a Density that only thinned chords keeps 0.75 of the notes and 0.88 of the onsets
/// here). Over four seeds of the answer.
#[test]
fn density_thins_the_onsets_once_the_texture_is_one_note() {
    let corpus = embedded();
    let audio = render_music(12.0, RATE, 5);
    let (mut full, mut half) = ((0usize, 0usize), (0usize, 0usize));
    for seed in 1..=4 {
        for (density, sum) in [(1.0f32, &mut full), (0.5, &mut half)] {
            let settings = AnswerSettings {
                density,
                ..AnswerSettings::default()
            };
            let mut a = Answerer::new(&corpus, seed).unwrap();
            let (notes, _) = answer_all(&mut a, &audio, &settings);
            sum.0 += notes.len();
            sum.1 += onset_count(&notes);
        }
    }
    let notes = half.0 as f64 / full.0 as f64;
    let onsets = half.1 as f64 / full.1 as f64;
    println!(
        "Density 50 %: {notes:.2} of the notes, {onsets:.2} of the onsets ({full:?} at 100 %)"
    );
    assert!(full.1 >= 40, "too little answered to judge: {full:?}");
    assert!((0.38..=0.66).contains(&notes), "{notes:.2} of the notes");
    assert!(
        onsets <= 0.75,
        "{onsets:.2} of the onsets: only the chords were thinned"
    );
}
