"""Automation curves: breakpoints with per-segment shapes and an exact integral.

A :class:`Curve` is a one-channel control signal and a pure function of time. Its
:meth:`Curve.integral` is exact (closed form per segment), so an oscillator whose frequency
follows a curve gets its phase from the integral: a 10 -> 20 Hz glide sweeps 10 -> 20 Hz, never
beyond, whatever the block size.

Segment shapes (the shape names the segment that *ends* at a breakpoint):

========== ===================================================================================
step       holds the previous value, jumps at the breakpoint
linear     straight line
exp        exponential (geometric) between two values of the same sign: v0 * (v1/v0) ** x
db         linear in decibels between two amplitudes >= 0 (zero counts as -120 dB)
cos        half-cosine ease in and out: v0 + (v1 - v0) * (1 - cos(pi x)) / 2
smooth     smoothstep 3x^2 - 2x^3
curve:C    SuperCollider Env curvature C (C > 0 slow start, C < 0 fast start, 0 = linear;
           -50 <= C <= 50)
========== ===================================================================================

Before the first breakpoint the curve holds the first value; after the last, the last value.
"""
from __future__ import annotations

import bisect

import math
from typing import Iterable, Sequence

import numpy as np

from .._lazy import unique
from ..errors import GraphError
from ..kernels import curve_block, curve_eval, curve_integral
from .core import Node, TimeFunction, hold

SHAPES = ("step", "linear", "exp", "db", "cos", "smooth", "curve:C")
_DB_FLOOR = 1e-6  # -120 dB: where "db" segments treat silence


def _exp(y: np.ndarray) -> np.ndarray:
    """exp(y) for curve values (float64, like the evaluation kernels)."""
    return np.exp(np.asarray(y, dtype=np.float64))


_KIND_CODE = {"step": 0, "linear": 1, "exp": 2, "db": 3, "cos": 4, "smooth": 5, "curve": 6}


def _cos_pi(x: np.ndarray) -> np.ndarray:
    """cos(pi x) for curve values (float64, like the evaluation kernels)."""
    return np.cos(np.pi * np.asarray(x, dtype=np.float64))


#: the largest curvature of a ``curve:C`` segment: at |C| = 50 a segment already stays within
#: 1e-20 of one end until its last few percent; beyond, its exact integral overflows float64
MAX_CURVATURE = 50.0


def _curvature(c: float, shape) -> float:
    if not math.isfinite(c) or abs(c) > MAX_CURVATURE:
        raise GraphError(f"curve shape {shape!r}: the curvature C must be from "
                         f"-{MAX_CURVATURE:g} to {MAX_CURVATURE:g} (steeper is a step)")
    return c


def parse_shape(shape: str) -> tuple[str, float]:
    """``(kind, c)`` of a curve shape name (:data:`SHAPES`, with the aliases lin,
    exponential, cosine, sine, smoothstep) or a number (``curve:C``); GraphError otherwise."""
    if isinstance(shape, (int, float)) and not isinstance(shape, bool):
        c = _curvature(float(shape), shape)
        return ("linear", 0.0) if abs(c) < 1e-9 else ("curve", c)
    s = str(shape).strip().lower()
    if s in ("step", "linear", "exp", "db", "cos", "smooth"):
        return s, 0.0
    if s in ("lin",):
        return "linear", 0.0
    if s in ("exponential",):
        return "exp", 0.0
    if s in ("cosine", "sine"):
        return "cos", 0.0
    if s in ("smoothstep",):
        return "smooth", 0.0
    if s.startswith("curve:"):
        try:
            c = float(s.split(":", 1)[1])
        except ValueError:
            pass
        else:
            if math.isfinite(c):
                c = _curvature(c, shape)
                return ("linear", 0.0) if abs(c) < 1e-9 else ("curve", c)
    raise GraphError(f"unknown curve shape {shape!r}: allowed are {', '.join(SHAPES)}")


