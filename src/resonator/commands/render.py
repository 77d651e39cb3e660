"""``resonator render``: a recipe to a WAV/FLAC file with a JSON sidecar."""
from __future__ import annotations

import argparse
import sys

from ..units import arg_type, check_sample_rate, check_seed

NAME = "render"
HELP = ("render a recipe to a WAV, FLAC, MP3, OGG or Opus file (loudness-normalised, with a "
        "JSON sidecar)")
EXAMPLE = "resonator render recipes/mettannealing.toml"
MORE_EXAMPLES = (
    "\n  resonator render ts-brain-alpha.sbg --stereo-noise   (an SBaGen sequence, converted)"
    "\n  resonator render recipes/focus.toml -o focus.flac --bits 24"
    "\n  resonator render focus -o focus.mp3 --quality 0.9   (a shipped recipe, compressed)"
    "\n  resonator render recipes/mettannealing.toml --start 24m --duration 30s"
    "   (writes renders/mettannealing_24m00s-24m30s.wav)"
    "\n  resonator render recipes/theta-pulse.toml --start 6m --duration 1m -o t.wav --check"
    "\n  resonator render recipes/*.toml --jobs 2 -o renders/   (several at once, one file each)"
    "\n  resonator render sweeps/focus/recipes/*.toml --cluster tcp://10.0.0.5:8786 --check"
)


def configure(parser: argparse.ArgumentParser) -> None:
    from ..audio_formats import FORMATS, LOSSY
    from ._batch import add_executor_options

    parser.add_argument("recipe", metavar="RECIPE", nargs="+",
                        help="recipe file (.toml), or an SBaGen sequence (.sbg) to convert and "
                             "render; several are rendered at once on worker processes")
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="output file (default renders/<recipe name>.wav; a window: "
                             "renders/<name>_<start>-<end>.wav); with several recipes a folder "
                             "(default renders/) for one such file each")
    parser.add_argument("--format", choices=FORMATS,
                        help="container (default: from OUT, else wav); mp3, ogg (Vorbis) and "
                             "opus are lossy: decoded and measured after encoding, kept under "
                             "the true-peak ceiling; opus renders at 48000 Hz")
    parser.add_argument("--bits", choices=("16", "24", "32f"),
                        help="sample format of wav and flac (default 16 with TPDF dither)")
    parser.add_argument("--quality", metavar="Q",
                        help="mp3, ogg, opus: 0 (smallest) to 1 (best); default " + ", ".join(
                            f"{k} {v[3]}" for k, v in LOSSY.items())
                        + " (about 150-180 kbit/s for a stereo session)")
    parser.add_argument("--rate", type=arg_type(check_sample_rate, "rate"), metavar="HZ",
                        help="sample rate, 8000-384000 (default: the recipe's)")
    parser.add_argument("--seed", type=arg_type(check_seed, "seed"), metavar="N",
                        help="seed, 0 to 2**63-1 (default: the recipe's)")
    parser.add_argument("--start", metavar="T|PHASE", help="render from this time (\"10m\", "
                        "\"1:30\") or from the start of this phase (its exact name)")
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
    add_executor_options(parser)


def run(args) -> int:
    if len(args.recipe) > 1 or args.jobs or args.cluster:
        return run_many(args)
    args.recipe = args.recipe[0]
    from ..loading import load
    from ..outputs import echo
    from ..recipe.render import render_recipe
    from ..units import format_duration

    recipe = load(args.recipe, stereo_noise=args.stereo_noise)
    if not args.quiet:
        for w in recipe.warnings:
            print(f"warning: {w}", file=sys.stderr)
    result = render_recipe(recipe, args.output, fmt=args.format, bits=args.bits, sr=args.rate,
                           seed=args.seed, start=args.start, duration=args.duration,
                           force=args.force, normalize=not args.no_normalize,
                           progress=not args.quiet and sys.stderr.isatty(),
                           quality=args.quality)
    if not args.quiet:
        for w in result.warnings[len(recipe.warnings):]:
            print(f"warning: {w}", file=sys.stderr)
        gain = ""
        if result.mastering and result.mastering.get("gain_db") is not None:
            gain = f", gain {result.mastering['gain_db']:+.1f} dB"
        enc = result.encoded
        decoded = "" if enc is None else (
            f", decoded {enc['loudness_lufs']:.1f} LUFS, true peak {enc['true_peak_dbtp']:.1f} dBTP, "
            f"{8 * enc['bytes'] / max(result.frames / result.sr, 1e-9) / 1000:.0f} kbit/s")
        echo(f"{result.path}: {format_duration(result.frames / result.sr)} at {result.sr} Hz, "
              f"peak {result.peak_dbfs:.1f} dBFS{gain}{decoded}, "
              f"{_speed(result.realtime_factor)} real time (sidecar {result.sidecar})")
    if getattr(args, "check", False):
        from .check import run_check

        return run_check(result.path, recipe, quiet=args.quiet)
    return 0


