"""Render speed of a shipped recipe's signal graph, against a git revision (issue 17).

Two figures per version, alternating run by run so both see the same machine load:

* **whole process**: ``resonator render RECIPE -o out.wav --force -q`` with an empty
  mastering cache (cold: the measuring pass, its two lanes and the replay included), as a
  user runs it: wall and CPU seconds (``wait4``), peak RSS, the real-time factor;
* **graph**: the recipe's graph alone in one process (``Renderer.blocks`` over the whole
  session, one thread, no mastering, no file): CPU seconds, the part the graph's nodes and
  kernels cost.

``--against REF`` exports ``src/``, ``recipes/`` and ``setup.py`` of the git revision into a temporary
folder and compiles its kernels there (``setup.py build_ext --build-lib src``: REF runs with
its own C code), then puts that ``src`` first on ``PYTHONPATH``. Median of
``--runs``; ``uptime`` before and after.

    .venv/bin/python benchmarks/graph_speed.py --against main            # mettannealing
    .venv/bin/python benchmarks/graph_speed.py --recipe focus --runs 5 --against HEAD~3

``--same-blocks`` times nothing: it renders the graph of every shipped recipe (or
``--recipe``) here and at ``--against REF`` and compares the sha256 of every raw float64
block (``Renderer.blocks``, whole sessions; a recipe with a music layer over its first
``--music-s`` seconds), at the default block size and at ``--block`` frames:

    .venv/bin/python benchmarks/graph_speed.py --same-blocks --against main
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = "import sys; from resonator.cli import main; sys.exit(main())"
GRAPH = """
import sys, time
from resonator import _process
_process.tune()
from resonator.recipe.session import build_session
from resonator.render import Renderer
s = build_session(sys.argv[1])
r = Renderer(s.node, sr=s.sr, seed=s.seed)
c = time.process_time()
for _ in r.blocks(0, int(round(s.duration_s * s.sr))):
    pass
print(time.process_time() - c, s.duration_s)
"""
HASHES = """
import hashlib, sys
from resonator import _process
_process.tune()
from resonator.recipe.session import build_session
from resonator.render import Renderer
s = build_session(sys.argv[1])
kw = {"block_frames": int(sys.argv[3])} if int(sys.argv[3]) else {}
r = Renderer(s.node, sr=s.sr, seed=s.seed, **kw)
end = int(round(s.duration_s * s.sr))
if any(info.kind == "music" for info in s.layers):
    end = min(end, int(round(float(sys.argv[2]) * s.sr)))
for pos, block in r.blocks(0, end):
    print(pos, hashlib.sha256(block.tobytes()).hexdigest())
"""


def env_for(pythonpath: str | None, **extra) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached after a warm-up
    if pythonpath:
        env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def whole(recipe: str, out: Path, cache: Path, pythonpath: str | None):
    """(wall s, CPU s, peak RSS MB) of one cold ``resonator render``."""
    out.unlink(missing_ok=True)
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-c", CLI, "render", recipe, "-o", str(out),
                          "--force", "-q"], cwd=ROOT, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE,
                         env=env_for(pythonpath, RESONATOR_CACHE_DIR=str(cache)))
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"render {recipe} failed: {err.strip()[-400:]}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def graph(recipe: str, pythonpath: str | None) -> tuple[float, float]:
    """(CPU s of the graph alone, session seconds)."""
    p = subprocess.run([sys.executable, "-c", GRAPH, recipe], cwd=ROOT, capture_output=True,
                       text=True, env=env_for(pythonpath))
    if p.returncode:
        sys.exit(f"graph of {recipe} failed: {p.stderr.strip()[-400:]}")
    cpu, seconds = p.stdout.split()
    return float(cpu), float(seconds)


def block_hashes(recipe: str, pythonpath: str | None, music_s: float, block: int) -> list[str]:
    """``start sha256`` of every raw block of ``recipe``'s graph."""
    p = subprocess.run([sys.executable, "-c", HASHES, recipe, str(music_s), str(block)],
                       cwd=ROOT, capture_output=True, text=True, env=env_for(pythonpath))
    if p.returncode:
        sys.exit(f"blocks of {recipe} failed: {p.stderr.strip()[-400:]}")
    return p.stdout.split("\n")


def same_blocks(recipes: list[str], ref_path: str, ref: str, music_s: float, block: int) -> int:
    """Compare every block's sha256 here and at ``ref``; 0 when all are the same."""
    bad = 0
    for recipe in recipes:
        for frames in (0, block):
            here = block_hashes(recipe, None, music_s, frames)
            there = block_hashes(recipe, ref_path, music_s, frames)
            size = frames or "default"
            if here == there:
                print(f"  {recipe} (blocks {size}): {len(here) - 1} blocks identical", flush=True)
                continue
            bad += 1
            first = next(i for i, (a, b) in enumerate(zip(here, there)) if a != b) \
                if any(a != b for a, b in zip(here, there)) else min(len(here), len(there))
            print(f"  {recipe} (blocks {size}): DIFFERENT from block {first} "
                  f"({len(here) - 1} / {len(there) - 1} blocks)", flush=True)
    print("all identical" if not bad else f"{bad} recipe renders differ")
    return 1 if bad else 0


