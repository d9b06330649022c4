//! `musichal eq`: decodes the semantic EQ, the 13 parameters for a point between two terms,
//! and prints them with the response they give.

use super::files::{self, FileError};
use anyhow::Result;
use musichal::dsp::{Eq5, EqParams};
use musichal::eq_morph::{EqMorphError, EqMorphModel, PARAM_ORDER};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct EqArgs {
    /// Term at morph 0.
    #[arg(long, default_value = "warm")]
    term_a: String,
    /// Term at morph 1.
    #[arg(long, default_value = "bright")]
    term_b: String,
    /// 0 = term A, 1 = term B.
    #[arg(long, default_value_t = 0.5, allow_hyphen_values = true,
          value_parser = super::args::number_in_f32(0.0, 1.0))]
    morph: f32,
    /// 0 = flat, 1 = as learned, up to 2 (gains clamped to ±12 dB).
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true,
          value_parser = super::args::number_in_f32(0.0, musichal::eq_morph::MAX_INTENSITY))]
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

fn load_model(path: Option<&PathBuf>) -> Result<EqMorphModel> {
    Ok(match path {
        Some(p) => {
            files::check_input(p, "an ONNX EQ model")?;
            EqMorphModel::from_files(p, None).map_err(|error| match error {
                // Names its file (the model's or its metadata's) already.
                EqMorphError::ModelMissing { .. } => anyhow::Error::from(error),
                error => FileError::EqModel {
                    path: p.clone(),
                    error,
                }
                .into(),
            })?
        }
        None => EqMorphModel::embedded()?,
    })
}

pub fn run(args: EqArgs) -> Result<()> {
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

pub(super) fn print_params(p: &EqParams) {
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
