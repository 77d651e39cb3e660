"""Event targets: bell strikes where planned, no clicks."""
from __future__ import annotations

import numpy as np

from .base import Reading, TargetKind, register, rounded, within

def bell_strikes(t, ctx):
    times = [x for x in t.params.get("times_s", []) if t.start_s <= x < t.end_s]
    found = []
    for s in times:
        a, b = max(0.0, s - 0.35), min(ctx.duration_s, s + 0.2)
        if b - a < 0.1:
            continue
        x, sr = ctx.read(a, b)
        hop = max(1, int(0.01 * sr))
        p = np.mean(x ** 2, axis=0)
        m = p.size // hop
        pw = p[: m * hop].reshape(m, hop).mean(axis=1)
        tt = a + (np.arange(m) + 0.5) * hop / sr
        before = pw[(tt >= s - 0.3) & (tt < s - 0.05)]
        after = pw[(tt >= s - 0.02) & (tt < s + 0.06)]
        if before.size and after.size and after.max() > 4.0 * max(before.mean(), 1e-12):
            found.append(s)
    n = len(found)
    missed = [rounded(s, 3) for s in times if s not in found]
    return within(t, [float(n)], {"missed_s": missed[:20]})


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
                    evaluate=bell_strikes, doc="""planned strikes found: a rise of 6 dB or
more in 10 ms power within 60 ms of each planned strike time."""))
register(TargetKind("clicks", unit="count", tolerance=0.0, min_window_s=0.01, expected=0,
                    evaluate=clicks, doc="""third-difference ratio over its local RMS
(+- 5 ms) above 12 (one pass over the file, resonator.measure.dynamics.ClickStream): a clean
sine gives about 1, a 0.02 spike 80-200, a phase jump 215-1900; passes when at most the
expected number (0) is found."""))
