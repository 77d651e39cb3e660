"""``resonator import``: an SBaGen ``.sbg`` sequence to an editable resonator recipe."""
from __future__ import annotations

import argparse
import sys

NAME = "import"
HELP = "convert an SBaGen .sbg sequence to a recipe (.toml) you can edit, render and check"
EXAMPLE = "resonator import ts-brain-alpha.sbg -o alpha.toml"
MORE_EXAMPLES = (
    "\n  resonator import prog-chakras-1.sbg --stereo-noise -o chakras.toml"
    "\n  resonator render ts-brain-alpha.sbg          (converts and renders in one step)"
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sbg", metavar="FILE.sbg", help="SBaGen sequence file")
    parser.add_argument("-o", "--output", metavar="FILE.toml",
                        help="recipe to write (default: FILE.toml beside the sequence; '-' "
                             "prints it)")
    parser.add_argument("--stereo-noise", action="store_true",
                        help="independent noise per ear (SBaGen plays the same noise in both)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing recipe")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")


def run(args) -> int:
    from pathlib import Path

    from ..errors import RecipeError
    from ..outputs import check_output, echo, write_text
    from ..sbg.convert import convert_file, recipe_from_conversion

    src = Path(args.sbg)
    if not src.is_file():
        raise RecipeError("no such sequence file" if not src.exists() else
                          "is not a file (an SBaGen .sbg sequence is expected)", str(src))
    out = None
    if args.output != "-":
        out = Path(args.output) if args.output else src.with_suffix(".toml")
        check_output(args.output or out, option="-o", suffixes=(".toml",), inputs=[src],
                     force=args.force)  # (the name as given: Path drops a final slash)
    conv = convert_file(src, stereo_noise=args.stereo_noise)
    recipe = recipe_from_conversion(conv)   # validates the result before anything is written
    if out is None:
        write_text("-", conv.toml)
    else:
        if conv.timeline.mix_file and out.parent.resolve() != src.parent.resolve() and \
                not args.quiet:
            print(f"note: the recipe names the mix file \"{conv.timeline.mix_file}\" relative to "
                  f"itself: copy it beside {out}", file=sys.stderr)
        write_text(out, conv.toml)
    if not args.quiet:
        for line in conv.messages():
            print(line, file=sys.stderr)
        for w in recipe.warnings[len(conv.messages()):]:
            print(f"warning: {w}", file=sys.stderr)
        if out is not None:
            from ..units import format_duration
            echo(f"{out}: {len(recipe.phases)} phases, {len(recipe.layers)} layers, "
                  f"{len(recipe.targets)} targets, {format_duration(recipe.duration_s)}"
                  + (f"; {len(conv.unsupported)} item(s) not mapped" if conv.unsupported
                     else ""))
    return 0
