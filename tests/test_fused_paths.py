"""Known answers for the graph's fused per-block paths (issue 17, mettannealing's speed): each
gives the same samples, bit for bit, as the plain computation it replaced."""
import numpy as np
import pytest

from resonator.graph import Curve
from resonator.graph.core import RenderContext
from resonator.layers._common import EventSum, event_sum, max_overlap
from resonator.render import Renderer, render_array

TWO_PI = 2.0 * np.pi


def test_event_sum_counts_the_latest_events_that_sound():
    # every sound is 1 while it lasts: the sum counts the events sounding, at most max_overlap
    times = np.array([0.0, 0.5, 1.0, 1.0, 3.0])
    one = lambda tau, k: np.ones(tau.shape)  # noqa: E731
    t = np.array([-0.1, 0.0, 0.4, 0.5, 0.99, 1.0, 1.19, 1.2, 2.0, 2.2, 3.0, 4.3])
    for ascending in (False, True):
        got = event_sum(t, times, 1.2, one, 4, ascending=ascending)
        assert got.tolist() == [0, 1, 1, 2, 2, 4, 4, 3, 2, 0, 1, 0]
        # only the two latest at or before each time are counted when max_overlap is 2
        got = event_sum(t, times, 1.2, one, 2, ascending=ascending)
        assert got.tolist() == [0, 1, 1, 2, 2, 2, 2, 2, 2, 0, 1, 0]
    assert max_overlap(times, 1.2) == 4


@pytest.mark.parametrize("seed", range(4))
def test_event_sum_of_a_block_equals_the_sample_by_sample_search(seed):
    rng = np.random.default_rng(seed)
    for trial in range(60):
        times = np.sort(rng.uniform(0.0, 20.0, int(rng.integers(1, 40))))
        if trial % 3 == 0:
            times = np.round(times * 4) / 4  # events at the same time
        length = float(rng.choice([0.05, 0.3, 1.7, 5.0]))
        pitch = rng.uniform(100.0, 1000.0, times.size)

        def sound(tau, k):
            return np.exp(-tau) * np.sin(TWO_PI * pitch[k] * tau)
        overlap = max_overlap(times, length)
        sr = int(rng.choice([8000, 44100, 48000]))
        start, n = int(rng.integers(0, 20 * sr)), int(rng.integers(1, 40000))
        t = np.arange(start, start + n, dtype=np.float64) / sr
        plain = event_sum(t, times, length, sound, overlap)
        fused = event_sum(t, times, length, sound, overlap, ascending=True)
        assert fused.tobytes() == plain.tobytes()


def test_an_event_node_renders_its_evaluate_for_any_block_size():
    times = np.array([0.01, 0.02, 0.3, 0.31, 0.5])

    def sound(tau, k):
        return (0.5 - 0.5 * np.cos(TWO_PI * tau / 0.2)) * np.sin(TWO_PI * (200 + 50 * k) * tau)
    node = EventSum(times, 0.2, sound)
    sr = 8000
    want = node.evaluate(np.arange(int(0.8 * sr)) / sr)
    assert np.max(np.abs(want)) > 0.5
    for block in (7, 1000, 65536):
        got = render_array(node, 0.8, sr=sr, block_frames=block)[0]
        assert got.tobytes() == want.tobytes()
    # a window starts anywhere
    ctx = RenderContext(sr, 0, 512)
    got = node._process(ctx, 2001, 300)[0]
    assert got.tobytes() == want[2001:2301].tobytes()


def _curve_state(c):
    return [c.t.tobytes(), c.v.tobytes(), c.kinds, c.curvature.tobytes(), c.cum.tobytes(),
            c._codes.tobytes(), c._a0.tobytes(), c._r.tobytes(), c._e.tobytes()]


