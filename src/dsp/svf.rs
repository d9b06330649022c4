//! One EQ band as a trapezoidal-integrated state-variable filter (Andrew Simper, Cytomic,
//! "Linear Trapezoidal Integrated State Variable Filter", `SvfLinearTrapOptimised2.pdf`),
//! parameterised so that its response equals the RBJ Audio EQ Cookbook biquads
//! (<https://www.w3.org/TR/audio-eq-cookbook/>): same analog prototypes, bilinear transform
//! pre-warped at the band frequency (`g = tan(pi f / fs)`), shelves in the cookbook's Q form
//! as JUCE's `IIRCoefficients::makeLowShelf/makeHighShelf` use them.

/// Which cookbook response a band has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BandKind {
    /// Low shelf (`lowShelf` in the cookbook).
    LowShelf,
    /// Peaking EQ (`peakingEQ`).
    Peaking,
    /// High shelf (`highShelf`).
    HighShelf,
}

/// Coefficients of one SVF band. The identity `Default` passes audio unchanged.
///
/// `a1..a3` drive the integrators, `m0..m2` mix input, band-pass and low-pass outputs:
/// `y = m0 v0 + m1 v1 + m2 v2`. `g`, `k` and `m*` describe the band (for
/// [`SvfCoefficients::to_biquad`]); processing uses `a1..a3` and the output rewritten as
/// `y = d v0 + (c1 ic1eq + c2 ic2eq)`, which is the same sum expanded so that the bracket
/// depends only on the previous state. That leaves one multiply-add between a band's input and
/// its output, so the five bands' per-sample chain is short and the CPU overlaps samples; the
/// integrator updates keep Simper's form, which is what keeps `f32` precise at low `g`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SvfCoefficients {
    pub g: f32,
    pub k: f32,
    pub a1: f32,
    pub a2: f32,
    pub a3: f32,
    pub m0: f32,
    pub m1: f32,
    pub m2: f32,
    /// `m0 + m1 a2 + m2 a3`: direct input-to-output gain.
    pub d: f32,
    /// `m1 a1 + m2 a2`: output weight of `ic1eq`.
    pub c1: f32,
    /// `m2 (1 - a3) - m1 a2`: output weight of `ic2eq`.
    pub c2: f32,
}

impl Default for SvfCoefficients {
    /// Identity: `m0 = 1`, `m1 = m2 = 0`, with harmless integrator coefficients.
    fn default() -> Self {
        Self::from_gk(0.1, 1.0, 1.0, 0.0, 0.0)
    }
}

impl SvfCoefficients {
    fn from_gk(g: f32, k: f32, m0: f32, m1: f32, m2: f32) -> Self {
        let a1 = 1.0 / (1.0 + g * (g + k));
        let a2 = g * a1;
        let a3 = g * a2;
        SvfCoefficients {
            g,
            k,
            a1,
            a2,
            a3,
            m0,
            m1,
            m2,
            d: m0 + m1 * a2 + m2 * a3,
            c1: m1 * a1 + m2 * a2,
            c2: m2 * (1.0 - a3) - m1 * a2,
        }
    }

    /// Coefficients of a band. `freq_hz` must be inside `(0, sample_rate / 2)` and `q > 0`;
    /// the caller ([`crate::dsp::Eq5`]) clamps. For shelves `q` is the cookbook shelf Q
    /// ([`crate::dsp::params::SHELF_Q`]). Computed in `f32` with the C library's `expf` and
    /// `tanf`. The engine itself uses [`crate::dsp::eq::coefficients_for`], the same map four
    /// bands at a time with faster approximations; this scalar form is the reference it is
    /// measured against. Real-time safe: no alloc, no locks.
    pub fn new(kind: BandKind, sample_rate: f64, freq_hz: f64, gain_db: f64, q: f64) -> Self {
        debug_assert!(freq_hz > 0.0 && freq_hz < sample_rate * 0.5);
        debug_assert!(q > 0.0);
        let (fs, f0, gain_db, q) = (sample_rate as f32, freq_hz as f32, gain_db as f32, q as f32);
        // Cookbook A = 10^(dBgain/40).
        let a = (gain_db * (std::f32::consts::LN_10 / 40.0)).exp();
        let g = (std::f32::consts::PI * f0 / fs).tan();
        let k = 1.0 / q;
        match kind {
            BandKind::Peaking => {
                let k = 1.0 / (q * a);
                Self::from_gk(g, k, 1.0, k * (a * a - 1.0), 0.0)
            }
            BandKind::LowShelf => {
                let g = g / a.sqrt();
                Self::from_gk(g, k, 1.0, k * (a - 1.0), a * a - 1.0)
            }
            BandKind::HighShelf => {
                let g = g * a.sqrt();
                Self::from_gk(g, k, a * a, k * (1.0 - a) * a, 1.0 - a * a)
            }
        }
    }

