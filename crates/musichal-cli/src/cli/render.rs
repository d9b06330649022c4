//! `musichal render`: runs an audio file through the built plugin, offline, and writes the
//! processed audio and the MIDI answer.
//!
//! The plugin is not re-implemented here: the command loads the built CLAP binary with the
//! project's CLAP host (`musichal_clap_host`, the same one the integration tests use), switches
//! it to offline rendering (`clap.render`: the plugin then waits for its worker, so renders
//! are reproducible), sets the parameters by name and display text, and processes the file
//! block by block.

use super::args;
use super::files::{self, FileError};
use anyhow::{anyhow, Context, Result};
use musichal::corpus::CorpusModel;
use musichal::rt::clock::TEMPO_RANGE_BPM;
use musichal_clap_host::{BlockSizes, ClapHost};
use std::path::{Path, PathBuf};

/// MIDI file resolution: ticks per quarter note.
pub const TICKS_PER_QUARTER: u16 = 480;
/// Silence appended to the input so every answer ends inside the render, seconds.
pub const TAIL_S: f64 = 1.5;

#[derive(clap::Args)]
pub struct RenderArgs {
    /// Input WAV file (any channel count: mono stays mono, more channels use the first two).
    pub input: PathBuf,
    /// Output WAV (32-bit float, the plugin's output exactly, plus a 1.5 s tail).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Standard MIDI file of the answer.
    #[arg(long)]
    pub midi: Option<PathBuf>,
    /// Corpus model (.mhc); the embedded one when absent.
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// Parameters as `name=value` with display names and text, e.g. `"Morph=30 %"`,
    /// `"EQ Bypass=Off"`, `"Term A=warm"`, `Transpose=-12`.
    #[arg(value_name = "PARAM=VALUE")]
    pub params: Vec<String>,
    /// Block size of the render, samples.
    #[arg(long, default_value_t = 512, allow_hyphen_values = true,
          value_parser = args::whole_in::<u32>(1, MAX_BLOCK))]
    pub block: u32,
    /// Also write an HTML report (EQ curves, token histograms, piano roll).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// The plugin binary (`MusicHal.clap`); default: `MUSICHAL_CLAP_PATH`, else beside this
    /// program (`target/bundled/`).
    #[arg(long)]
    pub plugin: Option<PathBuf>,
    /// Play the render against a host transport at this tempo (quarter notes per minute),
    /// playing from bar 1, as a DAW would: the *beat* and *bar* answer modes follow it, and the
    /// MIDI file carries it. Without it the plugin has no transport and uses its `Tempo`
    /// parameter.
    #[arg(long, value_name = "BPM", allow_hyphen_values = true,
          value_parser = args::number_in(TEMPO_RANGE_BPM.0, TEMPO_RANGE_BPM.1))]
    pub tempo: Option<f64>,
    /// Time signature of that transport, e.g. `7/8` (default 4/4).
    #[arg(long, value_name = "N/D", default_value = "4/4", allow_hyphen_values = true,
          value_parser = args::time_signature)]
    pub time_sig: (u16, u16),
}

/// Largest `--block`, samples.
const MAX_BLOCK: u32 = 8192;

/// The host transport of a render.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RenderTransport {
    pub tempo_bpm: f64,
    pub time_sig: (u16, u16),
}

impl RenderTransport {
    /// From `--tempo` and `--time-sig` (both checked by their parsers); `None` without a tempo.
    pub fn from_args(tempo: Option<f64>, time_sig: (u16, u16)) -> Option<Self> {
        tempo.map(|tempo_bpm| Self {
            tempo_bpm,
            time_sig,
        })
    }
}

/// Why a `"Name=value"` argument of `render` was refused: each names the argument and says
/// what the parameter takes, in clap's words for options.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamArgError {
    #[error("invalid parameter argument '{arg}': write it as \"Name=value\", e.g. \"Morph=30 %\"")]
    NotNameValue { arg: String },
    #[error("unknown parameter '{name}'; the parameters are {known}")]
    Unknown { name: String, known: String },
    #[error("invalid value '{value}' for parameter '{name}': must be a number from {lo} to {hi}")]
    NotANumberInRange {
        name: String,
        value: String,
        lo: String,
        hi: String,
    },
    #[error(
        "invalid value '{value}' for parameter '{name}': must be a whole number from {lo} to {hi}"
    )]
    NotAWholeNumberInRange {
        name: String,
        value: String,
        lo: String,
        hi: String,
    },
    #[error("invalid value '{value}' for parameter '{name}': must be one of {choices}")]
    NotAChoice {
        name: String,
        value: String,
        choices: String,
    },
    #[error("parameter '{name}' cannot be read from the plugin: {reason}")]
    Host { name: String, reason: String },
}

