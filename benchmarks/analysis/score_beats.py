"""Score resonator's tempo and beats against librosa's and essentia's, side by side, on rendered sets.

Two corpora: ``--corpus score`` (``build_dataset.py``: music21 scores, batches 1-6) and
``--corpus drums`` (``drums_dataset.py``: music with drums, batches d1-d7, f1-f6). For each
piece, on the same WAV and in the same run: resonator's ``analyze_file`` (tempo + beats),
``librosa.beat.beat_track(y=y, sr=22050)`` with every default, and essentia's
``RhythmExtractor2013(method="multifeature")`` on the file loaded at 44.1 kHz (essentia is AGPL-3.0:
a benchmark tool only, never imported by ``src/`` or ``tests/``). librosa's and essentia's results
do not depend on resonator and are cached per WAV (``<corpus out>/cache_<tracker>.json``, keyed by
the file's size and mtime; ``--no-cache`` recomputes).

Scores: ``mir_eval.beat`` F-measure (+-70 ms), CMLt and AMLt (reference and estimate trimmed of
their first 5 s, mir_eval's convention); tempo Accuracy1 (within 4 % of the reference tempo) and
Accuracy2 (also at 2x, 3x, 1/2, 1/3); for resonator the Accuracy1 of the reported tempo or the
first of its ``tempo.alternatives``. The level confusion matrix counts, per metre of the truth,
the ratio of each tracker's tempo to the reference: x1, x2, x1/2, x3, x1/3, x3/2, x2/3, other.

Protected fresh batches. Score corpus: batch 4 only with ``--fresh``, batch 5 only with
``--fresh5``, batch 6 only with ``--fresh6`` (each scored once, after the method was frozen; see
the README). Drums corpus: batches f1-f9 only with ``--fresh-batch NAME``, which refuses to run
when ``src/`` or ``benchmarks/analysis/`` has uncommitted changes or when the batch is already in
``fresh_scored.json`` (then ``--again`` scores it and says so), and records the commit and date
there after scoring: commit that file.

Usage::

    .venv/bin/python benchmarks/analysis/score_beats.py [--json FILE] [--dev]        # score batches 1-3
    .venv/bin/python benchmarks/analysis/score_beats.py --fresh6 --json FILE          # score batch 6, once
    .venv/bin/python benchmarks/analysis/score_beats.py --corpus drums [--json FILE]  # drums d1-d7
    .venv/bin/python benchmarks/analysis/score_beats.py --corpus drums --fresh-batch f1 --json FILE
"""
from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUTS = {"score": HERE.parent / "out" / "analysis", "drums": HERE.parent / "out" / "analysis" / "drums"}
LEDGER = HERE / "fresh_scored.json"
TRACKERS = ("resonator", "librosa", "essentia")
LABELS = {"resonator": "resonator", "librosa": "librosa default", "essentia": "essentia multifeature"}
RATIOS = (("x1", 1.0), ("x2", 2.0), ("x1/2", 0.5), ("x3", 3.0), ("x1/3", 1 / 3), ("x3/2", 1.5),
          ("x2/3", 2 / 3))


def accuracy(est_bpm, ref_bpm):
    """(Accuracy1, Accuracy2) of one tempo: within 4 %, also at 2x, 3x, 1/2, 1/3."""
    if est_bpm is None or not np.isfinite(est_bpm) or est_bpm <= 0:
        return 0.0, 0.0
    a1 = abs(est_bpm / ref_bpm - 1.0) <= 0.04
    a2 = any(abs(est_bpm / (ref_bpm * f) - 1.0) <= 0.04 for f in (1, 2, 3, 0.5, 1 / 3))
    return float(a1), float(a2)


def level_class(est_bpm, ref_bpm) -> str:
    """The metrical relation of a tempo to the reference: ``x1``, ``x2``, ``x1/2``, ... or ``other``."""
    if est_bpm is None or not np.isfinite(est_bpm) or est_bpm <= 0:
        return "other"
    for name, r in RATIOS:
        if abs(est_bpm / (ref_bpm * r) - 1.0) <= 0.04:
            return name
    return "other"


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
    return r["tempo"]["bpm"], np.asarray(r["beats"]), {**r["tempo"], "drum_kit": r["drum_kit"]["detected"]}


