//! Seeded synthetic music for tests, benches and demos (no files needed): chord pads, bass,
//! melodies and a drum kit with per-section tempo, key, timbre and density changes.
//! Deterministic for a given seed.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

use std::f32::consts::TAU;

use super::pitch::midi_hz;

/// Adds a harmonic tone to `out` from `start` for `len` samples: `n_harm` partials with
/// amplitude `1/k^tilt`, attack `attack_s`, exponential decay time `decay_s` (or sustained when
/// `decay_s` is infinite), release at the end.
#[allow(clippy::too_many_arguments)]
pub fn add_tone(
    out: &mut [f32],
    rate_hz: u32,
    start: usize,
    len: usize,
    midi: f32,
    amp: f32,
    n_harm: usize,
    tilt: f32,
    attack_s: f32,
    decay_s: f32,
    vibrato: f32,
) {
    let sr = rate_hz as f32;
    let f0 = midi_hz(midi);
    let end = (start + len).min(out.len());
    let release = (0.03 * sr) as usize;
    let nyq = sr * 0.45;
    for (i, o) in out[start.min(end)..end].iter_mut().enumerate() {
        let t = i as f32 / sr;
        let env_a = (t / attack_s.max(1e-4)).min(1.0);
        let env_d = if decay_s.is_finite() {
            (-t / decay_s).exp()
        } else {
            1.0
        };
        let left = len - i;
        let env_r = if left < release {
            left as f32 / release as f32
        } else {
            1.0
        };
        let env = amp * env_a * env_d * env_r;
        if env < 1e-5 {
            continue;
        }
        let phase = f0 * t + vibrato * (TAU * 5.0 * t).sin() / (TAU * 5.0);
        let mut s = 0.0;
        for k in 1..=n_harm {
            if f0 * k as f32 > nyq {
                break;
            }
            s += (TAU * phase * k as f32).sin() / (k as f32).powf(tilt);
        }
        *o += env * s;
    }
}

/// Drum voices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drum {
    /// Pitch-swept sine, 150 -> 50 Hz.
    Kick,
    /// Noise burst plus a 190 Hz body.
    Snare,
    /// High-passed noise, very short.
    HiHat,
}

/// Adds one drum hit at `start`.
pub fn add_drum(
    out: &mut [f32],
    rate_hz: u32,
    start: usize,
    drum: Drum,
    amp: f32,
    rng: &mut Pcg64,
) {
    let sr = rate_hz as f32;
    let (dur_s, decay_s) = match drum {
        Drum::Kick => (0.35, 0.09),
        Drum::Snare => (0.25, 0.05),
        Drum::HiHat => (0.08, 0.012),
    };
    let n = (dur_s * sr) as usize;
    let mut prev = 0.0f32;
    let mut phase = 0.0f32;
    for i in 0..n {
        let idx = start + i;
        if idx >= out.len() {
            break;
        }
        let t = i as f32 / sr;
        let env = amp * (-t / decay_s).exp();
        let noise = rng.random::<f32>() * 2.0 - 1.0;
        let s = match drum {
            Drum::Kick => {
                let f = 50.0 + 100.0 * (-t / 0.03).exp();
                phase += f / sr;
                (TAU * phase).sin() + 0.1 * noise * (-t / 0.005).exp()
            }
            Drum::Snare => 0.8 * noise + 0.4 * (TAU * 190.0 * t).sin(),
            Drum::HiHat => {
                let hp = noise - prev;
                prev = noise;
                0.7 * hp
            }
        };
        out[idx] += env * s;
    }
}

