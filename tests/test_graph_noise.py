"""Known-answer tests for noise: spectral slopes, level, determinism, independence."""
import numpy as np
import pytest

from conftest import spectral_slope_db_per_decade
from resonator.graph import Noise, PinkNoise, Sine, Sum, WhiteNoise
from resonator.graph.noise import NOISE_RMS
from resonator.render import render_array

SR = 44100


@pytest.mark.parametrize(
    "color, slope", [("white", 0.0), ("pink", -10.0), ("brown", -20.0), ("blue", 10.0), ("violet", 20.0)]
)
def test_spectral_slope(color, slope):
    x = render_array(Noise(color, name="n"), 20.0, sr=SR)[0]
    lo = 200 if color == "brown" else 50  # brown's leaky corner is at 5 Hz; stay well above
    measured, dev = spectral_slope_db_per_decade(x, SR, lo, 10000)
    assert measured == pytest.approx(slope, abs=0.6)
    if color == "pink":  # the bar: within 1 dB of -10 dB/decade from 50 Hz to 10 kHz
        assert dev < 1.0


@pytest.mark.parametrize("color", ["white", "pink", "brown", "blue", "violet"])
def test_level_is_quarter_rms(color):
    seconds = 60.0 if color == "brown" else 10.0  # brown decorrelates slowly (5 Hz corner)
    x = render_array(Noise(color, amplitude=0.5, name="n"), seconds, sr=SR)[0]
    assert np.sqrt(np.mean(x**2)) == pytest.approx(0.5 * NOISE_RMS, rel=0.05)


def test_same_seed_same_samples_other_seed_other_samples():
    a = render_array(PinkNoise(name="bed"), 1.0, sr=SR, seed=7)
    b = render_array(PinkNoise(name="bed"), 1.0, sr=SR, seed=7)
    c = render_array(PinkNoise(name="bed"), 1.0, sr=SR, seed=8)
    assert np.array_equal(a, b)
    assert abs(np.corrcoef(a[0], c[0])[0, 1]) < 0.05


def test_stereo_noise_is_independent_and_mono_is_identical():
    st = render_array(PinkNoise(channels=2, name="bed"), 10.0, sr=SR)
    assert abs(np.corrcoef(st[0], st[1])[0, 1]) < 0.05  # identical ears would give 1.0
    mono = render_array(WhiteNoise(name="bed") + Sine([0.0, 0.0]), 1.0, sr=SR)
    assert np.array_equal(mono[0], mono[1])


def test_adding_a_layer_does_not_change_named_noise():
    bed = PinkNoise(name="bed")
    alone = render_array(bed, 2.0, sr=SR, seed=3)
    other = WhiteNoise(name="rain")
    mixed = render_array(Sum([PinkNoise(name="bed"), other]), 2.0, sr=SR, seed=3)
    rain = render_array(WhiteNoise(name="rain"), 2.0, sr=SR, seed=3)
    assert np.max(np.abs(mixed - rain - alone)) < 1e-12


def test_white_noise_is_near_gaussian():
    x = render_array(WhiteNoise(name="w"), 5.0, sr=SR)[0] / NOISE_RMS
    kurt = np.mean(x**4) / np.mean(x**2) ** 2
    assert 2.6 < kurt < 3.0  # Irwin-Hall(4): 2.7; uniform would be 1.8
