"""Known answers for the block-by-block analysis (resonator.analysis.framewise): the whole-signal
statistics are numpy's, bit for bit, and the beat tracker, onset rate, accent strength, rise
starts and bass alignment give exactly what their whole-array forms (copied below as they were
before, issue 17) gave; the memory they hold does not grow with the duration."""
import math

import numpy as np
import pytest
from scipy import ndimage, signal

from resonator.analysis import beats, framewise, metre, report
from resonator.analysis.framewise import FrameSignal, pairwise_sum, smoothed
from resonator.kernels import beat_dp

FPS = 22050 / 128


# -- the whole-array forms as they were (src/resonator/analysis before issue 17) ---------------
def _norm(x):
    s = float(np.std(x))
    return x / s if s > 0 else np.zeros_like(x)


def direct_track_beats(onset, fps, bpm, *, onset_low=None, onset_kick=None):
    o = np.asarray(onset, dtype=np.float64)
    n = o.size
    period = np.ascontiguousarray(60.0 * fps / np.broadcast_to(np.asarray(bpm, dtype=np.float64), (n,)))
    if np.std(o) == 0:
        return np.zeros(0)
    s = _norm(o)
    if onset_low is not None:
        s = s + beats.LOW_WEIGHT * _norm(np.asarray(onset_low, dtype=np.float64)[:n])
    s = ndimage.gaussian_filter1d(s, 1.0)
    cum, back = np.empty(n), np.empty(n, dtype=np.int64)
    beat_dp(s, period, beats.TIGHTNESS, cum, back)
    active = np.flatnonzero(s > 0.05 * s.max())
    end = int(active[-1]) if active.size else n - 1
    lo = max(0, int(end - period[end]))
    t = lo + int(np.argmax(cum[lo:end + 1]))
    path = []
    while t >= 0:
        path.append(t)
        t = int(back[t])
    frames = np.array(path[::-1], dtype=np.float64)
    start = int(active[0]) if active.size else 0
    frames = frames[frames >= start - 0.25 * period[start]]
    fi = frames.astype(int)
    sp = s
    if onset_kick is not None:
        sp = ndimage.gaussian_filter1d(_norm(o) + beats.PHASE_KICK_WEIGHT * _norm(
            np.asarray(onset_kick, dtype=np.float64)[:n]), 1.0)
    sp = ndimage.maximum_filter1d(sp, 3)
    best, best_v = None, beats.SHIFT_MARGIN * sp[fi].mean()
    for share in beats.PHASE_SHIFTS:
        moved = fi + np.round(share * period[fi]).astype(int)
        moved = moved[moved < n]
        v = sp[moved].mean() if moved.size else -np.inf
        if v > best_v:
            best, best_v = moved, v
    if best is not None:
        frames = best.astype(np.float64)
    w = int(round(beats.SNAP_S * fps))
    so = ndimage.gaussian_filter1d(_norm(o), 1.0)
    snapped = []
    for f in frames.astype(int):
        a, b = max(0, f - w), min(n, f + w + 1)
        snapped.append(a + int(np.argmax(so[a:b])))
    out = np.array(snapped, dtype=np.float64) / fps - beats.ONSET_DELAY_S
    return np.unique(np.round(out[out >= 0], 4))


def direct_onset_rate(onset, fps):
    o = ndimage.gaussian_filter1d(np.asarray(onset, dtype=np.float64), 1.0)
    if o.size < 3 or np.std(o) == 0:
        return 0.0
    thr = ndimage.uniform_filter1d(o, int(fps), mode="nearest") + 0.5 * np.std(o)
    idx, _ = signal.find_peaks(o, distance=max(1, int(0.03 * fps)))
    idx = idx[o[idx] > thr[idx]]
    return float(idx.size / (o.size / fps))


