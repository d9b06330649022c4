//! The semantic EQ morph, Rust side, against the real ONNX Runtime and the committed model.
//! Needs the ONNX Runtime library (`cargo xtask test` provides it).

use musichal::dsp::{Eq5, EqParams};
use musichal::eq_morph::{
    apply_intensity, EqMorphError, EqMorphModel, EMBEDDED_META, EMBEDDED_ONNX,
};
use rand::{RngExt, SeedableRng};
use serde_json::Value;

const FIXTURES: &str = include_str!("fixtures/eq_morph/fixtures.json");

fn model() -> EqMorphModel {
    EqMorphModel::embedded().expect("embedded model loads")
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

fn log_freqs(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| 20.0 * 1000f32.powf(i as f32 / (n - 1) as f32))
        .collect()
}

/// Mean level in dB of the response over [lo, hi] Hz (30 log-spaced points).
fn band_level_db(p: &EqParams, lo: f32, hi: f32) -> f32 {
    let freqs: Vec<f32> = (0..30)
        .map(|i| lo * (hi / lo).powf(i as f32 / 29.0))
        .collect();
    let mut out = vec![0.0; freqs.len()];
    Eq5::magnitude_response_db(p, 48_000.0, &freqs, &mut out);
    out.iter().sum::<f32>() / out.len() as f32
}

fn assert_close(got: &[f32], want: &[f32], tol: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        // Relative for frequencies (hundreds to thousands of Hz), absolute otherwise.
        let scale = w.abs().max(1.0);
        assert!(
            (g - w).abs() <= tol * scale,
            "{what}[{i}]: got {g}, fixture {w}"
        );
    }
}

#[test]
fn decode_matches_training_fixtures() {
    let fixtures: Value = serde_json::from_str(FIXTURES).unwrap();
    let mut m = model();
    let latents = fixtures["latents"].as_array().expect("latents cases");
    assert!(latents.len() >= 10);
    for case in latents {
        let z = floats(&case["latent"]);
        let got = m.decode_latents(&z).unwrap()[0];
        assert_close(&got, &floats(&case["params"]), 1e-5, "latent decode");
    }
    let decodes = fixtures["decode"].as_array().expect("decode cases");
    assert!(decodes.len() >= 10);
    for case in decodes {
        let p = m
            .decode(
                case["term_a"].as_str().unwrap(),
                case["term_b"].as_str().unwrap(),
                case["morph"].as_f64().unwrap() as f32,
                case["intensity"].as_f64().unwrap() as f32,
            )
            .unwrap();
        assert_close(&p.to_array(), &floats(&case["params"]), 1e-5, "term decode");
    }
}

#[test]
fn ten_thousand_random_requests_give_valid_settings() {
    let mut m = model();
    let terms: Vec<String> = m.term_names().map(str::to_owned).collect();
    let ranges = m.meta().ranges();
    let mut rng = rand_pcg::Pcg64::seed_from_u64(7);
    // Batch the latents so the test stays fast; `decode` is exercised by the fixture test.
    let mut requests = Vec::new();
    let mut latents = Vec::new();
    for _ in 0..10_000 {
        let a = rng.random_range(0..terms.len());
        let b = rng.random_range(0..terms.len());
        let morph: f32 = rng.random_range(-0.5..1.5);
        let intensity: f32 = rng.random_range(-1.0..3.0);
        latents.extend(m.morph_latent(a, b, morph));
        requests.push(intensity);
    }
    let rows = m.decode_latents(&latents).unwrap();
    for (row, intensity) in rows.iter().zip(requests) {
        let p = apply_intensity(EqParams::from_array(*row), intensity);
        for (k, v) in p.to_array().iter().enumerate() {
            let (lo, hi) = ranges[k];
            assert!(
                v.is_finite() && *v >= lo && *v <= hi,
                "param {k} = {v} outside [{lo}, {hi}]"
            );
        }
        let a = p.to_array();
        for g in [a[0], a[2], a[5], a[8], a[11]] {
            assert!((-12.0..=12.0).contains(&g));
        }
        for f in [a[1], a[3], a[6], a[9], a[12]] {
            assert!((20.0..=20_000.0).contains(&f));
        }
        for q in [a[4], a[7], a[10]] {
            assert!((0.1..=10.0).contains(&q));
        }
    }
}

