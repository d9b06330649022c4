//! `musichal features`: the frame vectors of a file, as `.npy`, for users' own analysis.

use super::files::FileError;
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use musichal::perception::{decode_file, write_npy_f32, PerceptionConfig, PerceptionError, Stream};
use std::path::PathBuf;

/// Which stream(s) to write.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum StreamArg {
    Harmonic,
    Percussive,
    /// Both, side by side: `[frames, 2 * dim]`, harmonic first.
    Both,
}

#[derive(clap::Args)]
pub struct FeaturesArgs {
    /// Audio file (WAV, FLAC, MP3, OGG; channels are averaged).
    pub input: PathBuf,
    /// Stream(s) to write.
    #[arg(long, value_enum, default_value_t = StreamArg::Both)]
    pub stream: StreamArg,
    /// Frame encoder: `spectral`, or `onnx:<model.onnx>` (with its `.onnx.json` sidecar).
    #[arg(long, default_value = musichal::perception::SPECTRAL_ID)]
    pub encoder: String,
    /// Output `.npy` (float32, C order, `[frames, dim]`), vectors before normalisation.
    #[arg(short, long)]
    pub output: PathBuf,
}

pub fn run(args: FeaturesArgs) -> Result<()> {
    // Errors of decode_file name the file.
    let audio = decode_file(&args.input)?;
    let in_file = |source| FileError::Audio {
        path: args.input.clone(),
        error: source,
    };
    let config = PerceptionConfig::default();
    let mut perception = musichal::perception::build(&args.encoder, config.clone())?;
    let rate = audio.sample_rate_hz;
    let min = perception.min_samples(rate);
    if audio.samples.len() < min {
        return Err(in_file(PerceptionError::TooShort {
            samples: audio.samples.len(),
            min_samples: min,
            rate_hz: rate,
        })
        .into());
    }
    let seg = config.segment_samples(rate).max(1);
    let bar = ProgressBar::new(audio.samples.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} encoding [{bar:30}] {percent:>3}% {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let dim = perception.dim();
    let width = match args.stream {
        StreamArg::Both => 2 * dim,
        _ => dim,
    };
    let mut data: Vec<f32> = Vec::new();
    let mut rows = 0usize;
    // The trainer's path: consecutive segments of one stream (Perception::encode_file_segments
    // does the same, without the progress bar).
    for (i, chunk) in audio.samples.chunks(seg).enumerate() {
        let frames = perception
            .process_segment(chunk, rate, (i * seg) as u64)
            .map_err(in_file)?;
        for f in 0..frames.n_frames {
            match args.stream {
                StreamArg::Harmonic => data.extend_from_slice(frames.row(Stream::Harmonic, f)),
                StreamArg::Percussive => data.extend_from_slice(frames.row(Stream::Percussive, f)),
                StreamArg::Both => {
                    data.extend_from_slice(frames.row(Stream::Harmonic, f));
                    data.extend_from_slice(frames.row(Stream::Percussive, f));
                }
            }
            rows += 1;
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    write_npy_f32(&args.output, &data, rows, width)?;
    println!(
        "wrote {} ({rows} frames x {width}, {:.1} frames/s, encoder {})",
        args.output.display(),
        perception.frames_per_s(),
        perception.encoder_id()
    );
    Ok(())
}
