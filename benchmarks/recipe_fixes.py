"""Does each shipped recipe fixed after a design lint do what its description says?

sleep-descent (lint schedule-collapse, fixed with floor = 0.5): the binaural beat is measured
on windows of the real render (every layer, 16 kHz, 8 s windows rendered with
``render_recipe(start=..., duration=...)``, not normalised) at the times its description
names, with ``resonator check``'s binaural method (each ear fitted with every planned tone near
it: the breath drone's 206 Hz partial sits next to the beat's ears), and compared with the
plan. It also reports the lints of every shipped recipe.

Usage::

    .venv/bin/python benchmarks/recipe_fixes.py [--out DIR]
"""
from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None, help="folder for the window renders (default: temp)")
    args = ap.parse_args()
    import numpy as np

    from resonator.check import check_file
    from resonator.check.targets import make_target
    from resonator.recipe import load_recipe, render_recipe
    from resonator.recipe.lints import lint_recipe

    for path in sorted((REPO / "recipes").glob("*.toml")):
        lints = lint_recipe(load_recipe(path))
        print(f"{path.name:36} {len(lints)} lint(s)" + "".join(f"\n    {x}" for x in lints))
    recipe = load_recipe(REPO / "recipes" / "sleep-descent.toml")
    descent = next(p for p in recipe.phases if p.name == "descent")
    out = Path(args.out or tempfile.mkdtemp(prefix="recipe-fixes-"))
    out.mkdir(parents=True, exist_ok=True)
    print("\nsleep-descent: binaural beat on the render (8 s windows at 16 kHz)")
    print(f"{'minute of descent':>18} {'planned Hz':>11} {'measured Hz':>12}")
    t0 = time.time()
    worst = 0.0
    for minute in (0.25, 2.5, 5.0, 10.0, 12.7, 20.0, 29.0, 39.5):
        centre = descent.start_s + 60.0 * minute
        start = centre - 4.0
        wav = out / f"sleep-descent-{minute:05.2f}.wav"
        render_recipe(recipe, wav, sr=16000, bits="32f", start=start, duration=8.0,
                      normalize=False, force=True)
        temp = float(recipe.temperature(np.array([centre]))[0])
        planned = 1.5 * (10.0 / 1.5) ** temp
        tgt = make_target("binaural_beat", start + 1.0, start + 7.0, planned, 0.05,
                          layer="beat", source="cli")
        rep = check_file(wav, recipe, targets=[tgt])
        r = next(r for r in rep.results if r.target.source == "cli")
        worst = max(worst, abs(r.measured - planned))
        print(f"{minute:18.2f} {planned:11.3f} {r.measured:12.3f}")
    print(f"largest difference {worst:.4f} Hz; {time.time() - t0:.0f} s")
    return 0 if worst < 0.05 and not math.isnan(worst) else 1


if __name__ == "__main__":
    raise SystemExit(main())
