"""Write the tiny ONNX graph the Rust tests use to prove ONNX Runtime loads and runs.

The graph is y = tanh(x @ W + b) with x: float32 [N, 4] (dynamic N), W: [4, 3], b: [3].
W and b below are the single source of the expected values; `tests/onnx_runtime.rs` restates
them and computes the expected output itself, so the test checks ONNX Runtime against plain
arithmetic, not against a copy of its own output.

Usage (from the repository root): python training/make_test_onnx.py
Needs only the `onnx` package (pinned in training/requirements.txt).
"""

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

W = np.array(
    [[0.5, -1.0, 0.25], [1.5, 0.0, -0.5], [-2.0, 0.75, 1.0], [0.125, 0.5, -0.25]],
    dtype=np.float32,
)
B = np.array([0.1, -0.2, 0.3], dtype=np.float32)

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "tiny_tanh_affine.onnx"


def build() -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])
    nodes = [
        helper.make_node("MatMul", ["x", "W"], ["xw"]),
        helper.make_node("Add", ["xw", "b"], ["z"]),
        helper.make_node("Tanh", ["z"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_tanh_affine",
        [x],
        [y],
        initializer=[numpy_helper.from_array(W, "W"), numpy_helper.from_array(B, "b")],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="musichal-tests"
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(build(), OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
