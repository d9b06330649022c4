//! Basic Pitch inference cost (criterion 0.8).
//!
//! - `basic_pitch/window_43844`: one [`BasicPitch::posteriors_window`] call, the live path: one
//!   inference on 43,844 samples (1.99 s at 22,050 Hz) of a four-note chord, copying out the 172
//!   frames of notes, onsets and contour. ONNX Runtime runs on the calling thread
//!   (`INTRA_THREADS` = 1), as on the plugin's worker.
//! - A CPU-time line printed last: the same call timed by the thread's CPU time, which is what to
//!   quote on a shared, loaded machine (criterion's wall time includes time descheduled).
//! - `basic_pitch_30s/*`: 30 s of the project's synthetic band at 44.1 kHz, everything on the
//!   calling thread; criterion's throughput ("elem/s") is seconds of audio per second, i.e. the
//!   real-time multiple:
//!   - `per_segment_windows`: one `posteriors_window` per 350 ms segment (85), the inference
//!     the `basicpitch` encoder runs today;
//!   - `trainer_basicpitch_encoder`: the trainer's analysis with that encoder today
//!     (`Perception` + `basicpitch`, `encode_file_segments`): the baseline;
//!   - `spectral_perception`: the same analysis with the `spectral` encoder, which a Basic Pitch
//!     corpus still runs;
//!   - `whole_file_notes`: `notes::basic_pitch::transcribe` (rubato to 22,050 Hz, the
//!     reference's windows every 36,164 samples: 19 inferences, note creation);
//!   - `decode_notes`: note creation alone on those posteriors.
//! - A whole-file CPU-time summary printed last: each of those as a real-time multiple on one
//!   core, and spectral perception + whole-file notes (what a Basic Pitch corpus needs) against
//!   the baseline.
//!
//! Needs the model (`cargo xtask fetch-basic-pitch`) and ONNX Runtime (`cargo xtask fetch-ort`);
//! without them it prints why and times nothing, unless `MUSICHAL_BASIC_PITCH_PATH` names the
//! model (as `cargo xtask test` does): then a model that does not load is a panic.
//!
//! Run: `cargo bench --bench basic_pitch`.

#[path = "support/cpu_time.rs"]
mod cpu_time;
use cpu_time::{cpu_budget_secs, criterion_test_mode, thread_cpu_secs};
use std::hint::black_box;

use criterion::{criterion_group, Criterion, Throughput};
use musichal::notes::basic_pitch::{decode_notes, transcribe, NoteCreationParams};
use musichal::perception::basic_pitch::{
    resample_to_model_rate, BasicPitch, MODEL_PATH_ENV, SAMPLE_RATE_HZ, WINDOW_SAMPLES,
};
use musichal::perception::synth::render_music;
use musichal::perception::{Perception, PerceptionConfig};
use std::time::Duration;

/// C major in four voices (C3, G3, E4, C5), harmonics 1..=4.
fn chord() -> Vec<f32> {
    let notes = [48.0f32, 55.0, 64.0, 72.0];
    (0..WINDOW_SAMPLES)
        .map(|i| {
            let t = i as f32 / SAMPLE_RATE_HZ as f32;
            let s: f32 = notes
                .iter()
                .flat_map(|&m| {
                    let f0 = 440.0 * 2f32.powf((m - 69.0) / 12.0);
                    (1..=4).map(move |h| {
                        (2.0 * std::f32::consts::PI * f0 * h as f32 * t).sin() / h as f32
                    })
                })
                .sum();
            0.1 * s
        })
        .collect()
}

fn load() -> Option<BasicPitch> {
    match BasicPitch::load_default() {
        Ok(m) => Some(m),
        // A model named explicitly (as `cargo xtask test` does) must load: no silent skip there.
        Err(e) if std::env::var_os(MODEL_PATH_ENV).is_some() => {
            panic!("basic_pitch bench: {MODEL_PATH_ENV} is set but the model does not load: {e}")
        }
        Err(e) => {
            eprintln!("basic_pitch bench skipped: {e}");
            None
        }
    }
}

fn bench_window(c: &mut Criterion) {
    let Some(mut model) = load() else { return };
    let audio = chord();
    let mut group = c.benchmark_group("basic_pitch");
    group.sample_size(30);
    group.bench_function("window_43844", |b| {
        b.iter(|| {
            black_box(
                model
                    .posteriors_window(black_box(&audio))
                    .map(|p| p.n_frames),
            )
        })
    });
    group.finish();
}

/// Windows until 3 s of thread CPU time (one window in criterion's test mode); prints ms per
/// window and the share of one core a live caller running one window per 350 ms segment would
/// take.
fn cpu_time_summary() {
    let Some(mut model) = load() else { return };
    let budget = cpu_budget_secs(3.0);
    let audio = chord();
    for _ in 0..3 {
        let _ = black_box(model.posteriors_window(&audio));
    }
    let Some(c0) = thread_cpu_secs() else { return };
    let mut n = 0u32;
    let ms = loop {
        let _ = black_box(model.posteriors_window(&audio));
        n += 1;
        let Some(c) = thread_cpu_secs() else { return };
        if c - c0 >= budget {
            break (c - c0) * 1e3 / n as f64;
        }
    };
    if criterion_test_mode() {
        println!("cpu-time summary: criterion test mode, {n} window, nothing timed");
        return;
    }
    println!(
        "cpu-time summary: basic_pitch window {ms:.1} ms CPU per call ({n} calls); one call per \
         350 ms segment = {:.1} % of a core",
        100.0 * ms / 350.0
    );
}

