"""The release VST3 bundle in a real VST3 host: JUCE's VST3 hosting, through Spotify's pedalboard.

`cargo xtask test` runs this after it has built `target/bundled/MusicHal.vst3` (stage 3):

    .venv/bin/python -m pytest tests/vst3 -q

The bundle is `MUSICHAL_VST3_PATH` if set, else `target/bundled/MusicHal.vst3`. The plugin needs
the ONNX Runtime library (`ORT_DYLIB_PATH`, or `libonnxruntime.so.1.31.1` beside the bundle, as
`cargo xtask fetch-ort` leaves it) for its EQ model. A missing bundle or library fails every test
here with the command that makes it; nothing skips.

What a VST3 host sees, checked against the plugin's own contract (README "Parameters", the
CLAP side's `src/params.rs`, `assets/eq_morph.json`):

- the 25 parameters with their names, ranges and defaults;
- 0 samples of reported latency, and audio that is not shifted: EQ bypassed (the default), the
  output equals the input; EQ on, the output lines up with the input at lag 0;
- the word pair steers the spectrum: on pink noise, warm (Morph 0) lowers the 4-8 kHz band
  against 100-400 Hz, bright (Morph 100) raises it, and Morph moves between them in order;
- the state (`raw_state`, the VST3 component state) restores into a new instance: the same
  parameter values and, for the same input, the same output bit for bit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

# A hard dependency (tests/requirements.txt): without it collection fails, it never skips.
import pedalboard

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLE = Path(os.environ.get("MUSICHAL_VST3_PATH") or REPO_ROOT / "target" / "bundled" / "MusicHal.vst3")
ORT_LIBRARY_FILE = "libonnxruntime.so.1.31.1"
SAMPLE_RATE = 48_000
BLOCK = 512

# Every parameter as the CLAP side declares it (src/params.rs) and the README documents it:
# display name -> (min, max, default) in the units the host shows; booleans -> default;
# choices -> (values, default). Term values come from the embedded EQ model's metadata.
RANGED = {
    "Output Gain": (-24.0, 24.0, 0.0),
    "Morph": (0.0, 100.0, 50.0),
    "Intensity": (0.0, 2.0, 1.0),
    "Density": (0.0, 100.0, 80.0),
    "Continuity": (0.0, 100.0, 80.0),
    "MIDI Channel": (1.0, 16.0, 1.0),
    "Note Length": (0.25, 4.0, 1.0),
    "Velocity": (0.0, 2.0, 1.0),
    "Transpose": (-24.0, 24.0, 0.0),
    "Taboo": (0.0, 10.0, 2.0),
    "Novelty": (0.0, 100.0, 50.0),
    "Transpose Search": (0.0, 6.0, 0.0),
    "Swing": (0.0, 100.0, 0.0),
    "Tempo": (40.0, 240.0, 120.0),
}
SWITCHES = {
    "EQ Bypass": True,
    "Auto Gain": True,
    "Listen": True,
    "Live Learning": False,
    "Onset Reaction": True,
    "Follow Changes": True,
    "Novelty Dial": False,
}


def eq_model_terms() -> list[str]:
    meta = json.loads((REPO_ROOT / "assets" / "eq_morph.json").read_text(encoding="utf-8"))
    return [t["name"] for t in meta["terms"]]


CHOICES = {
    "Term A": (eq_model_terms(), "warm"),
    "Term B": (eq_model_terms(), "bright"),
    "Drive": (["Harmonic", "Percussive", "Both"], "Harmonic"),
    "Answer Mode": (["Free", "Beat", "Bar"], "Free"),
    "Grid": (["1/4", "1/8", "1/16", "1/4 T", "1/8 T", "1/16 T"], "1/8"),
}


def ort_library() -> Path:
    env = os.environ.get("ORT_DYLIB_PATH")
    return Path(env) if env else BUNDLE.parent / ORT_LIBRARY_FILE


@pytest.fixture(scope="module")
def bundle() -> str:
    binary = BUNDLE / "Contents" / "x86_64-linux" / "MusicHal.so"
    if not binary.is_file():
        pytest.fail(
            f"the VST3 bundle {BUNDLE} (binary {binary}) is missing; build it with "
            "`cargo xtask bundle musichal --release` or point MUSICHAL_VST3_PATH at one.",
            pytrace=False,
        )
    library = ort_library()
    if not library.is_file():
        pytest.fail(
            f"the ONNX Runtime library {library} is missing; fetch it with `cargo xtask fetch-ort` "
            "(it lands beside the bundle) or point ORT_DYLIB_PATH at it.",
            pytrace=False,
        )
    return str(BUNDLE)


def load(bundle: str) -> pedalboard.VST3Plugin:
    plugin = pedalboard.load_plugin(bundle)
    assert isinstance(plugin, pedalboard.VST3Plugin), f"{bundle} loaded as {type(plugin).__name__}"
    return plugin


def by_name(plugin) -> dict:
    return {p.name: p for p in plugin.parameters.values()}


def pink_noise(seconds: float, seed: int) -> np.ndarray:
    """Stereo pink noise (independent channels), 1/f power, peak 0.25, float32 [2, n]."""
    n = int(seconds * SAMPLE_RATE)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal((2, n)), axis=1)
    freqs = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    freqs[0] = freqs[1]
    x = np.fft.irfft(spectrum / np.sqrt(freqs), n, axis=1)
    return (0.25 * x / np.max(np.abs(x))).astype(np.float32)


def process(plugin, audio: np.ndarray) -> np.ndarray:
    out = plugin.process(audio, SAMPLE_RATE, buffer_size=BLOCK, reset=True)
    assert out.shape == audio.shape and out.dtype == np.float32
    assert np.all(np.isfinite(out))
    return out


def tilt_db(audio: np.ndarray, skip_s: float = 1.0) -> float:
    """4-8 kHz band energy over 100-400 Hz band energy, dB, both channels, after `skip_s` (so that
    the loudness matching has settled; the ratio does not depend on the overall gain anyway)."""
    x = audio[:, int(skip_s * SAMPLE_RATE):].astype(np.float64)
    power = np.abs(np.fft.rfft(x, axis=1)) ** 2
    freqs = np.fft.rfftfreq(x.shape[1], 1.0 / SAMPLE_RATE)
    high = power[:, (freqs >= 4000) & (freqs < 8000)].sum()
    low = power[:, (freqs >= 100) & (freqs < 400)].sum()
    return float(10.0 * np.log10(high / low))


def test_parameters_have_the_plugins_names_ranges_and_defaults(bundle):
    plugin = load(bundle)
    params = by_name(plugin)
    assert len(params) == len(plugin.parameters), "two parameters share a display name"
    expected = set(RANGED) | set(SWITCHES) | set(CHOICES)
    assert set(params) == expected, (
        f"missing: {sorted(expected - set(params))}, unexpected: {sorted(set(params) - expected)}"
    )
    for name, (lo, hi, default) in RANGED.items():
        p = params[name]
        assert p.type is float, f"{name}: {p.type}"
        assert p.min_value == pytest.approx(lo, abs=1e-3), f"{name} min"
        assert p.max_value == pytest.approx(hi, abs=1e-3), f"{name} max"
        assert getattr(plugin, p.python_name) == pytest.approx(default, abs=1e-3), f"{name} default"
    for name, default in SWITCHES.items():
        p = params[name]
        assert p.type is bool, f"{name}: {p.type}"
        assert bool(getattr(plugin, p.python_name)) is default, f"{name} default"
    for name, (values, default) in CHOICES.items():
        p = params[name]
        assert p.type is str, f"{name}: {p.type}"
        assert list(p.valid_values) == values, f"{name} values"
        assert getattr(plugin, p.python_name) == default, f"{name} default"


def test_reports_zero_latency_and_passes_audio_unchanged_with_the_eq_bypassed(bundle):
    plugin = load(bundle)
    assert plugin.reported_latency_samples == 0
    audio = pink_noise(2.0, seed=1)
    out = process(plugin, audio)
    assert np.max(np.abs(out - audio)) <= 1e-6


def test_eq_output_is_aligned_with_its_input(bundle):
    """With the EQ on, the output's cross-correlation with the input peaks at lag 0 (a plugin
    that delayed its audio without reporting it would peak at the delay)."""
    plugin = load(bundle)
    plugin.eq_bypass = False
    plugin.morph = 100.0
    audio = pink_noise(3.0, seed=2)
    out = process(plugin, audio)
    a, b = SAMPLE_RATE, 2 * SAMPLE_RATE
    lags = np.arange(-256, 257)
    for ch in range(2):
        corr = [np.dot(audio[ch, a:b], out[ch, a + lag:b + lag]) for lag in lags]
        assert lags[int(np.argmax(np.abs(corr)))] == 0, f"channel {ch}"


def test_warm_and_bright_move_the_spectrum_the_way_the_words_say(bundle):
    plugin = load(bundle)
    plugin.eq_bypass = False
    assert (plugin.term_a, plugin.term_b) == ("warm", "bright")
    audio = pink_noise(4.0, seed=3)
    dry = tilt_db(audio)
    plugin.morph = 0.0
    warm = tilt_db(process(plugin, audio))
    plugin.morph = 100.0
    bright = tilt_db(process(plugin, audio))
    # Warm takes treble away against the low mids, bright adds it, and the two are clearly apart.
    assert warm < dry - 1.0, (warm, dry)
    assert bright > dry + 1.0, (bright, dry)
    assert bright - warm > 3.0, (warm, bright)


def test_morph_changes_the_sound_in_order(bundle):
    plugin = load(bundle)
    plugin.eq_bypass = False
    audio = pink_noise(4.0, seed=4)
    outs, tilts = [], []
    for morph in (0.0, 50.0, 100.0):
        plugin.morph = morph
        outs.append(process(plugin, audio))
        tilts.append(tilt_db(outs[-1]))
    # Each step towards bright raises the treble by at least 1 dB, and the audio differs.
    assert tilts[1] > tilts[0] + 1.0 and tilts[2] > tilts[1] + 1.0, tilts
    for x, y in zip(outs, outs[1:]):
        assert np.max(np.abs(x - y)) > 1e-2


def test_state_restores_into_a_new_instance_bit_for_bit(bundle):
    first = load(bundle)
    first.eq_bypass = False
    first.term_a = "deep"
    first.term_b = "air"
    first.morph = 30.0
    first.intensity = 1.5
    first.output_gain_db = -6.0
    first.auto_gain = False
    first.answer_mode = "Bar"
    first.tempo_bpm = 97.0
    # JUCE hands parameter changes to the plugin with the next block (as a DAW does before it
    # saves a project), so the state is taken after the first instance has played once; the
    # reference is its second run, which starts from the settled values as a restore does.
    audio = pink_noise(2.0, seed=5)
    process(first, audio)
    original = process(first, audio)
    state = first.raw_state
    assert isinstance(state, bytes) and state

    second = load(bundle)
    second.raw_state = state
    for name, p in by_name(first).items():
        assert getattr(second, p.python_name) == getattr(first, p.python_name), name
    assert (second.term_a, second.term_b, second.answer_mode) == ("deep", "air", "Bar")

    restored = process(second, audio)
    assert np.array_equal(restored, original)
    # The state carried something: a default instance sounds different.
    assert np.max(np.abs(restored - process(load(bundle), audio))) > 1e-2
