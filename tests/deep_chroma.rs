//! Deep chroma against ground truth: Basic Pitch's note posteriors folded to pitch classes,
//! next to the DSP chroma and pitches of [`musichal::perception::FramePayload`], on four-voice
//! chorales written here and rendered by FluidSynth with the GM soundfont.
//!
//! Needs the Basic Pitch model (`cargo xtask fetch-basic-pitch`; `cargo xtask test` passes its
//! path in `MUSICHAL_BASIC_PITCH_PATH`), ONNX Runtime, and `fluidsynth` with
//! `/usr/share/sounds/sf2/FluidR3_GM.sf2` (`cargo xtask setup` installs both). Without them the
//! test prints why and passes, except when `CI` is set, where it fails.
//!
//! Method (also in `docs/PERCEPTION.md`):
//! - Four pieces, one per GM program (piano 0, organ 19, guitar 24, strings 48), each 9 chords
//!   of 0.5–1.5 s from a seeded random diatonic progression in a random major key, voiced bass
//!   40–55 (the root), tenor 48–62, alto 55–69, soprano 60–79 (nearest chord tone to the
//!   voice's previous note). About 37 s of audio in all, rendered at 22,050 Hz.
//! - Truth per frame: the MIDI notes sounding at the frame centre, and their pitch classes.
//!   Frames within [`GUARD_S`] of a chord change, and the release tail after the last chord,
//!   are not scored (both systems smear across a change by their window length).
//! - A pitch class is predicted when its chroma value reaches a fraction
//!   ([`CHROMA_REL_THRESHOLDS`]: 0.3 and 0.5) of the frame's largest (the same rule for both
//!   chromas; a frame with an all-zero chroma predicts nothing). Pitches: the DSP's `FramePayload::pitches` (up to 4) and Basic Pitch's
//!   `pitches_from_notes(row, DEFAULT_PITCH_THRESHOLD, 4)`, exact MIDI match.
//! - Precision and recall are micro-averaged: true/false positives and misses summed over every
//!   scored frame of every piece.

use musichal::perception::basic_pitch::{self, chroma_from_notes, pitches_from_notes, Posteriors};
use musichal::perception::{DecodedAudio, Perception, PerceptionConfig};

mod common;
use common::chorale::{
    classes_of, render_pieces, truth_at, unavailable, Piece, GUARD_S, PROGRAMS, SEED,
};

/// A pitch class counts as predicted at this fraction of the frame's largest chroma value. The
/// table is printed at both; the assertions use the first. A triad in four voices doubles one
/// note, so its other two classes hold half the doubled one's energy: 0.5 sits right on that
/// line, 0.3 clears it.
const CHROMA_REL_THRESHOLDS: [f32; 2] = [0.3, 0.5];

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    tp: u64,
    fp: u64,
    missed: u64,
}

impl Counts {
    fn add<T: PartialEq>(&mut self, predicted: &[T], truth: &[T]) {
        let hits = predicted.iter().filter(|p| truth.contains(p)).count() as u64;
        self.tp += hits;
        self.fp += predicted.len() as u64 - hits;
        self.missed +=
            truth.len() as u64 - truth.iter().filter(|t| predicted.contains(t)).count() as u64;
    }
    fn precision(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp).max(1) as f64
    }
    fn recall(&self) -> f64 {
        self.tp as f64 / (self.tp + self.missed).max(1) as f64
    }
    fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn chroma_classes(chroma: &[f32; 12], rel: f32) -> Vec<u8> {
    let max = chroma.iter().copied().fold(0.0f32, f32::max);
    if max <= 0.0 {
        return Vec::new();
    }
    (0..12u8)
        .filter(|&k| chroma[k as usize] >= rel * max)
        .collect()
}

/// The notes sounding at `t`, or `None` when the frame is not scored (within `guard_s` of a
/// chord change, or after the last release).
#[derive(Default)]
struct Scores {
    dsp_chroma: Counts,
    bp_chroma: Counts,
    dsp_pitch: Counts,
    bp_pitch: Counts,
    dsp_frames: u64,
    bp_frames: u64,
}

/// How frames are scored.
#[derive(Clone, Copy)]
struct Scoring {
    /// Chroma threshold, fraction of the frame's maximum.
    rel: f32,
    /// Frames this close to a chord change are skipped, seconds.
    guard_s: f64,
    /// The prediction of frame `i + lag` is scored against the truth at frame `i` (the
    /// alignment check).
    lag: isize,
}

