"""LayerKind.plan: what each layer sounds like, read by check with no kind switches."""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

from resonator.check import check_file
from resonator.check.targets import targets_from_session
from resonator.graph import Constant, Curve
from resonator.graph.oscillators import Sine
from resonator.graph.stereo import Channels
from resonator.layers import LAYER_KINDS, LayerKind, LayerPlan, ParamInfo, register
from resonator.layers.base import Partial
from resonator.recipe import build_session, render_recipe
from resonator.recipe.model import load_recipe

from layer_helpers import make_ctx, make_params

T = np.array([0.0, 30.0, 60.0])


def plan(kind, ctx=None, **given):
    ctx = ctx or make_ctx(16000, 60.0)
    return LAYER_KINDS[kind].plan(make_params(kind, **given), ctx)


def test_every_kind_has_a_plan_and_one_without_is_refused():
    assert all(k.plan is not None for k in LAYER_KINDS.values())
    with pytest.raises(TypeError, match="plan="):
        register(LayerKind("planless", "no plan", {}, lambda p, c: None))
    assert "planless" not in LAYER_KINDS


def test_binaural_and_wave_partials():
    p = plan("binaural", carrier=300.0, beat=Curve([(0, 10.0), (60, 4.0)]))
    tones = [(q.ear, q.freq(T).round(6).tolist()) for q in p.partials]
    assert tones == [(0, [305.0, 303.5, 302.0]), (1, [295.0, 296.5, 298.0])]
    assert p.tonal_ranges == [(293.0, 307.0)] and p.band is None
    sq = plan("wave", carrier=200.0, beat=8.0, shape="square")
    left = [(q.role, round(float(q.freq(T)[0]), 3), round(q.weight, 4)) for q in sq.partials
            if q.ear == 0][:3]
    assert left == [("tone", 204.0, 1.0), ("harmonic", 612.0, 0.3333), ("harmonic", 1020.0, 0.2)]


def test_isochronic_sidebands_band_and_gate():
    p = plan("isochronic", carrier=400.0, rate=10.0)
    lines = sorted({(round(float(q.freq(T)[0]), 3), round(q.weight, 4)) for q in p.partials})
    assert (400.0, 0.5) in lines and (410.0, 0.3183) in lines and (430.0, 0.1061) in lines
    assert all(abs(f - 400.0) % 20.0 == 10.0 or f == 400.0 for f, _ in lines)  # odd k only
    assert p.band == (340.0, 460.0) and p.gate is not None
    g = p.gate.values(np.linspace(0, 1, 400, endpoint=False), 10.0)
    assert g.max() == pytest.approx(1.0) and g.min() == pytest.approx(0.0)


def test_noise_breath_and_chime_plans():
    n = plan("noise", lowpass=Curve([(0, 4000.0), (60, 800.0)]), mod_depth=0.5)
    assert n.noise_carrier and n.broadband and n.band == (200.0, np.inf)
    assert float(n.cutoff.evaluate(np.array([60.0]))[0]) == 800.0
    assert "lowpass" in n.colour_params and float(n.rate.values[0]) == 16.0
    b = plan("breath", root=110.0, detune_cents=4.0)
    fl = sorted(round(float(q.freq(T)[0]), 3) for q in b.partials if q.ear == 0)
    up = 2 ** (4 / 2400)
    assert fl == [round(110 * k * up, 3) for k in (1.0, 1.5, 2.0, 2.5)]
    assert [round(w, 2) for _, _, w in b.envelope_bands] == [0.5, 0.7, 0.85, 1.0]
    c = plan("chime", times=["10s", "20s", "30s"], pitches=[300.0, 500.0, 300.0])
    strikes = {round(float(q.freq(T)[0])): q.strikes_s for q in c.partials if q.ear == 0}
    assert strikes == {300: (10.0, 30.0), 500: (20.0,)}


