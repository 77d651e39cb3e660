"""Shared input checks for the measurement modules (private)."""
from __future__ import annotations

import math

import numpy as np

from ..errors import ResonatorError


class MeasureError(ResonatorError):
    """A measurement asked for something impossible: a bad array, rate or frequency range."""


def check_sr(sr, where: str = "sr") -> float:
    """Return ``sr`` as a float, raising :class:`MeasureError` unless it is finite and > 0."""
    try:
        value = float(sr)
    except (TypeError, ValueError):
        raise MeasureError(f"sample rate must be a number > 0, got {sr!r}", where) from None
    if not math.isfinite(value) or value <= 0:
        raise MeasureError(f"sample rate must be a number > 0, got {sr!r}", where)
    return value


def as_2d(x, where: str = "x", *, min_frames: int = 1) -> np.ndarray:
    """Return ``x`` as a float64 array of shape (channels, n).

    A 1-D array becomes one channel. A 2-D array must be (channels, n); an array that looks
    like soundfile's (n, channels) layout (many more rows than columns, few columns) is
    refused with a message saying to transpose it.
    """
    a = np.asarray(x)
    if a.dtype.kind not in "fiu":
        raise MeasureError(f"audio must be a real numeric array, got dtype {a.dtype}", where)
    if a.ndim == 1:
        a = a[np.newaxis, :]
    elif a.ndim != 2:
        raise MeasureError(
            f"audio must have shape (n,) or (channels, n), got shape {a.shape}", where
        )
    elif a.shape[0] > 64 and a.shape[1] <= 64:
        raise MeasureError(
            f"audio has shape {a.shape}: expected (channels, n); "
            "transpose soundfile's (n, channels) arrays with x.T",
            where,
        )
    if a.shape[0] < 1 or a.shape[1] < min_frames:
        raise MeasureError(
            f"audio has {a.shape[1]} frames in {a.shape[0]} channel(s); "
            f"at least {min_frames} frames are needed",
            where,
        )
    a = np.asarray(a, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise MeasureError("audio contains NaN or infinite samples", where)
    return a


def as_mono(x, where: str = "x", *, min_frames: int = 1) -> np.ndarray:
    """Return ``x`` as a 1-D float64 array: a 2-D (channels, n) array is averaged over channels."""
    a = as_2d(x, where, min_frames=min_frames)
    return a[0] if a.shape[0] == 1 else a.mean(axis=0)


def check_band(lo_hz, hi_hz, sr: float, where: str, *, lo_name="fmin_hz", hi_name="fmax_hz",
               limit_hz: float | None = None, limit_name: str = "the Nyquist frequency"):
    """Check 0 <= lo < hi <= limit (default sr/2) and return them as floats."""
    lo, hi = float(lo_hz), float(hi_hz)
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo < 0 or hi <= lo:
        raise MeasureError(
            f"{lo_name}={lo_hz!r} and {hi_name}={hi_hz!r}: need 0 <= {lo_name} < {hi_name}", where
        )
    limit = sr / 2 if limit_hz is None else limit_hz
    if hi > limit:
        raise MeasureError(
            f"{hi_name}={hi_hz!r} Hz is above {limit_name} ({limit:g} Hz at sr={sr:g})", where
        )
    return lo, hi


def as_block(block, channels: int, where: str) -> np.ndarray:
    """A streaming block as float64 ``(channels, n)``; ``(n,)`` is accepted for one channel.

    Raises MeasureError naming ``where`` when the shape does not fit the stream.
    """
    x = np.asarray(block, dtype=np.float64)
    if x.ndim == 1 and channels == 1:
        x = x[np.newaxis]
    if x.ndim != 2 or x.shape[0] != channels:
        raise MeasureError(f"block has shape {x.shape}; expected ({channels}, n)", where)
    return x


def vertex_offset(y0: float, y1: float, y2: float, limit: float = 0.5) -> float:
    """Where the parabola through three equally spaced samples peaks, in steps from the middle.

    Parameters
    ----------
    y0, y1, y2 : float
        Values at -1, 0 and +1 step (log magnitude, salience, ...).
    limit : number > 0
        The offset is clipped to [-limit, limit]. When ``y1`` is the largest of the three the
        vertex lies within half a step; a larger offset means the middle sample was not a peak
        (the edge of a search range, a flat stretch), where extrapolating would run away.

    Returns
    -------
    float
        0 when the three samples are not concave (``y0 - 2 y1 + y2 >= 0``) or not finite.
    """
    den = y0 - 2.0 * y1 + y2
    if not den < 0 or not math.isfinite(den):
        return 0.0
    d = 0.5 * (y0 - y2) / den
    return float(min(max(d, -limit), limit)) if math.isfinite(d) else 0.0
