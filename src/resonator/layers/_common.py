"""Shared building blocks of the layer kinds: phase machinery, sampling and target helpers.

Nothing here is part of the recipe contract (:mod:`resonator.layers.base`); the layer modules
use it to keep every built graph a pure function of time wherever the parameters allow.

Phase of a rate (Hz) parameter, in cycles:

* :class:`~resonator.graph.Constant`: ``f t`` (exact);
* :class:`~resonator.graph.Curve`: the curve's closed-form integral (exact, any glide);
* any other node (a temperature-bound :class:`~resonator.graph.FunctionOfTime`, arithmetic on
  nodes): a float64 running phase carried across blocks; a window render fast-forwards it from
  sample 0 on the same block grid, exactly like :class:`~resonator.graph.Oscillator`.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

from .._lazy import median
from ..errors import GraphError, RecipeError
from ..graph.core import Node, TimeFunction, as_node, constant_value, nyquist_problem, walk
from ..graph.curves import Curve
from ..kernels import pair_phase_angles

TWO_PI = 2.0 * math.pi


# ------------------------------------------------------------------------------ values
def const(node) -> float | None:
    """The scalar value of a constant parameter (number or one-channel Constant), else None."""
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return float(node)
    return constant_value(node) if isinstance(node, Node) else None


def integral_fn(node: Node) -> Callable[[np.ndarray], np.ndarray] | None:
    """``t -> integral of node from 0 to t`` when it has a closed form (Constant, Curve)."""
    c = const(node)
    if c is not None:
        return lambda t: c * np.asarray(t, dtype=np.float64)
    if isinstance(node, Curve):
        return node.integral
    return None


def sample(node, times_s, sr: int) -> np.ndarray:
    """Values of a one-channel parameter at ``times_s`` (seconds).

    Constants and time functions are evaluated directly; any other node is rendered one
    sample at each time (window renders, so this is slow for long sessions: parameters from
    recipes are constants, curves or functions of time).
    """
    t = np.atleast_1d(np.asarray(times_s, dtype=np.float64))
    node = as_node(node)
    c = const(node)
    if c is not None:
        return np.full(t.shape, c)
    if isinstance(node, TimeFunction):
        return np.asarray(node.evaluate(t), dtype=np.float64)
    from ..render import render_array  # late: the renderer imports this package's graph

    out = np.empty(t.shape)
    for i, ti in enumerate(t):
        out[i] = render_array(node, 1.0 / sr, sr=sr, start_s=max(0.0, float(ti)))[0, 0]
    return out


def bounds_of(node, sr: int, duration_s: float) -> tuple[float, float]:
    """(min, max) of a parameter: known bounds, else sampled on a 0.5 s grid."""
    c = const(node)
    if c is not None:
        return c, c
    if isinstance(node, TimeFunction) and node.bounds() is not None:
        return node.bounds()
    t = np.linspace(0.0, max(duration_s, 1e-3), max(3, min(4001, int(duration_s * 2) + 2)))
    v = sample(node, t, sr)
    return float(v.min()), float(v.max())


def fail(ctx, param: str, message: str):
    """Raise a RecipeError about ``param`` at the layer's location."""
    raise RecipeError(f"{param}: {message}", where=ctx.where or None)


