"""The contract between ``resonator check`` and the kinds of target it measures.

A target kind (``binaural_beat``, ``am_rate``, ``loudness``, ...) is one :class:`TargetKind`:
its unit, default tolerance, shortest useful window, how its expected value is read, its
evaluator and the description of its method. Each is registered with :func:`register` in
the module that defines its evaluator (as layer kinds are)::

    from resonator.check.kinds.base import Reading, TargetKind, register, within

    def am_rate(t, ctx):
        rate = ...                                   # measure the window(s)
        return within(t, [rate], {"windows": rows})  # pass when within the tolerance

    register(TargetKind("am_rate", unit="hz", tolerance=0.05, min_window_s=2.0,
                        evaluate=am_rate, doc="envelope spectrum peak of the layer's band"))

A kind bound to a layer says what it reads of the layer's plan (``reads="tones"`` or
``"envelope"``) and may add hints of its own (``hints=fn``); ``check/targets.py`` holds no
switch on kind names.

An evaluator takes the :class:`~resonator.check.targets.Target` (its window in file seconds)
and the :class:`~resonator.check.runner.CheckContext` (window reads, the one-pass scan, the
plan) and returns a :class:`Reading`: the value measured, whether it passed (None when the
reading cannot be trusted: inconclusive), the rule applied (printed as it was applied) and
method details. It raises :class:`Unmeasurable` when the render cannot answer (the target is
then listed as skipped with the reason) and :class:`~resonator.measure.MeasureError` for a
measurement problem (the target fails with the reason).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ...measure import MeasureError
from ...units import UNITS, Unit, did_you_mean

__all__ = ["TargetKind", "Reading", "Unmeasurable", "TARGET_KINDS", "register", "get_kind",
           "within", "spread", "centred", "rounded", "is_within", "grow_window",
           "combine_windows", "curve_fn"]


class Unmeasurable(MeasureError):
    """The target cannot be measured in this render (planned components overlap, the layer
    is silent there); the runner lists it under ``skipped`` with the reason."""


@dataclass
class Reading:
    """What an evaluator found.

    Attributes
    ----------
    measured : float or None
        The value, in the kind's unit (None when nothing could be measured).
    passed : bool or None
        None: inconclusive (the reading cannot be trusted; ``detail["inconclusive"]`` says
        why).
    rule : str
        The pass rule as applied, with its numbers and units
        (``"every window within 6.000 +- 0.050 Hz"``).
    detail : dict
        Method details for the JSON report: sub-windows, statistics, notes.
    """

    measured: float | None
    passed: bool | None
    rule: str
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TargetKind:
    """A kind of target ``resonator check`` can measure.

    Attributes
    ----------
    name : str
        The kind's name in recipes and ``--target`` (``"am_rate"``).
    unit : str
        Key of :data:`resonator.units.UNITS`: how expected values are read and reported.
    tolerance : float
        Default tolerance, in ``tolerance_unit``.
    min_window_s : float
        Shortest window worth measuring (a window render keeps a clipped target only when
        this much remains).
    evaluate : callable(Target, CheckContext) -> Reading
    doc : str
        The method and its accuracy (``resonator check --kinds`` prints it).
    tolerance_unit : str, optional
        Unit of the tolerance when it differs from ``unit`` (a loudness in LUFS has a
        tolerance in LU).
    parse : callable(value, *, where) -> Any, optional
        Reads the expected value when the unit's parser does not (trends: "falling").
    expected : Any
        Expected value when none is written (None: one is required).
    band_suffix : bool
        The kind is written ``KIND@LO-HI`` (a band in Hz), e.g. ``band_energy@100-300``.
    counts_times : bool
        The expected value is the number of the target's ``times_s`` (events): a window
        render keeps the times inside it and expects that many.
    measures : str
        What the measured value is when it is not the expected quantity (a trend expects
        "falling" and measures a "bump" in dB or a "rho"); shown before it.
    reads : str
        What a layer-bound target of the kind reads of its layer's plan
        (:class:`resonator.layers.base.LayerPlan`): ``"tones"`` (its partials, fitted with
        every other planned sinusoid: ``carrier_hz`` and ``components`` hints),
        ``"envelope"`` (its band's envelope: ``rate_curve``, and other layers' tones as
        ``components`` to take out) or ``""`` (its band only).
    hints : callable(session, info, window, components_at) -> dict, optional
        Measurement hints of its own from the layer's plan (``info``: the
        :class:`~resonator.recipe.session.LayerInfo`; ``window``: the target's dict with
        ``start_s``, ``end_s``, ``phase``; ``components_at``: every layer's planned
        sinusoids). A ``"band"`` it returns (None: no band) replaces the plan's.
    scales_tolerance : bool
        ``--tolerance-scale`` multiplies its tolerance (False for a fixed threshold).
    """

    name: str
    unit: str
    tolerance: float
    min_window_s: float
    evaluate: Callable[[Any, Any], Reading]
    doc: str
    tolerance_unit: str | None = None
    parse: Callable[..., Any] | None = None
    expected: Any = None
    band_suffix: bool = False
    counts_times: bool = False
    measures: str = ""
    reads: str = ""
    hints: Callable[..., dict] | None = None
    scales_tolerance: bool = True

    @property
    def unit_info(self) -> Unit:
        return UNITS[self.unit]

    @property
    def tolerance_info(self) -> Unit:
        return UNITS[self.tolerance_unit or self.unit]

    def read_expected(self, value, where: str | None = None):
        """The expected value in the kind's unit (RecipeError when it cannot be read)."""
        return (self.parse or self.unit_info.parse)(value, where=where)

    def read_tolerance(self, value, where: str | None = None) -> float:
        """A tolerance in the kind's tolerance unit (RecipeError when it cannot be read)."""
        return float(self.tolerance_info.parse(value, where=where))


