"""Temperature schedules: the session-wide control signal of an "annealing" session.

Temperature ``T`` is a number in [0, 1]. A *segment* moves it from ``t_start`` to ``t_end``
(cooling when ``t_end < t_start``, heating when ``t_end > t_start``) following one of the
cooling schedules of simulated annealing. Layer parameters follow it through :func:`bind`.

All functions are pure and vectorised over numpy arrays of progress or time; none depends on
the signal-graph engine.

Curve kinds (``x`` is progress through the segment, 0 at its start, 1 at its end; ``T0`` and
``T1`` are ``t_start`` and ``t_end``; every kind gives exactly ``T0`` at ``x = 0`` and exactly
``T1`` at ``x = 1``):

============== ==============================================================================
linear         ``T0 + (T1 - T0) x``
exponential    geometric cooling ``T0 a^k`` with ``a = (T1/T0)^(1/N)``, in the continuous limit
               ``T0 (T1/T0)^x``. Param ``floor`` (see below).
logarithmic    ``c / log(1 + k)`` with ``k`` running over ``[offset, offset + steps]``,
               normalised to run from ``T0`` to ``T1``: fast change first, then slow. Heating
               is the time-reverse of cooling (slow first). Params ``steps`` (default 10,
               0 < steps <= 1e6) and ``offset`` (default 1, > 0).
lundy-mees     ``1/T = 1/T0 + k b`` in the continuous limit ``1/T = 1/T0 + x (1/T1 - 1/T0)``.
               Param ``floor``.
cosine         half cosine: ``T0 + (T1 - T0) (1 - cos(pi x)) / 2``.
sigmoid        logistic ``1 / (1 + exp(-s (x - 1/2)))`` normalised to hit the ends exactly.
               Param ``steepness`` s (default 10, 0 < s <= 50).
stepped        a stage anneal: ``steps`` N plateaus of equal length (default 5, 2..1000).
               Plateau j (0..N-1) holds the linear or geometric schedule sampled at step
               j of N-1, so the first plateau is ``T0`` and the last is ``T1``. Param
               ``spacing`` ``"linear"`` (default) or ``"exponential"`` (uses ``floor``).
               Neighbouring plateaus join with half-cosine ramps centred on the plateau
               boundary, each ``smooth / N`` of the segment long; ``smooth`` is in (0, 1],
               default 0.1 (1 leaves no flat part). There is never a jump.
============== ==============================================================================

``floor`` (exponential, lundy-mees, stepped with exponential spacing; default 1e-3, in
(0, 1)): a geometric or Lundy-Mees curve cannot reach or leave 0. When the smaller end is
below ``floor`` times the larger (in particular when it is 0) the curve takes the shape it
would have between the larger end and ``floor`` times it, and is then rescaled to run exactly
between the real ends. Otherwise the formula is used as written (the exponential midpoint is
exactly ``sqrt(T0 * T1)``).

All kinds except ``stepped`` are strictly monotonic between different ends; ``stepped`` is
monotonic. When ``t_start == t_end`` every kind is constant.
"""
from __future__ import annotations

import math
from typing import Callable, Mapping, Sequence

import numpy as np

from .._lazy import unique
from ..errors import RecipeError
from ..units import did_you_mean, format_duration, quote

__all__ = [
    "SCHEDULES",
    "SCHEDULE_PARAMS",
    "schedule_curve",
    "progress_of",
    "segments_to_function",
    "bind",
    "BIND_MAPPINGS",
]

SCHEDULES = ("linear", "exponential", "logarithmic", "lundy-mees", "cosine", "sigmoid", "stepped")

#: Parameters each kind accepts, with their defaults.
SCHEDULE_PARAMS: dict[str, dict[str, object]] = {
    "linear": {},
    "exponential": {"floor": 1e-3},
    "logarithmic": {"steps": 10.0, "offset": 1.0},
    "lundy-mees": {"floor": 1e-3},
    "cosine": {},
    "sigmoid": {"steepness": 10.0},
    "stepped": {"steps": 5, "spacing": "linear", "smooth": 0.1, "floor": 1e-3},
}

