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
from .kinds.base import curve_fn

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
        whose expected value holds at the window centre and must not be clipped),
        ``glide_left_out`` (session seconds (phase start, settled) of a written phase-long
        target whose start moved past the layer's glide into the phase).
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
def _clip_band(band, sr: float) -> tuple[float, float] | None:
    """A planned band limited to 0.95 x the Nyquist frequency of ``sr`` (None stays None)."""
    if band is None:
        return None
    return float(band[0]), float(min(band[1], 0.95 * 0.5 * sr))


def _loud_span(info, a, b, within_db: float = 6.0):
    """The part of [a, b] where the layer's planned gain x level is within ``within_db`` of
    its highest there (a layer 30 dB under the mix cannot be measured); returns (a, b,
    original window or None)."""
    from ..layers._common import const

    if const(info.gain) is not None and info.level is None:
        return a, b, None
    tt = np.linspace(a, b, 129)
    g = info.level_db(tt)
    keep = np.flatnonzero(g >= g.max() - within_db)
    na, nb = float(tt[keep[0]]), float(tt[keep[-1]])
    if nb - na >= b - a - 1e-6 or nb - na < 10.0:
        return a, b, None
    return na, nb, (a, b)


def _settled_s(session, info, phase: str) -> float | None:
    """Session second from which a layer's planned values hold in ``phase``: after its
    per-phase values' glides into the phase (they start at the phase start) and its entry
    ramp; None when nothing glides there."""
    names = [p.name for p in session.recipe.phases]
    spec = next((x for x in session.recipe.layers if x.name == info.name), None)
    if phase not in names or spec is None:
        return None
    i = names.index(phase)
    start, end = session.recipe.phases[i].start_s, session.recipe.phases[i].end_s
    settle = start
    values = [spec.gain, spec.level, *spec.params.values()]
    for v in values:
        if getattr(v, "form", None) == "per-phase" and i > 0 and v.data[i] != v.data[i - 1]:
            settle = max(settle, start + min(v.glide_s, end - start))
    tt = np.linspace(start, end, 257)
    full = np.flatnonzero(np.asarray(info.envelope.evaluate(tt)) >= 0.999)
    if full.size and full[0] > 0:  # entering: from where its ramp ends
        settle = max(settle, float(tt[full[0]]))
    return settle if settle > start + 1e-6 else None


def _hints(session, info, kind: str, d: dict, components_at, sr: float) -> dict:
    """Measurement hints of a layer-bound target from the layer's plan: what its kind reads
    (:attr:`~resonator.check.kinds.TargetKind.reads`) and the kind's own hints."""
    from ..graph.core import TimeFunction
    from ..layers._common import sample

    k, plan, params = get_kind(kind), info.plan, {}
    band = plan.band
    if k.hints is not None:
        params.update(k.hints(session, info, d, components_at))
        band = params.pop("band", band)
    band = _clip_band(band, sr)
    if band:
        params["band"] = band
    if plan.noise_carrier:
        params["noise_carrier"] = True
    mid = 0.5 * (d["start_s"] + d["end_s"])
    if k.reads == "tones" and plan.carrier is not None:
        params["carrier_hz"] = float(sample(plan.carrier, [mid], session.sr)[0])
    if k.reads == "envelope" and isinstance(plan.rate, TimeFunction):
        # (a constant rate: the expected value)
        params.setdefault("rate_curve", curve_fn(plan.rate, session.sr))
    if (k.reads == "tones" and plan.partials) or (k.reads == "envelope" and
                                                  len(session.layers) > 1):
        params["components"] = components_at()  # fitted with, or taken out of, the window
    return params


def _ramping(session, a: float, b: float, edge: str) -> dict:
    """``{"unmeasurable": why}`` when a layer sounding at a session fade ramps on its own
    across the fade's window [a, b] (its own longer fade, as the warm drone's 40 s from the
    start of mettannealing-preload, which read the 10 s session fade as 13.5 s): the fade is
    read against the level next to it, which is then not steady. Else ``{}``."""
    # a layer's envelope (without the session's fade); its shortest ramp at the silent edge
    # (MIN_RAMP_S) left out; moving by more than 10 % of its level (0.9 dB)
    tt = np.linspace(a + 0.5, b, 65) if edge == "in" else np.linspace(a, b - 0.5, 65)
    for info in session.layers:
        env = np.asarray(info.envelope.evaluate(tt), dtype=np.float64)
        if env.max() > 1e-4 and env.min() < 0.9 * env.max():
            return {"unmeasurable": f"layer {info.name} fades {edge} on its own across the "
                                    f"session's fade-{edge} ({a:.0f}-{b:.0f} s): the level "
                                    "next to the fade is not steady"}
    return {}


def _covers(w: Target, t: Target) -> bool:
    """The written target ``w`` measures what ``t`` does: same kind and layer, at least half
    of ``t``'s window inside ``w``'s, the same expected value within ``w``'s tolerance."""
    if (w.kind, w.layer) != (t.kind, t.layer) or isinstance(t.expected, str) or \
            isinstance(w.expected, str) or "times_s" in t.params:
        return False
    overlap = min(w.end_s, t.end_s) - max(w.start_s, t.start_s)
    return overlap >= 0.5 * (t.end_s - t.start_s) and \
        abs(float(w.expected) - float(t.expected)) <= w.tolerance


def targets_from_session(session, sr: float | None = None) -> list[Target]:
    """Every target of a built session: written, implied by layers, implied by the session.

    Each layer is read through its plan (:attr:`resonator.recipe.session.LayerInfo.plan`):
    its band, tones, planned rate and gate become measurement hints, whatever its kind.

    Parameters
    ----------
    session : resonator.recipe.Session
    sr : number > 0, optional
        Sample rate of the file to check (bands are limited to its Nyquist frequency);
        default the session's.

    Returns
    -------
    targets : list of Target
        In session seconds.
    """
    recipe = session.recipe
    sr = float(sr or session.sr)
    by_name = {i.name: i for i in session.layers}
    out: list[Target] = []
    planned = []

    def components_at():
        """Every layer's planned sinusoids (built once, on first use)."""
        if not planned:
            from .voices import planned_components
            planned.append(planned_components(session))
        return planned[0]
    for d in session.targets:
        d = dict(d)
        kind = d.pop("kind")
        layer = d.get("layer")
        info = by_name.get(layer)
        params = _hints(session, info, kind, d, components_at, sr) if info is not None else {}
        for key in ("carrier_hz", "times_s", "pitches_hz"):
            if d.get(key) is not None:
                params[key] = d[key]
        params.update(d.get("hints") or {})  # a layer kind's own measurement hints
        if d.get("source", "recipe") == "recipe" and info is not None and d.get("window"):
            # a phase-long written value holds after the layer's glide into the phase
            settle = _settled_s(session, info, d["window"])
            if settle is not None and d["end_s"] - settle >= get_kind(kind).min_window_s:
                params["glide_left_out"] = (d["start_s"], settle)
                d["start_s"] = settle
        if d.get("source") == "layer" and d["end_s"] - d["start_s"] <= 8.0:
            params["sample"] = True
        elif d.get("source") == "layer" and info is not None and "times_s" not in d:
            d["start_s"], d["end_s"], shrunk = _loud_span(info, d["start_s"], d["end_s"])
            if shrunk:
                params["loud_part_of"] = shrunk
        out.append(make_target(kind, d["start_s"], d["end_s"], d.get("expected"),
                               d.get("tolerance"), phase=d.get("phase") or d.get("window"),
                               layer=layer, source=d.get("source", "recipe"),
                               name=d.get("name"), params=params))
    # an implied target a written one already makes is measured once (as written)
    written = [t for t in out if t.source == "recipe"]
    out = [t for t in out if t.source != "layer" or not any(_covers(w, t) for w in written)]
    dur = session.duration_s
    # session-wide
    out.append(make_target("loudness", 0.0, dur, recipe.loudness_lufs, 0.5, source="session",
                           params={"session_wide": True, "needs_normalized": True}))
    out.append(make_target("true_peak", 0.0, dur, recipe.true_peak_dbtp, 0.1,
                           source="session", params={"needs_normalized": True}))
    if recipe.fade_in_s >= 0.5:
        a, b = 0.0, min(dur, recipe.fade_in_s + 5.0)
        out.append(make_target("fade_in", a, b, recipe.fade_in_s,
                               max(0.25, 0.25 * recipe.fade_in_s), source="session",
                               params={"edge": "start", "fade_s": recipe.fade_in_s,
                                       **_ramping(session, a, b, "in")}))
    if recipe.fade_out_s >= 0.5:
        a, b = max(0.0, dur - recipe.fade_out_s - 5.0), dur
        out.append(make_target("fade_out", a, b, recipe.fade_out_s,
                               max(0.25, 0.25 * recipe.fade_out_s), source="session",
                               params={"edge": "end", "fade_s": recipe.fade_out_s,
                                       **_ramping(session, a, b, "out")}))
    if not any(i.plan.transients for i in session.layers):
        # a layer with transients of its own (music's drums) checks its joins itself
        out.append(make_target("clicks", 0.0, dur, 0, 0, source="session"))
    # cooling: quieter when a gain follows the temperature, darker when colour does
    gains = any("gain" in info.bound for info in session.layers)
    colour = [info.name for info in session.layers
              if set(info.plan.colour_params) & info.bound]
    written = {(t.kind, round(t.start_s, 3), round(t.end_s, 3)) for t in out}
    for a, b, phase in session.cooling_spans:
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
                               name=entry.get("name"), where=where,
                               params={"time_base": "file", "explicit": where}))
    if not out:
        raise CheckInputError("holds no [[target]] tables and no layers: nothing to check",
                              str(p))
    return out


