"""Progress of long commands on a terminal: one bar per stage on standard error.

Library functions take a plain callback ``progress(stage, done, total)`` (``stage`` a short
label such as ``"reading"``; ``done`` and ``total`` counts of frames or targets, ``total`` 0
when unknown). :class:`TerminalProgress` is such a callback for the command line: a tqdm bar
per stage when standard error is a terminal, nothing otherwise (logs and pipes stay clean).

>>> from resonator.progress import TerminalProgress
>>> with TerminalProgress() as bar:                      # doctest: +SKIP
...     analyze_file("track.flac", progress=bar)
"""
from __future__ import annotations

import sys

__all__ = ["TerminalProgress"]


class TerminalProgress:
    """A ``progress(stage, done, total)`` callback drawing tqdm bars on a terminal.

    Parameters
    ----------
    stream : file, optional
        Default ``sys.stderr``.
    enabled : bool, optional
        Force bars on or off; default: ``stream.isatty()``.
    units : dict, optional
        Unit shown per stage (``{"reading": "frame"}``); frames are shown scaled (k, M).
    mininterval : float
        Least time in seconds between redraws.
    """

    def __init__(self, stream=None, enabled: bool | None = None, units: dict | None = None,
                 mininterval: float = 0.1):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else bool(enabled)
        self.units = dict(units or {})
        self.mininterval = float(mininterval)
        self.stage = None
        self.bar = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if stage != self.stage:
            self.close()
            from tqdm import tqdm

            unit = self.units.get(stage, "")
            self.bar = tqdm(total=total or None, desc=stage, unit=unit or "it",
                            unit_scale=unit == "frame", file=self.stream, dynamic_ncols=True,
                            leave=False, mininterval=self.mininterval)
            self.stage = stage
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        """Remove the current bar (call when done, and on errors)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        self.stage = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
