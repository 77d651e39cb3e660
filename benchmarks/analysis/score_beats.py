"""Score resonator's beat tracker and librosa's default side by side on the rendered corpus set.

Run ``build_dataset.py`` first. For each piece: resonator's ``analyze_file`` (tempo + beats) and
``librosa.beat.beat_track(y=y, sr=22050)`` with every default, on the same WAV. Beat scores from
``mir_eval.beat`` (F-measure, CMLt, AMLt; both reference and estimate trimmed of their first 5 s,
mir_eval's convention), tempo Accuracy1 (within 4 % of the score's tempo) and Accuracy2 (also
at 2x, 3x, 1/2, 1/3 of it), and for resonator the Accuracy1 of the reported tempo or the first of
its ``tempo.alternatives`` (the runner-up metrical level). Means are printed as Markdown tables for the development split, the
held-out split of batches 1-2, the third batch (added 2026-11-22 and scored only after the
metre-consistency method was frozen) and all pieces.

Batch 4 (added 2026-11-22, third session) is the fresh test of the metrical-level choice
and is protected: it is skipped by default (also with ``--only``), and ``--fresh`` scores batch 4
and nothing else. Run ``--fresh`` once, after the method is frozen. Batch 5 (added 2026-11-22, third
session, a second fresh test built the same way) is protected the same way: skipped by default (also
with ``--only`` and ``--fresh``), and ``--fresh5`` scores batch 5 and nothing else, once, after the
method is frozen. Batch 6 (added 2026-11-22, third session, a third fresh test built the same way)
is protected the same way: skipped by default (also with ``--only``, ``--fresh`` and ``--fresh5``),
and ``--fresh6`` scores batch 6 and nothing else, once, after the method is frozen.

Usage::

    .venv/bin/python benchmarks/analysis/score_beats.py [--json benchmarks/out/analysis/scores.json] [--dev]
    .venv/bin/python benchmarks/analysis/score_beats.py --fresh --json benchmarks/out/analysis/scores_fresh.json
    .venv/bin/python benchmarks/analysis/score_beats.py --fresh5 --json benchmarks/out/analysis/scores_fresh5.json
    .venv/bin/python benchmarks/analysis/score_beats.py --fresh6 --json benchmarks/out/analysis/scores_fresh6.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "out" / "analysis"


def accuracy(est_bpm, ref_bpm):
    if est_bpm is None or not np.isfinite(est_bpm) or est_bpm <= 0:
        return 0.0, 0.0
    a1 = abs(est_bpm / ref_bpm - 1.0) <= 0.04
    a2 = any(abs(est_bpm / (ref_bpm * f) - 1.0) <= 0.04 for f in (1, 2, 3, 0.5, 1 / 3))
    return float(a1), float(a2)


def beat_scores(ref, est):
    import mir_eval

    ref = mir_eval.beat.trim_beats(np.asarray(ref, dtype=float))
    est = mir_eval.beat.trim_beats(np.asarray(est, dtype=float))
    f = mir_eval.beat.f_measure(ref, est)
    cmlc, cmlt, amlc, amlt = mir_eval.beat.continuity(ref, est)
    return {"F": f, "CMLt": cmlt, "AMLt": amlt}


def run_resonator(wav):
    from resonator.analysis import analyze_file

    r = analyze_file(wav, loudness=False)
    return r["tempo"]["bpm"], np.asarray(r["beats"]), r["tempo"]


def run_librosa(wav):
    import librosa

    y, sr = librosa.load(wav, sr=22050, mono=True)
    tempo, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
    return float(np.atleast_1d(tempo)[0]), beats, None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write per-piece scores here")
    ap.add_argument("--only", nargs="*", help="piece ids")
    ap.add_argument("--dev", action="store_true",
                    help="development pieces of batches 1-2 only (what tuning may look at)")
    ap.add_argument("--fresh", action="store_true",
                    help="score ONLY the fresh batch 4 (skipped otherwise); run this once, after the "
                         "method is frozen")
    ap.add_argument("--fresh5", action="store_true",
                    help="score ONLY the fresh batch 5 (skipped otherwise); run this once, after the "
                         "method is frozen")
    ap.add_argument("--fresh6", action="store_true",
                    help="score ONLY the fresh batch 6 (skipped otherwise); run this once, after the "
                         "method is frozen")
    args = ap.parse_args(argv)
    if sum((args.fresh, args.fresh5, args.fresh6, args.dev)) > 1:
        ap.error("--fresh, --fresh5, --fresh6 and --dev are exclusive")
    warnings.filterwarnings("ignore")
    manifest = json.loads((OUT / "manifest.json").read_text())
    if args.fresh:
        manifest = [m for m in manifest if m.get("batch", 1) == 4]
    elif args.fresh5:
        manifest = [m for m in manifest if m.get("batch", 1) == 5]
    elif args.fresh6:
        manifest = [m for m in manifest if m.get("batch", 1) == 6]
    else:  # batches 4, 5 and 6 stay unseen until their one final run
        manifest = [m for m in manifest if m.get("batch", 1) < 4]
    if args.only:
        manifest = [m for m in manifest if m["id"] in args.only]
    if args.dev:
        manifest = [m for m in manifest if m.get("split") == "dev" and m.get("batch", 1) < 3]
    rows = []
    for m in manifest:
        wav = str(OUT / f"{m['id']}.wav")
        ref = np.loadtxt(OUT / f"{m['id']}.beats.txt", ndmin=1)
        row = {"id": m["id"], "ref_bpm": m["bpm"]}
        for name, fn in (("resonator", run_resonator), ("librosa", run_librosa)):
            t0 = time.perf_counter()
            bpm, beats, tempo = fn(wav)
            row[name] = {"bpm": bpm, **beat_scores(ref, beats)}
            row[name]["A1"], row[name]["A2"] = accuracy(bpm, m["bpm"])
            if tempo is not None:  # the reported level or the first alternative
                alt = tempo.get("alternatives") or []
                row[name]["level_probability"] = tempo.get("level_probability")
                row[name]["A1_top2"] = max(row[name]["A1"],
                                           accuracy(alt[0]["bpm"], m["bpm"])[0] if alt else 0.0)
            row[name]["seconds"] = time.perf_counter() - t0
        rows.append(row)
        r, lb = row["resonator"], row["librosa"]
        print(f"{m['id']:28s} ref {m['bpm']:6.1f} | res {r['bpm'] or 0:7.2f} F {r['F']:.2f} "
              f"CMLt {r['CMLt']:.2f} AMLt {r['AMLt']:.2f} | lib {lb['bpm']:7.2f} F {lb['F']:.2f} "
              f"CMLt {lb['CMLt']:.2f} AMLt {lb['AMLt']:.2f}", flush=True)
    print()
    split = {m["id"]: (m.get("split", "dev"), m.get("batch", 1)) for m in manifest}
    subsets = [("development (batches 1-2)", lambda r: split[r["id"]][0] == "dev" and split[r["id"]][1] < 3),
               ("held-out (batches 1-2)", lambda r: split[r["id"]][0] == "test" and split[r["id"]][1] < 3),
               ("new batch 3 (never scored before the method was frozen)", lambda r: split[r["id"]][1] == 3),
               ("fresh batch 4 (never analysed before the final scoring)", lambda r: split[r["id"]][1] == 4),
               ("fresh batch 5 (never analysed before the final scoring)", lambda r: split[r["id"]][1] == 5),
               ("fresh batch 6 (never analysed before the final scoring)", lambda r: split[r["id"]][1] == 6),
               ("all", lambda r: True)]
    if args.fresh:  # only the batch-4 table (the other subsets are empty, "all" would repeat it)
        subsets = [t for t in subsets if t[0].startswith("fresh batch 4")]
    elif args.fresh5:  # only the batch-5 table
        subsets = [t for t in subsets if t[0].startswith("fresh batch 5")]
    elif args.fresh6:  # only the batch-6 table
        subsets = [t for t in subsets if t[0].startswith("fresh batch 6")]
    else:
        subsets = [t for t in subsets if not t[0].startswith("fresh batch")]
    for title, keep in subsets:
        sub = [r for r in rows if keep(r)]
        if not sub:
            continue
        print(f"| {title}: {len(sub)} pieces | F-measure | CMLt | AMLt | Accuracy1 | Accuracy2 |")
        print("|---|---|---|---|---|---|")
        for name, label in (("resonator", "resonator"), ("librosa", "librosa default")):
            mean = {k: np.mean([r[name][k] for r in sub]) for k in ("F", "CMLt", "AMLt", "A1", "A2")}
            print(f"| {label} | {mean['F']:.3f} | {mean['CMLt']:.3f} | {mean['AMLt']:.3f} | "
                  f"{mean['A1']:.3f} | {mean['A2']:.3f} |")
        miss = [f"{r['id']} ({r['ref_bpm']:g} -> {r['resonator']['bpm'] or 0:.1f})"
                for r in sub if not r["resonator"]["A1"]]
        print(f"resonator tempo misses: {', '.join(miss) or 'none'}")
        top2 = np.mean([r["resonator"]["A1_top2"] for r in sub])
        print(f"resonator Accuracy1 of the reported tempo or its first alternative: {top2:.3f}")
        print()
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
