//! `musichal train`, `musichal inspect`, `musichal synth`.

use super::{args, files};
use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressStyle};
use musichal::corpus::CorpusModel;
use musichal::oracle::DriveStream;
use musichal::perception::synth::render_music;
use musichal::trainer::{
    is_midi_path, train_inputs, NoteChoice, TrainConfig, TrainInput, TrainProgress,
};
use std::path::{Path, PathBuf};

/// Which token stream drives the oracle (command-line spelling).
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum DriveArg {
    Harmonic,
    Percussive,
    Both,
}

impl From<DriveArg> for DriveStream {
    fn from(d: DriveArg) -> Self {
        match d {
            DriveArg::Harmonic => DriveStream::Harmonic,
            DriveArg::Percussive => DriveStream::Percussive,
            DriveArg::Both => DriveStream::Both,
        }
    }
}

/// Where the notes of recordings without a MIDI file come from (command-line spelling).
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum NoteSourceArg {
    /// Basic Pitch with `--encoder basicpitch`, the DSP tracker otherwise.
    Auto,
    /// Basic Pitch (needs nmp.onnx and ONNX Runtime).
    BasicPitch,
    /// The built-in DSP note tracker.
    Dsp,
}

impl From<NoteSourceArg> for NoteChoice {
    fn from(n: NoteSourceArg) -> Self {
        match n {
            NoteSourceArg::Auto => NoteChoice::Auto,
            NoteSourceArg::BasicPitch => NoteChoice::BasicPitch,
            NoteSourceArg::Dsp => NoteChoice::Dsp,
        }
    }
}

#[derive(clap::Args)]
pub struct TrainArgs {
    /// Audio files (WAV, FLAC, MP3, OGG), or MIDI files (.mid: rendered with FluidSynth, their
    /// notes kept exactly); all frames of all files form one corpus.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// A MIDI file holding the notes of one audio input, aligned from its start; it belongs
    /// to the input with the same file stem (take.mid -> take.wav), or to the only audio input.
    /// Repeat for several inputs.
    #[arg(long = "notes", value_name = "FILE.mid", num_args = 1..)]
    pub notes: Vec<PathBuf>,
    /// Notes of audio inputs without --notes: `auto` is Basic Pitch with the basicpitch
    /// encoder and the DSP tracker otherwise.
    #[arg(long, value_enum, default_value_t = NoteSourceArg::Auto)]
    pub note_source: NoteSourceArg,
    /// Soundfont for MIDI inputs (default: the GM soundfont of Debian's fluid-soundfont-gm).
    #[arg(long, value_name = "FILE.sf2")]
    pub soundfont: Option<PathBuf>,
    /// Output corpus model (.mhc).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Gesture tokens per stream.
    #[arg(long, default_value_t = 64, allow_hyphen_values = true,
          value_parser = args::one_of::<u16>(VOCAB_SIZES))]
    pub vocab: u16,
    /// Frame encoder: `spectral`, or `onnx:<model.onnx>` (a waveform model with its
    /// `<model.onnx>.json` sidecar; see training/export_mert.py).
    #[arg(long, default_value = musichal::perception::SPECTRAL_ID)]
    pub encoder: String,
    /// Token stream(s) driving the oracle.
    #[arg(long, value_enum, default_value_t = DriveArg::Harmonic)]
    pub drive: DriveArg,
    /// K-means seed (same seed and input give the same model).
    #[arg(long, default_value_t = 0x5eed, allow_hyphen_values = true, value_parser = args::seed)]
    pub seed: u64,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Overwrite an existing output file.
    #[arg(long)]
    pub force: bool,
}

/// Vocabulary sizes `--vocab` accepts.
const VOCAB_SIZES: &[u64] = &[16, 64, 256];

pub fn train(args: TrainArgs) -> Result<()> {
    if args.output.exists() && !args.force {
        bail!(
            "{} exists; pass --force to overwrite it",
            args.output.display()
        );
    }
    let config = TrainConfig {
        vocab_size: args.vocab,
        drive: args.drive.into(),
        encoder: args.encoder.clone(),
        seed: args.seed,
        notes: args.note_source.into(),
        ..TrainConfig::default()
    };
    let inputs = pair_notes(&args.files, &args.notes)?;
    let bar = ProgressBar::new(1000);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:<28} [{bar:30}] {percent:>3}% {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let mut on_progress = |p: TrainProgress| match p {
        TrainProgress::Analysing {
            file,
            files,
            done_s,
            total_s,
        } => {
            bar.set_message(format!("analysing {}/{}", (file + 1).min(files), files));
            bar.set_position((1000.0 * done_s / total_s.max(1e-9)) as u64);
        }
        TrainProgress::Fitting { frames } => {
            bar.set_message(format!("vocabulary on {frames} frames"));
        }
        TrainProgress::Notes { file, files } => {
            bar.set_message(format!("notes {}/{}", (file + 1).min(files), files));
        }
        TrainProgress::Building => bar.set_message("oracle".to_string()),
    };
    let (model, report) = train_inputs(
        &inputs,
        args.soundfont.as_deref(),
        &config,
        &mut on_progress,
    )?;
    bar.finish_and_clear();
    // Errors of save name the file.
    model.save(&args.output)?;
    let corpus = model.report();
    if args.json {
        let out = serde_json::json!({ "corpus": corpus, "training": report });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{corpus}");
        for (name, r) in [
            ("harmonic", &report.harmonic),
            ("percussive", &report.percussive),
        ] {
            println!(
                "k-means {name:<10} {} iterations{}, inertia {:.4}",
                r.iterations,
                if r.converged { " (converged)" } else { "" },
                r.inertia
            );
        }
        println!(
            "time              {:.2} s for {:.1} s of audio ({:.0}x real time): analysis {:.2} s, \
             notes {:.2} s, vocabulary {:.2} s, oracle {:.3} s",
            report.total_s,
            report.audio_s,
            report.audio_s / report.total_s.max(1e-9),
            report.analysis_s,
            report.notes_s,
            report.fit_s,
            report.oracle_s
        );
        println!("wrote             {}", args.output.display());
    }
    Ok(())
}

