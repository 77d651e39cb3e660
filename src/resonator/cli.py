"""The ``resonator`` command line: a thin layer over the library.

Every subcommand calls documented library functions; this module only parses arguments,
prints, and frames every failure as one line:

* :class:`resonator.errors.ResonatorError` -> ``resonator CMD: error: MESSAGE`` on stderr and
  its exit code (2 for bad input or an output that cannot be written);
* a usage error (unknown option, bad value) -> one line naming the option, exit 2;
* Ctrl-C (``SIGINT``), ``SIGTERM`` and ``SIGHUP`` -> every temporary removed,
  ``resonator CMD: interrupted (SIGTERM)``, exit 128 + the signal number;
* a full disk or quota, a read-only file system (``ENOSPC``, ``EDQUOT``, ``EROFS``) while
  writing -> one line naming the file when known and what to do, exit 2 (not a bug: the
  output's temporaries are removed as for any failure);
* standard output closed early (``resonator check --kinds | head -1``) -> quiet, exit 0 (the
  reader chose to stop reading; :func:`resonator.outputs.echo` lets the command finish its
  files);
* anything else is a bug: one line asking for a report (``RESONATOR_DEBUG=1`` shows the
  traceback), exit 70.
"""
from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys

from .commands import COMMANDS

#: exit code of a bug (EX_SOFTWARE)
EXIT_BUG = 70


def _load(name: str):
    module = "import_" if name == "import" else name
    return importlib.import_module(f"resonator.commands.{module}")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``resonator render: error: argument --rate: ...``."""

    def error(self, message):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    mods = [(n, _load(n)) for n in COMMANDS]
    examples = "\n".join(f"  {m.EXAMPLE}" for _, m in mods)
    parser = _Parser(
        prog="resonator",
        description="Render entrainment session soundtracks from recipes and verify them.",
        epilog=f"examples:\n{examples}\n\nRun 'resonator COMMAND --help' for each command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"resonator {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
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
    parser.set_defaults(_commands=sub.choices)
    return parser


def _unknown_options(args, extra: list[str]) -> None:
    """Refuse what the command did not take, named by the command, with the closest option
    (``resonator render: error: unrecognized arguments: --strat 1m; did you mean '--start'?``)."""
    from .units import did_you_mean

    cmd = args._commands.get(getattr(args, "command", None))
    hint = ""
    first = next((x for x in extra if x.startswith("--")), None)
    if cmd is not None and first:
        options = [o[2:] for a in cmd._actions for o in a.option_strings if o.startswith("--")]
        hint = did_you_mean(first.split("=")[0][2:], options).replace("'", "'--", 1)
    (cmd or args._parser).error(f"unrecognized arguments: {' '.join(extra)}{hint}")


_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


def _raise_interrupted(signum, frame):
    from .outputs import Interrupted

    # every signal raises again: a library that swallowed the first one (a bare except around
    # an import) must not leave a run that ignores the next; the temporaries are unnamed, so
    # an interrupted cleanup leaves nothing either
    raise Interrupted(signum)


def _install_signal_handlers() -> dict:
    """SIGINT, SIGTERM and SIGHUP raise :class:`resonator.outputs.Interrupted` in the main
    thread (so every ``finally`` and context manager cleans up); returns the old handlers."""
    old = {}
    for name in _SIGNALS:
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            if name != "SIGINT" and signal.getsignal(sig) == signal.SIG_IGN:
                continue  # nohup: keep ignoring the hang-up
            old[sig] = signal.signal(sig, _raise_interrupted)
        except (ValueError, OSError):  # not the main thread (an embedding application)
            pass
    return old


def _restore(old: dict) -> None:
    for sig, handler in old.items():
        try:
            signal.signal(sig, handler)
        except (ValueError, OSError, TypeError):  # pragma: no cover
            pass


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit code (see the module docstring)."""
    from ._process import tune

    tune()  # one BLAS thread, a malloc top pad: before numpy loads
    parser = build_parser()
    name = ["resonator"]

    def run() -> int:
        try:
            args, extra = parser.parse_known_args(argv)
            if extra:
                args._parser = parser
                _unknown_options(args, extra)
        except SystemExit as exc:  # --help, --version, a usage error (already printed)
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
        if not getattr(args, "_run", None):
            parser.print_help()
            return 2
        name[0] = f"resonator {args.command}"
        return int(args._run(args) or 0)
    return framed(lambda: name[0], run)


def framed(command, run) -> int:
    """Run ``run()`` inside the command line's error frame (module docstring) and return the
    exit code: signals handled, every failure one line on stderr prefixed with ``command``
    (a string, or a callable giving it once known). For other entry points such as
    ``python -m resonator.demo``."""
    from .errors import ResonatorError
    from .outputs import Interrupted

    label = command if callable(command) else (lambda: command)
    old = _install_signal_handlers()
    try:
        return int(run() or 0)
    except ResonatorError as exc:
        _print_err(f"{label()}: error: {exc}")
        return exc.exit_code
    except Interrupted as exc:
        _print_err(f"{label()}: interrupted ({exc.signame}); no partial file was left")
        return 128 + exc.signum
    except KeyboardInterrupt:
        _print_err(f"{label()}: interrupted; no partial file was left")
        return 128 + signal.SIGINT
    except BrokenPipeError:
        from .outputs import silence_stdout

        silence_stdout()
        return 0
    except OSError as exc:
        line = _storage_error(exc)
        if line is None:
            return _bug(label, exc)
        _print_err(f"{label()}: error: {line}")
        return 2
    except Exception as exc:  # a bug: one line, the traceback on request
        return _bug(label, exc)
    finally:
        _restore(old)


def _bug(label, exc: BaseException) -> int:
    """One line asking for a report (the traceback with ``RESONATOR_DEBUG=1``): exit 70."""
    if os.environ.get("RESONATOR_DEBUG"):
        raise exc
    _print_err(f"{label()}: internal error ({type(exc).__name__}: {exc}); this is a bug "
               "in resonator, please report it with the command line (RESONATOR_DEBUG=1 "
               "shows the traceback)")
    return EXIT_BUG


def _storage_error(exc: OSError) -> str | None:
    """The one-line message for a write the storage refused (full, over quota, read-only),
    or None for any other OSError (a bug, unless a command reported it itself)."""
    import errno

    what = {errno.ENOSPC: "no space left on the device",
            errno.EDQUOT: "the disk quota is exhausted",
            errno.EROFS: "the file system is read-only"}.get(exc.errno)
    if what is None:
        return None
    where = f"{exc.filename}: " if exc.filename else ""
    return (f"{where}{what} while writing; free some space or write elsewhere (-o) and run "
            "again; no partial file was left")


def _print_err(line: str) -> None:
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):  # pragma: no cover - stderr closed
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
