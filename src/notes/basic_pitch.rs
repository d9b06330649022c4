//! Basic Pitch notes: whole-recording posteriors and basic-pitch 0.4.0's note creation, in Rust.
//!
//! Two steps, each matching the Python reference (`basic-pitch==0.4.0`, ONNX backend):
//!
//! 1. [`reference_posteriors`]: the network over a whole recording as `run_inference` windows
//!    and stitches it: mono 22,050 Hz audio, 3,840 zeros (15 frames) put in front, windows of
//!    43,844 samples every 36,164 (the last one zero-filled at its end), the first and last 15
//!    of each window's 172 frames dropped, the rest concatenated and cut to
//!    `floor(L * (86 / 22050))` frames. (The live path, [`BasicPitch::posteriors`], steps its
//!    windows by exactly 142 frames instead; the reference's step of 141.27 frames is why its
//!    frame times need the correction in [`frame_time_s`].) Other rates are resampled to
//!    22,050 Hz with the project's rubato resampler; basic-pitch uses soxr's `soxr_hq`, so at
//!    other rates the posteriors differ slightly and parity is judged on the notes.
//! 2. [`decode_notes`]: `output_to_notes_polyphonic` as basic-pitch's `predict()` calls it, with
//!    [`NoteCreationParams::default`] = its defaults: inferred onsets, peak picking along time,
//!    onset-driven tracking in reverse time order with an energy tolerance of 11 frames, the
//!    "melodia trick" pass over the remaining energy, notes of at least 12 frames, the time of
//!    a frame by the reference's formula. Pitch bends are not computed (they never change a
//!    note's start, end, pitch or amplitude).
//!
//! Exactness: every comparison is made in f64 on f32 posteriors widened exactly, as numpy does
//! (`0.3f32 > 0.3` is true, and that decides notes); the amplitude is numpy's f32 pairwise mean.
//! With the same posteriors the notes are the reference's bit for bit: same order, frames,
//! pitches, f32 amplitudes and f64 times (`tests/notes_basic_pitch.rs` on committed fixtures).
//!
//! Not real time: allocates, and the posteriors take an inference per 1.64 s of audio.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::NoteEvent;
use crate::perception::basic_pitch::{
    resample_to_model_rate, BasicPitch, BasicPitchError, Posteriors, HOP_SAMPLES, LOWEST_NOTE,
    NUM_CONTOUR_BINS, NUM_NOTES, SAMPLE_RATE_HZ, TRIM_FRAMES, WINDOW_FRAMES, WINDOW_SAMPLES,
};

/// basic-pitch's `ANNOTATIONS_FPS`: `22050 // 256`, an integer (the true rate is 86.13).
pub const REFERENCE_FPS: u32 = 86;
/// Zeros put before the audio: half the 30-frame window overlap, 15 * 256 samples.
pub const FRONT_PAD_SAMPLES: usize = TRIM_FRAMES * HOP_SAMPLES;
/// Samples between the starts of the reference's windows: 43,844 - 30 * 256.
pub const REFERENCE_HOP_SAMPLES: usize = WINDOW_SAMPLES - 2 * FRONT_PAD_SAMPLES;
/// Frames kept of each window.
pub const REFERENCE_KEPT_FRAMES: usize = WINDOW_FRAMES - 2 * TRIM_FRAMES;
/// The reference's per-window time correction (`model_frames_to_time`), seconds:
/// `(256 / 22050) * (172 - 43844 / 256) + 0.0018`, its "magic" 0.0018 included.
pub const WINDOW_TIME_OFFSET_S: f64 = (HOP_SAMPLES as f64 / SAMPLE_RATE_HZ as f64)
    * (WINDOW_FRAMES as f64 - WINDOW_SAMPLES as f64 / HOP_SAMPLES as f64)
    + 0.0018;
/// Highest pitch bin (MIDI 108).
const MAX_BIN: usize = NUM_NOTES - 1;

/// The note-creation settings of basic-pitch's `predict()`; [`Default`] is its defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoteCreationParams {
    /// Onset posterior a peak needs to start a note (`onset_threshold`, 0.5).
    pub onset_threshold: f64,
    /// Note posterior that keeps a note sounding (`frame_threshold`, 0.3).
    pub frame_threshold: f64,
    /// Shortest note, ms (`minimum_note_length`, 127.70); see
    /// [`Self::min_note_len_frames`].
    pub minimum_note_length_ms: f64,
    /// Add onsets where the note posteriors jump (`infer_onsets`, on).
    pub infer_onsets: bool,
    /// Second pass that makes notes from the energy no onset claimed (`melodia_trick`, on).
    pub melodia_trick: bool,
    /// Pitches below this frequency are cleared (`minimum_frequency`, none).
    pub minimum_frequency_hz: Option<f64>,
    /// Pitches from this frequency up are cleared (`maximum_frequency`, none).
    pub maximum_frequency_hz: Option<f64>,
    /// Frames below `frame_threshold` a note may bridge before it ends (`energy_tol`, 11).
    pub energy_tolerance: usize,
}

impl Default for NoteCreationParams {
    fn default() -> Self {
        Self {
            onset_threshold: 0.5,
            frame_threshold: 0.3,
            minimum_note_length_ms: 127.70,
            infer_onsets: true,
            melodia_trick: true,
            minimum_frequency_hz: None,
            maximum_frequency_hz: None,
            energy_tolerance: 11,
        }
    }
}

