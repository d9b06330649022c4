//! Deterministic test signals (noise, sines) and sample comparisons for the tests that run the
//! plugin through the CLAP host.

use std::collections::HashSet;

/// Deterministic white noise in `[-amp, amp]`, one `Vec` per channel (channels differ).
pub fn noise(channels: usize, len: usize, amp: f32, seed: u64) -> Vec<Vec<f32>> {
    (0..channels)
        .map(|c| {
            let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ (c as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
            (0..len)
                .map(|_| {
                    s ^= s >> 12;
                    s ^= s << 25;
                    s ^= s >> 27;
                    let r = s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40; // 24 bits
                    (r as f32 / (1u64 << 23) as f32 - 1.0) * amp
                })
                .collect()
        })
        .collect()
}

/// A sine per channel (channel `c` at `freq_hz * (c + 1)`).
pub fn sine(
    channels: usize,
    len: usize,
    freq_hz: f64,
    sample_rate: f64,
    amp: f32,
) -> Vec<Vec<f32>> {
    (0..channels)
        .map(|c| {
            let f = freq_hz * (c as f64 + 1.0);
            (0..len)
                .map(|i| {
                    (amp as f64 * (2.0 * std::f64::consts::PI * f * i as f64 / sample_rate).sin())
                        as f32
                })
                .collect()
        })
        .collect()
}

/// Largest absolute sample difference between two multichannel signals (∞ if shapes differ).
pub fn max_abs_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    if a.len() != b.len() || a.iter().zip(b).any(|(x, y)| x.len() != y.len()) {
        return f32::INFINITY;
    }
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs()))
        .fold(0.0, f32::max)
}

/// Panics with the first differing sample when `|out - expected| > tol` anywhere.
pub fn assert_close(out: &[Vec<f32>], expected: &[Vec<f32>], tol: f32, what: &str) {
    assert_eq!(out.len(), expected.len(), "{what}: channel count");
    for (c, (o, e)) in out.iter().zip(expected).enumerate() {
        assert_eq!(o.len(), e.len(), "{what}: length of channel {c}");
        if let Some((i, (x, y))) = o.iter().zip(e).enumerate().find(|(_, (x, y))| {
            let d = (*x - *y).abs();
            d.is_nan() || d > tol
        }) {
            panic!("{what}: channel {c} sample {i}: got {x}, expected {y} (tolerance {tol})");
        }
    }
}

/// Distinct values in `ids` (for uniqueness checks).
pub fn unique_count<T: std::hash::Hash + Eq + Copy>(ids: &[T]) -> usize {
    ids.iter().copied().collect::<HashSet<_>>().len()
}
