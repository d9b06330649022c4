//! Transcription metrics with mir_eval's definitions (mir_eval 0.8.2), for `musichal evaluate`.
//!
//! - [`note_onset_prf`]: `mir_eval.transcription.precision_recall_f1_overlap` with
//!   `onset_tolerance=0.05`, `pitch_tolerance=50.0` (cents), `offset_ratio=None`: an estimated
//!   note matches a reference note when their onsets are at most 50 ms apart *after rounding
//!   the distance to 4 decimals* (`np.around(d, 4)`, so 50.05 ms can still match) and their
//!   pitches at most 50 cents apart; each note matches at most once, and the count is that of
//!   a maximum bipartite matching (Hopcroft–Karp here; P/R/F1 depend only on its size, so any
//!   maximum matching gives mir_eval's figures). Offsets are ignored.
//! - [`frame_prf`]: `mir_eval.multipitch.metrics` precision and recall, F1 by
//!   `mir_eval.util.f_measure`, on notes rasterised to a 75 frames/s grid: frame `k` is at
//!   `k / 75` s for `k < ceil(latest offset * 75)`, and a note sounds in it when
//!   `onset <= k / 75 < offset`. In a frame, a reference and an estimated pitch match within
//!   half a semitone, so with MIDI note numbers only equal pitches match and the frame's true
//!   positives are `sum over pitches of min(reference count, estimate count)` (the size of a
//!   maximum matching). Counts are summed over all frames before dividing (micro-average), as
//!   mir_eval does.
//! - [`notes_per_second`], [`median_note_length_s`]: descriptive figures.
//!
//! mir_eval rejects multipitch frequencies outside 20–5000 Hz (MIDI notes below 16 or above
//! 111); these functions score every MIDI note alike. `tests/python/test_notes_metrics.py`
//! compares them with mir_eval on random note sets.

use super::{midi_to_hz, NoteError, NoteEvent, MAX_MIDI_PITCH};

/// Onset tolerance of the note metric, seconds.
pub const ONSET_TOLERANCE_S: f64 = 0.05;
/// Pitch tolerance of the note metric, cents.
pub const PITCH_TOLERANCE_CENTS: f64 = 50.0;
/// Frame rate of the frame metric's grid, frames per second.
pub const FRAME_RATE_HZ: f64 = 75.0;

/// Why notes could not be scored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    /// A note list is not valid (mir_eval raises `ValueError` for the same notes).
    #[error("cannot score the {which} notes: {source}")]
    InvalidNotes {
        /// `"reference"` or `"estimate"`.
        which: &'static str,
        #[source]
        source: NoteError,
    },
    /// A tolerance or frame rate is not a positive finite number (tolerances may be 0).
    #[error(
        "metric setting {name} = {value} is out of range; use a finite value >= 0 (frame rate > 0)"
    )]
    InvalidSetting { name: &'static str, value: f64 },
}

/// Precision, recall and F1 (all 0 when nothing matches or a side is empty).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Prf {
    /// Matches / estimated items.
    pub precision: f64,
    /// Matches / reference items.
    pub recall: f64,
    /// Harmonic mean of the two, `mir_eval.util.f_measure`.
    pub f1: f64,
}

impl Prf {
    /// From counts as mir_eval computes them: each ratio is 0 when its denominator is 0, and
    /// `f1 = (2 p) r / (p + r)` in that order of operations (0 when both are 0).
    pub fn from_counts(matched: usize, n_estimate: usize, n_reference: usize) -> Self {
        let ratio = |n: usize| {
            if n == 0 {
                0.0
            } else {
                matched as f64 / n as f64
            }
        };
        let (precision, recall) = (ratio(n_estimate), ratio(n_reference));
        Self {
            precision,
            recall,
            f1: f_measure(precision, recall),
        }
    }
}

