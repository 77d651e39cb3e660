"""Whole-process speed and memory of ``resonator check`` and ``resonator analyze`` (issue 17).

One command. Fixtures are made once and kept in ``benchmarks/out/check_analyze/``:

- ``sleep-descent`` rendered for 10, 30 and 60 minutes (window renders from the start:
  normalised, 16-bit, 48 kHz stereo, with their JSON sidecars);
- music tracks of 1, 5, 20 and 60 minutes: the bundled groove ``recipes/music/01-drive-132.ogg``
  (132 BPM) looped, 44.1 kHz stereo 16-bit WAV.

Every timing is a fresh process as a user runs it (``resonator check RENDER RECIPE -q``,
``resonator analyze TRACK -q``): wall time and CPU time (median of ``--runs``) and peak RSS
(``getrusage`` of the child, via ``os.wait4``). One warm-up run per command comes first, so
the modules' bytecode is cached ("after the first run"; ``PYTHONDONTWRITEBYTECODE`` is
dropped for the children).

``--against REF`` runs the same commands with the code of a git revision (``git archive``
of ``src/`` into a temporary folder, put first on ``PYTHONPATH``) in alternation with this
tree, and prints the ratio (REF time / this tree's time): both see the same machine load.

    .venv/bin/python benchmarks/check_analyze_speed.py
    .venv/bin/python benchmarks/check_analyze_speed.py --against main --runs 3
    .venv/bin/python benchmarks/check_analyze_speed.py --only analyze --durations 5
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
OUT = ROOT / "benchmarks" / "out" / "check_analyze"
RECIPE = ROOT / "recipes" / "sleep-descent.toml"
GROOVE = ROOT / "recipes" / "music" / "01-drive-132.ogg"
CHECK_MINUTES = (10, 30, 60)
ANALYZE_MINUTES = (1, 5, 20, 60)
CLI = "import sys; from resonator.cli import main; sys.exit(main())"


def render_fixture(minutes: int) -> Path:
    out = OUT / f"sleep-descent-{minutes}m.wav"
    if not out.exists():
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", CLI, "render", str(RECIPE), "--duration",
                        f"{minutes}m", "-o", str(out), "-q"], check=True, cwd=ROOT)
        print(f"  rendered {out.name} in {time.perf_counter() - t0:.0f} s")
    return out


def track_fixture(minutes: int) -> Path:
    out = OUT / f"drive-132-{minutes}m.wav"
    if not out.exists():
        import numpy as np
        import soundfile as sf

        x, sr = sf.read(GROOVE, dtype="float32", always_2d=True)
        need = int(minutes * 60 * sr)
        with sf.SoundFile(out, "w", sr, x.shape[1], "PCM_16") as f:
            done = 0
            while done < need:
                piece = x[: need - done]
                f.write(piece)
                done += piece.shape[0]
    return out


def run(args: list[str], pythonpath: str | None) -> tuple[float, float, float, float]:
    """(wall s, CPU s, peak RSS MB, system CPU s) of one whole process."""
    env = dict(os.environ)
    # as installed: modules load from their cached bytecode (the warm-up run writes it), not
    # compiled from source in every process (about 90 modules: 0.2-0.5 s)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-c", CLI, *args], env=env, cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if p.returncode not in (0, 1):  # 1: a check target failed (still a full run)
        sys.exit(f"{' '.join(args)} failed ({p.returncode}): {err.strip()[-400:]}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, ru.ru_stime


def slope(xs, ys) -> float:
    """Least-squares slope of ys against xs."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return (sum((x - mx) * (y - my) for x, y in zip(xs, ys))
            / sum((x - mx) ** 2 for x in xs))


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "load %.2f %.2f %.2f" % os.getloadavg()


