//! `musichal doctor`: checks that this machine can run the plugin's worker side (ONNX Runtime,
//! the embedded EQ model, the optional Basic Pitch model).

use super::eq::print_params;
use anyhow::{Context, Result};
use musichal::eq_morph::EqMorphModel;

pub fn run() -> Result<()> {
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