# ------------------------------------------------------------------------------ phase nodes
class PhaseShaper(Node):
    """A one-channel signal that is a function of the phase of a rate.

    Output ``func(frac, rate_hz, *extras)`` where ``frac`` in [0, 1) is the fractional part of
    ``phase0 + integral(rate)`` in cycles, ``rate_hz`` the rate at each sample and ``extras``
    the blocks of further one-channel parameters (all float64 arrays of the block's length).

    Parameters
    ----------
    rate_hz : number, Curve or Node
        Cycles per second (> 0).
    func : callable
        Vectorised and pure.
    extras : sequence of numbers, curves or nodes
        Further one-channel parameters passed to ``func`` (for example a duty cycle).
    phase0 : float
        Phase in cycles at sample 0.
    """

    def __init__(self, rate_hz, func, extras: Sequence = (), *, phase0: float = 0.0,
                 label: str = "PhaseShaper", name=None):
        super().__init__(name=name)
        self.rate = as_node(rate_hz, "rate")
        self.extras = [as_node(e, "parameter") for e in extras]
        for n in [self.rate, *self.extras]:
            if n.channels != 1:
                raise GraphError(f"{label}: parameters must be one channel, got {n.channels}")
        self.func = func
        self.phase0 = float(phase0)
        self.label = label
        self.channels = 1
        self._integral = integral_fn(self.rate)
        self.needs_prefix = self._integral is None
        self._carry = None

    def inputs(self):
        d = {"rate": self.rate}
        d.update({f"extra{i}": e for i, e in enumerate(self.extras)})
        return d

    def describe(self):
        return self.label

    def _reset(self, ctx, start):
        if self._integral is not None:
            return
        self._carry = self.phase0
        if start == 0:
            return
        for node in walk(self.rate):
            if node.warmup_frames or node.needs_prefix:
                raise GraphError(
                    f"cannot start a window render here: the {self.label}'s rate comes from a "
                    "stateful node; render from the start instead")
        pos = 0
        while pos < start:
            n = min(ctx.block_frames, start - pos)
            self._running(ctx, pos, n)
            pos += n

    def _running(self, ctx, start, frames):
        f = np.broadcast_to(ctx.pull(self.rate, start, frames)[0], (frames,))
        inc = f / ctx.sr
        ph = np.cumsum(inc) - inc + self._carry
        self._carry = math.fmod(ph[-1] + inc[-1], 1.0)
        return ph

    def phase_cycles(self, ctx, start, frames) -> np.ndarray:
        """Unreduced phase in cycles for samples [start, start+frames)."""
        if self._integral is not None:
            return self.phase0 + self._integral(ctx.times(start, frames))
        return self._running(ctx, start, frames)

    def _process(self, ctx, start, frames):
        ph = self.phase_cycles(ctx, start, frames)
        frac = ph - np.floor(ph)
        rate = np.broadcast_to(ctx.pull(self.rate, start, frames)[0], (frames,))
        ex = [np.broadcast_to(ctx.pull(e, start, frames)[0], (frames,)) for e in self.extras]
        out = np.asarray(self.func(frac, rate, *ex), dtype=np.float64)
        return np.broadcast_to(out, (frames,))[None, :]


class PhaseSine(TimeFunction):
    """A sine whose phase (cycles) is a closed-form function of time.

    Used when a frequency is a sum of curves (binaural carrier + beat/2): the phase is the sum
    of their exact integrals, so the output stays a pure function of time.
    """

    def __init__(self, phase_fn, freq_bounds: tuple[float, float], *, name=None):
        super().__init__(name=name)
        self.phase_fn = phase_fn
        self.freq_bounds = freq_bounds

    def describe(self):
        return "PhaseSine"

    def bounds(self):
        return (-1.0, 1.0)

    def _prepare(self, ctx):
        problem = nyquist_problem("a tone", *self.freq_bounds, ctx.sr)
        if problem:
            raise GraphError(problem)

    def evaluate(self, t):
        ph = self.phase_fn(np.asarray(t, dtype=np.float64))
        frac = (ph - np.floor(ph)).astype(np.float32)
        return np.sin(frac * np.float32(TWO_PI)).astype(np.float64)


