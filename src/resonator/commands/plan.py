"""``resonator plan``: a recipe's timeline as text, JSON or a PNG plot (no audio)."""
from __future__ import annotations

import argparse
import json

NAME = "plan"
HELP = "show a recipe's timeline: phases, layers, temperature, parameters over time"
EXAMPLE = "resonator plan recipes/mettannealing.toml --plot plan.png"
MORE_EXAMPLES = "\n  resonator plan recipes/sleep-descent.toml --json"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", metavar="RECIPE", help="recipe file (.toml) or SBaGen sequence (.sbg)")
    parser.add_argument("--plot", metavar="FILE.png",
                        help="write a PNG (or .svg, .pdf) of the temperature and every "
                             "time-varying parameter (replaced if it exists)")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")


def run(args) -> int:
    from ..loading import load
    from ..recipe.plan import format_plan, plan
    from ..recipe.plan_plot import plot_plan

    recipe = load(args.recipe)
    if args.plot:
        from ..outputs import FIGURE_SUFFIXES, check_output
        from ..recipe.render import recipe_inputs

        check_output(args.plot, option="--plot", suffixes=FIGURE_SUFFIXES,
                     inputs=recipe_inputs(recipe), force=True)
    p = plan(recipe)
    from ..outputs import echo

    echo(json.dumps(p, indent=2, default=str) if args.json else format_plan(p))
    if args.plot:
        path = plot_plan(recipe, args.plot)
        if not args.json:
            echo(f"plot written to {path}")
    return 0
