"""Tempo that cools: session time mapped to music time, and a pitch-preserving time stretch.

:class:`TimeMap` holds the tempo factor ``r(t)`` (1 = the music's own tempo, 0.85 = 15 %
slower) and the music position ``p(t) = integral of r from 0 to t`` in closed form (the
tempo is a :class:`~resonator.graph.Curve`, whose integral is exact), with its inverse by a
few Newton steps. Everything that is placed in music time (tracks, crossfades, beats) lands
in session time through it.

:class:`StretchedSource` plays a music-time source at session time with Rubber Band (the
``time_stretch`` of pedalboard, per-sample stretch factors, pitch kept). ``time_stretch``
works on whole buffers, so the session is cut into segments of :data:`SEGMENT_S` on a fixed
grid of absolute session time; segment ``k`` is stretched from the music around it alone
(:data:`PRIME_S` of music on each side primes and drains the stretcher), and neighbouring
segments meet in a :data:`FADE_S` crossfade whose gains keep the power of the mix whatever
the correlation of the two renditions (equal-power when they are unrelated, amplitude-
complementary when they are the same). Each output sample is a function of its segment
index alone: the output does not depend on the block size, a window renders the samples a
full render has, and memory holds a few segments whatever the session's length. Segments
before the session's start are silence. A player asks for the first segments ahead
(:meth:`StretchedSource.prefetch`): they are stretched on worker threads while it does
other work (its loudness estimate).

:class:`UnstretchedSource` is its cheap stand-in for loudness estimates: the same music at the
same place, at its own tempo (the stretch keeps the loudness; no Rubber Band call).
"""
from __future__ import annotations

import math
import threading

import numpy as np

from ..graph.core import Node, TimeFunction, constant_value
from ..graph.curves import Curve, sample_curve

#: length of a stretch segment in session seconds
SEGMENT_S = 4.0
#: music primed before and drained after each segment
PRIME_S = 0.5
#: crossfade between neighbouring segments
FADE_S = 0.08
#: segments kept (a block spans at most two; the third saves recomputing when blocks step back)
KEEP_SEGMENTS = 3
#: cell of :class:`UnstretchedSource`: the music plays at its own tempo inside each cell
CELL_S = 1.0


class TimeMap:
    """Session seconds <-> music seconds for a tempo factor.

    Parameters
    ----------
    tempo : number > 0, Curve or TimeFunction
        The playback-speed factor over session time (a number: constant). Other time
        functions are sampled into a curve every 0.25 s.
    duration_s : float > 0
        The session's length (curves are sampled over it).

    Attributes
    ----------
    identity : bool
        True when the tempo is exactly 1 throughout (music time is session time).
    """

    def __init__(self, tempo=1.0, duration_s: float = 0.0):
        c = constant_value(tempo) if isinstance(tempo, Node) else (
            float(tempo) if tempo is not None else 1.0)
        self.constant = c
        self.curve = None
        if c is None:
            if isinstance(tempo, Curve):
                self.curve = tempo
            elif isinstance(tempo, TimeFunction):
                self.curve = sample_curve(tempo.evaluate, 0.0, max(duration_s, 1.0))
            else:
                raise TypeError("tempo must be a number, a Curve or a TimeFunction")
            lo = float(np.min(self.curve.v))
            if not lo > 0:
                raise ValueError(f"the tempo factor must stay above 0, got {lo:g}")
            # a coarse table of p(t) seeds the inverse
            step = 1.0
            self._tt = np.arange(-1.0, max(duration_s, 1.0) + 2.0 * step, step)
            self._pp = self.music_s(self._tt)
        elif not c > 0:
            raise ValueError(f"the tempo factor must be above 0, got {c:g}")
        self.identity = c == 1.0

    def rate(self, t) -> np.ndarray:
        """The tempo factor at session seconds ``t``."""
        t = np.asarray(t, dtype=np.float64)
        if self.curve is None:
            return np.full(t.shape, self.constant)
        return self.curve.evaluate(t)

    def music_s(self, t) -> np.ndarray:
        """Music seconds played by session second ``t`` (the integral of the tempo; before 0 the
        first tempo extends backwards)."""
        t = np.asarray(t, dtype=np.float64)
        if self.curve is None:
            return self.constant * t
        return self.curve.integral(t)

    def session_s(self, u) -> np.ndarray:
        """The session second at which music second ``u`` plays (inverse of :meth:`music_s`)."""
        u0 = np.asarray(u, dtype=np.float64)
        if self.curve is None:
            return u0 / self.constant
        u = np.atleast_1d(u0)
        t = np.interp(u, self._pp, self._tt, left=np.nan, right=np.nan)
        # outside the table the tempo holds its end values: extend linearly
        lo = np.isnan(t) & (u < self._pp[0])
        hi = np.isnan(t) & ~lo
        if lo.any():
            t[lo] = self._tt[0] + (u[lo] - self._pp[0]) / self.rate(self._tt[0])
        if hi.any():
            t[hi] = self._tt[-1] + (u[hi] - self._pp[-1]) / self.rate(self._tt[-1])
        for _ in range(4):  # Newton: p is smooth and increasing, r > 0
            t = t - (self.music_s(t) - u) / self.rate(t)
        return t.reshape(u0.shape)