@pytest.mark.parametrize("shape", ["db", "exp", "cos", "linear"])
def test_a_long_curve_integrates_each_segment_as_one_by_one(shape):
    # many exp, db and cos segments are integrated in one vector pass: the same cumulative
    # integral, bit for bit, as segment by segment (the closed form at x = 1)
    rng = np.random.default_rng(11)
    for trial in range(30):
        n = int(rng.integers(10, 300))
        t = np.sort(np.cumsum(rng.uniform(0.0, 3.0, n)))
        t[5] = t[4]  # an instant step
        lo = 0.0 if shape == "db" else 0.1
        v = rng.uniform(lo, 2.0, n) * (1e-9 if trial % 5 == 0 else 1.0)
        if shape == "db":
            v[3] = 0.0
        if trial % 7 == 0:
            v[:] = v[0]  # flat exp segments (r = 0)
        c = Curve([(t[0], v[0])] + [(a, b, shape) for a, b in zip(t[1:], v[1:])])
        seg = [0.0] + [c._segment_integral(k, np.array([1.0]))[0] if t[k] > t[k - 1] else 0.0
                       for k in range(1, n)]
        assert c.cum.tobytes() == np.concatenate([[0.0], np.cumsum(seg[1:])]).tobytes()
        # and a curve built from arrays is the curve built from points
        same = Curve._of_arrays(t, v, shape) if shape != "cos" else c
        assert _curve_state(same) == _curve_state(c)
    # the closed form: a db segment from 1 to 10 over 2 s integrates to 18 / ln 10
    c = Curve([(0.0, 1.0)] + [(2.0 * (k + 1), 10.0 ** ((k + 1) % 2), "db") for k in range(12)])
    assert c.cum[1] == pytest.approx(18.0 / np.log(10.0), rel=1e-14)
    assert c.cum[-1] == pytest.approx(12 * 18.0 / np.log(10.0), rel=1e-13)


def test_a_sampled_curve_takes_the_extra_times_once():
    from resonator.graph.curves import _merged, sample_curve

    t = np.linspace(0.0, 10.0, 41)
    e = np.array([0.0, 0.1, 0.25, 0.25, 3.3, 10.0])
    assert _merged(t, e).tobytes() == np.unique(np.concatenate([t, e])).tobytes()
    assert _merged(t[::-1], e).tobytes() == np.unique(np.concatenate([t, e])).tobytes()
    c = sample_curve(lambda x: np.where(x < 3.3, 1.0, 2.0), 0.0, 10.0, step_s=0.25,
                     extra=[3.3, 20.0])
    # a step at 3.3 s (an extra time) is kept exactly; the holds around it are (mostly)
    # dropped, and the curve holds the function's values at every sample time
    assert 3.3 in c.t.tolist() and 20.0 not in c.t.tolist() and len(c.t) <= 6
    grid = np.unique(np.concatenate([np.linspace(0.0, 10.0, 41), [3.3]]))
    assert c.evaluate(grid).tolist() == np.where(grid < 3.3, 1.0, 2.0).tolist()


def test_a_filter_sweeping_only_its_cutoff_equals_the_general_path():
    # a low-pass whose cutoff alone follows a curve designs its block's sets in one pass; the
    # general path (any swept parameter, carried sets) gives the same samples bit for bit, for
    # blocks that start inside a 32-sample grid segment and for windows
    from resonator.graph import PinkNoise
    from resonator.graph.filters import LowPass

    cut = Curve([(0.0, 300.0), (0.4, 5000.0, "exp"), (0.9, 800.0, "db")])
    node = LowPass(PinkNoise(name="n"), cut, q=0.9)
    sr = 16000
    for block in (65536, 1000, 77):
        fast = render_array(node, 1.0, sr=sr, block_frames=block)
        r = Renderer(node, sr=sr, block_frames=block)
        assert node._sweeps_cutoff_only
        node._sweeps_cutoff_only = False  # the general path
        plain = np.concatenate([b for _, b in r.blocks(0, sr)], axis=1)
        assert fast.tobytes() == plain.tobytes()
    for first in (2345, 4000):
        for general in (False, True):
            r = Renderer(node, sr=sr, block_frames=1000)
            node._sweeps_cutoff_only = not general
            got = np.concatenate([b for _, b in r.blocks(first, first + 1500)], axis=1)
            if not general:
                window = got
        assert window.tobytes() == got.tobytes()
    assert np.max(np.abs(fast)) > 0.05


