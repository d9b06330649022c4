//! The notes library from the command line, as JSON on stdout: what the Python parity tests
//! (`tests/python/`) compare with basic-pitch, mir_eval and pretty_midi.
//!
//! ```text
//! notes_tool bp-notes AUDIO [--posteriors-out DIR] [decode options]   whole-file Basic Pitch notes
//! notes_tool bp-decode DIR [decode options]        notes from DIR/note.npy + DIR/onset.npy
//! notes_tool midi-notes FILE.mid                   the notes of a MIDI file
//! notes_tool metrics CASES.json                    note and frame P/R/F1 of each case
//! notes_tool render-music OUT_DIR --rate HZ [--seed S] [--chords N] [--functional]
//!                                                  chorales and ensembles, MIDI + FluidSynth WAV
//! ```
//!
//! `bp-notes` needs ONNX Runtime (`ORT_DYLIB_PATH`) and the model (`MUSICHAL_BASIC_PITCH_PATH`
//! or `target/bundled/nmp.onnx`); `render-music` needs FluidSynth and the GM soundfont.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use musichal::notes::basic_pitch::{
    decode_notes, reference_posteriors, FrameNote, NoteCreationParams,
};
use musichal::notes::metrics::{evaluate, frame_prf, note_onset_prf};
use musichal::notes::midi_file::read_midi_notes;
use musichal::notes::NoteEvent;
use musichal::perception::basic_pitch::{
    resample_to_model_rate, BasicPitch, NUM_CONTOUR_BINS, NUM_NOTES,
};
use musichal::perception::{decode_file, write_npy_f32};
use rand::SeedableRng;
use rand_pcg::Pcg32;
use serde_json::{json, Value};

#[path = "../tests/common/chorale.rs"]
#[allow(dead_code)]
mod chorale;
#[path = "../tests/notes_common/npy.rs"]
mod npy;

#[derive(Parser)]
#[command(about = "The notes library as JSON, for the Python parity tests")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Whole-file Basic Pitch posteriors and notes of an audio file.
    BpNotes {
        audio: PathBuf,
        /// Also write note.npy, onset.npy and contour.npy here.
        #[arg(long)]
        posteriors_out: Option<PathBuf>,
        /// Also write the mono 22,050 Hz audio the model saw (`[1, samples]` .npy).
        #[arg(long)]
        audio_out: Option<PathBuf>,
        #[command(flatten)]
        decode: DecodeArgs,
    },
    /// Notes from posteriors on disk (DIR/note.npy and DIR/onset.npy, `[frames, 88]` f32).
    BpDecode {
        dir: PathBuf,
        #[command(flatten)]
        decode: DecodeArgs,
    },
    /// The notes of a Standard MIDI File.
    MidiNotes { file: PathBuf },
    /// Note and frame metrics: CASES.json = {"cases": [{"reference": [[onset_s, offset_s,
    /// midi], ...], "estimate": [...]}, ...]}; times may be decimal strings (exact).
    Metrics { cases: PathBuf },
    /// Composes the test music (four chorales and two ensembles), writes each as MIDI and
    /// renders it with FluidSynth at RATE; prints a manifest.
    RenderMusic {
        out_dir: PathBuf,
        #[arg(long)]
        rate: u32,
        #[arg(long, default_value_t = chorale::SEED)]
        seed: u64,
        /// Chords per piece (each 0.5-1.5 s long).
        #[arg(long, default_value_t = chorale::CHORDS_PER_PIECE)]
        chords: usize,
        /// Progressions with common-practice tendencies (V to I, ii and IV to V) instead of
        /// any chord after any other.
        #[arg(long)]
        functional: bool,
    },
}

/// basic-pitch's note creation options (its defaults unless given).
#[derive(Args)]
struct DecodeArgs {
    #[arg(long)]
    onset_threshold: Option<f64>,
    #[arg(long)]
    frame_threshold: Option<f64>,
    #[arg(long)]
    min_note_ms: Option<f64>,
    #[arg(long)]
    min_freq: Option<f64>,
    #[arg(long)]
    max_freq: Option<f64>,
    #[arg(long)]
    no_melodia: bool,
    #[arg(long)]
    no_infer_onsets: bool,
}

impl DecodeArgs {
    fn params(&self) -> NoteCreationParams {
        let d = NoteCreationParams::default();
        NoteCreationParams {
            onset_threshold: self.onset_threshold.unwrap_or(d.onset_threshold),
            frame_threshold: self.frame_threshold.unwrap_or(d.frame_threshold),
            minimum_note_length_ms: self.min_note_ms.unwrap_or(d.minimum_note_length_ms),
            infer_onsets: !self.no_infer_onsets,
            melodia_trick: !self.no_melodia,
            minimum_frequency_hz: self.min_freq,
            maximum_frequency_hz: self.max_freq,
            ..d
        }
    }
}

