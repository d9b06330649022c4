//! Bad and unusual input: typed errors or correct handling, never a panic.
//! WAVs are written with hound into a temp dir; FLAC/OGG/MP3 fixtures (1 s, 440 Hz, stereo,
//! 22.05 kHz, made with flac/oggenc/lame) live in `tests/fixtures/perception/`.

use std::path::{Path, PathBuf};

use musichal::perception::{decode_file, Perception, PerceptionConfig, PerceptionError};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("musichal_perception_{name}_{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_wav_i16(path: &Path, rate: u32, channels: u16, frames: &[Vec<f32>]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for f in frames {
        for &s in f {
            w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16)
                .unwrap();
        }
    }
    w.finalize().unwrap();
}

fn write_wav_f32(path: &Path, rate: u32, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}

fn sine(rate: u32, secs: f32, freq: f32) -> Vec<f32> {
    (0..(rate as f32 * secs) as usize)
        .map(|i| 0.5 * (std::f32::consts::TAU * freq * i as f32 / rate as f32).sin())
        .collect()
}

fn encode(path: &Path) -> Result<usize, PerceptionError> {
    let audio = decode_file(path)?;
    let mut p = Perception::new(PerceptionConfig::default())?;
    let frames = p.encode_file(&audio.samples, audio.sample_rate_hz)?;
    assert!(frames.iter().all(|f| f
        .harmonic
        .iter()
        .chain(&f.percussive)
        .all(|v| v.is_finite())));
    Ok(frames.len())
}

#[test]
fn empty_short_and_garbage_files() {
    let d = temp_dir("bad");
    let empty = d.join("empty.wav");
    write_wav_i16(&empty, 44_100, 1, &[]);
    assert!(
        matches!(decode_file(&empty), Err(PerceptionError::NoSamples { .. })),
        "{:?}",
        decode_file(&empty)
    );
    let short = d.join("10ms.wav");
    write_wav_i16(&short, 44_100, 1, &[sine(44_100, 0.01, 440.0)]);
    assert_eq!(decode_file(&short).unwrap().samples.len(), 441);
    assert!(matches!(
        encode(&short),
        Err(PerceptionError::TooShort { samples: 441, .. })
    ));
    let missing = d.join("missing.wav");
    assert!(matches!(
        decode_file(&missing),
        Err(PerceptionError::Io { .. })
    ));
    let garbage =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/perception/not_audio.wav");
    assert!(
        matches!(
            decode_file(&garbage),
            Err(PerceptionError::UnsupportedFormat { .. })
        ),
        "{:?}",
        decode_file(&garbage)
    );
    // In-memory too.
    let mut p = Perception::new(PerceptionConfig::default()).unwrap();
    assert!(matches!(
        p.encode_file(&[], 44_100),
        Err(PerceptionError::Empty { .. })
    ));
    assert!(matches!(
        p.encode_file(&[0.0; 1000], 4_000),
        Err(PerceptionError::UnsupportedSampleRate { rate_hz: 4_000, .. })
    ));
    // An empty live segment is not an error: no frames.
    assert_eq!(p.process_segment(&[], 48_000, 0).unwrap().n_frames, 0);
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn silence_and_nan_are_handled() {
    let d = temp_dir("nan");
    let silence = d.join("silence.wav");
    write_wav_i16(&silence, 48_000, 1, &[vec![0.0; 96_000]]);
    let n = encode(&silence).unwrap();
    // 2 s at 75 frames/s = 150, minus the 8-frame HPSS lookahead and the last half window.
    assert!((135..=150).contains(&n), "{n} frames for 2 s");
    let mut x = sine(48_000, 1.0, 330.0);
    for i in (0..x.len()).step_by(997) {
        x[i] = if i % 2 == 0 { f32::NAN } else { f32::INFINITY };
    }
    let nan = d.join("nan.wav");
    write_wav_f32(&nan, 48_000, &x);
    let a = decode_file(&nan).unwrap();
    assert_eq!(a.non_finite_replaced, x.len().div_ceil(997));
    assert!(a.samples.iter().all(|v| v.is_finite()));
    assert!(encode(&nan).unwrap() > 60);
    // NaN straight into the live path: sanitised and counted.
    let mut p = Perception::new(PerceptionConfig::default()).unwrap();
    let seg = p.process_segment(&x[..16_800], 48_000, 0).unwrap();
    assert_eq!(seg.non_finite_replaced, 17);
    assert!(seg.harmonic.iter().all(|v| v.is_finite()));
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn extreme_rates_and_channel_counts() {
    let d = temp_dir("rates");
    for rate in [8_000u32, 192_000] {
        let path = d.join(format!("{rate}.wav"));
        write_wav_i16(&path, rate, 1, &[sine(rate, 2.0, 440.0)]);
        let n = encode(&path).unwrap();
        assert!((135..=150).contains(&n), "{rate} Hz: {n} frames for 2 s");
    }
    // 6 channels: one active channel at 0.6 -> downmix mean 0.1 peak.
    let six = d.join("six.wav");
    let x = sine(44_100, 1.0, 440.0);
    let frames: Vec<Vec<f32>> = x
        .iter()
        .map(|&s| vec![1.2 * s, 0.0, 0.0, 0.0, 0.0, 0.0])
        .collect();
    let spec = hound::WavSpec {
        channels: 6,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&six, spec).unwrap();
    for f in &frames {
        for &s in f {
            w.write_sample((s * 32767.0) as i16).unwrap();
        }
    }
    w.finalize().unwrap();
    let a = decode_file(&six).unwrap();
    assert_eq!(a.channels, 6);
    assert_eq!(a.samples.len(), 44_100);
    let peak = a.samples.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!((peak - 0.1).abs() < 0.005, "downmix peak {peak}");
    assert!(encode(&six).unwrap() > 60);
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn compressed_fixtures_decode() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/perception");
    for ext in ["flac", "ogg", "mp3"] {
        let a = decode_file(&dir.join(format!("tone_440hz_1s_stereo.{ext}"))).unwrap();
        assert_eq!(a.sample_rate_hz, 22_050, "{ext}");
        assert_eq!(a.channels, 2, "{ext}");
        // 1 s (MP3 adds encoder padding, decoders may trim it).
        assert!(
            (a.samples.len() as i64 - 22_050).abs() < 2_500,
            "{ext}: {} samples",
            a.samples.len()
        );
        // Mean of 0.3 and 0.15 amplitude channels: peak ~0.225.
        let peak = a.samples.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!((peak - 0.225).abs() < 0.04, "{ext}: peak {peak}");
        let mut p = Perception::new(PerceptionConfig::default()).unwrap();
        assert!(p.encode_file(&a.samples, a.sample_rate_hz).unwrap().len() > 60);
    }
}
