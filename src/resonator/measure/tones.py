"""Fitting sinusoids at approximately known frequencies: close tones, glides and fades.

A binaural ear in a full mix may sit a few hertz from other voices. :func:`fit_tones` fits a
set of sinusoids by least squares at their approximate frequencies and refines each one on
the residual with the others removed (Hann window, interpolated peak of the exact DTFT):
close tones are separated, and each frequency is still free to be wrong within its search
range (a peak at the search's edge is reported). Gliding components are fitted along a
planned trajectory (:func:`planned_chirp`: the frequency refined is the offset from it at the
window's centre); components closer than the window resolves can share one common shift.
:func:`tone_prominence` says how far a tone stands above the noise around it, and
:func:`subtract_tones` removes steady tones from long windows in bounded memory.
"""
from __future__ import annotations

import math

import numpy as np

from ._common import vertex_offset

__all__ = ["fit_tones", "planned_chirp", "tone_prominence", "subtract_tones"]


def planned_chirp(track, t0: float, n: int, sr: float, step_s: float = 0.05):
    """A component's planned phase over ``n`` samples from session second ``t0``, less the
    ramp of its frequency at the window's centre, zero at the centre (radians).

    The track is sampled every ``step_s`` and interpolated linearly (planned curves are
    smooth at that scale), then integrated per sample.

    Returns
    -------
    chirp : np.ndarray [shape=(n,)]
    f_centre : float
        Planned frequency at the window's centre (Hz).
    """
    dur = n / sr
    m = max(9, int(math.ceil(dur / step_s)) + 1)
    tg = t0 + np.linspace(0.0, dur, m)
    fg = np.asarray(track(tg), dtype=np.float64)
    ts = t0 + np.arange(n) / sr
    fs = np.interp(ts, tg, fg)
    fc = float(np.interp(t0 + 0.5 * (n - 1) / sr, tg, fg))
    ph = 2 * np.pi * np.cumsum(fs - fc) / sr
    ph -= np.interp(0.5 * (n - 1), np.arange(n), ph)
    return ph, fc


