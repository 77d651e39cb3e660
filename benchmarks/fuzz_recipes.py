"""A long seeded fuzzing campaign over the shipped recipes (outside the test suite).

    python benchmarks/fuzz_recipes.py --cases 10000 --seed 1

Each case mutates one shipped recipe (1-3 mutations of its data or text, tests/recipe_fuzz.py)
and runs what a command does with it: load, plan, build the session, render 0.05 s from a
random point. Counts the outcomes: accepted, refused with a ResonatorError (one line for the
user), or any other exception (a finding: a traceback for the user), grouped by type and the
innermost resonator frame. Memory is capped (RLIMIT_DATA, default 4 GB) and each case has a
time limit, so a case that reads /dev/zero or hangs is counted instead of taking the machine.

To measure an older version, run it with that version's source first on the path:
``PYTHONPATH=/path/to/old/src python benchmarks/fuzz_recipes.py ...``.
"""
from __future__ import annotations

import argparse
import collections
import json
import random
import resource
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import recipe_fuzz  # noqa: E402


class CaseTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise CaseTimeout()


def where_in_resonator(tb) -> str:
    frames = [f for f in traceback.extract_tb(tb) if "/resonator/" in f.filename]
    f = frames[-1] if frames else traceback.extract_tb(tb)[-1]
    return f"{f.filename.split('/resonator/')[-1]}:{f.lineno} {f.name}"


def run_case(path, where, render, project_error) -> str:
    """"accepted", "refused" (a ResonatorError) or the finding's key."""
    try:
        recipe_fuzz.exercise(path, where, render=render)
        return "accepted"
    except project_error:
        return "refused"
    except CaseTimeout:
        raise
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - counting what escapes
        return f"{type(exc).__name__} at {where_in_resonator(exc.__traceback__)}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mem-gb", type=float, default=4.0)
    ap.add_argument("--timeout-s", type=int, default=20)
    ap.add_argument("--no-render", action="store_true", help="load and plan only")
    ap.add_argument("--json", help="write the counts and findings here")
    ap.add_argument("--show", type=int, default=0, help="print the first N findings' texts")
    ap.add_argument("--recipes", help="comma-separated shipped recipe names to mutate "
                                      "(default: all; to compare versions on the same set)")
    args = ap.parse_args()
    lim = int(args.mem_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_DATA, (lim, lim))
    signal.signal(signal.SIGALRM, _alarm)
    from resonator.errors import ResonatorError
    import resonator

    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="resonator-fuzz-"))
    folder, texts = recipe_fuzz.workdir(tmp)
    names = sorted(texts) if not args.recipes else sorted(args.recipes.split(","))
    counts = collections.Counter()
    findings = collections.Counter()
    examples = {}
    t0 = time.time()
    for i in range(args.cases):
        name = names[rng.randrange(len(names))]
        text = recipe_fuzz.make_case(texts[name], rng.randrange, 1 + rng.randrange(3))
        path = folder / "fuzz.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        where = rng.random()
        signal.alarm(args.timeout_s)
        try:
            key = run_case(path, where, not args.no_render, ResonatorError)
        except CaseTimeout:  # also when it fires while a finding is being classified
            key = "timeout"
        finally:
            signal.alarm(0)
        if key in ("accepted", "refused"):
            counts[key] += 1
        else:
            counts["finding"] += 1
            findings[key] += 1
            examples.setdefault(key, (name, text))
        if (i + 1) % 500 == 0:
            print(f"{i + 1} cases, {counts['finding']} findings, {time.time() - t0:.0f} s",
                  file=sys.stderr, flush=True)
    n = args.cases
    print(f"resonator {resonator.__version__} from {Path(resonator.__file__).parent}")
    print(f"{n} cases (seed {args.seed}, {'load+plan' if args.no_render else 'load+plan+build+render'}), "
          f"{time.time() - t0:.0f} s: accepted {counts['accepted']}, refused (one line) "
          f"{counts['refused']}, non-project exceptions {counts['finding']} "
          f"({100 * counts['finding'] / n:.2f} %)")
    for key, c in findings.most_common():
        print(f"  {c:5d}  {key}")
    for key, (name, text) in list(examples.items())[: args.show]:
        print(f"--- {key} (from {name}):\n{text[:1500]}")
    if args.json:
        Path(args.json).write_text(json.dumps({"cases": n, "seed": args.seed, "counts": counts,
                                               "findings": findings}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
