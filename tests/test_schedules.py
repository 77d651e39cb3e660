"""Known-answer and property tests for resonator.session.schedules."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from resonator.errors import RecipeError
from resonator.session.schedules import (
    SCHEDULES,
    bind,
    progress_of,
    schedule_curve,
    segments_to_function,
)

X = np.linspace(0.0, 1.0, 1001)
ENDS = [(1.0, 0.0), (0.0, 1.0), (0.8, 0.2), (0.2, 0.9), (1.0, 0.05), (0.3, 0.0)]


# ------------------------------------------------------------------------------ end points
@pytest.mark.parametrize("kind", SCHEDULES)
@pytest.mark.parametrize("t0, t1", ENDS)
def test_ends_exact_and_monotonic(kind, t0, t1):
    T = schedule_curve(kind, X, t0, t1)
    assert T.shape == X.shape
    assert T[0] == t0 and T[-1] == t1  # exact, not approximate
    d = np.diff(T) * np.sign(t1 - t0)
    if kind == "stepped":
        assert np.all(d >= 0)
    else:
        assert np.all(d > 0)
    assert np.all((T >= min(t0, t1)) & (T <= max(t0, t1)))


@pytest.mark.parametrize("kind", SCHEDULES)
def test_equal_ends_give_a_constant(kind):
    assert np.all(schedule_curve(kind, X, 0.4, 0.4) == 0.4)


def test_progress_outside_the_segment_is_clipped():
    T = schedule_curve("cosine", [-1.0, 0.0, 1.0, 2.0], 1.0, 0.0)
    assert T.tolist() == [1.0, 1.0, 0.0, 0.0]


def test_scalar_progress():
    assert float(schedule_curve("linear", 0.25, 1.0, 0.0)) == 0.75


# ------------------------------------------------------------------------------ closed forms
def test_linear_and_cosine_values():
    assert schedule_curve("linear", 0.3, 1.0, 0.5) == pytest.approx(0.85, abs=1e-15)
    # half cosine: (1 - cos(pi/3)) / 2 = 1/4 of the way at x = 1/3
    assert schedule_curve("cosine", 1 / 3, 1.0, 0.0) == pytest.approx(0.75, abs=1e-15)
    assert schedule_curve("cosine", 0.5, 0.9, 0.1) == pytest.approx(0.5, abs=1e-15)


@pytest.mark.parametrize("t0, t1", [(1.0, 0.01), (0.8, 0.2), (0.05, 0.9)])
def test_exponential_is_geometric(t0, t1):
    assert schedule_curve("exponential", 0.5, t0, t1) == pytest.approx(math.sqrt(t0 * t1),
                                                                         rel=1e-12)
    T = schedule_curve("exponential", X, t0, t1)
    np.testing.assert_allclose(T, t0 * (t1 / t0) ** X, rtol=1e-12)
    # geometric: equal steps of x multiply by the same factor a = (t1/t0)^(1/N)
    k = schedule_curve("exponential", np.arange(11) / 10, t0, t1)
    np.testing.assert_allclose(k[1:] / k[:-1], (t1 / t0) ** 0.1, rtol=1e-12)


def test_exponential_to_zero_uses_the_floor_shape():
    # shape of 1 -> 1e-3 geometric, rescaled so that it ends exactly at 0
    T = schedule_curve("exponential", X, 1.0, 0.0, floor=1e-3)
    g = 1e-3 ** X
    np.testing.assert_allclose(T, (g - 1e-3) / (1 - 1e-3), atol=1e-14)
    # heating from 0 is the time-reverse of cooling to 0
    H = schedule_curve("exponential", X, 0.0, 1.0, floor=1e-3)
    np.testing.assert_allclose(H, T[::-1], atol=1e-14)
    # the floor scales with the non-zero end: 0.5 -> 0 is 1 -> 0 halved
    np.testing.assert_allclose(schedule_curve("exponential", X, 0.5, 0.0), T / 2, atol=1e-15)


@pytest.mark.parametrize("t0, t1", [(1.0, 0.1), (0.8, 0.2), (0.2, 0.6)])
def test_lundy_mees_closed_form(t0, t1):
    assert schedule_curve("lundy-mees", 0.5, t0, t1) == pytest.approx(
        1 / (1 / t0 + 0.5 * (1 / t1 - 1 / t0)), rel=1e-12)
    T = schedule_curve("lundy-mees", X, t0, t1)
    np.testing.assert_allclose(1 / T, 1 / t0 + X * (1 / t1 - 1 / t0), rtol=1e-12)


def test_lundy_mees_to_zero_uses_the_floor_shape():
    T = schedule_curve("lundy-mees", X, 1.0, 0.0, floor=0.01)
    g = 1 / (1 + X * (1 / 0.01 - 1))
    np.testing.assert_allclose(T, (g - 0.01) / (1 - 0.01), atol=1e-14)


def test_logarithmic_closed_form():
    steps, offset = 10.0, 1.0
    T = schedule_curve("logarithmic", X, 1.0, 0.0, steps=steps, offset=offset)
    c = 1 / np.log1p(offset + steps * X)
    expected = (c - c[-1]) / (c[0] - c[-1])
    np.testing.assert_allclose(T, expected, atol=1e-14)
    # first tenth of the segment does about half the cooling: k = 1 -> 2
    a, b, m = 1 / math.log(2), 1 / math.log(12), 1 / math.log(3)
    assert schedule_curve("logarithmic", 0.1, 1.0, 0.0) == pytest.approx((m - b) / (a - b),
                                                                            rel=1e-12)
    # heating runs the cooling curve backwards in time
    H = schedule_curve("logarithmic", X, 0.0, 1.0)
    np.testing.assert_allclose(H, T[::-1], atol=1e-14)


def test_sigmoid_symmetric_and_normalised():
    T = schedule_curve("sigmoid", X, 1.0, 0.0, steepness=10)
    np.testing.assert_allclose(T + T[::-1], 1.0, atol=1e-14)
    L = 1 / (1 + np.exp(-10 * (X - 0.5)))
    np.testing.assert_allclose(1 - T, (L - L[0]) / (L[-1] - L[0]), atol=1e-14)


# ------------------------------------------------------------------------------ stepped
def _plateaus(T):
    """Number of runs of at least two equal consecutive samples."""
    same = np.concatenate([[False], np.diff(T) == 0, [False]])
    starts = np.flatnonzero(~same[:-1] & same[1:])
    return len(starts)


@pytest.mark.parametrize("n", [2, 3, 5, 8])
@pytest.mark.parametrize("spacing", ["linear", "exponential"])
def test_stepped_plateaus(n, spacing):
    x = np.linspace(0, 1, 100001)
    T = schedule_curve("stepped", x, 1.0, 0.1, steps=n, spacing=spacing, smooth=0.2)
    assert _plateaus(T) == n
    centres = schedule_curve("stepped", (np.arange(n) + 0.5) / n, 1.0, 0.1, steps=n,
                             spacing=spacing, smooth=0.2)
    k = np.arange(n) / (n - 1)
    expected = 1.0 + (0.1 - 1.0) * k if spacing == "linear" else 1.0 * 0.1 ** k
    np.testing.assert_allclose(centres, expected, rtol=1e-12)
    assert len(np.unique(centres)) == n


def test_stepped_ramps_are_cosine_and_bounded():
    n, smooth = 4, 0.2
    x = np.linspace(0, 1, 100001)
    T = schedule_curve("stepped", x, 1.0, 0.0, steps=n, smooth=smooth)
    step, width = 1 / 3, smooth / n
    # steepest point of a half-cosine ramp of height `step` over `width`: pi/2 * step / width
    assert np.max(np.abs(np.diff(T))) <= math.pi / 2 * step / width * (x[1] - x[0]) * 1.0001
    # the ramp between plateau 0 and 1 is centred on x = 1/4 and is half way there
    assert schedule_curve("stepped", 0.25, 1.0, 0.0, steps=n, smooth=smooth) == pytest.approx(
        1 - step / 2, abs=1e-12)
    # flat before the ramp starts
    assert schedule_curve("stepped", 0.25 - width / 2, 1.0, 0.0, steps=n, smooth=smooth) == 1.0


def test_stepped_smooth_one_leaves_no_flat_part():
    x = np.linspace(0, 1, 4001)[1:-1]
    T = schedule_curve("stepped", x, 1.0, 0.0, steps=4, smooth=1.0)
    interior = T[(x > 1 / 8 + 1e-3) & (x < 7 / 8 - 1e-3)]
    assert np.all(np.diff(interior) < 0)


# ------------------------------------------------------------------------------ properties
_kinds = st.sampled_from(SCHEDULES)
_temps = st.floats(0.0, 1.0)


@settings(max_examples=150, deadline=None)
@given(kind=_kinds, t0=_temps, t1=_temps, steep=st.floats(0.5, 30), steps=st.integers(2, 12),
       smooth=st.floats(0.01, 1.0))
def test_monotonic_property(kind, t0, t1, steep, steps, smooth):
    params = {"sigmoid": {"steepness": steep},
              "stepped": {"steps": steps, "smooth": smooth},
              "logarithmic": {"steps": float(steps)}}.get(kind, {})
    x = np.linspace(0, 1, 257)
    T = schedule_curve(kind, x, t0, t1, **params)
    assert T[0] == t0 and T[-1] == t1
    d = np.diff(T) * (1 if t1 >= t0 else -1)
    assert np.all(d >= -1e-15)  # monotonic up to float rounding (ends one ulp apart)
    if kind != "stepped" and abs(t1 - t0) >= 0.01:
        assert np.all(d > 0)
    assert np.all((T >= min(t0, t1)) & (T <= max(t0, t1)))


@settings(max_examples=100, deadline=None)
@given(kind=_kinds, t0=_temps, t1=_temps, xs=st.lists(st.floats(0, 1), min_size=2,
                                                      max_size=20))
def test_monotonic_in_arbitrary_sample_order(kind, t0, t1, xs):
    x = np.array(xs)
    T = schedule_curve(kind, x, t0, t1)
    order = np.argsort(x, kind="stable")
    d = np.diff(T[order]) * (1 if t1 >= t0 else -1)
    assert np.all(d >= -1e-15)


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("call, match", [
    (lambda: schedule_curve("geometric", X, 1, 0), 'not a schedule; allowed are linear'),
    (lambda: schedule_curve("cosin", X, 1, 0), "did you mean 'cosine'"),
    (lambda: schedule_curve("linear", X, 1.5, 0), "t_start must be a temperature from 0 to 1"),
    (lambda: schedule_curve("linear", X, 1, -0.1), "t_end must be a temperature"),
    (lambda: schedule_curve("linear", X, 1, 0, floor=0.1), '"floor" is not a parameter'),
    (lambda: schedule_curve("sigmoid", X, 1, 0, steepnes=3), "did you mean 'steepness'"),
    (lambda: schedule_curve("sigmoid", X, 1, 0, steepness=0), "steepness must be a number"),
    (lambda: schedule_curve("stepped", X, 1, 0, steps=1), "steps must be a whole number"),
    (lambda: schedule_curve("stepped", X, 1, 0, steps=2.5), "steps must be a whole number"),
    (lambda: schedule_curve("stepped", X, 1, 0, smooth=0), "smooth must be a number"),
    (lambda: schedule_curve("stepped", X, 1, 0, spacing="log"), "not a plateau spacing"),
    (lambda: schedule_curve("exponential", X, 1, 0, floor=0), "floor must be"),
    (lambda: schedule_curve("linear", [0.0, math.nan], 1, 0), "progress must be finite"),
])
def test_errors(call, match):
    with pytest.raises(RecipeError, match=match):
        call()


def test_errors_carry_where():
    with pytest.raises(RecipeError) as e:
        schedule_curve("nope", X, 1, 0, where="a.toml:4")
    assert e.value.where == "a.toml:4"


# ------------------------------------------------------------------------------ time
def test_progress_of():
    np.testing.assert_array_equal(progress_of([0, 10, 15, 20, 30], 10, 20),
                                  [0, 0, 0.5, 1, 1])
    np.testing.assert_array_equal(progress_of([9, 10, 11], 10, 10), [0, 1, 1])
    with pytest.raises(RecipeError):
        progress_of([0], 20, 10)


SESSION = [
    {"start_s": 0, "end_s": 60, "kind": "hold", "t_start": 1.0},
    {"start_s": 60, "end_s": 660, "kind": "exponential", "t_start": 1.0, "t_end": 0.1},
    {"start_s": 660, "end_s": 960, "kind": "stepped", "t_start": 0.1, "t_end": 0.0,
     "params": {"steps": 3, "ramp_s": 10}},
    {"start_s": 960, "end_s": 1200, "kind": "cosine", "t_start": 0.0, "t_end": 0.5},
]


def test_segments_to_function_values():
    f = segments_to_function(SESSION)
    t = np.array([-5, 0, 30, 60, 360, 660, 700, 810, 960, 1080, 1200, 2000])
    T = f(t)
    assert T[:4].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert T[4] == pytest.approx(math.sqrt(0.1), rel=1e-12)   # geometric midpoint
    assert T[5] == 0.1 and T[6] == 0.1                      # first plateau
    assert T[7] == pytest.approx(0.05, abs=1e-12)           # middle plateau
    assert T[8] == 0.0
    assert T[9] == pytest.approx(0.25, abs=1e-12)           # cosine half way
    assert T[10] == 0.5 and T[11] == 0.5                    # holds the last value after


def test_segments_to_function_never_jumps():
    f = segments_to_function(SESSION)
    t = np.arange(0, 1200, 0.01)
    T = f(t)
    # steepest part of the session: the stepped ramps of 10 s between plateaus 0.05 apart,
    # pi/2 * 0.05 / 10 per s (the exponential starts at ln(10)/600 = 0.0038 per s)
    assert np.max(np.abs(np.diff(T))) <= math.pi / 2 * 0.05 / 10 * 0.01 * 1.0001
    # and it is the same function sample by sample as segment by segment
    np.testing.assert_array_equal(f(t[::7]), T[::7])


def test_segments_ramp_s_sets_smooth():
    f = segments_to_function([SESSION[2]])
    # ramp of 10 s centred on the boundary at 760 s
    assert f(755.0) == 0.1
    assert f(760.0) == pytest.approx(0.075, abs=1e-12)
    assert f(765.0) == pytest.approx(0.05, abs=1e-12)
    assert 0.05 < f(762.0) < 0.075


@pytest.mark.parametrize("segments, match", [
    ([], "at least one segment"),
    ([{"start_s": 0, "end_s": 10, "kind": "linear", "t_start": 1}], 'no "t_end"'),
    ([{"start_s": 0, "end_s": 10, "kind": "linear", "t_start": 1, "t_end": 0, "colour": 1}],
     '"colour" is not a segment key'),
    ([{"start_s": 10, "end_s": 10, "kind": "hold", "t_start": 1}], "must end after it starts"),
    ([{"start_s": 0, "end_s": 10, "kind": "hold", "t_start": 1, "t_end": 0.5}],
     "t_end \\(0.5\\) must equal"),
    ([{"start_s": 0, "end_s": 10, "kind": "hold", "t_start": 1},
      {"start_s": 12, "end_s": 20, "kind": "hold", "t_start": 1}], "a gap"),
    ([{"start_s": 0, "end_s": 10, "kind": "hold", "t_start": 1},
      {"start_s": 8, "end_s": 20, "kind": "hold", "t_start": 1}], "an overlap"),
    ([{"start_s": 0, "end_s": 10, "kind": "hold", "t_start": 1},
      {"start_s": 10, "end_s": 20, "kind": "linear", "t_start": 0.5, "t_end": 0}],
     "must not jump"),
    ([{"start_s": 0, "end_s": 30, "kind": "stepped", "t_start": 1, "t_end": 0,
       "params": {"steps": 3, "ramp_s": 11}}], "ramp_s must be"),
    ([{"start_s": 0, "end_s": 30, "kind": "sigmoid", "t_start": 1, "t_end": 0,
       "params": {"steepness": 99}}], "steepness must be"),
])
def test_segments_errors(segments, match):
    with pytest.raises(RecipeError, match=match) as e:
        segments_to_function(segments, where="s.toml")
    assert e.value.where.startswith("s.toml")


# ------------------------------------------------------------------------------ bind
def test_bind_linear():
    T = np.array([0.0, 0.25, 1.0])
    np.testing.assert_array_equal(bind(T, 2.0, 10.0), [2.0, 4.0, 10.0])
    np.testing.assert_array_equal(bind(T, 10.0, 2.0), [10.0, 8.0, 2.0])


def test_bind_exponential():
    T = np.array([0.0, 0.5, 1.0])
    out = bind(T, 2.0, 8.0, mapping="exponential")
    assert out[0] == 2.0 and out[2] == 8.0
    assert out[1] == pytest.approx(4.0, rel=1e-14)   # geometric mean
    neg = bind(T, -2.0, -8.0, mapping="exponential")
    assert neg[1] == pytest.approx(-4.0, rel=1e-14)
    for lo, hi in [(0.0, 8.0), (-2.0, 8.0), (2.0, math.inf)]:
        with pytest.raises(RecipeError, match="same sign"):
            bind(T, lo, hi, mapping="exponential")


def test_bind_db():
    T = np.array([0.0, 0.5, 1.0])
    np.testing.assert_array_equal(bind(T, -30.0, -12.0, mapping="db"), [-30.0, -21.0, -12.0])
    fade = bind(T, -math.inf, -20.0, mapping="db")
    assert fade[0] == -math.inf and fade[1] == -70.0 and fade[2] == -20.0
    assert np.all(bind(T, -math.inf, -math.inf, mapping="db") == -math.inf)


@given(st.floats(0, 1), st.floats(-100, 100), st.floats(-100, 100))
def test_bind_linear_stays_between_ends(T, lo, hi):
    v = float(bind(T, lo, hi))
    assert min(lo, hi) - 1e-12 <= v <= max(lo, hi) + 1e-12


def test_bind_errors():
    with pytest.raises(RecipeError, match="from 0 to 1"):
        bind([1.5], 0.0, 1.0)
    with pytest.raises(RecipeError, match="did you mean 'exponential'"):
        bind([0.5], 1.0, 2.0, mapping="exponentail")
