"""Targets: what ``resonator check`` measures, from recipes, layer kinds and the command line.

Every target becomes a :class:`Target` with a kind, a window in *session* seconds, an
expected value, a tolerance and hints for the measurement (the layer's frequency band, a
binaural carrier, bell strike times). Three sources:

- ``recipe``: the recipe's ``[[target]]`` tables (expected and tolerance given with units);
- ``layer``: targets the layer kinds imply (:attr:`resonator.recipe.Session.targets`), plus
  binaural carriers sampled like the beat;
- ``session``: implied by the session settings: integrated loudness and true peak (normalised
  renders), fades at start and end, no clicks, and for every phase span where the temperature
  falls: steadily quieter (``loudness_trend``) when a layer gain follows the temperature, and
  darker (``centroid_trend``) when a brightness or low-pass cutoff follows it.

A render of a window (``--start/--duration``) covers session seconds ``[offset, offset +
length)``: :func:`fit_to_file` keeps targets inside it, clips phase-long targets that only
partly overlap (when enough remains) and moves every window to file seconds.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RecipeError, ResonatorError
from .kinds import TARGET_KINDS, get_kind

__all__ = ["Target", "CheckInputError", "targets_from_session", "targets_from_file",
           "parse_target_arg", "fit_to_file", "make_target"]


class CheckInputError(ResonatorError):
    """A check cannot start: a bad target, a missing recipe, an unreadable sidecar."""


@dataclass
class Target:
    """One measurement to make.

    Attributes
    ----------
    kind : str
        A registered kind (:data:`resonator.check.kinds.TARGET_KINDS`).
    start_s, end_s : float
        Window in seconds (session seconds until :func:`fit_to_file` moves it to the file).
    expected : float or str
        Expected value in the kind's unit (``"falling"`` for trends).
    tolerance : float
        Allowed difference (for trends: the allowed bump in dB over the plan).
    phase : str or None
        Phase the window lies in (or is), when known.
    layer : str or None
        Layer the target is about.
    source : str
        ``recipe``, ``layer``, ``session`` or ``cli``.
    name : str or None
    params : dict
        Measurement hints: ``band`` (lo_hz, hi_hz) isolating the layer, ``carrier_hz``,
        ``times_s`` (bell strikes), ``sample`` (True for short windows sampled on a glide,
        whose expected value holds at the window centre and must not be clipped).
    """

    kind: str
    start_s: float
    end_s: float
    expected: Any
    tolerance: float
    phase: str | None = None
    layer: str | None = None
    source: str = "recipe"
    name: str | None = None
    params: dict = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


#: layer kinds whose binaural targets are measured against the plan's sinusoids
PITCHED_KINDS = ("binaural", "wave", "tone")


def _band_suffix(kind: str, where=None) -> dict:
    """``band_energy@100-300`` -> {"band": (100, 300)}."""
    base = kind.split("@")[0]
    if not get_kind(base).band_suffix:
        raise CheckInputError(f"{kind!r}: a {base} target takes no band (@LO-HI)", where)
    if "@" not in kind:
        raise CheckInputError(f"{base} needs a band: {base}@LO-HI (Hz)", where)
    m = re.fullmatch(r"[a-z_0-9]+@([0-9.]+)-([0-9.]+)", kind)
    if not m or float(m.group(1)) >= float(m.group(2)):
        raise CheckInputError(f"{kind!r}: write the band as KIND@LO-HI in Hz, e.g. "
                              f"{base}@100-300", where)
    return {"band": (float(m.group(1)), float(m.group(2)))}


def make_target(kind, start_s, end_s, expected, tolerance, *, phase=None, layer=None,
                source="recipe", name=None, params=None, where=None) -> Target:
    """Build a :class:`Target`, reading expected/tolerance with units and filling defaults.

    Parameters
    ----------
    kind : str
        A registered kind (:data:`resonator.check.kinds.TARGET_KINDS`), with ``@LO-HI`` for
        kinds written with a band.
    start_s, end_s : float
    expected, tolerance : number, str or None
        With or without units (``"6 Hz"``, ``"0.1 Hz"``, ``"falling"``); None: the kind's
        default (an expected value is required for most kinds).
    """
    info = get_kind(str(kind), where)
    extra = _band_suffix(str(kind), where) if info.band_suffix or "@" in str(kind) else {}
    if expected is None:
        if info.expected is None:
            raise CheckInputError(f"a {info.name} target needs an expected value", where)
        expected = info.expected
    try:
        exp = info.read_expected(expected, where)
    except RecipeError as exc:
        raise CheckInputError(f"expected value of a {info.name} target: {exc.message}",
                              where) from None
    try:
        tol = info.tolerance if tolerance is None else info.read_tolerance(tolerance, where)
    except RecipeError as exc:
        raise CheckInputError(f"tolerance of a {info.name} target: {exc.message}",
                              where) from None
    if not tol >= 0:
        raise CheckInputError(f"the tolerance of a {info.name} target must be 0 or more, got "
                              f"{tolerance!r}", where)
    p = dict(params or {})
    p.update(extra)
    return Target(info.name, float(start_s), float(end_s), exp, float(tol), phase, layer,
                  source, name, p)


# ------------------------------------------------------------------------------ sessions
def _layer_band(info, sr: int) -> tuple[float, float] | None:
    """A frequency band that holds most of a layer's energy, or None (whole band)."""
    from ..layers._common import bounds_of, const

    p = info.params
    nyq = 0.5 * sr
    dur = 1.0

    def rng(key):
        try:
            return bounds_of(p[key], sr, dur) if not isinstance(p[key], (int, float)) else \
                (float(p[key]), float(p[key]))
        except Exception:  # noqa: BLE001 - a hint only
            return None
    kind = info.kind
    if kind in ("isochronic", "monaural"):
        c, r = rng("carrier"), rng("rate" if kind == "isochronic" else "beat")
        if c and r:
            w = max(3.0 * abs(r[1]), 60.0) if kind == "isochronic" else abs(r[1]) + 20.0
            return max(10.0, c[0] - w), min(0.95 * nyq, c[1] + w)
    if kind == "gamma":
        mode = p.get("mode")
        carrier = float(p.get("carrier") or (10000.0 if mode == "genus" else 400.0))
        if mode == "genus":
            return max(20.0, carrier - 3000.0), min(0.95 * nyq, carrier + 3000.0)
        if p.get("source") == "tone":
            r = rng("rate")
            w = (r[1] if r else 50.0) * 1.5 + 10.0
            return max(10.0, carrier - w), min(0.95 * nyq, carrier + w)
        return (200.0, 0.95 * nyq)  # noise carrier: well above the modulation
    if kind == "noise":
        return (200.0, 0.95 * nyq)  # modulated noise: a carrier well above the modulation
    if kind == "breath":
        r = rng("root")
        if r:
            return max(10.0, 0.9 * r[0]), min(0.95 * nyq, 2.6 * r[1])
    if kind == "pulse":
        pitch = float(p.get("pitch") or (60.0 if p.get("style") == "thump" else 2000.0))
        return max(10.0, 0.3 * pitch), min(0.95 * nyq, 3.0 * pitch)
    return None