def run_librosa(wav):
    import librosa

    y, sr = librosa.load(wav, sr=22050, mono=True)
    tempo, beats = librosa.beat.beat_track(y=y, sr=sr, units="time")
    return float(np.atleast_1d(tempo)[0]), beats, None


def run_essentia(wav):
    import essentia
    import essentia.standard as es

    essentia.log.warningActive = False
    audio = es.MonoLoader(filename=str(wav), sampleRate=44100)()
    bpm, beats, _conf, _est, _intervals = es.RhythmExtractor2013(method="multifeature")(audio)
    return float(bpm), np.asarray(beats, dtype=float), None


RUNNERS = {"resonator": run_resonator, "librosa": run_librosa, "essentia": run_essentia}


def metre_of(m: dict) -> str:
    """The metre family of a piece's truth, for the confusion matrix."""
    if "style" not in m:  # the score corpus's manifest names no metre
        return "score"
    s = m["style"].lower()
    if m.get("source") == "gen":
        return {"dnb": "4/4 half bar", "waltz": "3/4", "march": "2/4"}.get(
            s, "6/8" if s.endswith("68") else "4/4")
    if m.get("mma_beats_per_truth") == 2:
        return "2/4"
    if m.get("mma_beats_per_truth") == 3 or "68" in s:
        return "6/8"
    if "128" in s:
        return "12/8"
    return "3/4" if m.get("mma_time") == 3 else "4/4"


def git(*args) -> str:
    return subprocess.run(["git", *args], cwd=HERE, capture_output=True, text=True, check=True).stdout.strip()


def check_fresh(batch: str, again: bool) -> dict:
    """Refuse to score a protected drums batch from a changed worktree or a second time."""
    dirty = git("status", "--porcelain", "--", str(HERE.parents[1] / "src"), str(HERE))
    dirty = "\n".join(x for x in dirty.splitlines() if not x.endswith("fresh_scored.json"))
    if dirty:
        raise SystemExit(f"score_beats.py: --fresh-batch {batch} needs a clean worktree of the frozen "
                         f"commit; uncommitted changes:\n{dirty}")
    ledger = json.loads(LEDGER.read_text()) if LEDGER.exists() else []
    done = [e for e in ledger if e["batch"] == batch]
    if done and not again:
        raise SystemExit(f"score_beats.py: drums batch {batch} was scored at {done[0]['commit'][:9]} on "
                         f"{done[0]['date']}; fresh batches are scored once (--again re-scores and "
                         "records it as a re-scoring)")
    return {"batch": batch, "commit": git("rev-parse", "HEAD"),
            "date": datetime.date.today().isoformat(), "rescoring": bool(done)}


def cached(tracker, wav: Path, cache: dict, use_cache: bool):
    st = wav.stat()
    key = f"{wav.name}:{st.st_size}:{int(st.st_mtime)}"
    if use_cache and key in cache:
        c = cache[key]
        return c["bpm"], np.asarray(c["beats"]), None, 0.0
    t0 = time.perf_counter()
    bpm, beats, _ = RUNNERS[tracker](str(wav))
    sec = time.perf_counter() - t0
    cache[key] = {"bpm": bpm, "beats": [round(float(b), 4) for b in beats]}
    return bpm, beats, None, sec


def select(args, manifest):
    if args.corpus == "score":
        if args.fresh:
            keep = [m for m in manifest if m.get("batch", 1) == 4]
        elif args.fresh5:
            keep = [m for m in manifest if m.get("batch", 1) == 5]
        elif args.fresh6:
            keep = [m for m in manifest if m.get("batch", 1) == 6]
        else:  # batches 4, 5 and 6 stay unseen until their one final run
            keep = [m for m in manifest if m.get("batch", 1) < 4]
        if args.dev:
            keep = [m for m in keep if m.get("split") == "dev" and m.get("batch", 1) < 3]
    elif args.fresh_batch:
        keep = [m for m in manifest if m["batch"] == args.fresh_batch]
    else:
        keep = [m for m in manifest if m["split"] == "dev"]
    if args.only:
        keep = [m for m in keep if m["id"] in args.only]
    return keep


