"""Whole-process settings for the command line, applied once before numpy loads and before any
thread starts.

- One BLAS thread (``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``; a value the user set wins).
  resonator's matrix products are small (a block's mel or chroma bands): a second OpenBLAS
  thread gains nothing on them and then busy-waits after every product, taking a core from
  resonator's own worker thread (:mod:`resonator.pipeline`). ``resonator analyze`` of a
  5-minute track spent 3.5 s of its 7 s CPU time in that spinning.
- glibc keeps freed block arrays for the next blocks instead of returning every block-sized
  temporary to the kernel and faulting fresh zeroed pages in again on the next block: 64 MB
  free at the top of each heap (``M_TOP_PAD``), the heap trimmed only past 256 MB free
  (``M_TRIM_THRESHOLD``), mmap only for allocations of 32 MB and more (``M_MMAP_THRESHOLD``;
  glibc's default serves a few hundred kB arrays with fresh mmap'd pages, in worker threads'
  arenas always). ``resonator analyze`` of a 5-minute track took a million page faults and
  1.7 s of system time without them, 41 thousand and 0.2 s with them; a cached 60-minute
  render 300,000-760,000 faults and half its CPU time in the kernel, 8,000 with them. Peak
  memory is unchanged: what is kept is what the blocks used a moment before. Skipped when any
  ``MALLOC_*`` variable is set (the user tunes malloc) or the C library has no ``mallopt``.

Library users who want the same in their own process call :func:`tune` before importing numpy
(the BLAS setting only takes effect then; the malloc one at any time).
"""
from __future__ import annotations

import os
import sys

#: free bytes glibc keeps at the top of a heap (``M_TOP_PAD``)
TOP_PAD_BYTES = 64 << 20
#: free bytes at the top of a heap before glibc trims it (``M_TRIM_THRESHOLD``)
TRIM_THRESHOLD_BYTES = 256 << 20
#: smallest allocation glibc serves with its own mmap (``M_MMAP_THRESHOLD``)
MMAP_THRESHOLD_BYTES = 32 << 20
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3  # glibc malloc.h
_done = False


def tune() -> None:
    """Apply the settings above to this process (once; later calls do nothing)."""
    global _done
    if _done:
        return
    _done = True
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if not sys.platform.startswith("linux") or any(k.startswith("MALLOC_") for k in os.environ):
        return
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
        mallopt(_M_TOP_PAD, TOP_PAD_BYTES)
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)  # (before any thread starts)
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass
