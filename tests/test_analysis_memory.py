"""Known answers for the blocked (bounded-memory) forms of the analysis steps: each equals the
direct whole-array computation it replaced."""
import numpy as np
import pytest
from scipy import signal

from resonator.analysis import metre
from resonator.analysis.modulation_report import blocked_welch, envelope_spectrum
from resonator.analysis.tempo import (estimate_tempo, local_autocorrelation,
                                      local_autocorrelation_blocks)

FPS = 22050 / 128


def direct_acf(onset, fps, win_s=12.0, hop_s=1.0, max_lag_s=6.0):
    """The whole-matrix windowed autocorrelation (nfft = next power of two >= 2 * window)."""
    o = np.asarray(onset, dtype=np.float64)
    win = int(round(win_s * fps))
    hop = max(1, int(round(hop_s * fps)))
    if o.size < win:
        win = max(o.size, 2)
        o = np.pad(o, (0, win - o.size))
    max_lag = min(int(round(max_lag_s * fps)), win - 1)
    starts = np.arange(0, o.size - win + 1, hop)
    nfft = 1 << int(np.ceil(np.log2(2 * win)))
    seg = np.lib.stride_tricks.sliding_window_view(o, win)[starts]
    seg = seg - seg.mean(axis=1, keepdims=True)
    ac = np.fft.irfft(np.abs(np.fft.rfft(seg * np.hanning(win), n=nfft, axis=1)) ** 2, n=nfft,
                      axis=1)[:, : max_lag + 1]
    z = ac[:, :1]
    return (starts + win / 2) / fps, np.divide(ac, z, out=np.zeros_like(ac), where=z > 1e-12)


@pytest.mark.parametrize("block", [1, 7, 32, 10_000])
def test_blocked_acf_equals_direct(block):
    rng = np.random.default_rng(1)
    o = rng.random(int(40 * FPS)).astype(np.float32)
    o[int(20 * FPS):int(33 * FPS)] = 0.0  # a silent window: all-zero rows
    t_ref, a_ref = direct_acf(o, FPS)
    parts = list(local_autocorrelation_blocks(o, FPS, block=block))
    assert all(p[1].shape[0] <= block for p in parts)
    t = np.concatenate([p[0] for p in parts])
    a = np.concatenate([p[1] for p in parts])
    np.testing.assert_array_equal(t, t_ref)
    assert a.shape == a_ref.shape
    np.testing.assert_allclose(a, a_ref, rtol=0, atol=1e-9)
    t2, a2 = local_autocorrelation(o, FPS)
    np.testing.assert_array_equal(t2, t_ref)
    np.testing.assert_allclose(a2, a_ref, rtol=0, atol=1e-9)


def test_blocked_acf_short_input_is_one_window():
    o = np.random.default_rng(2).random(300)
    t_ref, a_ref = direct_acf(o, FPS)
    t, a = local_autocorrelation(o, FPS)
    assert a.shape == a_ref.shape == (1, 300)
    np.testing.assert_allclose(a, a_ref, rtol=0, atol=1e-9)


def direct_harmonic_change(chroma, cfps, half_s=metre.HC_HALF_S):
    c = np.asarray(chroma, dtype=np.float64)
    n = c.shape[0]
    w = max(1, int(round(half_s * cfps)))
    out = np.zeros(n)
    c = np.log1p(10.0 * c / c.max())
    cs = np.concatenate((np.zeros((1, 12)), np.cumsum(c, axis=0)))
    t = np.arange(w, n - w + 1)
    a, b = cs[t] - cs[t - w], cs[t + w] - cs[t]
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    ok = (na > 1e-9) & (nb > 1e-9)
    d = np.zeros(t.size)
    d[ok] = 1.0 - np.einsum("ij,ij->i", a[ok], b[ok]) / (na[ok] * nb[ok])
    e = np.minimum(na, nb) / max(np.max(np.minimum(na, nb)), 1e-12)
    out[t] = d * np.sqrt(e)
    return out


def direct_tonality(chroma):
    c = np.asarray(chroma, dtype=np.float64)
    c = c + 1e-9 * max(float(c.max()), 1e-12)
    e = c.sum(axis=1)
    flat = np.exp(np.log(c).mean(axis=1)) / c.mean(axis=1)
    return float(np.sum(e * (1.0 - flat)) / np.sum(e))


