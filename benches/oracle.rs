//! Oracle and corpus benches: construction over 1,000,000 symbols, navigation steps, and the
//! load of a one-hour corpus file (75 frames/s x 3600 s = 270,000 frames): decoding, reading
//! the file, and indexing its oracle (`Oracle::from_data`, `corpus_one_hour_270k_frames/
//! index_oracle_from_data`).
//!
//! `event_jump_one_hour`: one jump on the event oracle of the one-hour corpus (an event per
//! note onset, three a second: 10,800 events), weighing every event's harmony
//! (`step_guided_weighing_all`, what the answer does) against weighing only the events after
//! the query's last label (`step_guided_preferring`, the baseline in the same process).
//!
//! `cargo bench --bench oracle` (add `-- --quick` or `--measurement-time 2` for a short run).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use musichal::corpus::{consonance, CorpusModel, FrameRecord};
use musichal::oracle::{DriveStream, Navigator, Oracle, Symbol};
use musichal::perception::pitch::FramePitches;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg32;

const ONE_HOUR_FRAMES: usize = 75 * 3600;

/// Tokens with musical-ish structure: a walk that often repeats earlier material.
fn structured_symbols(n: usize, alphabet: u32, seed: u64) -> Vec<Symbol> {
    let mut rng = Pcg32::seed_from_u64(seed);
    let mut out: Vec<Symbol> = Vec::with_capacity(n);
    while out.len() < n {
        if out.len() > 64 && rng.random_bool(0.6) {
            let len = rng.random_range(4..48usize).min(n - out.len());
            let from = rng.random_range(0..out.len() - len.min(out.len() - 1));
            for k in 0..len {
                let s = out[from + k];
                out.push(s);
            }
        } else {
            out.push(rng.random_range(0..alphabet));
        }
    }
    out
}

fn one_hour_corpus() -> CorpusModel {
    let mut rng = Pcg32::seed_from_u64(5);
    let vocab = 64u16;
    let dim = 128u32;
    let mut m = CorpusModel::new(
        "spectral",
        r#"{"n_mels":64}"#,
        24_000,
        75.0,
        vocab,
        dim,
        DriveStream::Harmonic,
    );
    m.centroids_harmonic = (0..vocab as usize * dim as usize)
        .map(|_| rng.random_range(-0.2..0.2))
        .collect();
    m.centroids_percussive = m.centroids_harmonic.clone();
    m.source_files = vec!["one_hour.wav".into()];
    let harmonic = structured_symbols(ONE_HOUR_FRAMES, vocab as u32, 6);
    for (i, &h) in harmonic.iter().enumerate() {
        let mut chroma = [0.0f32; 12];
        chroma
            .iter_mut()
            .for_each(|c| *c = rng.random_range(0.0..1.0));
        m.frames.push(FrameRecord {
            time_s: i as f32 / 75.0,
            duration_s: 1.0 / 75.0,
            harmonic_token: Some(h as u16),
            percussive_token: Some(rng.random_range(0..vocab)),
            loudness_db: rng.random_range(-60.0..0.0),
            chroma,
            pitches: FramePitches::from_slice(
                &(0..rng.random_range(0..3usize))
                    .map(|_| rng.random_range(40..90u8))
                    .collect::<Vec<_>>(),
            ),
            onset: i % 5 == 0,
            consonance: consonance(&chroma),
            source_idx: 0,
        });
    }
    // An hour of notes at three a second, as a transcription stores them.
    let notes = (0..ONE_HOUR_FRAMES / 25)
        .map(|k| {
            let onset_s = k as f64 / 3.0;
            musichal::notes::NoteEvent {
                onset_s,
                offset_s: onset_s + rng.random_range(0.1..1.5),
                pitch: rng.random_range(36..96u8),
                velocity: rng.random_range(20..128u8),
            }
        })
        .collect();
    m.recordings = vec![musichal::corpus::RecordingNotes {
        source: musichal::notes::NoteSource::Dsp,
        duration_s: ONE_HOUR_FRAMES as f64 / 75.0,
        notes,
    }];
    m.build_factor_oracle(DriveStream::Harmonic).unwrap();
    m
}

fn construction(c: &mut Criterion) {
    let mut group = c.benchmark_group("oracle_construction");
    group.sample_size(10);
    let n = 1_000_000;
    group.throughput(Throughput::Elements(n as u64));
    let random: Vec<Symbol> = {
        let mut rng = Pcg32::seed_from_u64(1);
        (0..n).map(|_| rng.random_range(0..64)).collect()
    };
    let structured = structured_symbols(n, 64, 2);
    group.bench_function("factor_1M_alphabet64_random", |b| {
        b.iter(|| {
            black_box(Oracle::from_symbols(
                DriveStream::Harmonic,
                black_box(&random),
            ))
        })
    });
    group.bench_function("factor_1M_alphabet64_structured", |b| {
        b.iter(|| {
            black_box(Oracle::from_symbols(
                DriveStream::Harmonic,
                black_box(&structured),
            ))
        })
    });
    group.finish();
}

