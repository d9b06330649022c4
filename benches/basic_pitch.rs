//! Basic Pitch inference cost (criterion 0.8).
//!
//! - `basic_pitch/window_43844`: one [`BasicPitch::posteriors_window`] call, the live path: one
//!   inference on 43,844 samples (1.99 s at 22,050 Hz) of a four-note chord, copying out the 172
//!   frames of notes, onsets and contour. ONNX Runtime runs on the calling thread
//!   (`INTRA_THREADS` = 1), as on the plugin's worker.
//! - A CPU-time line printed last: the same call timed by the thread's CPU time, which is what to
//!   quote on a shared, loaded machine (criterion's wall time includes time descheduled).
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

use criterion::{criterion_group, Criterion};
use musichal::perception::basic_pitch::{
    BasicPitch, MODEL_PATH_ENV, SAMPLE_RATE_HZ, WINDOW_SAMPLES,
};

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

criterion_group!(benches, bench_window);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    cpu_time_summary();
}
