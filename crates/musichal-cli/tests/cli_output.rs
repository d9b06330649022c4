//! What the README says `musichal eq`, `musichal inspect --json` and `musichal doctor` print,
//! checked on the built binary's output:
//!
//! - `eq --json`: the 13 EQ parameters, named in the model's order, equal to the library's
//!   `EqMorphModel::decode` of the same request, and "the response at ten frequencies": the
//!   RBJ cookbook response of those parameters at 48 kHz, computed here from the cookbook
//!   formulas (not with the plugin's filters); `eq --list-terms --json`: the model's terms and
//!   their example counts as `assets/eq_morph.json` lists them;
//! - `inspect --json`: every frame with every field (both tokens, loudness, chroma, pitches,
//!   onset, consonance, time, duration, source) at the corpus' values, the centroids, and the
//!   oracle's transitions, suffix links and lrs (on the word "abbbaab", whose oracle is worked
//!   out by hand in `tests/oracle_construction.rs`);
//! - `doctor`: ONNX Runtime 1.31.1 loaded from the library `ORT_DYLIB_PATH` names, the embedded
//!   model's terms in order, and its first two terms decoded at morph 0.5 as the library decodes
//!   them; with the library missing it fails and says ONNX Runtime is the problem; without
//!   `ORT_DYLIB_PATH` it finds the library beside the binary and up to three folders above it.
//!
//! Needs the ONNX Runtime library (`ORT_DYLIB_PATH`; `cargo xtask test` sets it): without it
//! these tests fail.

use musichal::corpus::{consonance, CorpusModel, FrameRecord, RecordingNotes};
use musichal::eq_morph::{EqMorphModel, EMBEDDED_META, PARAM_ORDER};
use musichal::notes::{NoteEvent, NoteSource};
use musichal::oracle::DriveStream;
use musichal::perception::pitch::FramePitches;
use serde_json::Value;
use std::f64::consts::PI;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const EXE: &str = env!("CARGO_BIN_EXE_musichal");

