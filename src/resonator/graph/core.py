"""The signal-graph core: nodes, parameters, operators and the block engine.

A node produces audio or control signals as float64 blocks shaped ``(channels, frames)``.
Rendering pulls fixed-size blocks aligned to absolute sample positions (multiples of the block
size, counted from the start of the session); a node used by several consumers is computed once
per block. Every parameter accepts a number, a :class:`~resonator.graph.curves.Curve` or another
node; operators (``+ - *``, :meth:`Node.gain_db`) build new nodes and never mutate.

Channel rule: a one-channel signal broadcasts to any channel count; any other mismatch is a
:class:`~resonator.errors.GraphError` raised when the node is built.

Three kinds of nodes, by how their output depends on time:

* **functions of time** (curves, oscillators with constant or curve frequency, paged noise):
  the value at sample ``n`` depends on ``n`` only, so any window renders on its own;
* **warm-up nodes** (filters with decaying memory, coloured noise): state converges within
  :attr:`Node.warmup_frames`; a window render starts that much earlier and discards it;
* **prefix nodes** (oscillators whose frequency is another node): a running float64 phase; a
  window render fast-forwards the frequency input from sample 0 through the same block grid, so
  the samples equal a full render's.
"""
from __future__ import annotations

import itertools
import math
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from ..errors import GraphError
from ..kernels import mul_add

_ids = itertools.count()


def hold(values, frames: int) -> np.ndarray:
    """A read-only block that holds ``values`` (one per channel) for ``frames`` samples.

    The same as ``np.broadcast_to(values[:, None], (channels, frames))`` (stride 0 along
    time), built without numpy's Python-level broadcasting (about 8x cheaper per call; the
    graph makes one or more per node and block).
    """
    v = np.ascontiguousarray(values, dtype=np.float64).reshape(-1)
    out = np.ndarray((v.size, int(frames)), np.float64, v, 0, (8, 0))
    out.flags.writeable = False
    return out


def full_block(x: np.ndarray, shape: tuple) -> np.ndarray:
    """A new writable float64 array of ``shape`` holding ``x`` broadcast to it
    (``np.array(np.broadcast_to(x, shape))`` in one C-level copy)."""
    out = np.empty(shape)
    out[...] = x
    return out


class Node:
    """Base class of every signal node.

    Subclasses set :attr:`channels` in ``__init__`` and implement :meth:`_process`. Stateful
    nodes override :meth:`_reset`. Inputs are declared through :meth:`inputs` (role -> node) so
    the engine can validate, name and traverse the graph.
    """

    channels: int = 1
    #: frames of history after which the node's state no longer depends on where it started
    warmup_frames: int = 0
    #: True when the output at sample n depends on the whole prefix [0, n) (running phase)
    needs_prefix: bool = False
    #: True when loudness passes (:attr:`RenderContext.estimate`) hear a cheaper stand-in of
    #: this node, not its own samples (a stretched or shifted music layer)
    stands_in: bool = False

    def __init__(self, *, name: str | None = None):
        self._uid = next(_ids)
        self.name = name

    # ----------------------------------------------------------------- structure
    def inputs(self) -> Mapping[str, "Node"]:
        """Input nodes by role name (for validation, naming and traversal)."""
        return {}

    def describe(self) -> str:
        """Short human-readable description used in error messages and sidecars."""
        return type(self).__name__

    # ----------------------------------------------------------------- engine hooks
    def _prepare(self, ctx: "RenderContext") -> None:
        """Validate against the render's sample rate. Raise GraphError for impossible values."""

    def _reset(self, ctx: "RenderContext", start: int) -> None:
        """Reset state so that the next block processed starts at absolute sample ``start``."""

    def _process(self, ctx: "RenderContext", start: int, frames: int) -> np.ndarray:
        """Return the block [start, start+frames) as float64 ``(channels, frames)``."""
        raise NotImplementedError

    # ----------------------------------------------------------------- algebra
    def __add__(self, other):
        return Sum([self, other])

    __radd__ = __add__

    def __sub__(self, other):
        return Sum([self, Product([other, -1.0])])

    def __rsub__(self, other):
        return Sum([other, Product([self, -1.0])])

    def __mul__(self, other):
        return Product([self, other])

    __rmul__ = __mul__

    def __neg__(self):
        return Product([self, -1.0])

    def gain_db(self, gain_db) -> "Node":
        """This signal scaled by a gain in decibels (number, curve or node in dB)."""
        return Product([self, DbToAmp(gain_db)])

    def __repr__(self) -> str:
        label = f" {self.name!r}" if self.name else ""
        return f"<{self.describe()}{label} ch={self.channels}>"


