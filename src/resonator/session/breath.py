"""Breathing patterns as timelines of a breath control value.

The breath value ``b(t)`` is in [0, 1]: 0 is empty lungs (settled), 1 a full inhale. A pattern
is a list of *phases* (inhale, exhale, hold-full, hold-empty), grouped into *breaths*. Inhales
and exhales are raised-cosine moves between their end values; holds keep the value. Every
pattern starts and each breath ends with empty lungs (``b = 0``), so the timeline never jumps.

Patterns (:func:`breath_pattern`; durations accept numbers of seconds or strings such as
``"4s"``, rates numbers per minute or strings such as ``"6/min"``):

================ ============================================================================
resonance        one breath per cycle of ``60 / rate_per_min`` s (``rate_per_min`` default 6,
                 2..30), split by ``ratio`` = inhale : exhale (default ``"1:1"``; ``"3:7"``
                 or its value 0.43; from 1:5 to 5:1). Inhale ``cycle * r / (1 + r)``.
coherent         6 s in, 6 s out (5 breaths a minute). No parameters.
box              in, hold full, out, hold empty, each ``side_s`` (default 4, 1..20 s).
4-7-8            in 4, hold full 7, out 8 counts of ``count_s`` (default 1, 0.5..2 s).
cyclic-sighing   double inhale: ``in_s`` (default 2, 0.5..10 s) up to ``first_inhale_to``
                 (default 0.8, 0.5..0.95), a top-up of ``top_up_s`` (default 1, 0.3..5 s) to
                 1, then exhale ``out_s`` (default 6, 1..20 s). Both inhales emit an
                 ``"inhale"`` event.
wim-hof          ``rounds`` (default 3, 3..4) of: ``breaths`` (default 30, 30..40) deep fast
                 breaths of ``in_s`` in and ``out_s`` out (default 1.5 s each, 0.5..5 s); a
                 retention hold after the last exhale of ``hold_s`` (default 90, 60..180 s);
                 a recovery breath in over ``recovery_in_s`` (default 2, 1..10 s), held full
                 ``recovery_hold_s`` (default 15, 10..20 s), out over ``recovery_out_s``
                 (default 2, 1..10 s). One round lasts
                 ``breaths*(in_s+out_s) + hold_s + recovery_in_s + recovery_hold_s +
                 recovery_out_s``. After the last round the timeline continues with calm
                 resonance breathing at 6/min (5 s in, 5 s out) for as long as asked.
custom           ``in_s`` and ``out_s`` (required, 0.5..20 s; a zero-length move would be a
                 jump), ``hold_in_s`` (hold full) and ``hold_out_s`` (hold empty), each 0..180
                 s, default 0. ``in``, ``out``, ``hold_in`` and ``hold_out`` are accepted as
                 the same names.
================ ============================================================================

:func:`timeline` lays a pattern out over time; :func:`timeline_varying` lays a repeating
pattern whose pace follows a rate function (for example the session temperature).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping

import numpy as np

from ..errors import RecipeError
from ..units import (
    did_you_mean,
    format_duration,
    parse_duration,
    parse_rate_per_min,
    parse_ratio,
    quote,
)

__all__ = [
    "BREATH_PATTERNS",
    "PHASE_KINDS",
    "Phase",
    "BreathPattern",
    "BreathTimeline",
    "breath_pattern",
    "timeline",
    "timeline_varying",
    "wim_hof_round_s",
    "RATE_RANGE",
    "RATIO_RANGE",
]

BREATH_PATTERNS = ("resonance", "coherent", "box", "4-7-8", "cyclic-sighing", "wim-hof", "custom")
PHASE_KINDS = ("inhale", "exhale", "hold-full", "hold-empty")

#: Rates (breaths per minute) allowed for resonance and for :func:`timeline_varying`.
RATE_RANGE = (2.0, 30.0)
#: Inhale : exhale ratios allowed for resonance breathing.
RATIO_RANGE = (0.2, 5.0)
#: Rate of the calm breathing that follows the last Wim Hof round.
WIM_HOF_AFTER_RATE = 6.0


@dataclass(frozen=True)
class Phase:
    """One part of a breath.

    Attributes
    ----------
    kind : str
        ``"inhale"``, ``"exhale"``, ``"hold-full"`` or ``"hold-empty"``.
    duration_s : float
        Length in seconds, >= 0 (inhales and exhales > 0).
    to : float
        Breath value at the end of the phase, in [0, 1] (a hold keeps the value it starts at).
    """

    kind: str
    duration_s: float
    to: float

    def scaled(self, factor: float) -> "Phase":
        return Phase(self.kind, self.duration_s * factor, self.to)


Breath = tuple  # tuple[Phase, ...]: one breath, starting with an inhale, ending empty


@dataclass(frozen=True)
class BreathPattern:
    """A breathing pattern: an optional finite intro, then one breath repeated for ever.

    Attributes
    ----------
    name : str
        Pattern name, one of :data:`BREATH_PATTERNS`.
    cycle : tuple of tuple of Phase
        The breaths that repeat (one breath for every built-in pattern).
    intro : tuple of tuple of Phase
        Breaths played once before the cycle repeats (the Wim Hof rounds; empty otherwise).
    params : dict
        The resolved parameters, numbers in seconds and per minute.
    """

    name: str
    cycle: tuple
    intro: tuple = ()
    params: Mapping[str, float] = field(default_factory=dict)

    @property
    def cycle_s(self) -> float:
        """Length of the repeating cycle in seconds."""
        return sum(p.duration_s for breath in self.cycle for p in breath)

    @property
    def intro_s(self) -> float:
        """Length of the intro in seconds (0 without one)."""
        return sum(p.duration_s for breath in self.intro for p in breath)

    @property
    def breaths_per_min(self) -> float:
        """Breaths per minute of the repeating cycle."""
        return 60.0 * len(self.cycle) / self.cycle_s


@dataclass(frozen=True)
class BreathTimeline:
    """A breath pattern laid out over time.

    Attributes
    ----------
    pattern : str
        Name of the pattern.
    start_s, end_s : float
        The span that was asked for, in seconds.
    points : list of (float, float, str)
        Breakpoints ``(time_s, value, shape)`` with strictly increasing times. ``shape`` names
        the segment that *ends* at the point: ``"cos"`` is a raised-cosine move from the
        previous point's value, ``v0 + (v1 - v0) * (1 - cos(pi x)) / 2`` with ``x`` the
        fraction of the segment's time; ``"hold"`` keeps the previous value (both ends are
        equal, so "step", "linear" and "cos" all render it identically). The first point is
        ``(start_s, 0.0, "hold")``; its shape means nothing. The phase in progress at
        ``end_s`` is finished, so the last point may lie after ``end_s``.
        :meth:`curve_points` gives the list in the form the graph's ``Curve`` takes.
    events : list of (float, str)
        ``(time_s, kind)`` for each phase starting in ``[start_s, end_s)``, kind in
        :data:`PHASE_KINDS`, in time order. Zero-length holds give no event.
    cycles : list of (float, float)
        ``(start_s, length_s)`` of each breath starting in ``[start_s, end_s)``: from its
        first inhale to the start of the next breath (a Wim Hof round's last power breath
        includes the retention hold).
    """

    pattern: str
    start_s: float
    end_s: float
    points: list
    events: list
    cycles: list

    def __post_init__(self):
        t = np.array([p[0] for p in self.points], dtype=np.float64)
        v = np.array([p[1] for p in self.points], dtype=np.float64)
        object.__setattr__(self, "_t", t)
        object.__setattr__(self, "_v", v)

    @property
    def cycle_s(self) -> float:
        """Mean breath length in seconds over :attr:`cycles`; 60 / cycle_s is breaths/min."""
        if not self.cycles:
            return math.nan
        return float(np.mean([length for _, length in self.cycles]))

    @property
    def breaths_per_min(self) -> float:
        """Mean breathing rate, ``60 / cycle_s``."""
        return 60.0 / self.cycle_s

    def evaluate(self, t) -> np.ndarray:
        """Breath value at times ``t`` (seconds, any shape), vectorised.

        Raised-cosine interpolation between the points (holds are flat); before the first
        point the first value, after the last point the last value. Values are in [0, 1].
        """
        ta = np.asarray(t, dtype=np.float64)
        tp, vp = self._t, self._v
        if len(tp) == 1:
            return np.full(ta.shape, vp[0])
        k = np.clip(np.searchsorted(tp, ta, side="right") - 1, 0, len(tp) - 2)
        x = np.clip((ta - tp[k]) / (tp[k + 1] - tp[k]), 0.0, 1.0)
        w = 0.5 - 0.5 * np.cos(np.pi * x)
        return vp[k] * (1.0 - w) + vp[k + 1] * w

    def curve_points(self, hold_shape: str = "linear") -> list:
        """Breakpoints for a ``Curve``: ``[(t0, v0), (t1, v1, "cos"), (t2, v2, "linear"), ...]``.

        ``"hold"`` segments get ``hold_shape`` (their ends are equal, so any shape is flat).
        """
        out = [(self.points[0][0], self.points[0][1])]
        for t, v, shape in self.points[1:]:
            out.append((t, v, hold_shape if shape == "hold" else shape))
        return out

    def event_times(self, kind: str) -> np.ndarray:
        """Times (s) of the events of one kind, e.g. ``"inhale"``."""
        if kind not in PHASE_KINDS:
            raise RecipeError(f'"{kind}" is not a breath event: allowed are '
                              f"{', '.join(PHASE_KINDS)}")
        return np.array([t for t, k in self.events if k == kind], dtype=np.float64)


# --------------------------------------------------------------------------------- params
class _Params:
    """Reads pattern parameters, remembering which were used so leftovers can be refused."""

    def __init__(self, name: str, params: Mapping, where, aliases: Mapping[str, str] = None):
        self.name, self.where = name, where
        self.values = dict(params)
        for alias, real in (aliases or {}).items():
            if alias in self.values:
                if real in self.values:
                    raise RecipeError(f'give either "{alias}" or "{real}" for a {name} '
                                      "pattern, not both", where)
                self.values[real] = self.values.pop(alias)
        self.allowed: list[str] = []
        self.resolved: dict[str, float] = {}

    def _fail(self, message: str):
        raise RecipeError(message, self.where)

    def _reparse(self, key, parser, raw):
        try:
            return parser(raw, where=None)
        except RecipeError as e:
            self._fail(f"{key}: {e.message}")

    def duration(self, key, default, lo, hi, *, lo_open=False) -> float:
        self.allowed.append(key)
        if key not in self.values and default is None:
            self._fail(f"a {self.name} pattern needs {key} (seconds, {lo:g} to {hi:g})")
        raw = self.values.get(key, default)
        x = self._reparse(key, parse_duration, raw)
        if not ((x > lo if lo_open else x >= lo) and x <= hi):
            low = f"more than {lo:g}" if lo_open else f"at least {lo:g}"
            self._fail(f"{key} must be {low} s and at most {hi:g} s for a {self.name} "
                       f"pattern, got {quote(raw)}")
        self.resolved[key] = x
        return x

    def number(self, key, default, lo, hi) -> float:
        self.allowed.append(key)
        raw = self.values.get(key, default)
        try:
            x = float(raw) if not isinstance(raw, bool) else math.nan
        except (TypeError, ValueError):
            x = math.nan
        if not (lo <= x <= hi):
            self._fail(f"{key} must be a number from {lo:g} to {hi:g}, got {quote(raw)}")
        self.resolved[key] = x
        return x

    def count(self, key, default, lo, hi) -> int:
        self.allowed.append(key)
        raw = self.values.get(key, default)
        try:
            x = float(raw) if not isinstance(raw, bool) else math.nan
        except (TypeError, ValueError):
            x = math.nan
        if not (lo <= x <= hi) or x != int(x):
            self._fail(f"{key} must be a whole number from {lo} to {hi}, got {quote(raw)}")
        self.resolved[key] = int(x)
        return int(x)

    def rate(self, key, default, lo, hi) -> float:
        self.allowed.append(key)
        raw = self.values.get(key, default)
        x = self._reparse(key, parse_rate_per_min, raw)
        if not (lo <= x <= hi):
            self._fail(f"{key} must be from {lo:g} to {hi:g} breaths per minute, got {quote(raw)}")
        self.resolved[key] = x
        return x

    def ratio(self, key, default, lo, hi) -> float:
        self.allowed.append(key)
        raw = self.values.get(key, default)
        x = self._reparse(key, parse_ratio, raw)
        if not (lo - 1e-12 <= x <= hi + 1e-12):
            self._fail(f"{key} (inhale:exhale) must be from 1:{1 / lo:g} to {hi:g}:1, "
                       f"got {quote(raw)}")
        self.resolved[key] = x
        return x

    def finish(self) -> dict:
        for key in self.values:
            if key not in self.allowed:
                did = did_you_mean(str(key), self.allowed)
                options = ", ".join(self.allowed) if self.allowed else "none"
                self._fail(f'"{key}" is not a parameter of the {self.name} breathing '
                           f"pattern{did or ';'} allowed are {options}")
        return dict(self.resolved)


def _simple(inhale: float, hold_full: float, exhale: float, hold_empty: float) -> Breath:
    phases = [Phase("inhale", inhale, 1.0)]
    if hold_full > 0:
        phases.append(Phase("hold-full", hold_full, 1.0))
    phases.append(Phase("exhale", exhale, 0.0))
    if hold_empty > 0:
        phases.append(Phase("hold-empty", hold_empty, 0.0))
    return tuple(phases)


def _resonance_breath(rate: float, ratio: float) -> Breath:
    cycle = 60.0 / rate
    inhale = cycle * ratio / (1.0 + ratio)
    return (Phase("inhale", inhale, 1.0), Phase("exhale", cycle - inhale, 0.0))


def breath_pattern(name: str, *, where: str | None = None, **params) -> BreathPattern:
    """Build a breathing pattern by name.

    Parameters
    ----------
    name : str
        One of :data:`BREATH_PATTERNS` (case-insensitive; ``_`` or a space may stand for
        ``-``, as in ``"wim_hof"``).
    where : str, optional
        The file and place in it, passed to errors.
    **params
        The pattern's parameters; the module documentation lists them with defaults and
        allowed ranges.

    Returns
    -------
    BreathPattern

    Raises
    ------
    RecipeError
        Unknown pattern or parameter, or a parameter outside its allowed range.
    """
    key = str(name).strip().lower().replace("_", "-").replace(" ", "-")
    if key == "478":
        key = "4-7-8"
    if key not in BREATH_PATTERNS:
        did = did_you_mean(str(name), BREATH_PATTERNS)
        raise RecipeError(f'"{name}" is not a breathing pattern{did or ";"} allowed are '
                          f"{', '.join(BREATH_PATTERNS)}", where)
    aliases = {"in": "in_s", "out": "out_s", "hold_in": "hold_in_s", "hold_out": "hold_out_s"}
    p = _Params(key, params, where, aliases if key == "custom" else None)
    intro: tuple = ()
    if key == "resonance":
        rate = p.rate("rate_per_min", 6.0, *RATE_RANGE)
        ratio = p.ratio("ratio", "1:1", *RATIO_RANGE)
        cycle = (_resonance_breath(rate, ratio),)
    elif key == "coherent":
        cycle = (_simple(6.0, 0.0, 6.0, 0.0),)
    elif key == "box":
        side = p.duration("side_s", 4.0, 1.0, 20.0)
        cycle = (_simple(side, side, side, side),)
    elif key == "4-7-8":
        count = p.duration("count_s", 1.0, 0.5, 2.0)
        cycle = (_simple(4 * count, 7 * count, 8 * count, 0.0),)
    elif key == "cyclic-sighing":
        in_s = p.duration("in_s", 2.0, 0.5, 10.0)
        first_to = p.number("first_inhale_to", 0.8, 0.5, 0.95)
        top_up = p.duration("top_up_s", 1.0, 0.3, 5.0)
        out_s = p.duration("out_s", 6.0, 1.0, 20.0)
        cycle = ((Phase("inhale", in_s, first_to), Phase("inhale", top_up, 1.0),
                  Phase("exhale", out_s, 0.0)),)
    elif key == "wim-hof":
        rounds = p.count("rounds", 3, 3, 4)
        breaths = p.count("breaths", 30, 30, 40)
        in_s = p.duration("in_s", 1.5, 0.5, 5.0)
        out_s = p.duration("out_s", 1.5, 0.5, 5.0)
        hold_s = p.duration("hold_s", 90.0, 60.0, 180.0)
        rec_in = p.duration("recovery_in_s", 2.0, 1.0, 10.0)
        rec_hold = p.duration("recovery_hold_s", 15.0, 10.0, 20.0)
        rec_out = p.duration("recovery_out_s", 2.0, 1.0, 10.0)
        power = (Phase("inhale", in_s, 1.0), Phase("exhale", out_s, 0.0))
        last = power + (Phase("hold-empty", hold_s, 0.0),)
        recovery = (Phase("inhale", rec_in, 1.0), Phase("hold-full", rec_hold, 1.0),
                    Phase("exhale", rec_out, 0.0))
        one_round = (power,) * (breaths - 1) + (last, recovery)
        intro = one_round * rounds
        cycle = (_resonance_breath(WIM_HOF_AFTER_RATE, 1.0),)
    else:  # custom
        in_s = p.duration("in_s", None, 0.5, 20.0)
        hold_in = p.duration("hold_in_s", 0.0, 0.0, 180.0)
        out_s = p.duration("out_s", None, 0.5, 20.0)
        hold_out = p.duration("hold_out_s", 0.0, 0.0, 180.0)
        cycle = (_simple(in_s, hold_in, out_s, hold_out),)
    return BreathPattern(name=key, cycle=cycle, intro=intro, params=p.finish())


def wim_hof_round_s(pattern: BreathPattern) -> float:
    """Length of one Wim Hof round in seconds (closed form from the pattern's parameters)."""
    if pattern.name != "wim-hof":
        raise RecipeError(f"{pattern.name} has no rounds: only wim-hof does")
    q = pattern.params
    return (q["breaths"] * (q["in_s"] + q["out_s"]) + q["hold_s"] + q["recovery_in_s"]
            + q["recovery_hold_s"] + q["recovery_out_s"])


# --------------------------------------------------------------------------------- timelines
def _span(duration_s, start_s, where) -> tuple[float, float]:
    duration = parse_duration(duration_s, where=where)
    if duration <= 0:
        raise RecipeError(
            f"a breathing timeline needs a duration above 0, got {quote(duration_s)}", where)
    try:
        start = (parse_duration(start_s, where=where) if isinstance(start_s, str)
                 else float(start_s))
    except (TypeError, ValueError):
        start = math.nan
    if not math.isfinite(start):
        raise RecipeError(f"start_s must be a finite number of seconds, got {quote(start_s)}",
                          where)
    return start, start + duration


def _lay(name: str, breaths: Iterator[tuple], start: float, end: float) -> BreathTimeline:
    """Lay breaths (tuples of phases) from ``start`` until a phase would start at ``end``."""
    points = [(start, 0.0, "hold")]
    events: list = []
    cycles: list = []
    t = start
    for breath in breaths:
        if t >= end:
            break
        length = sum(p.duration_s for p in breath)
        if not length > 0:
            raise RecipeError(f"a breath of the {name} pattern lasts {quote(length)} s: every "
                              "breath must last more than 0 s")
        cycles.append((t, length))
        for phase in breath:
            if t >= end:
                break
            if phase.duration_s <= 0:
                continue
            events.append((t, phase.kind))
            t = t + phase.duration_s
            shape = "cos" if phase.kind in ("inhale", "exhale") else "hold"
            points.append((t, phase.to, shape))
    return BreathTimeline(pattern=name, start_s=start, end_s=end, points=points, events=events,
                          cycles=cycles)


def _as_pattern(pattern, where) -> BreathPattern:
    if isinstance(pattern, BreathPattern):
        return pattern
    if isinstance(pattern, str):
        return breath_pattern(pattern, where=where)
    raise RecipeError(f"expected a breathing pattern, got {quote(pattern)}", where)


def timeline(pattern: BreathPattern | str, duration_s, *, start_s: float = 0.0,
             where: str | None = None) -> BreathTimeline:
    """Lay a breathing pattern out over ``duration_s`` seconds.

    Parameters
    ----------
    pattern : BreathPattern or str
        A pattern from :func:`breath_pattern` (a name uses its defaults).
    duration_s : float or str
        How long to breathe, > 0 (seconds or a duration string such as ``"10m"``).
    start_s : float
        Time of the first inhale, in seconds.
    where : str, optional
        The file and place in it, passed to errors.

    Returns
    -------
    BreathTimeline
        The intro (Wim Hof rounds) then the repeating cycle, from ``start_s`` on, covering
        ``[start_s, start_s + duration_s]``; the phase in progress at the end is finished.
    """
    pat = _as_pattern(pattern, where)
    start, end = _span(duration_s, start_s, where)

    def breaths():
        yield from pat.intro
        while True:
            yield from pat.cycle

    return _lay(pat.name, breaths(), start, end)


def timeline_varying(pattern: BreathPattern | str, duration_s,
                     rate_fn: Callable[[float], float], *, start_s: float = 0.0,
                     where: str | None = None) -> BreathTimeline:
    """Lay a repeating breathing pattern whose pace follows ``rate_fn``.

    Cycles are laid one after another. Each cycle lasts ``60 / rate_fn(t)`` seconds, with
    ``t`` the time the cycle starts; its phases keep the pattern's proportions (all scaled by
    the same factor). Typical use: the pace slows while the session cools, ``rate_fn = lambda t:
    bind(temperature(t), 4.5, 7.0)``.

    Parameters
    ----------
    pattern : BreathPattern or str
        A repeating pattern (not ``"wim-hof"``, whose rounds have a fixed structure).
    duration_s : float or str
        How long to breathe, > 0.
    rate_fn : callable
        ``rate_fn(t_s) -> breaths per minute`` for a scalar time in seconds; each value must be
        from 2 to 30 (:data:`RATE_RANGE`).
    start_s : float
        Time of the first inhale, in seconds.
    where : str, optional
        The file and place in it, passed to errors.

    Returns
    -------
    BreathTimeline
        As from :func:`timeline`; ``cycles`` holds each cycle's start and length.
    """
    pat = _as_pattern(pattern, where)
    if pat.intro:
        raise RecipeError(
            f"the {pat.name} pattern has a fixed structure and cannot follow a rate; a varying "
            "rate works with resonance, coherent, box, 4-7-8, cyclic-sighing and custom", where)
    start, end = _span(duration_s, start_s, where)
    base = pat.cycle_s

    def breaths():
        t = start
        while True:
            raw = rate_fn(t)
            try:
                rate = float(np.asarray(raw, dtype=np.float64))
            except (TypeError, ValueError):
                rate = math.nan
            if not (RATE_RANGE[0] <= rate <= RATE_RANGE[1]):
                raise RecipeError(
                    f"breathing rate at {format_duration(t)} is {quote(raw)}: it must be from "
                    f"{RATE_RANGE[0]:g} to {RATE_RANGE[1]:g} breaths per minute", where)
            factor = (60.0 / rate) / base
            for breath in pat.cycle:
                scaled = tuple(p.scaled(factor) for p in breath)
                yield scaled
                for p in scaled:  # the same additions as _lay, so t is its next start exactly
                    if p.duration_s > 0:
                        t = t + p.duration_s

    return _lay(pat.name, breaths(), start, end)
