//! The 13 parameters of the 5-band EQ, in the order the SAFE-DB model decodes them.

/// Lowest band frequency accepted, in Hz.
pub const MIN_FREQ_HZ: f32 = 20.0;
/// Highest band frequency accepted, in Hz. At low sample rates the engine further clamps
/// frequencies to [`crate::dsp::eq::MAX_FREQ_FRACTION`] of the sample rate.
pub const MAX_FREQ_HZ: f32 = 20_000.0;
/// Largest boost or cut of any band, in dB.
pub const MAX_GAIN_DB: f32 = 12.0;
/// Lowest peaking-band Q.
pub const MIN_Q: f32 = 0.1;
/// Highest peaking-band Q.
pub const MAX_Q: f32 = 10.0;
/// Q of both shelves (the SAFE plug-in's JUCE RBJ shelves use 0.71, i.e. about 1/sqrt(2)).
pub const SHELF_Q: f32 = 0.71;
/// Number of values in [`EqParams::to_array`].
pub const NUM_EQ_PARAMS: usize = 13;

/// The 5-band EQ settings: low shelf, three peaking bands, high shelf.
///
/// Written by the worker (decoded from the morph model) or by the host's automation, read by
/// the audio thread through [`crate::dsp::Eq5::set_target`]. `Copy` so it can cross threads
/// in a triple buffer or SPSC ring without allocation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EqParams {
    /// Low-shelf gain, dB, ±12.
    pub ls_gain_db: f32,
    /// Low-shelf corner frequency, Hz, 20..20k.
    pub ls_freq_hz: f32,
    /// Peaking band 1 gain, dB.
    pub p1_gain_db: f32,
    /// Peaking band 1 centre frequency, Hz.
    pub p1_freq_hz: f32,
    /// Peaking band 1 Q, 0.1..10.
    pub p1_q: f32,
    /// Peaking band 2 gain, dB.
    pub p2_gain_db: f32,
    /// Peaking band 2 centre frequency, Hz.
    pub p2_freq_hz: f32,
    /// Peaking band 2 Q.
    pub p2_q: f32,
    /// Peaking band 3 gain, dB.
    pub p3_gain_db: f32,
    /// Peaking band 3 centre frequency, Hz.
    pub p3_freq_hz: f32,
    /// Peaking band 3 Q.
    pub p3_q: f32,
    /// High-shelf gain, dB.
    pub hs_gain_db: f32,
    /// High-shelf corner frequency, Hz.
    pub hs_freq_hz: f32,
}

impl EqParams {
    /// All gains 0 dB: the cascade is exactly the identity (every band's mix reduces to
    /// `m0 = 1, m1 = m2 = 0`). Frequencies and Qs are the values NaNs are replaced with.
    pub const FLAT: EqParams = EqParams {
        ls_gain_db: 0.0,
        ls_freq_hz: 100.0,
        p1_gain_db: 0.0,
        p1_freq_hz: 300.0,
        p1_q: 1.0,
        p2_gain_db: 0.0,
        p2_freq_hz: 1_000.0,
        p2_q: 1.0,
        p3_gain_db: 0.0,
        p3_freq_hz: 3_000.0,
        p3_q: 1.0,
        hs_gain_db: 0.0,
        hs_freq_hz: 8_000.0,
    };

    /// The parameters in the model's order: ls gain, ls freq, p1 gain, p1 freq, p1 Q, p2 gain,
    /// p2 freq, p2 Q, p3 gain, p3 freq, p3 Q, hs gain, hs freq.
    pub fn to_array(&self) -> [f32; NUM_EQ_PARAMS] {
        [
            self.ls_gain_db,
            self.ls_freq_hz,
            self.p1_gain_db,
            self.p1_freq_hz,
            self.p1_q,
            self.p2_gain_db,
            self.p2_freq_hz,
            self.p2_q,
            self.p3_gain_db,
            self.p3_freq_hz,
            self.p3_q,
            self.hs_gain_db,
            self.hs_freq_hz,
        ]
    }

    /// Inverse of [`EqParams::to_array`]; does not clamp (call [`EqParams::clamped`]).
    pub fn from_array(a: [f32; NUM_EQ_PARAMS]) -> Self {
        EqParams {
            ls_gain_db: a[0],
            ls_freq_hz: a[1],
            p1_gain_db: a[2],
            p1_freq_hz: a[3],
            p1_q: a[4],
            p2_gain_db: a[5],
            p2_freq_hz: a[6],
            p2_q: a[7],
            p3_gain_db: a[8],
            p3_freq_hz: a[9],
            p3_q: a[10],
            hs_gain_db: a[11],
            hs_freq_hz: a[12],
        }
    }