# ---------------------------------------------------------------------- parameters
class Constant(Node):
    """A constant signal. ``value`` may be a number or a sequence (one value per channel)."""

    def __init__(self, value, *, name: str | None = None):
        super().__init__(name=name)
        arr = np.atleast_1d(np.asarray(value, dtype=np.float64))
        if arr.ndim != 1 or arr.size == 0:
            raise GraphError(f"a constant must be a number or a list of numbers, got {value!r}")
        if not np.all(np.isfinite(arr)):
            raise GraphError(f"a constant must be finite, got {value!r}")
        self.values = arr
        self.channels = arr.size

    def describe(self) -> str:
        v = self.values
        return f"Constant({v[0]:g})" if v.size == 1 else f"Constant({list(v)})"

    def _process(self, ctx, start, frames):
        return hold(self.values, frames)

    # constants fold under arithmetic so parameters stay cheap
    def __mul__(self, other):
        if isinstance(other, (int, float)):
            return Constant(self.values * float(other))
        return super().__mul__(other)

    __rmul__ = __mul__

    def __add__(self, other):
        if isinstance(other, (int, float)):
            return Constant(self.values + float(other))
        return super().__add__(other)

    __radd__ = __add__


class TimeFunction(Node):
    """A one-channel control signal that is a pure function of time in seconds.

    Subclasses implement :meth:`evaluate`; the engine evaluates it at absolute sample times, so
    the output never depends on block size or on where a render starts.
    """

    def evaluate(self, t: np.ndarray) -> np.ndarray:
        """Values at times ``t`` (seconds, float64 array); returns an array of the same shape."""
        raise NotImplementedError

    def bounds(self) -> tuple[float, float] | None:
        """(minimum, maximum) over all time when known, else None (used for validation)."""
        return None

    def _process(self, ctx, start, frames):
        return self.evaluate(ctx.times(start, frames))[None, :]


class FunctionOfTime(TimeFunction):
    """Wrap a vectorised callable ``f(t_seconds) -> values`` as a control signal.

    Parameters
    ----------
    func : callable
        ``func(np.ndarray [shape=(n,)] seconds) -> np.ndarray [shape=(n,)]``; must be pure.
    bounds : (float, float), optional
        Known minimum and maximum, used for validation (Nyquist checks).
    """

    def __init__(self, func: Callable[[np.ndarray], np.ndarray], *, bounds=None, name=None):
        super().__init__(name=name)
        self.func = func
        self._bounds = bounds

    def evaluate(self, t):
        return np.asarray(self.func(t), dtype=np.float64)

    def bounds(self):
        return self._bounds


def as_node(value: Any, what: str = "parameter") -> Node:
    """Coerce a parameter (number, list of per-channel numbers, curve or node) to a node."""
    if isinstance(value, Node):
        return value
    if isinstance(value, (int, float, np.floating, np.integer)):
        return Constant(float(value))
    if isinstance(value, (list, tuple, np.ndarray)):
        try:
            return Constant(value)
        except (TypeError, ValueError):
            pass
    raise GraphError(f"{what} must be a number, a curve or a node, got {value!r}")


def constant_value(node: Node) -> float | None:
    """The scalar value of a one-channel constant node, else None."""
    if isinstance(node, Constant) and node.channels == 1:
        return float(node.values[0])
    return None


