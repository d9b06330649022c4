//! Tests of [`Eq5`] against independently computed RBJ cookbook biquads, its processed
//! impulse response, modulation stability, clicks, sample rates and bad input.

use super::*;
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