fn run(args: &[&str]) -> Output {
    let out = Command::new(EXE)
        .args(args)
        .output()
        .expect("musichal runs");
    assert!(
        out.status.success(),
        "musichal {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout_json(args: &[&str]) -> Value {
    let out = run(args);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "musichal {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("musichal-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn f32_of(v: &Value) -> f32 {
    v.as_f64().unwrap_or_else(|| panic!("{v} is not a number")) as f32
}

// --- an RBJ cookbook reference for the reported response ----------------------------------

/// Audio EQ Cookbook biquad `[b0, b1, b2, a0, a1, a2]`, Q form of alpha (JUCE's shelves and
/// peaks, which SAFE-DB's plug-in used). `kind`: 0 low shelf, 1 peak, 2 high shelf.
fn rbj(kind: u8, fs: f64, f0: f64, gain_db: f64, q: f64) -> [f64; 6] {
    let a = 10f64.powf(gain_db / 40.0);
    let w0 = 2.0 * PI * f0 / fs;
    let (cw, sw) = (w0.cos(), w0.sin());
    let alpha = sw / (2.0 * q);
    let sa = 2.0 * a.sqrt() * alpha;
    match kind {
        0 => [
            a * ((a + 1.0) - (a - 1.0) * cw + sa),
            2.0 * a * ((a - 1.0) - (a + 1.0) * cw),
            a * ((a + 1.0) - (a - 1.0) * cw - sa),
            (a + 1.0) + (a - 1.0) * cw + sa,
            -2.0 * ((a - 1.0) + (a + 1.0) * cw),
            (a + 1.0) + (a - 1.0) * cw - sa,
        ],
        1 => [
            1.0 + alpha * a,
            -2.0 * cw,
            1.0 - alpha * a,
            1.0 + alpha / a,
            -2.0 * cw,
            1.0 - alpha / a,
        ],
        _ => [
            a * ((a + 1.0) + (a - 1.0) * cw + sa),
            -2.0 * a * ((a - 1.0) + (a + 1.0) * cw),
            a * ((a + 1.0) + (a - 1.0) * cw - sa),
            (a + 1.0) - (a - 1.0) * cw + sa,
            2.0 * ((a - 1.0) - (a + 1.0) * cw),
            (a + 1.0) - (a - 1.0) * cw - sa,
        ],
    }
}

fn biquad_db(c: &[f64; 6], fs: f64, f: f64) -> f64 {
    let w = 2.0 * PI * f / fs;
    let (r1, i1) = (w.cos(), -w.sin());
    let (r2, i2) = ((2.0 * w).cos(), -(2.0 * w).sin());
    let (nr, ni) = (c[0] + c[1] * r1 + c[2] * r2, c[1] * i1 + c[2] * i2);
    let (dr, di) = (c[3] + c[4] * r1 + c[5] * r2, c[4] * i1 + c[5] * i2);
    10.0 * ((nr * nr + ni * ni) / (dr * dr + di * di)).log10()
}

/// The cascade's response in dB at `f`, parameters in `PARAM_ORDER`; shelves at Q 0.71
/// (docs/EQ_MODEL.md: "RBJ biquads, shelf Q 0.71").
fn cascade_db(p: &[f64; 13], fs: f64, f: f64) -> f64 {
    let bands = [
        (0, p[1], p[0], 0.71),
        (1, p[3], p[2], p[4]),
        (1, p[6], p[5], p[7]),
        (1, p[9], p[8], p[10]),
        (2, p[12], p[11], 0.71),
    ];
    bands
        .iter()
        .map(|&(kind, f0, g, q)| biquad_db(&rbj(kind, fs, f0, g, q), fs, f))
        .sum()
}

// --- eq ----------------------------------------------------------------------------------------

#[test]
fn eq_json_is_the_library_decode_and_its_cookbook_response() {
    let mut model = EqMorphModel::embedded().expect("embedded EQ model (needs ORT_DYLIB_PATH)");
    for (a, b, morph, intensity) in [
        ("warm", "bright", 0.5, 1.0),
        ("warm", "bright", 0.0, 1.0),
        ("warm", "bright", 1.0, 1.0),
        ("warm", "bright", 0.35, 1.7),
        ("bright", "air", 0.8, 0.4),
    ] {
        let m = morph.to_string();
        let i = intensity.to_string();
        let j = stdout_json(&[
            "eq",
            "--term-a",
            a,
            "--term-b",
            b,
            "--morph",
            &m,
            "--intensity",
            &i,
            "--json",
        ]);
        assert_eq!(j["term_a"], a);
        assert_eq!(j["term_b"], b);
        assert_eq!(f32_of(&j["morph"]), morph);
        assert_eq!(f32_of(&j["intensity"]), intensity);

        // The 13 parameters, by name, equal to the library's decode of the same request: the
        // binary and this test run the same model through the same ONNX Runtime, and JSON
        // carries an f32 exactly.
        let params = j["params"].as_object().expect("params is an object");
        assert_eq!(params.len(), 13, "{params:?}");
        let want = model.decode(a, b, morph, intensity).unwrap().to_array();
        let mut got = [0.0f64; 13];
        for (k, name) in PARAM_ORDER.iter().enumerate() {
            let v = params
                .get(*name)
                .unwrap_or_else(|| panic!("{a}->{b} {morph}: no {name} in {params:?}"));
            assert_eq!(f32_of(v), want[k], "{a}->{b} morph {morph}: {name}");
            got[k] = f32_of(v) as f64;
        }

        // The response at the ten documented frequencies, 48 kHz, against the cookbook.
        let response = j["response"].as_array().expect("response is an array");
        let freqs: Vec<f32> = response.iter().map(|r| f32_of(&r["freq_hz"])).collect();
        assert_eq!(
            freqs,
            [31.5, 63.0, 125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0, 16000.0]
        );
        for r in response {
            let f = f32_of(&r["freq_hz"]) as f64;
            let db = f32_of(&r["gain_db"]) as f64;
            let expect = cascade_db(&got, 48_000.0, f);
            assert!(
                (db - expect).abs() < 0.01,
                "{a}->{b} morph {morph}: {db:.4} dB at {f} Hz, cookbook {expect:.4} dB"
            );
        }
    }
}

#[test]
fn eq_list_terms_json_lists_the_models_terms_and_counts() {
    let meta: Value = serde_json::from_str(EMBEDDED_META).unwrap();
    let want: Vec<(String, u64)> = meta["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["count"].as_u64().unwrap(),
            )
        })
        .collect();
    // docs/EQ_MODEL.md: 14 terms, warm (373) and bright (360) training rows.
    assert_eq!(want.len(), 14);
    assert!(want.contains(&("warm".into(), 373)) && want.contains(&("bright".into(), 360)));
    let j = stdout_json(&["eq", "--list-terms", "--json"]);
    let got: Vec<(String, u64)> = j
        .as_array()
        .expect("a list")
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);
}

