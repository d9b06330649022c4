//! Tests of [`Eq5`] against independently computed RBJ cookbook biquads, its processed
//! impulse response, modulation stability, clicks, sample rates and bad input.

use super::*;
use crate::dsp::params::{NUM_EQ_PARAMS, SHELF_Q};
use rand::{RngExt, SeedableRng};
use std::f64::consts::PI;

const RATES: [f32; 5] = [22_050.0, 44_100.0, 48_000.0, 96_000.0, 192_000.0];

/// `n` log-spaced frequencies from `lo` to `hi` inclusive.
fn log_grid(lo: f64, hi: f64, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (lo * (hi / lo).powf(i as f64 / (n - 1) as f64)) as f32)
        .collect()
}

/// Cookbook biquad `[b0, b1, b2, a0, a1, a2]` written straight from the Audio EQ Cookbook
/// (Q form of alpha, as JUCE's makeLowShelf/makeHighShelf/makePeakFilter), independent of
/// the SVF code.
fn rbj(kind: BandKind, fs: f64, f0: f64, gain_db: f64, q: f64) -> [f64; 6] {
    let a = 10f64.powf(gain_db / 40.0);
    let w0 = 2.0 * PI * f0 / fs;
    let (cw, sw) = (w0.cos(), w0.sin());
    let alpha = sw / (2.0 * q);
    let sa = 2.0 * a.sqrt() * alpha;
    match kind {
        BandKind::Peaking => [
            1.0 + alpha * a,
            -2.0 * cw,
            1.0 - alpha * a,
            1.0 + alpha / a,
            -2.0 * cw,
            1.0 - alpha / a,
        ],
        BandKind::LowShelf => [
            a * ((a + 1.0) - (a - 1.0) * cw + sa),
            2.0 * a * ((a - 1.0) - (a + 1.0) * cw),
            a * ((a + 1.0) - (a - 1.0) * cw - sa),
            (a + 1.0) + (a - 1.0) * cw + sa,
            -2.0 * ((a - 1.0) + (a + 1.0) * cw),
            (a + 1.0) + (a - 1.0) * cw - sa,
        ],
        BandKind::HighShelf => [
            a * ((a + 1.0) + (a - 1.0) * cw + sa),
            -2.0 * a * ((a - 1.0) + (a + 1.0) * cw),
            a * ((a + 1.0) + (a - 1.0) * cw - sa),
            (a + 1.0) - (a - 1.0) * cw + sa,
            2.0 * ((a - 1.0) - (a + 1.0) * cw),
            (a + 1.0) - (a - 1.0) * cw - sa,
        ],
    }
}

/// `20 log10 |H(e^{jw})|` of an unnormalised biquad, by complex arithmetic.
fn rbj_db(c: &[f64; 6], fs: f64, f: f64) -> f64 {
    let w = 2.0 * PI * f / fs;
    // z^-1 = e^{-jw}
    let (r1, i1) = (w.cos(), -w.sin());
    let (r2, i2) = ((2.0 * w).cos(), -(2.0 * w).sin());
    let (nr, ni) = (c[0] + c[1] * r1 + c[2] * r2, c[1] * i1 + c[2] * i2);
    let (dr, di) = (c[3] + c[4] * r1 + c[5] * r2, c[4] * i1 + c[5] * i2);
    10.0 * ((nr * nr + ni * ni) / (dr * dr + di * di)).log10()
}

/// Params with only one band active.
fn single_band(kind_idx: usize, freq_hz: f32, gain_db: f32, q: f32) -> EqParams {
    let mut p = EqParams::FLAT;
    match kind_idx {
        0 => {
            p.ls_freq_hz = freq_hz;
            p.ls_gain_db = gain_db;
        }
        1 => {
            p.p1_freq_hz = freq_hz;
            p.p1_gain_db = gain_db;
            p.p1_q = q;
        }
        2 => {
            p.p2_freq_hz = freq_hz;
            p.p2_gain_db = gain_db;
            p.p2_q = q;
        }
        3 => {
            p.p3_freq_hz = freq_hz;
            p.p3_gain_db = gain_db;
            p.p3_q = q;
        }
        _ => {
            p.hs_freq_hz = freq_hz;
            p.hs_gain_db = gain_db;
        }
    }
    p
}

fn random_params(rng: &mut rand_pcg::Pcg64) -> EqParams {
    let mut a = [0.0f32; NUM_EQ_PARAMS];
    for (v, kind) in a.iter_mut().zip(EqParams::KINDS) {
        let (lo, hi) = kind.range();
        *v = if kind.is_log() {
            (rng.random_range(lo.ln()..=hi.ln())).exp()
        } else {
            rng.random_range(lo..=hi)
        };
    }
    EqParams::from_array(a)
}

fn peak_abs(x: &[f32]) -> f32 {
    x.iter().fold(0.0f32, |m, v| m.max(v.abs()))
}

mod cookbook {
    use super::*;

