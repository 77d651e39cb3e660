"""Channels: stacking, equal-power panning, mixing and gain.

A binaural beat is routing: a different tone in each ear, ``Channels([left, right])``.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from ..errors import GraphError
from .core import DbToAmp, Node, Product, Sum, as_node, constant_value


class Channels(Node):
    """Stack one-channel signals (or any signals) into one multi-channel signal.

    Parameters
    ----------
    sources : sequence of numbers, curves or nodes
        Their channels are concatenated in order: ``Channels([left, right])`` is stereo.
    """

    def __init__(self, sources: Iterable, *, name=None):
        super().__init__(name=name)
        self.sources = [as_node(s, "a channel source") for s in sources]
        if not self.sources:
            raise GraphError("Channels needs at least one source")
        self.channels = sum(s.channels for s in self.sources)

    def inputs(self):
        return {str(i): s for i, s in enumerate(self.sources)}

    def _process(self, ctx, start, frames):
        return np.concatenate(
            [np.broadcast_to(ctx.pull(s, start, frames), (s.channels, frames)) for s in self.sources]
        )

    def rows(self, ctx, start, frames):
        """The output's channels as a list of (1, frames) blocks, not stacked (for a mix that
        scales and adds them row by row), or None when a source has several channels."""
        if any(s.channels != 1 for s in self.sources):
            return None
        return [ctx.pull(s, start, frames) for s in self.sources]  # (each (1, frames))


class Select(Node):
    """Pick channels of a signal by index (``Select(x, [0])`` is the left channel)."""

    def __init__(self, source, channels: Iterable[int], *, name=None):
        super().__init__(name=name)
        self.source = as_node(source)
        self.index = [int(c) for c in channels]
        for c in self.index:
            if not 0 <= c < self.source.channels:
                raise GraphError(
                    f"channel {c} does not exist in a {self.source.channels}-channel signal"
                )
        self.channels = len(self.index)

    def inputs(self):
        return {"source": self.source}

    def _process(self, ctx, start, frames):
        return ctx.pull(self.source, start, frames)[self.index]


class Pan(Node):
    """Equal-power pan of a one-channel signal into stereo.

    Parameters
    ----------
    source : Node [channels=1]
    position : number, Curve or Node in [-1, 1]
        -1 is hard left, 0 centre (each side at -3 dB), +1 hard right.
    """

    def __init__(self, source, position=0.0, *, name=None):
        super().__init__(name=name)
        self.source = as_node(source)
        if self.source.channels != 1:
            raise GraphError(
                f"Pan takes a one-channel signal, got {self.source.channels} channels; "
                "use Balance for stereo signals"
            )
        self.position = as_node(position, "pan position")
        if self.position.channels != 1:
            raise GraphError("a pan position must be one channel")
        self.channels = 2

    def inputs(self):
        return {"source": self.source, "position": self.position}

    def _prepare(self, ctx):
        p = constant_value(self.position)
        if p is not None and not -1.0 <= p <= 1.0:
            raise GraphError(f"pan position must be between -1 (left) and 1 (right), got {p:g}")

    def _process(self, ctx, start, frames):
        x = ctx.pull(self.source, start, frames)[0]
        p = ctx.pull_param(self.position, start, frames)
        angle = (np.clip(p, -1.0, 1.0) + 1.0) * (math.pi / 4.0)
        if isinstance(p, float):
            return np.stack([x * math.cos(angle), x * math.sin(angle)])
        angle = angle[0]
        return np.stack([x * np.cos(angle), x * np.sin(angle)])


def Mix(sources: Iterable, gains_db: Iterable | None = None, *, name=None) -> Node:
    """Sum signals, optionally each with a gain in dB (number, curve or node)."""
    sources = list(sources)
    if gains_db is None:
        return Sum(sources, name=name)
    gains = list(gains_db)
    if len(gains) != len(sources):
        raise GraphError(f"Mix got {len(sources)} sources but {len(gains)} gains")
    return Sum([Product([s, DbToAmp(g)]) for s, g in zip(sources, gains)], name=name)


def Gain(source, gain_db=0.0, *, name=None) -> Node:
    """``source`` scaled by ``gain_db`` decibels (number, curve or node)."""
    return Product([as_node(source), DbToAmp(gain_db)], name=name)
