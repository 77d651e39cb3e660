"""Parameter values: the four forms a recipe can give, parsed to specs and built to graph nodes.

==================== ================================================== =======================
form                 TOML                                               graph node
==================== ================================================== =======================
constant             ``beat = "6 Hz"`` (bare numbers take the unit)      ``Constant``
per phase            ``beat = {energize = "10 Hz", cool = "3 Hz",        ``Curve`` (exact
                     glide = "20s", shape = "linear"}``                   integral)
explicit curve       ``beat = {points = [["0s", "10 Hz"],                ``Curve``
                     ["cool+5m", "4 Hz", "exp"]]}``
temperature-bound    ``beat = {temperature = "2..10 Hz",                 ``FunctionOfTime``
                     mapping = "exponential"}``                           of ``bind(T(t))``
==================== ================================================== =======================

Per phase: a phase not named takes ``default`` when given, else keeps the value of the phase
before it (phases before the first named one take its value). Where the value changes, it
glides over ``glide`` (default: the layer's, else the session's ``glide``) starting at the
phase boundary, with ``shape`` (a :class:`~resonator.graph.Curve` shape, default linear). A
glide is cut short at the end of its phase.

Curve point times: a duration from the session start (``"90s"``, ``"5m"``), a phase name (its
start), ``"PHASE+DUR"`` / ``"PHASE-DUR"``, ``"end"`` or ``"end-DUR"``.

Temperature-bound: the first value is used at T = 0 (cold), the second at T = 1 (hot).
``mapping`` is ``linear``, ``exponential`` or ``db`` (default ``db`` for dB and amplitude
parameters, else ``linear``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import GraphError, RecipeError
from ..graph.core import Constant, FunctionOfTime, Node
from ..graph.curves import SHAPES, Curve, parse_shape, sample_curve
from ..session.schedules import BIND_MAPPINGS, bind
from ..units import RECIPE_UNITS, UNITS, did_you_mean, parse_duration, parse_range, quote

#: units of numeric parameters (:data:`resonator.units.UNITS` holds their parsers and labels)
NUMERIC_UNITS = RECIPE_UNITS
VALUE_FORMS = ("constant", "per-phase", "curve", "temperature")
PER_PHASE_KEYS = ("glide", "shape", "default")
BOUND_KEYS = ("temperature", "mapping")
CURVE_KEYS = ("points", "shape")
#: names a phase cannot have: the keys of value tables, and "end" (a time)
RESERVED_NAMES = tuple(dict.fromkeys(PER_PHASE_KEYS + CURVE_KEYS + BOUND_KEYS + ("end",)))


@dataclass
class Timeline:
    """The session's phases and temperature, as value specs need them.

    Attributes
    ----------
    phases : list of (name, start_s, end_s)
    duration_s : float
    temperature : callable(t) -> T, or None before the temperature is known
    """

    phases: list
    duration_s: float
    temperature: Callable | None = None

    def phase_names(self) -> list[str]:
        return [p[0] for p in self.phases]

    def start_of(self, name: str) -> float | None:
        for n, s, _ in self.phases:
            if n == name:
                return s
        return None


# ------------------------------------------------------------------------------ specs
@dataclass
class ValueSpec:
    """A parsed parameter value in its base unit (see the module docstring)."""

    form: str
    unit: str
    #: constant: value; per-phase: list of values per phase; curve: list of (t, v, shape);
    #: temperature: (lo, hi)
    data: object
    glide_s: float = 0.0
    shape: str = "linear"
    mapping: str = "linear"

    def values(self) -> list[float]:
        """Every value the spec names (for range checks)."""
        if self.form == "constant":
            return [self.data]
        if self.form == "per-phase":
            return list(self.data)
        if self.form == "curve":
            return [p[1] for p in self.data]
        return list(self.data)

    def bounds(self) -> tuple[float, float]:
        v = self.values()
        return min(v), max(v)

    @property
    def varies(self) -> bool:
        return self.form != "constant" and len(set(self.values())) > 1

    def breakpoints(self, timeline: Timeline) -> list[tuple]:
        """Curve points (time_s, value, shape) for per-phase and curve forms."""
        if self.form == "curve":
            return list(self.data)
        pts: list[tuple] = []
        values = list(self.data)
        pts.append((0.0, values[0]))
        for i in range(1, len(values)):
            if values[i] == values[i - 1]:
                continue
            _, start, end = timeline.phases[i]
            g = min(self.glide_s, end - start)
            if g <= 0:
                pts.append((start, values[i - 1]))
                pts.append((start, values[i], "step"))
            else:
                pts.append((start, values[i - 1]))
                pts.append((start + g, values[i], self.shape))
        return pts

    def to_node(self, timeline: Timeline) -> Node:
        """The graph node of this value."""
        if self.form == "constant":
            return Constant(float(self.data))
        if self.form in ("per-phase", "curve"):
            pts = self.breakpoints(timeline)
            if len(pts) == 1 or len({p[1] for p in pts}) == 1:
                return Constant(float(pts[0][1]))
            return Curve(pts)
        lo, hi = self.data
        T = timeline.temperature
        end = timeline.phases[-1][2] if timeline.phases else 0.0
        # a sampled curve: cheap to evaluate, exact integral (oscillators keep random-access
        # phase), indistinguishable from the schedule at 0.25 s spacing
        return sample_curve(self.bound_function(T), 0.0, max(end, 1.0),
                            extra=[p[1] for p in timeline.phases] + [p[2] for p in timeline.phases])

    def bound_function(self, T: Callable) -> Callable:
        """``f(t)`` of a temperature-bound value."""
        lo, hi = self.data
        mapping, unit = self.mapping, self.unit
        if unit == "amp" and mapping == "db":
            lo_db = -math.inf if lo <= 0 else 20 * math.log10(lo)
            hi_db = -math.inf if hi <= 0 else 20 * math.log10(hi)

            def f(t):
                db = bind(T(t), lo_db, hi_db, mapping="db")
                return np.where(np.isneginf(db), 0.0, 10.0 ** (db / 20.0))
            return f
        return lambda t: bind(T(t), lo, hi, mapping=mapping)

    def evaluate(self, timeline: Timeline, t: np.ndarray) -> np.ndarray:
        """Values at times ``t`` (for plans and plots)."""
        t = np.asarray(t, dtype=float)
        if self.form == "constant":
            return np.full(t.shape, float(self.data))
        if self.form == "temperature":
            return np.asarray(self.bound_function(timeline.temperature)(t), dtype=float)
        return Curve(self.breakpoints(timeline)).evaluate(t)

    def describe(self, timeline: Timeline) -> str:
        """Short text for plans: ``6 Hz``, ``per phase 10 -> 6 -> 3 Hz``, ``T: 2..10 Hz``."""
        fmt = UNITS[self.unit].format_g
        if self.form == "constant":
            return fmt(self.data)
        if self.form == "per-phase":
            vals = []
            for v in self.data:
                if not vals or vals[-1] != v:
                    vals.append(v)
            return "per phase " + " -> ".join(fmt(v) for v in vals) + \
                f" (glide {self.glide_s:g}s)"
        if self.form == "curve":
            return f"curve of {len(self.data)} points " + \
                " -> ".join(fmt(p[1]) for p in self.data)
        lo, hi = self.data
        return f"temperature {fmt(lo)} (cold) .. {fmt(hi)} (hot), {self.mapping}"


# ------------------------------------------------------------------------------ parsing
def resolve_time(value, timeline: Timeline, where: str) -> float:
    """A curve or window time: a duration, ``PHASE``, ``PHASE+DUR``, ``PHASE-DUR``, ``end``."""
    if isinstance(value, str):
        text = value.strip()
        names = timeline.phase_names() + ["end"]
        for sign in ("+", "-"):
            head, sep, tail = text.partition(sign)
            head = head.strip()
            if sep and head and (head in names):
                base = timeline.duration_s if head == "end" else timeline.start_of(head)
                d = parse_duration(tail.strip(), where=where)
                return base + d if sign == "+" else base - d
        if text in names:
            return timeline.duration_s if text == "end" else timeline.start_of(text)
        if text and text[0].isalpha() and not text[:1].isdigit():
            try:
                return parse_duration(text, where=where)
            except RecipeError:
                did = did_you_mean(text.split("+")[0].split("-")[0], names)
                raise RecipeError(
                    f"{quote(value)} is not a time{did}: use a duration (\"90s\", \"5m\", "
                    f"\"1:30\"), a phase name (its start: {', '.join(names[:-1])}), "
                    "\"PHASE+DUR\" or \"end-DUR\"", where) from None
    return parse_duration(value, where=where)


def parse_value(raw, unit: str, *, key: str, timeline: Timeline, default_glide: float,
                where: Callable[[tuple], str], allow: tuple = VALUE_FORMS) -> ValueSpec:
    """Parse one parameter value into a :class:`ValueSpec` in the base unit.

    Parameters
    ----------
    raw : number, str or dict
        The TOML value.
    unit : str
        A key of :data:`resonator.units.RECIPE_UNITS`.
    key : str
        The parameter name (for messages).
    timeline : Timeline
        Phases (names and times) of the session.
    default_glide : float
        Glide in seconds for per-phase values that give none.
    where : callable(subpath tuple) -> str
        Location of the value (or of a key inside its table) for errors.
    allow : tuple of str
        Value forms allowed here (non-automatable parameters allow only "constant").

    Raises
    ------
    RecipeError
        With the file, line and key path.
    """
    parser = UNITS[unit].parse
    if not isinstance(raw, dict):
        if isinstance(raw, list):
            raise RecipeError(
                f"{key} takes one value, got a list; for a value that changes over time use "
                f"a table: per phase {{phase = value, ...}}, a curve {{points = [[time, "
                f"value], ...]}} or {{temperature = \"lo..hi\"}}", where(()))
        return ValueSpec("constant", unit, parser(raw, where=where(())))
    if "temperature" in raw:
        _require("temperature", allow, key, where)
        _check_keys(raw, BOUND_KEYS, f"a temperature-bound {key}", where)
        lo, hi = parse_range(raw["temperature"], parser, where=where(("temperature",)))
        default = "db" if unit in ("db", "amp") else "linear"
        mapping = raw.get("mapping", default)
        if mapping not in BIND_MAPPINGS:
            did = did_you_mean(str(mapping), BIND_MAPPINGS)
            raise RecipeError(f"unknown mapping {quote(mapping)}{did or ';'} allowed: "
                              f"{', '.join(BIND_MAPPINGS)}", where(("mapping",)))
        if mapping == "exponential" and (lo == 0 or hi == 0 or (lo < 0) != (hi < 0)):
            raise RecipeError(f"an exponential mapping needs two non-zero values of the same "
                              f"sign, got {lo:g} and {hi:g}; use mapping = \"linear\"",
                              where(("temperature",)))
        if mapping == "db" and unit not in ("db", "amp"):
            raise RecipeError(f"mapping \"db\" is for gains and levels; {key} is in "
                              f"{unit}: use linear or exponential", where(("mapping",)))
        return ValueSpec("temperature", unit, (lo, hi), mapping=mapping)
    if "points" in raw:
        _require("curve", allow, key, where)
        _check_keys(raw, CURVE_KEYS, f"a curve for {key}", where)
        pts_raw = raw["points"]
        default_shape = _shape(raw.get("shape", "linear"), where(("shape",)))
        if not isinstance(pts_raw, list) or not pts_raw:
            raise RecipeError("points must be a non-empty list of [time, value] or "
                              "[time, value, shape]", where(("points",)))
        pts = []
        for i, p in enumerate(pts_raw):
            w = where(("points",)) + f" > point {i + 1}"
            if not isinstance(p, list) or len(p) not in (2, 3):
                raise RecipeError(f"{quote(p)} is not a point: write [time, value] or "
                                  "[time, value, shape]", w)
            t = resolve_time(p[0], timeline, w)
            v = parser(p[1], where=w)
            shape = _shape(p[2], w) if len(p) == 3 else default_shape
            if pts and t < pts[-1][0]:
                raise RecipeError(f"point time {t:g} s is before the previous point "
                                  f"({pts[-1][0]:g} s): times must not decrease", w)
            if i and shape == "exp" and (v == 0 or pts[-1][1] == 0 or (v > 0) != (pts[-1][1] > 0)):
                raise RecipeError("an exp segment needs two non-zero values of the same sign; "
                                  "use 'db' or 'linear'", w)
            pts.append((t, v, shape))
        return ValueSpec("curve", unit, pts)
    # per phase
    _require("per-phase", allow, key, where)
    names = timeline.phase_names()
    for k in raw:
        if k not in names and k not in PER_PHASE_KEYS:
            options = names + list(PER_PHASE_KEYS) + ["points", "temperature"]
            did = did_you_mean(str(k), options)
            raise RecipeError(
                f"unknown key '{k}' in the value of {key}{did or ';'} allowed: the phase names "
                f"({', '.join(names)}), glide, shape, default; or points = [...] for a curve, "
                f"or temperature = \"lo..hi\"", where((k,)))
    given = {n: parser(raw[n], where=where((n,))) for n in names if n in raw}
    default = parser(raw["default"], where=where(("default",))) if "default" in raw else None
    if not given and default is None:
        raise RecipeError(f"the per-phase value of {key} names no phase: give at least one of "
                          f"{', '.join(names)}", where(()))
    values: list[float] = []
    first = given[next(n for n in names if n in given)] if given else default
    for n in names:
        if n in given:
            values.append(given[n])
        elif default is not None:
            values.append(default)
        else:
            values.append(values[-1] if values else first)
    glide = parse_duration(raw["glide"], where=where(("glide",))) if "glide" in raw \
        else default_glide
    shape = _shape(raw.get("shape", "linear"), where(("shape",)))
    if shape == "exp" and any(v == 0 for v in values) or (
            shape == "exp" and len({v > 0 for v in values}) > 1):
        raise RecipeError("shape \"exp\" needs non-zero values of one sign", where(("shape",)))
    return ValueSpec("per-phase", unit, values, glide_s=glide, shape=shape)


def _require(form, allow, key, where):
    if form not in allow:
        raise RecipeError(f"{key} cannot change over time (a {form} value): give one constant "
                          "value", where(()))


def _check_keys(raw: dict, allowed: tuple, what: str, where):
    for k in raw:
        if k not in allowed:
            did = did_you_mean(str(k), allowed)
            raise RecipeError(f"unknown key '{k}' in {what}{did or ';'} allowed: {', '.join(allowed)}",
                              where((k,)))


def _shape(value, where) -> str:
    try:
        kind, c = parse_shape(value)
    except GraphError as exc:
        if "curvature" in exc.message:  # a curve:C whose C is out of range
            raise RecipeError(exc.message, where) from None
        raise RecipeError(f"unknown shape {quote(value)}{did_you_mean(value, SHAPES) or ';'} allowed: "
                          f"{', '.join(SHAPES)}", where) from None
    return f"curve:{c!r}" if kind == "curve" else kind
