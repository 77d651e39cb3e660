"""The music layer: the user's audio file, looped with a crossfade, optionally modulated.

The file is read once at build time (soundfile: WAV, FLAC, OGG/Vorbis, MP3), converted to
stereo float32 (mono is copied to both ears; more than two channels keep the first two),
resampled to the session rate with :func:`scipy.signal.resample_poly` when the rates differ,
and held in memory. At most :data:`MAX_MUSIC_S` seconds (20 minutes, about 460 MB at 48 kHz)
are loaded: a longer file is cut there (with a warning when the session needs more), and only
as much as the session needs is read.

Looping: with ``L`` loaded frames and a crossfade of ``C`` frames the loop period is ``L - C``;
pass ``j`` starts at ``j (L - C)``, fades in over its first ``C`` frames (not the first pass)
while the previous pass fades out over its last ``C`` frames, equal-power (sine/cosine). The
output at sample ``n`` is computed from ``n`` alone, so any window renders on its own.

Amplitude modulation (the Brain.fm approach; 16 Hz for focus): the signal is multiplied by
``(1 + mod_depth cos(2 pi mod_rate t)) / (1 + mod_depth)``.

Target kind emitted: ``am_rate`` (when ``mod_depth`` > 0).
"""
from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import GraphError
from ..graph.core import Node
from ._common import am_modulator, const, fail, param_targets
from .base import LayerKind, ParamInfo, register

MAX_MUSIC_S = 1200.0

MUSIC_PARAMS = {
    "file": ParamInfo("path", None, "audio file (WAV, FLAC, OGG, MP3), relative to the recipe",
                      automatable=False),
    "crossfade_s": ParamInfo("s", 2.0, "crossfade where the file loops", range=(0.0, 30.0),
                             automatable=False),
    "mod_rate": ParamInfo("hz", 16.0, "amplitude-modulation rate", range=(0.5, 64.0)),
    "mod_depth": ParamInfo("fraction", 0.0, "amplitude-modulation depth (0 = off)",
                           range=(0.0, 1.0)),
}


def load_music(path: Path, sr: int, max_s: float, ctx) -> np.ndarray:
    """Read ``path`` as float32 (2, frames) at ``sr``, at most ``max_s`` seconds."""
    import soundfile as sf
    from scipy.signal import resample_poly

    if not path.is_file():
        fail(ctx, "file", f'music file "{path}" does not exist')
    try:
        info = sf.info(str(path))
        file_sr = int(info.samplerate)
        want = int(math.ceil(max_s * file_sr)) + 64
        data, file_sr = sf.read(str(path), frames=min(want, info.frames) if info.frames > 0
                                else want, dtype="float32", always_2d=True)
    except Exception as e:  # soundfile raises several types (LibsndfileError, RuntimeError)
        fail(ctx, "file", f'cannot read music file "{path}": {e}; WAV, FLAC, OGG and MP3 work')
    if data.shape[0] == 0:
        fail(ctx, "file", f'music file "{path}" holds no audio')
    if data.shape[1] == 1:
        data = np.repeat(data, 2, axis=1)
    data = np.ascontiguousarray(data[:, :2].T)
    if file_sr != sr:
        q = Fraction(sr, file_sr).limit_denominator(10000)
        data = resample_poly(data, q.numerator, q.denominator, axis=1).astype(np.float32)
    if not np.all(np.isfinite(data)):
        fail(ctx, "file", f'music file "{path}" holds non-finite samples')
    return data


class LoopedAudio(Node):
    """A stereo buffer looped with an equal-power crossfade; a pure function of sample index.

    Parameters
    ----------
    data : np.ndarray [shape=(2, frames)]
        The audio at ``sr``.
    sr : int
        The sample rate the buffer was prepared for (renders at another rate are refused).
    crossfade_frames : int
        Overlap where the end of one pass fades into the start of the next (at most half the
        buffer).
    """

    def __init__(self, data: np.ndarray, sr: int, crossfade_frames: int, *, name=None):
        super().__init__(name=name)
        self.data = data
        self.sr = int(sr)
        self.channels = data.shape[0]
        self.length = data.shape[1]
        self.fade = int(min(crossfade_frames, self.length // 2))
        self.period = self.length - self.fade

    def describe(self):
        return f"LoopedAudio({self.length / self.sr:.1f} s)"

    def _prepare(self, ctx):
        if ctx.sr != self.sr:
            raise GraphError(f"music was prepared for {self.sr} Hz but the render runs at "
                             f"{ctx.sr} Hz; build the layer for the render's sample rate")

    def _process(self, ctx, start, frames):
        n = np.arange(start, start + frames, dtype=np.int64)
        j = n // self.period
        tau = n - j * self.period
        x = self.data
        out = x[:, tau].astype(np.float64)
        if self.fade > 0:
            head = (tau < self.fade) & (j > 0)
            if head.any():
                th = tau[head]
                g = th / self.fade  # 0 -> 1 over the crossfade
                fin = np.sin(0.5 * np.pi * g)
                fout = np.cos(0.5 * np.pi * g)
                out[:, head] = out[:, head] * fin + x[:, th + self.period] * fout
        return out


def build_music(params, ctx) -> Node:
    """The user's file, looped with a crossfade when shorter than the session."""
    raw = params.get("file")
    if raw is None or str(raw).strip() == "":
        fail(ctx, "file", "the music layer needs a file (WAV, FLAC, OGG or MP3)")
    path = Path(str(raw)).expanduser()
    if not path.is_absolute():
        path = Path(ctx.recipe_dir) / path
    cross = float(params["crossfade_s"])
    need_s = ctx.duration_s + cross + 1.0
    data = load_music(path, ctx.sr, min(MAX_MUSIC_S, need_s), ctx)
    got_s = data.shape[1] / ctx.sr
    if got_s >= MAX_MUSIC_S - 1.0 and ctx.duration_s > got_s:
        ctx.warn(f'only the first {MAX_MUSIC_S / 60:g} minutes of "{path}" are used; they loop')
    fade = int(round(cross * ctx.sr))
    if data.shape[1] < ctx.duration_s * ctx.sr and fade > data.shape[1] // 2:
        ctx.warn(f"crossfade_s {cross:g} s is more than half the file ({got_s:.1f} s); "
                 f"shortened to {got_s / 2:.2f} s")
    node: Node = LoopedAudio(data, ctx.sr, fade)
    depth = params["mod_depth"]
    d = const(depth)
    if d is None or d > 0:
        node = node * am_modulator(params["mod_rate"], depth)
    return node


def targets_music(params, ctx):
    d = const(params["mod_depth"])
    if d is not None and d == 0:
        return []
    return param_targets("am_rate", params["mod_rate"], ctx, tolerance=0.1, window_s=8.0)


register(LayerKind("music", "your own audio file, looped with a crossfade, optionally "
                   "amplitude-modulated", MUSIC_PARAMS, build_music, targets_music))
