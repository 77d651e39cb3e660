"""Loudness normalisation and true-peak control, measured on the written file."""
import math

import numpy as np
import pytest
import soundfile as sf

from resonator.graph import Channels, Curve, Noise, Sine
from resonator.mastering import master
from resonator.measure.loudness import integrated_loudness, true_peak_dbtp
from resonator.render import render_file

SR = 48000


def _render(node, tmp_path, seconds, **kw):
    m = master(node, seconds, sr=SR, **kw)
    render_file(node, tmp_path / "m.wav", seconds, sr=SR, bits="32f", post=m.post)
    data, _ = sf.read(tmp_path / "m.wav", always_2d=True)
    return m, data.T


def test_quiet_session_is_normalised_to_target(tmp_path):
    node = Channels([Sine(205.0), Sine(195.0)]) * 0.05 + Noise("pink", channels=2, amplitude=0.1, name="n")
    m, y = _render(node, tmp_path, 8.0, target_lufs=-20.0, ceiling_dbtp=-1.0)
    assert m.limited_hops == 0
    assert integrated_loudness(y, SR) == pytest.approx(-20.0, abs=0.1)
    assert m.report()["output_lufs"] == pytest.approx(-20.0, abs=0.01)


def test_peaks_are_held_under_the_ceiling_with_smooth_gain(tmp_path):
    # a quiet bed with a loud 200 ms burst: normalising the bed would push the burst past 0 dBFS
    burst = Curve([(0, 0.0), (3.0, 0.0), (3.02, 1.0, "cos"), (3.2, 1.0), (3.22, 0.0, "cos")])
    node = Noise("pink", channels=2, amplitude=0.1, name="bed") + Sine(1000.0) * burst * 0.5
    m, y = _render(node, tmp_path, 8.0, target_lufs=-14.0, ceiling_dbtp=-1.0)
    assert m.limited_hops > 0
    assert true_peak_dbtp(y, SR) <= -1.0
    # the applied gain curve never moves faster than 0.1 dB per millisecond
    t = np.arange(0, 8.0, 0.0005)
    g_db = 20 * np.log10(m._envelope.evaluate(t))
    assert np.max(np.abs(np.diff(g_db))) / 0.5 <= 0.1 + 1e-9
    # the bed away from the burst is untouched by the limiter
    assert m._envelope.evaluate(np.array([1.0, 6.0])).tolist() == [1.0, 1.0]


def test_limiter_would_be_needed_without_it(tmp_path):
    """The known answer the previous test relies on: the plain gain really clips."""
    burst = Curve([(0, 0.0), (3.0, 0.0), (3.02, 1.0, "cos"), (3.2, 1.0), (3.22, 0.0, "cos")])
    node = Noise("pink", channels=2, amplitude=0.1, name="bed") + Sine(1000.0) * burst * 0.5
    m = master(node, 8.0, sr=SR, target_lufs=-14.0, ceiling_dbtp=-1.0)
    assert m.measured_true_peak_dbtp + m.gain_db > 0.0


def test_raw_cache_replays_the_blocks_of_a_render(tmp_path):
    """The cached blocks are a second render's rounded to float32, on the same block
    boundaries; the mastered output is the same whether post gets those or the render's."""
    from resonator.mastering import RawCache
    from resonator.render import iter_blocks

    node = Channels([Sine(205.0), Sine(195.0)]) * 0.3 + Noise("pink", channels=2, name="c")
    B = 4096
    for first_s, dur_s in ((0.0, 3.0), (0.0, 1.3)):
        first, total = round(first_s * SR), round(dur_s * SR)
        with RawCache(tmp_path / ".x.raw", 2, first, total, B) as cache:
            m = master(node, 3.0, sr=SR, block_frames=B, cache=cache)
            got = list(cache.blocks())
        assert not (tmp_path / ".x.raw").exists()
        ref = list(iter_blocks(node, dur_s, sr=SR, start_s=first_s, block_frames=B))
        assert [p for p, _ in got] == [p for p, _ in ref]
        for (pos, a), (_, b) in zip(got, ref):
            assert a.dtype == np.float32 and a.shape == b.shape
            assert np.array_equal(a, b.astype(np.float32))
            assert np.array_equal(m.post(a, pos), m.post(np.array(b), pos))
        assert np.max(np.abs(b - a)) <= np.max(np.abs(b)) * 2.0 ** -24
        assert m.report() == master(node, 3.0, sr=SR, block_frames=B).report()


