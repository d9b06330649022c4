//! `musichal`: the command line. Subcommands grow with the issues (train, inspect, features,
//! render); `eq` decodes the semantic EQ; `doctor` checks that this machine can run the
//! plugin's worker side.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use musichal::dsp::{Eq5, EqParams};
use musichal::eq_morph::{EqMorphError, EqMorphModel, PARAM_ORDER};
use std::path::PathBuf;

mod cli;

#[derive(Parser)]
#[command(
    name = "musichal",
    version,
    about = "MusicHal: listen, answer in MIDI, colour with words"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check the ONNX Runtime library and the embedded EQ model.
    Doctor,
    /// Decode the semantic EQ: the 13 parameters for a point between two terms.
    Eq(EqArgs),
    /// Learn a corpus from audio files: tokens, payload and oracle, saved as .mhc.
    Train(cli::corpus::TrainArgs),
    /// Print a corpus model's report, or dump everything with --json.
    Inspect(cli::corpus::InspectArgs),
    /// Write the project's synthetic example music as a WAV file.
    Synth(cli::corpus::SynthArgs),
    /// Run a WAV file through the built plugin offline: processed audio and the MIDI answer.
    Render(cli::render::RenderArgs),
    /// Write a file's frame vectors (harmonic, percussive or both) as .npy.
    Features(cli::features::FeaturesArgs),
}

#[derive(clap::Args)]
struct EqArgs {
    /// Term at morph 0.
    #[arg(long, default_value = "warm")]
    term_a: String,
    /// Term at morph 1.
    #[arg(long, default_value = "bright")]
    term_b: String,
    /// 0 = term A, 1 = term B.
    #[arg(long, default_value_t = 0.5, allow_hyphen_values = true,
          value_parser = cli::args::number_in_f32(0.0, 1.0))]
    morph: f32,
    /// 0 = flat, 1 = as learned, up to 2 (gains clamped to ±12 dB).
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true,
          value_parser = cli::args::number_in_f32(0.0, musichal::eq_morph::MAX_INTENSITY))]
    intensity: f32,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// List the model's terms and exit.
    #[arg(long)]
    list_terms: bool,
    /// A user model (ONNX; its metadata JSON beside it with the same stem) instead of the
    /// embedded one.
    #[arg(long)]
    model: Option<PathBuf>,
}

/// Frequencies at which `eq` reports the response, Hz.
const REPORT_FREQS_HZ: [f32; 10] = [
    31.5, 63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0,
];
/// Sample rate used for the reported response (the response barely depends on it below 16 kHz).
const REPORT_SAMPLE_RATE_HZ: f32 = 48_000.0;

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Doctor => doctor(),
        Command::Eq(args) => eq(args),
        Command::Train(args) => cli::corpus::train(args),
        Command::Inspect(args) => cli::corpus::inspect(args),
        Command::Synth(args) => cli::corpus::synth(args),
        Command::Render(args) => cli::render::run(args),
        Command::Features(args) => cli::features::run(args),
    };
    if let Err(e) = result {
        // `{:#}` prints the whole cause chain on one line, without a backtrace: these are
        // user-facing errors (unknown term, missing library), not bugs.
        eprintln!("musichal: error: {e:#}");
        std::process::exit(1);
    }
}

fn load_model(path: Option<&PathBuf>) -> Result<EqMorphModel> {
    Ok(match path {
        Some(p) => {
            cli::files::check_input(p, "an ONNX EQ model")?;
            EqMorphModel::from_files(p, None).map_err(|error| match error {
                // Names its file (the model's or its metadata's) already.
                EqMorphError::ModelMissing { .. } => anyhow::Error::from(error),
                error => cli::files::FileError::EqModel {
                    path: p.clone(),
                    error,
                }
                .into(),
            })?
        }
        None => EqMorphModel::embedded()?,
    })
}

