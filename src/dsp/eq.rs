//! [`Eq5`]: the 5-band EQ cascade (low shelf, three peaking bands, high shelf) per channel.
//!
//! # Topology
//! Each band is a trapezoidal state-variable filter ([`crate::dsp::svf`]). Its magnitude
//! response is exactly the RBJ cookbook biquad's, but its state is integrator charge rather
//! than past outputs, so coefficients can jump every few samples without the transients that
//! direct-form biquads produce when their poles move (the reason the SVF is the usual choice
//! for modulated filters); it is also unconditionally stable for any `g > 0, k > 0`.
//!
//! # Smoothing
//! Automation and morph changes arrive as a new target [`EqParams`]. The engine glides its
//! *parameters* (not coefficients) from where they are to the target over the ramp time
//! (default [`DEFAULT_RAMP_MS`]): gains linearly in dB, frequencies and Qs linearly in log
//! space, and recomputes the coefficients of the bands that moved every [`SUB_BLOCK_LEN`]
//! samples. The parameter to coefficient map ([`coefficients_for`], module `coeffs`) computes
//! four bands per vector with fast `exp`/`tan` approximations, within a tested bound of the
//! exact map; a band whose parameters did not move keeps its coefficients, which is
//! bit-identical to recomputing them. Within a sub-block the six processing coefficients slide
//! linearly, sample by sample, from the last computed set to the new one, so the output has no
//! steps at sub-block edges (a staircase of coefficient sets gives audible zipper noise on a
//! loud, strongly boosted tone; the `step_change_does_not_click` test measures it). The map is
//! used at the sub-block points, linear interpolation only in between. The sub-block grid
//! carries over block boundaries, so host block size (even 1 sample) does not change the update
//! rate. When nothing glides the per-sample slide is skipped. Frequencies are clamped to
//! [`MAX_FREQ_FRACTION`] of the sample rate when coefficients are computed, so 20 kHz at
//! 22.05 kHz is still stable.
//!
//! # Bad input and denormals
//! Non-finite input (NaN, ±inf) or state is detected once per block by checking every
//! integrator after processing (a NaN or inf anywhere in the block always leaves a non-finite
//! integrator, since the recursion never multiplies it by zero). Then the state is reset, the
//! whole block is **silenced** (the buffer is processed in place, so the input is no longer
//! there to pass through, and it was not finite anyway), and [`Eq5::bad_blocks`] increments.
//! Denormals are avoided by an explicit flush: after every run (a sub-block while gliding, at
//! most 256 samples otherwise), integrator values below `1e-20` (-400 dB) become exact zeros. This does not rely on the host setting FTZ/DAZ.
//!
//! # Bypass
//! [`Eq5::set_bypass`] glides all gains to 0 dB with the same ramp (0 dB makes every band the
//! exact identity), then stops processing altogether; un-bypassing glides back.

use super::params::EqParams;
use super::simd::F32x4;
use super::svf::{BandKind, SvfCoefficients, SvfDelta, SvfState};
use coeffs::BandDomain;

mod coeffs;
pub use coeffs::coefficients_for;

/// Most channels processed (stereo); extra channels passed to `process_block` are left as is.
pub const MAX_CHANNELS: usize = 2;
/// Number of bands in the cascade.
pub const NUM_BANDS: usize = 5;
/// Coefficients are recomputed from the gliding parameters every this many samples.
pub const SUB_BLOCK_LEN: usize = 16;
/// Band frequencies are clamped to this fraction of the sample rate.
pub const MAX_FREQ_FRACTION: f32 = 0.45;
/// Default glide time from one target to the next, ms.
pub const DEFAULT_RAMP_MS: f32 = 20.0;
/// Lowest sample rate accepted, Hz ([`crate::limits::MIN_SAMPLE_RATE_HZ`]).
pub const MIN_SAMPLE_RATE_HZ: f32 = crate::limits::MIN_SAMPLE_RATE_HZ as f32;
/// Highest sample rate accepted, Hz ([`crate::limits::MAX_SAMPLE_RATE_HZ`]).
pub const MAX_SAMPLE_RATE_HZ: f32 = crate::limits::MAX_SAMPLE_RATE_HZ as f32;
/// Longest glide accepted, ms.
pub const MAX_RAMP_MS: f32 = 10_000.0;
/// Longest run processed without a sub-block stop while nothing glides: bounds how long a
/// decaying state can sit in subnormal range before the flush.
const MAX_STATIC_RUN: usize = 256;
/// Integrator values below this magnitude are flushed to zero after each run (at most
/// [`MAX_STATIC_RUN`] samples, [`SUB_BLOCK_LEN`] while gliding).
const DENORMAL_FLUSH: f32 = 1e-20;

