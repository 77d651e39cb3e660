"""Streaming renderer: a graph to a numpy array or to WAV, FLAC, MP3, OGG/Vorbis or Opus, in
bounded memory.

* Blocks sit on an absolute grid (multiples of ``block_frames`` from sample 0), so a window
  render (``start_s``) reproduces the samples a full render has there.
* Output files are checked before any work and written atomically through
  :mod:`resonator.outputs`: an unnamed temporary beside the target, named when complete. An
  error, Ctrl-C, SIGTERM/SIGHUP or a kill leaves neither a partial file nor a temporary.
* 16-bit output gets TPDF dither that is a pure function of (seed, channel, sample index), so it
  too is independent of block size. WAV files that would pass 4 GiB are written as RF64.
* Lossy formats (MP3, OGG/Vorbis, Opus, encoded by the libsndfile that soundfile bundles) are
  streamed like the others, then decoded and measured: the sidecar gives the loudness and
  true peak of what a player will decode, and an encoder overshoot past ``ceiling_dbtp`` is
  taken back by encoding again a little lower (:func:`render_file`).
* A JSON sidecar beside the file records what is needed to reproduce it.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import os
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

from .audio_formats import FORMATS, LOSSY, check_quality, lossy_rate  # noqa: F401 (re-exported)
from .errors import AudioFileError, GraphError
from .graph.core import Node, RenderContext, prepare, walk
from .kernels import quantize as _quantize
from .outputs import AtomicFile, OutputError, check_free_space, check_output, write_text
from .wavfile import WavWriter

DEFAULT_BLOCK = 65536  # frames per block: fewer Python calls per second of audio (see benchmarks)
#: how often a lossy file is encoded again when the encoder pushed its true peak past the
#: ceiling (each time lower by the excess and a margin)
LOSSY_ATTEMPTS = 3
LOSSY_MARGIN_DB = 0.2
BITS = ("16", "24", "32f")
_SUBTYPE = {"16": "PCM_16", "24": "PCM_24", "32f": "FLOAT"}
_BYTES = {"16": 2, "24": 3, "32f": 4}
MAX_WAV_BYTES = 0xFFFFFFFF - 1024

ProgressFn = Callable[[int, int], None]


# --------------------------------------------------------------------------- block engine
def _frames(seconds: float, sr: int, what: str) -> int:
    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds)):
        raise GraphError(f"{what} must be a finite number of seconds, got {seconds!r}")
    if seconds < 0:
        raise GraphError(f"{what} must not be negative, got {seconds:g} s")
    return int(round(seconds * sr))


class Renderer:
    """A graph prepared once (validated, set up for a rate, seed and block grid) that renders
    any number of windows, one at a time.

    :func:`iter_blocks` prepares the graph for every window it renders (filter designs,
    plugin probes, noise normalisation); a Renderer pays that once, so a player that seeks
    or a reader of many short windows pays only each window's warm-up. The samples equal
    :func:`iter_blocks`'s (and so a full render's).

    Parameters
    ----------
    node : Node
        The output node.
    sr : int > 0
        Sample rate in Hz.
    seed : int >= 0
        Session seed.
    block_frames : int > 0
        Block size of the engine.
    """

    def __init__(self, node: Node, *, sr: int, seed: int = 0, block_frames: int = DEFAULT_BLOCK):
        if not isinstance(node, Node):
            raise GraphError(f"render needs a signal node, got {type(node).__name__}")
        self.node = node
        self.ctx = RenderContext(sr, seed, block_frames)
        self.nodes = prepare(node, self.ctx)
        #: frames a window render starts early so stateful nodes settle (the largest warm-up)
        self.warmup_frames = max((n.warmup_frames for n in self.nodes), default=0)

    def _grid(self, first: int, warmup_frames: int | None = None) -> int:
        """The block-grid frame a window from ``first`` starts rendering at (warm-up
        included)."""
        B = self.ctx.block_frames
        warm = self.warmup_frames if warmup_frames is None else \
            min(self.warmup_frames, int(warmup_frames))
        return (max(0, first - warm) // B) * B

    def prefetch(self, first: int) -> None:
        """Let nodes start, on their own threads, work that a window from frame ``first``
        needs before its first block (a music layer's tempo stretch), for a caller that has
        other work to do first (a loudness estimate). The samples do not change."""
        grid = self._grid(first)
        frames = first - grid + self.ctx.block_frames  # the warm-up and the first block
        for n in self.nodes:
            if hasattr(n, "prefetch"):
                n.prefetch(grid, frames)

    def blocks(self, first: int, end: int, *, warmup_frames: int | None = None,
               estimate: bool = False, sparse: bool = False):
        """Yield ``(start_frame, block)`` tiling frames ``[first, end)`` (absolute frames).

        Starting a window resets every node, so the previous window's generator must not be
        used any more. ``block`` is float64 ``(channels, n)`` and valid until the next one.
        ``warmup_frames`` shortens the warm-up (the samples then only approximate a full
        render's until the stateful nodes settle: for estimates, never for output).
        ``estimate`` renders the window for a loudness estimate: nodes may play cheaper
        stand-ins of the same loudness (:attr:`RenderContext.estimate`), never for output;
        ``sparse``: as one of many short windows scattered over the session
        (:attr:`RenderContext.sparse`).
        """
        ctx, node = self.ctx, self.node
        ctx.estimate = bool(estimate)
        ctx.sparse = bool(estimate and sparse)
        B = ctx.block_frames
        grid = self._grid(first, warmup_frames)
        for n in self.nodes:
            n._reset(ctx, grid)
        pos = grid
        while pos < end:
            n = min(B, end - pos)
            block = ctx.pull(node, pos, n)
            ctx._memo.clear()  # intermediate blocks are not needed any more: bound the memory
            lo = max(first - pos, 0)
            if lo < n:
                out = block[:, lo:] if lo else block
                yield pos + lo, np.broadcast_to(out, (node.channels, n - lo))
            pos += n


def iter_blocks(node: Node, duration_s: float, *, sr: int, seed: int = 0, start_s: float = 0.0,
                block_frames: int = DEFAULT_BLOCK, estimate: bool = False):
    """Yield ``(start_frame, block)`` for the window [start_s, start_s + duration_s).

    The graph is validated before anything is rendered. ``block`` is float64
    ``(channels, n)``; consecutive blocks tile the window exactly. ``start_frame`` counts from
    the session's sample 0. ``estimate``: a loudness pass, where nodes may play their
    stand-ins (:meth:`Renderer.blocks`), never for output.
    """
    if not isinstance(node, Node):
        raise GraphError(f"render needs a signal node, got {type(node).__name__}")
    total = _frames(duration_s, sr, "duration")
    if total == 0:
        raise GraphError("duration must be longer than zero")
    first = _frames(start_s, sr, "start time")
    return Renderer(node, sr=sr, seed=seed, block_frames=block_frames).blocks(
        first, first + total, estimate=estimate)


def render_array(node: Node, duration_s: float, *, sr: int, seed: int = 0, start_s: float = 0.0,
                 block_frames: int = DEFAULT_BLOCK, progress: ProgressFn | None = None) -> np.ndarray:
    """Render a graph into memory (for notebooks and tests).

    Parameters
    ----------
    node : Node
        The output node.
    duration_s : float > 0
        Length of the window in seconds.
    sr : int > 0
        Sample rate in Hz.
    seed : int >= 0
        Session seed.
    start_s : float >= 0
        Where the window starts in the session; the samples equal a full render's there.
    block_frames : int > 0
        Block size of the engine (output does not depend on it beyond float rounding).
    progress : callable(done_frames, total_frames), optional

    Returns
    -------
    np.ndarray [shape=(channels, round(duration_s * sr)), dtype=float64]
    """
    total = _frames(duration_s, sr, "duration")
    out = np.empty((node.channels, total))
    first = _frames(start_s, sr, "start time")
    for pos, block in iter_blocks(node, duration_s, sr=sr, seed=seed, start_s=start_s,
                                  block_frames=block_frames):
        out[:, pos - first : pos - first + block.shape[1]] = block
        if progress:
            progress(pos - first + block.shape[1], total)
    return out


# --------------------------------------------------------------------------- quantisation
def quantize(block: np.ndarray, start: int, bits: str, seed: int, *, shift24: bool = False,
             with_peak: bool = False, gain: float | None = None):
    """Convert a float block to the file's sample type; return (interleaved array, clipped count)
    or, with ``with_peak``, (array, clipped count, largest absolute input value).

    16-bit: int16 with TPDF dither. 24-bit: int32 holding the 24-bit value (left-justified
    when ``shift24``, as soundfile expects). 32f: float32. ``gain`` is the mastering stage
    folded in: the block rounded to float32 times the gain in float64, as
    ``np.multiply(block.astype(np.float32), gain, dtype=np.float64)`` but without those
    intermediate arrays.

    Full scale is 2**(bits-1), the convention soundfile/libsndfile read back with, so a sample
    read back equals the written value exactly; +1.0 clips to the largest code. The dither at
    (channel c, absolute frame i) is (u1 - u2) LSB with u1, u2 two 16-bit uniforms from a
    64-bit hash of (seed, i, c // 2): TPDF, and a pure function of position, so it does not
    depend on block size (:func:`resonator.kernels.quantize`).
    """
    if bits == "32f":
        if gain is not None:
            block = np.multiply(block.astype(np.float32), gain, dtype=np.float64)
        a = np.abs(block)
        out = (np.ascontiguousarray(block.T, dtype=np.float32), int(np.sum(a > 1.0)))
        return out + (float(a.max(initial=0.0)),) if with_peak else out
    block = np.ascontiguousarray(block, dtype=block.dtype if block.dtype in (np.float32,
                                                                             np.float64)
                                 else np.float64)
    wide = bits != "16"
    out = np.empty((block.shape[1], block.shape[0]), dtype=np.int32 if wide else np.int16)
    clipped, peak = _quantize(block, start, seed, 8388608.0 if wide else 32768.0, not wide, out,
                              None if gain is None else float(gain))
    if wide and shift24:
        out <<= 8
    return (out, int(clipped), float(peak)) if with_peak else (out, int(clipped))


# --------------------------------------------------------------------------- files
@dataclasses.dataclass
class RenderResult:
    """What a file render produced."""

    path: Path
    sidecar: Path | None
    frames: int
    sr: int
    channels: int
    peak_dbfs: float
    clipped_samples: int
    seconds: float  # wall time
    #: lossy formats: loudness_lufs, true_peak_dbtp, sample_peak_dbfs of the decoded file,
    #: quality, attempts, trim_db (how much lower than planned it was encoded), bytes
    encoded: dict | None = None

    @property
    def realtime_factor(self) -> float:
        """Audio seconds rendered per wall-clock second."""
        return self.frames / self.sr / max(self.seconds, 1e-9)


#: attributes a node derives from its parameters when it is prepared for rendering: left out
#: of the fingerprint, so a graph hashes the same before and after it renders (the mastering
#: stage's cache key: render looked it up before preparing, play after)
_SET_WHEN_PREPARED = frozenset({"warmup_frames", "warmup_residual"})


def graph_fingerprint(node: Node, *, max_array_bytes: int | None = None) -> str:
    """A stable hash of a graph's structure and parameters (for sidecars).

    Arrays larger than ``max_array_bytes`` (when given; e.g. a music file held in memory)
    contribute only their shape and type: for callers that identify such data otherwise
    (the file's size and time) and must stay fast.
    """
    h = hashlib.sha256()
    for n in walk(node):
        h.update(type(n).__name__.encode())
        h.update(repr(sorted(n.inputs().keys())).encode())
        for key, value in sorted(vars(n).items()):
            if (key.startswith("_") and key not in ("_mode",)) or key in _SET_WHEN_PREPARED:
                continue
            if isinstance(value, (int, float, str, bool)) or value is None:
                h.update(f"{key}={value!r};".encode())
            elif isinstance(value, np.ndarray):
                if max_array_bytes is not None and value.nbytes > max_array_bytes:
                    h.update(f"{key}={value.shape}{value.dtype};".encode())
                else:
                    h.update(key.encode() + value.tobytes())
    return h.hexdigest()[:16]


#: the libraries whose versions shape a render's samples (sidecars, the mastering cache key)
VERSIONED = ("numpy", "scipy", "soundfile", "pedalboard", "numba", "librosa")
_VERSIONS: dict[str, str] | None = None


def dependency_versions() -> dict[str, str]:
    """Versions of resonator and the libraries that shape its output (looked up once)."""
    global _VERSIONS
    if _VERSIONS is None:
        from . import __version__

        found = _dist_info_versions(VERSIONED)
        missing = [d for d in VERSIONED if d not in found]
        if missing:  # not installed as a wheel: ask importlib.metadata (slower to load)
            from importlib import metadata

            for dist in missing:
                try:
                    found[dist] = metadata.version(dist)
                except metadata.PackageNotFoundError:
                    found[dist] = "not installed"
        _VERSIONS = {"resonator": __version__, **{d: found[d] for d in VERSIONED}}
    return dict(_VERSIONS)


def _dist_info_versions(names) -> dict[str, str]:
    """Versions of installed distributions from their ``NAME-VERSION.dist-info`` folder names
    on ``sys.path`` (the first one on the path wins, as for an import): a folder listing,
    where importing importlib.metadata and reading each METADATA took 30-60 ms of every
    render."""
    import sys

    want = {n.lower().replace("-", "_") for n in names}
    out: dict[str, str] = {}
    for entry in sys.path:
        try:
            listing = os.scandir(entry or ".")
        except OSError:
            continue
        with listing:
            for e in listing:
                if not e.name.endswith(".dist-info"):
                    continue
                name, _, version = e.name[:-10].partition("-")
                key = name.lower().replace("-", "_").replace(".", "_")
                if key in want and version and key not in out:
                    out[key] = version
        if len(out) == len(want):
            break
    return {n: out[k] for n in names if (k := n.lower().replace("-", "_")) in out}


def _choose_format(path: Path, fmt: str | None, bits: str, frames: int, channels: int) -> tuple[str, str]:
    fmt = (fmt or path.suffix.lower().lstrip(".") or "wav").lower()
    if fmt not in FORMATS:
        raise AudioFileError(f"output format {fmt!r} is not supported: choose "
                             f"{', '.join(FORMATS)}", str(path))
    if fmt in LOSSY:
        return LOSSY[fmt][0], LOSSY[fmt][1]
    if bits not in BITS:
        raise AudioFileError(f"bit depth {bits!r} is not supported: choose 16, 24 or 32f", str(path))
    if fmt == "flac" and bits == "32f":
        raise AudioFileError("FLAC stores integers only: choose --bits 16 or 24", str(path))
    container = fmt.upper()
    if fmt == "wav" and frames * channels * _BYTES[bits] > MAX_WAV_BYTES:
        container = "RF64"
    return container, _SUBTYPE[bits]


def check_render_outputs(path, *, fmt: str | None = None, sidecar: bool = True,
                         force: bool = False, inputs=(), make_parents: bool = False,
                         option: str = "-o") -> tuple[Path, Path | None]:
    """Check a render's audio file and its sidecar before any work (see
    :func:`resonator.outputs.check_output`): the extension (one of :data:`FORMATS`, matching
    ``fmt`` when both are given), the folder, existing files, and the inputs never written over.

    Returns
    -------
    (Path, Path or None)
        The audio file and the sidecar (``<path>.json``; None without ``sidecar``).
    """
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if fmt is not None and suffix in FORMATS and fmt.lower() != suffix:
        raise OutputError(f"does not match --format {fmt}: name the file .{fmt.lower()} or "
                          "leave --format out", f"{option} {path}")
    allowed = tuple(f".{f}" for f in FORMATS)
    check_output(path, option=option, suffixes=None if fmt is not None and not suffix
                 else allowed, inputs=inputs, force=force, make_parents=make_parents)
    side = path.with_suffix(".json") if sidecar else None
    if side is not None:
        check_output(side, option="sidecar", inputs=inputs, others=[path], force=force)
    return path, side


def render_file(node: Node, path, duration_s: float, *, sr: int, seed: int = 0,
                start_s: float = 0.0, fmt: str | None = None, bits: str = "16",
                block_frames: int = DEFAULT_BLOCK, force: bool = False,
                progress: ProgressFn | None = None, sidecar: bool = True,
                metadata: dict | None = None, post: Callable | None = None,
                blocks=None, inputs=(), make_parents: bool = False,
                quality: float | None = None,
                ceiling_dbtp: float | None = None) -> RenderResult:
    """Render a graph to a WAV, FLAC, MP3, OGG/Vorbis or Opus file, streaming, atomically.

    Parameters
    ----------
    node : Node
        Output node (1 or 2 channels, or more).
    path : str or Path
        Target file, in an existing folder (see ``make_parents``).
    duration_s, sr, seed, start_s, block_frames
        As in :func:`render_array`.
    fmt : {"wav", "flac", "mp3", "ogg", "opus"}, optional
        Container; defaults to the path's suffix (they must agree when both are given).
        ``ogg`` is OGG/Vorbis, ``opus`` OGG/Opus (``.opus``). The lossy formats need a
        sample rate their encoder takes (:data:`LOSSY`; see :func:`lossy_rate`).
    bits : {"16", "24", "32f"}
        Sample format: 16-bit PCM with TPDF dither, 24-bit PCM, or 32-bit float (lossy
        formats encode the float samples; ``bits`` does not apply).
    force : bool
        Overwrite an existing file. Without it an existing file raises OutputExistsError.
    progress : callable(done_frames, total_frames), optional
    sidecar : bool
        Write ``<path>.json`` (same name, ``.json`` suffix) describing the render.
    metadata : dict, optional
        Extra fields for the sidecar (recipe path and hash, ...).
    post : callable(block, start_frame) -> block, optional
        A final per-block stage (gain, limiter) applied before quantisation. One with a
        ``gain`` attribute (a float) is that pure gain, and is folded into the quantiser.
    blocks : iterable of (start_frame, block), or a list of such iterables, optional
        The window's blocks already rendered (for example replayed from disk by
        :class:`resonator.mastering.RawCache`) instead of rendering ``node`` again; they must be
        what :func:`iter_blocks` yields for this window. ``node`` still names the graph in the
        sidecar. A list holds consecutive stretches of the window, processed at the same time
        on threads when the file is a WAV (``post`` must then depend only on each block and its
        position); the bytes are the same as one stretch after the other.
    inputs : iterable of paths
        Files the render reads (recipe, music): neither output may be one of them.
    make_parents : bool
        Create a missing output folder (default: a missing folder is an error).
    quality : float in [0, 1], optional
        Lossy formats: 0 smallest file .. 1 best (default per format, :data:`LOSSY`).
    ceiling_dbtp : float, optional
        Lossy formats: the decoded file's true peak must stay at or below this (dBTP). The
        encoded file is decoded and measured; when the encoder pushed a peak past it, the
        file is encoded again lower by the excess plus :data:`LOSSY_MARGIN_DB` (at most
        :data:`LOSSY_ATTEMPTS` times; ``node`` is rendered again for that).

    Returns
    -------
    RenderResult
        For lossy formats ``encoded`` holds what was measured on the decoded file.

    Raises
    ------
    OutputError, OutputExistsError
        Before anything is rendered, when an output cannot be written (see
        :func:`check_render_outputs`); while writing, on a full disk or another write fault
        (nothing is left behind).

    Notes
    -----
    The audio goes to an unnamed temporary in the target's folder and appears under its name
    only when complete (:class:`resonator.outputs.AtomicFile`); an error, Ctrl-C, SIGTERM or
    SIGHUP (under the command line) or a kill leaves neither a partial file nor a temporary.
    A WAV's size is known up front: a disk without room for it is refused before rendering.
    """
    path, side = check_render_outputs(path, fmt=fmt, sidecar=sidecar, force=force,
                                      inputs=inputs, make_parents=make_parents,
                                      option="output")
    total = _frames(duration_s, sr, "duration")
    container, subtype = _choose_format(path, fmt, bits, total, node.channels)
    name = (fmt or path.suffix.lower().lstrip(".") or "wav").lower()
    lossy = LOSSY.get(name)
    if lossy is not None:
        if lossy_rate(name, sr) is not None:
            raise AudioFileError(f"{name} encodes {', '.join(map(str, lossy[2]))} Hz, not "
                                 f"{sr} Hz: render at one of those rates", str(path))
        quality = lossy[3] if quality is None else check_quality(quality, name)
        bits = "32f"  # (the encoder takes the float samples)
    if container in ("WAV", "RF64"):
        check_free_space(path.parent, total * node.channels * _BYTES[bits] + 4096, str(path))
        sf = None  # resonator writes WAV itself (soundfile, with ctypes and friends, is not loaded)
    else:
        import soundfile as sf
    t0 = time.perf_counter()

    def window_blocks():
        return iter_blocks(node, duration_s, sr=sr, seed=seed, start_s=start_s,
                           block_frames=block_frames)
    if blocks is None:
        blocks = window_blocks()
    lanes = [iter(b) for b in blocks] if isinstance(blocks, list) else [iter(blocks)]
    first_block = next(lanes[0])  # validates and renders one block before a file exists
    lanes[0] = _chain(first_block, lanes[0])
    if len(lanes) > 1 and container not in ("WAV", "RF64"):
        lanes = [itertools.chain(*lanes)]
    first = _frames(start_s, sr, "start time")
    encoded, over = None, 0.0
    with AtomicFile(path) as target:
        trim_db = 0.0
        for attempt in range(LOSSY_ATTEMPTS if lossy is not None else 1):
            if attempt:  # again, lower: the file starts over
                os.ftruncate(target.fd, 0)
                os.lseek(target.fd, 0, os.SEEK_SET)
                lanes = [window_blocks()]
            stats = _write_lanes(sf, target, lanes, container, subtype, sr, node.channels,
                                 bits, total, first, seed, post, trim_db, progress, path,
                                 None if lossy is None else 1.0 - quality)
            if lossy is None:
                break
            encoded = _measure_encoded(sf, target.fd, path)
            encoded.update(quality=quality, attempts=attempt + 1, trim_db=round(trim_db, 3))
            tp = encoded["true_peak_dbtp"]
            over = tp - ceiling_dbtp if ceiling_dbtp is not None and tp is not None else 0.0
            if over <= 0:
                break
            trim_db -= over + LOSSY_MARGIN_DB
        if over > 0:
            encoded["warning"] = (f"the encoder still passes the ceiling by {over:.2f} dB "
                                  f"after {LOSSY_ATTEMPTS} encodings")
    peak = max(x[0] for x in stats)
    clipped = sum(x[1] for x in stats)
    seconds = time.perf_counter() - t0
    peak_db = 20 * math.log10(peak) if peak > 0 else -math.inf
    result = RenderResult(path, side, total, sr, node.channels, peak_db, clipped, seconds,
                          encoded)
    if side is not None:
        info = {
            "file": path.name,
            "format": name if lossy is not None else container.lower(),
            "subtype": subtype,
            "sample_rate": sr,
            "channels": node.channels,
            "seed": seed,
            "block_frames": block_frames,
            "start_s": start_s,
            "duration_s": total / sr,
            "frames": total,
            "peak_dbfs": None if peak == 0 else round(peak_db, 3),
            "clipped_samples": clipped,
            "graph_hash": graph_fingerprint(node),
            "versions": dependency_versions(),
            "render_seconds": round(seconds, 3),
        }
        if encoded is not None:
            info["encoded"] = encoded
        info.update(metadata or {})
        write_text(side, json.dumps(info, indent=2, default=str) + "\n")
    return result


def _write_lanes(sf, target, lanes, container, subtype, sr, channels, bits, total, first, seed,
                 post, trim_db, progress, path, compression):
    """Write the lanes' blocks into the temporary ``target``; return each lane's
    [peak, clipped samples, frames]. ``trim_db`` lowers every sample (a lossy re-encoding)."""
    stats = [[0.0, 0, 0] for _ in lanes]  # peak, clipped, frames done per lane
    lock = threading.Lock()
    trim = 10.0 ** (trim_db / 20.0)
    # a stage that is a pure gain (``post.gain``) is folded into the quantiser: the same
    # products, one pass fewer over every block
    gain = getattr(post, "gain", None)
    if gain is not None and trim != 1.0:
        gain, trim = gain * trim, 1.0
    if container in ("WAV", "RF64"):
        writer = WavWriter(target.open("w+b"), sr, channels, bits, total,
                           rf64=container == "RF64")
    else:
        writer = _sf_writer(sf, target, sr, channels, subtype, container, compression)
    with writer as f:
        stop = threading.Event()

        def run(i):
            st = stats[i]
            for pos, block in until_stopped(lanes[i], stop):
                if gain is None and post is not None:
                    block = post(block, pos)
                if trim != 1.0:
                    block = block * trim
                data, c, pk = quantize(block, pos, bits, seed, shift24=container == "FLAC",
                                       with_peak=True, gain=gain)
                st[0] = max(st[0], pk)
                st[1] += c
                if len(lanes) > 1:
                    f.write_at(pos - first, data)
                else:
                    f.write(data)
                st[2] += block.shape[1]
                if progress:
                    with lock:
                        progress(sum(x[2] for x in stats), total)
        try:
            on_threads([lambda i=i: run(i) for i in range(len(lanes))], stop)
        except (sf.LibsndfileError if sf is not None else ()) as exc:
            raise _sf_fault(exc, path) from None
    return stats


def _measure_encoded(sf, fd: int, path: Path) -> dict:
    """Decode the file written on ``fd`` (from its start) and measure what a player hears:
    integrated loudness, true peak and sample peak."""
    from .measure.io import read_frames
    from .measure.loudness import LoudnessMeter

    os.lseek(fd, 0, os.SEEK_SET)
    try:
        with sf.SoundFile(fd, "r", closefd=False) as f:
            meter = LoudnessMeter(f.samplerate, f.channels, true_peak=True)
            frames = 0
            while True:
                block = read_frames(f, 1 << 16)
                if not len(block):
                    break
                meter.update(block.T)
                frames += len(block)
    except sf.LibsndfileError as exc:
        raise _sf_fault(exc, path) from None

    def num(v):
        return round(v, 3) if math.isfinite(v) else None
    return {"loudness_lufs": num(meter.integrated()), "true_peak_dbtp": num(meter.true_peak_dbtp()),
            "sample_peak_dbfs": num(meter.sample_peak_dbfs()), "frames": frames,
            "bytes": os.fstat(fd).st_size}


class _sf_writer:
    """soundfile writing to an :class:`AtomicFile`'s descriptor, closed (header finished)
    before the commit; a libsndfile error while finishing is a write fault."""

    def __init__(self, sf, target, sr, channels, subtype, container, compression=None):
        self._sf, self._path = sf, target.path
        kw = {}
        if compression is not None:  # (libsndfile refuses MP3 at exactly 1)
            kw["compression_level"] = min(max(compression, 0.0), 0.999)
            if container == "MP3":
                kw["bitrate_mode"] = "VARIABLE"
        try:
            self.f = sf.SoundFile(target.fd, "w", samplerate=sr, channels=channels,
                                  subtype=subtype, format=container, closefd=False, **kw)
        except sf.LibsndfileError as exc:
            raise _sf_fault(exc, target.path) from None

    def __enter__(self):
        return self.f

    def __exit__(self, exc_type, exc, tb):
        try:
            self.f.close()
        except self._sf.LibsndfileError as err:
            if exc_type is None:
                raise _sf_fault(err, self._path) from None
        return False


def _sf_fault(exc, path: Path) -> OutputError:
    """libsndfile says "System error." for a full disk: say what happened."""
    from .outputs import disk_full

    if disk_full(path.parent):
        return OutputError("could not be written: no space left on the disk; nothing was "
                           "written", str(path))
    return OutputError(f"could not be written ({exc}); nothing was written", str(path))


class Stopped(RuntimeError):
    """A lane of :func:`on_threads` gave up because another one failed."""


def on_threads(jobs, stop: threading.Event | None = None) -> None:
    """Run the callables at once (the first on this thread); raise the first error after all
    have ended. One job runs directly.

    ``stop`` (optional) is set as soon as any job fails or this thread is interrupted, so jobs
    that check it (for example through :func:`until_stopped`) end early instead of finishing
    their share.
    """
    if len(jobs) == 1:
        jobs[0]()
        return
    stop = stop if stop is not None else threading.Event()
    errors: list[BaseException] = []

    def wrap(job):
        try:
            job()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=wrap, args=(j,), daemon=True) for j in jobs[1:]]
    for t in threads:
        t.start()
    try:
        wrap(jobs[0])
        for t in threads:
            t.join()
    except BaseException:  # interrupted while waiting: tell the others, then go
        stop.set()
        raise
    if errors:
        raise next((e for e in errors if not isinstance(e, Stopped)), errors[0])


def until_stopped(items, stop: threading.Event):
    """Yield from ``items`` until ``stop`` is set (then raise :class:`Stopped`)."""
    for item in items:
        if stop.is_set():
            raise Stopped("stopped: another lane failed")
        yield item


def _chain(first, rest):
    yield first
    yield from rest
