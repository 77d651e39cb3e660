"""Are the analysis reports of the development corpora the same under two versions of the code?

For a change meant to keep the analysis method (speed, memory): every development piece of the
score corpus (``build_dataset.py``: split "dev" of batches 1-3) and of the drums corpus
(``drums_dataset.py``: d1-d7) is analysed by ``analyze_file`` with the code of git revision
``--against`` (``src/`` exported, run with this tree's compiled kernels, as
``benchmarks/check_analyze_speed.py --against`` does) and with this tree, each in a child
process; the JSON reports (``path`` aside) are compared byte for byte. Fresh batches are never
read. Where reports differ the script prints the keys that differ and, for the beats, the
beat F-measure of one against the other (+-70 ms).

    .venv/bin/python benchmarks/analysis/same_reports.py --against main
    .venv/bin/python benchmarks/analysis/same_reports.py --against main --revision HEAD
    .venv/bin/python benchmarks/analysis/same_reports.py --against main --corpus drums --limit 20
    .venv/bin/python benchmarks/analysis/same_reports.py --corpus-dir /elsewhere/benchmarks/out/analysis
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def dev_pieces(corpus_dir: Path, corpus: str) -> list[Path]:
    """WAV files of the development pieces (never the fresh batches)."""
    out = []
    if corpus in ("score", "both") and (corpus_dir / "manifest.json").exists():
        for m in json.loads((corpus_dir / "manifest.json").read_text()):
            if m.get("split", "dev") == "dev" and m.get("batch", 1) < 4:
                out.append(corpus_dir / f"{m['id']}.wav")
    drums = corpus_dir / "drums"
    if corpus in ("drums", "both") and (drums / "manifest.json").exists():
        for m in json.loads((drums / "manifest.json").read_text()):
            if m["split"] == "dev":
                out.append(drums / f"{m['id']}.wav")
    return [p for p in out if p.exists()]


def child(out: str, files: list[str]) -> None:
    from resonator.analysis import analyze_file

    with open(out, "w") as f:
        for p in files:
            r = analyze_file(p)
            r.pop("path", None)
            f.write(json.dumps({"file": p, "report": r}, sort_keys=True) + "\n")


def run(files: list[Path], src: str, out: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
    subprocess.run([sys.executable, __file__, "--child", str(out), *map(str, files)], env=env,
                   check=True, cwd=ROOT)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    return {r["file"]: r["report"] for r in rows}


def beat_f(ref: list, est: list, tol: float = 0.07) -> float:
    """F-measure of ``est`` against ``ref`` (each beat matched once within ``tol`` s)."""
    import numpy as np

    r, e = np.asarray(ref), np.asarray(est)
    if r.size == 0 and e.size == 0:
        return 1.0
    if r.size == 0 or e.size == 0:
        return 0.0
    used, hit = set(), 0
    for t in e:
        j = int(np.argmin(np.abs(r - t)))
        if abs(r[j] - t) <= tol and j not in used:
            used.add(j)
            hit += 1
    p, q = hit / e.size, hit / r.size
    return 2 * p * q / (p + q) if p + q else 0.0


def diff_keys(a, b, prefix="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += diff_keys(a.get(k), b.get(k), f"{prefix}{k}.")
        return out
    return [] if json.dumps(a) == json.dumps(b) else [prefix.rstrip(".")]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", default="main", metavar="REF", help="git revision (default main)")
    ap.add_argument("--revision", metavar="REV",
                    help="compare git revision REV (default: this tree's files as they are)")
    ap.add_argument("--corpus", choices=("score", "drums", "both"), default="both")
    ap.add_argument("--corpus-dir", type=Path, default=ROOT / "benchmarks" / "out" / "analysis",
                    help="the corpora's folder (default benchmarks/out/analysis)")
    ap.add_argument("--limit", type=int, help="at most this many pieces")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args.child[0], args.child[1:])
    # a kill ends the run like Ctrl-C: the child is killed, the scratch folder removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from check_analyze_speed import export

    files = dev_pieces(args.corpus_dir, args.corpus)[: args.limit]
    if not files:
        sys.exit(f"same_reports.py: no development pieces under {args.corpus_dir} "
                 "(render them with build_dataset.py / drums_dataset.py, or give --corpus-dir)")
    print(f"{len(files)} development pieces under {args.corpus_dir}", flush=True)
    with tempfile.TemporaryDirectory(prefix="same-reports-") as tmp:
        (Path(tmp) / "ref").mkdir()
        ref = run(files, export(args.against, Path(tmp) / "ref"), Path(tmp) / "ref.jsonl")
        src = str(ROOT / "src")
        if args.revision:  # a fixed revision: the tree may change while this runs
            (Path(tmp) / "new").mkdir()
            src = export(args.revision, Path(tmp) / "new")
        new = run(files, src, Path(tmp) / "new.jsonl")
    same = 0
    for p in map(str, files):
        a, b = ref[p], new[p]
        if json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True):
            same += 1
            continue
        keys = diff_keys(a, b)
        print(f"DIFFERS {Path(p).name}: {', '.join(keys)}; tempo {a['tempo']['bpm']} -> "
              f"{b['tempo']['bpm']}, beats F {beat_f(a['beats'], b['beats']):.3f} "
              f"({len(a['beats'])} -> {len(b['beats'])} beats)")
    print(f"identical reports: {same} of {len(files)} ({args.revision or 'this tree'} against "
          f"{args.against})")


if __name__ == "__main__":
    main()