def parse_target_arg(text: str) -> Target:
    """Read ``[session:]KIND:START-END:EXPECTED[:TOL]`` (``--target``).

    START/END are durations or ``end``; TOL may be left out (the kind's default). The window
    is in the file's own time; with the prefix ``session:`` it is in session time (a window
    render, whose sidecar says where in the session it starts, is then measured where that
    session time falls in the file).

    Examples: ``binaural_beat:0-60:6Hz:0.05``, ``am_rate:1m-2m:16:0.1``,
    ``loudness_trend:10m-end:falling:0.3``, ``band_energy@100-300:0-30:-40:2``,
    ``session:am_rate:24m-24m30s:5Hz``.
    """
    from ..units import parse_duration

    where = f"--target {text}"
    base, sep, rest = text.partition(":")
    time_base = base.strip().lower() if sep and base.strip().lower() in ("session", "file") \
        else None
    parts = (rest if time_base else text).split(":")
    if len(parts) not in (3, 4):
        raise CheckInputError("write [session:]KIND:START-END:EXPECTED[:TOL], e.g. "
                              "binaural_beat:0-60:6Hz:0.05 (times with units, 1m30s, not "
                              "1:30: the colon separates the fields)", where)
    kind, span, expected = parts[0].strip(), parts[1].strip(), parts[2].strip()
    tol = parts[3].strip() if len(parts) == 4 else None
    a_text, sep, b_text = span.partition("-")
    if not sep:
        raise CheckInputError("the window is START-END, e.g. 0-60 or 10m-end", where)
    try:
        a = parse_duration(a_text or "0")
        b = math.inf if b_text.strip() == "end" else parse_duration(b_text)
    except RecipeError as exc:
        raise CheckInputError(exc.message, where) from None
    if not b > a >= 0:
        raise CheckInputError("the window's end must follow its start", where)
    return make_target(kind, a, b, expected, tol, source="cli", where=where,
                       params={"time_base": time_base or "file", "explicit": where})


