"""``resonator check``: measure a render (or any audio file) against its targets.

Only formats: the work is :func:`resonator.check.check_file`. Nothing heavy is imported at
module level (no librosa, numba or matplotlib), so ``resonator --help`` stays fast. The JSON
structure of ``--json`` (also in :mod:`resonator.check`)::

    {"passed": true,                    # nothing failed and something passed
     "file": "renders/x.wav", "recipe": "recipes/x.toml" | null,
     "offset_s": 0.0,                   # session second of the file's first sample
     "duration_s": 2400.0,
     "results": [{"kind": "binaural_beat", "name": "metta-beat" | null,
                  "window": {"start_s": 690.0, "end_s": 1410.0, "phase": "metta",
                             "session_start_s": 690.0,
                             "session_end_s": 1410.0},       # file seconds
                  "expected": 6.2,              # or "falling" / "rising" for trends
                  "measured": 6.1987 | null,    # null: nothing could be measured
                  "tolerance": 0.2, "unit": "Hz", "passed": true,   # null: inconclusive
                  "status": "pass",             # pass | fail | inconclusive
                  "rule": "every window within 6.200 Hz +- 0.200 Hz",
                  "layer": "beat" | null, "source": "recipe|layer|session|cli",
                  "detail": {...}}],            # sub-windows, rho, rule, error
     "skipped": [{"kind": ..., "window": {...}, "layer": ..., "reason": "..."}],
     "lints": [{"code", "message", "file", "line", "path", "place"}]}   # design lints

Exit codes: 0 every target passed, 1 a target failed, 2 bad input.
"""
from __future__ import annotations

import argparse
import sys

from ..units import arg_type, check_scale

NAME = "check"
HELP = "measure a render (or any audio file) against the recipe's written and implied targets"
EXAMPLE = "resonator check renders/mettannealing.wav"
MORE_EXAMPLES = (
    "\n  resonator check renders/focus.wav recipes/focus.toml --json focus-check.json"
    "\n  resonator check music.flac --target am_rate:0-60:16Hz:0.1 --plot check.png"
    "\n  resonator check window.wav --target session:am_rate:24m-24m30s:5Hz"
    "\n  resonator check --kinds"
    "\n\nexit codes: 0 nothing failed (inconclusive readings neither pass nor fail), 1 a target"
    " failed, 2 bad input"
)


class _ListKinds(argparse.Action):
    """``--kinds``: print every target kind and exit (no RENDER needed)."""

    def __init__(self, option_strings, dest, **kw):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kw)

    def __call__(self, parser, namespace, values, option_string=None):
        from ..check.kinds import kinds_table
        from ..outputs import echo

        echo(kinds_table())
        parser.exit(0)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kinds", action=_ListKinds,
                        help="list every target kind (unit, default tolerance, method) and exit")
    parser.add_argument("render", metavar="RENDER", help="audio file (WAV, FLAC, OGG, MP3)")
    parser.add_argument("recipe", metavar="RECIPE", nargs="?",
                        help="recipe, or a TOML file with only [[target]] tables "
                             "(default: the recipe named in RENDER's JSON sidecar)")
    parser.add_argument("--target", metavar="[session:]KIND:START-END:EXPECTED[:TOL]",
                        action="append", default=[],
                        help="an extra target, e.g. binaural_beat:0-60:6Hz:0.05 or "
                        "loudness_trend:10m-end:falling:0.3; times are the file's own, or the "
                        "session's after session: (repeatable; see --kinds)")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON ('-' for "
                        "standard output)")
    parser.add_argument("--plot", metavar="FILE.png", help="draw spectrogram, envelope and "
                        "short-term loudness with the targets marked")
    parser.add_argument("--tolerance-scale", metavar="X", type=arg_type(check_scale, "scale"),
                        default=1.0,
                        help="multiply every tolerance by X (default 1)")
    parser.add_argument("--no-sidecar", action="store_true",
                        help="ignore RENDER's JSON sidecar (recipe, window offset)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print only the summary line")


def run_check(render, recipe=None, *, targets=(), json_path=None, plot_path=None,
              tolerance_scale: float = 1.0, use_sidecar: bool = True, quiet: bool = False) -> int:
    """Check a file, print the table, write JSON/plot; return the exit code (0 or 1).

    Shared by ``resonator check`` and ``resonator render --check``.
    """
    from ..check import check_file, format_table, parse_target_arg, plot_report, write_json
    from ..outputs import echo  # quiet once the reader of standard output has gone (| head)
    from ..progress import TerminalProgress

    check_report_outputs(render, recipe, json_path=json_path, plot_path=plot_path,
                         use_sidecar=use_sidecar)
    extra = [parse_target_arg(t) for t in targets]
    with TerminalProgress(units={"scanning": "frame", "measuring": "target"}) as bar:
        report = check_file(render, recipe, targets=extra, tolerance_scale=tolerance_scale,
                            use_sidecar=use_sidecar, progress=bar)
    for lint in report.lints:
        print(f"warning: {lint}", file=sys.stderr)
    table = format_table(report)
    if json_path != "-":
        echo(table if not quiet else table.splitlines()[-1])
    if json_path:
        write_json(report, json_path)
    if plot_path:
        path = plot_report(report, plot_path)
        if json_path != "-" and not quiet:
            echo(f"plot written to {path}")
    return 0 if report.passed else 1


def check_report_outputs(render, recipe=None, *, json_path=None, plot_path=None,
                         use_sidecar: bool = True) -> None:
    """Check ``--json`` and ``--plot`` before measuring: writable, a known extension, and none
    of the inputs (the render, its sidecar, the recipe). Existing report files are replaced."""
    from pathlib import Path

    from ..outputs import FIGURE_SUFFIXES, check_output

    inputs = [render, recipe if isinstance(recipe, (str, Path)) else None]
    if use_sidecar:
        inputs.append(Path(render).with_suffix(".json"))
    if json_path and json_path != "-":
        check_output(json_path, option="--json", suffixes=(".json",), inputs=inputs, force=True)
    if plot_path:
        check_output(plot_path, option="--plot", suffixes=FIGURE_SUFFIXES, inputs=inputs,
                     others=[json_path], force=True)


def run(args) -> int:
    return run_check(args.render, args.recipe, targets=args.target, json_path=args.json,
                     plot_path=args.plot, tolerance_scale=args.tolerance_scale,
                     use_sidecar=not args.no_sidecar, quiet=args.quiet)
