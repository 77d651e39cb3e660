"""``resonator render``: a recipe to a WAV/FLAC file with a JSON sidecar."""
from __future__ import annotations

import argparse
import sys

from ..units import arg_type, check_sample_rate, check_seed

NAME = "render"
HELP = "render a recipe to a WAV or FLAC file (loudness-normalised, with a JSON sidecar)"
EXAMPLE = "resonator render recipes/mettannealing.toml"
MORE_EXAMPLES = (
    "\n  resonator render ts-brain-alpha.sbg --stereo-noise   (an SBaGen sequence, converted)"
    "\n  resonator render recipes/focus.toml -o focus.flac --bits 24"
    "\n  resonator render recipes/mettannealing.toml --start 24m --duration 30s"
    "   (writes renders/mettannealing_24m00s-24m30s.wav)"
    "\n  resonator render recipes/theta-pulse.toml --start 6m --duration 1m -o t.wav --check"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", metavar="RECIPE",
                        help="recipe file (.toml), or an SBaGen sequence (.sbg) to convert and render")
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="output file (default renders/<recipe name>.wav; a window: "
                             "renders/<name>_<start>-<end>.wav)")
    parser.add_argument("--format", choices=("wav", "flac"), help="container (default: from OUT, else wav)")
    parser.add_argument("--bits", choices=("16", "24", "32f"), default="16",
                        help="sample format (default 16 with TPDF dither)")
    parser.add_argument("--rate", type=arg_type(check_sample_rate, "rate"), metavar="HZ",
                        help="sample rate, 8000-384000 (default: the recipe's)")
    parser.add_argument("--seed", type=arg_type(check_seed, "seed"), metavar="N",
                        help="seed, 0 to 2**63-1 (default: the recipe's)")
    parser.add_argument("--start", metavar="T", help="render from this time (\"10m\", \"1:30\")")
    parser.add_argument("--duration", metavar="T", help="render this long (default: to the end)")
    parser.add_argument("--force", action="store_true", help="overwrite existing files")
    parser.add_argument("--no-normalize", action="store_true",
                        help="skip loudness normalisation (no analysis pass)")
    parser.add_argument("--stereo-noise", action="store_true",
                        help=".sbg only: independent noise per ear (SBaGen: the same in both)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.add_argument("--check", action="store_true",
                        help="then measure the render against the recipe's targets (as "
                             "'resonator check'; exit 1 when a target fails)")


def run(args) -> int:
    from ..loading import load
    from ..recipe.render import render_recipe
    from ..units import format_duration

    recipe = load(args.recipe, stereo_noise=args.stereo_noise)
    if not args.quiet:
        for w in recipe.warnings:
            print(f"warning: {w}", file=sys.stderr)
    result = render_recipe(recipe, args.output, fmt=args.format, bits=args.bits, sr=args.rate,
                           seed=args.seed, start=args.start, duration=args.duration,
                           force=args.force, normalize=not args.no_normalize,
                           progress=not args.quiet and sys.stderr.isatty())
    if not args.quiet:
        for w in result.warnings[len(recipe.warnings):]:
            print(f"warning: {w}", file=sys.stderr)
        gain = ""
        if result.mastering and result.mastering.get("gain_db") is not None:
            gain = f", gain {result.mastering['gain_db']:+.1f} dB"
        print(f"{result.path}: {format_duration(result.frames / result.sr)} at {result.sr} Hz, "
              f"peak {result.peak_dbfs:.1f} dBFS{gain}, "
              f"{result.realtime_factor:.0f}x real time (sidecar {result.sidecar})")
    if getattr(args, "check", False):
        from .check import run_check

        return run_check(result.path, recipe, quiet=args.quiet)
    return 0
