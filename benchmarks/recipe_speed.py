"""Render speed and memory of a full shipped recipe (default: mettannealing, 40 minutes).

Prints the real-time factor and peak RSS of the whole `render_recipe` call (measure + render:
the graph is rendered once, the measuring pass caching its blocks on disk for the mastered
render) and, separately, of one plain graph render pass (`render_file`); every measurement runs
in its own fresh process, so each peak RSS is that step's alone; median of N runs (default 3).
The whole call's CPU-time factor is printed too: on a shared machine the wall-clock figures
move with the load, the CPU figure much less.

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


def child(recipe: str, out_dir: str, what: str) -> dict:
    """One measurement in this fresh process: ``full`` (render_recipe) or ``pass`` (one plain
    render_file pass of the graph); the peak RSS is that step's alone."""
    from resonator.recipe import build_session, load_recipe, render_recipe
    from resonator.render import render_file

    session = build_session(load_recipe(recipe))
    # warm numba's caches outside the timing
    render_file(session.node, Path(out_dir) / "warm.wav", 1.0, sr=session.sr, force=True,
                sidecar=False)
    t0 = time.perf_counter()
    c0 = time.process_time()
    if what == "full":
        render_recipe(recipe, Path(out_dir) / "full.wav", force=True)
    else:
        render_file(session.node, Path(out_dir) / "pass.wav", session.duration_s, sr=session.sr,
                    force=True, sidecar=False)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"audio_s": session.duration_s, "wall_s": wall, "cpu_s": cpu, "rss_mb": rss}


def main(argv):
    if argv[:1] == ["--child"]:
        print(json.dumps(child(argv[1], argv[2], argv[3])))
        return
    runs = 3
    if "--runs" in argv:
        i = argv.index("--runs")
        runs = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2:]
    recipe = argv[0] if argv else str(ROOT / "recipes" / "mettannealing.toml")
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    res = {"full": [], "pass": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            for what in ("full", "pass"):
                p = subprocess.run([sys.executable, __file__, "--child", recipe, tmp, what],
                                   capture_output=True, text=True, check=True)
                res[what].append(json.loads(p.stdout.strip().splitlines()[-1]))
    a = res["full"][0]["audio_s"]
    full = [a / r["wall_s"] for r in res["full"]]
    one = statistics.median(a / r["wall_s"] for r in res["pass"])
    cpu = statistics.median(a / r["cpu_s"] for r in res["full"])
    print(f"{Path(recipe).name}: {a / 60:.0f} min; render_recipe (measure + render) "
          f"{statistics.median(full):.0f}x real time (runs: {', '.join(f'{x:.0f}' for x in full)}; "
          f"{cpu:.0f}x of CPU time), peak RSS {max(r['rss_mb'] for r in res['full']):.0f} MB; "
          f"one plain graph pass {one:.0f}x, {max(r['rss_mb'] for r in res['pass']):.0f} MB "
          f"(median of {runs} fresh processes each)")


if __name__ == "__main__":
    main(sys.argv[1:])