    /// Every band type against the cookbook formulas, 200 log frequencies 20 Hz..0.45 fs.
    #[test]
    fn magnitude_matches_rbj_within_0_01_db() {
        let cases: [(f32, f32, f32); 6] = [
            (30.0, 12.0, 0.1),
            (100.0, -12.0, 0.71),
            (1_000.0, 6.0, 1.0),
            (3_300.0, -3.0, 4.0),
            (9_000.0, 9.5, 10.0),
            (15_000.0, -7.0, 2.5),
        ];
        let mut out = vec![0.0f32; 200];
        let mut worst = 0.0f64;
        for fs in [44_100.0f32, 48_000.0, 96_000.0] {
            let grid = log_grid(20.0, 0.45 * fs as f64, 200);
            for (band, kind) in BAND_KINDS.iter().enumerate() {
                for &(f0, gain, q) in &cases {
                    if f0 > 0.45 * fs {
                        continue;
                    }
                    let p = single_band(band, f0, gain, q);
                    let q_used = if band == 0 || band == 4 { SHELF_Q } else { q };
                    let c = rbj(*kind, fs as f64, f0 as f64, gain as f64, q_used as f64);
                    Eq5::magnitude_response_db(&p, fs, &grid, &mut out);
                    for (f, got) in grid.iter().zip(&out) {
                        let want = rbj_db(&c, fs as f64, *f as f64);
                        let err = (*got as f64 - want).abs();
                        worst = worst.max(err);
                        assert!(
                            err < 0.01,
                            "{kind:?} fs={fs} f0={f0} gain={gain} q={q} at {f} Hz: \
                             got {got} dB, cookbook {want} dB"
                        );
                    }
                }
            }
        }
        eprintln!("worst deviation from the cookbook: {worst:.2e} dB");
    }

    /// The whole cascade is the product of the bands (dB sum) of the cookbook biquads.
    #[test]
    fn cascade_is_sum_of_rbj_bands() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
        let fs = 48_000.0f32;
        let grid = log_grid(20.0, 0.45 * fs as f64, 200);
        let mut out = vec![0.0f32; 200];
        for _ in 0..20 {
            let p = random_params(&mut rng);
            Eq5::magnitude_response_db(&p, fs, &grid, &mut out);
            let bands = [
                (BandKind::LowShelf, p.ls_freq_hz, p.ls_gain_db, SHELF_Q),
                (BandKind::Peaking, p.p1_freq_hz, p.p1_gain_db, p.p1_q),
                (BandKind::Peaking, p.p2_freq_hz, p.p2_gain_db, p.p2_q),
                (BandKind::Peaking, p.p3_freq_hz, p.p3_gain_db, p.p3_q),
                (BandKind::HighShelf, p.hs_freq_hz, p.hs_gain_db, SHELF_Q),
            ];
            for (f, got) in grid.iter().zip(&out) {
                let want: f64 = bands
                    .iter()
                    .map(|&(k, f0, g, q)| {
                        let f0 = f0.min(0.45 * fs);
                        rbj_db(
                            &rbj(k, fs as f64, f0 as f64, g as f64, q as f64),
                            fs as f64,
                            *f as f64,
                        )
                    })
                    .sum();
                assert!(
                    (*got as f64 - want).abs() < 0.01,
                    "{p:?} at {f}: {got} vs {want}"
                );
            }
        }
    }
}

mod processed {
    use super::*;
    use realfft::RealFftPlanner;

    /// Impulse response of `process_block` (stereo and mono paths) -> FFT equals
    /// `magnitude_db` within 0.1 dB wherever the response is above -60 dB.
    #[test]
    fn impulse_response_matches_magnitude_db() {
        let n = 1usize << 17;
        let mut planner = RealFftPlanner::<f64>::new();
        let fft = planner.plan_fft_forward(n);
        let mut rng = rand_pcg::Pcg64::seed_from_u64(11);
        for fs in [44_100.0f32, 48_000.0, 96_000.0] {
            for trial in 0..4 {
                let p = if trial == 0 {
                    single_band(2, 20.0, 12.0, 10.0) // slowest decay allowed
                } else {
                    random_params(&mut rng)
                };
                let mut eq = Eq5::new(fs).unwrap();
                eq.set_params_immediate(p);
                let mut left = vec![0.0f32; n];
                let mut right = vec![0.0f32; n];
                left[0] = 1.0;
                right[0] = 0.5;
                // Process in uneven blocks to cross sub-block boundaries.
                let mut i = 0;
                let mut len = 1;
                while i < n {
                    let e = (i + len).min(n);
                    eq.process_block(&mut [&mut left[i..e], &mut right[i..e]]);
                    i = e;
                    len = len * 3 % 1000 + 1;
                }
                let mut mono = vec![0.0f32; n];
                mono[0] = 1.0;
                let mut eq_m = Eq5::new(fs).unwrap();
                eq_m.set_params_immediate(p);
                eq_m.process_block(&mut [&mut mono]);
                let diff = mono
                    .iter()
                    .zip(&left)
                    .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
                assert!(diff < 1e-6, "mono path differs from stereo left by {diff}");
                for (l, r) in left.iter().zip(&right) {
                    assert!((l * 0.5 - r).abs() <= 1e-6 * l.abs().max(1e-3));
                }

                let mut input: Vec<f64> = left.iter().map(|&v| v as f64).collect();
                let mut spec = fft.make_output_vec();
                fft.process(&mut input, &mut spec).unwrap();
                let bin_hz = fs as f64 / n as f64;
                let mut checked = 0;
                for f in log_grid(20.0, 0.45 * fs as f64, 200) {
                    let bin = (f as f64 / bin_hz).round() as usize;
                    let got = 20.0 * spec[bin].norm().log10();
                    let want = eq.magnitude_db((bin as f64 * bin_hz) as f32) as f64;
                    if want > -60.0 {
                        checked += 1;
                        assert!(
                            (got - want).abs() < 0.1,
                            "fs={fs} {p:?} bin {bin}: processed {got} dB, exact {want} dB"
                        );
                    }
                }
                assert!(checked > 150);
            }
        }
    }
}

mod modulation {
    use super::*;

    /// Largest steady-state gain any allowed setting can have: five bands at +12 dB each.
    const MAX_CASCADE_GAIN_DB: f32 = 5.0 * 12.0;

