//! EQ and audio-thread cost.
//!
//! - `eq_stereo_5band/*`: 4096 stereo frames in host blocks of 64, five active bands:
//!   `svf_static` (Eq5, constant parameters), `svf_automated` (Eq5, a new target every block,
//!   so it glides all the time), `rbj_df1_reference` (plain per-sample RBJ cookbook biquads in
//!   direct form I, coefficients computed once). Throughput is in stereo frames, so
//!   criterion's time / 4096 is ns per stereo sample.
//! - `eq_morph_automation/*` (issue #14): the EQ as `process_inner` (src/lib.rs) drives it,
//!   4096 stereo frames in host blocks of 64, each cut into `SUB_BLOCK_LEN` sub-blocks; per
//!   sub-block the morph grid is interpolated (`MorphGrid::params_at`), intensity applied, the
//!   target set and the sub-block processed. `eq_static` / `eq_automated`: the EQ alone, the
//!   per-sub-block targets read from a table computed beforehand from the grid (constant, or a
//!   morph sweeping 0 -> 1 -> 0 continuously, 170 ms each way); `path_static` /
//!   `path_automated`: the same with the grid interpolation inside the timed loop, as the plugin
//!   runs it. The ratio automated / static of each pair is printed by CPU time at the end.
//! - `audio_thread_total/block64_48k`: one 64-frame block at 48 kHz of what `process()` runs:
//!   ring push (mono sum), EQ under automation, MIDI scheduler with notes queued. A summary line
//!   with the fraction of real time is printed at the end.
//! - A CPU-time summary printed last (`cpu-time summary`): the same loops timed by the thread's
//!   CPU time instead of wall time, which is what to quote on a shared, loaded machine.
//!
//! Run: `cargo bench --bench eq -- --measurement-time 3`.

#[path = "support/cpu_time.rs"]
mod cpu_time;
use cpu_time::{cpu_budget_secs, criterion_test_mode, thread_cpu_secs};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use musichal::dsp::{Eq5, EqParams, SUB_BLOCK_LEN};
use musichal::eq_morph::{apply_intensity, MorphGrid};
use musichal::rt::{midi_channel, segment_channel, NoteEvent};
use std::hint::black_box;
use std::time::{Duration, Instant};

const FS: f32 = 48_000.0;
const FRAMES: usize = 4096;
const BLOCK: usize = 64;

fn active_params(t: f32) -> EqParams {
    let s = t.sin();
    EqParams {
        ls_gain_db: 4.0 + 2.0 * s,
        ls_freq_hz: 120.0,
        p1_gain_db: -3.0,
        p1_freq_hz: 400.0 * (1.0 + 0.2 * s),
        p1_q: 1.2,
        p2_gain_db: 5.0 * s + 0.5,
        p2_freq_hz: 1_500.0,
        p2_q: 2.0 + s,
        p3_gain_db: -6.0,
        p3_freq_hz: 5_000.0,
        p3_q: 0.8,
        hs_gain_db: 3.0 - s,
        hs_freq_hz: 9_000.0,
    }
}

/// Straightforward reference: RBJ cookbook biquads, direct form I, per sample.
#[derive(Clone, Copy, Default)]
struct Df1 {
    b: [f32; 3],
    a: [f32; 2],
    x1: f32,
    x2: f32,
    y1: f32,
    y2: f32,
}

impl Df1 {
    fn new(kind: u8, fs: f32, f0: f32, gain_db: f32, q: f32) -> Self {
        let a = 10f32.powf(gain_db / 40.0);
        let w0 = 2.0 * std::f32::consts::PI * f0 / fs;
        let (cw, sw) = (w0.cos(), w0.sin());
        let alpha = sw / (2.0 * q);
        let sa = 2.0 * a.sqrt() * alpha;
        let c = match kind {
            0 => [
                a * ((a + 1.0) - (a - 1.0) * cw + sa),
                2.0 * a * ((a - 1.0) - (a + 1.0) * cw),
                a * ((a + 1.0) - (a - 1.0) * cw - sa),
                (a + 1.0) + (a - 1.0) * cw + sa,
                -2.0 * ((a - 1.0) + (a + 1.0) * cw),
                (a + 1.0) + (a - 1.0) * cw - sa,
            ],
            1 => [
                1.0 + alpha * a,
                -2.0 * cw,
                1.0 - alpha * a,
                1.0 + alpha / a,
                -2.0 * cw,
                1.0 - alpha / a,
            ],
            _ => [
                a * ((a + 1.0) + (a - 1.0) * cw + sa),
                -2.0 * a * ((a - 1.0) + (a + 1.0) * cw),
                a * ((a + 1.0) + (a - 1.0) * cw - sa),
                (a + 1.0) - (a - 1.0) * cw + sa,
                2.0 * ((a - 1.0) - (a + 1.0) * cw),
                (a + 1.0) - (a - 1.0) * cw - sa,
            ],
        };
        Df1 {
            b: [c[0] / c[3], c[1] / c[3], c[2] / c[3]],
            a: [c[4] / c[3], c[5] / c[3]],
            ..Default::default()
        }
    }