// --- inspect -----------------------------------------------------------------------------------

/// A corpus whose every frame field differs from frame to frame, on the harmonic word
/// "abbbaab" (a = 0, b = 1), from two source files.
fn distinctive_corpus() -> CorpusModel {
    let word = [0u16, 1, 1, 1, 0, 0, 1];
    let dim = 3u32;
    let vocab = 16u16;
    let mut m = CorpusModel::new(
        "spectral",
        r#"{"n_mels":64}"#,
        24_000,
        75.0,
        vocab,
        dim,
        DriveStream::Harmonic,
    );
    m.centroids_harmonic = (0..vocab as usize * dim as usize)
        .map(|i| (i as f32 * 0.37).sin() * 0.5)
        .collect();
    m.centroids_percussive = (0..vocab as usize * dim as usize)
        .map(|i| (i as f32 * 0.11).cos() * 0.25)
        .collect();
    m.source_files = vec!["one.wav".into(), "two.flac".into()];
    for (i, &h) in word.iter().enumerate() {
        let mut chroma = [0.0f32; 12];
        for (c, v) in chroma.iter_mut().enumerate() {
            *v = ((i * 12 + c) as f32 * 0.61).sin().abs() / 3.0;
        }
        m.frames.push(FrameRecord {
            time_s: 0.25 + i as f32 / 75.0,
            duration_s: 1.0 / 75.0,
            harmonic_token: Some(h),
            percussive_token: Some((15 - i) as u16),
            loudness_db: -6.5 - 3.25 * i as f32,
            chroma,
            pitches: FramePitches::from_slice(
                &(0..i % 4)
                    .map(|k| 40 + (7 * i + 5 * k) as u8)
                    .collect::<Vec<_>>(),
            ),
            onset: i % 3 == 0,
            consonance: consonance(&chroma),
            source_idx: (i >= 4) as u16,
        });
    }
    // one.wav: two notes from the DSP tracker; two.flac: one given note.
    let note = |onset_s: f64, offset_s: f64, pitch: u8, velocity: u8| NoteEvent {
        onset_s,
        offset_s,
        pitch,
        velocity,
    };
    m.recordings = vec![
        RecordingNotes {
            source: NoteSource::Dsp,
            duration_s: 2.0,
            notes: vec![note(0.25, 0.75, 60, 90), note(0.5, 1.5, 64, 70)],
        },
        RecordingNotes {
            source: NoteSource::Given,
            duration_s: 4.0,
            notes: vec![note(1.0, 3.0, 67, 100)],
        },
    ];
    m.build_factor_oracle(DriveStream::Harmonic).unwrap();
    m
}

