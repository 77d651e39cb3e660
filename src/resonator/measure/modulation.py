"""Amplitude modulation: envelopes, modulation spectra, AM rate and depth, 40 Hz share.

Envelopes are Hilbert amplitude envelopes computed in overlapping chunks (2^18-frame cores with
2^15-frame margins on each side, margins thrown away), so memory stays bounded for long inputs.
The modulation measures use a low-rate copy of the envelope (float32 FFTs): low-pass filtered
in the frequency domain (flat to 1.25 x the highest modulation frequency asked for, raised-cosine
roll-off to 1.75 x, zero phase) and decimated by a whole factor q to at least 4 x that
frequency, chunk by chunk. Never uses
``librosa.feature.rms``: at its default hop (43 frames/s) 40 Hz modulation aliases to ~3 Hz.

Multichannel input: each channel's envelope is computed separately and the envelopes are
averaged. Summing the channels first would turn a binaural beat into a monaural beat (a real
envelope at the beat rate) and corrupt the modulation spectrum.
"""
from __future__ import annotations

import math

import numpy as np

from .._lazy import lazy_module
from ._common import MeasureError, as_2d, as_block, check_band, check_sr, vertex_offset

sfft = lazy_module("scipy.fft")  # imported at first use
signal = lazy_module("scipy.signal")  # imported at first use

__all__ = [
    "DEFAULT_BANDS",
    "envelope",
    "envelope_lowrate",
    "modulation_spectrum",
    "band_shares",
    "am_rate_depth",
    "am_line",
    "gated_depth",
    "share_in_band",
    "EnvelopeStream",
    "modulation_spectrum_from_envelope",
    "am_rate_depth_from_envelope",
    "share_in_band_from_envelope",
    "gated_depth_from_envelope",
    "folded_amplitude",
    "coherent_gate_depth",
]

DEFAULT_BANDS = {
    "delta": (0.5, 4.0),
    "theta": (4.0, 8.0),
    "alpha": (8.0, 13.0),
    "beta": (13.0, 30.0),
    "gamma": (30.0, 50.0),
}

_CORE = 1 << 18
_PAD = 1 << 15


def _hilbert_env(seg: np.ndarray, dtype=np.float64) -> np.ndarray:
    """|analytic signal| of each row: ``hypot(x, H(x))`` with the Hilbert transform ``H``
    from one real FFT and one real inverse FFT (the analytic signal's complex inverse FFT
    costs about twice that; the two agree to the float type's rounding: 2e-7 in float32,
    5e-16 in float64). Zero-padded to the same FFT length as before."""
    n = seg.shape[-1]
    nfft = sfft.next_fast_len(n, real=False)
    x = np.asarray(seg, dtype=dtype)
    spec = sfft.rfft(x, nfft, axis=-1, workers=-1)
    spec[..., 0] = 0.0  # DC and Nyquist have no quadrature part
    if nfft % 2 == 0:
        spec[..., -1] = 0.0
    spec *= -1j
    return np.hypot(x, sfft.irfft(spec, nfft, axis=-1, workers=-1)[..., :n])