/// Renders `seconds` of music at `rate_hz`. Sections of 4-8 s change tempo (70-170 bpm), key,
/// timbres and which parts play (pad, bass, melody, drums), so a frame vocabulary sees varied
/// material. Output peaks are normalised to 0.8.
pub fn render_music(seconds: f32, rate_hz: u32, seed: u64) -> Vec<f32> {
    let mut rng = Pcg64::seed_from_u64(seed);
    let sr = rate_hz as f32;
    let total = (seconds * sr) as usize;
    let mut out = vec![0.0f32; total];
    let major = [0, 2, 4, 5, 7, 9, 11];
    let minor = [0, 2, 3, 5, 7, 8, 10];
    let mut pos = 0usize;
    while pos < total {
        let sec_len = ((4.0 + rng.random::<f32>() * 4.0) * sr) as usize;
        let end = (pos + sec_len).min(total);
        let bpm = 70.0 + rng.random::<f32>() * 100.0;
        let beat = (60.0 / bpm * sr) as usize;
        let key = 48.0 + rng.random_range(0..12) as f32;
        let scale = if rng.random::<bool>() { major } else { minor };
        let parts: u8 = rng.random_range(1..16); // bitmask: pad, bass, melody, drums
        let pad_tilt = 0.7 + rng.random::<f32>() * 1.5;
        let mel_harm = rng.random_range(1..12);
        let mel_tilt = 0.5 + rng.random::<f32>() * 1.5;
        // Chords: one per 2 or 4 beats.
        let chord_len = beat * if rng.random::<bool>() { 2 } else { 4 };
        let mut t = pos;
        while t < end {
            let degree = rng.random_range(0..7);
            let root = key + scale[degree] as f32;
            let third =
                key + scale[(degree + 2) % 7] as f32 + if degree + 2 >= 7 { 12.0 } else { 0.0 };
            let fifth =
                key + scale[(degree + 4) % 7] as f32 + if degree + 4 >= 7 { 12.0 } else { 0.0 };
            let len = chord_len.min(end - t);
            if parts & 1 != 0 {
                let amp = 0.05 + rng.random::<f32>() * 0.08;
                for (j, m) in [root, third, fifth].iter().enumerate() {
                    let oct = if rng.random::<f32>() < 0.3 { 12.0 } else { 0.0 };
                    add_tone(
                        &mut out,
                        rate_hz,
                        t,
                        len,
                        m + oct,
                        amp,
                        8,
                        pad_tilt,
                        0.05 + 0.02 * j as f32,
                        f32::INFINITY,
                        0.5,
                    );
                }
            }
            if parts & 2 != 0 {
                let mut b = t;
                while b < t + len {
                    let bl = (beat * rng.random_range(1..3)).min(t + len - b);
                    add_tone(
                        &mut out,
                        rate_hz,
                        b,
                        bl,
                        root - 12.0,
                        0.15 + rng.random::<f32>() * 0.1,
                        6,
                        1.2,
                        0.005,
                        0.4,
                        0.0,
                    );
                    b += bl;
                }
            }
            t += len;
        }
        if parts & 4 != 0 {
            let mut t = pos;
            let mut deg = rng.random_range(0..7) as i32;
            while t < end {
                let sub = beat / rng.random_range(1..5);
                let len = (sub * rng.random_range(1..4)).min(end - t).max(1);
                if rng.random::<f32>() < 0.85 {
                    deg = (deg + rng.random_range(-2..3)).clamp(0, 13);
                    let m = key + 12.0 + scale[(deg % 7) as usize] as f32 + 12.0 * (deg / 7) as f32;
                    let decay = if rng.random::<bool>() {
                        0.25
                    } else {
                        f32::INFINITY
                    };
                    add_tone(
                        &mut out,
                        rate_hz,
                        t,
                        len,
                        m,
                        0.1 + rng.random::<f32>() * 0.12,
                        mel_harm,
                        mel_tilt,
                        0.01,
                        decay,
                        rng.random::<f32>() * 0.8,
                    );
                }
                t += len;
            }
        }
        if parts & 8 != 0 {
            let pattern: u32 = rng.random();
            let mut step = 0u32;
            let mut t = pos;
            let sixteenth = (beat / 4).max(1);
            while t < end {
                let s = step % 16;
                if s % 8 == 0 || (pattern >> s) & 1 == 1 && s % 2 == 0 && rng.random::<f32>() < 0.5
                {
                    add_drum(
                        &mut out,
                        rate_hz,
                        t,
                        Drum::Kick,
                        0.4 + rng.random::<f32>() * 0.3,
                        &mut rng,
                    );
                }
                if s % 8 == 4 || ((pattern >> (s + 16)) & 1 == 1 && rng.random::<f32>() < 0.3) {
                    add_drum(
                        &mut out,
                        rate_hz,
                        t,
                        Drum::Snare,
                        0.2 + rng.random::<f32>() * 0.25,
                        &mut rng,
                    );
                }
                if s % 2 == 0 || rng.random::<f32>() < 0.3 {
                    add_drum(
                        &mut out,
                        rate_hz,
                        t,
                        Drum::HiHat,
                        0.05 + rng.random::<f32>() * 0.15,
                        &mut rng,
                    );
                }
                step += 1;
                t += sixteenth;
            }
        }
        pos = end;
    }
    let peak = out.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if peak > 0.0 {
        out.iter_mut().for_each(|v| *v *= 0.8 / peak);
    }
    out
}