/// `mir_eval.util.f_measure(p, r, beta=1)`: `(1 + 1) * p * r / (1 * p + r)`, 0 when both are 0.
pub fn f_measure(precision: f64, recall: f64) -> f64 {
    if precision == 0.0 && recall == 0.0 {
        0.0
    } else {
        (2.0 * precision) * recall / (1.0 * precision + recall)
    }
}

/// Note metric and frame metric of one estimate against its reference.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TranscriptionScores {
    /// Note onset P/R/F1 at 50 ms and 50 cents, offsets ignored.
    pub note: Prf,
    /// Frame multi-pitch P/R/F1 at 75 frames/s.
    pub frame: Prf,
    /// Matched notes (size of the maximum matching).
    pub matched_notes: usize,
    /// Reference notes.
    pub reference_notes: usize,
    /// Estimated notes.
    pub estimated_notes: usize,
}

/// Both metrics with the settings (50 ms, 50 cents, 75 frames/s).
pub fn evaluate(
    reference: &[NoteEvent],
    estimate: &[NoteEvent],
) -> Result<TranscriptionScores, MetricsError> {
    let matched = matched_note_count(
        reference,
        estimate,
        ONSET_TOLERANCE_S,
        PITCH_TOLERANCE_CENTS,
    )?;
    Ok(TranscriptionScores {
        note: Prf::from_counts(matched, estimate.len(), reference.len()),
        frame: frame_prf(reference, estimate)?,
        matched_notes: matched,
        reference_notes: reference.len(),
        estimated_notes: estimate.len(),
    })
}

/// Note onset P/R/F1 at 50 ms and 50 cents (module docs).
pub fn note_onset_prf(
    reference: &[NoteEvent],
    estimate: &[NoteEvent],
) -> Result<Prf, MetricsError> {
    note_onset_prf_with(
        reference,
        estimate,
        ONSET_TOLERANCE_S,
        PITCH_TOLERANCE_CENTS,
    )
}

/// Note onset P/R/F1 with other tolerances (seconds, cents).
pub fn note_onset_prf_with(
    reference: &[NoteEvent],
    estimate: &[NoteEvent],
    onset_tolerance_s: f64,
    pitch_tolerance_cents: f64,
) -> Result<Prf, MetricsError> {
    let matched = matched_note_count(
        reference,
        estimate,
        onset_tolerance_s,
        pitch_tolerance_cents,
    )?;
    Ok(Prf::from_counts(matched, estimate.len(), reference.len()))
}

/// Checks what mir_eval's `validate` checks: finite times, `0 <= onset < offset`, a MIDI
/// pitch. Velocities are not looked at.
fn check_notes(which: &'static str, notes: &[NoteEvent]) -> Result<(), MetricsError> {
    let err = |source| MetricsError::InvalidNotes { which, source };
    for (index, n) in notes.iter().enumerate() {
        if !n.onset_s.is_finite() || !n.offset_s.is_finite() {
            return Err(err(NoteError::NonFiniteTime {
                index,
                onset_s: n.onset_s,
                offset_s: n.offset_s,
            }));
        }
        if n.onset_s < 0.0 {
            return Err(err(NoteError::NegativeOnset {
                index,
                onset_s: n.onset_s,
            }));
        }
        if n.offset_s <= n.onset_s {
            return Err(err(NoteError::NotAfterOnset {
                index,
                onset_s: n.onset_s,
                offset_s: n.offset_s,
            }));
        }
        if n.pitch > MAX_MIDI_PITCH {
            return Err(err(NoteError::PitchOutOfRange {
                index,
                pitch: n.pitch,
            }));
        }
    }
    Ok(())
}

fn check_setting(name: &'static str, value: f64) -> Result<(), MetricsError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(MetricsError::InvalidSetting { name, value })
    }
}

/// `np.around(d, 4)`: times 10,000, round half to even, divided by 10,000.
fn round4(d: f64) -> f64 {
    (d * 10_000.0).round_ties_even() / 10_000.0
}

