//! Consonance of a 12-bin chroma vector.
//!
//! Measure: sensory roughness after Plomp & Levelt (1965) in Sethares' parametrisation
//! ("Tuning, Timbre, Spectrum, Scale", 1993/2005), summed over pairs of pitch classes weighted
//! by their chroma energies, mapped to 0..=1 with 1 = consonant.
//!
//! 1. Each pitch class is a harmonic complex tone of [`NUM_PARTIALS`] partials (amplitudes
//!    `0.88^(h - 1)`), in the octave above [`REFERENCE_HZ`] (middle C).
//! 2. The roughness of two partials `f1 < f2` with amplitudes `a1, a2` is
//!    `a1 a2 (exp(-3.5 s (f2 - f1)) - exp(-5.75 s (f2 - f1)))`, `s = 0.24 / (0.0207 f1 + 18.96)`;
//!    the roughness `R(k)` of an interval of `k` semitones sums it over all partial pairs.
//! 3. A chroma vector has no octave, so interval class `k` (1..=6) gets the mean of an interval
//!    and its inversion: `D(k) = (R(k) + R(12 - k)) / 2` (the minor second and the major seventh
//!    count as the same, rough, interval class).
//! 4. With `p` the chroma normalised to sum 1 (negative or non-finite bins count as 0),
//!    `roughness = sum_{i < j} p_i p_j D(ic(j - i))`, and
//!    `consonance = 1 - roughness / (D_max * 11 / 24)`, where `11 / 24` bounds
//!    `sum_{i < j} p_i p_j` over 12 bins. A single pitch class (and silence) gives 1.

use std::sync::OnceLock;

/// Partials per pitch class.
pub const NUM_PARTIALS: usize = 6;
/// Fundamental of pitch class 0 (C4), Hz.
pub const REFERENCE_HZ: f32 = 261.63;

fn pair_roughness(f1: f32, f2: f32, a1: f32, a2: f32) -> f32 {
    let (lo, hi) = if f1 <= f2 { (f1, f2) } else { (f2, f1) };
    let s = 0.24 / (0.0207 * lo + 18.96);
    let d = hi - lo;
    a1 * a2 * ((-3.5 * s * d).exp() - (-5.75 * s * d).exp())
}

/// Roughness `R(k)` between two complex tones `k` semitones apart (k in 0..=12).
fn interval_roughness(semitones: usize) -> f32 {
    let f_low = REFERENCE_HZ;
    let f_high = REFERENCE_HZ * 2f32.powf(semitones as f32 / 12.0);
    let mut r = 0.0;
    for h1 in 1..=NUM_PARTIALS {
        for h2 in 1..=NUM_PARTIALS {
            let a1 = 0.88f32.powi(h1 as i32 - 1);
            let a2 = 0.88f32.powi(h2 as i32 - 1);
            r += pair_roughness(f_low * h1 as f32, f_high * h2 as f32, a1, a2);
        }
    }
    r
}

/// `D(k)` for interval classes 0..=6 (index 0 unused: a pitch class with itself is not a pair).
pub fn interval_class_roughness() -> &'static [f32; 7] {
    static TABLE: OnceLock<[f32; 7]> = OnceLock::new();
    TABLE.get_or_init(|| {
        // Two complex tones in unison are already somewhat rough (their 5th and 6th partials
        // are close): count only the excess over the unison.
        let base = interval_roughness(0);
        let mut t = [0.0f32; 7];
        for (k, v) in t.iter_mut().enumerate().skip(1) {
            let r = 0.5 * (interval_roughness(k) + interval_roughness(12 - k)) - base;
            *v = r.max(0.0);
        }
        t
    })
}

/// Consonance of a chroma vector, in 0..=1 (1 = consonant); see the module docs.
pub fn consonance(chroma: &[f32; 12]) -> f32 {
    let clean = |x: f32| if x.is_finite() && x > 0.0 { x } else { 0.0 };
    let total: f32 = chroma.iter().map(|&x| clean(x)).sum();
    if total <= 0.0 || !total.is_finite() {
        return 1.0;
    }
    let p: Vec<f32> = chroma.iter().map(|&x| clean(x) / total).collect();
    let table = interval_class_roughness();
    let d_max = table.iter().copied().fold(0.0f32, f32::max);
    if d_max <= 0.0 {
        return 1.0;
    }
    let mut roughness = 0.0;
    for i in 0..12 {
        for j in i + 1..12 {
            let k = j - i;
            let ic = k.min(12 - k);
            roughness += p[i] * p[j] * table[ic];
        }
    }
    (1.0 - roughness / (d_max * 11.0 / 24.0)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chord(pcs: &[usize]) -> [f32; 12] {
        let mut c = [0.0; 12];
        for &p in pcs {
            c[p] = 1.0;
        }
        c
    }

    #[test]
    fn single_pitch_class_and_silence_are_consonant() {
        for pc in 0..12 {
            assert_eq!(consonance(&chord(&[pc])), 1.0);
        }
        assert_eq!(consonance(&[0.0; 12]), 1.0);
    }

    #[test]
    fn major_triad_beats_cluster() {
        let triad = consonance(&chord(&[0, 4, 7]));
        let cluster = consonance(&chord(&[0, 1, 2]));
        assert!(triad > cluster + 0.1, "triad {triad} cluster {cluster}");
        // Transposition invariant.
        assert!((consonance(&chord(&[5, 9, 0])) - triad).abs() < 1e-6);
    }

    #[test]
    fn interval_classes_order_like_the_literature() {
        // Fifth/fourth smoother than thirds/sixths, smoother than the tritone, smoother than
        // seconds/sevenths; minor second roughest.
        let d = interval_class_roughness();
        println!("D(ic) = {d:?}");
        assert!(d[5] < d[3] && d[5] < d[4], "{d:?}");
        assert!(
            d[1] > d[2] && d[2] > d[6] && d[1] == d.iter().copied().fold(0.0, f32::max),
            "{d:?}"
        );
        let fifth = consonance(&chord(&[0, 7]));
        let tritone = consonance(&chord(&[0, 6]));
        let minor_second = consonance(&chord(&[0, 1]));
        assert!(
            fifth > tritone && tritone > minor_second,
            "{fifth} {tritone} {minor_second}"
        );
    }

    #[test]
    fn scale_invariant_bounded_and_robust() {
        let c = [0.3, 0.0, 0.1, 0.0, 0.9, 0.2, 0.0, 0.7, 0.0, 0.05, 0.0, 0.4];
        let mut c2 = c;
        c2.iter_mut().for_each(|x| *x *= 7.0);
        assert!((consonance(&c) - consonance(&c2)).abs() < 1e-6);
        let all = consonance(&[1.0; 12]);
        assert!((0.0..=1.0).contains(&all));
        let mut bad = c;
        bad[3] = f32::NAN;
        bad[6] = -4.0;
        assert!((consonance(&bad) - consonance(&c)).abs() < 1e-6);
    }
}
