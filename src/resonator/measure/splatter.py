"""Splatter: the energy a gated or pulsed tone spreads away from its carrier.

A tone switched on and off at a rate is ``carrier x gate``; the gate's spectrum (its harmonics
at multiples of the rate) is moved to the carrier. The first few harmonics shape the pulse and
are the point of the stimulus; what lies far from the carrier is *splatter*, heard as clicks, a
buzz or a halo around the tone.

The band (one definition, used by the layers' plans and by ``resonator check``)::

    carrier +- W,  W = max(20 % of the carrier, 4 x the rate[, 4 / burst length])

- 20 % of the carrier: about one critical band either side for carriers of 100-1000 Hz (the
  equivalent rectangular bandwidth is 57 Hz at 300 Hz); for a 300 Hz carrier it is the band
  240-360 Hz;
- 4 x the rate: the gate's first four harmonics belong to the pulse's shape (a sine gate has
  only the first; at 40 Hz on a 100 Hz carrier, 20 % of the carrier would cut the sidebands any
  gate must have);
- 4 / length, for single tone bursts (pulse clicks and thumps, gamma pips): a burst of length L
  needs about 2 / L either side of its pitch (the main lobe of its window); twice that is
  allowed.

Splatter in dB is ``10 log10(energy outside the band / energy inside)``, counting everything
from 20 Hz up to 4 band widths beyond the band.
"""
from __future__ import annotations

import math

import numpy as np

from ._common import MeasureError, as_2d, check_sr

__all__ = ["splatter_band", "counting_range", "line_splatter_db", "gated_tone_lines",
           "burst_train_lines", "spectrum_splatter_db", "measure_splatter"]

#: half-width of the band: this share of the carrier ...
BAND_SHARE = 0.2
#: ... or this many harmonics of the rate ...
BAND_HARMONICS = 4.0
#: ... or this many over a burst's length, whichever is widest
BURST_WIDTHS = 4.0
#: splatter is counted from this frequency (lines below the audible range are left out)
LOWEST_HZ = 20.0
#: and up to this many band widths beyond the band
EXTENT_WIDTHS = 4.0


def splatter_band(carrier_hz: float, rate_hz: float,
                  burst_s: float | None = None) -> tuple[float, float]:
    """The band a gated tone needs (see the module docstring).

    Parameters
    ----------
    carrier_hz : number > 0
        The tone (an isochronic carrier, a burst's pitch).
    rate_hz : number > 0
        Pulses per second.
    burst_s : number > 0, optional
        Length of one burst, for tone bursts (pulse clicks and thumps, gamma pips).

    Returns
    -------
    (lo_hz, hi_hz) : tuple of float
        ``lo_hz`` is at least 0.

    Examples
    --------
    >>> splatter_band(300.0, 10.0)
    (240.0, 360.0)
    >>> splatter_band(100.0, 40.0)
    (0.0, 260.0)
    """
    c, r = float(carrier_hz), float(rate_hz)
    if not (c > 0 and r > 0):
        raise MeasureError(f"carrier {carrier_hz!r} Hz and rate {rate_hz!r} Hz must be > 0",
                           "splatter_band")
    w = max(BAND_SHARE * c, BAND_HARMONICS * r)
    if burst_s is not None:
        if not burst_s > 0:
            raise MeasureError(f"burst_s={burst_s!r}: need > 0", "splatter_band")
        w = max(w, BURST_WIDTHS / float(burst_s))
    return max(0.0, c - w), c + w


def counting_range(band: tuple[float, float], sr: float | None = None) -> tuple[float, float]:
    """Frequencies over which splatter is counted: from :data:`LOWEST_HZ` to
    :data:`EXTENT_WIDTHS` band widths beyond the band (and below 0.49 ``sr``)."""
    lo, hi = band
    width = hi - lo
    top = hi + EXTENT_WIDTHS * width
    if sr is not None:
        top = min(top, 0.49 * float(sr))
    return max(LOWEST_HZ, lo - EXTENT_WIDTHS * width), top


