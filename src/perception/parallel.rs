//! One file analysed on all cores, bit for bit as [`Perception::encode_file_segments`] analyses
//! it: the file is split on a grid where a fresh perception cuts the same segments, resampler
//! chunks and frames as the continuous stream (the trainer's analysis).

use super::encoder::SPECTRAL_ID;
use super::error::{PerceptionError, Result};
use super::pipeline::{validate_rate, Perception, SegmentFrames};
use super::resample::{gcd, StreamResampler};

/// Audio a fresh perception analyses before its split point, seconds at least (rounded up to
/// the split grid). Its state joins the continuous stream's within about 13 frames (one
/// resampler block, half an STFT window, the HPSS time kernel and one previous frame, ~0.2 s).
pub const SPLIT_WARMUP_S: f64 = 1.0;
/// Segments each part of a split analysis runs past its end, compared bit for bit with the
/// next part's first segments: a mismatch (a stream state that does not forget) falls back to
/// the sequential analysis.
pub const SPLIT_CHECK_SEGMENTS: usize = 1;

/// Threads for the analysis of one file: the machine's parallelism.
pub fn analysis_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Host samples between the points where a file may be split for parallel analysis: a whole
/// number of segments, of resampler periods ([`StreamResampler::period_samples`]) and of
/// encoder hops. A fresh perception started on this grid cuts the same segments, resampler
/// chunks and STFT frames as the continuous stream, and numbers its frames the same.
///
/// [`StreamResampler::period_samples`]: super::resample::StreamResampler::period_samples
pub fn split_grid_samples(perception: &Perception, rate_hz: u32) -> Result<usize> {
    let lcm = |a: usize, b: usize| a / gcd(a, b) * b;
    let encoder_hz = perception.encoder_rate_hz() as usize;
    let hop = (encoder_hz as f64 / perception.frames_per_s()).round() as usize;
    // Host samples per whole number of hops: `hop * rate / encoder_rate` in lowest terms.
    let hop_host = hop * rate_hz as usize;
    let hop_period = hop_host / gcd(hop_host, encoder_hz);
    let segment = perception.config().segment_samples(rate_hz).max(1);
    let resampler = StreamResampler::period_samples(rate_hz, encoder_hz as u32)?;
    Ok(lcm(lcm(segment, resampler), hop_period))
}

/// Analyses one file exactly as `perception.encode_file_segments(samples, rate_hz)` does, bit
/// for bit, split into up to `threads` parts analysed at once.
///
/// Part `p > 0` starts at a point `S_p` of [`split_grid_samples`]; a fresh perception (same
/// encoder and configuration) starts [`SPLIT_WARMUP_S`] (rounded up to the grid) before
/// `S_p` and its segments before `S_p` are dropped. Every piece of stream state forgets:
/// the resampler's overlap-add tail spans one FFT block, the STFT frames and the HPSS ring a
/// window and 17 frames, the encoder and payload one previous frame; on the grid the chunk,
/// frame and segment boundaries and the frame numbers are the continuous stream's, so after
/// the warm-up the fresh stream is the continuous one (the test `split_analysis_equals_sequential_bit_for_bit`). Each part also runs [`SPLIT_CHECK_SEGMENTS`] past its end and must match the
/// next part there bit for bit, or the file is analysed sequentially.
///
/// Only the built-in `spectral` encoder is split (others run sequentially: an ONNX session per
/// thread is heavy and ONNX Runtime has threads of its own); short files run sequentially.
pub fn encode_file_segments_parallel(
    perception: &mut Perception,
    samples: &[f32],
    rate_hz: u32,
    threads: usize,
) -> Result<Vec<SegmentFrames>> {
    if threads >= 2 && perception.encoder_id() == SPECTRAL_ID {
        if let Some(segments) = encode_split(perception, samples, rate_hz, threads)? {
            return Ok(segments);
        }
    }
    perception.encode_file_segments(samples, rate_hz)
}

