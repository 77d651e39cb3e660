"""Known-answer tests for splatter: the band, line spectra, the measurement alone and in a mix,
the gate shapes' promise over carriers 100-1000 Hz and rates 1-40 Hz, and the check target."""
from __future__ import annotations

import math
import textwrap

import numpy as np
import pytest

from resonator.layers.gates import GATES
from resonator.measure import MeasureError
from resonator.measure.splatter import (burst_train_lines, gated_tone_lines, line_splatter_db,
                                        measure_splatter, spectrum_splatter_db, splatter_band)
from resonator.render import render_array

from layer_helpers import build, make_ctx, render

CARRIERS = (100.0, 178.0, 316.0, 562.0, 1000.0)
RATES = (1.0, 2.5, 6.3, 16.0, 40.0)


def pink(n, rng):
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spec.size)
    spec[1:] /= np.sqrt(f[1:])
    spec[0] = 0
    x = np.fft.irfft(spec, n)
    return x / x.std()


def test_band_definition():
    assert splatter_band(300.0, 10.0) == (240.0, 360.0)              # 20 % of the carrier
    assert splatter_band(100.0, 40.0) == (0.0, 260.0)                # 4 harmonics of the rate
    assert splatter_band(10000.0, 40.0, burst_s=0.001) == (6000.0, 14000.0)  # 4 / length
    with pytest.raises(MeasureError):
        splatter_band(0.0, 10.0)


def test_two_lines_read_exactly():
    # a tone on the carrier and one 20 rate-steps away at 1 % amplitude: -40.0 dB
    sr = 8000
    t = np.arange(10 * sr) / sr
    x = np.sin(2 * np.pi * 300 * t) + 0.01 * np.sin(2 * np.pi * 500 * t + 1.0)
    band = splatter_band(300.0, 10.0)
    assert spectrum_splatter_db(x, sr, band) == pytest.approx(-40.0, abs=0.01)
    m = measure_splatter(x, sr, 300.0, 10.0, band)
    assert m["splatter_db"] == pytest.approx(-40.0, abs=0.01)
    f, p = gated_tone_lines(np.ones(64), 300.0, 10.0)
    assert line_splatter_db(f, p, band) == -math.inf and p.sum() == pytest.approx(0.5)


