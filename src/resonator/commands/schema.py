"""``resonator schema``: the JSON Schema of recipe files (for editor validation)."""
from __future__ import annotations

import argparse
import json

NAME = "schema"
HELP = "write the JSON Schema of recipe files (every layer kind included) for editors"
EXAMPLE = "resonator schema -o recipe.schema.json"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="FILE.json",
                        help="write here (default: standard output)")
    parser.add_argument("--force", action="store_true", help="replace an existing FILE.json")


def run(args) -> int:
    from ..outputs import check_output, write_text
    from ..recipe.schema import recipe_schema

    if args.output and args.output != "-":
        check_output(args.output, option="-o", suffixes=(".json",), force=args.force)
    write_text(args.output or "-", json.dumps(recipe_schema(), indent=2) + "\n")
    return 0
