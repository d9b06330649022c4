//! HPSS separates a sustained chord from a drum loop.
//!
//! Mixture at 24 kHz (the encoder rate, so no resampling): a C major triad of harmonic tones
//! (8 partials, 1/k amplitudes) sustained for 4 s, plus a drum loop at 120 bpm (kick on 1 and 3:
//! a 150 -> 50 Hz sine sweep with 90 ms decay; snare on 2 and 4: noise + 190 Hz body, 50 ms
//! decay; hi-hat every 1/8: differentiated noise, 12 ms decay). The mixture goes through the
//! encoder's streaming STFT and the default HPSS (kernels 17 frames / 17 bins, lookahead 8,
//! mask power 2). Each component's share of energy in a stream is measured with the mixture's
//! soft masks: `sum(mask |C|^2) / sum(|C|^2)`, skipping the first second (median history).
//!
//! Measured: chord -> harmonic 0.977 (2.3 % leaks into the percussive stream); all drums -> percussive 0.631 (snare + hi-hat 0.772,
//! kick 0.593). The drums' remainder is their tonal part: the kick is a pitched 150 -> 50 Hz
//! sweep and the snare has a 190 Hz body, a few bins wide, whose frequency median is small, so
//! median-filter HPSS calls it harmonic (librosa's `hpss` does the same); their noise and
//! onsets go percussive. With n_fft 1024 the chord share was only 0.84 (see `SPECTRAL_N_FFT`).

use musichal::perception::encoder::SPECTRAL_N_FFT;
use musichal::perception::frontend::{StreamingHpss, StreamingStft};
use musichal::perception::synth::{add_drum, add_tone, Drum};
use musichal::perception::PerceptionConfig;
use rand::SeedableRng;
use rand_pcg::Pcg64;

const RATE: u32 = 24_000;

fn stft(x: &[f32]) -> (Vec<f32>, usize) {
    let mut s = StreamingStft::new(SPECTRAL_N_FFT, 320).unwrap();
    let mut m = Vec::new();
    let n = s.push(x, &mut m).unwrap();
    (m, n)
}

#[test]
fn chord_goes_harmonic_drums_go_percussive() {
    let n = 4 * RATE as usize;
    let mut chord = vec![0.0f32; n];
    for m in [60.0, 64.0, 67.0] {
        add_tone(
            &mut chord,
            RATE,
            0,
            n,
            m,
            0.1,
            8,
            1.0,
            0.02,
            f32::INFINITY,
            0.0,
        );
    }
    let mut kick = vec![0.0f32; n];
    let mut snare_hat = vec![0.0f32; n];
    let mut rng = Pcg64::seed_from_u64(5);
    let eighth = RATE as usize / 4; // 120 bpm
    for (i, t) in (0..n).step_by(eighth).enumerate() {
        match i % 4 {
            0 => add_drum(&mut kick, RATE, t, Drum::Kick, 0.5, &mut rng),
            2 => add_drum(&mut snare_hat, RATE, t, Drum::Snare, 0.4, &mut rng),
            _ => {}
        }
        add_drum(&mut snare_hat, RATE, t, Drum::HiHat, 0.2, &mut rng);
    }
    let drums: Vec<f32> = kick.iter().zip(&snare_hat).map(|(a, b)| a + b).collect();
    let mix: Vec<f32> = chord.iter().zip(&drums).map(|(a, b)| a + b).collect();
    let (mix_mag, n_frames) = stft(&mix);
    let cfg = PerceptionConfig::default();
    let bins = SPECTRAL_N_FFT / 2 + 1;
    let mut hpss = StreamingHpss::new(
        bins,
        cfg.harmonic_kernel_frames,
        cfg.harmonic_lookahead_frames,
        cfg.percussive_kernel_bins,
        cfg.mask_power,
    )
    .unwrap();
    let (mut h, mut p) = (Vec::new(), Vec::new());
    let mut emitted = 0;
    for f in 0..n_frames {
        if hpss
            .push_frame(&mix_mag[f * bins..(f + 1) * bins], &mut h, &mut p)
            .unwrap()
        {
            emitted += 1;
        }
    }
    // Emitted frame c is input frame c (the lookahead delays output, not indices).
    let share = |component: &[f32], harmonic: bool| -> f64 {
        let (mag, _) = stft(component);
        let (mut inside, mut total) = (0.0f64, 0.0f64);
        for c in 75..emitted {
            for b in 0..bins {
                let i = c * bins + b;
                if mix_mag[i] <= 1e-9 {
                    continue;
                }
                let mask_h = (h[i] / mix_mag[i]) as f64;
                let e = (mag[i] as f64).powi(2);
                inside += if harmonic { mask_h } else { 1.0 - mask_h } * e;
                total += e;
            }
        }
        inside / total
    };
    let chord_h = share(&chord, true);
    let drums_p = share(&drums, false);
    let snare_hat_p = share(&snare_hat, false);
    let kick_p = share(&kick, false);
    eprintln!("chord->H {chord_h:.4}; drums->P {drums_p:.4}; snare+hat->P {snare_hat_p:.4}; kick->P {kick_p:.4}");
    // The figures above (and DESIGN's "2048 leaks 2.3 %") to the precision they are printed
    // with. The input is seeded and the arithmetic deterministic; the margins (a leak of 2.3 %
    // means below 2.35 %; a share of 0.772 may be 0.001 lower) only absorb the last digit's
    // rounding and FFT rounding differences between CPUs, which are far below 1e-4.
    // Measured: leak 2.330 %, shares 0.6309, 0.7722, 0.5926.
    let leak = 1.0 - chord_h;
    assert!(
        leak < 0.0235,
        "chord leaks {:.3} % into P, DESIGN says 2.3 %",
        leak * 100.0
    );
    assert!(
        snare_hat_p >= 0.771,
        "snare + hi-hat in P: {snare_hat_p} (0.772 above)"
    );
    assert!(drums_p >= 0.630, "drums in P: {drums_p} (0.631 above)");
    assert!(kick_p >= 0.592, "kick in P: {kick_p} (0.593 above)");
    // And the streams are not the same thing: the chord is far more harmonic than the drums.
    assert!(chord_h - (1.0 - drums_p) > 0.5);
}