def export(ref: str, dest: Path) -> str:
    """``src/`` of revision ``ref`` with its own compiled kernels; its path for PYTHONPATH."""
    git = subprocess.run(["git", "archive", ref, "src", "setup.py", "recipes"], cwd=ROOT,
                         capture_output=True)  # (src/resonator/recipes links to recipes/)
    if git.returncode:
        sys.exit(f"graph_speed: cannot export {ref}: {git.stderr.decode(errors='replace').strip()}")
    archive = git.stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    print(f"building {ref}'s kernels ...", flush=True)
    p = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--build-lib", "src",
                        "--build-temp", "build"], cwd=dest, capture_output=True, text=True)
    if p.returncode:
        sys.exit(f"building {ref}'s kernels failed: {(p.stdout + p.stderr).strip()[-600:]}")
    return str(dest / "src")


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "load %.2f %.2f %.2f" % os.getloadavg()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", default="mettannealing",
                    help="a shipped recipe's name or a recipe file (default mettannealing)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per version (median; 3)")
    ap.add_argument("--against", metavar="REF", help="also run git revision REF, alternating")
    ap.add_argument("--no-graph", action="store_true", help="whole processes only")
    ap.add_argument("--same-blocks", action="store_true",
                    help="no timing: compare every raw block's sha256 with --against REF "
                         "(every shipped recipe unless --recipe is given)")
    ap.add_argument("--music-s", type=float, default=300.0,
                    help="with --same-blocks, seconds of a music recipe compared (300)")
    ap.add_argument("--block", type=int, default=10000,
                    help="with --same-blocks, a second block size compared (10000 frames)")
    args = ap.parse_args(argv)
    if args.same_blocks:
        if not args.against:
            ap.error("--same-blocks needs --against REF")
        from resonator import shipped

        given = any(a == "--recipe" or a.startswith("--recipe=") for a in (argv or sys.argv[1:]))
        recipes = [args.recipe] if given else shipped.names()
        with tempfile.TemporaryDirectory(prefix="graph-speed-") as tmp:
            ref_path = export(args.against, Path(tmp))
            return same_blocks(recipes, ref_path, args.against, args.music_s, args.block)
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    recipe = args.recipe
    if Path(recipe).suffix == ".toml":
        recipe = str(Path(recipe).resolve())  # the children run in the project folder
    print(f"{platform.node()}: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M %Z')}")
    with tempfile.TemporaryDirectory(prefix="graph-speed-") as tmp:
        tmp = Path(tmp)
        versions = [("this tree", None)]
        if args.against:
            (tmp / "ref").mkdir()
            versions.insert(0, (args.against, export(args.against, tmp / "ref")))
        print(f"before: {uptime()}", flush=True)
        for _, path in versions:  # warm-up: bytecode caches, the page cache
            whole(recipe, tmp / "out.wav", tmp / "warm", path)
        rows = {name: {"whole": [], "graph": []} for name, _ in versions}
        for i in range(args.runs):
            for name, path in versions:
                w = whole(recipe, tmp / "out.wav", tmp / f"cold-{name}-{i}", path)
                rows[name]["whole"].append(w)
                line = f"  run {i + 1} {name:>10}: render {w[0]:6.2f} s wall {w[1]:6.2f} s CPU " \
                       f"{w[2]:5.0f} MB"
                if not args.no_graph:
                    g = graph(recipe, path)
                    rows[name]["graph"].append(g)
                    line += f"; graph alone {g[0]:6.2f} s CPU"
                print(line, flush=True)
        print(f"after:  {uptime()}")
    med = statistics.median
    session_s = None
    for name, _ in versions:
        w, g = rows[name]["whole"], rows[name]["graph"]
        wall, cpu = med(x[0] for x in w), med(x[1] for x in w)
        if g:
            session_s = g[0][1]
        rt = f" = {session_s / wall:.0f}x real time" if session_s else ""
        line = f"{name:>10}: render median {wall:.2f} s wall{rt}, {cpu:.2f} s CPU, " \
               f"{max(x[2] for x in w):.0f} MB"
        if g:
            line += f"; graph alone median {med(x[0] for x in g):.2f} s CPU"
        print(line)
    if args.against:
        a, b = rows[args.against], rows["this tree"]
        print(f"ratio {args.against} / this tree: wall "
              f"{med(x[0] for x in a['whole']) / med(x[0] for x in b['whole']):.2f}, CPU "
              f"{med(x[1] for x in a['whole']) / med(x[1] for x in b['whole']):.2f}" +
              (f", graph CPU {med(x[0] for x in a['graph']) / med(x[0] for x in b['graph']):.2f}"
               if b["graph"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
