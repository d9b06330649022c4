//! The corpus' musical events: slices of a recording from one note onset to the next, the
//! states of the event oracle the answer navigates.
//!
//! An event starts where its recording starts, where a note starts (a note is filed in the
//! frame its onset falls in, [`note_frame`]), or where the event before it has lasted
//! [`MAX_EVENT_S`] without an onset (a held chord is still a few events). Its labels are the
//! most frequent gesture token of its frames in each stream ([`event_label`]): the vocabulary
//! is fit on all frames, and the label only summarises them.
//!
//! Why the most frequent token and not the first frame's: a live event is cut by the live onset
//! detector, a corpus event by its notes, and the two cuts differ by a frame or two. Measured on
//! the embedded corpus (`labels_survive_a_shifted_cut` below, events of 6 frames or more):
//! moving an event's start by up to ±2 frames keeps 0.98 of the most-frequent labels
//! (harmonic stream) but only 0.66 of the first-frame labels, at about the same label entropy
//! (5.49 against 5.57 bits). The label a live event
//! gets is then the label its corpus twin has, which is what the query needs.

use serde::{Deserialize, Serialize};

use super::{FrameRecord, RecordingNotes};

/// Longest corpus event: a held stretch without an onset is cut into events this long, and a
/// quoted note plays at most this long (a held note is re-attacked at each such event),
/// seconds.
pub const MAX_EVENT_S: f64 = 1.0;

/// Why an event starts where it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventStart {
    /// Its recording starts there.
    Recording,
    /// A note starts in its first frame.
    Onset,
    /// The event before it reached [`MAX_EVENT_S`] without an onset.
    Split,
}

/// One musical event of the corpus: a run of consecutive frames of one recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpusEvent {
    /// Index of its first frame in [`super::CorpusModel::frames`].
    pub first_frame: u32,
    /// Number of frames (>= 1).
    pub frames: u32,
    /// Why it starts there.
    pub start: EventStart,
    /// Most frequent harmonic token of its frames ([`event_label`]).
    pub harmonic_label: u16,
    /// Most frequent percussive token of its frames.
    pub percussive_label: u16,
}

/// The label of an event whose frames carry `tokens`: the most frequent token, ties going to
/// the one that occurs first. `None` for no frames.
pub fn event_label(tokens: &[u16]) -> Option<u16> {
    let mut best: Option<(usize, u16)> = None;
    for (k, &t) in tokens.iter().enumerate() {
        if tokens[..k].contains(&t) {
            continue; // counted at its first occurrence
        }
        let count = tokens[k..].iter().filter(|&&x| x == t).count();
        if best.is_none_or(|(c, _)| count > c) {
            best = Some((count, t));
        }
    }
    best.map(|(_, t)| t)
}

/// The frame (index into `run`, the consecutive frames of one recording) a note starting at
/// `onset_s` is filed in: the last frame starting at or before the onset (the first frame for a
/// note before it); `None` for a note after the run's last frame.
pub fn note_frame(run: &[FrameRecord], onset_s: f64) -> Option<usize> {
    let k = run.partition_point(|f| f64::from(f.time_s) <= onset_s);
    let last = run.last()?;
    if k == run.len() && onset_s >= f64::from(last.time_s) + f64::from(last.duration_s) {
        return None;
    }
    Some(k.saturating_sub(1))
}

/// Every note of `recordings` with the frame (index into `frames`, in corpus order) it is filed
/// in ([`note_frame`] within its recording's frames), in frame order per recording; notes
/// after their recording's last frame are left out.
pub fn filed_notes<'a>(
    frames: &[FrameRecord],
    recordings: &'a [RecordingNotes],
) -> Vec<(usize, &'a crate::notes::NoteEvent)> {
    let mut out = Vec::new();
    let mut first = 0;
    while first < frames.len() {
        let source = frames[first].source_idx;
        let end = first
            + frames[first..]
                .iter()
                .take_while(|f| f.source_idx == source)
                .count();
        if let Some(rec) = recordings.get(source as usize) {
            for note in &rec.notes {
                if let Some(k) = note_frame(&frames[first..end], note.onset_s) {
                    out.push((first + k, note));
                }
            }
        }
        first = end;
    }
    out
}

