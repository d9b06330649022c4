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
//!
//! With `--corpus` and recordings, each recording is also played through the built plugin
//! with that corpus (offline, as `musichal render`) and its MIDI answer judged against the
//! recording's MIDI file ([`super::answer_figures`]): onsets per second and median note
//! lengths of input and answer, the answer's share of notes in the input's key, its harmony
//! share against a time-shifted null; `--piano-roll DIR` draws each input against its answer.

use super::corpus::NoteSourceArg;
use anyhow::{bail, Context, Result};
use musichal::corpus::CorpusModel;
use musichal::engine::provenance::{QuoteMark, PROVENANCE_ENV};
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
    /// Write a piano roll of each input (blue) against its answer (orange) as DIR/<name>.png.
    #[arg(long, value_name = "DIR")]
    pub piano_roll: Option<PathBuf>,
    /// The plugin binary for the answers (as `musichal render --plugin`).
    #[arg(long)]
    pub plugin: Option<PathBuf>,
    /// A plugin parameter for the answers, `"Name=value"` as `musichal render` takes them
    /// (e.g. `--set "Transpose Search=On"`); repeat for several.
    #[arg(long = "set", value_name = "PARAM=VALUE")]
    pub set: Vec<String>,
}

/// The answer to one recording, judged against the recording's MIDI file.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerScores {
    pub file: String,
    pub duration_s: f64,
    pub input_onsets_per_s: f64,
    pub answer_onsets_per_s: f64,
    pub input_median_note_s: Option<f64>,
    pub answer_median_note_s: Option<f64>,
    pub answer_notes: usize,
    pub input_key: Option<String>,
    pub in_key_share: Option<f64>,
    pub harmony_share: Option<f64>,
    pub harmony_null_share: Option<f64>,
    /// Mean run of consecutive corpus events the answer quotes: from the plugin's marks of
    /// where each quoted note comes from ([`fig::quoted_runs_from_marks`]) where they name
    /// the answer's notes, else read back from the notes ([`fig::quoted_runs`]).
    pub mean_quoted_run_events: Option<f64>,
    /// Share of the answer's onsets that quote some corpus event (as the run was read).
    pub quoted_onset_share: Option<f64>,
    /// How the quoted run was read: `"marks"` or `"notes"`.
    pub quoted_run_source: &'static str,
    /// The mean quoted run read back from the notes alone, always (a guess that a single
    /// pitch matching many corpus events inflates; the figure before the marks).
    pub mean_quoted_run_read_back: Option<f64>,
    /// Share of the quoted notes the plugin sent (its marks) that the answer does not play:
    /// left out after they were sent, as Follow Changes leaves out what a chord change makes
    /// clash ([`fig::unheard_share`]). `None` without marks, or where they do not name the
    /// answer's notes (Beat and Bar mode).
    pub quoted_notes_unheard_share: Option<f64>,
    /// The mean quoted run had those notes played ([`fig::quoted_runs_as_sent`]); `None`
    /// where the runs are not read from the marks.
    pub mean_quoted_run_as_sent: Option<f64>,
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
    let mut corpus_notes: Vec<Vec<NoteEvent>> = Vec::new();
    if let Some(path) = &args.corpus {
        let model = CorpusModel::load(path)?;
        corpus_notes = model.recordings.iter().map(|r| r.notes.clone()).collect();
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
        if matched == 0 && args.recordings.is_empty() {
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
    let mut answers: Vec<AnswerScores> = Vec::new();
    if let Some(corpus) = &args.corpus {
        if !args.recordings.is_empty() {
            let plugin = super::render::find_plugin(args.plugin.as_deref())?;
            if let Some(dir) = &args.piano_roll {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            for (i, rec) in args.recordings.iter().enumerate() {
                // Paired (by name) when the recording was scored above.
                let midi = midi_for(rec, &args.midi, false).expect("checked above");
                answers.push(judge_answer(
                    &plugin,
                    corpus,
                    &corpus_notes,
                    rec,
                    midi,
                    &args.set,
                    args.piano_roll.as_deref(),
                    i as u64,
                )?);
            }
        }
    }
    let n = rows.len().max(1) as f64;
    let mean = |f: fn(&FileScores) -> f64| rows.iter().map(f).sum::<f64>() / n;
    let (note_f1, frame_f1) = (mean(|r| r.note_f1), mean(|r| r.frame_f1));
    if args.json {
        let out = serde_json::json!({
            "files": rows,
            "mean": { "note_f1": note_f1, "frame_f1": frame_f1 },
            "answers": answers,
            "answers_mean": answer_means(&answers),
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
    if !rows.is_empty() {
        println!(
            "mean      note F1 {note_f1:.3}, frame F1 {frame_f1:.3} over {} files",
            rows.len()
        );
    }
    print_answers(&answers);
    Ok(())
}

fn print_answers(answers: &[AnswerScores]) {
    if answers.is_empty() {
        return;
    }
    let opt = |m: Option<f64>| m.map_or_else(|| "-".to_string(), |m| format!("{m:.2}"));
    println!();
    println!(
        "{:<28} {:>13} {:>15} {:>13} {:>8} {:>16} {:>12}",
        "answer to",
        "onsets/s i/a",
        "median s i/a",
        "key",
        "in key",
        "harmony / null",
        "quoted run"
    );
    for a in answers {
        println!(
            "{:<28} {:>6.2}/{:<6.2} {:>7}/{:<7} {:>13} {:>8} {:>7}/{:<8} {:>12}",
            a.file,
            a.input_onsets_per_s,
            a.answer_onsets_per_s,
            opt(a.input_median_note_s),
            opt(a.answer_median_note_s),
            a.input_key.as_deref().unwrap_or("-"),
            opt(a.in_key_share),
            opt(a.harmony_share),
            opt(a.harmony_null_share),
            opt(a.mean_quoted_run_events),
        );
    }
    let m = answer_means(answers);
    let f = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
    println!(
        "mean answer: onsets/s {:.2} (input {:.2}), median {:.2} s (input {:.2} s), in key {:.2}, \
         harmony {:.2} against a null of {:.2}, quoted run {:.1} events",
        f("answer_onsets_per_s"),
        f("input_onsets_per_s"),
        f("answer_median_note_s"),
        f("input_median_note_s"),
        f("in_key_share"),
        f("harmony_share"),
        f("harmony_null_share"),
        f("mean_quoted_run_events"),
    );
}

/// Mean of each answer figure over the files that have it.
fn answer_means(answers: &[AnswerScores]) -> serde_json::Value {
    let mean = |f: &dyn Fn(&AnswerScores) -> Option<f64>| -> Option<f64> {
        let v: Vec<f64> = answers.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    serde_json::json!({
        "input_onsets_per_s": mean(&|a| Some(a.input_onsets_per_s)),
        "answer_onsets_per_s": mean(&|a| Some(a.answer_onsets_per_s)),
        "input_median_note_s": mean(&|a| a.input_median_note_s),
        "answer_median_note_s": mean(&|a| a.answer_median_note_s),
        "in_key_share": mean(&|a| a.in_key_share),
        "harmony_share": mean(&|a| a.harmony_share),
        "harmony_null_share": mean(&|a| a.harmony_null_share),
        "mean_quoted_run_events": mean(&|a| a.mean_quoted_run_events),
        "quoted_onset_share": mean(&|a| a.quoted_onset_share),
        "mean_quoted_run_read_back": mean(&|a| a.mean_quoted_run_read_back),
        "quoted_notes_unheard_share": mean(&|a| a.quoted_notes_unheard_share),
        "mean_quoted_run_as_sent": mean(&|a| a.mean_quoted_run_as_sent),
        "quoted_runs_from_marks": answers.iter().filter(|a| a.quoted_run_source == "marks").count(),
    })
}

/// Plays `recording` through the plugin with `corpus` and judges the answer against `midi`.
#[allow(clippy::too_many_arguments)]
fn judge_answer(
    plugin: &Path,
    corpus: &Path,
    corpus_notes: &[Vec<NoteEvent>],
    recording: &Path,
    midi: &Path,
    params: &[String],
    piano_roll: Option<&Path>,
    seed: u64,
) -> Result<AnswerScores> {
    use super::answer_figures as fig;
    // The plugin marks where each quoted note comes from in a fresh file (read below).
    let marks_file = tempfile::NamedTempFile::new().context("creating the provenance file")?;
    std::env::set_var(PROVENANCE_ENV, marks_file.path());
    let rendered = super::render::render(plugin, recording, Some(corpus), params, 512, None);
    std::env::remove_var(PROVENANCE_ENV);
    let rendered = rendered?;
    let marks: Vec<QuoteMark> = std::fs::read_to_string(marks_file.path())
        .with_context(|| format!("reading {}", marks_file.path().display()))?
        .lines()
        .filter_map(QuoteMark::parse)
        .collect();
    let end = rendered.audio.first().map_or(0, |c| c.len()) as u64;
    let answer = fig::notes_from_events(&rendered.notes, rendered.rate, end);
    let input = given_notes(midi)?;
    let src = Source::from_file(recording)?;
    let duration_s = src.samples.len() as f64 / f64::from(src.rate_hz.max(1));
    let key = fig::estimate_key(&input);
    let harmony = fig::harmony_vs_null(&input, &answer, duration_s, 0x5eed ^ seed);
    let max_event_s = musichal::engine::answer::MAX_EVENT_S;
    let read_back = fig::quoted_runs(&answer, corpus_notes, max_event_s);
    let from_marks =
        fig::quoted_runs_from_marks(&answer, &marks, rendered.rate, corpus_notes, max_event_s);
    let (quoted, quoted_run_source) = match from_marks {
        Some(q) => (Some(q), "marks"),
        None => (read_back, "notes"),
    };
    let as_sent = from_marks.and_then(|_| {
        fig::quoted_runs_as_sent(&answer, &marks, rendered.rate, corpus_notes, max_event_s)
    });
    let unheard = fig::unheard_share(&answer, &marks, rendered.rate);
    if let Some(dir) = piano_roll {
        let name = recording.file_stem().unwrap_or_default().to_string_lossy();
        let png = dir.join(format!("{name}.png"));
        fig::write_piano_roll(&png, &input, &answer, duration_s + super::render::TAIL_S)
            .with_context(|| format!("writing {}", png.display()))?;
    }
    Ok(AnswerScores {
        file: recording.display().to_string(),
        duration_s,
        input_onsets_per_s: fig::onsets_per_s(&input, duration_s),
        answer_onsets_per_s: fig::onsets_per_s(&answer, duration_s),
        input_median_note_s: median_note_length_s(&input),
        answer_median_note_s: median_note_length_s(&answer),
        answer_notes: answer.len(),
        input_key: key.map(|k| k.name()),
        in_key_share: key.and_then(|k| fig::in_key_share(&answer, k)),
        harmony_share: harmony.map(|h| h.0),
        harmony_null_share: harmony.map(|h| h.1),
        mean_quoted_run_events: quoted.map(|q| q.mean_events),
        quoted_onset_share: quoted.map(|q| q.matched_share),
        quoted_run_source,
        mean_quoted_run_read_back: read_back.map(|q| q.mean_events),
        quoted_notes_unheard_share: unheard,
        mean_quoted_run_as_sent: as_sent.map(|q| q.mean_events),
    })
}