#[test]
fn inspect_shows_the_notes_of_every_file() {
    let dir = scratch("inspect-notes");
    let path = dir.join("seven.mhc");
    distinctive_corpus().save(&path).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_musichal"))
        .arg("inspect")
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    // 2 notes in 2 s: 1 note/s, median of 0.5 s and 1 s; 1 note in 4 s, 2 s long.
    assert!(
        text.contains("one.wav: 2 notes from dsp, 1.00 notes/s, median length 0.750 s"),
        "{text}"
    );
    assert!(
        text.contains("two.flac: 1 notes from given, 0.25 notes/s, median length 2.000 s"),
        "{text}"
    );
    let j = stdout_json(&["inspect", path.to_str().unwrap(), "--json"]);
    let recordings = j["recordings"].as_array().expect("recordings");
    assert_eq!(recordings[1]["source"], "given");
    assert_eq!(recordings[0]["notes"][1]["pitch"], 64);
    assert_eq!(j["report"]["recordings"][0]["median_note_s"], 0.75);
}

#[test]
fn inspect_json_carries_every_frame_field_and_the_oracle() {
    let model = distinctive_corpus();
    let dir = scratch("inspect");
    let path = dir.join("seven.mhc");
    model.save(&path).unwrap();
    let j = stdout_json(&["inspect", path.to_str().unwrap(), "--json"]);

    assert_eq!(j["vocab_size"], 16);
    assert_eq!(j["dim"], 3);
    assert_eq!(j["encoder_id"], "spectral");
    assert_eq!(j["sample_rate_hz"], 24_000);
    assert_eq!(
        j["source_files"],
        serde_json::json!(["one.wav", "two.flac"])
    );
    assert_eq!(j["report"]["frames"], 7);
    for (key, want) in [
        ("centroids_harmonic", &model.centroids_harmonic),
        ("centroids_percussive", &model.centroids_percussive),
    ] {
        let got: Vec<f32> = j[key].as_array().unwrap().iter().map(f32_of).collect();
        assert_eq!(&got, want, "{key}");
    }

    let frames = j["frames"].as_array().expect("frames");
    assert_eq!(frames.len(), 7);
    let fields = [
        "time_s",
        "duration_s",
        "harmonic_token",
        "percussive_token",
        "loudness_db",
        "chroma",
        "pitches",
        "onset",
        "consonance",
        "source_idx",
    ];
    for (i, (f, v)) in model.frames.iter().zip(frames).enumerate() {
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        for field in fields {
            assert!(keys.contains(&field), "frame {i} has no {field}: {v}");
        }
        assert_eq!(f32_of(&v["time_s"]), f.time_s, "frame {i}");
        assert_eq!(f32_of(&v["duration_s"]), f.duration_s, "frame {i}");
        assert_eq!(
            v["harmonic_token"].as_u64(),
            f.harmonic_token.map(u64::from)
        );
        assert_eq!(
            v["percussive_token"].as_u64(),
            f.percussive_token.map(u64::from)
        );
        assert_eq!(f32_of(&v["loudness_db"]), f.loudness_db, "frame {i}");
        let chroma: Vec<f32> = v["chroma"].as_array().unwrap().iter().map(f32_of).collect();
        assert_eq!(chroma, f.chroma, "frame {i}");
        let pitches: Vec<u8> = v["pitches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_u64().unwrap() as u8)
            .collect();
        assert_eq!(pitches, f.pitches.to_vec(), "frame {i}");
        assert_eq!(v["onset"].as_bool(), Some(f.onset), "frame {i}");
        assert_eq!(f32_of(&v["consonance"]), f.consonance, "frame {i}");
        assert_eq!(v["source_idx"].as_u64(), Some(f.source_idx as u64));
    }

    // The oracle of "abbbaab", by hand (tests/oracle_construction.rs::golden_abbbaab).
    let o = &j["oracle"];
    let links = |v: &Value| -> Vec<Option<u64>> {
        v.as_array().unwrap().iter().map(Value::as_u64).collect()
    };
    assert_eq!(
        links(&o["sfx"]),
        [
            None,
            Some(0),
            Some(0),
            Some(2),
            Some(3),
            Some(1),
            Some(1),
            Some(2)
        ]
    );
    let lrs: Vec<u64> = o["lrs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    assert_eq!(lrs, [0, 0, 0, 1, 2, 1, 1, 2]);
    let transitions: Vec<Vec<u64>> = o["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let mut v: Vec<u64> = t
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect();
            v.sort_unstable();
            v
        })
        .collect();
    let expected: Vec<Vec<u64>> = vec![
        vec![1, 2],
        vec![2, 6],
        vec![3, 5],
        vec![4, 5],
        vec![5],
        vec![6],
        vec![7],
        vec![],
    ];
    assert_eq!(transitions, expected);

    // The musical events, by hand: the only notes inside the frames start at frame 0, so each
    // recording is one event (frames 0-3 and 4-6). Labels are the most frequent token: harmonic
    // a b b b -> b and a a b -> a; percussive 15 14 13 12 -> 15 (a tie goes to the first) and
    // 11 10 9 -> 11. The event oracle is the factor oracle of "ba".
    let events: Vec<(u64, u64, String, u64, u64)> = j["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["first_frame"].as_u64().unwrap(),
                e["frames"].as_u64().unwrap(),
                e["start"].as_str().unwrap().to_string(),
                e["harmonic_label"].as_u64().unwrap(),
                e["percussive_label"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            (0, 4, "Recording".to_string(), 1, 15),
            (4, 3, "Recording".to_string(), 0, 11)
        ]
    );
    let eo = &j["event_oracle"];
    assert_eq!(links(&eo["sfx"]), [None, Some(0), Some(0)]);
    assert_eq!(eo["symbols"].as_array().unwrap().len(), 2);
    assert_eq!(j["report"]["events"], 2);
    std::fs::remove_dir_all(&dir).ok();
}

// --- doctor ------------------------------------------------------------------------------------

/// The numbers in one line of `doctor`'s parameter table.
fn numbers(line: &str) -> Vec<f64> {
    line.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
        .filter_map(|t| t.parse::<f64>().ok())
        .collect()
}

#[test]
fn doctor_reports_the_runtime_the_models_terms_and_a_decoded_setting() {
    let out = run(&["doctor"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    // "ONNX Runtime 1.31.1 loaded from <the library ORT_DYLIB_PATH names>".
    let ort = lines
        .iter()
        .find_map(|l| l.strip_prefix("ONNX Runtime 1.31.1 loaded from "))
        .unwrap_or_else(|| panic!("no ONNX Runtime 1.31.1 line:\n{text}"));
    if let Some(env) = std::env::var_os("ORT_DYLIB_PATH") {
        assert_eq!(
            Path::new(ort).canonicalize().unwrap(),
            Path::new(&env).canonicalize().unwrap(),
            "{text}"
        );
    } else {
        assert!(Path::new(ort).is_file(), "{text}");
    }

    // The embedded model's terms, in the metadata's order.
    let meta: Value = serde_json::from_str(EMBEDDED_META).unwrap();
    let terms: Vec<&str> = meta["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let want = format!(
        "EQ morph model: {} terms ({})",
        terms.len(),
        terms.join(", ")
    );
    assert!(lines.contains(&want.as_str()), "no {want:?} in\n{text}");

    // Its first two terms at morph 0.5, intensity 1, as the library decodes them (printed to
    // 2 decimals, frequencies to 1).
    let head = format!("{} <-> {} at 0.5:", terms[0], terms[1]);
    let at = lines
        .iter()
        .position(|l| *l == head)
        .unwrap_or_else(|| panic!("no {head:?} in\n{text}"));
    let table: Vec<Vec<f64>> = lines[at + 1..at + 6].iter().map(|l| numbers(l)).collect();
    let mut model = EqMorphModel::embedded().unwrap();
    let p = model.decode(terms[0], terms[1], 0.5, 1.0).unwrap();
    let want_rows: [Vec<f32>; 5] = [
        vec![p.ls_gain_db, p.ls_freq_hz],
        vec![1.0, p.p1_gain_db, p.p1_freq_hz, p.p1_q],
        vec![2.0, p.p2_gain_db, p.p2_freq_hz, p.p2_q],
        vec![3.0, p.p3_gain_db, p.p3_freq_hz, p.p3_q],
        vec![p.hs_gain_db, p.hs_freq_hz],
    ];
    for (row, (got, want)) in table.iter().zip(&want_rows).enumerate() {
        assert_eq!(
            got.len(),
            want.len(),
            "row {row}: {:?}",
            lines[at + 1 + row]
        );
        for (g, w) in got.iter().zip(want) {
            // Half a unit of the printed last digit, plus float noise.
            let tol = if *w > 20.0 { 0.05 } else { 0.005 } + 1e-4;
            assert!(
                (g - *w as f64).abs() <= tol,
                "row {row}: printed {g}, decoded {w}: {:?}",
                lines[at + 1 + row]
            );
        }
    }

    // The Basic Pitch line says what this machine has.
    let bp = lines
        .iter()
        .find(|l| l.starts_with("Basic Pitch model: "))
        .unwrap_or_else(|| panic!("no Basic Pitch line in\n{text}"));
    let installed = musichal::perception::basic_pitch::BasicPitch::load_default().is_ok();
    assert_eq!(
        bp.starts_with("Basic Pitch model: found"),
        installed,
        "{bp}"
    );
}

#[test]
fn doctor_without_onnx_runtime_fails_and_says_why() {
    let out = Command::new(EXE)
        .arg("doctor")
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so.1.31.1")
        .output()
        .unwrap();
    assert!(!out.status.success(), "doctor passed without ONNX Runtime");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ONNX Runtime"), "stderr: {err}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("EQ morph model"),
        "doctor went on without ONNX Runtime"
    );
}

/// README "ONNX Runtime": without `ORT_DYLIB_PATH` the library is looked for beside the binary
/// and up to three folders above it. A copy of `musichal` three folders deep, with the library
/// (a link to `ORT_DYLIB_PATH`'s) placed at each level: found beside it and three folders up,
/// not four.
#[test]
fn the_runtime_is_found_beside_the_binary_and_up_to_three_folders_above() {
    let library = PathBuf::from(
        std::env::var_os("ORT_DYLIB_PATH")
            .expect("ORT_DYLIB_PATH names the ONNX Runtime library (cargo xtask test sets it)"),
    )
    .canonicalize()
    .unwrap();
    let base =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("ort-search-{}", std::process::id()));
    for (levels_up, found) in [(0usize, true), (3, true), (4, false)] {
        let root = base.join(format!("up{levels_up}"));
        // root/r/a/b/c/musichal: c is the binary's folder; b, a, r are one, two, three above.
        let bin_dir = root.join("r").join("a").join("b").join("c");
        std::fs::create_dir_all(&bin_dir).unwrap();
        let exe = bin_dir.join("musichal");
        if std::fs::hard_link(EXE, &exe).is_err() {
            std::fs::copy(EXE, &exe).unwrap();
        }
        let mut lib_dir = bin_dir.clone();
        for _ in 0..levels_up {
            lib_dir = lib_dir.parent().unwrap().to_path_buf();
        }
        let placed = lib_dir.join(musichal::onnx::ORT_LIBRARY_FILE);
        std::os::unix::fs::symlink(&library, &placed).unwrap();
        let out = Command::new(&exe)
            .arg("doctor")
            .env_remove("ORT_DYLIB_PATH")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.success(),
            found,
            "library {levels_up} folder(s) above the binary: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        if found {
            let line = format!("ONNX Runtime 1.31.1 loaded from {}", placed.display());
            assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
        }
    }
    std::fs::remove_dir_all(&base).ok();
}