BIND_MAPPINGS = ("linear", "exponential", "db")

_DB_FLOOR = -120.0  # where "db" binding treats silence (-inf dB)


# --------------------------------------------------------------------------------- checks
def _check_kind(kind, allowed: Sequence[str], what: str, where) -> str:
    k = str(kind).strip().lower() if isinstance(kind, str) else kind
    if k in allowed:
        return k
    did = did_you_mean(str(kind), allowed)
    raise RecipeError(
        f'"{kind}" is not a {what}{did or ";"} allowed are {", ".join(allowed)}', where
    )


def _check_temperature(value, name: str, where) -> float:
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise RecipeError(f"{name} must be a temperature from 0 to 1, got {quote(value)}",
                          where) from None
    if not (0.0 <= t <= 1.0):
        raise RecipeError(f"{name} must be a temperature from 0 to 1, got {quote(value)}", where)
    return t


def _number(params: Mapping, name: str, default, lo: float, hi: float, where, *,
            lo_open=True, hi_open=False, integer=False) -> float:
    value = params.get(name, default)
    lo_txt = f"more than {lo:g}" if lo_open else f"at least {lo:g}"
    hi_txt = f"less than {hi:g}" if hi_open else f"at most {hi:g}"
    kind = "a whole number" if integer else "a number"
    message = f"{name} must be {kind} {lo_txt} and {hi_txt}, got {quote(value)}"
    if isinstance(value, bool):
        raise RecipeError(message, where)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise RecipeError(message, where) from None
    ok = (x > lo if lo_open else x >= lo) and (x < hi if hi_open else x <= hi)
    if not ok or (integer and x != int(x)):
        raise RecipeError(message, where)
    return x


def _check_params(kind: str, params: Mapping, where) -> None:
    allowed = SCHEDULE_PARAMS[kind]
    for name in params:
        if name not in allowed:
            did = did_you_mean(str(name), allowed)
            options = ", ".join(allowed) if allowed else "none"
            raise RecipeError(
                f'"{name}" is not a parameter of a {kind} schedule{did or ";"} allowed are {options}',
                where,
            )


# --------------------------------------------------------------------------------- shapes
def _geometric_ratio(t0: float, t1: float, floor: float) -> float:
    """End-to-start ratio used for geometric and Lundy-Mees shapes, kept within
    [floor, 1/floor] (a 0 end gives floor when cooling, 1/floor when heating)."""
    if t1 < t0:
        return max(t1 / t0, floor)
    return floor ** -1 if t0 == 0.0 else min(t1 / t0, 1.0 / floor)


def _shape_exponential(x: np.ndarray, r: float) -> np.ndarray:
    # (r**x - 1) / (r - 1): fraction of the way from T0 to T1 along T0 * r**x.
    lr = math.log(r)
    return np.expm1(x * lr) / math.expm1(lr)


def _shape_lundy_mees(x: np.ndarray, r: float) -> np.ndarray:
    # T/T0 = 1 / (1 + x (1/r - 1)), so (T - T0) / (T1 - T0) = x / (r + (1 - r) x).
    return x / (r + (1.0 - r) * x)


def _shape_logarithmic(x: np.ndarray, steps: float, offset: float, cooling: bool) -> np.ndarray:
    def cool(u):
        inv = 1.0 / np.log1p(offset + steps * u)
        a = 1.0 / math.log1p(offset)
        b = 1.0 / math.log1p(offset + steps)
        return (inv - a) / (b - a)

    return cool(x) if cooling else 1.0 - cool(1.0 - x)


def _shape_sigmoid(x: np.ndarray, steepness: float) -> np.ndarray:
    h = math.tanh(steepness / 4.0)
    return (np.tanh(steepness * (x - 0.5) / 2.0) + h) / (2.0 * h)