/// Size of a maximum matching between reference and estimated notes whose onsets are within
/// `onset_tolerance_s` (distance rounded to 4 decimals) and pitches within
/// `pitch_tolerance_cents`.
pub fn matched_note_count(
    reference: &[NoteEvent],
    estimate: &[NoteEvent],
    onset_tolerance_s: f64,
    pitch_tolerance_cents: f64,
) -> Result<usize, MetricsError> {
    check_setting("onset_tolerance_s", onset_tolerance_s)?;
    check_setting("pitch_tolerance_cents", pitch_tolerance_cents)?;
    check_notes("reference", reference)?;
    check_notes("estimate", estimate)?;
    if reference.is_empty() || estimate.is_empty() {
        return Ok(0);
    }
    // Estimates by onset, so each reference note only looks at nearby ones. The rounding can
    // admit distances a little above the tolerance (up to half a 1e-4 step), hence the margin.
    let mut by_onset: Vec<usize> = (0..estimate.len()).collect();
    by_onset.sort_by(|&a, &b| estimate[a].onset_s.total_cmp(&estimate[b].onset_s));
    let onsets: Vec<f64> = by_onset.iter().map(|&j| estimate[j].onset_s).collect();
    let margin = onset_tolerance_s + 1e-3;
    let log2_hz = |n: &NoteEvent| n.pitch_hz().log2();
    let est_log2: Vec<f64> = estimate.iter().map(log2_hz).collect();
    let adjacency: Vec<Vec<usize>> = reference
        .iter()
        .map(|r| {
            let lo = onsets.partition_point(|&t| t < r.onset_s - margin);
            let hi = onsets.partition_point(|&t| t <= r.onset_s + margin);
            let r_log2 = log2_hz(r);
            let mut hits: Vec<usize> = by_onset[lo..hi]
                .iter()
                .copied()
                .filter(|&j| {
                    let e = &estimate[j];
                    round4((r.onset_s - e.onset_s).abs()) <= onset_tolerance_s
                        && (1200.0 * (r_log2 - est_log2[j])).abs() <= pitch_tolerance_cents
                })
                .collect();
            hits.sort_unstable();
            hits
        })
        .collect();
    Ok(maximum_matching(&adjacency, estimate.len()))
}

const FREE: usize = usize::MAX;

/// Hopcroft–Karp: the size of a maximum matching between left vertices `0..adjacency.len()`
/// and right vertices `0..n_right`, `adjacency[u]` listing the right vertices `u` may take.
/// Iterative (no recursion), so long note lists cannot overflow the stack.
pub fn maximum_matching(adjacency: &[Vec<usize>], n_right: usize) -> usize {
    let n_left = adjacency.len();
    let mut pair_left = vec![FREE; n_left];
    let mut pair_right = vec![FREE; n_right];
    let mut dist = vec![usize::MAX; n_left];
    let mut next_edge = vec![0usize; n_left];
    let mut queue = Vec::with_capacity(n_left);
    let mut stack = Vec::new();
    let mut matched = 0;
    loop {
        // Breadth-first layers from the free left vertices.
        queue.clear();
        for u in 0..n_left {
            if pair_left[u] == FREE {
                dist[u] = 0;
                queue.push(u);
            } else {
                dist[u] = usize::MAX;
            }
        }
        let mut found_free = false;
        let mut head = 0;
        while head < queue.len() {
            let u = queue[head];
            head += 1;
            for &v in &adjacency[u] {
                let w = pair_right[v];
                if w == FREE {
                    found_free = true;
                } else if dist[w] == usize::MAX {
                    dist[w] = dist[u] + 1;
                    queue.push(w);
                }
            }
        }
        if !found_free {
            return matched;
        }
        // Depth-first augmenting paths along the layers.
        next_edge.fill(0);
        for root in 0..n_left {
            if pair_left[root] != FREE {
                continue;
            }
            stack.clear();
            stack.push(root);
            while let Some(&u) = stack.last() {
                let Some(&v) = adjacency[u].get(next_edge[u]) else {
                    dist[u] = usize::MAX; // dead end for the rest of this phase
                    stack.pop();
                    continue;
                };
                next_edge[u] += 1;
                let w = pair_right[v];
                if w == FREE {
                    // Flip the path: each vertex on the stack takes the edge it went down by;
                    // the one above it was that edge's old partner.
                    let mut v = v;
                    while let Some(u) = stack.pop() {
                        let previous = pair_left[u];
                        pair_left[u] = v;
                        pair_right[v] = u;
                        v = previous;
                    }
                    matched += 1;
                } else if dist[w] != usize::MAX && dist[w] == dist[u] + 1 {
                    stack.push(w);
                }
            }
        }
    }
}