def _checked_points(pts: list, default_shape: str):
    """(times, values, kinds, curvatures) of breakpoints, checked one by one: GraphError
    naming the first bad point."""
    times, values, kinds, params = [], [], [], []
    for i, p in enumerate(pts):
        if len(p) not in (2, 3):
            raise GraphError(
                f"curve point {i}: expected (time_s, value) or (time_s, value, shape), got {p!r}"
            )
        try:
            t, v = float(p[0]), float(p[1])
        except (TypeError, ValueError):
            raise GraphError(f"curve point {i}: time and value must be numbers, got {p!r}")
        if not (math.isfinite(t) and math.isfinite(v)):
            raise GraphError(f"curve point {i}: time and value must be finite, got {p!r}")
        if times and t < times[-1]:
            raise GraphError(
                f"curve point {i}: time {t:g} s is earlier than the previous point "
                f"({times[-1]:g} s); breakpoint times must not decrease"
            )
        kind, c = parse_shape(p[2] if len(p) == 3 else default_shape)
        if i > 0 and kind in ("exp",) and (values[-1] == 0 or v == 0 or (values[-1] > 0) != (v > 0)):
            raise GraphError(
                f"curve point {i}: an exp segment needs two non-zero values of the same sign, "
                f"got {values[-1]:g} -> {v:g}; use 'db' for fades from silence"
            )
        if i > 0 and kind == "db" and (values[-1] < 0 or v < 0):
            raise GraphError(f"curve point {i}: a db segment needs values >= 0, got {v:g}")
        times.append(t)
        values.append(v)
        kinds.append(kind)
        params.append(c)
    return times, values, kinds, params


def _fast_points(pts: list, default_shape: str):
    """:func:`_checked_points` for long, valid point lists, vectorised (the same numbers);
    None when anything looks wrong (the checked path then names it)."""
    if len(pts) < 16:
        return None
    try:
        if any(len(p) not in (2, 3) for p in pts):
            return None
        t = np.array([p[0] for p in pts], dtype=np.float64)
        v = np.array([p[1] for p in pts], dtype=np.float64)
        memo: dict = {}
        kinds, params = [], []
        for p in pts:
            sh = p[2] if len(p) == 3 else default_shape
            hit = memo.get((type(sh), sh))
            if hit is None:
                hit = memo[(type(sh), sh)] = parse_shape(sh)
            kinds.append(hit[0])
            params.append(hit[1])
    except (TypeError, ValueError, GraphError):
        return None
    if t.ndim != 1 or v.ndim != 1 or not (np.all(np.isfinite(t)) and np.all(np.isfinite(v))) \
            or np.any(t[1:] < t[:-1]) or any(type(p[0]) is str or type(p[1]) is str for p in pts):
        return None
    for k in range(1, len(kinds)):
        if kinds[k] == "exp" and (v[k - 1] == 0 or v[k] == 0 or (v[k - 1] > 0) != (v[k] > 0)):
            return None
        if kinds[k] == "db" and (v[k - 1] < 0 or v[k] < 0):
            return None
    return t, v.tolist(), kinds, params


