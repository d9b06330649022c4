//! Four-lane `f32` approximations of `exp`, `ln` and `tan` for the EQ's coefficient update.
//!
//! While a glide runs, the EQ turns parameters into coefficients for all five bands every
//! [`crate::dsp::SUB_BLOCK_LEN`] samples. With the C library's scalar `expf`, `logf` and `tanf`
//! that is about 35 calls per update, which cost more than the filtering itself under a
//! continuously automated morph (issue #14). These are the Cephes single-precision polynomials
//! (S. L. Moshier, Cephes Math Library: `expf.c`, `logf.c`, `tanf.c`), written branch-free on
//! [`F32x4`] so that one call does four lanes: range reduction by exponent arithmetic on the bit
//! pattern, then a short polynomial. Each is within a few `f32` ulps of the exact function over
//! the ranges the EQ uses (the tests below hold them to stated relative bounds against `f64`),
//! and each is exact where the EQ needs exactness: `exp(0) = 1` (a 0 dB band is the exact
//! identity) and `ln(1) = 0`.
//!
//! Real-time safe: plain arithmetic, no alloc, no locks, no panics.

use super::simd::{F32x4, I32x4};

/// `1.5 * 2^23`: adding it to an `f32` of magnitude below `2^22` rounds to an integer, which
/// then sits in the low mantissa bits.
const ROUND_MAGIC: f32 = 12_582_912.0;
/// `ln 2` split into a part exact in a few bits and the rest (Cephes `C1`, `C2`).
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// `e^x` in each lane, for `|x| < 80` (the EQ uses `|x| < 10`). Relative error below `2e-7`
/// (tested); `exp(0)` is exactly 1.
#[inline(always)]
pub fn exp(x: F32x4) -> F32x4 {
    let magic = F32x4::splat(ROUND_MAGIC);
    // n = round(x / ln 2), as a float and as the integer in the low bits of `t`.
    let t = x.mul(F32x4::splat(std::f32::consts::LOG2_E)).add(magic);
    let n = t.sub(magic);
    let n_int = t.to_bits().sub(magic.to_bits());
    // r = x - n ln 2, |r| <= ~0.35, in two steps so the product is exact in the first.
    let r = x
        .sub(n.mul(F32x4::splat(LN2_HI)))
        .sub(n.mul(F32x4::splat(LN2_LO)));
    // e^r = 1 + r + r^2 P(r) (Cephes expf).
    let r2 = r.mul(r);
    let p = estrin6(
        r,
        r2,
        [
            0.5,
            0.166_666_65,
            4.166_579_6e-2,
            8.333_452e-3,
            1.398_199_9e-3,
            1.987_569_1e-4,
        ],
    );
    let e_r = p.mul(r2).add(r).add(F32x4::splat(1.0));
    // Scale by 2^n: add n to the exponent field.
    e_r.to_bits().add(n_int.shl23()).as_f32()
}

/// Natural logarithm in each lane, for positive normal `x`. Absolute error below
/// `1e-7 * max(1, |ln x|)` (tested); `ln(1)` is exactly 0.
#[inline(always)]
pub fn ln(x: F32x4) -> F32x4 {
    // x = m 2^e with m in [sqrt(1/2), sqrt(2)): subtracting the bits of sqrt(1/2) and shifting
    // gives e (floor, by the arithmetic shift), and removing e from the exponent field gives m.
    let bits = x.to_bits();
    let sqrt_half_bits = I32x4::splat(0x3f35_04f3);
    let e_int = bits.sub(sqrt_half_bits).shr23();
    let m = bits.sub(e_int.shl23()).as_f32();
    let e = e_int.to_f32();
    // ln m = f - f^2/2 + f^3 P(f), f = m - 1 in [-0.29, 0.42) (Cephes logf).
    let f = m.sub(F32x4::splat(1.0));
    let z = f.mul(f);
    let p = estrin9(
        f,
        z,
        [
            3.333_333e-1,
            -2.499_999_4e-1,
            2.000_071_4e-1,
            -1.666_805_8e-1,
            1.424_932_3e-1,
            -1.242_014_1e-1,
            1.167_699_9e-1,
            -1.151_461e-1,
            7.037_683_6e-2,
        ],
    );
    let y = f
        .mul(z)
        .mul(p)
        .add(e.mul(F32x4::splat(LN2_LO)))
        .sub(z.mul(F32x4::splat(0.5)));
    f.add(y).add(e.mul(F32x4::splat(LN2_HI)))
}

/// `tan(pi y / 2)` in each lane, for `0 <= y <= 0.95` (the EQ passes `y = 2 f / fs <= 0.9`).
/// Relative error below `4e-7` against the exact tangent of the `f32` argument (tested).
///
/// Above `y = 1/2` (45 degrees) it uses `tan(x) = 1 / tan(pi/2 - x)`, with `1 - y` exact there
/// (Sterbenz), so the polynomial only sees `[0, pi/4]`.
#[inline(always)]
pub fn tan_half_pi(y: F32x4) -> F32x4 {
    let half = F32x4::splat(0.5);
    let upper = y.gt(half);
    let one = F32x4::splat(1.0);
    let u = F32x4::select(upper, one.sub(y), y).mul(F32x4::splat(std::f32::consts::FRAC_PI_2));
    // tan u = u + u^3 P(u^2) on [0, pi/4] (Cephes tanf).
    let z = u.mul(u);
    let p = estrin6(
        z,
        z.mul(z),
        [
            0.333_331_57,
            0.133_387_99,
            5.341_128e-2,
            2.443_013_5e-2,
            3.119_922_3e-3,
            9.385_402e-3,
        ],
    );
    let t = p.mul(z).mul(u).add(u);
    F32x4::select(upper, one.div(t), t)
}

