"""A JSON Lines results log: one record per line, written as results arrive, read to resume.

Used by the batch analysis (one record per file) and by sweeps (one record per variant). The
log is the run's memory: a record is appended (and flushed to disk) the moment its result
arrives, so a run stopped in any way keeps everything finished before it; the next run reads
the log and skips what is in it.

* One writer at a time: the log is locked (``flock``) while a run has it open; a second run
  on the same log is refused with a clear message.
* A run killed in the middle of a line leaves a partial last line: it is cut off when the log
  is opened again (the result it held is simply done again).
* Records are read back by byte offset, so the index of a log with 100,000 records holds
  offsets and a few fields, never the records themselves.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

from ..errors import ResonatorError

__all__ = ["ResultsLog"]


class ResultsLog:
    """An append-only JSON Lines file, open for one run.

    Parameters
    ----------
    path : str or Path
        The log (created when missing; its folder must exist).
    option : str
        The option that named it, for messages (``"--jsonl"``).

    Attributes
    ----------
    path : Path
    """

    def __init__(self, path, *, option: str = "results log"):
        import fcntl

        self.path = Path(path)
        self.option = option
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC,
                               0o666)
        except OSError as exc:
            raise ResonatorError(f"cannot open the results log ({exc.strerror})",
                                 f"{option} {self.path}") from None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise ResonatorError("another run is writing this results log now; wait for it "
                                 "or give this run another file", f"{option} {self.path}") from None
        except OSError:
            pass  # a file system without locks: one run at a time is then the user's care
        self._repair()

    def _repair(self) -> None:
        """Cut a partial last line (a run killed while writing it)."""
        size = os.fstat(self._fd).st_size
        if size == 0:
            return
        if os.pread(self._fd, 1, size - 1) == b"\n":
            return
        pos, chunk = size, 1 << 16
        while pos > 0:
            start = max(0, pos - chunk)
            buf = os.pread(self._fd, pos - start, start)
            i = buf.rfind(b"\n")
            if i >= 0:
                os.ftruncate(self._fd, start + i + 1)
                return
            pos = start
        os.ftruncate(self._fd, 0)

    def scan(self) -> Iterator[tuple[int, dict]]:
        """Yield ``(offset, record)`` for every record in the log, in order (lines that are
        not JSON objects are passed over)."""
        with open(os.dup(self._fd), "rb", closefd=True) as fh:
            fh.seek(0)
            offset = 0
            for line in fh:
                here = offset
                offset += len(line)
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rec, dict):
                    yield here, rec

    def read(self, offset: int) -> dict:
        """The record that starts at byte ``offset``."""
        out = bytearray()
        pos = offset
        while True:
            buf = os.pread(self._fd, 1 << 16, pos)
            if not buf:
                break
            i = buf.find(b"\n")
            if i >= 0:
                out += buf[:i]
                break
            out += buf
            pos += len(buf)
        return json.loads(out)

    def append(self, record: dict) -> int:
        """Write one record as one line, flushed to disk; return its offset."""
        line = (json.dumps(record, separators=(",", ":"), default=_plain) + "\n").encode()
        offset = os.fstat(self._fd).st_size
        try:
            os.write(self._fd, line)
            os.fsync(self._fd)
        except OSError as exc:
            raise ResonatorError(f"cannot write the results log ({exc.strerror}); what was "
                                 "written before is kept: run again to continue",
                                 f"{self.option} {self.path}") from None
        return offset

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # the lock goes with the descriptor
            self._fd = None

    def __enter__(self) -> "ResultsLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _plain(value):
    """numpy scalars and paths as JSON."""
    if hasattr(value, "item"):
        return value.item()
    return str(value)
