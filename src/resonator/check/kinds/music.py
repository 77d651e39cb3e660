"""Music targets: what a music layer promises (see :func:`resonator.layers.music.targets_music`).

Each kind reads the hints the music layer puts in its targets (planned beats, files, joins,
planned tempi) and measures with :mod:`resonator.measure.music`.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ...measure import MeasureError
from .base import Reading, TargetKind, register, rounded, within

__all__ = ["music_tempo", "music_beat_lock", "music_shift", "music_track", "music_boundary",
           "music_join"]

#: longest window read for one music target (s)
READ_S = 40.0


def _window(t, ctx, limit_s: float = READ_S):
    """(audio, rate, file second of its first sample) of the target's window."""
    a = max(0.0, t.start_s)
    x, sr = ctx.read(a, t.end_s, limit_s)
    return x, sr, a


#: a file is told by a reading within 2 % of its planned tempo: half the 4 % by which
#: ``targets_music`` keeps the playlist's planned tempi apart, so a reading tells one file
MATCH = 0.02
#: a runner-up metrical level of the analysis counts when it is at least half as likely as
#: the level chosen (odds of 2:1 or closer: the window does not settle the level). In a 15 s
#: window of mettannealing-music (drones under the 106 BPM groove) the analysis chose 53.18
#: BPM at 0.52 against 106.36 at 0.45; the groove alone reads 106.39, its half at 0.07.
LEVEL_ODDS = 0.5


def _levels(x, sr) -> list[dict]:
    """The tempo the analysis reads in ``x``, then the runner-up levels that count
    (:data:`LEVEL_ODDS`)."""
    from ...measure.music import tempo_levels

    lv = tempo_levels(x, sr)
    if not lv:
        raise MeasureError("no tempo found in the window")
    p0 = lv[0]["probability"]
    return lv[:1] + [v for v in lv[1:] if p0 is None or v["probability"] >= LEVEL_ODDS * p0]


def _level_note(lv: dict, chosen: dict) -> str:
    return (f"{lv['bpm']:.2f} BPM ({lv['ratio']:g}x its {chosen['bpm']:.2f} BPM, probability "
            f"{lv['probability']:.2f} against {chosen['probability']:.2f})")


def _identify(ctx, lo: float, hi: float, expected_bpm: dict):
    """(files from the best match down, the reading that told them, every reading) in file
    seconds [lo, hi): the first reading (the analysis's level, then its runner-up levels)
    within :data:`MATCH` of a file's planned tempo (analysed BPM times the tempo factor
    there) tells it; which file plays does not depend on the metrical level, the tempo's
    precision tells it. With none within: the files nearest the chosen level first."""
    x, sr = ctx.read(lo, hi)
    levels = _levels(x, sr)

    def near(bpm):
        return sorted(expected_bpm, key=lambda c: abs(math.log(bpm / expected_bpm[c])))
    for lv in levels:
        order = near(lv["bpm"])
        if abs(math.log(lv["bpm"] / expected_bpm[order[0]])) <= MATCH:
            return order, lv, levels
    return near(levels[0]["bpm"]), levels[0], levels


def music_tempo(t, ctx):
    """The window's tempo by resonator's analysis (beat tracking) against the file's analysed
    BPM times the planned tempo factor; within 1 % (plus half the factor's change inside the
    window). When only a runner-up metrical level the analysis could not rule out (at least
    half as likely as its choice) is within, inconclusive: the window does not settle the
    level."""
    x, sr, _ = _window(t, ctx)
    levels = _levels(x, sr)
    bpm = levels[0]["bpm"]
    r = within(t, [bpm], {"ratio_to_plan": rounded(bpm / t.expected, 4)})
    if r.passed:
        return r
    alt = next((v for v in levels[1:] if abs(v["bpm"] - t.expected) <= t.tolerance), None)
    if alt is None:
        return r
    return Reading(r.measured, None, r.rule, dict(r.detail, inconclusive=(
        "the metrical level is not settled in this window: the analysis's runner-up level, "
        f"{_level_note(alt, levels[0])}, is within the plan")))


def music_beat_lock(t, ctx):
    """Where the amplitude modulation peaks between the planned beats
    (:func:`~resonator.measure.music.modulation_peak_offsets` on the envelope from 1.5 kHz
    up), the render's less the plan's (the session rendered at the plan's rate over the same
    window), so other layers and the music's own accents on the beats cancel; the median
    within 10 ms. Without a recipe the render's own offsets are read (biased by them). On a
    click track the offsets are within 2 ms of the clicks (tests)."""
    from ...measure.music import modulation_peak_offsets

    x, sr, a = _window(t, ctx)
    beats = np.asarray(t.params["beats_s"]) - ctx.offset_s - a
    k = t.params.get("cycles_per_beat", 1.0)
    if not ctx.has_plan:
        off = modulation_peak_offsets(x, sr, beats, cycles_per_beat=k)
        how = "the render's envelope (no recipe: other layers and the music's accents pull)"
    else:
        from scipy.signal import resample_poly

        from ...render import render_array

        s = ctx._plan.session()
        plan = render_array(s.node, x.shape[1] / sr, sr=s.sr, seed=s.seed,
                            start_s=a + ctx.offset_s)
        x = resample_poly(x, s.sr, sr, axis=1)
        band = (1500.0, 0.45 * s.sr)
        mine = modulation_peak_offsets(x, s.sr, beats, cycles_per_beat=k, band=band)
        want = modulation_peak_offsets(plan, s.sr, beats, cycles_per_beat=k, band=band)
        n = min(mine.size, want.size)
        off = mine[:n] - want[:n]
        how = (f"the render's less the plan's (the session at {s.sr} Hz), "
               f"{band[0]:g}-{band[1]:g} Hz envelope")
    if off.size < 2:
        raise MeasureError("fewer than two beat intervals in the window")
    med = 1000.0 * float(np.median(off))
    return within(t, [med], {"beats": int(off.size), "method": how})


