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

The per-frame features themselves (float32 onset envelopes, chroma, amplitude envelope) are
kept by :class:`FrameStore`: in memory up to :data:`SPILL_BYTES` each, beyond that in an
anonymous temporary file (:class:`SpilledArray`, read back in slices with ``pread``), so what
the analysis holds does not grow with the duration. The file has no name (``O_TMPFILE`` on
Linux; elsewhere it is unlinked as soon as it is made): nothing is left on disk whatever ends
the run. Its pages live in the page cache, not in the process (a memory map would count them
in the process's resident size). Every step reads its inputs by contiguous slices
(``x[a:b]``, :func:`head`, ``len``), so plain arrays and spilled ones give the same bits.
"""
from __future__ import annotations

import os
import weakref

import numpy as np

#: frames per block (about 6 minutes at 172 frames/s; 512 kB of float64)
BLOCK = 1 << 16
#: bytes a :class:`FrameStore` keeps in memory before it spills to its temporary file
SPILL_BYTES = 1 << 18
#: centres per step of :meth:`FrameSignal.windows`
WINDOW_ROWS = 2048


class _SpillFile:
    """An anonymous temporary file read and written at offsets (``pread``/``pwrite``).

    ``tempfile.TemporaryFile`` makes it (``O_TMPFILE`` on Linux: no name ever exists); the
    descriptor is closed when the last :class:`SpilledArray` reading it goes.

    Raises
    ------
    OSError
        The file cannot be made (no writable temporary folder).
    """

    def __init__(self):
        import tempfile

        with tempfile.TemporaryFile(buffering=0) as f:
            self.fd = os.dup(f.fileno())  # (not inherited by child processes)
        self._close = weakref.finalize(self, os.close, self.fd)

    def write(self, offset: int, data: np.ndarray) -> None:
        view = memoryview(np.ascontiguousarray(data)).cast("B")
        done = 0
        while done < view.nbytes:
            done += os.pwrite(self.fd, view[done:], offset + done)

    def read_into(self, offset: int, out: np.ndarray) -> None:
        view = memoryview(out).cast("B")
        done = 0
        while done < view.nbytes:
            got = os.preadv(self.fd, [view[done:]], offset + done)
            if got <= 0:
                raise OSError(f"the analysis's temporary file ended early ({offset + done})")
            done += got

    def close(self) -> None:
        self._close()


class SpilledArray:
    """A read-only array whose rows are in a :class:`_SpillFile`; slices are read on demand.

    Supports ``len``, ``shape``, ``size``, ``ndim``, ``dtype``, ``x[a:b]`` and ``x[i]`` (read
    into a new array), ``x[a:b, ...]``, :meth:`head` (a shorter view, nothing read) and
    ``np.asarray(x)`` (reads it all: plots and tests only; the analysis reads slices).
    """

    def __init__(self, file: _SpillFile, rows: int, tail: tuple, dtype):
        self._file = file
        self._rows = int(rows)
        self._tail = tuple(tail)
        self.dtype = np.dtype(dtype)
        self._row_bytes = self.dtype.itemsize * int(np.prod(self._tail, dtype=np.int64))

    @property
    def shape(self) -> tuple:
        return (self._rows,) + self._tail

    @property
    def ndim(self) -> int:
        return 1 + len(self._tail)

    @property
    def size(self) -> int:
        return self._rows * int(np.prod(self._tail, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self._rows * self._row_bytes

    def __len__(self) -> int:
        return self._rows

    def head(self, n: int) -> "SpilledArray":
        """The first ``n`` rows (all when there are fewer), reading nothing."""
        return SpilledArray(self._file, min(self._rows, max(0, int(n))), self._tail, self.dtype)

    def read(self, a: int, b: int) -> np.ndarray:
        """Rows ``a`` to ``b - 1`` (``0 <= a <= b <= len``) as a new array."""
        out = np.empty((max(0, b - a),) + self._tail, self.dtype)
        if b > a:
            self._file.read_into(a * self._row_bytes, out)
        return out

    def __getitem__(self, key):
        rest = ()
        if isinstance(key, tuple):
            key, rest = key[0], key[1:]
        if isinstance(key, slice):
            a, b, step = key.indices(self._rows)
            if step > 0:
                out = self.read(a, max(a, b))[::step]
            else:
                out = self.read(max(0, b + 1), a + 1)[::-1][:: -step]
        elif isinstance(key, (int, np.integer)):
            i = int(key) + (self._rows if key < 0 else 0)
            if not 0 <= i < self._rows:
                raise IndexError(f"index {int(key)} is out of bounds for {self._rows} rows")
            return self.read(i, i + 1)[0][rest]
        else:
            raise TypeError("a spilled array is read by slices or single indices")
        return out[(slice(None),) + rest]

    def __array__(self, dtype=None, copy=None):
        out = self.read(0, self._rows)
        return out if dtype is None else out.astype(dtype, copy=False)

    def __repr__(self) -> str:
        return f"SpilledArray(shape={self.shape}, dtype={self.dtype})"


def head(x, n: int):
    """The first ``n`` rows of ``x`` (an array: a view; a :class:`SpilledArray`: a shorter one)."""
    return x.head(n) if isinstance(x, SpilledArray) else x[:n]


def as_frames(x):
    """``x`` itself when it is an array or a :class:`SpilledArray`, else ``np.asarray(x)``."""
    return x if isinstance(x, (np.ndarray, SpilledArray)) else np.asarray(x)


def amax(x) -> float:
    """Largest value of an array or :class:`SpilledArray`, read ``BLOCK`` rows at a time."""
    if isinstance(x, np.ndarray):
        return float(x.max())
    return max(float(x[a:a + BLOCK].max()) for a in range(0, len(x), BLOCK))


class FrameStore:
    """Rows appended block by block; in memory, or beyond :data:`SPILL_BYTES` in a temporary file.

    Without spilling the rows go into one array, made once at the expected size and grown by
    half when full (thousands of small per-block pieces scattered among the pass's large
    temporaries kept the heap from shrinking: peak RSS grew about 1 MB per minute of audio,
    and a joining copy doubled the largest feature for a moment). With spilling, at most
    :data:`SPILL_BYTES` of rows are held: when that buffer fills it is written to an anonymous
    temporary file and :meth:`array` gives a :class:`SpilledArray` (the same values, read back in
    slices); a store that never filled its buffer gives its array. Where no temporary file can
    be made or written (no space), the store keeps its rows in memory instead.

    Parameters
    ----------
    rows : int >= 0
        Expected rows (a guess: the array grows when it is short).
    width : int, optional
        Columns of each row (None: one value per row).
    dtype : numpy dtype
        Of the rows (default float32).
    spill : bool
        Spill beyond :data:`SPILL_BYTES` (default False: all in memory).
    """

    def __init__(self, rows: int, width: int | None = None, dtype=np.float32, *,
                 spill: bool = False):
        self._tail = () if width is None else (int(width),)
        self.dtype = np.dtype(dtype)
        row_bytes = self.dtype.itemsize * (self._tail[0] if self._tail else 1)
        self._cap = max(256, SPILL_BYTES // row_bytes) if spill else None
        rows = max(int(rows), 256)
        self._a = np.empty((rows if self._cap is None else min(rows, self._cap),) + self._tail,
                           self.dtype)
        self._file = None  # the temporary file, once spilling
        self._spilled = 0  # rows in the file
        self._in_memory = 0  # rows in self._a
        self.n = 0

    def append(self, rows: np.ndarray) -> None:
        """Append rows."""
        rows = np.asarray(rows)
        while rows.shape[0]:
            m, room = rows.shape[0], self._a.shape[0] - self._in_memory
            if room == 0 or (self._cap is None and m > room):
                if self._cap is None or self._a.shape[0] < self._cap or not self._flush():
                    self._grow(m)
                continue
            k = min(room, m)
            self._a[self._in_memory:self._in_memory + k] = rows[:k]
            self._in_memory += k
            self.n += k
            rows = rows[k:]

    def _grow(self, m: int) -> None:
        size = max(self._in_memory + m, self._a.shape[0] * 3 // 2)
        if self._cap is not None:
            size = min(size, self._cap)
        grown = np.empty((size,) + self._tail, self.dtype)
        grown[: self._in_memory] = self._a[: self._in_memory]
        self._a = grown

    def _flush(self) -> bool:
        """Write the buffer to the file; False (and no more spilling) when that fails."""
        try:
            if self._file is None:
                self._file = _SpillFile()
            self._file.write(self._spilled * self._a[:1].nbytes, self._a[: self._in_memory])
        except OSError:
            self._to_memory()
            return False
        self._spilled += self._in_memory
        self._in_memory = 0
        return True

    def _to_memory(self) -> None:
        """Stop spilling: the rows in the file come back into memory."""
        if self._file is not None and self._spilled:
            back = SpilledArray(self._file, self._spilled, self._tail, self.dtype).read(
                0, self._spilled)
            self._a = np.concatenate((back, self._a[: self._in_memory]))
            self._in_memory = self._a.shape[0]
        if self._file is not None:
            self._file.close()
        self._file, self._spilled, self._cap = None, 0, None

    def array(self, n: int | None = None):
        """The first ``n`` rows (all by default; fewer when fewer were appended): an array, or a
        :class:`SpilledArray` once the store has spilled."""
        n = self.n if n is None else min(self.n, int(n))
        if self._file is None:
            return self._a[:n]
        if self._in_memory and not self._flush():
            return self._a[:n]
        return SpilledArray(self._file, self._spilled, self._tail, self.dtype).head(n)


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

    @property
    def size(self) -> int:
        """Its length in frames."""
        return self.n

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
        frames outside ``[0, n)`` read ``fill``. (``WINDOW_ROWS`` centres at a time: the
        index arithmetic does not grow with ``k``.)"""
        c = np.asarray(centres, dtype=np.int64).ravel()
        offsets = np.arange(-int(before), int(after) + 1)
        out = np.full((c.size, offsets.size), fill, dtype=np.float64)
        for i in range(0, c.size, WINDOW_ROWS):
            idx = c[i:i + WINDOW_ROWS, None] + offsets[None, :]
            ok = (idx >= 0) & (idx < self.n)
            out[i:i + WINDOW_ROWS][ok] = self.take(idx[ok])
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


def _float32_ranks(x, ranks) -> list:
    """The values of the given ranks (0-based) of a float32 array or :class:`SpilledArray`
    without NaN, exactly, in two passes of ``BLOCK`` values: each value's bits as an integer
    that orders like the value, histograms of its upper 16 bits, then of the lower 16 bits
    of the values in the chosen upper bins."""
    def keys(v):  # 0 .. 2^32 - 1, ordered as the values (-0.0 and 0.0 alike)
        i = np.ascontiguousarray(v, dtype=np.float32).view(np.int32).astype(np.int64)
        return np.where(i < 0, -(i & 0x7FFFFFFF), i) + (1 << 31)

    n = len(x)
    high = np.zeros(1 << 16, dtype=np.int64)
    for a in range(0, n, BLOCK):
        high += np.bincount(keys(x[a:a + BLOCK]) >> 16, minlength=1 << 16)
    cum = np.cumsum(high)
    where = [(int(h), int(r) - (int(cum[h - 1]) if h else 0)) for r in ranks
             for h in [np.searchsorted(cum, r, side="right")]]
    low = {h: np.zeros(1 << 16, dtype=np.int64) for h, _ in where}
    for a in range(0, n, BLOCK):
        k = keys(x[a:a + BLOCK])
        for h, counts in low.items():
            counts += np.bincount(k[(k >> 16) == h] & 0xFFFF, minlength=1 << 16)
    out = []
    for h, r in where:
        key = (h << 16 | int(np.searchsorted(np.cumsum(low[h]), r, side="right"))) - (1 << 31)
        bits = key if key >= 0 else (-key) | -(1 << 31)
        out.append(float(np.array([bits], dtype=np.int32).view(np.float32)[0]))
    return out


def percentiles(x, q) -> np.ndarray:
    """``np.percentile(x, q)`` (its default, linear interpolation) of a 1-D array or
    :class:`SpilledArray` holding no NaN, bit for bit.

    A spilled array is never read whole: each order statistic is selected exactly (float32:
    two histogram passes; else :meth:`FrameSignal.kth`) and interpolated as numpy does.

    Parameters
    ----------
    x : np.ndarray or SpilledArray [shape=(n,)], n >= 1
    q : sequence of number in [0, 100]

    Returns
    -------
    np.ndarray [shape=(len(q),)]
    """
    if isinstance(x, np.ndarray) or len(x) <= BLOCK:
        return np.percentile(np.asarray(x), q)
    n = len(x)
    virtual = (n - 1) * np.true_divide(np.asarray(q, dtype=np.float64), 100)
    prev = np.floor(virtual)
    gamma = virtual - prev
    at = [int(i) for i in prev] + [min(int(i) + 1, n - 1) for i in prev]
    if x.dtype == np.float32:
        vals = np.array(_float32_ranks(x, at), dtype=x.dtype)
    else:
        sig = FrameSignal(n, lambda a, b: x[a:b])
        vals = np.array([sig.kth(k) for k in at], dtype=x.dtype)
    a, b = vals[: prev.size], vals[prev.size:]
    # numpy's _lerp: a + (b - a) t, or b - (b - a)(1 - t) where t >= 0.5
    d = b - a
    out = np.add(a, d * gamma)
    np.subtract(b, d * (1 - gamma), out=out, where=gamma >= 0.5, casting="unsafe",
                dtype=type(out.dtype))
    return out


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