def test_raw_cache_releasing_read_frees_the_file_as_it_goes(tmp_path):
    """A releasing read (the replay's) yields the same blocks, split in two stretches or
    not, and gives the file's pages back as it reads them; the cache can be read no more."""
    import os

    from resonator.mastering import RawCache

    B, total = 4096, 40 * 4096 + 100
    x = np.random.default_rng(3).standard_normal((2, total))
    for lanes in (1, 2):
        with RawCache(tmp_path / ".z.raw", 2, 0, total, B) as cache:
            for pos in range(0, total, B):
                cache.store(pos, x[:, pos:pos + B])
            fd = cache._f.fileno()
            full = os.fstat(fd).st_blocks
            assert full * 512 >= total * 2 * 4
            its = cache.split(lanes, release=True) if lanes == 2 else \
                [cache.blocks(release=True)]
            got = [b for it in its for b in it]
            assert os.fstat(fd).st_blocks < full // 20  # (only partial pages may stay)
            with pytest.raises(RuntimeError, match="releasing read"):
                cache.read(0, 10)
        assert [p for p, _ in got] == list(range(0, total, B))
        assert np.array_equal(np.concatenate([b for _, b in got], axis=1),
                              x.astype(np.float32))


def test_raw_cache_is_removed_on_error(tmp_path):
    from resonator.mastering import RawCache

    with pytest.raises(KeyboardInterrupt):
        with RawCache(tmp_path / ".y.raw", 2, 0, 100, 64) as cache:
            cache.store(0, np.zeros((2, 64)))
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_measuring_pipeline_keeps_order_and_raises_errors_from_either_side():
    import threading

    from resonator.mastering import _pipeline

    seen = []
    blocks = [(i * 10, np.full((2, 10), float(i))) for i in range(50)]
    _pipeline(iter(blocks), lambda pos, b: seen.append((pos, float(b[0, 0]))), None, 500)
    assert seen == [(i * 10, float(i)) for i in range(50)]

    def bad_consumer(pos, b):
        if pos == 200:
            raise ValueError("meter broke")
    with pytest.raises(ValueError, match="meter broke"):
        _pipeline(iter(blocks), bad_consumer, None, 500)

    def bad_source():
        yield blocks[0]
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        _pipeline(bad_source(), lambda pos, b: None, None, 500)
    assert not [t for t in threading.enumerate() if t.name == "resonator-measure"]


def test_limiter_plans_from_exact_hop_true_peaks_not_a_global_margin(tmp_path):
    """Only hops whose own true peak passes the ceiling are limited: a 12 kHz burst sampled
    between its peaks (samples 3 dB under its true peak) is caught, the bed is untouched."""
    from resonator.mastering import candidate_true_peaks
    from resonator.measure.loudness import true_peak_bound

    burst = Curve([(0, 0.0), (2.0, 0.0), (2.005, 1.0, "cos"), (2.025, 1.0), (2.03, 0.0, "cos")])
    node = Noise("pink", channels=2, amplitude=0.1, name="bed") + \
        Sine(12000.0, phase=0.125) * burst * 0.33
    m, y = _render(node, tmp_path, 4.0, target_lufs=-16.0, ceiling_dbtp=-1.0)
    # after the gain the burst's samples stay 1.9 dB under the ceiling, its true peak does not
    assert 20 * np.log10(0.33 * np.sqrt(0.5)) + m.gain_db < -2.5
    assert m.measured_true_peak_dbtp + m.gain_db > 1.0
    assert 0 < m.limited_hops <= 6 and m.max_reduction_db > 2.5
    assert true_peak_dbtp(y, SR) <= -1.0
    env = m._envelope.evaluate(np.array([0.5, 1.0, 3.5]))
    assert env.tolist() == [1.0, 1.0, 1.0]
    # the candidates: hops whose neighbourhood peak times the bound passes the level
    peaks = np.zeros(10)
    peaks[4] = 0.5
    seen = []

    def read(lo, hi):
        seen.append((lo, hi))
        x = np.zeros((1, hi - lo))
        x[0, 4 * 100 + 50 - lo] = 0.5
        return x
    hops, tp = candidate_true_peaks(peaks, 100, 0, 1000, 0.5 * true_peak_bound() * 0.99, read)
    assert hops.tolist() == [3, 4, 5]  # hops 3 and 5 are read too, and see only the tails
    assert tp[1] >= 0.5 and tp[0] < 0.5 and tp[2] < 0.5
    assert seen == [(300 - 21, 600 + 21)]
    assert candidate_true_peaks(peaks, 100, 0, 1000, 0.5 * true_peak_bound() * 1.01,
                                read)[0].size == 0
    # peaks that start at a later hop (a window): the same hops, counted from frame 0
    seen.clear()
    hops, _ = candidate_true_peaks(peaks[2:], 100, 200, 1000, 0.5 * true_peak_bound() * 0.99,
                                   read, base=2)
    assert hops.tolist() == [3, 4, 5] and seen == [(300 - 21, 600 + 21)]