class Curve(TimeFunction):
    """A breakpoint curve with per-segment shapes, exact values and exact integral.

    Parameters
    ----------
    points : sequence of (time_s, value) or (time_s, value, shape)
        Breakpoints with non-decreasing times in seconds. The optional shape of a point names the
        segment that ends there (default ``default_shape``). Equal times make an instant step.
    default_shape : str
        Shape of segments that do not name one (default ``"linear"``).
    name : str, optional
        Stable name in the graph.

    Examples
    --------
    >>> glide = Curve([(0, 10.0), (20, 20.0)])            # 10 -> 20 Hz over 20 s
    >>> fade = Curve([(0, 0.0), (5, 1.0, "cos")])         # raised-cosine fade-in
    >>> float(glide.integral(20.0))                        # cycles in the first 20 s
    300.0
    """

    def __init__(self, points: Iterable[Sequence], *, default_shape: str = "linear", name=None):
        super().__init__(name=name)
        pts = [tuple(p) for p in points]
        if not pts:
            raise GraphError("a curve needs at least one breakpoint")
        parsed = _fast_points(pts, default_shape) or _checked_points(pts, default_shape)
        self._setup(*parsed)

    @classmethod
    def _of_arrays(cls, t: np.ndarray, v: np.ndarray, shape: str, *, name=None) -> "Curve":
        """``Curve([(t[0], v[0]), (t[1], v[1], shape), ...])`` for points valid by
        construction (finite, ``t`` ascending, ``shape`` a plain kind and ``v`` allowed by
        it): the same curve without checking and converting the points one by one."""
        curve = cls.__new__(cls)
        TimeFunction.__init__(curve, name=name)
        n = len(t)
        curve._setup(np.array(t, dtype=np.float64), np.array(v, dtype=np.float64).tolist(),
                     ["linear"] + [shape] * (n - 1), [0.0] * n)
        return curve

    def _setup(self, times, values, kinds, params):
        """Set the curve up from its checked breakpoints."""
        self.t = np.asarray(times, dtype=np.float64)
        self.v = np.asarray(values, dtype=np.float64)
        self.kinds = kinds
        self.curvature = np.array(params, dtype=np.float64)
        n = len(kinds)
        # cumulative integral at each breakpoint (step and linear segments vectorised, in
        # the arithmetic of _segment_integral at x = 1)
        seg = np.zeros(n)
        if n > 1:
            codes = np.array([_KIND_CODE[k] for k in kinds], dtype=np.int64)
            t, v = self.t, self.v
            d = t[1:] - t[:-1]
            v0, v1 = v[:-1], v[1:]
            step = codes[1:] == 0
            lin = codes[1:] == 1
            seg[1:][step] = (v0 * d)[step]
            seg[1:][lin] = ((v0 + (v1 - v0) * 0.5) * d)[lin]
            done = step | lin
            expo = (codes[1:] == 2) | (codes[1:] == 3)
            if np.count_nonzero(expo) > 8:  # many exp/db segments (a sampled dB curve)
                seg[1:][expo] = self._exp_integrals(codes, values, d)[expo]
                done |= expo
            cos = codes[1:] == 4
            if np.count_nonzero(cos) > 8:  # many cos segments (a breath curve)
                x = np.array([1.0])
                c = (x - np.sin(np.pi * x) / np.pi)[0]
                seg[1:][cos] = ((v0 * 1.0 + (v1 - v0) * 0.5 * c) * d)[cos]
                done |= cos
            for k in np.flatnonzero(~done) + 1:
                seg[k] = self._segment_integral(int(k), np.array([1.0]))[0]
            seg[1:][d == 0.0] = 0.0
        self.cum = np.concatenate([[0.0], np.cumsum(seg[1:])])
        self._base = None  # (source curve, scale, offset) when made by affine algebra
        # per-segment constants of the evaluation kernel
        self._codes = np.array([_KIND_CODE[k] for k in kinds], dtype=np.int64)
        self._a0 = np.zeros(n)
        self._r = np.zeros(n)
        self._e = np.ones(n)
        for k in np.flatnonzero(self._codes[1:] >= 2) + 1:
            k = int(k)
            v0, v1 = values[k - 1], values[k]
            if kinds[k] == "exp":
                self._a0[k] = v0
                self._r[k] = math.log(v1 / v0)
            elif kinds[k] == "db":
                a0, a1 = max(v0, _DB_FLOOR), max(v1, _DB_FLOOR)
                self._a0[k] = a0
                self._r[k] = math.log(a1 / a0)
            elif kinds[k] == "curve":
                self._r[k] = params[k]
                self._e[k] = math.expm1(params[k])

    @staticmethod
    def _exp_integrals(codes, values, d):
        """The whole-segment integrals of exp and db segments (others: garbage), vectorised:
        what :meth:`_segment_integral` computes at x = 1, ``a0 expm1(r) / r d`` (``a0 d``
        when ``|r| < 1e-12``), ``r`` from ``math.log`` as there."""
        m = len(codes) - 1
        a0 = np.ones(m)
        r = np.zeros(m)
        for k in np.flatnonzero((codes[1:] == 2) | (codes[1:] == 3)):
            v0, v1 = values[k], values[k + 1]
            if codes[k + 1] == 3:
                v0, v1 = max(v0, _DB_FLOOR), max(v1, _DB_FLOOR)
            a0[k] = v0
            r[k] = math.log(v1 / v0)
        flat = np.abs(r) < 1e-12
        f = a0 * np.expm1(np.where(flat, 1.0, r)) / np.where(flat, 1.0, r)
        return np.where(flat, a0, f) * d

    # ------------------------------------------------------------------ info
    def describe(self):
        return f"Curve({len(self.t)} points, {self.t[0]:g}..{self.t[-1]:g} s)"

    def bounds(self):
        lo, hi = float(self.v.min()), float(self.v.max())
        return lo, hi  # every shape stays within its end values

    @property
    def duration(self) -> float:
        """Time of the last breakpoint in seconds."""
        return float(self.t[-1])

    # ------------------------------------------------------------------ shapes
    def _shape(self, k: int, x: np.ndarray) -> np.ndarray:
        """Normalised segment k (ending at point k) at progress x in [0, 1]."""
        v0, v1 = self.v[k - 1], self.v[k]
        kind = self.kinds[k]
        if kind == "step":
            return np.where(x >= 1.0, v1, v0)
        if kind == "linear":
            return v0 + (v1 - v0) * x
        if kind == "exp":
            return v0 * _exp(math.log(v1 / v0) * x)
        if kind == "db":
            a0, a1 = max(v0, _DB_FLOOR), max(v1, _DB_FLOOR)
            y = a0 * _exp(math.log(a1 / a0) * x)
            # land exactly on the end values, silence included
            return np.where(x >= 1.0, v1, np.where(x <= 0.0, v0, y))
        if kind == "cos":
            return v0 + (v1 - v0) * (1.0 - _cos_pi(x)) * 0.5
        if kind == "smooth":
            return v0 + (v1 - v0) * x * x * (3.0 - 2.0 * x)
        c = self.curvature[k]
        return v0 + (v1 - v0) * (_exp(c * x) - 1.0) / math.expm1(c)

    def _segment_integral(self, k: int, x: np.ndarray) -> np.ndarray:
        """Integral of segment k from its start to progress x, in value * seconds."""
        d = self.t[k] - self.t[k - 1]
        if d == 0.0:
            return np.zeros_like(x)
        v0, v1 = self.v[k - 1], self.v[k]
        kind = self.kinds[k]
        if kind == "step":
            f = v0 * x
        elif kind == "linear":
            f = v0 * x + (v1 - v0) * x * x * 0.5
        elif kind in ("exp", "db"):
            if kind == "db":
                a0, a1 = max(v0, _DB_FLOOR), max(v1, _DB_FLOOR)
            else:
                a0, a1 = v0, v1
            r = math.log(a1 / a0)
            f = a0 * x if abs(r) < 1e-12 else a0 * np.expm1(r * x) / r
        elif kind == "cos":
            f = v0 * x + (v1 - v0) * 0.5 * (x - np.sin(np.pi * x) / np.pi)
        elif kind == "smooth":
            f = v0 * x + (v1 - v0) * (x**3 - 0.5 * x**4)
        else:
            c = self.curvature[k]
            f = v0 * x + (v1 - v0) * (np.expm1(c * x) / c - x) / math.expm1(c)
        return f * d

    # ------------------------------------------------------------------ evaluation
    def _locate(self, t: np.ndarray):
        k = np.searchsorted(self.t, t, side="right")  # t in [t[k-1], t[k])
        return k

    def _segments(self, t: np.ndarray):
        """Yield (segment index k, slice of t) covering ``t``; fast when t is ascending.

        k == 0 means before the first breakpoint, k == len(points) after the last.
        """
        n = len(self.t)
        if t.ndim == 1 and t.size > 1 and t[0] <= t[-1] and (t.size < 3 or t[1] >= t[0]):
            k_first = int(np.searchsorted(self.t, t[0], side="right"))
            k_last = int(np.searchsorted(self.t, t[-1], side="right"))
            # block sample times are ascending: cut them at the breakpoints in between
            cuts = np.searchsorted(t, self.t[k_first:k_last], side="left")
            edges = [0, *cuts.tolist(), t.size]
            for i, k in enumerate(range(k_first, k_last + 1)):
                if edges[i + 1] > edges[i]:
                    yield k, slice(edges[i], edges[i + 1])
            return
        k = np.searchsorted(self.t, t, side="right")
        for seg in unique(k):
            yield int(seg), k == seg

    def evaluate(self, t) -> np.ndarray:
        """Curve values at times ``t`` (seconds)."""
        t = np.asarray(t, dtype=np.float64)
        flat = np.ascontiguousarray(t).reshape(-1)
        out = np.empty(flat.shape)
        curve_eval(flat, self.t, self.v, self._codes, self._a0, self._r, self._e, out)
        return out.reshape(t.shape)

    def _constant_over(self, t0: float, t1: float):
        """The value when the curve holds one value over [t0, t1] (one flat segment), else None."""
        last = self.__dict__.get("_last_hold")
        if last is not None and last[0] <= t0 and t1 < last[1]:
            return last[2]  # inside the flat span found for an earlier block
        lists = self.__dict__.get("_lists")
        if lists is None:  # plain lists: bisect on floats is far cheaper than numpy per call
            lists = self._lists = (self.t.tolist(), self.v.tolist())
        tl, vl = lists
        k = bisect.bisect_right(tl, t0)
        if k != bisect.bisect_right(tl, t1):
            return None
        n = len(tl)
        if k == 0:
            self._last_hold = (-math.inf, tl[0], vl[0])
            return vl[0]
        if k >= n:
            self._last_hold = (tl[-1], math.inf, vl[-1])
            return vl[-1]
        v0 = vl[k - 1]
        if v0 != vl[k] or (self.kinds[k] == "db" and v0 < _DB_FLOOR):
            return None  # (a db segment from silence to silence sits at the floor inside)
        self._last_hold = (tl[k - 1], tl[k], v0)
        return v0

    def integral(self, t) -> np.ndarray:
        """Exact integral of the curve from time 0 to ``t`` (seconds); value * seconds.

        Before the first breakpoint the curve holds its first value, so the integral is defined
        for every t >= 0 (and negative t integrates backwards).
        """
        t = np.asarray(t, dtype=np.float64)
        flat = np.ascontiguousarray(t).reshape(-1)
        out = np.empty(flat.shape)
        curve_integral(flat, self.t, self.v, self._codes, self._a0, self._r, self._e,
                       self.cum, self.v[0] * self.t[0], out)
        return out.reshape(t.shape)

    def map_to_curve(self, func, *, shape: str = "linear", step_s: float = 0.05,
                     rel_tol: float = 1e-5) -> "Curve":
        """A curve approximating ``func(self(t))`` (e.g. dB to amplitude) by sampling.

        Samples every ``step_s`` between the first and last breakpoints (plus the breakpoints
        themselves), then drops points that ``shape`` interpolation reproduces within
        ``rel_tol`` of the value range. Holds outside stay exact.
        """
        return sample_curve(lambda t: func(self.evaluate(t)), self.t[0], self.t[-1],
                            shape=shape, step_s=step_s, rel_tol=rel_tol, extra=self.t)

    # ------------------------------------------------------------------ affine algebra
    def _affine(self, scale: float, offset: float) -> "Curve":
        pts = []
        for i in range(len(self.t)):
            kind = self.kinds[i]
            shape = f"curve:{self.curvature[i]!r}" if kind == "curve" else kind
            v = self.v[i] * scale + offset
            pts.append((self.t[i], v, shape))
        if offset != 0.0 and any(k in ("exp", "db") for k in self.kinds[1:]):
            return None  # exp shapes are not closed under offsets
        out = Curve(pts)
        # remember the source so a render evaluates the shared source once per block and
        # derives this curve with one multiply-add (many partials follow one breath curve)
        base, a, b = self._base if self._base is not None else (self, 1.0, 0.0)
        out._base = (base, a * scale, b * scale + offset)
        return out

    def _process(self, ctx, start, frames):
        if self._base is not None:
            base, a, b = self._base
            x = ctx.pull(base, start, frames)
            if x.strides[-1] == 0:  # the source holds over this block
                return hold(x[0, 0] * a + b if b != 0.0 else x[0, 0] * a, frames)
            return x * a + b if b != 0.0 else x * a
        c = self._constant_over(start / ctx.sr, (start + frames - 1) / ctx.sr)
        if c is not None:  # a hold: a read-only broadcast (consumers never write pulled blocks)
            return hold(c, frames)
        out = np.empty((1, frames))
        # segments found once per block; exp, db, curve:C and cos segments from anchors on
        # an absolute 128-sample grid (resonator.kernels.curve_block): a function of the
        # sample index only, so any block split gives the same bits
        curve_block(start, float(ctx.sr), self.t, self.v, self._codes, self._a0, self._r,
                    self._e, out[0])
        return out

    def __mul__(self, other):
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            c = self._affine(float(other), 0.0)
            if c is not None and float(other) != 0.0:
                return c
        return super().__mul__(other)

    __rmul__ = __mul__

    def __add__(self, other):
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            c = self._affine(1.0, float(other))
            if c is not None:
                return c
        return super().__add__(other)

    __radd__ = __add__

    def __neg__(self):
        return self * -1.0


