"""Known-answer tests for the tone layers: binaural, monaural, isochronic, pulse, gamma.

Every test renders a few seconds and measures the signal (peak frequency per channel, Hilbert
envelope and its spectrum, envelope percentiles, pulse counts, clicks) against the value the
parameters imply.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from resonator.errors import RecipeError
from resonator.graph import Constant, Curve, FunctionOfTime
from resonator.layers import LAYER_KINDS, LayerContext
from resonator.units import RECIPE_UNITS as UNITS
from resonator.layers.gates import GATES, gate_for
from resonator.measure.dynamics import click_score
from resonator.measure.frequency import peak_frequency
from resonator.measure.modulation import am_rate_depth, gated_depth, share_in_band
from resonator.render import render_array

from layer_helpers import NON_NUMERIC, build, make_ctx, make_params, render  # noqa: F401


def hilbert_env(x):
    return np.abs(signal.hilbert(x))


# ----------------------------------------------------------------------------- contract
def test_registry_has_every_kind_and_sane_declarations():
    want = {"binaural", "monaural", "isochronic", "pulse", "gamma", "breath", "noise", "drone",
            "bell", "music"}
    assert want <= set(LAYER_KINDS)
    for kind in want:
        for name, info in LAYER_KINDS[kind].params.items():
            assert info.unit in UNITS or info.unit in NON_NUMERIC, (kind, name)
            assert info.doc, (kind, name)
            if info.choices:
                assert info.default in info.choices, (kind, name)
            if info.range and isinstance(info.default, (int, float)):
                assert info.range[0] <= info.default <= info.range[1], (kind, name)


@pytest.mark.parametrize("kind", ["binaural", "monaural", "isochronic", "pulse", "gamma",
                                  "breath", "noise", "drone", "bell"])
def test_defaults_build_stereo_at_nominal_level(kind):
    sr = 24000
    x = render(kind, 3.0, sr=sr, ctx=make_ctx(sr, 3.0))
    peak = np.abs(x).max()
    assert 0.2 < peak <= 1.05, peak
    assert np.all(np.isfinite(x))


# ----------------------------------------------------------------------------- binaural
def test_binaural_sbagen_convention_and_flat_envelopes():
    sr = 16000
    x = render("binaural", 4.0, sr, carrier=200.0, beat=6.0)
    assert abs(peak_frequency(x[0], sr, 100, 300) - 203.0) < 1e-3
    assert abs(peak_frequency(x[1], sr, 100, 300) - 197.0) < 1e-3
    for ch in x:  # each ear alone carries no beat
        env = hilbert_env(ch)[sr // 4: -sr // 4]
        assert 1 - np.percentile(env, 2) / np.percentile(env, 98) < 0.01
    assert click_score(x, sr) < 3


def test_binaural_curve_glides_have_exact_beat_and_are_functions_of_time():
    sr, dur = 16000, 8.0
    carrier = Curve([(0, 200.0), (dur, 300.0)])
    beat = Curve([(0, 4.0), (dur, 8.0)])
    ctx = make_ctx(sr, dur)
    node = LAYER_KINDS["binaural"].build(make_params("binaural", carrier=carrier, beat=beat), ctx)
    x = render_array(node, dur, sr=sr)
    for c in (2.0, 4.0, 6.0):
        seg = slice(int((c - 0.5) * sr), int((c + 0.5) * sr))
        lf = peak_frequency(x[0, seg], sr, 150, 350)
        rf = peak_frequency(x[1, seg], sr, 150, 350)
        assert abs((lf - rf) - (4.0 + 4.0 * c / dur)) < 0.02
        assert abs(0.5 * (lf + rf) - (200 + 100 * c / dur)) < 0.05
    win = render_array(node, 1.0, sr=sr, start_s=5.0)
    np.testing.assert_allclose(win, x[:, 5 * sr: 6 * sr], atol=1e-6)
    assert click_score(x, sr) < 3


def test_binaural_beat_bound_to_a_function_of_time_uses_running_phase():
    sr, dur = 16000, 6.0
    beat = FunctionOfTime(lambda t: 5.0 + 0.0 * t, bounds=(5.0, 5.0))
    x = render("binaural", dur, sr, beat=beat, carrier=300.0)
    lf = peak_frequency(x[0, sr:], sr, 250, 350)
    rf = peak_frequency(x[1, sr:], sr, 250, 350)
    assert abs(lf - rf - 5.0) < 1e-3


def test_binaural_targets_follow_phases_and_glides():
    ctx = make_ctx(16000, 120.0, phases=[("warm", 0.0, 60.0), ("cool", 60.0, 120.0)])
    beat = Curve([(0, 10.0), (60, 10.0), (120, 4.0)])
    every = LAYER_KINDS["binaural"].targets(make_params("binaural", beat=beat), ctx)
    t = [d for d in every if d["kind"] == "binaural_beat"]
    # the steady carrier: one target per phase
    assert [(d["phase"], d["expected"]) for d in every if d["kind"] == "binaural_carrier"] == \
        [("warm", 200.0), ("cool", 200.0)]
    warm = [d for d in t if d["phase"] == "warm"]
    cool = [d for d in t if d["phase"] == "cool"]
    assert len(warm) == 1 and warm[0]["expected"] == 10.0 and warm[0]["end_s"] == 54.0  # 10 % margins
    assert len(cool) == 5
    for d in cool:
        centre = 0.5 * (d["start_s"] + d["end_s"])
        assert abs(d["expected"] - (10.0 - 6.0 * (centre - 60.0) / 60.0)) < 1e-9
        assert d["kind"] == "binaural_beat" and d["layer"] == "test-layer"


def test_binaural_refuses_beat_larger_than_twice_the_carrier():
    with pytest.raises(RecipeError, match="beat"):
        render("binaural", 1.0, carrier=20.0, beat=50.0)


# ----------------------------------------------------------------------------- monaural
def test_monaural_has_a_real_envelope_at_the_beat_in_each_ear():
    sr = 16000
    x = render("monaural", 6.0, sr, carrier=250.0, beat=7.0)
    np.testing.assert_array_equal(x[0], x[1])
    rate, _ = am_rate_depth(x[:1], sr)
    assert abs(rate - 7.0) < 0.01
    env = hilbert_env(x[0])[sr // 2: -sr // 2]
    assert 1 - np.percentile(env, 2) / np.percentile(env, 98) > 0.9


# ----------------------------------------------------------------------------- isochronic
@pytest.mark.parametrize("gate", list(GATES))
def test_isochronic_is_the_carrier_times_its_gate(gate):
    sr, rate = 16000, 10.0
    x = render("isochronic", 3.0, sr, carrier=1000.0, rate=rate, gate=gate)
    t = np.arange(x.shape[1]) / sr
    g = GATES[gate].values(np.mod(t * rate, 1.0), rate)
    np.testing.assert_allclose(x[0], g * np.sin(2 * np.pi * 1000.0 * t), atol=2e-6)
    np.testing.assert_array_equal(x[0], x[1])
    r, _ = am_rate_depth(x, sr, rate_hint_hz=rate)
    assert abs(r - rate) < 0.01
    assert click_score(x, sr) < 4


def test_gate_shapes_are_what_their_names_say():
    u = (np.arange(10000) + 0.5) / 10000
    soft = GATES["soft"].values(u, 10.0)
    assert soft.max() == pytest.approx(1.0, abs=1e-6) and abs(u[soft.argmax()] - 0.3) < 1e-3
    assert np.all(soft[u >= 0.6] == 0) and np.all(soft[u < 0.6] > 0)       # 40 % silence
    assert soft[np.searchsorted(u, 0.15)] == pytest.approx(0.34, abs=2e-3)  # Blackman mid-edge
    np.testing.assert_allclose(GATES["sine"].values(u, 10.0), 0.5 - 0.5 * np.cos(2 * np.pi * u),
                               atol=1e-12)
    brisk = GATES["brisk"].values(u, 10.0)
    assert abs(u[brisk.argmax()] - 0.042) < 2e-3 and np.all(brisk[u >= 0.35] == 0)
    # sharp: 5 ms raised-cosine edges whatever the rate: at 10 Hz 5 % of the period, at 2 Hz 1 %
    for rate, share in ((10.0, 0.05), (2.0, 0.01)):
        g = GATES["sharp"].values(u, rate)
        assert np.interp(share / 2, u, g) == pytest.approx(0.5, abs=1e-3)
        assert np.all(g[(u > share) & (u < 0.5 - share)] == 1.0) and np.all(g[u >= 0.5] == 0)
    # edges that do not fit the open window shrink in proportion: 0.3 + 0.3 into 0.4
    g = GATES["soft"].values(u, 10.0, duty=0.4)
    assert abs(u[g.argmax()] - 0.2) < 1e-3 and np.all(g[u >= 0.4] == 0)


def test_isochronic_overrides_duty_edges_and_depth():
    sr, rate = 16000, 5.0
    x = render("isochronic", 2.0, sr, carrier=500.0, rate=rate, duty=0.8, attack_s=0.02,
               release=0.5, depth=0.75)
    t = np.arange(x.shape[1]) / sr
    want = gate_for("soft", duty=0.8, attack_s=0.02, release=0.5)
    assert want.edges(rate, 0.8) == pytest.approx((0.1, 0.5))
    g = 1 - 0.75 * (1 - want.values(np.mod(t * rate, 1.0), rate))
    np.testing.assert_allclose(x[0], g * np.sin(2 * np.pi * 500.0 * t), atol=2e-6)


def test_isochronic_partial_depth_and_gliding_rate():
    sr = 16000
    x = render("isochronic", 4.0, sr, depth=0.5, rate=6.0)
    assert abs(gated_depth(x, sr) - 0.5) < 0.03
    dur = 8.0
    rate = Curve([(0, 8.0), (dur, 12.0)])
    x = render("isochronic", dur, sr, rate=rate)
    seg = x[:, 3 * sr: 5 * sr]
    r, _ = am_rate_depth(seg, sr, rate_hint_hz=10.0)
    assert abs(r - 10.0) < 0.1


def test_isochronic_refuses_hard_gates():
    with pytest.raises(RecipeError, match="attack_s: must be at least 2 ms"):
        render("isochronic", 1.0, attack_s=0.0005)
    with pytest.raises(RecipeError, match="duty: must be at least 0.05"):
        render("isochronic", 1.0, duty=0.01)
    with pytest.raises(RecipeError, match="duty: the gate is open 2.5 ms per cycle at 40 Hz"):
        render("isochronic", 1.0, rate=40.0, duty=0.1)
    # a preset's edge at a high rate is lengthened to 2 ms: brisk's 4.2 % attack at 50 Hz
    a, r = GATES["brisk"].edges(50.0, 0.35)
    assert a == pytest.approx(0.1) and r == pytest.approx(0.2275)


# ----------------------------------------------------------------------------- pulse
def _count_bursts(x, sr, smooth_hz=30.0):
    env = hilbert_env(x[0])
    env = signal.sosfiltfilt(signal.butter(2, smooth_hz, fs=sr, output="sos"), env)
    above = env > 0.3 * env.max()
    return int(np.sum(above[1:] & ~above[:-1]) + above[0])


@pytest.mark.parametrize("style,rate", [("thump", 4.0), ("thump", 11.0), ("click", 3.0)])
def test_pulse_counts_and_rate(style, rate):
    sr, dur = 16000, 5.0
    x = render("pulse", dur, sr, style=style, rate=rate)
    assert _count_bursts(x, sr, smooth_hz=4 * rate if style == "thump" else 200.0) == int(
        round(dur * rate))
    r, _ = am_rate_depth(x, sr, rate_hint_hz=rate)
    assert abs(r - rate) < 0.02
    if style == "thump":
        assert abs(peak_frequency(x[0], sr, 20, 200) - 60.0) < 6.0
        assert click_score(x, sr) < 8


def test_pulse_refuses_unknown_style():
    with pytest.raises(RecipeError, match="style"):
        render("pulse", 1.0, style="boom")


# ----------------------------------------------------------------------------- gamma
@pytest.mark.parametrize("rate", [40.0, 38.0])
def test_gamma_genus_pips(rate):
    sr, dur = 32000, 4.0
    x = render("gamma", dur, sr, ctx=make_ctx(sr, dur), rate=rate)
    r, _ = am_rate_depth(x, sr, rate_hint_hz=rate)
    assert abs(r - rate) < 0.05
    share = share_in_band(x, sr, rate - 2, rate + 2)
    assert 0.42 < share < 0.62, share
    # pips: 1 ms, one per cycle, carrier 10 kHz
    assert abs(peak_frequency(x[0], sr, 5000, 15000) - 10000.0) < 50
    assert np.mean(np.abs(x[0]) > 1e-6) < 0.05
    assert _count_bursts(x, sr, smooth_hz=2000.0) == int(dur * rate)


def test_gamma_am_tone_depth_and_rate():
    sr = 16000
    x = render("gamma", 4.0, sr, mode="am", depth=1.0)
    r, d = am_rate_depth(x, sr, rate_hint_hz=40.0)
    assert abs(r - 40.0) < 0.05 and abs(d - 1.0) < 0.02
    assert abs(peak_frequency(x[0], sr, 100, 1000) - 400.0) < 0.5
    assert share_in_band(x, sr, 38, 42) > 0.9
    x = render("gamma", 4.0, sr, mode="am", depth=0.5, carrier=250.0)
    r, d = am_rate_depth(x, sr, rate_hint_hz=40.0)
    assert abs(d - 0.5) < 0.02


def test_gamma_am_pink_noise_share():
    sr = 16000
    x = render("gamma", 6.0, sr, mode="am", source="pink")
    share = share_in_band(x, sr, 38, 42)
    assert 0.55 < share < 0.9, share
    r, _ = am_rate_depth(x, sr, rate_hint_hz=40.0)
    assert abs(r - 40.0) < 0.05
    assert abs(np.corrcoef(x[0], x[1])[0, 1]) < 0.1  # independent noise per ear


def test_gamma_carrier_above_nyquist_is_a_recipe_error():
    with pytest.raises(RecipeError, match="carrier"):
        render("gamma", 1.0, 16000, mode="genus")


def test_rate_from_a_node_uses_a_running_phase_that_window_renders_reproduce():
    sr, dur = 16000, 6.0
    rate = Constant(6.0) + FunctionOfTime(lambda t: 4.0 * np.asarray(t) / dur)  # a Sum node
    ctx = make_ctx(sr, dur)
    node = LAYER_KINDS["isochronic"].build(make_params("isochronic", rate=rate), ctx)
    full = render_array(node, dur, sr=sr, block_frames=4096)
    other = render_array(node, dur, sr=sr, block_frames=1000)
    np.testing.assert_allclose(full, other, atol=1e-9)
    win = render_array(node, 1.0, sr=sr, start_s=4.0, block_frames=4096)
    np.testing.assert_allclose(win, full[:, 4 * sr: 5 * sr], atol=1e-9)
    r, _ = am_rate_depth(full[:, 2 * sr: 4 * sr], sr, rate_hint_hz=8.0)
    assert abs(r - 8.0) < 0.1


def test_phase_sine_pair_equals_two_phase_sines():
    import numpy as np

    from resonator.graph import Curve
    from resonator.layers._common import PhaseSine, PhaseSinePair
    from resonator.render import render_array

    beat = Curve([(0, 4.0), (3, 10.0, "exp")])
    pair = PhaseSinePair(200.0, beat, (190, 210))
    left = PhaseSine(lambda t: 200.0 * t + 0.5 * beat.integral(t), (190, 210))
    right = PhaseSine(lambda t: 200.0 * t - 0.5 * beat.integral(t), (190, 210))
    y = render_array(pair, 3.0, sr=8000, block_frames=1000)
    assert np.array_equal(y[0], render_array(left, 3.0, sr=8000)[0])
    assert np.array_equal(y[1], render_array(right, 3.0, sr=8000)[0])


def test_constant_am_modulator_is_the_exact_cosine():
    import numpy as np

    from resonator.layers._common import am_modulator
    from resonator.render import render_array

    y = render_array(am_modulator(40.0, 0.6), 1.0, sr=8000, block_frames=777)[0]
    t = np.arange(8000) / 8000
    assert np.max(np.abs(y - (1 + 0.6 * np.cos(2 * np.pi * 40 * t)) / 1.6)) <= 1e-12


def test_phase_sine_pair_equals_two_phase_sines_bit_for_bit():
    """The stereo binaural kernel computes each ear exactly as the one-channel PhaseSine."""
    from resonator.graph.core import RenderContext
    from resonator.layers._common import PhaseSine, PhaseSinePair

    carrier = Curve([(0, 210.0), (1300, 230.0, "cos")])  # a carrier glide, a swept beat
    beat = Curve([(0, 6.0), (1240, 2.0, "exp"), (1280, 3.0), (1300, 4.0, "smooth")])
    a, b = carrier.integral, lambda t: 0.5 * beat.integral(t)  # noqa: E731
    ctx = RenderContext(48000)
    start, n = 48000 * 1234 + 17, 48000 * 72  # across the curves' points and past their ends
    out = PhaseSinePair(carrier, beat, (100, 300))._process(ctx, start, n)
    t = ctx.times(start, n)
    assert np.array_equal(out[0], PhaseSine(lambda t: a(t) + b(t), (100, 300)).evaluate(t))
    assert np.array_equal(out[1], PhaseSine(lambda t: a(t) - b(t), (100, 300)).evaluate(t))
    # and it is the sine of the phase to float32 precision
    assert np.max(np.abs(out[0] - np.sin(2 * np.pi * (a(t) + b(t))))) < 2e-6
    # constants: c t
    out = PhaseSinePair(220.0, 6.0, (100, 300))._process(ctx, start, 1000)
    t = ctx.times(start, 1000)
    assert np.array_equal(out[1], PhaseSine(lambda t: 220.0 * t - 0.5 * (6.0 * t),
                                            (100, 300)).evaluate(t))
