//! Loudness matching for the EQ morph: ITU-R BS.1770 K-weighting, a smoothed short-term
//! loudness meter, and the auto-gain that keeps the EQ's output as loud as its input, so a
//! warm <-> bright lane is heard as colour, not as volume.
//!
//! K-weighting is BS.1770-4's two-stage filter (a +4 dB high shelf modelling the head, then a
//! 38 Hz high pass), designed for any sample rate from the analog prototypes (the approach of
//! libebur128 / pyloudnorm), which reproduces the standard's 48 kHz coefficients. Channels are
//! weighted 1 (left, right, mono). Loudness in LUFS is `-0.691 + 10 log10(sum of channel mean
//! squares)`.
//!
//! The meter is a one-pole average of the K-weighted power with a 3 s time constant (the
//! standard's short-term window), updated per sub-block; [`AutoGain`] runs one meter before and
//! one after the EQ and moves its gain smoothly toward `sqrt(before / after)`, within
//! +-[`MAX_AUTO_GAIN_DB`] and holding still when either side is below [`GATE_LUFS`].
//! Real-time safe: fixed state, no allocation.

/// Meter time constant, seconds (BS.1770's short-term loudness integrates 3 s).
pub const METER_TIME_S: f32 = 3.0;
/// Time constant of the applied gain, seconds.
pub const GAIN_TIME_S: f32 = 0.1;
/// Largest correction, dB.
pub const MAX_AUTO_GAIN_DB: f32 = 12.0;
/// Below this loudness (either side) the gain holds: silence says nothing about level.
pub const GATE_LUFS: f32 = -70.0;
/// Channels metered.
pub const MAX_METER_CHANNELS: usize = 2;

/// A direct-form-I biquad (a0 = 1). The K filters are fixed, so the direct form's trouble with
/// moving coefficients does not arise; `f64` state keeps the 38 Hz high pass exact.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Biquad {
    pub b: [f64; 3],
    pub a: [f64; 2],
    x: [f64; 2],
    y: [f64; 2],
}

impl Biquad {
    fn new(b: [f64; 3], a: [f64; 2]) -> Self {
        Self {
            b,
            a,
            ..Self::default()
        }
    }

    #[inline]
    fn tick(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.b[1] * self.x[0] + self.b[2] * self.x[1]
            - self.a[0] * self.y[0]
            - self.a[1] * self.y[1];
        self.x = [x, self.x[0]];
        self.y = [y, self.y[0]];
        y
    }

    fn reset(&mut self) {
        self.x = [0.0; 2];
        self.y = [0.0; 2];
    }
}