    #[inline(always)]
    fn tick(&mut self, x: f32) -> f32 {
        let y = self.b[0] * x + self.b[1] * self.x1 + self.b[2] * self.x2
            - self.a[0] * self.y1
            - self.a[1] * self.y2;
        self.x2 = self.x1;
        self.x1 = x;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }
}

fn reference_cascade(p: &EqParams) -> [Df1; 5] {
    [
        Df1::new(0, FS, p.ls_freq_hz, p.ls_gain_db, 0.71),
        Df1::new(1, FS, p.p1_freq_hz, p.p1_gain_db, p.p1_q),
        Df1::new(1, FS, p.p2_freq_hz, p.p2_gain_db, p.p2_q),
        Df1::new(1, FS, p.p3_freq_hz, p.p3_gain_db, p.p3_q),
        Df1::new(2, FS, p.hs_freq_hz, p.hs_gain_db, 0.71),
    ]
}

fn input() -> (Vec<f32>, Vec<f32>) {
    let l: Vec<f32> = (0..FRAMES)
        .map(|i| (i as f32 * 0.031).sin() * 0.5)
        .collect();
    let r: Vec<f32> = (0..FRAMES)
        .map(|i| (i as f32 * 0.017).cos() * 0.5)
        .collect();
    (l, r)
}

fn bench_eq(c: &mut Criterion) {
    let mut g = c.benchmark_group("eq_stereo_5band");
    g.throughput(Throughput::Elements(FRAMES as u64));
    let (l0, r0) = input();

    g.bench_function(BenchmarkId::new("svf_static", FRAMES), |b| {
        let mut eq = Eq5::new(FS).unwrap();
        eq.set_params_immediate(active_params(0.3));
        let (mut l, mut r) = (l0.clone(), r0.clone());
        b.iter(|| {
            l.copy_from_slice(&l0);
            r.copy_from_slice(&r0);
            for (bl, br) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
                eq.process_block(&mut [bl, br]);
            }
            black_box((&l, &r));
        })
    });

    g.bench_function(BenchmarkId::new("svf_automated", FRAMES), |b| {
        let mut eq = Eq5::new(FS).unwrap();
        let (mut l, mut r) = (l0.clone(), r0.clone());
        let mut t = 0.0f32;
        b.iter(|| {
            l.copy_from_slice(&l0);
            r.copy_from_slice(&r0);
            for (bl, br) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
                t += 0.01;
                eq.set_target(active_params(t));
                eq.process_block(&mut [bl, br]);
            }
            black_box((&l, &r));
        })
    });

    g.bench_function(BenchmarkId::new("rbj_df1_reference", FRAMES), |b| {
        let p = active_params(0.3);
        let mut left = reference_cascade(&p);
        let mut right = reference_cascade(&p);
        let (mut l, mut r) = (l0.clone(), r0.clone());
        b.iter(|| {
            l.copy_from_slice(&l0);
            r.copy_from_slice(&r0);
            for (bl, br) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
                for (xl, xr) in bl.iter_mut().zip(br.iter_mut()) {
                    let (mut vl, mut vr) = (*xl, *xr);
                    for k in 0..5 {
                        vl = left[k].tick(vl);
                        vr = right[k].tick(vr);
                    }
                    *xl = vl;
                    *xr = vr;
                }
            }
            black_box((&l, &r));
        })
    });
    g.finish();
}

