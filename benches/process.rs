//! The real audio callback: the built plugin (`libmusichal.so` of this build) loaded through the
//! project's CLAP host, timed around its `process()` call alone (the host's own buffer and
//! event handling is outside the timing), in real-time mode at 48 kHz stereo with 64-sample
//! blocks, the worker thread running beside it as in a DAW.
//!
//! - `process/64_defaults`: the defaults (EQ bypassed, Listen on, auto gain on): segment ring,
//!   onset detector, beat clock, scheduler, bypassed EQ, output gain;
//! - `process/64_eq_automated`: EQ on (warm to bright, intensity 1, auto gain on) with the
//!   Morph parameter automated on every block (a new value at sample 0 of each block), Listen
//!   on: everything `process()` does, the morph-grid read, glide, coefficient updates,
//!   K-weighted loudness meters and gain included.
//!
//! The figure to quote is the ratio to real time: a 64-sample block lasts 1,333 µs at 48 kHz,
//! so `time / 1333 µs` is the share of one core the callback takes. Run:
//! `cargo bench --bench process` (ONNX Runtime found beside the build or by ORT_DYLIB_PATH,
//! as for the host tests).

use criterion::{criterion_group, Criterion};
use musichal_clap_host::{plugin_path, BlockSizes, ClapHost, InputEvent};
use std::time::Duration;

const RATE: f64 = 48_000.0;
const BLOCK: usize = 64;
/// Blocks per measured batch: 1 s of audio, so the worker's 350 ms segments are in it.
const BLOCKS_PER_BATCH: usize = 750;

fn host(params: &[(&str, &str)]) -> ClapHost {
    let path = plugin_path();
    let mut host =
        ClapHost::load(&path).unwrap_or_else(|e| panic!("loading {}: {e}", path.display()));
    for (name, value) in params {
        host.set_param_text(name, value).unwrap();
    }
    host.activate(RATE, 1, BLOCK as u32).unwrap();
    host
}

fn signal() -> Vec<Vec<f32>> {
    let music = musichal::perception::synth::render_music(
        (BLOCKS_PER_BATCH * BLOCK) as f32 / RATE as f32,
        RATE as u32,
        7,
    );
    vec![music.clone(), music]
}

/// Time inside `process()` for `iters` blocks, run in batches of [`BLOCKS_PER_BATCH`].
fn time_blocks(
    host: &mut ClapHost,
    signal: &[Vec<f32>],
    iters: u64,
    events: &dyn Fn(&mut ClapHost) -> Vec<(u64, InputEvent)>,
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters as usize;
    while left > 0 {
        let blocks = left.min(BLOCKS_PER_BATCH);
        let len = blocks * BLOCK;
        let part: Vec<Vec<f32>> = signal.iter().map(|c| c[..len].to_vec()).collect();
        let ev = events(host);
        let out = host
            .process_signal(&part, &BlockSizes::Fixed(BLOCK), &ev)
            .unwrap();
        total += out.plugin_time;
        left -= blocks;
    }
    total
}

fn bench_process(c: &mut Criterion) {
    let signal = signal();
    let mut group = c.benchmark_group("process");
    group.measurement_time(Duration::from_secs(10));

    let mut defaults = host(&[]);
    group.bench_function("64_defaults", |b| {
        b.iter_custom(|iters| time_blocks(&mut defaults, &signal, iters, &|_| Vec::new()))
    });
    defaults.deactivate().unwrap();

    let mut automated = host(&[
        ("EQ Bypass", "Off"),
        ("Term A", "warm"),
        ("Term B", "bright"),
        ("Intensity", "1"),
    ]);
    // A morph value at the start of every block, sweeping 0 -> 1 -> 0 over a batch.
    let morph_id = automated.param_id("Morph").unwrap();
    let morph_events = |_: &mut ClapHost| -> Vec<(u64, InputEvent)> {
        (0..BLOCKS_PER_BATCH)
            .map(|i| {
                let x = i as f64 / BLOCKS_PER_BATCH as f64;
                let value = 1.0 - (2.0 * x - 1.0).abs();
                (
                    (i * BLOCK) as u64,
                    InputEvent::ParamValue {
                        param_id: morph_id,
                        value,
                    },
                )
            })
            .collect()
    };
    group.bench_function("64_eq_automated", |b| {
        b.iter_custom(|iters| time_blocks(&mut automated, &signal, iters, &morph_events))
    });
    automated.deactivate().unwrap();
    group.finish();
}

criterion_group!(benches, bench_process);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
