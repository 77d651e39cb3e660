"""Whole-process settings for the command line, applied once before numpy loads.

- One BLAS thread (``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``; a value the user set wins).
  resonator's matrix products are small (a block's mel or chroma bands): a second OpenBLAS
  thread gains nothing on them and then busy-waits after every product, taking a core from
  resonator's own worker thread (:mod:`resonator.pipeline`). ``resonator analyze`` of a
  5-minute track spent 3.5 s of its 7 s CPU time in that spinning.
- glibc keeps 64 MB free at the top of each heap (``mallopt(M_TOP_PAD)``) instead of returning
  every freed block-sized temporary to the kernel and faulting fresh zeroed pages in again on
  the next block: ``resonator analyze`` of a 5-minute track took a million page faults and
  1.7 s of system time without it, 41 thousand and 0.2 s with it (peak RSS +2 %). Skipped when
  any ``MALLOC_*`` variable is set (the user tunes malloc) or the C library has no ``mallopt``.

Library users who want the same in their own process call :func:`tune` before importing numpy
(the BLAS setting only takes effect then; the malloc one at any time).
"""
from __future__ import annotations

import os
import sys

#: free bytes glibc keeps at the top of a heap (``M_TOP_PAD``)
TOP_PAD_BYTES = 64 << 20
_M_TOP_PAD = -2  # glibc malloc.h
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

        ctypes.CDLL(None).mallopt(_M_TOP_PAD, TOP_PAD_BYTES)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass
