"""Render speed and memory of the graph engine (issue: foundation benchmark).

Prints the real-time factor (audio seconds per wall second, median of 3 runs) and the peak RSS
of a fresh process per case:

(a) 10 minutes, 44.1 kHz, 16-bit stereo WAV: one binaural tone (200 Hz carrier, 10 Hz beat:
    left 205 / right 195 Hz) at amplitude 0.2 plus pink noise at 0.4 -- SBaGen's
    ``pink/40 200+10/20``. Two variants: mono pink as SBaGen writes it, and resonator's
    default independent (decorrelated) pink per ear.
(b) 60 minutes (and 120), 48 kHz, 24-bit: six layers -- binaural with a glide, an
    isochronic-style gated tone, 40 Hz modulated noise, stereo pink through a curve-swept
    low-pass, a three-partial drone through reverb, a slow gain curve.

Usage: python benchmarks/render_speed.py [a|a-stereo|b|b120 ...]   (default: all)
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

CASES = {
    "a": "10 min 44.1 kHz 16-bit: 200+10 binaural 0.2 + mono pink 0.4 (SBaGen's session)",
    "a-stereo": "10 min 44.1 kHz 16-bit: 200+10 binaural 0.2 + decorrelated stereo pink 0.4",
    "b": "60 min 48 kHz 24-bit: six layers (glide, gated tone, 40 Hz noise, swept LP pink, drone+reverb, gain curve)",
    "b120": "120 min 48 kHz 24-bit: the same six layers",
}


def build(case: str):
    import numpy as np

    from resonator import graph as g

    if case.startswith("a"):
        noise = g.PinkNoise(channels=2 if case == "a-stereo" else 1, amplitude=0.4, name="pink")
        node = g.Channels([g.Sine(205.0), g.Sine(195.0)]) * 0.2 + noise
        return node, 600.0, 44100, "16"
    minutes = 120 if case == "b120" else 60
    dur = minutes * 60.0
    from resonator.graph.effects import Effect
    from resonator.graph.filters import LowPass

    beat = g.Curve([(0, 10.0), (dur, 4.0, "exp")])
    binaural = g.Channels([g.Sine(200 + 0.5 * beat), g.Sine(200 - 0.5 * beat)]) * 0.15
    gate = g.Map(g.Sine(6.0), lambda x: 0.5 - 0.5 * np.cos(np.pi * np.clip(2 * x, -1, 1)), label="gate")
    iso = g.Pan(g.Sine(300.0) * gate * 0.1, 0.0)
    gamma = g.Noise("pink", channels=2, amplitude=0.15, name="gamma") * (0.5 + 0.5 * g.Sine(40.0))
    cutoff = g.Curve([(0, 4000.0), (dur, 400.0, "exp")])
    bed = LowPass(g.Noise("pink", channels=2, amplitude=0.3, name="bed"), cutoff)
    drone = g.Sum([g.Sine(110.0), g.Sine(165.0, amplitude=0.5), g.Sine(220.0, amplitude=0.3)]) * 0.1
    drone = Effect(g.Pan(drone, 0.0), "Reverb", params={"room_size": 0.8, "wet_level": 0.3})
    mix = g.Sum([binaural, iso, gamma, bed, drone])
    node = mix.gain_db(g.Curve([(0, -6.0), (dur, -12.0)]))
    return node, dur, 48000, "24"


def run_one(case: str, out_dir: str) -> dict:
    """Render one case in this process; return seconds and peak RSS."""
    from resonator.render import render_file

    node, dur, sr, bits = build(case)
    # warm numba's caches (compiled code loads on first call) outside the timing
    render_file(node, Path(out_dir) / "warm.wav", 1.0, sr=sr, bits=bits, force=True, sidecar=False)
    t0, c0 = time.perf_counter(), time.process_time()
    render_file(node, Path(out_dir) / f"{case}.wav", dur, sr=sr, bits=bits, force=True, sidecar=False)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"case": case, "audio_s": dur, "wall_s": seconds, "rtf": dur / seconds,
            "cpu_rtf": dur / cpu, "peak_rss_mb": rss_mb}


def main(argv: list[str]) -> None:
    if len(argv) >= 2 and argv[0] == "--child":
        print(json.dumps(run_one(argv[1], argv[2])))
        return
    cases = argv or list(CASES)
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}")
    for case in cases:
        runs = []
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(3):
                res = subprocess.run([sys.executable, __file__, "--child", case, tmp],
                                     capture_output=True, text=True, check=True)
                runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
        rtf = statistics.median(r["rtf"] for r in runs)
        rss = max(r["peak_rss_mb"] for r in runs)
        cpu = statistics.median(r["cpu_rtf"] for r in runs)
        print(f"({case}) {CASES[case]}\n      real-time factor {rtf:7.1f}x (median of 3: "
              + ", ".join(f"{r['rtf']:.0f}" for r in runs) + f"; {cpu:.0f}x of CPU time), "
              f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
