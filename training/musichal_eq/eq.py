"""Differentiable magnitude response of the 5-band cascade (RBJ Audio-EQ-Cookbook biquads).

Same filters as the SAFE plug-in (JUCE IIRCoefficients): low shelf and high shelf with
Q = 0.71, three peaking filters. Written with `jax.numpy` so the training loss can
differentiate through it; it also accepts numpy arrays for evaluation.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

FS = 44100.0
SHELF_Q = 0.71


def log_grid(n: int = 200, lo: float = 20.0, hi: float = 20000.0) -> np.ndarray:
    return np.geomspace(lo, hi, n)


def _biquad_pow(b0, b1, b2, a0, a1, a2, w, xp=jnp):
    """|H(e^jw)|^2 (linear power) for one biquad, RBJ's cancellation-safe form with phi = sin^2(w/2).

    The naive |B|^2 expansion loses all precision below ~50 Hz (it subtracts nearly equal
    numbers); this form keeps shelves at 20 Hz accurate. Training runs in float64 (x64).
    """
    phi = xp.sin(w / 2.0) ** 2

    def mag2(c0, c1, c2):
        return (c0 + c1 + c2) ** 2 - 4.0 * (c0 * c1 + 4.0 * c0 * c2 + c1 * c2) * phi + 16.0 * c0 * c2 * phi * phi

    return xp.maximum(mag2(b0, b1, b2), 1e-30) / xp.maximum(mag2(a0, a1, a2), 1e-30)


def _w0_alpha(freq, q, fs, xp=jnp):
    w0 = 2.0 * np.pi * freq / fs
    return xp.cos(w0), xp.sin(w0) / (2.0 * q)


def peaking_pow(gain_db, freq, q, w, fs=FS, xp=jnp):
    a = 10.0 ** (gain_db / 40.0)
    c, al = _w0_alpha(freq, q, fs, xp)
    return _biquad_pow(1 + al * a, -2 * c, 1 - al * a, 1 + al / a, -2 * c, 1 - al / a, w, xp)


def low_shelf_pow(gain_db, freq, w, fs=FS, q=SHELF_Q, xp=jnp):
    a = 10.0 ** (gain_db / 40.0)
    c, al = _w0_alpha(freq, q, fs, xp)
    s = 2.0 * xp.sqrt(a) * al
    return _biquad_pow(
        a * ((a + 1) - (a - 1) * c + s), 2 * a * ((a - 1) - (a + 1) * c), a * ((a + 1) - (a - 1) * c - s),
        (a + 1) + (a - 1) * c + s, -2 * ((a - 1) + (a + 1) * c), (a + 1) + (a - 1) * c - s, w, xp,
    )


def high_shelf_pow(gain_db, freq, w, fs=FS, q=SHELF_Q, xp=jnp):
    a = 10.0 ** (gain_db / 40.0)
    c, al = _w0_alpha(freq, q, fs, xp)
    s = 2.0 * xp.sqrt(a) * al
    return _biquad_pow(
        a * ((a + 1) + (a - 1) * c + s), -2 * a * ((a - 1) + (a + 1) * c), a * ((a + 1) + (a - 1) * c - s),
        (a + 1) - (a - 1) * c + s, 2 * ((a - 1) - (a + 1) * c), (a + 1) - (a - 1) * c - s, w, xp,
    )


def response_db(params, freqs, fs: float = FS):
    """Cascade response in dB, params [..., 13] physical units (PARAM_ORDER), freqs [F] Hz.

    Returns [..., F]. numpy in -> computed in numpy (evaluation: no XLA compile per shape);
    anything else (jax arrays, tracers) -> jax.numpy (training, differentiable).
    """
    xp = np if isinstance(params, np.ndarray) and isinstance(freqs, np.ndarray) else jnp
    p = xp.asarray(params)[..., None]
    w = 2.0 * np.pi * xp.asarray(freqs) / fs
    # one log of the product instead of five logs: same value, a fifth of the transcendentals
    power = (
        low_shelf_pow(p[..., 0, :], p[..., 1, :], w, fs, xp=xp)
        * peaking_pow(p[..., 2, :], p[..., 3, :], p[..., 4, :], w, fs, xp=xp)
        * peaking_pow(p[..., 5, :], p[..., 6, :], p[..., 7, :], w, fs, xp=xp)
        * peaking_pow(p[..., 8, :], p[..., 9, :], p[..., 10, :], w, fs, xp=xp)
        * high_shelf_pow(p[..., 11, :], p[..., 12, :], w, fs, xp=xp)
    )
    return 10.0 * xp.log10(power)


def tilt_db(params, fs: float = FS) -> np.ndarray:
    """Mean level 200-400 Hz minus mean level 4-8 kHz (30 log-spaced points each), in dB.

    Positive = warm (low-mid heavy), negative = bright. Mirrors the Rust test's measure.
    """
    params = np.asarray(params, dtype=np.float64)
    lo = response_db(params, np.geomspace(200.0, 400.0, 30), fs).mean(-1)
    hi = response_db(params, np.geomspace(4000.0, 8000.0, 30), fs).mean(-1)
    return np.asarray(lo - hi)