def _decimate_fft(env: np.ndarray, q: int, pass_hz: float, sr: float) -> np.ndarray:
    """Low-pass (flat to pass_hz, raised-cosine roll-off to 1.4 x pass_hz, zero phase) and
    keep samples 0, q, 2q, ... of each row, all in one FFT pair."""
    n = env.shape[-1]
    m = sfft.next_fast_len(-(-n // q), real=True)
    length = m * q
    spec = sfft.rfft(env, length, axis=-1, workers=-1)[..., : m // 2 + 1]
    f = np.arange(m // 2 + 1) * (sr / length)
    ramp = np.clip((1.4 * pass_hz - f) / (0.4 * pass_hz), 0.0, 1.0)
    spec = spec * (0.5 - 0.5 * np.cos(np.pi * ramp))
    return sfft.irfft(spec, m, axis=-1, workers=-1)[..., : -(-n // q)] / q


def _chunked_env(a: np.ndarray, sr: float, q: int, lp_hz: float | None):
    """Yield low-passed Hilbert envelope pieces, decimated by ``q``, shape (channels, m).

    Pieces are consecutive; together they hold the envelope at samples 0, q, 2q, ...
    """
    n = a.shape[1]
    core = max(q, (_CORE // q) * q)
    pad = int(math.ceil(_PAD / q)) * q
    if n <= core + 2 * pad:
        yield _env_segment(a, sr, q, lp_hz)
        return
    for s in range(0, n, core):
        lo, hi = max(0, s - pad), min(n, s + core + pad)
        env = _env_segment(a[:, lo:hi], sr, q, lp_hz)
        yield env[:, (s - lo) // q : (min(s + core, n) - lo + q - 1) // q]


def _env_segment(seg: np.ndarray, sr: float, q: int, lp_hz: float | None) -> np.ndarray:
    """Envelope of a segment at samples 0, q, 2q, ... of it (segment starts on the q grid).

    q == 1: full rate, optionally smoothed (4th-order Butterworth forwards and backwards).
    q > 1: float32 Hilbert and FFT decimation (flat to lp_hz / 1.5 x 1.25 = the kept band)."""
    if q == 1:
        env = _hilbert_env(seg)
        if lp_hz is not None and lp_hz < 0.45 * sr:
            env = signal.sosfiltfilt(signal.butter(4, lp_hz, fs=sr, output="sos"), env, axis=-1)
        return env
    env = _hilbert_env(seg, dtype=np.float32)
    return _decimate_fft(env, q, lp_hz / 1.5 * 1.25, sr).astype(np.float64)


def envelope(x, sr, *, smoothing_hz: float | None = None) -> np.ndarray:
    """Hilbert amplitude envelope.

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        Audio, full scale = 1.0.
    sr : number > 0
        Sample rate in Hz.
    smoothing_hz : number > 0, optional
        Low-pass the envelope at this frequency (4th-order Butterworth applied forwards and
        backwards, so no delay). None keeps the raw envelope.

    Returns
    -------
    env : np.ndarray [shape=same as x], float64 >= 0 (approximately, after smoothing)
        For a tone ``A (1 + m cos(2 pi f t))`` the envelope is ``A (1 + m cos(2 pi f t))``.
    """
    sr = check_sr(sr, "envelope")
    a = as_2d(x, "envelope")
    if smoothing_hz is not None and not (0 < float(smoothing_hz) < sr / 2):
        raise MeasureError(f"smoothing_hz={smoothing_hz!r}: need 0 < smoothing_hz < sr/2",
                           "envelope")
    env = np.concatenate(list(_chunked_env(a, sr, 1, smoothing_hz)), axis=1)
    return env[0] if np.ndim(x) == 1 else env


def envelope_lowrate(x, sr, *, max_hz: float = 64.0):
    """Channel-averaged Hilbert envelope at a low sample rate.

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        Audio.
    sr : number > 0
        Sample rate in Hz.
    max_hz : number > 0
        Highest modulation frequency to keep; the envelope is low-passed (flat to
        1.25 x max_hz, nothing above 1.75 x max_hz) and decimated to a rate of at least
        4 x max_hz.

    Returns
    -------
    env : np.ndarray [shape=(m,)]
        Envelope samples at times ``k / env_sr``.
    env_sr : float
        Envelope sample rate in Hz (``sr / q`` for a whole q).
    """
    sr = check_sr(sr, "envelope_lowrate")
    a = as_2d(x, "envelope_lowrate", min_frames=2)
    max_hz = float(max_hz)
    if not (0 < max_hz < sr / 4):
        raise MeasureError(f"max_hz={max_hz!r}: need 0 < max_hz < sr/4 = {sr / 4:g}",
                           "envelope_lowrate")
    q = max(1, int(sr // (4.0 * max_hz)))
    lp = 1.5 * max_hz if q > 1 else None
    pieces = [p.mean(axis=0) for p in _chunked_env(a, sr, q, lp)]
    return np.concatenate(pieces), sr / q


class EnvelopeStream:
    """Channel-averaged low-rate Hilbert envelope of audio given block by block.

    Gives the same samples as :func:`envelope_lowrate` on the whole array, while holding only
    about one 2^18-frame chunk of audio plus the low-rate envelope (an hour at 48 kHz with
    ``max_hz=64`` is 0.9 M envelope samples, 7 MB). Feed it from
    :func:`resonator.measure.io.iter_blocks`, call :meth:`finish`, then pass ``.envelope``
    and ``.env_sr`` to the ``*_from_envelope`` functions.

    Parameters
    ----------
    sr : number > 0
        Sample rate in Hz.
    channels : int >= 1
        Channels of every block.
    max_hz : number, 0 < max_hz < sr/4
        Highest modulation frequency kept (see :func:`envelope_lowrate`).
    """

    def __init__(self, sr, channels: int, *, max_hz: float = 64.0):
        self.sr = check_sr(sr, "EnvelopeStream")
        if not (0 < float(max_hz) < self.sr / 4):
            raise MeasureError(f"max_hz={max_hz!r}: need 0 < max_hz < sr/4 = {self.sr / 4:g}",
                               "EnvelopeStream")
        self.channels = int(channels)
        self.q = max(1, int(self.sr // (4.0 * float(max_hz))))
        self.env_sr = self.sr / self.q
        self._lp = 1.5 * float(max_hz) if self.q > 1 else None
        self._core = max(self.q, (_CORE // self.q) * self.q)
        self._pad = int(math.ceil(_PAD / self.q)) * self.q
        self._buf = np.zeros((self.channels, 0))
        self._buf_start = 0
        self._next = 0
        self._pieces: list[np.ndarray] = []
        self._done = False

    def update(self, block) -> None:
        """Add the next block, shape (channels, n) (or (n,) for one channel)."""
        x = as_block(block, self.channels, "EnvelopeStream.update")
        self._buf = np.concatenate((self._buf, x), axis=1)
        end = self._buf_start + self._buf.shape[1]
        while end >= self._next + self._core + self._pad:
            self._emit(self._next + self._core + self._pad, self._next + self._core)

    def _emit(self, hi: int, stop: int) -> None:
        lo = max(self._buf_start, self._next - self._pad)
        seg = self._buf[:, lo - self._buf_start : hi - self._buf_start]
        env = _env_segment(seg, self.sr, self.q, self._lp)
        first = (self._next - lo) // self.q
        count = (stop - self._next + self.q - 1) // self.q
        self._pieces.append(env[:, first : first + count].mean(axis=0))
        self._next = stop
        drop = max(0, self._next - self._pad - self._buf_start)
        self._buf = self._buf[:, drop:]
        self._buf_start += drop

    def finish(self) -> None:
        """Process the rest of the audio (call once after the last block)."""
        if self._done:
            return
        end = self._buf_start + self._buf.shape[1]
        if end > self._next:
            self._emit(end, end)
        self._done = True

    @property
    def envelope(self) -> np.ndarray:
        """Envelope samples so far, at times ``k / env_sr``."""
        return np.concatenate(self._pieces) if self._pieces else np.zeros(0)


def modulation_spectrum(x, sr, *, fmin_hz: float = 0.5, fmax_hz: float = 64.0,
                        resolution_hz: float | None = None):
    """Power spectrum of the amplitude envelope (Welch), normalised over [fmin_hz, fmax_hz].

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        Audio; channels' envelopes are averaged.
    sr : number > 0
        Sample rate in Hz.
    fmin_hz, fmax_hz : number, 0 <= fmin_hz < fmax_hz < sr/4
        Modulation band in Hz.
    resolution_hz : number > 0, optional
        Bin spacing. Default ``min(0.125, fmin_hz / 4)`` (8 s Welch segments), or the whole
        input when it is shorter.

    Returns
    -------
    freqs_hz : np.ndarray [shape=(k,)]
        Modulation frequencies in [fmin_hz, fmax_hz].
    power : np.ndarray [shape=(k,)]
        Envelope power per bin, summing to 1 (all zeros for a flat envelope).
    """
    sr = check_sr(sr, "modulation_spectrum")
    fmin, fmax = check_band(fmin_hz, fmax_hz, sr, "modulation_spectrum", limit_hz=sr / 4,
                            limit_name="sr/4 (the envelope needs 4 samples per cycle)")
    env, esr = envelope_lowrate(x, sr, max_hz=fmax)
    return _mod_spectrum(env, esr, fmin, fmax, resolution_hz)


def _reduce(env, env_sr, max_hz: float, where: str):
    """Check a low-rate envelope and decimate it further when its rate exceeds 8 x max_hz."""
    env = np.asarray(env, dtype=np.float64)
    esr = check_sr(env_sr, where)
    if env.ndim != 1 or env.size < 8:
        raise MeasureError(f"envelope must be 1-D with at least 8 samples, got shape {env.shape}",
                           where)
    if max_hz >= esr / 2:
        raise MeasureError(f"{max_hz:g} Hz is above the envelope's Nyquist ({esr / 2:g} Hz)", where)
    q = int(esr // (4.0 * max_hz))
    if q >= 2:
        sos = signal.butter(4, 1.5 * max_hz, fs=esr, output="sos")
        env = signal.sosfiltfilt(sos, env)[::q]
        esr = esr / q
    return env, esr


def modulation_spectrum_from_envelope(env, env_sr, *, fmin_hz: float = 0.5,
                                      fmax_hz: float = 64.0, resolution_hz: float | None = None):
    """:func:`modulation_spectrum` of a low-rate envelope (from :class:`EnvelopeStream`).

    Parameters
    ----------
    env : np.ndarray [shape=(m,)]
        Envelope samples.
    env_sr : number > 2 x fmax_hz
        Envelope sample rate in Hz.
    fmin_hz, fmax_hz, resolution_hz
        As in :func:`modulation_spectrum`.

    Returns
    -------
    freqs_hz, power : np.ndarray [shape=(k,)]
    """
    fmin, fmax = check_band(fmin_hz, fmax_hz, float(env_sr), "modulation_spectrum_from_envelope")
    env, esr = _reduce(env, env_sr, fmax, "modulation_spectrum_from_envelope")
    return _mod_spectrum(env, esr, fmin, fmax, resolution_hz)


def _mod_spectrum(env, esr, fmin, fmax, resolution_hz):
    f, p = _welch(env, esr, fmin, resolution_hz)
    sel = (f >= fmin) & (f <= fmax)
    f, p = f[sel], p[sel]
    total = p.sum()
    return f, (p / total if total > 0 else np.zeros_like(p))


def _welch(env: np.ndarray, esr: float, fmin: float, resolution_hz):
    res = resolution_hz if resolution_hz is not None else min(0.125, fmin / 4 if fmin > 0 else 0.125)
    if res <= 0:
        raise MeasureError(f"resolution_hz={resolution_hz!r}: need > 0", "modulation_spectrum")
    nper = int(2 ** math.ceil(math.log2(esr / res)))
    nper = min(nper, env.size)
    return signal.welch(env, fs=esr, window="hann", nperseg=nper, noverlap=nper // 2,
                        detrend="constant", scaling="spectrum")


def band_shares(freqs_hz, power, bands=None) -> dict[str, float]:
    """Share of modulation power in named bands.

    Parameters
    ----------
    freqs_hz : np.ndarray [shape=(k,)]
        Bin frequencies from :func:`modulation_spectrum`.
    power : np.ndarray [shape=(k,)]
        Bin powers (normalised or not; shares are taken of their sum).
    bands : dict[str, (lo_hz, hi_hz)], optional
        Half-open bands [lo, hi). Default :data:`DEFAULT_BANDS` (delta 0.5-4, theta 4-8,
        alpha 8-13, beta 13-30, gamma 30-50 Hz).

    Returns
    -------
    shares : dict[str, float]
        Each band's fraction of the total power (0 when the total is 0).
    """
    f = np.asarray(freqs_hz, dtype=float)
    p = np.asarray(power, dtype=float)
    if f.shape != p.shape:
        raise MeasureError(f"freqs_hz {f.shape} and power {p.shape} differ in shape",
                           "band_shares")
    total = p.sum()
    out = {}
    for name, (lo, hi) in (bands or DEFAULT_BANDS).items():
        s = p[(f >= lo) & (f < hi)].sum()
        out[name] = float(s / total) if total > 0 else 0.0
    return out


def share_in_band(x, sr, lo_hz: float, hi_hz: float, *, fmin_hz: float = 1.0,
                  fmax_hz: float = 100.0) -> float:
    """Fraction of envelope modulation power in [lo_hz, hi_hz] out of [fmin_hz, fmax_hz].

    The 40 Hz share is ``share_in_band(x, sr, 38, 42)``: about 0.5-0.65 for a 40 Hz pip train
    or 40 Hz modulated noise, a few hundredths for plain noise.

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        Audio.
    sr : number > 0
        Sample rate in Hz (above 4 x fmax_hz).
    lo_hz, hi_hz : number, fmin_hz <= lo_hz < hi_hz <= fmax_hz
        Band of interest in Hz.
    fmin_hz, fmax_hz : number, 0 <= fmin_hz < fmax_hz < sr/4
        Reference band in Hz.

    Returns
    -------
    share : float in [0, 1]
    """
    lo, hi = float(lo_hz), float(hi_hz)
    if not (fmin_hz <= lo < hi <= fmax_hz):
        raise MeasureError(
            f"band {lo_hz}-{hi_hz} Hz must lie inside {fmin_hz}-{fmax_hz} Hz", "share_in_band"
        )
    f, p = modulation_spectrum(x, sr, fmin_hz=fmin_hz, fmax_hz=fmax_hz)
    return float(p[(f >= lo) & (f <= hi)].sum())


def share_in_band_from_envelope(env, env_sr, lo_hz: float, hi_hz: float, *,
                                fmin_hz: float = 1.0, fmax_hz: float = 100.0) -> float:
    """:func:`share_in_band` of a low-rate envelope (from :class:`EnvelopeStream`, made with
    ``max_hz >= fmax_hz``)."""
    lo, hi = float(lo_hz), float(hi_hz)
    if not (fmin_hz <= lo < hi <= fmax_hz):
        raise MeasureError(
            f"band {lo_hz}-{hi_hz} Hz must lie inside {fmin_hz}-{fmax_hz} Hz",
            "share_in_band_from_envelope")
    f, p = modulation_spectrum_from_envelope(env, env_sr, fmin_hz=fmin_hz, fmax_hz=fmax_hz)
    return float(p[(f >= lo) & (f <= hi)].sum())


def _dtft_mag(e: np.ndarray, w: np.ndarray, esr: float, f: float) -> float:
    n = np.arange(e.size)
    return float(np.abs(np.dot(w * e, np.exp(-2j * np.pi * f / esr * n))))


def am_rate_depth(x, sr, *, rate_hint_hz: float | None = None, fmin_hz: float = 0.5,
                  fmax_hz: float = 64.0):
    """Rate and depth of sine-like amplitude modulation.

    The envelope ``E0 (1 + m cos(2 pi f t))`` gives rate f (the strongest envelope component,
    Hann window, 8x zero padding, parabolic interpolation on log magnitude, then a golden
    section refinement of the windowed DTFT) and depth ``m = 2 |E(f)| / E0``.

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        Audio; channels' envelopes are averaged.
    sr : number > 0
        Sample rate in Hz.
    rate_hint_hz : number > 0, optional
        Search only within +/- max(0.5 Hz, 10 %) of this rate.
    fmin_hz, fmax_hz : number, 0 < fmin_hz < fmax_hz < sr/4
        Search band in Hz.

    Returns
    -------
    rate_hz : float
        Modulation rate in Hz (within 0.01 Hz from 10 s of a clean AM tone).
    depth : float >= 0
        Sine-equivalent depth (within 0.02; for hard-gated pulses it overshoots: use
        :func:`gated_depth`). 0.0 with rate nan for a flat or silent envelope.
    """
    line = _am_line(x, sr, rate_hint_hz, fmin_hz, fmax_hz, 1e-3, "am_rate_depth")
    return line["rate_hz"], line["depth"]


def _search_band(fmin_hz, fmax_hz, rate_hint_hz, limit_sr: float, where: str, **kw):
    """The band searched for a modulation line: [fmin, fmax], narrowed to +-max(0.5 Hz,
    10 %) around a hint."""
    fmin, fmax = check_band(fmin_hz, fmax_hz, limit_sr, where, **kw)
    if rate_hint_hz is not None:
        span = max(0.5, 0.1 * float(rate_hint_hz))
        fmin, fmax = max(fmin, rate_hint_hz - span), min(fmax, rate_hint_hz + span)
        if fmin >= fmax:
            raise MeasureError(f"rate_hint_hz={rate_hint_hz!r} is outside {fmin_hz}-{fmax_hz} Hz",
                               where)
    return fmin, fmax


def _am_line(x, sr, rate_hint_hz, fmin_hz, fmax_hz, false_alarm, where) -> dict:
    sr = check_sr(sr, where)
    fmin, fmax = _search_band(fmin_hz, fmax_hz, rate_hint_hz, sr, where, limit_hz=sr / 4,
                              limit_name="sr/4 (the envelope needs 4 samples per cycle)")
    env, esr = envelope_lowrate(x, sr, max_hz=max(fmax + 2.5, 8.0))
    return _am(env, esr, fmin, fmax, false_alarm=false_alarm)


def am_line(x, sr, *, rate_hint_hz: float | None = None, fmin_hz: float = 0.5,
            fmax_hz: float = 64.0, false_alarm: float = 1e-3) -> dict:
    """The strongest amplitude-modulation line of :func:`am_rate_depth`, with the envelope's
    noise floor around it and whether the line stands significantly above it.

    The floor is read from the envelope spectrum (Hann window) over +-max(2 Hz, 20 bins)
    around the line, its main lobe left out: for noise the magnitudes there are Rayleigh
    distributed with scale ``median / 1.1774``, and the largest of the ``N`` independent
    bins searched exceeds ``scale * sqrt(2 ln(N / false_alarm))`` with probability
    ``false_alarm``: the line is significant above that (and above a depth of 0.002).

    Parameters
    ----------
    x, sr, rate_hint_hz, fmin_hz, fmax_hz
        As for :func:`am_rate_depth`.
    false_alarm : float in (0, 1)
        Probability that noise alone is called significant.

    Returns
    -------
    dict
        ``rate_hz``, ``depth`` (sine-equivalent), ``floor_depth`` (the median noise
        magnitude around the line in depth units), ``threshold_depth`` (the depth a line
        needs to be significant) and ``significant`` (bool).
    """
    return _am_line(x, sr, rate_hint_hz, fmin_hz, fmax_hz, false_alarm, "am_line")


def am_rate_depth_from_envelope(env, env_sr, *, rate_hint_hz: float | None = None,
                                fmin_hz: float = 0.5, fmax_hz: float = 64.0):
    """:func:`am_rate_depth` of a low-rate envelope (from :class:`EnvelopeStream`)."""
    fmin, fmax = _search_band(fmin_hz, fmax_hz, rate_hint_hz, float(env_sr),
                              "am_rate_depth_from_envelope")
    env, esr = _reduce(env, env_sr, max(fmax, 8.0), "am_rate_depth_from_envelope")
    line = _am(env, esr, fmin, fmax)
    return line["rate_hz"], line["depth"]


#: a line must also reach this depth to count as modulation (below it: quantisation, leaks)
MIN_LINE_DEPTH = 0.002


def _am(env, esr, fmin, fmax, false_alarm: float = 1e-3) -> dict:
    none = {"rate_hz": float("nan"), "depth": 0.0, "floor_depth": float("nan"),
            "threshold_depth": float("nan"), "significant": False}
    e0 = float(env.mean())
    if e0 <= 0:
        return none
    e = env - e0
    w = signal.get_window("hann", e.size, fftbins=False)
    # 8x zero padding for short envelopes, at least 2x (and at most ~2^21 points) for long
    # ones: the golden-section step below makes the final accuracy independent of it
    nfft = sfft.next_fast_len(max(2 * e.size, min(8 * e.size, 1 << 21)), real=True)
    mag = np.abs(sfft.rfft(e * w, nfft))
    k_lo, k_hi = int(math.ceil(fmin * nfft / esr)), int(math.floor(fmax * nfft / esr))
    sel = np.arange(max(k_lo, 0), min(k_hi, mag.size - 1) + 1)
    freqs = np.arange(mag.size) * esr / nfft
    if sel.size == 0 or not np.any(mag[sel] > 0):
        return none
    k = sel[np.argmax(mag[sel])]
    f_est = freqs[k]
    if 0 < k < mag.size - 1 and mag[k - 1] > 0 and mag[k + 1] > 0:
        f_est = (k + vertex_offset(*np.log(mag[k - 1 : k + 2]))) * esr / nfft
    # refine on the exact windowed DTFT (golden section over +/- one padded bin)
    step = esr / nfft
    a, b = f_est - step, f_est + step
    g = (math.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = _dtft_mag(e, w, esr, c), _dtft_mag(e, w, esr, d)
    for _ in range(40):
        if fc > fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = _dtft_mag(e, w, esr, c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = _dtft_mag(e, w, esr, d)
        if b - a < 1e-7:
            break
    rate = 0.5 * (a + b)
    amp = 2.0 * _dtft_mag(e, w, esr, rate) / w.sum()
    # the noise floor around the line (its main lobe, +-2 bins of 1/T, left out)
    bin_hz = esr / e.size
    half = max(2.0, 20.0 * bin_hz)
    near = np.abs(freqs - rate)
    ring = (near <= half) & (near > 3.0 * bin_hz) & (freqs > 0)
    floor = float(np.median(mag[ring])) if np.count_nonzero(ring) >= 8 else float("nan")
    scale = floor / math.sqrt(2.0 * math.log(2.0))  # Rayleigh: median = scale * 1.1774
    n_indep = max(1.0, (fmax - fmin) / bin_hz)
    threshold = 2.0 * scale * math.sqrt(2.0 * math.log(n_indep / false_alarm)) / w.sum()
    depth = float(amp / e0)
    out = {"rate_hz": float(rate), "depth": depth, "floor_depth": float(2.0 * floor / w.sum() / e0),
           "threshold_depth": float(max(threshold / e0, MIN_LINE_DEPTH))}
    out["significant"] = bool(math.isfinite(out["threshold_depth"]) and
                              depth > out["threshold_depth"])
    return out


def gated_depth(x, sr, *, smoothing_hz: float | None = None) -> float:
    """Depth of gated (isochronic) pulses from envelope percentiles: ``1 - P2 / P98``.

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        Audio; channels' envelopes are averaged.
    sr : number > 0
        Sample rate in Hz.
    smoothing_hz : number > 0, optional
        Low-pass the envelope first (useful for noise carriers, e.g. 4 x the gate rate).
        Default: envelope kept up to 500 Hz, so gate ramps of a few ms survive.

    Returns
    -------
    depth : float in [0, 1]
        1.0 for gates that close fully, 0.0 for a flat envelope.
    """
    sr = check_sr(sr, "gated_depth")
    max_hz = min(500.0, sr / 8)
    if smoothing_hz is not None:
        max_hz = min(max_hz, float(smoothing_hz) / 1.5)
    env, _ = envelope_lowrate(x, sr, max_hz=max_hz)
    return _gated(env)


def gated_depth_from_envelope(env) -> float:
    """:func:`gated_depth` of an envelope (e.g. :class:`EnvelopeStream` with max_hz=500)."""
    env = np.asarray(env, dtype=np.float64)
    if env.ndim != 1 or env.size < 2:
        raise MeasureError(f"envelope must be 1-D, got shape {env.shape}",
                           "gated_depth_from_envelope")
    return _gated(env)


def _gated(env):
    p2, p98 = np.percentile(env, [2.0, 98.0])
    if p98 <= 0:
        return 0.0
    return float(min(1.0, max(0.0, 1.0 - p2 / p98)))


def folded_amplitude(x: np.ndarray, sr: float, rate_hz, bins: int = 100,
                     denoise: bool = True, carrier_hz: float | None = None,
                     max_k: int | None = None):
    """Noise-corrected amplitude profile of a modulated band over one modulation cycle.

    Parameters
    ----------
    x : np.ndarray [shape=(channels, n)]
        Band-limited audio (channels are averaged in power).
    sr : float
    rate_hz : float or np.ndarray [shape=(n,)]
        Modulation rate, constant or per sample (a glide): the fold follows its integral.
    bins : int
        Phase bins per cycle (the profile is then smoothed over 3 bins, circularly).
    denoise : bool
        Remove the power that is not on a modulation line (for tone carriers; a noise
        carrier is all "noise").
    carrier_hz : float, optional
        The modulated tone: lines sit at ``carrier_hz + k rate``. Without it the noise
        floor is the PSD median-filtered across 1.5 line spacings.
    max_k : int, optional
        Highest line order ``|k|`` the modulation makes (2 for sine AM; default all).

    Returns
    -------
    amp : np.ndarray [shape=(bins,)]
        Amplitude envelope over one cycle, the band's noise power removed.
    noise_share : float
        Share of the band's power taken as noise.
    """
    env2 = np.mean(envelope(x, sr) ** 2, axis=0)
    n = env2.size
    rate = np.broadcast_to(np.asarray(rate_hz, dtype=np.float64), (n,))
    cyc_ph = np.cumsum(rate) / sr
    ph = np.mod(cyc_ph, 1.0)
    # leave out cycles holding transients of other layers (cues, strikes): their power is
    # well above the typical cycle's
    cyc = cyc_ph.astype(np.int64)
    cyc -= cyc[0]
    cmean = np.bincount(cyc, env2) / np.maximum(np.bincount(cyc), 1)
    keep = (cmean <= 1.5 * np.median(cmean))[cyc]
    k = np.minimum((ph * bins).astype(np.int64), bins - 1)[keep]
    prof = np.bincount(k, env2[keep], minlength=bins) / np.maximum(
        np.bincount(k, minlength=bins), 1)
    prof = (np.roll(prof, 1) + prof + np.roll(prof, -1)) / 3.0
    if not denoise:
        return np.sqrt(np.maximum(prof, 0.0)), 0.0
    # everything in the band that is not a modulation line (carrier + k rate) is noise or
    # another layer: its power, from the PSD, is taken off every bin of the profile
    r0 = float(np.median(rate))
    df = r0 / 8.0
    nper = int(min(n, 2 ** math.ceil(math.log2(sr / df))))
    f, p = signal.welch(x, fs=sr, nperseg=nper, noverlap=nper // 2, axis=-1)
    p = p.mean(axis=0)
    step = f[1] - f[0]
    if carrier_hz is not None:
        kmax = int(np.ceil(max(abs(f[-1] - carrier_hz), carrier_hz) / r0))
        kmax = kmax if max_k is None else min(kmax, int(max_k))
        lines = carrier_hz + r0 * np.arange(-kmax, kmax + 1)
        near = np.min(np.abs(f[:, None] - lines[None, :]), axis=1) <= 2.0 * step
        other = p[~near]
        floor_under = float(np.median(other)) if other.size else 0.0
        noise = (float(np.sum(other)) + floor_under * np.count_nonzero(near)) * step * 2.0
    else:
        width = int(max(3, round(1.5 * r0 / step)) | 1)
        floor = signal.medfilt(p, width) if width < p.size else np.full_like(p, np.median(p))
        noise = float(np.sum(np.minimum(floor, p)) * step) * 2.0  # |analytic|^2 = 2 x^2
    total = float(env2.mean())
    noise = min(noise, float(prof.min())) if prof.min() > 0 else 0.0
    amp = np.sqrt(np.maximum(prof - noise, 0.0))
    return amp, (noise / total if total > 0 else 0.0)


def coherent_gate_depth(x: np.ndarray, sr: float, carrier_hz, rate_hz, gate=None,
                        bins: int = 200, search_hz: float | None = None) -> dict:
    """Depth of a gated (isochronic) tone read coherently: noise averages out instead of
    adding its power.

    Each channel is mixed down with the planned carrier phase (its exact trajectory when it
    glides), so the gated tone becomes its real, positive gate times one fixed phase; a
    residual carrier offset (the k = 0 line, searched within ``search_hz``) is removed, the
    baseband is low-passed (Gaussian, -3 dB at ``max(8 rate, 30 Hz)``), and folded over the
    planned (or measured) modulation phase. Broadband noise is complex, zero-mean and
    incoherent with the fold: it leaves no floor, only a scatter that falls with the number
    of cycles. The profile's real part (rotated by the phase of its mean) is regressed on
    the planned gate shape put through the same low-pass and fold, aligned by the profile's
    first harmonic: ``profile = a + b gate``, depth ``b / (a + b)`` (a gate ``1 - d (1 -
    g)`` gives ``d``). Without a planned shape the depth is ``1 - P2 / P98`` of the
    smoothed real profile.

    Parameters
    ----------
    x : np.ndarray [shape=(channels, n)]
        The window (other layers' tones near the carrier removed).
    sr : float
    carrier_hz : float or np.ndarray [shape=(n,)]
        Planned carrier, constant or per sample.
    rate_hz : float or np.ndarray [shape=(n,)]
        Modulation rate, constant or per sample.
    gate : callable, optional
        ``frac -> gate value in [0, 1]`` over one cycle (fraction 0 to 1), the planned shape
        of a full-depth gate.
    bins : int
        Phase bins per cycle.
    search_hz : float, optional
        Largest residual carrier offset searched (default ``min(1, rate / 4)`` Hz).

    Returns
    -------
    dict
        ``depth``, ``offset_hz`` (carrier offset from the plan), ``scatter`` (rms of the
        profile's imaginary part over its mean: the noise left in the fold), ``fit_rms``
        (rms misfit of the gate regression over the mean; 0 without a shape) and ``sigma``
        (the depth's noise-limited error: the spread of the depths of the window's four
        quarters over 2).
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    n = x.shape[-1]
    fc = np.broadcast_to(np.asarray(carrier_hz, dtype=np.float64), (n,))
    rate = np.broadcast_to(np.asarray(rate_hz, dtype=np.float64), (n,))
    r0 = float(np.median(rate))
    ph_c = 2 * np.pi * np.cumsum(fc) / sr
    z = x * np.exp(-1j * ph_c)[None, :]
    # low-pass the baseband (the image at -2 fc goes)
    bw = min(max(8.0 * r0, 30.0), 0.8 * float(np.min(fc)))
    nfft = 1 << int(math.ceil(math.log2(n)))
    Z = np.fft.fft(z, nfft, axis=-1)
    ff = np.fft.fftfreq(nfft, 1.0 / sr)
    h = np.exp(-math.log(2) * (ff / bw) ** 2 / 2)
    tt = (np.arange(n) - 0.5 * (n - 1)) / sr
    z = np.fft.ifft(Z * h, axis=-1)[:, :n]
    # residual carrier offset: the strongest line near 0 (the gate's mean), from the
    # low-passed baseband decimated to about 4x its band, zero-padded 8x
    lim = search_hz if search_hz is not None else min(1.0, 0.25 * r0)
    q = max(1, int(sr // (4.0 * bw)))
    zd = z[:, ::q]
    m = zd.shape[1]
    nf = 1 << int(math.ceil(math.log2(8 * m)))
    spec = np.abs(np.fft.fft(zd * np.hanning(m), nf, axis=-1)).sum(axis=0)
    fq = np.fft.fftfreq(nf, q / sr)
    sel = np.flatnonzero(np.abs(fq) <= lim)
    i = int(sel[np.argmax(spec[sel])])
    off = float(fq[i])
    la, lb, lc = np.log(spec[[(i - 1) % nf, i, (i + 1) % nf]] + 1e-300)
    den = la - 2 * lb + lc
    if den != 0:
        off += float(np.clip(0.5 * (la - lc) / den, -0.5, 0.5)) * (sr / q / nf)
    z = z * np.exp(-2j * np.pi * off * tt)[None, :]
    # fold over the modulation phase
    cyc_ph = np.cumsum(rate) / sr
    frac = np.mod(cyc_ph, 1.0)
    k = np.minimum((frac * bins).astype(np.int64), bins - 1)
    cyc = (cyc_ph - cyc_ph[0]).astype(np.int64)
    # leave out cycles holding transients of other layers (well above the typical power)
    cpow = np.bincount(cyc, np.mean(np.abs(z) ** 2, axis=0)) / np.maximum(np.bincount(cyc), 1)
    keep = (cpow <= 1.5 * np.median(cpow))[cyc]

    def fold(sel):
        cnt = np.maximum(np.bincount(k[sel], minlength=bins), 1)
        prof = np.zeros(bins, dtype=complex)
        for ch in range(z.shape[0]):
            pc = (np.bincount(k[sel], z[ch, sel].real, minlength=bins) +
                  1j * np.bincount(k[sel], z[ch, sel].imag, minlength=bins)) / cnt
            m = pc.mean()
            prof += pc * (np.conj(m) / abs(m) if abs(m) > 0 else 1.0)
        return prof / z.shape[0], cnt

    prof, cnt = fold(keep)
    real = prof.real
    mean = float(real.mean())
    scatter = float(np.sqrt(np.mean(prof.imag ** 2)) / mean) if mean > 0 else math.inf
    # quarters of the window (by cycle): their spread is the noise-limited error
    edges = np.quantile(cyc[keep], [0.25, 0.5, 0.75]) if keep.any() else np.zeros(3)
    quarter = np.searchsorted(edges, cyc, side="right")
    if gate is None:
        def depth_of(pr):
            sm = (np.roll(pr, 1) + pr + np.roll(pr, -1)) / 3.0
            p2, p98 = np.percentile(sm, [2.0, 98.0])
            return float(1.0 - p2 / p98) if p98 > 0 else 0.0
        fit_rms = 0.0
    else:
        # the planned full-depth gate through the same low-pass and fold
        g = np.asarray(gate(frac), dtype=np.float64)
        G = np.fft.ifft(np.fft.fft(g, nfft) * h)[:n].real
        tmpl = np.bincount(k[keep], G[keep], minlength=bins) / cnt
        # align: the template's first harmonic onto the profile's (where the gate starts in
        # the render is not known to the fold); a fractional circular shift (Fourier domain)
        P1 = np.fft.fft(real)[1]
        T = np.fft.fft(tmpl)
        if abs(P1) > 0 and abs(T[1]) > 0:
            shift = np.angle(P1 / T[1]) / (2 * np.pi)  # cycles
            kk = np.fft.fftfreq(bins, 1.0 / bins)
            tmpl = np.fft.ifft(T * np.exp(2j * np.pi * kk * shift)).real
        A = np.stack([np.ones(bins), tmpl], axis=1)

        def depth_of(pr):
            (ca, cb), *_ = np.linalg.lstsq(A, pr, rcond=None)
            return float(cb / (ca + cb)) if ca + cb > 0 else 0.0
        (ca, cb), *_ = np.linalg.lstsq(A, real, rcond=None)
        fit_rms = float(np.sqrt(np.mean((A @ np.array([ca, cb]) - real) ** 2)) / mean) \
            if mean > 0 else math.inf
    depth = depth_of(real)
    parts = [depth_of(fold(keep & (quarter == q))[0].real) for q in range(4)
             if np.count_nonzero(keep & (quarter == q)) > bins]
    sigma = float(np.std(parts, ddof=1) / math.sqrt(len(parts))) if len(parts) >= 3 else \
        math.inf
    return {"depth": depth, "offset_hz": off, "scatter": scatter, "fit_rms": fit_rms,
            "sigma": sigma}
