"""Biquad filters (RBJ audio-EQ cookbook) with static or swept parameters.

:class:`Filter` runs second-order sections in transposed direct form II in a compiled kernel
(:func:`resonator.kernels.biquad_run`).
Its state (two float64 values per section and channel) is carried across blocks, so splitting
a render into blocks anywhere gives bit-identical output.

Kinds (``kind=``): ``lowpass``, ``highpass``, ``bandpass`` (constant 0 dB peak gain),
``lowshelf``, ``highshelf``, ``peak``. Lowpass and highpass take ``order`` 2, 4, 6 or 8: a
cascade of ``order // 2`` sections at the same cutoff with Butterworth Qs
``1 / (2 cos((2k - 1) pi / (2 order)))``, which is exactly the bilinear-transform Butterworth
filter (``scipy.signal.butter``), -3.01 dB at the cutoff and ``6 * order`` dB per octave.

Parameters that change over time
--------------------------------
``cutoff_hz``, ``q`` and ``gain_db`` take a number, a Curve (any TimeFunction) or a node.
When any of them is not constant, the coefficients are recomputed on a fixed grid of absolute
sample positions: every :data:`GRID` (32) samples, at multiples of 32 counted from the session's
sample 0. The coefficients used for samples ``[32 k, 32 k + 32)`` come from the parameter
values *at sample* ``32 k``. Within a block, those values are read from the pulled parameter
block (node parameters) or evaluated at the grid times (TimeFunctions). A block that starts inside a grid segment uses the values carried from the previous
block (which contained the grid sample). TimeFunction parameters are evaluated at the grid
samples only (not pulled per sample), which is what keeps a swept filter cheap. Right after a reset (the first block of a window
render) a TimeFunction parameter is evaluated at the grid sample's time, and any other node
parameter falls back to its value at the block's first sample. That fallback only touches the
first < 32 samples of a warm-up stretch, which a window render discards. Output therefore does
not depend on the block size, and the coefficients are computed one parameter set at a time
(:func:`resonator.kernels.biquad_design`), so they are bit-identical whatever the block size.

Warm-up
-------
:attr:`Filter.warmup_frames` is the number of samples after which the slowest pole's
impulse response has decayed to 1e-17 (times 1.25 plus 64 samples to cover the polynomial
factor of cascaded sections), found from the worst case over the parameters' known bounds
(Curves and constants know theirs). It is capped at :data:`MAX_WARMUP_S` (10 s). When the cap
binds (cutoffs below about 1 Hz, very high q, or a parameter driven by a node whose range is
unknown, which always uses the cap), a window render differs from a full render by at most
``r ** warmup_frames`` relative to the signal, with ``r`` the slowest pole radius;
:attr:`Filter.warmup_residual` reports that bound (nan when the range is unknown).

Denormals: at every grid sample a state value smaller than 1e-200 in magnitude is set to
zero, so silence after a signal never drives the kernel into slow subnormal arithmetic. The
flush happens at absolute sample positions, so it, too, is independent of the block size.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import GraphError
from ..kernels import biquad_design, biquad_run
from .core import Constant, Node, TimeFunction, as_node, full_block, node_bounds

KINDS = ("lowpass", "highpass", "bandpass", "lowshelf", "highshelf", "peak")
_KIND_CODE = {k: i for i, k in enumerate(KINDS)}
ORDERS = (2, 4, 6, 8)
GRID = 32  # coefficient update grid of swept filters, in samples
DEFAULT_Q = 0.7071
MAX_WARMUP_S = 10.0
_DECAY = 1e-17
_FLUSH = 1e-200


def design_sos(kind: str, cutoff_hz: float, sr: float, *, q: float = DEFAULT_Q,
               gain_db: float = 0.0, order: int = 2) -> np.ndarray:
    """Second-order sections of a filter, in scipy's layout (b0 b1 b2 1 a1 a2).

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    cutoff_hz, sr : float
        Cutoff (centre, shelf mid-point) and sample rate in Hz.
    q, gain_db, order
        As in :class:`Filter`.

    Returns
    -------
    np.ndarray [shape=(order // 2, 6)]
    """
    n_sec = order // 2 if kind in ("lowpass", "highpass") else 1
    c = np.empty((n_sec, 5))
    biquad_design(_KIND_CODE[kind], order, float(sr), float(cutoff_hz), float(q), float(gain_db),
                  c)
    return np.column_stack([c[:, :3], np.ones(n_sec), c[:, 3:]])


def _pole_radius(sos: np.ndarray) -> float:
    """Largest pole magnitude over the sections (a1, a2 in columns 4, 5)."""
    r = 0.0
    for a1, a2 in sos[:, 4:6]:
        r = max(r, float(np.max(np.abs(np.roots([1.0, a1, a2])))))
    return r


# --------------------------------------------------------------------------- node
class Filter(Node):
    """A biquad filter (RBJ cookbook) or a Butterworth cascade, static or swept.

    Parameters
    ----------
    source : Node
        The signal; each channel is filtered with its own state.
    kind : {"lowpass", "highpass", "bandpass", "lowshelf", "highshelf", "peak"}
    cutoff_hz : number, Curve or Node
        Cutoff frequency (lowpass/highpass, -3 dB point), centre (bandpass, peak) or shelf
        mid-point (where a shelf has half its gain in dB), in Hz; strictly between 0 and Nyquist.
        One channel (shared by every channel) or as many channels as the source.
    q : number, Curve or Node > 0
        Quality factor (bandwidth for bandpass/peak, resonance for order-2 lowpass/highpass,
        slope for shelves: 0.7071 is the steepest shelf without overshoot). Must stay at its
        default for ``order`` > 2 (the Butterworth Qs are used).
    gain_db : number, Curve or Node
        Gain of shelves and peak filters in dB (ignored by the other kinds).
    order : {2, 4, 6, 8}
        Filter order for lowpass/highpass (6 dB per octave per order); 2 for the other kinds.
    name : str, optional

    Notes
    -----
    Swept parameters update the coefficients every 32 samples on the absolute grid (see the
    module documentation): output is independent of the block size and window renders match
    a full render after :attr:`warmup_frames`.
    """

    def __init__(self, source, kind: str, cutoff_hz, *, q=DEFAULT_Q, gain_db=0.0, order: int = 2,
                 name: str | None = None):
        super().__init__(name=name)
        if kind not in KINDS:
            raise GraphError(f"unknown filter kind {kind!r}: allowed are {', '.join(KINDS)}")
        if order not in ORDERS or isinstance(order, bool):
            raise GraphError(f"filter order must be one of 2, 4, 6, 8, got {order!r}")
        if order > 2 and kind not in ("lowpass", "highpass"):
            raise GraphError(
                f"order {order} applies to lowpass and highpass only; a {kind} filter has order 2 "
                "(cascade several filters for a steeper response)"
            )
        self.source = as_node(source, "filter source")
        self.kind = kind
        self.order = int(order)
        self.cutoff = as_node(cutoff_hz, "cutoff_hz")
        self.q = as_node(q, "q")
        self.gain = as_node(gain_db, "gain_db")
        if order > 2 and not (isinstance(self.q, Constant) and self.q.channels == 1
                              and float(self.q.values[0]) == DEFAULT_Q):
            raise GraphError(
                f"q cannot be set for an order-{order} {kind}: the Butterworth cascade fixes its "
                "sections' Qs; use order=2 for a resonant filter"
            )
        self.channels = self.source.channels
        for what, p in (("cutoff_hz", self.cutoff), ("q", self.q), ("gain_db", self.gain)):
            if p.channels not in (1, self.channels):
                raise GraphError(
                    f"filter {what} has {p.channels} channels but the source has {self.channels}; "
                    "a parameter must have one channel (shared) or as many as the source"
                )
        self.param_channels = max(self.cutoff.channels, self.q.channels, self.gain.channels)
        self.static = all(isinstance(p, Constant) for p in (self.cutoff, self.q, self.gain))
        self.n_sections = self.order // 2
        self.warmup_residual = 0.0

    def inputs(self):
        return {"source": self.source, "cutoff_hz": self.cutoff, "q": self.q, "gain_db": self.gain}

    def describe(self):
        return f"Filter({self.kind}, order {self.order})"

    # ------------------------------------------------------------------ validation
    def _prepare(self, ctx):
        nyq = ctx.nyquist
        b = node_bounds(self.cutoff)
        if b is not None:
            lo, hi = b
            if not (math.isfinite(lo) and math.isfinite(hi)) or lo <= 0.0 or hi >= nyq:
                raise GraphError(
                    f"{self.describe()} cutoff_hz ranges over {lo:g}..{hi:g} Hz; it must stay "
                    f"strictly between 0 Hz and the Nyquist frequency {nyq:g} Hz of a {ctx.sr} Hz "
                    "render"
                )
        bq = node_bounds(self.q)
        if bq is not None and not (bq[0] > 0.0 and math.isfinite(bq[1])):
            raise GraphError(f"{self.describe()} q must be greater than 0 (and finite), got "
                             f"a minimum of {bq[0]:g}")
        bg = node_bounds(self.gain)
        if bg is not None and not (math.isfinite(bg[0]) and math.isfinite(bg[1])):
            raise GraphError(f"{self.describe()} gain_db must be finite")
        self._kind_code = _KIND_CODE[self.kind]
        self._sr = float(ctx.sr)
        self._sweeps_cutoff_only = (
            self.param_channels == 1 and isinstance(self.cutoff, TimeFunction)
            and isinstance(self.q, Constant) and isinstance(self.gain, Constant))
        if self._sweeps_cutoff_only:
            self._q0, self._g0 = float(self.q.values[0]), float(self.gain.values[0])
            self._qg = None
        self._set_warmup(ctx, b, bq, bg)
        if self.static:
            f = np.broadcast_to(self.cutoff.values, (self.param_channels,))
            q = np.broadcast_to(self.q.values, (self.param_channels,))
            g = np.broadcast_to(self.gain.values, (self.param_channels,))
            self._static_coefs = []
            for c in range(self.param_channels):
                co = np.empty((1, self.n_sections, 5))
                biquad_design(self._kind_code, self.order, self._sr, float(f[c]), float(q[c]),
                              float(g[c]), co[0])
                self._static_coefs.append(co)

    def _set_warmup(self, ctx, b, bq, bg):
        cap = int(math.ceil(MAX_WARMUP_S * ctx.sr))
        if b is None or bq is None or bg is None:
            self.warmup_frames = cap
            self.warmup_residual = float("nan")
            return
        fs = np.geomspace(b[0], b[1], 5) if b[1] > b[0] else [b[0]]
        qs = np.geomspace(bq[0], bq[1], 5) if bq[1] > bq[0] else [bq[0]]
        gs = np.linspace(bg[0], bg[1], 5) if bg[1] > bg[0] else [bg[0]]
        r = 0.0
        for f in fs:
            for q in qs:
                for g in gs:
                    sos = design_sos(self.kind, f, ctx.sr, q=q, gain_db=g, order=self.order)
                    r = max(r, _pole_radius(sos))
        if r <= 0.0:
            n = 64
        elif r >= 1.0:
            n = cap
        else:
            n = int(math.ceil(1.25 * math.log(_DECAY) / math.log(r))) + 64
        self.warmup_frames = min(n, cap)
        self.warmup_residual = _DECAY if n <= cap else (r ** cap if r < 1.0 else 1.0)

    # ------------------------------------------------------------------ state
    def _reset(self, ctx, start):
        self._zi = np.zeros((self.channels, self.n_sections, 2))
        self._carry = None  # parameter values (param_channels, 3) at the last grid sample

    def _params_at_grid(self, ctx, start, blocks):
        """Values (param_channels, 3) at the grid sample before ``start`` (after a reset)."""
        g0 = (start // GRID) * GRID
        out = np.empty((self.param_channels, 3))
        for i, (p, blk) in enumerate(zip((self.cutoff, self.q, self.gain), blocks)):
            if isinstance(p, TimeFunction):
                v = p.evaluate(np.array([g0 / ctx.sr]))[0]
            else:  # documented fallback: value at the block's first sample
                v = blk[:, 0]
            out[:, i] = v
        return out

    # ------------------------------------------------------------------ samples
    def _process(self, ctx, start, frames):
        shape = (self.channels, frames)
        if self.static:
            seg = np.zeros(1, dtype=np.int64)
            coefs = self._static_coefs
        else:
            seg, coefs = self._swept_coefs(ctx, start, frames)
        x = ctx.pull(self.source, start, frames)
        if x.shape == shape and x.dtype == np.float64 and x.flags.c_contiguous:
            y = np.empty(shape)  # the kernel reads the pulled block and writes y: no copy
        else:  # a broadcast (held) source: a full copy, filtered in place
            x = y = full_block(x, shape)
        if self.channels == 2 and self.param_channels == 1:
            biquad_run(x, coefs[0], seg, self._zi, start, GRID, y)
            return y
        for c in range(self.channels):
            biquad_run(x[c:c + 1], coefs[c if self.param_channels > 1 else 0], seg,
                       self._zi[c:c + 1], start, GRID, y[c:c + 1])
        return y

    def _swept_coefs(self, ctx, start, frames):
        """(segment starts, coefficients (param_channels, segments, sections, 5)) of a block:
        one parameter set per grid sample in the block, and the carried one before the first."""
        if self._sweeps_cutoff_only:
            return self._swept_cutoff(ctx, start, frames)
        pc = self.param_channels
        first = -(-start // GRID) * GRID  # first grid sample at or after start
        offs = np.arange(first - start, frames, GRID, dtype=np.int64)
        vals = np.empty((pc, offs.size, 3))
        blocks = []
        for i, p in enumerate((self.cutoff, self.q, self.gain)):
            if isinstance(p, TimeFunction):
                # only the grid samples are needed: evaluate there (the same float64 times
                # ctx.times() would give, so the same values as a pulled block)
                vals[:, :, i] = p.evaluate((start + offs).astype(np.float64) / ctx.sr)
                blocks.append(None)
            else:
                blk = np.broadcast_to(ctx.pull(p, start, frames), (pc, frames))
                vals[:, :, i] = blk[:, offs]
                blocks.append(blk)
        if offs.size == 0 or offs[0] != 0:  # the block starts inside a grid segment
            carry = self._carry if self._carry is not None else self._params_at_grid(ctx, start, blocks)
            vals = np.concatenate([carry[:, None, :], vals], axis=1)
            offs = np.concatenate([np.zeros(1, dtype=np.int64), offs])
        self._carry = vals[:, -1, :].copy()
        self._check_values(vals)
        coefs = np.empty((pc, offs.size, self.n_sections, 5))
        for c in range(pc):
            biquad_design(self._kind_code, self.order, self._sr,
                          np.ascontiguousarray(vals[c, :, 0]), np.ascontiguousarray(vals[c, :, 1]),
                          np.ascontiguousarray(vals[c, :, 2]), coefs[c])
        return offs, coefs

    def _swept_cutoff(self, ctx, start, frames):
        """:meth:`_swept_coefs` when only a one-channel cutoff that is a function of time moves
        (a noise bed's low-pass): the cutoff at every grid sample from the one at or before
        ``start`` (which the general path carries over from the previous block) in one
        evaluation; the same times, values and coefficients."""
        g0 = (start // GRID) * GRID
        grid = np.arange(g0, start + frames, GRID, dtype=np.int64)
        f = self.cutoff.evaluate(grid.astype(np.float64) / ctx.sr)
        if not (f.min() > 0.0 and f.max() < self._sr / 2.0):
            self._check_values(np.stack([f, np.full(f.shape, self._q0), np.zeros(f.shape)],
                                        axis=-1)[None])
        m = f.size
        if self._qg is None or self._qg[0].size < m:
            self._qg = (np.full(m, self._q0), np.full(m, self._g0))
        coefs = np.empty((1, m, self.n_sections, 5))
        biquad_design(self._kind_code, self.order, self._sr, f, self._qg[0][:m],
                      self._qg[1][:m], coefs[0])
        grid -= start
        grid[0] = 0  # (a block starting inside a grid segment begins with the set before it)
        return grid, coefs

    def _check_values(self, vals):
        f, q = vals[:, :, 0], vals[:, :, 1]
        nyq = self._sr / 2.0
        if f.min() > 0.0 and f.max() < nyq and q.min() > 0.0:
            return  # the usual case, in three reductions
        if not (np.all(f > 0.0) and np.all(f < nyq)):
            bad = f[~((f > 0.0) & (f < nyq))][0]
            raise GraphError(f"{self.describe()} cutoff_hz reached {bad:g} Hz during the render; "
                             f"it must stay strictly between 0 and {nyq:g} Hz")
        if not np.all(q > 0.0):
            raise GraphError(f"{self.describe()} q reached {q[~(q > 0.0)][0]:g} during the render; "
                             "it must stay greater than 0")


# --------------------------------------------------------------------------- shorthands
def LowPass(source, cutoff_hz, *, q=DEFAULT_Q, order: int = 2, name=None) -> Filter:
    """A lowpass :class:`Filter` (order 2: RBJ biquad; 4/6/8: Butterworth cascade)."""
    return Filter(source, "lowpass", cutoff_hz, q=q, order=order, name=name)


def HighPass(source, cutoff_hz, *, q=DEFAULT_Q, order: int = 2, name=None) -> Filter:
    """A highpass :class:`Filter` (order 2: RBJ biquad; 4/6/8: Butterworth cascade)."""
    return Filter(source, "highpass", cutoff_hz, q=q, order=order, name=name)


def BandPass(source, center_hz, *, q=DEFAULT_Q, name=None) -> Filter:
    """A bandpass :class:`Filter` with 0 dB gain at ``center_hz``; bandwidth ``center_hz / q``."""
    return Filter(source, "bandpass", center_hz, q=q, name=name)


def LowShelf(source, cutoff_hz, gain_db, *, q=DEFAULT_Q, name=None) -> Filter:
    """A low-shelf :class:`Filter`: ``gain_db`` below ``cutoff_hz``, half of it at ``cutoff_hz``."""
    return Filter(source, "lowshelf", cutoff_hz, q=q, gain_db=gain_db, name=name)


def HighShelf(source, cutoff_hz, gain_db, *, q=DEFAULT_Q, name=None) -> Filter:
    """A high-shelf :class:`Filter`: ``gain_db`` above ``cutoff_hz``, half of it at ``cutoff_hz``."""
    return Filter(source, "highshelf", cutoff_hz, q=q, gain_db=gain_db, name=name)
