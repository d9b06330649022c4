//! Audio -> worker hand-off of the mono input, assembled into 350 ms segments.
//!
//! The audio thread ([`SegmentWriter`]) mono-sums each block into a staging chunk of
//! [`CHUNK_LEN`] samples and pushes full chunks into a wait-free SPSC ring (`rtrb`). Every
//! chunk carries the absolute sample index of its first sample, taken from the writer's
//! sample clock, which advances by every block whether or not its samples reach the ring.
//! When the ring is full the chunk is dropped and its samples counted; nothing ever waits.
//!
//! The worker ([`SegmentAssembler`]) pops chunks and cuts them into segments on a fixed grid:
//! segment `k` covers samples `[k L, (k + 1) L)` with `L = round(0.35 fs)`. A chunk whose start
//! is not the sample expected next reveals a gap; **every segment touched by a gap is
//! discarded and counted** (never spliced and never padded), and assembly resumes at the
//! next grid boundary. The fixed grid means the live path cuts audio exactly where the
//! offline/training path cuts the same stream.
//!
//! Analysis wanted or not: the audio thread says per block whether anything needs the input
//! analysed ([`SegmentWriter::set_analysis`]; the plugin: Listen or Live Learning on). Every
//! chunk carries that flag (off if it was off for any of its samples) and a segment is marked
//! for analysis only if all of its chunks were ([`Segment::analyse`]), so the worker skips the
//! rest, and whether a segment is analysed depends only on the audio thread's blocks, never
//! on when the worker gets to it.
//!
//! Sample-rate changes: create a new pair with [`segment_channel`] (allocates; not real-time,
//! call it from `initialize()` and hand the assembler to the worker).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::limits::{sample_rate_ok, segment_len, MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ};

/// Samples per ring message. 64 keeps the per-message overhead small while adding at most
/// 1.3 ms (at 48 kHz) of latency to a 350 ms segment.
pub const CHUNK_LEN: usize = 64;
/// Largest ring accepted, seconds of audio.
pub const MAX_RING_SECONDS: f64 = 60.0;

/// Errors of [`segment_channel`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SegmentError {
    #[error("sample rate {sample_rate_hz} Hz is outside {min_hz}..={max_hz} Hz")]
    InvalidSampleRate {
        sample_rate_hz: f64,
        min_hz: u32,
        max_hz: u32,
    },
    #[error("ring of {ring_seconds} s is not in (0, {max_seconds}] s")]
    InvalidRingSize { ring_seconds: f64, max_seconds: f64 },
}

/// One ring message: `len` samples (all of them except maybe after [`SegmentWriter::flush`])
/// starting at absolute sample `start_sample`.
#[derive(Clone, Copy, Debug)]
pub struct Chunk {
    pub start_sample: u64,
    pub len: u32,
    /// Analysis was wanted for every sample of the chunk.
    pub analyse: bool,
    pub samples: [f32; CHUNK_LEN],
}

impl Default for Chunk {
    fn default() -> Self {
        Chunk {
            start_sample: 0,
            len: 0,
            analyse: true,
            samples: [0.0; CHUNK_LEN],
        }
    }
}

/// A 350 ms stretch of mono input with no gap, and the absolute index of its first sample on
/// the writer's sample clock (the same clock the MIDI scheduler uses).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Segment {
    pub start_sample: u64,
    pub samples: Vec<f32>,
    /// Analysis was wanted for every sample of the segment (see the module docs).
    pub analyse: bool,
}

/// Counters shared by both ends; read by anyone (telemetry), written with relaxed atomics.
#[derive(Debug, Default)]
pub struct SegmentCounters {
    /// Segments handed to the worker complete.
    pub segments_delivered: AtomicU64,
    /// Segments discarded because they contained dropped samples.
    pub segments_dropped: AtomicU64,
    /// Samples the audio thread could not push because the ring was full.
    pub samples_dropped: AtomicU64,
    /// Non-finite input samples replaced by 0 before they reached the ring.
    pub samples_sanitized: AtomicU64,
    /// First sample + 1 of the chunk holding the first onset the writer detected in the latest
    /// segment that had one (0: none yet); see [`OnsetDetector`].
    pub last_onset: AtomicU64,
}