fn score_piece(
    piece: &Piece,
    dsp: &[(f64, [f32; 12], Vec<u8>)],
    bp: &Posteriors,
    how: Scoring,
    scores: &mut Scores,
) {
    for (i, (t, _, _)) in dsp.iter().enumerate() {
        let Some(truth) = truth_at(piece, *t, how.guard_s) else {
            continue;
        };
        let Some((_, chroma, pitches)) = i.checked_add_signed(how.lag).and_then(|j| dsp.get(j))
        else {
            continue;
        };
        scores.dsp_frames += 1;
        scores
            .dsp_chroma
            .add(&chroma_classes(chroma, how.rel), &classes_of(&truth));
        scores.dsp_pitch.add(pitches, &truth);
    }
    for i in 0..bp.n_frames {
        let Some(truth) = truth_at(piece, Posteriors::frame_time_s(i), how.guard_s) else {
            continue;
        };
        let Some(j) = i.checked_add_signed(how.lag).filter(|&j| j < bp.n_frames) else {
            continue;
        };
        let row = bp.notes_row(j);
        scores.bp_frames += 1;
        scores.bp_chroma.add(
            &chroma_classes(&chroma_from_notes(row), how.rel),
            &classes_of(&truth),
        );
        let pitches = pitches_from_notes(row, basic_pitch::DEFAULT_PITCH_THRESHOLD, 4);
        scores.bp_pitch.add(&pitches, &truth);
    }
}

fn row(label: &str, c: &Counts) -> String {
    format!(
        "| {label:<28} | {:>9.3} | {:>6.3} | {:>5.3} |",
        c.precision(),
        c.recall(),
        c.f1()
    )
}

