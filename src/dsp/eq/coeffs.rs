//! Parameters to coefficients for the five bands, four bands per vector.
//!
//! The engine glides in interpolation domain (gain dB, ln Hz, ln Q), held here in band lanes
//! ([`BandDomain`]): one vector per quantity for bands 0..4 (low shelf and the three peaks) and
//! one vector for the high shelf, so a glide step is a handful of vector operations and a band
//! that moved is found by comparing lanes.
//!
//! [`update`] is the map from a [`BandDomain`] to coefficients that the engine uses everywhere
//! (jumps, glides, the displayed and tested response): the RBJ cookbook parameterisation of
//! [`SvfCoefficients::new`], but evaluated with the four-lane approximations of
//! [`crate::dsp::fastmath`] instead of the C library's scalar `expf`/`tanf`. The band kinds
//! differ only in lane constants, so every lane runs the same instructions:
//!
//! - `f`, `q` back from their logs, `h = 10^(gain/80)` (three `exp`s), `A = h^2` (the
//!   cookbook's `A = 10^(gain/40)`);
//! - `g = tan(pi f/fs)` (one `tan`), divided by `h` for the low shelf, times `h` for the high;
//! - `k = 1 / (q A)` for peaks, `1 / q` for shelves;
//! - `m0, m1, m2` as polynomials in `A` with per-lane weights (e.g. `m1 = k (A^2 - 1)` for a
//!   peak), chosen so that every weight is 0, 1 or -1 and so exact: at 0 dB, `h = A = 1`
//!   exactly and the mix is exactly `m0 = 1, m1 = m2 = 0`, the identity.
//!
//! The result is within a stated bound of the exact (`f64`) map over the whole parameter range
//! (test `fast_coefficients::within_bound_of_exact_map` in `tests.rs`). It is a deterministic
//! function of each band's lanes and the sample rate, which is what lets the engine skip bands
//! whose lanes did not move ([`BandDomain::moved`]).

use super::{EqParams, MAX_FREQ_FRACTION, NUM_BANDS};
use crate::dsp::fastmath;
use crate::dsp::simd::F32x4;
use crate::dsp::svf::SvfCoefficients;

/// `ln SHELF_Q` (`ln 0.71`), the fixed ln Q lane of both shelves.
pub(super) const LN_SHELF_Q: f32 = -0.342_490_35;
/// Frequencies are held as `ln(f / F_REF_HZ)`: the same glide as `ln f`, but the values stay
/// within +-3.9 instead of reaching 9.9, so their `f32` rounding is four times finer.
const F_REF_HZ: f32 = 1_000.0;

/// The 13 parameters in interpolation domain (gain dB, ln Hz, ln Q), in band lanes.
#[derive(Clone, Copy, Debug)]
pub(super) struct BandDomain {
    /// Gains of bands 0..4 (low shelf, peaks 1..3), dB.
    gain: F32x4,
    /// `ln(f / F_REF_HZ)` of bands 0..4.
    ln_f: F32x4,
    /// ln Q of bands 0..4 (lane 0, the low shelf: [`LN_SHELF_Q`]).
    ln_q: F32x4,
    /// The high shelf: `[gain dB, ln(f / F_REF_HZ), LN_SHELF_Q, 0]`.
    high: F32x4,
}

impl BandDomain {
    /// `p` in interpolation domain (two four-lane `ln`s).
    pub(super) fn of(p: &EqParams) -> Self {
        let per_ref = 1.0 / F_REF_HZ;
        let f = fastmath::ln(
            F32x4::from_array([p.ls_freq_hz, p.p1_freq_hz, p.p2_freq_hz, p.p3_freq_hz])
                .mul(F32x4::splat(per_ref)),
        );
        // The high shelf's frequency rides in lane 0 of the Qs' vector.
        let q = fastmath::ln(F32x4::from_array([
            p.hs_freq_hz * per_ref,
            p.p1_q,
            p.p2_q,
            p.p3_q,
        ]))
        .lanes();
        BandDomain {
            gain: F32x4::from_array([p.ls_gain_db, p.p1_gain_db, p.p2_gain_db, p.p3_gain_db]),
            ln_f: f,
            ln_q: F32x4::from_array([LN_SHELF_Q, q[1], q[2], q[3]]),
            high: F32x4::from_array([p.hs_gain_db, q[0], LN_SHELF_Q, 0.0]),
        }
    }

