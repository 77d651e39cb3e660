"""The breath layer: a drone of consonant partials that swells with each inhale.

The breath value ``b(t)`` in [0, 1] (0 empty, 1 full; raised-cosine moves, flat holds) comes
from :mod:`resonator.session.breath`. Partial ``k`` plays at
``level_k * ((1 - d_k) + d_k * b(t))`` with ``d_k = swell * (0.5 .. 1.0)`` rising with the
partial number, so level *and* brightness rise on the inhale and settle on the exhale. The
breath curve is an exact :class:`~resonator.graph.Curve`, so the layer is a pure function of
time.

Pattern parameters that default to 0 mean "the pattern's own default" (see
:mod:`resonator.session.breath` for the values and ranges); a parameter that does not belong to
the chosen pattern and is not 0 gives a warning.

Target kind emitted: ``breath_rate`` (breaths per minute of the slow envelope), one per phase
where the breaths are regular, else per window of four breaths (skipping stretches
whose breath lengths differ by more than 10 %, such as Wim Hof rounds or a pace that
changes fast).
"""
from __future__ import annotations

import numpy as np

from ..errors import RecipeError
from ..graph.core import Constant, Node, Sum
from ..graph.curves import Curve
from ..graph.bank import SineBank
from ..graph.oscillators import Sine
from ..graph.stereo import Channels
from ..session.breath import BREATH_PATTERNS, breath_pattern, timeline, timeline_varying
from ._common import (TWO_PI, EventSum, bounds_of, const, fail, freq_fn, inner_phases,
                      sample)
from .base import LayerKind, LayerPlan, ParamInfo, Partial, is_set, register, when, when_set

#: which of the layer's parameters each pattern takes
PATTERN_KEYS = {
    "resonance": ("ratio",),
    "coherent": (),
    "box": ("side_s",),
    "4-7-8": ("count_s",),
    "cyclic-sighing": ("in_s", "first_inhale_to", "top_up_s", "out_s"),
    "wim-hof": ("rounds", "breaths", "in_s", "out_s", "hold_s", "recovery_in_s",
                "recovery_hold_s", "recovery_out_s"),
    "custom": ("in_s", "out_s", "hold_in_s", "hold_out_s"),
}
_PATTERN_PARAMS = sorted({k for keys in PATTERN_KEYS.values() for k in keys} - {"ratio"})

PARTIAL_RATIOS = (1.0, 1.5, 2.0, 2.5)  # root, fifth, octave, major tenth
PARTIAL_LEVELS = (1.0, 0.5, 0.4, 0.25)
PARTIAL_SWELL = (0.5, 0.7, 0.85, 1.0)  # share of each partial's level that follows the breath
CUE_PITCH_HZ = {"inhale": 660.0, "exhale": 440.0, "hold-full": 550.0, "hold-empty": 550.0}
CUE_S = 0.12

BREATH_PARAMS = {
    "pattern": ParamInfo("choice", "resonance", "breathing pattern", choices=BREATH_PATTERNS,
                         automatable=False),
    "rate": ParamInfo("per_min", 0.0, "breaths per minute; 0 = the pattern's own pace "
                      "(resonance 6/min); may follow the temperature", range=(0.0, 30.0),
                      applies=when_set("rate")),
    "ratio": ParamInfo("text", "1:1", "resonance: inhale:exhale (\"3:7\" relaxes more)",
                       automatable=False, applies=lambda p: _pattern_name(p) == "resonance"),
    "root": ParamInfo("hz", 110.0, "root of the drone", range=(30.0, 1000.0),
                      warn_range=(50.0, 400.0)),
    "swell": ParamInfo("fraction", 0.8, "how much the level follows the breath (upper partials "
                       "more)", range=(0.0, 1.0), automatable=False),
    "detune_cents": ParamInfo("number", 4.0, "detune between the ears for width",
                              range=(0.0, 50.0), automatable=False),
    "cues": ParamInfo("bool", False, "soft blips at inhale (660 Hz), exhale (440 Hz) and hold "
                      "(550 Hz) starts", automatable=False),
    "cue_level": ParamInfo("fraction", 0.25, "level of the cue blips", range=(0.0, 1.0),
                           automatable=False, applies=when("cues", True)),
    "follow": ParamInfo("text", "", "name of a music layer: each breath spans whole bars of its "
                        "beats (the number of beats resonator analyze reports for its tempo, "
                        "near rate or 6/min) and starts on a bar", automatable=False,
                        applies=when_set("follow")),
}
for _k in _PATTERN_PARAMS:
    _unit = {"first_inhale_to": "fraction", "rounds": "int", "breaths": "int"}.get(_k, "s")
    BREATH_PARAMS[_k] = ParamInfo(
        _unit, 0, "pattern parameter; 0 = the pattern's default", automatable=False,
        applies=lambda p, k=_k: k in PATTERN_KEYS.get(_pattern_name(p), ()) and is_set(p.get(k)))


