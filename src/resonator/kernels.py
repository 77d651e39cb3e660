"""The render engine's hot loops, compiled C (``src/resonator/_kernels.c``, built with the
package).

They were numba functions; compiled ahead of time they load in microseconds instead of the
0.8 s numba's import, type registries and cache loading cost every command that rendered, and a
fresh install no longer compiles for tens of seconds on its first render. Every kernel is a plain
loop whose result depends only on its inputs and the state it carries, so splitting a signal
into blocks anywhere gives bit-identical output; the arithmetic is strict IEEE double (no fused
multiply-adds: the same bits on every CPU). Arrays must be C-contiguous with the item type
stated (float64 unless said otherwise); a wrong shape or type raises TypeError or ValueError
instead of reading out of bounds. The GIL is released while a kernel runs.

Kernels (``out`` arrays are written; ``state``/``zi`` arrays are carried across calls):

``mix64(x) -> int``
    splitmix64 finaliser: a counter-based 64-bit hash.
``sine_from_anchors(out, sin_a, cos_a, cos_t, sin_t, offset, amp)``
    ``out[j] = amp sin(phase)`` from anchor phases on a grid of ``len(cos_t)`` samples: sample
    ``j`` sits ``offset + j`` samples after the first anchor; ``sin(a + b) = sin a cos b +
    cos a sin b``.
``pink_noise(key, start, out, state[, scale])``
    Uniform hash noise (sample ``i`` from ``mix64(key ^ i)``) through Paul Kellet's refined pink
    filter, times ``scale``; ``state`` holds 7 floats. ``key`` may be a pair of keys: then
    ``out`` is (2, n) and ``state`` (2, >= 7), two channels in one pass (the lanes of 2-double
    vectors). About 1.6 ns a sample: the hash of a run of frames first, in a vectorised loop,
    then the filter over it.
``colored_noise(key, start, out, gaussian, poles, gains, direct, delayed, diff, state)``
    Hash noise (uniform, or the Irwin-Hall sum of the hash's four 16-bit quarters when
    ``gaussian``), unit variance, through up to 6 parallel one-poles: ``y[i] = sum_k b_k[i] +
    direct x[i] + delayed x[i-1]``; the first difference when ``diff``. ``state`` holds the
    poles' values, ``x[i-1]`` and ``y[i-1]``.
``mul_add(out, x, g)``
    ``out += x * g`` for (C, n) arrays, ``g`` a float or one value per frame.
``curve_eval(t, tp, vp, kinds, a0, r, e, out)``, ``curve_integral(t, ..., cum, base0, out)``,
``curve_block(start, sr, tp, vp, kinds, a0, r, e, out)``
    A :class:`~resonator.graph.curves.Curve`'s values and exact integral at times ``t``, and its
    values at samples ``start + i`` (segments found once per block; exp, db, curve:C and cos
    segments from anchors on an absolute 128-sample grid, rotated or scaled to the samples
    after them, so a sample is a function of its index only and agrees with ``curve_eval`` to
    about 1e-15 relative).
``biquad_design(kind, order, sr, f, q, gain_db, out)``
    RBJ cookbook sections (b0 b1 b2 a1 a2) into ``out`` (sections, 5); with arrays ``f``, ``q``,
    ``gain_db``, every parameter set into ``out`` (sets, sections, 5).
``biquad_run(x, coefs, seg_starts, zi, abs_start, grid[, out])``
    Transposed direct form II sections over ``x`` (1 or 2 channels; in place, or into ``out``
    of the same shape, ``x`` then only read), coefficients
    ``coefs[k]`` from sample ``seg_starts[k]`` of the block; state below 1e-200 is flushed to
    zero at absolute multiples of ``grid``. ``zi`` (channels, sections, 2).
``table_lookup(phase, freq, tables, nyq, out)``
    Band-limited mipmapped wavetable value at ``phase`` (cycles) for fundamental ``freq``.
``bank(out, sin_a, cos_a, cos_t, sin_t, offset, src, rows, scale, shift)``,
``bank_grid(out, sin_a, cos_a, cos_t, sin_t, offset, lv, first, g, start, rows, scale, shift)``
    A :class:`~resonator.graph.bank.SineBank`: anchored sine partials summed per channel, each
    scaled by ``src[rows[k]] * scale[k] + shift[k]`` (the constant ``shift[k]`` when ``rows[k]``
    is -1), or by values on a grid of ``g`` frames interpolated linearly.
``pair_phase_angles(start, sr, common, diff, out)``
    The two ears' angles of a binaural pair at samples ``start + i``: ``t = (start + i) / sr``,
    ``a`` = the integral of ``common`` from 0 to ``t``, ``b`` = half that of ``diff`` (each a
    number ``c``: ``c t``, or a curve ``(tp, vp, kinds, a0, r, e, cum, base0)``, what
    ``curve_integral`` computes), ``out[0] = 2 pi frac(a + b)``, ``out[1] = 2 pi frac(a - b)``
    (fraction in float64, float32 ``out`` (2, n)).
``grid_interp(lv, first, start, g, out)``
    ``np.interp`` of every row of ``lv`` (values at frames ``first + j g``) at frames
    ``start + i``.
``kweight_sums(x, co, zi, cuts, sums, hop_left, hop, hop_peaks) -> peak``
    BS.1770 K-weighting (two biquads, scipy's sosfilt arithmetic) of ``x`` (C, n), squared and
    summed per segment ending at ``cuts`` (the first segment's sum starts from the value
    ``sums[:, 0]`` holds: a sub-block carried over from the previous block); float32 sample peak (rounded up) per hop of ``hop``
    frames, the first ending after ``hop_left`` samples. Returns the largest absolute sample.
``screened_tp(buf, h, lo, hi, thr, tp, peak[, reach]) -> (tp, peak)``
    4x interpolation around the local maxima of ``|buf|`` at or above ``thr``: ``tp`` the
    largest ``|point|``, ``peak`` the largest ``|sample|`` of ``[lo, hi)`` (both also at least
    their values given). With the meter's four phases, a candidate's points are first bounded
    by their central 13 taps plus the other taps' ``sum |h|`` times the largest sample within
    reach (``reach`` when given, which must be at least the largest ``|buf|``; else searched):
    a candidate whose points cannot pass the ``tp`` found so far is not interpolated (the
    result is the same).
``hop_tp(x, h, x_first, hops, hop, total, out[, thr[, round32]])``
    Exact true peak of each given hop (float64 direct form). With ``thr > 0`` (four phases),
    only the points whose bounds from their central 7, then 13 taps (plus the other taps'
    ``sum |h|`` times the largest sample the hop's points read) can pass ``thr`` are
    interpolated: a
    hop's value is exact when above ``thr``, at most ``thr`` otherwise. ``round32``: of the
    samples rounded to float32 (as ``x.astype(float32)`` gives them), without a copy.
``beat_dp(score, period, tightness, cum, back[, first])``
    The beat tracker's dynamic programme (:func:`resonator.analysis.beats.track_beats`):
    ``cum[t] = score[t] + max_u (cum[u] - tightness log((t - u) / p)^2)`` over
    ``u`` in ``[t - ceil(2p), t - floor(p/2)]``, ``p = period[t]``, when that maximum is
    positive (``back[t] = u``, the first best), else ``score[t]`` (``back[t] = -1``).
    Frames before ``first`` (default 0) are history, read and not written: a long programme
    runs block by block, each call given the last ``ceil(2p)`` frames of the one before.
``resample(x, h, up, down, half, x_first, m0, out)``
    Rational resampling by ``up / down`` with the FIR ``h`` (at the ``up``-times rate, centred
    on tap ``half``): output frame ``m0 + j`` of each channel is ``sum_i x[i] h[(m0 + j) down -
    i up + half]`` over the absolute input frames ``i`` the filter reaches (``x`` (C, n) float32
    holds frames ``x_first ..`` and must cover them), summed in double, ``out`` (C, count)
    float32. A frame depends on the input alone, not on which call computes it.
``quantize(block, start, seed, full_scale, dither, out[, gain]) -> (clipped, peak)``
    Scale (with ``gain``, each sample rounded to float32 and multiplied by the gain in
    float64 first: the mastering stage's product), TPDF-dither (a pure function of seed, frame and channel pair),
    round and clip ``block`` (C, n) into interleaved ``out`` (n, C), int16 or int32; the
    peak is that of the scaled input.
"""
from __future__ import annotations