    /// The parameters back from the domain (Hz and Q by `exp`). Not bit for bit the `p` of
    /// [`BandDomain::of`], but within a few ulps.
    pub(super) fn params(&self) -> EqParams {
        let gain = self.gain.lanes();
        let f = fastmath::exp(self.ln_f).mul(F32x4::splat(F_REF_HZ)).lanes();
        let q = fastmath::exp(self.ln_q).lanes();
        let high = self.high.lanes();
        let hs_f = fastmath::exp(self.high).lanes()[1] * F_REF_HZ;
        EqParams {
            ls_gain_db: gain[0],
            ls_freq_hz: f[0],
            p1_gain_db: gain[1],
            p1_freq_hz: f[1],
            p1_q: q[1],
            p2_gain_db: gain[2],
            p2_freq_hz: f[2],
            p2_q: q[2],
            p3_gain_db: gain[3],
            p3_freq_hz: f[3],
            p3_q: q[3],
            hs_gain_db: high[0],
            hs_freq_hz: hs_f,
        }
    }

    /// `from + (to - from) t`, lane by lane.
    #[inline]
    pub(super) fn lerp(from: &Self, to: &Self, t: f32) -> Self {
        let t = F32x4::splat(t);
        let l = |a: F32x4, b: F32x4| a.add(b.sub(a).mul(t));
        BandDomain {
            gain: l(from.gain, to.gain),
            ln_f: l(from.ln_f, to.ln_f),
            ln_q: l(from.ln_q, to.ln_q),
            high: l(from.high, to.high),
        }
    }

    /// Bands whose lanes differ from `old` in any bit. A band that did not move would get
    /// bit-identical coefficients from [`update`], so it can keep the ones it has.
    #[inline]
    pub(super) fn moved(&self, old: &Self) -> [bool; NUM_BANDS] {
        let low = self.gain.bits_differ(old.gain)
            | self.ln_f.bits_differ(old.ln_f)
            | self.ln_q.bits_differ(old.ln_q);
        let high = self.high.bits_differ(old.high) != 0;
        std::array::from_fn(|b| if b < 4 { low & (1 << b) != 0 } else { high })
    }
}

/// Lane constants of one vector of bands: which cookbook shape each lane computes. Every
/// weight is 0, 1 or -1, so `x w + (1 - w)` selects `x` or 1 exactly.
struct LaneKinds {
    /// `g` is divided by `h` (low shelf) where negative, multiplied (high shelf) where
    /// positive, kept (peak) where 0.
    g_by_h: [f32; 4],
    /// 1 where `k = 1 / (q A)` (peak), 0 where `k = 1 / q` (shelves).
    k_by_a: [f32; 4],
    /// 1 where `m0 = A^2` (high shelf), 0 where `m0 = 1`.
    m0_is_a2: [f32; 4],
    /// `m1 = k (m1_a2 A^2 + m1_a A + m1_1)`.
    m1_a2: [f32; 4],
    m1_a: [f32; 4],
    m1_1: [f32; 4],
    /// `m2 = m2_w (A^2 - 1)`, computed as `m2_w A^2 - m2_w`.
    m2_w: [f32; 4],
}

/// Lanes of bands 0..4: low shelf, peak, peak, peak.
const LOW_GROUP: LaneKinds = LaneKinds {
    g_by_h: [-1.0, 0.0, 0.0, 0.0],
    k_by_a: [0.0, 1.0, 1.0, 1.0],
    m0_is_a2: [0.0; 4],
    m1_a2: [0.0, 1.0, 1.0, 1.0],
    m1_a: [1.0, 0.0, 0.0, 0.0],
    m1_1: [-1.0; 4],
    m2_w: [1.0, 0.0, 0.0, 0.0],
};

/// Lanes of band 4: the high shelf in every lane.
const HIGH_GROUP: LaneKinds = LaneKinds {
    g_by_h: [1.0; 4],
    k_by_a: [0.0; 4],
    m0_is_a2: [1.0; 4],
    m1_a2: [-1.0; 4],
    m1_a: [1.0; 4],
    m1_1: [0.0; 4],
    m2_w: [-1.0; 4],
};

/// Coefficients of the five bands for `p` (assumed clamped) at `sample_rate_hz`, band
/// frequencies clamped to [`MAX_FREQ_FRACTION`] of it: exactly what the engine runs for `p`
/// (it computes them from `p` in interpolation domain, as here). Real-time safe: no alloc, no
/// locks.
pub fn coefficients_for(p: &EqParams, sample_rate_hz: f32) -> [SvfCoefficients; NUM_BANDS] {
    let mut out = [SvfCoefficients::default(); NUM_BANDS];
    update(
        &BandDomain::of(p),
        sample_rate_hz,
        [true; NUM_BANDS],
        &mut out,
    );
    out
}