/// Most values a stepped parameter may have for its display texts to be listed as choices.
const MAX_LISTED_CHOICES: f64 = 256.0;

/// The number and unit of a display text such as `"-24.00 dB"`, `"100 %"` or `"16"`; `None`
/// for words (`"On"`, `"warm"`, `"1/16 T"`) and for non-finite numbers.
fn display_number(text: &str) -> Option<(f64, &str)> {
    let text = text.trim();
    let (number, unit) = text.split_once(' ').unwrap_or((text, ""));
    number
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(|v| (v, unit.trim()))
}

/// Checks one `"Name=value"` argument against the parameter as the plugin describes it (its
/// display texts at the range's ends, or every step's text), and returns the name and the text
/// to set. Numbers are in the parameter's display unit (`Morph=30 %`, `Tempo=97`), must be
/// finite and inside the displayed range, and whole for stepped parameters; words must be one
/// of the parameter's values (any case; the plugin's own spelling is passed on).
pub fn param_setting(host: &mut ClapHost, arg: &str) -> Result<(String, String), ParamArgError> {
    let (name, value) = arg
        .split_once('=')
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .filter(|(n, _)| !n.is_empty())
        .ok_or_else(|| ParamArgError::NotNameValue {
            arg: arg.to_owned(),
        })?;
    let info = host
        .param_by_name(&name)
        .ok_or_else(|| ParamArgError::Unknown {
            name: name.clone(),
            known: host
                .params()
                .iter()
                .map(|p| format!("'{}'", p.name))
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    let host_error = |e: musichal_clap_host::HostError| ParamArgError::Host {
        name: name.clone(),
        reason: e.to_string(),
    };
    let lo_text = host.value_to_text(&name, info.min).map_err(host_error)?;
    let hi_text = host.value_to_text(&name, info.max).map_err(host_error)?;
    if let (Some((lo, unit)), Some((hi, _))) = (display_number(&lo_text), display_number(&hi_text))
    {
        // The number without its unit (any case); the plugin gets the number alone, which every
        // one of its parsers reads in the display unit.
        let number_text = value
            .get(value.len().saturating_sub(unit.len())..)
            .filter(|end| !unit.is_empty() && end.eq_ignore_ascii_case(unit))
            .map_or(value.as_str(), |_| &value[..value.len() - unit.len()])
            .trim()
            .to_owned();
        let number = number_text.parse::<f64>().ok();
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        let inside = number.filter(|x| x.is_finite() && (lo..=hi).contains(x));
        return match inside {
            Some(x) if info.is_stepped() && x.fract() != 0.0 => {
                Err(ParamArgError::NotAWholeNumberInRange {
                    name,
                    value,
                    lo: lo_text,
                    hi: hi_text,
                })
            }
            Some(_) => Ok((name, number_text)),
            None if info.is_stepped() => Err(ParamArgError::NotAWholeNumberInRange {
                name,
                value,
                lo: lo_text,
                hi: hi_text,
            }),
            None => Err(ParamArgError::NotANumberInRange {
                name,
                value,
                lo: lo_text,
                hi: hi_text,
            }),
        };
    }
    if info.is_stepped() && info.max - info.min <= MAX_LISTED_CHOICES {
        let mut choices = Vec::new();
        let mut v = info.min;
        while v <= info.max {
            choices.push(host.value_to_text(&name, v).map_err(host_error)?);
            v += 1.0;
        }
        return match choices.iter().find(|c| c.eq_ignore_ascii_case(&value)) {
            Some(choice) => Ok((name, choice.clone())),
            None => Err(ParamArgError::NotAChoice {
                name,
                value,
                choices: choices.join(", "),
            }),
        };
    }
    Ok((name, value))
}

/// What a render produced.
pub struct Rendered {
    pub rate: u32,
    pub audio: Vec<Vec<f32>>,
    /// (sample, channel, key, velocity 0..=1 or `None` for a note off).
    pub notes: Vec<(u64, u8, u8, Option<f64>)>,
}

/// The plugin binary: `--plugin`, `MUSICHAL_CLAP_PATH`, or the bundle next to this program.
pub fn find_plugin(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        files::check_input(p, "a CLAP plugin")?;
        // Absolute, so that dlopen loads this file rather than searching the library path.
        return Ok(std::path::absolute(p).map_err(|source| FileError::Io {
            op: "read",
            path: p.to_owned(),
            error: source,
        })?);
    }
    if let Some(p) = std::env::var_os("MUSICHAL_CLAP_PATH").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().context("locating this program")?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let mut candidates = vec![dir.join("MusicHal.clap")];
    if let Some(target) = dir.parent() {
        candidates.push(target.join("bundled").join("MusicHal.clap"));
    }
    candidates.push(dir.join("libmusichal.so"));
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            anyhow!(
                "the plugin binary was not found (looked at {}); build it with \
                 `cargo xtask bundle musichal --release` or pass --plugin",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

fn read_wav(path: &Path) -> Result<(Vec<Vec<f32>>, u32), FileError> {
    files::check_input(path, "an audio file")?;
    let bad = |e| files::wav_read_error(path, e);
    let mut reader = hound::WavReader::open(path).map_err(bad)?;
    let spec = reader.spec();
    let channels = spec.channels as usize;
    if channels == 0 {
        return Err(FileError::NotWav {
            path: path.into(),
            reason: "its header says 0 channels".into(),
        });
    }
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(bad)?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(bad)?
        }
    };
    let keep = channels.min(2);
    let frames = samples.len() / channels;
    let audio = (0..keep)
        .map(|c| (0..frames).map(|i| samples[i * channels + c]).collect())
        .collect();
    Ok((audio, spec.sample_rate))
}

/// Renders `input` through the plugin at `plugin`.
pub fn render(
    plugin: &Path,
    input: &Path,
    corpus: Option<&Path>,
    params: &[String],
    block: u32,
    transport: Option<RenderTransport>,
) -> Result<Rendered> {
    let block = block as usize;
    let (mut audio, rate) = read_wav(input)?;
    let tail = (TAIL_S * rate as f64) as usize;
    for ch in audio.iter_mut() {
        ch.extend(std::iter::repeat_n(0.0, tail));
    }
    let mut host = ClapHost::load(plugin).map_err(|_| FileError::NotPlugin {
        path: plugin.to_owned(),
    })?;
    if audio.len() == 1 {
        host.select_channel_layout(1)
            .map_err(|e| anyhow!("mono layout: {e}"))?;
    }
    host.set_offline_render(true)
        .map_err(|e| anyhow!("offline render mode: {e}"))?;
    if let Some(c) = corpus {
        // Load it here first: the plugin would keep its embedded corpus and only log why.
        // Errors of load name the file.
        CorpusModel::load(c)?;
        let c = c.canonicalize().map_err(|source| FileError::Io {
            op: "read",
            path: c.to_owned(),
            error: source,
        })?;
        host.set_persisted_field("corpus-path", &Some(c.display().to_string()))
            .map_err(|e| anyhow!("setting the corpus: {e}"))?;
    }
    for p in params {
        let (name, value) = param_setting(&mut host, p)?;
        host.set_param_text(&name, &value)
            .map_err(|e| anyhow!("parameter {p:?}: {e}"))?;
    }
    host.activate(rate as f64, 1, block as u32)
        .map_err(|e| anyhow!("activating at {rate} Hz: {e}"))?;
    host.set_transport(transport.map(|t| musichal_clap_host::Transport {
        playing: true,
        tempo_bpm: t.tempo_bpm,
        time_sig_num: t.time_sig.0,
        time_sig_denom: t.time_sig.1,
        song_pos_beats: 0.0,
    }));
    let out = host
        .process_signal(&audio, &BlockSizes::Fixed(block), &[])
        .map_err(|e| anyhow!("processing: {e}"))?;
    host.deactivate()
        .map_err(|e| anyhow!("deactivating: {e}"))?;
    let notes = out
        .midi
        .iter()
        .filter_map(|(t, e)| {
            e.note_on()
                .map(|(c, k, v)| (*t, c, k, Some(v)))
                .or_else(|| e.note_off().map(|(c, k)| (*t, c, k, None)))
        })
        .collect();
    Ok(Rendered {
        rate,
        audio: out.audio,
        notes,
    })
}

/// The MIDI tick of a sample position at `tempo_bpm` ([`TICKS_PER_QUARTER`] per beat).
pub fn sample_to_tick(sample: u64, rate: u32, tempo_bpm: f64) -> u64 {
    let ticks_per_s = TICKS_PER_QUARTER as f64 * tempo_bpm / 60.0;
    (sample as f64 / rate as f64 * ticks_per_s).round() as u64
}

fn var_len(mut v: u64, out: &mut Vec<u8>) {
    let mut bytes = vec![(v & 0x7f) as u8];
    v >>= 7;
    while v > 0 {
        bytes.push(((v & 0x7f) as u8) | 0x80);
        v >>= 7;
    }
    out.extend(bytes.iter().rev());
}

/// A format-0 standard MIDI file of `notes` (in emission order, which is time order) at the
/// render's tempo and time signature.
pub fn smf_bytes(
    notes: &[(u64, u8, u8, Option<f64>)],
    rate: u32,
    transport: Option<RenderTransport>,
) -> Vec<u8> {
    let (tempo, (num, den)) = transport
        .map_or((musichal::rt::clock::DEFAULT_TEMPO_BPM, (4, 4)), |t| {
            (t.tempo_bpm, t.time_sig)
        });
    let mut track = Vec::new();
    // Tempo (microseconds per quarter note) and time signature (denominator as a power of 2,
    // 24 clocks per metronome click, 8 thirty-seconds per quarter).
    let us_per_quarter = (60e6 / tempo).round() as u32;
    track.extend([0x00, 0xff, 0x51, 0x03]);
    track.extend(&us_per_quarter.to_be_bytes()[1..]);
    track.extend([
        0x00,
        0xff,
        0x58,
        0x04,
        num as u8,
        den.trailing_zeros() as u8,
        24,
        8,
    ]);
    let mut last = 0u64;
    for &(t, ch, key, vel) in notes {
        let tick = sample_to_tick(t, rate, tempo);
        var_len(tick.saturating_sub(last), &mut track);
        last = tick.max(last);
        match vel {
            Some(v) => track.extend([
                0x90 | (ch & 0x0f),
                key & 0x7f,
                ((v * 127.0).round() as u8).clamp(1, 127),
            ]),
            None => track.extend([0x80 | (ch & 0x0f), key & 0x7f, 0]),
        }
    }
    track.extend([0x00, 0xff, 0x2f, 0x00]);
    let mut out = b"MThd".to_vec();
    out.extend(6u32.to_be_bytes());
    out.extend(0u16.to_be_bytes()); // format 0
    out.extend(1u16.to_be_bytes()); // one track
    out.extend(TICKS_PER_QUARTER.to_be_bytes());
    out.extend(b"MTrk");
    out.extend((track.len() as u32).to_be_bytes());
    out.extend(track);
    out
}

pub fn run(args: RenderArgs) -> Result<()> {
    let plugin = find_plugin(args.plugin.as_deref())?;
    let ort_beside = plugin
        .parent()
        .is_some_and(|d| d.join(musichal::onnx::ORT_LIBRARY_FILE).is_file());
    if !ort_beside && std::env::var_os("ORT_DYLIB_PATH").is_none() {
        eprintln!(
            "musichal: note: no {} beside the plugin and ORT_DYLIB_PATH is unset: the EQ stays \
             flat (answers are unaffected); `cargo xtask fetch-ort` places it in target/bundled/",
            musichal::onnx::ORT_LIBRARY_FILE
        );
    }
    let transport = RenderTransport::from_args(args.tempo, args.time_sig);
    let r = render(
        &plugin,
        &args.input,
        args.corpus.as_deref(),
        &args.params,
        args.block,
        transport,
    )?;
    let channels: Vec<&[f32]> = r.audio.iter().map(Vec::as_slice).collect();
    files::write_wav(&args.output, &channels, r.rate, files::WavFormat::Float32)?;
    let ons = r.notes.iter().filter(|n| n.3.is_some()).count();
    if let Some(midi) = &args.midi {
        std::fs::write(midi, smf_bytes(&r.notes, r.rate, transport))
            .map_err(files::write_error(midi))?;
    }
    println!(
        "rendered {} ({:.1} s at {} Hz) through {}: {} notes answered",
        args.input.display(),
        r.audio.first().map_or(0, Vec::len) as f64 / r.rate as f64,
        r.rate,
        plugin.display(),
        ons
    );
    println!("wrote {}", args.output.display());
    if let Some(midi) = &args.midi {
        println!("wrote {}", midi.display());
    }
    if let Some(report) = &args.report {
        let text = |name: &str, default: &'static str| -> String {
            args.params
                .iter()
                .filter_map(|p| p.split_once('='))
                .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_else(|| default.to_owned())
        };
        let (a, b) = (text("Term A", "warm"), text("Term B", "bright"));
        super::report::write_report(
            &super::report::ReportInput {
                input: &args.input,
                corpus: args.corpus.as_deref(),
                term_a: &a,
                term_b: &b,
                notes: &r.notes,
                rate: r.rate,
            },
            report,
        )?;
        println!("wrote {}", report.display());
    }
    Ok(())
}