    /// 1000 triangle sweeps (min -> max -> min over 10 ms) of every gain and frequency, with
    /// random Qs: output finite and below input peak x max gain + 1 dB.
    #[test]
    fn fast_sweeps_stay_finite_and_bounded() {
        let fs = 48_000.0f32;
        let mut rng = rand_pcg::Pcg64::seed_from_u64(42);
        let mut eq = Eq5::new(fs).unwrap();
        eq.set_ramp_ms(1.0).unwrap();
        let sweep_len = (0.010 * fs) as usize; // 480 samples
        let block = 32;
        let amp = 0.5f32;
        let bound = amp * 10f32.powf((MAX_CASCADE_GAIN_DB + 1.0) / 20.0);
        let mut phase = 0.0f32;
        let mut out_peak = 0.0f32;
        let mut left = vec![0.0f32; block];
        let mut right = vec![0.0f32; block];
        for sweep in 0..1000 {
            let qs: [f32; 3] = std::array::from_fn(|_| rng.random_range(0.1f32..=10.0));
            let tone_hz = rng.random_range(20.0f32..20_000.0);
            if sweep == 500 {
                eq.set_ramp_ms(0.0).unwrap(); // jump every sub-block: harshest case
            }
            for b in 0..sweep_len / block {
                let pos = (b * block) as f32 / sweep_len as f32;
                let tri = 1.0 - (2.0 * pos - 1.0).abs();
                let gain = -12.0 + 24.0 * tri;
                let freq = 20.0 * 1000f32.powf(tri);
                eq.set_target(EqParams {
                    ls_gain_db: gain,
                    ls_freq_hz: freq,
                    p1_gain_db: gain,
                    p1_freq_hz: freq,
                    p1_q: qs[0],
                    p2_gain_db: gain,
                    p2_freq_hz: freq,
                    p2_q: qs[1],
                    p3_gain_db: gain,
                    p3_freq_hz: freq,
                    p3_q: qs[2],
                    hs_gain_db: gain,
                    hs_freq_hz: freq,
                });
                for i in 0..block {
                    let x = amp * phase.sin();
                    phase = (phase + 2.0 * std::f32::consts::PI * tone_hz / fs)
                        % (2.0 * std::f32::consts::PI);
                    left[i] = x;
                    right[i] = -x;
                }
                eq.process_block(&mut [&mut left, &mut right]);
                for v in left.iter().chain(&right) {
                    assert!(v.is_finite(), "sweep {sweep}: non-finite output");
                }
                out_peak = out_peak.max(peak_abs(&left)).max(peak_abs(&right));
            }
        }
        assert!(out_peak < bound, "peak {out_peak} >= bound {bound}");
        assert_eq!(eq.bad_blocks(), 0);
    }

    /// Click meter: peak of the 4th difference `(1 - z^-1)^4 / 16`, a high-pass with unity
    /// gain at Nyquist and (2 sin(w/2))^4 / 16 below (-68 dB at 2 kHz, -120 dB at 150 Hz at
    /// 44.1 kHz), so a sine and slow envelope changes barely register while a discontinuity of
    /// height J reads 3J/16.
    fn click_meter(x: &[f32]) -> f32 {
        x.windows(5)
            .map(|w| ((w[4] - 4.0 * w[3] + 6.0 * w[2] - 4.0 * w[1] + w[0]) / 16.0).abs())
            .fold(0.0, f32::max)
    }

    fn step_response(
        ramp_ms: f32,
        fs: f32,
        tone_hz: f32,
        amp: f32,
        a: EqParams,
        b: EqParams,
    ) -> Vec<f32> {
        let mut eq = Eq5::new(fs).unwrap();
        eq.set_ramp_ms(ramp_ms).unwrap();
        eq.set_params_immediate(a);
        let n = (0.3 * fs) as usize;
        let mut x: Vec<f32> = (0..n)
            .map(|i| amp * (2.0 * std::f32::consts::PI * tone_hz * i as f32 / fs).sin())
            .collect();
        let half = n / 2;
        let (first, second) = x.split_at_mut(half);
        eq.process_block(&mut [first]);
        eq.set_target(b);
        for chunk in second.chunks_mut(64) {
            eq.process_block(&mut [chunk]);
        }
        // Skip the start-up transient of the first half.
        x[n / 4..].to_vec()
    }

    /// A step of every parameter (gains -12 -> +12 dB, frequencies over decades, Qs) glides
    /// without a click: the click meter stays below -40 dB relative to the louder steady
    /// output level (measured: about -55 dB at worst, the glide's own sidebands). The same step
    /// with no glide (ramp 0: coefficients jump at once) reads above that limit, about -28 dB,
    /// which shows the meter catches clicks. (A 16-sample coefficient staircase without the
    /// per-sample slide read about -45 dB here, failing the limit.)
    #[test]
    fn step_change_does_not_click() {
        let tone_hz = 150.0f32;
        let amp = 0.25f32;
        let a = EqParams {
            ls_gain_db: -12.0,
            ls_freq_hz: 80.0,
            p1_gain_db: -12.0,
            p1_freq_hz: 150.0,
            p1_q: 0.5,
            p2_gain_db: -6.0,
            p2_freq_hz: 900.0,
            p2_q: 4.0,
            p3_gain_db: -12.0,
            p3_freq_hz: 4_000.0,
            p3_q: 1.0,
            hs_gain_db: -12.0,
            hs_freq_hz: 6_000.0,
        };
        let b = EqParams {
            ls_gain_db: 12.0,
            ls_freq_hz: 400.0,
            p1_gain_db: 12.0,
            p1_freq_hz: 160.0,
            p1_q: 2.0,
            p2_gain_db: 12.0,
            p2_freq_hz: 200.0,
            p2_q: 1.0,
            p3_gain_db: 12.0,
            p3_freq_hz: 300.0,
            p3_q: 0.3,
            hs_gain_db: 12.0,
            hs_freq_hz: 1_000.0,
        };
        for fs in [44_100.0f32, 48_000.0, 96_000.0] {
            let mut g = [0.0f32; 2];
            Eq5::magnitude_response_db(&a, fs, &[tone_hz], &mut g[..1]);
            Eq5::magnitude_response_db(&b, fs, &[tone_hz], &mut g[1..]);
            let level = amp * 10f32.powf(g[0].max(g[1]) / 20.0);
            let limit = level * 1e-2; // -40 dB re the steady output
            let mut hard_max = 0.0f32;
            for (x, y) in [(a, b), (b, a)] {
                let smooth = click_meter(&step_response(DEFAULT_RAMP_MS, fs, tone_hz, amp, x, y));
                let hard = click_meter(&step_response(0.0, fs, tone_hz, amp, x, y));
                eprintln!(
                    "fs={fs}: glided {:.1} dB, hard step {:.1} dB re output",
                    20.0 * (smooth / level).log10(),
                    20.0 * (hard / level).log10()
                );
                assert!(
                    smooth < limit,
                    "fs={fs}: glided step {smooth} >= limit {limit}"
                );
                hard_max = hard_max.max(hard);
            }
            assert!(
                hard_max > limit,
                "fs={fs}: the click meter missed a hard step ({hard_max} <= {limit})"
            );
        }
    }