# ------------------------------------------------------------------------------ windows
def _clock(s: float) -> str:
    from ..units import format_duration

    return format_duration(round(s, 3))


def _outside(t, offset_s: float, length_s: float) -> str:
    """Why a written target's window cannot be measured in this file."""
    if t.params.get("time_base") == "session" or offset_s == 0:
        win = f"{_clock(t.start_s)}-{_clock(t.end_s)}"
        audio = f"{_clock(offset_s)}-{_clock(offset_s + length_s)}"
        how = " of the session" if offset_s else ""
        return (f"the window {win}{how} is not inside the audio ({audio}{how}); nothing was "
                "measured")
    return (f"the window {_clock(t.start_s - offset_s)}-{_clock(t.end_s - offset_s)} (file "
            f"time) is not inside the audio (0:00-{_clock(length_s)}, session "
            f"{_clock(offset_s)}-{_clock(offset_s + length_s)}); write session: before the "
            "kind for session time")


#: the reason a target of the recipe is not measured in a window render that misses it
OUTSIDE_WINDOW = "outside the rendered window"


def fit_to_file(targets: list[Target], offset_s: float, length_s: float,
                session_s: float | None):
    """Move targets to file seconds and keep those the file can answer.

    Parameters
    ----------
    targets : list of Target
        In session seconds (``end_s`` may be inf: the end of the file). Written targets
        (``params["explicit"]``, from ``--target`` or a target file) must lie inside the
        file: CheckInputError otherwise.
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
        if t.params.get("explicit"):  # a written window: outside the audio is an error
            raise CheckInputError(_outside(t, offset_s, length_s), t.params["explicit"])
        if b - a <= 0:
            g = t.params.get("glide_left_out")
            if g and g[0] < hi_f and lo_f < g[1]:
                skipped.append((t, f"the rendered window holds only layer {t.layer}'s glide "
                                   f"into phase {t.phase} ({_clock(g[0])}-{_clock(g[1])}); "
                                   f"the expected value holds from {_clock(g[1])}"))
            else:
                skipped.append((t, OUTSIDE_WINDOW))
            continue
        clip_ok = not t.params.get("sample") and not t.params.get("edge")
        if not clip_ok or b - a < max(TARGET_KINDS[t.kind].min_window_s, 0.0):
            skipped.append((t, "only partly inside the rendered window"))
            continue
        p = dict(t.params, clipped_from=(t.start_s, end))
        if "times_s" in p:  # events: those inside the file
            inside = [i for i, x in enumerate(p["times_s"]) if a <= x < b]
            if not inside:
                skipped.append((t, "no planned event inside the rendered window"))
                continue
            p["times_s"] = [p["times_s"][i] for i in inside]
            if "pitches_hz" in p:
                p["pitches_hz"] = [p["pitches_hz"][i] for i in inside]
            if TARGET_KINDS[t.kind].counts_times:
                t = replace(t, expected=float(len(inside)))
        kept.append(replace(t, start_s=a - offset_s, end_s=b - offset_s, params=p))
    for t in kept:
        if "times_s" in t.params:
            t.params["times_s"] = [x - offset_s for x in t.params["times_s"]]
    return kept, skipped
