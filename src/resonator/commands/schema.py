"""``resonator schema``: the JSON Schema of recipe files (for editor validation)."""
from __future__ import annotations

import argparse
import json

NAME = "schema"
HELP = "write the JSON Schema of recipe files (every layer kind included) for editors"
EXAMPLE = "resonator schema -o recipe.schema.json"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")


def run(args) -> int:
    from ..recipe.schema import recipe_schema

    text = json.dumps(recipe_schema(), indent=2) + "\n"
    if args.output:
        from pathlib import Path
        Path(args.output).write_text(text)
    else:
        print(text, end="")
    return 0