/// The two K-weighting stages for `sample_rate_hz`: (shelf, high pass).
pub fn k_weighting(sample_rate_hz: f64) -> (Biquad, Biquad) {
    use std::f64::consts::PI;
    // Stage 1: high shelf.
    let (f0, g_db, q) = (1681.974450955533, 3.999843853973347, 0.7071752369554196);
    let k = (PI * f0 / sample_rate_hz).tan();
    let vh = 10f64.powf(g_db / 20.0);
    let vb = vh.powf(0.4996667741545416);
    let a0 = 1.0 + k / q + k * k;
    let shelf = Biquad::new(
        [
            (vh + vb * k / q + k * k) / a0,
            2.0 * (k * k - vh) / a0,
            (vh - vb * k / q + k * k) / a0,
        ],
        [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
    );
    // Stage 2: high pass.
    let (f0, q) = (38.13547087602444, 0.5003270373238773);
    let k = (PI * f0 / sample_rate_hz).tan();
    let a0 = 1.0 + k / q + k * k;
    let high_pass = Biquad::new(
        [1.0, -2.0, 1.0],
        [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
    );
    (shelf, high_pass)
}

/// Smoothed K-weighted power of up to two channels.
#[derive(Clone, Debug)]
pub struct LoudnessMeter {
    filters: [(Biquad, Biquad); MAX_METER_CHANNELS],
    sample_rate_hz: f32,
    /// Smoothed sum over channels of the K-weighted mean square.
    power: f64,
    primed: bool,
}

impl LoudnessMeter {
    /// A meter for `sample_rate_hz`.
    pub fn new(sample_rate_hz: f32) -> Self {
        let k = k_weighting(sample_rate_hz as f64);
        Self {
            filters: [k; MAX_METER_CHANNELS],
            sample_rate_hz,
            power: 0.0,
            primed: false,
        }
    }

    /// Forgets the signal.
    pub fn reset(&mut self) {
        for (a, b) in self.filters.iter_mut() {
            a.reset();
            b.reset();
        }
        self.power = 0.0;
        self.primed = false;
    }

    /// Adds a block (`channels` of equal length, at most two are metered). Real-time safe.
    pub fn push(&mut self, channels: &[&[f32]]) {
        let n = channels.first().map_or(0, |c| c.len());
        if n == 0 {
            return;
        }
        let mut sum = 0.0f64;
        for (ch, (shelf, hp)) in channels.iter().zip(self.filters.iter_mut()) {
            for &x in ch.iter() {
                let y = hp.tick(shelf.tick(x as f64));
                sum += y * y;
            }
        }
        let block_power = sum / n as f64;
        if self.primed {
            let alpha =
                1.0 - (-(n as f64) / (METER_TIME_S as f64 * self.sample_rate_hz as f64)).exp();
            self.power += alpha * (block_power - self.power);
        } else {
            self.power = block_power;
            self.primed = true;
        }
    }

    /// Current loudness in LUFS (-inf for silence).
    pub fn lufs(&self) -> f32 {
        (-0.691 + 10.0 * self.power.log10()) as f32
    }

    /// Current smoothed power.
    pub fn power(&self) -> f64 {
        self.power
    }
}

/// Keeps the EQ's output loudness equal to its input's.
#[derive(Clone, Debug)]
pub struct AutoGain {
    before: LoudnessMeter,
    after: LoudnessMeter,
    gain: f32,
    sample_rate_hz: f32,
}

impl AutoGain {
    /// For `sample_rate_hz`; gain starts at 1.
    pub fn new(sample_rate_hz: f32) -> Self {
        Self {
            before: LoudnessMeter::new(sample_rate_hz),
            after: LoudnessMeter::new(sample_rate_hz),
            gain: 1.0,
            sample_rate_hz,
        }
    }

    /// Back to unity gain and empty meters.
    pub fn reset(&mut self) {
        self.before.reset();
        self.after.reset();
        self.gain = 1.0;
    }

    /// The gain currently applied (linear).
    pub fn gain(&self) -> f32 {
        self.gain
    }

    /// Auto-gain switched off (or the EQ bypassed): glide back to unity and apply, snapping to
    /// exactly 1 (and forgetting the meters) once within 0.0001 dB, so the plugin is bit-exact
    /// again. Real-time safe.
    pub fn release(&mut self, channels: &mut [&mut [f32]]) {
        if self.gain == 1.0 {
            return;
        }
        let n = channels.first().map_or(0, |c| c.len());
        let beta = 1.0 - (-(n as f32) / (GAIN_TIME_S * self.sample_rate_hz)).exp();
        self.gain += beta * (1.0 - self.gain);
        if (self.gain - 1.0).abs() < 1.2e-5 {
            self.reset();
            return;
        }
        for c in channels.iter_mut() {
            c.iter_mut().for_each(|s| *s *= self.gain);
        }
    }

    /// Meters the EQ's input block. Call before the EQ runs on it.
    pub fn measure_input(&mut self, channels: &[&[f32]]) {
        self.before.push(channels);
    }

    /// Meters the EQ's output block and applies the gain to it (after the EQ). Real-time safe.
    pub fn process_output(&mut self, channels: &mut [&mut [f32]]) {
        let n = channels.first().map_or(0, |c| c.len());
        {
            let mut refs: [&[f32]; MAX_METER_CHANNELS] = [&[]; MAX_METER_CHANNELS];
            for (r, c) in refs.iter_mut().zip(channels.iter()) {
                *r = c;
            }
            let used = channels.len().min(MAX_METER_CHANNELS);
            self.after.push(&refs[..used]);
        }
        let (pb, pa) = (self.before.power(), self.after.power());
        let gate = 10f64.powf((GATE_LUFS as f64 + 0.691) / 10.0);
        if pb > gate && pa > gate {
            let max = 10f32.powf(MAX_AUTO_GAIN_DB / 20.0);
            let target = ((pb / pa).sqrt() as f32).clamp(1.0 / max, max);
            let beta = 1.0 - (-(n as f32) / (GAIN_TIME_S * self.sample_rate_hz)).exp();
            self.gain += beta * (target - self.gain);
        }
        if self.gain != 1.0 {
            for c in channels.iter_mut() {
                c.iter_mut().for_each(|s| *s *= self.gain);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_weighting_matches_the_standards_48k_coefficients() {
        // ITU-R BS.1770-4, tables 1 and 2.
        let (shelf, hp) = k_weighting(48_000.0);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(shelf.b[0], 1.53512485958697));
        assert!(close(shelf.b[1], -2.69169618940638));
        assert!(close(shelf.b[2], 1.19839281085285));
        assert!(close(shelf.a[0], -1.69065929318241));
        assert!(close(shelf.a[1], 0.73248077421585));
        assert!(close(hp.a[0], -1.99004745483398));
        assert!(close(hp.a[1], 0.99007225036621));
    }

    #[test]
    fn a_full_scale_1k_sine_reads_minus_3_lufs_and_gain_restores_level() {
        let rate = 48_000.0;
        let sine: Vec<f32> = (0..rate as usize * 15)
            .map(|i| (std::f32::consts::TAU * 997.0 * i as f32 / rate).sin())
            .collect();
        let mut m = LoudnessMeter::new(rate);
        for block in sine.chunks(64) {
            m.push(&[block]);
        }
        // BS.1770's calibration: a 0 dBFS 997 Hz sine in one channel reads -3.01 LKFS.
        assert!((m.lufs() + 3.01).abs() < 0.05, "{}", m.lufs());

        // A -6 dB "EQ": the auto-gain brings it back to within 0.1 dB.
        let mut ag = AutoGain::new(rate);
        let mut last = vec![0.0f32; 64];
        for block in sine.chunks(64).take(48_000 * 10 / 64) {
            ag.measure_input(&[block]);
            last.clear();
            last.extend(block.iter().map(|s| s * 0.5));
            ag.process_output(&mut [&mut last[..]]);
        }
        let db = 20.0 * ag.gain().log10();
        assert!((db - 6.02).abs() < 0.1, "gain {db} dB");
    }
}
