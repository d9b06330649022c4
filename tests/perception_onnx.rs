//! The `onnx:<path>` encoder: a model of the waveform, run by ONNX Runtime, on each HPSS stream.
//!
//! The model is `tests/fixtures/onnx_encoder/oscillator_bank.onnx`, written by
//! `training/make_test_encoder.py`: 16 windowed complex oscillators, window 400, hop 160 at
//! 16 kHz, `features[k][j] = ln(1 + 100 (c_k(j)^2 + s_k(j)^2))`. The formula is restated here and
//! computed in f64, so the tests check ONNX Runtime, the sidecar handling and the perception
//! path against plain arithmetic. Needs ONNX Runtime (`cargo xtask test` sets ORT_DYLIB_PATH).

use std::path::{Path, PathBuf};

use musichal::perception::{
    Encoder, EncoderInput, OnnxEncoder, Perception, PerceptionConfig, PerceptionError, Stream,
};
use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

const RATE: f64 = 16_000.0;
const HOP: usize = 160;
const WINDOW: usize = 400;
const DIM: usize = 16;
const CONTEXT_FRAMES: usize = 2;

fn model_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onnx_encoder/oscillator_bank.onnx")
}

fn band_hz(k: usize) -> f64 {
    100.0 * 2f64.powf(k as f64 / 3.0)
}

/// The model's row for the window starting at `x[start]`.
fn expected_row(x: &[f32], start: usize) -> Vec<f64> {
    (0..DIM)
        .map(|k| {
            let (mut c, mut s) = (0.0f64, 0.0f64);
            for i in 0..WINDOW {
                let h = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / WINDOW as f64).cos();
                let phase = 2.0 * std::f64::consts::PI * band_hz(k) * i as f64 / RATE;
                let v = x[start + i] as f64 * h;
                c += v * phase.cos();
                s += v * phase.sin();
            }
            (1.0 + 100.0 * (c * c + s * s)).ln()
        })
        .collect()
}

#[test]
fn rows_are_the_models_formula_on_the_newest_windows() {
    let mut enc = OnnxEncoder::load(&model_path()).expect("load");
    assert!(enc.id().starts_with("onnx:") && enc.id().ends_with("oscillator_bank.onnx"));
    assert_eq!(
        (enc.sample_rate(), enc.hop(), enc.dim()),
        (16_000, HOP, DIM)
    );
    assert_eq!(
        enc.n_fft(),
        1024,
        "the power of two nearest 85 ms at 16 kHz"
    );
    let context = enc.audio_context().expect("an audio encoder");
    assert_eq!(context, WINDOW - HOP + CONTEXT_FRAMES * HOP);
    let mut rng = Pcg64::seed_from_u64(11);
    let n = 7;
    let audio: Vec<f32> = (0..context + n * HOP)
        .map(|_| rng.random_range(-0.5f32..0.5))
        .collect();
    let mut out = vec![-1.0f32; 3]; // rows are appended after what is there
    let got = enc
        .frames(
            Stream::Harmonic,
            &EncoderInput {
                n_frames: n,
                magnitudes: &[],
                audio: &audio,
            },
            &mut out,
        )
        .unwrap();
    assert_eq!(got, n);
    assert_eq!(out.len(), 3 + n * DIM);
    // The model reads windows j = 0..CONTEXT_FRAMES+n; the encoder keeps the last n, so row r
    // is the window ending `(n - 1 - r) * HOP` samples before the newest sample.
    for r in 0..n {
        let want = expected_row(&audio, (CONTEXT_FRAMES + r) * HOP);
        let row = &out[3 + r * DIM..3 + (r + 1) * DIM];
        for (k, (&g, &w)) in row.iter().zip(&want).enumerate() {
            assert!(
                (g as f64 - w).abs() <= 1e-3 * (1.0 + w.abs()),
                "row {r} band {k}: {g} vs {w}"
            );
        }
    }
    // A wrong audio length is a shape error, not a silent misalignment.
    let short = EncoderInput {
        n_frames: n,
        magnitudes: &[],
        audio: &audio[1..],
    };
    assert!(matches!(
        enc.frames(Stream::Percussive, &short, &mut Vec::new()),
        Err(PerceptionError::ShapeMismatch { .. })
    ));
}