/// A transient detector on the audio thread, one decision per [`CHUNK_LEN`] chunk: an onset is
/// a chunk whose mean power is [`ONSET_RATIO`] times the slow power envelope (time constant
/// 100 ms) and above -50 dBFS, at least 50 ms after the previous onset. Plain arithmetic on
/// the chunk the writer already holds: no allocation.
#[derive(Clone, Debug)]
pub struct OnsetDetector {
    slow: f32,
    alpha: f32,
    refractory: u64,
    last: Option<u64>,
}

/// Power ratio over the slow envelope that makes an onset (+9 dB).
pub const ONSET_RATIO: f32 = 8.0;
/// Power floor of an onset (-50 dBFS mean square).
pub const ONSET_FLOOR: f32 = 1e-5;

impl OnsetDetector {
    /// A detector for `sample_rate_hz`.
    pub fn new(sample_rate_hz: f64) -> Self {
        let chunks_per_tau = 0.1 * sample_rate_hz / CHUNK_LEN as f64;
        Self {
            slow: 0.0,
            alpha: (1.0 / chunks_per_tau.max(1.0)) as f32,
            refractory: (0.05 * sample_rate_hz) as u64,
            last: None,
        }
    }

    /// Feeds one chunk starting at `start`; true when it holds an onset.
    pub fn chunk(&mut self, start: u64, samples: &[f32]) -> bool {
        let power = samples.iter().map(|x| x * x).sum::<f32>() / samples.len().max(1) as f32;
        let onset = power > ONSET_FLOOR
            && power > ONSET_RATIO * self.slow
            && self.last.is_none_or(|l| start >= l + self.refractory);
        if onset {
            self.last = Some(start);
        }
        self.slow += self.alpha * (power - self.slow);
        onset
    }
}

/// A copy of [`SegmentCounters`] at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegmentStats {
    pub segments_delivered: u64,
    pub segments_dropped: u64,
    pub samples_dropped: u64,
    pub samples_sanitized: u64,
}

impl SegmentCounters {
    /// Snapshot of all counters.
    pub fn snapshot(&self) -> SegmentStats {
        SegmentStats {
            segments_delivered: self.segments_delivered.load(Ordering::Relaxed),
            segments_dropped: self.segments_dropped.load(Ordering::Relaxed),
            samples_dropped: self.samples_dropped.load(Ordering::Relaxed),
            samples_sanitized: self.samples_sanitized.load(Ordering::Relaxed),
        }
    }
}

/// Create a writer (audio thread) and assembler (worker) pair for `sample_rate_hz`, with a
/// ring holding `ring_seconds` of audio (2 s or more lets the worker miss a few deadlines
/// without drops). Allocates: not real-time.
pub fn segment_channel(
    sample_rate_hz: f64,
    ring_seconds: f64,
) -> Result<(SegmentWriter, SegmentAssembler), SegmentError> {
    if !sample_rate_ok(sample_rate_hz) {
        return Err(SegmentError::InvalidSampleRate {
            sample_rate_hz,
            min_hz: MIN_SAMPLE_RATE_HZ,
            max_hz: MAX_SAMPLE_RATE_HZ,
        });
    }
    if !(ring_seconds > 0.0 && ring_seconds <= MAX_RING_SECONDS) {
        return Err(SegmentError::InvalidRingSize {
            ring_seconds,
            max_seconds: MAX_RING_SECONDS,
        });
    }
    let capacity = ((ring_seconds * sample_rate_hz) / CHUNK_LEN as f64)
        .ceil()
        .max(1.0) as usize;
    let (producer, consumer) = rtrb::RingBuffer::<Chunk>::new(capacity);
    let counters = Arc::new(SegmentCounters::default());
    let seg_len = segment_len(sample_rate_hz);
    let writer = SegmentWriter {
        producer,
        staging: Chunk::default(),
        clock: 0,
        counters: counters.clone(),
        onsets: OnsetDetector::new(sample_rate_hz),
        seg_len: seg_len as u64,
        onset_segment: u64::MAX,
        analyse: true,
    };
    let assembler = SegmentAssembler {
        consumer,
        sample_rate_hz,
        segment: Segment {
            start_sample: 0,
            samples: Vec::with_capacity(seg_len),
            analyse: true,
        },
        seg_len,
        expected: 0,
        skip_until: 0,
        pending: None,
        counters,
    };
    Ok((writer, assembler))
}

