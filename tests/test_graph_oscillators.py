"""Known-answer tests for oscillators: exact phase, measured frequency, aliasing, duty."""
import numpy as np
import pytest

from conftest import peak_hz
from resonator.errors import GraphError
from resonator.graph import Channels, Curve, FunctionOfTime, Oscillator, Pulse, Sine
from resonator.render import render_array, render_file


def test_constant_sine_equals_closed_form():
    sr = 48000
    x = render_array(Sine(440.0, phase=0.25), 0.5, sr=sr)[0]
    n = np.arange(len(x))
    assert np.max(np.abs(x - np.sin(2 * np.pi * (0.25 + 440.0 * n / sr)))) < 1e-12


@pytest.mark.parametrize("mode", ["constant", "curve", "running"])
def test_phase_after_60_minutes_within_1e6_cycle(mode):
    """A 200 Hz sine at 48 kHz, 60 minutes in, against exact integer phase arithmetic."""
    sr, f = 48000, 200.0
    freq = {
        "constant": f,
        "curve": Curve([(0, f), (7200, f)]),
        "running": FunctionOfTime(lambda t: np.full_like(t, f), bounds=(f, f)),
    }[mode]
    start = 3600.0
    x = render_array(Sine(freq), 0.05, sr=sr, start_s=start, block_frames=65536)[0]
    n = np.arange(len(x)) + int(start * sr)
    exact_phase = (n * 200 % 48000) / 48000.0  # exact: integers
    err = np.max(np.abs(x - np.sin(2 * np.pi * exact_phase)))
    # |d sin| <= 2 pi |d phase|, plus float32 waveform evaluation (~1e-7) on non-constant paths
    assert err < 2 * np.pi * 1e-6


def test_binaural_pair_measured_frequencies():
    sr = 44100
    x = render_array(Channels([Sine(205.0), Sine(195.0)]), 2.0, sr=sr)
    assert peak_hz(x[0], sr) == pytest.approx(205.0, abs=1e-3)
    assert peak_hz(x[1], sr) == pytest.approx(195.0, abs=1e-3)


def _alias_level_db(x, sr, f0):
    """Largest non-harmonic component relative to the fundamental (1 s of signal, 1 Hz bins)."""
    from scipy.signal import windows

    w = windows.blackmanharris(len(x))
    mag = np.abs(np.fft.rfft(x * w))
    bins = np.arange(len(mag))
    fund = mag[int(f0)]
    harmonic = np.zeros(len(mag), bool)
    for k in range(1, int(sr / 2 / f0) + 1):
        harmonic[max(0, int(k * f0) - 4) : int(k * f0) + 5] = True
    harmonic[:5] = True  # DC of the pulse
    return 20 * np.log10(mag[~harmonic].max() / fund)


@pytest.mark.parametrize("waveform", ["saw", "square", "triangle", "pulse"])
@pytest.mark.parametrize("f0", [1999.0, 997.0, 211.0])
def test_band_limited_aliases_below_minus_60_db(waveform, f0):
    sr = 48000
    kwargs = {"duty": 0.3} if waveform == "pulse" else {}
    x = render_array(Oscillator(f0, waveform, **kwargs), 1.0, sr=sr)[0]
    assert _alias_level_db(x, sr, f0) < -60.0


def test_naive_saw_would_fail_the_alias_test():
    """The alias measurement can fail: a naive (not band-limited) saw aliases far above -60 dB."""
    sr, f0 = 48000, 1999.0
    n = np.arange(sr)
    naive = 2 * ((f0 * n / sr) % 1.0) - 1
    assert _alias_level_db(naive, sr, f0) > -40.0


def test_pulse_duty_sets_mean():
    sr = 48000
    for duty in (0.1, 0.25, 0.5):
        x = render_array(Pulse(100.0, duty=duty), 1.0, sr=sr)[0]
        assert x.mean() == pytest.approx(2 * duty - 1, abs=2e-3)


def test_frequency_at_nyquist_fails_before_any_file(tmp_path):
    out = tmp_path / "x.wav"
    with pytest.raises(GraphError, match="Nyquist"):
        render_file(Sine(24000.0), out, 1.0, sr=48000)
    with pytest.raises(GraphError, match="Nyquist"):
        render_file(Sine(Curve([(0, 100.0), (5, 30000.0)])), out, 1.0, sr=48000)
    assert list(tmp_path.iterdir()) == []


def test_bad_waveform_and_duty():
    with pytest.raises(GraphError, match="unknown waveform"):
        Oscillator(100.0, "wobble")
    with pytest.raises(GraphError, match="duty"):
        render_array(Pulse(100.0, duty=1.5), 0.1, sr=8000)


def test_channel_mismatch_is_an_error_at_build_time():
    with pytest.raises(GraphError, match="channel"):
        Sine([100.0, 200.0], amplitude=[0.1, 0.2, 0.3])
    with pytest.raises(GraphError, match="channel"):
        Channels([Sine(1.0), Sine(2.0)]) + Channels([Sine(1.0), Sine(2.0), Sine(3.0)])
