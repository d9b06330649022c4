//! Training throughput: `train_sources` on a 5-minute file with the `spectral` encoder
//! (analysis through the live perception path, K = 64 vocabularies, payload, onsets, oracle).
//! Target (issue #6): at least 100x real time on 2 cores.
//!
//! Also the worker's cost per live segment: `Answerer::answer` (perception of both streams,
//! tokens, 26 guided oracle steps, the phrase's notes) on the embedded corpus, 48 kHz, against
//! the segment's own duration (the deadline is one segment, 350 ms).
//!
//! `train/basicpitch_20s_k64`: the same training with the `basicpitch` encoder on 20 s, when
//! the Basic Pitch model is found (`MUSICHAL_BASIC_PITCH_PATH`, with `ORT_DYLIB_PATH`).
//!
//! `cargo bench --bench trainer`. Criterion's minimum of 10 samples makes this take ~3 min. In
//! criterion's test mode (`cargo test --bench trainer`) the file is 60 s long: the code runs
//! once, nothing is timed.

#[path = "support/cpu_time.rs"]
mod cpu_time;
use cpu_time::criterion_test_mode;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use musichal::perception::synth::render_music;
use musichal::trainer::{train_sources, Source, TrainConfig};

fn training(c: &mut Criterion) {
    let rate = 44_100;
    let seconds = if criterion_test_mode() { 60.0 } else { 300.0 };
    let audio = render_music(seconds, rate, 2026);
    let sources = [Source {
        name: "five_minutes.wav".into(),
        samples: audio,
        rate_hz: rate,
        notes: None,
    }];
    let config = TrainConfig::default();
    let mut g = c.benchmark_group("train");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(60));
    // Throughput in seconds of audio: criterion reports "elements/s" = x real time.
    g.throughput(Throughput::Elements(seconds as u64));
    g.bench_function("spectral_5min_k64", |b| {
        b.iter(|| black_box(train_sources(&sources, &config, &mut |_| {}).unwrap()))
    });
    g.finish();
}

/// The same with the `basicpitch` encoder (one Basic Pitch inference per 350 ms segment), on a
/// shorter file (20 s; 5 s in test mode): compare its "x real time" with the spectral bench's.
/// Left out (with a line saying so) when the model is not installed; a model named by
/// `MUSICHAL_BASIC_PITCH_PATH` that does not load is a panic, as in `benches/perception.rs`.
fn training_basicpitch(c: &mut Criterion) {
    use musichal::perception::PerceptionConfig;
    match musichal::perception::build("basicpitch", PerceptionConfig::default()) {
        Ok(_) => {}
        Err(e) if std::env::var_os("MUSICHAL_BASIC_PITCH_PATH").is_some() => {
            panic!(
                "trainer bench: MUSICHAL_BASIC_PITCH_PATH is set but basicpitch does not load: {e}"
            )
        }
        Err(e) => {
            println!("train/basicpitch_20s_k64 left out: {e}");
            return;
        }
    }
    let rate = 44_100;
    let seconds = if criterion_test_mode() { 5.0 } else { 20.0 };
    let sources = [Source {
        name: "twenty_seconds.wav".into(),
        samples: render_music(seconds, rate, 2026),
        rate_hz: rate,
        notes: None,
    }];
    let config = TrainConfig {
        encoder: "basicpitch".into(),
        ..TrainConfig::default()
    };
    let mut g = c.benchmark_group("train");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(60));
    g.throughput(Throughput::Elements(seconds as u64));
    g.bench_function("basicpitch_20s_k64", |b| {
        b.iter(|| black_box(train_sources(&sources, &config, &mut |_| {}).unwrap()))
    });
    g.finish();
}

fn answering(c: &mut Criterion) {
    use musichal::corpus::CorpusModel;
    use musichal::engine::{AnswerSettings, Answerer, EMBEDDED_CORPUS};
    let rate = 48_000u32;
    let corpus = CorpusModel::from_bytes(EMBEDDED_CORPUS).unwrap();
    let audio = render_music(30.0, rate, 7);
    let l = musichal::limits::segment_len(rate as f64);
    let segments: Vec<&[f32]> = audio.chunks_exact(l).collect();
    let mut answerer = Answerer::new(&corpus, 1).unwrap();
    let settings = AnswerSettings::default();
    let mut notes = Vec::with_capacity(256);
    let mut k = 0usize;
    let mut g = c.benchmark_group("answer");
    g.bench_function("segment_48k_embedded_corpus", |b| {
        b.iter(|| {
            // Consecutive segments of one stream, looping: the live worker's steady state.
            let i = k % segments.len();
            if i == 0 {
                answerer = Answerer::new(&corpus, 1).unwrap();
            }
            notes.clear();
            let r = answerer
                .answer(segments[i], (k * l) as u64, rate, &settings, &mut notes)
                .unwrap();
            k += 1;
            black_box(r)
        })
    });
    // Follow Changes: the same segment with the worker's three chord checks of it (1/4, 2/4,
    // 3/4 of the segment heard, the previous segment as context), as the live worker runs them.
    let mut with_checks = Answerer::new(&corpus, 1).unwrap();
    let mut k = 0usize;
    g.bench_function("segment_and_three_chord_checks_48k_embedded_corpus", |b| {
        b.iter(|| {
            let i = k % segments.len();
            if i == 0 {
                with_checks = Answerer::new(&corpus, 1).unwrap();
            }
            let context: &[f32] = if i == 0 { &[] } else { segments[i - 1] };
            for j in 1..4 {
                let heard = &segments[i][..j * l / 4];
                black_box(
                    with_checks
                        .chord_now(context, heard, rate, &settings)
                        .unwrap(),
                );
            }
            notes.clear();
            let r = with_checks
                .answer(segments[i], (k * l) as u64, rate, &settings, &mut notes)
                .unwrap();
            k += 1;
            black_box(r)
        })
    });
    g.finish();
}

criterion_group!(benches, training, training_basicpitch, answering);
criterion_main!(benches);
