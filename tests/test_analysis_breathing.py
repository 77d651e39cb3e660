"""Known answers for the measured breath-like swell (``breathing``) and the suggested pace
(``paced_breathing``) of ``analyze``."""
from __future__ import annotations

import numpy as np
import pytest

from resonator.analysis import analyze_signal, breath_modulation

SR = 22050


def pink(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n)
    spec[1:] /= np.sqrt(f[1:])
    spec[0] = 0.0
    y = np.fft.irfft(spec, n)
    return 0.1 * y / np.std(y)


def swell(t: np.ndarray, rise_s: float, fall_s: float) -> np.ndarray:
    """0 -> 1 in ``rise_s`` (raised cosine), 1 -> 0 in ``fall_s``, repeated."""
    ph = t % (rise_s + fall_s)
    return np.where(ph < rise_s, 0.5 - 0.5 * np.cos(np.pi * ph / rise_s),
                    0.5 + 0.5 * np.cos(np.pi * (ph - rise_s) / fall_s))


def test_clean_envelope_closed_form():
    t = np.arange(0, 60, 1 / 250.0)
    b = breath_modulation(1.0 + 0.5 * np.sin(2 * np.pi * 0.1 * t), 250.0)
    assert b["breaths_per_min"] == pytest.approx(6.0, abs=0.01)
    assert b["depth"] == pytest.approx(0.5, abs=0.005)
    assert b["periodicity"] > 0.99 and b["significant"]
    # an asymmetric swell: 3 s up, 7 s down -> the mean cycle rises over 30 % of it
    b = breath_modulation(0.5 + swell(t, 3.0, 7.0), 250.0)
    assert b["cycle_s"] == pytest.approx(10.0, abs=0.05)
    assert b["rise_share"] == pytest.approx(0.3, abs=0.05)  # 3 harmonics round the corners


def test_breath_swell_in_noise_is_measured():
    t = np.arange(0, 60, 1 / SR)
    x = pink(t.size, 1) * (0.5 + swell(t, 4.0, 6.0))  # between 0.5 and 1.5 of its mean
    r = analyze_signal(x, SR, loudness=False)
    b = r["breathing"]
    assert b["significant"]
    assert b["breaths_per_min"] == pytest.approx(6.0, abs=0.1)
    assert b["depth"] == pytest.approx(0.5, abs=0.05)
    assert b["rise_share"] == pytest.approx(0.4, abs=0.1)


@pytest.mark.parametrize("seed", [2, 3])
def test_steady_noise_has_no_breath(seed):
    b = analyze_signal(pink(60 * SR, seed), SR, loudness=False)["breathing"]
    assert b is not None and not b["significant"]
    assert b["periodicity"] < 0.35


def test_steady_click_track_has_a_pace_but_no_breath():
    t = np.arange(0, 40, 1 / SR)
    x = np.zeros(t.size)
    for k in range(int(40 * 2)):  # 120 BPM
        i = int(k * 0.5 * SR)
        x[i:i + 200] += np.hanning(200) * np.sin(2 * np.pi * 1000 * t[:200])
    r = analyze_signal(x, SR, loudness=False)
    assert not r["breathing"]["significant"]
    assert r["paced_breathing"]["beats_per_breath"] == 20  # 6 breaths a minute at 120 BPM


def test_too_short_for_three_cycles():
    t = np.arange(0, 5, 1 / 250.0)
    assert breath_modulation(1.0 + 0.5 * np.sin(2 * np.pi * t), 250.0) is None
    assert breath_modulation(np.zeros(60 * 250), 250.0) is None  # silence


def test_cli_says_what_is_measured_and_what_is_suggested(tmp_path, capsys):
    import csv

    import soundfile as sf

    from resonator.cli import main

    t = np.arange(0, 40, 1 / SR)
    x = pink(t.size, 6) * (0.5 + swell(t, 4.0, 6.0))
    wav = tmp_path / "swell.wav"
    sf.write(wav, x, SR)
    assert main(["analyze", str(wav), "--csv", str(tmp_path / "a.csv")]) == 0
    out = capsys.readouterr().out
    assert "breath-like swell 6.0" in out
    row = next(csv.DictReader(open(tmp_path / "a.csv")))
    assert float(row["breath_swell_per_min"]) == pytest.approx(6.0, abs=0.15)
    assert row["breath_swell_significant"] == "True"
