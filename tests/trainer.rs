//! The corpus trainer end to end: audio in, a complete, reloadable corpus out.

use musichal::corpus::CorpusModel;
use musichal::oracle::DriveStream;
use musichal::perception::synth::{add_drum, add_tone, render_music, Drum};
use musichal::perception::{Perception, PerceptionConfig, PerceptionError};
use musichal::trainer::{train_sources, Source, TrainConfig, TrainError};
use rand::SeedableRng;
use rand_pcg::Pcg64;

const RATE: u32 = 44_100;

fn source(name: &str, samples: Vec<f32>) -> Source {
    Source {
        name: name.into(),
        samples,
        rate_hz: RATE,
        notes: None,
    }
}

fn quiet_train(sources: &[Source], config: &TrainConfig) -> CorpusModel {
    train_sources(sources, config, &mut |_| {})
        .expect("training")
        .0
}

#[test]
fn every_frame_of_every_source_reaches_the_saved_model_with_both_tokens() {
    let a = render_music(12.0, RATE, 3);
    let b = render_music(6.0, RATE, 4);
    // What the perception path gives each file on its own (a fresh front end per file, as the
    // trainer starts one): the trainer must keep every one of those frames, no more.
    let frames_of = |x: &[f32]| {
        Perception::new(PerceptionConfig::default())
            .unwrap()
            .encode_file(x, RATE)
            .unwrap()
            .len()
    };
    let (frames_a, frames_b) = (frames_of(&a), frames_of(&b));
    // 12 s and 6 s at 75 frames/s, less the STFT/HPSS latency at the end of each file.
    assert!(frames_a <= 900 && frames_b <= 450 && frames_a + frames_b > 1300);
    let config = TrainConfig {
        vocab_size: 16,
        ..TrainConfig::default()
    };
    let (model, report) = train_sources(
        &[source("a.wav", a), source("b.wav", b)],
        &config,
        &mut |_| {},
    )
    .unwrap();
    let per_source = |i: u16| model.frames.iter().filter(|f| f.source_idx == i).count();
    assert_eq!((per_source(0), per_source(1)), (frames_a, frames_b));
    assert_eq!(model.frames.len(), frames_a + frames_b);
    assert!(model.frames.iter().all(|f| f.tokens().is_some()));
    assert_eq!(model.source_files, vec!["a.wav", "b.wav"]);
    let first_b = model.frames.iter().position(|f| f.source_idx == 1).unwrap();
    assert!(
        model.frames[first_b].time_s < 0.05,
        "times restart per source"
    );
    assert!(model.frames[..first_b].iter().all(|f| f.source_idx == 0));
    assert_eq!(report.harmonic.n_samples, model.frames.len());
    assert!(report.harmonic.active_tokens >= 12, "{:?}", report.harmonic);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.mhc");
    model.save(&path).unwrap();
    let loaded = CorpusModel::load(&path).unwrap();
    assert_eq!(loaded, model);
    assert_eq!(loaded.oracle().unwrap(), model.oracle().unwrap());
}

#[test]
fn training_is_deterministic_for_a_seed() {
    let audio = render_music(8.0, RATE, 9);
    let config = TrainConfig {
        vocab_size: 16,
        drive: DriveStream::Both,
        ..TrainConfig::default()
    };
    let m1 = quiet_train(&[source("x.wav", audio.clone())], &config);
    let m2 = quiet_train(&[source("x.wav", audio)], &config);
    assert_eq!(m1.to_bytes().unwrap(), m2.to_bytes().unwrap());
    assert_eq!(m1.oracle.drive, DriveStream::Both);
}

#[test]
fn payload_follows_the_notes_and_the_drum_hits() {
    // Two seconds of A3 (57), then two seconds of C4 E4 G4, with a kick every half second.
    let n = (RATE * 4) as usize;
    let mut x = vec![0.0f32; n];
    let half = n / 2;
    add_tone(
        &mut x,
        RATE,
        0,
        half,
        57.0,
        0.2,
        8,
        1.0,
        0.01,
        f32::INFINITY,
        0.0,
    );
    for m in [60.0, 64.0, 67.0] {
        add_tone(
            &mut x,
            RATE,
            half,
            half,
            m,
            0.12,
            8,
            1.0,
            0.01,
            f32::INFINITY,
            0.0,
        );
    }
    let mut rng = Pcg64::seed_from_u64(1);
    let kick_every = RATE as usize / 2;
    let mut hits = Vec::new();
    let mut t = kick_every / 4;
    while t < n {
        add_drum(&mut x, RATE, t, Drum::Kick, 0.6, &mut rng);
        hits.push(t as f32 / RATE as f32);
        t += kick_every;
    }
    let config = TrainConfig {
        vocab_size: 16,
        ..TrainConfig::default()
    };
    let model = quiet_train(&[source("notes.wav", x)], &config);
    let share_with = |from: f32, to: f32, notes: &[u8]| {
        let frames: Vec<_> = model
            .frames
            .iter()
            .filter(|f| f.time_s >= from && f.time_s < to)
            .collect();
        frames
            .iter()
            .filter(|f| notes.iter().all(|n| f.pitches.contains(n)))
            .count() as f32
            / frames.len() as f32
    };
    let a3 = share_with(0.3, 1.8, &[57]);
    let triad = share_with(2.3, 3.8, &[60, 64, 67]);
    assert!(a3 > 0.8, "A3 found in {:.0} % of its frames", 100.0 * a3);
    assert!(
        triad > 0.7,
        "C-E-G found in {:.0} % of their frames",
        100.0 * triad
    );
    // Every kick is marked as an onset within 3 frames (40 ms).
    for h in hits {
        let near = model
            .frames
            .iter()
            .any(|f| f.onset && (f.time_s - h).abs() <= 3.0 / 75.0);
        assert!(near, "no onset near the kick at {h:.3} s");
    }
    // How the frames' consonance orders chords: consonance_tells_a_triad_from_a_cluster.
}

