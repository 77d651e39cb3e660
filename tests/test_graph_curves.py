"""Known-answer tests for automation curves: values, exact integrals, glides, errors."""
import math

import numpy as np
import pytest
from scipy import integrate

from resonator.errors import GraphError
from resonator.graph import Curve, Sine, glide
from resonator.render import render_array

SHAPES = ["step", "linear", "exp", "db", "cos", "smooth", "curve:4", "curve:-3"]


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")  # float32 values
@pytest.mark.parametrize("shape", SHAPES)
def test_integral_matches_quadrature(shape):
    c = Curve([(1.0, 2.0), (4.0, 8.0, shape), (6.0, 3.0, shape)])
    for t in [0.5, 1.0, 2.2, 4.0, 5.3, 6.0, 9.0]:
        # integrate piecewise so quad never straddles a step
        edges = [0.0] + [e for e in (1.0, 4.0, 6.0) if e < t] + [t]
        num = sum(integrate.quad(lambda s: float(c.evaluate(np.array([s]))[0]), a, b,
                                 epsabs=1e-9, epsrel=1e-9)[0] for a, b in zip(edges, edges[1:]))
        # the integral is float64-exact; evaluate() (integrated here) uses float32 transcendentals
        assert float(c.integral(t)) == pytest.approx(num, rel=1e-7, abs=1e-7)


def test_closed_form_values_at_midpoint():
    x = 0.5
    cases = {
        "linear": 2 + 6 * x,
        "exp": 2 * 4**x,
        "db": 2 * 4**x,
        "cos": 2 + 6 * (1 - math.cos(math.pi * x)) / 2,
        "smooth": 2 + 6 * (3 * x * x - 2 * x**3),
        "curve:4": 2 + 6 * math.expm1(4 * x) / math.expm1(4),
        "step": 2.0,
    }
    for shape, want in cases.items():
        c = Curve([(0, 2.0), (2, 8.0, shape)])
        assert float(c.evaluate(1.0)) == pytest.approx(want, rel=2e-7), shape  # float32 transcendental
        assert float(c.evaluate(2.0)) == 8.0
        assert float(c.evaluate(-1.0)) == 2.0 and float(c.evaluate(99.0)) == 8.0


def test_glide_integral_is_exact():
    g = glide(10.0, 20.0, 20.0)
    assert float(g.integral(20.0)) == pytest.approx(300.0, abs=1e-12)  # 20 s * mean 15 Hz
    assert float(g.integral(30.0)) == pytest.approx(500.0, abs=1e-12)  # then 20 Hz held


def test_gliding_sine_sweeps_exactly_10_to_20_hz():
    """The peer bug: phase = 2 pi f(t) t sweeps 10 -> 30 Hz. Ours must stay within 10..20."""
    sr = 2000
    g = glide(10.0, 20.0, 20.0)
    x = render_array(Sine(g), 25.0, sr=sr)[0]
    from scipy.signal import hilbert

    inst = np.diff(np.unwrap(np.angle(hilbert(x)))) * sr / (2 * np.pi)
    t = (np.arange(len(inst)) + 0.5) / sr
    core = (t > 2) & (t < 23)  # away from Hilbert edge effects
    expected = np.where(t < 20, 10 + t / 2, 20.0)
    assert np.max(np.abs(inst[core] - expected[core])) < 0.1
    assert inst[core].max() < 20.1  # the peer bug reaches 30 Hz


def test_affine_algebra_keeps_a_curve():
    c = Curve([(0, 1.0), (10, 3.0, "cos")])
    d = 200 + 0.5 * c
    assert isinstance(d, Curve)
    assert float(d.integral(10.0)) == pytest.approx(2000 + 0.5 * float(c.integral(10.0)))


@pytest.mark.parametrize(
    "points, message",
    [
        ([(0, 1), (-1, 2)], "must not decrease"),
        ([(0, 1), (1, -1, "exp")], "same sign"),
        ([(0, 1), (1, 2, "wobbly")], "unknown curve shape"),
        ([], "at least one"),
        ([(0, float("nan"))], "finite"),
    ],
)
def test_bad_curves_raise_clear_errors(points, message):
    with pytest.raises(GraphError, match=message):
        Curve(points)


def test_sample_curve_follows_a_smooth_function_and_collapses_holds():
    from resonator.graph.curves import sample_curve

    f = lambda t: np.where(t < 100, 5.0, 5.0 + 3.0 * np.sin(2 * np.pi * (t - 100) / 400))
    c = sample_curve(f, 0.0, 500.0, extra=[100.0])
    t = np.linspace(0, 500, 200001)
    assert np.max(np.abs(c.evaluate(t) - f(t))) < 1e-4 * 3  # second-order in the 0.25 s step
    assert len(c.t) < 0.75 * 2001  # the 100 s hold costs two points, not 400
    assert np.sum(c.t < 99.0) <= 2
    # its integral is exact for the curve and close to the function's
    assert float(c.integral(500.0)) == pytest.approx(5 * 500.0, abs=1e-3)


