"""Per-frame signals computed block by block: whole-file results, memory that does not grow.

The analysis derives float64 signals from the float32 onset envelopes (standardised sums,
light smoothing, running maxima) and needs a few whole-signal numbers of them (maximum,
standard deviation, median) and their values near the beats. :class:`FrameSignal` computes
such a signal ``BLOCK`` frames at a time, each block from its sources with a margin on either
side, so every value is bit-identical to the one the whole-array computation gives (the
filters used are position independent away from the ends, and the true ends are the
array's own), and no array as long as the signal is ever made. The whole-signal statistics
are those of numpy on the whole float64 array, bit for bit: :func:`pairwise_sum` follows
numpy's pairwise summation, :meth:`FrameSignal.median` selects the exact middle values by
narrowing histograms.
"""
from __future__ import annotations

import numpy as np

#: frames per block (about 6 minutes at 172 frames/s; 512 kB of float64)
BLOCK = 1 << 16


def pairwise_sum(get, n: int, *, leaf: int = BLOCK) -> float:
    """``np.sum`` of a float64 array of length ``n`` given in pieces, bit for bit.

    numpy sums a contiguous float64 array by pairwise summation: halves (the first rounded
    down to a multiple of 8) summed recursively. Splitting the same way down to pieces of at
    most ``leaf`` values and summing each piece with numpy gives the same bits.

    Parameters
    ----------
    get : callable(a, b) -> np.ndarray [shape=(b - a,), dtype=float64]
        Values ``a`` to ``b - 1`` of the array.
    n : int >= 0
        Its length.
    leaf : int >= 128
        Largest piece asked for.

    Returns
    -------
    float
    """
    def rec(lo, m):
        if m <= leaf:
            return np.add.reduce(get(lo, lo + m)) if m else np.float64(0.0)
        h = m // 2
        h -= h % 8
        return rec(lo, h) + rec(lo + h, m - h)

    return rec(0, int(n))