/// The split analysis of [`encode_file_segments_parallel`]; `None` when the file is too short
/// to split or a check failed (the caller then runs the sequential analysis).
fn encode_split(
    perception: &mut Perception,
    samples: &[f32],
    rate_hz: u32,
    threads: usize,
) -> Result<Option<Vec<SegmentFrames>>> {
    validate_rate(rate_hz)?;
    let grid = split_grid_samples(perception, rate_hz)?;
    let segment = perception.config().segment_samples(rate_hz).max(1);
    let warmup = ((SPLIT_WARMUP_S * rate_hz as f64) / grid as f64)
        .ceil()
        .max(1.0) as usize
        * grid;
    // Split points on the grid, each part at least a warm-up long.
    let parts = threads.min(samples.len() / warmup.max(1)).max(1);
    let mut splits: Vec<usize> = (1..parts)
        .map(|p| p * samples.len() / parts / grid * grid)
        .filter(|&s| s >= warmup)
        .collect();
    splits.dedup();
    if splits.is_empty() || samples.len() < perception.min_samples(rate_hz) {
        return Ok(None);
    }
    let check = SPLIT_CHECK_SEGMENTS * segment;
    let config = perception.config().clone();
    let salience = perception.pitch_salience();
    // Part p analyses [from, to): from the warm-up start (0 for part 0) to its end plus the
    // check segments; it keeps the segments from `keep_from`.
    let mut bounds: Vec<(usize, usize, usize)> = Vec::with_capacity(splits.len() + 1);
    for p in 0..=splits.len() {
        let keep_from = if p == 0 { 0 } else { splits[p - 1] };
        let from = keep_from.saturating_sub(if p == 0 { 0 } else { warmup });
        let to = splits
            .get(p)
            .map_or(samples.len(), |&s| s + check)
            .min(samples.len());
        bounds.push((from, keep_from, to));
    }
    let run = |p: &mut Perception, (from, keep_from, to): (usize, usize, usize)| {
        p.reset();
        let mut out = Vec::with_capacity((to - keep_from) / segment + 1);
        let mut start = from;
        while start < to {
            let end = (start + segment).min(samples.len());
            let mut seg = p.process_segment(&samples[start..end], rate_hz, start as u64)?;
            if start >= keep_from {
                seg.segment_idx = (start / segment) as u64;
                out.push(seg);
            }
            start = end;
        }
        Ok::<_, PerceptionError>(out)
    };
    let results: Vec<Result<Vec<SegmentFrames>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = bounds[1..]
            .iter()
            .map(|&b| {
                let config = config.clone();
                scope.spawn(move || {
                    let mut fresh = Perception::new(config)?;
                    fresh.set_pitch_salience(salience);
                    run(&mut fresh, b)
                })
            })
            .collect();
        let mut results = vec![run(perception, bounds[0])];
        results.extend(
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))),
        );
        results
    });
    let mut out: Vec<SegmentFrames> = Vec::new();
    for (p, part) in results.into_iter().enumerate() {
        let mut part = part?;
        if p > 0 {
            // The previous part's check segments must equal this part's first ones.
            let n_check =
                out.len() - out.partition_point(|s| (s.start_sample as usize) < bounds[p].1);
            let tail = out.split_off(out.len() - n_check);
            if part.len() < tail.len() || tail[..] != part[..tail.len()] {
                return Ok(None);
            }
            out.append(&mut part);
            continue;
        }
        out.append(&mut part);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perception::synth::render_music;
    use crate::perception::PerceptionConfig;

    /// Every float of every segment as bits, and the rest of each segment's fields.
    fn bits(segments: &[SegmentFrames]) -> Vec<String> {
        segments
            .iter()
            .map(|s| {
                let floats: Vec<u32> = s
                    .harmonic
                    .iter()
                    .chain(&s.percussive)
                    .map(|v| v.to_bits())
                    .collect();
                format!(
                    "{} {} {} {} {} {:?} {:?}",
                    s.segment_idx,
                    s.start_sample,
                    s.first_frame_idx,
                    s.n_frames,
                    s.dim,
                    floats,
                    s.payload
                )
            })
            .collect()
    }

    #[test]
    fn split_analysis_equals_sequential_bit_for_bit() {
        for rate in [44_100u32, 48_000, 24_000, 22_050] {
            let mut perception = Perception::new(PerceptionConfig::default()).unwrap();
            let grid = split_grid_samples(&perception, rate).unwrap();
            // Shorter than the warm-up, just over two grids and warm-ups, longer and odd; one
            // thread (never split) and more threads than the file has warm-ups for (the parts
            // are capped).
            for (seconds, threads) in [
                (0.5f32, 2usize),
                (3.1, 2),
                (9.73, 3),
                (9.73, 2),
                (9.73, 1),
                (9.73, 8),
            ] {
                let audio = render_music(seconds, rate, 11);
                let sequential = perception.encode_file_segments(&audio, rate).unwrap();
                let split = encode_split(&mut perception, &audio, rate, threads).unwrap();
                let warmup = (rate as usize).div_ceil(grid) * grid;
                let long = audio.len() >= 2 * warmup;
                assert_eq!(
                    split.is_some(),
                    long && threads >= 2,
                    "{rate} Hz, {seconds} s, {threads} threads: split only when long"
                );
                let parallel =
                    encode_file_segments_parallel(&mut perception, &audio, rate, threads).unwrap();
                assert_eq!(
                    bits(&parallel),
                    bits(&sequential),
                    "{rate} Hz, {seconds} s, {threads} threads"
                );
            }
        }
    }

    #[test]
    fn split_grid_aligns_segments_resampler_and_hops() {
        let perception = Perception::new(PerceptionConfig::default()).unwrap();
        // 44.1 kHz: segment 15435, resampler 882, hop 588 host samples -> 4 segments.
        assert_eq!(split_grid_samples(&perception, 44_100).unwrap(), 61_740);
        assert_eq!(split_grid_samples(&perception, 48_000).unwrap(), 67_200);
        assert_eq!(split_grid_samples(&perception, 24_000).unwrap(), 33_600);
    }
}
