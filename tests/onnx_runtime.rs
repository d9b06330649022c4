//! ONNX Runtime, for real: the library fetched from the `onnxruntime` wheel loads, and a tiny
//! graph shipped with the tests (written by `training/make_test_onnx.py`) computes what plain
//! arithmetic says it should. Needs `ORT_DYLIB_PATH` or the library in `target/bundled/`
//! (`cargo xtask fetch-ort`); `cargo xtask test` provides both.

use ndarray::Array2;
use ort::session::Session;
use ort::value::TensorRef;

/// The graph's constants, restated from `training/make_test_onnx.py`.
const W: [[f32; 3]; 4] = [
    [0.5, -1.0, 0.25],
    [1.5, 0.0, -0.5],
    [-2.0, 0.75, 1.0],
    [0.125, 0.5, -0.25],
];
const B: [f32; 3] = [0.1, -0.2, 0.3];

fn expected(x: &[f32; 4]) -> [f32; 3] {
    let mut y = [0.0f32; 3];
    for (j, out) in y.iter_mut().enumerate() {
        let z: f32 = (0..4).map(|i| x[i] * W[i][j]).sum::<f32>() + B[j];
        *out = z.tanh();
    }
    y
}

#[test]
fn onnx_runtime_loads_and_runs_tiny_graph() {
    let env = musichal::onnx::environment().expect("ONNX Runtime must load for this test");
    let model = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tiny_tanh_affine.onnx"
    );
    let mut session = Session::builder(env)
        .expect("session builder")
        .commit_from_file(model)
        .expect("tiny graph loads");

    let rows: [[f32; 4]; 3] = [
        [0.0, 0.0, 0.0, 0.0],
        [1.0, -1.0, 0.5, 2.0],
        [-0.3, 0.7, 0.2, -1.5],
    ];
    let input = Array2::from_shape_fn((3, 4), |(r, c)| rows[r][c]);
    let outputs = session
        .run(ort::inputs!["x" => TensorRef::from_array_view(&input).unwrap()])
        .expect("run");
    let y = outputs["y"].try_extract_array::<f32>().expect("f32 output");
    assert_eq!(y.shape(), &[3, 3]);
    for (r, row) in rows.iter().enumerate() {
        let want = expected(row);
        for c in 0..3 {
            let got = y[[r, c]];
            assert!(
                (got - want[c]).abs() < 1e-6,
                "row {r} col {c}: ONNX Runtime gave {got}, arithmetic says {}",
                want[c]
            );
        }
    }
    // Row 0 is tanh(b): a check that does not depend on W at all.
    assert!((y[[0, 0]] - 0.1f32.tanh()).abs() < 1e-6);
    assert!(musichal::onnx::loaded_library_path().is_some());
}
