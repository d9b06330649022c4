//! The README's main job, `cargo xtask demo`, in small: the same commands (`musichal synth`,
//! then `musichal render` through the built plugin with the demo's parameters and `--report`)
//! on a short input, checking everything the demo promises to leave behind: the processed
//! audio, a MIDI file with the answer, and a report with EQ curves for several morph values,
//! token histograms of both streams and a piano roll of input and answer.

#[path = "../../../tests/common/mod.rs"]
mod common;

use common::checks::assert_balanced;
use common::clap_host::plugin_path;
use common::smf::parse_smf;
use std::process::Command;

/// The demo's render parameters (`xtask/src/main.rs`, `demo`).
const DEMO_PARAMS: [&str; 4] = [
    "EQ Bypass=Off",
    "Term A=warm",
    "Term B=bright",
    "Morph=35 %",
];

fn read_wav(path: &std::path::Path) -> (hound::WavSpec, Vec<f32>) {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(|s| s.unwrap()).collect(),
        hound::SampleFormat::Int => {
            let scale = (1i64 << (spec.bits_per_sample - 1)) as f32;
            r.samples::<i32>()
                .map(|s| s.unwrap() as f32 / scale)
                .collect()
        }
    };
    (spec, samples)
}

/// Number of `needle`s in `haystack`.
fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn the_demo_leaves_audio_a_midi_answer_and_a_full_report() {
    let dir = std::env::temp_dir().join(format!("musichal-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = env!("CARGO_BIN_EXE_musichal");
    let input = dir.join("input.wav");
    let ok = Command::new(exe)
        .args(["synth", "--seconds", "5", "--seed", "2026", "-o"])
        .arg(&input)
        .status()
        .unwrap();
    assert!(ok.success(), "musichal synth failed");
    let (out_wav, out_mid, report) = (
        dir.join("out.wav"),
        dir.join("answer.mid"),
        dir.join("report.html"),
    );
    let ok = Command::new(exe)
        .arg("render")
        .arg(&input)
        .arg("-o")
        .arg(&out_wav)
        .arg("--midi")
        .arg(&out_mid)
        .arg("--report")
        .arg(&report)
        .arg("--plugin")
        .arg(plugin_path())
        .args(DEMO_PARAMS)
        .status()
        .unwrap();
    assert!(ok.success(), "musichal render failed");

    // The audio: the input's length plus the render's tail, finite, and coloured by the EQ.
    let (in_spec, in_samples) = read_wav(&input);
    let (out_spec, out_samples) = read_wav(&out_wav);
    assert_eq!(out_spec.sample_rate, in_spec.sample_rate);
    let in_frames = in_samples.len() / in_spec.channels as usize;
    let out_frames = out_samples.len() / out_spec.channels as usize;
    // The render adds exactly its tail after the input.
    // README: `render` writes the output "plus a 1.5 s tail".
    let tail = (1.5 * in_spec.sample_rate as f64) as usize;
    assert_eq!(
        out_frames,
        in_frames + tail,
        "{out_frames} output frames for {in_frames} input frames and a {tail}-frame tail"
    );
    assert!(out_samples.iter().all(|s| s.is_finite()));
    assert_eq!(
        out_spec.channels, in_spec.channels,
        "the render keeps the input's channel layout"
    );
    let moved = in_samples
        .iter()
        .zip(&out_samples)
        .filter(|(a, b)| (*a - *b).abs() > 1e-4)
        .count();
    assert!(
        moved > in_samples.len() / 10,
        "the EQ left the audio almost untouched ({moved} samples moved)"
    );

    // The MIDI answer: notes, each ended by its own note off.
    let midi = parse_smf(&std::fs::read(&out_mid).unwrap());
    let events: Vec<_> = midi
        .iter()
        .filter(|e| matches!(e.1 & 0xf0, 0x80 | 0x90))
        .map(|&(tick, status, key, velocity)| {
            (
                tick,
                status & 0x0f,
                key,
                status & 0xf0 == 0x90 && velocity > 0,
            )
        })
        .collect();
    let ons = assert_balanced(&events);
    assert!(ons >= 3, "only {ons} notes answered 5 s of music");

    // The report.
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        !html.contains("unavailable"),
        "part of the report is missing"
    );
    assert!(
        html.contains(&format!("{ons} notes answered")),
        "the report's note count disagrees with the MIDI file ({ons})"
    );
    // EQ curves for five morph values, from warm to bright.
    for m in ["0.00", "0.25", "0.50", "0.75", "1.00"] {
        assert_eq!(
            count(&html, &format!("morph {m}<")),
            1,
            "no curve for morph {m}"
        );
    }
    assert!(count(&html, "<polyline") >= 5);
    // Token histograms of both streams: 5 s of music (375 frames) uses several tokens of each.
    for stream in ["harmonic", "percussive"] {
        let at = html
            .find(&format!("{stream}: "))
            .unwrap_or_else(|| panic!("no {stream} histogram"));
        let used: usize = html[at + stream.len() + 2..]
            .split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(used >= 4, "{stream}: only {used} tokens heard");
    }
    // The piano roll: input pitches (orange) and the answer (green), one box per note.
    assert!(
        count(&html, r##"fill="#e6a03c" opacity"##) > 50,
        "no input pitches drawn"
    );
    assert_eq!(
        count(&html, r##"fill="#69ddbe" stroke"##),
        ons,
        "the piano roll does not draw every answered note"
    );
    std::fs::remove_dir_all(&dir).ok();
}
