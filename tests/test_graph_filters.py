"""Known-answer tests for resonator.graph.filters (RBJ biquads, Butterworth cascades, sweeps)."""
import math

import numpy as np
import pytest
import scipy.signal as ss

from resonator.errors import GraphError
from resonator.graph import Channels, Curve, Sine, WhiteNoise
from resonator.graph.filters import (
    GRID, BandPass, Filter, HighPass, HighShelf, LowPass, LowShelf, design_sos,
)
from resonator.render import render_array

SR = 48000


def rbj(kind, f0, q, gain_db, sr=SR):
    """Independent RBJ cookbook coefficients (b, a), written out from the cookbook."""
    A = 10 ** (gain_db / 40)
    w0 = 2 * math.pi * f0 / sr
    c, s = math.cos(w0), math.sin(w0)
    al = s / (2 * q)
    if kind == "lowpass":
        b, a = [(1 - c) / 2, 1 - c, (1 - c) / 2], [1 + al, -2 * c, 1 - al]
    elif kind == "highpass":
        b, a = [(1 + c) / 2, -(1 + c), (1 + c) / 2], [1 + al, -2 * c, 1 - al]
    elif kind == "bandpass":
        b, a = [al, 0, -al], [1 + al, -2 * c, 1 - al]
    elif kind == "peak":
        b, a = [1 + al * A, -2 * c, 1 - al * A], [1 + al / A, -2 * c, 1 - al / A]
    elif kind == "lowshelf":
        r = 2 * math.sqrt(A) * al
        b = [A * ((A + 1) - (A - 1) * c + r), 2 * A * ((A - 1) - (A + 1) * c), A * ((A + 1) - (A - 1) * c - r)]
        a = [(A + 1) + (A - 1) * c + r, -2 * ((A - 1) + (A + 1) * c), (A + 1) + (A - 1) * c - r]
    else:
        r = 2 * math.sqrt(A) * al
        b = [A * ((A + 1) + (A - 1) * c + r), -2 * A * ((A - 1) + (A + 1) * c), A * ((A + 1) + (A - 1) * c - r)]
        a = [(A + 1) - (A - 1) * c + r, 2 * ((A - 1) - (A + 1) * c), (A + 1) - (A - 1) * c - r]
    return np.array(b), np.array(a)