def _tones(info, sr) -> list[tuple[float, float]]:
    """Frequency ranges (lo, hi) of a tonal layer's partials (empty for noise, music)."""
    from ..layers._common import bounds_of
    from ..layers.breath import PARTIAL_RATIOS

    p = info.params

    def rng(key):
        try:
            return bounds_of(p[key], sr, 1.0)
        except Exception:  # noqa: BLE001
            return None
    out = []
    if info.kind == "drone":
        r = rng("root")
        ratios = p.get("ratios") or [1.0, 1.5, 2.0, 2.5]
        try:
            from ..units import parse_ratio
            rr = [parse_ratio(v) for v in ratios]
        except Exception:  # noqa: BLE001
            rr = [1.0, 1.5, 2.0, 2.5]
        if p.get("partials"):
            out = [(float(f) * 0.995, float(f) * 1.005) for f in p["partials"]]
        elif r:
            out = [(r[0] * k * 0.995, r[1] * k * 1.005) for k in rr]
    elif info.kind == "breath":
        r = rng("root")
        if r:
            out = [(r[0] * k * 0.995, r[1] * k * 1.005) for k in PARTIAL_RATIOS]
            if p.get("cues"):
                out += [(435.0, 665.0)]
    elif info.kind in ("binaural", "monaural", "isochronic"):
        c = rng("carrier")
        b = rng("beat") if info.kind != "isochronic" else rng("rate")
        if c:
            w = (max(abs(b[0]), abs(b[1])) if b else 10.0) * (0.5 if info.kind != "isochronic"
                                                               else 3.0) + 2.0
            out = [(c[0] - w, c[1] + w)]
    elif info.kind in ("wave", "tone"):
        c = rng("carrier" if info.kind == "wave" else "frequency")
        b = rng("beat") if info.kind == "wave" else (0.0, 0.0)
        if c and b:
            w = 0.5 * max(abs(b[0]), abs(b[1])) + 2.0
            out = [(max(1.0, c[0] - w), c[1] + w)]
    elif info.kind == "chime":
        try:
            out = [(float(f) - 2.0, float(f) + 2.0) for f in set(p.get("pitches") or [440.0])]
        except (TypeError, ValueError):
            out = []
    elif info.kind == "gamma" and p.get("source") == "tone":
        band = _layer_band(info, sr)
        if band:
            out = [band]
    return out


