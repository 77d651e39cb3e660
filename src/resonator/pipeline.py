"""Two-stage pipelines: one thread produces items, a worker thread consumes them in order.

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

__all__ = ["pipeline"]


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