def _bank_reference(sa, ca, ct, st, offset, amps, scale, shift, rows):
    """The sine bank's sum the plain way: zeros, then each partial added over the block."""
    K, C, G = ct.shape
    n = amps.shape[1]
    out = np.zeros((C, n))
    pos = offset + np.arange(n)
    s, i = pos // G, pos % G
    for c in range(C):
        for k in range(K):
            x = amps[rows[k]] if rows[k] >= 0 else 0.0
            out[c] += (x * scale[k] + shift[k]) * (sa[k, c, s] * ct[k, c, i] + ca[k, c, s] * st[k, c, i])
    return out


@pytest.mark.parametrize("C", [1, 2, 3])
def test_the_sine_bank_sums_its_partials_in_runs_as_one_by_one(C):
    # the kernel sums the partials of a run of frames in a buffer (the first added to 0.0):
    # the same bits as adding each partial's block to zeros, an all-silent bank +0.0
    from resonator.kernels import bank, bank_grid

    rng = np.random.default_rng(2)
    K, G, n, offset = 3, 512, 2000, 300
    NA = (offset + n) // G + 1
    sa, ca = rng.uniform(-1, 1, (K, C, NA)), rng.uniform(-1, 1, (K, C, NA))
    ct, st = rng.uniform(-1, 1, (K, C, G)), rng.uniform(-1, 1, (K, C, G))
    src = rng.uniform(0, 1, (2, n))
    rows, scale, shift = np.array([1, -1, 0]), np.array([0.7, 0.0, -1.3]), np.array([0.1, 0.4, 0.2])
    out = np.empty((C, n))
    bank(out, sa, ca, ct, st, offset, src, rows, scale, shift)
    assert out.tobytes() == _bank_reference(sa, ca, ct, st, offset, src, scale, shift,
                                            rows).tobytes()
    # levels on a grid of g frames, interpolated linearly (the drone's level bank)
    g, first, start = 16, 992, 1000
    lv = rng.uniform(0, 1, (2, (start + n - first) // g + 2))
    grid_bank = np.empty((C, n))
    bank_grid(grid_bank, sa, ca, ct, st, offset, lv, first, g, start, rows, scale, shift)
    frames = start + np.arange(n)
    x0 = first + (frames - first) // g * g
    j = (x0 - first) // g
    slope = (lv[:, j + 1] - lv[:, j]) / ((x0 + g).astype(float) - x0.astype(float))
    amps = slope * (frames - x0).astype(float) + lv[:, j]
    assert grid_bank.tobytes() == _bank_reference(sa, ca, ct, st, offset, amps, scale, shift,
                                                  rows).tobytes()
    # silent partials with negative sines give +0.0, as zeros plus -0.0 do
    bank(out, sa, -np.abs(ca), ct, np.abs(st), offset, src, np.array([-1, -1, -1]),
         scale, np.zeros(K))
    assert not np.signbit(out).any() and not out.any()


def test_a_copied_graph_renders_the_same_samples_beside_the_original():
    # a second measuring lane can take a copy of the session's graph instead of building it
    # again: the same samples, state of its own (nodes not shared), on another thread at once
    import hashlib
    import threading

    from resonator.graph import copy_graph, walk
    from resonator.recipe.session import build_session

    SR = 12000
    s = build_session("mettannealing", sr=SR)
    twin = copy_graph(s.node)
    assert twin is not None
    assert not {id(n) for n in walk(s.node)} & {id(n) for n in walk(twin)}
    spans = [(0, 200 * SR), (590 * SR, 640 * SR)]  # energize (cues), metta's start
    want = []
    for a, b in spans:
        h = hashlib.sha256()
        for _, blk in Renderer(s.node, sr=SR, seed=s.seed, block_frames=4096).blocks(a, b):
            h.update(blk.tobytes())
        want.append(h.hexdigest())
    got = [None, None]

    def lane(i, node):
        h = hashlib.sha256()
        for _, blk in Renderer(node, sr=SR, seed=s.seed, block_frames=4096).blocks(*spans[i]):
            h.update(blk.tobytes())
        got[i] = h.hexdigest()
    threads = [threading.Thread(target=lane, args=(0, s.node)),
               threading.Thread(target=lane, args=(1, twin))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == want


def test_a_graph_holding_a_lock_is_not_copied():
    import threading

    from resonator.graph import Sine, copy_graph

    node = Sine(440.0) * 0.5
    node.factors[0]._lock = threading.Lock()  # as a music layer's reader holds
    assert copy_graph(node) is None
