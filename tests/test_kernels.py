"""The compiled kernels (resonator._kernels) against their documented formulas, bit for bit.

Each reference below is the kernel's contract written as plain Python (one IEEE double
operation at a time, in the order the contract states), so equality is exact: it holds on any
CPU because the extension is built without fused multiply-adds. Block splitting must not
change a bit either.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from resonator import kernels as K
from resonator.render import quantize

M64 = (1 << 64) - 1


def mix64_ref(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def test_mix64_is_splitmix64():
    # the first three outputs of the reference splitmix64 generator seeded with 0
    assert [K.mix64(k * 0x9E3779B97F4A7C15 & M64) for k in range(3)] == [
        0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]
    for x in (1, 12345, M64, 1 << 63):
        assert K.mix64(x) == mix64_ref(x)


def pink_ref(key: int, start: int, n: int) -> np.ndarray:
    b = [0.0] * 6
    xp = 0.0
    scale, half = math.sqrt(12.0) * (1.0 / 9007199254740992.0), 0.5 * math.sqrt(12.0)
    out = np.empty(n)
    for j in range(n):
        x = float(mix64_ref(key ^ (start + j)) >> 11) * scale - half
        b[0] = 0.99886 * b[0] + 0.0555179 * x
        b[1] = 0.99332 * b[1] + 0.0750759 * x
        b[2] = 0.96900 * b[2] + 0.1538520 * x
        b[3] = 0.86650 * b[3] + 0.3104856 * x
        b[4] = 0.55000 * b[4] + 0.5329522 * x
        b[5] = -0.7616 * b[5] - 0.0168980 * x
        out[j] = (b[0] + b[1]) + (b[2] + b[3]) + (b[4] + b[5]) + 0.5362 * x + 0.115926 * xp
        xp = x
    return out


def test_pink_noise_is_the_kellet_filter_of_hash_noise_in_any_blocks():
    key, start, n = 0xC0FFEE, 1_000_000, 3000
    whole = np.empty(n)
    K.pink_noise(key, start, whole, np.zeros(7))
    assert np.array_equal(whole, pink_ref(key, start, n))
    parts, state, pos = [], np.zeros(7), start
    for size in (1, 700, 1299, 1000):
        out = np.empty(size)
        K.pink_noise(key, pos, out, state)
        parts.append(out)
        pos += size
    assert np.array_equal(np.concatenate(parts), whole)
    # two channels in one loop (a pair of keys), times a scale: the same bits as one by one
    head, tail, state2 = np.empty((2, 1000)), np.empty((2, n - 1000)), np.zeros((2, 8))
    K.pink_noise((key, key + 1), start, head, state2, 0.3)
    K.pink_noise((key, key + 1), start + 1000, tail, state2, 0.3)
    pair = np.concatenate([head, tail], axis=1)
    assert np.array_equal(pair[0], whole * 0.3)
    assert np.array_equal(pair[1], pink_ref(key + 1, start, n) * 0.3)


def kweight_ref(x, co, zi, cuts, carry):
    """BS.1770 K-weighting, two biquads in transposed direct form II (scipy's sosfilt
    order), squared and summed per segment; the first segment starts from ``carry``."""
    sums = np.zeros((x.shape[0], len(cuts)))
    for c in range(x.shape[0]):
        z = list(zi[c])
        acc, i = carry[c], 0
        for s, stop in enumerate(cuts):
            for i in range(i, stop):
                u = x[c, i]
                y = co[0] * u + z[0]
                z[0] = co[1] * u - co[3] * y + z[1]
                z[1] = co[2] * u - co[4] * y
                w = co[5] * y + z[2]
                z[2] = co[6] * y - co[8] * w + z[3]
                z[3] = co[7] * y - co[9] * w
                acc += w * w
            i = stop
            sums[c, s], acc = acc, 0.0
    return sums


def test_kweight_sums_are_the_two_biquads_squared_and_summed():
    from resonator.measure.loudness import k_weighting_sos

    sos = k_weighting_sos(44100)
    co = np.ascontiguousarray(sos[:, [0, 1, 2, 4, 5]].ravel())
    x = np.random.default_rng(5).standard_normal((3, 2000)) * 0.2  # a pair and a single
    cuts = np.array([300, 1210, 2000], dtype=np.int64)
    carry = [0.25, 0.0, 1.5]
    ref = kweight_ref(x, co, np.zeros((3, 4)), cuts, carry)
    zi, sums = np.zeros((3, 4)), np.zeros((3, 3))
    sums[:, 0] = carry  # the open sub-block's sum goes on
    peak = K.kweight_sums(x, co, zi, cuts, sums, 0, 0, np.zeros(1, np.float32))
    assert np.array_equal(sums, ref) and peak == np.abs(x).max()


def screened_ref(b, h, lo, hi, thr, tp, peak):
    """screened_tp's contract: every sample of [lo, hi) counts for the peak; each local maximum
    of |b| at or above thr gets the 3 x P interpolated points around it (each a sum in tap
    order, edges clamped)."""
    P, T = h.shape
    d = (T - 1) // 2
    for row in b:
        n = len(row)
        for i in range(lo, hi):
            a = abs(row[i])
            peak = max(peak, a)
            if a < thr or a < abs(row[i - 1]) or a < abs(row[i + 1]):
                continue
            for r in range(3):
                m = i + d - 1 + r
                for p in range(P):
                    y = 0.0
                    for k in range(T):
                        y += h[p, k] * row[min(max(m - k, 0), n - 1)]
                    tp = max(tp, abs(y))
    return tp, peak


def test_screened_true_peak_kernel_is_its_contract():
    from resonator.measure.loudness import _TP_H

    h = np.ascontiguousarray(_TP_H)
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3000)) * 0.1
    x[1, 1500] = np.nan  # a NaN is no peak but still scanned
    thr = 0.25  # about 1 % of the samples: most 32-sample runs are skipped, some are not
    got = K.screened_tp(x, h, 30, 2970, thr, 0.0, 0.0)
    ref = screened_ref(x, h, 30, 2970, thr, 0.0, 0.0)
    assert got == ref


def test_screened_true_peak_bound_skips_only_candidates_that_cannot_count():
    """Candidates whose central-tap bound stays under the true peak found so far are not
    interpolated: with a high running tp given (most skipped), a low one (most interpolated)
    and the largest sample given as ``reach`` or searched, the result is the contract's."""
    from resonator.measure.loudness import _TP_H

    h = np.ascontiguousarray(_TP_H)
    rng = np.random.default_rng(12)
    t = np.arange(4000)
    x = np.stack([0.4 * np.sin(2 * np.pi * 0.031 * t), 0.3 * np.sin(2 * np.pi * 0.23 * t + 1)])
    x += rng.standard_normal(x.shape) * 0.05
    x[0, 2500] = 0.9  # a click: its points pass any tp given below 0.9
    for tp0 in (0.0, 0.3, 0.6, 1.2):
        ref = screened_ref(x, h, 30, 3970, 0.2, tp0, 0.0)
        for reach in (0.0, float(np.abs(x).max()), 2.0):
            assert K.screened_tp(x, h, 30, 3970, 0.2, tp0, 0.0, reach) == ref


