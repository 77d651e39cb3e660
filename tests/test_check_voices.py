"""Known answers for binaural targets among close voices: every planned sinusoid near an ear
is fitted with it, so right answers pass, small errors fail, and components closer than the
window resolves are skipped with a reason (never failed, never passed)."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest
import soundfile as sf
from scipy import signal

from resonator.check import check_file
from resonator.check.targets import make_target
from resonator.measure.tones import fit_tones

SR = 16000
DUR = 20.0


def recipe(tmp_path, layers: str, name="two.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent("""
        title = "close voices"
        sample_rate = 16000
        fade_in = "1s"
        fade_out = "1s"
        [[phase]]
        name = "a"
        duration = "20s"
        """).lstrip() + textwrap.dedent(layers))
    return p


def pair(carrier, beat, amp, t):
    return amp * np.vstack([np.sin(2 * np.pi * (carrier + beat / 2) * t),
                            np.sin(2 * np.pi * (carrier - beat / 2) * t)])


def render(tmp_path, voices, name, noise_db=None):
    t = np.arange(int(DUR * SR)) / SR
    x = sum(pair(c, b, a, t) for c, b, a in voices)
    if noise_db is not None:  # identical (mono) brown-ish noise in both ears
        rng = np.random.default_rng(1)
        n = signal.lfilter([1.0], [1.0, -0.995], rng.standard_normal(t.size))
        x = x + (n / n.std() * 0.3 * 10 ** (noise_db / 20))[None, :]
    fade = np.clip(np.minimum(t, DUR - t), 0, 1)
    x = x * (0.5 - 0.5 * np.cos(np.pi * fade))
    p = tmp_path / name
    sf.write(p, x.T, SR, subtype="FLOAT")
    return p


TWO = """
    [[layer]]
    name = "low"
    kind = "binaural"
    carrier = "200 Hz"
    beat = "4 Hz"
    gain = "-12 dB"
    [[layer]]
    name = "high"
    kind = "binaural"
    carrier = "210 Hz"
    beat = "10 Hz"
    """


def beats(rep, layer):
    return [r for r in rep.results if r.target.kind == "binaural_beat" and r.target.layer == layer]


def test_two_close_binaural_voices_right_answers_pass(tmp_path):
    # 200+4 (left 202, right 198) under a 4x louder 210+10 (left 215, right 205): the
    # strongest peak near 200 Hz belongs to the other voice in both ears
    rec = recipe(tmp_path, TWO)
    good = render(tmp_path, [(200.0, 4.0, 0.1), (210.0, 10.0, 0.4)], "good.wav")
    rep = check_file(good, rec)
    assert beats(rep, "low") and beats(rep, "high")
    tones = [r for r in rep.results if r.target.kind.startswith("binaural")]
    assert all(r.passed for r in tones), [(r.target.kind, r.target.layer, r.measured, r.detail)
                                          for r in tones if not r.passed]
    low = beats(rep, "low")[0]
    assert abs(low.measured - 4.0) < 0.005
    assert any("high" in s for s in low.detail["windows"][0]["fitted_with"])
    carriers = [r for r in rep.results if r.target.kind == "binaural_carrier"]
    assert {r.target.layer for r in carriers} == {"low", "high"}


def test_two_close_binaural_voices_a_0_3_hz_error_fails(tmp_path):
    rec = recipe(tmp_path, TWO)
    bad = render(tmp_path, [(200.0, 4.3, 0.1), (210.0, 10.0, 0.4)], "bad.wav")
    rep = check_file(bad, rec)
    low = beats(rep, "low")
    assert low and not any(r.passed for r in low) and not rep.passed
    assert all(abs(r.measured - 4.3) < 0.01 for r in low)
    assert all(r.passed for r in beats(rep, "high"))  # the other voice is still right


def test_close_voices_under_brown_noise(tmp_path):
    rec = recipe(tmp_path, TWO)
    good = render(tmp_path, [(200.0, 4.0, 0.1), (210.0, 10.0, 0.4)], "noisy.wav", noise_db=0)
    rep = check_file(good, rec)
    assert all(r.passed for r in beats(rep, "low") + beats(rep, "high")), \
        [(r.target.layer, r.measured) for r in rep.results if not r.passed]


SAME = """
    [[layer]]
    name = "low"
    kind = "binaural"
    carrier = "200 Hz"
    beat = "4 Hz"
    [[layer]]
    name = "same"
    kind = "binaural"
    carrier = "202 Hz"
    beat = "0.01 Hz"
    """


@pytest.mark.parametrize("beat,ok", [(4.0, True), (4.3, False)])
def test_coinciding_ears_are_fitted_jointly(tmp_path, beat, ok):
    # 200+4 and 202+0.01: the left ears (202 and 202.005 Hz) coincide; no window separates
    # them, so they are fitted as one sum with one common shift (measured, not skipped): the
    # right render reads 4 Hz, a 4.3 Hz beat (left ear 202.15 Hz, right 197.85) fails
    rec = recipe(tmp_path, SAME)
    x = render(tmp_path, [(200.0, beat, 0.2), (202.0, 0.01, 0.2)], f"same{beat}.wav")
    rep = check_file(x, rec)
    assert not [w for t, w in rep.skipped if t.kind == "binaural_beat"]
    low = beats(rep, "low")
    assert low and all(r.passed is ok for r in low), [(r.measured, r.detail) for r in low]
    if ok:
        assert all(abs(r.measured - 4.0) < 0.01 for r in low)
        assert "jointly" in low[0].detail["windows"][0]["note"]
    else:
        assert all(abs(r.measured - 4.0) > 0.1 for r in low)


def test_fit_separates_tones_closer_than_the_peak_search_would():
    # 1 Hz apart in 4 s (4 bins): each within 1e-3 Hz, a 0.3 Hz shift seen
    t = np.arange(int(4 * 2000)) / 2000
    rng = np.random.default_rng(3)
    for shift in (0.0, 0.3):
        x = np.sin(2 * np.pi * (100.0 + shift) * t) + 1.5 * np.sin(2 * np.pi * 101.0 * t + 1) \
            + 0.01 * rng.standard_normal(t.size)
        f, amps, edge = fit_tones(x, 2000, [100.0, 101.0], [(0.45, 0.45), (0.25, 0.25)])
        assert abs(f[0] - (100.0 + shift)) < 1e-3 and abs(f[1] - 101.0) < 1e-3
        assert not edge.any() and abs(amps[0] - 1.0) < 0.01


def test_negative_numeric_expected_beat():
    t = make_target("binaural_beat", 0, 10, -8, 0.05)
    assert t.expected == -8.0
    assert make_target("binaural_beat", 0, 10, "-8 Hz", None).expected == -8.0
    assert make_target("binaural_beat", 0, 10, 0, None).expected == 0.0


NEAR = """
    [[layer]]
    name = "low"
    kind = "binaural"
    carrier = "200 Hz"
    beat = "4 Hz"
    [[layer]]
    name = "near"
    kind = "binaural"
    carrier = "202.05 Hz"
    beat = "0.1 Hz"
    """


@pytest.mark.parametrize("beat,ok", [(4.0, True), (3.9, False)])
def test_ears_0_1_hz_apart_are_separated_on_a_longer_window(tmp_path, beat, ok):
    # left ears 202 and 202.1 Hz: 4 s cannot separate them (0.38 Hz), the hold's longer
    # window (16 s) can; each voice is read on its own (not jointly), a 0.1 Hz error fails
    rec = recipe(tmp_path, NEAR)
    x = render(tmp_path, [(200.0, beat, 0.2), (202.05, 0.1, 0.2)], f"near{beat}.wav")
    rep = check_file(x, rec)
    low = beats(rep, "low")
    assert low and all(r.passed is ok for r in low), [(r.measured, r.detail) for r in low]
    assert all(abs(r.measured - beat) < 0.01 for r in low), [r.measured for r in low]
    w = low[0].detail["windows"][0]
    assert w["end_s"] - w["start_s"] >= 15.0 and "jointly" not in (w.get("note") or "")
