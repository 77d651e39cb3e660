"""resonator against SBaGen+ as a user runs them: whole processes, alternating, side by side.

    python benchmarks/vs_sbagen.py            # 10 and 60 min x 5 runs, RSS at 120 min, mettannealing x 3
    python benchmarks/vs_sbagen.py --short    # 10 and 60 min x 3 runs, mettannealing x 1 (about a minute)

SBaGen's bench session ``pink/40 200+10/20`` (pink noise at 40 %, a 200 Hz carrier with a
10 Hz binaural beat at 20 %) rendered to a 44.1 kHz 16-bit WAV by

* ``sbagen+ -Q -r 44100 -b 16 -Wo out.wav bench.sbg``: SBaGen+ 1.5.5 compiled here with
  ``gcc -O3`` from ``../shared/anchors/sbagen-plus/`` into a temporary folder (removed at the
  end; needs gcc and Debian's libasound2-dev), and
* ``resonator render bench.sbg -o out.wav --force -q`` (the console script beside this
  Python), loudness normalisation on (the default: -20 LUFS, -1 dBTP), in two states:
  **cold**, an empty mastering cache for every run (a first render of a new session: the
  whole session is measured first), and **cached**, the session's measured stage in the cache
  (any later render of the same session: no measuring pass).

The programs alternate run by run; each run is a fresh process timed from spawn to exit
(wall), with its CPU seconds and peak RSS from ``wait4``. Both write into the same temporary
folder. Prints every run, then best and median per program, the ratios SBaGen+ time /
resonator time (above 1: resonator is faster), peak RSS by duration, the whole-process
real-time factor of ``resonator render mettannealing`` (40 minutes, six layers, cold), and
``uptime`` before and after: record them in benchmarks/README.md with the machine and date.
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

ROOT = Path(__file__).resolve().parent.parent
ANCHOR = ROOT.parent / "shared" / "anchors" / "sbagen-plus" / "sbagen+.c"
RESONATOR = Path(sys.executable).with_name("resonator")


def build_sbagen(source: Path, folder: Path) -> Path:
    """SBaGen+ compiled from ``source`` with gcc -O3 into ``folder``."""
    if shutil.which("gcc") is None:
        sys.exit("vs_sbagen: gcc is needed to build SBaGen+ (apt-get install gcc libasound2-dev)")
    src, exe = folder / "sbagen+.c", folder / "sbagen+"
    src.write_text(source.read_text(errors="replace").replace("__VERSION__", '"1.5.5"'))
    r = subprocess.run(["gcc", "-DT_LINUX", "-O3", str(src), "-o", str(exe), "-lm", "-lpthread",
                        "-lasound"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("vs_sbagen: SBaGen+ did not build (it needs Debian's libasound2-dev):\n"
                 + r.stderr[-2000:])
    return exe


def session(folder: Path, minutes: int) -> Path:
    path = folder / f"bench-{minutes}m.sbg"
    h, m = divmod(minutes, 60)
    path.write_text(f"-SE\nbench: pink/40 200+10/20\n00:00:00 bench\n{h:02d}:{m:02d}:00 bench\n")
    return path


def user_env(**extra) -> dict:
    """The environment a user's shell has: Python may write its bytecode caches (a
    PYTHONDONTWRITEBYTECODE left set would compile every module on every run, about 0.3 s)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def run(cmd, env=None) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of one process, which must succeed."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, env=env or user_env(), stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    err = p.stderr.read()  # until the process closes it (it exits)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stderr.close()
    if p.returncode != 0:
        sys.exit(f"vs_sbagen: {' '.join(map(str, cmd))} failed ({p.returncode}):\n"
                 f"{err.decode(errors='replace')[-2000:]}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--short", action="store_true",
                    help="3 runs, no 120-minute memory run, mettannealing once")
    ap.add_argument("--minutes", type=int, nargs="+", default=[10, 60])
    ap.add_argument("--runs", type=int, help="runs per program and duration (default 5, short 3)")
    ap.add_argument("--rss-minutes", type=int, default=120,
                    help="one more cold run of each at this length for the memory figure "
                         "(0: none; default 120, none with --short)")
    ap.add_argument("--sbagen-source", type=Path, default=ANCHOR)
    args = ap.parse_args(argv)
    runs = args.runs or (3 if args.short else 5)
    rss_minutes = 0 if args.short else args.rss_minutes
    if not args.sbagen_source.exists():
        sys.exit(f"vs_sbagen: {args.sbagen_source} not found (SBaGen+ 1.5.5's sbagen+.c)")
    if not RESONATOR.exists():
        sys.exit(f"vs_sbagen: {RESONATOR} not found: run with the project's venv python "
                 "(make install; .venv/bin/python benchmarks/vs_sbagen.py)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"before: {uptime()}")
    with tempfile.TemporaryDirectory(prefix="vs-sbagen-") as tmp:
        tmp = Path(tmp)
        sbagen = build_sbagen(args.sbagen_source, tmp)
        out_wav = tmp / "out.wav"

        def render(name, sbg, cache):
            out_wav.unlink(missing_ok=True)
            if name == "sbagen+":
                return run([str(sbagen), "-Q", "-r", "44100", "-b", "16", "-Wo", str(out_wav),
                            str(sbg)])
            return run([str(RESONATOR), "render", str(sbg), "-o", str(out_wav), "--force", "-q"],
                       user_env(RESONATOR_CACHE_DIR=str(cache)))

        rows, rss = [], {}
        for minutes in args.minutes:
            sbg = session(tmp, minutes)
            warm = tmp / f"warm-{minutes}"
            # fills the stage cache for the cached runs (and Python's bytecode caches)
            render("resonator", sbg, warm)
            cases = {"sbagen+": [], "resonator cold": [], "resonator cached": []}
            for i in range(runs):
                for name in cases:
                    cache = warm if name == "resonator cached" else tmp / f"cold-{minutes}-{i}"
                    wall, cpu, mb = render(name, sbg, cache)
                    shutil.rmtree(tmp / f"cold-{minutes}-{i}", ignore_errors=True)
                    cases[name].append((wall, cpu, mb))
                    print(f"  {minutes:4d} min  run {i + 1}  {name:17s} {wall:6.2f} s wall "
                          f"{cpu:6.2f} s CPU {mb:6.1f} MB", flush=True)
            rows.append((minutes, cases))
            for name, v in cases.items():
                rss.setdefault(name, {})[minutes] = max(x[2] for x in v)
        if rss_minutes:
            sbg = session(tmp, rss_minutes)
            for name in ("sbagen+", "resonator cold"):
                wall, cpu, mb = render(name, sbg, tmp / "cold-rss")
                rss[name][rss_minutes] = mb
                print(f"  {rss_minutes:4d} min  run 1  {name:17s} {wall:6.2f} s wall "
                      f"{cpu:6.2f} s CPU {mb:6.1f} MB", flush=True)
        met = []
        for i in range(1 if args.short else 3):
            cache = tmp / f"met-{i}"
            out_wav.unlink(missing_ok=True)
            met.append(run([str(RESONATOR), "render", "mettannealing", "-o", str(out_wav),
                            "--force", "-q"], user_env(RESONATOR_CACHE_DIR=str(cache))))
            print(f"  mettannealing (40 min) run {i + 1}: {met[-1][0]:6.2f} s wall "
                  f"{met[-1][1]:6.2f} s CPU {met[-1][2]:6.1f} MB", flush=True)
    print(f"after: {uptime()}\n")

    def fmt(v):
        walls = [x[0] for x in v]
        return (min(walls), statistics.median(walls),
                statistics.median(x[1] for x in v), max(x[2] for x in v))
    print("| minutes | SBaGen+ s best / median (CPU s, MB) | resonator cold s best / median "
          "(CPU s, MB) | ratio cold: best / median (CPU) | resonator cached s best / median "
          "(CPU s, MB) | ratio cached: best / median (CPU) |")
    print("|---|---|---|---|---|---|")
    for minutes, cases in rows:
        s, c, w = (fmt(cases[k]) for k in ("sbagen+", "resonator cold", "resonator cached"))
        print(f"| {minutes} | {s[0]:.2f} / {s[1]:.2f} ({s[2]:.2f}, {s[3]:.0f}) "
              f"| {c[0]:.2f} / {c[1]:.2f} ({c[2]:.2f}, {c[3]:.0f}) "
              f"| **{s[0] / c[0]:.2f}** / {s[1] / c[1]:.2f} ({s[2] / c[2]:.2f}) "
              f"| {w[0]:.2f} / {w[1]:.2f} ({w[2]:.2f}, {w[3]:.0f}) "
              f"| **{s[0] / w[0]:.2f}** / {s[1] / w[1]:.2f} ({s[2] / w[2]:.2f}) |")
    print("\npeak RSS MB by session length: " + "; ".join(
        f"{name} " + ", ".join(f"{m} min {mb:.0f}" for m, mb in sorted(v.items()))
        for name, v in rss.items()))
    walls = [x[0] for x in met]
    print(f"resonator render mettannealing (2400 s, cold): best {min(walls):.2f} s = "
          f"{2400 / min(walls):.0f}x real time, median {statistics.median(walls):.2f} s = "
          f"{2400 / statistics.median(walls):.0f}x ({statistics.median(x[1] for x in met):.2f} s "
          f"CPU, {max(x[2] for x in met):.0f} MB)")
    print(f"\n{runs} alternating runs per row; resonator normalises to -20 LUFS / -1 dBTP; "
          "ratio = SBaGen+ wall / resonator wall (in brackets: median CPU seconds, SBaGen+ / "
          "resonator; resonator's may use both cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