def _breath_band(session, info, phase=None) -> tuple[float, float] | None:
    """A narrow band around the breath partial farthest from every other layer's tones."""
    from ..layers._common import bounds_of
    from ..layers.breath import PARTIAL_RATIOS, PARTIAL_SWELL

    try:
        lo, hi = bounds_of(info.params["root"], session.sr, 1.0)
    except Exception:  # noqa: BLE001
        return None
    others = [r for other in session.layers if other.name != info.name
              and (phase is None or phase in other.phases)
              for r in _tones(other, session.sr)]
    best, best_gap = None, -1.0
    for k, swell in zip(PARTIAL_RATIOS, PARTIAL_SWELL):
        a, b = lo * k * 0.99 - 6.0, hi * k * 1.01 + 6.0
        gap = min([max(r0 - b, a - r1) for r0, r1 in others] or [1e9])
        score = min(gap, 40.0) + 5.0 * swell
        if score > best_gap:
            best, best_gap = (a, b), score
    if best is None or best_gap < 5.0:
        return None
    return best


def _tonal_top(session, skip: str) -> float:
    """Highest tonal frequency of the session's layers other than ``skip`` (a rough bound)."""
    from ..layers._common import bounds_of

    top = 0.0
    for info in session.layers:
        if info.name == skip or info.kind in ("noise", "music"):
            continue
        if info.kind == "gamma" and info.params.get("source") != "tone":
            continue
        band = _layer_band(info, session.sr)
        if band:
            top = max(top, band[1])
        elif info.kind in ("binaural", "drone"):
            key = "carrier" if info.kind == "binaural" else "root"
            try:
                hi = bounds_of(info.params[key], session.sr, 1.0)[1]
            except Exception:  # noqa: BLE001
                hi = 1000.0
            mult = 1.05 if info.kind == "binaural" else 4.0
            top = max(top, hi * mult + 50.0)
        elif info.kind == "bell":
            top = max(top, 0.45 * session.sr)
    return top


def _noise_band(session, info, a, b) -> tuple[float, float] | None:
    """Band where a noise layer dominates the others (for its L/R correlation), or None."""
    from ..layers._common import sample

    hi = 0.45 * session.sr
    lp = info.params.get("lowpass")
    try:
        lpv = float(np.min(sample(lp, np.linspace(a, b, 33), session.sr))) if lp is not None \
            else 0.0
    except Exception:  # noqa: BLE001
        lpv = 0.0
    if lpv > 0:
        hi = min(hi, lpv)
    # the widest stretch of [200 Hz, hi] free of every other playing layer's tones
    mid = 0.5 * (a + b)
    phase = next((n for n, s0, s1 in session.phases if s0 <= mid < s1), None)
    busy = sorted((r0 / 1.15, r1 * 1.15) for other in session.layers
                  if other.name != info.name and (phase is None or phase in other.phases)
                  for r0, r1 in _tones(other, session.sr))
    if any(o.kind in ("music", "bell", "spin", "pulse") or
           (o.kind == "noise" and o.name != info.name) or
           (o.kind == "gamma" and o.params.get("source") != "tone")
           for o in session.layers if phase is None or phase in o.phases):
        return None  # other broadband layers: no band belongs to this noise alone
    best, lo = None, 200.0
    for r0, r1 in busy + [(hi, hi)]:
        top = min(r0, hi)
        if top > lo and (best is None or top / lo > best[1] / best[0]):
            best = (lo, top)
        lo = max(lo, r1)
    return best if best is not None and best[1] >= 1.5 * best[0] else None