/// Band kinds in cascade order.
pub const BAND_KINDS: [BandKind; NUM_BANDS] = [
    BandKind::LowShelf,
    BandKind::Peaking,
    BandKind::Peaking,
    BandKind::Peaking,
    BandKind::HighShelf,
];

/// Errors of the allocating / configuring methods. The real-time methods never fail.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EqError {
    #[error("sample rate {sample_rate_hz} Hz is outside {min_hz}..={max_hz} Hz")]
    InvalidSampleRate {
        sample_rate_hz: f32,
        min_hz: f32,
        max_hz: f32,
    },
    #[error("ramp time {ramp_ms} ms is not in 0..={max_ms} ms")]
    InvalidRamp { ramp_ms: f32, max_ms: f32 },
}

/// The 5-band EQ for up to [`MAX_CHANNELS`] channels. Owned by the audio thread; built and
/// re-prepared on the main thread (`initialize()`), `Send` so it can be moved there.
#[derive(Clone, Debug)]
pub struct Eq5 {
    sample_rate_hz: f32,
    ramp_ms: f32,
    /// Glide length in sub-blocks (>= 1).
    ramp_steps: u32,
    /// Glide progress in sub-blocks; gliding while `< ramp_steps`.
    ramp_pos: u32,
    /// Glide start and end, in interpolation domain (dB, ln Hz, ln Q).
    from: BandDomain,
    to: BandDomain,
    /// Last target given by `set_target`, clamped (before bypass flattening).
    user_target: EqParams,
    bypass: bool,
    /// The point of the glide the coefficients were computed from, in interpolation domain
    /// (where a new glide starts from).
    current_domain: BandDomain,
    /// The parameters of the last jump or of the last glide's end, exactly as given.
    current: EqParams,
    /// True while `current` is the point the engine is at (no glide step since it was set);
    /// otherwise [`Eq5::current_params`] converts `current_domain` back.
    current_exact: bool,
    /// The domain each band's entry of `next_coeffs` was computed from (lanes of bands that
    /// did not move are unchanged, so one copy serves all bands).
    coeff_domain: BandDomain,
    /// Coefficients applied to the next sample (slid by `delta` while `sliding`).
    coeffs: [SvfCoefficients; NUM_BANDS],
    /// Coefficients at the end of the current sub-block (computed from `current_domain`).
    next_coeffs: [SvfCoefficients; NUM_BANDS],
    delta: [SvfDelta; NUM_BANDS],
    sliding: bool,
    state: [[SvfState; NUM_BANDS]; MAX_CHANNELS],
    /// Samples left before the next coefficient update.
    until_update: usize,
    /// True when all gains are 0 dB and nothing glides: processing is skipped.
    idle: bool,
    bad_blocks: u64,
    /// Test switch: recompute every band at every update, moved or not (the reference the
    /// skipping path is compared with).
    #[cfg(test)]
    recompute_all: bool,
    /// Vectors of bands computed by glide updates (see [`coeffs::update`]).
    #[cfg(test)]
    vectors_computed: u64,
}

impl Eq5 {
    /// A flat EQ at `sample_rate_hz` with the default ramp. Allocates nothing, but validates.
    pub fn new(sample_rate_hz: f32) -> Result<Self, EqError> {
        check_rate(sample_rate_hz)?;
        let mut eq = Eq5 {
            sample_rate_hz,
            ramp_ms: DEFAULT_RAMP_MS,
            ramp_steps: 1,
            ramp_pos: 0,
            from: BandDomain::of(&EqParams::FLAT),
            to: BandDomain::of(&EqParams::FLAT),
            user_target: EqParams::FLAT,
            bypass: false,
            current_domain: BandDomain::of(&EqParams::FLAT),
            current: EqParams::FLAT,
            current_exact: true,
            coeff_domain: BandDomain::of(&EqParams::FLAT),
            coeffs: [SvfCoefficients::default(); NUM_BANDS],
            next_coeffs: [SvfCoefficients::default(); NUM_BANDS],
            delta: [SvfDelta::default(); NUM_BANDS],
            sliding: false,
            state: [[SvfState::default(); NUM_BANDS]; MAX_CHANNELS],
            until_update: 0,
            idle: true,
            bad_blocks: 0,
            #[cfg(test)]
            recompute_all: false,
            #[cfg(test)]
            vectors_computed: 0,
        };
        eq.update_ramp_steps();
        eq.jump_to(EqParams::FLAT);
        Ok(eq)
    }

