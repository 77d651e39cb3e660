"""The ``resonator`` command line: a thin layer over the library.

Every subcommand calls documented library functions; this module only parses arguments,
prints, and turns :class:`resonator.errors.ResonatorError` into one line on stderr and exit 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from .commands import COMMANDS


def _load(name: str):
    module = "import_" if name == "import" else name
    return importlib.import_module(f"resonator.commands.{module}")


def build_parser() -> argparse.ArgumentParser:
    mods = [(n, _load(n)) for n in COMMANDS]
    examples = "\n".join(f"  {m.EXAMPLE}" for _, m in mods)
    parser = argparse.ArgumentParser(
        prog="resonator",
        description="Render entrainment session soundtracks from recipes and verify them.",
        epilog=f"examples:\n{examples}\n\nRun 'resonator COMMAND --help' for each command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"resonator {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, mod in mods:
        p = sub.add_parser(
            name,
            help=f"{mod.HELP} (e.g. {mod.EXAMPLE})",
            description=mod.HELP,
            epilog=f"example:\n  {mod.EXAMPLE}" + getattr(mod, "MORE_EXAMPLES", ""),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        mod.configure(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .errors import ResonatorError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except ResonatorError as exc:
        print(f"resonator {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"resonator {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
