"""Level targets: loudness, true peak, loudness range, fades, loudness and colour trends."""
from __future__ import annotations

import math

import numpy as np

from ...measure import MeasureError
from ...measure.dynamics import binned_spearman
from ...units import UNITS
from .base import Reading, TargetKind, register, rounded, within

TREND_WORDS = ("falling", "rising")


def parse_trend(value, *, where: str | None = None) -> str:
    """``"falling"`` or ``"rising"`` (the expected value of a trend target)."""
    from ...errors import RecipeError

    text = str(value).strip().lower()
    if text not in TREND_WORDS:
        raise RecipeError(f"{value!r} is not a trend: expected falling or rising", where)
    return text


def loudness(t, ctx):
    meter = ctx.scan.meter
    if meter is None:
        raise MeasureError("sample rate too low for BS.1770 K-weighting")
    if t.start_s <= 0.05 and t.end_s >= ctx.duration_s - 0.05:
        v = meter.integrated()
    else:
        v = ctx.stream_meter(t.start_s, t.end_s).integrated()
    return within(t, [v], {"loudness_range_lu": rounded(meter.loudness_range(), 2)})


def true_peak(t, ctx):
    if t.start_s <= 0.05 and t.end_s >= ctx.duration_s - 0.05:
        v = ctx.scan.true_peak_dbtp
    else:
        v = ctx.stream_meter(t.start_s, t.end_s, true_peak=True).true_peak_dbtp()
    ok = v is not None and v <= float(t.expected) + t.tolerance
    rule = f"measured <= {UNITS['dbtp'].format(float(t.expected) + t.tolerance)}"
    return Reading(v, ok, rule, {"sample_peak_dbfs": rounded(
        20 * math.log10(ctx.scan.sample_peak), 3) if ctx.scan.sample_peak else None})


def loudness_range(t, ctx):
    if t.start_s <= 0.05 and t.end_s >= ctx.duration_s - 0.05:
        v = ctx.scan.meter.loudness_range()
    else:
        v = ctx.stream_meter(t.start_s, t.end_s).loudness_range()
    return within(t, [v])


def _fade(t, ctx, rising: bool):
    """The fade's length (twice the time from the silent edge to half amplitude, -6.02 dB
    against the level next to the fade: exact for a raised cosine or a linear fade) and its
    shape (50 ms power in tenths of the planned fade)."""
    T = float(t.params.get("fade_s", t.expected))
    if rising:
        a, b = 0.0, min(ctx.duration_s, T + 5.0)
    else:
        a, b = max(0.0, ctx.duration_s - T - 5.0), ctx.duration_s
    pw, tt = ctx.power_track(a, b, 0.05)
    tt = tt - a  # from the window start
    if rising:
        since = tt  # seconds from the silent edge
        ref = pw[(tt >= T + 0.25) & (tt < T + 5.0)]
    else:
        since = (b - a) - tt
        ref = pw[(tt <= (b - a) - T - 0.25)]
    if ref.size == 0 or np.mean(ref) <= 0:
        raise MeasureError("no sound next to the fade to compare it with")
    ref_p = float(np.mean(ref))
    u = since / T  # fade progress from the silent edge: 0 -> 1
    order = np.argsort(since)
    # 50 ms powers of noise scatter by a few dB: the crossing is read on a running mean of
    # a twentieth of the fade (at least 0.25 s)
    k = max(1, int(round(max(0.25, T / 20.0) / 0.05)))
    smooth = np.convolve(pw[order], np.ones(k) / k, mode="same")
    s_o = since[order]
    with np.errstate(divide="ignore"):
        db_o = 10 * np.log10(np.maximum(smooth, 1e-20) / ref_p)
    up = np.flatnonzero(db_o >= -6.02)
    if up.size == 0:
        raise MeasureError("the level never reaches half of the level next to the fade")
    k = int(up[0])
    half_s = float(s_o[k]) if k == 0 else float(np.interp(-6.02, db_o[k - 1:k + 1],
                                                          s_o[k - 1:k + 1]))
    length = 2.0 * half_s

    def level(lo, hi):
        sel = (u >= lo) & (u < hi)
        v = float(np.mean(pw[sel])) if sel.any() else 0.0
        return 10 * math.log10(max(v, 1e-20) / ref_p)
    slices = [level(i / 10, (i + 1) / 10) for i in range(10)]
    steady = bool(np.all(np.diff(slices[:5]) > 0))
    # a raised cosine's first tenth averages -39 dB (a linear fade's -25 dB, none 0 dB)
    ok = abs(length - T) <= t.tolerance + 1e-9 and slices[0] <= -30.0 and steady
    edge = "first" if rising else "last"
    s = UNITS["s"]
    rule = (f"length within {s.format(T)} +- {s.format(t.tolerance)}, the {edge} tenth at most "
            f"-30 dB (raised cosine: -39), {'rising' if rising else 'falling'} over the "
            f"{edge} half")
    return Reading(length, ok, rule, {
        f"{edge}_tenth_db": rounded(slices[0], 1),
        "tenths_db": rounded(slices, 1) if rising else rounded(slices[::-1], 1)})