    /// Change sample rate (host `initialize()`); keeps the target, jumps to it, clears state.
    /// `_max_block_len` is accepted for symmetry with the other `prepare`s: the EQ has no
    /// per-block buffers. Not real-time (validates; cheap, but called off the audio thread).
    pub fn prepare(&mut self, sample_rate_hz: f32, _max_block_len: usize) -> Result<(), EqError> {
        check_rate(sample_rate_hz)?;
        self.sample_rate_hz = sample_rate_hz;
        self.update_ramp_steps();
        let target = self.effective_target();
        self.jump_to(target);
        self.reset();
        Ok(())
    }

    /// Set the glide time (0 = jump at the next sub-block boundary).
    pub fn set_ramp_ms(&mut self, ramp_ms: f32) -> Result<(), EqError> {
        if !(0.0..=MAX_RAMP_MS).contains(&ramp_ms) {
            return Err(EqError::InvalidRamp {
                ramp_ms,
                max_ms: MAX_RAMP_MS,
            });
        }
        self.ramp_ms = ramp_ms;
        self.update_ramp_steps();
        Ok(())
    }

    /// Sample rate in Hz.
    pub fn sample_rate_hz(&self) -> f32 {
        self.sample_rate_hz
    }

    /// Blocks silenced because their input or the filter state was not finite.
    pub fn bad_blocks(&self) -> u64 {
        self.bad_blocks
    }

    /// The parameters the coefficients currently follow (mid-glide values while gliding, then
    /// exactly the target). Real-time safe: no alloc, no locks.
    pub fn current_params(&self) -> EqParams {
        if self.current_exact {
            self.current
        } else {
            self.current_domain.params()
        }
    }

    /// True while a glide is in progress.
    pub fn is_gliding(&self) -> bool {
        self.ramp_pos < self.ramp_steps
    }

    /// Glide from the current parameters to `params` (clamped) over the ramp time. Calling it
    /// again with the same target does nothing, so it can be called every block. Real-time
    /// safe: no alloc, no locks.
    pub fn set_target(&mut self, params: EqParams) {
        let clamped = params.clamped();
        if clamped == self.user_target {
            return;
        }
        self.user_target = clamped;
        self.start_glide();
    }

    /// Jump to `params` at once, without a glide (for initial state, presets while stopped).
    /// Real-time safe: no alloc, no locks.
    pub fn set_params_immediate(&mut self, params: EqParams) {
        self.user_target = params.clamped();
        let t = self.effective_target();
        self.jump_to(t);
    }

    /// Bypass on: glide every gain to 0 dB, then stop processing. Off: glide back. Real-time
    /// safe: no alloc, no locks.
    pub fn set_bypass(&mut self, bypass: bool) {
        if bypass != self.bypass {
            self.bypass = bypass;
            self.start_glide();
        }
    }

    /// Clear the filter state (host `reset()`). Real-time safe: no alloc, no locks.
    pub fn reset(&mut self) {
        for ch in self.state.iter_mut() {
            for s in ch.iter_mut() {
                s.reset();
            }
        }
    }

    /// Process one block in place. `channels` holds 1 or 2 channels of equal length (extra
    /// channels are left untouched; the shortest length is used). Real-time safe: no alloc,
    /// no locks.
    pub fn process_block(&mut self, channels: &mut [&mut [f32]]) {
        match channels {
            [] => {}
            [mono] => self.process_mono(mono),
            [left, right, ..] => self.process_stereo(left, right),
        }
    }