/// Recompute the coefficients of the bands marked in `which` from `domain` into `out`, leaving
/// the others untouched. A vector of bands is computed only if one of its bands is marked.
/// Returns how many vectors were computed (0, 1 or 2). Real-time safe: no alloc, no locks.
#[inline]
pub(super) fn update(
    domain: &BandDomain,
    sample_rate_hz: f32,
    which: [bool; NUM_BANDS],
    out: &mut [SvfCoefficients; NUM_BANDS],
) -> u32 {
    let mut vectors = 0;
    if which[..4].contains(&true) {
        let h = fastmath::exp(domain.gain.mul(F32x4::splat(H_PER_DB)));
        let f = fastmath::exp(domain.ln_f).mul(F32x4::splat(F_REF_HZ));
        let q = fastmath::exp(domain.ln_q);
        let lanes = group(&LOW_GROUP, h, f, q, sample_rate_hz);
        for (i, c) in lanes.into_iter().enumerate() {
            if which[i] {
                out[i] = c;
            }
        }
        vectors += 1;
    }
    if which[4] {
        // [h, f, q, 1] of the high shelf in one `exp`, then each spread over all lanes.
        let e = fastmath::exp(
            domain
                .high
                .mul(F32x4::from_array([H_PER_DB, 1.0, 1.0, 0.0])),
        );
        let [h, f, q, _] = e.lanes().map(F32x4::splat);
        let f = f.mul(F32x4::splat(F_REF_HZ));
        out[4] = group(&HIGH_GROUP, h, f, q, sample_rate_hz)[0];
        vectors += 1;
    }
    vectors
}

/// `ln(10) / 80`: `h = 10^(gain/80) = e^(gain H_PER_DB)`.
const H_PER_DB: f32 = std::f32::consts::LN_10 / 80.0;

/// Four bands' coefficients, one band per lane, from `h = 10^(gain/80)`, frequency (Hz) and Q.
#[inline(always)]
fn group(
    kinds: &LaneKinds,
    h: F32x4,
    freq_hz: F32x4,
    q: F32x4,
    sample_rate_hz: f32,
) -> [SvfCoefficients; 4] {
    let c = F32x4::from_array;
    let one = F32x4::splat(1.0);
    let zero = F32x4::splat(0.0);

    let a = h.mul(h);
    let a2 = a.mul(a);
    // g = tan(pi f / fs) = tan(pi/2 * y), y = 2 f / fs <= 2 * MAX_FREQ_FRACTION.
    let f_max = F32x4::splat(MAX_FREQ_FRACTION * sample_rate_hz);
    let y = freq_hz.min(f_max).mul(F32x4::splat(2.0 / sample_rate_hz));
    let g0 = fastmath::tan_half_pi(y);
    let g_by_h = c(kinds.g_by_h);
    let g_scale = F32x4::select(
        zero.gt(g_by_h),
        one.div(h),
        F32x4::select(g_by_h.gt(zero), h, one),
    );
    let g = g0.mul(g_scale);
    // k_by_a is 0 or 1, so `a * w + (1 - w)` is exactly `a` or exactly 1.
    let k_by_a = c(kinds.k_by_a);
    let k = one.div(q.mul(a.mul(k_by_a).add(one.sub(k_by_a))));
    let m0_is_a2 = c(kinds.m0_is_a2);
    let m0 = a2.mul(m0_is_a2).add(one.sub(m0_is_a2));
    let m1 = k.mul(
        a2.mul(c(kinds.m1_a2))
            .add(a.mul(c(kinds.m1_a)))
            .add(c(kinds.m1_1)),
    );
    let m2_w = c(kinds.m2_w);
    let m2 = a2.mul(m2_w).sub(m2_w);

    // As `SvfCoefficients::from_gk`, same operations in the same order.
    let a1 = one.div(one.add(g.mul(g.add(k))));
    let a2_ = g.mul(a1);
    let a3 = g.mul(a2_);
    let d = m0.add(m1.mul(a2_)).add(m2.mul(a3));
    let c1 = m1.mul(a1).add(m2.mul(a2_));
    let c2 = m2.mul(one.sub(a3)).sub(m1.mul(a2_));

    let [g, k, a1, a2_, a3, m0, m1, m2, d, c1, c2] =
        [g, k, a1, a2_, a3, m0, m1, m2, d, c1, c2].map(F32x4::lanes);
    std::array::from_fn(|i| SvfCoefficients {
        g: g[i],
        k: k[i],
        a1: a1[i],
        a2: a2_[i],
        a3: a3[i],
        m0: m0[i],
        m1: m1[i],
        m2: m2[i],
        d: d[i],
        c1: c1[i],
        c2: c2[i],
    })
}