#: registry of target kinds by name, filled by the modules of :mod:`resonator.check.kinds`
TARGET_KINDS: dict[str, TargetKind] = {}


def register(kind: TargetKind) -> TargetKind:
    """Add a target kind to :data:`TARGET_KINDS` (module import time)."""
    if kind.unit not in UNITS or (kind.tolerance_unit or kind.unit) not in UNITS:
        raise ValueError(f"target kind {kind.name}: unknown unit {kind.unit!r}")
    if kind.reads not in ("", "tones", "envelope"):
        raise ValueError(f"target kind {kind.name}: reads must be '', 'tones' or 'envelope', "
                         f"not {kind.reads!r}")
    TARGET_KINDS[kind.name] = kind
    return kind


def get_kind(name: str, where: str | None = None) -> TargetKind:
    """The registered kind ``name`` (without any ``@LO-HI`` suffix), or an error with a
    "did you mean" hint and the known kinds."""
    from ..targets import CheckInputError

    base = str(name).split("@")[0]
    if base not in TARGET_KINDS:
        hint = did_you_mean(base, TARGET_KINDS)
        raise CheckInputError(f"unknown target kind {name!r}{hint}{' ' if hint else '; '}known "
                              f"kinds: {', '.join(TARGET_KINDS)}", where)
    return TARGET_KINDS[base]


# ------------------------------------------------------------------------------ helpers
def curve_fn(node, sr):
    """``t -> values`` of a planned parameter (session seconds in, array out), as a
    measurement hint."""
    from ...layers._common import sample

    return lambda t: sample(node, np.atleast_1d(np.asarray(t, dtype=float)), sr)


#: longest unmeasured stretch between two sample windows of a long target (s): a fault
#: longer than this anywhere in the span is inside a window
MAX_GAP_S = 120.0
#: most sample windows of one target (bounds the cost of checking a long render; past
#: ``MAX_WINDOWS * (length + MAX_GAP_S)`` seconds the gaps grow beyond MAX_GAP_S)
MAX_WINDOWS = 32


