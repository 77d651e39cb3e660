"""Known answers for the graph's fused per-block paths (issue 17, mettannealing's speed): each
gives the same samples, bit for bit, as the plain computation it replaced."""
import numpy as np
import pytest

from resonator.graph.core import RenderContext
from resonator.layers._common import EventSum, event_sum, max_overlap
from resonator.render import render_array

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
