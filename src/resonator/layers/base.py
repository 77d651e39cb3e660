"""The contract between recipes and layer kinds.

A layer kind (binaural, isochronic, breath, ...) declares its parameters with :class:`ParamInfo`
and builds a stereo graph node from already-resolved parameters. The recipe layer parses the
TOML, checks names, units and ranges against ``params``, turns every numeric value into a graph
node (a constant, a per-phase :class:`~resonator.graph.Curve` with glides, an explicit curve, or a
function of the session temperature) and calls :meth:`LayerKind.build`. Gain, pan, fades and the
phases a layer plays in are applied by the recipe layer around the built node, for every kind.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable

from ..graph.core import Node, TimeFunction, constant_value


@dataclasses.dataclass(frozen=True)
class ParamInfo:
    """One parameter of a layer kind.

    Parameters
    ----------
    unit : str
        One of :data:`resonator.units.RECIPE_UNITS` for numeric parameters, or "choice",
        "text", "path", "bool", "int", "list" for the others, or "table" for a string, list
        or table that the kind validates itself (a playlist given per phase, selection
        criteria).
    default : Any
        Value when the recipe does not give one (``None``: required).
    doc : str
        One line for ``--help``, the JSON schema and error messages.
    range : (float, float), optional
        Allowed range (inclusive) in the parameter's unit; values outside are refused.
    warn_range : (float, float), optional
        Recommended range; values outside produce a design lint (``outside-recommended``,
        :mod:`resonator.recipe.lints`), not a refusal (for example a binaural carrier outside
        100-1000 Hz). For a signed parameter (``range`` reaching below 0) it bounds the
        magnitude.
    choices : tuple of str, optional
        Allowed values for ``unit="choice"``.
    automatable : bool
        Whether the value may vary over time (per phase, curve, bound to temperature). When
        False the recipe layer passes a plain Python value.
    applies : callable(params) -> bool, optional
        Whether the parameter has an effect, given the layer's parameters as the recipe
        holds them (``LayerSpec.params``: value specs and plain values; :func:`is_set` reads
        either); plans leave out the ones that do not (gamma ``pip_s`` outside ``genus``
        mode, a "0 = unused" value left at 0). None: always.
    """

    unit: str
    default: Any = None
    doc: str = ""
    range: tuple[float, float] | None = None
    warn_range: tuple[float, float] | None = None
    choices: tuple[str, ...] | None = None
    automatable: bool = True
    applies: Callable[[dict], bool] | None = None


def is_set(value) -> bool:
    """True when a parameter value (a recipe value spec or a plain value) is not 0, empty or
    false: "0 = unused" and "0 = the default" parameters count as unset at 0."""
    values = getattr(value, "values", None)
    if callable(values):  # a ValueSpec
        return any(v != 0 for v in values())
    return bool(value)


def varies(value) -> bool:
    """True when a built parameter (as ``build`` and ``cost`` receive it) changes over the
    session: a curve, a per-phase value with glides, a function of the temperature; False
    for a plain value or a constant node."""
    return isinstance(value, Node) and constant_value(value) is None


def when(key: str, *allowed) -> Callable[[dict], bool]:
    """``applies`` for a parameter that matters only when ``key`` is one of ``allowed``."""
    return lambda params: params.get(key) in allowed


def when_set(key: str) -> Callable[[dict], bool]:
    """``applies`` for a parameter that matters only when ``key`` is set (:func:`is_set`)."""
    return lambda params: is_set(params.get(key))


@dataclasses.dataclass
class LayerContext:
    """What a layer kind may know about the session while building.

    Attributes
    ----------
    sr : int
        Sample rate in Hz.
    duration_s : float
        Session length in seconds.
    phases : list of (name, start_s, end_s)
        The session's phases in order.
    temperature : TimeFunction
        The session temperature in [0, 1] over time.
    recipe_dir : Path
        Folder of the recipe file (relative file paths resolve against it).
    layer_name : str
        The layer's unique name (use it to name noise nodes: stable seeds).
    where : str
        Location prefix for error messages ("recipes/x.toml: layer \"beat\"").
    warn : callable(str)
        Report a warning (not fatal).
    seed : int
        The session seed (for seeded choices such as a shuffled playlist).
    peer : callable(str) -> (kind name, params, LayerContext), optional
        Another layer of the session by name, with its resolved parameters and context (for
        layers that follow another one, e.g. pulses on a music layer's beats). Raises
        :class:`~resonator.errors.RecipeError` for an unknown name.
    """

    sr: int
    duration_s: float
    phases: list[tuple[str, float, float]]
    temperature: TimeFunction
    recipe_dir: Path
    layer_name: str
    where: str = ""
    warn: Callable[[str], None] = lambda message: None
    seed: int = 0
    peer: Callable[[str], tuple] | None = None


@dataclasses.dataclass(frozen=True)
class Partial:
    """One sinusoid a layer plans to play in one ear (before the layer's gain, level and
    phase gating).

    Attributes
    ----------
    ear : int
        0 left, 1 right.
    freq : callable(t_s: np.ndarray) -> np.ndarray
        Planned frequency in Hz at session seconds (vectorised).
    weight : float >= 0
        Relative amplitude (the layer's main tone about 1).
    role : str
        ``"tone"`` (a fundamental: what the layer's frequency targets measure),
        ``"harmonic"``, ``"sideband"`` (of a gate), ``"partial"`` (of a chord or drone) or
        ``"strike"`` (a struck sine that sounds only after its strikes).
    strikes_s : tuple of float
        ``"strike"`` partials: when they are struck (session seconds).
    ring_s : float
        ``"strike"`` partials: how long one sounds after its strike.
    """

    ear: int
    freq: Callable[[Any], Any]
    weight: float = 1.0
    role: str = "tone"
    strikes_s: tuple = ()
    ring_s: float = 0.0


@dataclasses.dataclass(frozen=True)
class LayerPlan:
    """What a layer is planned to sound like (:attr:`LayerKind.plan`): what ``resonator
    check`` measures a render against, with no knowledge of the layer's kind.

    Frequencies are in Hz and may reach past the Nyquist frequency of a render (readers clip
    bands to the file's rate); curves are one-channel nodes or time functions of session
    seconds (Constant, Curve, a function of the temperature).

    Attributes
    ----------
    partials : list of Partial
        The sinusoids it plays, when they are modelled (fitted beside other layers' tones).
    tonal_ranges : list of (lo_hz, hi_hz)
        Where its tonal energy lies (modelled or not): other layers' measurements keep out.
    modelled : bool
        False when ``tonal_ranges`` holds tones that ``partials`` does not model (a drone's
        drifting partials): an ear of another layer inside one cannot be read.
    band : (lo_hz, hi_hz) or None
        A band holding most of its energy, where its envelope is read (None: the whole band).
    cutoff : node or None
        A low-pass cutoff (Hz) over time that bounds its energy from above.
    noise_carrier : bool
        Its carrier is noise-like (noise, music): an envelope is read with no noise floor
        removed.
    broadband : bool
        Its energy spreads over a wide band (noise, music, bells, clicks): no band belongs to
        another broadband layer alone while it plays.
    carrier : node or None
        The planned carrier of a modulated or binaural tone.
    rate : node or None
        The planned modulation rate (Hz) of its envelope.
    gate : object or None
        The planned full-depth gate over one cycle: ``gate.values(frac, rate_hz)`` in [0, 1]
        (:class:`resonator.layers.gates.GateShape`).
    envelope_bands : list of (lo_hz, hi_hz, weight)
        Narrow bands whose envelope follows its slow swell (a breath drone's partials, the
        weight: how much of the partial swells); the one clearest of other layers' tones is
        read.
    colour_params : tuple of str
        Parameters that set its brightness (a cooling that binds one of them darkens the
        mix: ``centroid_trend``).
    transients : bool
        It plays transients of its own (music's drums): the session-wide click check is left
        out while it plays (its joins are the kind's own targets).
    """

    partials: list = dataclasses.field(default_factory=list)
    tonal_ranges: list = dataclasses.field(default_factory=list)
    modelled: bool = True
    band: tuple | None = None
    cutoff: Any = None
    noise_carrier: bool = False
    broadband: bool = False
    carrier: Any = None
    rate: Any = None
    gate: Any = None
    envelope_bands: list = dataclasses.field(default_factory=list)
    colour_params: tuple = ()
    transients: bool = False


@dataclasses.dataclass(frozen=True)
class LayerKind:
    """A kind of layer: its parameters, its builder, what it sounds like and the targets it
    implies.

    ``build(params, ctx) -> Node`` receives every declared parameter: automatable numeric
    parameters as one-channel graph nodes (Constant, Curve or other TimeFunction, in the
    parameter's base unit: Hz, dB, seconds, per minute, linear amplitude), the others as plain
    Python values. It returns a 2-channel node at nominal level (peaks about 1 before the layer
    gain; the recipe layer applies gain, pan, fades and phase gating).

    ``targets(params, ctx) -> list[dict]`` returns the measurements the layer implies (for
    ``resonator check``): dicts with at least ``kind``, ``start_s``, ``end_s``, ``expected`` and
    ``tolerance``.

    ``plan(params, ctx) -> LayerPlan`` (required) says what the built node sounds like: its
    partials, tonal ranges, bands and the curves its modulation follows. ``resonator check``
    reads every layer through it, so a new kind is verified without check knowing it.

    ``cost`` : number >= 0, or callable(params) -> number >= 0, is what one second of the
    layer costs to render while it sounds, relative to the measuring pass's own work on a
    second of the session (its meter, true-peak screen and scratch cache: 1). A callable
    gets the parameters as ``build`` does (:func:`varies` tells a parameter bound to a curve
    or the temperature from a constant). The measuring pass splits its two lanes where the
    summed cost halves (:func:`resonator.recipe.render.balanced_split`); the figures come
    from ``benchmarks/layer_costs.py`` (a kind that declares none counts 1).
    """

    name: str
    doc: str
    params: dict[str, ParamInfo]
    build: Callable[[dict[str, Any], LayerContext], Node]
    targets: Callable[[dict[str, Any], LayerContext], list[dict]] = lambda params, ctx: []
    plan: Callable[[dict[str, Any], LayerContext], LayerPlan] | None = None
    cost: float | Callable[[dict[str, Any]], float] = 1.0

    def cost_per_s(self, params: dict[str, Any]) -> float:
        """:attr:`cost` of a layer built from ``params`` (the callable's answer or the
        number)."""
        return float(self.cost(params) if callable(self.cost) else self.cost)


#: registry of layer kinds by name, filled by the modules of this package
LAYER_KINDS: dict[str, LayerKind] = {}


def register(kind: LayerKind) -> LayerKind:
    """Add a layer kind to :data:`LAYER_KINDS` (module import time); every kind declares its
    plan (and a ``cost``, a number >= 0 or a callable, when it has one)."""
    if kind.plan is None:
        raise TypeError(f"layer kind {kind.name}: give plan= (what it sounds like, a "
                        "LayerPlan) so resonator check can verify it")
    if not callable(kind.cost) and not (isinstance(kind.cost, (int, float)) and
                                        0 <= kind.cost < float("inf")):
        raise TypeError(f"layer kind {kind.name}: cost must be a number >= 0 or a callable, "
                        f"got {kind.cost!r}")
    LAYER_KINDS[kind.name] = kind
    return kind
