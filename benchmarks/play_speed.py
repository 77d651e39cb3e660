"""Play and window-render speed, and the first-play loudness estimate, for every shipped recipe.

    python benchmarks/play_speed.py --estimate        # estimate vs full measurement (dB)
    python benchmarks/play_speed.py --first-audio     # command -> first audio, cold and cached
    python benchmarks/play_speed.py --first-audio --cold-only --only mettannealing-music
    python benchmarks/play_speed.py --windows         # 30 s window renders, cold and cached
    python benchmarks/play_speed.py --cold-windows    # cold 30 s window vs cold full render

Whole processes throughout (``resonator play`` against the ALSA null device: a temporary
HOME with ``pcm.!default { type null }``; ``resonator render``), alternating cold and cached
runs. "Cold" means an empty mastering cache (``RESONATOR_CACHE_DIR`` pointing at a new empty
folder): play estimates the loudness from sparse windows, render measures the whole session.
"Cached" means the stage of that recipe is in the cache. Prints a Markdown table; record it
in benchmarks/README.md with the machine, the date and ``uptime``.
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESONATOR = str(Path(sys.executable).with_name("resonator"))


def recipes(only=None):
    found = sorted((ROOT / "recipes").glob("*.toml"))
    if not found:  # recipes may live in the package
        found = sorted((ROOT / "src" / "resonator" / "recipes").glob("*.toml"))
    return [p for p in found if not only or p.stem in only]


def user_env(**extra) -> dict:
    """The environment a user's shell has: Python may write its bytecode caches (a
    PYTHONDONTWRITEBYTECODE left set would compile every module on every run, about 0.3 s)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def null_home() -> str:
    home = tempfile.mkdtemp(prefix="resonator-null-")
    Path(home, ".asoundrc").write_text("pcm.!default { type null }\nctl.!default { type hw card 0 }\n")
    return home


def estimate_accuracy(paths, args):
    from resonator.loading import load
    from resonator.mastering import cached_stage, estimate, master, stage_key, store_stage
    from resonator.recipe.render import balanced_split
    from resonator.recipe.session import build_session

    print("| recipe | minutes | measured LUFS | estimated LUFS | difference dB | estimate s |")
    print("|---|---|---|---|---|---|")
    worst = 0.0
    for p in paths:
        r = load(p)
        s = build_session(r)
        key = stage_key(s)
        full = cached_stage(s, key)
        if full is None:
            full = master(s.node, s.duration_s, sr=s.sr, seed=s.seed,
                          target_lufs=r.loudness_lufs, ceiling_dbtp=r.true_peak_dbtp,
                          twin=build_session(r).node, split_share=balanced_split(s))
            store_stage(s, full, key)
        t = time.perf_counter()
        est = estimate(build_session(r), windows=args.windows, window_s=args.window_s,
                       settle_s=args.settle_s)
        dt = time.perf_counter() - t
        d = est.measured_lufs - full.measured_lufs
        worst = max(worst, abs(d))
        print(f"| {p.stem} | {s.duration_s / 60:.0f} | {full.measured_lufs:.2f} | "
              f"{est.measured_lufs:.2f} | {d:+.2f} | {dt:.2f} |", flush=True)
    print(f"\nworst |difference|: {worst:.2f} dB (windows={args.windows}, "
          f"window_s={args.window_s}, settle_s={args.settle_s})")
    return 0 if worst <= 0.5 else 1


