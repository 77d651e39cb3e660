"""Layer kinds: each turns resolved parameters into a stereo signal graph.

Importing this package registers every kind in :data:`LAYER_KINDS`:

========== ==================================================================================
binaural   a tone per ear, left carrier + beat/2, right carrier - beat/2 (flat envelopes)
monaural   both tones in both ears (a real envelope at the beat)
isochronic a carrier gated at a rate with raised-cosine edges
pulse      soft low thumps or short clicks at 0.5-12 per second
gamma      40 Hz as real amplitude modulation: GENUS tone pips or AM tone/noise
breath     a breath-paced drone that swells with each inhale, optional cue tones
noise      white, pink, brown, blue or violet noise, independent per ear or mono
drone      a just-intonation harmonic pad with stereo detune and slow drift
bell       struck inharmonic bells at phase starts or given times
music      the user's audio file, looped with a crossfade, optionally modulated
========== ==================================================================================

See :mod:`resonator.layers.base` for the contract between recipes and layer kinds.
"""
from __future__ import annotations

from .base import LAYER_KINDS, LayerContext, LayerKind, LayerPlan, ParamInfo, Partial, register
# each module registers its kinds at import (a new module is added here)
from . import beds, breath, music, sbg_voices, tones  # noqa: F401

__all__ = ["LAYER_KINDS", "LayerContext", "LayerKind", "LayerPlan", "ParamInfo", "Partial",
           "register"]
