"""Fit the metrical-level weights (``resonator.analysis.metre.LEVEL_WEIGHTS``) on the development
split only, and measure the beat offset on it.

For every development piece (``manifest.json`` ``split == "dev"``) the features of the analysis
are cached under ``benchmarks/out/analysis/feat/``; the candidate levels and their evidence come
from :func:`resonator.analysis.metre.level_features`. The score's settings (prior weight, harmonic
weight and saturation; :func:`resonator.analysis.metre.level_scores`) are searched on a small
grid for the largest share of pieces whose chosen level is the score's beat level, and the
leave-one-piece-out accuracy of that search is printed. Held-out
pieces are never read.

Usage::

    .venv/bin/python benchmarks/analysis/tune_levels.py [--offset]
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "out" / "analysis"
FEAT = OUT / "feat"


def load_features(pid: str):
    from resonator.analysis.features import Features, features_from_file

    p = FEAT / f"{pid}.npz"
    if not p.exists():
        FEAT.mkdir(exist_ok=True)
        f = features_from_file(OUT / f"{pid}.wav", loudness=False)
        np.savez(p, onset=f.onset, onset_low=f.onset_low, chroma=f.chroma, dur=f.duration_s)
    d = np.load(p)
    e = np.zeros(0)
    return Features(None, 22050, 2, float(d["dur"]), d["onset"], d["onset_low"], e, e, e,
                    np.zeros((2, 0)), {}, chroma=d["chroma"])


def piece_candidates(feat):
    from resonator.analysis.tempo import estimate_tempo

    t = estimate_tempo(feat.onset, feat.fps, onset_low=feat.onset_low, chroma=feat.chroma,
                       chroma_fps=feat.chroma_fps)
    lv = t["_levels"]
    return lv["candidates_bpm"], lv["features"]


GRID = [(pw, hw, hs) for pw in (0.5, 1.0, 1.5) for hw in (0.0, 0.5, 1.0, 2.0, 3.0)
        for hs in (0.2, 0.4, 0.6, 1.0)]


def accuracy(groups, pw, hw, hs):
    from resonator.analysis.metre import choose_level

    return np.array([choose_level(c, X, prior_weight=pw, harm_weight=hw, harm_sat=hs) == y
                     for c, X, y in groups])


def main(argv=None):
    from resonator.analysis import metre

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--offset", action="store_true", help="also measure the beat offset (dev only)")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    manifest = [m for m in json.loads((OUT / "manifest.json").read_text()) if m["split"] == "dev"]
    groups, names, missing = [], [], []
    for m in manifest:
        feat = load_features(m["id"])
        cands, X = piece_candidates(feat)
        hit = np.flatnonzero(np.abs(cands / m["bpm"] - 1) <= 0.04)
        if hit.size == 0:
            missing.append(m["id"])
            continue
        groups.append((cands, X, int(hit[0])))
        names.append(m["id"])
    print(f"{len(groups)} development pieces with the true level among the candidates; "
          f"missing: {missing}")
    base = accuracy(groups, 1.0, 0.0, 1.0)
    print(f"comb + prior only: level accuracy {base.mean():.3f}, misses "
          f"{[n for n, ok in zip(names, base) if not ok]}")
    cur = accuracy(groups, 1.0, metre.HARM_WEIGHT, metre.HARM_SAT)
    print(f"chosen (prior 1, harm weight {metre.HARM_WEIGHT}, saturation {metre.HARM_SAT}): "
          f"{cur.mean():.3f}, misses {[n for n, ok in zip(names, cur) if not ok]}")
    table = sorted(((accuracy(groups, *g).mean(), g) for g in GRID), key=lambda r: -r[0])
    print("best settings: " + "; ".join(f"{a:.3f} at prior {g[0]}, harm {g[1]}, sat {g[2]}"
                                          for a, g in table[:8]))
    # leave-one-piece-out: choose on the others (ties: the setting closest to comb + prior)
    loo = []
    for i in range(len(groups)):
        rest = groups[:i] + groups[i + 1:]
        best = max(GRID, key=lambda g: (accuracy(rest, *g).mean(), -abs(g[0] - 1) - g[1] - g[2]))
        loo.append(bool(accuracy([groups[i]], *best)[0]))
    print(f"leave-one-piece-out level accuracy of the grid search: {np.mean(loo):.3f}, misses "
          f"{[n for n, ok in zip(names, loo) if not ok]}")
    if args.offset:
        measure_offset(manifest)
    return 0


def measure_offset(manifest):
    """Median signed distance from each estimated beat to the nearest score beat (dev, right level)."""
    from resonator.analysis import analyze_file

    per = []
    for m in manifest:
        ref = np.loadtxt(OUT / f"{m['id']}.beats.txt", ndmin=1)
        r = analyze_file(OUT / f"{m['id']}.wav", loudness=False)
        if r["tempo"]["bpm"] is None or abs(r["tempo"]["bpm"] / m["bpm"] - 1) > 0.04:
            continue
        est = np.asarray(r["beats"])
        est = est[est > 5]
        j = np.clip(np.searchsorted(ref, est), 1, ref.size - 1)
        near = np.where(np.abs(ref[j] - est) < np.abs(ref[j - 1] - est), ref[j], ref[j - 1])
        d = est - near
        d = d[np.abs(d) < 0.07]
        if d.size:
            per.append(float(np.median(d)))
    per = np.array(per) * 1000
    print(f"beat offset (estimate - score), {per.size} dev pieces: median {np.median(per):+.1f} ms, "
          f"quartiles {np.percentile(per, 25):+.1f} / {np.percentile(per, 75):+.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
