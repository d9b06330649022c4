//! What a term change costs the worker: decoding the 33-point morph grid (`decode_grid`, one
//! batched ONNX Runtime call over the latent segment between the two terms' centroids), the
//! work the worker does whenever Term A, Term B or the EQ model changes (`src/worker.rs`,
//! `GRID_POINTS`). For scale, in the same run: one single-point `decode`, and the grid decoded
//! point by point (33 separate calls).
//!
//! - `eq_decode/grid_33_batched`: `decode_grid(warm, bright, 33)`, what the worker runs;
//! - `eq_decode/one_point`: `decode(warm, bright, 0.5, 1)`;
//! - `eq_decode/grid_33_one_call_per_point`: 33 `decode` calls.
//!
//! The embedded model through ONNX Runtime (`ORT_DYLIB_PATH`, or the library beside the
//! build); without it the bench fails, it does not skip. Run:
//! `ORT_DYLIB_PATH=$PWD/target/bundled/libonnxruntime.so.1.31.1 cargo bench --bench eq_decode`.
//! In criterion's test mode (`cargo test --bench eq_decode`) each runs once, untimed.

use criterion::{criterion_group, Criterion};
use musichal::eq_morph::decoder::GRID_POINTS;
use musichal::eq_morph::EqMorphModel;
use std::hint::black_box;
use std::time::Duration;

fn bench_decode(c: &mut Criterion) {
    let mut model = EqMorphModel::embedded().unwrap_or_else(|e| {
        panic!(
            "eq_decode bench: the embedded EQ model needs ONNX Runtime \
             (set ORT_DYLIB_PATH to libonnxruntime.so.1.31.1; `cargo xtask fetch-ort`): {e}"
        )
    });
    // The worker's grid size, as the plugin uses it.
    assert_eq!(GRID_POINTS, 33);
    let mut group = c.benchmark_group("eq_decode");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("grid_33_batched", |b| {
        b.iter(|| {
            black_box(
                model
                    .decode_grid(black_box("warm"), black_box("bright"), GRID_POINTS)
                    .expect("decode_grid"),
            )
        })
    });
    group.bench_function("one_point", |b| {
        b.iter(|| {
            black_box(
                model
                    .decode(black_box("warm"), black_box("bright"), 0.5, 1.0)
                    .expect("decode"),
            )
        })
    });
    group.bench_function("grid_33_one_call_per_point", |b| {
        b.iter(|| {
            for i in 0..GRID_POINTS {
                let m = i as f32 / (GRID_POINTS - 1) as f32;
                black_box(model.decode("warm", "bright", m, 1.0).expect("decode"));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_decode);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
