"""Progress of a batch: items done, failures, rate and time left.

On a terminal: a tqdm bar on stderr (done/total, failures, elapsed, ETA). Elsewhere (a log, a
pipe): a plain line at most every ``every_s`` seconds and at the end. Lines printed with
:meth:`BatchProgress.write` appear above the bar without breaking it.
"""
from __future__ import annotations

import sys
import time

from ..units import format_duration

__all__ = ["BatchProgress"]


class BatchProgress:
    """Progress of ``total`` work items.

    Parameters
    ----------
    total : int >= 0
        Items this run will do (items skipped before the run are not counted).
    desc : str
        What is done ("analyze", "sweep", "render").
    unit : str
        One item ("file", "variant", "recipe").
    stream : file, optional
        Default ``sys.stderr``.
    tty : bool, optional
        Force the bar (True) or plain lines (False); default ``stream.isatty()``.
    quiet : bool
        Nothing at all.
    every_s : float > 0
        Plain mode: seconds between lines.
    """

    def __init__(self, total: int, desc: str, *, unit: str = "file", stream=None,
                 tty: bool | None = None, quiet: bool = False, every_s: float = 30.0):
        self.total = int(total)
        self.desc = desc
        self.unit = unit
        self.stream = stream or sys.stderr
        self.tty = (self.stream.isatty() if tty is None else tty) and not quiet
        self.quiet = quiet
        self.every_s = every_s
        self.done = 0
        self.failed = 0
        self.t0 = time.monotonic()
        self._last = self.t0
        self.bar = None
        if self.tty and self.total:
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, desc=desc, unit=unit, file=self.stream,
                            dynamic_ncols=True, smoothing=0.05,
                            bar_format="{desc}: {n_fmt}/{total_fmt} {unit}s |{bar}| "
                                       "{elapsed}<{remaining}, {rate_fmt}{postfix}")
            self.bar.set_postfix_str("0 failed", refresh=False)

    def update(self, ok: bool = True) -> None:
        """One item finished (``ok=False``: it failed)."""
        self.done += 1
        self.failed += not ok
        if self.bar is not None:
            if not ok:
                self.bar.set_postfix_str(f"{self.failed} failed", refresh=False)
            self.bar.update(1)
        elif not self.quiet:
            now = time.monotonic()
            if now - self._last >= self.every_s and self.done < self.total:
                self._last = now
                print(self.line(), file=self.stream, flush=True)

    def line(self) -> str:
        """``"analyze: 120/400 files, 2 failed, 31.5 files/min, about 9m left"``."""
        elapsed = time.monotonic() - self.t0
        text = f"{self.desc}: {self.done}/{self.total} {self.unit}s, {self.failed} failed"
        if self.done and elapsed > 0:
            rate = self.done / elapsed
            text += f", {60 * rate:.1f} {self.unit}s/min"
            left = self.total - self.done
            if left > 0:
                text += f", about {format_duration(round(left / rate))} left"
            else:
                text += f", {format_duration(round(elapsed))} in all"
        return text

    def write(self, text: str, stream=None) -> None:
        """Print a line (on ``stream``, default stdout) above the bar; a closed pipe on stdout
        (``| head``) ends the printing, not the run."""
        from ..outputs import echo

        if self.bar is not None:
            self.bar.clear()
        if stream is None or stream is sys.stdout:
            echo(text)
        else:
            print(text, file=stream, flush=True)
        if self.bar is not None:
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        elif not self.quiet and self.done:  # (nothing ran: no summary)
            print(self.line(), file=self.stream, flush=True)