def spread(a: float, b: float, length: float, count: int,
           cover_span: bool = True) -> list[tuple[float, float]]:
    """Windows of ``length`` s spread evenly over [a, b]: ``count`` of them, more on a long
    span so that no stretch longer than :data:`MAX_GAP_S` lies between two (at most
    :data:`MAX_WINDOWS`; never more than fit side by side; ``cover_span=False``: at most
    ``count``, for a steady property read by pooling windows). Deterministic."""
    if b - a <= length * 1.0001:
        return [(a, b)]
    cover = math.ceil((b - a - length) / (MAX_GAP_S + length) - 1e-9) if cover_span else 0
    n = int(min(max(count, min(cover, MAX_WINDOWS)), max(1, (b - a) // length)))
    centres = a + length / 2 + (np.arange(n) + 0.5) / n * (b - a - length)
    return [(float(c - length / 2), float(c + length / 2)) for c in centres]


def centred(a: float, b: float, length: float) -> tuple[float, float]:
    """The window of ``length`` s (at most b - a) centred on [a, b]."""
    c = 0.5 * (a + b)
    h = min(length, b - a) / 2
    return c - h, c + h


def grow_window(t, ctx, a: float, b: float, length: float, sample: bool):
    """A window of up to ``length`` s for target ``t`` replacing [a, b] (file seconds): a
    glide sample keeps its centre (the planned trajectory is dechirped, so any length reads
    the frequency at the centre) and stays inside the file; a steady stretch stays inside
    the target, as near the old centre as it can."""
    c = 0.5 * (a + b)
    if sample:
        half = min(length / 2, c, ctx.duration_s - c)
        return c - half, c + half
    lo, hi = max(t.start_s, 0.0), min(t.end_s, ctx.duration_s)
    length = min(length, hi - lo)
    c = min(max(c, lo + length / 2), hi - length / 2)
    return c - length / 2, c + length / 2


def rounded(x, nd: int = 4):
    """A number (or a list of them) rounded for the JSON report; None for None and NaN."""
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return [rounded(v, nd) for v in x]
    x = float(x)
    return round(x, nd) if math.isfinite(x) else None


def is_within(value, expected, tol) -> bool:
    """|value - expected| <= tol (False for None and NaN)."""
    return value is not None and math.isfinite(value) and abs(value - expected) <= tol + 1e-12


def within(t, values, detail: dict | None = None, *, measured: float | None = None) -> Reading:
    """The usual rule: every sub-window's value lies within the tolerance of the expected
    value; ``measured`` is their median when all do, else the value furthest out (a failed
    row never shows a value inside the tolerance), or the value given."""
    kind = TARGET_KINDS[t.kind]
    u, tu = kind.unit_info, kind.tolerance_info
    vals = [float(v) for v in values]
    ok = bool(vals) and all(is_within(v, t.expected, t.tolerance) for v in vals)
    what = "every window" if len(vals) > 1 else "measured"
    rule = f"{what} within {u.format(t.expected)} +- {tu.format(t.tolerance)}"
    m = measured
    if m is None and vals:
        m = float(np.median(vals)) if ok else max(vals, key=lambda v: abs(v - t.expected))
    return Reading(m, ok, rule, dict(detail or {}))


def combine_windows(t, vals, rows, unsure, detail) -> Reading:
    """One Reading from the trusted windows (``vals``, ``rows``) and the windows that could
    not be trusted (``unsure``, each with its ``reason``): a trusted window out of tolerance
    fails the target; otherwise it passes on its trusted windows, or is inconclusive when
    none could be trusted."""
    detail = dict(detail, windows=rows)
    if unsure:
        detail["inconclusive_windows"] = unsure
    if not vals:
        kind = TARGET_KINDS[t.kind]
        return Reading(None, None, f"within {kind.unit_info.format(t.expected)} +- "
                       f"{kind.tolerance_info.format(t.tolerance)} where the reading can be "
                       "trusted", dict(detail, inconclusive=unsure[0]["reason"]))
    worst = max(vals, key=lambda v: abs(v - t.expected))
    r = within(t, vals, dict(detail, worst=rounded(worst, 5)))
    if unsure:
        r.rule = r.rule.replace("every window", "every trusted window", 1).replace(
            "measured within", "every trusted window within", 1) + \
            f" ({len(unsure)} of {len(vals) + len(unsure)} windows could not be trusted)"
    return r
