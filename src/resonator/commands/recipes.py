"""``resonator recipes``: the recipes that ship with resonator: list, show, copy."""
from __future__ import annotations

import argparse

NAME = "recipes"
HELP = "list the shipped recipes, print one, or copy one (with what it extends) to edit it"
EXAMPLE = "resonator recipes copy mettannealing my-session.toml"
MORE_EXAMPLES = (
    "\n  resonator recipes                      (list them)"
    "\n  resonator recipes show focus | less"
    "\n  resonator render focus                 (a shipped recipe by name)"
)


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.add_parser("list", help="name, title and description of each (the default)")
    show = sub.add_parser("show", help="print a recipe's TOML text")
    show.add_argument("name", metavar="NAME")
    copy = sub.add_parser("copy", help="copy a recipe, the recipes it extends and the files it "
                                       "reads, to edit them")
    copy.add_argument("name", metavar="NAME")
    copy.add_argument("dest", metavar="DEST", nargs="?",
                      help="a folder (default: here) or the new recipe's FILE.toml")
    copy.add_argument("--force", action="store_true", help="replace existing files")


def run(args) -> int:
    from .. import shipped
    from ..outputs import echo

    action = args.action or "list"
    if action == "list":
        items = shipped.list_recipes()
        width = max((len(r.name) for r in items), default=0)
        for r in items:
            if not echo(f"{r.name:<{width}}  {r.title}" + (f": {r.description}"
                                                            if r.description else "")):
                break
        return 0
    path = shipped.require(args.name)
    if action == "show":
        echo(path.read_text(encoding="utf-8"), end="")
        return 0
    written = shipped.copy_recipe(args.name, args.dest, force=args.force)
    extra = f" (with {', '.join(str(p) for p in written[1:])})" if len(written) > 1 else ""
    echo(f"{written[0]}{extra}: edit it, then: resonator render {written[0]}")
    return 0
