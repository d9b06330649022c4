//! The limits every part of MusicHal agrees on: the segment the audio thread hands the worker
//! (and the trainer cuts files into), and the sample rates the plugin, its EQ, its hand-offs and
//! its perception accept. One place, so they cannot disagree.

/// Segment length, milliseconds (DESIGN.md: 350 ms): the audio -> worker hand-off, and the
/// trainer's segments, which must be the same.
pub const SEGMENT_MS: u32 = 350;

/// Segment length in seconds.
pub const SEGMENT_SECONDS: f64 = SEGMENT_MS as f64 / 1000.0;

/// Lowest sample rate accepted (host, file), Hz.
pub const MIN_SAMPLE_RATE_HZ: u32 = 8_000;

/// Highest sample rate accepted (host, file), Hz.
pub const MAX_SAMPLE_RATE_HZ: u32 = 768_000;

/// Whether `rate_hz` is inside [`MIN_SAMPLE_RATE_HZ`]`..=`[`MAX_SAMPLE_RATE_HZ`] (false for
/// NaN).
pub fn sample_rate_ok(rate_hz: f64) -> bool {
    (MIN_SAMPLE_RATE_HZ as f64..=MAX_SAMPLE_RATE_HZ as f64).contains(&rate_hz)
}

/// Samples in a segment of `segment_ms` at `rate_hz`, rounded half up: 15,435 at 44.1 kHz,
/// 16,800 at 48 kHz, 7,718 at 22.05 kHz for 350 ms. Exact in integers (0.35 is not exact in
/// binary and would round 7,717.5 down).
pub fn segment_samples(rate_hz: f64, segment_ms: u32) -> usize {
    ((rate_hz * segment_ms as f64 * 2.0 + 1000.0) / 2000.0).floor() as usize
}

/// Samples in the standard segment ([`SEGMENT_MS`]) at `rate_hz`.
pub fn segment_len(rate_hz: f64) -> usize {
    segment_samples(rate_hz, SEGMENT_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two rules this replaces: the ring's `round(fs * 35 / 100)` and perception's
    /// `(rate * ms + 500) / 1000` in integers, at every integer rate the plugin accepts.
    #[test]
    fn one_segment_length_for_the_ring_and_perception() {
        for rate in MIN_SAMPLE_RATE_HZ..=MAX_SAMPLE_RATE_HZ {
            let ring = (rate as f64 * 35.0 / 100.0).round() as usize;
            let perception = ((rate as u64 * SEGMENT_MS as u64 + 500) / 1000) as usize;
            assert_eq!(segment_len(rate as f64), ring, "{rate} Hz");
            assert_eq!(segment_len(rate as f64), perception, "{rate} Hz");
        }
        assert_eq!(segment_len(22_050.0), 7_718);
        assert_eq!(segment_samples(24_000.0, 100), 2_400);
    }

    #[test]
    fn sample_rates_in_and_out() {
        assert!(sample_rate_ok(8_000.0) && sample_rate_ok(768_000.0) && sample_rate_ok(44_100.0));
        assert!(
            !sample_rate_ok(7_999.0) && !sample_rate_ok(768_001.0) && !sample_rate_ok(f64::NAN)
        );
    }
}