def _speed(factor: float) -> str:
    """``120x``, ``3.5x``, ``0.021x`` (a short window of a long session, measured whole, is
    slower than real time: never "0x")."""
    return f"{factor:.0f}x" if factor >= 10 else f"{factor:.2g}x"


def run_many(args) -> int:
    """Several recipes (or ``--jobs``/``--cluster``): :func:`resonator.batch.renders.render_many`.
    Output folders this run makes go again if it fails (a scheduler that cannot be reached)."""
    from pathlib import Path

    from ..outputs import new_folders
    from ..audio_formats import FORMATS

    out = Path(args.output) if args.output else Path("renders")
    with new_folders(out.parent if out.suffix.lower().lstrip(".") in FORMATS else out):
        return _run_many(args)


def _run_many(args) -> int:
    import os
    from pathlib import Path

    from ..batch.progress import BatchProgress
    from ..batch.renders import render_many
    from ..errors import ResonatorError
    from ..outputs import check_output, check_output_folder, echo
    from ..audio_formats import FORMATS

    fmt = args.format or "wav"
    folder = Path(args.output) if args.output else Path("renders")
    if args.output and len(args.recipe) > 1 and \
            Path(args.output).suffix.lower().lstrip(".") in FORMATS:
        raise ResonatorError(f"names one file but {len(args.recipe)} recipes are rendered: "
                             "give a folder", f"-o {args.output}")
    jobs_list = []
    if len(args.recipe) == 1 and args.output and not os.path.isdir(args.output):
        outs = [Path(args.output)]
    else:  # the names a render without -o gets (a window's name says which window)
        from ..loading import load
        from ..recipe.render import default_name
        from ..units import parse_duration

        check_output_folder(folder, option="-o", create=True)
        dur_s = parse_duration(args.duration, where="--duration") if args.duration else None
        outs = []
        for r in args.recipe:
            rec = load(r, stereo_noise=args.stereo_noise)
            start_s = rec.time_of(args.start) if args.start else 0.0
            span = rec.duration_s - start_s if dur_s is None else dur_s
            outs.append(folder / default_name(rec.stem, fmt, start_s, span, rec.duration_s))
    for r, o in zip(args.recipe, outs):
        check_output(o, option="-o", suffixes=tuple(f".{f}" for f in FORMATS),
                     inputs=args.recipe,
                     others=[x for _, x in jobs_list], force=args.force, make_parents=True)
        check_output(o.with_suffix(".json"), option="sidecar", inputs=args.recipe,
                     others=[x for _, x in jobs_list], force=args.force)
        jobs_list.append((r, str(o)))
    options = {"fmt": args.format, "bits": args.bits, "quality": args.quality,
               "sr": args.rate, "seed": args.seed,
               "start": args.start, "duration": args.duration,
               "normalize": not args.no_normalize, "stereo_noise": args.stereo_noise}
    bar = None

    def progress(total: int):
        nonlocal bar
        bar = BatchProgress(total, "render", unit="recipe", quiet=args.quiet)
        return bar

    def on_record(rec: dict) -> None:
        if rec["status"] != "ok":
            bar.write(f"resonator render: failed: {rec['error']}", sys.stderr)
            return
        if args.quiet:
            return
        for w in rec["warnings"]:
            bar.write(f"warning: {rec['recipe']}: {w}", sys.stderr)
        line = (f"{rec['path']}: peak {rec['peak_dbfs']:.1f} dBFS, "
                f"{rec['realtime_factor']:.0f}x real time")
        if "passed" in rec:
            line += ", check " + ("PASS" if rec["passed"] else
                                  "FAIL: " + "; ".join(rec["failed_targets"]))
        bar.write(line)

    res = render_many(jobs_list, options=options, check=args.check, jobs=args.jobs,
                      cluster=args.cluster, progress=progress, on_record=on_record)
    ok = len(res.records) - len(res.failed)
    echo(f"{ok} of {len(res.records)} recipes rendered"
         + (" and passed their checks" if args.check else "") + f" ({res.where})")
    return 1 if res.failed else 0