#[test]
fn basic_pitch_deep_chroma_beats_dsp_on_rendered_chorales() {
    let Some(mut bp) = common::basic_pitch_model() else {
        return;
    };
    let (pieces, rendered): (Vec<Piece>, Vec<DecodedAudio>) = match render_pieces(&PROGRAMS, SEED) {
        Ok(r) => r.into_iter().unzip(),
        Err(e) => return unavailable(&e),
    };

    let mut total_s = 0.0;
    let mut per_piece = Vec::new();
    for audio in &rendered {
        total_s += audio.samples.len() as f64 / audio.sample_rate_hz as f64;
        let mut perception = Perception::new(PerceptionConfig::default()).expect("perception");
        let dsp: Vec<(f64, [f32; 12], Vec<u8>)> = perception
            .encode_file(&audio.samples, audio.sample_rate_hz)
            .expect("DSP perception")
            .into_iter()
            .map(|r| (r.time_s, r.payload.chroma, r.payload.pitches().to_vec()))
            .collect();
        let post = bp
            .posteriors_at_rate(&audio.samples, audio.sample_rate_hz)
            .expect("Basic Pitch inference");
        per_piece.push((dsp, post));
    }

    // Alignment check, on every frame (no guard, so chord changes count): each system's best
    // lag should be 0 or within a frame or two of it (asserted below).
    let mut lag_report = String::new();
    // (lag, DSP chroma F1, deep chroma F1, Basic Pitch pitch F1)
    type LagF1 = (isize, f64, f64, f64);
    let mut lag_f1: Vec<LagF1> = Vec::new();
    for lag in -3isize..=3 {
        let mut s = Scores::default();
        let how = Scoring {
            rel: CHROMA_REL_THRESHOLDS[0],
            guard_s: 0.0,
            lag,
        };
        for (piece, (dsp, post)) in pieces.iter().zip(&per_piece) {
            score_piece(piece, dsp, post, how, &mut s);
        }
        lag_report += &format!(
            "  lag {lag:+} frames: DSP chroma F1 {:.3}, deep chroma F1 {:.3}, Basic Pitch pitch F1 {:.3}\n",
            s.dsp_chroma.f1(),
            s.bp_chroma.f1(),
            s.bp_pitch.f1()
        );
        lag_f1.push((lag, s.dsp_chroma.f1(), s.bp_chroma.f1(), s.bp_pitch.f1()));
    }

    let mut report = format!(
        "deep chroma vs DSP chroma: {total_s:.1} s rendered, seed {SEED}, frames within \
         {GUARD_S} s of a chord change not scored\n"
    );
    let mut totals = Vec::new();
    for rel in CHROMA_REL_THRESHOLDS {
        let how = Scoring {
            rel,
            guard_s: GUARD_S,
            lag: 0,
        };
        let mut all = Scores::default();
        report += &format!(
            "\nchroma threshold {rel} of the frame max\n\
             | system (frames)              | precision | recall |  F1   |\n\
             |------------------------------|-----------|--------|-------|\n"
        );
        for (piece, (dsp, post)) in pieces.iter().zip(&per_piece) {
            let mut s = Scores::default();
            score_piece(piece, dsp, post, how, &mut s);
            score_piece(piece, dsp, post, how, &mut all);
            report += &format!(
                "{}\n{}\n",
                row(&format!("{} DSP chroma", piece.name), &s.dsp_chroma),
                row(&format!("{} deep chroma", piece.name), &s.bp_chroma)
            );
        }
        report += &format!(
            "{}\n{}\n",
            row(
                &format!("all DSP chroma ({})", all.dsp_frames),
                &all.dsp_chroma
            ),
            row(
                &format!("all deep chroma ({})", all.bp_frames),
                &all.bp_chroma
            ),
        );
        totals.push(all);
    }
    let all = &totals[0];
    report += &format!(
        "\npitches (exact MIDI note, at most 4 per frame)\n{}\n{}\n\nalignment:\n{lag_report}",
        row("DSP FramePayload::pitches", &all.dsp_pitch),
        row("Basic Pitch (p >= 0.3)", &all.bp_pitch),
    );
    println!("{report}");

    // Measured (FluidSynth 2.3.1, FluidR3_GM, seed 2026; docs/PERCEPTION.md): at 0.3 of the
    // max, deep chroma F1 0.946 against the DSP's 0.744 (gap 0.202); pitches F1 0.826 against
    // 0.560 (gap 0.266). The run is deterministic for one FluidSynth and soundfont build; how
    // far the figures move when the rendered audio changes was measured by rendering six other
    // seeds (2027-2032): standard deviations 0.009 (deep chroma F1), 0.035 (chroma gap), 0.018
    // (pitch F1), 0.034 (pitch gap); lowest over all seven: 0.938, 0.200, 0.795, 0.237. Each
    // floor is the documented figure less two of those standard deviations (rounded down to
    // 0.01), so a regression of that size, which would make the documented figure stale, fails.
    let (bp_f1, dsp_f1) = (all.bp_chroma.f1(), all.dsp_chroma.f1());
    assert!(bp_f1 >= 0.92, "deep chroma F1 {bp_f1:.3} < 0.92\n{report}");
    assert!(
        bp_f1 >= dsp_f1 + 0.13,
        "deep chroma F1 {bp_f1:.3} not 0.13 above the DSP's {dsp_f1:.3}\n{report}"
    );
    let (bp_pitch, dsp_pitch) = (all.bp_pitch.f1(), all.dsp_pitch.f1());
    assert!(
        bp_pitch >= 0.79,
        "Basic Pitch pitch F1 {bp_pitch:.3} < 0.79\n{report}"
    );
    assert!(
        bp_pitch >= dsp_pitch + 0.19,
        "Basic Pitch pitch F1 {bp_pitch:.3} not 0.19 above the DSP's {dsp_pitch:.3}\n{report}"
    );
    // Alignment (docs/PERCEPTION.md: Basic Pitch best at lag 0; the DSP chroma within a 0.002
    // rise of its lag-0 F1): Basic Pitch frame i is centred on sample i * 256, so its best lag
    // is 0 or a neighbour (over the seven seeds lag 0's F1 was never more than 0.002 below the
    // best); the DSP's frame times may trail by a frame or two, so its best lag is in -1..=3 and
    // lag 0 is within 0.01 of it. A frame-time error of two frames or more fails.
    let best = |f: &dyn Fn(&LagF1) -> f64| {
        lag_f1
            .iter()
            .max_by(|a, b| f(a).total_cmp(&f(b)))
            .map(|x| (x.0, f(x)))
            .expect("seven lags")
    };
    let at_zero = lag_f1.iter().find(|x| x.0 == 0).expect("lag 0");
    for (name, (lag, f1), zero, lags) in [
        ("deep chroma", best(&|x| x.2), at_zero.2, -1..=1),
        ("Basic Pitch pitch", best(&|x| x.3), at_zero.3, -1..=1),
        ("DSP chroma", best(&|x| x.1), at_zero.1, -1..=3),
    ] {
        assert!(
            lags.contains(&lag),
            "{name}: best at lag {lag:+} ({f1:.3}), expected {lags:?}\n{report}"
        );
        let slack = if name == "DSP chroma" { 0.01 } else { 0.005 };
        assert!(
            zero >= f1 - slack,
            "{name}: F1 {zero:.3} at lag 0 against {f1:.3} at {lag:+}\n{report}"
        );
    }
}
