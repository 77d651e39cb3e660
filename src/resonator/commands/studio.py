"""``resonator studio``: design recipes in the browser (editor, timeline, audio, checks)."""
from __future__ import annotations

import argparse
import sys

NAME = "studio"
HELP = "design recipes in the browser: editor with diagnostics, timeline, live audio, checks"
EXAMPLE = "resonator studio recipes/"
MORE_EXAMPLES = (
    "\n  resonator studio                        (the shipped recipes; edits are saved as copies"
    "\n                                          in ~/.local/share/resonator/recipes)"
    "\n  resonator studio my-session.toml --port 8765 --no-browser"
    "\n\nThe server listens on 127.0.0.1 only, and every request needs the random token in the "
    "printed URL.\nCtrl-C stops it."
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="FOLDER_OR_RECIPE", nargs="?",
                        help="folder to work in, or a recipe (its folder; the recipe opens "
                             "first); default: the shipped recipes, copied on write")
    parser.add_argument("--port", type=int, default=0, metavar="N",
                        help="port to listen on (default: a free one)")
    parser.add_argument("--host", default="127.0.0.1", metavar="ADDRESS",
                        help="address to listen on (default 127.0.0.1; anything else lets "
                             "other machines reach the studio: a warning is printed)")
    parser.add_argument("--no-browser", action="store_true",
                        help="do not open the page in the default browser")


def run(args) -> int:
    from ..errors import ResonatorError
    from ..outputs import echo
    from ..studio.app import Studio, has_display, is_loopback

    if not 0 <= args.port <= 65535:
        raise ResonatorError(f"--port must be from 0 to 65535, got {args.port}")
    studio = Studio(args.target, host=args.host, port=args.port)
    ws = studio.workspace
    if not is_loopback(args.host):
        print(f"resonator studio: warning: listening on {args.host}: other machines on the "
              "network can reach this studio; anyone with the URL below can read and write "
              f"recipes in {ws.root} and render there", file=sys.stderr)
    where = f"{ws.root}" + (f" (over the shipped recipes in {ws.shipped}; saves go to the "
                            "first folder)" if ws.shipped else "")
    echo(f"resonator studio: {where}")
    echo(f"open {studio.url}")
    echo("Ctrl-C stops the studio")
    browser = not args.no_browser and has_display()
    if not args.no_browser and not browser:
        echo("(no display here: open the URL in a browser on this machine)")
    try:
        studio.run(open_browser=browser)
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled: the normal way out
        pass
    print("resonator studio: stopped", file=sys.stderr)
    return 0