fn navigation(c: &mut Criterion) {
    let oracle = Oracle::from_symbols(
        DriveStream::Harmonic,
        &structured_symbols(ONE_HOUR_FRAMES, 64, 3),
    );
    let mut group = c.benchmark_group("oracle_navigation_270k_states");
    let steps = 10_000u64;
    group.throughput(Throughput::Elements(steps));
    for continuity in [0.5f32, 0.9] {
        group.bench_function(format!("free_step_continuity_{continuity}"), |b| {
            let mut nav = Navigator::new(continuity);
            let mut rng = Pcg32::seed_from_u64(4);
            b.iter(|| {
                for _ in 0..steps {
                    black_box(nav.step(&oracle, &mut rng));
                }
            })
        });
    }
    let query: Vec<Symbol> = oracle.sequence()[1000..1026].to_vec();
    group.bench_function("guided_step_continuity_0.5_query_26", |b| {
        let mut nav = Navigator::new(0.5);
        let mut rng = Pcg32::seed_from_u64(5);
        b.iter(|| {
            for _ in 0..steps {
                black_box(nav.step_guided(&oracle, &query, &mut rng));
            }
        })
    });
    group.finish();
}

fn event_jump(c: &mut Criterion) {
    let corpus = one_hour_corpus();
    let oracle = corpus.event_oracle().unwrap();
    let n = corpus.events.len();
    // Per event a unit chord and a key as the answer scores them (cosine against the input's).
    let mut rng = Pcg32::seed_from_u64(8);
    let unit = |rng: &mut Pcg32| {
        let mut v = [0.0f32; 12];
        v.iter_mut().for_each(|x| *x = rng.random_range(0.0..1.0));
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.map(|x| x / norm)
    };
    let chords: Vec<[f32; 12]> = (0..n).map(|_| unit(&mut rng)).collect();
    let keys: Vec<[f32; 12]> = (0..n).map(|_| unit(&mut rng)).collect();
    let (live_chord, live_key) = (unit(&mut rng), unit(&mut rng));
    let cos = |a: &[f32; 12], b: &[f32; 12]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    let prefer = |state: usize| -> f32 {
        let e = state.saturating_sub(1).min(n - 1);
        0.5 * (cos(&chords[e], &live_chord) + cos(&keys[e], &live_key))
    };
    let query: Vec<Symbol> = oracle.sequence()[500..508].to_vec();
    let mut group = c.benchmark_group(format!("event_jump_one_hour_{n}_events"));
    for (name, every) in [
        ("weighing_every_event", true),
        ("weighing_the_events_after_the_last_label", false),
    ] {
        group.bench_function(name, |b| {
            let mut nav = Navigator::new(0.0);
            let mut rng = Pcg32::seed_from_u64(5);
            let step = if every {
                Navigator::step_guided_weighing_all
            } else {
                Navigator::step_guided_preferring
            };
            b.iter(|| {
                nav.set_state(1000);
                black_box(step(
                    &mut nav,
                    &oracle,
                    &query,
                    &mut rng,
                    &|_| false,
                    &prefer,
                    0.8,
                ))
            })
        });
    }
    group.finish();
}

fn corpus_load(c: &mut Criterion) {
    let model = one_hour_corpus();
    let bytes = model.to_bytes().unwrap();
    let path = std::env::temp_dir().join(format!("musichal-bench-{}.mhc", std::process::id()));
    model.save(&path).unwrap();
    eprintln!(
        "one-hour corpus: {} frames, {:.1} MB",
        model.frames.len(),
        bytes.len() as f64 / 1e6
    );
    let mut group = c.benchmark_group("corpus_one_hour_270k_frames");
    group.sample_size(10);
    group.bench_function("from_bytes", |b| {
        b.iter(|| black_box(CorpusModel::from_bytes(black_box(&bytes)).unwrap()))
    });
    group.bench_function("load_file", |b| {
        b.iter(|| black_box(CorpusModel::load(&path).unwrap()))
    });
    // `Oracle::from_data` alone: rebuilding the navigable oracle from the stored arrays.
    group.bench_function("index_oracle_from_data", |b| {
        b.iter(|| black_box(model.oracle().unwrap()))
    });
    group.bench_function("load_file_and_index_oracle", |b| {
        b.iter(|| black_box(CorpusModel::load(&path).unwrap().oracle().unwrap()))
    });
    group.bench_function("to_bytes", |b| {
        b.iter(|| black_box(model.to_bytes().unwrap()))
    });
    group.bench_function("save_file", |b| {
        b.iter_batched(
            || (),
            |_| model.save(&path).unwrap(),
            BatchSize::PerIteration,
        )
    });
    group.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    targets = construction, navigation, event_jump, corpus_load
}
criterion_main!(benches);