def subsets(args, rows, manifest):
    info = {m["id"]: m for m in manifest}
    if args.corpus == "drums":
        out = []
        for b in sorted({info[r["id"]]["batch"] for r in rows}):
            out.append((f"drums batch {b} ({info[next(r['id'] for r in rows if info[r['id']]['batch'] == b)]['split']})",
                        lambda r, b=b: info[r["id"]]["batch"] == b))
        for src in ("gen", "mma"):
            out.append((f"source {src}", lambda r, s=src: info[r["id"]]["source"] == s))
        return out + [("all", lambda r: True)]
    sp = {m["id"]: (m.get("split", "dev"), m.get("batch", 1)) for m in manifest}
    out = [("development (batches 1-2)", lambda r: sp[r["id"]][0] == "dev" and sp[r["id"]][1] < 3),
           ("held-out (batches 1-2)", lambda r: sp[r["id"]][0] == "test" and sp[r["id"]][1] < 3),
           ("new batch 3", lambda r: sp[r["id"]][1] == 3),
           ("fresh batch 4", lambda r: sp[r["id"]][1] == 4),
           ("fresh batch 5", lambda r: sp[r["id"]][1] == 5),
           ("fresh batch 6", lambda r: sp[r["id"]][1] == 6),
           ("all", lambda r: True)]
    return out


def print_tables(title, sub, trackers):
    print(f"| {title}: {len(sub)} pieces | F-measure | CMLt | AMLt | Accuracy1 | Accuracy2 | A1 top 2 |")
    print("|---|---|---|---|---|---|---|")
    for name in trackers:
        mean = {k: np.mean([r[name][k] for r in sub]) for k in ("F", "CMLt", "AMLt", "A1", "A2")}
        top2 = f"{np.mean([r[name]['A1_top2'] for r in sub]):.3f}" if "A1_top2" in sub[0][name] else ""
        print(f"| {LABELS[name]} | {mean['F']:.3f} | {mean['CMLt']:.3f} | {mean['AMLt']:.3f} | "
              f"{mean['A1']:.3f} | {mean['A2']:.3f} | {top2} |")
    if "resonator" in trackers:
        miss = [f"{r['id']} ({r['ref_bpm']:g} -> {r['resonator']['bpm'] or 0:.1f})"
                for r in sub if not r["resonator"]["A1"]]
        print(f"resonator tempo misses: {', '.join(miss) or 'none'}")
        kit = [r["resonator"].get("drum_kit") for r in sub]
        print(f"resonator drum kit detected (drum level model): {sum(bool(k) for k in kit)} of {len(kit)}")
    print()