RECIPE = textwrap.dedent("""
    title = "plans"
    sample_rate = 8000
    fade_in = "1s"
    fade_out = "1s"
    temperature = {start = 1.0}
    [[phase]]
    name = "hot"
    duration = "20s"
    temperature = "hold"
    [[phase]]
    name = "cool"
    duration = "100s"
    temperature = {to = 0.2}
    [[layer]]
    name = "pad"
    kind = "noise"
    lowpass = {temperature = "600..3000 Hz"}
    gain = {temperature = "-30..-20 dB"}
    level = {hot = 1.0, cool = 0.5, glide = "10s"}
    """)


def test_session_keeps_gain_level_and_cooling_spans(tmp_path):
    p = tmp_path / "plans.toml"
    p.write_text(RECIPE)
    s = build_session(load_recipe(p))
    assert s.cooling_spans == [(20.0, 120.0, "cool")]
    pad = s.layers[0]
    assert pad.bound == frozenset({"gain", "lowpass"})
    # gain -20 dB at temperature 1, level 1 then 0.5 (-6.02 dB) after the glide
    assert pad.level_db(np.array([5.0]))[0] == pytest.approx(-20.0)
    assert pad.level_db(np.array([119.0]))[0] < -26.0
    kinds = {t.kind for t in targets_from_session(s)}
    assert {"loudness_trend", "centroid_trend"} <= kinds


#: carrier offset of the second pair: its right ear is 0.5 Hz from the first pair's
D = 1.5


def _pair_build(params, ctx):
    """Two binaural pairs: carrier (beat) and carrier + D (beat + 2 Hz)."""
    c, b = float(params["carrier"].values[0]), float(params["beat"].values[0])
    return Channels([Sine(c + b / 2) * 0.5 + Sine(c + D + (b + 2) / 2) * 0.5,
                     Sine(c - b / 2) * 0.5 + Sine(c + D - (b + 2) / 2) * 0.5])


def _pair_plan(params, ctx):
    c, b = float(params["carrier"].values[0]), float(params["beat"].values[0])

    def at(f):
        return lambda t: np.full(np.shape(t), f)
    parts = [Partial(0, at(c + b / 2), 0.5), Partial(1, at(c - b / 2), 0.5),
             Partial(0, at(c + D + (b + 2) / 2), 0.5, "partial"),
             Partial(1, at(c + D - (b + 2) / 2), 0.5, "partial")]
    return LayerPlan(partials=parts, tonal_ranges=[(c - 10, c + 14)], carrier=params["carrier"])


def _pair_targets(params, ctx):
    return [{"kind": "binaural_beat", "start_s": 2.0, "end_s": 18.0,
             "expected": float(params["beat"].values[0]), "tolerance": 0.02}]


@pytest.fixture
def pair_kind():
    register(LayerKind("test_pair", "two close pairs", {
        "carrier": ParamInfo("hz", 300.0, "carrier"), "beat": ParamInfo("hz", 6.0, "beat")},
        _pair_build, _pair_targets, _pair_plan))
    yield
    del LAYER_KINDS["test_pair"]


def test_a_new_kind_is_verified_through_its_plan(pair_kind, tmp_path):
    """check knows nothing of the kind: the planned partials are fitted together (the
    second pair's right ear is 0.5 Hz from the first's) and the beat reads 6 Hz; without
    planned partials check picks peaks and reads 8.5 Hz (measured)."""
    p = tmp_path / "pair.toml"
    p.write_text(textwrap.dedent("""
        sample_rate = 8000
        fade_in = "1s"
        fade_out = "1s"
        [[phase]]
        name = "one"
        duration = "20s"
        [[layer]]
        name = "pair"
        kind = "test_pair"
        """))
    out = tmp_path / "pair.wav"
    render_recipe(p, out, normalize=False, bits="32f")
    rep = check_file(out)
    beat = next(r for r in rep.results if r.target.kind == "binaural_beat")
    assert beat.passed and abs(beat.measured - 6.0) < 0.005, beat.detail
    assert "least-squares" in beat.detail["method"]