def test_candidates_above_a_known_peak_only_give_the_same_plan_and_maximum():
    """known_peak: the candidates' values change only where they pass neither the level nor
    the known true peak, so what plans the stage (the hops over the level, the largest value)
    is the same bits; a known peak above every candidate leaves their sample peaks."""
    from resonator.mastering import candidate_true_peaks, plan_envelope
    from resonator.measure.loudness import true_peak_bound

    sr, hop = 48000, 480
    t = np.arange(2 * sr) / sr
    rng = np.random.default_rng(3)
    x = (0.05 * rng.standard_normal((2, 2 * sr)))
    x[:, 30000:60000] += 0.3 * np.sin(2 * np.pi * 11000 * t[:30000] + 0.3)
    x = x.astype(np.float32).astype(np.float64)
    peaks = np.abs(x).reshape(2, -1, hop).max(axis=(0, 2))

    def read(lo, hi):
        return x[:, lo:hi]
    level = 0.2
    hops, full = candidate_true_peaks(peaks, hop, 0, 2 * sr, level, read)
    assert hops.size > 60 and full.max() > level
    for known in (0.1, 0.2, 0.25, full.max(), 0.5):
        h, got = candidate_true_peaks(peaks, hop, 0, 2 * sr, level, read, known_peak=known)
        assert h.tolist() == hops.tolist()
        assert max(known, got.max()) == max(known, full.max())
        for gain, ceiling in ((1.0, level), (1.5, 1.5 * level)):
            dense, dense_full = np.zeros(hops[-1] + 2), np.zeros(hops[-1] + 2)
            dense[h], dense_full[hops] = got, full
            a, b = plan_envelope(dense, gain, ceiling, 0.01), \
                plan_envelope(dense_full, gain, ceiling, 0.01)
            assert a[1:] == b[1:] and a[1] > 0
            assert np.array_equal(a[0].v, b[0].v) and np.array_equal(a[0].t, b[0].t)
    # a known peak above the level: the level bounds what is interpolated
    _, low = candidate_true_peaks(peaks, hop, 0, 2 * sr, level, read, known_peak=1.0)
    over = full > level
    assert low[over].tolist() == full[over].tolist() and np.all(low[~over] <= level)
    assert np.sum(low < full) > 10  # (the bed's hops were not interpolated)