    /// The equivalent direct-form biquad `[b0, b1, b2, a1, a2]` (normalised by `a0`), from the
    /// bilinear transform `s = (1/g)(1 - z^-1)/(1 + z^-1)` of
    /// `H(s) = m0 + (m1 s + m2) / (s^2 + k s + 1)`. Used for exact magnitude evaluation.
    pub fn to_biquad(&self) -> [f64; 5] {
        let (g, k) = (self.g as f64, self.k as f64);
        let (m0, m1, m2) = (self.m0 as f64, self.m1 as f64, self.m2 as f64);
        let a0 = 1.0 + k * g + g * g;
        let a1 = 2.0 * g * g - 2.0;
        let a2 = 1.0 - k * g + g * g;
        let b0 = m0 * a0 + m1 * g + m2 * g * g;
        let b1 = m0 * a1 + 2.0 * m2 * g * g;
        let b2 = m0 * a2 - m1 * g + m2 * g * g;
        [b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0]
    }

    /// `|H(e^{jw})|^2` at `w = 2 pi f / fs` (radians per sample).
    pub fn magnitude_sq(&self, w: f64) -> f64 {
        biquad_magnitude_sq(&self.to_biquad(), w)
    }
}

/// Per-sample increment of the output coefficients (`d`, `c1`, `c2`), to slide from one
/// sub-block's output mix to the next's without a step (zipper noise). The integrator
/// coefficients `a1..a3` change at sub-block edges only: they act on the state, which is
/// continuous, so stepping them bends the output but cannot make it jump; sliding them too
/// cost twice as much for no measurable gain (see the `step_change_does_not_click` test).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SvfDelta {
    pub d: f32,
    pub c1: f32,
    pub c2: f32,
}

impl SvfDelta {
    /// Increment that moves `from` to `to` in `steps` samples.
    pub fn between(from: &SvfCoefficients, to: &SvfCoefficients, steps: usize) -> Self {
        let n = 1.0 / steps as f32;
        SvfDelta {
            d: (to.d - from.d) * n,
            c1: (to.c1 - from.c1) * n,
            c2: (to.c2 - from.c2) * n,
        }
    }
}

impl SvfCoefficients {
    /// Advance the processing coefficients by one sample's increment. Real-time safe.
    #[inline(always)]
    pub fn step(&mut self, d: &SvfDelta) {
        self.d += d.d;
        self.c1 += d.c1;
        self.c2 += d.c2;
    }
}

/// `|H(e^{jw})|^2` of a normalised biquad `[b0, b1, b2, a1, a2]`.
pub fn biquad_magnitude_sq(c: &[f64; 5], w: f64) -> f64 {
    let (c1, s1) = (w.cos(), w.sin());
    let (c2, s2) = ((2.0 * w).cos(), (2.0 * w).sin());
    let nr = c[0] + c[1] * c1 + c[2] * c2;
    let ni = -(c[1] * s1 + c[2] * s2);
    let dr = 1.0 + c[3] * c1 + c[4] * c2;
    let di = -(c[3] * s1 + c[4] * s2);
    (nr * nr + ni * ni) / (dr * dr + di * di)
}

/// Integrator state of one band on one channel. Identity `Default` (zeros).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SvfState {
    pub ic1eq: f32,
    pub ic2eq: f32,
}