def node_bounds(node: Node) -> tuple[float, float] | None:
    """(min, max) a node can output when it is statically known."""
    if isinstance(node, Constant):
        return float(node.values.min()), float(node.values.max())
    if isinstance(node, TimeFunction):
        return node.bounds()
    return None


def broadcast_channels(nodes: Iterable[Node], what: str) -> int:
    """The common channel count of ``nodes`` under the one-broadcasts-to-many rule."""
    counts = {n.channels for n in nodes}
    many = counts - {1}
    if len(many) > 1:
        raise GraphError(
            f"{what}: channel counts {sorted(counts)} do not match; inputs must have the same "
            "number of channels, or one channel (which is copied to every channel)"
        )
    return many.pop() if many else 1


# ---------------------------------------------------------------------- arithmetic nodes
class Sum(Node):
    """The sample-wise sum of its inputs (a mixer without gains)."""

    def __init__(self, terms: Iterable, *, name: str | None = None):
        super().__init__(name=name)
        flat: list[Node] = []
        for t in terms:
            t = as_node(t, "a term of a sum")
            flat.extend(t.terms if isinstance(t, Sum) and t.name is None else [t])
        if not flat:
            raise GraphError("a sum needs at least one input")
        self.terms = flat
        self.channels = broadcast_channels(flat, "sum")

    def inputs(self):
        return {str(i): t for i, t in enumerate(self.terms)}

    def _prepare(self, ctx):
        # terms that are "signal x one-channel gains" products (mixed layers) are multiplied
        # and added in one pass instead of a product block plus an add
        self._fused = [isinstance(t, Product) and t._fusable(self.channels) for t in self.terms]
        if not any(self._fused):
            self._fused = None

    def _process(self, ctx, start, frames):
        if getattr(self, "_fused", None):
            return self._process_fused(ctx, start, frames)
        first, *rest = self.terms
        x = ctx.pull(first, start, frames)
        if not rest:
            return full_block(x, (self.channels, frames))
        out = np.add(x, ctx.pull(rest[0], start, frames))  # one pass: never zeros-then-add
        if out.shape != (self.channels, frames):
            out = full_block(out, (self.channels, frames))
        for t in rest[1:]:
            out += ctx.pull(t, start, frames)
        return out

    def _process_fused(self, ctx, start, frames):
        """The same sums in the same order; a fused term adds ``x * g`` in one pass (the same
        rounding as a product block then an add), a silent gated term adds nothing."""
        shape = (self.channels, frames)
        out = None
        for t, fused in zip(self.terms, self._fused):
            if fused:
                parts = t._signal_and_gain(ctx, start, frames)
                if parts is None:
                    continue
                x, g = parts
                if isinstance(x, list):  # the rows of a Channels node, never stacked
                    if out is None:
                        out = np.empty(shape)
                        for c, row in enumerate(x):
                            np.multiply(row, g, out=out[c:c + 1])
                    else:
                        g = g if isinstance(g, float) else np.ascontiguousarray(g[0])
                        for c, row in enumerate(x):
                            mul_add(out[c:c + 1], np.ascontiguousarray(row), g)
                elif out is None:
                    out = np.multiply(x, g)
                    if out.shape != shape:
                        out = full_block(out, shape)
                else:  # g a float or a one-channel block
                    mul_add(out, np.ascontiguousarray(x),
                            g if isinstance(g, float) else np.ascontiguousarray(g[0]))
                continue
            y = ctx.pull(t, start, frames)
            if out is None:
                out = full_block(y, shape)
            else:
                out += y
        return out if out is not None else np.zeros(shape)


