"""Breath-like slow modulation in the sound, and a breathing pace that fits the beat.

Two different things, reported under two keys:

``breathing`` (:func:`breath_modulation`): a measurement. The amplitude envelope is averaged to
``SLOW_SR`` samples a second, divided by its mean, smoothed over ``SMOOTH_S`` (beats and bar
accents are faster than a breath) and detrended; its strongest periodicity between
``RATE_MIN`` and ``RATE_MAX`` breaths a minute (at least ``MIN_CYCLES`` cycles in the input) is
found from the zero-padded spectrum, and its first three harmonics fitted over whole cycles give
the mean cycle. How much of the slow envelope's variance that cycle explains (``periodicity``,
0-1) and how deep it is (``depth``) say whether the sound swells and ebbs like a breath (a breath drone, a pad that rises
and falls, waves); ``rise_share`` is the part of the cycle from its trough to its crest (the
inhale of a swell that rises 4 s and falls 6 s: 0.4).

``paced_breathing`` (:func:`breathing_pace`): a suggestion, not a measurement: the whole number of
beats per breath nearest 6 breaths a minute at the music's tempo.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

TARGET_PER_MIN = 6.0
SLOW_SR = 5.0
RATE_MIN, RATE_MAX = 3.0, 20.0
SMOOTH_S = 1.0
MIN_CYCLES = 3.0
HARMONICS = 3
CYCLE_POINTS = 200
PERIODICITY_MIN = 0.5
DEPTH_MIN = 0.1


def slow_envelope(env: np.ndarray, env_sr: float, rate_hz: float = SLOW_SR) -> tuple[np.ndarray, float]:
    """Block means of an amplitude envelope, about ``rate_hz`` blocks a second.

    Returns
    -------
    x : np.ndarray [shape=(m,)]
        float64 block means (a trailing partial block is dropped).
    sr : float
        Their rate in Hz.
    """
    from .framewise import as_frames

    e = as_frames(env)
    q = max(1, int(round(env_sr / rate_hz)))
    m = e.size // q
    x = np.zeros(m)
    from .framewise import BLOCK

    rows = max(1, BLOCK // q)  # a block of rows at a time: no float64 copy of the envelope
    for i in range(0, m, rows):
        j = min(i + rows, m)
        x[i:j] = e[i * q:j * q].astype(np.float64).reshape(j - i, q).mean(axis=1)
    return x, env_sr / q


def _boxcar(f_hz: float, taps: float, sr: float) -> float:
    """Gain of a ``taps``-point moving average at ``sr`` for a sine at ``f_hz``."""
    taps = int(round(taps))
    w = np.pi * f_hz / sr
    return float(abs(np.sin(taps * w) / (taps * np.sin(w)))) if taps > 1 and np.sin(w) != 0 else 1.0


def padded_power(x: np.ndarray, nfft: int, k0: int, k1: int) -> np.ndarray:
    """``np.abs(np.fft.rfft(x, n=nfft)[k0:k1]) ** 2`` without the padded transform.

    With ``L`` the power of two at or above ``len(x)`` and ``R = nfft / L``, bin ``j R + r``
    of the padded transform is bin ``j`` of the ``L``-point transform of ``x`` turned by
    ``exp(-2 pi i r t / nfft)``: ``R`` transforms of ``L`` points, so the memory follows ``x``
    (a 16x zero-padded hour: 4 MB per array otherwise). Equal to the padded FFT's to
    rounding (about 1e-15 of the largest bin).

    Parameters
    ----------
    x : np.ndarray [shape=(n,)], 1 <= n <= nfft
    nfft : int, a power of two
    k0, k1 : int, 0 <= k0 <= k1 <= nfft // 2 + 1
        The bins wanted.

    Returns
    -------
    np.ndarray [shape=(k1 - k0,)]
    """
    x = np.asarray(x, dtype=np.float64)
    size = 1 << max(0, int(math.ceil(math.log2(x.size))))
    reps = nfft // size
    k = np.arange(k0, k1)
    out = np.empty(k.size)
    t = np.arange(x.size)
    for r in range(reps):
        sel = np.flatnonzero(k % reps == r)
        if sel.size:
            spec = np.fft.fft(x * np.exp(-2j * np.pi * r * t / nfft), n=size)
            out[sel] = np.abs(spec[k[sel] // reps]) ** 2
    return out


def breath_modulation(env: np.ndarray, env_sr: float) -> dict | None:
    """The breath-like swell of an amplitude envelope, measured.

    Parameters
    ----------
    env : np.ndarray [shape=(n,)]
        Amplitude envelope (non-negative) at ``env_sr``.
    env_sr : number > 2 * SLOW_SR
        Its rate in Hz.

    Returns
    -------
    dict or None
        None when the input holds fewer than ``MIN_CYCLES`` cycles of the fastest rate searched
        (under 9 s) or is silent. Else ``breaths_per_min`` and ``cycle_s`` of the strongest slow
        periodicity, ``depth`` ((crest - trough) / (crest + trough) of the mean cycle: 0.5 for an
        envelope swinging between 0.5 and 1.5 of its mean), ``rise_share`` (trough to crest, as a
        share of the cycle), ``periodicity`` (variance explained by the mean cycle, 0-1) and
        ``significant``: ``periodicity`` >= ``PERIODICITY_MIN`` and ``depth`` >= ``DEPTH_MIN``
        (thresholds above what steady noise, music at a steady level and the benchmark corpora
        reach; see ``benchmarks/analysis/README.md``).

    Examples
    --------
    >>> t = np.arange(0, 60, 1 / 250)
    >>> round(breath_modulation(1 + 0.5 * np.sin(2 * np.pi * 0.1 * t), 250.0)["breaths_per_min"], 2)
    6.0
    """
    x, sr = slow_envelope(env, env_sr)
    dur = x.size / sr if sr > 0 else 0.0
    lo = max(RATE_MIN, 60.0 * MIN_CYCLES / dur) if dur > 0 else math.inf
    if lo >= RATE_MAX:
        return None
    mean = float(x.mean())
    if not mean > 0:
        return None
    # a breath rises and falls over seconds: the beats and bar accents within a second are not it
    taps = max(1, int(round(SMOOTH_S * sr)))
    y = ndimage.uniform_filter1d(x / mean - 1.0, taps, mode="nearest")
    t = np.arange(y.size) / sr
    y = y - np.polyval(np.polyfit(t, y, 1), t)  # slow fades are no breath
    # the 16x zero-padded spectrum, only its bins in the band and one more on either side
    nfft = 1 << int(math.ceil(math.log2(16 * y.size)))
    df = 1.0 / (nfft * (1.0 / sr))  # np.fft.rfftfreq(nfft, 1 / sr)'s spacing, bit for bit
    k0 = max(0, int(math.floor(lo / 60.0 / df)) - 1)
    k1 = min(nfft // 2, int(math.ceil(RATE_MAX / 60.0 / df)) + 1)
    f = np.arange(k0, k1 + 1) * df
    spec = padded_power(y * np.hanning(y.size), nfft, k0, k1 + 1)
    band = np.flatnonzero((f >= lo / 60.0) & (f <= RATE_MAX / 60.0))
    i = int(band[np.argmax(spec[band])])
    if 0 < i < spec.size - 1:
        from ..measure._common import vertex_offset

        fi = f[i] + vertex_offset(spec[i - 1], spec[i], spec[i + 1]) * df
    else:
        fi = f[i]
    period_s = 1.0 / fi
    # what varies slowly: the envelope below HARMONICS + 1/2 times the rate (beats, notes and
    # the noise of the envelope itself are faster)
    spec_y = np.fft.rfft(y)
    spec_y[np.fft.rfftfreq(y.size, 1.0 / sr) > (HARMONICS + 0.5) * fi] = 0.0
    y = np.fft.irfft(spec_y, n=y.size)
    # the mean cycle: the first HARMONICS harmonics of the period fitted over whole cycles
    keep = t < (dur // period_s) * period_s
    yk, tk = y[keep], t[keep]
    w = 2.0 * np.pi * fi * tk
    harm = np.column_stack([g(h * w) for h in range(1, HARMONICS + 1) for g in (np.cos, np.sin)])
    # with a line beside the harmonics: the detrending above took a little of the cycle too
    coef = np.linalg.lstsq(np.column_stack((np.ones(tk.size), tk, harm)), yk, rcond=None)[0]
    coef_line, coef = coef[:2], coef[2:]
    # undo the moving average's (and the block means') gain at each harmonic: depth as in the sound
    q = env_sr / sr
    gain = [_boxcar(h * fi, taps, sr) * _boxcar(h * fi, q, env_sr) for h in range(1, HARMONICS + 1)]
    coef_sound = coef / np.repeat(np.maximum(gain, 0.5), 2)  # not the harmonics it all but removed
    rest = yk - coef_line[0] - coef_line[1] * tk
    var = float(np.sum(rest ** 2))
    explained = min(1.0, float(np.sum((harm @ coef) ** 2)) / var) if var > 0 else 0.0
    wc = 2.0 * np.pi * np.arange(CYCLE_POINTS) / CYCLE_POINTS
    cycle = np.column_stack([g(h * wc) for h in range(1, HARMONICS + 1) for g in (np.cos, np.sin)]) @ coef_sound
    crest, trough = float(cycle.max()), max(float(cycle.min()), -1.0)
    depth = (crest - trough) / (2.0 + crest + trough)
    rise = ((int(np.argmax(cycle)) - int(np.argmin(cycle))) % CYCLE_POINTS) / CYCLE_POINTS
    return {
        "breaths_per_min": round(float(60.0 * fi), 3),
        "cycle_s": round(float(period_s), 3),
        "depth": round(depth, 3),
        "rise_share": round(rise, 3),
        "periodicity": round(explained, 3),
        "significant": bool(explained >= PERIODICITY_MIN and depth >= DEPTH_MIN),
    }


def breathing_pace(bpm: float | None, *, target_per_min: float = TARGET_PER_MIN,
                   max_beats: int = 96) -> dict | None:
    """The beat multiple whose breathing rate is nearest ``target_per_min`` (in log ratio).

    A suggestion computed from the tempo alone (it always lands near ``target_per_min``), not a
    measurement of the sound: see :func:`breath_modulation` for that.

    Breath lengths are whole multiples of the beat that are multiples of 2 or 3 (so a breath
    spans whole half-bars or bars in duple and triple meters), from 2 to ``max_beats`` beats.
    The breath is split into an inhale of about 40 % and a longer exhale, in whole beats.

    Parameters
    ----------
    bpm : number > 0 or None
        Tempo in beats per minute; None gives None.
    target_per_min : number > 0
        Wanted breaths per minute (6: resonance breathing, a 10 s cycle).
    max_beats : int >= 2
        Longest breath in beats.

    Returns
    -------
    dict or None
        ``breaths_per_min``, ``beats_per_breath``, ``cycle_s``, ``inhale_beats``,
        ``exhale_beats``.

    Examples
    --------
    >>> breathing_pace(120.0)["beats_per_breath"]
    20
    """
    if bpm is None or not (bpm > 0) or not math.isfinite(bpm):
        return None
    cands = [n for n in range(2, max_beats + 1) if n % 2 == 0 or n % 3 == 0]
    n = min(cands, key=lambda k: (abs(math.log(bpm / k / target_per_min)), k))
    inhale = max(1, int(round(0.4 * n)))
    return {
        "breaths_per_min": round(bpm / n, 3),
        "beats_per_breath": n,
        "cycle_s": round(60.0 * n / bpm, 3),
        "inhale_beats": inhale,
        "exhale_beats": n - inhale,
    }