/// Frame multi-pitch P/R/F1 at [`FRAME_RATE_HZ`] (module docs).
pub fn frame_prf(reference: &[NoteEvent], estimate: &[NoteEvent]) -> Result<Prf, MetricsError> {
    frame_prf_at(reference, estimate, FRAME_RATE_HZ)
}

/// First grid frame `k` with `k / rate >= t` (`t >= 0`).
fn first_frame_at_or_after(t: f64, rate: f64) -> usize {
    let mut k = (t * rate).ceil().max(0.0) as usize;
    while (k as f64 / rate) < t {
        k += 1;
    }
    while k > 0 && ((k - 1) as f64 / rate) >= t {
        k -= 1;
    }
    k
}

/// Frame multi-pitch P/R/F1 on a grid of `frame_rate_hz` frames per second.
pub fn frame_prf_at(
    reference: &[NoteEvent],
    estimate: &[NoteEvent],
    frame_rate_hz: f64,
) -> Result<Prf, MetricsError> {
    if !(frame_rate_hz.is_finite() && frame_rate_hz > 0.0) {
        return Err(MetricsError::InvalidSetting {
            name: "frame_rate_hz",
            value: frame_rate_hz,
        });
    }
    check_notes("reference", reference)?;
    check_notes("estimate", estimate)?;
    let latest = reference
        .iter()
        .chain(estimate)
        .map(|n| n.offset_s)
        .fold(0.0f64, f64::max);
    let n_frames = (latest * frame_rate_hz).ceil() as usize;
    // Per pitch: how many notes sound in each frame, as difference arrays.
    let mut counts = vec![[Vec::<i32>::new(), Vec::<i32>::new()]; usize::from(MAX_MIDI_PITCH) + 1];
    let mut totals = [0usize; 2];
    for (side, notes) in [reference, estimate].into_iter().enumerate() {
        for n in notes {
            let a = first_frame_at_or_after(n.onset_s, frame_rate_hz).min(n_frames);
            let b = first_frame_at_or_after(n.offset_s, frame_rate_hz).min(n_frames);
            if a >= b {
                continue;
            }
            let diff = &mut counts[usize::from(n.pitch)][side];
            if diff.is_empty() {
                diff.resize(n_frames + 1, 0);
            }
            diff[a] += 1;
            diff[b] -= 1;
            totals[side] += b - a;
        }
    }
    let mut true_positives = 0usize;
    for [r, e] in &counts {
        if r.is_empty() || e.is_empty() {
            continue;
        }
        let (mut nr, mut ne) = (0i32, 0i32);
        for (dr, de) in r.iter().zip(e).take(n_frames) {
            nr += dr;
            ne += de;
            true_positives += nr.min(ne) as usize;
        }
    }
    Ok(Prf::from_counts(true_positives, totals[1], totals[0]))
}

/// Notes per second over a recording of `duration_s` seconds (0 for a non-positive duration).
pub fn notes_per_second(notes: &[NoteEvent], duration_s: f64) -> f64 {
    if duration_s > 0.0 {
        notes.len() as f64 / duration_s
    } else {
        0.0
    }
}

