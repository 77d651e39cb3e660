"""Level targets: loudness, true peak, loudness range, fades, loudness and colour trends."""
from __future__ import annotations

import math

import numpy as np
from scipy import signal

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
    T = float(t.params.get("fade_s", t.expected))
    if rising:
        a, b = 0.0, min(ctx.duration_s, T + 5.0)
    else:
        a, b = max(0.0, ctx.duration_s - T - 5.0), ctx.duration_s
    pw, tt = ctx.power_track(a, b, 0.05)
    tt = tt - a  # from the window start
    if rising:
        u = tt / T  # fade progress 0 -> 1
        ref = pw[(tt >= T + 0.25) & (tt < T + 5.0)]
    else:
        end = b - a
        u = (end - tt) / T  # 1 at the fade start, 0 at the end
        ref = pw[(tt <= end - T - 0.25)]
    if ref.size == 0 or np.mean(ref) <= 0:
        raise MeasureError("no sound next to the fade to compare it with")
    ref_p = float(np.mean(ref))

    def level(lo, hi):
        sel = (u >= lo) & (u < hi)
        v = float(np.mean(pw[sel])) if sel.any() else 0.0
        return 10 * math.log10(max(v, 1e-20) / ref_p)
    mid = level(0.45, 0.55)
    slices = [level(i / 10, (i + 1) / 10) for i in range(10)]
    rising_half = bool(np.all(np.diff(slices[:5]) > 0))
    # a raised cosine's first tenth averages -39 dB (a linear fade's -25 dB, none 0 dB)
    ok = slices[0] <= -30.0 and abs(mid + 6.02) <= 4.0 and rising_half
    word = "first" if rising else "last"
    rule = (f"{word} tenth <= -30 dB (raised cosine: -39), middle -6 +/- 4 dB, steady over the "
            "outer half")
    return Reading(mid, ok, rule, {
        f"{word}_tenth_db": rounded(slices[0], 1), "mid_level_db": rounded(mid, 2),
        "expected_mid_db": -6.02,
        "slices_db": rounded(slices, 1) if rising else rounded(slices[::-1], 1)})


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
    else:
        w = min(21, v.size if v.size % 2 else v.size - 1)
        vv = v[ok_v]
        trend = signal.savgol_filter(vv, w, 2, mode="interp")
        bump = float(max(0.0, np.max(vv - trend)))
        detail["against"] = "Savitzky-Golay trend (21 s); no plan"
        detail["bump_at_s"] = rounded(tt[ok_v][int(np.argmax(vv - trend))], 1)
    run = np.minimum.accumulate(v[ok_v]) if sign < 0 else np.maximum.accumulate(v[ok_v])
    detail["max_rise_db"] = rounded(float(np.max(sign * (run - v[ok_v]))) if sign < 0 else
                                   float(np.max(run - v[ok_v])), 3)
    pr = detail.get("plan_rho_binned")
    need = _rho_needed(None if pr is None else sign * pr)
    rule = (f"binned Spearman rho {'<=' if sign < 0 else '>='} {sign * need:g} and "
            f"bump <= {t.tolerance:g} dB")
    ok = math.isfinite(rho) and sign * rho >= need and bump <= t.tolerance
    return Reading(bump, ok, rule, detail)


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
FADE_DOC = """50 ms power in tenths of the fade against the level just after (before) it:
the outer tenth at most -30 dB (a raised cosine gives -39 dB, a linear fade -25 dB, none
0 dB), the middle within 4 dB of the raised cosine's -6 dB, the outer five tenths rising
(falling)."""
register(TargetKind("fade_in", unit="s", tolerance=0.0, min_window_s=0.1, evaluate=fade_in,
                    doc=FADE_DOC))
register(TargetKind("fade_out", unit="s", tolerance=0.0, min_window_s=0.1, evaluate=fade_out,
                    doc=FADE_DOC))
register(TargetKind("loudness_trend", unit="db_diff", tolerance=0.3, min_window_s=120.0,
                    tolerance_unit="db_diff", parse=parse_trend, expected="falling",
                    evaluate=loudness_trend, doc="""3 s short-term loudness at 1 s steps:
Spearman rho of its 20 s-binned values <= -0.95 (falling), and the largest bump over the
planned level curve (the session graph rendered at a low rate over the window, its median
offset removed) <= tolerance (default 0.3 dB: a 0.5 dB bump lasting 8 s reads 0.43-0.5 dB);
without a plan, over a Savitzky-Golay trend (21 s). When the plan's own binned rho is weaker
than 0.95 (breath swells), the render must be as steady as the plan less 0.05."""))
register(TargetKind("centroid_trend", unit="number", tolerance=0.95, min_window_s=120.0,
                    parse=parse_trend, expected="falling", evaluate=centroid_trend,
                    doc="""spectral centroid (per-second 4096-point spectra from the scan),
binned like loudness: Spearman rho <= -tolerance (0.95) when falling. With a plan whose own
binned rho is weaker (a mix whose centroid is set by a tone that does not follow the
temperature), the render must be as steady as the plan less 0.1."""))
