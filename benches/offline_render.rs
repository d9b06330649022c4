//! What an offline render (bounce) costs per sample through the real plugin, loaded by the
//! project's CLAP host (`crates/musichal-clap-host`) in `clap.render` offline mode, at 48 kHz in
//! blocks of 512 frames, stereo, on the project's synthetic music, with the EQ bypassed (the
//! default):
//!
//! - `listen_off`: Listen off (Live Learning off): nothing needs the input's analysis.
//! - `listen_off_learning_on`: Listen off, Live Learning on: the worker must analyse every
//!   segment (to learn it), and the render waits for it. This is what `listen_off` cost
//!   before the worker learned to skip unneeded analysis, and it is the baseline of the ratio.
//! - `listen_on`: the plugin answering (analysis, oracle walk, early answers).
//!
//! One iteration processes 4 s of audio through an already active instance (activation, the
//! worker's start and ONNX Runtime's load are outside the measurement). Throughput is in
//! frames, so time / 192,000 is the cost per stereo sample, host harness included (it copies
//! every block in and out). A CPU-time summary (all threads of the process: host audio
//! thread and plugin worker) is printed at the end.
//!
//! Needs the plugin built for this profile (`cargo bench` builds it) and ONNX Runtime
//! (`ORT_DYLIB_PATH`) for the EQ grid the plugin decodes at activation.
//! Run: `cargo bench --bench offline_render -- --measurement-time 10`.

#[allow(dead_code)]
#[path = "support/cpu_time.rs"]
mod cpu_time;
use cpu_time::process_cpu_secs;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use musichal::perception::synth::render_music;
use musichal_clap_host::{plugin_path, BlockSizes, ClapHost};
use std::time::{Duration, Instant};

const RATE: u32 = 48_000;
const BLOCK: usize = 512;
const SECONDS: f32 = 4.0;

const CASES: [(&str, &[(&str, &str)]); 3] = [
    ("listen_off", &[("Listen", "Off"), ("Live Learning", "Off")]),
    (
        "listen_off_learning_on",
        &[("Listen", "Off"), ("Live Learning", "On")],
    ),
    ("listen_on", &[("Listen", "On"), ("Live Learning", "Off")]),
];

fn host_for(params: &[(&str, &str)]) -> ClapHost {
    let mut host = ClapHost::load(plugin_path()).expect("the built plugin");
    host.set_offline_render(true).expect("offline mode");
    for (name, text) in params {
        host.set_param_text(name, text).expect(name);
    }
    host.activate(RATE as f64, 1, BLOCK as u32)
        .expect("activate");
    host
}

fn offline_render(c: &mut Criterion) {
    std::env::set_var("MUSICHAL_HOST_QUIET", "1");
    let mono = render_music(SECONDS, RATE, 11);
    let signal = vec![mono.clone(), mono.iter().map(|s| 0.8 * s).collect()];
    let frames = signal[0].len() as u64;
    let mut group = c.benchmark_group("offline_render_48k_block512");
    group.throughput(Throughput::Elements(frames));
    group.sample_size(10);
    let mut cpu = Vec::new();
    for (name, params) in CASES {
        let mut host = host_for(params);
        let mut cpu_s = 0.0;
        let mut cpu_frames = 0u64;
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let cpu0 = process_cpu_secs();
                let t0 = Instant::now();
                for _ in 0..iters {
                    let out = host
                        .process_signal(&signal, &BlockSizes::Fixed(BLOCK), &[])
                        .expect("process");
                    std::hint::black_box(out);
                }
                let wall = t0.elapsed();
                if let (Some(a), Some(b)) = (cpu0, process_cpu_secs()) {
                    cpu_s += b - a;
                    cpu_frames += iters * frames;
                }
                wall
            })
        });
        host.deactivate().expect("deactivate");
        cpu.push((name, cpu_s / cpu_frames.max(1) as f64 * 1e9));
    }
    group.finish();
    let base = cpu
        .iter()
        .find(|(n, _)| *n == "listen_off_learning_on")
        .map_or(f64::NAN, |c| c.1);
    println!("cpu-time summary (all threads, ns per stereo sample, host harness included):");
    for (name, ns) in &cpu {
        println!(
            "  {name:<24} {ns:>8.1} ns  ({:.3}x listen_off_learning_on)",
            ns / base
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(10));
    targets = offline_render
}
criterion_main!(benches);