fn notes_json(notes: &[FrameNote]) -> Value {
    notes
        .iter()
        .map(|n| {
            json!({
                "start_frame": n.start_frame,
                "end_frame": n.end_frame,
                "pitch_midi": n.pitch,
                "amplitude": n.amplitude,
                "velocity": n.velocity(),
                "start_s": n.start_s(),
                "end_s": n.end_s(),
            })
        })
        .collect()
}

fn bp_notes(
    audio: &Path,
    posteriors_out: Option<&Path>,
    audio_out: Option<&Path>,
    params: &NoteCreationParams,
) -> Result<Value> {
    let decoded = decode_file(audio)?;
    let mut model = BasicPitch::load_default()?;
    let at_22050 = resample_to_model_rate(&decoded.samples, decoded.sample_rate_hz)?;
    if let Some(path) = audio_out {
        write_npy_f32(path, &at_22050, 1, at_22050.len())?;
    }
    let post = reference_posteriors(&mut model, &at_22050)?;
    if let Some(dir) = posteriors_out {
        std::fs::create_dir_all(dir)?;
        write_npy_f32(&dir.join("note.npy"), &post.notes, post.n_frames, NUM_NOTES)?;
        write_npy_f32(
            &dir.join("onset.npy"),
            &post.onsets,
            post.n_frames,
            NUM_NOTES,
        )?;
        write_npy_f32(
            &dir.join("contour.npy"),
            &post.contour,
            post.n_frames,
            NUM_CONTOUR_BINS,
        )?;
    }
    let notes = decode_notes(&post.notes, &post.onsets, post.n_frames, params)?;
    Ok(json!({
        "sample_rate_hz": decoded.sample_rate_hz,
        "samples": decoded.samples.len(),
        "n_frames": post.n_frames,
        "notes": notes_json(&notes),
    }))
}

fn bp_decode(dir: &Path, params: &NoteCreationParams) -> Result<Value> {
    let read = |name: &str| -> Result<(usize, Vec<f32>)> {
        let (rows, cols, values) =
            npy::read_npy_f32(&dir.join(name)).map_err(anyhow::Error::msg)?;
        if cols != NUM_NOTES {
            bail!("{name} has {cols} columns, expected {NUM_NOTES}");
        }
        Ok((rows, values))
    };
    let (rows, note) = read("note.npy")?;
    let (onset_rows, onset) = read("onset.npy")?;
    if rows != onset_rows {
        bail!("note.npy has {rows} rows but onset.npy {onset_rows}");
    }
    let notes = decode_notes(&note, &onset, rows, params)?;
    Ok(json!({ "n_frames": rows, "notes": notes_json(&notes) }))
}

fn midi_notes(file: &Path) -> Result<Value> {
    let notes = read_midi_notes(file)?;
    Ok(notes
        .iter()
        .map(|n| {
            json!({
                "onset_s": n.note.onset_s,
                "offset_s": n.note.offset_s,
                "pitch": n.note.pitch,
                "velocity": n.note.velocity,
                "channel": n.channel,
                "program": n.program,
                "track": n.track,
            })
        })
        .collect())
}

/// A number given as a JSON number or, exactly, as a decimal string (serde_json's own float
/// parsing can be one ulp off; Rust's `str::parse` is correctly rounded).
fn exact_f64(v: &Value) -> Result<f64> {
    match v {
        Value::String(s) => s
            .parse::<f64>()
            .with_context(|| format!("{s:?} is not a number")),
        _ => v.as_f64().context("a note field is not a number"),
    }
}

fn parse_notes(value: &Value) -> Result<Vec<NoteEvent>> {
    let rows = value.as_array().context("a note list must be an array")?;
    rows.iter()
        .map(|row| {
            let r = row
                .as_array()
                .filter(|r| r.len() == 3)
                .context("a note must be [onset_s, offset_s, midi]")?;
            let pitch = exact_f64(&r[2])?;
            if !(0.0..=127.0).contains(&pitch) || pitch.fract() != 0.0 {
                bail!("pitch {pitch} is not a MIDI note number");
            }
            Ok(NoteEvent {
                onset_s: exact_f64(&r[0])?,
                offset_s: exact_f64(&r[1])?,
                pitch: pitch as u8,
                velocity: 64,
            })
        })
        .collect()
}

fn metrics(cases: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(cases)
        .with_context(|| format!("cannot read {}", cases.display()))?;
    let doc: Value = serde_json::from_str(&text)?;
    let list = doc["cases"].as_array().context("no \"cases\" array")?;
    let mut out = Vec::new();
    for case in list {
        let reference = parse_notes(&case["reference"])?;
        let estimate = parse_notes(&case["estimate"])?;
        let scores = evaluate(&reference, &estimate)?;
        // The single-metric entry points must agree with `evaluate`.
        assert_eq!(note_onset_prf(&reference, &estimate)?, scores.note);
        assert_eq!(frame_prf(&reference, &estimate)?, scores.frame);
        out.push(serde_json::to_value(scores)?);
    }
    Ok(Value::Array(out))
}

