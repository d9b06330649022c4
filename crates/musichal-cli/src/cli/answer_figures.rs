//! The figures `musichal evaluate` gives for an answer against its input, as a musician would
//! judge it (issue #17): how often it starts notes, how long they last, whether they are in the
//! input's key, whether they sound with the input's harmony more often than chance, and a piano
//! roll of input against answer.
//!
//! Definitions:
//! - **onsets per second**: distinct note onsets (onsets within [`ONSET_MERGE_S`] of the previous
//!   one count once, so a chord is one onset) over the input's length;
//! - **key**: Krumhansl–Kessler key profiles correlated with the input's duration-weighted
//!   pitch-class histogram (24 keys); a note is **in key** when its pitch class is in the key's
//!   major scale, or for a minor key in its natural minor scale or its raised seventh;
//! - **harmony**: the share of answer notes whose pitch class sounds in the input at the
//!   note's onset, among the answer notes that start while the input sounds; the **null** is
//!   the same share for the answer shifted in time (circularly over the input's length) by
//!   [`NULL_SHIFTS`] random offsets of at least a second, which keeps the answer's own pitches
//!   and rhythm and ignores when the input plays what.

use musichal::engine::provenance::QuoteMark;
use musichal::notes::NoteEvent;
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg32;
use std::path::Path;

/// Onsets closer than this to the previous counted one are the same onset, seconds.
pub const ONSET_MERGE_S: f64 = 0.05;
/// Random time shifts the harmony null averages.
pub const NULL_SHIFTS: usize = 64;
/// Smallest shift of the null, seconds.
pub const MIN_SHIFT_S: f64 = 1.0;

/// Krumhansl–Kessler major profile, C first.
const MAJOR: [f64; 12] = [
    6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88,
];
/// Krumhansl–Kessler minor profile, C first.
const MINOR: [f64; 12] = [
    6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17,
];
const MAJOR_SCALE: [u8; 7] = [0, 2, 4, 5, 7, 9, 11];
/// Natural minor plus the raised seventh.
const MINOR_SCALE: [u8; 8] = [0, 2, 3, 5, 7, 8, 10, 11];
const NAMES: [&str; 12] = [
    "C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B",
];

/// A key: tonic pitch class and mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub tonic: u8,
    pub minor: bool,
}

impl Key {
    /// True when pitch class `pc` belongs to the key (module docs).
    pub fn contains(&self, pitch: u8) -> bool {
        let degree = (pitch + 12 - self.tonic % 12) % 12;
        if self.minor {
            MINOR_SCALE.contains(&degree)
        } else {
            MAJOR_SCALE.contains(&degree)
        }
    }

    /// "G major", "Eb minor".
    pub fn name(&self) -> String {
        format!(
            "{} {}",
            NAMES[self.tonic as usize % 12],
            if self.minor { "minor" } else { "major" }
        )
    }
}

/// Distinct onsets per second over `duration_s`.
pub fn onsets_per_s(notes: &[NoteEvent], duration_s: f64) -> f64 {
    let mut onsets: Vec<f64> = notes.iter().map(|n| n.onset_s).collect();
    onsets.sort_by(f64::total_cmp);
    let mut count = 0usize;
    let mut last = f64::NEG_INFINITY;
    for t in onsets {
        if t - last >= ONSET_MERGE_S {
            count += 1;
            last = t;
        }
    }
    if duration_s > 0.0 {
        count as f64 / duration_s
    } else {
        0.0
    }
}