def _first_audio(recipe, start, cache, home) -> tuple[float, float]:
    """(wall seconds from the command to first audio, CPU seconds the process had used by
    then: on an idle machine the wall time comes close to it)."""
    env = user_env(HOME=home, RESONATOR_CACHE_DIR=cache, RESONATOR_PLAY_FIRST_AUDIO="1")
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.time()
        p = subprocess.Popen([RESONATOR, "play", str(recipe), "--start", start], env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        p.wait()
        err.seek(0)
        text = err.read()
    for line in text.splitlines():
        if line.startswith("first-audio "):
            return float(line.split()[1]) - t0, float(line.split()[2])
    raise RuntimeError(f"{recipe.name} --start {start}: no first audio: {text[-500:]}")


def first_audio(paths, args):
    from resonator.loading import load

    home = null_home()
    warm = tempfile.mkdtemp(prefix="resonator-cache-")
    # --cold-only: no cached runs, so no render to fill the cache (a whole-session measurement)
    print("| recipe | start | cold: wall s (CPU s) | cached: wall s (CPU s) |")
    print("|---|---|---|---|")
    worst = [0.0, 0.0, 0.0, 0.0]
    for p in paths:
        dur = load(p).duration_s
        starts = ["0", f"{dur / 2:.0f}", f"{max(dur - 30, 0):.0f}"]
        # fill the cache once (a full render measures and stores the stage; a window of a
        # session with stand-ins, stretched music, stores only their loudness)
        if not args.cold_only:
            subprocess.run([RESONATOR, "render", str(p), "-o", os.path.join(warm, "x.wav"),
                            "--force", "-q"],
                           env=user_env(RESONATOR_CACHE_DIR=warm), check=True)
        for start in starts:
            cold, cached = [], []
            for _ in range(args.repeat):  # alternating
                cold.append(_first_audio(p, start, tempfile.mkdtemp(prefix="rc-"), home))
                if not args.cold_only:
                    cached.append(_first_audio(p, start, warm, home))
            c = [statistics.median(x) for x in zip(*cold)]
            w = [statistics.median(x) for x in zip(*cached)] if cached else [math.nan] * 2
            worst = [max(a, b) for a, b in zip(worst, c + w)]
            print(f"| {p.stem} | {start} s | {c[0]:.2f} ({c[1]:.2f}) | {w[0]:.2f} ({w[1]:.2f}) |",
                  flush=True)
    tail = "" if args.cold_only else f"; cached {worst[2]:.2f} s wall, {worst[3]:.2f} s CPU"
    print(f"\nslowest: cold {worst[0]:.2f} s wall, {worst[1]:.2f} s CPU{tail} (medians of "
          f"{args.repeat}; load at the end "
          f"{os.getloadavg()[0]:.2f})")
    return 0


def _render_window(recipe, start, cache, out) -> float:
    env = user_env(RESONATOR_CACHE_DIR=cache)
    t0 = time.perf_counter()
    subprocess.run([RESONATOR, "render", str(recipe), "--start", start, "--duration", "30s",
                    "-o", out, "--force", "-q"], env=env, check=True)
    return time.perf_counter() - t0


def windows(paths, args):
    from resonator.loading import load

    tmp = tempfile.mkdtemp(prefix="resonator-win-")
    out = os.path.join(tmp, "w.wav")
    print("| recipe | full render s (cold) | window starts | cold window s | cached window s "
          "(median, max) |")
    print("|---|---|---|---|---|")
    for p in paths:
        dur = load(p).duration_s
        warm = tempfile.mkdtemp(prefix="rc-")
        t0 = time.perf_counter()
        subprocess.run([RESONATOR, "render", str(p), "-o", out, "--force", "-q"],
                       env=user_env(RESONATOR_CACHE_DIR=warm), check=True)
        full = time.perf_counter() - t0
        starts = [0.0, dur * 0.25, dur * 0.5, dur * 0.75, dur - 60, dur - 30]
        starts = [f"{max(0.0, s):.0f}" for s in starts]
        cold = _render_window(p, starts[2], tempfile.mkdtemp(prefix="rc-"), out)
        cached = [_render_window(p, s, warm, out) for s in starts]
        print(f"| {p.stem} | {full:.1f} | {', '.join(starts)} | {cold:.1f} | "
              f"{statistics.median(cached):.2f}, {max(cached):.2f} |", flush=True)
    return 0


def _timed(cmd, env) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system of the process and its children) of a
    whole process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    _, status, use = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode:
        raise subprocess.CalledProcessError(p.returncode, cmd)
    return wall, use.ru_utime + use.ru_stime


