"""A fused bank of constant-frequency sines summed into the output channels.

``SineBank`` computes what a :class:`~resonator.graph.core.Sum` of constant-frequency
:func:`~resonator.graph.oscillators.Sine` nodes computes (one sum per channel), in one
compiled kernel (:func:`resonator.kernels.bank`): no per-partial blocks, no per-partial Python
overhead. Each partial keeps the exact
phase of the constant-frequency sine: anchors every ``_GRID`` samples on the absolute grid,
``sin(2 pi (phi_a + f k / sr))`` from the anchor's exact phase and a per-frequency table of
``cos``/``sin`` of ``2 pi f k / sr``; so the output is a pure function of the sample index and
bit-identical for any block split.

Amplitudes are per partial, either a constant or an affine function of a row of a shared
source node: ``source[row] * scale + offset`` (many breath partials follow one breath curve;
drone partials read the rows of one level bank). The kernel forms them sample by sample, so
no amplitude block is stored per partial.

>>> from resonator.graph import Curve
>>> from resonator.graph.bank import SineBank
>>> breath = Curve([(0, 0.0), (4, 1.0, "cos"), (10, 0.0, "cos")])
>>> bank = SineBank([[110.0, 109.9], [165.0, 164.9]],          # 2 partials x (left, right)
...                 [(breath, 0, 0.4, 0.2), 0.1])               # 0.2 + 0.4 b(t), and 0.1
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..errors import GraphError
from ..kernels import bank, bank_grid
from .core import Constant, Node, as_node, constant_value, nyquist_problem

TWO_PI = 2.0 * math.pi
_GRID = 1024  # the anchor grid of the constant-frequency sine (oscillators._GRID)


class SineBank(Node):
    """N constant-frequency sine partials summed into each output channel, in one kernel.

    Parameters
    ----------
    freqs_hz : array-like [shape=(partials,) or (partials, channels)]
        Constant frequency of every partial in every output channel (a 1-D list gives one
        channel). Each must be below Nyquist (checked when rendering).
    amplitudes : sequence [len=partials]
        Per partial: a number (constant amplitude), or ``(source, row, scale, offset)`` meaning
        ``source[row] * scale + offset`` sample by sample (``source`` a node, ``row`` one of its
        channels), or a one-channel node (``(node, 0, 1.0, 0.0)``).
    phases : sequence of float, optional
        Initial phase in cycles of every partial at sample 0 (default 0).
    name : str, optional

    Notes
    -----
    Equals ``Channels([Sum([Sine(f[k, c], amplitude=a_k) for k]) for c])`` within float
    rounding (about 1e-15 relative), a pure function of the sample index.
    """

    def __init__(self, freqs_hz, amplitudes: Sequence, *, phases=None, name: str | None = None):
        super().__init__(name=name)
        f = np.asarray(freqs_hz, dtype=np.float64)
        if f.ndim == 1:
            f = f[:, None]
        if f.ndim != 2 or f.shape[0] == 0 or f.shape[1] == 0:
            raise GraphError(f"SineBank frequencies must be a (partials, channels) array, got "
                             f"shape {np.shape(freqs_hz)}")
        if not np.all(np.isfinite(f)):
            raise GraphError("SineBank frequencies must be finite")
        K, C = f.shape
        amps = list(amplitudes)
        if len(amps) != K:
            raise GraphError(f"SineBank has {K} partials but {len(amps)} amplitudes")
        self.freqs = f
        self.channels = C
        self.phase0 = np.zeros(K) if phases is None else np.asarray(phases, dtype=np.float64)
        if self.phase0.shape != (K,):
            raise GraphError(f"SineBank has {K} partials but {self.phase0.size} phases")
        self.sources: list[Node] = []
        rows = np.full(K, -1, dtype=np.int64)
        src_row: list[tuple[int, int]] = []  # (source index, channel) per used row
        scale = np.zeros(K)
        shift = np.zeros(K)
        for k, a in enumerate(amps):
            if isinstance(a, tuple):
                if len(a) != 4:
                    raise GraphError("a SineBank amplitude tuple is (source, row, scale, offset)")
                node, row, sc, off = as_node(a[0], "amplitude source"), int(a[1]), float(a[2]), \
                    float(a[3])
            else:
                node = as_node(a, "amplitude")
                row, sc, off = 0, 1.0, 0.0
            c = constant_value(node)
            if isinstance(node, Constant) and node.channels == 1:
                shift[k] = c * sc + off if isinstance(a, tuple) else c
                continue
            if not 0 <= row < node.channels:
                raise GraphError(f"amplitude row {row} does not exist in a {node.channels}-channel "
                                 "signal")
            i = next((j for j, s in enumerate(self.sources) if s is node), None)
            if i is None:
                self.sources.append(node)
                i = len(self.sources) - 1
            key = (i, row)
            if key not in src_row:
                src_row.append(key)
            rows[k] = src_row.index(key)
            scale[k] = sc
            shift[k] = off
        self._rows = rows
        self._src_row = src_row
        # with one source, the row of that source each partial reads (-1: constant)
        self._source_rows = np.array([src_row[r][1] if r >= 0 else -1 for r in rows],
                                     dtype=np.int64)
        self._scale = scale
        self._shift = shift

    def inputs(self):
        return {f"amp{i}": s for i, s in enumerate(self.sources)}

    def describe(self):
        return f"SineBank({self.freqs.shape[0]} partials)"

    def _prepare(self, ctx):
        top = float(np.max(np.abs(self.freqs)))
        problem = nyquist_problem(f"{self.describe()} frequency", 0.0, top, ctx.sr)
        if problem:
            raise GraphError(problem)
        # the in-segment rotation tables, exactly as the constant-frequency sine builds them
        K, C = self.freqs.shape
        k = np.arange(_GRID, dtype=np.float64)
        theta = TWO_PI * (self.freqs[:, :, None] * k[None, None, :] / ctx.sr)
        self._cos_t = np.ascontiguousarray(np.cos(theta))
        self._sin_t = np.ascontiguousarray(np.sin(theta))

    def _process(self, ctx, start, frames):
        a0 = (start // _GRID) * _GRID
        anchors = np.arange(a0, start + frames, _GRID, dtype=np.float64)
        f = self.freqs[:, :, None]
        pa = np.mod(self.phase0[:, None, None] + f * anchors[None, None, :] / ctx.sr, 1.0) * TWO_PI
        rows = self._rows
        grid = None
        if len(self.sources) == 1 and hasattr(self.sources[0], "grid_block"):
            grid = self.sources[0].grid_block(ctx, start, frames)
        if grid is not None:
            # amplitudes given on a grid (a drone's level bank): interpolated in the kernel,
            # with the source's own arithmetic, instead of reading a per-sample block
            first, g, lv = grid
            out = np.empty((self.channels, frames))
            bank_grid(out, np.sin(pa), np.cos(pa), self._cos_t, self._sin_t, start - a0,
                      lv, first, g, start, self._source_rows, self._scale, self._shift)
            return out
        if len(self.sources) == 1:
            # one amplitude source (a level bank, a breath curve): the kernel reads its block
            # directly, row by row, without copying
            src = ctx.pull(self.sources[0], start, frames)
            if src.strides[-1] == 0 or not src.flags.c_contiguous:
                src = np.ascontiguousarray(np.broadcast_to(src, src.shape))
            rows = self._source_rows
        elif self._src_row:
            src = np.empty((len(self._src_row), frames))
            for r, (i, row) in enumerate(self._src_row):
                src[r] = ctx.pull(self.sources[i], start, frames)[row]
        else:
            src = np.empty((0, frames))
        out = np.empty((self.channels, frames))
        bank(out, np.sin(pa), np.cos(pa), self._cos_t, self._sin_t, start - a0, src,
             rows, self._scale, self._shift)
        return out