import os as _os

from .errors import KernelsUnavailable


#: what to run (from the source checkout) to build the kernels again
REBUILD = ("reinstall with `pip install -e .` (or `make`) in the source folder (needs a C "
           "compiler and the Python headers, Debian: gcc python3-dev)")


def check_build(built_sha256: str | None, source) -> None:
    """Raise :class:`KernelsUnavailable` when the source file ``source`` (a path; absent in a
    wheel install, then nothing is checked) is not the one the kernels were built from
    (``built_sha256``, the build's ``SOURCE_SHA256``; None for builds that predate it)."""
    import hashlib
    from pathlib import Path

    try:
        text = Path(source).read_bytes()
    except OSError:  # an installed wheel ships no C source: nothing to compare
        return
    if built_sha256 != hashlib.sha256(text).hexdigest():
        raise KernelsUnavailable(
            f"resonator's compiled kernels were built from another version of {source} (a "
            f"stale install): {REBUILD}")


try:
    from . import _kernels
except ImportError as exc:  # a source checkout that was never built
    raise KernelsUnavailable(f"resonator's compiled kernels (resonator._kernels) are missing: "
                             f"{REBUILD}") from exc
check_build(getattr(_kernels, "SOURCE_SHA256", None), _os.path.join(_os.path.dirname(__file__),
                                                                 "_kernels.c"))
try:
    from ._kernels import (
        bank,
        bank_grid,
        beat_dp,
        biquad_design,
        biquad_run,
        colored_noise,
        curve_block,
        curve_eval,
        curve_integral,
        grid_interp,
        hop_tp,
        kweight_sums,
        mix64,
        mul_add,
        pair_phase_angles,
        pink_noise,
        quantize,
        resample,
        screened_tp,
        sine_from_anchors,
        table_lookup,
    )
except ImportError as exc:  # a build without a kernel this version needs
    raise KernelsUnavailable(f"resonator's compiled kernels do not match this version ({exc}): "
                             f"{REBUILD}") from exc

__all__ = ["bank", "bank_grid", "beat_dp", "biquad_design", "biquad_run", "colored_noise",
           "curve_block", "curve_eval", "curve_integral", "grid_interp", "hop_tp", "kweight_sums",
           "mix64", "mul_add", "pair_phase_angles", "pink_noise", "quantize", "resample",
           "screened_tp", "sine_from_anchors", "table_lookup"]
