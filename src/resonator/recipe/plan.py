"""Plans: what a recipe will do, as data, as text and as a PNG plot (no audio rendered)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..units import format_duration
from .model import Recipe
from ..units import UNITS
from .values import ValueSpec


def plan(recipe, *, lints: bool = True) -> dict:
    """Describe a recipe's timeline.

    Parameters
    ----------
    recipe : Recipe, str or Path
    lints : bool
        Include the design lints (:func:`resonator.recipe.lints.lint_recipe`; the
        loudness-jump lint renders a few seconds around each phase boundary).

    Returns
    -------
    dict
        ``title``, ``duration_s``, ``sample_rate``, ``loudness_lufs``, ``true_peak_dbtp``,
        ``phases`` (each: ``name``, ``start_s``, ``end_s``, ``temperature_start``,
        ``temperature_end``, ``schedule``, ``layers`` playing), ``layers`` (each: ``name``,
        ``kind``, ``phases``, ``gain`` and ``params`` described as text: those that apply
        (:attr:`resonator.layers.base.ParamInfo.applies`), ``varying``: the parameters that
        change over time), ``targets``, ``warnings`` (notes of an import)
        and ``lints`` (each :meth:`~resonator.recipe.lints.Lint.as_dict`; empty when
        ``lints`` is False).
    """
    from .lints import lint_recipe

    if not isinstance(recipe, Recipe):
        from ..loading import load

        recipe = load(recipe)
    tl = recipe.timeline()
    phases = []
    for p in recipe.phases:
        t0, t1 = recipe.temperature(np.array([p.start_s, p.end_s]))
        pt = p.temperature
        if pt.holds or pt.to == t0:
            sched = "hold"
        else:
            sched = pt.schedule
            if pt.time_s is not None or pt.delay_s:
                sched += f" over {format_duration(pt.time_s or p.duration_s - pt.delay_s)}"
                if pt.delay_s:
                    sched += f" after {format_duration(pt.delay_s)}"
        phases.append({
            "name": p.name, "start_s": p.start_s, "end_s": p.end_s,
            "temperature_start": round(float(t0), 6), "temperature_end": round(float(t1), 6),
            "schedule": sched,
            "layers": [lay.name for lay in recipe.layers if p.name in lay.phases],
        })
    from .model import layer_kinds

    kinds = layer_kinds()
    layers = []
    for lay in recipe.layers:
        infos = kinds[lay.kind].params
        params = {k: (v.describe(tl) if isinstance(v, ValueSpec) else v)
                  for k, v in lay.params.items()
                  if infos[k].applies is None or infos[k].applies(lay.params)}
        varying = [k for k, v in lay.params.items() if isinstance(v, ValueSpec) and v.varies]
        if lay.gain.varies:
            varying.insert(0, "gain")
        layers.append({"name": lay.name, "kind": lay.kind, "phases": lay.phases,
                       "gain": lay.gain.describe(tl), "pan": lay.pan.describe(tl),
                       "params": params, "varying": varying})
    return {
        "title": recipe.title, "description": recipe.description, "recipe": str(recipe.path),
        "duration_s": recipe.duration_s, "sample_rate": recipe.sample_rate, "seed": recipe.seed,
        "loudness_lufs": recipe.loudness_lufs, "true_peak_dbtp": recipe.true_peak_dbtp,
        "fade_in_s": recipe.fade_in_s, "fade_out_s": recipe.fade_out_s,
        "phases": phases, "layers": layers,
        "targets": [t.as_dict() for t in recipe.targets], "warnings": list(recipe.warnings),
        "lints": [x.as_dict() for x in lint_recipe(recipe)] if lints else [],
    }


def _sounding(envelope) -> list[list[float]]:
    """Spans [start_s, end_s] where a layer's envelope (a Curve) is above 0, ramps included."""
    t, v = np.asarray(envelope.t, dtype=float), np.asarray(envelope.v, dtype=float)
    spans: list[list[float]] = []
    for k in range(1, len(t)):
        if (v[k - 1] > 0 or v[k] > 0) and t[k] > t[k - 1]:
            if spans and spans[-1][1] >= t[k - 1]:
                spans[-1][1] = float(t[k])
            else:
                spans.append([float(t[k - 1]), float(t[k])])
    return spans


def _param_series(name: str, spec, tl, t: np.ndarray) -> dict:
    unit = UNITS[spec.unit].label
    out = {"name": name, "unit": unit, "varies": bool(spec.varies)}
    if spec.varies:
        vals = spec.evaluate(tl, t)
        out["values"] = [round(float(x), 6) for x in vals]
        lo, hi = spec.bounds()
        out["min"], out["max"] = float(lo), float(hi)
    else:
        out["value"] = float(spec.values()[0])
    return out