def direct_accent_strength(onset, onset_low):
    s = _norm(np.asarray(onset, dtype=np.float64))
    s = s + _norm(np.asarray(onset_low, dtype=np.float64)[: s.size])
    s = ndimage.gaussian_filter1d(s, 1.0)
    return np.maximum(s - np.median(s), 0.0)


def direct_rise_starts(onset, fps, beats_s):
    b = np.asarray(beats_s, dtype=np.float64)
    so = ndimage.gaussian_filter1d(_norm(np.asarray(onset, dtype=np.float64)), 1.0)
    floor = float(np.median(so))
    period = float(np.median(np.diff(b)))
    reach = int(min(beats.RISE_MAX_BACK_S, beats.RISE_MAX_BACK_SHARE * period) * fps)
    out = np.empty(b.size)
    for i, t in enumerate(b):
        f = min(int(round(t * fps)), so.size - 1)
        height = so[f] - floor
        thr = floor + beats.RISE_FLOOR_SHARE * height
        k = f
        while k > 0 and f - k < reach and thr <= so[k - 1] <= so[k] + 0.05 * height:
            k -= 1
        out[i] = min(t, k / fps + beats.RISE_SELF_S)
    return out


def direct_bass_lag(onset, onset_low, fps):
    a = np.asarray(onset, dtype=np.float64)
    b = np.asarray(onset_low, dtype=np.float64)[: a.size]
    m = int(round(beats.BASS_LAG_MAX_S * fps))
    a = (a[: b.size] - a.mean()) / np.std(a)
    b = (b - b.mean()) / np.std(b)
    n = b.size
    cc = np.array([np.dot(a[: n - k], b[k:]) if k >= 0 else np.dot(a[-k:], b[: n + k])
                   for k in range(-m, m + 1)])
    k = int(np.argmax(cc)) - m
    return k if 0 < k < m else 0


