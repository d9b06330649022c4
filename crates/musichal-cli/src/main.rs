//! `musichal`: the command line. This file parses the arguments and dispatches; each subcommand
//! lives in its module under `cli/` (train, inspect, evaluate, synth, features, render, eq, doctor).

use clap::{Parser, Subcommand};

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
    Eq(cli::eq::EqArgs),
    /// Learn a corpus from audio (or MIDI) files: tokens, notes and oracle, saved as .mhc.
    Train(cli::corpus::TrainArgs),
    /// Score notes against their MIDI files: a corpus' stored notes, or recordings transcribed.
    Evaluate(cli::evaluate::EvaluateArgs),
    /// Print a corpus model's report, or dump everything with --json.
    Inspect(cli::corpus::InspectArgs),
    /// Write the project's synthetic example music as a WAV file.
    Synth(cli::corpus::SynthArgs),
    /// Run a WAV file through the built plugin offline: processed audio and the MIDI answer.
    Render(cli::render::RenderArgs),
    /// Write a file's frame vectors (harmonic, percussive or both) as .npy.
    Features(cli::features::FeaturesArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Doctor => cli::doctor::run(),
        Command::Eq(args) => cli::eq::run(args),
        Command::Train(args) => cli::corpus::train(args),
        Command::Evaluate(args) => cli::evaluate::run(args),
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