    /// Process one mono channel in place. Real-time safe: no alloc, no locks.
    pub fn process_mono(&mut self, buf: &mut [f32]) {
        let n = buf.len();
        let mut i = 0;
        while i < n {
            let len = self.next_run(n - i);
            if !self.idle {
                let run = &mut buf[i..i + len];
                let st = &mut self.state[0];
                if self.sliding {
                    mono_kernel::<true>(&mut self.coeffs, &self.delta, st, run);
                } else {
                    mono_kernel::<false>(&mut self.coeffs, &self.delta, st, run);
                }
                for s in st.iter_mut() {
                    s.flush_denormals(DENORMAL_FLUSH);
                }
            }
            i += len;
        }
        if !self.state_finite(1) {
            self.on_bad_block();
            buf.fill(0.0);
        }
    }

    /// Process a stereo pair in place (lengths should match; the shorter is used). Real-time
    /// safe: no alloc, no locks.
    pub fn process_stereo(&mut self, left: &mut [f32], right: &mut [f32]) {
        let n = left.len().min(right.len());
        let mut i = 0;
        while i < n {
            let len = self.next_run(n - i);
            if !self.idle {
                let l = &mut left[i..i + len];
                let r = &mut right[i..i + len];
                if self.sliding {
                    stereo_kernel::<true>(&mut self.coeffs, &self.delta, &mut self.state, l, r);
                } else {
                    stereo_kernel::<false>(&mut self.coeffs, &self.delta, &mut self.state, l, r);
                }
                for s in self.state.iter_mut().flatten() {
                    s.flush_denormals(DENORMAL_FLUSH);
                }
            }
            i += len;
        }
        if !self.state_finite(2) {
            self.on_bad_block();
            left.fill(0.0);
            right.fill(0.0);
        }
    }

    /// Exact magnitude of the whole cascade at `freq_hz`, dB, for the coefficients the engine
    /// is at (mid-glide: those of the end of the current sub-block).
    pub fn magnitude_db(&self, freq_hz: f32) -> f32 {
        cascade_db(&self.next_coeffs, self.sample_rate_hz, freq_hz)
    }

    /// Exact magnitude (dB) of the cascade for `params` (clamped as the engine would) at each
    /// of `freqs_hz`, into `out` (the shorter length is used). For the GUI curve and tests.
    /// Real-time safe: no alloc, no locks (but ~50 ns per band per point).
    pub fn magnitude_response_db(
        params: &EqParams,
        sample_rate_hz: f32,
        freqs_hz: &[f32],
        out: &mut [f32],
    ) {
        let coeffs = coefficients_for(&params.clamped(), sample_rate_hz);
        for (f, o) in freqs_hz.iter().zip(out.iter_mut()) {
            *o = cascade_db(&coeffs, sample_rate_hz, *f);
        }
    }

    /// The coefficients at the end of the current sub-block, in cascade order.
    pub fn coefficients(&self) -> &[SvfCoefficients; NUM_BANDS] {
        &self.next_coeffs
    }

    // --- internals ---

    /// Length of the next run processed with one kernel call, updating coefficients at
    /// sub-block starts. While nothing glides, runs span many sub-blocks (up to
    /// [`MAX_STATIC_RUN`]) and only the sub-block phase is tracked, so that a glide starting
    /// later still lands on the same grid.
    #[inline]
    fn next_run(&mut self, remaining: usize) -> usize {
        if self.until_update == 0 {
            self.advance_glide();
            self.until_update = SUB_BLOCK_LEN;
        }
        if !self.sliding && !self.is_gliding() {
            let len = remaining.min(MAX_STATIC_RUN);
            let phase = (self.until_update + SUB_BLOCK_LEN - len % SUB_BLOCK_LEN) % SUB_BLOCK_LEN;
            self.until_update = phase;
            return len;
        }
        let len = remaining.min(self.until_update);
        self.until_update -= len;
        len
    }

    fn effective_target(&self) -> EqParams {
        if self.bypass {
            self.user_target.flattened()
        } else {
            self.user_target
        }
    }

    fn start_glide(&mut self) {
        self.from = self.current_domain;
        self.to = BandDomain::of(&self.effective_target());
        self.ramp_pos = 0;
        self.idle = false;
    }

    fn jump_to(&mut self, p: EqParams) {
        self.from = BandDomain::of(&p);
        self.to = self.from;
        self.ramp_pos = self.ramp_steps;
        self.current = p;
        self.current_exact = true;
        self.current_domain = self.from;
        self.coeff_domain = self.from;
        coeffs::update(
            &self.current_domain,
            self.sample_rate_hz,
            [true; NUM_BANDS],
            &mut self.next_coeffs,
        );
        self.coeffs = self.next_coeffs;
        self.sliding = false;
        self.update_idle();
    }