impl NoteCreationParams {
    /// `minimum_note_length_ms` in frames, as `predict()` converts it:
    /// `round(ms / 1000 * (22050 / 256))`, ties to even (11 for the default 127.70 ms). A note
    /// needs more frames than this.
    pub fn min_note_len_frames(&self) -> usize {
        let frames = (self.minimum_note_length_ms / 1000.0
            * (SAMPLE_RATE_HZ as f64 / HOP_SAMPLES as f64))
            .round_ties_even();
        // Negative lengths mean "no minimum"; `as` saturates them to 0.
        frames as usize
    }

    fn check(&self) -> Result<(), NoteCreationError> {
        let bad =
            |name: &'static str, value: f64| NoteCreationError::InvalidParameter { name, value };
        if !self.onset_threshold.is_finite() {
            return Err(bad("onset_threshold", self.onset_threshold));
        }
        // The reference's melodia loop never ends below 0 (zeros stay above the threshold).
        if !(self.frame_threshold.is_finite() && self.frame_threshold >= 0.0) {
            return Err(bad("frame_threshold", self.frame_threshold));
        }
        if !self.minimum_note_length_ms.is_finite() {
            return Err(bad("minimum_note_length_ms", self.minimum_note_length_ms));
        }
        for (name, f) in [
            ("minimum_frequency_hz", self.minimum_frequency_hz),
            ("maximum_frequency_hz", self.maximum_frequency_hz),
        ] {
            if let Some(hz) = f {
                if !(hz.is_finite() && hz > 0.0) {
                    return Err(bad(name, hz));
                }
            }
        }
        Ok(())
    }
}

/// Why notes could not be made from posteriors.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NoteCreationError {
    /// An array's length is not `n_frames * 88`.
    #[error("{what} posteriors hold {actual} values, expected {expected} ({n_frames} frames x 88 notes); pass the note and onset arrays of one recording")]
    ShapeMismatch {
        what: &'static str,
        n_frames: usize,
        expected: usize,
        actual: usize,
    },
    /// A posterior is NaN or infinite.
    #[error("{what} posterior at frame {frame}, note bin {bin} is {value}, not a finite number; the model output is corrupt")]
    NonFinite {
        what: &'static str,
        frame: usize,
        bin: usize,
        value: f32,
    },
    /// A setting is out of range.
    #[error("note creation setting {name} = {value} is out of range: thresholds must be finite (frame_threshold >= 0), frequencies positive")]
    InvalidParameter { name: &'static str, value: f64 },
}

/// A note in frames, as `output_to_notes_polyphonic` returns it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameNote {
    /// First frame.
    pub start_frame: usize,
    /// End frame (exclusive in the amplitude mean; the note's end time is this frame's time).
    pub end_frame: usize,
    /// MIDI note, 21..=108.
    pub pitch: u8,
    /// numpy's f32 mean of the note posteriors over `start_frame..end_frame`.
    pub amplitude: f32,
}

impl FrameNote {
    /// Start in seconds ([`frame_time_s`]).
    pub fn start_s(&self) -> f64 {
        frame_time_s(self.start_frame)
    }

    /// End in seconds ([`frame_time_s`]).
    pub fn end_s(&self) -> f64 {
        frame_time_s(self.end_frame)
    }

    /// MIDI velocity as basic-pitch writes it ([`velocity_from_amplitude`]).
    pub fn velocity(&self) -> u8 {
        velocity_from_amplitude(self.amplitude)
    }

    /// The note in seconds, for the corpus.
    pub fn to_event(&self) -> NoteEvent {
        NoteEvent {
            onset_s: self.start_s(),
            offset_s: self.end_s(),
            pitch: self.pitch,
            velocity: self.velocity(),
        }
    }
}

/// Seconds of posterior frame `n`, as basic-pitch's `model_frames_to_time` gives them:
/// `n * 256 / 22050 - WINDOW_TIME_OFFSET_S * floor(n / 172)`, in this order of f64 operations
/// (bit-exact with the reference).
///
/// The correction counts windows of 172 frames although each window contributes 142, so these
/// times carry a sawtooth error of -8.3 to +10.5 ms against the frames' true positions; it is
/// kept because the reference's notes carry it.
pub fn frame_time_s(n: usize) -> f64 {
    (n * HOP_SAMPLES) as f64 / SAMPLE_RATE_HZ as f64
        - WINDOW_TIME_OFFSET_S * (n / WINDOW_FRAMES) as f64
}

/// MIDI velocity of an amplitude as basic-pitch writes it, `int(np.round(127 * amplitude))`:
/// the product in f32, rounded half to even. Clamped to 1..=127: the reference would write 0
/// (a note off) for amplitudes below 0.5 / 127, which a note kept above the default thresholds
/// cannot have.
pub fn velocity_from_amplitude(amplitude: f32) -> u8 {
    let v = (127.0f32 * amplitude).round_ties_even();
    if v.is_nan() {
        1
    } else {
        v.clamp(1.0, 127.0) as u8
    }
}

/// Number of stitched frames for `len` samples at 22,050 Hz:
/// `int(np.floor(len * (86 / 22050)))`, computed as the reference does.
pub fn reference_frame_count(len: usize) -> usize {
    (len as f64 * (REFERENCE_FPS as f64 / SAMPLE_RATE_HZ as f64)).floor() as usize
}