/// The four voices of a chorale on four instruments, one track and channel each (format 1,
/// tempo in track 0): 480 ticks per quarter at 120 BPM.
fn ensemble_smf(piece: &chorale::Piece, programs: [u8; 4]) -> Vec<u8> {
    const TICKS_PER_S: f64 = 960.0;
    let chunk = |body: Vec<u8>| {
        let mut out = b"MTrk".to_vec();
        out.extend((body.len() as u32).to_be_bytes());
        out.extend(body);
        out
    };
    let mut tracks = vec![chunk(vec![
        0x00, 0xff, 0x51, 0x03, 0x07, 0xa1, 0x20, 0x00, 0xff, 0x2f, 0x00,
    ])];
    for (voice, &program) in programs.iter().enumerate() {
        let channel = voice as u8;
        let mut events: Vec<(u32, bool, u8)> = piece
            .notes
            .iter()
            .skip(voice)
            .step_by(4)
            .flat_map(|n| {
                [
                    ((n.on_s * TICKS_PER_S).round() as u32, true, n.midi),
                    ((n.off_s * TICKS_PER_S).round() as u32, false, n.midi),
                ]
            })
            .collect();
        events.sort();
        let mut body = vec![0x00, 0xc0 | channel, program];
        let mut last = 0;
        for (tick, on, key) in events {
            chorale::var_len(tick - last, &mut body);
            last = tick;
            body.extend(if on {
                [0x90 | channel, key, 90]
            } else {
                [0x80 | channel, key, 0]
            });
        }
        body.extend([0x00, 0xff, 0x2f, 0x00]);
        tracks.push(chunk(body));
    }
    let mut out = b"MThd".to_vec();
    out.extend(6u32.to_be_bytes());
    out.extend([0, 1, 0, tracks.len() as u8, 0x01, 0xe0]);
    for t in tracks {
        out.extend(t);
    }
    out
}

fn render(mid: &Path, wav: &Path, rate: u32) -> Result<()> {
    let out = std::process::Command::new("fluidsynth")
        .args(["-ni", "-g", "0.5", "-F"])
        .arg(wav)
        .args(["-r", &rate.to_string(), chorale::SOUNDFONT])
        .arg(mid)
        .output()
        .context(
            "cannot run fluidsynth; install it (apt-get install fluidsynth fluid-soundfont-gm)",
        )?;
    if !out.status.success() || !wav.is_file() {
        bail!(
            "fluidsynth failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// (name, GM programs of bass, tenor, alto, soprano) of the ensembles.
const ENSEMBLES: [(&str, [u8; 4]); 2] = [
    // acoustic bass, nylon guitar, clarinet, flute
    ("ensemble_winds", [32, 24, 71, 73]),
    // cello, electric piano, trumpet, violin
    ("ensemble_mixed", [42, 4, 56, 40]),
];

fn render_music(
    out_dir: &Path,
    rate: u32,
    seed: u64,
    chords: usize,
    progression: chorale::Progression,
) -> Result<Value> {
    if !Path::new(chorale::SOUNDFONT).is_file() {
        bail!(
            "no soundfont at {}; install fluid-soundfont-gm",
            chorale::SOUNDFONT
        );
    }
    std::fs::create_dir_all(out_dir)?;
    let mut rng = Pcg32::seed_from_u64(seed);
    let mut pieces = Vec::new();
    for &(program, name) in &chorale::PROGRAMS {
        let piece = chorale::compose_chords(program, name, chords, progression, &mut rng);
        pieces.push((name.to_owned(), chorale::smf(&piece), piece));
    }
    for (name, programs) in ENSEMBLES {
        let piece = chorale::compose_chords(programs[3], "ensemble", chords, progression, &mut rng);
        pieces.push((name.to_owned(), ensemble_smf(&piece, programs), piece));
    }
    let mut manifest = Vec::new();
    for (name, smf, piece) in pieces {
        let mid = out_dir.join(format!("{name}.mid"));
        let wav = out_dir.join(format!("{name}.wav"));
        std::fs::write(&mid, smf)?;
        render(&mid, &wav, rate)?;
        let truth: Vec<Value> = piece
            .notes
            .iter()
            .map(|n| json!([n.on_s, n.off_s, n.midi]))
            .collect();
        manifest.push(json!({ "name": name, "mid": mid, "wav": wav, "notes": truth }));
    }
    Ok(Value::Array(manifest))
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let out = match cli.command {
        Command::BpNotes {
            audio,
            posteriors_out,
            audio_out,
            decode,
        } => bp_notes(
            &audio,
            posteriors_out.as_deref(),
            audio_out.as_deref(),
            &decode.params(),
        )?,
        Command::BpDecode { dir, decode } => bp_decode(&dir, &decode.params())?,
        Command::MidiNotes { file } => midi_notes(&file)?,
        Command::Metrics { cases } => metrics(&cases)?,
        Command::RenderMusic {
            out_dir,
            rate,
            seed,
            chords,
            functional,
        } => render_music(
            &out_dir,
            rate,
            seed,
            chords,
            if functional {
                chorale::Progression::Functional
            } else {
                chorale::Progression::Random
            },
        )?,
    };
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}