/// Audio-thread end: mono-sums blocks and pushes them, never blocking.
pub struct SegmentWriter {
    producer: rtrb::Producer<Chunk>,
    /// Chunk being filled; `staging.len` samples valid, starting at `staging.start_sample`.
    staging: Chunk,
    /// Absolute index of the next sample the host will give us.
    clock: u64,
    counters: Arc<SegmentCounters>,
    onsets: OnsetDetector,
    /// Segment length on the shared grid, samples.
    seg_len: u64,
    /// Segment index whose first onset was published.
    onset_segment: u64,
    /// Whether the samples pushed now are wanted for analysis ([`Self::set_analysis`]).
    analyse: bool,
}

impl SegmentWriter {
    /// Absolute index of the next sample: the block start to use for the MIDI scheduler.
    pub fn clock(&self) -> u64 {
        self.clock
    }

    /// Shared counters (clone the `Arc` for telemetry).
    pub fn counters(&self) -> &Arc<SegmentCounters> {
        &self.counters
    }

    /// Whether the samples pushed from now on are wanted for analysis (on at creation). A
    /// chunk, and a segment, is marked for analysis only if it was on for all of its samples.
    /// Real-time safe: no alloc, no locks.
    pub fn set_analysis(&mut self, wanted: bool) {
        self.analyse = wanted;
    }

    /// Push one block of `channels` (each the same length; the shortest is used), averaged to
    /// mono. Non-finite samples become 0 (counted). Real-time safe: no alloc, no locks.
    pub fn push_block(&mut self, channels: &[&[f32]]) {
        let n = channels.iter().map(|c| c.len()).min().unwrap_or(0);
        if channels.is_empty() {
            return;
        }
        let scale = 1.0 / channels.len() as f32;
        let mut i = 0;
        while i < n {
            let fill = self.staging.len as usize;
            if fill == 0 {
                self.staging.start_sample = self.clock;
                self.staging.analyse = true;
            }
            self.staging.analyse &= self.analyse;
            let take = (CHUNK_LEN - fill).min(n - i);
            let mut bad = 0u64;
            for j in 0..take {
                let mut acc = 0.0f32;
                for ch in channels {
                    acc += ch[i + j];
                }
                let mut v = acc * scale;
                if !v.is_finite() {
                    v = 0.0;
                    bad += 1;
                }
                self.staging.samples[fill + j] = v;
            }
            if bad > 0 {
                self.counters
                    .samples_sanitized
                    .fetch_add(bad, Ordering::Relaxed);
            }
            self.staging.len += take as u32;
            self.clock += take as u64;
            i += take;
            if self.staging.len as usize == CHUNK_LEN {
                self.push_staging();
            }
        }
    }

    /// Push one mono block. Real-time safe: no alloc, no locks.
    pub fn push_mono(&mut self, samples: &[f32]) {
        self.push_block(&[samples]);
    }

    /// Advance the clock by `num_samples` without audio (e.g. the host skipped processing);
    /// the gap is treated like dropped samples. Real-time safe: no alloc, no locks.
    pub fn skip(&mut self, num_samples: u64) {
        if num_samples == 0 {
            return;
        }
        self.flush();
        self.clock += num_samples;
        self.counters
            .samples_dropped
            .fetch_add(num_samples, Ordering::Relaxed);
    }

    /// Push the partly filled staging chunk now (end of stream, tests). Real-time safe: no
    /// alloc, no locks.
    pub fn flush(&mut self) {
        if self.staging.len > 0 {
            self.push_staging();
        }
    }

    fn push_staging(&mut self) {
        let len = self.staging.len as u64;
        let start = self.staging.start_sample;
        let onset = self
            .onsets
            .chunk(start, &self.staging.samples[..len as usize]);
        // Only a segment's first onset is published: an early answer reacts to the first
        // transient after silence, not to whichever came last.
        if onset && start / self.seg_len != self.onset_segment {
            self.onset_segment = start / self.seg_len;
            self.counters.last_onset.store(start + 1, Ordering::Release);
        }
        if self.producer.push(self.staging).is_err() {
            self.counters
                .samples_dropped
                .fetch_add(len, Ordering::Relaxed);
        }
        self.staging.len = 0;
    }
}