/// The chroma the spectral encoder's payload should give for sustained `notes` of 8 partials
/// (amplitude 1/k), from its documented design, restated: STFT at 24 kHz with n_fft 2048
/// (11.7 Hz bins) and a periodic Hann window, whose kernel at `d` bins from a partial has
/// magnitude `|sinc(d) / (1 - d^2)|` (1 at 0); each bin between 50 Hz and 5 kHz adds its
/// energy to the pitch classes on either side of its frequency, split linearly by distance.
/// Partials add as energies (their phases drift apart over a frame's average).
fn modelled_dsp_chroma(notes: &[f32]) -> [f32; 12] {
    let (rate, n_fft) = (24_000.0f64, 2048usize);
    let bin_hz = rate / n_fft as f64;
    let kernel = |d: f64| -> f64 {
        if d.abs() < 1e-9 {
            1.0
        } else if (d.abs() - 1.0).abs() < 1e-9 {
            0.5
        } else {
            let x = std::f64::consts::PI * d;
            (x.sin() / x / (1.0 - d * d)).abs()
        }
    };
    let mut energy = vec![0.0f64; n_fft / 2 + 1];
    for &m in notes {
        let f0 = 440.0 * 2f64.powf((m as f64 - 69.0) / 12.0);
        for k in 1..=8 {
            let at = f0 * k as f64 / bin_hz;
            for (b, e) in energy.iter_mut().enumerate() {
                let d = at - b as f64;
                if d.abs() < 60.0 {
                    *e += (kernel(d) / k as f64).powi(2);
                }
            }
        }
    }
    let mut chroma = [0.0f32; 12];
    for (b, e) in energy.iter().enumerate() {
        let f = b as f64 * bin_hz;
        if !(50.0..=5000.0).contains(&f) {
            continue;
        }
        let pc = (69.0 + 12.0 * (f / 440.0).log2()).rem_euclid(12.0);
        let (lo, frac) = (pc.floor() as usize % 12, pc - pc.floor());
        chroma[lo] += ((1.0 - frac) * e) as f32;
        chroma[(lo + 1) % 12] += (frac * e) as f32;
    }
    chroma
}

/// Frame consonance (`src/corpus/consonance.rs`: Plomp-Levelt roughness of the payload's
/// chroma, 1 = consonant) tells a triad from a cluster. Two seconds of C4 E4 G4, then two of
/// C4 C#4 D4, the same sustained tones, no drums. Expected: `consonance` of the modelled DSP
/// chroma above, 0.447 for the triad and 0.339 for the cluster. (The leakage of the 11.7 Hz
/// bins into neighbouring pitch classes costs the triad a lot: its partials alone, one class
/// each, would score 0.584, and the bare C-E-G chroma 0.637; the cluster stays near 0.34.) The
/// frames must land within 0.02 of the model, so the triad stays about 0.1 above the cluster.
#[test]
fn consonance_tells_a_triad_from_a_cluster() {
    let half = (RATE * 2) as usize;
    let mut x = vec![0.0f32; 2 * half];
    let (triad_notes, cluster_notes) = ([60.0f32, 64.0, 67.0], [60.0f32, 61.0, 62.0]);
    for (start, chord) in [(0, triad_notes), (half, cluster_notes)] {
        for m in chord {
            add_tone(
                &mut x,
                RATE,
                start,
                half,
                m,
                0.12,
                8,
                1.0,
                0.01,
                f32::INFINITY,
                0.0,
            );
        }
    }
    let model = quiet_train(
        &[source("chords.wav", x)],
        &TrainConfig {
            vocab_size: 16,
            ..TrainConfig::default()
        },
    );
    let mean_consonance = |from: f32, to: f32| {
        let c: Vec<f32> = model
            .frames
            .iter()
            .filter(|f| f.time_s > from && f.time_s < to)
            .map(|f| f.consonance)
            .collect();
        assert!(c.len() > 100, "{} frames", c.len());
        c.iter().sum::<f32>() / c.len() as f32
    };
    let (triad, cluster) = (mean_consonance(0.3, 1.8), mean_consonance(2.3, 3.8));
    let want_triad = musichal::corpus::consonance(&modelled_dsp_chroma(&triad_notes));
    let want_cluster = musichal::corpus::consonance(&modelled_dsp_chroma(&cluster_notes));
    eprintln!(
        "consonance: triad {triad:.3} (modelled {want_triad:.3}), cluster {cluster:.3} \
         (modelled {want_cluster:.3})"
    );
    assert!(
        want_triad > want_cluster + 0.09,
        "the model cannot tell the chords apart"
    );
    assert!(
        (triad - want_triad).abs() < 0.02,
        "triad frames {triad:.3}, modelled {want_triad:.3}"
    );
    assert!(
        (cluster - want_cluster).abs() < 0.02,
        "cluster frames {cluster:.3}, modelled {want_cluster:.3}"
    );
}