def test_line_spectra_match_the_rendered_spectrum():
    # planned lines (one gate cycle, complex sums where a line meets an image) and the render
    sr = 8000
    for gate, c, rate in (("sharp", 300.0, 10.0), ("brisk", 100.0, 40.0), ("soft", 110.0, 40.0)):
        x = render("isochronic", 10.0, sr, carrier=c, rate=rate, gate=gate)
        band = splatter_band(c, rate)
        planned = line_splatter_db(*gated_tone_lines(GATES[gate].period(rate), c, rate), band,
                                   sr)
        assert spectrum_splatter_db(x, sr, band) == pytest.approx(planned, abs=0.3)
    sound = GATES["soft"]  # bursts: a thump train's lines against its render
    x = render("pulse", 10.0, sr, rate=4.0)
    from resonator.layers.gates import thump_burst
    period = thump_burst(60.0, 0.06)(np.arange(sr // 4) / sr)
    band = splatter_band(60.0, 4.0, burst_s=0.06)
    assert spectrum_splatter_db(x, sr, band) == pytest.approx(
        line_splatter_db(*burst_train_lines(period, 4.0, sr), band, sr), abs=0.3)
    assert sound.name == "soft"


def test_default_gate_is_below_minus_40_db_over_carriers_and_rates():
    # the claim: the default isochronic gate, rendered alone, spreads at most -40 dB outside
    # its band for carriers 100-1000 Hz and rates 1-40 Hz (planned: -56.7 dB at worst)
    sr = 8000
    worst = -math.inf
    for c in CARRIERS:
        for rate in RATES:
            x = render("isochronic", 8.0, sr, carrier=c, rate=rate)
            worst = max(worst, spectrum_splatter_db(x, sr, splatter_band(c, rate)))
    assert worst <= -50.0, worst
    # the planned value over a dense grid (no render)
    for c in np.geomspace(100, 1000, 19):
        for rate in np.geomspace(1, 40, 19):
            lines = gated_tone_lines(GATES["soft"].period(rate), c, rate)
            assert line_splatter_db(*lines, splatter_band(c, rate), sr) <= -55.0, (c, rate)


def test_sharp_gate_splatters_as_the_old_gate_did():
    # the 5 ms edges of the old gate: about -19 dB at 300 Hz / 10 Hz (the issue measured
    # -18.4 dB on the old gate); the default is 40 dB cleaner
    sr = 8000
    band = splatter_band(300.0, 10.0)
    sharp = spectrum_splatter_db(render("isochronic", 8.0, sr, carrier=300.0, rate=10.0,
                                        gate="sharp"), sr, band)
    soft = spectrum_splatter_db(render("isochronic", 8.0, sr, carrier=300.0, rate=10.0), sr,
                                band)
    assert -20.0 < sharp < -18.0 and soft < sharp - 40.0


@pytest.mark.parametrize("kind,given", [
    ("pulse", {"style": "thump", "rate": 0.5}), ("pulse", {"style": "thump", "rate": 12.0}),
    ("pulse", {"style": "thump", "rate": 4.0, "length_s": 0.2}),
    ("pulse", {"style": "click", "rate": 3.0}), ("gamma", {"rate": 40.0}),
    ("gamma", {"rate": 38.0, "pip_s": 0.0005}), ("gamma", {"mode": "am", "rate": 40.0})])
def test_pulses_and_pips_stay_in_their_band(kind, given):
    sr = 32000
    x = render(kind, 8.0, sr, ctx=make_ctx(sr, 8.0), **given)
    rate = given["rate"]
    if kind == "pulse":
        pitch = 60.0 if given["style"] == "thump" else 2000.0
        length = min(given.get("length_s", 0.06), 0.8 / rate) if given["style"] == "thump" \
            else 4.0 / pitch
        band = splatter_band(pitch, rate, burst_s=length)
    elif given.get("mode") == "am":
        band = splatter_band(400.0, rate)
    else:
        band = splatter_band(10000.0, rate, burst_s=given.get("pip_s", 0.001))
    assert spectrum_splatter_db(x, sr, band) <= -40.0


@pytest.mark.parametrize("gate", list(GATES))
def test_gates_are_block_size_invariant_and_windows_match(gate):
    sr = 8000
    ctx = make_ctx(sr, 4.0)
    node = build("isochronic", ctx, carrier=300.0, rate=7.3, gate=gate, depth=0.8)
    full = render_array(node, 4.0, sr=sr, block_frames=4096)
    np.testing.assert_array_equal(full, render_array(node, 4.0, sr=sr, block_frames=333))
    win = render_array(node, 1.0, sr=sr, start_s=2.5, block_frames=1000)
    np.testing.assert_array_equal(win, full[:, int(2.5 * sr): int(3.5 * sr)])


def test_splatter_measured_in_a_mix():
    # under pink noise and another layer's tone on one of the lines: the sharp gate (-18.9 dB
    # planned) reads within 0.5 dB; the soft gate (-59.6 dB planned) reads below -40 dB when
    # the noise allows, and a louder noise raises the reported floor instead of the reading
    sr = 16000
    rng = np.random.default_rng(3)
    band = splatter_band(300.0, 10.0)
    noise = pink(30 * sr, rng)
    t = np.arange(30 * sr) / sr
    other = 0.3 * np.sin(2 * np.pi * 210.0 * t)
    cases = (("sharp", 0.05, lambda m: abs(m["splatter_db"] + 18.9) < 0.5),
             ("soft", 0.01, lambda m: m["upper_db"] < -40.0),
             ("soft", 0.05, lambda m: m["floor_db"] > -40.0 and m["splatter_db"] < -30.0))
    for gate, level, ok in cases:
        x = 0.3 * render("isochronic", 30.0, sr, carrier=300.0, rate=10.0, gate=gate)[0]
        m = measure_splatter(x + level * noise + other, sr, 300.0, 10.0, band,
                             exclude_hz=[(209.5, 210.5)])
        assert ok(m) and m["lines_excluded"] == 1, (gate, level, m)
    with pytest.raises(MeasureError, match="cannot separate"):
        measure_splatter(x[: sr // 2], sr, 300.0, 10.0, band)


RECIPE = textwrap.dedent("""
    title = "iso"
    fade_in = "2s"
    fade_out = "2s"
    [[phase]]
    name = "a"
    duration = "40s"
    [[layer]]
    name = "iso"
    kind = "isochronic"
    carrier = "300 Hz"
    rate = "10 Hz"
    gate = "{gate}"
    gain = "-12 dB"
    [[layer]]
    name = "bed"
    kind = "noise"
    color = "pink"
    gain = "-30 dB"
    """).lstrip()


def test_check_verifies_the_gate_on_every_render(tmp_path):
    # a render of the soft gate passes its implied splatter target; the same recipe checked
    # against a render made with the sharp gate fails it (what the recipe promises is measured)
    from resonator.check import check_file
    from resonator.recipe import load_recipe, render_recipe

    results = {}
    for gate in ("soft", "sharp"):
        (tmp_path / f"{gate}.toml").write_text(RECIPE.format(gate=gate))
        render_recipe(load_recipe(tmp_path / f"{gate}.toml"), tmp_path / f"{gate}.wav",
                      sr=16000, bits="32f", normalize=False)
    for wav in ("soft", "sharp"):
        rep = check_file(tmp_path / f"{wav}.wav", tmp_path / "soft.toml")
        results[wav] = [r for r in rep.results if r.target.kind == "splatter"]
    (ok,) = results["soft"]
    assert ok.passed and ok.target.expected == -40.0 and ok.measured <= -40.0, ok
    (bad,) = results["sharp"]
    assert not bad.passed and bad.measured == pytest.approx(-18.9, abs=1.0), bad