def plan_series(recipe, *, start_s: float = 0.0, end_s: float | None = None,
                points: int = 600) -> dict:
    """A recipe's plan sampled over time: what a timeline draws (no audio rendered).

    Parameters
    ----------
    recipe : Recipe, str or Path
    start_s, end_s : float, optional
        The window to sample, in session seconds (default: the whole session); clipped to
        the session.
    points : int >= 2
        Samples per curve, evenly spaced from ``start_s`` to ``end_s`` inclusive.

    Returns
    -------
    dict
        ``duration_s``; ``t`` (the sample times, seconds); ``temperature`` (0..1 at ``t``);
        ``phases`` (``name``, ``start_s``, ``end_s``); ``layers``, one per layer in recipe
        order: ``name``, ``kind``, ``envelope`` (the layer's gate 0..1 at ``t``),
        ``sounding`` (exact spans ``[start_s, end_s]`` where the gate is above 0, ramps
        included), ``params``: one entry per numeric value (``gain`` in dB, ``level`` and
        ``pan`` when given, the kind's numeric parameters the recipe gives or that vary), each
        with ``name``, ``unit`` (display label: "Hz", "dB", "/min", "s" or "") and ``varies``;
        a varying value has ``values`` at ``t`` and ``min``/``max``, a constant one has
        ``value``; ``settings``: the other parameters the recipe gives (choices, text).

    Examples
    --------
    >>> s = plan_series("recipes/theta-pulse.toml", points=3)           # doctest: +SKIP
    >>> s["t"], s["layers"][0]["sounding"]                              # doctest: +SKIP
    ([0.0, 750.0, 1500.0], [[0.0, 1500.0]])
    """
    from .session import layer_envelope

    if not isinstance(recipe, Recipe):
        from ..loading import load

        recipe = load(recipe)
    points = int(points)
    if points < 2:
        raise ValueError(f"points must be at least 2, got {points}")
    total = recipe.duration_s
    a = min(max(float(start_s), 0.0), total)
    b = total if end_s is None else min(max(float(end_s), a), total)
    t = np.linspace(a, b, points)
    tl = recipe.timeline()
    layers = []
    for lay in recipe.layers:
        env = layer_envelope(lay, tl)
        params = [_param_series("gain", lay.gain, tl, t)]
        if lay.level is not None:
            params.append(_param_series("level", lay.level, tl, t))
        if lay.pan.varies or lay.pan.values()[0] != 0:
            params.append(_param_series("pan", lay.pan, tl, t))
        settings = {}
        for k, v in lay.params.items():
            if isinstance(v, ValueSpec):
                if k in lay.given or v.varies:
                    params.append(_param_series(k, v, tl, t))
            elif k in lay.given:
                settings[k] = v
        layers.append({"name": lay.name, "kind": lay.kind, "phases": list(lay.phases),
                       "envelope": [round(float(x), 6) for x in env.evaluate(t)],
                       "sounding": _sounding(env), "params": params, "settings": settings})
    return {
        "duration_s": total,
        "t": [float(x) for x in t],
        "temperature": [round(float(x), 6) for x in recipe.temperature(t)],
        "phases": [{"name": p.name, "start_s": p.start_s, "end_s": p.end_s}
                   for p in recipe.phases],
        "layers": layers,
    }


def format_plan(p: dict) -> str:
    """The plan as readable text (what ``resonator plan`` prints)."""
    lines = [f"{p['title']}  ({format_duration(p['duration_s'])}, {p['sample_rate']} Hz, "
             f"{p['loudness_lufs']:g} LUFS, true peak <= {p['true_peak_dbtp']:g} dBTP, "
             f"fades {format_duration(p['fade_in_s'])} / {format_duration(p['fade_out_s'])})"]
    if p.get("description"):
        lines.append(f"  {p['description']}")
    lines.append("")
    lines.append("phases:")
    w = max(len(ph["name"]) for ph in p["phases"])
    for ph in p["phases"]:
        lines.append(
            f"  {format_duration(ph['start_s']):>8} - {format_duration(ph['end_s']):<8} "
            f"{ph['name']:<{w}}  T {ph['temperature_start']:.2f} -> "
            f"{ph['temperature_end']:.2f} ({ph['schedule']})  layers: "
            f"{', '.join(ph['layers']) or '-'}")
    lines.append("")
    lines.append("layers:")
    for lay in p["layers"]:
        lines.append(f"  {lay['name']} ({lay['kind']}) in {', '.join(lay['phases'])}; "
                     f"gain {lay['gain']}; pan {lay['pan']}")
        for k, v in lay["params"].items():
            mark = " *" if k in lay["varying"] else ""
            lines.append(f"      {k} = {v}{mark}")
    if p["targets"]:
        lines.append("")
        lines.append("targets:")
        for t in p["targets"]:
            win = t["window"] or f"{format_duration(t['start_s'])}-{format_duration(t['end_s'])}"
            lines.append(f"  {t['name'] or '-'}: {t['kind']} in {win}: {t['expected']} "
                         f"+- {t['tolerance']}")
    for wmsg in p["warnings"]:
        lines.append(f"warning: {wmsg}")
    for lint in p.get("lints", []):
        head = f"{lint['file']}:{lint['line']}" if lint["line"] else lint["file"]
        lines.append(f"warning: {head}: {lint['place']}: {lint['message']}")
    lines.append("(* changes over time)")
    return "\n".join(lines)