_LATENCY: dict[int, float] = {}
_LATENCY_LOCK = threading.Lock()  # two prefetch threads measure it once


def stretch_latency(sr: int) -> float:
    """The stretcher's timing offset constant ``K`` at ``sr`` (frames), measured once.

    With a per-sample factor ``r``, ``time_stretch`` puts the output ``K (1/r - 1)`` frames
    early (about 12 ms at 48 kHz and r = 0.8): its latency is compensated at ratio 1. ``K`` is
    measured on a click train stretched at 0.8 and 1.25 (the same input every time, so the
    value is deterministic) and every segment is moved back by ``K (1/r - 1)`` at its centre.
    The value is kept in the user cache (:mod:`resonator.cache`, per pedalboard version and
    rate): measuring costs about 0.1 s of a player's start.
    """
    sr = int(sr)
    with _LATENCY_LOCK:
        if sr not in _LATENCY:
            _LATENCY[sr] = _cached_latency(sr)
        return _LATENCY[sr]


def _cached_latency(sr: int) -> float:
    import pedalboard

    from ..cache import digest, read_entry, write_entry

    key = digest(["stretch latency 1", pedalboard.__version__, sr])
    hit = read_entry("music-stretch", key)
    if hit is not None and isinstance(hit.get("k"), float) and math.isfinite(hit["k"]):
        return hit["k"]
    time_stretch = pedalboard.time_stretch

    per = sr // 4
    n = 16 * per
    x = np.zeros((2, n), dtype=np.float32)
    clicks = np.arange(16) * per
    for c in clicks:
        x[:, c: c + 32] += np.hanning(32).astype(np.float32)
    ks = []
    for r in (0.8, 1.25):
        y = time_stretch(x, float(sr), np.full(n, r), high_quality=False)[0]
        d = np.abs(np.diff(y.astype(np.float64)))
        win = int(0.03 * sr)
        offs = []
        for c in clicks[4:14] / r:
            a = int(c) - win
            offs.append(a + int(np.argmax(d[a: a + 2 * win])) - c)
        ks.append(-float(np.median(offs)) / (1.0 / r - 1.0))
    k = float(np.mean(ks))
    try:
        write_entry("music-stretch", key, {"k": k})
    except OSError:
        pass  # measured again next time
    return k