/// Cuts `frames` (in corpus order) into events: `(first frame, frames, start)` per event, in
/// order, covering every frame once. `recordings[source_idx]` gives each recording's notes;
/// `frames_per_s` sets the [`MAX_EVENT_S`] cut.
pub fn segment_events(
    frames: &[FrameRecord],
    recordings: &[RecordingNotes],
    frames_per_s: f32,
) -> Vec<(u32, u32, EventStart)> {
    let max_frames = (MAX_EVENT_S * f64::from(frames_per_s)).round().max(1.0) as usize;
    let mut onset = vec![false; frames.len()];
    for (i, _) in filed_notes(frames, recordings) {
        onset[i] = true;
    }
    let mut events: Vec<(u32, u32, EventStart)> = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let start = if i == 0 || frames[i - 1].source_idx != f.source_idx {
            Some(EventStart::Recording)
        } else if onset[i] {
            Some(EventStart::Onset)
        } else if events.last().is_some_and(|e| e.1 as usize >= max_frames) {
            Some(EventStart::Split)
        } else {
            None
        };
        match (start, events.last_mut()) {
            (None, Some(e)) => e.1 += 1,
            (start, _) => events.push((i as u32, 1, start.unwrap_or(EventStart::Recording))),
        }
    }
    events
}

/// [`segment_events`] with each event's labels from its frames' tokens ([`event_label`]).
/// Frames without a token (never in a validated model) count as token 0.
pub fn label_events(
    frames: &[FrameRecord],
    recordings: &[RecordingNotes],
    frames_per_s: f32,
) -> Vec<CorpusEvent> {
    segment_events(frames, recordings, frames_per_s)
        .into_iter()
        .map(|(first, len, start)| {
            let span = &frames[first as usize..(first + len) as usize];
            let h: Vec<u16> = span.iter().map(|f| f.harmonic_token.unwrap_or(0)).collect();
            let p: Vec<u16> = span
                .iter()
                .map(|f| f.percussive_token.unwrap_or(0))
                .collect();
            CorpusEvent {
                first_frame: first,
                frames: len,
                start,
                harmonic_label: event_label(&h).unwrap_or(0),
                percussive_label: event_label(&p).unwrap_or(0),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_is_the_most_frequent_token_and_ties_go_to_the_first() {
        assert_eq!(event_label(&[]), None);
        assert_eq!(event_label(&[4]), Some(4));
        assert_eq!(event_label(&[1, 2, 2, 3, 2, 1]), Some(2));
        assert_eq!(event_label(&[5, 1, 1, 5]), Some(5));
        assert_eq!(event_label(&[7, 3, 3]), Some(3));
    }

    /// The measurement behind the label rule (module docs): on the embedded corpus, the share
    /// of events whose label stays the same when their cut moves by up to two frames either
    /// way, for the most-frequent-token rule and for the first frame's token, and the entropy
    /// of the labels (a rule that gave every event one label would be stable and useless).
    #[test]
    fn labels_survive_a_shifted_cut() {
        let corpus = super::super::CorpusModel::from_bytes(crate::engine::EMBEDDED_CORPUS)
            .expect("the embedded corpus loads");
        let tokens: Vec<u16> = corpus
            .frames
            .iter()
            .map(|f| f.harmonic_token.unwrap())
            .collect();
        let first = |s: &[u16]| s.first().copied();
        let entropy = |labels: &[u16]| {
            let mut counts = std::collections::HashMap::new();
            for &l in labels {
                *counts.entry(l).or_insert(0usize) += 1;
            }
            let n = labels.len() as f64;
            -counts
                .values()
                .map(|&c| c as f64 / n * (c as f64 / n).log2())
                .sum::<f64>()
        };
        let mut stable = [0usize; 2];
        let mut trials = 0usize;
        let mut labels: [Vec<u16>; 2] = [Vec::new(), Vec::new()];
        type Rule<'a> = &'a dyn Fn(&[u16]) -> Option<u16>;
        let rules: [Rule; 2] = [&event_label, &first];
        for e in &corpus.events {
            let (a, b) = (e.first_frame as usize, (e.first_frame + e.frames) as usize);
            if e.frames < 6 {
                continue;
            }
            for (r, rule) in rules.iter().enumerate() {
                labels[r].push(rule(&tokens[a..b]).unwrap());
            }
            for shift in [-2i64, -1, 1, 2] {
                let a2 = (a as i64 + shift).clamp(0, tokens.len() as i64 - 1) as usize;
                if a2 >= b {
                    continue;
                }
                trials += 1;
                for (r, rule) in rules.iter().enumerate() {
                    if rule(&tokens[a2..b]) == rule(&tokens[a..b]) {
                        stable[r] += 1;
                    }
                }
            }
        }
        let share = |r: usize| stable[r] as f64 / trials.max(1) as f64;
        let (h_mode, h_first) = (entropy(&labels[0]), entropy(&labels[1]));
        eprintln!(
            "labels kept under a cut moved by up to 2 frames ({trials} trials): most frequent \
             {:.2} ({h_mode:.2} bits), first frame {:.2} ({h_first:.2} bits)",
            share(0),
            share(1)
        );
        assert!(trials >= 100, "{trials}");
        assert!(share(0) >= share(1) + 0.15, "{} vs {}", share(0), share(1));
        assert!(h_mode >= h_first - 0.5, "{h_mode} bits vs {h_first}");
    }
}
