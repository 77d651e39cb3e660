"""Known-answer tests for resonator.measure.frequency and resonator.measure.binaural."""
import numpy as np
import pytest
from scipy import signal

from resonator.errors import ResonatorError
from resonator.measure.binaural import binaural_track, measure_binaural
from resonator.measure.frequency import dominant_tones, peak_frequency


def pink(n, rng):
    b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    a = [1, -2.494956002, 2.017265875, -0.522189400]
    y = signal.lfilter(b, a, rng.standard_normal(n))
    return y / np.std(y)


def test_peak_frequency_clean_tones_from_1s():
    rng = np.random.default_rng(1)
    sr = 48000
    t = np.arange(sr) / sr
    for f in rng.uniform(60, 1400, 12):
        x = 0.5 * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
        assert peak_frequency(x, sr, 50, 1500) == pytest.approx(f, abs=1e-5)


def test_peak_frequency_band_limits_the_search():
    sr = 8000
    t = np.arange(2 * sr) / sr
    x = np.sin(2 * np.pi * 100 * t) + 0.1 * np.sin(2 * np.pi * 440.25 * t)
    assert peak_frequency(x, sr, 50, 1000) == pytest.approx(100.0, abs=1e-5)
    assert peak_frequency(x, sr, 300, 1000) == pytest.approx(440.25, abs=1e-4)


def test_dominant_tones_frequencies_and_amplitudes():
    sr = 8000
    t = np.arange(2 * sr) / sr
    x = 0.5 * np.sin(2 * np.pi * 200 * t) + 0.2 * np.sin(2 * np.pi * 333.3 * t + 1) \
        + 0.1 * np.sin(2 * np.pi * 700 * t + 2)
    tones = dominant_tones(x, sr, 50, 1500, n=3)
    np.testing.assert_allclose([f for f, _ in tones], [200.0, 333.3, 700.0], atol=1e-4)
    np.testing.assert_allclose([a for _, a in tones], [0.5, 0.2, 0.1], atol=1e-3)
    assert len(dominant_tones(x, sr, 50, 1500, n=2)) == 2


def _pair(carrier_hz, beat_hz, dur_s, sr, noise_db=None, rng=None):
    t = np.arange(int(dur_s * sr)) / sr
    amp = 0.3
    left = amp * np.sin(2 * np.pi * (carrier_hz + beat_hz / 2) * t + 0.4)
    right = amp * np.sin(2 * np.pi * (carrier_hz - beat_hz / 2) * t)
    if noise_db is not None:  # independent pink noise per ear, RMS noise_db below the tone
        nrms = amp / np.sqrt(2) * 10 ** (noise_db / 20)
        left = left + nrms * pink(t.size, rng)
        right = right + nrms * pink(t.size, rng)
    return left, right


def test_binaural_beat_under_pink_noise_from_2s():
    rng = np.random.default_rng(5)
    sr = 8000
    for carrier, beat in [(200, 10), (400, 6.0), (150, 2.5), (600, 30), (333, 7.83)]:
        left, right = _pair(carrier, beat, 2.0, sr, noise_db=-10, rng=rng)
        r = measure_binaural(left, right, sr)
        assert r["beat_hz"] == pytest.approx(beat, abs=0.01)
        assert r["left_minus_right_hz"] == pytest.approx(beat, abs=0.01)
        assert r["carrier_hz"] == pytest.approx(carrier, abs=0.01)
        assert r["left_hz"] == pytest.approx(carrier + beat / 2, abs=0.01)


def test_wrong_beat_fails_its_target():
    sr = 8000
    left, right = _pair(200, 6.3, 2.0, sr, noise_db=-10, rng=np.random.default_rng(2))
    beat = measure_binaural(left, right, sr)["beat_hz"]
    assert beat == pytest.approx(6.3, abs=0.01)
    assert not abs(beat - 6.0) <= 0.05  # a 6.0 +/- 0.05 target fails
    # SBaGen's 200-10: right ear higher, signed difference negative
    r = measure_binaural(*_pair(200, -10, 2.0, sr), sr)
    assert r["left_minus_right_hz"] == pytest.approx(-10.0, abs=1e-4)
    assert r["beat_hz"] == pytest.approx(10.0, abs=1e-4)