def line_splatter_db(freqs_hz, powers, band: tuple[float, float], sr: float | None = None
                     ) -> float:
    """Splatter of a line spectrum: ``10 log10(power outside band / power inside)``.

    Lines outside :func:`counting_range` are left out; ``-inf`` when nothing lies outside.
    """
    f = np.abs(np.asarray(freqs_hz, dtype=np.float64))
    p = np.asarray(powers, dtype=np.float64)
    a, b = counting_range(band, sr)
    keep = (f >= a) & (f <= b)
    eps = 1e-4  # Hz: a line on the band's edge is inside
    inside = keep & (f >= band[0] - eps) & (f <= band[1] + eps)
    p_in = float(p[inside].sum())
    p_out = float(p[keep & ~inside].sum())
    if p_in <= 0:
        raise MeasureError("no energy inside the band", "line_splatter_db")
    return 10.0 * math.log10(p_out / p_in) if p_out > 0 else -math.inf


def gated_tone_lines(gate_period, carrier_hz: float, rate_hz: float):
    """Line spectrum of ``sin(2 pi carrier t) x gate(t)`` for a periodic gate.

    Parameters
    ----------
    gate_period : np.ndarray [shape=(m,)]
        One cycle of the gate, sampled evenly (m >= 64).
    carrier_hz, rate_hz : number > 0

    Returns
    -------
    freqs_hz, powers : np.ndarray
        Positive lines at ``carrier + k rate`` and ``k rate - carrier`` (the images of negative
        frequencies) with their mean-square power; they sum to the signal's mean square (a
        line at 0 Hz left out).
    """
    g = np.asarray(gate_period, dtype=np.float64)
    if g.ndim != 1 or g.size < 64:
        raise MeasureError("gate_period must be one cycle of at least 64 samples",
                           "gated_tone_lines")
    m = g.size
    coef = np.fft.fft(g) / m                       # G_k, k = 0..m-1 (negative k wrapped)
    k = np.fft.fftfreq(m, 1.0 / m)
    c, r = float(carrier_hz), float(rate_hz)
    # sin(2 pi c t) g(t): G_k / 2i at c + k r and -G_k / 2i at -c + k r; a line and an image
    # on the same frequency add as complex amplitudes (the carrier starts at phase 0 with the
    # gate's cycle)
    f = np.concatenate((c + k * r, -c + k * r))
    z = np.concatenate((coef / 2j, -coef / 2j))
    pos = f > 0
    key = np.round(f[pos] / r * 1e6).astype(np.int64)
    uniq, inv = np.unique(key, return_inverse=True)
    amp = np.zeros(uniq.size, dtype=complex)
    np.add.at(amp, inv, z[pos])
    return uniq / 1e6 * r, 2.0 * np.abs(amp) ** 2  # one-sided mean-square power


def burst_train_lines(burst_period, rate_hz: float, sr: float):
    """Line spectrum of a train of identical bursts, one per period.

    Parameters
    ----------
    burst_period : np.ndarray [shape=(m,)]
        One period of the train sampled at ``sr`` (the burst, then silence): ``m`` is
        ``sr / rate_hz`` rounded.
    rate_hz, sr : number > 0

    Returns
    -------
    freqs_hz, powers : np.ndarray
        Lines at ``k x rate`` (k >= 1) with their mean-square power.
    """
    x = np.asarray(burst_period, dtype=np.float64)
    m = x.size
    if m < 16:
        raise MeasureError("burst_period must hold at least 16 samples", "burst_train_lines")
    coef = np.fft.rfft(x) / m
    power = 2.0 * np.abs(coef[1:]) ** 2
    if m % 2 == 0:
        power[-1] /= 2.0
    return np.arange(1, coef.size) * float(rate_hz), power