def test_parallel_measuring_pass_equals_the_serial_one(tmp_path):
    """With a twin graph the two halves are measured on two threads: the same loudness (to
    float rounding), the same cached samples, the same plan."""
    from resonator.graph import LowPass
    from resonator.mastering import RawCache, _split_frame
    from resonator.render import iter_blocks

    sr, B, dur = 8000, 1024, 12.0

    def build():
        sweep = Curve([(0, 300.0), (12, 2000.0, "exp")])
        beat = Curve([(0, 10.0), (12, 4.0, "exp")])
        return 0.3 * Channels([Sine(200 + 0.5 * beat), Sine(200 - 0.5 * beat)]) + \
            LowPass(Noise("pink", channels=2, amplitude=0.3, name="bed"), sweep)

    split = _split_frame(0, int(dur * sr), sr, 80)
    assert split == 6 * sr  # on a 100 ms edge (800 frames), off the 1024-frame block grid
    total = int(dur * sr)
    serial = master(build(), dur, sr=sr, block_frames=B, target_lufs=-6.0)
    with RawCache(tmp_path / ".p.raw", 2, 0, total, B) as cache:
        par = master(build(), dur, sr=sr, block_frames=B, target_lufs=-6.0, cache=cache,
                     twin=build())
        got = np.concatenate([b for _, b in cache.blocks()], axis=1)
    ref = np.concatenate([b for _, b in iter_blocks(build(), dur, sr=sr, block_frames=B)], axis=1)
    assert np.array_equal(got, ref.astype(np.float32))
    assert par.measured_lufs == pytest.approx(serial.measured_lufs, abs=1e-9)
    assert par.measured_range_lu == pytest.approx(serial.measured_range_lu, abs=1e-9)
    assert par.measured_true_peak_dbtp == serial.measured_true_peak_dbtp
    assert (par.limited_hops, par.max_reduction_db) == (serial.limited_hops,
                                                        serial.max_reduction_db)
    assert par.limited_hops > 0  # the plan was exercised on both sides of the split


def test_measured_stage_does_not_depend_on_the_block_size():
    """The lanes split on a 100 ms edge chosen from the window alone and every sub-block is
    one running sum: the stage (gain, loudness, range, true peak) is the same bit for bit
    for any block size, serial blocks or two lanes."""
    from resonator.mastering import stage_to_dict

    def build():
        return 0.3 * Channels([Sine(205.0), Sine(195.0)]) + \
            Noise("pink", channels=2, amplitude=0.2, name="bed")

    dur = 9.3
    stages = [stage_to_dict(master(build(), dur, sr=SR, block_frames=B, twin=build()))
              for B in (1000, 4096, 32768)]
    assert stages[0] == stages[1] == stages[2]
    assert math.isfinite(stages[0]["measured_lufs"]) and stages[0]["gain_db"] != 0.0


def test_a_failing_lane_stops_the_other_and_its_error_is_raised():
    """When the second half fails, the first half stops at its next block instead of
    rendering to its end, and the caller gets the failing lane's own error."""
    from resonator.errors import GraphError
    from resonator.graph.core import Node

    sr, B = 8000, 1024
    seen = []

    class Probe(Node):
        def __init__(self, fail_at=None):
            super().__init__()
            self.channels, self.fail_at = 2, fail_at

        def _process(self, ctx, start, frames):
            if self.fail_at is not None and start >= self.fail_at:
                raise GraphError("probe failed")
            if self.fail_at is None:
                seen.append(start)
                import time
                time.sleep(0.002)
            return np.full((2, frames), 0.1)

    with pytest.raises(GraphError, match="probe failed"):
        master(Probe(), 120.0, sr=sr, block_frames=B, twin=Probe(fail_at=70 * sr))
    assert 0 < len(seen) < (60 * sr) // B  # lane one stopped long before its half's end


def test_replay_runs_in_two_stretches_only_when_post_is_stateless(tmp_path):
    """A pure gain lets the render replay two stretches at once (WAV); a limiter that meters
    its output, or FLAC, gets one ordered stream."""
    from pathlib import Path

    from resonator.mastering import RawCache
    from resonator.recipe.render import _replay

    node = Noise("pink", channels=2, amplitude=0.1, name="bed")
    burst = Curve([(0, 0.0), (3.0, 0.0), (3.02, 1.0, "cos"), (3.2, 1.0), (3.22, 0.0, "cos")])
    loud = node + Sine(1000.0) * burst * 0.5
    for graph, target, stateless in ((node, -20.0, True), (loud, -14.0, False)):
        with RawCache(tmp_path / ".r.raw", 2, 0, 8 * SR, 4096) as cache:
            m = master(graph, 8.0, sr=SR, block_frames=4096, target_lufs=target, cache=cache)
            assert m.stateless is stateless
            wav = _replay(cache, m, None, Path("x.wav"), 0, 8 * SR)
            flac = _replay(cache, m, "flac", Path("x.flac"), 0, 8 * SR)
            assert isinstance(wav, list) is stateless and len(wav if stateless else [1]) == \
                (2 if stateless else 1)
            assert not isinstance(flac, list)