fn sine_and_clicks(rate: u32, secs: f32, freq: f32, clicks: &[usize]) -> Vec<f32> {
    let n = (rate as f32 * secs) as usize;
    let mut x: Vec<f32> = (0..n)
        .map(|i| 0.3 * (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin())
        .collect();
    for &c in clicks {
        for (i, v) in x[c..c + 8].iter_mut().enumerate() {
            *v += if i % 2 == 0 { 0.9 } else { -0.9 };
        }
    }
    x
}

/// Through perception: a sustained sine lands in the harmonic stream's waveform, clicks in the
/// percussive one, at the documented time (the rebuilt waveform lags the stream by n_fft / 2,
/// so the row of frame `c` reads the model window ending at stream sample
/// `(c + 1) * hop - n_fft / 2`).
#[test]
fn perception_feeds_each_stream_its_own_waveform_at_the_documented_time() {
    let k_sine = 10; // 1008 Hz
    let k_high = 15; // 3175 Hz: clicks only
    let clicks: Vec<usize> = (0..6).map(|i| 6_000 + i * 4_000).collect();
    let x = sine_and_clicks(16_000, 2.0, band_hz(k_sine) as f32, &clicks);
    let mut p = musichal::perception::build(
        &format!("onnx:{}", model_path().display()),
        PerceptionConfig::default(),
    )
    .unwrap();
    let frames = p.encode_file(&x, 16_000).unwrap();
    let mean = |stream: Stream, k: usize| {
        let v: Vec<f32> = frames
            .iter()
            .skip(20)
            .map(|f| match stream {
                Stream::Harmonic => f.harmonic[k],
                Stream::Percussive => f.percussive[k],
            })
            .collect();
        v.iter().sum::<f32>() / v.len() as f32
    };
    let (h_sine, p_sine) = (
        mean(Stream::Harmonic, k_sine),
        mean(Stream::Percussive, k_sine),
    );
    // (The sine's abrupt start at sample 0 is itself a transient: skip the first frames.)
    let peak = |stream: Stream, k: usize| {
        frames
            .iter()
            .skip(20)
            .map(|f| match stream {
                Stream::Harmonic => f.harmonic[k],
                Stream::Percussive => f.percussive[k],
            })
            .fold(0.0f32, f32::max)
    };
    let (h_high, p_high) = (
        peak(Stream::Harmonic, k_high),
        peak(Stream::Percussive, k_high),
    );
    println!(
        "sine band mean: H {h_sine:.2} P {p_sine:.2}; click band peak: H {h_high:.2} P {p_high:.2}"
    );
    assert!(
        h_sine > p_sine + 3.0,
        "the sine belongs to the harmonic stream"
    );
    assert!(
        p_high > h_high + 3.0,
        "the clicks belong to the percussive stream"
    );
    // Each click peaks in the percussive click band at the documented frame (+-1).
    let n_fft = 1024usize;
    for &c in &clicks {
        let doc = (c + n_fft / 2 + WINDOW / 2) as f64 / HOP as f64 - 1.0;
        let near: Vec<&musichal::perception::EncodedFrame> = frames
            .iter()
            .filter(|f| (f.frame_idx as f64 - doc).abs() <= 6.0)
            .collect();
        let peak = near
            .iter()
            .max_by(|a, b| a.percussive[k_high].total_cmp(&b.percussive[k_high]))
            .unwrap();
        assert!(
            (peak.frame_idx as f64 - doc).abs() <= 1.0,
            "click at sample {c}: peak at frame {} vs documented {doc:.1}",
            peak.frame_idx
        );
    }
}

/// A fresh scratch directory, removed when dropped (also when the test panics).
fn scratch_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("musichal-onnx-enc-{name}-"))
        .tempdir()
        .unwrap()
}

/// Copies the test model into a scratch dir with a modified sidecar; the model's path, and the
/// directory (keep it alive while the path is used).
fn with_sidecar(
    name: &str,
    edit: impl FnOnce(&mut serde_json::Value),
) -> (PathBuf, tempfile::TempDir) {
    let dir = scratch_dir(name);
    let model = dir.path().join("enc.onnx");
    std::fs::copy(model_path(), &model).unwrap();
    let text = std::fs::read_to_string(musichal::perception::onnx_encoder::sidecar_path(
        &model_path(),
    ))
    .unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut json);
    std::fs::write(dir.path().join("enc.onnx.json"), json.to_string()).unwrap();
    (model, dir)
}