    /// The glide takes the configured time and lands exactly on the target.
    #[test]
    fn glide_lands_on_target_after_ramp() {
        let fs = 48_000.0;
        let mut eq = Eq5::new(fs).unwrap();
        let target = single_band(2, 2_000.0, 9.0, 3.0);
        eq.set_target(target);
        let ramp_samples = (DEFAULT_RAMP_MS * 1e-3 * fs) as usize;
        let mut buf = vec![0.1f32; ramp_samples - 2 * SUB_BLOCK_LEN];
        eq.process_block(&mut [&mut buf]);
        assert!(eq.is_gliding());
        let mid = eq.current_params().p2_gain_db;
        assert!(mid > 0.0 && mid < 9.0, "mid-glide gain {mid}");
        let mut buf = vec![0.1f32; 4 * SUB_BLOCK_LEN];
        eq.process_block(&mut [&mut buf]);
        assert!(!eq.is_gliding());
        assert_eq!(eq.current_params(), target);
    }
}

mod rates {
    use super::*;

    /// Random settings including 20 kHz bands at every supported rate: finite and bounded.
    #[test]
    fn stable_at_every_rate_with_freqs_up_to_20k() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(3);
        for fs in RATES {
            let mut eq = Eq5::new(fs).unwrap();
            for trial in 0..40 {
                let mut p = random_params(&mut rng);
                if trial % 2 == 0 {
                    p.hs_freq_hz = 20_000.0;
                    p.p3_freq_hz = 20_000.0;
                    p.p3_q = 10.0;
                    p.p3_gain_db = 12.0;
                }
                eq.set_target(p);
                let mut l: Vec<f32> = (0..2048).map(|_| rng.random_range(-1.0f32..1.0)).collect();
                let mut r = l.clone();
                eq.process_block(&mut [&mut l, &mut r]);
                let pk = peak_abs(&l).max(peak_abs(&r));
                assert!(pk.is_finite() && pk < 1e4, "fs={fs} peak {pk}");
            }
            assert_eq!(eq.bad_blocks(), 0);
            let mut db = [0.0f32];
            eq.set_params_immediate(single_band(3, 20_000.0, 12.0, 1.0));
            Eq5::magnitude_response_db(&eq.current_params(), fs, &[0.45 * fs], &mut db);
            assert!(db[0].is_finite());
        }
    }

    #[test]
    fn rejects_bad_sample_rates() {
        assert!(matches!(
            Eq5::new(0.0),
            Err(EqError::InvalidSampleRate { .. })
        ));
        assert!(matches!(
            Eq5::new(f32::NAN),
            Err(EqError::InvalidSampleRate { .. })
        ));
        let mut eq = Eq5::new(48_000.0).unwrap();
        assert!(eq.prepare(1e9, 512).is_err());
        assert!(matches!(
            eq.set_ramp_ms(-1.0),
            Err(EqError::InvalidRamp { .. })
        ));
    }
}

mod bad_input {
    use super::*;

    fn boosted() -> EqParams {
        EqParams {
            ls_gain_db: 6.0,
            p2_gain_db: -4.0,
            hs_gain_db: 3.0,
            ..EqParams::FLAT
        }
    }

