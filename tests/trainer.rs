//! The corpus trainer end to end: audio in, a complete, reloadable corpus out.

use musichal::corpus::CorpusModel;
use musichal::oracle::DriveStream;
use musichal::perception::synth::{add_drum, add_tone, render_music, Drum};
use musichal::trainer::{train_sources, Source, TrainConfig, TrainError};
use rand::SeedableRng;
use rand_pcg::Pcg64;

const RATE: u32 = 44_100;

fn source(name: &str, samples: Vec<f32>) -> Source {
    Source {
        name: name.into(),
        samples,
        rate_hz: RATE,
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
    // 18 s at 75 frames/s, minus the STFT/HPSS latency at the end of each file.
    assert!(
        (1300..=1350).contains(&model.frames.len()),
        "{} frames",
        model.frames.len()
    );
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

    let dir = std::env::temp_dir().join(format!("musichal-trainer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("c.mhc");
    model.save(&path).unwrap();
    let loaded = CorpusModel::load(&path).unwrap();
    assert_eq!(loaded, model);
    assert_eq!(loaded.oracle().unwrap(), model.oracle().unwrap());
    std::fs::remove_dir_all(&dir).ok();
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
    // The triad is more consonant than nothing-in-particular: its frames' consonance is high.
    let c: Vec<f32> = model
        .frames
        .iter()
        .filter(|f| f.time_s > 2.5 && f.time_s < 3.5)
        .map(|f| f.consonance)
        .collect();
    assert!(c.iter().all(|v| (0.0..=1.0).contains(v)));
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
        Err(TrainError::UnknownEncoder(_))
    ));
    // 10 ms is shorter than one analysis window: the error names the file.
    let err =
        train_sources(&[source("short.wav", vec![0.1; 441])], &config, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("short.wav"), "{err}");
}
