//! `musichal evaluate`: notes against their MIDI files.
//!
//! Two kinds of subject, each scored against the MIDI file of the same file stem (or the only
//! one given):
//! - the recordings of a corpus (`--corpus c.mhc`): the notes the corpus stores;
//! - audio recordings given on the command line: transcribed now by `--note-source`.
//!
//! Per file: note onset precision, recall and F1 at 50 ms and 50 cents, frame multi-pitch
//! P/R/F1 at 75 frames/s (mir_eval's definitions, `musichal::notes::metrics`), notes per
//! second and median note length of both. `--json` prints the same as JSON.

use super::corpus::NoteSourceArg;
use anyhow::{bail, Context, Result};
use musichal::corpus::CorpusModel;
use musichal::notes::metrics::{evaluate, median_note_length_s, notes_per_second};
use musichal::notes::{NoteEvent, NoteSource};
use musichal::trainer::{given_notes, is_midi_path, transcribe_notes, NoteChoice, Source};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct EvaluateArgs {
    /// Audio recordings to transcribe and score (each needs its MIDI file in --midi).
    pub recordings: Vec<PathBuf>,
    /// A corpus whose stored notes are scored (recordings with a matching --midi file).
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// Reference MIDI files (`--midi *.mid` takes them all): X.mid is the truth for the
    /// recording or corpus file named X.*;
    /// with one recording and one MIDI file, they pair whatever their names.
    #[arg(long = "midi", value_name = "FILE.mid", required = true, num_args = 1..)]
    pub midi: Vec<PathBuf>,
    /// Transcription of the recordings given on the command line (`auto`: the DSP tracker).
    #[arg(long, value_enum, default_value_t = NoteSourceArg::Auto)]
    pub note_source: NoteSourceArg,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Note figures of one set of notes.
#[derive(Debug, Clone, Serialize)]
pub struct NoteFigures {
    pub notes: usize,
    pub notes_per_s: f64,
    pub median_note_s: Option<f64>,
}

impl NoteFigures {
    fn of(notes: &[NoteEvent], duration_s: f64) -> Self {
        Self {
            notes: notes.len(),
            notes_per_s: notes_per_second(notes, duration_s),
            median_note_s: median_note_length_s(notes),
        }
    }
}

/// The scores of one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileScores {
    /// `"corpus"` or `"recording"`.
    pub subject: &'static str,
    pub file: String,
    pub midi: String,
    pub note_source: NoteSource,
    pub duration_s: f64,
    pub note_precision: f64,
    pub note_recall: f64,
    pub note_f1: f64,
    pub frame_precision: f64,
    pub frame_recall: f64,
    pub frame_f1: f64,
    pub estimate: NoteFigures,
    pub reference: NoteFigures,
}

fn stem(p: &Path) -> Option<std::ffi::OsString> {
    p.file_stem().map(|s| s.to_os_string())
}

/// The MIDI file for `name`: same stem, or the only one when `single` allows it.
fn midi_for<'a>(name: &Path, midi: &'a [PathBuf], single: bool) -> Option<&'a PathBuf> {
    midi.iter()
        .find(|m| stem(m) == stem(name))
        .or(if single && midi.len() == 1 {
            midi.first()
        } else {
            None
        })
}

fn score(
    subject: &'static str,
    file: &str,
    midi: &Path,
    source: NoteSource,
    duration_s: f64,
    notes: &[NoteEvent],
) -> Result<FileScores> {
    let reference = given_notes(midi)?;
    let s = evaluate(&reference, notes).with_context(|| format!("scoring {file}"))?;
    Ok(FileScores {
        subject,
        file: file.to_string(),
        midi: midi.display().to_string(),
        note_source: source,
        duration_s,
        note_precision: s.note.precision,
        note_recall: s.note.recall,
        note_f1: s.note.f1,
        frame_precision: s.frame.precision,
        frame_recall: s.frame.recall,
        frame_f1: s.frame.f1,
        estimate: NoteFigures::of(notes, duration_s),
        reference: NoteFigures::of(&reference, duration_s),
    })
}

pub fn run(args: EvaluateArgs) -> Result<()> {
    if args.corpus.is_none() && args.recordings.is_empty() {
        bail!("nothing to evaluate: give recordings, --corpus, or both");
    }
    for m in &args.midi {
        if !is_midi_path(m) {
            bail!("--midi {}: expected a MIDI file (.mid)", m.display());
        }
    }
    let mut rows: Vec<FileScores> = Vec::new();
    if let Some(path) = &args.corpus {
        let model = CorpusModel::load(path)?;
        let mut matched = 0;
        for (file, rec) in model.source_files.iter().zip(&model.recordings) {
            let single = args.recordings.is_empty() && model.source_files.len() == 1;
            let Some(midi) = midi_for(Path::new(file), &args.midi, single) else {
                continue;
            };
            matched += 1;
            rows.push(score(
                "corpus",
                file,
                midi,
                rec.source,
                rec.duration_s,
                &rec.notes,
            )?);
        }
        if matched == 0 {
            bail!(
                "none of the corpus' recordings ({}) has a --midi file of the same name",
                model.source_files.join(", ")
            );
        }
    }
    let choice: NoteChoice = args.note_source.into();
    let source = choice.resolve(musichal::perception::SPECTRAL_ID);
    let mut model = None;
    for rec in &args.recordings {
        if is_midi_path(rec) {
            bail!(
                "{}: a MIDI file's notes are exact; evaluate its audio (or a corpus trained on it)",
                rec.display()
            );
        }
        let single = args.corpus.is_none() && args.recordings.len() == 1;
        let Some(midi) = midi_for(rec, &args.midi, single) else {
            bail!(
                "{}: no --midi file of the same name ({}.mid)",
                rec.display(),
                stem(rec).unwrap_or_default().to_string_lossy()
            );
        };
        let src = Source::from_file(rec)?;
        let notes = transcribe_notes(&src, source, &mut model)?;
        let duration_s = src.samples.len() as f64 / f64::from(src.rate_hz.max(1));
        rows.push(score(
            "recording",
            &rec.display().to_string(),
            midi,
            source,
            duration_s,
            &notes,
        )?);
    }
    let n = rows.len().max(1) as f64;
    let mean = |f: fn(&FileScores) -> f64| rows.iter().map(f).sum::<f64>() / n;
    let (note_f1, frame_f1) = (mean(|r| r.note_f1), mean(|r| r.frame_f1));
    if args.json {
        let out = serde_json::json!({
            "files": rows,
            "mean": { "note_f1": note_f1, "frame_f1": frame_f1 },
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let len = |m: Option<f64>| m.map_or_else(|| "-".to_string(), |m| format!("{m:.3}"));
    println!(
        "{:<9} {:<28} {:<11} {:>8} {:>8} {:>13} {:>15}",
        "subject", "file", "notes from", "note F1", "frame F1", "notes/s e/r", "median s e/r"
    );
    for r in &rows {
        println!(
            "{:<9} {:<28} {:<11} {:>8.3} {:>8.3} {:>6.2}/{:<6.2} {:>7}/{:<7}",
            r.subject,
            r.file,
            r.note_source.id(),
            r.note_f1,
            r.frame_f1,
            r.estimate.notes_per_s,
            r.reference.notes_per_s,
            len(r.estimate.median_note_s),
            len(r.reference.median_note_s),
        );
    }
    println!(
        "mean      note F1 {note_f1:.3}, frame F1 {frame_f1:.3} over {} files",
        rows.len()
    );
    Ok(())
}