def fade_in(t, ctx):
    return _fade(t, ctx, True)


def fade_out(t, ctx):
    return _fade(t, ctx, False)


def _rho_needed(plan_rho, base: float = 0.95, margin: float = 0.05) -> float:
    """Signed rho required in the trend's direction: ``base`` (0.95), or the plan's own
    rho less ``margin`` when the plan itself is not that steady over the window (breath
    swells in a short window, a mix whose centroid is set by a tone that does not follow
    the temperature). ``plan_rho`` is already multiplied by the direction's sign."""
    if plan_rho is None or not math.isfinite(plan_rho):
        return base
    return min(base, plan_rho - margin)


def loudness_trend(t, ctx):
    if ctx.has_plan:  # the plan's render needs no scan: first, so it runs beside the scan
        ctx.plan_short_term(np.zeros(0), t.start_s, t.end_s)
    meter = ctx.scan.meter
    times, lufs = meter.short_term(3.0, 1.0)
    sel = (times - 1.5 >= t.start_s - 1e-6) & (times + 1.5 <= t.end_s + 1e-6)
    tt, v = times[sel], lufs[sel]
    if v.size < 10:
        raise MeasureError("the window holds fewer than 10 short-term loudness values")
    sign = -1.0 if t.expected == "falling" else 1.0
    rho, nb = binned_spearman(tt, v)
    plan = ctx.plan_short_term(tt, t.start_s, t.end_s) if ctx.has_plan else None
    ok_v = np.isfinite(v)
    detail = {"rho_binned": rounded(rho, 4), "bins": nb, "drop_db": rounded(v[ok_v][0] -
                                                                          v[ok_v][-1], 2)}
    if plan is not None:
        r = v - plan
        good = ok_v & np.isfinite(plan)
        r = r[good]
        bump = float(max(0.0, np.max(r - np.median(r)))) if r.size else float("nan")
        detail["against"] = "plan (the session graph rendered at a low rate)"
        detail["plan_drop_db"] = rounded(plan[good][0] - plan[good][-1], 2)
        i = int(np.argmax(r - np.median(r))) if r.size else 0
        detail["bump_at_s"] = rounded(tt[good][i], 1) if r.size else None
        plan_rho, _ = binned_spearman(tt[good], plan[good])
        detail["plan_rho_binned"] = rounded(plan_rho, 4)
        pr = detail["plan_rho_binned"]
        need = _rho_needed(None if pr is None else sign * pr)
        rule = (f"binned Spearman rho {'<=' if sign < 0 else '>='} {sign * need:.3f} and no "
                f"rise over the plan above {t.tolerance:.2f} dB")
        ok = math.isfinite(rho) and sign * rho >= need and bump <= t.tolerance
        return Reading(bump, ok, rule, detail)
    # no plan: falling means never rising more than the tolerance above the lowest level so
    # far (rising: never falling below the highest), whatever the shape, and moving overall
    vv, tv = v[ok_v], tt[ok_v]
    run = np.minimum.accumulate(vv) if sign < 0 else np.maximum.accumulate(vv)
    back = sign * (run - vv)  # how far each value went against the trend
    i = int(np.argmax(back))
    tenth = max(1, vv.size // 10)
    moved = sign * (float(np.mean(vv[-tenth:])) - float(np.mean(vv[:tenth])))
    detail.update({"against": "the lowest level so far (highest when rising); no plan",
                   "rise_at_s": rounded(tv[i], 1), "moved_db": rounded(moved, 2)})
    word = ("rises", "above its lowest", "falls") if sign < 0 else \
        ("drops", "below its highest", "rises")
    rule = (f"never {word[0]} more than {t.tolerance:.2f} dB {word[1]} level so far, and "
            f"{word[2]} by more than {t.tolerance:.2f} dB (first to last tenth)")
    rise = float(back[i])
    return Reading(rise, rise <= t.tolerance and moved > t.tolerance, rule, detail)


def centroid_trend(t, ctx):
    sc = ctx.scan
    sel = (sc.spec_times_s >= t.start_s) & (sc.spec_times_s <= t.end_s)
    c = sc.centroid_hz[sel]
    if np.count_nonzero(np.isfinite(c)) < 10:
        raise MeasureError("the window holds fewer than 10 spectra")
    rho, nb = binned_spearman(sc.spec_times_s[sel], np.log(c), power=False)
    sign = -1.0 if t.expected == "falling" else 1.0
    plan_rho = None
    if ctx.has_plan:
        pt, pc = ctx.plan_centroid(t.start_s, t.end_s)
        if np.count_nonzero(np.isfinite(pc)) >= 10:
            plan_rho, _ = binned_spearman(pt, np.log(pc), power=False)
    need = _rho_needed(None if plan_rho is None else sign * plan_rho, t.tolerance, 0.1)
    ok = math.isfinite(rho) and sign * rho >= need
    cc = c[np.isfinite(c)]
    rule = f"binned Spearman rho {'<=' if sign < 0 else '>='} {sign * need:g}"
    return Reading(rho, ok, rule, {
        "bins": nb, "first_hz": rounded(np.median(cc[: max(1, cc.size // 10)]), 1),
        "last_hz": rounded(np.median(cc[-max(1, cc.size // 10):]), 1),
        "plan_rho_binned": rounded(plan_rho, 4)})


register(TargetKind("loudness", unit="lufs", tolerance=0.5, min_window_s=0.4,
                    tolerance_unit="lu", evaluate=loudness, doc="""BS.1770 integrated
loudness (one pass over the whole file; a window is streamed again)."""))
register(TargetKind("true_peak", unit="dbtp", tolerance=0.1, min_window_s=0.1,
                    tolerance_unit="db_diff", evaluate=true_peak, doc="""4x oversampled true
peak (one pass); passes at or below expected + tolerance."""))
register(TargetKind("loudness_range", unit="lu", tolerance=1.0, min_window_s=3.0,
                    evaluate=loudness_range, doc="""EBU Tech 3342 loudness range (LRA): the
spread of the gated 3 s short-term loudness, 10th to 95th percentile (one pass over the whole
file; a window is streamed again)."""))
FADE_DOC = """50 ms power against the level just after (before) the fade: its length is
twice the time from the silent edge to half amplitude (-6.02 dB; exact for a raised cosine
and a linear fade), within the tolerance (a recipe's fades: a quarter of their length); in
tenths of the planned fade, the outer tenth at most -30 dB (a raised cosine gives -39 dB, a
linear fade -25 dB, none 0 dB) and the outer five tenths rising (falling)."""
register(TargetKind("fade_in", unit="s", tolerance=1.0, min_window_s=0.1, evaluate=fade_in,
                    doc=FADE_DOC))
register(TargetKind("fade_out", unit="s", tolerance=1.0, min_window_s=0.1, evaluate=fade_out,
                    doc=FADE_DOC))
register(TargetKind("loudness_trend", unit="db_diff", tolerance=0.3, min_window_s=120.0,
                    tolerance_unit="db_diff", parse=parse_trend, expected="falling",
                    measures="rise", evaluate=loudness_trend, doc="""3 s short-term loudness
at 1 s steps. With a plan: Spearman rho of its 20 s-binned values <= -0.95 (falling; or the
plan's own binned rho less 0.05 when the plan is less steady, as with breath swells), and the
largest rise over the planned level curve (the session graph rendered at a low rate over the
window, its median offset removed) <= tolerance (default 0.3 dB: a 0.5 dB bump lasting 8 s
reads 0.43-0.5 dB). Without a plan, whatever the shape: never more than the tolerance above
the lowest level so far, and falling by more than it from the first to the last tenth."""))
register(TargetKind("centroid_trend", unit="number", tolerance=0.95, min_window_s=120.0,
                    parse=parse_trend, expected="falling", measures="rho",
                    scales_tolerance=False, evaluate=centroid_trend,
                    doc="""spectral centroid (per-second 4096-point spectra from the scan),
binned like loudness: Spearman rho <= -tolerance (0.95) when falling. With a plan whose own
binned rho is weaker (a mix whose centroid is set by a tone that does not follow the
temperature), the render must be as steady as the plan less 0.1."""))