def _lerp(t0: float, t1: float, s):
    """``t0 (1 - s) + t1 s``: exactly t0 at s = 0 and exactly t1 at s = 1."""
    return t0 * (1.0 - s) + t1 * s


def schedule_curve(kind: str, x, t_start: float, t_end: float, *, where: str | None = None,
                   **params) -> np.ndarray:
    """Temperature along one cooling (or heating) segment.

    Parameters
    ----------
    kind : str
        One of :data:`SCHEDULES` (see the module documentation for each formula).
    x : array_like
        Progress through the segment, 0 at its start and 1 at its end (any shape). Values
        outside [0, 1] are clipped, so the curve holds its end values outside the segment.
        Must be finite.
    t_start, t_end : float
        Temperatures at ``x = 0`` and ``x = 1``, each in [0, 1].
    where : str, optional
        The file and place in it, passed to errors.
    **params
        Parameters of the kind (:data:`SCHEDULE_PARAMS` lists them with their defaults):
        ``floor`` (exponential, lundy-mees, stepped), ``steps`` and ``offset`` (logarithmic),
        ``steepness`` (sigmoid), ``steps``, ``spacing`` and ``smooth`` (stepped).

    Returns
    -------
    numpy.ndarray
        float64 temperatures with the shape of ``x``: exactly ``t_start`` at ``x = 0`` and
        ``t_end`` at ``x = 1``, monotonic in between (strictly, except for ``stepped``).

    Raises
    ------
    RecipeError
        Unknown kind or parameter, temperature outside [0, 1], parameter out of range, or
        non-finite progress.
    """
    kind = _check_kind(kind, SCHEDULES, "schedule", where)
    _check_params(kind, params, where)
    t0 = _check_temperature(t_start, "t_start", where)
    t1 = _check_temperature(t_end, "t_end", where)
    xa = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(xa)):
        raise RecipeError("schedule progress must be finite numbers", where)
    xa = np.clip(xa, 0.0, 1.0)

    floor = 1e-3
    if "floor" in SCHEDULE_PARAMS[kind]:
        floor = _number(params, "floor", 1e-3, 0.0, 1.0, where, hi_open=True)

    if kind == "stepped":
        return _stepped(xa, t0, t1, floor, params, where)
    if kind == "logarithmic":
        steps = _number(params, "steps", 10.0, 0.0, 1e6, where)
        offset = _number(params, "offset", 1.0, 0.0, 1e6, where)
    elif kind == "sigmoid":
        steepness = _number(params, "steepness", 10.0, 0.0, 50.0, where)

    if t0 == t1:
        return np.full(xa.shape, t0)
    if kind == "linear":
        s = xa
    elif kind == "cosine":
        s = 0.5 - 0.5 * np.cos(np.pi * xa)
    elif kind == "exponential":
        s = _shape_exponential(xa, _geometric_ratio(t0, t1, floor))
    elif kind == "lundy-mees":
        s = _shape_lundy_mees(xa, _geometric_ratio(t0, t1, floor))
    elif kind == "logarithmic":
        s = _shape_logarithmic(xa, steps, offset, cooling=t1 < t0)
    else:  # sigmoid
        s = _shape_sigmoid(xa, steepness)
    # The shapes are 0 and 1 at the ends up to rounding; pin them so the ends are exact.
    s = np.where(xa <= 0.0, 0.0, np.where(xa >= 1.0, 1.0, s))
    return _lerp(t0, t1, s)