def groove(seconds, bpm=117.0, seed=0, swell=0):
    """Onset envelopes of a groove (float32): all-band, bass (late by ``swell`` frames), kick;
    a quiet intro, a silent gap, a little noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * FPS)
    o = 0.03 * rng.random(n)
    low, kick = 0.02 * rng.random(n), 0.01 * rng.random(n)
    beat = np.arange(4.0, seconds - 0.5, 60.0 / bpm)
    fr = (beat * FPS).astype(int)
    o[fr] += 1.0 + 0.3 * rng.random(fr.size)
    o[fr[:-1] + (fr[1:] - fr[:-1]) // 2] += 0.6  # off-beats
    low[np.minimum(fr[::2] + swell, n - 1)] += 0.8
    kick[fr[::2]] += 1.0
    gap = slice(int(0.4 * n), int(0.4 * n) + int(3 * FPS))
    o[gap], low[gap], kick[gap] = 0.0, 0.0, 0.0
    return o.astype(np.float32), low.astype(np.float32), kick.astype(np.float32)


# -- the framewise statistics ----------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 7, 128, 129, 5000, 70_001, 300_000])
def test_pairwise_sum_is_numpys_sum_bit_for_bit(n):
    x = np.random.default_rng(n).standard_normal(n) * 10.0 ** np.random.default_rng(1).uniform(-6, 6, n)
    for leaf in (128, 1000, 1 << 16):
        assert pairwise_sum(lambda a, b: x[a:b], n, leaf=leaf) == np.sum(x)


@pytest.mark.parametrize("n, block", [(3, 128), (1000, 128), (40_001, 1000), (40_000, 1 << 16)])
def test_frame_signal_statistics_are_numpys_bit_for_bit(n, block):
    rng = np.random.default_rng(n)
    a = (rng.random(n) ** 3).astype(np.float32)
    a[: n // 3] = 0.0  # many equal values: the median's histogram cannot split them
    whole = ndimage.gaussian_filter1d(a.astype(np.float64), 1.0)
    sig = smoothed(n, lambda i, j: a[i:j].astype(np.float64), block=block)
    np.testing.assert_array_equal(np.concatenate([v for _, v in sig.blocks()]), whole)
    assert sig.std() == np.std(whole) and sig.sum() == np.sum(whole)
    assert sig.max() == whole.max() and sig.median() == np.median(whole)
    if n > 1:
        odd = FrameSignal(n - 1, lambda i, j: whole[i:j], block=block)
        assert odd.median() == np.median(whole[:-1])
    idx = rng.integers(0, n, 40)
    np.testing.assert_array_equal(sig.take(idx), whole[idx])
    win = sig.windows(idx, 3, 1)
    for row, c in zip(win, idx):
        for j, d in enumerate(range(-3, 2)):
            assert row[j] == (whole[c + d] if 0 <= c + d < n else -np.inf)


def test_beat_dp_block_by_block_equals_one_call():
    rng = np.random.default_rng(4)
    n = 9000
    score, period = rng.standard_normal(n), np.linspace(30.0, 80.0, n)
    cum, back = np.empty(n), np.empty(n, dtype=np.int64)
    beat_dp(score, period, 300.0, cum, back)
    hist = int(math.ceil(2 * 80.0)) + 1
    got_cum, got_back = np.empty(n), np.empty(n, dtype=np.int64)
    prev = np.zeros(0)
    for a in range(0, n, 1000):
        b, h = min(a + 1000, n), prev.size
        c = np.concatenate((prev, np.empty(b - a)))
        k = np.empty(h + b - a, dtype=np.int64)
        beat_dp(np.concatenate((np.zeros(h), score[a:b])),
                np.concatenate((np.ones(h), period[a:b])), 300.0, c, k, h)
        got_cum[a:b], got_back[a:b] = c[h:], np.where(k[h:] >= 0, k[h:] + a - h, -1)
        prev = c[-hist:].copy()
    np.testing.assert_array_equal(got_cum.view(np.int64), cum.view(np.int64))
    np.testing.assert_array_equal(got_back, back)
    with pytest.raises(ValueError):
        beat_dp(score, period, 300.0, cum, back, n + 1)


# -- the analysis steps: exactly their whole-array forms -----------------------------------------
@pytest.mark.parametrize("block", [1000, 1 << 16])
def test_track_beats_block_by_block_equals_whole_array(monkeypatch, block):
    monkeypatch.setattr(framewise, "BLOCK", block)
    o, low, kick = groove(200.0)
    got = beats.track_beats(o, FPS, 117.0, onset_low=low, onset_kick=kick)
    ref = direct_track_beats(o, FPS, 117.0, onset_low=low, onset_kick=kick)
    assert got.size > 300
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(beats.track_beats(o, FPS, 117.0), direct_track_beats(o, FPS, 117.0))
    # a tempo curve, given as the curve or as one tempo per frame
    curve = {"times_s": [0.0, 100.0, 200.0], "bpm": [110.0, 117.0, 125.0]}
    per_frame = np.interp(np.arange(o.size) / FPS, curve["times_s"], curve["bpm"])
    ref = direct_track_beats(o, FPS, per_frame, onset_low=low, onset_kick=kick)
    np.testing.assert_array_equal(beats.track_beats(o, FPS, curve, onset_low=low, onset_kick=kick), ref)
    np.testing.assert_array_equal(beats.track_beats(o, FPS, per_frame, onset_low=low, onset_kick=kick), ref)


@pytest.mark.parametrize("block", [1000, 1 << 16])
def test_onset_rate_accents_rises_and_bass_lag_equal_whole_array(monkeypatch, block):
    monkeypatch.setattr(framewise, "BLOCK", block)
    o, low, kick = groove(150.0, seed=2, swell=9)
    assert report.onset_rate(o, FPS) == direct_onset_rate(o, FPS) > 1.0
    s = metre.accent_strength(o, low)
    np.testing.assert_array_equal(np.concatenate([v for _, v in s.blocks()]),
                                  direct_accent_strength(o, low))
    b = beats.track_beats(o, FPS, 117.0)
    np.testing.assert_array_equal(beats.rise_starts(o, FPS, b), direct_rise_starts(o, FPS, b))
    assert beats.bass_lag(o, low, FPS) == direct_bass_lag(o, low, FPS) == 9


def test_tracker_memory_does_not_grow_with_the_duration(monkeypatch):
    """Everything the beat tracking, the rise starts, the onset rate and the accent features
    allocate beyond their inputs, 2 against 8 minutes (blocks of 4096 frames): one int32
    back-pointer per frame and the candidate onset peaks (a third of the frames of this noisy
    envelope), measured 0.59 MB more for the 6 minutes more. The whole-array forms above
    (float64 arrays per frame) measured 4.07 MB more."""
    import tracemalloc

    monkeypatch.setattr(framewise, "BLOCK", 4096)

    def peak_mb(seconds):
        o, low, kick = groove(seconds, seed=3)
        tracemalloc.start()
        try:
            b = beats.track_beats(o, FPS, 117.0, onset_low=low, onset_kick=kick)
            beats.rise_starts(o, FPS, b)
            report.onset_rate(o, FPS)
            metre.accent_features(metre.accent_strength(o, low), FPS, b)
            return tracemalloc.get_traced_memory()[1] / 1e6
        finally:
            tracemalloc.stop()

    two, eight = peak_mb(120.0), peak_mb(480.0)
    assert eight - two < 1.0, (two, eight)


@pytest.mark.parametrize("hint", [None, 1000, 10 ** 7])
def test_features_the_same_whatever_the_length_hint(hint):
    """The kept features (FrameStore) do not depend on the expected length given: exact, short
    (the arrays grow) or none."""
    from resonator.analysis.features import READ_FRAMES, FeatureStream, features_from_signal

    rng = np.random.default_rng(9)
    sr = 32000
    x = (0.1 * rng.standard_normal((2, 40 * sr))).astype(np.float32)
    x[:, :: sr // 2] += 0.8
    ref = features_from_signal(x, sr, loudness=False)  # the exact length as the hint
    fs = FeatureStream(sr, 2, loudness=False, frames=hint)
    fs.feed(x[:, i:i + READ_FRAMES].T for i in range(0, x.shape[1], READ_FRAMES))
    got = fs.finish()
    for name in ("onset", "onset_low", "onset_kick", "chroma", "env", "peak"):
        a, b = getattr(ref, name), getattr(got, name)
        assert a.dtype == b.dtype == np.float32 and a.size > 0
        np.testing.assert_array_equal(a, b)
    assert ref.onset.size == int(40 * FPS) + 1


def test_onset_rate_finds_a_flat_top_across_a_block_edge(monkeypatch):
    """A flat top longer than the blocks' margin, across a block's edge: found once, in its
    middle, as by the whole-array computation."""
    monkeypatch.setattr(framewise, "BLOCK", 1000)
    monkeypatch.setattr(report, "PEAK_MARGIN", 16)
    o = np.random.default_rng(6).random(5000).astype(np.float32) * 0.1
    o[900:1300] = 5.0  # a 400-frame plateau over the edge at 1000
    assert report.onset_rate(o, FPS) == direct_onset_rate(o, FPS)


@pytest.mark.parametrize("env_sr", [250.6, 11.0])
def test_slow_envelope_in_blocks_equals_whole_array(env_sr):
    from resonator.analysis.breathing import slow_envelope

    e = (np.random.default_rng(8).random(400_003) ** 3).astype(np.float32)
    q = max(1, int(round(env_sr / 5.0)))
    m = e.size // q
    x, sr = slow_envelope(e, env_sr, 5.0)
    np.testing.assert_array_equal(x, e[: m * q].astype(np.float64).reshape(m, q).mean(axis=1))
    assert sr == env_sr / q
