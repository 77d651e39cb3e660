"""Known-answer tests for resonator.measure.spectrum and resonator.measure.breath."""
import math

import numpy as np
import pytest

from resonator.errors import ResonatorError
from resonator.measure.breath import breath_rate
from resonator.measure.spectrum import (
    band_energy_db,
    lr_correlation,
    noise_slope_db_per_decade,
    spectral_centroid_track,
)


def colored_noise(exponent, n, sr, rng, channels=1):
    """Gaussian noise with PSD proportional to f^-exponent (0 white, 1 pink, 2 brown)."""
    spec = np.fft.rfft(rng.standard_normal((channels, n)), axis=-1)
    f = np.fft.rfftfreq(n, 1 / sr)
    f[0] = f[1]
    y = np.fft.irfft(spec * f ** (-exponent / 2), n, axis=-1)
    return y / y.std()


@pytest.mark.parametrize("exponent,slope", [(0, 0.0), (1, -10.0), (2, -20.0)])
def test_noise_slope(exponent, slope):
    sr = 22050
    x = 0.1 * colored_noise(exponent, 20 * sr, sr, np.random.default_rng(exponent), channels=2)
    assert noise_slope_db_per_decade(x, sr, 50, 10000) == pytest.approx(slope, abs=0.3)


def test_pink_is_not_white_or_brown():
    sr = 22050
    x = 0.1 * colored_noise(1, 20 * sr, sr, np.random.default_rng(9))
    got = noise_slope_db_per_decade(x, sr)
    assert abs(got - 0.0) > 5 and abs(got + 20.0) > 5


def test_band_energy_closed_forms():
    sr = 16000
    t = np.arange(10 * sr) / sr
    # a full-scale sine reads -3.01 dB in a band around it and nothing far away
    x = np.sin(2 * np.pi * 1000 * t)
    assert band_energy_db(x, sr, 900, 1100) == pytest.approx(-3.0103, abs=0.01)
    assert band_energy_db(x, sr, 3000, 4000) < -90
    # white noise of variance s^2: s^2 (hi - lo) / (sr / 2)
    w = 0.1 * np.random.default_rng(4).standard_normal((2, 10 * sr))
    want = 10 * math.log10(0.01 * 1000 / 8000)
    assert band_energy_db(w, sr, 1000, 2000) == pytest.approx(want, abs=0.15)
    assert band_energy_db(np.zeros(sr), sr, 100, 200) == -math.inf


def test_spectral_centroid_track():
    sr = 8000
    t = np.arange(20 * sr) / sr
    x = np.sin(2 * np.pi * np.where(t < 10, 500.0, 2000.0) * t)
    times, cent = spectral_centroid_track(x, sr, window_s=1.0, hop_s=0.5)
    np.testing.assert_allclose(times, np.arange(0.5, 19.51, 0.5))
    np.testing.assert_allclose(cent[times < 9.4], 500.0, atol=0.5)
    np.testing.assert_allclose(cent[times > 10.6], 2000.0, atol=0.5)
    # two equal tones: centroid at their mean; darker when the upper one fades
    x = np.sin(2 * np.pi * 300 * t) + np.linspace(1, 0.1, t.size) * np.sin(2 * np.pi * 1200 * t)
    times, cent = spectral_centroid_track(x, sr)
    assert cent[0] == pytest.approx(750.0, rel=0.02)
    assert np.all(np.diff(cent) < 0)


def test_lr_correlation():
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((2, 100000))
    assert lr_correlation(np.vstack([a, a])) == pytest.approx(1.0)
    assert lr_correlation(np.vstack([a, -0.5 * a])) == pytest.approx(-1.0)
    assert abs(lr_correlation(np.vstack([a, b]))) < 0.02
    # mix with known correlation: r = c / sqrt(c^2 + 1 - c^2) for right = c a + sqrt(1-c^2) b
    c = 0.6
    assert lr_correlation(np.vstack([a, c * a + math.sqrt(1 - c * c) * b])) == pytest.approx(c, abs=0.01)
    with pytest.raises(ResonatorError):
        lr_correlation(a)


def breath_signal(bpm, inhale_fraction, dur_s, sr, rng):
    t = np.arange(int(dur_s * sr)) / sr
    ph = (t * bpm / 60) % 1
    f = inhale_fraction
    g = np.where(ph < f, 0.5 - 0.5 * np.cos(np.pi * ph / f),
                 0.5 + 0.5 * np.cos(np.pi * (ph - f) / (1 - f)))
    return (0.2 + 0.8 * g) * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(t.size)


@pytest.mark.parametrize("bpm,inhale", [(6.0, 0.3), (6.0, 0.5), (4.5, 0.3), (12.0, 0.4)])
def test_breath_rate(bpm, inhale):
    # 6/min with 3 s in, 7 s out is the resonance-breathing case
    sr = 4000
    x = breath_signal(bpm, inhale, 90, sr, np.random.default_rng(int(bpm * 10)))
    assert breath_rate(x, sr) == pytest.approx(bpm, abs=0.05)


def test_breath_rate_wrong_pace_fails():
    sr = 4000
    got = breath_rate(breath_signal(7.0, 0.3, 90, sr, np.random.default_rng(0)), sr)
    assert got == pytest.approx(7.0, abs=0.05)
    assert not abs(got - 6.0) <= 0.25