/// Pairs each `--notes` file with its audio input: the input with the same file stem, or the
/// only audio input. Every `--notes` must find exactly one input, and an input at most one.
pub fn pair_notes(files: &[PathBuf], notes: &[PathBuf]) -> Result<Vec<TrainInput>> {
    let mut inputs: Vec<TrainInput> = files
        .iter()
        .map(|p| TrainInput {
            path: p.clone(),
            notes: None,
        })
        .collect();
    let audio: Vec<usize> = (0..files.len())
        .filter(|&i| !is_midi_path(&files[i]))
        .collect();
    let stem = |p: &Path| p.file_stem().map(|s| s.to_os_string());
    for mid in notes {
        if !is_midi_path(mid) {
            bail!("--notes {}: expected a MIDI file (.mid)", mid.display());
        }
        let by_stem: Vec<usize> = audio
            .iter()
            .copied()
            .filter(|&i| stem(&files[i]) == stem(mid))
            .collect();
        let target = match (by_stem.as_slice(), audio.as_slice()) {
            ([one], _) => *one,
            ([], [only]) if notes.len() == 1 => *only,
            ([], []) => bail!(
                "--notes {}: there is no audio input for it (MIDI inputs bring their own notes)",
                mid.display()
            ),
            ([], _) => bail!(
                "--notes {}: no audio input is named {}.*; name the MIDI file after its recording",
                mid.display(),
                stem(mid).unwrap_or_default().to_string_lossy()
            ),
            _ => bail!(
                "--notes {}: several audio inputs have that name; give them distinct names",
                mid.display()
            ),
        };
        if let Some(prev) = &inputs[target].notes {
            bail!(
                "{} has two --notes files: {} and {}",
                files[target].display(),
                prev.display(),
                mid.display()
            );
        }
        inputs[target].notes = Some(mid.clone());
    }
    Ok(inputs)
}

#[derive(clap::Args)]
pub struct InspectArgs {
    /// Corpus model (.mhc).
    pub corpus: PathBuf,
    /// Dump everything as JSON: header, report, every frame with both tokens, the centroids,
    /// and the oracle's transitions, suffix links and lrs.
    #[arg(long)]
    pub json: bool,
}

pub fn inspect(args: InspectArgs) -> Result<()> {
    // Errors of load name the file.
    let model = CorpusModel::load(&args.corpus)?;
    if args.json {
        // Streamed: a one-hour corpus dump is large.
        let stdout = std::io::stdout().lock();
        serde_json::to_writer(std::io::BufWriter::new(stdout), &model.to_json())?;
        println!();
    } else {
        println!("corpus            {}", args.corpus.display());
        println!("written by        {}", model.created_by);
        println!("format version    {}", model.format_version);
        println!("{}", model.report());
    }
    Ok(())
}

/// Longest piece `synth` writes, seconds.
const MAX_SYNTH_SECONDS: f32 = 3600.0;

#[derive(clap::Args)]
pub struct SynthArgs {
    /// Output WAV file (mono, 16-bit).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Length in seconds (above 0, at most an hour).
    #[arg(long, default_value_t = 30.0, allow_hyphen_values = true,
          value_parser = args::number_above_f32(0.0, MAX_SYNTH_SECONDS))]
    pub seconds: f32,
    /// Sample rate, Hz.
    #[arg(long, default_value_t = 48_000, allow_hyphen_values = true,
          value_parser = args::whole_in::<u32>(8_000, 192_000))]
    pub rate: u32,
    /// Seed: each seed is a different piece.
    #[arg(long, default_value_t = 1, allow_hyphen_values = true, value_parser = args::seed)]
    pub seed: u64,
}

/// Writes the project's synthetic music (pad, bass, melody, drums in changing sections): the
/// audio the embedded corpus is trained on and the demo plays.
pub fn synth(args: SynthArgs) -> Result<()> {
    // `--seconds` and `--rate` were checked by their parsers.
    let samples = render_music(args.seconds, args.rate, args.seed);
    files::write_wav(
        &args.output,
        &[&samples],
        args.rate,
        files::WavFormat::Pcm16,
    )?;
    println!(
        "wrote {} ({:.1} s at {} Hz)",
        args.output.display(),
        args.seconds,
        args.rate
    );
    Ok(())
}
