"""Render speed and memory of a full shipped recipe (default: mettannealing, 40 minutes).

Prints the real-time factor of the whole `render_recipe` call (measure + render: the graph is
rendered once, the measuring pass caching its blocks on disk for the mastered render) and of one
plain graph render pass (`render_file`), and the peak RSS, each run in a fresh process; median
of N runs (default 3). The whole call's CPU-time factor is printed too: on a shared machine the
wall-clock figures move with the load, the CPU figure much less.

Usage: python benchmarks/recipe_speed.py [RECIPE] [--runs N]
"""
from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(recipe: str, out_dir: str) -> dict:
    from resonator.recipe import build_session, load_recipe, render_recipe
    from resonator.render import render_file

    session = build_session(load_recipe(recipe))
    # warm numba's caches outside the timing
    render_file(session.node, Path(out_dir) / "warm.wav", 1.0, sr=session.sr, force=True,
                sidecar=False)
    t0 = time.perf_counter()
    c0 = time.process_time()
    render_recipe(recipe, Path(out_dir) / "full.wav", force=True)
    full = time.perf_counter() - t0
    full_cpu = time.process_time() - c0
    t0 = time.perf_counter()
    render_file(session.node, Path(out_dir) / "pass.wav", session.duration_s, sr=session.sr,
                force=True, sidecar=False)
    one = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"audio_s": session.duration_s, "full_s": full, "full_cpu_s": full_cpu, "pass_s": one,
            "rss_mb": rss}


def main(argv):
    if argv[:1] == ["--child"]:
        print(json.dumps(child(argv[1], argv[2])))
        return
    runs = 3
    if "--runs" in argv:
        i = argv.index("--runs")
        runs = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    recipe = argv[0] if argv else str(ROOT / "recipes" / "mettannealing.toml")
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    res = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            p = subprocess.run([sys.executable, __file__, "--child", recipe, tmp],
                               capture_output=True, text=True, check=True)
            res.append(json.loads(p.stdout.strip().splitlines()[-1]))
    a = res[0]["audio_s"]
    full = statistics.median(a / r["full_s"] for r in res)
    one = statistics.median(a / r["pass_s"] for r in res)
    cpu = statistics.median(a / r["full_cpu_s"] for r in res if "full_cpu_s" in r)
    print(f"{Path(recipe).name}: {a / 60:.0f} min; render_recipe (measure + render) {full:.0f}x real "
          f"time ({cpu:.0f}x of CPU time), render pass alone {one:.0f}x, peak RSS "
          f"{max(r['rss_mb'] for r in res):.0f} MB (median of {runs})")


if __name__ == "__main__":
    main(sys.argv[1:])