class PhaseSinePair(Node):
    """Two sines (left, right) with phases ``common(t) + diff(t)`` and ``common(t) - diff(t)``,
    where ``common`` is the exact integral of ``carrier`` and ``diff`` half that of ``beat``.

    The stereo form of :class:`PhaseSine` for a binaural pair (carrier +- beat/2): the times,
    both closed-form phases and the two float32 angles come from one compiled loop
    (:func:`resonator.kernels.pair_phase_angles`). Each channel equals
    ``PhaseSine(lambda t: integral(carrier)(t) +- 0.5 * integral(beat)(t))`` bit for bit.

    Parameters
    ----------
    carrier, beat : number, Constant or Curve [one channel]
        Frequencies in Hz whose integrals have a closed form (:func:`integral_fn`).
    freq_bounds : (float, float)
        The lowest and highest frequency of either ear (checked against Nyquist).
    """

    def __init__(self, carrier, beat, freq_bounds: tuple[float, float], *, name=None):
        super().__init__(name=name)
        self._common, self._diff = _phase_spec(carrier), _phase_spec(beat)
        self.freq_bounds = freq_bounds
        self.channels = 2

    def describe(self):
        return "PhaseSinePair"

    def _prepare(self, ctx):
        PhaseSine._prepare(self, ctx)

    def _process(self, ctx, start, frames):
        angle = np.empty((2, frames), dtype=np.float32)
        pair_phase_angles(start, float(ctx.sr), self._common, self._diff, angle)
        np.sin(angle, out=angle)  # numpy's vectorised float32 sine, as PhaseSine uses
        return angle.astype(np.float64)


def _phase_spec(node):
    """A frequency's integral for the kernel: its constant value (``c t``), or its curve's
    arrays (what :meth:`Curve.integral` passes to ``curve_integral``)."""
    c = const(node)
    if c is not None:
        return c
    if not isinstance(node, Curve):
        raise GraphError(f"a binaural pair needs a constant or curve frequency, got "
                         f"{node.describe()}")
    return (node.t, node.v, node._codes, node._a0, node._r, node._e, node.cum,
            float(node.v[0] * node.t[0]))


def am_modulator(rate_hz, depth) -> Node:
    """Sine amplitude modulation ``(1 + depth cos(2 pi phase)) / (1 + depth)``.

    Peak 1; the envelope's measured depth ``2 |E(f)| / E0`` equals ``depth``; depth 1 swings
    from 0 to 1 (``0.5 + 0.5 cos``).
    """
    d = const(depth)
    r = const(rate_hz)
    if d is not None and r is not None and r > 0:
        # constant rate and depth: cos(2 pi f t) = sin(2 pi (f t + 1/4)) from the exact
        # anchored constant-frequency sine (no per-sample transcendental)
        from ..graph.core import Sum
        from ..graph.oscillators import Sine

        return Sum([Sine(r, amplitude=d / (1.0 + d), phase=0.25), 1.0 / (1.0 + d)],
                   name=None)

    def func(frac, rate, *ex):
        dd = ex[0] if ex else d
        return (1.0 + dd * np.cos(TWO_PI * frac)) / (1.0 + dd)

    extras = () if d is not None else (depth,)
    return PhaseShaper(rate_hz, func, extras, label="AM")


# ------------------------------------------------------------------------------ events
def event_sum(t: np.ndarray, times: np.ndarray, length_s: float, sound, max_overlap: int,
              *, ascending: bool = False):
    """Sum of event sounds at times ``t``: ``sum_k sound(t - times[k], k)`` for active events.

    ``sound(tau, k)`` gets the times since event ``k`` (``0 <= tau < length_s``) and the
    event indices; ``max_overlap`` is the most events that can sound at once. At each time
    the sounds of the ``max_overlap`` latest events at or before it are added, the latest
    first. ``ascending`` promises that ``t`` is a 1-D array in ascending order (a block's
    times): each event's samples are then found by a few searches of ``t`` instead of a
    search per sample (the same sums, bit for bit).
    """
    t = np.asarray(t, dtype=np.float64)
    out = np.zeros(t.shape)
    if times.size == 0 or t.size == 0:
        return out
    t_lo, t_hi = (t[0], t[-1]) if ascending else (t.min(), t.max())
    # event k sounds at t when times[k] in (t - length_s, t]: none in the span, nothing to do
    lo = np.searchsorted(times, t_lo - length_s, side="right")
    if lo >= times.size or times[lo] > t_hi:
        return out
    if ascending:
        return _event_sum_ascending(t, times, length_s, sound, max_overlap, lo, out)
    last = np.searchsorted(times, t, side="right") - 1
    for j in range(max_overlap):
        k = last - j
        ok = k >= 0
        if not ok.any():
            break
        kk = np.where(ok, k, 0)
        tau = t - times[kk]
        act = ok & (tau < length_s)
        if not act.any():
            continue
        out[act] += sound(tau[act], kk[act])
    return out


