"""Semantic EQ morph: SAFE-DB descriptors -> 13 parameters of a 5-band EQ (training side).

Modules: `data` (cleaning, normalisation, contributor split), `eq` (differentiable RBJ
response), `model` (term-conditioned-prior beta-VAE in flax), `export` (ONNX + metadata +
Rust fixtures), `evaluate` (figures, plots, report). Entry point: `python -m training.train`.
"""

import jax

# Float64 for training and evaluation: the biquad response at 20 Hz needs it, and the data
# set is tiny. The ONNX export traces the decoder in float32 explicitly (see export.py).
jax.config.update("jax_enable_x64", True)