/// Sub-blocks per morph sweep (0 -> 1 -> 0): 512 each way, 170 ms at 48 kHz.
const SWEEP_SUB_BLOCKS: usize = 1024;

/// A 65-point morph grid in which every one of the 13 parameters moves from one end to the
/// other (as the decoder's output does between two terms), so no band is ever unchanged.
fn morph_grid() -> MorphGrid {
    let rows: Vec<[f32; 13]> = (0..65)
        .map(|i| {
            let u = i as f32 / 64.0;
            let bend = (std::f32::consts::PI * u).sin();
            [
                -6.0 + 12.0 * u,               // ls gain
                80.0 * 3f32.powf(u),           // ls freq
                4.0 - 10.0 * u + 2.0 * bend,   // p1 gain
                250.0 * 2f32.powf(u),          // p1 freq
                0.7 * 3f32.powf(u),            // p1 q
                -3.0 + 9.0 * bend,             // p2 gain
                1_200.0 * 1.8f32.powf(u),      // p2 freq
                1.5 / 2f32.powf(u),            // p2 q
                2.0 - 8.0 * u,                 // p3 gain
                4_000.0 * 2.5f32.powf(u),      // p3 freq
                0.9 + bend,                    // p3 q
                -2.0 + 7.0 * u,                // hs gain
                6_000.0 * 2f32.powf(u * bend), // hs freq
            ]
        })
        .collect();
    MorphGrid::from_rows(&rows)
}

/// Morph value of sub-block `i` of a continuous triangle sweep.
fn morph_at(i: usize) -> f32 {
    let half = SWEEP_SUB_BLOCKS / 2;
    let k = i % SWEEP_SUB_BLOCKS;
    let up = if k < half { k } else { SWEEP_SUB_BLOCKS - k };
    up as f32 / half as f32
}

/// The EQ driven sub-block by sub-block as `process_inner` drives it.
struct MorphDriven {
    eq: Eq5,
    grid: MorphGrid,
    /// Per-sub-block targets, computed beforehand from the grid (for the EQ-only pair).
    targets: Vec<EqParams>,
    sweep: bool,
    sub_block: usize,
}

impl MorphDriven {
    const INTENSITY: f32 = 1.0;

    fn new(sweep: bool) -> Self {
        let grid = morph_grid();
        let targets = (0..SWEEP_SUB_BLOCKS)
            .map(|i| {
                let m = if sweep { morph_at(i) } else { 0.3 };
                apply_intensity(grid.params_at(m), Self::INTENSITY)
            })
            .collect();
        let mut eq = Eq5::new(FS).unwrap();
        eq.set_params_immediate(apply_intensity(grid.params_at(0.3), Self::INTENSITY));
        MorphDriven {
            eq,
            grid,
            targets,
            sweep,
            sub_block: 0,
        }
    }

    /// One host block; targets from the table (`interpolate = false`) or from the grid.
    #[inline(always)]
    fn block(&mut self, l: &mut [f32], r: &mut [f32], interpolate: bool) {
        for (sl, sr) in l.chunks_mut(SUB_BLOCK_LEN).zip(r.chunks_mut(SUB_BLOCK_LEN)) {
            let i = self.sub_block % SWEEP_SUB_BLOCKS;
            self.sub_block += 1;
            let target = if interpolate {
                let m = if self.sweep { morph_at(i) } else { 0.3 };
                apply_intensity(self.grid.params_at(black_box(m)), Self::INTENSITY)
            } else {
                self.targets[i]
            };
            self.eq.set_target(target);
            self.eq.process_stereo(sl, sr);
        }
    }

    fn run(&mut self, l: &mut [f32], r: &mut [f32], interpolate: bool) {
        for (bl, br) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
            self.block(bl, br, interpolate);
        }
    }
}

fn bench_morph(c: &mut Criterion) {
    let mut g = c.benchmark_group("eq_morph_automation");
    g.throughput(Throughput::Elements(FRAMES as u64));
    let (l0, r0) = input();
    for (name, sweep, interpolate) in [
        ("eq_static", false, false),
        ("eq_automated", true, false),
        ("path_static", false, true),
        ("path_automated", true, true),
    ] {
        g.bench_function(BenchmarkId::new(name, FRAMES), |b| {
            let mut d = MorphDriven::new(sweep);
            let (mut l, mut r) = (l0.clone(), r0.clone());
            b.iter(|| {
                l.copy_from_slice(&l0);
                r.copy_from_slice(&r0);
                d.run(&mut l, &mut r, interpolate);
                black_box((&l, &r));
            })
        });
    }
    g.finish();
}

