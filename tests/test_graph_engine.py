"""Registry-driven engine tests: every node type is block-size independent, streams equal to
one-shot, and renders any window with the samples a full render has there."""
import numpy as np
import pytest
import soundfile as sf

from resonator.errors import GraphError
from resonator.graph import (
    Channels, Constant, Curve, DbToAmp, FunctionOfTime, Gain, Map, Mix, Node, Noise, Oscillator,
    Pan, Product, Select, Sine, Sum,
)
from resonator.graph.bank import SineBank
from resonator.graph.filters import LowPass
from resonator.render import render_array, render_file

SR = 8000


def _curve():
    return Curve([(0.0, 200.0), (1.0, 320.0, "exp"), (2.0, 250.0, "cos")])


def _lfo():
    return FunctionOfTime(lambda t: 150 + 50 * np.sin(2 * np.pi * 0.7 * t), bounds=(100, 200))


REGISTRY = {
    "sine-constant": lambda: Sine(441.0, amplitude=0.5),
    "sine-stereo": lambda: Sine([205.0, 195.0]),
    "sine-curve": lambda: Sine(_curve()),
    "sine-running": lambda: Sine(_lfo()),
    "sine-modulated-amp": lambda: Sine(300.0, amplitude=0.5 + 0.5 * Sine(3.0)),
    "triangle": lambda: Oscillator(_curve(), "triangle"),
    "saw": lambda: Oscillator(330.0, "saw"),
    "square": lambda: Oscillator(_lfo(), "square"),
    "pulse": lambda: Oscillator(220.0, "pulse", duty=Curve([(0, 0.2), (2, 0.7)])),
    **{f"noise-{c}": (lambda c=c: Noise(c, channels=2, name=c)) for c in
       ("white", "pink", "brown", "blue", "violet")},
    "sum": lambda: Sine(100.0) + Sine(150.0) - 0.25,
    "product": lambda: Sine(100.0) * Sine(2.0),
    "map": lambda: Map(Sine(50.0), np.tanh),
    "db-to-amp": lambda: DbToAmp(Curve([(0, -40.0), (2, 0.0)])),
    "gain": lambda: Gain(Noise("pink", name="g"), Curve([(0, -20.0), (2, -6.0)])),
    "channels-select": lambda: Select(Channels([Sine(100.0), Sine(200.0), Sine(300.0)]), [2, 0]),
    "pan": lambda: Pan(Sine(440.0), Curve([(0, -1.0), (2, 1.0)])),
    "mix": lambda: Mix([Sine(100.0), Noise("white", name="m")], [-6.0, Curve([(0, -30), (2, -10)])]),
    "constant": lambda: Constant([0.25, -0.5]),
    "curve": lambda: _curve(),
    "function-of-time": lambda: _lfo(),
    "sine-bank": lambda: SineBank([[100.0, 101.0], [150.0, 149.0], [441.0, 440.0]],
                                  [(_gate(), 0, 0.5, 0.1), 0.2, _lfo() * 0.001]),
    "product-gated": lambda: Channels([Sine(300.0), Sine(310.0)]) * _gate() * 0.5 * _curve(),
    "product-gated-stateful": lambda: LowPass(Noise("pink", channels=2, name="gs"), 1000.0)
    * _gate(),
    "mix-of-gated-layers": lambda: Sum([
        Channels([Sine(300.0), Sine(302.0)]) * _gate() * DbToAmp(Curve([(0, -20.0), (3, -6.0)])),
        Noise("pink", channels=2, name="mx") * Curve([(0, 0.2), (3, 0.4)]),
        0.5 * Channels([Sine(150.0), Sine(151.0)]) * _gate(),
    ]),
}


def _gate():
    """An envelope that is exactly 0 until 1.1 s (gated products skip their inputs there)."""
    return Curve([(0.0, 0.0), (1.1, 0.0), (1.5, 1.0, "cos"), (2.2, 1.0), (2.3, 0.0, "cos")])


@pytest.fixture(params=sorted(REGISTRY))
def make(request):
    return REGISTRY[request.param]


def test_block_size_independent(make):
    ref = render_array(make(), 2.5, sr=SR, block_frames=4096)
    for bf in (1000, 16384, 333):
        other = render_array(make(), 2.5, sr=SR, block_frames=bf)
        assert np.max(np.abs(other - ref)) <= 1e-6, bf


def test_same_graph_renders_bit_identical(make):
    a = render_array(make(), 1.0, sr=SR, seed=11)
    b = render_array(make(), 1.0, sr=SR, seed=11)
    assert np.array_equal(a, b)


def test_streamed_file_equals_one_shot(make, tmp_path):
    node = make()
    ref = render_array(node, 1.5, sr=SR, block_frames=1024)
    render_file(node, tmp_path / "x.wav", 1.5, sr=SR, bits="32f", block_frames=1024)
    data, sr = sf.read(tmp_path / "x.wav", always_2d=True)
    assert sr == SR
    assert np.max(np.abs(data.T - ref.astype(np.float32))) == 0.0