class Product(Node):
    """The sample-wise product of its inputs (gain, ring modulation, amplitude envelopes)."""

    def __init__(self, factors: Iterable, *, name: str | None = None):
        super().__init__(name=name)
        flat: list[Node] = []
        for f in factors:
            f = as_node(f, "a factor of a product")
            flat.extend(f.factors if isinstance(f, Product) and f.name is None else [f])
        # fold scalar constants into one
        scalar = 1.0
        rest = []
        for f in flat:
            c = constant_value(f)
            if c is None:
                rest.append(f)
            else:
                scalar *= c
        if scalar != 1.0 or not rest:
            rest.append(Constant(scalar))
        self.factors = rest
        self.channels = broadcast_channels(rest, "product")

    def inputs(self):
        return {str(i): f for i, f in enumerate(self.factors)}

    def _prepare(self, ctx):
        from .curves import Curve

        # gates: one-channel curves that are exactly 0 somewhere (layer envelopes). When a gate
        # is 0 over a whole block and nothing below this product carries state (no warm-up, no
        # running phase), the block is zeros and the other factors are not computed at all.
        self._gates = [f for f in self.factors if isinstance(f, Curve) and f.channels == 1
                       and bool(np.any(f.v == 0.0))]
        if self._gates and any(n.warmup_frames or n.needs_prefix for n in walk(self)):
            self._gates = []

    def _fusable(self, channels: int) -> bool:
        """One signal of ``channels`` channels times one-channel factors (a mixed layer)."""
        wide = [f for f in self.factors if f.channels > 1]
        return (channels > 1 and self.channels == channels and len(wide) == 1
                and wide[0].channels == channels and len(self.factors) > 1)

    def _signal_and_gain(self, ctx, start, frames):
        """(signal, gain) with this product = signal * gain (gain a float or a one-channel
        block; signal a block, or the list of its one-channel rows when it is a
        :class:`~resonator.graph.stereo.Channels` of one-channel sources: the same products
        without stacking the rows first), or None when a gate silences the block. Used by
        :class:`Sum`."""
        for g in getattr(self, "_gates", ()):
            gb = ctx.pull(g, start, frames)
            if not (gb[0, 0] if gb.strides[-1] == 0 else gb.any()):
                return None
        wide, narrow = self._split()
        rows = getattr(wide[0], "rows", None)
        x = rows(ctx, start, frames) if rows is not None else None
        return (x if x is not None else ctx.pull(wide[0], start, frames),
                narrow.block(ctx, start, frames))

    def _split(self):
        """(the multi-channel factors, the product of the one-channel ones), found once."""
        split = self.__dict__.get("_split_factors")
        if split is None:
            split = self._split_factors = (
                [f for f in self.factors if f.channels > 1],
                _Narrow([f for f in self.factors if f.channels == 1]))
        return split

    def _process(self, ctx, start, frames):
        shape = (self.channels, frames)
        for g in getattr(self, "_gates", ()):
            gb = ctx.pull(g, start, frames)
            if not (gb[0, 0] if gb.strides[-1] == 0 else gb.any()):
                return np.zeros(shape)
        if self.channels > 1 and len(self.factors) > 2:
            # one-channel factors (gains, envelopes) multiply each other first (cheap), then
            # the multi-channel signal once
            wide, narrow = self._split()
            if wide and narrow.count > 1:
                return self._multiply(ctx, wide + [narrow], start, frames, shape)
        return self._multiply(ctx, self.factors, start, frames, shape)

    @staticmethod
    def _multiply(ctx, factors, start, frames, shape):
        first, *others = factors
        x = ctx.pull(first, start, frames) if not isinstance(first, _Narrow) else \
            first.block(ctx, start, frames)
        if not others:
            return full_block(x, shape)
        f = others[0]
        if isinstance(f, _Narrow):
            y = f.block(ctx, start, frames)
        else:
            y = constant_value(f)
            if y is None:
                y = ctx.pull(f, start, frames)
                if y.shape[0] == 1 and y.strides[-1] == 0:  # a hold: the same bits as a number
                    y = float(y[0, 0])
        if (isinstance(y, float) and y == 1.0 and len(others) == 1
                and isinstance(x, np.ndarray) and x.shape == shape and x.dtype == np.float64):
            return x  # times exactly 1 (a fade that holds): x itself (pulled blocks are read-only)
        out = np.multiply(x, y)  # one pass: never copy-then-multiply
        if out.shape != shape:
            out = full_block(out, shape)
        for f in others[1:]:
            if isinstance(f, _Narrow):
                out *= f.block(ctx, start, frames)
                continue
            c = constant_value(f)
            out *= c if c is not None else ctx.pull(f, start, frames)
        return out