def _event_sum_ascending(t, times, length_s, sound, max_overlap, lo, out):
    """:func:`event_sum` for ascending ``t``, event by event, latest first.

    Event ``k`` is one of the ``max_overlap`` latest at or before ``t[i]`` exactly when
    ``times[k] <= t[i] < times[k + max_overlap]``: a run of ``t``; inside it ``t[i] -
    times[k]`` grows with ``i``, so ``tau < length_s`` holds on a prefix of that run. Each
    sample gets the same additions in the same order as the general path.
    """
    n = t.size
    first = max(0, int(lo) - max_overlap)  # (events further back cannot reach t[0])
    end = int(np.searchsorted(times, t[-1], side="right"))
    starts = np.searchsorted(t, times[first:end], side="left")
    stops = np.searchsorted(t, times[first + max_overlap:end + max_overlap], side="left")
    stops = np.concatenate([stops, np.full(end - first - stops.size, n, dtype=stops.dtype)])
    for k in range(end - 1, first - 1, -1):
        a, b = int(starts[k - first]), int(stops[k - first])
        if a >= b:
            continue
        tau = t[a:b] - times[k]
        m = int(np.searchsorted(tau, length_s, side="left"))
        if m:
            out[a:a + m] += sound(tau[:m], np.full(m, k))
    return out


class EventSum(TimeFunction):
    """Event sounds as a one-channel signal: :func:`event_sum` of the times (a pure function of
    time; a block is summed event by event, see ``ascending``).

    Parameters
    ----------
    times : np.ndarray [shape=(events,)], ascending
        Event start times in seconds.
    length_s : float > 0
        How long each sound lasts.
    sound : callable
        ``sound(tau, k) -> values``: the sounds of events ``k`` (an index array) at times
        ``tau`` since each one started; element-wise.
    bounds : (float, float)
        Known minimum and maximum of the sum.
    """

    def __init__(self, times: np.ndarray, length_s: float, sound, *, bounds=(-1.0, 1.0),
                 name=None):
        super().__init__(name=name)
        self.times = np.asarray(times, dtype=np.float64)
        self.length_s = float(length_s)
        self.sound = sound
        self.overlap = max_overlap(self.times, self.length_s)
        self._bounds = bounds

    def evaluate(self, t):
        return event_sum(t, self.times, self.length_s, self.sound, self.overlap)

    def bounds(self):
        return self._bounds

    def _process(self, ctx, start, frames):
        return event_sum(ctx.times(start, frames), self.times, self.length_s, self.sound,
                         self.overlap, ascending=True)[None, :]


def max_overlap(times: np.ndarray, length_s: float) -> int:
    """Most events of sorted ``times`` sounding at once when each lasts ``length_s``."""
    if times.size == 0:
        return 0
    ends = np.searchsorted(times, times + length_s, side="left")
    return int(max(1, (ends - np.arange(times.size)).max()))