class FrameSignal:
    """A float64 signal of ``n`` frames computed ``BLOCK`` frames at a time.

    Parameters
    ----------
    n : int >= 0
        Length in frames.
    compute : callable(a, b) -> np.ndarray [shape=(b - a,)]
        Values of frames ``a`` to ``b - 1`` (float64), exact for any ``0 <= a < b <= n``
        (compute from the sources with a margin and cut it off; see :func:`smoothed`).
    block : int >= 128, optional
        Frames per block (default :data:`BLOCK`).
    """

    def __init__(self, n: int, compute, *, block: int | None = None):
        self.n = int(n)
        self.compute = compute
        self.block = BLOCK if block is None else int(block)

    def blocks(self):
        """Yield ``(a, values)`` for consecutive blocks starting at frame ``a``."""
        for a in range(0, self.n, self.block):
            yield a, self.compute(a, min(a + self.block, self.n))

    def max(self) -> float:
        """Largest value (``np.max`` of the whole signal)."""
        return max(float(v.max()) for _, v in self.blocks())

    def sum(self) -> float:
        """``np.sum`` of the whole signal, bit for bit (:func:`pairwise_sum`)."""
        return float(pairwise_sum(self.compute, self.n, leaf=self.block))

    def std(self) -> float:
        """``np.std`` of the whole signal, bit for bit."""
        if self.n == 0:
            return float("nan")
        mean = np.float64(pairwise_sum(self.compute, self.n, leaf=self.block)) / self.n

        def sq(a, b):
            d = self.compute(a, b) - mean
            return np.multiply(d, d, out=d)

        return float(np.sqrt(pairwise_sum(sq, self.n, leaf=self.block) / self.n))

    def take(self, idx) -> np.ndarray:
        """Values at the frames ``idx`` (any shape, each in ``[0, n)``)."""
        idx = np.asarray(idx, dtype=np.int64)
        out = np.empty(idx.shape)
        flat, res = idx.ravel(), out.ravel()
        order = np.argsort(flat, kind="stable")
        sorted_idx = flat[order]
        for a in range(0, self.n, self.block):
            i0, i1 = np.searchsorted(sorted_idx, [a, a + self.block])
            if i1 > i0:
                lo, hi = int(sorted_idx[i0]), int(sorted_idx[i1 - 1]) + 1
                res[order[i0:i1]] = self.compute(lo, hi)[sorted_idx[i0:i1] - lo]
        return out

    def windows(self, centres, before: int, after: int, fill: float = -np.inf) -> np.ndarray:
        """Values of frames ``c - before .. c + after`` around each centre ``c``, (k, width);
        frames outside ``[0, n)`` read ``fill``."""
        c = np.asarray(centres, dtype=np.int64)
        idx = c[:, None] + np.arange(-int(before), int(after) + 1)[None, :]
        ok = (idx >= 0) & (idx < self.n)
        out = np.full(idx.shape, fill, dtype=np.float64)
        out[ok] = self.take(idx[ok])
        return out

    def kth(self, k: int) -> float:
        """The ``k``-th smallest value (0-based) of the signal (no NaN), exactly: histograms
        narrowed around it until its bin holds at most a block of values, which are sorted."""
        lo, hi = np.inf, -np.inf
        for _, x in self.blocks():
            lo, hi = min(lo, float(x.min())), max(hi, float(x.max()))
        below = 0  # values < lo; the k-th lies in [lo, hi]
        bins = 4096
        while lo < hi:
            edges = np.linspace(lo, hi, bins + 1)
            counts = np.zeros(bins, dtype=np.int64)
            for _, x in self.blocks():
                sel = x[(x >= lo) & (x <= hi)]
                j = np.minimum(np.searchsorted(edges, sel, side="right") - 1, bins - 1)
                counts += np.bincount(j, minlength=bins)
            cum = below + np.cumsum(counts)
            j = int(np.searchsorted(cum, k, side="right"))
            # bin j holds edges[j] <= x < edges[j + 1] (the last one up to hi itself)
            new_lo = float(edges[j])
            new_hi = hi if j == bins - 1 else float(np.nextafter(edges[j + 1], -np.inf))
            below = int(cum[j - 1]) if j else below
            if counts[j] <= self.block or (new_lo, new_hi) == (lo, hi):
                vals = np.concatenate([x[(x >= new_lo) & (x <= new_hi)] for _, x in self.blocks()])
                vals.sort()
                return float(vals[k - below])
            lo, hi = new_lo, new_hi
        return lo

    def median(self) -> float:
        """``np.median`` of the whole signal, bit for bit (no NaN values)."""
        n = self.n
        if n % 2:
            return self.kth(n // 2)
        lo = self.kth(n // 2 - 1)
        # the next order statistic: lo again, or the smallest value above it (one more pass)
        at_most, above = 0, np.inf
        for _, x in self.blocks():
            at_most += int(np.count_nonzero(x <= lo))
            bigger = x[x > lo]
            if bigger.size:
                above = min(above, float(bigger.min()))
        hi = lo if at_most > n // 2 else above
        return float(np.mean(np.array([lo, hi])))


def smoothed(n: int, combine, sigma: float = 1.0, margin: int = 0,
             post=None, *, block: int | None = None) -> FrameSignal:
    """``post(gaussian_filter1d(combine(0, n), sigma))`` as a :class:`FrameSignal`.

    Parameters
    ----------
    n : int >= 0
        Length in frames.
    combine : callable(a, b) -> np.ndarray [shape=(b - a,), dtype=float64]
        The unsmoothed signal's frames ``a`` to ``b - 1`` (elementwise from the sources).
    sigma : number > 0
        Gaussian smoothing in frames (scipy's default ``mode="reflect"``, ``truncate=4``).
    margin : int >= 0
        Extra frames ``post`` reads on either side (a running maximum of width 3: 1).
    post : callable(np.ndarray) -> np.ndarray, optional
        A position-independent filter applied after the smoothing.
    block : int >= 128, optional
        Frames per block (default :data:`BLOCK`).
    """
    from scipy import ndimage

    r = int(4.0 * float(sigma) + 0.5) + int(margin)

    def compute(a, b):
        a0, b0 = max(0, a - r), min(n, b + r)
        y = ndimage.gaussian_filter1d(combine(a0, b0), sigma)
        if post is not None:
            y = post(y)
        return y[a - a0:b - a0]

    return FrameSignal(n, compute, block=block)
