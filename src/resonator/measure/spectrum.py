"""Spectral measures: band energy, spectral centroid over time, noise slope, L/R correlation."""
from __future__ import annotations

import math

import numpy as np

from .._lazy import lazy_module
from ._common import MeasureError, as_2d, check_band, check_sr

sfft = lazy_module("scipy.fft")  # imported at first use
signal = lazy_module("scipy.signal")  # imported at first use

__all__ = ["band_energy_db", "spectral_centroid_track", "noise_slope_db_per_decade",
           "lr_correlation", "power_spectrum", "band_filter", "masked_lr_correlation",
           "SpectrumStream"]


def power_spectrum(x, sr, *, resolution_hz: float = 5.0):
    """Welch power spectral density, averaged over channels.

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        Audio.
    sr : number > 0
        Sample rate in Hz.
    resolution_hz : number > 0
        Wanted bin spacing in Hz (segments of the next power of two above sr / resolution,
        or the whole input when shorter).

    Returns
    -------
    freqs_hz : np.ndarray [shape=(k,)]
    psd : np.ndarray [shape=(k,)]
        Power per Hz (full scale = 1.0); integrates to the mean square of the signal.
    """
    sr = check_sr(sr, "power_spectrum")
    a = as_2d(x, "power_spectrum", min_frames=16)
    if not resolution_hz > 0:
        raise MeasureError(f"resolution_hz={resolution_hz!r}: need > 0", "power_spectrum")
    nper = min(a.shape[1], int(2 ** math.ceil(math.log2(sr / resolution_hz))))
    f, p = signal.welch(a, fs=sr, window="hann", nperseg=nper, noverlap=nper // 2,
                        detrend="constant", scaling="density", axis=-1)
    return f, p.mean(axis=0)


def band_energy_db(x, sr, lo_hz: float, hi_hz: float) -> float:
    """Mean power in a frequency band, in dB (0 dB = mean square 1.0).

    A full-scale sine inside the band reads -3.01 dB; white noise of variance s^2 reads
    ``10 log10(s^2 (hi - lo) / (sr / 2))``. The level is the average over channels.

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        Audio.
    sr : number > 0
        Sample rate in Hz.
    lo_hz, hi_hz : number, 0 <= lo_hz < hi_hz <= sr/2
        Band edges in Hz.

    Returns
    -------
    level_db : float
        ``-inf`` when the band is silent.
    """
    sr = check_sr(sr, "band_energy_db")
    lo, hi = check_band(lo_hz, hi_hz, sr, "band_energy_db", lo_name="lo_hz", hi_name="hi_hz")
    # at least 8 bins across the band, at most 1 Hz bins
    f, p = power_spectrum(x, sr, resolution_hz=max(min((hi - lo) / 8.0, 5.0), 1.0))
    df = f[1] - f[0]
    sel = (f >= lo) & (f <= hi)
    power = float(np.sum(p[sel]) * df)
    return 10.0 * math.log10(power) if power > 0 else float("-inf")