def export(ref: str, dest: Path) -> str:
    """``src/`` of git revision ``ref`` under ``dest``; returns its path for PYTHONPATH."""
    archive = subprocess.run(["git", "archive", ref, "src"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    # the compiled kernels are not in git: REF runs with this tree's (a kernel REF calls that
    # this tree lacks fails loudly; one whose code changed since REF is timed as this tree's)
    for so in (ROOT / "src" / "resonator").glob("_kernels*.so"):
        shutil.copy2(so, dest / "src" / "resonator" / so.name)
    # with their source, so the build check (resonator.kernels.check_build) sees a match
    shutil.copy2(ROOT / "src" / "resonator" / "_kernels.c", dest / "src" / "resonator" / "_kernels.c")
    if subprocess.run(["git", "diff", "--quiet", ref, "--", "src/resonator/_kernels.c"],
                      cwd=ROOT).returncode:
        print(f"note: {ref} runs with this tree's compiled kernels (src/resonator/_kernels.c "
              "differs)", file=sys.stderr)
    return str(dest / "src")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="timed runs per case (median; default 3)")
    ap.add_argument("--against", metavar="REF", help="also run git revision REF, alternating")
    ap.add_argument("--only", choices=("check", "analyze"), help="one command only")
    ap.add_argument("--durations", type=int, nargs="+", metavar="MIN",
                    help="minutes to run (default check 10 30 60, analyze 1 5 20 60)")
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    cases = []
    if args.only in (None, "check"):
        for m in args.durations or CHECK_MINUTES:
            cases.append((f"check {m} min", m,
                          ["check", str(render_fixture(m)), str(RECIPE), "-q"]))
    if args.only in (None, "analyze"):
        for m in args.durations or ANALYZE_MINUTES:
            cases.append((f"analyze {m} min", m, ["analyze", str(track_fixture(m)), "-q"]))
    print(f"{platform.node()}: python {platform.python_version()}, {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"start: {uptime()}")
    with tempfile.TemporaryDirectory(prefix="speed-ref-") as tmp:
        versions = [("this tree", str(ROOT / "src"))]
        if args.against:
            versions.insert(0, (args.against, export(args.against, Path(tmp))))
        results = {}
        for name, m, cmd in cases:
            for _, path in versions:  # warm-up: numba's cache, the page cache
                run(cmd, path)
            rows = {v: [] for v, _ in versions}
            for _ in range(args.runs):
                for v, path in versions:
                    rows[v].append(run(cmd, path))
            results[name] = rows
            line = [f"{name:>16}:"]
            for v, _ in versions:
                r = rows[v]
                line.append(f"{v}: {statistics.median(x[0] for x in r):6.2f} s wall "
                            f"{statistics.median(x[1] for x in r):6.2f} s CPU "
                            f"({statistics.median(x[3] for x in r):5.2f} sys) "
                            f"{max(x[2] for x in r):5.0f} MB")
            if args.against:
                a = statistics.median(x[0] for x in rows[args.against])
                b = statistics.median(x[0] for x in rows["this tree"])
                line.append(f"ratio {a / b:.2f}x")
            print("  ".join(line), flush=True)
    print(f"end:   {uptime()}")
    for cmd in ("check", "analyze"):
        pts = [(m, rows) for (name, m, _), rows in
               ((c, results[c[0]]) for c in cases) if name.startswith(cmd)]
        if len(pts) >= 2:
            (m0, r0), (m1, r1) = pts[0], pts[-1]
            for v, _ in versions:
                t0 = statistics.median(x[0] for x in r0[v])
                t1 = statistics.median(x[0] for x in r1[v])
                rss0, rss1 = max(x[2] for x in r0[v]), max(x[2] for x in r1[v])
                print(f"{cmd} ({v}): {(t1 - t0) / (m1 - m0):.3f} s and "
                      f"{(rss1 - rss0) / (m1 - m0):+.2f} MB peak RSS per extra minute "
                      f"({m0} -> {m1} min)")
                # the least-squares slope of peak RSS over every duration run
                ms = [m for m, _ in pts]
                rss = [max(x[2] for x in r[v]) for _, r in pts]
                print(f"{cmd} ({v}): peak RSS slope {slope(ms, rss):+.3f} MB/min over "
                      f"{' / '.join(map(str, ms))} min ({' / '.join(f'{x:.1f}' for x in rss)} MB)")


if __name__ == "__main__":
    main()