def spectrum_splatter_db(x, sr, band: tuple[float, float]) -> float:
    """Splatter of a signal that holds only the gated tone, from its whole spectrum.

    The power spectrum (4-term Blackman-Harris window, sidelobes below -92 dB, averaged over
    channels) is summed inside ``band`` (widened by the window's main lobe, so a line on the
    band's edge counts as inside, as in :func:`line_splatter_db`) and over the rest of
    :func:`counting_range`.

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        The tone alone (a render of the layer by itself), a few seconds or more.
    sr : number > 0
    band : (lo_hz, hi_hz)
        Usually :func:`splatter_band`.

    Returns
    -------
    float
        dB (``-inf`` when nothing lies outside).
    """
    sr = check_sr(sr, "spectrum_splatter_db")
    a = as_2d(x, "spectrum_splatter_db", min_frames=64)
    n = a.shape[1]
    from scipy.signal import get_window

    w = get_window("blackmanharris", n, fftbins=False)
    p = (np.abs(np.fft.rfft(a * w, axis=-1)) ** 2).mean(axis=0)
    f = np.fft.rfftfreq(n, 1.0 / sr)
    lobe = 4.0 * sr / n  # the window's main lobe: a line on the band's edge counts as inside
    lo_c, hi_c = counting_range(band, sr)
    keep = (f >= lo_c) & (f <= hi_c)
    inside = (f >= band[0] - lobe) & (f <= band[1] + lobe)
    p_in, p_out = float(p[keep & inside].sum()), float(p[keep & ~inside].sum())
    if p_in <= 0:
        raise MeasureError("no energy inside the band", "spectrum_splatter_db")
    return 10.0 * math.log10(p_out / p_in) if p_out > 0 else -math.inf