def colored_ref(key, start, n, gaussian, poles, gains, direct, delayed, diff):
    m = len(poles)
    b = [0.0] * m
    xprev = yprev = 0.0
    out = np.empty(n)
    for j in range(n):
        h = mix64_ref(key ^ (start + j))
        if gaussian:
            s = (float(h & 0xFFFF) + float((h >> 16) & 0xFFFF)) + float((h >> 32) & 0xFFFF) \
                + float(h >> 48)
            x = (s * (1 / 65536) + 2.0 * (1 / 65536) - 2.0) * math.sqrt(3.0)
        else:
            x = (float(h >> 11) * (1.0 / 9007199254740992.0) - 0.5) * math.sqrt(12.0)
        for k in range(m):
            b[k] = poles[k] * b[k] + gains[k] * x
        b6 = b + [0.0] * (6 - m)  # the kernel sums six filters pairwise, unused ones at 0
        y = (b6[0] + b6[1]) + (b6[2] + b6[3]) + (b6[4] + b6[5]) + direct * x + delayed * xprev
        xprev = x
        if diff:
            y, yprev = y - yprev, y
        out[j] = y
    return out


@pytest.mark.parametrize("gaussian,diff", [(False, False), (True, False), (True, True)])
def test_colored_noise_is_its_one_pole_bank(gaussian, diff):
    poles, gains = np.array([0.9, 0.5, -0.3]), np.array([0.2, 0.3, 0.1])
    key, start, n = 77, 5, 2500
    out, state = np.empty(n), np.zeros(5)
    K.colored_noise(key, start, out, gaussian, poles, gains, 0.4, -0.1, diff, state)
    ref = colored_ref(key, start, n, gaussian, poles, gains, 0.4, -0.1, diff)
    assert np.array_equal(out, ref)
    a, b, st = np.empty(1234), np.empty(n - 1234), np.zeros(5)
    K.colored_noise(key, start, a, gaussian, poles, gains, 0.4, -0.1, diff, st)
    K.colored_noise(key, start + 1234, b, gaussian, poles, gains, 0.4, -0.1, diff, st)
    assert np.array_equal(np.concatenate([a, b]), out)
    if gaussian and not diff:  # Irwin-Hall of four quarters: unit variance, kurtosis 2.7
        w = np.empty(200_000)
        K.colored_noise(1, 0, w, True, np.zeros(0), np.zeros(0), 1.0, 0.0, False, np.zeros(2))
        assert abs(w.var() - 1.0) < 0.01 and abs((w ** 4).mean() / w.var() ** 2 - 2.7) < 0.03