def music_shift(t, ctx):
    """The left ear's shift against the right (:func:`~resonator.measure.music.shift_hz`,
    2-8 kHz: clear of tonal layers) near the planned shift; within 0.05 Hz."""
    from ...measure.music import shift_hz
    from .base import Unmeasurable

    x, sr, _ = _window(t, ctx)
    if x.shape[0] != 2:
        raise Unmeasurable("a binaural shift needs a stereo file")
    v = shift_hz(x, sr, band=tuple(t.params.get("band", (2000.0, 8000.0))),
                 expected_hz=float(t.expected))
    return within(t, [v], {})


def music_track(t, ctx):
    """Which file plays: the one whose planned tempo (analysed BPM times the tempo factor) is
    within 2 % of the window's analysed tempo (or of a metrical level the analysis could not
    rule out, when its own level matches no file); passes when it is the planned one (rank
    1). Implied only where the playlist's files differ in tempo by 4 % or more."""
    order, lv, levels = _identify(ctx, max(0.0, t.start_s), t.end_s, t.params["expected_bpm"])
    rank = order.index(t.params["track"]) + 1
    detail = {"planned": Path(t.params["track"]).name, "best": Path(order[0]).name,
              "measured_bpm": rounded(levels[0]["bpm"], 2),
              "planned_bpm": {Path(c).name: rounded(v, 2)
                              for c, v in t.params["expected_bpm"].items()}}
    if lv is not levels[0]:
        detail["told_by"] = "the analysis's runner-up level, " + _level_note(lv, levels[0])
    return Reading(float(rank), rank <= t.expected + t.tolerance, "the planned file ranks first",
                   detail)


def music_boundary(t, ctx):
    """A join between two files where the plan puts it: the outgoing file (told by tempo, as
    ``music_track``) in the 12 s before the crossfade and the incoming one in the 12 s after;
    measured: how many of the two sides hold the planned file (2 passes)."""
    a = max(0.0, t.start_s)
    j0, j1 = (v - ctx.offset_s for v in t.params["join_s"])
    got, detail = 0, {}
    for side, lo, hi, want, bpms in (("before", max(a, j0 - 12.0), j0, t.params["out"],
                                      t.params["bpm_before"]),
                                     ("after", j1, min(t.end_s, j1 + 12.0), t.params["in"],
                                      t.params["bpm_after"])):
        if hi - lo < 8.0:
            raise MeasureError(f"less than 8 s {side} the join in the window")
        order, lv, _ = _identify(ctx, lo, hi, bpms)
        got += order[0] == want
        detail[side] = f"{Path(order[0]).name} ({lv['bpm']:.1f} BPM" + \
            ("" if lv["ratio"] == 1.0 else f", the analysis's {lv['ratio']:g}x level") + ")"
    detail["planned"] = [Path(t.params["out"]).name, Path(t.params["in"]).name]
    return Reading(float(got), got >= t.expected - t.tolerance,
                   "the planned file on both sides of the crossfade", detail)


def music_join(t, ctx):
    """A crossfade without a click: :func:`~resonator.measure.music.join_click_ratio` (the
    click score inside the crossfade over the music's own around it) at most 1.5."""
    from ...measure.music import join_click_ratio

    x, sr, a = _window(t, ctx)
    j0, j1 = (v - ctx.offset_s - a for v in t.params["join_s"])
    v = join_click_ratio(x, sr, j0, j1)
    limit = float(t.expected) + t.tolerance
    return Reading(v, v <= limit, f"click score in the join at most {limit:g} x the music's "
                   "own around it", {})


register(TargetKind("music_tempo", unit="bpm", tolerance=1.0, min_window_s=6.0,
                    evaluate=music_tempo, doc=music_tempo.__doc__))
register(TargetKind("music_beat_lock", unit="ms", tolerance=10.0, min_window_s=3.0,
                    evaluate=music_beat_lock, doc=music_beat_lock.__doc__))
register(TargetKind("music_shift", unit="hz", tolerance=0.05, min_window_s=4.0,
                    evaluate=music_shift, doc=music_shift.__doc__))
register(TargetKind("music_track", unit="count", tolerance=0.0, min_window_s=4.0,
                    evaluate=music_track, doc=music_track.__doc__))
register(TargetKind("music_boundary", unit="count", tolerance=0.0, min_window_s=2.0,
                    evaluate=music_boundary, doc=music_boundary.__doc__))
register(TargetKind("music_join", unit="number", tolerance=0.5, min_window_s=1.0,
                    evaluate=music_join, doc=music_join.__doc__))