/// Median note length in seconds (`np.median`: the mean of the two middle lengths for an even
/// count); `None` without notes.
pub fn median_note_length_s(notes: &[NoteEvent]) -> Option<f64> {
    let mut lengths: Vec<f64> = notes.iter().map(NoteEvent::duration_s).collect();
    if lengths.is_empty() {
        return None;
    }
    lengths.sort_by(f64::total_cmp);
    let mid = lengths.len() / 2;
    Some(if lengths.len() % 2 == 1 {
        lengths[mid]
    } else {
        (lengths[mid - 1] + lengths[mid]) / 2.0
    })
}

/// Hz of a note (re-exported for callers that build mir_eval inputs).
pub fn note_hz(note: &NoteEvent) -> f64 {
    midi_to_hz(f64::from(note.pitch))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(onset_s: f64, offset_s: f64, pitch: u8) -> NoteEvent {
        NoteEvent {
            onset_s,
            offset_s,
            pitch,
            velocity: 64,
        }
    }

    fn matched(reference: &[NoteEvent], estimate: &[NoteEvent]) -> usize {
        matched_note_count(reference, estimate, 0.05, 50.0).unwrap()
    }

    #[test]
    fn onset_tolerance_edges_follow_the_rounding_to_four_decimals() {
        let r = [n(0.0, 1.0, 60)];
        // Exactly 50 ms.
        assert_eq!(matched(&r, &[n(0.05, 1.0, 60)]), 1);
        // 1.05 - 1.0 = 0.050000000000000044 > 0.05, but rounds to 0.05: a match.
        assert_eq!(matched(&[n(1.0, 2.0, 60)], &[n(1.05, 2.0, 60)]), 1);
        // 50.05 ms: 500.5 rounds half to even to 500 -> 0.05: a match.
        assert_eq!(matched(&r, &[n(0.05005, 1.0, 60)]), 1);
        // 50.15 ms: 501.5 -> 502 -> 0.0502: no match.
        assert_eq!(matched(&r, &[n(0.05015, 1.0, 60)]), 0);
        // 51 ms: no match; early by 51 ms neither.
        assert_eq!(matched(&r, &[n(0.051, 1.0, 60)]), 0);
        assert_eq!(matched(&[n(1.0, 2.0, 60)], &[n(0.949, 2.0, 60)]), 0);
        assert_eq!(matched(&[n(1.0, 2.0, 60)], &[n(0.95, 2.0, 60)]), 1);
        // Offsets do not matter.
        assert_eq!(matched(&r, &[n(0.01, 9.0, 60)]), 1);
    }

    #[test]
    fn pitch_must_be_within_fifty_cents() {
        let r = [n(0.0, 1.0, 60)];
        assert_eq!(matched(&r, &[n(0.0, 1.0, 60)]), 1);
        assert_eq!(matched(&r, &[n(0.0, 1.0, 61)]), 0);
        assert_eq!(matched(&r, &[n(0.0, 1.0, 59)]), 0);
        // With a 100-cent tolerance a semitone matches.
        assert_eq!(
            matched_note_count(&r, &[n(0.0, 1.0, 61)], 0.05, 100.0 + 1e-9).unwrap(),
            1
        );
    }

    #[test]
    fn maximum_matching_beats_greedy() {
        // Reference A at 1.00, B at 1.06. Estimate X at 1.03 can take either; Y at 0.98 only
        // A. Taking the first candidate in order (X -> A) leaves Y unmatched: 1. The maximum
        // matching is X -> B, Y -> A: 2.
        let reference = [n(1.00, 2.0, 60), n(1.06, 2.0, 60)];
        let estimate = [n(1.03, 2.0, 60), n(0.98, 2.0, 60)];
        assert_eq!(matched(&reference, &estimate), 2);
        let prf = note_onset_prf(&reference, &estimate).unwrap();
        assert_eq!((prf.precision, prf.recall, prf.f1), (1.0, 1.0, 1.0));
        // The same from the reference side: R0 at 1.00 can take E0 (1.03) or E1 (0.99), R1 at
        // 1.07 only E0. R0 taking its first candidate E0 leaves R1 without one: 1; maximum 2.
        let reference = [n(1.00, 2.0, 60), n(1.07, 2.0, 60)];
        let estimate = [n(1.03, 2.0, 60), n(0.99, 2.0, 60)];
        assert_eq!(matched(&reference, &estimate), 2);
        // Candidates at other pitches do not count: only R0 -> E1 is left.
        let estimate = [n(1.03, 2.0, 61), n(0.99, 2.0, 60)];
        assert_eq!(matched(&reference, &estimate), 1);
    }

    #[test]
    fn hopcroft_karp_on_hand_made_graphs() {
        // Three left vertices all wanting right 0, one of them also right 1: 2.
        assert_eq!(maximum_matching(&[vec![0], vec![0, 1], vec![0]], 2), 2);
        // A path needing two augmentations through matched vertices (0-0, 1-1, 2-2 after
        // flipping the greedy 0-1, 1-2).
        assert_eq!(maximum_matching(&[vec![1, 0], vec![2, 1], vec![2]], 3), 3);
        // Complete 3x3 and an empty side.
        assert_eq!(maximum_matching(&vec![vec![0, 1, 2]; 3], 3), 3);
        assert_eq!(maximum_matching(&[vec![], vec![]], 0), 0);
        assert_eq!(maximum_matching(&[], 5), 0);
        // A long chain: left i may take right i + 1 (listed first) or right i; the last left
        // only right n - 1. Taking the first listed right everywhere leaves the last left
        // alone; the maximum gives every left i right i, by one augmenting path through all
        // 5000 vertices.
        let n_left = 5000;
        let adjacency: Vec<Vec<usize>> = (0..n_left)
            .map(|i| {
                if i + 1 < n_left {
                    vec![i + 1, i]
                } else {
                    vec![i]
                }
            })
            .collect();
        assert_eq!(maximum_matching(&adjacency, n_left), n_left);
    }

    #[test]
    fn prf_counts_and_empty_sides() {
        let reference = [
            n(0.0, 0.5, 60),
            n(0.5, 1.0, 62),
            n(1.0, 1.5, 64),
            n(1.5, 2.0, 65),
        ];
        let estimate = [n(0.01, 0.5, 60), n(0.52, 1.0, 62), n(1.2, 1.5, 64)];
        let prf = note_onset_prf(&reference, &estimate).unwrap();
        assert_eq!(prf.precision, 2.0 / 3.0);
        assert_eq!(prf.recall, 0.5);
        // (2 * 2/3) * 0.5 / (2/3 + 0.5) = 4/7.
        assert!((prf.f1 - 4.0 / 7.0).abs() < 1e-15);
        assert_eq!(note_onset_prf(&reference, &[]).unwrap(), Prf::default());
        assert_eq!(note_onset_prf(&[], &estimate).unwrap(), Prf::default());
        assert_eq!(
            note_onset_prf(&reference, &[n(3.0, 4.0, 60)]).unwrap(),
            Prf::default()
        );
    }

    #[test]
    fn invalid_notes_are_typed_errors() {
        let good = [n(0.0, 1.0, 60)];
        let zero_length = [n(1.0, 1.0, 60)];
        let e = note_onset_prf(&good, &zero_length).unwrap_err();
        assert!(matches!(
            e,
            MetricsError::InvalidNotes {
                which: "estimate",
                source: NoteError::NotAfterOnset { index: 0, .. }
            }
        ));
        let negative = [n(-0.1, 1.0, 60)];
        assert!(matches!(
            frame_prf(&negative, &good).unwrap_err(),
            MetricsError::InvalidNotes {
                which: "reference",
                ..
            }
        ));
        assert!(matches!(
            note_onset_prf_with(&good, &good, -0.05, 50.0).unwrap_err(),
            MetricsError::InvalidSetting { .. }
        ));
        assert!(matches!(
            frame_prf_at(&good, &good, 0.0).unwrap_err(),
            MetricsError::InvalidSetting { .. }
        ));
        // Velocity does not matter to the metrics.
        let silent = [NoteEvent {
            velocity: 0,
            ..good[0]
        }];
        assert_eq!(note_onset_prf(&good, &silent).unwrap().f1, 1.0);
    }

    #[test]
    fn frames_on_the_75_hz_grid() {
        // Reference: MIDI 60 over [0, 1) s = frames 0..75. Estimate: MIDI 60 over
        // [0.5, 1.5) = frames 38..113 (37.5 -> first frame at or after is 38), plus MIDI 67
        // over [0, 0.2) = frames 0..15.
        let reference = [n(0.0, 1.0, 60)];
        let estimate = [n(0.5, 1.5, 60), n(0.0, 0.2, 67)];
        let prf = frame_prf(&reference, &estimate).unwrap();
        // Matches: frames 38..75 = 37. Estimated frames: 75 + 15 = 90. Reference: 75.
        assert_eq!(prf.precision, 37.0 / 90.0);
        assert_eq!(prf.recall, 37.0 / 75.0);
        assert_eq!(prf.f1, f_measure(37.0 / 90.0, 37.0 / 75.0));
        // A frame boundary exactly on a grid point: onset 1/75 s sounds from frame 1 on.
        let one = [n(1.0 / 75.0, 2.0 / 75.0, 60)];
        let both = [n(0.0, 2.0 / 75.0, 60)];
        let prf = frame_prf(&one, &both).unwrap();
        assert_eq!((prf.precision, prf.recall), (0.5, 1.0));
    }

    #[test]
    fn frames_count_duplicates_and_only_equal_pitches_match() {
        // Two reference notes at MIDI 60 and one estimate at 60 plus one at 61, all [0, 1).
        let reference = [n(0.0, 1.0, 60), n(0.0, 1.0, 60)];
        let estimate = [n(0.0, 1.0, 60), n(0.0, 1.0, 61)];
        let prf = frame_prf(&reference, &estimate).unwrap();
        assert_eq!((prf.precision, prf.recall), (0.5, 0.5));
        // Empty sides: 0, as mir_eval returns (with a warning).
        assert_eq!(frame_prf(&reference, &[]).unwrap(), Prf::default());
        assert_eq!(frame_prf(&[], &[]).unwrap(), Prf::default());
        // A note shorter than a frame step between two grid points sounds in no frame.
        let between = [n(0.001, 0.002, 60)];
        assert_eq!(frame_prf(&between, &between).unwrap(), Prf::default());
    }

    #[test]
    fn rates_and_medians() {
        let notes = [
            n(0.0, 0.5, 60),
            n(1.0, 1.25, 60),
            n(2.0, 3.0, 60),
            n(2.0, 2.1, 62),
        ];
        assert_eq!(notes_per_second(&notes, 8.0), 0.5);
        assert_eq!(notes_per_second(&notes, 0.0), 0.0);
        // Lengths 0.5, 0.25, 1.0, 0.1 (0.09999... in f64): middle two 0.25 and 0.5.
        assert_eq!(median_note_length_s(&notes), Some(0.375));
        assert_eq!(median_note_length_s(&notes[..3]), Some(0.5));
        assert_eq!(median_note_length_s(&[]), None);
        assert_eq!(note_hz(&n(0.0, 1.0, 69)), 440.0);
    }

    #[test]
    fn evaluate_reports_both_metrics_and_counts() {
        let reference = [n(0.0, 1.0, 60), n(1.0, 2.0, 64)];
        let estimate = [n(0.02, 1.0, 60)];
        let s = evaluate(&reference, &estimate).unwrap();
        assert_eq!(
            (s.matched_notes, s.reference_notes, s.estimated_notes),
            (1, 2, 1)
        );
        assert_eq!((s.note.precision, s.note.recall), (1.0, 0.5));
        // Frames: estimate 0.02..1.0 -> frames 2..75 (73), all matched; reference 150.
        assert_eq!(s.frame.precision, 1.0);
        assert_eq!(s.frame.recall, 73.0 / 150.0);
    }
}