    #[test]
    fn nan_and_inf_never_reach_the_output() {
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut eq = Eq5::new(48_000.0).unwrap();
            eq.set_params_immediate(boosted());
            let mut l: Vec<f32> = (0..256).map(|i| (i as f32 * 0.1).sin()).collect();
            let mut r = l.clone();
            l[100] = bad;
            eq.process_block(&mut [&mut l, &mut r]);
            assert!(l.iter().chain(&r).all(|v| v.is_finite()), "{bad} leaked");
            assert_eq!(eq.bad_blocks(), 1);

            // The next clean block is processed exactly as by a fresh EQ.
            let clean: Vec<f32> = (0..256).map(|i| (i as f32 * 0.05).cos()).collect();
            let (mut l2, mut r2) = (clean.clone(), clean.clone());
            eq.process_block(&mut [&mut l2, &mut r2]);
            let mut fresh = Eq5::new(48_000.0).unwrap();
            fresh.set_params_immediate(boosted());
            let (mut l3, mut r3) = (clean.clone(), clean.clone());
            fresh.process_block(&mut [&mut l3, &mut r3]);
            assert_eq!(l2, l3);
            assert_eq!(r2, r3);
            assert_eq!(eq.bad_blocks(), 1);
        }
    }

    #[test]
    fn nan_in_mono_last_sample_is_caught() {
        let mut eq = Eq5::new(44_100.0).unwrap();
        eq.set_params_immediate(boosted());
        let mut m = vec![0.5f32; 37];
        m[36] = f32::NAN;
        eq.process_block(&mut [&mut m]);
        assert!(m.iter().all(|v| v.is_finite()));
        assert_eq!(eq.bad_blocks(), 1);
    }

    #[test]
    fn decaying_tail_flushes_to_exact_zero() {
        let mut eq = Eq5::new(48_000.0).unwrap();
        eq.set_params_immediate(boosted());
        let mut buf = vec![0.0f32; 48_000];
        buf[0] = 1.0;
        eq.process_block(&mut [&mut buf]);
        assert!(
            buf.iter().all(|v| *v == 0.0 || v.is_normal()),
            "subnormal in output"
        );
        assert_eq!(*buf.last().unwrap(), 0.0);
    }
}

mod bypass {
    use super::*;

    #[test]
    fn bypass_glides_to_exact_identity_and_back() {
        let mut eq = Eq5::new(48_000.0).unwrap();
        eq.set_params_immediate(single_band(1, 500.0, 12.0, 1.0));
        eq.set_bypass(true);
        let mut buf: Vec<f32> = (0..4800).map(|i| (i as f32 * 0.07).sin()).collect();
        eq.process_block(&mut [&mut buf]);
        let x: Vec<f32> = (0..512).map(|i| (i as f32 * 0.3).sin()).collect();
        let mut y = x.clone();
        eq.process_block(&mut [&mut y]);
        assert_eq!(x, y, "bypassed EQ must pass audio bit-exactly");
        eq.set_bypass(false);
        eq.process_block(&mut [&mut buf]);
        assert_eq!(eq.current_params().p1_gain_db, 12.0);
    }

    #[test]
    fn flat_eq_is_bit_exact() {
        let mut eq = Eq5::new(96_000.0).unwrap();
        let x: Vec<f32> = (0..300).map(|i| (i as f32 * 0.3).sin()).collect();
        let (mut l, mut r) = (x.clone(), x.clone());
        eq.process_block(&mut [&mut l, &mut r]);
        assert_eq!(l, x);
        assert_eq!(r, x);
    }
}

mod send {
    use super::*;

    #[test]
    fn eq_types_are_send() {
        fn assert_send<T: Send + 'static>() {}
        assert_send::<Eq5>();
        assert_send::<EqParams>();
        assert_send::<SvfCoefficients>();
    }
}

/// The engine's coefficient map (four-lane `exp`/`tan` approximations) against the exact map,
/// and the band-skipping glide update against recomputing every band.
mod fast_coefficients {
    use super::*;
    use realfft::num_complex::Complex64;

    const EPS: f64 = f32::EPSILON as f64;
    /// Largest relative error allowed in a band's `g` (pre-warped frequency) and `k` (damping).
    const PARAM_BOUND_REL: f64 = 8.0 * EPS;
    /// Largest error allowed in each processing coefficient (`a1`, `a2`, `a3`, `d`, `c1`,
    /// `c2`), in units of `f32::EPSILON` times the coefficient's scale: the magnitude it is
    /// computed from before any cancellation (see [`scales`]).
    const PROCESSING_BOUND_EPS: f64 = 16.0;
    /// Largest deviation allowed between the response of the band the coefficients describe
    /// (`g`, `k`, `m0..m2`) and the exact map's, dB, anywhere from 20 Hz to 0.45 fs: the
    /// steepest skirt in range (Q 10, 12 dB: about 154 dB per unit of ln f) times
    /// `PARAM_BOUND_REL` is 1.5e-4 dB, doubled for `k`. A thirtieth of the cookbook tests'
    /// 0.01 dB.
    const DESCRIBED_BOUND_DB: f64 = 3e-4;
    /// Largest deviation allowed between the response the kernel runs (from the processing
    /// coefficients) and the exact map's, dB. Storing the coefficients in `f32` alone costs up
    /// to ~0.023 dB here (narrow low peaks at 192 kHz, where `2 a1 - 1` is within 1e-5 of 1;
    /// the C library path measures the same), so this bound is about that, plus:
    const PROCESSED_BOUND_DB: f64 = 0.03;
    /// ... at every point, at most this much further from exact than the C library path's
    /// coefficients (what the engine used before), dB.
    const PROCESSED_EXCESS_DB: f64 = 2e-3;

    /// The exact (`f64`) map: the cookbook parameterisation of `SvfCoefficients::new` without
    /// any rounding to `f32`. Returns `[g, k, m0, m1, m2, a1, a2, a3, d, c1, c2]` and the
    /// scales of the last six (see [`scales`]).
    fn exact(kind: BandKind, fs: f64, f_hz: f64, gain_db: f64, q: f64) -> ([f64; 11], [f64; 6]) {
        let f0 = f_hz.min((MAX_FREQ_FRACTION as f64) * fs);
        let a = 10f64.powf(gain_db / 40.0);
        let g = (PI * f0 / fs).tan();
        let (g, k, m0, m1, m2) = match kind {
            BandKind::Peaking => {
                let k = 1.0 / (q * a);
                (g, k, 1.0, k * (a * a - 1.0), 0.0)
            }
            BandKind::LowShelf => {
                let k = 1.0 / q;
                (g / a.sqrt(), k, 1.0, k * (a - 1.0), a * a - 1.0)
            }
            BandKind::HighShelf => {
                let k = 1.0 / q;
                (g * a.sqrt(), k, a * a, k * (1.0 - a) * a, 1.0 - a * a)
            }
        };
        let a1 = 1.0 / (1.0 + g * (g + k));
        let a2 = g * a1;
        let a3 = g * a2;
        let scales = scales(kind, a, k, [m0, a1, a2, a3]);
        let c = [
            g,
            k,
            m0,
            m1,
            m2,
            a1,
            a2,
            a3,
            m0 + m1 * a2 + m2 * a3,
            m1 * a1 + m2 * a2,
            m2 * (1.0 - a3) - m1 * a2,
        ];
        (c, scales)
    }

