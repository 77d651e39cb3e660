"""Binaural music: one ear's music shifted up by a few hertz (single-sideband shift).

The left ear plays ``Re[(x + j H{x}) exp(j phi(t))] = x cos(phi) - H{x} sin(phi)`` with
``H`` the Hilbert transform and ``phi(t) = 2 pi * integral of the shift``: every component of
the music moves up by the shift, so each one beats against its unshifted twin in the right
ear at the shift frequency (a binaural beat carried by the whole music, as SBaGenX's
``mixbeat``). ``H`` is a centred, Kaiser-windowed FIR of :data:`HILBERT_S` each side: accurate
from about 30 Hz up (below that the lower sideband is not fully cancelled). The source is
random access, so the filter needs no delay: output frame ``n`` reads the source around
``n``, and the result is a pure function of position.
"""
from __future__ import annotations

import math

import numpy as np

from ..graph.core import Node, constant_value
from ..graph.curves import Curve, sample_curve

#: half length of the Hilbert FIR in seconds
HILBERT_S = 0.085
KAISER_BETA = 8.0


def hilbert_fir(sr: int) -> np.ndarray:
    """Taps of a centred Hilbert transformer (odd length, zero at even offsets).

    ``h[n] = 2 / (pi n)`` for odd ``n``, windowed by a Kaiser window (beta 8).
    """
    half = int(round(HILBERT_S * sr)) | 1
    n = np.arange(-half, half + 1)
    h = np.zeros(n.size)
    odd = n % 2 != 0
    h[odd] = 2.0 / (np.pi * n[odd])
    return h * np.kaiser(n.size, KAISER_BETA)


class ShiftedSource:
    """A stereo source whose left ear is shifted up by ``shift_hz`` (right ear unchanged).

    Parameters
    ----------
    source : object with ``read(start, frames) -> float32 (2, frames)``
        Random access, a pure function of position.
    shift_hz : number, Curve or TimeFunction
        The shift in Hz (may follow the temperature). Its phase is the exact integral of the
        curve (time functions are sampled into a curve every 0.25 s).
    sr : int
    duration_s : float
        Session length (for sampling a time function).
    """

    def __init__(self, source, shift_hz, sr: int, duration_s: float = 0.0):
        self.source = source
        self.sr = int(sr)
        c = constant_value(shift_hz) if isinstance(shift_hz, Node) else float(shift_hz)
        if c is not None:
            self._integral = lambda t: c * t
        else:
            curve = shift_hz if isinstance(shift_hz, Curve) else \
                sample_curve(shift_hz.evaluate, 0.0, max(duration_s, 1.0))
            self._integral = curve.integral
        self.h = hilbert_fir(self.sr)
        self.half = self.h.size // 2
        self._spectra: dict[int, np.ndarray] = {}  # rfft of h per FFT length

    def _hilbert(self, left: np.ndarray, frames: int) -> np.ndarray:
        """``H{x}`` at the ``frames`` centres of ``left`` (``frames + 2 half`` samples): the
        valid part of the convolution with :attr:`h`, by FFT (numpy's: scipy.signal's
        ``oaconvolve`` costs a player 0.7 s of imports before its first sound)."""
        n = 1 << int(left.size - 1).bit_length()
        spec = self._spectra.get(n)
        if spec is None:
            spec = self._spectra[n] = np.fft.rfft(self.h, n)
        y = np.fft.irfft(np.fft.rfft(left, n) * spec, n)
        return y[2 * self.half: 2 * self.half + frames]

    def prefetch(self, start: int, frames: int) -> None:
        """Let the source start the work a read of [start, start + frames) needs (when it
        can)."""
        if hasattr(self.source, "prefetch"):
            self.source.prefetch(start - self.half, frames + 2 * self.half)

    def read(self, start: int, frames: int) -> np.ndarray:
        x = self.source.read(start - self.half, frames + 2 * self.half)
        left = x[0].astype(np.float64)
        hx = self._hilbert(left, frames)  # frames long, centred on each output
        direct = left[self.half: self.half + frames]
        t = np.arange(start, start + frames, dtype=np.float64) / self.sr
        cyc = self._integral(t)
        ph = 2.0 * math.pi * (cyc - np.floor(cyc))
        out = np.empty((2, frames), dtype=np.float32)
        out[0] = direct * np.cos(ph) - hx * np.sin(ph)
        out[1] = x[1, self.half: self.half + frames]
        return out
