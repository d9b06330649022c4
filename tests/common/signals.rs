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

/// C major and D minor: no tone in common.
pub const C_MAJOR: [u8; 3] = [60, 64, 67];
pub const D_MINOR: [u8; 3] = [62, 65, 69];

/// An input that changes chord under phrases already decided (the Follow Changes tests): C
/// major, then D minor and C major in turn every two 0.35-s segments, each change half a
/// segment in, for `seconds`, then `tail_s` seconds of silence; mono, at `rate`.
pub struct ChordChanges {
    pub signal: Vec<f32>,
    /// (start sample, chord) of every change.
    pub changes: Vec<(usize, [u8; 3])>,
}

impl ChordChanges {
    pub fn new(rate: f64, seconds: usize, tail_s: usize) -> Self {
        use musichal::perception::synth::add_tone;
        let segment = (0.35 * rate) as usize;
        let len = seconds * rate as usize;
        let changes: Vec<(usize, [u8; 3])> = (0..)
            .map(|k| segment / 2 + k * 2 * segment)
            .take_while(|&s| s < len)
            .enumerate()
            .map(|(k, s)| (s, if k % 2 == 0 { D_MINOR } else { C_MAJOR }))
            .collect();
        let mut signal = vec![0.0f32; len + tail_s * rate as usize];
        let spans = [(0, C_MAJOR)].into_iter().chain(changes.iter().copied());
        let ends = changes.iter().map(|c| c.0).chain([len]);
        for ((start, chord), end) in spans.zip(ends) {
            for m in chord {
                add_tone(
                    &mut signal,
                    rate as u32,
                    start,
                    end - start,
                    f32::from(m),
                    0.12,
                    8,
                    1.0,
                    0.005,
                    f32::INFINITY,
                    0.0,
                );
            }
        }
        Self { signal, changes }
    }

    /// The chord struck last at or before sample `t`, and when (C major at 0 before the first
    /// change).
    pub fn at(&self, t: u64) -> (u64, [u8; 3]) {
        self.changes
            .iter()
            .rev()
            .find(|c| c.0 as u64 <= t)
            .map_or((0, C_MAJOR), |&(s, c)| (s as u64, c))
    }

    /// Whether note `key` sounds in the chord struck last at or before `t`.
    pub fn fits(&self, t: u64, key: u8) -> bool {
        self.at(t).1.iter().any(|&m| m % 12 == key % 12)
    }
}

/// The notes (start, key) of `off` that `on` lacks, counted as multisets, and the notes of `on`
/// that `off` lacks.
pub fn left_out_and_added(off: &[(u64, u8)], on: &[(u64, u8)]) -> (Vec<(u64, u8)>, Vec<(u64, u8)>) {
    let mut added = on.to_vec();
    let left_out = off
        .iter()
        .filter(|n| match added.iter().position(|m| m == *n) {
            Some(i) => {
                added.swap_remove(i);
                false
            }
            None => true,
        })
        .copied()
        .collect();
    (left_out, added)
}