def _pattern_name(params) -> str:
    """The pattern's name as :data:`PATTERN_KEYS` spells it ("478" and "Box" are accepted)."""
    name = str(params.get("pattern", "")).strip().lower().replace("_", "-").replace(" ", "-")
    return "4-7-8" if name == "478" else name


def breath_timeline(params, ctx):
    """The :class:`~resonator.session.breath.BreathTimeline` over the whole session."""
    name = _pattern_name(params)
    if name not in PATTERN_KEYS:
        fail(ctx, "pattern", f'"{params["pattern"]}" is not a breathing pattern: allowed are '
             f"{', '.join(BREATH_PATTERNS)}")
    keys = PATTERN_KEYS[name]
    kw = {}
    for k in _PATTERN_PARAMS:
        v = params.get(k, 0)
        if k in keys:
            if v or k in ("hold_in_s", "hold_out_s"):
                kw[k] = v
        elif v:
            ctx.warn(f'{k} does not apply to the {name} breathing pattern; ignored')
    if name == "resonance":
        kw["ratio"] = params.get("ratio", "1:1")
    rate = params["rate"]
    rc = const(rate)
    if params.get("follow"):
        return _bar_timeline(name, kw, rate, ctx, params["follow"])
    try:
        if rc is not None and rc == 0:
            pat = breath_pattern(name, where=ctx.where or None, **kw)
            return timeline(pat, ctx.duration_s, where=ctx.where or None)
        if rc is not None and name == "resonance":
            pat = breath_pattern(name, where=ctx.where or None, rate_per_min=rc, **kw)
            return timeline(pat, ctx.duration_s, where=ctx.where or None)
        if name == "wim-hof":
            fail(ctx, "rate", "a wim-hof pattern keeps its own pace: leave rate out")
        pat = breath_pattern(name, where=ctx.where or None, **kw)
        if rc is not None:
            fn = lambda t: rc  # noqa: E731
        else:
            fn = lambda t: float(sample(rate, [t], ctx.sr)[0])  # noqa: E731
        return timeline_varying(pat, ctx.duration_s, fn, where=ctx.where or None)
    except RecipeError as e:
        if e.where:
            raise
        raise RecipeError(e.message, where=ctx.where or None) from None


