"""Deterministic noise: white, pink, brown, blue and violet, mono or independent per ear.

White sample i of a channel is a pure function of (session seed, the node's stable name,
channel, i): a counter-based hash (splitmix64), so the same samples come out whatever the block
size, any window can be drawn on its own, and adding a layer never changes another layer's noise.
White noise is near-Gaussian (Irwin-Hall sum of four uniforms); coloured noise filters uniform
white, which the filters make Gaussian-like.

Coloured noise filters that white noise with banks of parallel one-pole filters whose state
decays; the state is carried across blocks (bit-identical across block boundaries) and a window
render warms the filters up for :attr:`Noise.warmup_frames` samples, after which the state agrees
with a full render to float precision.

Level: every colour is normalised to an RMS of ``0.25 * amplitude`` (about -12 dBFS), so peaks of
amplitude-1 noise stay near full scale.

Spectra: pink uses Paul Kellet's refined filter (within +-0.05 dB of -10 dB/decade above 9 Hz
at 44.1 kHz); brown is leaky-integrated white (-20 dB/decade above 5 Hz); blue is the first
difference of pink (+10 dB/decade); violet the first difference of white (+20 dB/decade).
"""
from __future__ import annotations

import functools
import hashlib
import math

import numpy as np

from ..errors import GraphError
from .core import Node, as_node
from ..kernels import colored_noise, pink_noise

COLORS = ("white", "pink", "brown", "blue", "violet")
NOISE_RMS = 0.25

# Pink: Paul Kellet's refined filter, a bank of parallel one-poles (within +-0.05 dB of
# -10 dB/decade above 9.2 Hz at 44.1 kHz), plus a direct and a one-sample-delayed white term.
_PINK_POLES = np.array([0.99886, 0.99332, 0.96900, 0.86650, 0.55000, -0.7616])
_PINK_GAINS = np.array([0.0555179, 0.0750759, 0.1538520, 0.3104856, 0.5329522, -0.0168980])
_PINK_DIRECT, _PINK_DELAYED = 0.5362, 0.115926
_BROWN_CORNER_HZ = 5.0