def measured_gain_db(make, freq_hz, seconds=0.6):
    """Steady-state gain of ``make(source)`` for a sine at freq_hz (least-squares fit)."""
    y = render_array(make(Sine(freq_hz)), seconds, sr=SR)[0]
    n = np.arange(y.size)[SR // 5:]
    w = 2 * np.pi * freq_hz * n / SR
    m = np.column_stack([np.sin(w), np.cos(w)])
    coef, *_ = np.linalg.lstsq(m, y[SR // 5:], rcond=None)
    return 20 * np.log10(np.hypot(*coef))


def butter_db(f, fc, order):
    """Exact magnitude of the bilinear Butterworth lowpass (prewarped at fc)."""
    r = math.tan(math.pi * f / SR) / math.tan(math.pi * fc / SR)
    return -10 * math.log10(1 + r ** (2 * order))


@pytest.mark.parametrize("kind,q,gain", [
    ("lowpass", 0.7071, 0), ("highpass", 2.0, 0), ("bandpass", 3.0, 0),
    ("peak", 1.5, 9.0), ("lowshelf", 0.7071, -12.0), ("highshelf", 0.9, 6.0),
])
def test_measured_response_matches_rbj(kind, q, gain):
    b, a = rbj(kind, 1000.0, q, gain)
    for f in (150.0, 1000.0, 3700.0):
        _, h = ss.freqz(b, a, worN=[f], fs=SR)
        got = measured_gain_db(lambda s: Filter(s, kind, 1000.0, q=q, gain_db=gain), f)
        assert got == pytest.approx(20 * np.log10(abs(h[0])), abs=1e-6)


def test_cookbook_landmarks():
    assert measured_gain_db(lambda s: Filter(s, "peak", 2000.0, q=2, gain_db=9.0), 2000.0) == pytest.approx(9.0, abs=1e-6)
    assert measured_gain_db(lambda s: LowShelf(s, 500.0, -12.0), 500.0) == pytest.approx(-6.0, abs=1e-6)
    assert measured_gain_db(lambda s: HighShelf(s, 500.0, 8.0), 500.0) == pytest.approx(4.0, abs=1e-6)
    assert measured_gain_db(lambda s: BandPass(s, 700.0, q=4), 700.0) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("order", [2, 4, 8])
def test_butterworth_minus_3db_at_cutoff_and_slope(order):
    fc = 1200.0
    lp = lambda s: LowPass(s, fc, order=order)
    # 0.7071 (the default q) is 1/sqrt(2) to 4 digits: -3.0103 dB within 1e-3 dB
    assert measured_gain_db(lp, fc) == pytest.approx(-3.0103, abs=2e-3)
    for f in (300.0, 2400.0, 4800.0):
        assert measured_gain_db(lp, f) == pytest.approx(butter_db(f, fc, order), abs=1e-3)
    hp = measured_gain_db(lambda s: HighPass(s, fc, order=order), fc)
    assert hp == pytest.approx(-3.0103, abs=2e-3)


def test_order4_is_scipy_butterworth_and_24db_per_octave():
    mine = design_sos("lowpass", 1000.0, SR, order=4)
    ref = ss.butter(4, 1000.0, fs=SR, output="sos")
    f = np.geomspace(20, 20000, 50)
    _, h1 = ss.sosfreqz(mine, worN=f, fs=SR)
    _, h2 = ss.sosfreqz(ref, worN=f, fs=SR)
    assert np.max(np.abs(np.abs(h1) - np.abs(h2))) < 1e-12
    # 24 dB per octave well above the cutoff and well below Nyquist (bilinear warping small)
    g1 = measured_gain_db(lambda s: LowPass(s, 100.0, order=4), 800.0)
    g2 = measured_gain_db(lambda s: LowPass(s, 100.0, order=4), 1600.0)
    assert g1 - g2 == pytest.approx(butter_db(800.0, 100.0, 4) - butter_db(1600.0, 100.0, 4), abs=1e-3)
    assert g1 - g2 == pytest.approx(24.0, abs=0.25)


def _blocks_agree(node, seconds=1.0):
    ref = render_array(node, seconds, sr=SR, block_frames=4096)
    for bf in (1000, 16384, 37):
        assert np.array_equal(render_array(node, seconds, sr=SR, block_frames=bf), ref)
    return ref


def test_static_block_size_invariance_and_window():
    node = HighPass(WhiteNoise(channels=2, name="n"), 300.0, order=6)
    full = _blocks_agree(node)
    start = 0.6
    w = render_array(node, 0.3, sr=SR, start_s=start, block_frames=1000)
    i = int(start * SR)
    assert node.warmup_frames < i
    assert np.max(np.abs(w - full[:, i:i + w.shape[1]])) < 1e-12


def test_swept_equals_grid_reference_and_block_invariance():
    cut = Curve([(0, 200.0), (1.0, 6000.0, "exp")])
    gain = Curve([(0, -12.0), (1.0, 12.0)])
    node = Filter(WhiteNoise(name="n"), "peak", cut, q=1.3, gain_db=gain)
    full = _blocks_agree(node)
    # reference: coefficients from the curve values at each multiple of 32, scipy sosfilt
    x = render_array(WhiteNoise(name="n"), 1.0, sr=SR)[0]
    zi = np.zeros((1, 2))
    ref = np.empty_like(x)
    for g in range(0, x.size, GRID):
        t = g / SR
        sos = design_sos("peak", cut.evaluate(np.array([t]))[0], SR, q=1.3,
                         gain_db=gain.evaluate(np.array([t]))[0])
        ref[g:g + GRID], zi = ss.sosfilt(sos, x[g:g + GRID], zi=zi)
    assert np.max(np.abs(full[0] - ref)) < 1e-12
    # a window that starts mid-grid and mid-block equals the full render after the warm-up
    start = 0.71
    w = render_array(node, 0.2, sr=SR, start_s=start, block_frames=1000)
    i = int(round(start * SR))
    assert np.max(np.abs(w - full[:, i:i + w.shape[1]])) < 1e-12


def test_node_driven_cutoff_per_channel():
    wobble = 1000.0 + 400.0 * Sine(3.0)          # an oscillator node: range unknown statically
    src = WhiteNoise(channels=2, name="n")
    node = LowPass(src, Channels([wobble, 2500.0]), order=4)
    full = _blocks_agree(node, 0.5)
    assert node.warmup_frames == 10 * SR          # unknown range: the documented cap
    right = render_array(LowPass(WhiteNoise(channels=2, name="n"), 2500.0, order=4), 0.5, sr=SR)
    assert np.max(np.abs(full[1] - right[1])) < 1e-15


def test_warmup_grows_for_low_cutoffs_and_is_capped():
    a = LowPass(WhiteNoise(), 1000.0); render_array(a, 0.01, sr=SR)
    b = LowPass(WhiteNoise(), 20.0); render_array(b, 0.01, sr=SR)
    c = LowPass(WhiteNoise(), 0.05); render_array(c, 0.01, sr=SR)
    assert 0 < a.warmup_frames < b.warmup_frames < c.warmup_frames == 10 * SR
    assert c.warmup_residual > 1e-17 and a.warmup_residual == 1e-17


@pytest.mark.parametrize("build,match", [
    (lambda s: LowPass(s, 24000.0), "Nyquist"),
    (lambda s: LowPass(s, Curve([(0, 1000.0), (1, 30000.0)])), "Nyquist"),
    (lambda s: LowPass(s, 0.0), "between 0"),
    (lambda s: BandPass(s, 1000.0, q=0.0), "greater than 0"),
    (lambda s: Filter(s, "peak", 1000.0, q=Curve([(0, 1.0), (1, -1.0)])), "greater than 0"),
])
def test_bad_values_raise_before_rendering(build, match):
    with pytest.raises(GraphError, match=match):
        render_array(build(Sine(100.0)), 0.1, sr=SR)


def test_bad_construction_raises():
    s = WhiteNoise(channels=2)
    with pytest.raises(GraphError, match="unknown filter kind"):
        Filter(s, "notch", 1000.0)
    with pytest.raises(GraphError, match="one channel"):
        Filter(s, "lowpass", [1000.0, 2000.0, 3000.0])
    with pytest.raises(GraphError, match="order"):
        Filter(s, "lowpass", 1000.0, order=3)
    with pytest.raises(GraphError, match="lowpass and highpass only"):
        Filter(s, "peak", 1000.0, order=4)
    with pytest.raises(GraphError, match="q cannot be set"):
        LowPass(s, 1000.0, q=2.0, order=4)


def test_stereo_filter_loop_equals_one_channel_at_a_time():
    """Two channels filtered in one interleaved loop give the bits of filtering each alone."""
    import numpy as np

    from resonator.graph import Channels, Curve, Noise, Select
    from resonator.graph.filters import Filter
    from resonator.render import render_array

    src = Noise("white", channels=2, name="st")
    for cutoff, order in ((1200.0, 4), (Curve([(0, 300.0), (1, 3000.0, "exp")]), 2)):
        both = render_array(Filter(src, "lowpass", cutoff, order=order), 1.0, sr=16000,
                            block_frames=999)
        for c in range(2):
            one = render_array(Filter(Select(src, [c]), "lowpass", cutoff, order=order), 1.0,
                               sr=16000, block_frames=999)
            assert np.array_equal(both[c], one[0])