def print_confusion(sub, trackers, info):
    cols = [n for n, _ in RATIOS] + ["other"]
    metres = sorted({metre_of(info[r["id"]]) for r in sub})
    print("| tracker | metre (pieces) | " + " | ".join(cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for name in trackers:
        for me in metres:
            rs = [r for r in sub if metre_of(info[r["id"]]) == me]
            counts = {c: sum(r[name]["level"] == c for r in rs) for c in cols}
            print(f"| {LABELS[name]} | {me} ({len(rs)}) | " + " | ".join(str(counts[c] or ".") for c in cols) + " |")
    print()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", choices=("score", "drums"), default="score")
    ap.add_argument("--json", help="write per-piece scores here")
    ap.add_argument("--only", nargs="*", help="piece ids")
    ap.add_argument("--trackers", nargs="*", choices=TRACKERS, default=list(TRACKERS))
    ap.add_argument("--no-cache", action="store_true", help="recompute librosa and essentia")
    ap.add_argument("--dev", action="store_true",
                    help="score corpus: development pieces of batches 1-2 only (what tuning may look at)")
    for flag, b in (("--fresh", 4), ("--fresh5", 5), ("--fresh6", 6)):
        ap.add_argument(flag, action="store_true",
                        help=f"score corpus: score ONLY the fresh batch {b}; run once, after the method is frozen")
    ap.add_argument("--fresh-batch", choices=("f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9"),
                    help="drums corpus: score ONLY this fresh batch, once, from a clean worktree")
    ap.add_argument("--again", action="store_true", help="with --fresh-batch: allow a recorded re-scoring")
    args = ap.parse_args(argv)
    if sum((args.fresh, args.fresh5, args.fresh6, args.dev)) > 1:
        ap.error("--fresh, --fresh5, --fresh6 and --dev are exclusive")
    if args.corpus == "drums" and (args.fresh or args.fresh5 or args.fresh6 or args.dev):
        ap.error("--fresh, --fresh5, --fresh6 and --dev are for --corpus score")
    if args.corpus == "score" and args.fresh_batch:
        ap.error("--fresh-batch is for --corpus drums")
    record = check_fresh(args.fresh_batch, args.again) if args.fresh_batch else None
    warnings.filterwarnings("ignore")
    out = OUTS[args.corpus]
    mpath = out / "manifest.json"
    if not mpath.exists():
        builder = "build_dataset.py" if args.corpus == "score" else "drums_dataset.py"
        raise SystemExit(f"score_beats.py: {mpath} is missing: run benchmarks/analysis/{builder} first")
    manifest = json.loads(mpath.read_text())
    info = {m["id"]: m for m in manifest}
    chosen = select(args, manifest)
    caches = {t: (json.loads(p.read_text()) if (p := out / f"cache_{t}.json").exists() else {})
              for t in ("librosa", "essentia")}
    rows = []
    for m in chosen:
        wav = out / f"{m['id']}.wav"
        ref = np.loadtxt(out / f"{m['id']}.beats.txt", ndmin=1)
        row = {"id": m["id"], "ref_bpm": m["bpm"]}
        for name in args.trackers:
            if name == "resonator":
                t0 = time.perf_counter()
                bpm, beats, tempo = run_resonator(str(wav))
                sec = time.perf_counter() - t0
            else:
                bpm, beats, tempo, sec = cached(name, wav, caches[name], not args.no_cache)
            row[name] = {"bpm": bpm, **beat_scores(ref, beats), "seconds": sec,
                         "level": level_class(bpm, m["bpm"])}
            row[name]["A1"], row[name]["A2"] = accuracy(bpm, m["bpm"])
            if tempo is not None:  # the reported level or the first alternative
                alt = tempo.get("alternatives") or []
                row[name]["level_probability"] = tempo.get("level_probability")
                row[name]["drum_kit"] = tempo.get("drum_kit")
                row[name]["A1_top2"] = max(row[name]["A1"],
                                           accuracy(alt[0]["bpm"], m["bpm"])[0] if alt else 0.0)
        rows.append(row)
        print(f"{m['id']:30s} ref {m['bpm']:6.1f} | " + " | ".join(
            f"{name[:3]} {row[name]['bpm'] or 0:6.1f} F {row[name]['F']:.2f} AMLt {row[name]['AMLt']:.2f}"
            for name in args.trackers), flush=True)
    for t, c in caches.items():
        if c:
            (out / f"cache_{t}.json").write_text(json.dumps(c))
    print()
    for title, keep in subsets(args, rows, manifest):
        sub = [r for r in rows if keep(r)]
        if sub:
            print_tables(title, sub, args.trackers)
    if rows and args.corpus == "drums":
        print("Level of the reported tempo against the truth (counts of pieces), all pieces of this run:\n")
        print_confusion(rows, args.trackers, info)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    if record is not None:
        ledger = json.loads(LEDGER.read_text()) if LEDGER.exists() else []
        record["pieces"] = len(rows)
        LEDGER.write_text(json.dumps(ledger + [record], indent=1) + "\n")
        print(f"recorded in {LEDGER.name}: {record}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