fn correlation(a: &[f64; 12], b: &[f64; 12]) -> f64 {
    let ma = a.iter().sum::<f64>() / 12.0;
    let mb = b.iter().sum::<f64>() / 12.0;
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for i in 0..12 {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    if saa <= 0.0 || sbb <= 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// The key of `notes` (module docs); `None` without notes.
pub fn estimate_key(notes: &[NoteEvent]) -> Option<Key> {
    let mut hist = [0.0f64; 12];
    for n in notes {
        hist[n.pitch as usize % 12] += n.duration_s();
    }
    if hist.iter().all(|&h| h <= 0.0) {
        return None;
    }
    let mut best: Option<(f64, Key)> = None;
    for tonic in 0..12u8 {
        for (minor, profile) in [(false, &MAJOR), (true, &MINOR)] {
            let mut rotated = [0.0; 12];
            for (i, r) in rotated.iter_mut().enumerate() {
                *r = profile[(i + 12 - tonic as usize) % 12];
            }
            let c = correlation(&hist, &rotated);
            if best.is_none_or(|(b, _)| c > b) {
                best = Some((c, Key { tonic, minor }));
            }
        }
    }
    best.map(|(_, k)| k)
}

/// Share of `answer` notes in `key`; `None` without answer notes.
pub fn in_key_share(answer: &[NoteEvent], key: Key) -> Option<f64> {
    (!answer.is_empty()).then(|| {
        answer.iter().filter(|n| key.contains(n.pitch)).count() as f64 / answer.len() as f64
    })
}

/// (hits, counted): answer notes (onsets shifted by `shift_s`, wrapped into the input's
/// length) whose pitch class sounds in the input at their onset, among those that start while
/// the input sounds.
fn harmony_counts(
    input: &[NoteEvent],
    answer: &[NoteEvent],
    duration_s: f64,
    shift_s: f64,
) -> (usize, usize) {
    let (mut hits, mut counted) = (0, 0);
    for n in answer {
        let t = (n.onset_s + shift_s).rem_euclid(duration_s.max(1e-9));
        let sounding: Vec<u8> = input
            .iter()
            .filter(|m| m.onset_s <= t && t < m.offset_s)
            .map(|m| m.pitch % 12)
            .collect();
        if sounding.is_empty() {
            continue;
        }
        counted += 1;
        hits += usize::from(sounding.contains(&(n.pitch % 12)));
    }
    (hits, counted)
}

/// The harmony figure and its null (module docs): `(share, null share)`; `None` when no
/// answer note starts while the input sounds.
pub fn harmony_vs_null(
    input: &[NoteEvent],
    answer: &[NoteEvent],
    duration_s: f64,
    seed: u64,
) -> Option<(f64, f64)> {
    let (hits, counted) = harmony_counts(input, answer, duration_s, 0.0);
    if counted == 0 {
        return None;
    }
    let mut rng = Pcg32::seed_from_u64(seed);
    let span = (duration_s - 2.0 * MIN_SHIFT_S).max(0.0);
    let (mut null_hits, mut null_counted) = (0usize, 0usize);
    for _ in 0..NULL_SHIFTS {
        let shift = MIN_SHIFT_S + rng.random_range(0.0..=span);
        let (h, c) = harmony_counts(input, answer, duration_s, shift);
        null_hits += h;
        null_counted += c;
    }
    let null = if null_counted == 0 {
        0.0
    } else {
        null_hits as f64 / null_counted as f64
    };
    Some((hits as f64 / counted as f64, null))
}

/// Note events from a render's note ons and offs (`(sample, channel, key, velocity or None)`):
/// each on pairs with the next off of its channel and key; an unclosed note ends at the end.
pub fn notes_from_events(
    events: &[(u64, u8, u8, Option<f64>)],
    rate: u32,
    end_sample: u64,
) -> Vec<NoteEvent> {
    let mut open: Vec<(u8, u8, u64, f64)> = Vec::new();
    let mut out = Vec::new();
    let secs = |s: u64| s as f64 / f64::from(rate.max(1));
    let close = |(_, key, on, vel): (u8, u8, u64, f64), off: u64, out: &mut Vec<NoteEvent>| {
        if off > on {
            out.push(NoteEvent {
                onset_s: secs(on),
                offset_s: secs(off),
                pitch: key.min(127),
                velocity: ((vel * 127.0).round() as u8).clamp(1, 127),
            });
        }
    };
    for &(sample, channel, key, velocity) in events {
        if let Some(i) = open.iter().position(|o| o.0 == channel && o.1 == key) {
            let note = open.swap_remove(i);
            close(note, sample, &mut out);
        }
        if let Some(v) = velocity {
            open.push((channel, key, sample, v));
        }
    }
    for note in open {
        close(note, end_sample, &mut out);
    }
    musichal::notes::sort_notes(&mut out);
    out
}

/// Largest gap between matched corpus events that still continues a quote (Density may thin
/// an event away).
pub const MAX_EVENT_STRIDE: usize = 3;
/// How far the timing of two consecutive answer onsets may differ from the corpus events'
/// they quote and still count as the corpus played on, seconds (frames are 13 ms, and a
/// segment boundary may shift the walk by one).
pub const QUOTE_TIMING_S: f64 = 0.08;
/// Largest transposition considered when matching the answer to the corpus, semitones.
pub const MAX_QUOTE_INTERVAL: i16 = 12;

/// A corpus event as the answer engine cuts it: its start in its recording, the pitches that
/// start there (for a cut held stretch, those sounding), and its index in the recording.
#[derive(Debug, Clone)]
struct CorpusEvent {
    time_s: f64,
    starts: Vec<u8>,
    /// Pitches sounding at `time_s` (starting up to [`ONSET_MERGE_S`] later included).
    sounding: Vec<u8>,
}

/// A recording's events: onset groups (onsets within [`ONSET_MERGE_S`] are one), and a held
/// stretch cut every `max_event_s` (the engine's [`musichal::engine::answer::MAX_EVENT_S`]).
fn corpus_events(notes: &[NoteEvent], max_event_s: f64) -> Vec<CorpusEvent> {
    let mut sorted: Vec<&NoteEvent> = notes.iter().collect();
    sorted.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
    let mut out: Vec<CorpusEvent> = Vec::new();
    for n in sorted {
        match out.last_mut() {
            Some(e) if n.onset_s - e.time_s < ONSET_MERGE_S => e.starts.push(n.pitch),
            _ => out.push(CorpusEvent {
                time_s: n.onset_s,
                starts: vec![n.pitch],
                sounding: Vec::new(),
            }),
        }
    }
    let mut cut = Vec::with_capacity(out.len());
    for (i, e) in out.iter().enumerate() {
        cut.push(e.clone());
        let next = out.get(i + 1).map_or(f64::INFINITY, |n| n.time_s);
        let mut t = e.time_s + max_event_s;
        while t < next - ONSET_MERGE_S {
            let sounding: Vec<u8> = notes
                .iter()
                .filter(|n| n.onset_s <= t && n.offset_s > t)
                .map(|n| n.pitch)
                .collect();
            if sounding.is_empty() {
                break;
            }
            cut.push(CorpusEvent {
                time_s: t,
                starts: sounding,
                sounding: Vec::new(),
            });
            t += max_event_s;
        }
    }
    for e in &mut cut {
        e.sounding = notes
            .iter()
            .filter(|n| n.onset_s <= e.time_s + ONSET_MERGE_S && n.offset_s > e.time_s)
            .map(|n| n.pitch)
            .collect();
    }
    cut
}

/// Every recording's events ([`corpus_events`]).
fn recordings_events(recordings: &[Vec<NoteEvent>], max_event_s: f64) -> Vec<Vec<CorpusEvent>> {
    recordings
        .iter()
        .map(|r| corpus_events(r, max_event_s))
        .collect()
}

/// How long the answer quotes the corpus without a break.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuotedRuns {
    /// Mean run, in corpus events: a run is a stretch of answer onsets that play consecutive
    /// events of one recording at one interval with the corpus' timing.
    pub mean_events: f64,
    /// Runs found.
    pub runs: usize,
    /// Share of the answer's onsets that match some corpus event.
    pub matched_share: f64,
}

/// A reading of an answer onset group: it plays event `.1` of recording `.0` at interval `.2`.
type Reading = (usize, usize, i16);

/// The answer's onset groups as [`onsets_per_s`] groups them: (onset, its notes), in time
/// order.
fn onset_groups(answer: &[NoteEvent]) -> Vec<(f64, Vec<&NoteEvent>)> {
    let mut sorted: Vec<&NoteEvent> = answer.iter().collect();
    sorted.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
    let mut groups: Vec<(f64, Vec<&NoteEvent>)> = Vec::new();
    for n in sorted {
        match groups.last_mut() {
            Some(g) if n.onset_s - g.0 < ONSET_MERGE_S => g.1.push(n),
            _ => groups.push((n.onset_s, vec![n])),
        }
    }
    groups
}

/// The runs through the groups' readings: two consecutive groups *continue* a quote when
/// they read events `e < e' <= e + MAX_EVENT_STRIDE` of the same recording at the same
/// interval, `QUOTE_TIMING_S`-close to the time between them. A run's length is the corpus
/// events it spans (`e'` - `e` per step, 1 for its first group); of the several readings of
/// a group, the longest run so far is kept, and where some reading continues a run the
/// others (another quote) are dropped. `None` without any reading.
fn runs_through(groups: &[(f64, Vec<Reading>)], events: &[Vec<CorpusEvent>]) -> Option<QuotedRuns> {
    // Per group, its readings with the run so far in events.
    let mut previous: Vec<(usize, usize, i16, usize)> = Vec::new();
    let mut runs: Vec<usize> = Vec::new();
    let mut matched = 0usize;
    let mut last_time = f64::NEG_INFINITY;
    for (time, found) in groups {
        let mut readings: Vec<(usize, usize, i16, usize)> = found
            .iter()
            .map(|&(r, e, k)| {
                let evs = &events[r];
                let run = previous
                    .iter()
                    .filter(|&&(pr, pe, pk, _)| {
                        pr == r
                            && pk == k
                            && e > pe
                            && e - pe <= MAX_EVENT_STRIDE
                            && ((evs[e].time_s - evs[pe].time_s) - (time - last_time)).abs()
                                <= QUOTE_TIMING_S
                    })
                    .map(|&(_, pe, _, run)| run + (e - pe))
                    .max()
                    .unwrap_or(1);
                (r, e, k, run)
            })
            .collect();
        let continued = readings.iter().any(|x| x.3 > 1);
        if !continued {
            // A fresh run starts at every reading of this group.
            if let Some(best) = previous.iter().map(|x| x.3).max() {
                runs.push(best);
            }
        }
        if !readings.is_empty() {
            matched += 1;
        }
        if continued {
            // Only the readings that continue a run are kept: the others are another quote.
            readings.retain(|x| x.3 > 1);
        }
        previous = readings;
        last_time = *time;
    }
    if let Some(best) = previous.iter().map(|x| x.3).max() {
        runs.push(best);
    }
    if matched == 0 || runs.is_empty() {
        return None;
    }
    Some(QuotedRuns {
        mean_events: runs.iter().sum::<usize>() as f64 / runs.len() as f64,
        runs: runs.len(),
        matched_share: matched as f64 / groups.len() as f64,
    })
}

/// Which corpus events the answer quotes, read back from the notes alone (a MIDI answer
/// carries no provenance): a group *reads* as event `e` of recording `r` at interval `k` when
/// each of its pitches, moved back by `k`, sounds in `r` at `e`'s start and one of them starts
/// there; the runs are then [`runs_through`] those readings. A guess: a group of one pitch
/// reads as many events, and a chance continuation joins fragments (see
/// [`quoted_runs_from_marks`], exact where the marks are known). `None` without any matching
/// group.
pub fn quoted_runs(
    answer: &[NoteEvent],
    recordings: &[Vec<NoteEvent>],
    max_event_s: f64,
) -> Option<QuotedRuns> {
    let events = recordings_events(recordings, max_event_s);
    let groups: Vec<(f64, Vec<Reading>)> = onset_groups(answer)
        .into_iter()
        .map(|(time, notes)| {
            let mut readings = Vec::new();
            for (r, evs) in events.iter().enumerate() {
                for (e, ev) in evs.iter().enumerate() {
                    for k in -MAX_QUOTE_INTERVAL..=MAX_QUOTE_INTERVAL {
                        let back = |p: u8| i16::from(p) - k;
                        if notes
                            .iter()
                            .any(|n| ev.starts.iter().any(|&s| i16::from(s) == back(n.pitch)))
                            && notes
                                .iter()
                                .all(|n| ev.sounding.iter().any(|&s| i16::from(s) == back(n.pitch)))
                        {
                            readings.push((r, e, k));
                        }
                    }
                }
            }
            (time, readings)
        })
        .collect();
    runs_through(&groups, &events)
}

/// How close, seconds, a note's onset must be to the sample a [`QuoteMark`] of its pitch was
/// sent for to be that mark's note: one rule for [`quoted_runs_from_marks`] and
/// [`unheard_marks`], so a mark is either a played note's or unheard.
const MARK_MATCH_S: f64 = 1e-3;

/// Share of the answer's notes a [`QuoteMark`] must name before its runs are read from the
/// marks (the rest: notes of live-learned frames, which quote nothing).
pub const MARKED_SHARE_MIN: f64 = 0.9;

/// The quoted runs read from the answer's provenance ([`QuoteMark`]s, written by the plugin
/// when `MUSICHAL_PROVENANCE` names a file): each answer note is matched to the mark of its
/// pitch sent for its onset (within a millisecond), and reads as the event of the mark's
/// recording its corpus time falls in (the last event starting at most [`ONSET_MERGE_S`]
/// after it), at the interval the mark's note moves its corpus pitch by. The runs are then
/// [`runs_through`] those readings, as [`quoted_runs`] counts them. `None` when fewer than
/// [`MARKED_SHARE_MIN`] of the answer's notes have a mark (a Beat or Bar mode answer is not
/// played where its notes were sent) or none reads as an event.
pub fn quoted_runs_from_marks(
    answer: &[NoteEvent],
    marks: &[QuoteMark],
    rate: u32,
    recordings: &[Vec<NoteEvent>],
    max_event_s: f64,
) -> Option<QuotedRuns> {
    let events = recordings_events(recordings, max_event_s);
    let mark_of = |n: &NoteEvent| mark_of(n, marks, rate);
    let mut marked = 0usize;
    let groups: Vec<(f64, Vec<Reading>)> = onset_groups(answer)
        .into_iter()
        .map(|(time, notes)| {
            let mut readings: Vec<Reading> = Vec::new();
            for m in notes.iter().filter_map(|n| mark_of(n)) {
                marked += 1;
                let r = usize::from(m.recording);
                let Some(evs) = events.get(r) else { continue };
                let e = evs.partition_point(|ev| ev.time_s <= m.corpus_time_s + ONSET_MERGE_S);
                let reading = (
                    r,
                    e.saturating_sub(1),
                    i16::from(m.note) - i16::from(m.corpus_pitch),
                );
                if e > 0 && !readings.contains(&reading) {
                    readings.push(reading);
                }
            }
            (time, readings)
        })
        .collect();
    if (marked as f64) < MARKED_SHARE_MIN * answer.len() as f64 {
        return None;
    }
    runs_through(&groups, &events)
}

/// The mark of `n`: of its pitch, sent for a sample within [`MARK_MATCH_S`] of its onset (the
/// closest).
fn mark_of<'a>(n: &NoteEvent, marks: &'a [QuoteMark], rate: u32) -> Option<&'a QuoteMark> {
    let rate = f64::from(rate.max(1));
    marks
        .iter()
        .filter(|m| m.note == n.pitch)
        .map(|m| (m, (m.start_sample as f64 / rate - n.onset_s).abs()))
        .filter(|&(_, d)| d <= MARK_MATCH_S)
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(m, _)| m)
}