def stable_hash(text: str) -> int:
    """A 64-bit hash of ``text`` that is the same in every Python process."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def _bank(color: str, sr: int):
    """(poles, gains, direct, delayed, diff) of the filter bank for a colour."""
    if color in ("pink", "blue"):
        return _PINK_POLES, _PINK_GAINS, _PINK_DIRECT, _PINK_DELAYED, color == "blue"
    if color == "brown":
        p = math.exp(-2.0 * math.pi * _BROWN_CORNER_HZ / sr)
        return np.array([p]), np.array([1.0 - p]), 0.0, 0.0, False
    if color == "violet":
        return np.zeros(0), np.zeros(0), 1.0, 0.0, True
    return np.zeros(0), np.zeros(0), 1.0, 0.0, False  # white


@functools.lru_cache(maxsize=64)
def _rms_scale(color: str, sr: int) -> tuple[float, int]:
    """(gain giving unit-variance output, warm-up frames), from the impulse response's
    energy in closed form.

    The response is ``h[t] = sum_i g_i p_i**t + direct [t = 0] + delayed [t = 1]`` (first
    difference for blue and violet), so ``sum h**2`` is a double geometric series:
    ``sum_ij g_i g_j / (1 - p_i p_j)`` plus the terms of the two taps (and, differenced,
    ``2 E - 2 sum h[t] h[t-1]``). The warm-up is where the slowest pole has decayed to 1e-17.
    """
    poles, gains, direct, delayed, diff = _bank(color, sr)
    slowest = float(np.max(np.abs(poles))) if poles.size else 0.0
    warm = int(math.ceil(math.log(1e-17) / math.log(slowest))) if slowest > 0 else 2
    p, g = np.asarray(poles, dtype=np.float64), np.asarray(gains, dtype=np.float64)
    pp = np.outer(p, p)
    gg = np.outer(g, g)
    a0, a1, a2 = float(g.sum()), float(g @ p), float(g @ (p * p))
    energy = float(np.sum(gg / (1.0 - pp))) + 2 * direct * a0 + direct ** 2 \
        + 2 * delayed * a1 + delayed ** 2
    if diff:
        lag1 = float(np.sum(gg * p[:, None] / (1.0 - pp))) + delayed * a0 + direct * a1 \
            + delayed * direct + delayed * a2
        energy = 2.0 * energy - 2.0 * lag1
    return 1.0 / math.sqrt(energy), warm


class Noise(Node):
    """Coloured noise, deterministic from the session seed and the node's stable name.

    Parameters
    ----------
    color : {"white", "pink", "brown", "blue", "violet"}
    channels : int >= 1
        1 for the same noise in every channel (it broadcasts), 2 for independent left and right.
    amplitude : number, Curve or Node
        Linear level; the noise's RMS is ``0.25 * amplitude``.
    name : str, optional
        Stable name. Unnamed noise takes its path in the graph; give layers names to keep their
        noise when the graph changes around them.
    """

    def __init__(self, color: str = "pink", *, channels: int = 1, amplitude=1.0, name=None):
        super().__init__(name=name)
        if color not in COLORS:
            raise GraphError(f"unknown noise color {color!r}: allowed are {', '.join(COLORS)}")
        if not (isinstance(channels, int) and channels >= 1):
            raise GraphError(f"noise channels must be a whole number >= 1, got {channels!r}")
        self.color = color
        self.amplitude = as_node(amplitude, "amplitude")
        self.channels = channels
        if self.amplitude.channels not in (1, channels):
            raise GraphError(
                f"noise amplitude has {self.amplitude.channels} channels, the noise {channels}"
            )

    def inputs(self):
        return {"amplitude": self.amplitude}

    def describe(self):
        return f"{self.color.capitalize()}Noise"

    # ------------------------------------------------------------------ set-up
    def _prepare(self, ctx):
        name = ctx.name_of(self)
        self._keys = [stable_hash(f"{ctx.seed}/{name}/{c}") for c in range(self.channels)]
        self._bank = _bank(self.color, ctx.sr)
        scale, self.warmup_frames = _rms_scale(self.color, ctx.sr)
        if self.color == "white":
            self.warmup_frames = 0
        self._scale = NOISE_RMS * scale

    def _reset(self, ctx, start):
        self._state = np.zeros((self.channels, len(self._bank[0]) + 2))

    # ------------------------------------------------------------------ samples
    def _process(self, ctx, start, frames):
        x = np.empty((self.channels, frames))
        amp = ctx.pull_param(self.amplitude, start, frames)
        scale = self._scale * amp if isinstance(amp, float) else self._scale
        if self.color == "pink":  # channels in pairs, the scale applied in the same pass
            keys, state = self._keys, self._state
            for c in range(0, self.channels, 2):
                if c + 1 < self.channels:
                    pink_noise((keys[c], keys[c + 1]), start, x[c:c + 2], state[c:c + 2], scale)
                else:
                    pink_noise(keys[c], start, x[c], state[c], scale)
        else:
            poles, gains, direct, delayed, diff = self._bank
            for c in range(self.channels):
                colored_noise(self._keys[c], start, x[c], self.color == "white", poles, gains,
                              direct, delayed, diff, self._state[c])
            x *= scale
        if not isinstance(amp, float):
            x *= amp
        return x


def WhiteNoise(*, channels=1, amplitude=1.0, name=None) -> Noise:
    """White noise (see :class:`Noise`)."""
    return Noise("white", channels=channels, amplitude=amplitude, name=name)


def PinkNoise(*, channels=1, amplitude=1.0, name=None) -> Noise:
    """Pink (1/f) noise (see :class:`Noise`)."""
    return Noise("pink", channels=channels, amplitude=amplitude, name=name)


def BrownNoise(*, channels=1, amplitude=1.0, name=None) -> Noise:
    """Brown (1/f^2) noise (see :class:`Noise`)."""
    return Noise("brown", channels=channels, amplitude=amplitude, name=name)
