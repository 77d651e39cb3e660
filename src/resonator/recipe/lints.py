"""Design lints: a recipe that loads may still not do what it says. Each lint names its place.

>>> from resonator.recipe.lints import lint_recipe
>>> for lint in lint_recipe("recipes/sleep-descent.toml"):   # doctest: +SKIP
...     print(lint)

``resonator plan``, ``resonator check`` and ``resonator render`` print them (``warning:
FILE:LINE: PLACE: MESSAGE``); editors use :func:`lint_recipe` and :meth:`Lint.as_dict`.

======================= ============================================================================
code                    when
======================= ============================================================================
schedule-collapse       a phase makes more than half of its temperature change in its first 10 %
frozen-parameter        a value bound to the temperature never moves while its layer plays (the
                        temperature holds there, or the range is a single value)
outside-recommended     a parameter leaves its kind's recommended range (for example a binaural
                        carrier above 1000 Hz, where the effect fades, or a beat above 30 Hz)
weak-gamma              a binaural beat at 35-50 Hz: the brain's 40 Hz response follows binaural
                        beats only weakly; a gamma layer (real amplitude modulation) drives it
silent-layer            a layer's gain and level keep it below -80 dB (or 60 dB under the loudest
                        other layer) in every phase it plays
bell-outside            a bell strike time lies outside the session or where its layer is silent
loudness-jump           the planned mix changes by more than 6 dB within 10 s at a phase boundary
                        (10 s loudness of the session rendered at a low rate around it; a
                        boundary within 30 s of silence is a fade in or out, not a jump)
target-off-plan         a written target's expected value is further than its tolerance from
                        every value its layer plans for that kind in the target's window (the
                        layer kind's implied targets): ``expected = "16 kHz"`` on a 16 Hz rate;
                        ``resonator check`` would fail it on a perfect render
======================= ============================================================================
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import RecipeError, ResonatorError
from ..units import format_duration

__all__ = ["Lint", "LINT_CODES", "lint_recipe"]

#: every lint code with one line on what it means
LINT_CODES = {
    "schedule-collapse": "most of a phase's temperature change happens in its first few percent",
    "frozen-parameter": "a temperature-bound value never moves while its layer plays",
    "outside-recommended": "a parameter leaves its kind's recommended range",
    "weak-gamma": "a 40 Hz stimulus as a binaural beat (a weak driver; use a gamma layer)",
    "silent-layer": "a layer is silent or inaudible in every phase it plays",
    "bell-outside": "a bell strike lies outside the session or where its layer is silent",
    "loudness-jump": "the planned loudness jumps at a phase boundary",
    "target-off-plan": "a written target expects a value its layer does not plan there",
}

COLLAPSE_SHARE = 0.5        # of the phase's temperature change ...
COLLAPSE_WITHIN = 0.1       # ... within this share of the phase
SILENT_DB = -80.0           # a layer never louder than this (gain + level) is silent
INAUDIBLE_UNDER_DB = 60.0   # ... or this far under the loudest other layer
JUMP_DB = 6.0               # a loudness change larger than this ...
JUMP_WITHIN_S = 10.0        # ... within this time at a phase boundary
FADE_FROM_SILENCE_DB = 25.0  # a boundary near a mix this far under its top is a fade
GAMMA_BEAT_HZ = (35.0, 50.0)
#: why a recommended range matters, for the parameters where it is not obvious
WHY = {
    ("binaural", "carrier"): "the binaural effect fades above about 1 kHz and is gone by 1.5 kHz",
    ("binaural", "beat"): "binaural beats are heard as such up to about 30 Hz",
}


@dataclass(frozen=True)
class Lint:
    """One design warning and its place in the recipe.

    Attributes
    ----------
    code : str
        A key of :data:`LINT_CODES`.
    message : str
        What is wrong and what to do, in one sentence.
    file : str
        The file that gave the place (a recipe may get it from one it extends).
    line : int or None
        1-based line in ``file`` (None when the place has no line of its own, for example a
        default value, or an imported SBaGen sequence).
    path : tuple of str
        The place in the recipe: ``("phase", "descent", "temperature")``,
        ``("layer", "beat", "beat")``.
    """

    code: str
    message: str
    file: str
    line: int | None
    path: tuple

    @property
    def place(self) -> str:
        """``phase "descent" > temperature``."""
        if not self.path:
            return "the recipe"
        head = f'{self.path[0]} "{self.path[1]}"' if len(self.path) > 1 else self.path[0]
        return " > ".join([head, *map(str, self.path[2:])])

    def __str__(self) -> str:
        head = f"{self.file}:{self.line}" if self.line else self.file
        return f"{head}: {self.place}: {self.message}"

    def as_dict(self) -> dict:
        """``{"code", "message", "file", "line", "path", "place"}`` (JSON-ready)."""
        return {"code": self.code, "message": self.message, "file": self.file,
                "line": self.line, "path": list(self.path), "place": self.place}


def lint_recipe(recipe, *, render: bool = True) -> list[Lint]:
    """Every design lint of a recipe, in recipe order (phases, then layers, then boundaries).

    Parameters
    ----------
    recipe : Recipe, str or Path
        A recipe, or a session file (:func:`resonator.loading.load`: TOML or ``.sbg``).
    render : bool
        Run the lints that build the session (``target-off-plan``, from the layers' planned
        targets) and render it (``loudness-jump``: a few seconds around each phase boundary at
        a low sample rate). False keeps it to the recipe's values (fast, for an editor on
        every keystroke).

    Returns
    -------
    list of Lint
    """
    from .model import Recipe

    if not isinstance(recipe, Recipe):
        from ..loading import load

        recipe = load(recipe)
    out: list[Lint] = []

    def add(code, message, path):
        file, line = _locate(recipe, path)
        out.append(Lint(code, message, file, line, tuple(path)))

    _collapse(recipe, add)
    tl = recipe.timeline()
    for spec in recipe.layers:
        _layer_values(recipe, tl, spec, add)
    _silent(recipe, tl, add)
    _bells(recipe, add)
    if render:
        session = _low_rate_session(recipe)
        if session is not None:
            _targets(recipe, session, add)
            _jumps(recipe, session, add)
    return out


# ------------------------------------------------------------------------------ places
def _locate(recipe, path) -> tuple[str, int | None]:
    file, line = recipe.raw.locate(tuple(path))
    if recipe.origin is not None:
        return file, None  # lines of the converted text, not of the .sbg
    return file, line


def _active_times(recipe, spec, n: int = 2001) -> np.ndarray:
    """Times (s) inside the phases a layer plays in."""
    t = np.linspace(0.0, recipe.duration_s, n)
    keep = np.zeros(t.shape, dtype=bool)
    for p in recipe.phases:
        if p.name in spec.phases:
            keep |= (t >= p.start_s) & (t <= p.end_s)
    return t[keep]


# ------------------------------------------------------------------------------ the lints
def _collapse(recipe, add):
    for p in recipe.phases:
        t = np.linspace(p.start_s, p.end_s, 2001)
        temp = recipe.temperature(t)
        change = float(temp[-1] - temp[0])
        if abs(change) < 0.05:
            continue
        k = int(round(COLLAPSE_WITHIN * (t.size - 1)))
        share = float((temp[k] - temp[0]) / change)
        if share > COLLAPSE_SHARE:
            half = float(t[np.argmax(np.abs(temp - temp[0]) >= 0.5 * abs(change))] - p.start_s)
            add("schedule-collapse",
                f"{100 * share:.0f} % of its temperature change ({temp[0]:.2f} -> "
                f"{temp[-1]:.2f}) happens in its first {100 * COLLAPSE_WITHIN:.0f} % (half of it "
                f"within {format_duration(half)} of {format_duration(p.duration_s)}), so "
                "everything bound to the temperature arrives almost at once; use a gentler "
                "schedule (linear, cosine, sigmoid) or end further from 0 (lundy-mees and "
                "exponential take floor = 0.3 or so)",
                ("phase", p.name, "temperature"))


def _layer_values(recipe, tl, spec, add):
    from .model import layer_kinds

    kind = layer_kinds()[spec.kind]
    t = _active_times(recipe, spec)
    if t.size == 0:
        return
    items = [("gain", spec.gain), ("level", spec.level)] + list(spec.params.items())
    for key, value in items:
        if value is None or not hasattr(value, "evaluate"):
            continue
        path = ("layer", spec.name, key)
        v = value.evaluate(tl, t)
        if value.form == "temperature":
            lo, hi = value.data
            if float(np.ptp(v)) <= 1e-6 * max(abs(lo), abs(hi), 1e-9):
                why = ("its range is a single value" if lo == hi else
                       f"the temperature holds at {recipe.temperature(t[:1])[0]:.2f} "
                       "wherever the layer plays")
                add("frozen-parameter", f"is bound to the temperature but never moves: {why}; "
                    "give it a constant or bind it where the temperature changes", path)
        info = kind.params.get(key)
        if info is None or info.warn_range is None or key not in spec.given:
            continue
        mag = np.abs(v) if info.range is not None and info.range[0] < 0 else v
        lo_w, hi_w = info.warn_range
        if spec.kind == "binaural" and key == "beat" and \
                GAMMA_BEAT_HZ[0] <= float(mag.max()) <= GAMMA_BEAT_HZ[1]:
            add("weak-gamma", f"a {mag.max():g} Hz binaural beat drives the brain's 40 Hz "
                "response only weakly; for 40 Hz stimulation use a gamma layer (kind = "
                "\"gamma\", mode = \"am\" or \"genus\": real amplitude modulation)", path)
            continue
        bad = float(mag.min()) if mag.min() < lo_w else float(mag.max()) if mag.max() > hi_w \
            else None
        if bad is None:
            continue
        u = {"hz": " Hz", "db": " dB", "s": " s", "per_min": "/min"}.get(info.unit, "")
        why = WHY.get((spec.kind, key), info.doc)
        add("outside-recommended", f"reaches {bad:g}{u}, outside the recommended "
            f"{lo_w:g}..{hi_w:g}{u} ({why})", path)


def _level_db(spec, tl, t):
    g = spec.gain.evaluate(tl, t)
    if spec.level is not None:
        lv = np.abs(spec.level.evaluate(tl, t))
        g = g + 20.0 * np.log10(np.maximum(lv, 1e-12))
    return g


def _silent(recipe, tl, add):
    tops = {}
    for spec in recipe.layers:
        t = _active_times(recipe, spec)
        tops[spec.name] = float(_level_db(spec, tl, t).max()) if t.size else -math.inf
    for spec in recipe.layers:
        top = tops[spec.name]
        others = [v for k, v in tops.items() if k != spec.name]
        loudest = max(others) if others else -math.inf
        key = "level" if spec.level is not None and spec.gain.bounds()[1] > SILENT_DB else "gain"
        if top < SILENT_DB:
            add("silent-layer", f"never rises above {top:.0f} dB (gain and level) in the phases "
                "it plays: it is silent; raise it or remove the layer (enabled = false)",
                ("layer", spec.name, key))
        elif top < loudest - INAUDIBLE_UNDER_DB:
            add("silent-layer", f"at most {top:.0f} dB, {loudest - top:.0f} dB under the loudest "
                "other layer: inaudible in every phase it plays", ("layer", spec.name, key))


def _bells(recipe, add):
    from ..units import parse_duration

    for spec in recipe.layers:
        times = spec.params.get("times") if spec.kind in ("bell", "chime") else None
        if not times:
            continue
        for i, v in enumerate(times):
            try:
                at = float(parse_duration(v))
            except RecipeError:  # the layer reports malformed times itself
                continue
            path = ("layer", spec.name, "times")
            if not 0.0 <= at < recipe.duration_s:
                add("bell-outside", f"strike {i + 1} at {format_duration(at)} lies outside the "
                    f"session (0 to {format_duration(recipe.duration_s)}): it never sounds", path)
                continue
            phase = next(p for p in recipe.phases if p.start_s <= at < p.end_s)
            if phase.name not in spec.phases:
                add("bell-outside", f"strike {i + 1} at {format_duration(at)} falls in phase "
                    f"\"{phase.name}\", where the layer does not play: it never sounds", path)


def _low_rate_session(recipe):
    """The session built at the lowest rate its layers allow (for planned values and quick
    renders), or None when it does not build."""
    from .session import build_session

    for sr in (8000, 12000, 16000, 24000, recipe.sample_rate):
        try:
            return build_session(recipe, sr=sr)
        except ResonatorError:  # a layer may need a higher rate (Nyquist): try the next
            continue
    return None


#: a written value this many times the plan's (or its inverse) is a unit slip
_UNIT_SLIPS = {1000.0: "kHz for Hz, or s for ms", 60.0: "per minute for per second"}


def _targets(recipe, session, add):
    """Written targets against the values the layer kinds plan (their implied targets of the
    same kind and layer overlapping the written window)."""
    from ..check.targets import make_target

    implied = [d for d in session.targets if d.get("source") == "layer" and
               "times_s" not in d and not isinstance(d.get("expected"), str)]
    for i, spec in enumerate(recipe.targets):
        if spec.layer is None:
            continue
        try:
            t = make_target(spec.kind, spec.start_s, spec.end_s, spec.expected, spec.tolerance,
                            layer=spec.layer)
        except ResonatorError:  # reported where targets are read
            continue
        if isinstance(t.expected, str):
            continue
        plan = [float(d["expected"]) for d in implied
                if d["kind"] == t.kind and d.get("layer") == t.layer and
                min(d["end_s"], t.end_s) > max(d["start_s"], t.start_s)]
        if not plan:
            continue
        lo, hi, want = min(plan), max(plan), float(t.expected)
        if lo - t.tolerance <= want <= hi + t.tolerance:
            continue
        from ..check.kinds import TARGET_KINDS

        fmt = TARGET_KINDS[t.kind].unit_info.format
        planned = fmt(lo) if hi - lo <= t.tolerance else f"{fmt(lo)} to {fmt(hi)}"
        near = hi if want > hi else lo
        slip = ""
        if near and want:
            ratio = want / near if abs(want) > abs(near) else near / want
            for factor, what in _UNIT_SLIPS.items():
                if abs(ratio - factor) <= 0.02 * factor:
                    slip = f" ({factor:g}x: {what}?)"
        key = spec.name if spec.name else f"#{i + 1}"
        where = (f"in phase \"{spec.window}\"" if spec.window else
                 f"in {format_duration(t.start_s)}-{format_duration(t.end_s)}")
        tol = TARGET_KINDS[t.kind].tolerance_info.format(t.tolerance)
        add("target-off-plan", f"expects {fmt(want)} +- {tol} but layer \"{t.layer}\" plans {planned} {where}{slip}: check would fail it on "
            "a render that follows the recipe; correct the target or the layer",
            ("target", key, "expected"))


def _jumps(recipe, session, add):
    """Planned loudness around each phase boundary: 10 s power means of the session rendered
    at a low rate, compared 10 s apart (session fades left out)."""
    from ..measure.loudness import LoudnessMeter
    from ..render import iter_blocks

    bounds = [p.start_s for p in recipe.phases[1:]]
    lo_ok = recipe.fade_in_s + JUMP_WITHIN_S
    hi_ok = recipe.duration_s - recipe.fade_out_s - JUMP_WITHIN_S
    bounds = [b for b in bounds if lo_ok <= b <= hi_ok]
    if not bounds:
        return
    span = 2.0 * JUMP_WITHIN_S + 10.0
    for b in bounds:
        a0 = max(0.0, b - span)
        a1 = min(recipe.duration_s, b + span + max(spec.glide_s for spec in recipe.layers))
        meter = LoudnessMeter(session.sr, 2, true_peak=False)
        for _, block in iter_blocks(session.node, a1 - a0, sr=session.sr, seed=session.seed,
                                    start_s=a0, block_frames=1 << 14):
            meter.update(block)
        t1, l1 = meter.short_term(1.0, 1.0)
        if l1.size and (not np.all(np.isfinite(l1)) or
                        np.any(l1 < l1.max() - FADE_FROM_SILENCE_DB)):
            continue  # the mix comes from or goes to silence here: a fade, not a jump
        tt, lufs = meter.short_term(JUMP_WITHIN_S, 1.0)
        tt = tt + a0
        if tt.size < JUMP_WITHIN_S + 2:
            continue
        lag = int(round(JUMP_WITHIN_S))
        diff = lufs[lag:] - lufs[:-lag]
        ok = np.isfinite(diff) & (tt[lag:] >= lo_ok) & (tt[:-lag] <= hi_ok)
        if not ok.any():
            continue
        j = int(np.argmax(np.where(ok, np.abs(diff), -1.0)))
        if abs(diff[j]) > JUMP_DB:
            name = next(p.name for p in recipe.phases if p.start_s == b)
            louder = "louder" if diff[j] > 0 else "quieter"
            add("loudness-jump", f"the mix gets {abs(diff[j]):.1f} dB {louder} within "
                f"{JUMP_WITHIN_S:g} s where this phase starts "
                f"({format_duration(b)}); lengthen the glides or fades of the layers that "
                "change here, or bring their levels closer", ("phase", name))
