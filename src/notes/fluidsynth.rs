//! MIDI files rendered to audio with FluidSynth, for `musichal train song.mid`: the tokens come
//! from the rendered audio and the notes are the file's own ([`super::NoteSource::Given`]).
//!
//! FluidSynth is a separate program (Debian `fluidsynth`), run once per file; the General MIDI
//! soundfont is Debian's `fluid-soundfont-gm` unless the caller names one. What is missing is
//! a typed [`RenderError`] that says what to install. Not real-time code.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::perception::{decode_file, PerceptionError};

/// Where Debian's `fluid-soundfont-gm` puts its soundfont, in the order tried.
pub const DEFAULT_SOUNDFONTS: [&str; 2] = [
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
];

/// The program run: `fluidsynth` on `PATH`, or the path in this variable.
pub const FLUIDSYNTH_ENV: &str = "MUSICHAL_FLUIDSYNTH";

/// Sample rate of the render, Hz (FluidSynth's own default).
pub const RENDER_RATE_HZ: u32 = 44_100;

/// Gain FluidSynth applies (`-g`): 0.5 keeps four-part GM renders below clipping.
pub const RENDER_GAIN: f32 = 0.5;

/// Why a MIDI file could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The FluidSynth program is not installed.
    #[error(
        "cannot render {midi}: FluidSynth is not installed ({program} not found); install it \
         (Debian/Ubuntu: `apt install fluidsynth`) or set {FLUIDSYNTH_ENV} to its path"
    )]
    FluidsynthMissing { midi: String, program: String },
    /// No soundfont: the one given does not exist, or none of [`DEFAULT_SOUNDFONTS`] does.
    #[error(
        "cannot render {midi}: no General MIDI soundfont{}; install one (Debian/Ubuntu: `apt \
         install fluid-soundfont-gm`) or pass --soundfont FILE.sf2",
        given.as_ref().map(|g| format!(" ({g} does not exist)")).unwrap_or_default()
    )]
    SoundfontMissing { midi: String, given: Option<String> },
    /// FluidSynth ran and failed.
    #[error("FluidSynth failed on {midi}: {message}")]
    Failed { midi: String, message: String },
    /// The MIDI file does not exist.
    #[error("{midi} does not exist; check the path")]
    MidiMissing { midi: String },
    /// The rendered audio could not be read back.
    #[error("reading FluidSynth's render of {midi}: {error}")]
    Decode {
        midi: String,
        error: PerceptionError,
    },
}

/// The soundfont to use: `given` when it exists, else the first of [`DEFAULT_SOUNDFONTS`]
/// that does.
pub fn find_soundfont(midi: &Path, given: Option<&Path>) -> Result<PathBuf, RenderError> {
    let missing = |given: Option<&Path>| RenderError::SoundfontMissing {
        midi: midi.display().to_string(),
        given: given.map(|g| g.display().to_string()),
    };
    match given {
        Some(path) if path.is_file() => Ok(path.to_path_buf()),
        Some(path) => Err(missing(Some(path))),
        None => DEFAULT_SOUNDFONTS
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or_else(|| missing(None)),
    }
}

/// Renders `midi` with FluidSynth and `soundfont` (or the default GM soundfont) and returns the
/// mono mix and its sample rate ([`RENDER_RATE_HZ`]).
pub fn render_midi(midi: &Path, soundfont: Option<&Path>) -> Result<(Vec<f32>, u32), RenderError> {
    let name = midi.display().to_string();
    if !midi.is_file() {
        return Err(RenderError::MidiMissing { midi: name });
    }
    let sf2 = find_soundfont(midi, soundfont)?;
    let program = std::env::var_os(FLUIDSYNTH_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("fluidsynth"));
    let dir = tempfile::tempdir().map_err(|e| RenderError::Failed {
        midi: name.clone(),
        message: format!("cannot create a temporary directory: {e}"),
    })?;
    let wav = dir.path().join("render.wav");
    let out = Command::new(&program)
        .args(["-n", "-i", "-q", "-g", &RENDER_GAIN.to_string(), "-F"])
        .arg(&wav)
        .args(["-r", &RENDER_RATE_HZ.to_string()])
        .arg(&sf2)
        .arg(midi)
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(RenderError::FluidsynthMissing {
                midi: name,
                program: program.display().to_string(),
            })
        }
        Err(e) => {
            return Err(RenderError::Failed {
                midi: name,
                message: e.to_string(),
            })
        }
    };
    if !out.status.success() || !wav.is_file() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(RenderError::Failed {
            midi: name,
            message: format!("{} ({})", stderr.trim(), out.status),
        });
    }
    let audio = decode_file(&wav).map_err(|error| RenderError::Decode {
        midi: name.clone(),
        error,
    })?;
    Ok((audio.samples, audio.sample_rate_hz))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_says_what_to_install() {
        // The variable is read per call; this test's program path cannot exist.
        let dir = tempfile::tempdir().unwrap();
        let mid = dir.path().join("a.mid");
        std::fs::write(&mid, b"MThd").unwrap();
        let err = find_soundfont(&mid, Some(&dir.path().join("none.sf2"))).unwrap_err();
        assert!(matches!(err, RenderError::SoundfontMissing { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("fluid-soundfont-gm") && text.contains("none.sf2"),
            "{text}"
        );
        let err = render_midi(&dir.path().join("nope.mid"), None).unwrap_err();
        assert!(matches!(err, RenderError::MidiMissing { .. }), "{err}");
    }
}