fn sidecar_error(path: &Path) -> String {
    match OnnxEncoder::load(path) {
        Err(e @ PerceptionError::EncoderSidecar { .. }) => e.to_string(),
        other => panic!("expected a sidecar error, got {other:?}"),
    }
}

#[test]
fn bad_models_and_sidecars_give_typed_errors_that_say_what_is_wrong() {
    // No sidecar.
    let dir = scratch_dir("nosidecar");
    let bare = dir.path().join("enc.onnx");
    std::fs::copy(model_path(), &bare).unwrap();
    assert!(sidecar_error(&bare).contains("needs its JSON sidecar"));
    // The sidecar disagrees with the model.
    let (model, _dir) = with_sidecar("dim", |j| j["dim"] = 32.into());
    let e = sidecar_error(&model);
    assert!(e.contains("16 values") && e.contains("dim 32"), "{e}");
    let (model, _dir) = with_sidecar("hop", |j| j["hop"] = 320.into());
    let e = sidecar_error(&model);
    assert!(e.contains("frames"), "{e}");
    let (model, _dir) = with_sidecar("out", |j| j["output"] = "logits".into());
    let e = sidecar_error(&model);
    assert!(e.contains("\"logits\"") && e.contains("features"), "{e}");
    let (model, _dir) = with_sidecar("ver", |j| j["version"] = 9.into());
    let e = sidecar_error(&model);
    assert!(e.contains("version 9"), "{e}");
    // Not a JSON object: the message names the sidecar file, what it found and what it must
    // be (serde alone would read the list as the fields in order and complain that `1` is not
    // a string).
    let (model, _dir) = with_sidecar("json", |j| *j = serde_json::json!([1, 2]));
    let e = sidecar_error(&model);
    assert!(
        e.contains("enc.onnx.json") && e.contains("a list, not a JSON object"),
        "{e}"
    );
    // Not an ONNX file, and no file at all.
    let (junk, _dir) = with_sidecar("junk", |_| {});
    std::fs::write(&junk, b"this is not a model").unwrap();
    assert!(matches!(
        OnnxEncoder::load(&junk),
        Err(PerceptionError::EncoderModel { ref reason, .. }) if reason.contains("not a loadable")
    ));
    assert!(matches!(
        OnnxEncoder::load(Path::new("/nonexistent/enc.onnx")),
        Err(PerceptionError::EncoderModel { .. })
    ));
    // Through the encoder factory the trainer, the CLI and the worker use.
    assert!(matches!(
        musichal::perception::build("onnx:/nonexistent/enc.onnx", PerceptionConfig::default()),
        Err(PerceptionError::EncoderModel { .. })
    ));
    assert!(matches!(
        musichal::perception::build("mert", PerceptionConfig::default()),
        Err(PerceptionError::UnknownEncoder { .. })
    ));
}

/// A corpus trained with the ONNX encoder stores its id, and its frames carry both tokens.
#[test]
fn a_corpus_trains_on_the_onnx_encoder() {
    use musichal::trainer::{train_sources, Source, TrainConfig};
    let audio = musichal::perception::synth::render_music(20.0, 44_100, 5);
    let config = TrainConfig {
        vocab_size: 16,
        encoder: format!("onnx:{}", model_path().display()),
        ..TrainConfig::default()
    };
    let source = Source {
        name: "music.wav".into(),
        samples: audio,
        rate_hz: 44_100,
        notes: None,
    };
    let (model, report) = train_sources(&[source], &config, &mut |_| {}).unwrap();
    assert!(
        model.encoder_id.starts_with("onnx:"),
        "{}",
        model.encoder_id
    );
    assert_eq!(model.dim, DIM as u32);
    assert!(model.frames.len() > 1_800, "{} frames", model.frames.len());
    assert!(model.frames.iter().all(|f| f.tokens().is_some()));
    let bytes = model.to_bytes().unwrap();
    let back = musichal::corpus::CorpusModel::from_bytes(&bytes).unwrap();
    assert_eq!(back.encoder_id, model.encoder_id);
    println!("{report:?}");
    // And perception for the stored id loads again (what the worker does with the corpus).
    let p: Perception =
        musichal::perception::build(&back.encoder_id, PerceptionConfig::default()).unwrap();
    assert_eq!(p.dim(), DIM);
}
