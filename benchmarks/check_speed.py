"""Time and memory of ``resonator check`` on long renders.

1. Renders 60 minutes of ``recipes/sleep-descent.toml`` once (a window render: settle,
   the 40-minute Lundy-Mees cooling, 10 minutes deep; loudness-normalised, 16-bit, 48 kHz
   stereo) and caches it under ``benchmarks/out/check/``.
2. Checks it against the recipe (written + implied targets, with the cooling plan) in a
   fresh process: wall time and peak RSS.
3. Writes a 2-hour file (the hour twice) and checks it with ``--target`` strings spread over
   the two hours (clicks, loudness, true peak, range, trends, beat, rates): peak RSS.

    .venv/bin/python benchmarks/check_speed.py
    .venv/bin/python benchmarks/check_speed.py --skip-2h
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out" / "check"

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from resonator.check import check_file, parse_target_arg
path, recipe, targets = sys.argv[1], sys.argv[2] or None, json.loads(sys.argv[3])
rep = check_file(path, recipe, targets=[parse_target_arg(t) for t in targets],
                 use_sidecar=recipe is not None)
dt = time.perf_counter() - t0
print(json.dumps({"seconds": dt, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                  / 1024, "passed": rep.passed, "results": len(rep.results),
                  "failed": [(r.target.kind, r.measured) for r in rep.results if not r.passed]}))
"""


def run_child(path, recipe, targets):
    cmd = [sys.executable, "-c", CHILD, str(path), str(recipe or ""), json.dumps(targets)]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if res.returncode:
        sys.exit(res.stderr)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-2h", action="store_true", help="skip the 2-hour memory run")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    hour = OUT / "sleep-descent-60m.wav"
    recipe = ROOT / "recipes" / "sleep-descent.toml"
    if not hour.exists():
        from resonator.recipe import render_recipe

        t0 = time.perf_counter()
        render_recipe(recipe, hour, duration="60m", force=True)
        print(f"rendered {hour} in {time.perf_counter() - t0:.0f} s (cached)")
    r = run_child(hour, recipe, [])
    print(f"60 min, recipe targets: {r['seconds']:.1f} s, peak RSS {r['rss_mb']:.0f} MB, "
          f"{r['results']} targets, passed {r['passed']} {r['failed'] or ''}")
    if args.skip_2h:
        return
    two = OUT / "two-hours.wav"
    if not two.exists():
        import soundfile as sf

        with sf.SoundFile(hour) as src, sf.SoundFile(two, "w", src.samplerate, src.channels,
                                                     "PCM_16", format="RF64") as dst:
            for _ in range(2):
                src.seek(0)
                for block in src.blocks(1 << 18, dtype="int16"):
                    dst.write(block)
    targets = ["clicks:0-end:0:0", "loudness:0-end:-20:30", "true_peak:0-end:-1:0.1",
               "loudness_range:0-end:5:100", "loudness_trend:61m-99m:falling:0.3",
               "centroid_trend:61m-99m:falling:0.5", "binaural_beat:70m-70m30s:9.5:5",
               "am_rate:100m-101m:0.1:100", "breath_rate:63m-66m:6:3",
               "lr_correlation:110m-111m:0:1", "band_energy@100-300:30m-31m:-40:40",
               "noise_slope:115m-116m:-20:20"]
    r = run_child(two, None, targets)
    print(f"120 min, {len(targets)} --target strings: {r['seconds']:.1f} s, "
          f"peak RSS {r['rss_mb']:.0f} MB")
    print(f"python {platform.python_version()}, {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
