//! `musichal render` is the plugin: its audio equals, sample for sample, and its MIDI file
//! holds exactly, what the built plugin gives through the host harness for the same input,
//! parameters and block size.

mod common;

use common::clap_host::*;
use musichal::perception::synth::render_music;
use std::process::Command;

const RATE: u32 = 44_100;
const BLOCK: usize = 512;
const TAIL_S: f64 = 1.5;

/// Note events of a format-0 SMF as (tick, status, key, velocity).
fn parse_smf(bytes: &[u8]) -> Vec<(u64, u8, u8, u8)> {
    assert_eq!(&bytes[..4], b"MThd");
    let division = u16::from_be_bytes([bytes[12], bytes[13]]);
    assert_eq!(division, 480);
    assert_eq!(&bytes[14..18], b"MTrk");
    let len = u32::from_be_bytes(bytes[18..22].try_into().unwrap()) as usize;
    let track = &bytes[22..22 + len];
    let mut i = 0;
    let mut tick = 0u64;
    let mut out = Vec::new();
    while i < track.len() {
        let mut delta = 0u64;
        loop {
            let b = track[i];
            i += 1;
            delta = (delta << 7) | (b & 0x7f) as u64;
            if b & 0x80 == 0 {
                break;
            }
        }
        tick += delta;
        let status = track[i];
        if status == 0xff {
            let len = track[i + 2] as usize;
            i += 3 + len;
        } else {
            out.push((tick, status, track[i + 1], track[i + 2]));
            i += 3;
        }
    }
    out
}

#[test]
fn render_equals_the_plugin_through_the_host() {
    let dir = std::env::temp_dir().join(format!("musichal-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let left = render_music(5.0, RATE, 31);
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
    let params = ["EQ Bypass=Off", "Morph=30 %", "Transpose=2", "Density=90 %"];

    let out_wav = dir.join("out.wav");
    let out_mid = dir.join("out.mid");
    let status = Command::new(env!("CARGO_BIN_EXE_musichal"))
        .arg("render")
        .arg(&input)
        .arg("-o")
        .arg(&out_wav)
        .arg("--midi")
        .arg(&out_mid)
        .arg("--plugin")
        .arg(plugin_path())
        .args(params)
        .status()
        .unwrap();
    assert!(status.success());

    // The same through the harness.
    let mut host = TestHost::load(plugin_path()).unwrap();
    host.set_offline_render(true).unwrap();
    for p in params {
        let (n, v) = p.split_once('=').unwrap();
        host.set_param_text(n, v).unwrap();
    }
    host.activate(RATE as f64, 1, BLOCK as u32).unwrap();
    let tail = (TAIL_S * RATE as f64) as usize;
    let signal: Vec<Vec<f32>> = [left, right]
        .into_iter()
        .map(|mut c| {
            c.extend(std::iter::repeat_n(0.0, tail));
            c
        })
        .collect();
    let expected = host
        .process_signal(&signal, &BlockSizes::Fixed(BLOCK), &[])
        .unwrap();
    host.deactivate().unwrap();

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

    let ticks_per_sample = 960.0 / RATE as f64;
    let want: Vec<(u64, u8, u8, u8)> = expected
        .midi
        .iter()
        .filter_map(|(t, e)| {
            let tick = (*t as f64 * ticks_per_sample).round() as u64;
            e.note_on()
                .map(|(c, k, v)| (tick, 0x90 | c, k, ((v * 127.0).round() as u8).max(1)))
                .or_else(|| e.note_off().map(|(c, k)| (tick, 0x80 | c, k, 0)))
        })
        .collect();
    let midi = parse_smf(&std::fs::read(&out_mid).unwrap());
    assert!(midi.len() > 20, "{} MIDI events", midi.len());
    assert_eq!(midi, want);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn render_reports_bad_input_clearly() {
    let out = Command::new(env!("CARGO_BIN_EXE_musichal"))
        .args([
            "render",
            "/nonexistent/in.wav",
            "-o",
            "/tmp/x.wav",
            "--plugin",
        ])
        .arg(plugin_path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/in.wav"), "{err}");
}
