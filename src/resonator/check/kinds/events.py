"""Event targets: bell strikes where planned, no clicks."""
from __future__ import annotations

import numpy as np

from ...measure.spectrum import band_filter
from .base import Reading, TargetKind, Unmeasurable, combine_windows, register, rounded

def _strikes(t):
    """(time, pitch or None) of the target's strikes inside its window (file seconds)."""
    times = t.params.get("times_s", [])
    pitches = t.params.get("pitches_hz") or [None] * len(times)
    return [(s, f) for s, f in zip(times, pitches) if t.start_s <= s < t.end_s]


def bell_strikes(t, ctx):
    """A strike is heard when the 10 ms power (around its pitch when planned) rises 6 dB
    or more within 60 ms of its planned time."""
    strikes = _strikes(t)
    found = []
    for s, f in strikes:
        a, b = max(0.0, s - 0.35), min(ctx.duration_s, s + 0.2)
        if b - a < 0.1:
            continue
        x, sr = ctx.read(a, b)
        if f is not None:
            x = band_filter(x, sr, (max(20.0, f - max(20.0, 0.1 * f)),
                                    f + max(20.0, 0.1 * f)))
        hop = max(1, int(0.01 * sr))
        p = np.mean(x ** 2, axis=0)
        m = p.size // hop
        pw = p[: m * hop].reshape(m, hop).mean(axis=1)
        tt = a + (np.arange(m) + 0.5) * hop / sr
        before = pw[(tt >= s - 0.3) & (tt < s - 0.05)]
        after = pw[(tt >= s - 0.02) & (tt < s + 0.06)]
        if before.size and after.size and after.max() > 4.0 * max(before.mean(), 1e-12):
            found.append(s)
    missed = [rounded(s, 3) for s, _ in strikes if s not in found]
    n, need = len(found), float(t.expected)
    return Reading(float(n), abs(n - need) <= t.tolerance,
                   f"{need:.0f} planned strike(s) heard, each within 60 ms of its time",
                   {"missed_s": missed[:20]})


#: a strike's pitch is read on at most this much of its ring
STRIKE_READ_S = 1.5


def bell_pitch(t, ctx):
    """Each strike's pitch: the struck sine fitted (least squares, its planned decay as the
    envelope) with every planned tone near it, on each ear, from 10 ms after the strike to
    the next strike (at most :data:`STRIKE_READ_S`); a strike whose tone does not stand out
    of the noise is inconclusive."""
    from ...measure.tones import fit_tones, tone_prominence
    from .tones import PROMINENCE

    strikes = _strikes(t)
    if not strikes:
        raise Unmeasurable("no strike of this pitch in the window")
    times = sorted(t.params.get("times_s", []))
    decay = float(t.params.get("decay_db_per_s", 0.0))
    comps_at = t.params.get("components")
    f0 = float(t.expected)
    vals, rows, unsure = [], [], []
    for s, _ in strikes:
        later = [u for u in times if u > s + 1e-6]
        end = min(s + STRIKE_READ_S, (later[0] if later else ctx.duration_s) - 0.02,
                  ctx.duration_s)
        a = s + 0.01
        if end - a < 0.25:
            unsure.append({"start_s": rounded(s, 3), "reason": "less than 0.25 s before the "
                           "next strike or the end: too short to read a pitch"})
            continue
        x, sr = ctx.read(a, end)
        dur = x.shape[1] / sr
        tt = np.arange(x.shape[1]) / sr
        env = 10.0 ** (-decay * tt / 20.0) if decay > 0 else None
        near = []
        if comps_at is not None:
            near = sorted({round(c.hz, 3) for c in comps_at(a + ctx.offset_s, end + ctx.offset_s)
                           if c.role != "range" and abs(c.hz - f0) <= 40.0 and
                           not (c.layer == t.layer and abs(c.hz - f0) < 1e-6)})
        narrow = max(2.0, 4.0 / dur)
        # a wider search when nothing clear is near the plan (a wrong pitch reads its own),
        # never past half way to a planned neighbour
        wide = min([max(10.0, 0.05 * f0)] + [0.5 * abs(c - f0) for c in near])
        w = max(5.0, 40.0 / dur)
        ears, proms = [], []
        for ear in range(x.shape[0]):
            for half in (narrow, wide):
                f, _, edge = fit_tones(x[ear], sr, [f0] + near, [half] + [0.5] * len(near),
                                       envelopes=[env] + [None] * len(near))
                prom = tone_prominence(x[ear], sr, float(f[0]), max(1.0, f[0] - w), f[0] + w)
                if not (edge[0] or prom < PROMINENCE) or half >= wide:
                    break
            ears.append(float(f[0]))
            proms.append(prom)
        v = float(np.mean(ears))
        row = {"start_s": rounded(s, 3), "end_s": rounded(end, 3), "value": rounded(v, 4),
               "prominence": [rounded(p, 1) for p in proms]}
        if min(proms) < PROMINENCE:
            unsure.append(dict(row, reason=f"the strike's tone is only {min(proms):.1f}x over "
                                           f"the noise in its {dur:.2f} s ring"))
            continue
        vals.append(v)
        rows.append(row)
    return combine_windows(t, vals, rows, unsure, {"method": "least-squares fit of the struck "
                                                             "sine with its planned decay"})


def clicks(t, ctx):
    found = [(s, r) for s, r in (ctx.scan.clicks or []) if t.start_s <= s < t.end_s]
    n = len(found)
    ok = n <= float(t.expected) + t.tolerance
    rule = f"at most {float(t.expected) + t.tolerance:.0f} click(s) (ratio over 12)"
    return Reading(float(n), ok, rule, {
        "times_s": [rounded(s, 4) for s, _ in found[:20]],
        "ratios": [rounded(r, 1) for _, r in found[:20]],
        "threshold": 12.0, "score": rounded(ctx.scan.click_score, 2)})


register(TargetKind("bell_strikes", unit="count", tolerance=0.0, min_window_s=0.5,
                    counts_times=True, evaluate=bell_strikes, doc="""planned strikes found:
a rise of 6 dB or more in 10 ms power (in a band around the strike's pitch when it is
planned) within 60 ms of each planned strike time."""))
register(TargetKind("bell_pitch", unit="hz", tolerance=0.2, min_window_s=0.3, reads="tones",
                    evaluate=bell_pitch, doc="""the pitch of every strike of one planned pitch:
the struck sine fitted by least squares with its planned decay as the envelope, together with
the other layers' planned tones within 40 Hz, on each ear, from 10 ms after the strike to the
next one (at most 1.5 s); a strike whose tone stands less than 8x over the noise around it is
inconclusive."""))
register(TargetKind("clicks", unit="count", tolerance=0.0, min_window_s=0.01, expected=0,
                    evaluate=clicks, doc="""third-difference ratio over its local RMS
(+- 5 ms) above 12 (one pass over the file, resonator.measure.dynamics.ClickStream): a clean
sine gives about 1, a 0.02 spike 80-200, a phase jump 215-1900; passes when at most the
expected number (0) is found."""))