/// Worker end: pops chunks and yields complete, gap-free segments.
pub struct SegmentAssembler {
    consumer: rtrb::Consumer<Chunk>,
    sample_rate_hz: f64,
    /// Segment being filled (its `Vec` is reused; capacity `seg_len`).
    segment: Segment,
    seg_len: usize,
    /// Absolute index of the sample expected next from the ring.
    expected: u64,
    /// Samples before this index are being skipped (rest of a segment hit by a gap).
    skip_until: u64,
    /// A chunk popped but not fully consumed (it straddled a segment boundary).
    pending: Option<(Chunk, usize)>,
    counters: Arc<SegmentCounters>,
}

impl SegmentAssembler {
    /// Segment length in samples.
    pub fn segment_len(&self) -> usize {
        self.seg_len
    }

    /// Sample rate the segments are at, Hz.
    pub fn sample_rate_hz(&self) -> f64 {
        self.sample_rate_hz
    }

    /// Shared counters.
    pub fn counters(&self) -> &Arc<SegmentCounters> {
        &self.counters
    }

    /// The segment being filled, when it has samples but is not complete: its first sample and
    /// the samples so far (what the ring had delivered by the last [`Self::next_segment`]).
    pub fn partial(&self) -> Option<(u64, &[f32])> {
        let n = self.segment.samples.len();
        (n > 0 && n < self.seg_len).then(|| (self.segment.start_sample, &self.segment.samples[..]))
    }

    /// Whether analysis was wanted for every sample of [`Self::partial`] so far.
    pub fn partial_wants_analysis(&self) -> bool {
        self.segment.analyse
    }

    /// The first onset of the latest segment that had one (first sample of its chunk).
    pub fn last_onset(&self) -> Option<u64> {
        self.counters
            .last_onset
            .load(Ordering::Acquire)
            .checked_sub(1)
    }

    /// Pop what the ring holds until a segment is complete; `Some` borrows it until the next
    /// call, `None` when the ring ran dry first. Worker thread; does not allocate after
    /// construction, never blocks.
    pub fn next_segment(&mut self) -> Option<&Segment> {
        if self.segment.samples.len() == self.seg_len {
            // Delivered by the previous call; the caller is done with it.
            self.segment.samples.clear();
        }
        loop {
            let (chunk, mut off) = match self.pending.take() {
                Some(p) => p,
                None => {
                    let c = self.consumer.pop().ok()?;
                    (c, 0)
                }
            };
            let chunk_start = chunk.start_sample + off as u64;
            if chunk_start != self.expected {
                self.on_gap(chunk_start);
            }
            let len = chunk.len as usize;
            while off < len {
                let pos = chunk.start_sample + off as u64;
                if pos < self.skip_until {
                    let n = ((self.skip_until - pos) as usize).min(len - off);
                    off += n;
                    self.expected += n as u64;
                    continue;
                }
                if self.segment.samples.is_empty() {
                    self.segment.start_sample = pos;
                    self.segment.analyse = true;
                }
                self.segment.analyse &= chunk.analyse;
                let room = self.seg_len - self.segment.samples.len();
                let n = room.min(len - off);
                self.segment
                    .samples
                    .extend_from_slice(&chunk.samples[off..off + n]);
                off += n;
                self.expected += n as u64;
                if self.segment.samples.len() == self.seg_len {
                    if off < len {
                        self.pending = Some((chunk, off));
                    }
                    self.counters
                        .segments_delivered
                        .fetch_add(1, Ordering::Relaxed);
                    return Some(&self.segment);
                }
            }
        }
    }