impl SvfState {
    /// One sample through the band. Real-time safe: no alloc, no locks.
    ///
    /// Simper's update is `v1 = a1 ic1 + a2 v3`, `v2 = ic2 + a2 ic1 + a3 v3`,
    /// `ic1' = 2 v1 - ic1`, `ic2' = 2 v2 - ic2`. Here the factor 2 is folded into the
    /// coefficients: `2 a1 ic1 + 2 a2 v3` rounds exactly like `2 v1` (scaling by 2 is exact),
    /// and `ic2' = ic2 + (2 a2 ic1 + 2 a3 v3)` is the same sum without the `2 ic2 - ic2`
    /// round trip. 14 operations instead of 17, same precision.
    #[inline(always)]
    pub fn process_sample(&mut self, c: &SvfCoefficients, v0: f32) -> f32 {
        let (s1, s2) = (self.ic1eq, self.ic2eq);
        let from_state = c.c1 * s1 + c.c2 * s2;
        let v3 = v0 - s2;
        self.ic1eq = (2.0 * c.a1) * s1 + (2.0 * c.a2) * v3 - s1;
        self.ic2eq = s2 + ((2.0 * c.a2) * s1 + (2.0 * c.a3) * v3);
        c.d * v0 + from_state
    }

    /// Zero the state. Real-time safe: no alloc, no locks.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// True if both integrators hold finite values.
    #[inline]
    pub fn is_finite(&self) -> bool {
        self.ic1eq.is_finite() && self.ic2eq.is_finite()
    }

    /// Replace integrator values below `threshold` in magnitude by exact zeros, so a decaying
    /// tail never reaches subnormal numbers (which are ~100x slower on x86 without FTZ).
    #[inline]
    pub fn flush_denormals(&mut self, threshold: f32) {
        if self.ic1eq.abs() < threshold {
            self.ic1eq = 0.0;
        }
        if self.ic2eq.abs() < threshold {
            self.ic2eq = 0.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    mod identity {
        use super::*;

        #[test]
        fn default_passes_audio() {
            let c = SvfCoefficients::default();
            let mut s = SvfState::default();
            for i in 0..100 {
                let x = (i as f32 * 0.37).sin();
                assert_eq!(s.process_sample(&c, x), x);
            }
        }

        #[test]
        fn zero_gain_is_identity_for_every_kind() {
            for kind in [BandKind::LowShelf, BandKind::Peaking, BandKind::HighShelf] {
                let c = SvfCoefficients::new(kind, 48_000.0, 1_000.0, 0.0, 0.71);
                assert_eq!((c.m0, c.m1, c.m2), (1.0, 0.0, 0.0), "{kind:?}");
                assert_eq!((c.d, c.c1, c.c2), (1.0, 0.0, 0.0), "{kind:?}");
            }
        }
    }

    mod response {
        use super::*;

        #[test]
        fn shelves_reach_their_gain_at_dc_and_nyquist() {
            let fs = 48_000.0;
            let ls = SvfCoefficients::new(BandKind::LowShelf, fs, 500.0, 9.0, 0.71);
            let hs = SvfCoefficients::new(BandKind::HighShelf, fs, 2_000.0, -6.0, 0.71);
            let db = |c: &SvfCoefficients, w: f64| 10.0 * c.magnitude_sq(w).log10();
            assert!((db(&ls, 1e-6) - 9.0).abs() < 1e-3);
            assert!(db(&ls, PI - 1e-6).abs() < 1e-3);
            assert!((db(&hs, PI - 1e-6) + 6.0).abs() < 1e-3);
            assert!(db(&hs, 1e-6).abs() < 1e-3);
        }

        #[test]
        fn peak_reaches_its_gain_at_centre() {
            let fs = 44_100.0;
            let c = SvfCoefficients::new(BandKind::Peaking, fs, 1_000.0, -7.5, 3.0);
            let w = 2.0 * PI * 1_000.0 / fs;
            assert!((10.0 * c.magnitude_sq(w).log10() + 7.5).abs() < 1e-3);
        }
    }
}
