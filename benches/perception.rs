//! Perception benches (criterion 0.8).
//!
//! - `segment/44k1_350ms`: one 350 ms segment at 44.1 kHz through the whole live path on one
//!   core: resampling, STFT, HPSS, spectral encoder and K = 64 tokens, both streams
//!   (target < 5 ms).
//! - `segment/..._basicpitch`: the same with the `basicpitch` encoder (one Basic Pitch inference
//!   per segment on the harmonic stream, plus the waveform rebuild), when the model is found
//!   (`MUSICHAL_BASIC_PITCH_PATH` or `target/bundled/nmp.onnx`, with `ORT_DYLIB_PATH`); it says
//!   so and is left out otherwise. Read it as a ratio against the spectral bench of the same run.
//! - K-means fit on 50 000 x 768 vectors, K = 64: a one-shot timing printed before the criterion
//!   runs (a fit takes seconds; criterion's minimum of 10 samples would take minutes).
//!   Skip it with `PERCEPTION_BENCH_SKIP_FIT=1`. In criterion's test mode (`cargo test
//!   --benches`) it fits 2 000 x 64 vectors instead: the code runs, nothing is timed.
//! - Like `segment/..._basicpitch` above, a model named by `MUSICHAL_BASIC_PITCH_PATH` must load
//!   (a panic otherwise), so `cargo xtask test` cannot leave it out silently.
//!
//! Run: `cargo bench --bench perception`.

#[path = "support/cpu_time.rs"]
mod cpu_time;
use cpu_time::criterion_test_mode;

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, Criterion};
use musichal::perception::synth::render_music;
use musichal::perception::{
    KMeansConfig, Perception, PerceptionConfig, SphericalKMeans, Vocabulary,
};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

const RATE_HZ: u32 = 44_100;

fn bench_segment(c: &mut Criterion) {
    let spectral = || Perception::new(PerceptionConfig::default()).expect("perception");
    bench_encoder(
        c,
        "segment/44k1_350ms_frontend_encoder_tokens_both_streams",
        &spectral,
    );
    match musichal::perception::build("basicpitch", PerceptionConfig::default()) {
        Ok(_) => bench_encoder(
            c,
            "segment/44k1_350ms_frontend_encoder_tokens_both_streams_basicpitch",
            &|| {
                musichal::perception::build("basicpitch", PerceptionConfig::default())
                    .expect("loaded above")
            },
        ),
        Err(e) if std::env::var_os("MUSICHAL_BASIC_PITCH_PATH").is_some() => {
            panic!("perception bench: MUSICHAL_BASIC_PITCH_PATH is set but basicpitch does not load: {e}")
        }
        Err(e) => println!("basicpitch segment bench left out: {e}"),
    }
}

fn bench_encoder(c: &mut Criterion, name: &str, make: &dyn Fn() -> Perception) {
    let audio = render_music(60.0, RATE_HZ, 3);
    let mut perception = make();
    let segments = perception
        .encode_file_segments(&audio[..RATE_HZ as usize * 30], RATE_HZ)
        .expect("encode");
    let (vocab, _) =
        Vocabulary::fit(perception.encoder_id(), &segments, &KMeansConfig::default()).expect("fit");
    let seg_len = perception.config().segment_samples(RATE_HZ);
    let n_segs = audio.len() / seg_len;
    let mut live = make();
    let mut i = 0usize;
    c.bench_function(name, |b| {
        b.iter(|| {
            let k = i % n_segs;
            i += 1;
            // Wrapping around restarts the stream (start 0), once per 171 segments.
            let seg = live
                .process_segment(
                    &audio[k * seg_len..(k + 1) * seg_len],
                    RATE_HZ,
                    (k * seg_len) as u64,
                )
                .expect("segment");
            black_box(vocab.tokens(&seg).expect("tokens"))
        })
    });
}

/// 50 000 x 768 vectors: 64 random directions with noise and log-normal norms (as the zscore
/// test's embeddings), fitted once with K = 64.
fn one_shot_kmeans_fit() {
    if std::env::var_os("PERCEPTION_BENCH_SKIP_FIT").is_some() {
        return;
    }
    let (n, dim) = if criterion_test_mode() {
        (2_000usize, 64usize)
    } else {
        (50_000usize, 768usize)
    };
    let mut rng = Pcg64::seed_from_u64(1);
    let dirs: Vec<f32> = (0..64 * dim).map(|_| rng.random::<f32>() - 0.5).collect();
    let mut data = Vec::with_capacity(n * dim);
    for i in 0..n {
        let c = i % 64;
        let s = (rng.random::<f32>() * 3.0).exp();
        data.extend((0..dim).map(|d| s * (dirs[c * dim + d] + 0.6 * (rng.random::<f32>() - 0.5))));
    }
    let start = Instant::now();
    let (_, report) = SphericalKMeans::fit(&data, dim, &KMeansConfig::default()).expect("fit");
    let secs = start.elapsed().as_secs_f64();
    println!(
        "kmeans_fit/{n}x{dim}_k64: {secs:.2} s, {} iterations ({:.3} s/iteration), converged {}, {} active, {:.2} bits",
        report.iterations,
        secs / report.iterations.max(1) as f64,
        report.converged,
        report.active_tokens,
        report.entropy_bits
    );
}

criterion_group!(benches, bench_segment);

fn main() {
    one_shot_kmeans_fit();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
