"""Music layer: what the time stretch costs per minute of music, and memory against length.

    python benchmarks/music.py            # speed (3 runs each, alternating) and memory
    python benchmarks/music.py --quick    # one run each, memory at 5 and 20 minutes

Speed: one minute of a 44.1 kHz groove played by a music layer at 48 kHz, rendered in a fresh
process, (a) at its own tempo (decode + resample only), (b) at tempo 0.85 (+ the segmented
Rubber Band stretch), (c) at tempo 0.85 with a 4 Hz binaural shift. The cases alternate, and
the stretch's cost per minute of music is (b) - (a). Memory: peak RSS of a fresh process
rendering a 5- and a 60-minute playlist (12 files, stretched, shifted) at 16 kHz.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from layer_helpers import build, make_ctx
from resonator.render import iter_blocks
args = json.loads(sys.argv[2])
ctx = make_ctx(args["sr"], args["seconds"], recipe_dir=args["dir"])
node = build("music", ctx, **args["params"])
t0 = time.perf_counter()
frames = sum(b.shape[1] for _, b in iter_blocks(node, args["seconds"], sr=args["sr"]))
wall = time.perf_counter() - t0
print(json.dumps({"wall_s": wall, "frames": frames,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def child(folder: Path, sr: int, seconds: float, params: dict) -> dict:
    tests = str(Path(__file__).resolve().parents[1] / "tests")
    out = subprocess.run([sys.executable, "-c", CHILD, tests,
                          json.dumps({"sr": sr, "seconds": seconds, "dir": str(folder),
                                      "params": params})],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    import numpy as np
    import soundfile as sf

    from resonator.music.synth import groove

    quick = "--quick" in sys.argv
    runs = 1 if quick else 3
    os.environ.setdefault("RESONATOR_CACHE_DIR", tempfile.mkdtemp(prefix="resonator-cache-"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        x = groove(124.0, 16, 44100, pattern="stride")  # 31 s, looped
        sf.write(str(folder / "g.flac"), x.T, 44100)
        print(f"{time.strftime('%Y-%m-%d %H:%M')}  load {os.getloadavg()}")
        cases = {"(a) own tempo": {"file": "g.flac", "crossfade_s": 2.0},
                 "(b) tempo 0.85": {"file": "g.flac", "crossfade_s": 2.0, "tempo": 0.85},
                 "(c) tempo 0.85 + shift 4 Hz": {"file": "g.flac", "crossfade_s": 2.0,
                                                 "tempo": 0.85, "binaural_shift": 4.0}}
        child(folder, 48000, 5.0, cases["(c) tempo 0.85 + shift 4 Hz"])  # warm caches
        walls: dict[str, list[float]] = {k: [] for k in cases}
        for _ in range(runs):
            for name, params in cases.items():
                walls[name].append(child(folder, 48000, 60.0, params)["wall_s"])
        med = {k: statistics.median(v) for k, v in walls.items()}
        for name, w in med.items():
            print(f"{name}: {w:.2f} s per minute ({60.0 / w:.1f}x real time) runs "
                  f"{[round(v, 2) for v in walls[name]]}")
        stretch = med["(b) tempo 0.85"] - med["(a) own tempo"]
        shift = med["(c) tempo 0.85 + shift 4 Hz"] - med["(b) tempo 0.85"]
        print(f"time stretch: {stretch:.2f} s per minute of music; binaural shift: "
              f"{shift:.2f} s per minute")
        # memory against length
        base = folder / "base.wav"
        t = np.arange(300 * 22050) / 22050
        sf.write(str(base), 0.3 * np.sin(2 * np.pi * 330 * t), 22050)
        for i in range(12):
            (folder / f"{i}.wav").symlink_to(base)
        for minutes in (5, 20 if quick else 60):
            names = [f"{i}.wav" for i in range(max(1, minutes // 5))]
            r = child(folder, 16000, minutes * 60.0,
                      {"files": names, "crossfade_s": 2.0, "tempo": 0.9,
                       "binaural_shift": 4.0})
            print(f"memory: {minutes} min playlist (stretched, shifted) at 16 kHz: peak RSS "
                  f"{r['rss_mb']:.0f} MB, {minutes * 60 / r['wall_s']:.0f}x real time")


if __name__ == "__main__":
    main()