def _bar_timeline(name, kw, rate, ctx, follow):
    """Breaths over whole bars of a music layer's beats: ``n`` beats a breath (a multiple of
    the bar, from :func:`resonator.analysis.breathing.breathing_pace` at the music's median
    tempo, near ``rate`` or 6/min), each breath from one bar line to the one ``n`` beats on,
    so the pace follows the music (and its tempo stretch)."""
    from ..analysis.breathing import breathing_pace
    from .music import followed_beats

    if name == "wim-hof":
        fail(ctx, "follow", "a wim-hof pattern keeps its own pace: it cannot follow music")
    rc = const(rate)
    if rc is None:
        fail(ctx, "rate", "with follow, rate is one value (the pace to come nearest)")
    grid = followed_beats(ctx, follow)
    counts, times = grid.counts(), grid.times_s
    bpm = 60.0 / grid.period_s
    pace = breathing_pace(bpm, target_per_min=rc or 6.0)
    n = pace["beats_per_breath"]
    bar = grid.beats_per_bar
    n = max(bar, int(round(n / bar)) * bar) if n >= bar else n
    first = times[np.mod(counts, bar) == 0]
    start = float(first[first >= 0][0]) if np.any(first >= 0) else 0.0

    def rate_fn(t):
        c = float(np.interp(t, times, counts))
        end = float(np.interp(round(c) + n, counts, times, right=np.nan))
        if not np.isfinite(end):  # past the last beat: the last period holds
            end = t + n * grid.period_s
        return 60.0 / max(end - t, 1e-6)
    try:
        pat = breath_pattern(name, where=ctx.where or None, **kw)
        return timeline_varying(pat, ctx.duration_s - start, rate_fn, start_s=start,
                                where=ctx.where or None)
    except RecipeError as e:
        if e.where:
            raise
        raise RecipeError(e.message, where=ctx.where or None) from None


def cue_sound(pitches: np.ndarray, level: float):
    """``sound(tau, k)``: a raised-cosine (Hann) sine blip of CUE_S seconds at pitch k."""
    def sound(tau, k):
        w = 0.5 - 0.5 * np.cos(TWO_PI * np.clip(tau / CUE_S, 0.0, 1.0))
        return level * w * np.sin(TWO_PI * pitches[k] * tau)
    return sound


def build_breath(params, ctx) -> Node:
    """A breath-paced drone: partials 1, 3/2, 2, 5/2 of ``root`` swelling with each inhale.

    Peak at most 1: the partial levels sum to ``1 - cue_level`` with cues, else 1.
    """
    tl = breath_timeline(params, ctx)
    b = Curve(tl.curve_points())
    swell = float(params["swell"])
    cues = bool(params["cues"])
    cue_level = float(params["cue_level"]) if cues else 0.0
    levels = np.array(PARTIAL_LEVELS) / sum(PARTIAL_LEVELS) * (1.0 - cue_level)
    root = params["root"]
    _, rhi = bounds_of(root, ctx.sr, ctx.duration_s)
    cents = float(params["detune_cents"])
    up, down = 2.0 ** (cents / 2400.0), 2.0 ** (-cents / 2400.0)
    if rhi * max(PARTIAL_RATIOS) * up >= 0.45 * ctx.sr:
        fail(ctx, "root", f"{rhi:g} Hz puts the top partial too high for a {ctx.sr} Hz render")
    rc = const(root)
    cue = None
    if cues and cue_level > 0 and tl.events:
        times = np.array([t for t, _ in tl.events])
        pitches = np.array([CUE_PITCH_HZ[k] for _, k in tl.events])
        sound = cue_sound(pitches, cue_level)
        cue = EventSum(times, CUE_S, sound)
    if rc is not None:
        # constant root: every partial in one fused kernel, amplitudes 0.. affine in b(t)
        amps = []
        for lv, dk in zip(levels, PARTIAL_SWELL):
            d = swell * dk
            amps.append((b, 0, float(lv * d), float(lv * (1.0 - d))) if d > 0 else float(lv))
        freqs = [[rc * (ratio * up), rc * (ratio * down)] for ratio in PARTIAL_RATIOS]
        tones = SineBank(freqs, amps)
        return tones if cue is None else Sum([tones, cue])
    left, right = [], []
    for ratio, lv, dk in zip(PARTIAL_RATIOS, levels, PARTIAL_SWELL):
        d = swell * dk
        amp = b * float(lv * d) + float(lv * (1.0 - d)) if d > 0 else Constant(float(lv))
        left.append(Sine(root * (ratio * up), amplitude=amp))
        right.append(Sine(root * (ratio * down), amplitude=amp))
    terms_l, terms_r = [Sum(left)], [Sum(right)]
    if cue is not None:
        terms_l.append(cue)
        terms_r.append(cue)
    return Channels([Sum(terms_l), Sum(terms_r)])