/// Share of the marks whose note the answer does not play ([`unheard_marks`]). `None` without
/// marks, or when they do not name the answer's notes (fewer than [`MARKED_SHARE_MIN`] of them
/// have a mark, as in Beat and Bar mode, where a note is not played where it was sent): every
/// mark would then read as unheard.
pub fn unheard_share(answer: &[NoteEvent], marks: &[QuoteMark], rate: u32) -> Option<f64> {
    let marked = answer
        .iter()
        .filter(|n| mark_of(n, marks, rate).is_some())
        .count();
    if marks.is_empty() || (marked as f64) < MARKED_SHARE_MIN * answer.len() as f64 {
        return None;
    }
    Some(unheard_marks(answer, marks, rate).len() as f64 / marks.len() as f64)
}

/// The marks whose note the answer does not play (no note of the mark's pitch starts within a
/// millisecond of it): quoted notes the plugin sent and then left out before they sounded, as
/// Follow Changes leaves out the notes that clash with a chord the input changed to.
pub fn unheard_marks<'a>(
    answer: &[NoteEvent],
    marks: &'a [QuoteMark],
    rate: u32,
) -> Vec<&'a QuoteMark> {
    let rate = f64::from(rate.max(1));
    marks
        .iter()
        .filter(|m| {
            let t = m.start_sample as f64 / rate;
            !answer
                .iter()
                .any(|n| n.pitch == m.note && (n.onset_s - t).abs() <= MARK_MATCH_S)
        })
        .collect()
}

