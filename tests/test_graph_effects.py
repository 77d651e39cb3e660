"""Tests for resonator.graph.effects: pedalboard plugins on a fixed absolute grid."""
import numpy as np
import pedalboard
import pytest

from resonator.errors import GraphError
from resonator.graph import Channels, Curve, Sine, WhiteNoise
from resonator.graph.effects import Effect
from resonator.render import render_array

SR = 48000


def src2():
    return 0.3 * WhiteNoise(channels=2, name="src")


CASES = [
    ("Reverb", {"room_size": Curve([(0, 0.2), (1, 0.8)]), "wet_level": 0.5}),
    ("Compressor", {"threshold_db": Curve([(0, -10.0), (1, -30.0)]), "ratio": 4.0}),
    ("Chorus", {"rate_hz": Curve([(0, 0.5), (1, 3.0)])}),
    ("LadderFilter", {"cutoff_hz": Curve([(0, 300.0), (1, 3000.0)])}),
    ("Delay", {"delay_seconds": 0.05, "feedback": 0.3}),
]


@pytest.mark.parametrize("plugin,params", CASES)
def test_block_size_invariance(plugin, params):
    node = Effect(src2(), plugin, params=params)
    ref = render_array(node, 1.0, sr=SR, block_frames=4096)
    for bf in (1000, 16384):
        out = render_array(node, 1.0, sr=SR, block_frames=bf)
        assert np.max(np.abs(out - ref)) <= 1e-6
        assert np.array_equal(out, ref)  # pedalboard 0.9 allows bit-identity here


@pytest.mark.parametrize("plugin,params", [CASES[0], CASES[2], CASES[3]])
def test_window_equals_full_after_warmup(plugin, params):
    node = Effect(src2(), plugin, params=params)
    full = render_array(node, 3.0, sr=SR, block_frames=4096)
    start = 2.5
    w = render_array(node, 0.4, sr=SR, start_s=start, block_frames=1000)
    i = int(start * SR)
    assert 0 < node.warmup_frames
    assert np.max(np.abs(w - full[:, i:i + w.shape[1]])) <= 1e-6


def test_last_block_of_one_frame_stereo():
    node = Effect(src2(), "Reverb", params={"room_size": Curve([(0, 0.3), (0.2, 0.9)])})
    n = 4096 * 2 + 1                                   # last block: 1 frame, shape (2, 1)
    short = render_array(node, n / SR, sr=SR, block_frames=4096)
    long = render_array(node, (n + 500) / SR, sr=SR, block_frames=4096)
    assert short.shape == (2, n)
    assert np.array_equal(short, long[:, :n])
    # a 1-frame window as the very first call after the reset
    one = render_array(node, 1 / SR, sr=SR, block_frames=1)
    assert one.shape == (2, 1) and np.array_equal(one, long[:, :1])


def test_gain_known_answer_on_grid():
    x = Channels([Sine(220.0), Sine(330.0)])
    gain = Curve([(0, 0.0), (0.5, -12.0)])
    out = render_array(Effect(x, "Gain", params={"gain_db": gain}, grid_frames=512), 0.5, sr=SR)
    ref = render_array(x, 0.5, sr=SR)
    # gain applied at each multiple of 512 with the curve's value at that sample
    n = np.arange(ref.shape[1])
    g = 10 ** (gain.evaluate((n // 512) * 512 / SR) / 20)
    assert np.max(np.abs(out - ref * g)) < 1e-6


def test_channel_rule_mono_stays_mono():
    assert Effect(Sine(440.0), "Reverb").channels == 1
    assert Effect(src2(), "Reverb").channels == 2
    assert Effect(src2(), pedalboard.Compressor(threshold_db=-20)).channels == 2


@pytest.mark.parametrize("plugin", [
    "PitchShift", pedalboard.Resample(target_sample_rate=8000), "MP3Compressor",
    "GSMFullRateCompressor",
])
def test_length_changing_plugins_refused(plugin):
    with pytest.raises(GraphError, match="length"):
        Effect(src2(), plugin)


def test_bad_arguments():
    with pytest.raises(GraphError, match="unknown pedalboard plugin"):
        Effect(src2(), "Reverberator")
    with pytest.raises(GraphError, match="no parameter"):
        Effect(src2(), "Reverb", params={"size": 0.5})
    with pytest.raises(GraphError, match="one-channel"):
        Effect(src2(), "Gain", params={"gain_db": [1.0, 2.0]})
    with pytest.raises(GraphError, match="grid_frames"):
        Effect(src2(), "Gain", grid_frames=1)
    with pytest.raises(GraphError, match="pedalboard plugin"):
        Effect(src2(), 42)


def test_lfo_window_needs_time_function_params():
    node = Effect(src2(), "Chorus", params={"rate_hz": 1.0 + 0.5 * Sine(0.1)})
    assert node.needs_prefix
    render_array(node, 0.1, sr=SR)                     # from the start: fine
    with pytest.raises(GraphError, match="render from the start"):  # (past the first block
        render_array(node, 0.1, sr=SR, start_s=10.0)                # and the 1 s warm-up)