def _stepped(xa: np.ndarray, t0: float, t1: float, floor: float, params: Mapping, where
             ) -> np.ndarray:
    n = int(_number(params, "steps", 5, 2.0, 1000.0, where, lo_open=False, integer=True))
    smooth = _number(params, "smooth", 0.1, 0.0, 1.0, where)
    spacing = _check_kind(params.get("spacing", "linear"), ("linear", "exponential"),
                          "plateau spacing", where)
    if t0 == t1:
        return np.full(xa.shape, t0)
    k = np.arange(n) / (n - 1)
    if spacing == "linear":
        levels = _lerp(t0, t1, k)
    else:
        s = _shape_exponential(k, _geometric_ratio(t0, t1, floor))
        s[0], s[-1] = 0.0, 1.0
        levels = _lerp(t0, t1, s)
    width = smooth / n
    # Each sample is affected by at most the nearest interior boundary b/n (b = 1..n-1).
    b = np.clip(np.rint(xa * n), 1, n - 1).astype(np.intp)
    u = np.clip((xa - (b / n - width / 2.0)) / width, 0.0, 1.0)
    r = 0.5 - 0.5 * np.cos(np.pi * u)
    r = np.where(u <= 0.0, 0.0, np.where(u >= 1.0, 1.0, r))
    return levels[b - 1] * (1.0 - r) + levels[b] * r


# --------------------------------------------------------------------------------- time
def progress_of(t, start_s: float, end_s: float) -> np.ndarray:
    """Progress through a segment at times ``t``.

    Parameters
    ----------
    t : array_like
        Times in seconds.
    start_s, end_s : float
        Segment start and end in seconds, ``end_s >= start_s``.

    Returns
    -------
    numpy.ndarray
        ``(t - start_s) / (end_s - start_s)`` clipped to [0, 1]. For an empty segment
        (``end_s == start_s``) it is 0 before ``start_s`` and 1 from ``start_s`` on.

    Raises
    ------
    RecipeError
        When ``end_s < start_s`` or either is not finite.
    """
    start, end = float(start_s), float(end_s)
    if not (math.isfinite(start) and math.isfinite(end)) or end < start:
        raise RecipeError(
            f"a segment must end at or after its start and both must be finite, got "
            f"{quote(start_s)}..{quote(end_s)} s"
        )
    ta = np.asarray(t, dtype=np.float64)
    if end == start:
        return (ta >= start).astype(np.float64)
    return np.clip((ta - start) / (end - start), 0.0, 1.0)


_SEGMENT_KEYS = ("start_s", "end_s", "kind", "t_start", "t_end", "params")


def segments_to_function(segments: Sequence[Mapping], *, where: str | None = None,
                         tolerance: float = 1e-9) -> Callable[[np.ndarray], np.ndarray]:
    """Join schedule segments into one temperature function of time.

    Parameters
    ----------
    segments : sequence of dict
        In time order, each ``{"start_s", "end_s", "kind", "t_start", "t_end", "params"}``:
        times in seconds with ``end_s > start_s``; ``kind`` one of :data:`SCHEDULES` or
        ``"hold"`` (constant ``t_start``; its ``t_end`` may be left out and must otherwise
        equal ``t_start``); ``params`` optional, the kind's parameters. A ``stepped`` segment
        may give ``ramp_s`` (seconds per ramp) instead of ``smooth``: it becomes
        ``smooth = ramp_s * steps / (end_s - start_s)``, which must not pass 1.
        Each segment must start where the previous one ended and at the temperature it ended
        with (within ``tolerance``): the temperature never jumps.
    where : str, optional
        The file and place in it, passed to errors (suffixed with the segment number).
    tolerance : float
        Allowed mismatch in seconds and in temperature between neighbouring segments.

    Returns
    -------
    callable
        ``f(t) -> numpy.ndarray``: temperatures at times ``t`` (seconds, any shape). Before the
        first segment it holds the first ``t_start``; after the last, the last ``t_end``. At a
        boundary it takes the later segment's start value (equal to the earlier's end).

    Raises
    ------
    RecipeError
        Empty list, missing or unknown keys, bad kinds or parameters, gaps, overlaps, jumps.
    """
    if not segments:
        raise RecipeError("a temperature schedule needs at least one segment", where)
    prepared = []
    for i, seg in enumerate(segments):
        here = f"{where}: segment {i + 1}" if where else f"segment {i + 1}"
        prepared.append(_prepare_segment(seg, here))
        if i:
            prev = prepared[i - 1]
            cur = prepared[i]
            if abs(cur[0] - prev[1]) > tolerance:
                gap = "a gap" if cur[0] > prev[1] else "an overlap"
                raise RecipeError(
                    f"segment starts at {format_duration(cur[0])} but the previous one ends at "
                    f"{format_duration(prev[1])} ({gap}): segments must follow each other "
                    "without gaps or overlaps", here)
            if abs(cur[3] - prev[4]) > tolerance:
                raise RecipeError(
                    f"segment starts at temperature {cur[3]:g} but the previous one ends at "
                    f"{prev[4]:g}: the temperature must not jump; start where the last ended",
                    here)
    starts = np.array([p[0] for p in prepared])

    def temperature(t) -> np.ndarray:
        ta = np.asarray(t, dtype=np.float64)
        idx = np.clip(np.searchsorted(starts, ta, side="right") - 1, 0, len(prepared) - 1)
        out = np.empty(ta.shape, dtype=np.float64)
        for k in unique(idx):
            start, end, kind, t0, t1, params = prepared[int(k)]
            mask = idx == k
            x = progress_of(ta[mask], start, end)
            if kind == "hold":
                out[mask] = t0
            else:
                out[mask] = schedule_curve(kind, x, t0, t1, **params)
        return out

    return temperature