/// `c[0] + c[1] x + ... + c[5] x^5` by Estrin's scheme (`x2 = x^2`): pairs `c[i] + c[i+1] x`
/// combined by powers of `x^2`, a dependency chain of three multiply-adds after `x2` where
/// Horner's rule has five. These polynomials sit on the coefficient update's critical path,
/// which is bound by latency, not by throughput.
#[inline(always)]
fn estrin6(x: F32x4, x2: F32x4, c: [f32; 6]) -> F32x4 {
    let k = F32x4::splat;
    let p01 = k(c[1]).mul(x).add(k(c[0]));
    let p23 = k(c[3]).mul(x).add(k(c[2]));
    let p45 = k(c[5]).mul(x).add(k(c[4]));
    p45.mul(x2).add(p23).mul(x2).add(p01)
}

/// `c[0] + c[1] x + ... + c[8] x^8` by Estrin's scheme (`x2 = x^2`).
#[inline(always)]
fn estrin9(x: F32x4, x2: F32x4, c: [f32; 9]) -> F32x4 {
    let k = F32x4::splat;
    let x4 = x2.mul(x2);
    let p01 = k(c[1]).mul(x).add(k(c[0]));
    let p23 = k(c[3]).mul(x).add(k(c[2]));
    let p45 = k(c[5]).mul(x).add(k(c[4]));
    let p67 = k(c[7]).mul(x).add(k(c[6]));
    let p03 = p23.mul(x2).add(p01);
    let p47 = p67.mul(x2).add(p45);
    let p48 = k(c[8]).mul(x4).add(p47);
    p48.mul(x4).add(p03)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` points evenly spaced from `lo` to `hi` inclusive, run through `f` four at a time;
    /// returns `(input, output)` pairs.
    fn sweep(lo: f64, hi: f64, n: usize, f: fn(F32x4) -> F32x4) -> Vec<(f32, f32)> {
        let xs: Vec<f32> = (0..n)
            .map(|i| (lo + (hi - lo) * i as f64 / (n - 1) as f64) as f32)
            .collect();
        let mut out = Vec::with_capacity(n);
        for chunk in xs.chunks(4) {
            let mut a = [chunk[0]; 4];
            a[..chunk.len()].copy_from_slice(chunk);
            let y = f(F32x4::from_array(a)).lanes();
            for (x, y) in chunk.iter().zip(y) {
                out.push((*x, y));
            }
        }
        out
    }

    #[test]
    fn exp_is_within_2e_7_relative() {
        let mut worst = 0.0f64;
        for (x, y) in sweep(-20.0, 20.0, 400_001, exp) {
            let want = (x as f64).exp();
            let rel = ((y as f64 - want) / want).abs();
            worst = worst.max(rel);
            assert!(
                rel < 2e-7,
                "exp({x}) = {y}, exact {want}, relative error {rel:.2e}"
            );
        }
        eprintln!("exp: worst relative error {worst:.2e}");
        assert_eq!(exp(F32x4::splat(0.0)).lanes(), [1.0; 4]);
    }

    #[test]
    fn ln_is_within_1e_7_absolute_or_relative() {
        let mut worst = 0.0f64;
        // Log-spaced inputs from 1e-4 to 1e6, plus a dense sweep around 1.
        let xs: Vec<(f32, f32)> = sweep(-4.0 * 10f64.ln(), 6.0 * 10f64.ln(), 400_001, |x| x)
            .into_iter()
            .map(|(v, _)| ((v as f64).exp() as f32, 0.0))
            .chain(sweep(0.5, 2.0, 100_001, |x| x))
            .collect();
        for chunk in xs.chunks(4) {
            let mut a = [chunk[0].0; 4];
            for (dst, (x, _)) in a.iter_mut().zip(chunk) {
                *dst = *x;
            }
            let got = ln(F32x4::from_array(a)).lanes();
            for (x, y) in a.iter().zip(got) {
                let want = (*x as f64).ln();
                let err = (y as f64 - want).abs() / want.abs().max(1.0);
                worst = worst.max(err);
                assert!(err < 1e-7, "ln({x}) = {y}, exact {want}, error {err:.2e}");
            }
        }
        eprintln!("ln: worst error {worst:.2e}");
        assert_eq!(ln(F32x4::splat(1.0)).lanes(), [0.0; 4]);
    }

    #[test]
    fn tan_half_pi_is_within_4e_7_relative() {
        let mut worst = 0.0f64;
        for (y, t) in sweep(1e-6, 0.95, 400_001, tan_half_pi) {
            let want = (std::f64::consts::FRAC_PI_2 * y as f64).tan();
            let rel = ((t as f64 - want) / want).abs();
            worst = worst.max(rel);
            assert!(
                rel < 4e-7,
                "tan(pi/2 * {y}) = {t}, exact {want}, relative {rel:.2e}"
            );
        }
        eprintln!("tan_half_pi: worst relative error {worst:.2e}");
    }
}