def raised_cosine(x: np.ndarray) -> np.ndarray:
    """0.5 - 0.5 cos(pi x) clipped to [0, 1] (a rising raised-cosine edge for x in [0, 1])."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))


# ------------------------------------------------------------------------------ targets
def inner_phases(ctx, margin_share: float = 0.1, max_margin_s: float = 30.0):
    """``(name, start_s, end_s)`` of each phase shrunk by a margin at both ends.

    The margin (10 % of the phase, at most 30 s) keeps targets clear of glides between phases
    and of layer fades, which the recipe layer would otherwise drop the target for.
    """
    phases = ctx.phases or [("session", 0.0, ctx.duration_s)]
    out = []
    for pname, a, b in phases:
        m = min(margin_share * (b - a), max_margin_s)
        if b - a - 2 * m > 0:
            out.append((pname, float(a + m), float(b - m)))
    return out


#: a parameter that varies over a phase is sampled in windows at most this far apart (s) ...
GLIDE_GAP_S = 120.0
#: ... and in at most this many windows per phase
GLIDE_SAMPLES = 32


def param_targets(kind: str, node, ctx, *, tolerance: float, window_s: float,
                  scale: float = 1.0, extra: dict | None = None,
                  min_window_s: float | None = None) -> list[dict]:
    """Targets for a parameter, one per phase when it holds still there, else sampled windows.

    In each phase of ``ctx.phases`` (less a margin, see :func:`inner_phases`) the parameter is
    sampled on a grid. When it varies by less
    than a tenth of ``tolerance`` the target covers the whole phase with that value. Otherwise
    windows of ``window_s`` are placed at five points across the phase (more on a long phase,
    so that at most :data:`GLIDE_GAP_S` lies between two; at most :data:`GLIDE_SAMPLES`), each expecting
    the value at the window's centre; the tolerance grows by half the change within the
    window. ``scale`` multiplies values (for example to convert units).
    """
    out: list[dict] = []
    for pname, a, b in inner_phases(ctx):
        base = {"layer": ctx.layer_name, "phase": pname}
        if extra:
            base.update(extra)
        grid = np.linspace(a, b, 65)
        v = sample(node, grid, ctx.sr) * scale
        if not np.all(np.isfinite(v)):
            continue
        if v.max() - v.min() <= 0.1 * tolerance:
            if min_window_s is None or b - a >= min_window_s:
                out.append(dict(base, kind=kind, start_s=float(a), end_s=float(b),
                                expected=median(v), tolerance=float(tolerance)))
            continue
        w = min(window_s, b - a)
        # five points, more on a long glide: no more than GLIDE_GAP_S unread between two
        cover = math.ceil((b - a) / (GLIDE_GAP_S + w) - 1e-9)
        n = int(min(max(5, min(cover, GLIDE_SAMPLES)), max(1, (b - a) // w)))
        centres = a + (np.arange(n) + 0.5) * (b - a) / n
        for c in centres:
            lo, hi = max(a, c - w / 2), min(b, c + w / 2)
            vv = sample(node, np.linspace(lo, hi, 17), ctx.sr) * scale
            vc = float(sample(node, [c], ctx.sr)[0] * scale)
            out.append(dict(base, kind=kind, start_s=float(lo), end_s=float(hi), expected=vc,
                            tolerance=float(tolerance + 0.5 * (vv.max() - vv.min()))))
    return out


# ------------------------------------------------------------------------------ plans
def freq_fn(node, sr: int) -> Callable[[np.ndarray], np.ndarray]:
    """``t -> values`` of a one-channel parameter at session seconds (for plans)."""
    return lambda t: sample(node, t, sr)


def spread_of(node, ctx) -> float:
    """Largest magnitude a parameter reaches over the session."""
    lo, hi = bounds_of(node, ctx.sr, ctx.duration_s)
    return max(abs(lo), abs(hi))


def around(carrier, ctx, half_width_hz: float) -> tuple[float, float]:
    """(lowest carrier - half width, highest carrier + half width) over the session."""
    lo, hi = bounds_of(carrier, ctx.sr, ctx.duration_s)
    return lo - half_width_hz, hi + half_width_hz


def pair_partials(carrier, beat, ctx, harmonics=((1, 1.0),), both_ears: bool = False):
    """Partials of a tone pair: left ``carrier + beat/2``, right ``carrier - beat/2`` (or,
    ``both_ears``, both tones in both ears), each with its ``(number, weight)`` harmonics;
    the fundamentals have role "tone"."""
    from .base import Partial

    c, b = freq_fn(carrier, ctx.sr), freq_fn(beat, ctx.sr)
    signs = ((0, 1.0), (1, -1.0)) if not both_ears else \
        ((0, 1.0), (1, 1.0), (0, -1.0), (1, -1.0))
    out = []
    for ear, sign in signs:
        for k, w in harmonics:
            out.append(Partial(ear, lambda t, k=k, sign=sign: np.abs(
                k * (c(t) + sign * b(t) / 2)), w, "tone" if k == 1 else "harmonic"))
    return out
