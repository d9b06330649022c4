//! Every numeric option of every `musichal` subcommand refuses NaN, infinities and values out of
//! its range with one clear message naming the option and the range, and a non-zero exit; so do
//! `render`'s `"Name=value"` parameter arguments (checked against the plugin's own ranges and
//! values). Run through the real binary, as a user would.

#[path = "../../../tests/common/mod.rs"]
mod common;

use common::clap_host::plugin_path;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn musichal(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_musichal"))
        .args(args)
        .env("MUSICHAL_HOST_QUIET", "1")
        .output()
        .expect("running musichal")
}

/// A per-test scratch directory, empty.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("musichal-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A mono 16-bit WAV of `seconds` of the synthetic music.
fn write_wav(path: &Path, seconds: f32) {
    let rate = 48_000;
    let samples = musichal::perception::synth::render_music(seconds, rate, 3);
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16)
            .unwrap();
    }
    w.finalize().unwrap();
}

/// Runs each row; each must exit non-zero with `fragment` in its error output and nothing
/// written to stdout (no setting printed, no "wrote").
fn assert_refused(rows: &[(Vec<String>, String)]) {
    let mut failures = Vec::new();
    for (args, fragment) in rows {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = musichal(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        if out.status.success() || out.status.code().is_none() {
            failures.push(format!(
                "{args:?}: exit {:?}, stdout {stdout:?}",
                out.status
            ));
        } else if !stderr.contains(fragment.as_str()) {
            failures.push(format!("{args:?}: {stderr:?} lacks {fragment:?}"));
        } else if !stdout.trim().is_empty() {
            failures.push(format!("{args:?}: printed {stdout:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} refusals wrong:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

fn row<S: AsRef<str>>(args: &[S], fragment: &str) -> (Vec<String>, String) {
    (
        args.iter().map(|s| s.as_ref().to_owned()).collect(),
        fragment.to_owned(),
    )
}

#[test]
fn numeric_options_refuse_non_finite_and_out_of_range_values() {
    let dir = scratch("cli-args");
    let wav = dir.join("in.wav");
    write_wav(&wav, 0.5);
    let wav = wav.to_str().unwrap();
    let out_wav = dir.join("out.wav");
    let out_wav = out_wav.to_str().unwrap();
    let mhc = dir.join("c.mhc");
    let mhc = mhc.to_str().unwrap();

    let morph = |v: &str| {
        format!("invalid value '{v}' for '--morph <MORPH>': must be a number from 0 to 1")
    };
    let intensity = |v: &str| {
        format!("invalid value '{v}' for '--intensity <INTENSITY>': must be a number from 0 to 2")
    };
    let seconds = |v: &str| {
        format!("invalid value '{v}' for '--seconds <SECONDS>': must be a number above 0 and at most 3600")
    };
    let seed = |opt: &str, v: &str| {
        format!("invalid value '{v}' for '{opt}': must be a whole number from 0 to 18446744073709551615")
    };
    let mut rows = Vec::new();
    for v in ["NaN", "nan", "inf", "-inf", "1e400", "-0.5", "1.01", "x"] {
        rows.push(row(&["eq", "--morph", v], &morph(v)));
    }
    for v in ["NaN", "inf", "-1", "2.5"] {
        rows.push(row(&["eq", "--intensity", v], &intensity(v)));
    }
    for v in ["NaN", "inf", "0", "-1", "3601"] {
        rows.push(row(&["synth", "-o", out_wav, "--seconds", v], &seconds(v)));
    }
    for v in ["NaN", "0", "-48000", "7999", "192001", "48000.5"] {
        rows.push(row(
            &["synth", "-o", out_wav, "--rate", v],
            &format!("invalid value '{v}' for '--rate <RATE>': must be a whole number from 8000 to 192000"),
        ));
    }
    for v in ["-1", "1.5", "NaN", "18446744073709551616"] {
        rows.push(row(
            &["synth", "-o", out_wav, "--seed", v],
            &seed("--seed <SEED>", v),
        ));
        rows.push(row(
            &["train", wav, "-o", mhc, "--seed", v],
            &seed("--seed <SEED>", v),
        ));
    }
    for v in ["0", "17", "-64", "NaN", "64.0", "65536"] {
        rows.push(row(
            &["train", wav, "-o", mhc, "--vocab", v],
            &format!("invalid value '{v}' for '--vocab <VOCAB>': must be one of 16, 64, 256"),
        ));
    }
    for v in ["NaN", "inf", "-120", "0", "19.9", "400.5"] {
        rows.push(row(
            &["render", wav, "-o", out_wav, "--tempo", v],
            &format!("invalid value '{v}' for '--tempo <BPM>': must be a number from 20 to 400"),
        ));
    }
    for v in ["4/3", "0/4", "33/4", "-4/4", "NaN/4", "4", "7/8/8"] {
        rows.push(row(
            &["render", wav, "-o", out_wav, "--tempo", "97", "--time-sig", v],
            &format!("invalid value '{v}' for '--time-sig <N/D>': must be a time signature like 4/4 or 7/8"),
        ));
    }
    for v in ["0", "-512", "8193", "512.5", "NaN"] {
        rows.push(row(
            &["render", wav, "-o", out_wav, "--block", v],
            &format!(
                "invalid value '{v}' for '--block <BLOCK>': must be a whole number from 1 to 8192"
            ),
        ));
    }
    assert_refused(&rows);
    assert!(
        !Path::new(out_wav).exists(),
        "a refused command wrote {out_wav}"
    );
    assert!(!Path::new(mhc).exists(), "a refused command wrote {mhc}");
}

#[test]
fn render_parameter_arguments_are_checked_against_the_plugin() {
    let dir = scratch("cli-params");
    let wav = dir.join("in.wav");
    write_wav(&wav, 0.5);
    let wav = wav.to_str().unwrap();
    let out_wav = dir.join("out.wav");
    let out_wav = out_wav.to_str().unwrap();
    let plugin = plugin_path();
    let plugin = plugin.to_str().unwrap();
    let render = |param: &str| -> Vec<String> {
        ["render", wav, "-o", out_wav, "--plugin", plugin, param]
            .map(String::from)
            .to_vec()
    };
    let number = |name: &str, v: &str, lo: &str, hi: &str| {
        format!("invalid value '{v}' for parameter '{name}': must be a number from {lo} to {hi}")
    };
    let whole = |name: &str, v: &str, lo: &str, hi: &str| {
        format!(
            "invalid value '{v}' for parameter '{name}': must be a whole number from {lo} to {hi}"
        )
    };
    let mut rows = Vec::new();
    for v in ["NaN", "inf", "-inf %", "150 %", "-1", "x"] {
        rows.push(row(
            &render(&format!("Morph={v}")),
            &number("Morph", v, "0 %", "100 %"),
        ));
    }
    for v in ["-inf", "-inf dB", "+50 dB", "NaN dB"] {
        rows.push(row(
            &render(&format!("Output Gain={v}")),
            &number("Output Gain", v, "-24.00 dB", "24.00 dB"),
        ));
    }
    for v in ["1e400", "2.5", "-0.1"] {
        rows.push(row(
            &render(&format!("Intensity={v}")),
            &number("Intensity", v, "0.00", "2.00"),
        ));
    }
    for v in ["0", "1000", "NaN", "inf BPM"] {
        rows.push(row(
            &render(&format!("Tempo={v}")),
            &number("Tempo", v, "40.00 BPM", "240.00 BPM"),
        ));
    }
    rows.push(row(
        &render("Taboo=-1"),
        &number("Taboo", "-1", "0.0 s", "10.0 s"),
    ));
    rows.push(row(
        &render("Note Length=0"),
        &number("Note Length", "0", "0.25 x", "4.00 x"),
    ));
    rows.push(row(
        &render("Velocity=nan x"),
        &number("Velocity", "nan x", "0.00 x", "2.00 x"),
    ));
    for v in ["99", "-25", "1.5", "NaN", "inf"] {
        rows.push(row(
            &render(&format!("Transpose={v}")),
            &whole("Transpose", v, "-24 st", "24 st"),
        ));
    }
    for v in ["0", "17", "1.5"] {
        rows.push(row(
            &render(&format!("MIDI Channel={v}")),
            &whole("MIDI Channel", v, "1", "16"),
        ));
    }
    rows.push(row(
        &render("Listen=maybe"),
        "invalid value 'maybe' for parameter 'Listen': must be one of Off, On",
    ));
    rows.push(row(
        &render("Grid=1/3"),
        "invalid value '1/3' for parameter 'Grid': must be one of 1/4, 1/8, 1/16, 1/4 T, 1/8 T, 1/16 T",
    ));
    rows.push(row(
        &render("Foo=1"),
        "unknown parameter 'Foo'; the parameters are 'Output Gain'",
    ));
    rows.push(row(
        &render("Morph"),
        "invalid parameter argument 'Morph': write it as \"Name=value\"",
    ));
    assert_refused(&rows);
    assert!(
        !Path::new(out_wav).exists(),
        "a refused render wrote {out_wav}"
    );
}

/// The ends of every range are accepted, and a parameter's words and units in any case mean
/// what the plugin's own spelling means: the two renders are the same audio.
#[test]
fn range_ends_and_other_spellings_are_accepted() {
    let dir = scratch("cli-ok");
    let synth_out = dir.join("s.wav");
    let out = musichal(&[
        "synth",
        "-o",
        synth_out.to_str().unwrap(),
        "--seconds",
        "0.25",
        "--rate",
        "8000",
        "--seed",
        "18446744073709551615",
    ]);
    assert!(out.status.success(), "{out:?}");
    let reader = hound::WavReader::open(&synth_out).unwrap();
    assert_eq!(reader.spec().sample_rate, 8000);
    assert_eq!(reader.duration(), 2000);

    let out = musichal(&["eq", "--morph", "1", "--intensity", "2", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["morph"], 1.0);
    assert_eq!(json["intensity"], 2.0);

    let wav = dir.join("in.wav");
    write_wav(&wav, 1.0);
    let plugin = plugin_path();
    let render = |out: &Path, params: &[&str]| {
        let mut args = vec![
            "render",
            wav.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--plugin",
            plugin.to_str().unwrap(),
            "--tempo",
            "400",
            "--time-sig",
            "32/32",
            "--block",
            "8192",
        ];
        args.extend(params);
        let o = musichal(&args);
        assert!(o.status.success(), "{params:?}: {o:?}");
        hound::WavReader::open(out)
            .unwrap()
            .samples::<f32>()
            .map(Result::unwrap)
            .collect::<Vec<f32>>()
    };
    let canonical = render(
        &dir.join("a.wav"),
        &[
            "EQ Bypass=Off",
            "Drive=Both",
            "Morph=0 %",
            "Output Gain=-24 dB",
            "Tempo=240",
            "Transpose=-24",
        ],
    );
    let other = render(
        &dir.join("b.wav"),
        &[
            "EQ Bypass=off",
            "Drive=both",
            "Morph=0%",
            "Output Gain=-24.00 DB",
            "Tempo=240 bpm",
            "Transpose=-24st",
        ],
    );
    assert!(canonical.iter().any(|s| *s != 0.0), "silent render");
    assert_eq!(canonical, other);
}