@pytest.mark.parametrize("block", [5, 97, metre.BLOCK_FRAMES])
def test_blocked_harmonic_change_and_tonality_equal_direct(monkeypatch, block):
    monkeypatch.setattr(metre, "BLOCK_FRAMES", block)
    rng = np.random.default_rng(3)
    ch = (rng.random((1000, 12)) ** 4).astype(np.float32)
    ch[400:450] = 0.0  # silence: no change into or out of it counts fully
    cfps = 22050 / 512
    np.testing.assert_allclose(metre.harmonic_change(ch, cfps), direct_harmonic_change(ch, cfps),
                               rtol=0, atol=1e-9)
    assert metre.tonality(ch) == pytest.approx(direct_tonality(ch), rel=1e-12)


@pytest.mark.parametrize("n, nper, block", [(5000, 256, 3), (5000, 256, 64), (256, 256, 4),
                                            (1023, 256, 1), (8, 8, 2)])
def test_blocked_welch_equals_scipy(n, nper, block):
    x = np.random.default_rng(4).standard_normal(n).astype(np.float32)
    f_ref, p_ref = signal.welch(x.astype(np.float64), fs=250.0, window="hann", nperseg=nper,
                                noverlap=nper // 2, detrend="constant", scaling="spectrum")
    f, p = blocked_welch(x, 250.0, nper, block=block)
    np.testing.assert_array_equal(f, f_ref)
    np.testing.assert_allclose(p, p_ref, rtol=1e-10, atol=0)


def test_blocked_welch_needs_one_segment():
    with pytest.raises(ValueError):
        blocked_welch(np.zeros(100), 250.0, 256)


def test_envelope_spectrum_float32_and_float64_agree():
    x = np.abs(np.sin(2 * np.pi * 4.0 * np.arange(20_000) / 250.0)) + 0.01
    f64, p64 = envelope_spectrum(x, 250.0)
    f32, p32 = envelope_spectrum(x.astype(np.float32), 250.0)
    np.testing.assert_array_equal(f64, f32)
    np.testing.assert_allclose(p32, p64, rtol=0, atol=1e-6)


def test_estimate_tempo_same_with_and_without_the_kept_matrix():
    rng = np.random.default_rng(5)
    n = int(60 * FPS)
    o = 0.05 * rng.random(n)
    o[(np.arange(0, 60, 0.5) * FPS).astype(int)] += 1.0  # 120 BPM clicks
    a = estimate_tempo(o.astype(np.float32), FPS, levels=False)
    b = estimate_tempo(o.astype(np.float32), FPS, levels=False, keep_acf=True)
    assert a["_acf"] is None
    assert b["_acf"].shape == (b["_times_s"].size, int(round(6 * FPS)) + 1)
    assert a["bpm"] == pytest.approx(120.0, rel=0.01)
    for k in ("bpm", "confidence", "pulse_clarity"):
        assert a[k] == pytest.approx(b[k], rel=1e-12, abs=1e-12)
    np.testing.assert_array_equal(a["_times_s"], b["_times_s"])
    np.testing.assert_array_equal(a["_local_bpm"], b["_local_bpm"])


def test_features_are_float32_and_peaks_optional():
    from resonator.analysis.features import features_from_signal
    from resonator.analysis.report import analyze_features, analyze_signal

    rng = np.random.default_rng(6)
    sr = 22050
    x = 0.01 * rng.standard_normal(10 * sr)
    x[(np.arange(0, 10, 0.5) * sr).astype(int)] += 0.9
    a = features_from_signal(x, sr, loudness=False)
    b = features_from_signal(x, sr, loudness=False, peaks=False)
    for f in (a, b):
        assert f.onset.dtype == f.onset_low.dtype == f.env.dtype == f.chroma.dtype == np.float32
    assert a.peak.dtype == np.float32 and a.peak.size == a.env.size
    assert b.peak.size == 0
    np.testing.assert_array_equal(a.onset, b.onset)
    np.testing.assert_array_equal(a.env, b.env)
    # analyze_signal releases its own features as it goes; the report is the same
    r = analyze_features(a)
    assert analyze_signal(x, sr, loudness=False) == {**r, "path": None}