def test_carrier_hint_ignores_other_tones():
    sr = 8000
    t = np.arange(2 * sr) / sr
    left, right = _pair(400, 8, 2.0, sr)
    hum = 0.9 * np.sin(2 * np.pi * 100 * t)  # a louder tone elsewhere in both ears
    r = measure_binaural(left + hum, right + hum, sr, carrier_hint_hz=400)
    assert r["beat_hz"] == pytest.approx(8.0, abs=1e-4)
    assert measure_binaural(left + hum, right + hum, sr)["beat_hz"] < 1e-6


def test_binaural_track_follows_a_glide_and_catches_the_peer_bug():
    sr = 8000
    dur = 20.0
    t = np.arange(int(dur * sr)) / sr
    # correct glide 10 -> 20 Hz: phase is the integral of the frequency
    beat = 10 + 10 * t / dur
    ph_beat = 2 * np.pi * (10 * t + 5 * t**2 / dur)
    carrier = 2 * np.pi * 200 * t
    x = 0.3 * np.vstack([np.sin(carrier + ph_beat / 2), np.sin(carrier - ph_beat / 2)])
    times, lf, rf = binaural_track(x, sr, window_s=2.0, hop_s=1.0)
    np.testing.assert_allclose(times, np.arange(1.0, 19.01, 1.0))
    np.testing.assert_allclose(lf - rf, 10 + 10 * times / dur, atol=0.01)
    np.testing.assert_allclose((lf + rf) / 2, 200.0, atol=0.01)
    # binaural-generator's bug: phase = 2 pi f(t) t, so the beat really sweeps 10 -> 30 Hz
    wrong = 2 * np.pi * beat * t
    x = 0.3 * np.vstack([np.sin(carrier + wrong / 2), np.sin(carrier - wrong / 2)])
    times, lf, rf = binaural_track(x, sr)
    np.testing.assert_allclose(lf - rf, 10 + 20 * times / dur, atol=0.01)
    assert np.max(np.abs((lf - rf) - (10 + 10 * times / dur))) > 8.0  # overshoot found
    assert beat[-1] == pytest.approx(20.0, abs=1e-3)


def test_frequency_bad_input():
    with pytest.raises(ResonatorError, match="one channel"):
        peak_frequency(np.zeros((2, 1000)), 8000, 50, 1500)
    with pytest.raises(ResonatorError, match="Nyquist"):
        peak_frequency(np.zeros(1000), 2000, 50, 1500)
    with pytest.raises(ResonatorError, match="equal length"):
        measure_binaural(np.zeros(1000), np.zeros(999), 8000)
    with pytest.raises(ResonatorError, match=r"\(2, n\)"):
        binaural_track(np.zeros(16000), 8000)


def test_vertex_offset_known_parabolas_and_runaway_guard():
    from resonator.measure._common import vertex_offset

    def at(x0):  # samples of -(x - x0)^2 at -1, 0, 1
        return [-(x - x0) ** 2 for x in (-1.0, 0.0, 1.0)]

    assert vertex_offset(*at(0.3)) == pytest.approx(0.3, abs=1e-12)
    assert vertex_offset(*at(-0.45)) == pytest.approx(-0.45, abs=1e-12)
    assert vertex_offset(*at(0.8), limit=1.0) == pytest.approx(0.8, abs=1e-12)
    assert vertex_offset(*at(0.8)) == 0.5                     # middle not the peak: clipped
    assert abs(vertex_offset(1.0, 1.0 - 1e-9, 1.0 - 2e-9)) == 0.5   # nearly flat: no runaway
    assert vertex_offset(0.0, 1.0, 2.0) == 0.0                 # not concave
    assert vertex_offset(float("nan"), 1.0, 0.0) == 0.0


def test_tempo_of_a_flat_onset_envelope_stays_on_the_grid():
    # a constant signal: the salience is flat to 1e-6; the parabolic step used to run away
    # (candidates at 432 and 609 BPM outside the 40-240 grid)
    from resonator.analysis import analyze_signal

    r = analyze_signal(np.full(4 * 22050, 0.2), 22050, loudness=False)["tempo"]
    for bpm in [r["bpm"]] + [a["bpm"] for a in r["alternatives"]]:
        assert bpm is None or 40.0 * 0.97 <= bpm <= 240.0 * 1.03