def measure_splatter(x, sr, base_hz: float, rate_hz: float, band: tuple[float, float], *,
                     exclude_hz=()) -> dict:
    """Splatter of one pulsed layer inside a mix, from its spectral lines.

    A layer that repeats at ``rate_hz`` puts all its energy on lines at ``base_hz + k rate``
    (a gated tone: ``base_hz`` = its carrier; a train of bursts that restart their carrier
    each period: ``base_hz`` = 0). Each line's power is summed over the main lobe of a Hann
    window (+-2 / T for a window of T seconds); the same sum half-way between the lines
    measures what the rest of the mix (noise, other layers) puts there, and is subtracted. The
    spread of those half-way sums gives the noise-limited uncertainty.

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        The window, at least 8 periods of the rate long (longer windows lower the floor).
    sr : number > 0
    base_hz : number >= 0
    rate_hz : number > 0
    band : (lo_hz, hi_hz)
        :func:`splatter_band` of the layer.
    exclude_hz : sequence of (lo_hz, hi_hz)
        Frequency ranges holding other layers' tones: lines there are left out.

    Returns
    -------
    dict
        ``splatter_db`` (estimate, ``-inf`` when nothing is left after the noise),
        ``upper_db`` (the estimate plus twice its uncertainty: the most the render can
        have), ``floor_db`` (twice the uncertainty alone: the smallest splatter this window
        can show), ``lines_in``, ``lines_out``, ``lines_excluded``; and the sums behind them,
        ``power_in``, ``power_out`` and ``sigma`` (to combine several windows: add the powers,
        add the squares of ``sigma``).

    Raises
    ------
    MeasureError
        A window too short to separate the lines, or no layer energy inside the band.
    """
    sr = check_sr(sr, "measure_splatter")
    a = as_2d(x, "measure_splatter", min_frames=64)
    rate = float(rate_hz)
    n = a.shape[1]
    t_s = n / sr
    if not rate > 0 or t_s < 8.0 / rate:
        raise MeasureError(f"a {t_s:.2f} s window cannot separate lines {rate:g} Hz apart "
                           f"(needs {8.0 / rate:.2f} s)", "measure_splatter")
    nfft = 1 << int(math.ceil(math.log2(2 * n)))
    w = np.hanning(n)
    p = (np.abs(np.fft.rfft(a * w, nfft, axis=-1)) ** 2).mean(axis=0)
    df = sr / nfft
    half = int(math.ceil((2.0 / t_s) / df))
    csum = np.concatenate(([0.0], np.cumsum(p)))

    def lobe(f):
        i = np.rint(f / df).astype(np.int64)
        lo = np.clip(i - half, 0, p.size)
        hi = np.clip(i + half + 1, 0, p.size)
        return csum[hi] - csum[lo]

    lo_c, hi_c = counting_range(band, sr)
    base = float(base_hz)
    # the lines: base + k rate, and (for a gated tone) the images of negative frequencies,
    # k rate - base; lines closer than a lobe are one line
    k = np.arange(math.floor((lo_c - base) / rate), math.ceil((hi_c - base) / rate) + 1)
    combs = [base + k * rate]
    if base > 0:
        k2 = np.arange(math.floor((lo_c + base) / rate), math.ceil((hi_c + base) / rate) + 1)
        combs.append(k2 * rate - base)
    f_on = np.unique(np.concatenate(combs))
    f_on = f_on[(f_on >= lo_c) & (f_on <= hi_c)]
    lobe_hz = (half + 1) * df
    if f_on.size > 1:
        f_on = f_on[np.concatenate(([True], np.diff(f_on) > lobe_hz))]
    # the reference comb: the middle of the widest gap between the combs, where only the rest
    # of the mix sounds
    o = math.fmod(2.0 * base, rate) if base > 0 else 0.0
    gaps = [(o, rate - o), (0.0, o)] if o > 0 else [(0.0, rate)]
    g0, g = max(gaps, key=lambda ab: ab[1])
    if g / 2.0 < lobe_hz + df:
        raise MeasureError(f"a {t_s:.2f} s window cannot separate the lines of a {base:g} Hz "
                           f"carrier gated at {rate:g} Hz", "measure_splatter")
    delta = g0 + g / 2.0
    kr = np.arange(math.floor((lo_c - base - delta) / rate) - 1,
                   math.ceil((hi_c - base - delta) / rate) + 2)
    f_ref = base + delta + kr * rate
    f_ref = f_ref[f_ref > 0]
    guard = lobe_hz + 0.25 * rate
    excluded = np.zeros(f_on.size, dtype=bool)
    ref_ok = np.ones(f_ref.size, dtype=bool)
    for elo, ehi in exclude_hz:
        excluded |= (f_on >= elo - guard) & (f_on <= ehi + guard)
        ref_ok &= ~((f_ref >= elo - guard) & (f_ref <= ehi + guard))
    if base == 0.0:
        excluded |= f_on <= 0
    if ref_ok.sum() < 2:
        raise MeasureError("no place between the lines is free of other layers",
                           "measure_splatter")
    on = lobe(f_on)
    ref = lobe(f_ref[ref_ok])
    noise = np.interp(f_on, f_ref[ref_ok], ref)
    inside = (f_on >= band[0] - 1e-4) & (f_on <= band[1] + 1e-4)
    sel_in, sel_out = ~excluded & inside, ~excluded & ~inside
    p_in = float((on - noise)[sel_in].sum())
    if not p_in > 0:
        raise MeasureError("no energy of the layer inside its band (is it playing?)",
                           "measure_splatter")
    n_out = int(sel_out.sum())
    p_out = float((on - noise)[sel_out].sum())
    # a lobe of a Hann window holds about 8/3 independent noise readings: each line's noise
    # has a spread of noise / sqrt(8/3), its estimate from two neighbours half that variance
    sigma = math.sqrt(1.5 * float(np.sum(noise[sel_out] ** 2)) / (8.0 / 3.0))

    def db(v):
        return 10.0 * math.log10(v / p_in) if v > 0 else -math.inf
    return {"splatter_db": db(p_out), "upper_db": db(max(p_out, 0.0) + 2.0 * sigma),
            "floor_db": db(2.0 * sigma), "lines_in": int(sel_in.sum()), "lines_out": n_out,
            "lines_excluded": int(excluded.sum()), "power_in": p_in, "power_out": p_out,
            "sigma": sigma}
