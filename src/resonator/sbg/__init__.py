"""SBaGen ``.sbg`` import: parse sequences and resolve them into exact voice timelines.

Usage
-----
>>> from resonator.sbg import read_sbg, resolve
>>> tl = resolve(read_sbg("ch-einstein.sbg"))          # doctest: +SKIP
>>> tl.duration_s, [(s.kind, s.points[0]) for s in tl.slot_spans(1)]   # doctest: +SKIP

:func:`parse_sbg` / :func:`read_sbg` give the file's content as typed items
(:class:`SbgSequence`); :func:`resolve` turns it into an :class:`SbgTimeline` of
:class:`Span` objects (one continuously sounding voice each, with linear breakpoints), bell
strikes, periods and transitions. See :mod:`resonator.sbg.resolve` for the exact semantics.
"""
from .model import (BellStrike, BellVoice, BinauralVoice, Block,
                    IsochronicVoice, MixEffectVoice, MixVoice, NoiseVoice, OffVoice, Period, Point,
                    Program, SbgOptions, SbgSequence, SbgTimeline, Span, SpinVoice, TimeExpr,
                    TimeLine, ToneSet, ToneVoice, Transition, Voice, WaveDef, WaveVoice)
from .parser import parse_sbg, read_sbg
from .resolve import DEFAULT_LAST_PERIOD_S, resolve

__all__ = [
    "BellStrike", "BellVoice", "BinauralVoice", "Block",
    "DEFAULT_LAST_PERIOD_S", "IsochronicVoice", "MixEffectVoice", "MixVoice", "NoiseVoice",
    "OffVoice", "Period", "Point", "Program", "SbgOptions", "SbgSequence", "SbgTimeline", "Span",
    "SpinVoice", "TimeExpr", "TimeLine", "ToneSet", "ToneVoice", "Transition", "Voice", "WaveDef",
    "WaveVoice", "parse_sbg", "read_sbg", "resolve",
]
