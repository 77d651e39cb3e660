"""Building the session graph from a recipe.

Every layer's node is built by its kind (:class:`~resonator.layers.base.LayerKind`) from the
parameter nodes, then wrapped the same way for every kind::

    layer = pan(kind node) * DbToAmp(gain) * envelope [* level]

``envelope`` is 1 in the phases the layer plays in and 0 elsewhere, with raised-cosine ramps
centred on the phase boundaries where the layer enters or leaves (length: the layer's
``fade_in`` / ``fade_out`` when given, else its glide); a ramp at the session start or end lies
inside the session. ``level`` (optional, linear 0..1, may reach silence) multiplies the layer
too; implied targets of a layer are dropped where its level falls below 0.001. The mix of all
layers gets the session's raised-cosine ``fade_in`` and ``fade_out``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..errors import GraphError, RecipeError, ResonatorError
from ..graph.core import (Constant, DbToAmp, FunctionOfTime, Node, Product, Sum, TimeFunction,
                          nyquist_problem)
from ..graph.curves import Curve
from ..graph.stereo import Channels, Pan, Select
from .model import Recipe, layer_kinds
from .temperature import cooling_spans
from .values import ValueSpec

MIN_RAMP_S = 0.05  # shortest fade or crossfade (keeps gains below 0.1 dB per ms on average)


@dataclass
class LayerInfo:
    """A built layer.

    Attributes
    ----------
    name, kind : str
    phases : list of str
        The phases it plays in.
    node : Node
        The layer as mixed: ``pan(source) * DbToAmp(gain) * envelope [* level]``.
    source : Node
        What the kind built.
    envelope : TimeFunction
        1 in its phases, 0 elsewhere, with its entry and exit ramps.
    params : dict
        The resolved parameters the kind was built from.
    gain : Node
        Its gain in dB over time.
    level : Node or None
        Its linear level over time (None: 1).
    plan : LayerPlan
        What it sounds like (:attr:`resonator.layers.base.LayerKind.plan`).
    bound : frozenset of str
        Its parameters bound to the session temperature (``"gain"`` and ``"level"``
        included).
    """

    name: str
    kind: str
    phases: list[str]
    node: Node
    source: Node
    envelope: TimeFunction
    params: dict[str, Any]
    gain: Node = None
    level: Node | None = None
    plan: Any = None
    bound: frozenset = frozenset()

    def level_db(self, t) -> np.ndarray:
        """Planned gain x |level| in dB at session seconds ``t`` (the envelope left out;
        a level of 0 reads -120 dB)."""
        t = np.asarray(t, dtype=np.float64)
        g = _evaluate(self.gain, t)
        if self.level is not None:
            g = g + 20.0 * np.log10(np.maximum(np.abs(_evaluate(self.level, t)), 1e-6))
        return g

    def amplitude(self, t) -> np.ndarray:
        """Planned linear amplitude at session seconds ``t``: envelope x gain x |level|."""
        t = np.asarray(t, dtype=np.float64)
        return np.asarray(self.envelope.evaluate(t), dtype=np.float64) * \
            10.0 ** (self.level_db(t) / 20.0)


@dataclass
class Session:
    """A recipe built into a signal graph.

    Attributes
    ----------
    recipe : Recipe
    node : Node
        The 2-channel output (before loudness normalisation).
    duration_s : float
    sr : int
    seed : int
    phases : list of (name, start_s, end_s)
    temperature : TimeFunction
        Session temperature in [0, 1].
    layers : list of LayerInfo
    cooling_spans : list of (start_s, end_s, phase)
        Where the planned temperature falls (by more than 0.05, over a minute or more).
    targets : list of dict
        The recipe's [[target]] tables (``source = "recipe"``) and the targets the layer kinds
        imply (``source = "layer"``), each with ``kind``, ``start_s``, ``end_s``, ``expected``,
        ``tolerance``.
    warnings : list of str
    """

    recipe: Recipe
    node: Node
    duration_s: float
    sr: int
    seed: int
    phases: list
    temperature: TimeFunction
    layers: list
    targets: list
    warnings: list = field(default_factory=list)
    cooling_spans: list = field(default_factory=list)

    def phase_at(self, t: float) -> str:
        """Name of the phase playing at ``t`` seconds."""
        for name, start, end in self.phases:
            if t < end:
                return name
        return self.phases[-1][0]


def ramp_envelope(active: list[bool], phases: list, duration: float, ramp_in: float,
                  ramp_out: float) -> Curve | Constant:
    """Gate curve: 1 in active phases, raised-cosine ramps centred on entry/exit boundaries."""
    if all(active):
        return _edge_ramps(duration, ramp_in, ramp_out)
    pts: list[tuple] = []
    prev = False
    for (name, start, end), on in zip(phases, active):
        if on == prev:
            continue
        r = ramp_in if on else ramp_out
        a = max(0.0, start - r / 2)
        b = min(duration, a + r)
        a = max(0.0, b - r)
        if pts and a < pts[-1][0]:  # phase too short for two ramps: start after the last
            a = pts[-1][0]
            b = max(b, a)
        lo, hi = (0.0, 1.0) if on else (1.0, 0.0)
        pts.append((a, lo))
        pts.append((b, hi, "cos"))
        prev = on
    if active[-1]:
        pts += [(max(pts[-1][0], duration - ramp_out), 1.0), (duration, 0.0, "cos")]
    return Curve(pts)


def layer_envelope(spec, timeline) -> Curve | Constant:
    """Where a layer sounds: 1 in its phases, 0 elsewhere, with its entry and exit ramps.

    Parameters
    ----------
    spec : LayerSpec
    timeline : Timeline
        The recipe's :meth:`~resonator.recipe.model.Recipe.timeline`.

    Returns
    -------
    Curve or Constant
        The gate the session multiplies the layer by (``evaluate(t)`` gives 0..1).
    """
    active = [n in spec.phases for n in timeline.phase_names()]
    r_in = max(MIN_RAMP_S, spec.fade_in_s if spec.fade_in_s is not None else spec.glide_s)
    r_out = max(MIN_RAMP_S, spec.fade_out_s if spec.fade_out_s is not None else spec.glide_s)
    if spec.fade_in_s is None and active[0]:
        r_in = MIN_RAMP_S  # the session fade-in covers the start
    if spec.fade_out_s is None and active[-1]:
        r_out = MIN_RAMP_S
    return ramp_envelope(active, timeline.phases, timeline.duration_s, r_in, r_out)


def _edge_ramps(duration, ramp_in, ramp_out):
    pts = [(0.0, 0.0), (ramp_in, 1.0, "cos"), (max(ramp_in, duration - ramp_out), 1.0),
           (duration, 0.0, "cos")]
    return Curve(pts)


def _balance(node: Node, pan: Node) -> Node:
    """Pan a stereo node: attenuate the far side (equal-power law, 0 keeps both at 1)."""
    if isinstance(pan, Constant) and float(pan.values[0]) == 0.0:
        return node
    if isinstance(pan, Constant):
        p = float(pan.values[0])
        a = (p + 1.0) * math.pi / 4
        gl, gr = min(1.0, math.sqrt(2) * math.cos(a)), min(1.0, math.sqrt(2) * math.sin(a))
        return Channels([Product([Select(node, [0]), gl]), Product([Select(node, [1]), gr])])
    f = pan.evaluate

    def left(t):
        return np.minimum(1.0, np.sqrt(2) * np.cos((f(t) + 1.0) * math.pi / 4))

    def right(t):
        return np.minimum(1.0, np.sqrt(2) * np.sin((f(t) + 1.0) * math.pi / 4))
    return Channels([Product([Select(node, [0]), FunctionOfTime(left, bounds=(0, 1))]),
                     Product([Select(node, [1]), FunctionOfTime(right, bounds=(0, 1))])])


def _audible_events(d: dict, envelope, level, fade) -> bool:
    """Keep an event target's times (``times_s``, with ``pitches_hz`` beside them) where the
    layer plays fully (its envelope at 1, its level above 0.001) and the session's fade is
    above 0.1; a count expected of every time (``expected`` = their number) follows. False
    when none is left."""
    tt = np.asarray(d["times_s"], dtype=np.float64)
    keep = (np.asarray(envelope.evaluate(tt)) >= 0.999) & (np.asarray(fade.evaluate(tt)) >= 0.1)
    if level is not None:
        keep &= _evaluate(level, tt) >= 1e-3
    if not keep.any():
        return False
    if d.get("expected") == len(tt):
        d["expected"] = int(keep.sum())
    d["times_s"] = [float(x) for x in tt[keep]]
    if "pitches_hz" in d:
        d["pitches_hz"] = [float(f) for f, k in zip(d["pitches_hz"], keep) if k]
    return True


def _evaluate(node: Node, t: np.ndarray) -> np.ndarray:
    if isinstance(node, TimeFunction):
        return np.asarray(node.evaluate(t), dtype=float)
    if isinstance(node, Constant):
        return np.full(np.shape(t), float(node.values[0]))
    return np.ones(np.shape(t))


def build_session(recipe, *, sr: int | None = None, seed: int | None = None,
                  temperature=None) -> Session:
    """Build the signal graph of a recipe.

    Parameters
    ----------
    recipe : Recipe, str or Path
        A loaded recipe or the path of one.
    sr : int, optional
        Sample rate (default: the recipe's ``sample_rate``).
    seed : int, optional
        Seed (default: the recipe's ``seed``).
    temperature : callable(t_seconds array) -> array in [0, 1], optional
        The session temperature to bind parameters to instead of the recipe's plan (a live
        override: :class:`resonator.playback.SessionStream`).

    Returns
    -------
    Session

    Raises
    ------
    RecipeError
        Problems found while building (frequency at or above Nyquist, impossible values the
        layer kind refuses, a missing music file), with the layer's location.
    """
    if not isinstance(recipe, Recipe):
        from ..loading import load

        recipe = load(recipe)
    sr = int(recipe.sample_rate if sr is None else sr)
    seed = int(recipe.seed if seed is None else seed)
    if sr <= 0:
        raise RecipeError(f"sample rate must be positive, got {sr}")
    timeline = recipe.timeline()
    if temperature is not None:
        timeline = replace(timeline, temperature=temperature)
    duration = recipe.duration_s
    temp_node = FunctionOfTime(timeline.temperature, bounds=(0.0, 1.0), name="temperature")
    warnings = list(recipe.warnings)
    kinds = layer_kinds()
    from ..layers.base import LayerContext

    infos: list[LayerInfo] = []
    implied: list[dict] = []
    fade = _edge_ramps(duration, max(recipe.fade_in_s, MIN_RAMP_S),
                       max(recipe.fade_out_s, MIN_RAMP_S))
    W = recipe.raw.where
    resolved: dict[str, tuple] = {}  # layer name -> (kind name, params, ctx)

    def peer(name: str) -> tuple:
        if name not in resolved:
            names = [spec.name for spec in recipe.layers]
            from ..units import did_you_mean, quote
            did = did_you_mean(str(name), names)
            raise RecipeError(f"there is no layer {quote(name)}{did or ';'} layers are: "
                              f"{', '.join(names)}")
        return resolved[name]

    for spec in recipe.layers:
        kind = kinds[spec.kind]
        where_layer = W(("layer", spec.name), f'layer "{spec.name}"')
        params: dict[str, Any] = {}
        for pname, value in spec.params.items():
            info = kind.params[pname]
            if isinstance(value, ValueSpec):
                problem = nyquist_problem(pname, *value.bounds(), sr) \
                    if info.unit == "hz" else None
                if problem:
                    raise RecipeError(problem, W(("layer", spec.name, pname),
                                                 f'layer "{spec.name}" > {pname}'))
                params[pname] = value.to_node(timeline) if info.automatable else \
                    float(value.data)
            else:
                params[pname] = value
        ctx = LayerContext(sr=sr, duration_s=duration, phases=list(timeline.phases),
                           temperature=temp_node, recipe_dir=recipe.path.parent,
                           layer_name=spec.name, where=where_layer, warn=warnings.append,
                           seed=seed, peer=peer)
        resolved[spec.name] = (spec.kind, params, ctx)

    for spec in recipe.layers:
        kind = kinds[spec.kind]
        where_layer = W(("layer", spec.name), f'layer "{spec.name}"')
        _, params, ctx = resolved[spec.name]
        try:
            source = kind.build(params, ctx)
        except ResonatorError as exc:
            where = exc.where or where_layer
            if exc.where and not exc.where.startswith(where_layer.split(":")[0]):
                where = f"{where_layer}: {exc.where}"
            raise RecipeError(exc.message, where) from None
        if not isinstance(source, Node):
            raise RecipeError(f"layer kind {spec.kind} returned {type(source).__name__}, not a "
                              "signal node (a bug in the layer kind)", where_layer)
        pan = spec.pan.to_node(timeline)
        if source.channels == 1:
            placed = Pan(source, pan)
        elif source.channels == 2:
            placed = _balance(source, pan)
        else:
            raise RecipeError(f"layer kind {spec.kind} returned {source.channels} channels; a "
                              "layer must be mono or stereo", where_layer)
        envelope = layer_envelope(spec, timeline)
        gain_db = spec.gain.to_node(timeline)
        level = spec.level.to_node(timeline) if spec.level is not None else None
        node = Product([placed, DbToAmp(gain_db), envelope] +
                       ([level] if level is not None else []), name=f"layer:{spec.name}")
        bound = frozenset(k for k, v in [("gain", spec.gain), ("level", spec.level),
                                         *spec.params.items()]
                          if getattr(v, "form", None) == "temperature")
        try:
            plan = kind.plan(params, ctx)
            infos.append(LayerInfo(spec.name, spec.kind, spec.phases, node, source, envelope,
                                   params, gain_db, level, plan, bound))
            for tgt in kind.targets(params, ctx) or []:
                d = dict(tgt)
                if "times_s" in d:  # events: kept where the layer (and the mix) sounds
                    if not _audible_events(d, envelope, level, fade):
                        continue
                else:
                    s0, s1 = float(d.get("start_s", 0.0)), float(d.get("end_s", duration))
                    mid = np.linspace(s0, s1, 9)
                    if np.min(envelope.evaluate(mid)) < 0.999:
                        continue  # the layer is silent or fading in part of this window
                    if level is not None and np.min(_evaluate(level, mid)) < 1e-3:
                        continue  # the layer's level reaches silence in this window
                d.setdefault("layer", spec.name)
                d["source"] = "layer"
                implied.append(d)
        except ResonatorError as exc:
            raise RecipeError(exc.message, exc.where or where_layer) from None
    mix = Sum([i.node for i in infos]) if len(infos) > 1 else infos[0].node
    out = Product([mix, fade], name="session")
    if out.channels != 2:  # pragma: no cover - every layer is stereo after panning
        raise GraphError(f"the session has {out.channels} channels, expected 2")
    targets = [t.as_dict() for t in recipe.targets] + implied
    return Session(recipe, out, duration, sr, seed, list(timeline.phases), temp_node, infos,
                   targets, warnings, cooling_spans(recipe.segments, timeline.phases))
