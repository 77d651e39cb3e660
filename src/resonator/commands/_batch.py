"""Options shared by the commands that run on the batch executor (analyze, render, sweep)."""
from __future__ import annotations

import argparse


def add_executor_options(parser: argparse.ArgumentParser) -> None:
    """``--jobs`` and ``--cluster`` (shared by analyze, render and sweep)."""
    from ..batch.executor import default_jobs

    g = parser.add_mutually_exclusive_group()
    g.add_argument("--jobs", "-j", metavar="N", type=positive_int,
                   help=f"worker processes on this machine (default: its cores, here "
                        f"{default_jobs()}; 1 runs in this process)")
    g.add_argument("--cluster", metavar="ADDRESS",
                   help="run on a Dask distributed scheduler (e.g. tcp://10.0.0.5:8786, started "
                        "with 'dask scheduler'; workers with 'dask worker ADDRESS' need "
                        "resonator installed and the files at the same paths)")


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {n}")
    return n