def cold_windows(paths, args):
    """Cold 30 s windows against the cold full render of each recipe: both with an empty
    mastering cache (each measures the whole session), as whole processes, alternating
    (full, window, full, window, ...); the windows start at a quarter, half and the last
    30 s of the session in turn. Medians of ``--repeat`` runs of each, and the largest
    ratio of a window to the full render run just before it (a pair)."""
    from resonator.loading import load

    out = os.path.join(tempfile.mkdtemp(prefix="resonator-cw-"), "x.wav")
    print("| recipe | minutes | full: wall s (CPU s) | window: wall s (CPU s) | window / full: "
          "wall (CPU) | worst pair: wall (CPU) |")
    print("|---|---|---|---|---|---|")
    worst = 0.0
    for p in paths:
        dur = load(p).duration_s
        starts = [f"{s:.0f}" for s in (dur * 0.25, dur * 0.5, max(0.0, dur - 30))]
        full, win = [], []
        for i in range(args.repeat):
            base = [RESONATOR, "render", str(p), "-o", out, "--force", "-q"]
            full.append(_timed(base, user_env(RESONATOR_CACHE_DIR=tempfile.mkdtemp(prefix="rc-"))))
            win.append(_timed(base + ["--start", starts[i % len(starts)], "--duration", "30s"],
                              user_env(RESONATOR_CACHE_DIR=tempfile.mkdtemp(prefix="rc-"))))
        f = [statistics.median(x) for x in zip(*full)]
        w = [statistics.median(x) for x in zip(*win)]
        # each window against the full render just before it (the same load, near enough)
        pair = [max(b[k] / a[k] for a, b in zip(full, win)) for k in (0, 1)]
        worst = max(worst, pair[0])
        print(f"| {p.stem} | {dur / 60:.0f} | {f[0]:.2f} ({f[1]:.2f}) | {w[0]:.2f} ({w[1]:.2f}) | "
              f"{w[0] / f[0]:.3f} ({w[1] / f[1]:.3f}) | {pair[0]:.3f} ({pair[1]:.3f}) |",
              flush=True)
    print(f"\nworst window / full in any pair (wall): {worst:.3f} ({args.repeat} pairs a recipe; "
          f"load at the end {os.getloadavg()[0]:.2f})")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--estimate", action="store_true")
    ap.add_argument("--first-audio", action="store_true")
    ap.add_argument("--windows", action="store_true", dest="window_renders")
    ap.add_argument("--cold-windows", action="store_true",
                    help="cold 30 s windows against cold full renders (alternating)")
    ap.add_argument("--only", nargs="*", help="recipe stems")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cold-only", action="store_true",
                    help="--first-audio: cold runs only (no render to fill the cache)")
    ap.add_argument("--windows-count", type=int, default=48, dest="windows")
    ap.add_argument("--window-s", type=float, default=0.4)
    ap.add_argument("--settle-s", type=float, default=0.1)
    args = ap.parse_args()
    paths = recipes(args.only)
    print(f"{platform.node()} {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}, "
          f"load {os.getloadavg()[0]:.2f}\n")
    rc = 0
    # every temporary folder (caches, renders, the null-device HOME) inside one, removed at
    # the end
    with tempfile.TemporaryDirectory(prefix="play-speed-") as root:
        tempfile.tempdir = root
        try:
            if args.estimate:
                rc |= estimate_accuracy(paths, args)
            if args.first_audio:
                rc |= first_audio(paths, args)
            if args.window_renders:
                rc |= windows(paths, args)
            if args.cold_windows:
                rc |= cold_windows(paths, args)
        finally:
            tempfile.tempdir = None
    return rc


if __name__ == "__main__":
    sys.exit(main())