def sample_curve(func, start_s: float, end_s: float, *, shape: str = "linear",
                 step_s: float = 0.25, rel_tol: float = 1e-5, extra=None, name=None) -> Curve:
    """A breakpoint :class:`Curve` approximating a smooth vectorised ``func(t)`` on [start_s, end_s].

    The function is sampled every ``step_s`` seconds (and at the times in ``extra``), joined by
    ``shape`` segments; samples that their two neighbours already predict within ``rel_tol``
    times the value range ("linear") or within 0.0005 dB ("db") are dropped (repeatedly, never two neighbours at once), so holds and
    straight stretches cost nothing. The result has an exact integral and evaluates quickly, so
    slow control signals (temperature-bound parameters) are cheap and oscillators following them
    keep exact, random-access phase. For a schedule that changes over minutes the difference
    from ``func`` at 0.25 s spacing is far below audibility (second-order in the spacing).
    """
    if shape not in ("linear", "db"):
        raise GraphError(f"sample_curve joins samples with 'linear' or 'db' segments, not {shape!r}")
    n = max(2, int(math.ceil((end_s - start_s) / step_s)) + 1)
    t = np.linspace(start_s, end_s, n)
    if extra is not None:
        e = np.asarray(extra, dtype=np.float64).reshape(-1)
        t = _merged(t, np.sort(e[(e >= start_s) & (e <= end_s)]))
    v = np.asarray(func(t), dtype=np.float64)
    if not np.all(np.isfinite(v)):
        raise GraphError("a sampled control curve produced a non-finite value")
    span = float(v.max() - v.min())
    tol = rel_tol * span
    keep = np.ones(len(t), dtype=bool)
    for parity in (0, 1) * 24:
        idx = np.flatnonzero(keep)
        if len(idx) < 3:
            break
        # every other inner point (never two neighbours in one pass), with its neighbours
        mid = idx[1 + parity:-1:2]
        lo, hi = idx[parity:-2:2], idx[2 + parity::2]
        x = (t[mid] - t[lo]) / (t[hi] - t[lo])
        if shape == "db":  # geometric between amplitudes; tolerance 0.0005 dB
            a, b = np.maximum(v[lo], _DB_FLOOR), np.maximum(v[hi], _DB_FLOOR)
            pred = a * (b / a) ** x
            drop = np.abs(np.log(pred / np.maximum(v[mid], _DB_FLOOR))) <= 0.0005 * math.log(10) / 20
        else:
            pred = v[lo] + (v[hi] - v[lo]) * x
            drop = np.abs(pred - v[mid]) <= tol
        if not drop.any() and parity == 1:
            break
        keep[mid[drop]] = False
    idx = np.flatnonzero(keep)
    if shape == "db" and np.any(v[idx] < 0.0):  # (the checked path names the bad point)
        pts = [(float(t[idx[0]]), float(v[idx[0]]))]
        pts += [(float(t[k]), float(v[k]), shape) for k in idx[1:]]
        return Curve(pts, name=name)
    return Curve._of_arrays(t[idx], v[idx], shape, name=name)


def _merged(t: np.ndarray, e: np.ndarray) -> np.ndarray:
    """``np.unique(np.concatenate([t, e]))`` for ascending ``t`` (distinct values) and sorted
    ``e``: ``e``'s new values inserted where they belong (a few searches instead of sorting
    some 50,000 samples: 0.2 instead of 7 ms)."""
    if t.size < 2 or not t[-1] > t[0] or not np.all(t[1:] > t[:-1]):
        return unique(np.concatenate([t, e]))
    if e.size == 0:
        return t
    pos = np.searchsorted(t, e)
    new = e[(pos >= t.size) | (t[np.minimum(pos, t.size - 1)] != e)]
    if new.size > 1:
        new = new[np.concatenate([[True], new[1:] != new[:-1]])]
    return np.insert(t, np.searchsorted(t, new), new)


def glide(start_value: float, end_value: float, duration_s: float, *, start_s: float = 0.0,
          shape: str = "linear") -> Curve:
    """A two-point curve from ``start_value`` at ``start_s`` to ``end_value`` after ``duration_s``."""
    if duration_s < 0:
        raise GraphError(f"a glide's duration must be >= 0 s, got {duration_s:g}")
    return Curve([(start_s, start_value), (start_s + duration_s, end_value, shape)])
