"""pedalboard plugins as graph nodes, exact across block sizes.

:class:`Effect` wraps a pedalboard plugin (Reverb, Compressor, Limiter, Gain, Chorus, Delay,
LadderFilter, Phaser, Distortion, HighpassFilter, LowpassFilter, Convolution, ...). pedalboard is
GPL-3.0; importing this module requires it.

How output is kept independent of the block size (measured on pedalboard 0.9):

* **Priming.** A pedalboard plugin prepares itself for the size of its first chunk and
  re-prepares (clearing its state) when a later chunk is larger; and a ``(2, 1)`` first chunk is
  read as mono with two frames. So after every reset the plugin is primed with one zero block
  shaped ``(channels, grid_frames)``, and every later call is at most ``grid_frames`` long (with
  ``buffer_size=grid_frames``). The layout is then known, so 1-frame stereo pieces are read
  correctly. Zeros leave reverbs, filters, delays and compressors silent; LFO effects (Chorus,
  Phaser) advance their LFO by a fixed ``grid_frames`` samples, the same in every render.
* **Fixed grid.** Blocks are cut at multiples of ``grid_frames`` counted from sample 0 and
  processed piece by piece with ``reset=False`` (bit-identical to one long call for the
  plugins above). Automated parameters are set before the piece that starts at a grid sample, to
  their value at that sample; a block that starts inside a grid segment keeps the values set
  for the segment (right after a reset, a TimeFunction is evaluated at the grid sample and any
  other node falls back to its value at the block's first sample: warm-up samples only).
* **Length.** Plugins whose output length differs from their input (PitchShift, Resample,
  MP3Compressor, GSMFullRateCompressor: latency) are refused with a GraphError, found by a
  chunked probe at construction and again at the render's sample rate.

Channels: the node's channel count is what the plugin returns for a probe with the source's
channel count (pedalboard's built-in plugins return as many channels as they get, so a mono
source gives a mono effect: stack or pan it first for stereo output). The probe runs at
48 kHz when the node is built and is checked again at the render's sample rate.

Window renders: effects with memory declare :attr:`Effect.warmup_frames` from their parameters
(decay to about -140 dB, the float32 floor pedalboard computes in): Reverb
``ln(1e-7) / ln(0.7 + 0.28 room_size)`` passes through its longest comb (1617 samples at
44.1 kHz), about 3.4 s at the default room size and 29 s at 1.0 (capped at 60 s; freeze
mode never decays); Compressor, Limiter and NoiseGate ``16 * (attack + release)``; Delay its
delay times the feedback passes; first-order and ladder filters ``16 / (2 pi cutoff)``
(ladder: divided by ``1 - resonance``, plus 1.5 s when automated: its parameter
smoothing left 1e-5 differences after 0.5 s in measurements); Chorus and Phaser 1 s; gain-like plugins 0; anything
else 5 s. Override with ``warmup_s``. Chorus and Phaser also keep an LFO whose phase counts the
samples since the reset, so they are prefix nodes: a window render first runs the plugin over
zeros from sample 0 to the start of its warm-up on the same grid (cost: the skipped time), which
needs every automated parameter to be a constant or a TimeFunction. Window renders agree with
a full render to about 1e-6 (pedalboard works in float32).
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from ..errors import GraphError
from .core import Node, TimeFunction, as_node, constant_value, node_bounds

_PROBE_SR = 48000
_REFUSED = ("PitchShift", "Resample", "MP3Compressor", "GSMFullRateCompressor")
_LFO = ("Chorus", "Phaser")
_STATELESS = ("Gain", "Distortion", "Clipping", "Invert", "Bitcrush")
_DEFAULT_WARMUP_S = 5.0
_MAX_WARMUP_S = 60.0
_LN_FLOOR = -math.log(1e-7)  # 16.1: decay to -140 dB


def _pedalboard():
    try:
        import pedalboard
    except ImportError as e:  # pragma: no cover - pedalboard is a dependency
        raise GraphError("effects need the pedalboard package: pip install pedalboard") from e
    return pedalboard


def _make_plugin(plugin_or_name):
    pb = _pedalboard()
    if isinstance(plugin_or_name, str):
        cls = getattr(pb, plugin_or_name, None)
        if not (isinstance(cls, type) and issubclass(cls, pb.Plugin)):
            raise GraphError(
                f"unknown pedalboard plugin {plugin_or_name!r}: use a class name such as Reverb, "
                "Compressor, Limiter, Gain, Chorus, Delay, LadderFilter, Phaser, Distortion, "
                "HighpassFilter, LowpassFilter, or pass a plugin instance"
            )
        try:
            return cls()
        except TypeError as e:
            raise GraphError(f"pedalboard.{plugin_or_name} needs arguments ({e}); build the "
                             "plugin yourself and pass the instance") from e
    if isinstance(plugin_or_name, pb.Plugin):
        return plugin_or_name
    raise GraphError(f"an effect needs a pedalboard plugin or its class name, got "
                     f"{type(plugin_or_name).__name__}")


class Effect(Node):
    """A pedalboard plugin as a node, with parameters automated on a fixed sample grid.

    Parameters
    ----------
    source : Node
        Input signal (float64, converted to float32 for the plugin).
    plugin_or_name : pedalboard.Plugin or str
        A plugin instance (the node owns it from now on: do not share it between nodes) or
        the name of a pedalboard plugin class built with its defaults (``"Reverb"``).
    params : mapping of str to number, Curve or Node, optional
        Plugin attributes (``room_size``, ``wet_level``, ``cutoff_hz``, ``threshold_db``, ...).
        Numbers are set once; curves and nodes (one channel) are applied every ``grid_frames``
        samples at absolute positions, with their value at the grid sample.
    grid_frames : int >= 16
        Parameter grid and maximum chunk passed to the plugin, in samples.
    warmup_s : float >= 0, optional
        Override the warm-up a window render runs before its first sample (see module docs).
    name : str, optional

    Raises
    ------
    GraphError
        Unknown plugin or attribute, a plugin that changes length (latency), a multi-channel
        parameter, or a bad value the plugin rejects.
    """

    def __init__(self, source, plugin_or_name, *, params: Mapping[str, Any] | None = None,
                 grid_frames: int = 1024, warmup_s: float | None = None, name: str | None = None):
        super().__init__(name=name)
        self.source = as_node(source, "effect source")
        if not (isinstance(grid_frames, (int, np.integer)) and grid_frames >= 16):
            raise GraphError(f"grid_frames must be a whole number >= 16, got {grid_frames!r}")
        self.grid_frames = int(grid_frames)
        self.plugin = _make_plugin(plugin_or_name)
        self.plugin_name = type(self.plugin).__name__
        if self.plugin_name in _REFUSED:
            raise GraphError(
                f"pedalboard.{self.plugin_name} changes the signal's length (it adds latency), "
                "which a block graph cannot align; resample or pitch-shift offline instead"
            )
        if warmup_s is not None and not (isinstance(warmup_s, (int, float)) and warmup_s >= 0
                                         and math.isfinite(warmup_s)):
            raise GraphError(f"warmup_s must be a number of seconds >= 0, got {warmup_s!r}")
        self.warmup_s = warmup_s
        self.params: dict[str, Node] = {}
        self._static: dict[str, float] = {}
        for key, value in (params or {}).items():
            if key.startswith("_") or not hasattr(self.plugin, key):
                raise GraphError(f"pedalboard.{self.plugin_name} has no parameter {key!r}")
            node = as_node(value, f"{self.plugin_name} {key}")
            if node.channels != 1:
                raise GraphError(f"{self.plugin_name} {key} must be a one-channel signal, got "
                                 f"{node.channels} channels")
            c = constant_value(node)
            if c is not None:
                self._set(key, c)
                self._static[key] = c
            else:
                self.params[key] = node
        self.channels = self._probe(_PROBE_SR, self.source.channels)
        self.needs_prefix = self.plugin_name in _LFO

    def inputs(self):
        out = {"source": self.source}
        out.update({f"param:{k}": v for k, v in self.params.items()})
        return out

    def describe(self):
        return f"Effect({self.plugin_name})"

    # ------------------------------------------------------------------ plugin calls
    def _set(self, key, value):
        try:
            setattr(self.plugin, key, float(value))
        except Exception as e:  # pedalboard raises ValueError/TypeError with its own text
            raise GraphError(f"pedalboard.{self.plugin_name} rejected {key}={value:g}: {e}") from e

    def _call(self, x: np.ndarray, sr: int) -> np.ndarray:
        return self.plugin.process(x, float(sr), buffer_size=self.grid_frames, reset=False)

    def _prime(self, sr: int, channels: int) -> None:
        self.plugin.reset()
        self._call(np.zeros((channels, self.grid_frames), dtype=np.float32), sr)

    def _probe(self, sr: int, channels: int) -> int:
        """Run a chunked probe; return the output channel count or raise for length changes."""
        rng = np.random.default_rng(1)
        G = self.grid_frames
        try:
            self._prime(sr, channels)
            outs = []
            for n in (G, 1, G // 2 + 1, G):
                x = (0.1 * rng.standard_normal((channels, n))).astype(np.float32)
                y = self._call(x, sr)
                if y.ndim != 2 or y.shape[1] != n:
                    raise GraphError(
                        f"pedalboard.{self.plugin_name} returned {y.shape[-1]} frames for {n}: it "
                        "changes the signal's length (latency), which a block graph cannot align"
                    )
                outs.append(y.shape[0])
        finally:
            self.plugin.reset()
        if len(set(outs)) != 1:
            raise GraphError(f"pedalboard.{self.plugin_name} changed its channel count between calls")
        return outs[0]

    # ------------------------------------------------------------------ engine hooks
    def _prepare(self, ctx):
        for key, node in self.params.items():
            b = node_bounds(node)
            if b is not None:
                for v in b:
                    self._set(key, v)  # let the plugin validate the range
        for key, v in self._static.items():
            self._set(key, v)
        if self._probe(ctx.sr, self.source.channels) != self.channels:
            raise GraphError(f"pedalboard.{self.plugin_name} returns a different channel count at "
                             f"{ctx.sr} Hz than at {_PROBE_SR} Hz")
        self.warmup_frames = int(math.ceil(self._warmup_seconds() * ctx.sr))

    def _range(self, key):
        """(min, max) of a parameter: its constant, its known bounds, or None."""
        if key in self.params:
            return node_bounds(self.params[key])
        v = getattr(self.plugin, key, None)
        return None if v is None else (float(v), float(v))

    def _warmup_seconds(self) -> float:
        if self.warmup_s is not None:
            return float(self.warmup_s)
        name = self.plugin_name
        if name in _STATELESS:
            return 0.0
        if name in _LFO:
            return 1.0

        def hi(key, default):
            r = self._range(key)
            return default if r is None else r[1]

        def lo(key, default):
            r = self._range(key)
            return default if r is None else r[0]

        if name == "Reverb":
            if hi("freeze_mode", 1.0) >= 0.5:
                return _MAX_WARMUP_S
            fb = 0.7 + 0.28 * min(max(hi("room_size", 1.0), 0.0), 1.0)
            s = _LN_FLOOR / -math.log(fb) * 1617 / 44100 + 0.05
        elif name in ("Compressor", "NoiseGate"):
            s = _LN_FLOOR * (hi("attack_ms", 100.0) + hi("release_ms", 1000.0)) / 1000.0
        elif name == "Limiter":
            s = _LN_FLOOR * (hi("release_ms", 1000.0) + 10.0) / 1000.0
        elif name == "Delay":
            fb = min(abs(hi("feedback", 1.0)), 1.0)
            passes = 1.0 if fb <= 1e-7 else (math.inf if fb >= 1.0 else 1.0 + _LN_FLOOR / -math.log(fb))
            s = hi("delay_seconds", 2.0) * passes
        elif name in ("HighpassFilter", "LowpassFilter"):
            s = _LN_FLOOR / (2 * math.pi * max(lo("cutoff_hz", 1.0), 1e-3)) + 0.01
        elif name == "LadderFilter":
            res = min(hi("resonance", 1.0), 0.999)
            s = _LN_FLOOR / (2 * math.pi * max(lo("cutoff_hz", 1.0), 1e-3)) / (1.0 - res) + 0.01
            if self.params:  # measured: its internal parameter smoothing converges slowly
                s += 1.5
        else:
            s = _DEFAULT_WARMUP_S
        return min(s, _MAX_WARMUP_S)

    def _reset(self, ctx, start):
        self._prime(ctx.sr, self.source.channels)
        for key, v in self._static.items():
            self._set(key, v)
        self._have_set = False
        if self.needs_prefix and start > 0:
            self._fast_forward(ctx, start)

    def _fast_forward(self, ctx, start):
        """Run the plugin over zeros from sample 0 to ``start`` (LFO phase), on the same grid."""
        for key, node in self.params.items():
            if not isinstance(node, TimeFunction):
                raise GraphError(
                    f"cannot start a window render here: {self.plugin_name}'s LFO runs from sample "
                    f"0 and its {key} comes from a node; render from the start instead"
                )
        G = self.grid_frames
        zeros = np.zeros((self.source.channels, G), dtype=np.float32)
        pos = 0
        while pos < start:
            n = min(G - pos % G, start - pos)
            if pos % G == 0 and self.params:
                t = np.array([pos / ctx.sr])
                for key, node in self.params.items():
                    self._set(key, node.evaluate(t)[0])
            self._call(zeros[:, :n], ctx.sr)
            pos += n
        self._have_set = bool(self.params)

    def _process(self, ctx, start, frames):
        x = np.ascontiguousarray(
            np.broadcast_to(ctx.pull(self.source, start, frames), (self.source.channels, frames)),
            dtype=np.float32,
        )
        blocks = {k: ctx.pull(v, start, frames)[0] for k, v in self.params.items()}
        if blocks and not self._have_set and start % self.grid_frames != 0:
            g0 = (start // self.grid_frames) * self.grid_frames
            for key, node in self.params.items():
                if isinstance(node, TimeFunction):
                    self._set(key, node.evaluate(np.array([g0 / ctx.sr]))[0])
                else:  # documented fallback for the first block after a reset
                    self._set(key, blocks[key][0])
        self._have_set = True
        out = np.empty((self.channels, frames))
        G = self.grid_frames
        j = 0
        while j < frames:
            phase = (start + j) % G
            if phase == 0:
                for key, blk in blocks.items():
                    self._set(key, blk[j])
            n = min(G - phase, frames - j)
            out[:, j:j + n] = self._call(x[:, j:j + n], ctx.sr)
            j += n
        return out