def _dtft(xw: np.ndarray, t: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """``sum_j xw[j] exp(-2 pi i f t[j])`` for each ``f`` of ``freqs``.

    On an even grid (every caller's: a band of FFT bins, a finer grid around a peak) one
    exponential per sample serves the first frequency and one more the step: each further
    frequency is a phasor product (relative rounding about k x 1e-16 at the k-th, against
    the matrix of every exponential it replaced: 10x the time and len(freqs) x n complex
    numbers of memory)."""
    freqs = np.asarray(freqs, dtype=np.float64)
    d = np.diff(freqs)
    if freqs.size < 3 or not np.allclose(d, d[0], rtol=1e-9, atol=0.0):
        return np.exp(-2j * np.pi * np.outer(freqs, t)) @ xw
    v = xw * np.exp(-2j * np.pi * freqs[0] * t)
    step = np.exp(-2j * np.pi * d[0] * t)
    out = np.empty(freqs.size, dtype=np.complex128)
    for k in range(freqs.size):
        if k:
            v *= step
        out[k] = v.sum()
    return out


def _parabola(mag3) -> float:
    return vertex_offset(*np.log(np.asarray(mag3) + 1e-300))


def _refine(r: np.ndarray, t: np.ndarray, sr: float, lo: float, hi: float):
    """Interpolated peak of |DTFT(r)| in [lo, hi]: a zero-padded FFT (8x), a parabola on
    log magnitudes, then a parabola on an 8x finer exact-DTFT grid. Returns (Hz, at_edge)."""
    n = r.size
    nfft = 1 << int(math.ceil(math.log2(8 * n)))
    step = sr / nfft
    i0 = max(1, int(math.ceil(lo / step)))
    i1 = min(nfft // 2 - 1, int(math.floor(hi / step)))
    if i1 < i0:
        i0 = i1 = int(np.clip(round(0.5 * (lo + hi) / step), 1, nfft // 2 - 1))
    # the FFT of the band only (via a shifted DTFT when the band is narrow)
    if i1 - i0 + 3 <= 48:
        grid = step * np.arange(i0 - 1, i1 + 2)
        mag = np.abs(_dtft(r, t, grid))
    else:
        # (t is centred: same magnitude); a dechirped residual is complex
        full = np.abs(np.fft.fft(r, nfft)[: nfft // 2 + 1] if np.iscomplexobj(r) else
                      np.fft.rfft(r, nfft))
        mag = full[i0 - 1:i1 + 2]
        grid = step * np.arange(i0 - 1, i1 + 2)
    inner = mag[1:-1]
    i = int(np.argmax(inner)) + 1
    edge = i in (1, mag.size - 2) and (i1 > i0)
    f1 = grid[i] + _parabola(mag[i - 1:i + 2]) * step
    g2 = f1 + step / 8 * np.arange(-2, 3)
    mag2 = np.abs(_dtft(r, t, g2))
    j = int(np.argmax(mag2))
    if 0 < j < 4:
        return float(g2[j] + _parabola(mag2[j - 1:j + 2]) * step / 8), edge
    return float(g2[j]), edge


def tone_prominence(x: np.ndarray, sr: float, f: float, lo: float, hi: float,
                    chirp: np.ndarray | None = None) -> float:
    """|X(f)| of a Hann-windowed channel over the median |X| in [lo, hi] (zero-padded 2x):
    about 1 for noise, tens to thousands for a tone. With ``chirp`` (a planned glide's phase,
    as in :func:`fit_tones`) the channel is dechirped first: a glide stands as a line."""
    n = x.size
    w = np.hanning(n + 2)[1:-1]
    xw = np.asarray(x, dtype=np.float64) * w
    if chirp is not None:
        xw = xw * np.exp(-1j * chirp)
    t = (np.arange(n) - 0.5 * (n - 1)) / sr
    nfft = 1 << int(math.ceil(math.log2(2 * n)))
    mag = np.abs(np.fft.fft(xw, nfft)[: nfft // 2 + 1] if chirp is not None else
                 np.fft.rfft(xw, nfft))
    ff = np.arange(mag.size) * sr / nfft
    sel = (ff >= lo) & (ff <= hi)
    if np.count_nonzero(sel) < 8:
        return math.inf
    med = float(np.median(mag[sel]))
    peak = float(np.abs(_dtft(xw, t, np.array([f])))[0])
    if med > 0:
        return peak / med
    return math.inf if peak > 0 else 0.0  # digital silence holds no tone


def fit_tones(x: np.ndarray, sr: float, freqs, search_hz, iterations: int = 4,
              chirps=None, envelopes=None, groups=None):
    """Fit a set of sinusoids at approximately known frequencies to one channel.

    Parameters
    ----------
    x : np.ndarray [shape=(n,)]
    sr : float
    freqs : sequence of float
        Approximate frequencies (the plan; for a gliding component, its frequency at the
        window's centre).
    search_hz : sequence of float or of (below, above)
        How far each frequency may move from the plan (+-, or below and above it).
    iterations : int
        Rounds of (least-squares amplitudes, per-component refinement on the residual).
    chirps : sequence of (np.ndarray [shape=(n,)] or None), optional
        Per component, the planned phase in radians less its centre frequency's ramp
        (``2 pi int (f_plan(t) - f_plan(centre)) dt``, zero at the centre), or None for a
        steady tone. The component is modelled as ``cos(2 pi f t + chirp(t) + phi)``: a glide
        is fitted along its planned trajectory (dechirped), and what is refined is the
        constant offset from it, i.e. the frequency at the window's centre.
    envelopes : sequence of (np.ndarray [shape=(n,)] or None), optional
        Per component, the planned amplitude over the window (a fade), or None (constant).
    groups : sequence of int, optional
        Components with the same group number share one frequency offset from their plan
        (searched within the first member's range): tones closer than the window resolves
        (two voices' identical or nearly identical ears) are fitted jointly as one sum
        whose common shift is measurable, where separate shifts are not.

    Returns
    -------
    freqs : np.ndarray
        Refined frequencies (at the window's centre).
    amps : np.ndarray
        Fitted amplitudes (of the envelope's peak).
    at_edge : np.ndarray of bool
        True where the refined peak lies at the edge of its search (the true component is
        farther from the plan than ``search_hz``: the value is then only a bound).
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    dur = n / sr
    t = (np.arange(n) - 0.5 * (n - 1)) / sr
    w = np.hanning(n + 2)[1:-1]
    xw = x * w
    f_plan = np.asarray(freqs, dtype=np.float64)
    K = f_plan.size
    half = np.asarray(search_hz, dtype=np.float64)
    if half.ndim < 2:
        half = np.stack([np.broadcast_to(half, f_plan.shape)] * 2, axis=1)
    chirps = list(chirps) if chirps is not None else [None] * K
    envs = list(envelopes) if envelopes is not None else [None] * K
    weight = [w if e is None else w * np.asarray(e, dtype=np.float64) for e in envs]
    groups = list(groups) if groups is not None else list(range(K))
    units: dict = {}
    for k, g in enumerate(groups):
        units.setdefault(g, []).append(k)
    f = f_plan.copy()
    edge = np.zeros(K, dtype=bool)
    coef = np.zeros((K, 2))

    def columns(fk, k):
        ph = 2 * np.pi * fk * t
        if chirps[k] is not None:
            ph = ph + chirps[k]
        return np.cos(ph) * weight[k], np.sin(ph) * weight[k]

    for it in range(max(1, iterations)):
        cols = [columns(f[k], k) for k in range(K)]
        basis = np.array([c for c, _ in cols] + [s_ for _, s_ in cols])  # (2K, n)
        sol, *_ = np.linalg.lstsq(basis.T, xw, rcond=1e-10)
        coef = np.stack([sol[:K], sol[K:]], axis=1)
        fitted = coef[:, :1] * basis[:K] + coef[:, 1:] * basis[K:]  # (K, n)
        total = fitted.sum(axis=0)
        if it == iterations - 1:
            break
        for g, members in units.items():
            k = members[0]
            r = xw - (total - fitted[members].sum(axis=0))
            # search around the plan, but never past the edge of the allowed range
            lo_k, hi_k = max(0.5, f_plan[k] - half[k, 0]), f_plan[k] + half[k, 1]
            if len(members) == 1:
                rr = r if chirps[k] is None else r * np.exp(-1j * chirps[k])
                fk, e = _refine(rr, t, sr, lo_k, hi_k)
                shift = np.array([fk - f_plan[k]])
            else:
                d, e = _common_shift(r, members, f_plan, columns, lo_k - f_plan[k],
                                     hi_k - f_plan[k], dur)
                shift = np.full(len(members), d)
                fk = f_plan[k] + d
            # a peak within a main lobe (2 bins) of the edge may be the skirt of a tone
            # outside: counted as at the edge
            e = e or (hi_k - lo_k > 8.0 / dur and min(fk - lo_k, hi_k - fk) < 2.0 / dur)
            edge[members] = e
            f[members] = f_plan[members] + shift
    return f, np.hypot(coef[:, 0], coef[:, 1]), edge


def _common_shift(r, members, f_plan, columns, lo, hi, dur):
    """The one frequency offset (in [lo, hi]) of a group of components that leaves the
    least residual: the energy of ``r`` projected on the group's columns, on a grid of a
    quarter bin, refined by a parabola. Returns (offset Hz, at_edge)."""
    step = 0.25 / dur
    grid = np.arange(math.floor(lo / step), math.ceil(hi / step) + 1) * step
    grid = grid[(grid >= lo - 1e-12) & (grid <= hi + 1e-12)]
    if grid.size < 3:
        grid = np.linspace(lo, hi, 3)

    def energy(d):
        cols = [columns(f_plan[k] + d, k) for k in members]
        b = np.array([c for c, _ in cols] + [s_ for _, s_ in cols])
        sol, *_ = np.linalg.lstsq(b.T, r, rcond=1e-8)
        fit = sol @ b
        return float(fit @ fit)
    en = np.array([energy(d) for d in grid])
    i = int(np.argmax(en))
    if 0 < i < grid.size - 1:
        den = en[i - 1] - 2 * en[i] + en[i + 1]
        off = 0.0 if den == 0 else float(np.clip(0.5 * (en[i - 1] - en[i + 1]) / den, -0.5, 0.5))
        d0 = float(grid[i] + off * (grid[1] - grid[0]))
        # a finer parabola around it (energy is smooth within a bin)
        fine = d0 + (grid[1] - grid[0]) / 4 * np.arange(-1, 2)
        ef = np.array([energy(d) for d in fine])
        den = ef[0] - 2 * ef[1] + ef[2]
        off = 0.0 if den == 0 else float(np.clip(0.5 * (ef[0] - ef[2]) / den, -0.5, 0.5))
        return float(fine[1] + off * (fine[1] - fine[0])), False
    return float(grid[i]), True


def subtract_tones(x: np.ndarray, sr: float, freqs, search_hz: float = 0.25,
                   refine_s: float = 1.0, chunk: int = 1 << 16) -> np.ndarray:
    """Remove steady sinusoids near known frequencies from every channel.

    Each channel's frequencies are refined on its first ``refine_s`` seconds
    (:func:`fit_tones`, within ``search_hz``), then their amplitudes and phases are fitted by
    least squares over the whole window from chunked normal equations and subtracted: time
    and memory stay linear in the window (a full-window basis of many tones would take
    minutes and gigabytes), and nothing leaks the way a spectral notch does.

    Parameters
    ----------
    x : np.ndarray [shape=(channels, n) or (n,)]
    sr : number > 0
    freqs : sequence of float
        Approximate frequencies of the tones to remove (Hz), each below ``sr / 2``.
    search_hz : float >= 0
        How far each frequency may be from the one given.
    refine_s : float > 0
        Length of the stretch the frequencies are refined on.
    chunk : int > 0
        Frames per chunk of the normal equations.

    Returns
    -------
    np.ndarray
        A float64 copy of ``x`` with the tones removed (same shape).
    """
    y = np.array(x, dtype=np.float64, copy=True)
    freqs = list(freqs)
    if not freqs:
        return y
    y2 = np.atleast_2d(y)
    n = y2.shape[-1]
    m = min(n, int(refine_s * sr))
    for ch in range(y2.shape[0]):
        f, _, _ = fit_tones(y2[ch, :m], sr, freqs, [search_hz] * len(freqs), iterations=2)
        k = 2 * len(f)
        gram, rhs = np.zeros((k, k)), np.zeros(k)
        for s0 in range(0, n, chunk):
            tt = np.arange(s0, min(n, s0 + chunk)) / sr
            ph = 2 * np.pi * np.outer(f, tt)
            basis = np.concatenate([np.cos(ph), np.sin(ph)], axis=0)
            gram += basis @ basis.T
            rhs += basis @ y2[ch, s0:s0 + tt.size]
        sol = np.linalg.lstsq(gram, rhs, rcond=None)[0]
        for s0 in range(0, n, chunk):
            tt = np.arange(s0, min(n, s0 + chunk)) / sr
            ph = 2 * np.pi * np.outer(f, tt)
            y2[ch, s0:s0 + tt.size] -= sol @ np.concatenate([np.cos(ph), np.sin(ph)], axis=0)
    return y