def test_sixteen_bit_quantisation_is_the_documented_tpdf_rounding():
    rng = np.random.default_rng(3)
    block = rng.uniform(-1.1, 1.1, (2, 1500))
    start, seed = 48_000, 9
    out, clipped, peak = quantize(block, start, "16", seed, with_peak=True)
    base = mix64_ref(seed ^ 0x5DEECE66D)
    ref = np.empty((1500, 2), dtype=np.int16)
    ref_clipped = 0
    for j in range(1500):
        h = mix64_ref(base ^ (start + j))
        dither = ((float(h & 0xFFFF) - float((h >> 16) & 0xFFFF)) / 65536,
                  (float((h >> 32) & 0xFFFF) - float(h >> 48)) / 65536)
        for c in range(2):
            v = block[c, j] * 32768.0 + dither[c]
            ref_clipped += v > 32767.5 or v < -32768.5
            ref[j, c] = math.floor(min(max(v, -32768.0), 32767.0) + 0.5)
    assert np.array_equal(out, ref) and clipped == ref_clipped > 0
    assert peak == np.abs(block).max()
    # a pure function of position: any split gives the same codes
    halves = np.concatenate([quantize(block[:, :600], start, "16", seed)[0],
                             quantize(block[:, 600:], start + 600, "16", seed)[0]])
    assert np.array_equal(halves, out)
    # 24-bit: no dither, round half up, +1.0 clips to the largest code (and counts as clipped)
    out24, clipped24 = quantize(np.array([[1.0, -1.0, 0.5 / 8388608, -0.25 / 8388608]]), 0,
                                "24", 0)
    assert out24[:, 0].tolist() == [8388607, -8388608, 1, 0] and clipped24 == 1


def test_sine_from_anchors_rotates_each_anchor():
    G, f, sr = 64, 441.0, 44100
    anchors = 2 * np.pi * f * np.arange(0, 20) * G / sr
    t = 2 * np.pi * f * np.arange(G) / sr
    out = np.empty(1000)
    K.sine_from_anchors(out, np.sin(anchors), np.cos(anchors), np.cos(t), np.sin(t), 37, 0.5)
    i = 37 + np.arange(1000)
    s, k = i // G, i % G
    ref = (0.5 * np.sin(anchors[s])) * np.cos(t[k]) + (0.5 * np.cos(anchors[s])) * np.sin(t[k])
    assert np.array_equal(out, ref)
    assert np.max(np.abs(out - 0.5 * np.sin(2 * np.pi * f * i / sr))) < 1e-12


def test_kernels_refuse_wrong_arrays_instead_of_reading_past_them():
    with pytest.raises(TypeError, match="out"):
        K.pink_noise(1, 0, np.empty(10, dtype=np.float32), np.zeros(7))
    with pytest.raises(ValueError, match="7 values"):
        K.pink_noise(1, 0, np.empty(10), np.zeros(3))
    with pytest.raises(TypeError, match="C-contiguous"):
        K.pink_noise(1, 0, np.empty(20)[::2], np.zeros(7))
    z = np.zeros(4)
    with pytest.raises(ValueError, match="do not cover"):
        K.sine_from_anchors(np.empty(100), z, z, np.ones(16), np.zeros(16), 0, 1.0)
    with pytest.raises(ValueError, match="shaped like"):
        K.mul_add(np.zeros((2, 10)), np.zeros((2, 9)), 1.0)