def _loud_span(session, info, a, b, within_db: float = 6.0, cache: dict | None = None):
    """The part of [a, b] where the layer's planned gain is within ``within_db`` of its
    highest there (a layer 30 dB under the mix cannot be measured); returns (a, b, original
    window or None)."""
    from ..layers._common import sample

    spec = next((s for s in session.recipe.layers if s.name == info.name), None)
    level = getattr(spec, "level", None) if spec is not None else None
    if spec is None or (spec.gain.form == "constant" and level is None):
        return a, b, None
    cache = {} if cache is None else cache
    try:
        if info.name not in cache:  # (curve nodes of long sequences are costly to build)
            tl = session.recipe.timeline()
            cache[info.name] = (spec.gain.to_node(tl),
                                None if level is None else level.to_node(tl))
        gain_node, level_node = cache[info.name]
        tt = np.linspace(a, b, 129)
        g = sample(gain_node, tt, session.sr)
        if level_node is not None:  # the level (linear) multiplies the gain (dB)
            lv = np.abs(sample(level_node, tt, session.sr))
            g = g + 20 * np.log10(np.maximum(lv, 1e-6))
    except Exception:  # noqa: BLE001
        return a, b, None
    keep = np.flatnonzero(g >= g.max() - within_db)
    na, nb = float(tt[keep[0]]), float(tt[keep[-1]])
    if nb - na >= b - a - 1e-6 or nb - na < 10.0:
        return a, b, None
    return na, nb, (a, b)


def _curve_fn(node, sr):
    """``t -> value`` of a parameter (seconds in, array out), for measurement hints."""
    from ..layers._common import sample

    return lambda t: sample(node, np.atleast_1d(np.asarray(t, dtype=float)), sr)


def _carrier_targets(session, info) -> list[dict]:
    """``binaural_carrier`` targets sampled like the layer's beat (see param_targets)."""
    from ..layers._common import param_targets
    from ..layers.base import LayerContext

    ctx = LayerContext(sr=session.sr, duration_s=session.duration_s,
                       phases=list(session.phases), temperature=session.temperature,
                       recipe_dir=Path("."), layer_name=info.name)
    try:
        out = param_targets("binaural_carrier", info.params["carrier"], ctx, tolerance=0.1,
                            window_s=4.0)
    except Exception:  # noqa: BLE001 - carriers the sampler cannot read are not checked
        return []
    import numpy as np

    level = None
    spec = next((s for s in session.recipe.layers if s.name == info.name), None)
    if spec is not None and getattr(spec, "level", None) is not None:
        try:
            level = _curve_fn(spec.level.to_node(session.recipe.timeline()), session.sr)
        except Exception:  # noqa: BLE001 - a hint only
            level = None
    top = 0.0
    if level is not None:
        try:
            top = float(np.max(np.abs(level(np.linspace(0.0, session.duration_s, 4097)))))
        except Exception:  # noqa: BLE001
            top = 0.0
    keep = []
    for d in out:
        mid = np.linspace(d["start_s"], d["end_s"], 9)
        if level is not None and np.min(np.abs(level(mid))) < max(1e-3, 0.25 * top):
            continue  # the level is near silence or fading in (more than 12 dB under its top)
        if np.min(info.envelope.evaluate(mid)) >= 0.999:
            d["source"] = "layer"
            keep.append(d)
    return keep


def _bound_to_temperature(spec_value) -> bool:
    return getattr(spec_value, "form", None) == "temperature"


def _cooling_spans(recipe) -> list[tuple[float, float, str]]:
    """(start_s, end_s, phase) of every span where the temperature falls."""
    out = []
    for seg in getattr(recipe, "segments", []) or []:
        if seg.get("kind") == "hold" or seg.get("t_end") is None:
            continue
        if seg["t_end"] < seg["t_start"] - 0.05 and seg["end_s"] - seg["start_s"] >= 60.0:
            name = next((n for n, a, b in recipe.timeline().phases
                         if a <= seg["start_s"] < b), None)
            out.append((float(seg["start_s"]), float(seg["end_s"]), name))
    return out