    /// Scales of the processing coefficients `a1, a2, a3, d, c1, c2` for forward error
    /// bounds: each is what the coefficient is summed from, in magnitude, before cancellation.
    /// `m1` and `m2` are differences such as `A^2 - 1`, which nearly cancel at small gains
    /// (and so have no useful relative error bound in any `f32` arithmetic); their scales are
    /// `k (A^2 + 1)` and `A^2 + 1` instead of their values.
    fn scales(kind: BandKind, a: f64, k: f64, [m0, a1, a2, a3]: [f64; 4]) -> [f64; 6] {
        let (s1, s2) = match kind {
            BandKind::Peaking => (k * (a * a + 1.0), 0.0),
            BandKind::LowShelf => (k * (a + 1.0), a * a + 1.0),
            BandKind::HighShelf => (k * (a + a * a), a * a + 1.0),
        };
        [
            a1,
            a2,
            a3,
            m0.abs() + s1 * a2 + s2 * a3,
            s1 * a1 + s2 * a2,
            s2 * (1.0 + a3) + s1 * a2,
        ]
    }

    fn as_f64(c: &SvfCoefficients) -> [f64; 11] {
        [
            c.g, c.k, c.m0, c.m1, c.m2, c.a1, c.a2, c.a3, c.d, c.c1, c.c2,
        ]
        .map(f64::from)
    }

    /// Error of each processing coefficient of `got` against `want` in units of `EPS` times
    /// its scale; the largest of the six.
    fn processing_error_eps(got: &[f64; 11], want: &[f64; 11], scales: [f64; 6]) -> f64 {
        (5..11)
            .zip(scales)
            .map(|(i, scale)| (got[i] - want[i]).abs() / (scale * EPS))
            .fold(0.0, f64::max)
    }

    /// `|H|` in dB at `w` (radians per sample) of the filter the kernel runs with processing
    /// coefficients `[.., a1, a2, a3, d, c1, c2]`, from its state-space form
    /// `s' = A s + B x, y = C s + D x` (see `SvfState::process_sample`), in `f64`: the
    /// response of exactly those numbers, not of the band they describe.
    fn processed_db(c: &[f64; 11], w: f64) -> f64 {
        let [.., a1, a2, a3, d, c1, c2] = *c;
        let (m11, m12, m21, m22) = (2.0 * a1 - 1.0, -2.0 * a2, 2.0 * a2, 1.0 - 2.0 * a3);
        let (b1, b2) = (2.0 * a2, 2.0 * a3);
        let z = Complex64::from_polar(1.0, w);
        // (zI - A)^-1 B by Cramer's rule.
        let (p11, p22) = (z - m11, z - m22);
        let det = p11 * p22 - m12 * m21;
        let s1 = (p22 * b1 + m12 * b2) / det;
        let s2 = (p11 * b2 + m21 * b1) / det;
        20.0 * (s1 * c1 + s2 * c2 + d).norm().log10()
    }

    /// `|H|` in dB at `w` of the band `[g, k, m0, m1, m2, ..]` describes (its bilinear biquad).
    fn described_db(c: &[f64; 11], w: f64) -> f64 {
        let [g, k, m0, m1, m2, ..] = *c;
        let a0 = 1.0 + k * g + g * g;
        let biquad = [
            (m0 * a0 + m1 * g + m2 * g * g) / a0,
            (m0 * (2.0 * g * g - 2.0) + 2.0 * m2 * g * g) / a0,
            (m0 * (1.0 - k * g + g * g) - m1 * g + m2 * g * g) / a0,
            (2.0 * g * g - 2.0) / a0,
            (1.0 - k * g + g * g) / a0,
        ];
        10.0 * crate::dsp::svf::biquad_magnitude_sq(&biquad, w).log10()
    }

    /// Worst case of one measure, with where it happened.
    #[derive(Default)]
    struct Worst {
        value: f64,
        at: String,
    }

    impl Worst {
        fn see(&mut self, value: f64, at: impl FnOnce() -> String) {
            if value > self.value {
                self.value = value;
                self.at = at();
            }
        }
    }