class StretchedSource:
    """A music-time source played at session time with the tempo of a :class:`TimeMap`.

    Parameters
    ----------
    source : object with ``read(start, frames) -> float32 (2, frames)``
        The music in music-time frames (a pure function of position).
    timemap : TimeMap
    sr : int > 0
    high_quality : bool
        Rubber Band's finer engine (R3) instead of the faster one (R2). R3 sounds smoother
        but its timing drifts by up to 0.2 % inside a segment (ratio quantisation), which
        shows as a flam in the joins; R2 keeps the planned timing within a few milliseconds.
    """

    def __init__(self, source, timemap: TimeMap, sr: int, *, high_quality: bool = False):
        self.source = source
        self.map = timemap
        self.sr = int(sr)
        self.high_quality = bool(high_quality)
        self.seg = int(round(SEGMENT_S * self.sr))
        self.fade = int(round(FADE_S * self.sr)) // 2 * 2
        self.prime = int(round(PRIME_S * self.sr))
        self._cache: dict[int, np.ndarray] = {}
        self._gains: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._worker = None  # the executor of prefetches (two threads: both sides of a join)
        self._pending: dict = {}  # segment -> Future
        self._reading = threading.Lock()

    # ------------------------------------------------------------------ segments
    def _segment(self, k: int) -> np.ndarray:
        """Session frames [k S - F/2, (k+1) S + F/2) of segment ``k``'s rendition (waiting for
        a :meth:`prefetch` of it, else computing it here)."""
        hit = self._cache.get(k)
        if hit is not None:
            return hit
        fut = self._pending.pop(k, None)
        hit = fut.result() if fut is not None else self._stretch(k)
        self._cache[k] = hit
        while len(self._cache) > KEEP_SEGMENTS:
            self._cache.pop(max(self._cache, key=lambda q: abs(q - k)))
        return hit

    def prefetch(self, start: int, frames: int) -> None:
        """Start stretching, on worker threads, the segments a read of session frames
        [start, start + frames) needs, for a caller with other work to do before that read
        (Rubber Band releases the GIL, so it overlaps; the samples are the same)."""
        half = self.fade // 2
        k0 = (start + half) // self.seg
        k1 = (start + max(frames, 1) - 1 + half) // self.seg
        first = k0 - 1 if start < k0 * self.seg - half + self.fade else k0  # in a join
        want = [q for q in range(first, k1 + 1)
                if q not in self._cache and q not in self._pending]
        if not want:
            return
        if self._worker is None:
            from concurrent.futures import ThreadPoolExecutor

            self._worker = ThreadPoolExecutor(2, thread_name_prefix="resonator-stretch")
        for q in [q for q in self._pending if q not in want]:  # an earlier start's
            self._pending.pop(q).cancel()
        for q in want:
            self._pending[q] = self._worker.submit(self._stretch, q)

    def _stretch(self, k: int) -> np.ndarray:
        """Segment ``k`` computed (see :meth:`_segment`): a pure function of ``k``. Segments
        before the session's start are silence (the session starts with segment 0 fading
        in over the half join after its first frame; nothing before it is heard)."""
        from pedalboard import time_stretch

        sr, half = self.sr, self.fade // 2
        n0 = k * self.seg - half            # first kept session frame
        n1 = (k + 1) * self.seg + half      # end of the kept frames
        if k < 0:
            return np.zeros((2, n1 - n0), dtype=np.float32)
        t_a = (n0 - self.prime) / sr
        t_b = (n1 + self.prime) / sr
        i_a = int(math.floor(float(self.map.music_s(t_a)) * sr))
        i_b = int(math.ceil(float(self.map.music_s(t_b)) * sr)) + 1
        with self._reading:  # a prefetch on the worker and a read here never share a file
            x = self.source.read(i_a, i_b - i_a)
        # the stretch factor at each input frame: the tempo at the session time it plays
        step = 256
        grid = np.arange(i_a, i_b + step, step, dtype=np.float64)
        r_grid = self.map.rate(self.map.session_s(grid / sr))
        factors = np.interp(np.arange(i_a, i_b, dtype=np.float64), grid, r_grid)
        y = time_stretch(np.ascontiguousarray(x), float(sr), factors,
                         high_quality=self.high_quality)
        # output frame j plays at session time session_s(i_a / sr) + j / sr, less the
        # stretcher's offset at the segment's tempo
        r_mid = float(self.map.rate(((k + 0.5) * self.seg) / sr))
        early = stretch_latency(sr) * (1.0 / r_mid - 1.0)
        j0 = int(round(n0 - float(self.map.session_s(i_a / sr)) * sr - early))
        out = np.zeros((2, n1 - n0), dtype=np.float32)
        a, b = max(j0, 0), min(j0 + n1 - n0, y.shape[1])
        if b > a:
            out[:, a - j0: b - j0] = y[:, a:b]
        return out

    def _join_gains(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Gains (out of segment k-1, into segment k) over the join at ``k S``: sine/cosine
        scaled so the mix keeps the power of either rendition given their correlation."""
        hit = self._gains.get(k)
        if hit is not None:
            return hit
        F = self.fade
        a = self._segment(k - 1)[:, -F:].astype(np.float64)
        b = self._segment(k)[:, :F].astype(np.float64)
        den = math.sqrt(float(np.sum(a * a)) * float(np.sum(b * b)))
        rho = float(np.sum(a * b)) / den if den > 0 else 0.0
        rho = min(max(rho, 0.0), 1.0)
        th = 0.5 * np.pi * (np.arange(F) + 0.5) / F
        c, s = np.cos(th), np.sin(th)
        norm = 1.0 / np.sqrt(1.0 + 2.0 * rho * c * s)
        g = (c * norm, s * norm)
        self._gains[k] = g
        if len(self._gains) > KEEP_SEGMENTS:
            self._gains.pop(max(self._gains, key=lambda q: abs(q - k)))
        return g

    # ------------------------------------------------------------------ public
    def read(self, start: int, frames: int) -> np.ndarray:
        """Session frames [start, start + frames) as float32 (2, frames)."""
        out = np.empty((2, frames), dtype=np.float32)
        S, F, half = self.seg, self.fade, self.fade // 2
        pos, end = start, start + frames
        while pos < end:
            k = (pos + half) // S          # the segment whose solo part or join holds pos
            j_lo = k * S - half            # the join into segment k: [j_lo, j_lo + F)
            if pos < j_lo + F:             # inside the join
                n = min(end, j_lo + F) - pos
                g_out, g_in = self._join_gains(k)
                i = pos - j_lo
                prev = self._segment(k - 1)[:, S + i: S + i + n]
                cur = self._segment(k)[:, i: i + n]
                out[:, pos - start: pos - start + n] = prev * g_out[i: i + n] + \
                    cur * g_in[i: i + n]
            else:                          # segment k alone
                n = min(end, (k + 1) * S - half) - pos
                seg = self._segment(k)
                i = pos - j_lo
                out[:, pos - start: pos - start + n] = seg[:, i: i + n]
            pos += n
        return out


class UnstretchedSource:
    """The music a :class:`StretchedSource` plays, at the same place but at its own tempo: a
    stand-in with the stretched music's loudness (the stretch keeps it) that costs a read.

    Session time is cut into cells of :data:`CELL_S` on an absolute grid; cell ``k`` plays the
    music from where the tempo map has it at the cell's centre, at the music's own speed
    (so nothing drifts further than ``CELL_S |1 - r| / 2`` from the stretched music, and the
    output is a pure function of position). Where the tempo is 1 it is the music itself.

    Parameters
    ----------
    source : object with ``read(start, frames) -> float32 (2, frames)``
        The music in music-time frames.
    timemap : TimeMap
    sr : int > 0
    """

    def __init__(self, source, timemap: TimeMap, sr: int):
        self.source = source
        self.map = timemap
        self.sr = int(sr)
        self.cell = int(round(CELL_S * self.sr))

    def read(self, start: int, frames: int) -> np.ndarray:
        """Session frames [start, start + frames) as float32 (2, frames)."""
        C, end = self.cell, start + frames
        k0, k1 = start // C, (end - 1) // C
        centres = (np.arange(k0, k1 + 1) + 0.5) * C
        # music frame that plays at each cell's first frame
        firsts = np.round(self.map.music_s(centres / self.sr) * self.sr - 0.5 * C).astype(np.int64)
        parts = []
        for k, m in zip(range(k0, k1 + 1), firsts):
            a, b = max(start, k * C), min(end, (k + 1) * C)
            parts.append(self.source.read(int(m) + a - k * C, b - a))
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