class _Narrow:
    """The product of a product's one-channel factors (not a node: computed inside Product)."""

    def __init__(self, factors):
        self.count = len(factors)
        self.scalar = 1.0
        self.factors = []
        for f in factors:
            c = constant_value(f)
            if c is None:
                self.factors.append(f)
            else:
                self.scalar *= c

    def block(self, ctx, start, frames):
        """The product block, or a float when every factor holds over the block."""
        scalar = self.scalar
        arrays = []
        for f in self.factors:
            x = ctx.pull(f, start, frames)
            if x.strides[-1] == 0:  # a hold (broadcast view): fold it as a number
                scalar *= float(x[0, 0])
            else:
                arrays.append(x)
        if not arrays:
            return scalar
        out = arrays[0] * scalar if scalar != 1.0 else arrays[0]
        if len(arrays) > 1:
            out = np.multiply(out, arrays[1])
            for x in arrays[2:]:
                out *= x
        return out


class Map(Node):
    """Apply a pure, vectorised sample-wise function to a signal (``numpy`` ufunc style)."""

    def __init__(self, source, func: Callable[[np.ndarray], np.ndarray], *, label="Map", name=None):
        super().__init__(name=name)
        self.source = as_node(source)
        self.func = func
        self.label = label
        self.channels = self.source.channels

    def inputs(self):
        return {"source": self.source}

    def describe(self):
        return self.label

    def _process(self, ctx, start, frames):
        return np.asarray(self.func(ctx.pull(self.source, start, frames)), dtype=np.float64)


def DbToAmp(gain_db) -> Node:
    """A node converting a gain in dB (number, curve or node) to linear amplitude."""
    node = as_node(gain_db, "gain_db")
    c = constant_value(node)
    if c is not None:
        return Constant(10.0 ** (c / 20.0))
    from .curves import Curve

    if isinstance(node, Curve):
        return node.map_to_curve(lambda db: 10.0 ** (db / 20.0), shape="db")
    if isinstance(node, TimeFunction):
        b = node.bounds()
        return FunctionOfTime(
            lambda t: 10.0 ** (node.evaluate(t) / 20.0),
            bounds=None if b is None else (10 ** (b[0] / 20), 10 ** (b[1] / 20)),
        )
    return Map(node, lambda x: 10.0 ** (x / 20.0), label="DbToAmp")


# ---------------------------------------------------------------------- render context
class RenderContext:
    """What every node sees during a render: sample rate, seed, block grid and the memo.

    Parameters
    ----------
    sr : int > 0
        Sample rate in Hz.
    seed : int >= 0
        Session seed (noise is derived from it and each node's stable name).
    block_frames : int > 0
        Size of the absolute block grid.

    Attributes
    ----------
    estimate : bool
        True while a window is rendered for a loudness estimate
        (:meth:`resonator.render.Renderer.blocks`): a node may then play a cheaper stand-in
        with the same loudness (the music layer: its music un-stretched). False for every
        render that is heard or written.
    sparse : bool
        With ``estimate``: the window is one of many short ones scattered over the session
        (:func:`resonator.mastering.estimate`), so a stand-in reads exactly its frames rather
        than filling caches for reads to come.
    """

    def __init__(self, sr: int, seed: int = 0, block_frames: int = 32768):
        if not (isinstance(sr, (int, np.integer)) and sr > 0):
            raise GraphError(f"sample rate must be a positive whole number of Hz, got {sr!r}")
        if block_frames <= 0:
            raise GraphError(f"block size must be positive, got {block_frames}")
        self.sr = int(sr)
        self.seed = int(seed)
        self.block_frames = int(block_frames)
        self.nyquist = self.sr / 2.0
        self.estimate = False
        self.sparse = False
        self._memo: dict[int, tuple[int, int, np.ndarray]] = {}
        self.names: dict[int, str] = {}

    def times(self, start: int, frames: int) -> np.ndarray:
        """Absolute times in seconds of samples [start, start+frames)."""
        return np.arange(start, start + frames, dtype=np.float64) / self.sr

    def pull(self, node: Node, start: int, frames: int) -> np.ndarray:
        """Output of ``node`` for [start, start+frames), computed once per block."""
        hit = self._memo.get(node._uid)
        if hit is not None and hit[0] == start and hit[1] == frames:
            return hit[2]
        out = node._process(self, start, frames)
        if out.shape != (node.channels, frames):
            raise GraphError(
                f"{node.describe()} produced shape {out.shape}, expected {(node.channels, frames)}"
            )
        self._memo[node._uid] = (start, frames, out)
        return out

    def pull_param(self, node: Node, start: int, frames: int):
        """A parameter's block: a Python float for scalar constants (cheap), else the array."""
        c = constant_value(node)
        return c if c is not None else self.pull(node, start, frames)

    def name_of(self, node: Node) -> str:
        """The node's stable name: its own ``name``, else its path from the output node."""
        return node.name or self.names.get(node._uid) or f"node{node._uid}"


