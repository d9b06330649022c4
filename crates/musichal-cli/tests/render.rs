//! `musichal render` is the plugin: its audio equals, sample for sample, and its MIDI file
//! holds exactly, what the built plugin gives through the host harness for the same input,
//! parameters and block size.

#[path = "../../../tests/common/mod.rs"]
mod common;

use common::clap_host::*;
use common::signals::*;
use common::smf::parse_smf;
use musichal::perception::synth::render_music;
use std::process::Command;

const RATE: u32 = 44_100;
const BLOCK: usize = 512;
const TAIL_S: f64 = 1.5;

/// A stereo WAV of the project's synthetic music in `dir`; returns its path and channels.
fn write_input(
    dir: &std::path::Path,
    seconds: f32,
    seed: u64,
) -> (std::path::PathBuf, Vec<Vec<f32>>) {
    std::fs::create_dir_all(dir).unwrap();
    let left = render_music(seconds, RATE, seed);
    let right: Vec<f32> = left.iter().map(|s| s * 0.5).collect();
    let input = dir.join("in.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&input, spec).unwrap();
    for (l, r) in left.iter().zip(&right) {
        w.write_sample(*l).unwrap();
        w.write_sample(*r).unwrap();
    }
    w.finalize().unwrap();
    (input, vec![left, right])
}

/// `musichal render` of `input` with `args`; returns (out.wav, out.mid).
fn run_render(
    dir: &std::path::Path,
    input: &std::path::Path,
    args: &[&str],
) -> (std::path::PathBuf, std::path::PathBuf) {
    let out_wav = dir.join("out.wav");
    let out_mid = dir.join("out.mid");
    let status = Command::new(env!("CARGO_BIN_EXE_musichal"))
        .arg("render")
        .arg(input)
        .arg("-o")
        .arg(&out_wav)
        .arg("--midi")
        .arg(&out_mid)
        .arg("--plugin")
        .arg(plugin_path())
        .args(args)
        .status()
        .unwrap();
    assert!(status.success());
    (out_wav, out_mid)
}

/// The same through the harness: the input plus the render's tail, in blocks of [`BLOCK`].
fn through_harness(
    input: &[Vec<f32>],
    params: &[&str],
    transport: Option<Transport>,
) -> (Vec<Vec<f32>>, ProcessOutput) {
    let mut host = ClapHost::load(plugin_path()).unwrap();
    host.set_offline_render(true).unwrap();
    for p in params {
        let (n, v) = p.split_once('=').unwrap();
        host.set_param_text(n, v).unwrap();
    }
    host.activate(RATE as f64, 1, BLOCK as u32).unwrap();
    host.set_transport(transport);
    let tail = (TAIL_S * RATE as f64) as usize;
    let signal: Vec<Vec<f32>> = input
        .iter()
        .cloned()
        .map(|mut c| {
            c.extend(std::iter::repeat_n(0.0, tail));
            c
        })
        .collect();
    let expected = host
        .process_signal(&signal, &BlockSizes::Fixed(BLOCK), &[])
        .unwrap();
    host.deactivate().unwrap();
    (signal, expected)
}

/// The harness' MIDI as SMF events at `tempo` (480 ticks per quarter).
fn as_smf_events(out: &ProcessOutput, tempo_bpm: f64) -> Vec<(u64, u8, u8, u8)> {
    let ticks_per_sample = 480.0 * tempo_bpm / 60.0 / RATE as f64;
    out.midi
        .iter()
        .filter_map(|(t, e)| {
            let tick = (*t as f64 * ticks_per_sample).round() as u64;
            e.note_on()
                .map(|(c, k, v)| (tick, 0x90 | c, k, ((v * 127.0).round() as u8).max(1)))
                .or_else(|| e.note_off().map(|(c, k)| (tick, 0x80 | c, k, 0)))
        })
        .collect()
}

/// The tempo meta event of a SMF, in microseconds per quarter note.
fn smf_tempo(bytes: &[u8]) -> u32 {
    let at = bytes
        .windows(3)
        .position(|w| w == [0xff, 0x51, 0x03])
        .expect("a tempo event");
    u32::from_be_bytes([0, bytes[at + 3], bytes[at + 4], bytes[at + 5]])
}

#[test]
fn render_equals_the_plugin_through_the_host() {
    let dir = std::env::temp_dir().join(format!("musichal-render-{}", std::process::id()));
    // 12 s: the answer plays the input's density in whole quotes, a phrase and a rest, so 5 s
    // held 7–15 notes over `MUSICHAL_ANSWER_SEED` 0–8 (fewer than the 11 the MIDI check
    // needs at four seeds); 12 s holds 13–24.
    let (input, channels) = write_input(&dir, 12.0, 31);
    let params = ["EQ Bypass=Off", "Morph=30 %", "Transpose=2", "Density=90 %"];
    let (out_wav, out_mid) = run_render(&dir, &input, &params);
    let (signal, expected) = through_harness(&channels, &params, None);

    let mut reader = hound::WavReader::open(&out_wav).unwrap();
    assert_eq!(reader.spec().channels, 2);
    let got: Vec<f32> = reader.samples::<f32>().map(Result::unwrap).collect();
    let frames = got.len() / 2;
    assert_eq!(frames, expected.audio[0].len());
    for c in 0..2 {
        for i in 0..frames {
            assert_eq!(
                got[i * 2 + c].to_bits(),
                expected.audio[c][i].to_bits(),
                "channel {c} sample {i}"
            );
        }
    }
    // The EQ was engaged: the output is not the input.
    assert!(max_abs_diff(&expected.audio, &signal) > 1e-3);

    let bytes = std::fs::read(&out_mid).unwrap();
    assert_eq!(smf_tempo(&bytes), 500_000, "120 BPM without --tempo");
    let midi = parse_smf(&bytes);
    assert!(midi.len() > 20, "{} MIDI events", midi.len());
    assert_eq!(midi, as_smf_events(&expected, 120.0));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn render_with_a_tempo_gives_the_midi_of_a_host_transport() {
    let dir = std::env::temp_dir().join(format!("musichal-render-tempo-{}", std::process::id()));
    // 12 s, as above: 5 s held 6–16 notes (fewer than 11 at six seeds of nine), 12 s 16–30.
    let (input, channels) = write_input(&dir, 12.0, 32);
    let params = ["Answer Mode=Beat", "Grid=1/16", "Density=90 %"];
    let mut args = params.to_vec();
    args.extend(["--tempo", "97", "--time-sig", "7/8"]);
    let (_, out_mid) = run_render(&dir, &input, &args);
    let transport = Transport {
        playing: true,
        tempo_bpm: 97.0,
        time_sig_num: 7,
        time_sig_denom: 8,
        song_pos_beats: 0.0,
    };
    let (_, expected) = through_harness(&channels, &params, Some(transport));
    let bytes = std::fs::read(&out_mid).unwrap();
    assert_eq!(smf_tempo(&bytes), (60e6_f64 / 97.0).round() as u32);
    let midi = parse_smf(&bytes);
    assert!(midi.len() > 20, "{} MIDI events", midi.len());
    assert_eq!(midi, as_smf_events(&expected, 97.0));
    // In beat mode at 97 BPM every event starts on a sixteenth: 120 ticks at 480 per quarter
    // (the MIDI file's own rounding aside: within one tick). An event's other notes (starting
    // within 50 ms = 38.8 ticks of its first) move with it and keep their distance.
    let spread = (0.05 * 97.0 / 60.0 * 480.0_f64).ceil() as u64 + 1;
    let mut first: Option<u64> = None;
    let mut events = 0;
    for &(tick, status, _, _) in &midi {
        if status & 0xf0 == 0x90 {
            if first.is_some_and(|f| u64::from(tick) <= f + spread) {
                continue;
            }
            first = Some(u64::from(tick));
            events += 1;
            let off = tick % 120;
            assert!(
                off <= 1 || off >= 119,
                "the event at tick {tick} is off the 1/16 grid"
            );
        }
    }
    assert!(events >= 5, "only {events} events");
    // Without the transport the same parameters follow the Tempo parameter (120 BPM) instead.
    let (_, free_tempo) = through_harness(&channels, &params, None);
    assert_ne!(notes_on(&free_tempo), notes_on(&expected));
    std::fs::remove_dir_all(&dir).ok();
}

fn notes_on(out: &ProcessOutput) -> Vec<u64> {
    out.midi
        .iter()
        .filter(|(_, e)| e.note_on().is_some())
        .map(|(t, _)| *t)
        .collect()
}

#[test]
fn render_reports_bad_input_clearly() {
    let never_written = std::env::temp_dir().join(format!(
        "musichal-render-bad-{}/out.wav",
        std::process::id()
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_musichal"))
        .args(["render", "/nonexistent/in.wav", "-o"])
        .arg(&never_written)
        .arg("--plugin")
        .arg(plugin_path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/in.wav"), "{err}");
    assert!(!never_written.exists(), "a failed render wrote its output");
}
