"""Gate and burst shapes of the pulsed layers (isochronic, pulse, gamma pips), and their spectra.

A gated tone is ``carrier x gate``: everything the gate does to the sound's spectrum is the
gate's own spectrum moved to the carrier. Its harmonics at multiples of the rate shape the
pulse; harmonics far from the carrier are *splatter*, heard as clicks or a buzzy halo. How far
is too far is defined once, in :func:`resonator.measure.splatter.splatter_band`.

Isochronic gates (:class:`GateShape`, chosen by name with the layer's ``gate``):

======== ===================================================================================
soft     (default) rounded pulses with silence between: the gate opens over 30 % of the
         period, closes over the next 30 %, stays shut for 40 %; Blackman edges.
         Splatter at or below -50 dB for carriers 100-1000 Hz and rates 1-40 Hz.
sine     a continuous throb (sine amplitude modulation, ``0.5 - 0.5 cos``): the gentlest
         pulse, no silence between; only the two sidebands at +-rate, no splatter at all.
brisk    a quick onset and a longer decay, then a long silence: the most distinct pulse.
         SBaGenX's "literature-informed" envelope (on for 35 % of the period; attack 12 %
         and release 65 % of that on-window, i.e. 4.2 % and 22.75 % of the period).
         Splatter about -17 dB at 300 Hz / 10 Hz: its onset is a soft click.
sharp    a crisp on/off gate, open for half the period with 5 ms raised-cosine edges (the
         isochronic sound of resonator before this change). Splatter -18 dB at 300 Hz /
         10 Hz, -15 dB at 1 Hz: audible ticks at each edge.
======== ===================================================================================

A recipe may change a preset's ``duty`` (open share of the period: from the start of the rise
to the end of the fall), its ``attack`` and ``release`` (fractions of the period) or give the
edges in seconds (``attack_s``, ``release_s``). No edge is shorter than 2 ms (a shorter one
clicks: brisk's 4.2 % attack is lengthened above 48 Hz); edges that do not fit the open window
are shortened in proportion.

Bursts (pulse thumps and clicks, gamma pips) are single tone bursts repeated at the rate;
their windows are raised-cosine (Hann) shapes, so their splatter (outside the band their own
length needs) stays below -44 dB.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

__all__ = ["EDGES", "GATES", "MIN_EDGE_S", "GateShape", "gate_for", "thump_burst", "hann_burst"]

TWO_PI = 2.0 * math.pi
#: the shortest edge (s): a shorter one is a click; edges of a preset at a high rate are
#: lengthened to it
MIN_EDGE_S = 0.002


def _cosine_edge(x):
    return 0.5 - 0.5 * np.cos(np.pi * x)


def _blackman_edge(x):
    # (exactly 0 at x = 0: the three terms leave -1.4e-17 there)
    return np.maximum(0.42 - 0.5 * np.cos(np.pi * x) + 0.08 * np.cos(TWO_PI * x), 0.0)


#: edge curves for x in [0, 1], rising from 0 to 1 and flat at both ends: ``cosine`` (raised
#: cosine) or ``blackman`` (three cosine terms: as smooth, far less energy in its spectral tail)
EDGES = {"cosine": _cosine_edge, "blackman": _blackman_edge}


@dataclass(frozen=True)
class GateShape:
    """One isochronic gate cycle: rise, hold, fall, silence.

    Attributes
    ----------
    name : str
        The preset it came from (or ``custom``).
    duty : float in (0, 1]
        Share of the period from the start of the rise to the end of the fall.
    attack, release : float in (0, 1)
        Edge lengths as fractions of the period (used when ``attack_s``/``release_s`` are 0).
    attack_s, release_s : float >= 0
        Edge lengths in seconds (0: use the fractions).
    edge : {"cosine", "blackman"}
    doc : str
        What it sounds like.
    """

    name: str
    duty: float
    attack: float
    release: float
    edge: str
    doc: str = ""
    attack_s: float = 0.0
    release_s: float = 0.0

    def edges(self, rate_hz, duty):
        """(attack, release) as fractions of the period at ``rate_hz``: at least
        :data:`MIN_EDGE_S` long, then fitted into ``duty`` (shrunk in proportion)."""
        shortest = MIN_EDGE_S * np.asarray(rate_hz, dtype=np.float64)
        a = np.maximum(self.attack_s * rate_hz if self.attack_s > 0 else self.attack, shortest)
        r = np.maximum(self.release_s * rate_hz if self.release_s > 0 else self.release,
                       shortest)
        scale = np.minimum(1.0, duty / (a + r))
        return a * scale, r * scale

    def values(self, frac, rate_hz, duty=None):
        """The gate (0..1) at cycle fractions ``frac`` in [0, 1) (arrays broadcast).

        The rise starts at fraction 0; the gate is 0 from ``duty`` to the end of the cycle.
        """
        frac = np.asarray(frac, dtype=np.float64)
        duty = self.duty if duty is None else duty
        a, r = self.edges(rate_hz, duty)
        edge = EDGES[self.edge]
        rise = edge(np.minimum(frac / a, 1.0))
        fall = edge(np.clip((duty - frac) / r, 0.0, 1.0))
        return np.minimum(rise, fall)

    def period(self, rate_hz: float, n: int = 4096, duty: float | None = None) -> np.ndarray:
        """One cycle sampled at ``n`` points (for spectra and measurement templates)."""
        return self.values((np.arange(n) + 0.5) / n, float(rate_hz), duty)


#: the isochronic gate presets, by name (see the module docstring)
GATES: dict[str, GateShape] = {g.name: g for g in (
    GateShape("soft", 0.6, 0.3, 0.3, "blackman",
              "rounded pulses with silence between (no clicks; the default)"),
    GateShape("sine", 1.0, 0.5, 0.5, "cosine",
              "a continuous throb: sine amplitude modulation, no silence between pulses"),
    GateShape("brisk", 0.35, 0.12 * 0.35, 0.65 * 0.35, "cosine",
              "a quick onset, a longer decay and a long silence: the most distinct pulse "
              "(a soft click at each onset)"),
    GateShape("sharp", 0.5, 0.0, 0.0, "cosine",
              "a crisp on/off gate with 5 ms edges (audible ticks)", 0.005, 0.005),
)}


def gate_for(name: str, *, duty: float = 0.0, attack: float = 0.0, release: float = 0.0,
             attack_s: float = 0.0, release_s: float = 0.0) -> GateShape:
    """The preset ``name`` with the given overrides (0 keeps the preset's value).

    An edge given in seconds replaces that edge's fraction and the other way round.
    """
    g = GATES[name]
    changes = {}
    if duty:
        changes["duty"] = float(duty)
    if attack:
        changes.update(attack=float(attack), attack_s=0.0)
    if release:
        changes.update(release=float(release), release_s=0.0)
    if attack_s:
        changes["attack_s"] = float(attack_s)
    if release_s:
        changes["release_s"] = float(release_s)
    return replace(g, name="custom", **changes) if changes else g


# ----------------------------------------------------------------------------- bursts
def thump_burst(pitch_hz: float, length_s: float):
    """``sound(tau_s)`` of one thump: a sine at ``pitch_hz`` under a raised-cosine swell over
    the first 30 % of ``length_s`` and a raised-cosine decay over the rest (0 outside)."""
    attack = 0.3 * length_s

    def sound(tau):
        tau = np.asarray(tau, dtype=np.float64)
        env = np.minimum(_cosine_edge(np.clip(tau / attack, 0.0, 1.0)),
                         _cosine_edge(np.clip((length_s - tau) / (length_s - attack), 0.0, 1.0)))
        return np.where((tau >= 0) & (tau < length_s), env * np.sin(TWO_PI * pitch_hz * tau),
                        0.0)
    return sound


def hann_burst(pitch_hz: float, length_s: float):
    """``sound(tau_s)`` of a Hann-windowed tone burst of ``length_s`` (0 outside), starting at
    phase 0 of its carrier (pulse clicks, GENUS pips)."""
    def sound(tau):
        tau = np.asarray(tau, dtype=np.float64)
        w = 0.5 - 0.5 * np.cos(TWO_PI * np.clip(tau / length_s, 0.0, 1.0))
        return np.where((tau >= 0) & (tau < length_s), w * np.sin(TWO_PI * pitch_hz * tau), 0.0)
    return sound