def targets_from_session(session) -> list[Target]:
    """Every target of a built session: written, implied by layers, implied by the session.

    Parameters
    ----------
    session : resonator.recipe.Session

    Returns
    -------
    targets : list of Target
        In session seconds.
    """
    recipe = session.recipe
    by_name = {i.name: i for i in session.layers}
    out: list[Target] = []
    planned = []
    span_nodes: dict = {}

    def components_at():
        """Every pitched layer's planned sinusoids (built once, on first use)."""
        if not planned:
            from .voices import planned_components
            planned.append(planned_components(session))
        return planned[0]
    for d in session.targets:
        d = dict(d)
        kind = d.pop("kind")
        layer = d.get("layer")
        params = {}
        info = by_name.get(layer)
        if info is not None:
            band = _layer_band(info, session.sr)
            if kind == "breath_rate" and info.kind == "breath":
                band = _breath_band(session, info, d.get("phase")) or band
            if kind == "lr_correlation" and info.kind == "noise":
                band = _noise_band(session, info, d["start_s"], d["end_s"])
                if band is None:
                    params["unmeasurable"] = ("other layers cover the noise's band; no band "
                                              "left where its L/R correlation can be read")
                else:  # every planned tone is notched out of the band
                    params["components"] = components_at()
            if band:
                params["band"] = band
            if info.kind in ("noise", "music") or (info.kind == "gamma" and
                                                  info.params.get("source") != "tone"):
                params["noise_carrier"] = True
            if info.kind == "binaural":
                from ..layers._common import const
                c = const(info.params["carrier"])
                if c is not None:
                    params["carrier_hz"] = c
        if info is not None and kind in ("am_rate", "am_depth", "gated_depth", "gamma_share",
                                         "binaural_beat"):
            from ..layers._common import sample
            from ..graph.core import TimeFunction

            key = {"music": "mod_rate", "noise": "mod_rate", "binaural": "carrier",
                   "monaural": "beat"}.get(
                info.kind, "rate")
            node = info.params.get(key)
            if node is not None and not isinstance(node, (str, list, bool)):
                try:
                    mid = 0.5 * (d["start_s"] + d["end_s"])
                    if key == "carrier":
                        params["carrier_hz"] = float(sample(node, [mid], session.sr)[0])
                    elif isinstance(node, TimeFunction) or isinstance(node, (int, float)):
                        params["rate_curve"] = _curve_fn(node, session.sr)
                except Exception:  # noqa: BLE001 - a hint only
                    pass
        for key in ("carrier_hz", "times_s"):
            if d.get(key) is not None:
                params[key] = d[key]
        params.update(d.get("hints") or {})  # a layer kind's own measurement hints
        if kind == "gated_depth" and info is not None and info.kind == "isochronic":
            # the planned carrier (a glide is dechirped) and gate shape: read coherently
            from ..layers._common import const
            from ..layers.tones import isochronic_gate
            try:
                params["carrier_curve"] = _curve_fn(info.params["carrier"], session.sr)
                params["rate_curve"] = _curve_fn(info.params["rate"], session.sr)
                if const(info.params.get("duty", 0.0)) is not None:
                    params["gate"] = isochronic_gate(info.params)
            except Exception:  # noqa: BLE001 - a hint only
                params.pop("carrier_curve", None)
        if kind in ("binaural_beat", "binaural_carrier") and info is not None and \
                info.kind in PITCHED_KINDS:
            params["components"] = components_at()
        if kind in ("am_rate", "am_depth", "gated_depth", "splatter") and \
                info is not None and len(session.layers) > 1:
            params["components"] = components_at()  # other layers' tones are notched out
        if d.get("source") == "layer" and d["end_s"] - d["start_s"] <= 8.0:
            params["sample"] = True
        elif d.get("source") == "layer" and info is not None:
            d["start_s"], d["end_s"], shrunk = _loud_span(session, info, d["start_s"],
                                                           d["end_s"], cache=span_nodes)
            if shrunk:
                params["loud_part_of"] = shrunk
        out.append(make_target(kind, d["start_s"], d["end_s"], d.get("expected"),
                               d.get("tolerance"), phase=d.get("phase") or d.get("window"),
                               layer=layer, source=d.get("source", "recipe"),
                               name=d.get("name"), params=params))
    # binaural carriers
    for info in session.layers:
        if info.kind == "binaural":
            for d in _carrier_targets(session, info):
                p = {"sample": d["end_s"] - d["start_s"] <= 8.0,
                     "components": components_at()}
                out.append(make_target("binaural_carrier", d["start_s"], d["end_s"],
                                       d["expected"], d["tolerance"], phase=d.get("phase"),
                                       layer=info.name, source="layer", params=p))
    dur = session.duration_s
    # session-wide
    out.append(make_target("loudness", 0.0, dur, recipe.loudness_lufs, 0.5, source="session",
                           params={"session_wide": True, "needs_normalized": True}))
    out.append(make_target("true_peak", 0.0, dur, recipe.true_peak_dbtp, 0.1,
                           source="session", params={"needs_normalized": True}))
    if recipe.fade_in_s >= 0.5:
        out.append(make_target("fade_in", 0.0, min(dur, recipe.fade_in_s + 5.0),
                               recipe.fade_in_s, 0.0, source="session",
                               params={"edge": "start", "fade_s": recipe.fade_in_s}))
    if recipe.fade_out_s >= 0.5:
        out.append(make_target("fade_out", max(0.0, dur - recipe.fade_out_s - 5.0), dur,
                               recipe.fade_out_s, 0.0, source="session",
                               params={"edge": "end", "fade_s": recipe.fade_out_s}))
    out.append(make_target("clicks", 0.0, dur, 0, 0, source="session"))
    # cooling: quieter when a gain follows the temperature, darker when colour does
    gains = any(_bound_to_temperature(spec.gain) for spec in recipe.layers)
    colour = [spec.name for spec in recipe.layers
              if any(_bound_to_temperature(spec.params.get(k))
                     for k in ("brightness", "lowpass"))]
    written = {(t.kind, round(t.start_s, 3), round(t.end_s, 3)) for t in out}
    for a, b, phase in _cooling_spans(recipe):
        if gains and not any(t.kind == "loudness_trend" and t.start_s <= a + 1 and
                             t.end_s >= b - 1 for t in out if t.source == "recipe"):
            out.append(make_target("loudness_trend", a, b, "falling", None, phase=phase,
                                   source="session"))
        if colour and ("centroid_trend", round(a, 3), round(b, 3)) not in written:
            out.append(make_target("centroid_trend", a, b, "falling", None, phase=phase,
                                   layer=", ".join(colour), source="session"))
    return out


