"""``resonator sweep``: render and check every combination of some recipe values.

Only options and messages: the work is :func:`resonator.batch.sweep.sweep`. Nothing heavy is
imported at module level (no dask, numba or matplotlib), so ``resonator --help`` stays fast.
"""
from __future__ import annotations

import argparse
import sys

NAME = "sweep"
HELP = ("render and check every combination of some recipe values; compare them in a table "
        "(CSV, HTML with plan thumbnails) and a plot")
EXAMPLE = ("resonator sweep recipes/mettannealing.toml --vary layer.beat.carrier=200Hz,240Hz "
           "--vary phase.cool.duration=10m,15m,20m")
MORE_EXAMPLES = (
    "\n  resonator sweep recipes/focus.toml --vary layer.bed.mod_depth=0.4,0.6,0.8 "
    "--start 3m --duration 1m"
    "\n  resonator sweep recipes/mettannealing.toml --vary phase.energize.temperature.to=0.7,0.8,0.9"
    " --vary layer.gamma.gain=-30dB,-24dB --sample 4 --cluster tcp://10.0.0.5:8786"
    "\n  resonator sweep recipes/focus.toml --vary layer.bed.gain=-20dB,-14dB --write-recipes"
    "\n\npaths: phase.NAME.KEY, layer.NAME.KEY, target.NAME.KEY or a top-level key (seed, "
    "loudness, temperature.start); keys may go into tables (temperature.to)."
    "\noutput (default sweeps/RECIPE/): recipes/, renders/, checks/, plans/, sweep.jsonl, "
    "sweep.csv, sweep.html, sweep.png; a rerun skips the variants already done."
    "\nexit codes: 0 every variant passed every target, 1 a variant failed, 2 bad input"
)


def configure(parser: argparse.ArgumentParser) -> None:
    from ..units import arg_type, check_sample_rate, check_seed
    from ._batch import add_executor_options, positive_int

    parser.add_argument("recipe", metavar="RECIPE", help="the recipe to vary (.toml, or a shipped recipe's name)")
    parser.add_argument("--vary", metavar="PATH=V1,V2,...", action="append", default=[],
                        required=True,
                        help="a value to vary and its values, e.g. layer.beat.carrier=200Hz,240Hz "
                             "(repeatable: every combination is rendered)")
    parser.add_argument("-o", "--output", metavar="DIR",
                        help="output folder (default sweeps/<recipe name>)")
    parser.add_argument("--sample", metavar="N", type=positive_int,
                        help="render only N combinations, chosen at random (see --sample-seed)")
    parser.add_argument("--sample-seed", metavar="S", type=arg_type(check_seed, "seed"), default=0,
                        help="seed of the --sample choice (default 0: the same choice each run)")
    parser.add_argument("--write-recipes", action="store_true",
                        help="write the variant recipes (OUT/recipes/) and stop: nothing is "
                             "rendered (render them later with 'resonator render ... --jobs N')")
    add_executor_options(parser)
    parser.add_argument("--start", metavar="T|PHASE", help="render and check only from this "
                        "time (\"10m\", \"1:30\") or from the start of this phase")
    parser.add_argument("--duration", metavar="T", help="render and check only this long")
    parser.add_argument("--rate", type=arg_type(check_sample_rate, "rate"), metavar="HZ",
                        help="sample rate (default: the recipe's)")
    parser.add_argument("--seed", type=arg_type(check_seed, "seed"), metavar="N",
                        help="seed of the renders (default: the recipe's)")
    parser.add_argument("--bits", choices=("16", "24", "32f"), default="16",
                        help="sample format of the renders (default 16)")
    parser.add_argument("--no-normalize", action="store_true",
                        help="skip loudness normalisation (faster; loudness targets are skipped)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only the summary")


def run(args) -> int:
    from ..batch.progress import BatchProgress
    from ..batch.sweep import sweep
    from ..batch.variants import parse_vary
    from ..outputs import echo

    varies = [parse_vary(v) for v in args.vary]

    def on_record(rec: dict) -> None:
        if rec["status"] != "ok":
            bar.write(f"{rec['name']}: render failed: {rec['error']}", sys.stderr)
        elif not args.quiet:
            ok = sum(t["passed"] for t in rec["targets"])
            bar.write(f"{rec['name']}: {'PASS' if rec['passed'] else 'FAIL'} "
                      f"({ok}/{len(rec['targets'])} targets)")

    bar = None

    def progress(total: int):
        nonlocal bar
        bar = BatchProgress(total, "sweep", unit="variant", quiet=args.quiet)
        return bar

    try:
        res = sweep(args.recipe, varies, args.output, sample=args.sample,
                    sample_seed=args.sample_seed, write_recipes_only=args.write_recipes,
                    jobs=args.jobs, cluster=args.cluster, sr=args.rate, seed=args.seed,
                    start=args.start, duration=args.duration, bits=args.bits,
                    normalize=not args.no_normalize, progress=progress, on_record=on_record)
    except KeyboardInterrupt:
        if bar is not None:
            print("resonator sweep: the variants finished so far are kept: run the same command "
                  "again to continue", file=sys.stderr)
        raise
    if args.write_recipes:
        echo(f"{res.variants} variant recipes in {res.folder / 'recipes'}"
             + (f" ({res.variants} of {res.total} combinations)" if res.variants < res.total
                else ""))
        return 0
    for line in res.failed:
        print(f"resonator sweep: {line}", file=sys.stderr)
    echo(f"{res.passed} of {res.variants} variants pass every target"
         + (f" ({res.variants} of {res.total} combinations sampled)" if res.variants < res.total
            else "")
         + f"; {res.rendered} rendered ({res.where}), {res.skipped} already done")
    echo(f"table {res.table_csv} and {res.table_html}, plot {res.plot}")
    return 0 if res.passed == res.variants else 1