fn eq(args: EqArgs) -> Result<()> {
    let mut model = load_model(args.model.as_ref())?;
    if args.list_terms {
        let terms: Vec<_> = model
            .meta()
            .terms
            .iter()
            .map(|t| (t.name.clone(), t.count))
            .collect();
        if args.json {
            let list: Vec<_> = terms
                .iter()
                .map(|(n, c)| serde_json::json!({"name": n, "count": c}))
                .collect();
            println!("{}", serde_json::to_string_pretty(&list)?);
        } else {
            for (name, count) in terms {
                println!("{name:<12} {count:>4} examples");
            }
        }
        return Ok(());
    }
    let params = model.decode(&args.term_a, &args.term_b, args.morph, args.intensity)?;
    let mut response = [0.0f32; REPORT_FREQS_HZ.len()];
    Eq5::magnitude_response_db(
        &params,
        REPORT_SAMPLE_RATE_HZ,
        &REPORT_FREQS_HZ,
        &mut response,
    );
    let values = params.to_array();
    if args.json {
        let mut p = serde_json::Map::new();
        for (name, v) in PARAM_ORDER.iter().zip(values) {
            p.insert((*name).into(), serde_json::json!(v));
        }
        let r: Vec<_> = REPORT_FREQS_HZ
            .iter()
            .zip(response)
            .map(|(f, db)| serde_json::json!({"freq_hz": f, "gain_db": db}))
            .collect();
        let out = serde_json::json!({
            "term_a": args.term_a, "term_b": args.term_b, "morph": args.morph,
            "intensity": args.intensity, "params": p, "response": r,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "{} -> {}  morph {:.2}  intensity {:.2}\n",
            args.term_a, args.term_b, args.morph, args.intensity
        );
        print_params(&params);
        println!("\nresponse at {} kHz:", REPORT_SAMPLE_RATE_HZ / 1000.0);
        for (f, db) in REPORT_FREQS_HZ.iter().zip(response) {
            println!("  {:>7.1} Hz  {:+6.2} dB", f, db);
        }
    }
    Ok(())
}

fn print_params(p: &EqParams) {
    println!(
        "  low shelf   {:+6.2} dB @ {:>7.1} Hz",
        p.ls_gain_db, p.ls_freq_hz
    );
    for (i, (g, f, q)) in [
        (p.p1_gain_db, p.p1_freq_hz, p.p1_q),
        (p.p2_gain_db, p.p2_freq_hz, p.p2_q),
        (p.p3_gain_db, p.p3_freq_hz, p.p3_q),
    ]
    .into_iter()
    .enumerate()
    {
        println!(
            "  peak {}      {:+6.2} dB @ {:>7.1} Hz  Q {:.2}",
            i + 1,
            g,
            f,
            q
        );
    }
    println!(
        "  high shelf  {:+6.2} dB @ {:>7.1} Hz",
        p.hs_gain_db, p.hs_freq_hz
    );
}

fn doctor() -> Result<()> {
    println!("musichal {}", env!("CARGO_PKG_VERSION"));
    musichal::onnx::environment().context("ONNX Runtime is not usable")?;
    println!(
        "ONNX Runtime {} loaded from {}",
        musichal::onnx::ORT_VERSION,
        musichal::onnx::loaded_library_path()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    let mut model = EqMorphModel::embedded().context("embedded EQ model")?;
    let terms: Vec<String> = model.term_names().map(str::to_owned).collect();
    println!(
        "EQ morph model: {} terms ({})",
        terms.len(),
        terms.join(", ")
    );
    if terms.len() >= 2 {
        let p = model.decode(&terms[0], &terms[1], 0.5, 1.0)?;
        println!("{} <-> {} at 0.5:", terms[0], terms[1]);
        print_params(&p);
    }
    // Optional: the `basicpitch` encoder's model. Its absence is not an error (the default
    // `spectral` encoder and the DSP chroma need nothing), so say what it means.
    match musichal::perception::basic_pitch::BasicPitch::load_default() {
        Ok(_) => println!(
            "Basic Pitch model: found (the basicpitch encoder and deep chroma are available)"
        ),
        Err(e) => println!(
            "Basic Pitch model: not available ({e}); the spectral encoder and DSP chroma are used"
        ),
    }
    Ok(())
}