def walk(root: Node) -> list[Node]:
    """Every node reachable from ``root``, inputs before consumers (topological order)."""
    order: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node._uid in seen:
            continue
        seen.add(node._uid)
        stack.append((node, True))
        for child in reversed(list(node.inputs().values())):
            if child._uid not in seen:
                stack.append((child, False))
    return order


def copy_graph(root: Node) -> Node | None:
    """An independent copy of the graph under ``root``, or None when it cannot be copied.

    The copy renders the same samples (the same stable names, seeds and parameters) with
    state of its own, so it can render another stretch of the session at the same time on
    another thread (a second measuring lane) without building the graph again: copying
    takes milliseconds where building a recipe's session takes tenths of a second. Nodes
    and everything they hold are copied (:func:`copy.deepcopy`, before any render prepares
    them); functions are shared, as they must be pure functions of their arguments (every
    :class:`FunctionOfTime`'s is). A node that holds a file, a thread or a lock (a music
    layer's reader) cannot be copied: None, build the graph again instead.
    """
    import copy

    try:
        return copy.deepcopy(root)
    except (TypeError, copy.Error, RecursionError, ValueError):
        return None


def assign_paths(root: Node) -> dict[int, str]:
    """Stable path names ("Sum/2/Noise") for every node, by roles from the root.

    Explicit names restart the path, so a named layer's internals keep their names whatever
    else is added to the graph.
    """
    names: dict[int, str] = {}
    queue: list[tuple[Node, str]] = [(root, root.name or type(root).__name__)]
    while queue:
        node, path = queue.pop(0)
        if node._uid in names:
            continue
        names[node._uid] = path
        for role, child in node.inputs().items():
            base = child.name if child.name else f"{path}/{role}:{type(child).__name__}"
            queue.append((child, base))
    return names


def prepare(root: Node, ctx: RenderContext) -> list[Node]:
    """Validate the whole graph for ``ctx`` before any sample is rendered."""
    nodes = walk(root)
    ctx.names = assign_paths(root)
    for node in nodes:
        node._prepare(ctx)
    return nodes


def nyquist_problem(what: str, lo_hz: float, hi_hz: float, sr: float) -> str | None:
    """The one message for a frequency range [lo_hz, hi_hz] that reaches the Nyquist
    frequency of ``sr`` (either sign), or None when it stays below."""
    top = max(float(hi_hz), -float(lo_hz))
    if top < sr / 2.0:
        return None
    return (f"{what} reaches {top:g} Hz, at or above the Nyquist frequency {sr / 2.0:g} Hz of "
            f"a {sr:g} Hz render; use a lower frequency or a higher sample rate")


def check_below_nyquist(node: Node, ctx: RenderContext, what: str) -> None:
    """Raise GraphError when a frequency parameter can reach or exceed Nyquist (or go negative)."""
    b = node_bounds(node)
    if b is None:
        return
    lo, hi = b
    problem = nyquist_problem(what, lo, hi, ctx.sr)
    if problem:
        raise GraphError(problem)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise GraphError(f"{what} must be finite")
