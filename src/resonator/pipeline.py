"""Work beside the calling thread: two-stage pipelines (one thread produces items, a worker
thread consumes them in order) and one job in the background (:class:`Background`).

Used where one pass over audio feeds several independent consumers (the check scan, the
music-analysis features, the render's measuring pass): the consumers on the worker see the
same calls in the same order as in a plain loop, so results are identical, while the other
core reads, resamples or renders the next blocks (numpy's FFTs and the compiled kernels
release the GIL).
"""
from __future__ import annotations

import queue
import threading
from typing import Callable, Iterable

__all__ = ["pipeline", "Background", "Cancelled"]


def pipeline(items: Iterable[tuple], consume: Callable[..., None], depth: int = 4) -> None:
    """``consume(*item)`` for every item, in order, on a worker thread.

    Parameters
    ----------
    items : iterable of tuple
        Iterated on the calling thread (a generator may do its own work between items: that
        work overlaps with ``consume`` of the items already handed over).
    consume : callable
        Called on the worker thread with each item's fields.
    depth : int >= 1
        At most this many items wait between the two threads (bounded memory).

    Raises
    ------
    BaseException
        The first error of either side (the other side stops); an interrupt on the calling
        thread stops the worker after the item it is consuming.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    failed: list[BaseException] = []

    def work():
        try:
            while True:
                item = q.get()
                if item is None:
                    return
                consume(*item)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            failed.append(exc)
            while q.get() is not None:  # keep the producer from blocking
                pass

    worker = threading.Thread(target=work, name="resonator-pipeline", daemon=True)
    worker.start()
    try:
        for item in items:
            if failed:
                break
            q.put(item)
    finally:
        q.put(None)
        worker.join()
    if failed:
        raise failed[0]


class Background:
    """``fn()`` running on a daemon thread, started at once.

    ``fn`` is given a ``cancelled()`` callable it should consult between steps (it then
    raises :class:`Cancelled` to stop early).

    Parameters
    ----------
    fn : callable(cancelled) -> object
    name : str
        Thread name.
    """

    def __init__(self, fn: Callable, name: str = "resonator-background"):
        self._done = threading.Event()
        self._cancel = threading.Event()
        self._value = None
        self._error: BaseException | None = None

        def run():
            try:
                self._value = fn(self._cancel.is_set)
            except BaseException as exc:  # noqa: BLE001 - re-raised by result()
                self._error = exc
            finally:
                self._done.set()

        threading.Thread(target=run, name=name, daemon=True).start()

    def done(self) -> bool:
        """True once ``fn`` has returned or raised."""
        return self._done.is_set()

    def result(self, poll: Callable[[], None] | None = None, every_s: float = 0.1):
        """Wait for ``fn``; return its value or raise its error. ``poll()`` is called about
        every ``every_s`` seconds while waiting (progress)."""
        while not self._done.wait(every_s if poll is not None else None):
            poll()
        if self._error is not None:
            raise self._error
        return self._value

    def cancel(self) -> None:
        """Ask ``fn`` to stop (it sees ``cancelled()`` turn true)."""
        self._cancel.set()


class Cancelled(Exception):
    """Raised by a :class:`Background` function that saw its ``cancelled()`` turn true."""
