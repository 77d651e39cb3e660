"""The recipe model: validated session settings, phases, layers and targets.

:func:`parse_recipe` turns merged TOML data (:class:`~resonator.recipe.loader.RawRecipe`)
into a :class:`Recipe`, checking every key, unit and range, and naming the file, line and key
path of the first problem. Nothing here builds audio.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import RecipeError
from ..units import (
    UNITS,
    check_sample_rate,
    check_seed,
    did_you_mean,
    format_duration,
    parse_duration,
    parse_loudness,
    parse_true_peak,
    quote,
)
from .loader import RawRecipe, load_raw
from .temperature import (
    PhaseTemperature,
    parse_phase_temperature,
    parse_session_temperature,
    temperature_function,
)
from ..graph.core import nyquist_problem
from .values import NUMERIC_UNITS, RESERVED_NAMES, Timeline, ValueSpec, parse_value

#: top-level keys and their meaning (also used by the JSON schema and "did you mean")
SESSION_KEYS = {
    "title": "title shown in plans and sidecars",
    "description": "what the session is for (free text)",
    "extends": "path of a recipe this one modifies (relative to this file)",
    "sample_rate": "sample rate in Hz (default 48000)",
    "seed": "seed of every random element (default 0)",
    "loudness": "integrated loudness target (default \"-20 LUFS\")",
    "true_peak": "true-peak ceiling (default \"-1 dBTP\")",
    "fade_in": "raised-cosine fade-in of the whole session (default \"10s\")",
    "fade_out": "raised-cosine fade-out of the whole session (default \"30s\")",
    "glide": "default glide of per-phase values and layer crossfades (default \"20s\")",
    "max_duration": "refuse sessions longer than this (default \"12h\")",
    "temperature": "table: start (0..1) and default schedule",
    "phase": "[[phase]] tables in order: name, duration, temperature",
    "layer": "[[layer]] tables: name, kind, parameters, gain, pan, fades, phases",
    "target": "[[target]] tables: what `resonator check` should measure",
}
PHASE_KEYS = {
    "name": "unique phase name",
    "duration": "length (\"10m\", \"90s\", \"1:30:00\")",
    "temperature": "\"hold\", an end temperature, or {to, schedule, time, delay, ...}",
    "description": "free text",
    "before": "(in a recipe that extends another) insert this new phase before that phase",
    "after": "(in a recipe that extends another) insert this new phase after that phase",
    "remove": "(in a recipe that extends another) true removes the phase",
}
LAYER_COMMON = {
    "name": "unique layer name",
    "kind": "layer kind",
    "enabled": "false removes the layer (useful in recipes that extend another)",
    "gain": "gain in dB: constant, per phase, curve or bound to temperature (default 0 dB)",
    "level": "linear amplitude 0..1 applied after gain: constant, per phase, curve or bound to "
             "temperature; unlike gain it can reach silence (default 1)",
    "pan": "-1 (left) .. 1 (right), default 0",
    "fade_in": "fade-in when the layer starts (default: the glide)",
    "fade_out": "fade-out when the layer stops (default: the glide)",
    "phases": "list of phase names the layer plays in (default: all)",
    "glide": "glide of this layer's per-phase values and its phase crossfades",
    "description": "free text",
}
TARGET_KEYS = {
    "name": "optional name (targets with a name merge by name in recipes that extend)",
    "kind": "what to measure (for example binaural_beat, am_rate, loudness, breath_rate)",
    "window": "phase name the measurement covers",
    "start": "window start: duration, PHASE, PHASE+DUR, end-DUR",
    "end": "window end",
    "layer": "the layer the target is about",
    "expected": "expected value with unit (\"6 Hz\")",
    "tolerance": "allowed difference with unit (\"0.1 Hz\")",
    "carrier": "carrier frequency hint for binaural_beat targets (\"200 Hz\")",
    "enabled": "false removes the target",
    "description": "free text",
}

DEFAULTS = {
    "sample_rate": 48000, "seed": 0, "loudness": -20.0, "true_peak": -1.0,
    "fade_in": 10.0, "fade_out": 30.0, "glide": 20.0, "max_duration": 12 * 3600.0,
}


# ------------------------------------------------------------------------------ layer kinds
def layer_kinds() -> dict:
    """The registry of layer kinds (:data:`resonator.layers.LAYER_KINDS`), every kind
    registered."""
    from .. import layers

    return layers.LAYER_KINDS


# ------------------------------------------------------------------------------ model
@dataclass
class PhaseSpec:
    """One phase: name, time span and how it moves the temperature."""

    name: str
    start_s: float
    end_s: float
    temperature: PhaseTemperature
    description: str = ""

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class LayerSpec:
    """One layer: kind, parsed parameters and the common keys."""

    name: str
    kind: str
    params: dict[str, Any]          # ValueSpec for automatable numeric params, else plain
    gain: ValueSpec
    pan: ValueSpec
    fade_in_s: float | None
    fade_out_s: float | None
    phases: list[str]
    glide_s: float
    given: tuple = ()               # parameter names the recipe set explicitly
    description: str = ""
    level: ValueSpec | None = None  # linear amplitude 0..1 (None: 1)


@dataclass
class TargetSpec:
    """A measurement for ``resonator check`` (kept, not evaluated here)."""

    kind: str
    start_s: float
    end_s: float
    expected: Any = None
    tolerance: Any = None
    name: str | None = None
    window: str | None = None
    layer: str | None = None
    where: str = ""
    carrier_hz: float | None = None

    def as_dict(self) -> dict:
        d = {"name": self.name, "kind": self.kind, "window": self.window,
             "start_s": self.start_s, "end_s": self.end_s, "layer": self.layer,
             "expected": self.expected, "tolerance": self.tolerance, "source": "recipe"}
        if self.carrier_hz is not None:
            d["carrier_hz"] = self.carrier_hz
        return d


@dataclass
class Recipe:
    """A loaded, validated recipe (see :func:`load_recipe`).

    Attributes
    ----------
    path : Path
        The recipe file.
    raw : RawRecipe
        Merged TOML data with key origins (for error locations).
    title, description : str
    sample_rate, seed : int
    loudness_lufs, true_peak_dbtp : float
    fade_in_s, fade_out_s, glide_s, max_duration_s : float
    temperature_start : float
    phases : list of PhaseSpec
    layers : list of LayerSpec
    targets : list of TargetSpec
    warnings : list of str
        Notes on the conversion of an imported sequence (design warnings are
        :func:`resonator.recipe.lints.lint_recipe`'s).
    """

    path: Path
    raw: RawRecipe
    title: str
    description: str
    sample_rate: int
    seed: int
    loudness_lufs: float
    true_peak_dbtp: float
    fade_in_s: float
    fade_out_s: float
    glide_s: float
    max_duration_s: float
    temperature_start: float
    default_schedule: str
    phases: list[PhaseSpec]
    layers: list[LayerSpec]
    targets: list[TargetSpec]
    segments: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    origin: Any = None  # what the recipe was converted from (an SbgConversion), or None
    _temperature: Any = field(default=None, repr=False)  # session temperature, t -> [0, 1]

    @property
    def duration_s(self) -> float:
        return self.phases[-1].end_s

    @property
    def stem(self) -> str:
        return self.path.stem

    def timeline(self) -> Timeline:
        """Phases and temperature as value specs use them."""
        return Timeline([(p.name, p.start_s, p.end_s) for p in self.phases], self.duration_s,
                        self.temperature)

    def temperature(self, t):
        """Session temperature at times ``t`` (seconds; array in, array out)."""
        return self._temperature(t)

    def time_of(self, value, where: str = "--start") -> float:
        """A time in the session, as ``--start`` takes it.

        Parameters
        ----------
        value : float or str
            A phase's exact name (its start), seconds, or a duration string (``"10m"``,
            ``"1:30"``; see :func:`resonator.units.parse_duration`).
        where : str
            The option or place, for the error.

        Returns
        -------
        float
            Seconds from the session's start (not checked against its end).

        Raises
        ------
        RecipeError
            One line listing the phases when ``value`` is neither a phase nor a time.
        """
        if isinstance(value, str):
            for p in self.phases:
                if p.name == value:
                    return p.start_s
        try:
            return parse_duration(value, where=where)
        except RecipeError as exc:
            if "is not a time" not in exc.message:  # a time, but negative or too long
                raise
            names = ", ".join(p.name for p in self.phases)
            raise RecipeError(f"{quote(value)} is neither a time (\"10m\", \"1:30\", seconds) "
                              f"nor a phase of {self.path.name} (phases: {names})",
                              where) from None

    def sha256(self) -> str:
        """Hash of the recipe text and every file it extends."""
        return self.raw.sha256()


def load_recipe(path) -> Recipe:
    """Read, merge (``extends``) and validate a TOML recipe file.

    Parameters
    ----------
    path : str or Path
        A TOML recipe (:func:`resonator.loading.load` reads SBaGen sequences too).

    Returns
    -------
    Recipe

    Raises
    ------
    RecipeError
        One message naming the file, the line, the key path, what is wrong and what is allowed.
    """
    return parse_recipe(load_raw(path))


def _unknown(key, allowed, what, where):
    did = did_you_mean(str(key), allowed)
    raise RecipeError(f"unknown key '{key}' in {what}{did or ';'} allowed: {', '.join(allowed)}", where)


def parse_recipe(raw: RawRecipe) -> Recipe:
    """Validate merged recipe data into a :class:`Recipe` (see :func:`load_recipe`)."""
    data = raw.data
    W = raw.where
    for key in data:
        if key not in SESSION_KEYS:
            _unknown(key, list(SESSION_KEYS), "the recipe", W((key,), key))

    def get(key, parser, default):
        if key not in data:
            return default
        return parser(data[key], where=W((key,), key))

    title = data.get("title", raw.path.stem)
    if not isinstance(title, str):
        raise RecipeError("title must be a string", W(("title",), "title"))
    description = data.get("description", "")
    if not isinstance(description, str):
        raise RecipeError("description must be a string", W(("description",), "description"))
    sr = check_sample_rate(data.get("sample_rate", DEFAULTS["sample_rate"]), text=False,
                           where=W(("sample_rate",), "sample_rate"))
    seed = check_seed(data.get("seed", DEFAULTS["seed"]), text=False, where=W(("seed",), "seed"))
    loud = get("loudness", parse_loudness, DEFAULTS["loudness"])
    if not -70 <= loud <= 0:
        raise RecipeError(f"loudness must be from -70 to 0 LUFS, got {loud:g}",
                          W(("loudness",), "loudness"))
    tp = get("true_peak", parse_true_peak, DEFAULTS["true_peak"])
    if not -20 <= tp <= 0:
        raise RecipeError(f"true_peak must be from -20 to 0 dBTP, got {tp:g}",
                          W(("true_peak",), "true_peak"))
    fade_in = get("fade_in", parse_duration, DEFAULTS["fade_in"])
    fade_out = get("fade_out", parse_duration, DEFAULTS["fade_out"])
    glide = get("glide", parse_duration, DEFAULTS["glide"])
    max_dur = get("max_duration", parse_duration, DEFAULTS["max_duration"])
    t_start, default_sched = parse_session_temperature(
        data.get("temperature"), lambda p: W(("temperature",) + p, "temperature" + "".join(
            f" > {k}" for k in p)))

    # ---- phases
    phases_raw = data.get("phase") or []
    if not phases_raw:
        raise RecipeError("the recipe has no phases: add [[phase]] tables with name and "
                          "duration", W(()))
    phases: list[PhaseSpec] = []
    temps = []
    t = 0.0
    for entry in phases_raw:
        name = entry["name"]

        def pw(p, name=name):
            return W(("phase", name) + p, f'phase "{name}"' + "".join(f" > {k}" for k in p))
        for key in entry:
            if key not in PHASE_KEYS:
                _unknown(key, list(PHASE_KEYS), f'phase "{name}"', pw((key,)))
        if name in RESERVED_NAMES:
            raise RecipeError(f"{quote(name)} cannot be a phase name (it is a key of value "
                              f"tables); reserved: {', '.join(RESERVED_NAMES)}",
                              pw(("name",)))
        if "duration" not in entry:
            raise RecipeError('a phase needs a duration ("10m", "90s", "1:30:00")', pw(()))
        d = parse_duration(entry["duration"], where=pw(("duration",)))
        if d <= 0:
            raise RecipeError(f"a phase must last longer than 0 s, got {quote(entry['duration'])}",
                              pw(("duration",)))
        temps.append(parse_phase_temperature(entry.get("temperature"), default_sched,
                                             lambda p, pw=pw: pw(("temperature",) + p)))
        phases.append(PhaseSpec(name, t, t + d, temps[-1], str(entry.get("description", ""))))
        t += d
    total = t
    if total > max_dur:
        raise RecipeError(
            f"the session lasts {format_duration(total)}, longer than max_duration "
            f"{format_duration(max_dur)}; shorten the phases or raise max_duration",
            W(("max_duration",) if "max_duration" in data else ("phase",), "phases"))
    phase_tuples = [(p.name, p.start_s, p.end_s) for p in phases]

    def where_of_phase(i, p):
        n = phases[i].name
        return W(("phase", n, "temperature") + p,
                 f'phase "{n}" > temperature' + "".join(f" > {k}" for k in p))
    temp_fn, segs = temperature_function(phase_tuples, temps, t_start, where_of_phase,
                                         raw.sources[0].label)
    timeline = Timeline(phase_tuples, total, temp_fn)
    if fade_in + fade_out > total:
        raise RecipeError(f"fade_in + fade_out ({format_duration(fade_in + fade_out)}) is "
                          f"longer than the session ({format_duration(total)})",
                          W(("fade_in",), "fade_in"))

    # ---- layers
    kinds = layer_kinds()
    layers = [_parse_layer(entry, raw, kinds, timeline, glide, sr)
              for entry in (data.get("layer") or []) if entry.get("enabled", True) is not False]
    if not layers:
        raise RecipeError("the recipe has no layers: add [[layer]] tables with name and kind",
                          W(()))

    # ---- targets
    targets = [_parse_target(i, entry, raw, timeline, [lay.name for lay in layers])
               for i, entry in enumerate(data.get("target") or [])
               if entry.get("enabled", True) is not False]

    return Recipe(raw.path, raw, title, description, sr, seed, loud, tp, fade_in, fade_out,
                  glide, max_dur, t_start, default_sched, phases, layers, targets, segs,
                  _temperature=temp_fn)


def _parse_layer(entry, raw: RawRecipe, kinds, timeline: Timeline, session_glide,
                 sr) -> LayerSpec:
    name = entry["name"]

    def lw(p):
        return raw.where(("layer", name) + p, f'layer "{name}"' + "".join(f" > {k}" for k in p))
    if "kind" not in entry:
        raise RecipeError(f"a layer needs a kind; available: {', '.join(sorted(kinds))}", lw(()))
    kind_name = entry["kind"]
    if not isinstance(kind_name, str):
        raise RecipeError(f"kind must be the name of a layer kind (a string), got "
                          f"{'a table' if isinstance(kind_name, dict) else quote(kind_name)}; "
                          f"available: {', '.join(sorted(kinds))}", lw(("kind",)))
    if kind_name not in kinds:
        did = did_you_mean(str(kind_name), kinds)
        raise RecipeError(f"unknown layer kind {quote(kind_name)}{did or ';'} available: "
                          f"{', '.join(sorted(kinds)) or '(none registered)'}", lw(("kind",)))
    kind = kinds[kind_name]
    allowed = list(LAYER_COMMON) + list(kind.params)
    for key in entry:
        if key not in allowed:
            did = did_you_mean(str(key), allowed)
            raise RecipeError(
                f"unknown key '{key}' in layer \"{name}\" (kind {kind_name}){did or ';'} allowed: "
                f"{', '.join(allowed)}", lw((key,)))
    glide = parse_duration(entry["glide"], where=lw(("glide",))) if "glide" in entry \
        else session_glide
    names = timeline.phase_names()
    phases = entry.get("phases", names)
    if isinstance(phases, str):
        phases = [phases]
    if not isinstance(phases, list) or not phases:
        raise RecipeError(f"phases must be a list of phase names ({', '.join(names)})",
                          lw(("phases",)))
    for p in phases:
        if p not in names:
            did = did_you_mean(str(p), names)
            raise RecipeError(f"unknown phase {quote(p)}{did or ';'} phases are: {', '.join(names)}",
                              lw(("phases",)))
    phases = [n for n in names if n in phases]  # session order

    def value(key, unit, allow=None):
        kw = {} if allow is None else {"allow": allow}
        return parse_value(entry[key], unit, key=key, timeline=timeline, default_glide=glide,
                           where=lambda p: lw((key,) + p), **kw)
    gain = value("gain", "db") if "gain" in entry else ValueSpec("constant", "db", 0.0)
    if gain.form in ("per-phase", "curve"):
        _check_gain_slope(gain, timeline, lw(("gain",)))
    if gain.bounds()[1] > 24:
        raise RecipeError(f"gain {gain.bounds()[1]:g} dB is above the allowed +24 dB",
                          lw(("gain",)))
    level = value("level", "amp") if "level" in entry else None
    if level is not None:
        lo, hi = level.bounds()
        if lo < 0 or hi > 1:
            raise RecipeError("level must be from 0 (silent) to 1", lw(("level",)))
    pan = value("pan", "number") if "pan" in entry else ValueSpec("constant", "number", 0.0)
    lo, hi = pan.bounds()
    if lo < -1 or hi > 1:
        raise RecipeError("pan must be from -1 (left) to 1 (right)", lw(("pan",)))
    fade_in = parse_duration(entry["fade_in"], where=lw(("fade_in",))) if "fade_in" in entry \
        else None
    fade_out = parse_duration(entry["fade_out"], where=lw(("fade_out",))) if "fade_out" in \
        entry else None

    params: dict[str, Any] = {}
    for pname, info in kind.params.items():
        if pname in entry:
            params[pname] = _parse_param(pname, info, entry[pname], timeline, glide, sr,
                                         lambda p, pname=pname: lw((pname,) + p), name)
        elif info.default is None:
            raise RecipeError(f"layer \"{name}\" (kind {kind_name}) needs '{pname}': "
                              f"{info.doc}", lw(()))
        else:
            params[pname] = _parse_param(pname, info, info.default, timeline, glide, sr,
                                         lambda p: lw(()), name, default=True)
    return LayerSpec(name, kind_name, params, gain, pan, fade_in, fade_out, phases, glide,
                     tuple(k for k in kind.params if k in entry),
                     str(entry.get("description", "")), level)


def _check_gain_slope(gain: ValueSpec, timeline: Timeline, where):
    pts = gain.breakpoints(timeline)
    for a, b in zip(pts, pts[1:]):
        dv = abs(b[1] - a[1])
        dt = b[0] - a[0]
        if dv > 0 and (dt <= 0 or dv / dt > 100.0 * (2 if len(b) > 2 and b[2] in ("cos", "smooth") else 1)):
            need = dv / 100.0 * (1.6 if len(b) > 2 and b[2] in ("cos", "smooth") else 1.0)
            raise RecipeError(
                f"the gain changes by {dv:g} dB in {dt:g} s: gains must move smoothly (at most "
                f"0.1 dB per millisecond); use a glide of at least {need:.3g} s", where)


def _parse_param(pname, info, rawv, timeline, glide, sr, where, layer, default=False):
    unit = info.unit
    if unit in NUMERIC_UNITS:
        allow = None if info.automatable else ("constant",)
        kw = {} if allow is None else {"allow": allow}
        spec = parse_value(rawv, unit, key=pname, timeline=timeline, default_glide=glide,
                           where=where, **kw)
        lo, hi = spec.bounds()
        problem = nyquist_problem(pname, lo, hi, sr) if unit == "hz" else None
        if problem:
            raise RecipeError(problem, where(()))
        ul = (" " + UNITS[unit].label) if UNITS[unit].label else ""
        if info.range is not None and not default and (lo < info.range[0] or hi > info.range[1]):
            bad = lo if lo < info.range[0] else hi
            raise RecipeError(f"{pname} = {bad:g}{ul} is outside the allowed range "
                              f"{info.range[0]:g}..{info.range[1]:g}{ul} ({info.doc})", where(()))
        if unit == "s" and spec.form == "constant" and pname.endswith(("duration", "length")) \
                and spec.data <= 0:
            raise RecipeError(f"{pname} must be longer than 0 s", where(()))
        return spec
    # non-numeric
    if unit == "choice":
        choices = info.choices or ()
        if rawv not in choices:
            did = did_you_mean(str(rawv), choices)
            raise RecipeError(f"{quote(rawv)} is not a choice for {pname}{did or ';'} allowed: "
                              f"{', '.join(choices)}", where(()))
        return rawv
    if unit in ("text", "path"):
        if not isinstance(rawv, str):
            raise RecipeError(f"{pname} must be a string, got {quote(rawv)}", where(()))
        return rawv
    if unit == "bool":
        if not isinstance(rawv, bool):
            raise RecipeError(f"{pname} must be true or false, got {quote(rawv)}", where(()))
        return rawv
    if unit == "int":
        if isinstance(rawv, bool) or not isinstance(rawv, int):
            raise RecipeError(f"{pname} must be a whole number, got {quote(rawv)}", where(()))
        if info.range is not None and not info.range[0] <= rawv <= info.range[1]:
            raise RecipeError(f"{pname} must be from {info.range[0]:g} to {info.range[1]:g}, "
                              f"got {rawv}", where(()))
        return rawv
    if unit == "list":
        if not isinstance(rawv, list):
            raise RecipeError(f"{pname} must be a list, got {quote(rawv)}", where(()))
        return rawv
    return rawv  # unknown unit names: pass through (the kind validates)


def _parse_target(i, entry, raw: RawRecipe, timeline: Timeline, layer_names) -> TargetSpec:
    name = entry.get("name")
    label = f'target "{name}"' if name else f"target #{i + 1}"
    key = name if name else f"#{i + 1}"

    def tw(p):
        return raw.where(("target", key) + p, label + "".join(f" > {k}" for k in p))
    for k in entry:
        if k not in TARGET_KEYS:
            _unknown(k, list(TARGET_KEYS), label, tw((k,)))
    kind = entry.get("kind")
    if not isinstance(kind, str) or not kind:
        raise RecipeError("a target needs kind = \"...\" (what to measure)", tw(()))
    window = entry.get("window")
    from .values import resolve_time
    if window is not None:
        if "start" in entry or "end" in entry:
            raise RecipeError("give either window (a phase name) or start/end, not both",
                              tw(("window",)))
        if window not in timeline.phase_names():
            did = did_you_mean(str(window), timeline.phase_names())
            raise RecipeError(f"unknown phase {quote(window)}{did or ';'} phases are: "
                              f"{', '.join(timeline.phase_names())}", tw(("window",)))
        _, s, e = next(p for p in timeline.phases if p[0] == window)
    else:
        s = resolve_time(entry.get("start", 0.0), timeline, tw(("start",)))
        e = resolve_time(entry.get("end", "end"), timeline, tw(("end",)))
        if not 0 <= s < e <= timeline.duration_s + 1e-9:
            raise RecipeError(f"the window {s:g}..{e:g} s must lie inside the session "
                              f"(0..{timeline.duration_s:g} s) and end after it starts",
                              tw(("start",)))
    layer = entry.get("layer")
    if layer is not None and layer not in layer_names:
        did = did_you_mean(str(layer), layer_names)
        raise RecipeError(f"unknown layer {quote(layer)}{did or ';'} layers are: "
                          f"{', '.join(layer_names)}", tw(("layer",)))
    carrier = None
    if "carrier" in entry:
        from ..units import parse_frequency
        carrier = parse_frequency(entry["carrier"], where=tw(("carrier",)))
    # the kind, expected value and tolerance as `check` will read them: refused now, not after
    # a render (an unknown kind, expected = {table}, a negative tolerance)
    from ..check.targets import make_target

    make_target(kind, s, e, entry.get("expected"), entry.get("tolerance"), where=tw(()))
    return TargetSpec(kind, s, e, entry.get("expected"), entry.get("tolerance"), name, window,
                      layer, tw(()), carrier)
