"""Fidelity targets: what a pulsed layer's gate does to its spectrum.

``splatter`` (implied by isochronic, pulse and gamma tone layers, see
:func:`resonator.layers.tones.splatter_targets`; or ``--target splatter:START-END:-40`` with
the hints it needs from a recipe): the energy the layer spreads outside the band its pulse
needs (:func:`resonator.measure.splatter.splatter_band`) over the energy inside, read from the
layer's own spectral lines in the mix (:func:`resonator.measure.splatter.measure_splatter`),
on up to four windows of 30 s spread over the target (their line powers added). Passes when
the reading plus twice its noise-limited uncertainty is at most the expected ceiling plus the
tolerance; fails when the reading less four times the uncertainty is still above it; otherwise
the mix is too noisy to tell: inconclusive, with the floor it reached. Not measured (skipped,
with the reason) where a layer with transients of its own (music) plays over the band: its
notes are neither lines the fit knows nor noise the floor describes (under the mettannealing-
music grooves a gamma tone that splatters at -230 dB alone read -12.7 dB, with its 4 sigma
under the estimate still above -37 dB).
"""
from __future__ import annotations

import math

from ...measure.splatter import measure_splatter
from .base import Reading, TargetKind, Unmeasurable, register, spread

__all__ = ["splatter"]

#: length of one window (s) and how many are spread over a target
WINDOW_S = 30.0
WINDOWS = 4


def splatter(t, ctx):
    """Evaluate a ``splatter`` target (see the module notes).

    Parameters
    ----------
    t : Target
        With ``params``: ``splatter_band`` (lo_hz, hi_hz), ``rate_hz``, ``base_hz`` (the
        carrier of a gated tone; 0 for bursts that restart their carrier each period) and,
        in a mix, ``components`` (other layers' planned tones, left out).
    ctx : CheckContext

    Returns
    -------
    Reading
        Inconclusive (``passed`` None) when the noise between the lines hides the difference
        between pass and fail.

    Raises
    ------
    Unmeasurable
        Without the hints of a pulsed layer (a bare ``--target splatter``).
    """
    p = t.params
    if "splatter_band" not in p:
        raise Unmeasurable("a splatter target needs a pulsed layer of a recipe (its band and "
                           "rate)")
    band, rate, base = tuple(p["splatter_band"]), float(p["rate_hz"]), float(p["base_hz"])
    length = min(WINDOW_S, t.end_s - t.start_s)
    comps_at = p.get("components")
    p_in = p_out = var = 0.0
    rows = []
    # the gate's spectrum is steady: four windows pooled, however long the target
    for a, b in spread(t.start_s, t.end_s, length, WINDOWS, cover_span=False):
        x, sr = ctx.read(a, b)
        exclude = []
        if comps_at is not None:
            exclude = [(c.lo_hz, c.hi_hz) for c in comps_at(a + ctx.offset_s, b + ctx.offset_s)
                       if c.layer != t.layer]
        m = measure_splatter(x, sr, base, rate, band, exclude_hz=exclude)
        p_in += m["power_in"]
        p_out += m["power_out"]
        var += m["sigma"] ** 2
        rows.append({"start_s": round(a, 3), "end_s": round(b, 3),
                     "splatter_db": round(m["splatter_db"], 2),
                     "lines_out": m["lines_out"], "lines_excluded": m["lines_excluded"]})
    sigma = math.sqrt(var)

    def db(v):
        return 10.0 * math.log10(v / p_in) if v > 0 else -math.inf
    # pass: even the estimate plus 2 sigma is under the limit; fail: the estimate less 4
    # sigma is still over it (noise alone reached 3.3 sigma in 40 trials of pink noise)
    est, upper, lower = db(p_out), db(max(p_out, 0.0) + 2 * sigma), db(p_out - 4 * sigma)
    limit = float(t.expected) + t.tolerance
    detail = {"band_hz": [round(band[0], 2), round(band[1], 2)], "floor_db": round(db(2 * sigma), 2),
              "planned_db": p.get("planned_db"), "windows": rows}
    rule = (f"outside/inside the band + 2 sigma <= {float(t.expected):.1f} + "
            f"{t.tolerance:.1f} dB")
    if upper <= limit:
        below_floor = not p_out > 2 * sigma
        if below_floor:
            detail["note"] = "below the noise floor: the measured value is the most it can be"
        return Reading(upper if below_floor else est, True, rule, detail)
    if lower > limit:
        return Reading(est, False, rule, detail)
    # between the two: the mix is too noisy to tell (inconclusive, with the floor reached)
    return Reading(est if math.isfinite(est) else None, None, rule, dict(
        detail, inconclusive=f"the mix between the layer's lines allows only {upper:.1f} dB to "
        f"be shown (" + (f"estimate {est:.1f} dB, " if math.isfinite(est) else "") +
        f"floor {db(2 * sigma):.1f} dB), above the {float(t.expected):g} dB ceiling: too noisy "
        "to tell"))


def _splatter_hints(session, info, d, components_at) -> dict:
    """Unmeasurable where another layer with transients of its own (music) plays during the
    target's phase over its band (see the module notes)."""
    band = (d.get("hints") or {}).get("splatter_band")
    phase = d.get("phase")
    if band is None:
        return {}
    for o in session.layers:
        lo, hi = o.plan.band or (0.0, math.inf)
        if o.name != info.name and o.plan.transients and (phase is None or phase in o.phases) \
                and lo < band[1] and hi > band[0]:
            return {"unmeasurable": f"layer {o.name}'s notes and transients cover "
                                    f"{info.name}'s splatter band ({band[0]:.0f}-{band[1]:.0f} "
                                    "Hz): they land on the gate's lines"}
    return {}


register(TargetKind("splatter", unit="db", tolerance=3.0, min_window_s=8.0,
                    tolerance_unit="db_diff", evaluate=splatter, reads="envelope",
                    hints=_splatter_hints, doc=__doc__.split("\n\n")[1]))