#[test]
fn intensity_zero_is_flat() {
    let mut m = model();
    let terms: Vec<String> = m.term_names().map(str::to_owned).collect();
    let freqs = log_freqs(200);
    let mut out = vec![0.0; freqs.len()];
    for a in &terms {
        for morph in [0.0, 0.37, 1.0] {
            let p = m.decode(a, &terms[terms.len() - 1], morph, 0.0).unwrap();
            Eq5::magnitude_response_db(&p, 48_000.0, &freqs, &mut out);
            let worst = out.iter().fold(0.0f32, |w, v| w.max(v.abs()));
            assert!(
                worst <= 0.01,
                "{a} morph {morph}: |H| deviates {worst} dB from flat"
            );
        }
        // And intensity 1 is not flat: the model says something about every term.
        let p = m.decode(a, a, 0.0, 1.0).unwrap();
        Eq5::magnitude_response_db(&p, 48_000.0, &freqs, &mut out);
        assert!(
            out.iter().any(|v| v.abs() > 0.5),
            "{a} decodes to a flat EQ"
        );
    }
}

#[test]
fn warm_to_bright_tilt_is_monotonic() {
    let mut m = model();
    let mut previous = f32::INFINITY;
    let mut tilts = Vec::new();
    for i in 0..=20 {
        let p = m.decode("warm", "bright", i as f32 / 20.0, 1.0).unwrap();
        let tilt = band_level_db(&p, 200.0, 400.0) - band_level_db(&p, 4000.0, 8000.0);
        tilts.push(tilt);
        assert!(
            tilt < previous,
            "tilt not decreasing at step {i}: {tilts:?}"
        );
        previous = tilt;
    }
    // docs/EQ_MODEL.md, from the training side (the JAX model and its own float64 RBJ
    // response, `training/musichal_eq/eq.py::tilt_db`, fs 48 kHz, 21 steps): "+4.54 -> -4.01
    // dB". The Rust decoder and `Eq5`'s response must land on the same endpoints; 0.1 dB
    // allows for the f32 decoder and response, not for a different model or filter shape.
    eprintln!("tilts: {tilts:?}");
    assert!(
        (tilts[0] - 4.54).abs() <= 0.1,
        "warm tilt {:.3} dB, EQ_MODEL.md says +4.54: {tilts:?}",
        tilts[0]
    );
    assert!(
        (tilts[20] + 4.01).abs() <= 0.1,
        "bright tilt {:.3} dB, EQ_MODEL.md says -4.01: {tilts:?}",
        tilts[20]
    );
}

#[test]
fn grid_interpolation_tracks_exact_decoding() {
    let mut m = model();
    let grid = m.decode_grid("warm", "bright", 33).unwrap();
    let freqs = log_freqs(100);
    let (mut exact_db, mut grid_db) = (vec![0.0; 100], vec![0.0; 100]);
    for i in 0..=64 {
        let morph = i as f32 / 64.0;
        let exact = m.decode("warm", "bright", morph, 1.0).unwrap();
        let from_grid = grid.params_at(morph);
        Eq5::magnitude_response_db(&exact, 48_000.0, &freqs, &mut exact_db);
        Eq5::magnitude_response_db(&from_grid, 48_000.0, &freqs, &mut grid_db);
        let worst = exact_db
            .iter()
            .zip(&grid_db)
            .fold(0.0f32, |w, (a, b)| w.max((a - b).abs()));
        // On grid points (even i) the table is the decoder's output itself.
        let tol = if i % 2 == 0 { 1e-3 } else { 0.25 };
        assert!(
            worst <= tol,
            "morph {morph}: grid response off by {worst} dB"
        );
    }
}

