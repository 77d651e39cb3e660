"""Fit the drum-kit level model's weights (``resonator.analysis.drums.WEIGHTS``), reproducibly.

Development batches only (``drums_dataset.py``: d1-d7, split ``dev``; fresh batches are never
read). For every piece: the library's own features (:func:`resonator.analysis.features.
features_from_file`, then :func:`resonator.analysis.tempo.estimate_tempo` with ``drum_kit=True``)
give the candidate tempi and their drum-model features; the truth is the first candidate within
4 % of the piece's reference tempo (pieces with none are left out of the fit and count as
misses). The model is a conditional logit: ``P(candidate) = softmax(features @ w)``, fitted by
L-BFGS on the negative log-likelihood plus ``LAMBDA * |w|^2`` over features standardised on the
training candidates (a convex problem: one optimum, whatever the start), and stored as weights
of the raw features (the standardisation's offset is the same for every candidate of a piece,
so it cancels).

Printed: the leave-one-source-out accuracy of the level (folds: each generated batch, and the
MMA standard and casio libraries, whose batches share style files), the accuracy of the general
model on the same candidates, and the weights. ``--write`` puts them into
``src/resonator/analysis/drums.py`` between its ``BEGIN fitted`` / ``END fitted`` markers;
``--check`` exits 1 when the stored weights differ from a fresh fit.

The features are cached per piece in ``<drums out>/level_features.json``, keyed by the WAV's
size and mtime and by a hash of the analysis sources that make them (a change of the method
recomputes them).

Usage::

    .venv/bin/python benchmarks/analysis/fit_drum_levels.py [--write | --check]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "benchmarks" / "out" / "analysis" / "drums"
SOURCE = ROOT / "src" / "resonator" / "analysis" / "drums.py"
LAMBDA = 5.0
SOURCES = ("features.py", "tempo.py", "metre.py", "beats.py", "drums.py")


def code_hash() -> str:
    """Hash of the analysis sources (without drums.py's fitted block, which the fit writes)."""
    h = hashlib.sha1()
    for name in SOURCES:
        text = (ROOT / "src" / "resonator" / "analysis" / name).read_text()
        h.update(re.sub(r"# BEGIN fitted.*?# END fitted", "", text, flags=re.S).encode())
    return h.hexdigest()[:12]


def fold_of(m: dict) -> str:
    if m["source"] == "gen":
        return m["batch"]
    return "mma " + m.get("library", "stdlib")


def piece_features(m: dict) -> dict:
    """Candidates, their drum and general features and the truth index of one piece."""
    from resonator.analysis.features import features_from_file
    from resonator.analysis.tempo import estimate_tempo

    f = features_from_file(OUT / f"{m['id']}.wav", loudness=False, peaks=False)
    t = estimate_tempo(f.onset, f.fps, onset_low=f.onset_low, onset_kick=f.onset_kick,
                       chroma=f.chroma, chroma_fps=f.chroma_fps, drum_kit=True)
    lv = t["_levels"]
    cands = np.asarray(lv["candidates_bpm"])
    ok = np.flatnonzero(np.abs(cands / m["bpm"] - 1.0) <= 0.04)
    return {"cands": cands.tolist(), "feats": np.asarray(lv["features"]).tolist(),
            "truth": int(ok[0]) if ok.size else -1}


def load(manifest: list[dict]) -> list[dict]:
    cpath = OUT / "level_features.json"
    cache = json.loads(cpath.read_text()) if cpath.exists() else {}
    version = code_hash()
    rows = []
    for i, m in enumerate(manifest):
        wav = OUT / f"{m['id']}.wav"
        st = wav.stat()
        key = f"{m['id']}:{st.st_size}:{int(st.st_mtime)}:{version}"
        if key not in cache:
            cache[key] = piece_features(m)
            print(f"[{i + 1}/{len(manifest)}] {m['id']}", file=sys.stderr, flush=True)
            if i % 20 == 0:
                cpath.write_text(json.dumps(cache))
        rows.append({**cache[key], "id": m["id"], "fold": fold_of(m)})
    cpath.write_text(json.dumps({k: v for k, v in cache.items() if k.endswith(version)}))
    return rows


def nll(w, sets, lam):
    total, grad = 0.0, np.zeros_like(w)
    for x, ti in sets:
        s = x @ w
        p = np.exp(s - s.max())
        p /= p.sum()
        total -= np.log(p[ti] + 1e-300)
        grad -= x[ti] - p @ x
    return total + lam * w @ w, grad + 2.0 * lam * w


def fit(rows: list[dict], lam: float = LAMBDA) -> np.ndarray:
    """Raw-feature weights fitted on the rows with a truth candidate."""
    from scipy.optimize import minimize

    use = [r for r in rows if r["truth"] >= 0]
    allx = np.vstack([np.asarray(r["feats"]) for r in use])
    mu, sd = allx.mean(axis=0), allx.std(axis=0)
    sd[sd == 0] = 1.0
    sets = [((np.asarray(r["feats"]) - mu) / sd, r["truth"]) for r in use]
    res = minimize(nll, np.zeros(allx.shape[1]), args=(sets, lam), jac=True, method="L-BFGS-B",
                   options={"maxiter": 2000, "gtol": 1e-9})
    return res.x / sd


def accuracy(rows: list[dict], score) -> float:
    return float(np.mean([r["truth"] >= 0 and int(np.argmax(score(r))) == r["truth"] for r in rows]))


def block(names, w) -> str:
    lines = ["WEIGHTS = {"]
    lines += [f'    "{k}": {v:.6g},' for k, v in zip(names, w)]
    return "\n".join(lines + ["}"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--write", action="store_true", help="store the fitted weights in drums.py")
    g.add_argument("--check", action="store_true", help="exit 1 if the stored weights differ from a fit")
    args = ap.parse_args(argv)
    from resonator.analysis import drums, metre

    mpath = OUT / "manifest.json"
    if not mpath.exists():
        raise SystemExit(f"fit_drum_levels.py: {mpath} is missing: run benchmarks/analysis/drums_dataset.py")
    manifest = [m for m in json.loads(mpath.read_text()) if m["split"] == "dev"]
    rows = load(manifest)
    folds = sorted({r["fold"] for r in rows})
    print(f"{len(rows)} development pieces, truth among the candidates in "
          f"{sum(r['truth'] >= 0 for r in rows)}; lambda {LAMBDA:g}")
    print("| fold | pieces | drum model, left out | general model |\n|---|---|---|---|")
    hits = 0
    for fo in folds:
        test = [r for r in rows if r["fold"] == fo]
        w = fit([r for r in rows if r["fold"] != fo])
        a = accuracy(test, lambda r: np.asarray(r["feats"]) @ w)
        g = accuracy(test, lambda r: metre.level_scores(np.asarray(r["feats"])[:, :len(metre.FEATURES)]))
        hits += a * len(test)
        print(f"| {fo} | {len(test)} | {a:.3f} | {g:.3f} |")
    w = fit(rows)
    print(f"leave-one-source-out accuracy {hits / len(rows):.3f}; in-sample "
          f"{accuracy(rows, lambda r: np.asarray(r['feats']) @ w):.3f}")
    text = block(drums.FEATURES, w)
    print(text)
    stored = np.array([drums.WEIGHTS[k] for k in drums.FEATURES])
    if args.check:
        same = np.allclose(stored, w, rtol=1e-3, atol=1e-4)
        print("stored weights " + ("match the fit" if same else "DIFFER from the fit"))
        return 0 if same else 1
    if args.write:
        src = SOURCE.read_text()
        new = re.sub(r"(# BEGIN fitted[^\n]*\n).*?(# END fitted)", lambda mt: mt.group(1) + text + "\n" + mt.group(2),
                     src, count=1, flags=re.S)
        SOURCE.write_text(new)
        print(f"written to {SOURCE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