def _prepare_segment(seg: Mapping, where: str):
    if not isinstance(seg, Mapping):
        raise RecipeError(f"a segment must be a table of {', '.join(_SEGMENT_KEYS)}, "
                          f"got {quote(seg)}", where)
    for key in seg:
        if key not in _SEGMENT_KEYS:
            did = did_you_mean(str(key), _SEGMENT_KEYS)
            raise RecipeError(f'"{key}" is not a segment key{did or ";"} allowed are '
                              f"{', '.join(_SEGMENT_KEYS)}", where)
    for key in ("start_s", "end_s", "kind", "t_start"):
        if key not in seg:
            raise RecipeError(f'segment has no "{key}": every segment needs start_s, end_s, '
                              "kind and t_start (and t_end unless it is a hold)", where)
    try:
        start, end = float(seg["start_s"]), float(seg["end_s"])
    except (TypeError, ValueError):
        raise RecipeError(f"segment times must be numbers of seconds, got "
                          f"{quote(seg['start_s'])}..{quote(seg['end_s'])}", where) from None
    if not (math.isfinite(start) and math.isfinite(end)) or end <= start:
        raise RecipeError(f"a segment must end after it starts, got {quote(seg['start_s'])} s to "
                          f"{quote(seg['end_s'])} s", where)
    kind = _check_kind(seg["kind"], SCHEDULES + ("hold",), "schedule", where)
    t0 = _check_temperature(seg["t_start"], "t_start", where)
    params = dict(seg.get("params") or {})
    if kind == "hold":
        if params:
            raise RecipeError("a hold segment takes no params", where)
        t1 = _check_temperature(seg.get("t_end", t0), "t_end", where)
        if t1 != t0:
            raise RecipeError(f"a hold keeps its temperature: t_end ({t1:g}) must equal "
                              f"t_start ({t0:g}) or be left out", where)
        return start, end, kind, t0, t1, params
    if "t_end" not in seg:
        raise RecipeError(f'segment has no "t_end": a {kind} segment needs t_start and t_end',
                          where)
    t1 = _check_temperature(seg["t_end"], "t_end", where)
    if kind == "stepped" and "ramp_s" in params:
        if "smooth" in params:
            raise RecipeError("give either ramp_s or smooth for a stepped segment, not both",
                              where)
        ramp = params.pop("ramp_s")
        try:
            ramp_s = float(ramp)
        except (TypeError, ValueError):
            ramp_s = math.nan
        steps = int(_number(params, "steps", 5, 2.0, 1000.0, where, lo_open=False,
                            integer=True))
        step_s = (end - start) / steps
        if not (0.0 < ramp_s <= step_s):
            raise RecipeError(
                f"ramp_s must be more than 0 s and at most one step ({format_duration(step_s)}"
                f" for {steps} steps over {format_duration(end - start)}), got {quote(ramp)}",
                where)
        params["smooth"] = min(1.0, ramp_s / step_s)
    schedule_curve(kind, np.array([0.0, 1.0]), t0, t1, where=where, **params)  # validate now
    return start, end, kind, t0, t1, params