    /// Over the whole parameter range (band frequency 20 Hz..20 kHz clamped to 0.45 fs, gain
    /// +-12 dB, Q 0.1..10 for the peaks, rates 44.1..192 kHz), every band of
    /// `coefficients_for` (what the engine runs) is within the bounds above of the exact map:
    /// `g` and `k`, each processing coefficient, and the described and processed responses at
    /// 49 frequencies from 20 Hz to 0.45 fs and at the band frequency. The C library path
    /// (`SvfCoefficients::new`) is measured alongside.
    #[test]
    fn within_bound_of_exact_map() {
        let rates = [
            44_100.0f32,
            48_000.0,
            88_200.0,
            96_000.0,
            176_400.0,
            192_000.0,
        ];
        let freqs = log_grid(20.0, 20_000.0, 41);
        // Every half dB, and gains near 0 dB where `A^2 - 1` cancels.
        let mut gains: Vec<f32> = (0..=48).map(|i| -12.0 + 0.5 * i as f32).collect();
        gains.extend([-0.1, -0.01, -0.001, 0.001, 0.01, 0.1]);
        let qs = log_grid(0.1, 10.0, 9);
        let mut param = Worst::default();
        let mut processing = [Worst::default(), Worst::default()];
        let mut described = [Worst::default(), Worst::default()];
        let mut processed = [Worst::default(), Worst::default()];
        let mut excess = Worst::default();
        let mut points = 0usize;
        for fs in rates {
            let fs64 = fs as f64;
            let mut eval_hz = log_grid(20.0, 0.45 * fs64, 49);
            eval_hz.push(0.0); // the band frequency, set below
            for (band, kind) in BAND_KINDS.iter().enumerate() {
                let band_qs: &[f32] = if *kind == BandKind::Peaking {
                    &qs
                } else {
                    &[SHELF_Q]
                };
                for &f0 in &freqs {
                    let f_used = f0.min(MAX_FREQ_FRACTION * fs);
                    *eval_hz.last_mut().unwrap() = f_used;
                    for &gain in &gains {
                        for &q in band_qs {
                            let at = || format!("{kind:?} fs={fs} f={f0} gain={gain} q={q}");
                            let p = single_band(band, f0, gain, q);
                            let fast = as_f64(&coefficients_for(&p, fs)[band]);
                            let libm = as_f64(&SvfCoefficients::new(
                                *kind,
                                fs64,
                                f_used as f64,
                                gain as f64,
                                q as f64,
                            ));
                            let (want, scales) =
                                exact(*kind, fs64, f0 as f64, gain as f64, q as f64);
                            for i in 0..2 {
                                param.see(((fast[i] - want[i]) / want[i]).abs(), at);
                            }
                            for (w, got) in processing.iter_mut().zip([&fast, &libm]) {
                                w.see(processing_error_eps(got, &want, scales), at);
                            }
                            for &f in &eval_hz {
                                let w = 2.0 * PI * f as f64 / fs64;
                                let at_f = || format!("{} at {f} Hz", at());
                                let exact_db = processed_db(&want, w);
                                let mut err = [0.0; 2];
                                for (k, got) in [&fast, &libm].into_iter().enumerate() {
                                    let d = (described_db(got, w) - exact_db).abs();
                                    described[k].see(d, at_f);
                                    err[k] = (processed_db(got, w) - exact_db).abs();
                                    processed[k].see(err[k], at_f);
                                }
                                excess.see(err[0] - err[1], at_f);
                                points += 1;
                            }
                        }
                    }
                }
            }
        }
        eprintln!("{points} points; worst cases (fast path | C library path):");
        eprintln!("  g, k relative error {:.2e} ({})", param.value, param.at);
        for (name, w, unit) in [
            ("processing coefficients", &processing, "eps x scale"),
            ("described response", &described, "dB"),
            ("processed response", &processed, "dB"),
        ] {
            eprintln!(
                "  {name}: {:.2e} | {:.2e} {unit} ({} | {})",
                w[0].value, w[1].value, w[0].at, w[1].at
            );
        }
        eprintln!(
            "  processed response beyond the C library path's: {:.2e} dB ({})",
            excess.value, excess.at
        );
        assert!(
            param.value <= PARAM_BOUND_REL,
            "g/k: {:.2e} at {}",
            param.value,
            param.at
        );
        assert!(
            processing[0].value <= PROCESSING_BOUND_EPS,
            "processing coefficients: {:.1} eps at {}",
            processing[0].value,
            processing[0].at
        );
        assert!(
            described[0].value <= DESCRIBED_BOUND_DB,
            "described response: {:.2e} dB at {}",
            described[0].value,
            described[0].at
        );
        assert!(
            processed[0].value <= PROCESSED_BOUND_DB,
            "processed response: {:.2e} dB at {}",
            processed[0].value,
            processed[0].at
        );
        assert!(
            excess.value <= PROCESSED_EXCESS_DB,
            "processed response {:.2e} dB further from exact than the C library path's at {}",
            excess.value,
            excess.at
        );
    }

    /// A 0 dB band is the exact identity and a whole flat EQ gives the identity coefficients
    /// at every rate, frequency and Q (bypass relies on it).
    #[test]
    fn zero_gain_is_exact_identity() {
        for fs in RATES {
            for f0 in log_grid(20.0, 20_000.0, 13) {
                for q in log_grid(0.1, 10.0, 5) {
                    let mut p = EqParams::FLAT;
                    (p.ls_freq_hz, p.p1_freq_hz, p.p2_freq_hz) = (f0, f0, f0);
                    (p.p3_freq_hz, p.hs_freq_hz) = (f0, f0);
                    (p.p1_q, p.p2_q, p.p3_q) = (q, q, q);
                    for c in coefficients_for(&p, fs) {
                        assert_eq!((c.m0, c.m1, c.m2), (1.0, 0.0, 0.0), "fs={fs} f={f0} q={q}");
                        assert_eq!((c.d, c.c1, c.c2), (1.0, 0.0, 0.0), "fs={fs} f={f0} q={q}");
                    }
                }
            }
        }
    }

    /// The interpolation domain holds each parameter where `BandDomain::params` finds it
    /// again (within the `exp`/`ln` round trip's few ulps), and the shelves' fixed ln Q is
    /// `ln SHELF_Q`.
    #[test]
    fn band_domain_round_trip() {
        assert_eq!(coeffs::LN_SHELF_Q, (SHELF_Q as f64).ln() as f32);
        let mut rng = rand_pcg::Pcg64::seed_from_u64(17);
        for _ in 0..1000 {
            let p = random_params(&mut rng);
            let back = coeffs::BandDomain::of(&p).params().to_array();
            for (i, (got, want)) in back.iter().zip(p.to_array()).enumerate() {
                let rel = ((got - want) / want).abs();
                assert!(
                    rel < 4.0 * f32::EPSILON,
                    "entry {i}: {want} came back as {got}"
                );
            }
        }
    }

