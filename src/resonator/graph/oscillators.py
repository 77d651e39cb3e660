"""Oscillators: sine, triangle, saw, square and pulse, band-limited, with exact float64 phase.

Phase is kept in cycles, in float64, and comes from the frequency in one of three ways:

* constant frequency: ``phase(n) = phase0 + f n / sr`` (exact, a function of the sample index);
* :class:`~resonator.graph.curves.Curve` frequency: ``phase(n) = phase0 + integral(f, 0, n/sr)``
  from the curve's closed-form integral (a 10 -> 20 Hz glide sweeps exactly 10 -> 20 Hz);
* any other node: a running float64 phase carried across blocks (a window render
  fast-forwards it from sample 0 on the same block grid).

Waveforms other than sine read band-limited wavetables: half-octave mipmaps holding only the
harmonics below Nyquist for the current frequency, cross-faded per sample, so aliased
components stay far below -60 dB. Square and pulse are the difference of two band-limited saws,
which keeps the duty cycle exact and band-limited.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import GraphError
from .core import (
    Constant,
    Node,
    TimeFunction,
    as_node,
    broadcast_channels,
    check_below_nyquist,
    constant_value,
    walk,
)
from .curves import Curve
from ..kernels import sine_from_anchors, table_lookup

TWO_PI = 2.0 * math.pi
_GRID = 1024  # anchor spacing of the constant-frequency sine (absolute sample positions)
_TABLE = 8192  # wavetable length
_MAX_HARMONICS = _TABLE // 4


# --------------------------------------------------------------------------- wavetables
_tables: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def _harmonic_counts() -> np.ndarray:
    # level m holds floor(2 ** (m / 2)) harmonics, capped; level 0 holds 1 harmonic
    counts = []
    m = 0
    while True:
        k = min(int(math.floor(2 ** (m / 2))), _MAX_HARMONICS)
        counts.append(k)
        if k >= _MAX_HARMONICS:
            break
        m += 1
    return np.array(counts)


def _wavetable(shape: str) -> tuple[np.ndarray, np.ndarray]:
    """Mipmapped band-limited table for ``shape`` ("saw" rising or "triangle")."""
    if shape in _tables:
        return _tables[shape]
    counts = _harmonic_counts()
    x = np.arange(_TABLE + 1) / _TABLE
    tables = np.zeros((len(counts), _TABLE + 1))
    for level, kmax in enumerate(counts):
        k = np.arange(1, kmax + 1)
        if shape == "saw":  # rising saw: 2 frac(x) - 1
            amp = -2.0 / (np.pi * k)
        else:  # triangle, sine-phase: 0 -> 1 at x=1/4 -> -1 at 3/4
            amp = np.where(k % 2 == 1, 8.0 / (np.pi**2 * k**2) * (-1.0) ** ((k - 1) // 2), 0.0)
        # accumulate in chunks to bound memory
        acc = np.zeros_like(x)
        for s in range(0, kmax, 256):
            kk = k[s : s + 256]
            acc += (amp[s : s + 256, None] * np.sin(TWO_PI * kk[:, None] * x[None, :])).sum(0)
        tables[level] = acc
    _tables[shape] = (tables, counts.astype(np.float64))
    return _tables[shape]


# --------------------------------------------------------------------------- oscillators
WAVEFORMS = ("sine", "triangle", "saw", "square", "pulse")


class Oscillator(Node):
    """A periodic waveform with exact float64 phase.

    Parameters
    ----------
    frequency_hz : number, list of numbers (one per channel), Curve or Node
        Fundamental frequency in Hz; must stay below Nyquist. A two-element list makes a stereo
        oscillator (for example ``[205, 195]`` for a binaural pair).
    waveform : {"sine", "triangle", "saw", "square", "pulse"}
    amplitude : number, Curve or Node
        Linear amplitude (default 1).
    phase : float
        Initial phase in cycles (0..1) at sample 0 of the session.
    duty : number, Curve or Node in (0, 1)
        Fraction of each cycle spent high, for ``"pulse"`` (``"square"`` is duty 0.5).
    name : str, optional
        Stable name in the graph.
    """

    def __init__(self, frequency_hz, waveform: str = "sine", *, amplitude=1.0, phase: float = 0.0,
                 duty=0.5, name: str | None = None):
        super().__init__(name=name)
        if waveform not in WAVEFORMS:
            raise GraphError(f"unknown waveform {waveform!r}: allowed are {', '.join(WAVEFORMS)}")
        self.waveform = waveform
        self.frequency = as_node(frequency_hz, "frequency_hz")
        self.amplitude = as_node(amplitude, "amplitude")
        self.duty = as_node(duty if waveform == "pulse" else 0.5, "duty")
        self.phase0 = float(phase)
        self.channels = broadcast_channels(
            [self.frequency, self.amplitude, self.duty], f"{waveform} oscillator"
        )
        f = self.frequency
        if isinstance(f, Constant):
            self._mode = "constant"
        elif isinstance(f, Curve):
            self._mode = "curve"
        else:
            self._mode = "running"
        self.needs_prefix = self._mode == "running"
        self._carry = None

    def inputs(self):
        return {"frequency_hz": self.frequency, "amplitude": self.amplitude, "duty": self.duty}

    def describe(self):
        return f"{self.waveform.capitalize()}Oscillator"

    def _prepare(self, ctx):
        check_below_nyquist(self.frequency, ctx, f"{self.describe()} frequency_hz")
        if self.waveform == "pulse":
            b = constant_value(self.duty)
            if b is not None and not (0.0 < b < 1.0):
                raise GraphError(f"pulse duty must be between 0 and 1 (exclusive), got {b:g}")
        if self.waveform != "sine":
            _wavetable("triangle" if self.waveform == "triangle" else "saw")
        self._sine_tables = {}

    # ------------------------------------------------------------------ phase
    def _reset(self, ctx, start):
        if self._mode != "running":
            return
        self._carry = np.full(self.channels, self.phase0)
        if start == 0:
            return
        # fast-forward the running phase through the same block grid a full render uses
        for node in walk(self.frequency):
            if node.warmup_frames or node.needs_prefix:
                raise GraphError(
                    "cannot start a window render here: an oscillator's frequency comes from a "
                    "stateful node; render from the start instead"
                )
        B = ctx.block_frames
        pos = 0
        while pos < start:
            n = min(B, start - pos)
            self._running_phase(ctx, pos, n)
            pos += n

    def _running_phase(self, ctx, start, frames):
        f = np.broadcast_to(ctx.pull(self.frequency, start, frames), (self.channels, frames))
        inc = f / ctx.sr
        ph = np.cumsum(inc, axis=1)
        ph -= inc  # exclusive: phase at sample j sums increments of samples before j
        ph += self._carry[:, None]
        self._carry = np.mod(ph[:, -1] + inc[:, -1], 1.0)
        return ph

    def phase_cycles(self, ctx, start, frames) -> np.ndarray:
        """Phase in cycles (float64, not reduced) for samples [start, start+frames)."""
        if self._mode == "constant":
            n = np.arange(start, start + frames, dtype=np.float64)
            f = self.frequency.values
            f = np.broadcast_to(f, (self.channels,))
            return self.phase0 + f[:, None] * n[None, :] / ctx.sr
        if self._mode == "curve":
            ph = self.frequency.integral(ctx.times(start, frames)) + self.phase0
            return np.broadcast_to(ph, (self.channels, frames))
        return self._running_phase(ctx, start, frames)

    # ------------------------------------------------------------------ output
    def _sine_constant(self, ctx, start, frames, amp: float) -> np.ndarray:
        """Exact sine for constant frequencies via anchors on an absolute grid.

        sin(2 pi (phi_a + f k / sr)) = sin(2 pi phi_a) cos(theta_k) + cos(2 pi phi_a) sin(theta_k)
        with phi_a the exact phase at the grid anchor a = G floor(n / G) and k = n - a.
        """
        f = np.broadcast_to(self.frequency.values, (self.channels,))
        out = np.empty((self.channels, frames))
        a0 = (start // _GRID) * _GRID
        anchors = np.arange(a0, start + frames, _GRID, dtype=np.float64)
        for c in range(self.channels):
            tab = self._sine_tables.get(f[c])
            if tab is None:
                theta = TWO_PI * (f[c] * np.arange(_GRID, dtype=np.float64) / ctx.sr)
                tab = (np.cos(theta), np.sin(theta))
                self._sine_tables[f[c]] = tab
            pa = np.mod(self.phase0 + f[c] * anchors / ctx.sr, 1.0) * TWO_PI
            sine_from_anchors(out[c], np.sin(pa), np.cos(pa), tab[0], tab[1], start - a0, amp)
        return out

    def _process(self, ctx, start, frames):
        amp = ctx.pull_param(self.amplitude, start, frames)
        if self.waveform == "sine":
            if self._mode == "constant":
                if isinstance(amp, float):
                    return self._sine_constant(ctx, start, frames, amp)
                wave = self._sine_constant(ctx, start, frames, 1.0)
            else:
                ph = self.phase_cycles(ctx, start, frames)
                frac = (ph - np.floor(ph)).astype(np.float32)
                wave = np.sin(frac * np.float32(TWO_PI)).astype(np.float64)
        else:
            wave = self._bandlimited(ctx, start, frames)
        if isinstance(amp, float):
            if amp != 1.0:
                wave *= amp
        else:
            wave *= amp
        return wave

    def _bandlimited(self, ctx, start, frames):
        ph = np.ascontiguousarray(self.phase_cycles(ctx, start, frames))
        f = np.ascontiguousarray(
            np.broadcast_to(ctx.pull(self.frequency, start, frames), (self.channels, frames)),
            dtype=np.float64,
        )
        nyq = ctx.nyquist
        out = np.empty((self.channels, frames))
        if self.waveform == "triangle":
            tables, counts = _wavetable("triangle")
            for c in range(self.channels):
                table_lookup(ph[c], f[c], tables, nyq, out[c])
            return out
        tables, counts = _wavetable("saw")
        for c in range(self.channels):
            table_lookup(ph[c], f[c], tables, nyq, out[c])
        if self.waveform == "saw":
            return out
        # pulse = (2d - 1) - (saw(phi) - saw(phi - d))
        d = np.broadcast_to(ctx.pull(self.duty, start, frames), (self.channels, frames))
        shifted = np.empty_like(out)
        phd = np.ascontiguousarray(ph - d)
        for c in range(self.channels):
            table_lookup(phd[c], f[c], tables, nyq, shifted[c])
        return (2.0 * d - 1.0) - (out - shifted)


def Sine(frequency_hz, *, amplitude=1.0, phase=0.0, name=None) -> Oscillator:
    """A sine oscillator (see :class:`Oscillator`)."""
    return Oscillator(frequency_hz, "sine", amplitude=amplitude, phase=phase, name=name)


def Triangle(frequency_hz, *, amplitude=1.0, phase=0.0, name=None) -> Oscillator:
    """A band-limited triangle oscillator (see :class:`Oscillator`)."""
    return Oscillator(frequency_hz, "triangle", amplitude=amplitude, phase=phase, name=name)


def Saw(frequency_hz, *, amplitude=1.0, phase=0.0, name=None) -> Oscillator:
    """A band-limited rising saw oscillator (see :class:`Oscillator`)."""
    return Oscillator(frequency_hz, "saw", amplitude=amplitude, phase=phase, name=name)


def Square(frequency_hz, *, amplitude=1.0, phase=0.0, name=None) -> Oscillator:
    """A band-limited square oscillator (see :class:`Oscillator`)."""
    return Oscillator(frequency_hz, "square", amplitude=amplitude, phase=phase, name=name)


def Pulse(frequency_hz, *, duty=0.5, amplitude=1.0, phase=0.0, name=None) -> Oscillator:
    """A band-limited pulse oscillator with duty cycle ``duty`` in (0, 1)."""
    return Oscillator(frequency_hz, "pulse", amplitude=amplitude, phase=phase, duty=duty, name=name)