/// Everything the audio thread does per block besides host glue.
struct AudioThread {
    eq: Eq5,
    writer: musichal::rt::SegmentWriter,
    assembler: musichal::rt::SegmentAssembler,
    tx: musichal::rt::NoteSender,
    sched: musichal::rt::MidiScheduler,
    l: Vec<f32>,
    r: Vec<f32>,
    t: f32,
    blocks: u64,
}

impl AudioThread {
    fn new() -> Self {
        let (writer, assembler) = segment_channel(FS as f64, 4.0).unwrap();
        let (tx, sched) = midi_channel();
        AudioThread {
            eq: Eq5::new(FS).unwrap(),
            writer,
            assembler,
            tx,
            sched,
            l: vec![0.0; BLOCK],
            r: vec![0.0; BLOCK],
            t: 0.0,
            blocks: 0,
        }
    }

    /// Untimed worker-side chores: keep the ring drained and notes queued.
    fn worker_chores(&mut self) {
        while let Some(seg) = self.assembler.next_segment() {
            black_box(seg.start_sample);
        }
        let now = self.writer.clock();
        while self.tx.free_slots() > 0 && self.sched.num_pending() < 64 {
            let k = self.blocks;
            let _ = self.tx.send(NoteEvent {
                note: 36 + (k % 48) as u8,
                velocity: 0.8,
                channel: 0,
                start_sample: now + (k * 97) % 48_000,
                duration_samples: 2_000 + (k % 7) as u32 * 1_000,
                beat: None,
                chord: 0,
            });
            self.blocks += 1;
        }
    }

    /// One host block: ring push, EQ under automation, MIDI out.
    #[inline(never)]
    fn process(&mut self) {
        for (i, (a, b)) in self.l.iter_mut().zip(self.r.iter_mut()).enumerate() {
            *a = ((self.t * 1000.0) + i as f32 * 0.05).sin() * 0.3;
            *b = *a * 0.7;
        }
        let start = self.writer.clock();
        self.writer.push_block(&[&self.l, &self.r]);
        self.t += 0.001;
        self.eq.set_target(active_params(self.t));
        self.eq.process_block(&mut [&mut self.l, &mut self.r]);
        self.sched.process_block(start, BLOCK as u32, |e| {
            black_box(e);
        });
        black_box((&self.l, &self.r));
    }
}

fn bench_total(c: &mut Criterion) {
    let mut g = c.benchmark_group("audio_thread_total");
    g.throughput(Throughput::Elements(BLOCK as u64));
    g.bench_function("block64_48k", |b| {
        let mut at = AudioThread::new();
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                at.worker_chores();
                let n = (iters - done).min(256);
                let t0 = Instant::now();
                for _ in 0..n {
                    at.process();
                }
                total += t0.elapsed();
                done += n;
            }
            total
        })
    });
    g.finish();

    cpu_time_summary();
}

/// Run `f` (which processes `frames` frames) until 2 s of thread CPU time; ns per frame. In
/// criterion's test mode, one pass of 64 calls.
fn cpu_ns_per_frame(frames: usize, f: impl FnMut()) -> Option<f64> {
    cpu_ns_per_frame_for(frames, 2.0, f)
}

/// Run `f` (which processes `frames` frames) until `secs` of thread CPU time (one pass of 64
/// calls in criterion's test mode); ns per frame.
fn cpu_ns_per_frame_for(frames: usize, secs: f64, mut f: impl FnMut()) -> Option<f64> {
    let budget = cpu_budget_secs(secs);
    for _ in 0..50 {
        f(); // warm up
    }
    let c0 = thread_cpu_secs()?;
    let mut n = 0u64;
    loop {
        for _ in 0..64 {
            f();
        }
        n += 64;
        let c = thread_cpu_secs()? - c0;
        if c >= budget {
            return Some(c * 1e9 / (n as f64 * frames as f64));
        }
    }
}