def test_window_render_matches_full_render(make):
    full = render_array(make(), 3.0, sr=SR, block_frames=1024)
    start = 1.3
    win = render_array(make(), 1.2, sr=SR, block_frames=1024, start_s=start)
    i = round(start * SR)
    assert np.max(np.abs(win - full[:, i : i + win.shape[1]])) <= 1e-9


def test_shared_node_computed_once_per_block():
    calls = []

    class Counting(Node):
        channels = 1

        def _process(self, ctx, start, frames):
            calls.append(start)
            return np.ones((1, frames))

    shared = Counting()
    graph = Channels([shared * 2.0, shared + 1.0, Product([shared, shared])])
    render_array(graph, 1.0, sr=SR, block_frames=1000)
    assert len(calls) == 8  # 8000 frames / 1000 per block, once each


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: Sum([Constant([1, 2]), Constant([1, 2, 3])]), "channel"),
        (lambda: Pan(Constant([1.0, 2.0])), "one-channel"),
        (lambda: Select(Sine(1.0), [3]), "does not exist"),
        (lambda: Sine("fast"), "number, a curve or a node"),
    ],
)
def test_graph_errors_at_build_time(build, message):
    with pytest.raises(GraphError, match=message):
        build()


@pytest.mark.parametrize("duration, start, message", [(-1.0, 0.0, "negative"), (0.0, 0.0, "longer than zero"),
                                                      (1.0, -2.0, "negative")])
def test_bad_durations(duration, start, message):
    with pytest.raises(GraphError, match=message):
        render_array(Sine(100.0), duration, sr=SR, start_s=start)


def test_pan_is_equal_power():
    x = render_array(Pan(Constant(1.0), 0.0), 0.01, sr=SR)
    assert np.allclose(x, np.sqrt(0.5))
    x = render_array(Pan(Constant(1.0), -1.0), 0.01, sr=SR)
    assert np.allclose(x[0], 1.0) and np.allclose(x[1], 0.0, atol=1e-15)
    with pytest.raises(GraphError, match="between -1"):
        render_array(Pan(Constant(1.0), 2.0), 0.01, sr=SR)


def test_gated_product_skips_silent_blocks_exactly():
    """A product with an envelope that is 0 over a block returns zeros without computing its
    other inputs, unless they carry state (filters, running phases)."""
    calls = []

    class Counting(Node):
        channels = 2

        def _process(self, ctx, start, frames):
            calls.append(start)
            return np.ones((2, frames))

    env = _gate()
    node = Counting() * env * 0.5
    y = render_array(node, 3.0, sr=SR, block_frames=1000)
    want = 0.5 * env.evaluate(np.arange(3 * SR) / SR)
    assert np.max(np.abs(y - want[None, :])) <= 1e-12
    # blocks of 1000 frames: [0, 8000) and [19000, 24000) are silent
    assert sorted(calls) == list(range(8000, 19000, 1000))
    calls.clear()
    stateful = LowPass(Counting(), 1000.0) * env
    render_array(stateful, 3.0, sr=SR, block_frames=1000)
    assert len(calls) == 24  # a filter must see every block


def test_fused_mix_equals_products_then_sum():
    """A sum of (signal x one-channel gains) products adds them in one pass: the same bits as
    rendering each product and adding."""
    layers = REGISTRY["mix-of-gated-layers"]().terms
    mixed = render_array(Sum(layers), 3.0, sr=SR, block_frames=1000)
    parts = [render_array(t, 3.0, sr=SR, block_frames=1000) for t in layers]
    assert np.array_equal(mixed, (parts[0] + parts[1]) + parts[2])


def test_a_fade_holding_at_one_passes_the_block_through_unchanged():
    """signal x fade: where the fade holds exactly 1 the product is the signal's own block
    (no multiply pass); elsewhere the product. Either way the bits of signal * fade."""
    from resonator.graph.core import RenderContext, prepare

    sig = Channels([Sine(440.0), Sine(330.0)])
    fade = Curve([(0.0, 0.0), (0.25, 1.0), (0.75, 1.0), (1.0, 0.0)])
    node = Product([sig, fade])
    out = render_array(node, 1.0, sr=8000, block_frames=500)
    ref = render_array(sig, 1.0, sr=8000) * render_array(fade, 1.0, sr=8000)
    assert np.array_equal(out, ref)
    ctx = RenderContext(8000, block_frames=500)
    prepare(node, ctx)
    held = ctx.pull(node, 4000, 500)   # 0.5 s: the fade holds 1
    assert held is ctx.pull(sig, 4000, 500)
    moving = ctx.pull(node, 500, 500)  # 0.0625 s: fading in
    signal = ctx.pull(sig, 500, 500)
    assert moving is not signal and moving[0, 100] != signal[0, 100]