@pytest.mark.parametrize("bits", ["16", "24", "32f"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_gain_folded_into_the_quantiser_is_the_mastering_product(bits, dtype):
    """quantize(..., gain=g) equals quantising the mastering stage's output
    np.multiply(block.astype(float32), g, dtype=float64): the same codes, clips and peak."""
    block = np.random.default_rng(5).uniform(-1.5, 1.5, (2, 3001)).astype(dtype)
    gain = 0.7071234567
    staged = np.multiply(block.astype(np.float32), gain, dtype=np.float64)
    want = quantize(staged, 777, bits, 4, with_peak=True)
    got = quantize(block, 777, bits, 4, with_peak=True, gain=gain)
    assert np.array_equal(got[0], want[0]) and got[1:] == want[1:] and want[1] > 0


# ------------------------------------------------------------------ a stale or missing build
def test_the_build_records_the_hash_of_its_source(tmp_path):
    """The build stamps the SHA-256 of _kernels.c; check_build compares it with the source
    beside the module: equal passes, anything else (or a build without a stamp) is stale, and
    an install without the source (a wheel) is not checked."""
    import hashlib
    from pathlib import Path

    from resonator import _kernels

    source = Path(K.__file__).with_name("_kernels.c")
    assert _kernels.SOURCE_SHA256 == hashlib.sha256(source.read_bytes()).hexdigest()
    src = tmp_path / "_kernels.c"
    src.write_bytes(b"int x;\n")
    K.check_build(hashlib.sha256(b"int x;\n").hexdigest(), src)
    for stamp in (hashlib.sha256(b"int y;\n").hexdigest(), None):
        with pytest.raises(K.KernelsUnavailable, match=r"built from another version of .*"
                           r"_kernels\.c \(a stale install\): reinstall with `pip install -e \.`"):
            K.check_build(stamp, src)
    K.check_build(None, tmp_path / "absent.c")


@pytest.mark.parametrize("fake, message", [
    ("None", r"compiled kernels \(resonator\._kernels\) are missing: reinstall with `pip "
             r"install -e \.` \(or `make`\)"),
    ("types.ModuleType('resonator._kernels')",
     r"compiled kernels were built from another version of \S+_kernels\.c \(a stale install\):"
     r" reinstall with"),
])
def test_a_missing_or_stale_build_is_one_line_and_exit_2(tmp_path, fake, message):
    """It was 'internal error ... this is a bug', exit 70."""
    import re
    import subprocess
    import sys

    code = (f"import sys, types; sys.modules['resonator._kernels'] = {fake}\n"
            "from resonator.cli import main\n"
            "sys.exit(main(['render', 'focus', '--duration', '2s', '-o', 'k.wav']))")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stdout == "" and r.stderr.count("\n") == 1, r.stderr
    assert re.match(r"resonator render: error: resonator's " + message, r.stderr), r.stderr
    assert list(tmp_path.iterdir()) == []


def _lowpass_sets(cutoffs_hz, sr=48000.0):
    co = np.empty((len(cutoffs_hz), 1, 5))
    K.biquad_design(0, 2, sr, np.asarray(cutoffs_hz, dtype=np.float64),
                    np.full(len(cutoffs_hz), 0.7071), np.zeros(len(cutoffs_hz)), co)
    return co


def test_biquad_run_into_an_output_leaves_its_input_alone():
    x = np.random.default_rng(3).standard_normal((2, 1000))
    co = _lowpass_sets([500.0, 2000.0])
    seg = np.array([0, 333], dtype=np.int64)
    inplace, zi_a = x.copy(), np.zeros((2, 1, 2))
    K.biquad_run(inplace, co, seg, zi_a, 5, 32)
    x.flags.writeable = False  # only read
    out, zi_b = np.empty_like(x), np.zeros((2, 1, 2))
    K.biquad_run(x, co, seg, zi_b, 5, 32, out)
    assert np.array_equal(out, inplace) and np.array_equal(zi_a, zi_b)
    assert not np.array_equal(out, x)
    with pytest.raises(ValueError):
        K.biquad_run(x, co, seg, zi_b, 5, 32, np.empty((2, 999)))


def test_pair_phase_angles_refuses_what_it_cannot_read():
    out = np.empty((2, 10), np.float32)
    K.pair_phase_angles(0, 48000.0, 220.0, 6, out)
    assert np.isclose(out[0, 1], 2 * np.pi * (223.0 / 48000.0), rtol=1e-6)
    tp, vp = np.array([0.0, 1.0]), np.array([2.0, 4.0])
    kinds, z, one = np.array([1, 1]), np.zeros(2), np.ones(2)
    with pytest.raises(TypeError):
        K.pair_phase_angles(0, 48000.0, "220", 6.0, out)
    with pytest.raises(TypeError):
        K.pair_phase_angles(0, 48000.0, 220.0, (tp, vp), out)
    with pytest.raises(ValueError):  # cum of another length than the points
        K.pair_phase_angles(0, 48000.0, 220.0, (tp, vp, kinds, z, z, one, np.zeros(3), 0.0), out)
    with pytest.raises(ValueError):
        K.pair_phase_angles(0, 48000.0, 220.0, 6.0, np.empty((3, 10), np.float32))
    with pytest.raises(TypeError):
        K.pair_phase_angles(0, 48000.0, 220.0, 6.0, np.empty((2, 10)))