    /// Samples from `self.expected` up to `new_start` never arrived.
    fn on_gap(&mut self, new_start: u64) {
        let l = self.seg_len as u64;
        // First segment not yet counted as lost: the one holding `expected`, or, while the
        // rest of an already-counted segment is being skipped, the one after it.
        let first = if self.expected < self.skip_until {
            self.skip_until / l
        } else {
            self.expected / l
        };
        let new_seg = new_start / l;
        // Segments `first..new_seg` miss samples; so does `new_seg` unless the gap ends on
        // its boundary, in which case assembly resumes right there.
        let partial = !new_start.is_multiple_of(l);
        let mut lost = new_seg.saturating_sub(first);
        if partial && new_seg >= first {
            lost += 1;
        }
        let resume = if partial {
            (new_seg + 1) * l
        } else {
            new_start
        };
        self.skip_until = self.skip_until.max(resume);
        if lost > 0 {
            self.counters
                .segments_dropped
                .fetch_add(lost, Ordering::Relaxed);
        }
        self.segment.samples.clear();
        self.expected = new_start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ramp whose value encodes the absolute sample index (exact in f32 below 2^24).
    fn ramp(start: u64, n: usize) -> Vec<f32> {
        (0..n).map(|i| (start + i as u64) as f32).collect()
    }

    fn check_segment(seg: &Segment, seg_len: usize) {
        assert_eq!(seg.samples.len(), seg_len);
        assert_eq!(seg.start_sample % seg_len as u64, 0, "segment off the grid");
        for (i, v) in seg.samples.iter().enumerate() {
            assert_eq!(*v, (seg.start_sample + i as u64) as f32, "spliced at {i}");
        }
    }

    mod assembly {
        use super::*;

        #[test]
        fn segment_len_is_rounded_350_ms() {
            assert_eq!(segment_len(44_100.0), 15_435);
            assert_eq!(segment_len(48_000.0), 16_800);
            assert_eq!(segment_len(22_050.0), 7_718); // 7717.5 rounds up
        }

        #[test]
        fn continuous_stream_gives_contiguous_segments() {
            let (mut w, mut a) = segment_channel(8_000.0, 2.0).unwrap();
            let l = a.segment_len();
            let x = ramp(0, 3 * l + 10);
            for block in x.chunks(37) {
                w.push_mono(block);
            }
            w.flush();
            let mut starts = vec![];
            while let Some(seg) = a.next_segment() {
                check_segment(seg, l);
                starts.push(seg.start_sample);
            }
            assert_eq!(starts, vec![0, l as u64, 2 * l as u64]);
            assert_eq!(w.clock(), (3 * l + 10) as u64);
            let s = a.counters().snapshot();
            assert_eq!(
                (s.segments_delivered, s.segments_dropped, s.samples_dropped),
                (3, 0, 0)
            );
        }

        #[test]
        fn stereo_is_averaged_and_nan_sanitized() {
            let (mut w, mut a) = segment_channel(8_000.0, 2.0).unwrap();
            let l = a.segment_len();
            let left = vec![1.0f32; l];
            let mut right = vec![3.0f32; l];
            right[5] = f32::NAN;
            w.push_block(&[&left, &right]);
            w.flush();
            let seg = a.next_segment().unwrap();
            assert_eq!(seg.samples[0], 2.0);
            assert_eq!(seg.samples[5], 0.0);
            assert_eq!(a.counters().snapshot().samples_sanitized, 1);
        }
    }

    mod analysis_flag {
        use super::*;

        /// Analysis off for any sample of a segment marks the whole segment unwanted; the
        /// segments around it stay wanted, and the stream stays contiguous (nothing dropped).
        #[test]
        fn a_segment_is_analysed_only_if_wanted_for_all_of_it() {
            let (mut w, mut a) = segment_channel(8_000.0, 4.0).unwrap();
            let l = a.segment_len();
            let x = ramp(0, 5 * l);
            // Off from the middle of segment 1 to the middle of segment 3 (blocks of 37, so
            // the switches fall inside chunks).
            for (i, block) in x.chunks(37).enumerate() {
                let at = i * 37;
                w.set_analysis(!(l + l / 2..3 * l + l / 2).contains(&at));
                w.push_mono(block);
            }
            w.flush();
            let mut seen = vec![];
            while let Some(seg) = a.next_segment() {
                check_segment(seg, l);
                seen.push((seg.start_sample / l as u64, seg.analyse));
            }
            assert_eq!(
                seen,
                vec![(0, true), (1, false), (2, false), (3, false), (4, true)]
            );
            let s = a.counters().snapshot();
            assert_eq!((s.segments_dropped, s.samples_dropped), (0, 0));
        }

        #[test]
        fn the_partial_segment_reports_its_flag_so_far() {
            let (mut w, mut a) = segment_channel(8_000.0, 4.0).unwrap();
            let l = a.segment_len();
            w.push_mono(&ramp(0, l + 640));
            assert!(a.next_segment().is_some());
            assert!(a.next_segment().is_none());
            assert!(a.partial().is_some());
            assert!(a.partial_wants_analysis());
            w.set_analysis(false);
            w.push_mono(&ramp((l + 640) as u64, 64));
            assert!(a.next_segment().is_none());
            assert!(!a.partial_wants_analysis());
        }
    }

    mod gaps {
        use super::*;

        #[test]
        fn full_ring_drops_and_counts_and_never_splices() {
            // Ring of one chunk: the worker reads nothing while two chunks arrive.
            let (mut w, mut a) = segment_channel(8_000.0, CHUNK_LEN as f64 / 8_000.0).unwrap();
            let l = a.segment_len() as u64;
            let mut delivered = 0;
            let push = |w: &mut SegmentWriter, n: usize| {
                let c = w.clock();
                w.push_mono(&ramp(c, n));
            };
            push(&mut w, 2 * CHUNK_LEN); // second chunk dropped
            assert_eq!(w.counters().snapshot().samples_dropped, CHUNK_LEN as u64);
            // Now read as we go for four segments.
            while w.clock() < 5 * l {
                push(&mut w, CHUNK_LEN);
                while let Some(seg) = a.next_segment() {
                    check_segment(seg, l as usize);
                    assert!(seg.start_sample >= l, "segment 0 had a gap");
                    delivered += 1;
                }
            }
            let s = a.counters().snapshot();
            assert_eq!(s.segments_dropped, 1);
            assert_eq!(s.segments_delivered, delivered);
            assert!(delivered >= 3);
        }

        #[test]
        fn gap_spanning_segments_counts_each() {
            let (mut w, mut a) = segment_channel(8_000.0, 4.0).unwrap();
            let l = a.segment_len() as u64;
            w.push_mono(&ramp(0, 100));
            w.skip(3 * l); // lands mid-segment 3: segments 0, 1, 2, 3 lost
            w.push_mono(&ramp(100 + 3 * l, 2 * l as usize));
            w.flush();
            let seg = a.next_segment().unwrap();
            check_segment(seg, l as usize);
            assert_eq!(seg.start_sample, 4 * l);
            assert!(a.next_segment().is_none());
            assert_eq!(a.counters().snapshot().segments_dropped, 4);
        }

        #[test]
        fn gap_ending_on_boundary_keeps_next_segment() {
            let (mut w, mut a) = segment_channel(8_000.0, 4.0).unwrap();
            let l = a.segment_len() as u64;
            w.push_mono(&ramp(0, 100));
            w.skip(l - 100);
            w.push_mono(&ramp(l, l as usize));
            w.flush();
            let seg = a.next_segment().unwrap();
            check_segment(seg, l as usize);
            assert_eq!(seg.start_sample, l);
            assert_eq!(a.counters().snapshot().segments_dropped, 1);
        }

        #[test]
        fn second_gap_inside_a_skipped_segment_is_not_counted_twice() {
            let (mut w, mut a) = segment_channel(8_000.0, 4.0).unwrap();
            let l = a.segment_len() as u64;
            w.push_mono(&ramp(0, 128));
            w.skip(64); // segment 0 lost
            w.push_mono(&ramp(192, 128));
            w.skip(64); // still segment 0
            let rest = (2 * l - 384) as usize;
            w.push_mono(&ramp(384, rest));
            w.flush();
            let seg = a.next_segment().unwrap();
            check_segment(seg, l as usize);
            assert_eq!(seg.start_sample, l);
            assert_eq!(a.counters().snapshot().segments_dropped, 1);
        }
    }

    mod config {
        use super::*;

        #[test]
        fn rejects_bad_rates_and_sizes() {
            assert!(matches!(
                segment_channel(0.0, 1.0),
                Err(SegmentError::InvalidSampleRate { .. })
            ));
            assert!(matches!(
                segment_channel(48_000.0, 0.0),
                Err(SegmentError::InvalidRingSize { .. })
            ));
            assert!(segment_channel(48_000.0, f64::NAN).is_err());
        }

        #[test]
        fn ends_are_send() {
            fn assert_send<T: Send + 'static>() {}
            assert_send::<SegmentWriter>();
            assert_send::<SegmentAssembler>();
            assert_send::<Segment>();
        }
    }

    /// The onset detector against its documented constants, restated here: an onset is a
    /// 64-sample chunk whose mean power exceeds 8 times (+9 dB) a one-pole envelope of the
    /// chunk powers with a 100 ms time constant, and -50 dBFS (mean square 1e-5), at least
    /// 50 ms after the previous onset. Test signals are constant-magnitude chunks (alternating
    /// sign), so each chunk's power is exactly the square of its level.
    mod onsets {
        use super::*;

        const RATE: f64 = 48_000.0;
        /// Chunks per second at 48 kHz.
        const CHUNKS_PER_S: usize = 750;

        fn chunk(power: f32) -> [f32; CHUNK_LEN] {
            let a = power.sqrt();
            std::array::from_fn(|i| if i % 2 == 0 { a } else { -a })
        }

        /// Feeds `n` chunks of `power` from chunk index `*at`; the chunk indices that were
        /// onsets.
        fn feed(d: &mut OnsetDetector, at: &mut u64, n: usize, power: f32) -> Vec<u64> {
            let c = chunk(power);
            let mut hits = Vec::new();
            for _ in 0..n {
                if d.chunk(*at * CHUNK_LEN as u64, &c) {
                    hits.push(*at);
                }
                *at += 1;
            }
            hits
        }

        /// 1 s (ten time constants) of a steady -40 dBFS, so the envelope holds 1e-4 (to
        /// 5e-5 relative); the only onset is the first chunk, out of silence.
        fn settled() -> (OnsetDetector, u64) {
            let mut d = OnsetDetector::new(RATE);
            let mut at = 0;
            assert_eq!(feed(&mut d, &mut at, CHUNKS_PER_S, 1e-4), [0]);
            (d, at)
        }

        #[test]
        fn an_onset_is_more_than_eight_times_the_envelope() {
            for (ratio, onset) in [(8.1f32, true), (7.9, false), (4.0, false), (100.0, true)] {
                let (mut d, mut at) = settled();
                let hits = feed(&mut d, &mut at, 1, ratio * 1e-4);
                assert_eq!(!hits.is_empty(), onset, "{ratio} x the envelope");
            }
        }

        #[test]
        fn the_envelope_decays_with_a_100_ms_time_constant() {
            // After 100 ms of silence the envelope is 1e-4 / e, so the threshold is 8 / e =
            // 2.94 times the old level (2.92 with the per-chunk discretisation): 3.1 x is an
            // onset, 2.8 x is not. A 50 ms or 200 ms constant would give 1.08 x or 4.85 x.
            for (ratio, onset) in [(3.1f32, true), (2.8, false)] {
                let (mut d, mut at) = settled();
                assert!(feed(&mut d, &mut at, CHUNKS_PER_S / 10, 0.0).is_empty());
                let hits = feed(&mut d, &mut at, 1, ratio * 1e-4);
                assert_eq!(!hits.is_empty(), onset, "{ratio} x after 100 ms of silence");
            }
        }

        #[test]
        fn onsets_are_at_least_50_ms_apart() {
            // Bursts of -20 dBFS (100 x the envelope, far above it even after a burst) 37, 38
            // and 39 chunks apart: 49.3 ms (suppressed), 50.7 ms and 52 ms (both heard).
            for (gap_chunks, both) in [(37usize, false), (38, true), (39, true), (30, false)] {
                let (mut d, mut at) = settled();
                let first = feed(&mut d, &mut at, 1, 1e-2);
                assert_eq!(first.len(), 1);
                assert!(feed(&mut d, &mut at, gap_chunks - 1, 1e-4).is_empty());
                let second = feed(&mut d, &mut at, 1, 1e-2);
                let ms = (gap_chunks * CHUNK_LEN) as f64 / RATE * 1e3;
                assert_eq!(
                    second.len() == 1,
                    both,
                    "second burst {ms:.1} ms after the first"
                );
            }
            // The same 50 ms at 96 kHz: twice the samples.
            let mut d = OnsetDetector::new(2.0 * RATE);
            assert!(d.chunk(0, &chunk(1e-2)));
            assert!(
                !d.chunk(74 * CHUNK_LEN as u64, &chunk(1.0)),
                "49.3 ms at 96 kHz"
            );
            assert!(
                d.chunk(76 * CHUNK_LEN as u64, &chunk(1.0)),
                "50.7 ms at 96 kHz"
            );
        }

        #[test]
        fn nothing_below_minus_50_dbfs_is_an_onset() {
            for (power, onset) in [(0.9e-5f32, false), (1.1e-5, true)] {
                let mut d = OnsetDetector::new(RATE);
                let mut at = 0;
                assert!(feed(&mut d, &mut at, CHUNKS_PER_S, 0.0).is_empty());
                let hits = feed(&mut d, &mut at, 1, power);
                assert_eq!(!hits.is_empty(), onset, "mean square {power} after silence");
            }
        }
    }
}
