"""Known-answer tests for resonator.measure.dynamics (clicks, loudness trend)."""
import numpy as np
import pytest
from scipy import signal

from resonator.measure.dynamics import ClickDetector, click_score, find_clicks, loudness_trend

SR = 16000
T = np.arange(10 * SR) / SR


def pink(n, rng):
    b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    a = [1, -2.494956002, 2.017265875, -0.522189400]
    y = signal.lfilter(b, a, rng.standard_normal(n))
    return y / np.std(y)


def gated(rate_hz, ramp_s, t=T, carrier_hz=300.0):
    ph = (t * rate_hz) % 1.0
    r = ramp_s * rate_hz
    g = np.clip(np.minimum(ph / r, (0.5 - ph) / r), 0, 1)
    return 0.3 * (0.5 - 0.5 * np.cos(np.pi * g)) * np.sin(2 * np.pi * carrier_hz * t)


def clean_signals():
    rng = np.random.default_rng(3)
    glide = 0.3 * np.sin(2 * np.pi * np.cumsum(100 + 1400 * T / T[-1]) / SR)
    return {
        "sine100": 0.3 * np.sin(2 * np.pi * 100 * T),
        "sine1000": 0.3 * np.sin(2 * np.pi * 1000 * T),
        "white": 0.1 * rng.standard_normal(T.size),
        "pink": 0.1 * pink(T.size, rng),
        "glide": glide,
        "iso1": gated(1, 0.005),
        "iso10": gated(10, 0.005),
        "iso40": gated(40, 0.002),
        "stereo": np.vstack([0.3 * np.sin(2 * np.pi * 205 * T), 0.3 * np.sin(2 * np.pi * 195 * T)])
        + 0.03 * np.vstack([pink(T.size, rng), pink(T.size, rng)]),
        "dither_silence": rng.integers(-1, 2, T.size) / 32768,
    }


def test_clean_signals_have_no_clicks():
    for name, x in clean_signals().items():
        assert click_score(x, SR) < 8, name
        assert find_clicks(x, SR).size == 0, name


@pytest.mark.parametrize("freq_hz,sr", [(100.0, 16000), (440.0, 16000), (1000.0, 48000)])
def test_one_spike_is_one_click_at_its_time(freq_hz, sr):
    t = np.arange(6 * sr) / sr
    x = 0.3 * np.sin(2 * np.pi * freq_hz * t)
    i = int(4.321 * sr)
    x[i] += 0.02
    clicks = find_clicks(x, sr)
    assert clicks.size == 1
    assert clicks[0] == pytest.approx(i / sr, abs=2 / sr)
    assert click_score(x, sr) > 30
    assert click_score(0.3 * np.sin(2 * np.pi * freq_hz * t), sr) < 2


def test_phase_jump_and_hard_gate_are_clicks():
    x = 0.3 * np.sin(2 * np.pi * 300 * T + np.where(T >= 6.0, np.pi / 2, 0.0))
    clicks = find_clicks(x, SR)
    assert clicks.size == 1 and clicks[0] == pytest.approx(6.0, abs=2 / SR)
    hard = 0.3 * np.sin(2 * np.pi * 300 * T + 1.0) * (T >= 2.5)
    assert find_clicks(hard, SR) == pytest.approx([2.5], abs=2 / SR)
    # ten hard-gated pulses a second over 10 s: 200 on/off edges (those that land on a
    # non-zero sample of the carrier; the 300 Hz carrier phase 1.0 keeps every edge non-zero)
    ph = (T * 10) % 1.0
    hard_iso = 0.3 * np.sin(2 * np.pi * 300 * T + 1.0) * (ph < 0.5)
    assert find_clicks(hard_iso, SR).size == 200 - 1  # the first edge is the file start


def test_detector_is_independent_of_block_size():
    sr = 48000
    x = 0.3 * np.sin(2 * np.pi * 440 * np.arange(7 * sr) / sr)
    idx = [700, 100000, 262140, 262150, 300000]  # two within 10 ms merge into one click
    x[idx] += 0.05
    det = ClickDetector(sr, 1)
    for i in range(0, x.size, 7777):
        det.update(x[i:i + 7777])
    det.finish()
    got = [t for t, _ in det.clicks]
    np.testing.assert_allclose(got, find_clicks(x, sr))
    np.testing.assert_allclose(got, np.array([700, 100000, 262140, 300000]) / sr, atol=2 / sr)


def _fade(db_per_s=None, curve=None, bump_db=0.0, dur_s=60.0, sr=8000):
    t = np.arange(int(dur_s * sr)) / sr
    g = curve(t) if curve is not None else -db_per_s * t
    g = g + bump_db * np.where(np.abs(t - dur_s / 2) < 4, 0.5 + 0.5 * np.cos(np.pi * (t - dur_s / 2) / 4), 0)
    return 0.3 * 10 ** (g / 20) * np.sin(2 * np.pi * 300 * t), sr


def test_smooth_fade_passes_cooling_rule():
    x, sr = _fade(0.25)
    r = loudness_trend(x, sr)
    assert r["rho"] == pytest.approx(-1.0)
    assert r["max_rise_db"] == 0.0
    assert r["drop_db"] == pytest.approx(0.25 * (r["times_s"][-1] - r["times_s"][0]), abs=0.02)
    np.testing.assert_allclose(np.diff(r["lufs"]), -0.25, atol=1e-3)
    assert r["max_bump_db"] < 0.02


def test_bump_inside_fade_is_detected():
    plan = lambda t: -0.25 * t  # noqa: E731
    clean = loudness_trend(_fade(0.25)[0], 8000, expected_db=plan)
    bumped = loudness_trend(_fade(0.25, bump_db=0.5)[0], 8000, expected_db=plan)
    assert clean["max_bump_db"] < 0.02
    assert bumped["max_bump_db"] == pytest.approx(0.43, abs=0.05)
    # in a slow fade the same bump is a real rise that breaks rho
    slow = loudness_trend(_fade(0.01, bump_db=0.5)[0], 8000)
    assert slow["max_rise_db"] == pytest.approx(0.38, abs=0.05)
    assert slow["rho"] > -0.95
    # a 2 dB bump breaks the rule (rise above 0.5 dB) even in a fast fade
    big = loudness_trend(_fade(0.25, bump_db=2.0)[0], 8000)
    assert big["max_rise_db"] > 0.5


def test_curved_fades_against_their_plan():
    curves = {
        "linear_amplitude": lambda t: 20 * np.log10(1 - 0.9 * t / 60),
        "cosine": lambda t: 20 * np.log10(0.55 + 0.45 * np.cos(np.pi * t / 60)),
    }
    for name, c in curves.items():
        clean = loudness_trend(_fade(curve=c)[0], 8000, expected_db=c)
        bumped = loudness_trend(_fade(curve=c, bump_db=0.5)[0], 8000, expected_db=c)
        assert clean["rho"] == pytest.approx(-1.0), name
        assert clean["max_bump_db"] < 0.1, name
        assert bumped["max_bump_db"] > 0.35, name