    /// At a sub-block start: land exactly on the last computed coefficients, then, if gliding,
    /// compute the next point and the per-sample slide towards it. Only bands whose parameters
    /// moved are recomputed and slid; the others keep their coefficients (recomputing them
    /// would give the same bits, see [`BandDomain::moved`]).
    fn advance_glide(&mut self) {
        if self.sliding {
            self.coeffs = self.next_coeffs;
            self.sliding = false;
        }
        if self.ramp_pos >= self.ramp_steps {
            self.update_idle();
            return;
        }
        self.ramp_pos += 1;
        if self.ramp_pos >= self.ramp_steps {
            self.current = self.effective_target();
            self.current_exact = true;
            self.current_domain = self.to;
        } else {
            let t = self.ramp_pos as f32 / self.ramp_steps as f32;
            self.current_domain = BandDomain::lerp(&self.from, &self.to, t);
            self.current_exact = false;
        }
        #[allow(unused_mut)]
        let mut moved = self.current_domain.moved(&self.coeff_domain);
        #[cfg(test)]
        if self.recompute_all {
            moved = [true; NUM_BANDS];
        }
        if moved.contains(&true) {
            let _vectors = coeffs::update(
                &self.current_domain,
                self.sample_rate_hz,
                moved,
                &mut self.next_coeffs,
            );
            #[cfg(test)]
            {
                self.vectors_computed += u64::from(_vectors);
            }
            self.coeff_domain = self.current_domain;
            for (b, delta) in self.delta.iter_mut().enumerate() {
                *delta = if moved[b] {
                    SvfDelta::between(&self.coeffs[b], &self.next_coeffs[b], SUB_BLOCK_LEN)
                } else {
                    SvfDelta::default()
                };
            }
            self.sliding = true;
        }
        self.update_idle();
    }

    fn update_idle(&mut self) {
        let p = &self.current;
        let flat = p.ls_gain_db == 0.0
            && p.p1_gain_db == 0.0
            && p.p2_gain_db == 0.0
            && p.p3_gain_db == 0.0
            && p.hs_gain_db == 0.0;
        let idle = flat && !self.is_gliding() && !self.sliding;
        if idle && !self.idle {
            // Output no longer depends on state; clear it so a later glide starts clean.
            self.reset();
        }
        self.idle = idle;
    }

    fn update_ramp_steps(&mut self) {
        let samples = self.ramp_ms * 1e-3 * self.sample_rate_hz;
        self.ramp_steps = ((samples / SUB_BLOCK_LEN as f32).round() as u32).max(1);
        self.ramp_pos = self.ramp_pos.min(self.ramp_steps);
    }

    fn state_finite(&self, num_channels: usize) -> bool {
        self.state[..num_channels]
            .iter()
            .all(|ch| ch.iter().all(|s| s.is_finite()))
    }

    fn on_bad_block(&mut self) {
        self.bad_blocks += 1;
        self.reset();
    }
}

/// One run of constant (`SLIDE = false`) or sliding coefficients over a mono buffer.
#[inline(always)]
fn mono_kernel<const SLIDE: bool>(
    c: &mut [SvfCoefficients; NUM_BANDS],
    d: &[SvfDelta; NUM_BANDS],
    st: &mut [SvfState; NUM_BANDS],
    buf: &mut [f32],
) {
    for x in buf.iter_mut() {
        let mut v = *x;
        for b in 0..NUM_BANDS {
            v = st[b].process_sample(&c[b], v);
            if SLIDE {
                c[b].step(&d[b]);
            }
        }
        *x = v;
    }
}