# ------------------------------------------------------------------------------ target files
def targets_from_file(path) -> list[Target]:
    """Written targets of a TOML file that may hold no layers (any audio file can be checked).

    Phases (``[[phase]]`` with name and duration) are optional; ``window`` names one, or
    ``start``/``end`` give times (durations, ``PHASE``, ``PHASE+DUR``, ``end-DUR`` when the
    phases define the end).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    targets : list of Target
    """
    import tomllib

    from ..recipe.values import Timeline, resolve_time
    from ..units import parse_duration

    p = Path(path)
    try:
        data = tomllib.loads(p.read_text())
    except FileNotFoundError:
        raise CheckInputError("no such file", str(p)) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CheckInputError(f"cannot read as TOML ({exc})", str(p)) from None
    phases, t = [], 0.0
    for i, ph in enumerate(data.get("phase") or []):
        d = parse_duration(ph.get("duration"), where=f"{p}: phase #{i + 1}")
        phases.append((str(ph.get("name", f"phase{i + 1}")), t, t + d))
        t += d
    timeline = Timeline(phases, t if phases else math.inf, None)
    out = []
    for i, entry in enumerate(data.get("target") or []):
        if entry.get("enabled", True) is False:
            continue
        where = f"{p}: target #{i + 1}"
        kind = entry.get("kind")
        if not isinstance(kind, str):
            raise CheckInputError('a target needs kind = "..."', where)
        window = entry.get("window")
        if window is not None:
            match = [ph for ph in phases if ph[0] == window]
            if not match:
                raise CheckInputError(f"unknown phase {window!r}; phases: "
                                      f"{', '.join(n for n, _, _ in phases) or '(none)'}", where)
            _, a, b = match[0]
        else:
            a = resolve_time(entry.get("start", 0.0), timeline, where)
            end = entry.get("end", "end")
            b = math.inf if end == "end" and not phases else resolve_time(end, timeline, where)
        if not b > a >= 0:
            raise CheckInputError(f"window {a:g}..{b:g} s: the end must follow the start",
                                  where)
        out.append(make_target(kind, a, b, entry.get("expected"), entry.get("tolerance"),
                               phase=window, layer=entry.get("layer"), source="recipe",
                               name=entry.get("name"), where=where))
    if not out:
        raise CheckInputError("holds no [[target]] tables and no layers: nothing to check",
                              str(p))
    return out


