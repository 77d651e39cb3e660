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


def direct_true_peak(x):
    """The meter's 4x interpolator written out: every output whose whole span lies inside the
    signal (float64 convolutions), never below the sample peak."""
    from resonator.measure.loudness import _TP_H

    best = float(np.max(np.abs(x)))
    taps = _TP_H.shape[1]
    for ch in np.atleast_2d(x):
        for phase in _TP_H:
            y = np.convolve(ch, phase, mode="valid") if ch.size >= taps else np.zeros(0)
            best = max(best, float(np.max(np.abs(y), initial=0.0)))
    return best


def _signals():
    rng = np.random.default_rng(11)
    sr = 44100
    t = np.arange(3 * sr) / sr
    music = np.tanh(3 * rng.standard_normal((2, t.size)) * (0.3 + 0.7 * (np.sin(2 * np.pi * 2 * t) > 0)))
    music *= 0.9 / np.max(np.abs(music))
    # a quarter of the rate, 45 degrees off: every sample 3 dB under the peaks between them
    nyq = np.vstack([0.5 * np.sin(np.pi / 2 * np.arange(t.size) + np.pi / 4)] * 2)
    late = 0.01 * rng.standard_normal((2, t.size))
    late[1, t.size - 30] = 0.8  # the loudest point near the end: its span reaches the last frame
    late[0, 5] = -0.7  # and one near the start
    return {"music": music, "between samples": nyq, "late spike": late,
            "short": rng.standard_normal((2, 150)) * 0.3, "tiny": rng.standard_normal((2, 7))}


@pytest.mark.parametrize("name", ["music", "between samples", "late spike", "short", "tiny"])
def test_meter_true_peak_is_the_exact_interpolated_maximum_for_any_blocks(name):
    """The screened meter (only hops that could pass the running true peak are interpolated)
    gives the exact maximum of every interpolated point, whatever the block size."""
    from resonator.measure.loudness import LoudnessMeter

    x = _signals()[name]
    ref = direct_true_peak(x)
    got = []
    for block in (x.shape[1], 65536, 4096, 333, 17):
        m = LoudnessMeter(44100, 2)
        for i in range(0, x.shape[1], block):
            m.update(x[:, i:i + block])
        got.append(m.true_peak_dbtp())
    assert len(set(got)) == 1  # bit-identical for every block size
    assert got[0] == pytest.approx(20 * np.log10(ref), abs=1e-9)
    if name == "between samples":  # the peaks between the samples: 3 dB over them
        assert got[0] == pytest.approx(20 * np.log10(np.max(np.abs(x))) + 3.01, abs=0.01)


def test_meter_true_peak_mid_stream_then_on():
    """true_peak_dbtp() may be asked between blocks: the open hops are read then, and the
    stream goes on unchanged."""
    from resonator.measure.loudness import LoudnessMeter

    x = _signals()["late spike"]
    m = LoudnessMeter(44100, 2)
    half = x.shape[1] - 20  # the spike's later neighbours are not in yet
    m.update(x[:, :half])
    assert m.true_peak_dbtp() == pytest.approx(20 * np.log10(direct_true_peak(x[:, :half])),
                                               abs=1e-9)
    m.update(x[:, half:])
    assert m.true_peak_dbtp() == pytest.approx(20 * np.log10(direct_true_peak(x)), abs=1e-9)


def _analysis_peak_mb(minutes: float) -> tuple[float, float]:
    import tracemalloc

    from resonator.analysis import analyze_signal

    sr = 22050
    rng = np.random.default_rng(3)
    n = int(minutes * 60 * sr)
    x = (0.05 * rng.standard_normal(n)).astype(np.float32)
    idx = (np.arange(0, minutes * 60, 0.5) * sr).astype(int)  # 120 BPM clicks
    x[idx] += 0.9
    x[idx[::4] + 40] += 0.5
    tracemalloc.start()
    try:
        r = analyze_signal(x, sr)
        return tracemalloc.get_traced_memory()[1] / 1e6, r["tempo"]["bpm"]
    finally:
        tracemalloc.stop()


def test_analysis_memory_does_not_grow_with_audio():
    """Peak of everything the analysis allocates (the signal itself aside), 1 against 4 minutes:
    one audio-rate array (5.3 MB a minute at 22.05 kHz float32) would add 16 MB; the
    frame-rate features and the beat tracker's arrays add about 0.1 MB (measured 10.9 ->
    11.1 MB: the pass's fixed block buffers are the peak at these lengths)."""
    one, bpm1 = _analysis_peak_mb(1.0)
    four, bpm4 = _analysis_peak_mb(4.0)
    assert bpm1 == pytest.approx(120.0, abs=0.1) and bpm4 == pytest.approx(120.0, abs=0.1)
    assert four - one < 3.0
    # the pass's block buffers; a float64 copy of the whole 1-minute signal alone is 10.6 MB
    assert one < 20.0