/// Number of model windows the reference runs for `len` samples: `ceil((len + 3840) / 36164)`.
pub fn reference_window_count(len: usize) -> usize {
    (len + FRONT_PAD_SAMPLES).div_ceil(REFERENCE_HOP_SAMPLES)
}

/// Whole-recording posteriors of mono 22,050 Hz audio, windowed and stitched as basic-pitch's
/// `run_inference` does (module docs). `n_frames` is [`reference_frame_count`]; frame `n` is
/// timed by [`frame_time_s`]. Windows whose kept frames all fall past the cut are not run.
/// Non-finite samples count as silence.
pub fn reference_posteriors(
    model: &mut BasicPitch,
    audio_22050: &[f32],
) -> Result<Posteriors, BasicPitchError> {
    let n_frames = reference_frame_count(audio_22050.len());
    let mut out = Posteriors {
        n_frames,
        notes: vec![0.0; n_frames * NUM_NOTES],
        onsets: vec![0.0; n_frames * NUM_NOTES],
        contour: vec![0.0; n_frames * NUM_CONTOUR_BINS],
    };
    let mut window = vec![0.0f32; WINDOW_SAMPLES];
    let mut frame = 0;
    let mut start = 0usize; // in the padded signal: sample `start + s` is audio[start + s - pad]
    while frame < n_frames {
        for (s, x) in window.iter_mut().enumerate() {
            *x = (start + s)
                .checked_sub(FRONT_PAD_SAMPLES)
                .and_then(|i| audio_22050.get(i))
                .copied()
                .unwrap_or(0.0);
        }
        // A full-length slice goes into the network as it is (no lead-in zeros).
        let post = model.posteriors_window(&window)?;
        let n = REFERENCE_KEPT_FRAMES.min(n_frames - frame);
        for (dest, src, width) in [
            (&mut out.notes, &post.notes, NUM_NOTES),
            (&mut out.onsets, &post.onsets, NUM_NOTES),
            (&mut out.contour, &post.contour, NUM_CONTOUR_BINS),
        ] {
            dest[frame * width..(frame + n) * width]
                .copy_from_slice(&src[TRIM_FRAMES * width..(TRIM_FRAMES + n) * width]);
        }
        frame += n;
        start += REFERENCE_HOP_SAMPLES;
    }
    Ok(out)
}

/// [`reference_posteriors`] of mono audio at `rate_hz`, resampled to 22,050 Hz first with the
/// project's rubato resampler ([`resample_to_model_rate`]; a copy when already at 22,050 Hz).
pub fn reference_posteriors_at_rate(
    model: &mut BasicPitch,
    audio: &[f32],
    rate_hz: u32,
) -> Result<Posteriors, BasicPitchError> {
    if rate_hz == SAMPLE_RATE_HZ {
        return reference_posteriors(model, audio);
    }
    let resampled = resample_to_model_rate(audio, rate_hz)?;
    reference_posteriors(model, &resampled)
}