# --------------------------------------------------------------------------------- binding
def bind(temperature, lo: float, hi: float, *, mapping: str = "linear",
         where: str | None = None) -> np.ndarray:
    """Map temperature to a parameter value: ``lo`` when cold (T = 0), ``hi`` when hot (T = 1).

    Parameters
    ----------
    temperature : array_like
        Temperatures in [0, 1] (values within 1e-9 outside are clipped).
    lo, hi : float
        Parameter values at T = 0 and T = 1 (``hi < lo`` is allowed and inverts the mapping).
    mapping : {"linear", "exponential", "db"}
        ``"linear"``: ``lo + (hi - lo) T``.
        ``"exponential"``: ``lo (hi/lo)^T``, for frequencies and rates (equal ratios for equal
        steps of T); ``lo`` and ``hi`` must be finite, non-zero and of the same sign.
        ``"db"``: ``lo`` and ``hi`` are dB and the result is dB, linear in T; either end may be
        ``-inf`` (silence): the interpolation then runs from -120 dB (or from the other end,
        if that is lower), and exactly that end gives ``-inf``.
    where : str, optional
        The file and place in it, passed to errors.

    Returns
    -------
    numpy.ndarray
        float64 values with the shape of ``temperature``; exactly ``lo`` at T = 0 and ``hi`` at
        T = 1.

    Raises
    ------
    RecipeError
        Unknown mapping, values not allowed by the mapping, temperature outside [0, 1].
    """
    mapping = _check_kind(mapping, BIND_MAPPINGS, "mapping", where)
    T = np.asarray(temperature, dtype=np.float64)
    if not np.all((T >= -1e-9) & (T <= 1.0 + 1e-9)):
        raise RecipeError("temperature must be from 0 to 1 to be bound to a parameter", where)
    T = np.clip(T, 0.0, 1.0)
    lo, hi = float(lo), float(hi)
    if mapping == "linear":
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise RecipeError(
                f"linear mapping needs finite ends, got {quote(lo)} and {quote(hi)}", where)
        return _lerp(lo, hi, T)
    if mapping == "exponential":
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo == 0 or hi == 0 or (lo < 0) != (
                hi < 0):
            raise RecipeError(
                f"exponential mapping needs two finite non-zero values of the same sign, got "
                f"{quote(lo)} and {quote(hi)}: use mapping \"linear\" when a value can be 0", where)
        out = lo * np.exp(T * math.log(hi / lo))
        return np.where(T <= 0.0, lo, np.where(T >= 1.0, hi, out))
    # db
    if math.isnan(lo) or math.isnan(hi) or lo == math.inf or hi == math.inf:
        raise RecipeError(
            f"db mapping needs dB values (finite or -inf), got {quote(lo)} and {quote(hi)}",
            where)
    if lo == -math.inf and hi == -math.inf:
        return np.full(T.shape, -math.inf)
    a = lo if lo > -math.inf else min(_DB_FLOOR, hi)
    b = hi if hi > -math.inf else min(_DB_FLOOR, lo)
    out = _lerp(a, b, T)
    return np.where(T <= 0.0, lo, np.where(T >= 1.0, hi, out))
