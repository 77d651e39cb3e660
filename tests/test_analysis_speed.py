"""Known answers for the analysis's speed paths: each equals the plain computation it replaced."""
import math

import numpy as np
import pytest

from resonator.kernels import beat_dp


def python_dp(score, period, tightness):
    """The beat tracker's dynamic programme as it was written in Python (numba) before."""
    n = score.size
    cum = np.zeros(n)
    back = np.full(n, -1, dtype=np.int64)
    for t in range(n):
        p = period[t]
        lo = max(t - int(math.ceil(2.0 * p)), 0)
        hi = t - int(math.floor(0.5 * p))
        best, arg = -1e300, -1
        for u in range(lo, min(hi, t - 1) + 1):
            r = math.log((t - u) / p)
            v = cum[u] - tightness * r * r
            if v > best:
                best, arg = v, u
        if arg >= 0 and best > 0.0:
            cum[t], back[t] = score[t] + best, arg
        else:
            cum[t] = score[t]
    return cum, back


@pytest.mark.parametrize("case", ["steady", "curve", "short period", "long period"])
def test_beat_dp_equals_the_python_programme_bit_for_bit(case):
    rng = np.random.default_rng(7)
    n = 1500
    score = rng.standard_normal(n)
    period = {"steady": np.full(n, 43.7), "curve": np.linspace(30.0, 60.0, n),
              "short period": np.full(n, 1.5), "long period": np.full(n, 900.0)}[case]
    cum, back = np.empty(n), np.empty(n, dtype=np.int64)
    beat_dp(score, period, 300.0, cum, back)
    ref_cum, ref_back = python_dp(score, period, 300.0)
    np.testing.assert_array_equal(back, ref_back)
    np.testing.assert_array_equal(cum.view(np.int64), ref_cum.view(np.int64))
    if case == "steady":  # beats chain back one period apart
        chain = [int(np.argmax(cum))]
        while back[chain[-1]] >= 0:
            chain.append(int(back[chain[-1]]))
        gaps = -np.diff(chain)
        assert len(chain) > 20 and np.all((gaps >= 22) & (gaps <= 88))


def test_beat_dp_refuses_mismatched_arrays():
    with pytest.raises(ValueError):
        beat_dp(np.zeros(5), np.ones(4), 1.0, np.empty(5), np.empty(5, dtype=np.int64))
    with pytest.raises(TypeError):
        beat_dp(np.zeros(5, np.float32), np.ones(5), 1.0, np.empty(5), np.empty(5, np.int64))


def test_analyze_loads_no_numba(tmp_path):
    import subprocess
    import sys

    import soundfile as sf

    sr = 22050
    x = 0.01 * np.random.default_rng(8).standard_normal(8 * sr)
    x[(np.arange(0, 8, 0.5) * sr).astype(int)] += 0.9
    sf.write(tmp_path / "clicks.wav", x, sr)
    code = ("import sys; from resonator.analysis import analyze_file; "
            f"r = analyze_file({str(tmp_path / 'clicks.wav')!r}); "
            "print(len(r['beats']), 'numba' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    beats, numba = out.stdout.split()
    assert int(beats) >= 12 and numba == "False"
