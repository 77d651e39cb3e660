"""Known-answer tests for resonator.session.breath."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from resonator.errors import RecipeError
from resonator.session.breath import (
    BREATH_PATTERNS,
    BreathTimeline,
    breath_pattern,
    timeline,
    timeline_varying,
    wim_hof_round_s,
)
from resonator.session.schedules import bind, segments_to_function


def _phase_times(tl, kind):
    return tl.event_times(kind).tolist()


# ------------------------------------------------------------------------------ resonance
def test_resonance_six_per_minute():
    tl = timeline(breath_pattern("resonance"), 60)
    assert tl.cycle_s == 10.0
    assert tl.breaths_per_min == 6.0
    assert _phase_times(tl, "inhale") == [0, 10, 20, 30, 40, 50]
    assert _phase_times(tl, "exhale") == [5, 15, 25, 35, 45, 55]
    assert [length for _, length in tl.cycles] == [10.0] * 6
    assert tl.evaluate([0, 2.5, 5, 7.5, 10]).tolist() == pytest.approx([0, 0.5, 1, 0.5, 0],
                                                                        abs=1e-15)


def test_resonance_ratio_3_7():
    for ratio in ("3:7", 3 / 7):
        tl = timeline(breath_pattern("resonance", ratio=ratio), 30)
        assert _phase_times(tl, "inhale") == pytest.approx([0, 10, 20], abs=1e-12)
        assert _phase_times(tl, "exhale") == pytest.approx([3, 13, 23], abs=1e-12)
        ins = [t for t, v, s in tl.points if v == 1.0]
        assert ins[0] == pytest.approx(3.0, abs=1e-12)


def test_resonance_rate_strings_and_start():
    tl = timeline(breath_pattern("resonance", rate_per_min="5 bpm", ratio="2:3"), "1m",
                  start_s=100)
    assert tl.cycle_s == pytest.approx(12.0)
    assert _phase_times(tl, "inhale") == pytest.approx([100, 112, 124, 136, 148])
    assert _phase_times(tl, "exhale") == pytest.approx([104.8, 116.8, 128.8, 140.8, 152.8])
    assert tl.points[0] == (100.0, 0.0, "hold")
    assert tl.evaluate(50.0) == 0.0  # before the start: the first value


def test_coherent():
    tl = timeline("coherent", 60)
    assert tl.cycle_s == 12.0
    assert _phase_times(tl, "inhale") == [0, 12, 24, 36, 48]
    assert _phase_times(tl, "exhale") == [6, 18, 30, 42, 54]


# ------------------------------------------------------------------------------ holds
def test_box_event_times():
    tl = timeline(breath_pattern("box"), 32)
    assert tl.events == [
        (0.0, "inhale"), (4.0, "hold-full"), (8.0, "exhale"), (12.0, "hold-empty"),
        (16.0, "inhale"), (20.0, "hold-full"), (24.0, "exhale"), (28.0, "hold-empty"),
    ]
    assert tl.cycle_s == 16.0
    assert tl.evaluate([4, 6, 8, 12, 14, 16]).tolist() == [1, 1, 1, 0, 0, 0]


def test_box_side():
    tl = timeline(breath_pattern("box", side_s="5s"), 20)
    assert tl.cycle_s == 20.0
    assert _phase_times(tl, "hold-empty") == [15.0]


def test_4_7_8_times():
    tl = timeline(breath_pattern("4-7-8"), 38)
    assert tl.events == [
        (0.0, "inhale"), (4.0, "hold-full"), (11.0, "exhale"),
        (19.0, "inhale"), (23.0, "hold-full"), (30.0, "exhale"),
    ]
    assert tl.cycle_s == 19.0
    assert tl.evaluate([2, 4, 11, 15, 19]).tolist() == pytest.approx([0.5, 1, 1, 0.5, 0],
                                                                     abs=1e-15)
    slow = timeline(breath_pattern("4-7-8", count_s=1.5), 28.5)
    assert _phase_times(slow, "exhale") == [16.5]
    assert slow.cycle_s == 28.5


def test_cyclic_sighing_double_inhale():
    p = breath_pattern("cyclic-sighing")
    assert p.cycle_s == 9.0
    tl = timeline(p, 18)
    assert tl.events == [
        (0.0, "inhale"), (2.0, "inhale"), (3.0, "exhale"),
        (9.0, "inhale"), (11.0, "inhale"), (12.0, "exhale"),
    ]
    assert tl.evaluate([1.0, 2.0, 2.5, 3.0, 6.0, 9.0]).tolist() == pytest.approx(
        [0.4, 0.8, 0.9, 1.0, 0.5, 0.0], abs=1e-15)
    # exhale twice as long as the two inhales together
    assert p.params["out_s"] == 2 * (p.params["in_s"] + p.params["top_up_s"])


def test_custom_pattern_and_aliases():
    p = breath_pattern("custom", **{"in": "4s", "hold_in": 2, "out": 6, "hold_out": 0})
    q = breath_pattern("custom", in_s=4, hold_in_s=2, out_s=6)
    assert p == q
    tl = timeline(p, 24)
    assert tl.events == [(0.0, "inhale"), (4.0, "hold-full"), (6.0, "exhale"),
                         (12.0, "inhale"), (16.0, "hold-full"), (18.0, "exhale")]
    long_hold = breath_pattern("custom", in_s=5, out_s=5, hold_out_s="3min")
    assert long_hold.cycle_s == 190.0


# ------------------------------------------------------------------------------ wim hof
def test_wim_hof_round_closed_form():
    p = breath_pattern("wim-hof")
    q = p.params
    round_s = 30 * (1.5 + 1.5) + 90 + 2 + 15 + 2
    assert wim_hof_round_s(p) == round_s == 199.0
    assert p.intro_s == pytest.approx(3 * round_s)
    tl = timeline(p, 3 * round_s)
    inhales = tl.event_times("inhale")
    assert len(inhales) == 3 * (q["breaths"] + 1)              # power breaths + recovery
    holds = tl.event_times("hold-empty")
    np.testing.assert_allclose(holds, [90, 90 + round_s, 90 + 2 * round_s], atol=1e-9)
    full = tl.event_times("hold-full")
    np.testing.assert_allclose(full, holds + 90 + 2, atol=1e-9)
    # each round begins exactly one round after the previous
    np.testing.assert_allclose(inhales[[0, 31, 62]], [0, round_s, 2 * round_s], atol=1e-9)
    assert tl.points[-1][0] == pytest.approx(3 * round_s)


def test_wim_hof_custom_round_and_after():
    p = breath_pattern("wim-hof", breaths=40, in_s=2, out_s=1, hold_s="2min", rounds=4,
                       recovery_in_s=3, recovery_hold_s=20, recovery_out_s=4)
    round_s = 40 * (2 + 1) + 120 + 3 + 20 + 4
    assert wim_hof_round_s(p) == round_s
    after = 4 * round_s
    tl = timeline(p, after + 60)
    # after the last round: calm resonance breathing at 6/min
    calm = [t for t in tl.event_times("inhale") if t >= after - 1e-9]
    np.testing.assert_allclose(calm, after + np.arange(6) * 10.0, atol=1e-9)
    assert tl.evaluate(after + 5.0) == pytest.approx(1.0)


def test_wim_hof_cycles_include_retention():
    p = breath_pattern("wim-hof")
    tl = timeline(p, wim_hof_round_s(p))
    lengths = [length for _, length in tl.cycles]
    assert lengths[:29] == [3.0] * 29
    assert lengths[29] == 3.0 + 90.0            # last power breath, then the hold
    assert lengths[30] == 2.0 + 15.0 + 2.0      # recovery breath
    assert tl.cycle_s == pytest.approx(wim_hof_round_s(p) / 31)


# ------------------------------------------------------------------------------ shape
@pytest.mark.parametrize("name", [n for n in BREATH_PATTERNS if n != "custom"])
def test_values_in_range_and_continuous(name):
    tl = timeline(name, 600)
    t = np.arange(-1.0, 601.0, 0.001)
    b = tl.evaluate(t)
    assert np.all((b >= 0.0) & (b <= 1.0))
    # steepest raised-cosine move: pi/2 * (value change) / (phase length) per second
    times = np.array([p[0] for p in tl.points])
    values = np.array([p[1] for p in tl.points])
    slope = np.max(np.abs(np.diff(values)) / np.diff(times)) * math.pi / 2
    assert np.max(np.abs(np.diff(b))) <= slope * 0.001 * 1.0001
    assert np.max(np.abs(np.diff(b))) < 0.0011  # below 1/1000 of full scale per ms, or near


@pytest.mark.parametrize("name", BREATH_PATTERNS[:-1])
def test_points_are_well_formed(name):
    tl = timeline(name, 300)
    times = [p[0] for p in tl.points]
    assert all(b > a for a, b in zip(times, times[1:]))
    assert tl.points[0] == (0.0, 0.0, "hold")
    for (t0, v0, _), (t1, v1, shape) in zip(tl.points, tl.points[1:]):
        assert shape in ("cos", "hold")
        if shape == "hold":
            assert v0 == v1
    assert times[-1] >= 300  # the phase in progress is finished
    assert all(0 <= t < 300 for t, _ in tl.events)


def test_curve_points_format():
    tl = timeline("box", 16)
    cp = tl.curve_points()
    assert cp[0] == (0.0, 0.0)
    assert cp[1:] == [(4.0, 1.0, "cos"), (8.0, 1.0, "linear"), (12.0, 0.0, "cos"),
                      (16.0, 0.0, "linear")]
    assert tl.curve_points(hold_shape="step")[2] == (8.0, 1.0, "step")


def test_evaluate_is_raised_cosine():
    tl = timeline(breath_pattern("resonance", ratio="3:7"), 10)
    t = np.linspace(0, 3, 31)
    np.testing.assert_allclose(tl.evaluate(t), (1 - np.cos(np.pi * t / 3)) / 2, atol=1e-15)
    t = np.linspace(3, 10, 71)
    np.testing.assert_allclose(tl.evaluate(t), (1 + np.cos(np.pi * (t - 3) / 7)) / 2,
                               atol=1e-15)


def test_finishes_phase_in_progress():
    tl = timeline("resonance", 53)  # the inhale of the sixth breath runs 50..55
    assert tl.points[-1] == (55.0, 1.0, "cos")
    assert tl.end_s == 53.0
    assert len(tl.cycles) == 6


# ------------------------------------------------------------------------------ varying
def test_varying_constant_rate_matches_timeline():
    a = timeline_varying("resonance", 120, lambda t: 6.0)
    b = timeline("resonance", 120)
    assert a.points == b.points and a.events == b.events


def test_varying_cycle_lengths_follow_rate_fn():
    rate_fn = lambda t: 6.0 if t < 30 else 4.0  # noqa: E731
    tl = timeline_varying("resonance", 100, rate_fn)
    starts = [s for s, _ in tl.cycles]
    assert starts == pytest.approx([0, 10, 20, 30, 45, 60, 75, 90])
    for s, length in tl.cycles:
        assert length == pytest.approx(60.0 / rate_fn(s))


def test_varying_keeps_proportions():
    tl = timeline_varying(breath_pattern("resonance", ratio="3:7"), 40, lambda t: 3.0)
    assert _phase_times(tl, "exhale") == pytest.approx([6.0, 26.0])
    box = timeline_varying("box", 60, lambda t: 5.0)   # 12 s cycles, 3 s sides
    assert _phase_times(box, "hold-empty") == pytest.approx([9, 21, 33, 45, 57])


def test_varying_bound_to_cooling_temperature():
    temp = segments_to_function([{"start_s": 0, "end_s": 600, "kind": "linear",
                                  "t_start": 1.0, "t_end": 0.0}])
    rate_fn = lambda t: float(bind(temp(t), 4.5, 7.0))  # noqa: E731
    tl = timeline_varying("resonance", 600, rate_fn)
    lengths = np.array([length for _, length in tl.cycles])
    starts = np.array([s for s, _ in tl.cycles])
    np.testing.assert_allclose(lengths, 60.0 / (4.5 + 2.5 * (1 - starts / 600)), rtol=1e-12)
    assert np.all(np.diff(lengths) > 0)                     # pace slows while cooling
    np.testing.assert_allclose(starts[1:], starts[:-1] + lengths[:-1], rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.floats(2.0, 30.0), st.floats(2.0, 30.0))
def test_varying_property(r0, r1):
    rate_fn = lambda t: r0 + (r1 - r0) * min(t / 120.0, 1.0)  # noqa: E731
    tl = timeline_varying(breath_pattern("resonance", ratio="1:2"), 120, rate_fn)
    for (s, length), (s2, _) in zip(tl.cycles, tl.cycles[1:]):
        assert length == pytest.approx(60.0 / rate_fn(s), rel=1e-12)
        assert s2 == pytest.approx(s + length, rel=1e-12)
    b = tl.evaluate(np.linspace(0, 120, 12001))
    assert np.all((b >= 0) & (b <= 1))


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("call, match", [
    (lambda: breath_pattern("resonanse"), "did you mean 'resonance'"),
    (lambda: breath_pattern("yoga"), "not a breathing pattern; allowed are resonance"),
    (lambda: breath_pattern("resonance", rate_per_min=40),
     "rate_per_min must be from 2 to 30 breaths per minute"),
    (lambda: breath_pattern("resonance", rate_per_min="6 per hour"), "rate_per_min: "),
    (lambda: breath_pattern("resonance", ratio="1:9"), "ratio \\(inhale:exhale\\) must be"),
    (lambda: breath_pattern("resonance", ratio="3:0"), "ratio: "),
    (lambda: breath_pattern("resonance", rate=6), "did you mean 'ratio'|allowed are"),
    (lambda: breath_pattern("coherent", rate_per_min=6), "allowed are none"),
    (lambda: breath_pattern("box", side_s=30), "side_s must be at least 1 s and at most 20"),
    (lambda: breath_pattern("wim-hof", breaths=50), "breaths must be a whole number from 30"),
    (lambda: breath_pattern("wim-hof", rounds=2.5), "rounds must be a whole number from 3"),
    (lambda: breath_pattern("wim-hof", hold_s="30s"), "hold_s must be at least 60 s"),
    (lambda: breath_pattern("wim-hof", recovery_hold_s=25), "recovery_hold_s must be"),
    (lambda: breath_pattern("custom", in_s=4), "needs out_s"),
    (lambda: breath_pattern("custom", in_s=0, out_s=4), "in_s must be at least 0.5 s"),
    (lambda: breath_pattern("custom", in_s=4, out_s=4, hold_in_s="4m"), "hold_in_s must be"),
    (lambda: breath_pattern("custom", **{"in": 4, "in_s": 4, "out": 4}), 'either "in"'),
    (lambda: breath_pattern("cyclic-sighing", first_inhale_to=1.0), "first_inhale_to must"),
    (lambda: timeline("box", 0), "duration above 0"),
    (lambda: timeline("box", "ten minutes"), "is not a time"),
    (lambda: timeline_varying("wim-hof", 60, lambda t: 6), "fixed structure"),
    (lambda: timeline_varying("box", 60, lambda t: 45.0), "must be from 2 to 30"),
    (lambda: timeline_varying("box", 60, lambda t: math.nan), "must be from 2 to 30"),
])
def test_errors(call, match):
    with pytest.raises(RecipeError, match=match):
        call()


def test_errors_carry_where():
    with pytest.raises(RecipeError) as e:
        breath_pattern("box", side_s=0.1, where="r.toml: breath")
    assert e.value.where == "r.toml: breath"
    assert str(e.value).startswith("r.toml: breath: side_s")
    with pytest.raises(RecipeError) as e:
        timeline_varying("box", 60, lambda t: 99, where="w")
    assert e.value.where == "w"


def test_timeline_type_and_names():
    tl = timeline(breath_pattern("Wim_Hof"), 10)
    assert isinstance(tl, BreathTimeline) and tl.pattern == "wim-hof"
    assert breath_pattern("478").name == "4-7-8"