def parse_target_arg(text: str) -> Target:
    """Read ``KIND:START-END:EXPECTED:TOL`` (``--target``); START/END are durations or
    ``end``; TOL may be left out (``KIND:START-END:EXPECTED``).

    Examples: ``binaural_beat:0-60:6Hz:0.05``, ``am_rate:1m-2m:16:0.1``,
    ``loudness_trend:10m-end:falling:0.3``, ``band_energy@100-300:0-30:-40:2``.
    """
    from ..units import parse_duration

    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise CheckInputError(f"--target {text!r}: write KIND:START-END:EXPECTED[:TOL], e.g. "
                              "binaural_beat:0-60:6Hz:0.05")
    kind, span, expected = parts[0].strip(), parts[1].strip(), parts[2].strip()
    tol = parts[3].strip() if len(parts) == 4 else None
    a_text, sep, b_text = span.partition("-")
    if not sep:
        raise CheckInputError(f"--target {text!r}: the window is START-END, e.g. 0-60 or "
                              "10m-end")
    where = f"--target {text}"
    try:
        a = parse_duration(a_text or "0")
        b = math.inf if b_text.strip() == "end" else parse_duration(b_text)
    except RecipeError as exc:
        raise CheckInputError(exc.message, where) from None
    if not b > a >= 0:
        raise CheckInputError("the window's end must follow its start", where)
    return make_target(kind, a, b, expected, tol, source="cli", where=where)


# ------------------------------------------------------------------------------ windows
def fit_to_file(targets: list[Target], offset_s: float, length_s: float,
                session_s: float | None):
    """Move targets to file seconds and keep those the file can answer.

    Parameters
    ----------
    targets : list of Target
        In session seconds (``end_s`` may be inf: the end of the file).
    offset_s : float
        Session second of the file's first sample (a window render's ``start_s``).
    length_s : float
        File length in seconds.
    session_s : float or None
        Session length (None for plain files): session-wide targets (integrated loudness)
        need the whole session.

    Returns
    -------
    kept : list of Target
        Windows in file seconds.
    skipped : list of (Target, str)
        Targets outside the file, with the reason.
    """
    kept, skipped = [], []
    lo_f, hi_f = offset_s, offset_s + length_s
    eps = 0.05
    for t in targets:
        end = hi_f if math.isinf(t.end_s) else t.end_s
        t = replace(t, end_s=end)
        if t.params.get("session_wide") and session_s is not None and (
                offset_s > eps or length_s < session_s - eps):
            skipped.append((t, "needs the whole session; this file is a window of it"))
            continue
        edge = t.params.get("edge")
        if edge == "start" and offset_s > eps:
            skipped.append((t, "the file does not start at the session start"))
            continue
        if edge == "end" and (session_s is None or hi_f < session_s - eps):
            skipped.append((t, "the file does not reach the session end"))
            continue
        a, b = max(t.start_s, lo_f), min(end, hi_f)
        if t.start_s >= lo_f - eps and end <= hi_f + eps and b > a:
            kept.append(replace(t, start_s=a - offset_s, end_s=b - offset_s))
            continue
        if b - a <= 0:
            skipped.append((t, "outside the rendered window"))
            continue
        clip_ok = not t.params.get("sample") and t.kind not in ("fade_in", "fade_out")
        if not clip_ok or b - a < max(TARGET_KINDS[t.kind].min_window_s, 0.0):
            skipped.append((t, "only partly inside the rendered window"))
            continue
        p = dict(t.params, clipped_from=(t.start_s, end))
        if t.kind == "bell_strikes":
            times = [x for x in p.get("times_s", []) if a <= x < b]
            kept.append(replace(t, start_s=a - offset_s, end_s=b - offset_s,
                                expected=float(len(times)), params=dict(p, times_s=times)))
            continue
        kept.append(replace(t, start_s=a - offset_s, end_s=b - offset_s, params=p))
    for t in kept:
        if "times_s" in t.params:
            t.params["times_s"] = [x - offset_s for x in t.params["times_s"]]
    return kept, skipped