/// Why a recording could not be transcribed.
#[derive(Debug, thiserror::Error)]
pub enum TranscribeError {
    /// The model could not run (or the audio could not be resampled).
    #[error(transparent)]
    Model(#[from] BasicPitchError),
    /// The posteriors could not be decoded.
    #[error(transparent)]
    Notes(#[from] NoteCreationError),
}

/// Basic Pitch notes of a whole recording (mono, any supported rate): [`reference_posteriors`]
/// then [`decode_notes`]. Notes in the reference's order (see [`decode_notes`]).
pub fn transcribe(
    model: &mut BasicPitch,
    audio: &[f32],
    rate_hz: u32,
    params: &NoteCreationParams,
) -> Result<Vec<FrameNote>, TranscribeError> {
    let post = reference_posteriors_at_rate(model, audio, rate_hz)?;
    Ok(decode_notes(
        &post.notes,
        &post.onsets,
        post.n_frames,
        params,
    )?)
}

/// `f32` posteriors widened to f64 and checked.
fn widen(
    what: &'static str,
    values: &[f32],
    n_frames: usize,
) -> Result<Vec<f64>, NoteCreationError> {
    let expected = n_frames * NUM_NOTES;
    if values.len() != expected {
        return Err(NoteCreationError::ShapeMismatch {
            what,
            n_frames,
            expected,
            actual: values.len(),
        });
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(NoteCreationError::NonFinite {
            what,
            frame: i / NUM_NOTES,
            bin: i % NUM_NOTES,
            value: values[i],
        });
    }
    Ok(values.iter().map(|&v| f64::from(v)).collect())
}

/// Start of the Python slice `[idx:]` over `len` items (negative counts from the end).
fn py_slice_index(idx: i64, len: usize) -> usize {
    if idx < 0 {
        (len as i64 + idx).max(0) as usize
    } else {
        (idx as usize).min(len)
    }
}

/// `int(np.round(librosa.hz_to_midi(hz) - 21))`.
fn pitch_bin_of_hz(hz: f64) -> i64 {
    (12.0 * (hz.log2() - 440f64.log2()) + 69.0 - f64::from(LOWEST_NOTE)).round_ties_even() as i64
}

/// numpy's `add.reduce` of an f32 run: pairwise, 8 accumulators, blocks of at most 128.
fn f32_pairwise_sum(x: &[f32]) -> f32 {
    let n = x.len();
    if n < 8 {
        let mut r = 0.0f32;
        for &v in x {
            r += v;
        }
        r
    } else if n <= 128 {
        let mut r = [0.0f32; 8];
        r.copy_from_slice(&x[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for (j, acc) in r.iter_mut().enumerate() {
                *acc += x[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &x[i..] {
            res += v;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        f32_pairwise_sum(&x[..n2]) + f32_pairwise_sum(&x[n2..])
    }
}

/// `np.mean` of an f32 column: the pairwise sum divided by `n`, in f32.
fn f32_mean(x: &[f32]) -> f32 {
    f32_pairwise_sum(x) / x.len() as f32
}

/// A melodia candidate: larger value first, then earlier frame, then lower bin (numpy's
/// `argmax` takes the first maximum in row-major order).
#[derive(PartialEq)]
struct Peak {
    value: f64,
    index: usize,
}

impl Eq for Peak {}

impl Ord for Peak {
    fn cmp(&self, other: &Self) -> Ordering {
        self.value
            .total_cmp(&other.value)
            .then(other.index.cmp(&self.index))
    }
}

impl PartialOrd for Peak {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Notes from note and onset posteriors (`[n_frames, 88]` row-major each, bin 0 = MIDI 21),
/// exactly as basic-pitch 0.4.0's `output_to_notes_polyphonic` makes them (module docs).
///
/// Order as the reference's: first the onset-driven notes, latest onset first (and at one
/// frame the higher pitch first), then the melodia notes in the order they were found
/// (strongest remaining energy first). Sort with [`super::sort_notes`] after
/// [`FrameNote::to_event`] for a canonical order.
///
/// Differences from the reference, all outside what it can produce: no frames give no notes
/// (it raises), non-finite posteriors and out-of-range settings are errors (it would return
/// NaN-driven results or loop forever).
pub fn decode_notes(
    notes: &[f32],
    onsets: &[f32],
    n_frames: usize,
    params: &NoteCreationParams,
) -> Result<Vec<FrameNote>, NoteCreationError> {
    params.check()?;
    let mut frames = widen("note", notes, n_frames)?;
    let mut onset = widen("onset", onsets, n_frames)?;
    let t_len = n_frames;
    if t_len == 0 {
        return Ok(Vec::new());
    }
    // The f32 note posteriors the amplitudes are averaged from (cleared like `frames`).
    let mut frames32 = notes.to_vec();

    // constrain_frequency: max first, then min, both as Python slices.
    let mut clear = |cols: std::ops::Range<usize>| {
        for t in 0..t_len {
            for f in cols.clone() {
                let i = t * NUM_NOTES + f;
                frames[i] = 0.0;
                onset[i] = 0.0;
                frames32[i] = 0.0;
            }
        }
    };
    if let Some(hz) = params.maximum_frequency_hz {
        clear(py_slice_index(pitch_bin_of_hz(hz), NUM_NOTES)..NUM_NOTES);
    }
    if let Some(hz) = params.minimum_frequency_hz {
        clear(0..py_slice_index(pitch_bin_of_hz(hz), NUM_NOTES));
    }

    if params.infer_onsets {
        infer_onsets(&mut onset, &frames, t_len);
    }

    // Peak picking along time (argrelmax, order 1, mode 'clip': the end frames never qualify),
    // then the reference's reversed row-major order: latest frame first, high pitch first.
    let mut candidates = Vec::new();
    for t in 1..t_len.saturating_sub(1) {
        for f in 0..NUM_NOTES {
            let v = onset[t * NUM_NOTES + f];
            if v > onset[(t - 1) * NUM_NOTES + f]
                && v > onset[(t + 1) * NUM_NOTES + f]
                && v >= params.onset_threshold
            {
                candidates.push((t, f));
            }
        }
    }
    candidates.reverse();

    let min_len = params.min_note_len_frames();
    let tol = params.energy_tolerance;
    let thresh = params.frame_threshold;
    let mut energy = frames;
    let mut out = Vec::new();
    let zero3 = |energy: &mut [f64], t: usize, f: usize| {
        let row = t * NUM_NOTES;
        energy[row + f] = 0.0;
        if f < MAX_BIN {
            energy[row + f + 1] = 0.0;
        }
        if f > 0 {
            energy[row + f - 1] = 0.0;
        }
    };
    let emit = |out: &mut Vec<FrameNote>, s: usize, e: usize, f: usize| {
        let column: Vec<f32> = (s..e).map(|t| frames32[t * NUM_NOTES + f]).collect();
        out.push(FrameNote {
            start_frame: s,
            end_frame: e,
            pitch: LOWEST_NOTE + f as u8,
            amplitude: f32_mean(&column),
        });
    };

    // Onset-driven tracking.
    for (s, f) in candidates {
        if s >= t_len - 1 {
            continue;
        }
        let mut i = s + 1;
        let mut k = 0;
        while i < t_len - 1 && k < tol {
            if energy[i * NUM_NOTES + f] < thresh {
                k += 1;
            } else {
                k = 0;
            }
            i += 1;
        }
        let e = i - k;
        if e - s <= min_len {
            continue;
        }
        for t in s..e {
            zero3(&mut energy, t, f);
        }
        emit(&mut out, s, e, f);
    }

    if params.melodia_trick {
        // Energy only ever drops to 0, so a lazy max-heap gives numpy's argmax each time:
        // entries whose value has changed since they were pushed are stale and skipped.
        let mut heap: BinaryHeap<Peak> = energy
            .iter()
            .enumerate()
            .filter(|&(_, &value)| value > thresh)
            .map(|(index, &value)| Peak { value, index })
            .collect();
        while let Some(Peak { value, index }) = heap.pop() {
            if energy[index] != value {
                continue;
            }
            let (m, f) = (index / NUM_NOTES, index % NUM_NOTES);
            energy[index] = 0.0;

            let mut i = m + 1;
            let mut k = 0;
            while i < t_len - 1 && k < tol {
                if energy[i * NUM_NOTES + f] < thresh {
                    k += 1;
                } else {
                    k = 0;
                }
                zero3(&mut energy, i, f);
                i += 1;
            }
            // `i - 1 - k` in the reference; `i > m` here, so only the sum can go below 0 and
            // `k <= i - 1 - m` keeps it at `m` or above.
            let e = i - 1 - k;

            let mut i = m as isize - 1;
            let mut k = 0isize;
            while i > 0 && (k as usize) < tol {
                if energy[i as usize * NUM_NOTES + f] < thresh {
                    k += 1;
                } else {
                    k = 0;
                }
                zero3(&mut energy, i as usize, f);
                i -= 1;
            }
            let s = (i + 1 + k) as usize;

            if e <= s || e - s <= min_len {
                continue;
            }
            emit(&mut out, s, e, f);
        }
    }
    Ok(out)
}

/// `get_infered_onsets(onsets, frames, n_diff=2)` in f64: the onsets become the larger of
/// themselves and the rise of the note posteriors over one and two frames (the smaller of the
/// two, negative rises and the first two frames cleared), scaled so its maximum is the onsets'
/// maximum. A rise that is zero everywhere makes every onset NaN in the reference (0 / 0), so
/// no onset peak survives; that is kept.
fn infer_onsets(onset: &mut [f64], frames: &[f64], t_len: usize) {
    let mut diff = vec![0.0f64; frames.len()];
    for t in 2..t_len {
        for f in 0..NUM_NOTES {
            let x = frames[t * NUM_NOTES + f];
            let d1 = x - frames[(t - 1) * NUM_NOTES + f];
            let d2 = x - frames[(t - 2) * NUM_NOTES + f];
            let d = d1.min(d2);
            diff[t * NUM_NOTES + f] = if d < 0.0 { 0.0 } else { d };
        }
    }
    let max_onset = onset.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let max_diff = diff.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for (o, d) in onset.iter_mut().zip(&diff) {
        let scaled = (max_onset * d) / max_diff;
        // np.max over [onsets, diff] propagates NaN.
        *o = if scaled.is_nan() {
            f64::NAN
        } else {
            o.max(scaled)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `[t_len, 88]` of zeros.
    fn zeros(t_len: usize) -> Vec<f32> {
        vec![0.0; t_len * NUM_NOTES]
    }

    fn set(m: &mut [f32], t: usize, midi: u8, v: f32) {
        m[t * NUM_NOTES + (midi - LOWEST_NOTE) as usize] = v;
    }

    fn only_onset_pass() -> NoteCreationParams {
        NoteCreationParams {
            infer_onsets: false,
            melodia_trick: false,
            ..Default::default()
        }
    }

    fn spans(notes: &[FrameNote]) -> Vec<(usize, usize, u8)> {
        notes
            .iter()
            .map(|n| (n.start_frame, n.end_frame, n.pitch))
            .collect()
    }

    #[test]
    fn defaults_are_basic_pitch_predict_defaults() {
        let p = NoteCreationParams::default();
        assert_eq!(p.onset_threshold, 0.5);
        assert_eq!(p.frame_threshold, 0.3);
        assert_eq!(p.minimum_note_length_ms, 127.70);
        assert!(p.infer_onsets && p.melodia_trick);
        assert_eq!(
            (p.minimum_frequency_hz, p.maximum_frequency_hz),
            (None, None)
        );
        assert_eq!(p.energy_tolerance, 11);
        // 127.7 / 1000 * 86.1328125 = 10.999 -> 11 frames.
        assert_eq!(p.min_note_len_frames(), 11);
        let half = |ms| NoteCreationParams {
            minimum_note_length_ms: ms,
            ..p
        };
        // 58 ms -> 4.9957 frames -> 5; 100 ms -> 8.6133 -> 9.
        assert_eq!(half(58.0).min_note_len_frames(), 5);
        assert_eq!(half(100.0).min_note_len_frames(), 9);
        assert_eq!(half(-10.0).min_note_len_frames(), 0);
    }

    #[test]
    fn frame_times_follow_the_reference_formula() {
        assert_eq!(frame_time_s(0), 0.0);
        // 172 * 256 / 22050 = 1.99692... minus one window offset.
        let offset = (256.0 / 22050.0) * (172.0 - 171.265625) + 0.0018;
        assert_eq!(WINDOW_TIME_OFFSET_S, offset);
        assert!((WINDOW_TIME_OFFSET_S - 0.010_326_077_097_505_668).abs() < 1e-18);
        assert_eq!(frame_time_s(171), 171.0 * 256.0 / 22050.0);
        assert_eq!(frame_time_s(172), 44032.0 / 22050.0 - offset);
        assert_eq!(frame_time_s(1000), 256000.0 / 22050.0 - 5.0 * offset);
        // Strictly increasing; the smallest step (1.284 ms) is at the multiples of 172.
        for n in 1..2000 {
            assert!(frame_time_s(n) > frame_time_s(n - 1));
        }
    }

    #[test]
    fn velocity_rounds_half_to_even_in_f32_and_never_gives_zero() {
        assert_eq!(velocity_from_amplitude(1.0), 127);
        assert_eq!(velocity_from_amplitude(0.5), 64); // 63.5 -> 64 (even)
        assert_eq!(velocity_from_amplitude(2.5 / 127.0), 2); // 2.5 -> 2 (even)
        assert_eq!(velocity_from_amplitude(0.001), 1); // 0.127 -> 0, clamped
        assert_eq!(velocity_from_amplitude(0.0), 1);
        assert_eq!(velocity_from_amplitude(f32::NAN), 1);
    }

    #[test]
    fn frame_and_window_counts_match_the_reference_run() {
        // The 11.691 s test file of the research run: 257,792 samples, 8 windows, 1005 frames.
        assert_eq!(reference_frame_count(257_792), 1005);
        assert_eq!(reference_window_count(257_792), 8);
        assert_eq!(REFERENCE_HOP_SAMPLES, 36_164);
        assert_eq!(FRONT_PAD_SAMPLES, 3_840);
        assert_eq!(reference_frame_count(0), 0);
        assert_eq!(reference_frame_count(256), 0);
        assert_eq!(reference_frame_count(257), 1); // 257 * 86 / 22050 = 1.0023
        assert_eq!(reference_window_count(0), 1);
        // Enough kept frames for every length.
        for len in (0..2_000_000).step_by(997) {
            assert!(
                reference_window_count(len) * REFERENCE_KEPT_FRAMES >= reference_frame_count(len)
            );
        }
    }

    #[test]
    fn pairwise_sum_matches_numpy_blocking() {
        // Values whose f32 sum depends on the order: 1 + 8 * 2^-24 ... differs from left to
        // right. Checked by hand against the documented blocking.
        let mut x = vec![1.0f32];
        x.extend(std::iter::repeat_n(f32::EPSILON / 2.0, 15));
        // Left to right every tiny value rounds away: 1.0.
        let naive: f32 = x.iter().fold(0.0, |a, &b| a + b);
        assert_eq!(naive, 1.0);
        // Pairwise: r[0] = 1 + e/2 = 1 (ties to even), r[1..8] = e/2 + e/2 = e each; then
        // (1 + e) + (e + e) ... = 1 + 7e (every partial sum is exact above 1 in steps of e).
        assert_eq!(f32_pairwise_sum(&x), 1.0 + 7.0 * f32::EPSILON);
        assert_eq!(f32_mean(&[0.25, 0.75]), 0.5);
    }

    #[test]
    fn one_clear_note_from_its_onset_to_the_last_frame_above_threshold() {
        // Frames 10..40 at 0.8 on MIDI 60, onset peak at frame 10.
        let t_len = 80;
        let (mut n, mut o) = (zeros(t_len), zeros(t_len));
        for t in 10..40 {
            set(&mut n, t, 60, 0.8);
        }
        set(&mut o, 10, 60, 0.9);
        let notes = decode_notes(&n, &o, t_len, &only_onset_pass()).unwrap();
        // Exclusive end 40: the first of the 11 trailing frames below threshold.
        assert_eq!(spans(&notes), [(10, 40, 60)]);
        assert!(
            (notes[0].amplitude - 0.8).abs() < 1e-6,
            "{}",
            notes[0].amplitude
        );
        assert_eq!(notes[0].velocity(), 102); // 101.6
        let ev = notes[0].to_event();
        assert_eq!(ev.onset_s, 2560.0 / 22050.0);
        assert_eq!(ev.offset_s, 10240.0 / 22050.0);
    }

    #[test]
    fn threshold_comparisons_are_made_in_f64() {
        // 0.3f32 is 0.30000001192..., above 0.3: the melodia pass (`max > frame_threshold`)
        // takes energy of exactly 0.3f32 and makes a note of it. Compared in f32 it would not.
        let t_len = 60;
        let (mut n, o) = (zeros(t_len), zeros(t_len));
        for t in 20..40 {
            set(&mut n, t, 64, 0.3);
        }
        let melodia_only = NoteCreationParams {
            infer_onsets: false,
            ..Default::default()
        };
        let notes = decode_notes(&n, &o, t_len, &melodia_only).unwrap();
        assert_eq!(spans(&notes), [(20, 39, 64)]);
        // One f32 step lower it is below 0.3 and nothing is made.
        let below = f32::from_bits(0.3f32.to_bits() - 1);
        for t in 20..40 {
            set(&mut n, t, 64, below);
        }
        assert!(decode_notes(&n, &o, t_len, &melodia_only)
            .unwrap()
            .is_empty());

        // Onsets: exactly 0.5 qualifies (>=), one f32 step lower does not.
        let (mut n, mut o) = (zeros(t_len), zeros(t_len));
        for t in 5..25 {
            set(&mut n, t, 64, 0.3);
        }
        set(&mut o, 5, 64, 0.5);
        let notes = decode_notes(&n, &o, t_len, &only_onset_pass()).unwrap();
        assert_eq!(spans(&notes), [(5, 25, 64)]);
        set(&mut o, 5, 64, f32::from_bits(0.5f32.to_bits() - 1));
        assert!(decode_notes(&n, &o, t_len, &only_onset_pass())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn minimum_length_is_twelve_frames_by_default() {
        let t_len = 60;
        for (len, kept) in [(11, false), (12, true)] {
            let (mut n, mut o) = (zeros(t_len), zeros(t_len));
            for t in 20..20 + len {
                set(&mut n, t, 50, 0.9);
            }
            set(&mut o, 20, 50, 0.9);
            let notes = decode_notes(&n, &o, t_len, &only_onset_pass()).unwrap();
            assert_eq!(!notes.is_empty(), kept, "length {len}");
        }
    }

    #[test]
    fn gaps_up_to_ten_frames_are_bridged_eleven_end_the_note() {
        let t_len = 100;
        for (gap, want) in [(10, vec![(10, 45, 60)]), (11, vec![(10, 25, 60)])] {
            let (mut n, mut o) = (zeros(t_len), zeros(t_len));
            for t in (10..25).chain(25 + gap..45) {
                set(&mut n, t, 60, 0.7);
            }
            set(&mut o, 10, 60, 0.9);
            let notes = decode_notes(&n, &o, t_len, &only_onset_pass()).unwrap();
            assert_eq!(spans(&notes), want, "gap {gap}");
        }
    }

    #[test]
    fn later_onset_at_a_pitch_cuts_the_earlier_note_short() {
        // One long stretch at MIDI 67 with onsets at 10 and 40: the later onset runs first and
        // clears 40..70, so the earlier note ends at 40.
        let t_len = 100;
        let (mut n, mut o) = (zeros(t_len), zeros(t_len));
        for t in 10..70 {
            set(&mut n, t, 67, 0.9);
        }
        set(&mut o, 10, 67, 0.8);
        set(&mut o, 40, 67, 0.8);
        let notes = decode_notes(&n, &o, t_len, &only_onset_pass()).unwrap();
        assert_eq!(spans(&notes), [(40, 70, 67), (10, 40, 67)]);
    }

    #[test]
    fn same_frame_candidates_run_high_pitch_first_and_suppress_the_neighbour() {
        let t_len = 60;
        let (mut n, mut o) = (zeros(t_len), zeros(t_len));
        for midi in [60, 61, 63] {
            for t in 10..30 {
                set(&mut n, t, midi, 0.9);
            }
            set(&mut o, 10, midi, 0.9);
        }
        let notes = decode_notes(&n, &o, t_len, &only_onset_pass()).unwrap();
        // 63 first, then 61 (two bins away: kept), which clears 60 (one bin away).
        assert_eq!(spans(&notes), [(10, 30, 63), (10, 30, 61)]);
    }

    #[test]
    fn plateaus_and_edge_frames_are_no_onset_peaks() {
        let t_len = 60;
        let (mut n, mut o) = (zeros(t_len), zeros(t_len));
        for t in 0..40 {
            set(&mut n, t, 70, 0.9);
        }
        set(&mut o, 0, 70, 1.0); // frame 0: never a peak
        set(&mut o, 20, 70, 0.9); // plateau 20..=21: no strict peak
        set(&mut o, 21, 70, 0.9);
        assert!(decode_notes(&n, &o, t_len, &only_onset_pass())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn melodia_pass_makes_notes_without_onsets_with_an_inclusive_end() {
        // No onset at all; the energy 20..40 on MIDI 72 peaks at frame 30.
        let t_len = 80;
        let (mut n, o) = (zeros(t_len), zeros(t_len));
        for t in 20..40 {
            set(&mut n, t, 72, if t == 30 { 0.95 } else { 0.6 });
        }
        let params = NoteCreationParams {
            infer_onsets: false,
            ..Default::default()
        };
        let notes = decode_notes(&n, &o, t_len, &params).unwrap();
        // Backward pass: stops after 11 low frames below 20 -> start 20. Forward: the last
        // frame at or above threshold is 39, and the melodia end is that frame itself.
        assert_eq!(spans(&notes), [(20, 39, 72)]);
        let mean = (18.0 * 0.6 + 0.95) / 19.0;
        assert!((f64::from(notes[0].amplitude) - mean).abs() < 1e-6);
    }

    #[test]
    fn melodia_takes_the_first_maximum_in_row_major_order() {
        // Two separate stretches with the same peak value: the earlier frame goes first.
        let t_len = 120;
        let (mut n, o) = (zeros(t_len), zeros(t_len));
        for t in 60..90 {
            set(&mut n, t, 50, 0.8);
        }
        for t in 10..40 {
            set(&mut n, t, 80, 0.8);
        }
        let params = NoteCreationParams {
            infer_onsets: false,
            ..Default::default()
        };
        let notes = decode_notes(&n, &o, t_len, &params).unwrap();
        // Frame 10 (MIDI 80) before frame 60 (MIDI 50). The backward pass from frame 10 stops
        // at frame 0 (never visited) with 9 low frames counted: start 0 + 1 + 9 = 10.
        assert_eq!(spans(&notes), [(10, 39, 80), (60, 89, 50)]);
    }

    #[test]
    fn inferred_onsets_start_notes_where_the_frames_jump() {
        let t_len = 60;
        let (mut n, mut o) = (zeros(t_len), zeros(t_len));
        for t in 10..35 {
            set(&mut n, t, 55, 0.9);
        }
        // An onset elsewhere sets the scale (max onset 0.6); no onset at MIDI 55.
        set(&mut o, 45, 90, 0.6);
        let params = NoteCreationParams {
            melodia_trick: false,
            ..Default::default()
        };
        let notes = decode_notes(&n, &o, t_len, &params).unwrap();
        // The jump at frame 10 is scaled to 0.6 >= 0.5: a note 10..35.
        assert_eq!(spans(&notes), [(10, 35, 55)]);
        // Without the inference there is no onset.
        assert!(decode_notes(&n, &o, t_len, &only_onset_pass())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn constant_frames_make_every_inferred_onset_nan_like_the_reference() {
        // All frames equal in time: the rise is zero everywhere, 0/0 = NaN, no onset peaks;
        // only melodia can make notes.
        let t_len = 40;
        let n = vec![0.5f32; t_len * NUM_NOTES];
        let mut o = zeros(t_len);
        set(&mut o, 20, 60, 0.99);
        let params = NoteCreationParams {
            melodia_trick: false,
            ..Default::default()
        };
        assert!(decode_notes(&n, &o, t_len, &params).unwrap().is_empty());
        let no_infer = NoteCreationParams {
            infer_onsets: false,
            melodia_trick: false,
            ..Default::default()
        };
        assert_eq!(decode_notes(&n, &o, t_len, &no_infer).unwrap().len(), 1);
    }

    #[test]
    fn frequency_limits_clear_columns_as_python_slices() {
        let t_len = 50;
        let (mut n, mut o) = (zeros(t_len), zeros(t_len));
        for midi in [40, 60, 90] {
            for t in 5..30 {
                set(&mut n, t, midi, 0.9);
            }
            set(&mut o, 5, midi, 0.9);
        }
        // 100 Hz = MIDI 43.35 -> bins below 22 (MIDI 43) cleared; 1000 Hz = MIDI 83.21 ->
        // bins from 62 (MIDI 83) up cleared.
        let params = NoteCreationParams {
            minimum_frequency_hz: Some(100.0),
            maximum_frequency_hz: Some(1000.0),
            ..only_onset_pass()
        };
        let notes = decode_notes(&n, &o, t_len, &params).unwrap();
        assert_eq!(spans(&notes), [(5, 30, 60)]);
        // A limit above the top note clears nothing.
        let high = NoteCreationParams {
            maximum_frequency_hz: Some(20_000.0),
            ..only_onset_pass()
        };
        assert_eq!(decode_notes(&n, &o, t_len, &high).unwrap().len(), 3);
        // Limits below A0 give negative indices, which Python slices count from the end:
        // hz_to_midi(20) - 21 = -5.51 -> -6, so a 20 Hz minimum clears bins 0..82 (all but
        // MIDI 103..=108) and a 20 Hz maximum clears bins 82..88 only.
        assert_eq!(pitch_bin_of_hz(20.0), -6);
        for t in 5..30 {
            set(&mut n, t, 105, 0.9);
        }
        set(&mut o, 5, 105, 0.9);
        let min20 = NoteCreationParams {
            minimum_frequency_hz: Some(20.0),
            ..only_onset_pass()
        };
        assert_eq!(
            spans(&decode_notes(&n, &o, t_len, &min20).unwrap()),
            [(5, 30, 105)]
        );
        let max20 = NoteCreationParams {
            maximum_frequency_hz: Some(20.0),
            ..only_onset_pass()
        };
        let pitches: Vec<u8> = decode_notes(&n, &o, t_len, &max20)
            .unwrap()
            .iter()
            .map(|n| n.pitch)
            .collect();
        assert_eq!(pitches, [90, 60, 40]);
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let p = NoteCreationParams::default();
        assert!(matches!(
            decode_notes(&zeros(3), &zeros(4), 4, &p),
            Err(NoteCreationError::ShapeMismatch {
                what: "note",
                expected: 352,
                actual: 264,
                ..
            })
        ));
        let mut bad = zeros(4);
        set(&mut bad, 2, 30, f32::NAN);
        assert!(matches!(
            decode_notes(&zeros(4), &bad, 4, &p),
            Err(NoteCreationError::NonFinite {
                what: "onset",
                frame: 2,
                bin: 9,
                ..
            })
        ));
        for params in [
            NoteCreationParams {
                frame_threshold: -0.1,
                ..p
            },
            NoteCreationParams {
                onset_threshold: f64::NAN,
                ..p
            },
            NoteCreationParams {
                minimum_frequency_hz: Some(0.0),
                ..p
            },
        ] {
            let e = decode_notes(&zeros(4), &zeros(4), 4, &params).unwrap_err();
            assert!(
                matches!(e, NoteCreationError::InvalidParameter { .. }),
                "{e}"
            );
        }
        assert!(decode_notes(&[], &[], 0, &p).unwrap().is_empty());
        assert!(decode_notes(&zeros(3), &zeros(3), 3, &p)
            .unwrap()
            .is_empty());
    }
}
