"""Window renders: the samples of a full render, without preparing the graph again and again."""
import numpy as np
import pytest
import soundfile as sf

import resonator.render as render_mod
from resonator.graph import Curve, LowPass, Noise, Sine
from resonator.mastering import _ForwardReader
from resonator.recipe import render_recipe
from resonator.render import iter_blocks

RECIPE = """
title = "w"
loudness = "-3 LUFS"
fade_in = "0.5s"
fade_out = "0.5s"

[[phase]]
name = "a"
duration = "3s"

[[phase]]
name = "b"
duration = "3s"

[[layer]]
name = "bed"
kind = "noise"
color = "brown"
gain = "-22 dB"

[[layer]]
name = "beat"
kind = "binaural"
carrier = "300 Hz"
beat = { a = "6 Hz", b = "4 Hz", glide = "1s" }
gain = { a = "-12 dB", b = "-1 dB", glide = "0.2s" }
"""


class _Count:
    """Counts :class:`resonator.render.Renderer` constructions (graph preparations)."""

    def __init__(self, monkeypatch):
        self.n = 0
        real = render_mod.Renderer.__init__

        def init(obj, *a, **kw):
            self.n += 1
            real(obj, *a, **kw)
        monkeypatch.setattr(render_mod.Renderer, "__init__", init)


def test_forward_reader_equals_window_renders_and_prepares_the_graph_once(monkeypatch):
    sr, B = 8000, 1000

    def graph():  # node state lives in the nodes: the references render their own copy
        return LowPass(Noise("pink", channels=2, amplitude=0.5, name="n"), 900.0) \
            + Sine(440.0) * Curve([(0, 0.0), (5, 1.0)]) * 0.1
    node, twin = graph(), graph()
    end = 20 * sr
    count = _Count(monkeypatch)
    reader = _ForwardReader(node, sr=sr, seed=3, end=end, block_frames=B)
    # ascending reads: overlapping, adjacent, a short gap (rendered through), a long jump
    spans = [(10, 300), (250, 2600), (2600, 2700), (4100, 4500), (15 * sr, 15 * sr + 77),
             (15 * sr + 50, end)]
    for lo, hi in spans:
        got = reader.read(lo, hi)
        ref = np.concatenate([b for _, b in iter_blocks(twin, (hi - lo) / sr, sr=sr, seed=3,
                                                         start_s=lo / sr, block_frames=B)], 1)
        assert got.shape == (2, hi - lo)
        # a window's filters settle from its own warm-up: equal to float precision (one
        # float32 step at most)
        assert np.max(np.abs(got - ref)) <= 1.2e-7
    assert count.n == 1 + len(spans)  # the reader's one graph + one per reference window
    # a read before the last one's start restarts cleanly
    assert np.array_equal(reader.read(100, 200), reader.read(100, 200))


@pytest.fixture
def recipe_path(tmp_path):
    p = tmp_path / "w.toml"
    p.write_text(RECIPE)
    return p


def test_window_render_has_the_full_renders_samples_and_renders_the_graph_once(
        recipe_path, tmp_path, monkeypatch):
    full = render_recipe(recipe_path, tmp_path / "full.wav", sr=16000, bits="32f")
    # the loud second phase needs exact true peaks (it is limited): without the fix each
    # candidate run was a new graph preparation and window render
    assert full.mastering["limited_hops"] > 10
    count = _Count(monkeypatch)
    win = render_recipe(recipe_path, tmp_path / "win.wav", sr=16000, bits="32f",
                        start="2.3s", duration="1.7s")
    assert count.n == 1  # the measuring pass; true peaks and the window come from its cache
    plan = {k: v for k, v in full.mastering.items() if not k.startswith("output_")}
    assert {k: v for k, v in win.mastering.items() if not k.startswith("output_")} == plan
    a, _ = sf.read(tmp_path / "full.wav", always_2d=True, dtype="float32")
    b, _ = sf.read(tmp_path / "win.wav", always_2d=True, dtype="float32")
    first = int(2.3 * 16000)
    assert b.shape == (int(1.7 * 16000), 2)
    assert np.array_equal(a[first:first + b.shape[0]], b)
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        ["full.json", "full.wav", "w.toml", "win.json", "win.wav"]


@pytest.mark.parametrize("color", ["pink", "brown", "blue", "violet", "white"])
def test_noise_scale_in_closed_form_equals_the_summed_impulse_response(color):
    from resonator.graph.noise import _bank, _rms_scale

    sr = 44100
    poles, gains, direct, delayed, diff = _bank(color, sr)
    scale, warm = _rms_scale(color, sr)
    n = max(4 * warm, 16)
    t = np.arange(n)
    h = np.zeros(n)
    h[0], h[1] = direct, delayed
    for p, g in zip(poles, gains):
        h += g * p ** t
    if diff:
        h = np.diff(h, prepend=0.0)
    assert scale == pytest.approx(1.0 / np.sqrt(np.sum(h * h)), rel=1e-12)