def test_db_gain_of_a_curve_is_an_amplitude_curve():
    from resonator.graph import DbToAmp

    db = Curve([(0, -40.0), (10, -6.0, "cos"), (20, -6.0)])
    amp = DbToAmp(db)
    assert isinstance(amp, Curve)
    t = np.linspace(0, 25, 10001)
    assert np.max(np.abs(amp.evaluate(t) / 10 ** (db.evaluate(t) / 20) - 1)) < 1e-4


def test_block_kernel_equals_evaluate_and_ignores_block_split():
    """Rendered blocks (anchored transcendentals) agree with evaluate() to float64 rounding and
    are bit-identical for any block split and window."""
    c = Curve([(0, 0.0), (1, 1.0, "cos"), (2, 1.0), (3, 0.0, "db"), (4, 0.0, "db"),
               (5, 0.5, "db"), (6, 2.0, "exp"), (7, -1.0, "smooth"), (8, 3.0, "curve:2.5"),
               (9, 1.0, "curve:-3"), (9, 4.0, "step"), (10, 2.0, "step"), (11, 5, "linear")])
    sr = 8000
    a = render_array(c, 12.0, sr=sr, block_frames=4096)
    want = c.evaluate(np.arange(a.shape[1]) / sr)
    assert np.max(np.abs(a[0] - want)) <= 1e-12
    assert a[0, 3 * sr] == 0.0 and a[0, 4 * sr] == 0.0  # db segments start on their values
    for bf in (1, 127, 1000, 65536):
        assert np.array_equal(render_array(c, 12.0, sr=sr, block_frames=bf), a)
    w = render_array(c, 3.0, sr=sr, start_s=4.3, block_frames=1000)
    i = round(4.3 * sr)
    assert np.array_equal(w, a[:, i:i + w.shape[1]])


def test_long_curves_take_the_vectorised_path_with_the_same_numbers():
    """A long point list (the fast path) gives the integral a point-by-point sum of the
    closed forms gives, bit for bit, and the same errors as a short one."""
    rng = np.random.default_rng(5)
    t = np.cumsum(rng.random(400) * (rng.random(400) > 0.1))
    v = rng.random(400) + 0.2
    shapes = ["linear", "step", "cos", "exp", "db", "smooth", "curve:2"]
    pts = [(float(a), float(b), shapes[i % len(shapes)]) for i, (a, b) in enumerate(zip(t, v))]
    c = Curve(pts)
    want = [0.0]
    for k in range(1, len(pts)):
        d = t[k] - t[k - 1]
        v0, v1, kind = v[k - 1], v[k], shapes[k % len(shapes)]
        if d == 0:
            f = 0.0
        elif kind == "step":
            f = v0 * d
        elif kind == "linear":
            f = (v0 + (v1 - v0) * 0.5) * d
        else:
            f = float(c._segment_integral(k, np.array([1.0]))[0])
        want.append(want[-1] + f)
    assert np.array_equal(c.cum, np.array(want))
    bad = pts[:]
    bad[300] = (float(t[300]), 0.0, "exp")
    with pytest.raises(GraphError, match="curve point 300: an exp segment"):
        Curve(bad)
    bad[300] = (float(t[299]) - 1.0, 1.0)
    with pytest.raises(GraphError, match="curve point 300: time .* earlier"):
        Curve(bad)


@pytest.mark.parametrize("shape", SHAPES)
def test_the_integral_of_a_block_is_the_integral_of_each_time(shape):
    """The kernel integrates a block's ascending times segment run by segment run; each value
    is the one the same time gets alone, in any order (bit for bit), NaN times stay NaN."""
    c = Curve([(0.5, 2.0), (1.0, 7.0, shape), (1.0, 3.0), (2.5, 5.0, shape), (4.0, 1.0)])
    t = np.arange(-24000, 5 * 48000) / 48000.0  # before, across and after the points
    whole = c.integral(t)
    alone = np.array([c.integral(np.array([x]))[0] for x in t[::997]])
    assert np.array_equal(whole[::997], alone)
    order = np.random.default_rng(1).permutation(t.size)
    assert np.array_equal(c.integral(t[order]), whole[order])
    t[5] = np.nan
    got = c.integral(t)
    assert np.isnan(got[5]) and np.array_equal(got[6:], whole[6:])