/// The headline figures, by CPU time: ns per stereo frame for the three EQ variants, and the
/// audio thread's share of one core at 48 kHz, block 64.
fn cpu_time_summary() {
    let (l0, r0) = input();
    let (mut l, mut r) = (l0.clone(), r0.clone());
    let mut eq = Eq5::new(FS).unwrap();
    eq.set_params_immediate(active_params(0.3));
    let static_ns = cpu_ns_per_frame(FRAMES, || {
        l.copy_from_slice(&l0);
        r.copy_from_slice(&r0);
        for (bl, br) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
            eq.process_block(&mut [bl, br]);
        }
        black_box((&l, &r));
    });
    let mut eq = Eq5::new(FS).unwrap();
    let mut t = 0.0f32;
    let automated_ns = cpu_ns_per_frame(FRAMES, || {
        l.copy_from_slice(&l0);
        r.copy_from_slice(&r0);
        for (bl, br) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)) {
            t += 0.01;
            eq.set_target(active_params(t));
            eq.process_block(&mut [bl, br]);
        }
        black_box((&l, &r));
    });
    let p = active_params(0.3);
    let (mut cl, mut cr) = (reference_cascade(&p), reference_cascade(&p));
    let reference_ns = cpu_ns_per_frame(FRAMES, || {
        l.copy_from_slice(&l0);
        r.copy_from_slice(&r0);
        for (xl, xr) in l.iter_mut().zip(r.iter_mut()) {
            let (mut vl, mut vr) = (*xl, *xr);
            for k in 0..5 {
                vl = cl[k].tick(vl);
                vr = cr[k].tick(vr);
            }
            *xl = vl;
            *xr = vr;
        }
        black_box((&l, &r));
    });
    let mut at = AudioThread::new();
    let mut i = 0u64;
    let total_ns = cpu_ns_per_frame(BLOCK, || {
        if i.is_multiple_of(256) {
            at.worker_chores();
        }
        i += 1;
        at.process();
    });
    match (static_ns, automated_ns, reference_ns, total_ns) {
        _ if criterion_test_mode() => {
            println!("cpu-time summary: criterion test mode, each loop ran once, nothing timed")
        }
        (Some(s), Some(a), Some(r), Some(t)) => {
            println!("cpu-time summary (ns per stereo frame, 5 active bands, blocks of 64):");
            println!("  svf_static        {s:6.2}");
            println!("  svf_automated     {a:6.2}");
            println!("  rbj_df1_reference {r:6.2}");
            println!(
                "  audio thread total (ring push + EQ under automation + MIDI) at 48 kHz, block 64: \
                 {:.0} ns per block = {:.3} % of one core",
                t * BLOCK as f64,
                100.0 * t * FS as f64 / 1e9
            );
        }
        _ => println!("cpu-time summary unavailable (no /proc/thread-self/stat)"),
    }
    morph_ratio_summary();
}

/// Automated / static cost of the morph-driven EQ by thread CPU time, the two measured in
/// alternating 0.5 s slices (4 each) so that a change of machine load hits both alike.
fn morph_ratio_summary() {
    let (l0, r0) = input();
    for (label, interpolate) in [
        ("EQ alone (targets from a table)", false),
        ("with grid interpolation (as process_inner)", true),
    ] {
        let mut still = MorphDriven::new(false);
        let mut moving = MorphDriven::new(true);
        let (mut l, mut r) = (l0.clone(), r0.clone());
        let mut slice = |d: &mut MorphDriven| {
            cpu_ns_per_frame_for(FRAMES, 0.5, || {
                l.copy_from_slice(&l0);
                r.copy_from_slice(&r0);
                d.run(&mut l, &mut r, interpolate);
                black_box((&l, &r));
            })
        };
        let mut sums = [0.0f64; 2];
        for _ in 0..4 {
            match (slice(&mut still), slice(&mut moving)) {
                (Some(s), Some(a)) => {
                    sums[0] += s / 4.0;
                    sums[1] += a / 4.0;
                }
                _ => {
                    println!("morph ratio summary unavailable (no /proc/thread-self/stat)");
                    return;
                }
            }
        }
        println!(
            "morph automation, {label}: static {:6.2} ns, automated {:6.2} ns per stereo \
             frame, ratio {:.2}",
            sums[0],
            sums[1],
            sums[1] / sums[0]
        );
    }
}

criterion_group!(benches, bench_eq, bench_morph, bench_total);
criterion_main!(benches);