/// One run over a stereo pair; both channels share the coefficients. Left and right ride in
/// two lanes of one SSE register, so each band costs 17 vector operations per frame for both
/// channels; the state lives in registers for the whole run and is written back at its end.
/// (Scalar per-channel code measured ~70 ns per stereo frame, this ~12-15: see benches/eq.rs.)
#[inline(always)]
fn stereo_kernel<const SLIDE: bool>(
    c: &mut [SvfCoefficients; NUM_BANDS],
    d: &[SvfDelta; NUM_BANDS],
    st: &mut [[SvfState; NUM_BANDS]; MAX_CHANNELS],
    left: &mut [f32],
    right: &mut [f32],
) {
    // Broadcast coefficients: [2 a1, 2 a2, 2 a3, d, c1, c2] per band (see
    // `SvfState::process_sample` for why the doubled form).
    let k: [[F32x4; 6]; NUM_BANDS] = std::array::from_fn(|b| {
        let cb = &c[b];
        [2.0 * cb.a1, 2.0 * cb.a2, 2.0 * cb.a3, cb.d, cb.c1, cb.c2].map(F32x4::splat)
    });
    // While sliding, each band's output weights travel together as `[d, c1, c2, 0]`: one add
    // per band and frame moves all three (fifteen separate broadcasts did not fit in the
    // sixteen SSE registers, so each step was a load, an add and a store), and each weight is
    // broadcast from its lane where it is used.
    let mut slide: [F32x4; NUM_BANDS] =
        std::array::from_fn(|b| F32x4::from_array([c[b].d, c[b].c1, c[b].c2, 0.0]));
    let step: [F32x4; NUM_BANDS] =
        std::array::from_fn(|b| F32x4::from_array([d[b].d, d[b].c1, d[b].c2, 0.0]));
    let mut ic1: [F32x4; NUM_BANDS] =
        std::array::from_fn(|b| F32x4::pair(st[0][b].ic1eq, st[1][b].ic1eq));
    let mut ic2: [F32x4; NUM_BANDS] =
        std::array::from_fn(|b| F32x4::pair(st[0][b].ic2eq, st[1][b].ic2eq));
    for (xl, xr) in left.iter_mut().zip(right.iter_mut()) {
        let mut v0 = F32x4::pair(*xl, *xr);
        for b in 0..NUM_BANDS {
            let [a1x2, a2x2, a3x2, mut dd, mut c1, mut c2] = k[b];
            if SLIDE {
                (dd, c1, c2) = (slide[b].lane0(), slide[b].lane1(), slide[b].lane2());
                slide[b] = slide[b].add(step[b]);
            }
            // Same operations, same order as `SvfState::process_sample`.
            let (s1, s2) = (ic1[b], ic2[b]);
            let from_state = c1.mul(s1).add(c2.mul(s2));
            let v3 = v0.sub(s2);
            ic1[b] = a1x2.mul(s1).add(a2x2.mul(v3)).sub(s1);
            ic2[b] = s2.add(a2x2.mul(s1).add(a3x2.mul(v3)));
            v0 = dd.mul(v0).add(from_state);
        }
        let out = v0.lanes();
        *xl = out[0];
        *xr = out[1];
    }
    for b in 0..NUM_BANDS {
        let (i1, i2) = (ic1[b].lanes(), ic2[b].lanes());
        st[0][b] = SvfState {
            ic1eq: i1[0],
            ic2eq: i2[0],
        };
        st[1][b] = SvfState {
            ic1eq: i1[1],
            ic2eq: i2[1],
        };
        if SLIDE {
            let [d, c1, c2, _] = slide[b].lanes();
            (c[b].d, c[b].c1, c[b].c2) = (d, c1, c2);
        }
    }
}

fn check_rate(sample_rate_hz: f32) -> Result<(), EqError> {
    if (MIN_SAMPLE_RATE_HZ..=MAX_SAMPLE_RATE_HZ).contains(&sample_rate_hz) {
        Ok(())
    } else {
        Err(EqError::InvalidSampleRate {
            sample_rate_hz,
            min_hz: MIN_SAMPLE_RATE_HZ,
            max_hz: MAX_SAMPLE_RATE_HZ,
        })
    }
}

fn cascade_db(coeffs: &[SvfCoefficients; NUM_BANDS], sample_rate_hz: f32, freq_hz: f32) -> f32 {
    let fs = sample_rate_hz as f64;
    let f = (freq_hz as f64).clamp(0.0, fs * 0.5);
    let w = 2.0 * std::f64::consts::PI * f / fs;
    let mag_sq: f64 = coeffs.iter().map(|c| c.magnitude_sq(w)).product();
    (10.0 * mag_sq.log10()) as f32
}

#[cfg(test)]
mod tests;