#[test]
fn unknown_term_is_a_typed_error() {
    let mut m = model();
    match m.decode("warm", "crunchy-purple", 0.5, 1.0) {
        Err(EqMorphError::UnknownTerm { term, known }) => {
            assert_eq!(term, "crunchy-purple");
            assert!(known.contains("warm") && known.contains("bright"));
        }
        other => panic!("expected UnknownTerm, got {other:?}"),
    }
    // Case and surrounding spaces are forgiven, as in the training data's normalisation: the
    // same terms, the same EQ.
    let sloppy = m.decode(" Warm ", "BRIGHT", 0.5, 1.0).unwrap();
    let exact = m.decode("warm", "bright", 0.5, 1.0).unwrap();
    assert_eq!(sloppy.to_array(), exact.to_array());
    let other = m.decode("bright", "warm", 0.25, 1.0).unwrap();
    assert_ne!(
        sloppy.to_array(),
        other.to_array(),
        "the comparison cannot fail"
    );
}

#[test]
fn corrupt_model_is_a_typed_error() {
    let mut bytes = EMBEDDED_ONNX.to_vec();
    bytes.truncate(bytes.len() / 2);
    for (i, b) in bytes.iter_mut().enumerate().skip(16) {
        *b ^= (i as u8).wrapping_mul(31);
    }
    assert!(matches!(
        EqMorphModel::from_bytes(&bytes, EMBEDDED_META),
        Err(EqMorphError::ModelCorrupt { .. })
    ));
    assert!(matches!(
        EqMorphModel::from_bytes(b"", EMBEDDED_META),
        Err(EqMorphError::ModelCorrupt { .. })
    ));
}

#[test]
fn wrong_metadata_is_a_typed_error() {
    let meta: Value = serde_json::from_str(EMBEDDED_META).unwrap();
    let with = |f: &dyn Fn(&mut Value)| {
        let mut m = meta.clone();
        f(&mut m);
        EqMorphModel::from_bytes(EMBEDDED_ONNX, &m.to_string())
    };
    // A latent width the graph does not take, with centroids to match so only the graph can tell.
    let d = meta["latent_dim"].as_u64().unwrap() as usize + 1;
    let wider = with(&|m| {
        m["latent_dim"] = d.into();
        for t in m["terms"].as_array_mut().unwrap() {
            t["centroid"] = Value::from(vec![0.0; d]);
        }
    });
    assert!(
        matches!(wider, Err(EqMorphError::MetadataMismatch { .. })),
        "{:?}",
        wider.err()
    );
    let renamed = with(&|m| m["onnx_output"] = "not_there".into());
    assert!(matches!(
        renamed,
        Err(EqMorphError::MetadataMismatch { .. })
    ));
    let reordered = with(&|m| m["param_order"].as_array_mut().unwrap().swap(0, 1));
    assert!(matches!(
        reordered,
        Err(EqMorphError::MetadataInvalid { .. })
    ));
    let future = with(&|m| m["format_version"] = 99.into());
    assert!(matches!(future, Err(EqMorphError::MetadataInvalid { .. })));
    // A centroid whose length is not latent_dim (one longer than the "wider" case above, so it
    // differs from every latent width in play, whatever the model's).
    let odd = with(&|m| m["terms"][0]["centroid"] = Value::from(vec![0.0; d + 1]));
    assert!(
        matches!(odd, Err(EqMorphError::MetadataInvalid { .. })),
        "{:?}",
        odd.err()
    );
    let empty = with(&|m| m["terms"][0]["centroid"] = Value::from(Vec::<f64>::new()));
    assert!(
        matches!(empty, Err(EqMorphError::MetadataInvalid { .. })),
        "{:?}",
        empty.err()
    );
    assert!(matches!(
        EqMorphModel::from_bytes(EMBEDDED_ONNX, "{not json"),
        Err(EqMorphError::MetadataInvalid { .. })
    ));
}

#[test]
fn missing_model_file_is_a_typed_error() {
    let r = EqMorphModel::from_files(std::path::Path::new("/nonexistent/model.onnx"), None);
    assert!(matches!(r, Err(EqMorphError::ModelMissing { .. })));
}