    /// A 1 s stereo test signal: two detuned sines and a little noise.
    fn signal(fs: f32) -> (Vec<f32>, Vec<f32>) {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(5);
        let n = fs as usize;
        let l = (0..n)
            .map(|i| {
                let t = i as f32 / fs;
                0.3 * (2.0 * std::f32::consts::PI * 220.0 * t).sin()
                    + 0.1 * rng.random_range(-1.0f32..1.0)
            })
            .collect();
        let r = (0..n)
            .map(|i| {
                let t = i as f32 / fs;
                0.3 * (2.0 * std::f32::consts::PI * 3_010.0 * t).sin()
                    + 0.1 * rng.random_range(-1.0f32..1.0)
            })
            .collect();
        (l, r)
    }

    /// Drive two engines through the same targets and input, one skipping unmoved bands and
    /// one recomputing all five at every update; their outputs must be the same bits. Each
    /// step is `(target, frames)`; frames go in uneven blocks. Returns the vectors each
    /// computed.
    fn run_pair(fs: f32, start: EqParams, steps: &[(EqParams, usize)], stereo: bool) -> (u64, u64) {
        let (l0, r0) = signal(fs);
        let mut skip = Eq5::new(fs).unwrap();
        let mut all = Eq5::new(fs).unwrap();
        all.recompute_all = true;
        for eq in [&mut skip, &mut all] {
            eq.set_ramp_ms(5.0).unwrap();
            eq.set_params_immediate(start);
        }
        let mut pos = 0;
        let mut block = 7;
        for &(target, frames) in steps {
            skip.set_target(target);
            all.set_target(target);
            let end = pos + frames;
            while pos < end {
                let e = (pos + block).min(end);
                let (mut ls, mut rs) = (l0[pos..e].to_vec(), r0[pos..e].to_vec());
                let (mut la, mut ra) = (ls.clone(), rs.clone());
                if stereo {
                    skip.process_block(&mut [&mut ls, &mut rs]);
                    all.process_block(&mut [&mut la, &mut ra]);
                } else {
                    skip.process_block(&mut [&mut ls]);
                    all.process_block(&mut [&mut la]);
                }
                for (x, y) in ls.iter().zip(&la).chain(rs.iter().zip(&ra)) {
                    assert_eq!(
                        x.to_bits(),
                        y.to_bits(),
                        "frame {pos}..{e}: skipping gives {x}, recomputing {y}"
                    );
                }
                pos = e;
                block = block * 5 % 97 + 1;
            }
            assert_eq!(skip.coefficients(), all.coefficients());
        }
        (skip.vectors_computed, all.vectors_computed)
    }

    fn active() -> EqParams {
        EqParams {
            ls_gain_db: 5.0,
            ls_freq_hz: 90.0,
            p1_gain_db: -7.0,
            p1_freq_hz: 350.0,
            p1_q: 1.4,
            p2_gain_db: 4.5,
            p2_freq_hz: 1_800.0,
            p2_q: 0.6,
            p3_gain_db: -3.0,
            p3_freq_hz: 6_500.0,
            p3_q: 3.0,
            hs_gain_db: 6.0,
            hs_freq_hz: 11_000.0,
        }
    }

    /// Skipping the bands whose parameters do not move gives bit-identical output to
    /// recomputing every band, in glides where one band moves, where only the high shelf
    /// moves, where a band stops moving from one glide to the next (its slide must stop
    /// too), and where a glide moves nothing; and it does skip work.
    #[test]
    fn skipping_unmoved_bands_is_bit_identical_to_recomputing() {
        for fs in [44_100.0f32, 96_000.0] {
            let a = active();
            let only_p2 = EqParams {
                p2_gain_db: -9.0,
                p2_freq_hz: 700.0,
                p2_q: 4.0,
                ..a
            };
            let p2_and_hs = EqParams {
                hs_gain_db: -4.0,
                hs_freq_hz: 4_000.0,
                ..only_p2
            };
            let only_hs = EqParams {
                hs_gain_db: 10.0,
                ..p2_and_hs
            };
            let back_p2 = EqParams {
                p2_gain_db: 2.0,
                ..only_hs
            };
            let glide = (0.01 * fs) as usize; // 5 ms ramp, with room to land
            let steps = [
                (only_p2, glide),
                (p2_and_hs, glide),
                (only_hs, glide),
                (back_p2, glide / 3), // interrupted ...
                (only_hs, glide),     // ... and back: a glide from mid-way
                (only_hs, glide),
            ];
            for stereo in [true, false] {
                let (skipped, all) = run_pair(fs, a, &steps, stereo);
                eprintln!("fs={fs} stereo={stereo}: {skipped} vectors computed vs {all}");
                assert!(
                    skipped < all * 3 / 4,
                    "skipping computed {skipped} vectors, recomputing {all}"
                );
            }
            // A glide that moves nothing: target changed and changed back before any update.
            let mut skip = Eq5::new(fs).unwrap();
            skip.set_params_immediate(a);
            skip.set_target(only_p2);
            skip.set_target(a);
            let (l0, _) = signal(fs);
            let mut x = l0[..4 * glide].to_vec();
            skip.process_block(&mut [&mut x]);
            assert_eq!(skip.vectors_computed, 0);
            let (_, all) = run_pair(fs, a, &[(only_p2, 0), (a, 4 * glide)], true);
            assert!(all > 0);
        }
    }
}
