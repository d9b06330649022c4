//! `musichal features` writes exactly the trainer's frame vectors.

use musichal::perception::{Perception, PerceptionConfig};
use std::process::Command;

fn read_npy(bytes: &[u8]) -> (Vec<usize>, Vec<f32>) {
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(header.contains("'descr': '<f4'"), "{header}");
    let shape = header
        .split("'shape': (")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    let dims: Vec<usize> = shape
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let data = bytes[10 + header_len..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    (dims, data)
}

fn write_wav(path: &std::path::Path, samples: &[f32], rate: u32) {
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

#[test]
fn features_equal_the_training_path_and_short_files_are_refused() {
    let dir = std::env::temp_dir().join(format!("musichal-features-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rate = 32_000;
    let audio = musichal::perception::synth::render_music(3.0, rate, 12);
    let wav = dir.join("in.wav");
    write_wav(&wav, &audio, rate);
    let exe = env!("CARGO_BIN_EXE_musichal");
    for (stream, width_mult) in [("both", 2), ("harmonic", 1), ("percussive", 1)] {
        let npy = dir.join(format!("{stream}.npy"));
        let ok = Command::new(exe)
            .args(["features", "--stream", stream, "-o"])
            .arg(&npy)
            .arg(&wav)
            .status()
            .unwrap();
        assert!(ok.success());
        let (shape, data) = read_npy(&std::fs::read(&npy).unwrap());
        let mut p = Perception::new(PerceptionConfig::default()).unwrap();
        let frames = p.encode_file(&audio, rate).unwrap();
        let dim = p.dim();
        assert_eq!(shape, vec![frames.len(), width_mult * dim]);
        let expected: Vec<f32> = frames
            .iter()
            .flat_map(|f| match stream {
                "both" => [f.harmonic.clone(), f.percussive.clone()].concat(),
                "harmonic" => f.harmonic.clone(),
                _ => f.percussive.clone(),
            })
            .collect();
        assert_eq!(data, expected, "{stream}");
    }
    let short = dir.join("short.wav");
    write_wav(&short, &audio[..rate as usize / 100], rate);
    let out = Command::new(exe)
        .args(["features", "-o"])
        .arg(dir.join("short.npy"))
        .arg(&short)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "short.wav: {} samples long; MusicHal needs at least",
            rate / 100
        )),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