/// Seconds of audio of the whole-file benches.
const FILE_SECONDS: f64 = 30.0;
/// Their rate (a typical file's; the trainer resamples).
const FILE_RATE_HZ: u32 = 44_100;

fn band() -> Vec<f32> {
    render_music(FILE_SECONDS as f32, FILE_RATE_HZ, 2026)
}

/// The live path's inference per segment: one window ending at each 350 ms segment's end.
fn per_segment_windows(model: &mut BasicPitch, at_22050: &[f32]) -> usize {
    let seg = musichal::limits::segment_len(SAMPLE_RATE_HZ as f64);
    let mut n = 0;
    let mut end = seg;
    while end <= at_22050.len() {
        let _ = black_box(model.posteriors_window(&at_22050[..end]));
        n += 1;
        end += seg;
    }
    n
}

fn perception(encoder: &str) -> Option<Perception> {
    match musichal::perception::build(encoder, PerceptionConfig::default()) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("{encoder} perception unavailable: {e}");
            None
        }
    }
}

fn bench_whole_file(c: &mut Criterion) {
    let Some(mut model) = load() else { return };
    let (Some(mut bp_perception), Some(mut spectral)) =
        (perception("basicpitch"), perception("spectral"))
    else {
        return;
    };
    let audio = band();
    let at_22050 = resample_to_model_rate(&audio, FILE_RATE_HZ).expect("resample");
    let params = NoteCreationParams::default();
    let post = musichal::notes::basic_pitch::reference_posteriors(&mut model, &at_22050)
        .expect("posteriors");
    let mut group = c.benchmark_group("basic_pitch_30s");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.throughput(Throughput::Elements(FILE_SECONDS as u64));
    group.bench_function("per_segment_windows", |b| {
        b.iter(|| per_segment_windows(&mut model, &at_22050))
    });
    group.bench_function("trainer_basicpitch_encoder", |b| {
        b.iter(|| {
            black_box(
                bp_perception
                    .encode_file_segments(&audio, FILE_RATE_HZ)
                    .map(|s| s.len()),
            )
        })
    });
    group.bench_function("spectral_perception", |b| {
        b.iter(|| {
            black_box(
                spectral
                    .encode_file_segments(&audio, FILE_RATE_HZ)
                    .map(|s| s.len()),
            )
        })
    });
    group.bench_function("whole_file_notes", |b| {
        b.iter(|| black_box(transcribe(&mut model, &audio, FILE_RATE_HZ, &params).map(|n| n.len())))
    });
    group.bench_function("decode_notes", |b| {
        b.iter(|| {
            black_box(
                decode_notes(&post.notes, &post.onsets, post.n_frames, &params).map(|n| n.len()),
            )
        })
    });
    group.finish();
}

/// Thread CPU seconds of one run of `f` (after one warm-up run), as the minimum of `runs`.
fn cpu_secs(runs: usize, mut f: impl FnMut()) -> Option<f64> {
    f();
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        let c0 = thread_cpu_secs()?;
        f();
        best = best.min(thread_cpu_secs()? - c0);
    }
    Some(best)
}

/// The whole-file figures by thread CPU time, as real-time multiples on one core.
fn whole_file_summary() {
    if criterion_test_mode() {
        // The criterion groups above ran each whole-file job once already.
        println!("whole-file cpu-time summary: criterion test mode, nothing timed");
        return;
    }
    let Some(mut model) = load() else { return };
    let (Some(mut bp_perception), Some(mut spectral)) =
        (perception("basicpitch"), perception("spectral"))
    else {
        return;
    };
    let audio = band();
    let at_22050 = resample_to_model_rate(&audio, FILE_RATE_HZ).expect("resample");
    let params = NoteCreationParams::default();
    let runs = 3;
    let Some(per_segment) = cpu_secs(runs, || {
        per_segment_windows(&mut model, &at_22050);
    }) else {
        return;
    };
    let Some(baseline) = cpu_secs(runs, || {
        let _ = black_box(bp_perception.encode_file_segments(&audio, FILE_RATE_HZ));
    }) else {
        return;
    };
    let Some(spectral_s) = cpu_secs(runs, || {
        let _ = black_box(spectral.encode_file_segments(&audio, FILE_RATE_HZ));
    }) else {
        return;
    };
    let Some(whole) = cpu_secs(runs, || {
        let _ = black_box(transcribe(&mut model, &audio, FILE_RATE_HZ, &params));
    }) else {
        return;
    };
    let x = |secs: f64| FILE_SECONDS / secs;
    println!(
        "cpu-time summary, {FILE_SECONDS} s at {FILE_RATE_HZ} Hz, one core (best of {runs}):\n  \
         per-segment windows {per_segment:.2} s ({:.1}x real time)\n  \
         trainer today, basicpitch encoder {baseline:.2} s ({:.1}x)\n  \
         spectral perception {spectral_s:.2} s ({:.1}x)\n  \
         whole-file notes {whole:.3} s ({:.1}x; {:.1}x faster than per-segment windows)\n  \
         Basic Pitch corpus = spectral + whole-file notes {:.2} s ({:.1}x; {:.1}x faster than today)",
        x(per_segment),
        x(baseline),
        x(spectral_s),
        x(whole),
        per_segment / whole,
        spectral_s + whole,
        x(spectral_s + whole),
        baseline / (spectral_s + whole),
    );
}

criterion_group!(benches, bench_window, bench_whole_file);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    cpu_time_summary();
    whole_file_summary();
}