def targets_breath(params, ctx):
    """``breath_rate`` targets from the timeline's cycles (regular stretches only)."""
    tl = breath_timeline(params, ctx)
    cyc = np.array(tl.cycles, dtype=np.float64).reshape(-1, 2)
    out = []
    for pname, a, b in inner_phases(ctx):
        inside = cyc[(cyc[:, 0] >= a - 1e-9) & (cyc[:, 0] + cyc[:, 1] <= b + 1e-9)]
        if len(inside) < 3:
            continue
        lengths = inside[:, 1]
        base = {"kind": "breath_rate", "layer": ctx.layer_name, "phase": pname}
        if lengths.max() <= 1.02 * lengths.min():
            bpm = 60.0 / lengths.mean()
            out.append(dict(base, start_s=float(inside[0, 0]),
                            end_s=float(inside[-1, 0] + inside[-1, 1]), expected=float(bpm),
                            tolerance=float(max(0.2, 0.03 * bpm))))
            continue
        # a changing pace: windows of four breaths, skipping irregular stretches (Wim Hof)
        groups = [inside[i:i + 4] for i in range(0, len(inside) - 3, 4)]
        groups = [g for g in groups if g[:, 1].max() <= 1.1 * g[:, 1].min()]
        if len(groups) > 5:
            groups = [groups[i] for i in np.linspace(0, len(groups) - 1, 5).round().astype(int)]
        for g in groups:
            bpm = 60.0 * len(g) / g[:, 1].sum()
            spread = 60.0 / g[:, 1].min() - 60.0 / g[:, 1].max()
            out.append(dict(base, start_s=float(g[0, 0]), end_s=float(g[-1, 0] + g[-1, 1]),
                            expected=float(bpm),
                            tolerance=float(max(0.2, 0.03 * bpm) + 0.5 * spread)))
    return out


def plan_breath(params, ctx) -> LayerPlan:
    """The drone's partials (left up, right down by half the detune); its swell is read
    in a narrow band around one partial (:attr:`LayerPlan.envelope_bands`)."""
    root = params["root"]
    lo, hi = bounds_of(root, ctx.sr, ctx.duration_s)
    cents = float(params["detune_cents"])
    det = (2.0 ** (cents / 2400.0), 2.0 ** (-cents / 2400.0))
    r = freq_fn(root, ctx.sr)
    partials = [Partial(ear, lambda t, k=k, m=det[ear]: r(t) * k * m, lv / PARTIAL_LEVELS[0],
                        "partial")
                for k, lv in zip(PARTIAL_RATIOS, PARTIAL_LEVELS) for ear in (0, 1)]
    ranges = [(lo * k * 0.995, hi * k * 1.005) for k in PARTIAL_RATIOS]
    if params["cues"]:
        ranges.append((min(CUE_PITCH_HZ.values()) - 5.0, max(CUE_PITCH_HZ.values()) + 5.0))
    return LayerPlan(partials=partials, tonal_ranges=ranges,
                     band=(max(10.0, 0.9 * lo), 2.6 * hi),
                     envelope_bands=[(lo * k * 0.99 - 6.0, hi * k * 1.01 + 6.0, sw)
                                     for k, sw in zip(PARTIAL_RATIOS, PARTIAL_SWELL)])


def cost_breath(params) -> float:
    """Cost per second (:attr:`LayerKind.cost`; ``benchmarks/layer_costs.py``, 2026-12-05,
    cues summed over their own frames): 0.5 for the drone; its cues add 0.45 at a resonance
    pace and 0.55 at Wim Hof's (a cue in nearly every block while breathing fast)."""
    if not params["cues"]:
        return 0.5
    return 0.5 + (0.55 if params["pattern"] == "wim-hof" else 0.45)


register(LayerKind("breath", "a breath-paced drone: consonant partials swell on each inhale, "
                   "settle on each exhale", BREATH_PARAMS, build_breath, targets_breath,
                   plan_breath, cost=cost_breath))