    /// Kind of each entry of [`EqParams::to_array`], used to clamp and to interpolate each
    /// value in its own domain (dB linearly, Hz and Q logarithmically).
    pub const KINDS: [ParamKind; NUM_EQ_PARAMS] = [
        ParamKind::GainDb,
        ParamKind::FreqHz,
        ParamKind::GainDb,
        ParamKind::FreqHz,
        ParamKind::Q,
        ParamKind::GainDb,
        ParamKind::FreqHz,
        ParamKind::Q,
        ParamKind::GainDb,
        ParamKind::FreqHz,
        ParamKind::Q,
        ParamKind::GainDb,
        ParamKind::FreqHz,
    ];

    /// The same settings forced into range: 20 Hz..20 kHz, ±12 dB, Q 0.1..10; a NaN becomes
    /// the [`EqParams::FLAT`] value and ±inf the nearest limit. Real-time safe: no alloc, no
    /// locks.
    pub fn clamped(&self) -> Self {
        let mut a = self.to_array();
        let flat = Self::FLAT.to_array();
        for i in 0..NUM_EQ_PARAMS {
            a[i] = if a[i].is_nan() {
                flat[i]
            } else {
                let (lo, hi) = Self::KINDS[i].range();
                a[i].clamp(lo, hi)
            };
        }
        Self::from_array(a)
    }

    /// The same frequencies and Qs with every gain at 0 dB (what bypass glides to).
    pub fn flattened(&self) -> Self {
        EqParams {
            ls_gain_db: 0.0,
            p1_gain_db: 0.0,
            p2_gain_db: 0.0,
            p3_gain_db: 0.0,
            hs_gain_db: 0.0,
            ..*self
        }
    }
}

impl Default for EqParams {
    fn default() -> Self {
        Self::FLAT
    }
}

/// What one EQ parameter measures; decides its range and interpolation domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// Gain in dB, interpolated linearly.
    GainDb,
    /// Frequency in Hz, interpolated in log space (musically even glides).
    FreqHz,
    /// Quality factor, interpolated in log space.
    Q,
}

impl ParamKind {
    /// Inclusive range `(min, max)` of this kind.
    pub const fn range(self) -> (f32, f32) {
        match self {
            ParamKind::GainDb => (-MAX_GAIN_DB, MAX_GAIN_DB),
            ParamKind::FreqHz => (MIN_FREQ_HZ, MAX_FREQ_HZ),
            ParamKind::Q => (MIN_Q, MAX_Q),
        }
    }

    /// True when this kind glides in log space.
    pub const fn is_log(self) -> bool {
        !matches!(self, ParamKind::GainDb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    mod array {
        use super::*;

        #[test]
        fn round_trip_keeps_order() {
            let a: [f32; NUM_EQ_PARAMS] = std::array::from_fn(|i| i as f32 + 1.0);
            let p = EqParams::from_array(a);
            assert_eq!(p.ls_gain_db, 1.0);
            assert_eq!(p.ls_freq_hz, 2.0);
            assert_eq!(p.p1_q, 5.0);
            assert_eq!(p.p2_q, 8.0);
            assert_eq!(p.p3_q, 11.0);
            assert_eq!(p.hs_gain_db, 12.0);
            assert_eq!(p.hs_freq_hz, 13.0);
            assert_eq!(p.to_array(), a);
        }
    }

    mod clamp {
        use super::*;

        #[test]
        fn enforces_ranges_and_replaces_nan() {
            let mut a = [f32::NAN; NUM_EQ_PARAMS];
            a[0] = 40.0;
            a[1] = 5.0;
            a[2] = -40.0;
            a[3] = 1e9;
            a[4] = 0.0;
            a[7] = f32::INFINITY;
            a[12] = f32::NEG_INFINITY;
            let c = EqParams::from_array(a).clamped();
            assert_eq!(c.ls_gain_db, 12.0);
            assert_eq!(c.ls_freq_hz, 20.0);
            assert_eq!(c.p1_gain_db, -12.0);
            assert_eq!(c.p1_freq_hz, 20_000.0);
            assert_eq!(c.p1_q, 0.1);
            assert_eq!(c.p2_gain_db, EqParams::FLAT.p2_gain_db);
            assert_eq!(c.p2_freq_hz, EqParams::FLAT.p2_freq_hz);
            assert_eq!(c.p2_q, 10.0);
            assert_eq!(c.hs_freq_hz, 20.0);
            assert_eq!(EqParams::FLAT.clamped(), EqParams::FLAT);
        }
    }
}