#[test]
fn bad_inputs_give_typed_errors() {
    let config = TrainConfig::default();
    assert!(matches!(
        train_sources(&[], &config, &mut |_| {}),
        Err(TrainError::NoInput)
    ));
    let bad_vocab = TrainConfig {
        vocab_size: 32,
        ..TrainConfig::default()
    };
    assert!(matches!(
        train_sources(
            &[source("a.wav", vec![0.0; 44_100])],
            &bad_vocab,
            &mut |_| {}
        ),
        Err(TrainError::VocabSize(32))
    ));
    let onnx = TrainConfig {
        encoder: "mert".into(),
        ..TrainConfig::default()
    };
    assert!(matches!(
        train_sources(&[source("a.wav", vec![0.0; 44_100])], &onnx, &mut |_| {}),
        Err(TrainError::Perception(
            PerceptionError::UnknownEncoder { .. }
        ))
    ));
    // 10 ms is shorter than one analysis window: the error names the file.
    let err =
        train_sources(&[source("short.wav", vec![0.1; 441])], &config, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("short.wav"), "{err}");
}

mod common;

/// The trainer stores each recording's transcribed notes, and they are notes of the music:
/// rendered chorales (piano, guitar: the cleanest transcriptions), scored against the score.
/// DSP notes from the spectral pass, Basic Pitch notes when the model is installed.
#[test]
fn transcribed_notes_of_every_recording_reach_the_corpus() {
    use common::chorale::{render_pieces, unavailable};
    use musichal::notes::metrics::evaluate;
    use musichal::notes::{NoteEvent, NoteSource};
    use musichal::trainer::NoteChoice;
    let pieces = match render_pieces(&[(0, "piano"), (24, "guitar")], 2026) {
        Ok(p) => p,
        Err(e) => return unavailable(&e),
    };
    let sources: Vec<Source> = pieces
        .iter()
        .map(|(piece, audio)| Source {
            name: format!("{}.wav", piece.name),
            samples: audio.samples.clone(),
            rate_hz: audio.sample_rate_hz,
            notes: None,
        })
        .collect();
    let score = |i: usize| -> Vec<NoteEvent> {
        let mut notes: Vec<NoteEvent> = pieces[i]
            .0
            .notes
            .iter()
            .map(|n| NoteEvent {
                onset_s: n.on_s,
                offset_s: n.off_s,
                pitch: n.midi,
                velocity: 100,
            })
            .collect();
        musichal::notes::sort_notes(&mut notes);
        notes
    };
    let mut choices = vec![(NoteChoice::Dsp, NoteSource::Dsp, 0.35)];
    if common::basic_pitch_model().is_some() {
        choices.push((NoteChoice::BasicPitch, NoteSource::BasicPitch, 0.5));
    }
    for (choice, source, min_f1) in choices {
        let model = quiet_train(
            &sources,
            &TrainConfig {
                notes: choice,
                ..TrainConfig::default()
            },
        );
        assert_eq!(model.recordings.len(), 2);
        for (i, rec) in model.recordings.iter().enumerate() {
            assert_eq!(rec.source, source);
            let want_s = sources[i].samples.len() as f64 / f64::from(sources[i].rate_hz);
            assert!((rec.duration_s - want_s).abs() < 1e-9);
            let s = evaluate(&score(i), &rec.notes).unwrap();
            eprintln!(
                "{source} {}: note onset F1 {:.3}, {} notes (score {})",
                sources[i].name,
                s.note.f1,
                rec.notes.len(),
                s.reference_notes
            );
            assert!(
                s.note.f1 >= min_f1,
                "{source} notes of {}: onset F1 {:.3} < {min_f1}",
                sources[i].name,
                s.note.f1
            );
        }
    }
}
