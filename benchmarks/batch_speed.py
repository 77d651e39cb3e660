"""Batch throughput: `resonator analyze FOLDER` with 1 and 2 workers, Dask's per-task overhead,
and `resonator sweep` throughput. Every figure is a whole `resonator` process, timed from
outside; the configurations alternate within each round so a change in the machine's load
hits them alike.

1. A folder of N synthetic tracks (default 40 x 60 s, 44.1 kHz stereo FLAC: bass, off-beat
   hats, a chord pad, a little noise; tempi 70-160 BPM, seeded).
2. Per round, in alternation: `resonator analyze DIR --jobs 1` (in this process) and
   `--jobs 2` (a Dask LocalCluster of 2 worker processes, start-up included), each with a
   fresh results log; and `--cluster ADDRESS` on an already running 1-worker LocalCluster.
3. Per-task overhead: 500 empty tasks through the same executor path on that 1-worker
   cluster.
4. Sweep: `resonator sweep recipes/resonance-breathing.toml` (20 min, 48 kHz), 2 x 2
   variants, full renders (measure + render) and full checks, `--jobs 1` and `--jobs 2`.

Usage: python benchmarks/batch_speed.py [--files 40] [--seconds 60] [--rounds 2] [--no-sweep]
Prints a Markdown table and the machine's load (uptime) before and after.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESONATOR = str(Path(sys.executable).with_name("resonator"))
SR = 44100


def make_track(path: Path, bpm: float, seconds: float, seed: int) -> None:
    import numpy as np
    import soundfile as sf

    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    x = np.zeros((2, n))
    period = 60.0 / bpm
    kick_t = np.arange(int(0.2 * SR)) / SR
    kick = np.sin(2 * np.pi * 55 * kick_t * (1 + 2 * np.exp(-kick_t / 0.02))) * np.exp(-kick_t / 0.08)
    hat = rng.standard_normal(int(0.04 * SR)) * np.exp(-np.arange(int(0.04 * SR)) / (0.008 * SR))
    for k, b in enumerate(np.arange(0.3, seconds - 0.3, period)):
        i = int(b * SR)
        x[:, i:i + kick.size] += 0.8 * kick[: n - i]
        j = int((b + period / 2) * SR)
        if j < n:
            x[0, j:j + hat.size] += 0.25 * hat[: n - j]
            x[1, j:j + hat.size] += 0.2 * hat[: n - j]
    root = 110 * 2 ** (rng.integers(0, 12) / 12)
    pad = sum(np.sin(2 * np.pi * root * r * t) for r in (1, 1.25, 1.5)) / 3
    x += 0.15 * pad * (0.6 + 0.4 * np.sin(2 * np.pi * t / (8 * period)))
    x += 0.01 * rng.standard_normal((2, n))
    sf.write(path, (0.5 * x / np.max(np.abs(x))).T, SR, subtype="PCM_16")


def timed(cmd: list[str], cwd: Path) -> float:
    """Wall seconds of one whole process."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    wall = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    return wall


def _peak_rss_mb() -> float:
    """Run on a worker: its peak RSS so far."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def task_overhead(address: str, n: int = 500) -> float:
    from resonator.batch.executor import Executor

    with Executor(cluster=address) as ex:
        list(ex.map_unordered(abs, ((i, (-i,)) for i in range(20))))  # warm
        t0 = time.perf_counter()
        got = sum(1 for _ in ex.map_unordered(abs, ((i, (-i,)) for i in range(n))))
        assert got == n
        return (time.perf_counter() - t0) / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--no-sweep", action="store_true")
    a = ap.parse_args()
    from distributed import LocalCluster

    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(f"load before: {uptime()}")
    work = Path(tempfile.mkdtemp(prefix="resonator-batch-bench-"))
    try:
        lib = work / "library"
        for i in range(a.files):
            d = lib / f"album{i // 10:02d}"
            d.mkdir(parents=True, exist_ok=True)
            make_track(d / f"track{i:03d}.flac", 70 + (90 * i / max(1, a.files - 1)),
                       a.seconds, seed=i)
        # numba's caches filled once, outside the timing
        subprocess.run([RESONATOR, "analyze", str(next(lib.rglob("*.flac")))], cwd=work,
                       stdout=subprocess.DEVNULL, check=True)
        results: dict[str, list] = {}
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address="127.0.0.1:0") as one:
            configs = {"--jobs 1 (in the command's process)": ["--jobs", "1"],
                       "--jobs 2 (LocalCluster, start-up included)": ["--jobs", "2"],
                       "--cluster (running 1-worker LocalCluster)": ["--cluster",
                                                                     one.scheduler_address]}
            for r in range(a.rounds):
                for name, extra in configs.items():
                    log = work / f"run-{r}-{list(configs).index(name)}.jsonl"  # a fresh log
                    wall = timed([RESONATOR, "analyze", str(lib), "--jsonl", str(log), "-q"]
                                      + extra, work)
                    results.setdefault(name, []).append(wall)
                    print(f"  round {r + 1}: {name}: {wall:.1f} s "
                          f"({60 * a.files / wall:.1f} files/min)", flush=True)
            overhead = task_overhead(one.scheduler_address)
            from distributed import Client

            with Client(one.scheduler_address) as c:
                worker_rss = max(c.run(_peak_rss_mb).values())
        print(f"\nload after analysis: {uptime()}\n")
        audio_min = a.files * a.seconds / 60
        print(f"{a.files} files x {a.seconds:g} s ({audio_min:.0f} min of audio), "
              f"median of {a.rounds} rounds\n")
        print("| configuration | wall s (each round) | files/min | s per file |")
        print("|---|---|---|---|")
        for name, walls in results.items():
            m = statistics.median(walls)
            print(f"| {name} | {m:.1f} ({', '.join(f'{w:.1f}' for w in walls)}) | "
                  f"{60 * a.files / m:.1f} | {m / a.files:.2f} |")
        print(f"\nper-task overhead (500 empty tasks, 1-worker LocalCluster): "
              f"{1000 * overhead:.2f} ms per task")
        print(f"peak RSS of the 1-worker cluster's worker after its {a.rounds} x {a.files} "
              f"files: {worker_rss:.0f} MB")
        if not a.no_sweep:
            recipe = ROOT / "recipes" / "resonance-breathing.toml"
            print("\n| sweep (2 x 2 variants of resonance-breathing, 20 min each, full render + "
                  "check) | wall s | variants/min |")
            print("|---|---|---|")
            for jobs in ("1", "2"):
                out = work / f"sweep-{jobs}"
                wall = timed([RESONATOR, "sweep", str(recipe), "-o", str(out), "-q",
                                 "--vary", "layer.breath.root=98Hz,110Hz",
                                 "--vary", "layer.bed.gain=-34dB,-30dB", "--jobs", jobs], work)
                print(f"| --jobs {jobs} | {wall:.1f} | {4 * 60 / wall:.2f} |", flush=True)
            print(f"\nload after sweeps: {uptime()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
