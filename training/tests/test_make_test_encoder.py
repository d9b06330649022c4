"""The committed ONNX test encoder is what the script builds, and computes its formula."""

import numpy as np
import onnxruntime as ort

from training import make_test_encoder as m


def test_committed_fixture_is_the_script_output():
    assert m.MODEL.read_bytes() == m.build().SerializeToString()
    assert m.SIDECAR.read_text() == m.sidecar_text()


def test_model_computes_the_documented_formula():
    rng = np.random.default_rng(3)
    audio = rng.uniform(-1, 1, m.WINDOW + 9 * m.HOP).astype(np.float32)
    sess = ort.InferenceSession(m.build().SerializeToString())
    (out,) = sess.run(["features"], {"audio": audio[None, :]})
    assert out.shape == (1, m.DIM, 10)
    np.testing.assert_allclose(out[0], m.reference(audio.astype(np.float64)), rtol=1e-4, atol=1e-4)
