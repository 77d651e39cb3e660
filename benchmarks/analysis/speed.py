"""Time ``analyze_file`` on a 5-minute 44.1 kHz stereo track.

The track is the rendered corpus pieces of batches 1-3 (``build_dataset.py``; the fresh batches 4
and 5 are left out) joined and resampled to 44.1 kHz stereo, 16-bit WAV, cached in
``benchmarks/out/analysis/speed_5min.wav``. Each timing runs in a fresh process: the import
of the analysis modules, then ``analyze_file`` (loudness included), median of 3 runs, and the
process's peak RSS. (The beat tracker's kernel is compiled C since 2026-12: no numba cache.)

``--hour`` also writes a 60-minute file and reports its time and peak RSS (memory bound check),
and the growth of the peak RSS per minute of audio between the two files.

Usage::

    .venv/bin/python benchmarks/analysis/speed.py [--hour]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "out" / "analysis"

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from resonator.analysis import analyze_file, report
t1 = time.perf_counter()
r = analyze_file(sys.argv[1])
t2 = time.perf_counter()
print(json.dumps({"analyze_s": t2 - t1, "import_s": t1 - t0,
                  "bpm": r["tempo"]["bpm"], "beats": len(r["beats"]),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_track(minutes: float, path: Path) -> Path:
    import numpy as np
    import soundfile as sf
    import soxr

    if path.exists():
        return path
    pieces = sorted(OUT.glob("*.wav"))
    pieces = [p for p in pieces if not p.name.startswith("speed_")]
    # never the fresh test batches 4 and 5: no analysis may touch their audio before their final scoring
    fresh = {m["id"] for m in json.loads((OUT / "manifest.json").read_text()) if m.get("batch", 1) >= 4}
    pieces = [p for p in pieces if p.stem not in fresh]
    need = int(minutes * 60 * 44100)
    with sf.SoundFile(path, "w", 44100, 2, subtype="PCM_16", format="RF64" if minutes > 30 else "WAV") as out:
        done, i = 0, 0
        while done < need:
            x, sr = sf.read(pieces[i % len(pieces)], dtype="float32", always_2d=True)
            y = soxr.resample(x, sr, 44100)[: need - done]
            out.write(y)
            done += y.shape[0]
            i += 1
    return path


def child(path: Path, env=None) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True,
                         env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hour", action="store_true", help="also time a 60-minute file")
    args = ap.parse_args(argv)
    track = make_track(5.0, OUT / "speed_5min.wav")
    runs = [child(track) for _ in range(3)]
    print(f"import of the analysis modules: {min(r['import_s'] for r in runs):.2f} s")
    times = sorted(r["analyze_s"] for r in runs)
    rss5 = max(r["peak_rss_mb"] for r in runs)
    print(f"5-minute 44.1 kHz stereo WAV: analyze_file median {times[1]:.2f} s "
          f"(runs {', '.join(f'{t:.2f}' for t in times)}), "
          f"peak RSS {rss5:.0f} MB, {runs[0]['beats']} beats")
    if args.hour:
        hour = make_track(60.0, OUT / "speed_60min.wav")
        r = child(hour)
        print(f"60-minute 44.1 kHz stereo RF64: analyze_file {r['analyze_s']:.1f} s, "
              f"peak RSS {r['peak_rss_mb']:.0f} MB "
              f"({(r['peak_rss_mb'] - rss5) / 55.0:+.2f} MB per minute of audio over the 5-minute file)")


if __name__ == "__main__":
    main()