/// The quoted runs the plugin sent ([`quoted_runs_from_marks`] over the answer and its
/// [`unheard_marks`] as notes): what the runs would be had nothing been left out after it was
/// sent. Against the runs heard, the price of leaving notes out.
pub fn quoted_runs_as_sent(
    answer: &[NoteEvent],
    marks: &[QuoteMark],
    rate: u32,
    recordings: &[Vec<NoteEvent>],
    max_event_s: f64,
) -> Option<QuotedRuns> {
    let r = f64::from(rate.max(1));
    let mut sent = answer.to_vec();
    sent.extend(unheard_marks(answer, marks, rate).into_iter().map(|m| {
        let t = m.start_sample as f64 / r;
        NoteEvent {
            onset_s: t,
            offset_s: t + 0.1,
            pitch: m.note,
            velocity: 100,
        }
    }));
    quoted_runs_from_marks(&sent, marks, rate, recordings, max_event_s)
}

/// A piano roll PNG: time left to right (`PX_PER_S` pixels a second), pitch bottom to top (5
/// pixels a semitone, the range of both note sets), the input in blue, the answer in orange
/// drawn over it, a grey line every second and at every C.
pub fn write_piano_roll(
    path: &Path,
    input: &[NoteEvent],
    answer: &[NoteEvent],
    duration_s: f64,
) -> std::io::Result<()> {
    const PX_PER_S: f64 = 60.0;
    const ROW: usize = 5;
    let all = input.iter().chain(answer);
    let lo = all
        .clone()
        .map(|n| n.pitch)
        .min()
        .unwrap_or(48)
        .saturating_sub(2);
    let hi = all
        .map(|n| n.pitch)
        .max()
        .unwrap_or(84)
        .saturating_add(2)
        .min(127);
    let width = ((duration_s * PX_PER_S).ceil() as usize).clamp(1, 20_000);
    let height = (usize::from(hi - lo) + 1) * ROW;
    let mut px = vec![255u8; width * height * 3];
    let mut fill = |x0: usize, x1: usize, y0: usize, y1: usize, rgb: [u8; 3]| {
        for y in y0..y1.min(height) {
            for x in x0..x1.min(width) {
                px[(y * width + x) * 3..][..3].copy_from_slice(&rgb);
            }
        }
    };
    for p in lo..=hi {
        if p % 12 == 0 {
            let y = usize::from(hi - p) * ROW + ROW - 1;
            fill(0, width, y, y + 1, [225, 225, 225]);
        }
    }
    for s in 0..=(duration_s as usize) {
        let x = (s as f64 * PX_PER_S) as usize;
        fill(x, x + 1, 0, height, [225, 225, 225]);
    }
    for (notes, rgb, inset) in [
        (input, [70u8, 110, 200], 0usize),
        (answer, [235, 130, 30], 1),
    ] {
        for n in notes {
            let x0 = (n.onset_s * PX_PER_S) as usize;
            let x1 = ((n.offset_s * PX_PER_S) as usize).max(x0 + 1);
            let y = usize::from(hi - n.pitch.clamp(lo, hi)) * ROW;
            fill(x0, x1, y + inset, y + ROW - inset.min(1), rgb);
        }
    }
    let file = std::fs::File::create(path)?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), width as u32, height as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().map_err(std::io::Error::other)?;
    w.write_image_data(&px).map_err(std::io::Error::other)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(onset_s: f64, offset_s: f64, pitch: u8) -> NoteEvent {
        NoteEvent {
            onset_s,
            offset_s,
            pitch,
            velocity: 100,
        }
    }

    /// A recording of 16 single-note events every 0.5 s, pitches in fourths.
    fn fourths() -> Vec<NoteEvent> {
        (0..16)
            .map(|i| {
                let t = i as f64 * 0.5;
                n(t, t + 0.4, 48 + (i * 5 % 12) as u8)
            })
            .collect()
    }

    #[test]
    fn quoted_runs_read_back_the_events_an_answer_quotes() {
        let corpus = vec![fourths()];
        let events = &corpus[0];
        let quote = |from: usize, to: usize, at: f64, spacing: f64, k: i16| -> Vec<NoteEvent> {
            (from..to)
                .map(|i| {
                    let t = at + (i - from) as f64 * spacing;
                    n(t, t + 0.3, (i16::from(events[i].pitch) + k) as u8)
                })
                .collect()
        };
        // Events 0..5 up a tone, then 10..13 as they are, then a cluster no event holds.
        let mut answer = quote(0, 5, 10.0, 0.5, 2);
        answer.extend(quote(10, 13, 13.0, 0.5, 0));
        answer.extend([n(15.0, 15.5, 60), n(15.0, 15.5, 61), n(15.0, 15.5, 62)]);
        let runs = quoted_runs(&answer, &corpus, 1.0).unwrap();
        assert_eq!(runs.runs, 2);
        assert_eq!(runs.mean_events, 4.0);
        assert!((runs.matched_share - 8.0 / 9.0).abs() < 1e-12);
        // A run that thins every other event still spans the events between.
        let thinned: Vec<NoteEvent> = quote(0, 9, 2.0, 0.5, -3).into_iter().step_by(2).collect();
        assert_eq!(
            quoted_runs(&thinned, &corpus, 1.0).unwrap().mean_events,
            9.0
        );
        // The same pitches at the wrong times are not the corpus played on.
        let rushed = quote(0, 6, 2.0, 0.3, 0);
        let r = quoted_runs(&rushed, &corpus, 1.0).unwrap();
        assert_eq!((r.runs, r.mean_events), (6, 1.0));
        // A held note is cut into events as the engine cuts it: its re-attack continues.
        let held = vec![n(0.0, 2.5, 50), n(4.0, 4.4, 55)];
        let answer = vec![n(7.0, 8.0, 50), n(8.0, 9.0, 50), n(9.0, 9.5, 50)];
        assert_eq!(quoted_runs(&answer, &[held], 1.0).unwrap().mean_events, 3.0);
    }

    /// Where the plugin marked each note's source, the runs follow the marks: the same
    /// pitches read back from the notes alone join two quotes of twin recordings into one.
    #[test]
    fn quoted_runs_follow_the_marks_where_the_notes_alone_guess() {
        let corpus = vec![fourths(), fourths()];
        let rate = 48_000u32;
        // Events 0..6 up a tone, every note marked; events 0..3 from the first recording,
        // 3..6 from its twin.
        let (mut answer, mut marks) = (Vec::new(), Vec::new());
        for i in 0..6 {
            let (t, pitch) = (20.0 + i as f64 * 0.5, corpus[0][i].pitch);
            answer.push(n(t, t + 0.3, pitch + 2));
            marks.push(QuoteMark {
                start_sample: (t * f64::from(rate)).round() as u64,
                note: pitch + 2,
                recording: u16::from(i >= 3),
                corpus_time_s: corpus[0][i].onset_s,
                corpus_pitch: pitch,
            });
        }
        let exact = quoted_runs_from_marks(&answer, &marks, rate, &corpus, 1.0).unwrap();
        assert_eq!((exact.runs, exact.mean_events), (2, 3.0));
        assert_eq!(exact.matched_share, 1.0);
        assert_eq!(quoted_runs(&answer, &corpus, 1.0).unwrap().mean_events, 6.0);
        // A mark says which interval: one read a tone lower breaks the quote there.
        let mut lower = marks.clone();
        lower[1].note -= 2;
        let mut answer_lower = answer.clone();
        answer_lower[1].pitch -= 2;
        let r = quoted_runs_from_marks(&answer_lower, &lower, rate, &corpus, 1.0).unwrap();
        assert_eq!(r.runs, 4, "0 | 1 | 2 | 3..6: {r:?}");
        // A mark a millisecond off its note, or of another pitch, names nothing: too few
        // notes are marked for the marks to be read.
        let mut off = marks.clone();
        off[0].start_sample += u64::from(rate) / 500;
        off[1].note += 1;
        assert_eq!(
            quoted_runs_from_marks(&answer, &off, rate, &corpus, 1.0),
            None
        );
    }

    /// Notes the plugin marked but left out are unheard: the runs heard lose them, the runs
    /// sent keep them.
    #[test]
    fn marks_without_a_note_are_unheard_and_count_in_the_runs_sent() {
        let corpus = vec![fourths()];
        let rate = 44_100u32;
        let (mut answer, mut marks) = (Vec::new(), Vec::new());
        for (i, c) in corpus[0].iter().take(8).enumerate() {
            let (t, pitch) = (3.0 + i as f64 * 0.5, c.pitch);
            answer.push(n(t, t + 0.3, pitch));
            marks.push(QuoteMark {
                start_sample: (t * f64::from(rate)).round() as u64,
                note: pitch,
                recording: 0,
                corpus_time_s: c.onset_s,
                corpus_pitch: pitch,
            });
        }
        assert!(unheard_marks(&answer, &marks, rate).is_empty());
        let whole = quoted_runs_as_sent(&answer, &marks, rate, &corpus, 1.0).unwrap();
        assert_eq!((whole.runs, whole.mean_events), (1, 8.0));
        // The quote's first and last notes are left out after they were sent.
        let heard: Vec<NoteEvent> = answer[1..7].to_vec();
        let unheard = unheard_marks(&heard, &marks, rate);
        assert_eq!(unheard.len(), 2);
        assert_eq!(
            (unheard[0].corpus_time_s, unheard[1].corpus_time_s),
            (0.0, 3.5)
        );
        let r = quoted_runs_from_marks(&heard, &marks, rate, &corpus, 1.0).unwrap();
        assert_eq!(r.mean_events, 6.0);
        let sent = quoted_runs_as_sent(&heard, &marks, rate, &corpus, 1.0).unwrap();
        assert_eq!((sent.runs, sent.mean_events), (1, 8.0));
        // A note of another pitch at a mark's time does not play that mark.
        let mut wrong = answer.clone();
        wrong[4].pitch += 1;
        assert_eq!(unheard_marks(&wrong, &marks, rate).len(), 1);
        // The share: 2 of 8 marks unheard.
        assert_eq!(unheard_share(&heard, &marks, rate), Some(0.25));
        assert_eq!(unheard_share(&heard, &[], rate), None);
        // Played a bar (2 s) after they were sent, as in Bar mode: no mark names a note, so
        // none is read as unheard (the marks do not say where these notes played).
        let later: Vec<NoteEvent> = answer
            .iter()
            .map(|a| n(a.onset_s + 2.0, a.offset_s + 2.0, a.pitch))
            .collect();
        assert_eq!(unheard_marks(&later, &marks, rate).len(), 8);
        assert_eq!(unheard_share(&later, &marks, rate), None);
    }

    #[test]
    fn chords_are_one_onset() {
        let notes = [
            n(0.0, 1.0, 60),
            n(0.01, 1.0, 64),
            n(0.5, 1.0, 67),
            n(2.0, 3.0, 60),
        ];
        assert_eq!(onsets_per_s(&notes, 4.0), 3.0 / 4.0);
    }

    #[test]
    fn keys_of_scales_and_triads() {
        // G major scale, the tonic longest; A minor: the A minor triad and E major (V).
        let g: Vec<NoteEvent> = [67u8, 69, 71, 72, 74, 76, 78, 79]
            .iter()
            .enumerate()
            .map(|(i, &p)| n(i as f64, i as f64 + if p % 12 == 7 { 2.0 } else { 0.5 }, p))
            .collect();
        assert_eq!(
            estimate_key(&g),
            Some(Key {
                tonic: 7,
                minor: false
            })
        );
        let a: Vec<NoteEvent> = [57u8, 60, 64, 57, 60, 64, 52, 56, 59, 57, 60, 64]
            .iter()
            .enumerate()
            .map(|(i, &p)| n(i as f64 / 3.0, i as f64 / 3.0 + 1.0, p))
            .collect();
        assert_eq!(
            estimate_key(&a),
            Some(Key {
                tonic: 9,
                minor: true
            })
        );
        let key = Key {
            tonic: 9,
            minor: true,
        };
        assert!(key.contains(56) && key.contains(55) && !key.contains(61));
        assert_eq!(
            in_key_share(&[n(0.0, 1.0, 61), n(0.0, 1.0, 60)], key),
            Some(0.5)
        );
    }

    #[test]
    fn an_answer_on_the_inputs_chords_beats_its_null() {
        // Input: C major and F# major chords alternating each second; the answer plays the
        // chord's root with it, so shifted by a second it is always wrong.
        let mut input = Vec::new();
        let mut answer = Vec::new();
        for s in 0..20 {
            let root = if s % 2 == 0 { 60 } else { 66 };
            let t = s as f64;
            for p in [root, root + 4, root + 7] {
                input.push(n(t, t + 1.0, p));
            }
            answer.push(n(t + 0.1, t + 0.5, root + 12));
        }
        let (share, null) = harmony_vs_null(&input, &answer, 20.0, 1).unwrap();
        assert_eq!(share, 1.0);
        assert!(null < 0.75, "null {null}");
    }

    #[test]
    fn note_ons_and_offs_pair_per_channel_and_key() {
        let events = [
            (0, 0, 60, Some(0.5)),
            (100, 0, 64, Some(1.0)),
            (200, 0, 60, None),
            (300, 1, 60, Some(0.5)),
        ];
        let notes = notes_from_events(&events, 100, 500);
        assert_eq!(
            notes,
            vec![
                NoteEvent {
                    onset_s: 0.0,
                    offset_s: 2.0,
                    pitch: 60,
                    velocity: 64
                },
                NoteEvent {
                    onset_s: 1.0,
                    offset_s: 5.0,
                    pitch: 64,
                    velocity: 127
                },
                NoteEvent {
                    onset_s: 3.0,
                    offset_s: 5.0,
                    pitch: 60,
                    velocity: 64
                },
            ]
        );
    }
}
