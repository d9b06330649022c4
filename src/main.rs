//! `musichal`: the command line. Subcommands grow with the issues (train, inspect, features,
//! render, eq); `doctor` checks that this machine can run the plugin's worker side.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "musichal", version, about = "MusicHal: listen, answer in MIDI, colour with words")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check the ONNX Runtime library and report what this build can do.
    Doctor,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Doctor => doctor(),
    }
}

fn doctor() -> Result<()> {
    println!("musichal {}", env!("CARGO_PKG_VERSION"));
    let env = musichal::onnx::environment().context("ONNX Runtime is not usable")?;
    let _ = env;
    println!(
        "ONNX Runtime {} loaded from {}",
        musichal::onnx::ORT_VERSION,
        musichal::onnx::loaded_library_path()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    Ok(())
}