def spectral_centroid_track(x, sr, *, window_s: float = 1.0, hop_s: float = 0.5,
                            fmin_hz: float = 20.0, fmax_hz: float | None = None):
    """Spectral centroid (power weighted) over time, for "getting darker" checks.

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        Audio; channel power spectra are averaged (no mono sum).
    sr : number > 0
        Sample rate in Hz.
    window_s : number > 0
        Hann window length in seconds.
    hop_s : number > 0
        Step in seconds.
    fmin_hz, fmax_hz : number, 0 <= fmin_hz < fmax_hz <= sr/2
        Band over which the centroid is taken (default up to Nyquist).

    Returns
    -------
    times_s : np.ndarray [shape=(m,)]
        Window centres in seconds.
    centroid_hz : np.ndarray [shape=(m,)]
        ``sum(f P(f)) / sum(P(f))`` per window; nan for silent windows.
    """
    sr = check_sr(sr, "spectral_centroid_track")
    fmax_hz = sr / 2 if fmax_hz is None else fmax_hz
    lo, hi = check_band(fmin_hz, fmax_hz, sr, "spectral_centroid_track")
    a = as_2d(x, "spectral_centroid_track")
    wlen, hop = int(round(window_s * sr)), int(round(hop_s * sr))
    if wlen < 16 or hop < 1 or wlen > a.shape[1]:
        raise MeasureError(
            f"window_s={window_s!r}, hop_s={hop_s!r} do not fit {a.shape[1] / sr:g} s of audio",
            "spectral_centroid_track")
    w = signal.get_window("hann", wlen)
    f = np.fft.rfftfreq(wlen, 1.0 / sr)
    sel = (f >= lo) & (f <= hi)
    fs = f[sel]
    starts = np.arange(0, a.shape[1] - wlen + 1, hop)
    cent = np.empty(starts.size)
    batch = max(1, (1 << 22) // wlen)
    for b0 in range(0, starts.size, batch):
        st = starts[b0 : b0 + batch]
        frames = np.stack([a[:, s : s + wlen] for s in st], axis=1)  # (ch, frames, wlen)
        spec = np.abs(sfft.rfft(frames * w, axis=-1)) ** 2
        pw = spec.mean(axis=0)[:, sel]
        tot = pw.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cent[b0 : b0 + st.size] = np.where(tot > 0, pw @ fs / tot, np.nan)
    return (starts + wlen / 2.0) / sr, cent


def noise_slope_db_per_decade(x, sr, lo_hz: float = 50.0, hi_hz: float = 10000.0) -> float:
    """Slope of the power spectrum in dB per decade: pink -10, white 0, brown (red) -20.

    The Welch spectrum is averaged in 1/6-octave bands (so every part of the log-frequency
    axis weighs the same) and a line is fitted to dB against log10(frequency).

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        Audio (noise); channel spectra are averaged.
    sr : number > 0
        Sample rate in Hz.
    lo_hz, hi_hz : number, 0 < lo_hz < hi_hz <= sr/2
        Fit band in Hz.

    Returns
    -------
    slope : float
        dB per decade of frequency (pink noise: -10.0 = -3.01 dB per octave).
    """
    sr = check_sr(sr, "noise_slope_db_per_decade")
    lo, hi = check_band(lo_hz, hi_hz, sr, "noise_slope_db_per_decade",
                        lo_name="lo_hz", hi_name="hi_hz")
    if lo <= 0:
        raise MeasureError("lo_hz must be > 0 for a slope per decade", "noise_slope_db_per_decade")
    f, p = power_spectrum(x, sr, resolution_hz=min(lo / 4.0, 10.0))
    edges = lo * 2.0 ** (np.arange(0, math.log2(hi / lo) * 6 + 1) / 6.0)
    centres, levels = [], []
    for e0, e1 in zip(edges[:-1], edges[1:]):
        sel = (f >= e0) & (f < e1)
        if np.any(sel) and np.mean(p[sel]) > 0:
            centres.append(math.sqrt(e0 * e1))
            levels.append(10.0 * math.log10(np.mean(p[sel])))
    if len(centres) < 3:
        raise MeasureError(f"band {lo:g}-{hi:g} Hz is too narrow for a slope",
                           "noise_slope_db_per_decade")
    slope, _ = np.polyfit(np.log10(centres), levels, 1)
    return float(slope)


def lr_correlation(x) -> float:
    """Pearson correlation of the left and right channels at zero lag.

    Parameters
    ----------
    x : np.ndarray [shape=(2, n)]
        Left and right channels.

    Returns
    -------
    r : float in [-1, 1]
        1 for identical channels (mono), about 0 for independent noise, -1 for inverted;
        nan when a channel is constant.
    """
    a = as_2d(x, "lr_correlation", min_frames=2)
    if a.shape[0] != 2:
        raise MeasureError(f"need a (2, n) left/right array, got {a.shape[0]} channel(s)",
                           "lr_correlation")
    left = a[0] - a[0].mean()
    right = a[1] - a[1].mean()
    den = math.sqrt(float(np.dot(left, left)) * float(np.dot(right, right)))
    return float(np.dot(left, right) / den) if den > 0 else float("nan")


def masked_lr_correlation(x, sr, band, notches) -> tuple[float, int]:
    """L/R correlation of the part of the spectrum inside ``band`` and outside ``notches``.

    The channels are windowed (Blackman-Harris: tones outside the kept bins leak less than
    -92 dB into them) and the real part of their cross-spectrum over the kept bins is
    normalised by the channels' energies there: noise keeps its correlation while planned
    tones are left out.

    Parameters
    ----------
    x : np.ndarray [shape=(2, n)]
    sr : number > 0
    band : (lo_hz, hi_hz) or None
        Default 20 Hz to 0.45 ``sr``.
    notches : sequence of (lo_hz, hi_hz)
        Ranges to leave out.

    Returns
    -------
    r : float in [-1, 1]
    bins : int
        Spectrum bins kept.

    Raises
    ------
    MeasureError
        Fewer than 50 bins left, or silence in them.
    """
    n = x.shape[1]
    w = signal.windows.blackmanharris(n)
    X = np.fft.rfft(x * w, axis=1)
    f = np.fft.rfftfreq(n, 1.0 / sr)
    lo, hi = (20.0, 0.45 * sr) if band is None else (float(band[0]), float(band[1]))
    m = (f >= lo) & (f <= min(hi, 0.45 * sr))
    for a, b in notches:
        m &= ~((f >= a) & (f <= b))
    if np.count_nonzero(m) < 50:
        raise MeasureError("the planned tones leave too little of the band to read the "
                           "noise's L/R correlation")
    xl, xr = X[0, m], X[1, m]
    den = math.sqrt(float(np.sum(np.abs(xl) ** 2)) * float(np.sum(np.abs(xr) ** 2)))
    if den <= 0:
        raise MeasureError("silence in the band")
    return float(np.real(np.sum(xl * np.conj(xr))) / den), int(np.count_nonzero(m))


def band_filter(x: np.ndarray, sr: float, band, smooth: bool = False) -> np.ndarray:
    """Keep a band of frequencies, with zero phase.

    Two responses: a 4th-order Butterworth run forwards and backwards (steep; low-pass when
    ``lo <= 5`` Hz, high-pass when ``hi`` reaches 0.449 ``sr``), or (``smooth``) a Gaussian
    frequency response centred on the band, -3 dB at ``lo`` and ``hi``, for envelopes: its
    impulse response is a positive Gaussian times the centre tone, so the envelope of a tone
    in the band is smoothed without over- or undershoot (a Butterworth band-pass rings and
    digs dips into gated envelopes).

    Parameters
    ----------
    x : np.ndarray [shape=(..., n)]
    sr : number > 0
    band : (lo_hz, hi_hz) or None
        None returns ``x`` unchanged.
    smooth : bool
        The Gaussian response instead of the Butterworth.

    Returns
    -------
    np.ndarray [shape=(..., n)]
    """
    if band is None:
        return x
    if not smooth:
        lo, hi = float(band[0]), min(float(band[1]), 0.45 * sr)
        if lo <= 5.0:
            sos = signal.butter(4, hi, "lowpass", fs=sr, output="sos")
        elif hi >= 0.449 * sr:
            sos = signal.butter(4, lo, "highpass", fs=sr, output="sos")
        else:
            sos = signal.butter(4, [lo, hi], "bandpass", fs=sr, output="sos")
        return signal.sosfiltfilt(sos, x, axis=-1)
    lo, hi = float(band[0]), min(float(band[1]), 0.5 * sr)
    n = x.shape[-1]
    nfft = sfft.next_fast_len(n, real=True)
    f = np.arange(nfft // 2 + 1) * (sr / nfft)
    fc, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
    h = np.exp(-math.log(2) * ((f - fc) / max(half, 1e-9)) ** 2 / 2)
    spec = sfft.rfft(x, nfft, axis=-1) * h
    return sfft.irfft(spec, nfft, axis=-1)[..., :n]


class SpectrumStream:
    """One 4096-point Hann spectrum per second of audio given block by block.

    Keeps, per frame, the spectral centroid (20 Hz to Nyquist) and the power in 48
    log-spaced bands from 20 Hz (channel mean; a bin's power is shared among the bands its
    width overlaps, so narrow low bands are neither empty nor a whole bin). Band power is mean
    square (:attr:`band_db`: a full-scale sine in a band reads -3 dB). Frames start at every
    whole second.
    """

    NFFT = 4096
    NBANDS = 48

    def __init__(self, sr, channels: int):
        self.sr = int(sr)
        nfft = self.NFFT
        self.win = np.hanning(nfft).astype(np.float32)
        self.freqs = np.fft.rfftfreq(nfft, 1.0 / self.sr)
        self.edges = np.geomspace(20.0, self.sr / 2, self.NBANDS + 1)
        # each bin's power spread evenly over its width and shared among the bands it
        # overlaps: a band narrower than a bin (below about 150 Hz at 48 kHz) gets its share,
        # never a whole bin or nothing (the stripes of the check plot's spectrogram)
        df = self.sr / nfft
        lo = np.maximum(self.freqs - df / 2, 0.0)[:, None]
        hi = (self.freqs + df / 2)[:, None]
        # ... scaled to mean-square power (Parseval, one-sided): a full-scale sine reads 0.5
        self.weights = np.clip(np.minimum(hi, self.edges[None, 1:]) -
                               np.maximum(lo, self.edges[None, :-1]), 0.0, None) / df * \
            (2.0 / (nfft * float(np.sum(self.win.astype(np.float64) ** 2))))
        self.sel = self.freqs >= 20.0
        self.next = 0
        self.carry = np.zeros((channels, 0), dtype=np.float32)
        self.carry_start = 0
        self.specs, self.cents, self.times = [], [], []

    def update(self, x: np.ndarray) -> None:
        """Add a (channels, n) block."""
        nfft, sr = self.NFFT, self.sr
        buf = np.concatenate((self.carry, x), axis=1) if self.carry.shape[1] else x
        end = self.carry_start + buf.shape[1]
        frames = []
        while self.next + nfft <= end:
            s = self.next - self.carry_start
            frames.append(buf[:, s : s + nfft])
            self.times.append((self.next + nfft / 2) / sr)
            self.next += sr
        if frames:
            fr = np.stack(frames, axis=1) * self.win  # (ch, k, nfft)
            pw = (np.abs(np.fft.rfft(fr, axis=-1)) ** 2).mean(axis=0)  # (k, bins)
            tot = pw[:, self.sel].sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                self.cents.append(np.where(tot > 0, pw[:, self.sel] @ self.freqs[self.sel]
                                           / tot, np.nan))
            self.specs.append(pw @ self.weights)
        keep_from = max(self.carry_start, min(self.next, end))
        self.carry = np.array(buf[:, keep_from - self.carry_start :], dtype=np.float32)
        self.carry_start = keep_from

    @property
    def centroid_hz(self) -> np.ndarray:
        return np.concatenate(self.cents) if self.cents else np.zeros(0)

    @property
    def times_s(self) -> np.ndarray:
        return np.array(self.times)

    @property
    def band_db(self) -> np.ndarray:
        return 10 * np.log10(np.maximum(np.concatenate(self.specs), 1e-20)) if self.specs \
            else np.zeros((0, self.NBANDS))

    @property
    def bands_hz(self) -> np.ndarray:
        return np.sqrt(self.edges[:-1] * self.edges[1:])
