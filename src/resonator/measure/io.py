"""Reading audio files for measurement, in blocks (WAV, FLAC, OGG/Vorbis, MP3 via soundfile)."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from ..errors import AudioFileError

__all__ = ["AudioInfo", "open_audio", "iter_blocks", "read_window"]


@dataclass(frozen=True)
class AudioInfo:
    """What :func:`open_audio` found: path, sample rate (Hz), channels, frames, seconds, format."""

    path: str
    sr: int
    channels: int
    frames: int
    duration_s: float
    format: str
    subtype: str


def _sf():
    import soundfile

    return soundfile


def open_audio(path) -> AudioInfo:
    """Describe an audio file without reading its samples.

    Parameters
    ----------
    path : str or os.PathLike
        WAV, FLAC, OGG/Vorbis or MP3 (anything libsndfile reads).

    Returns
    -------
    info : AudioInfo

    Raises
    ------
    AudioFileError
        The file is missing, unreadable or not audio; the message names the path.
    """
    p = os.fspath(path)
    if not os.path.exists(p):
        raise AudioFileError("no such file", p)
    if os.path.isdir(p):
        raise AudioFileError("is a directory, not an audio file", p)
    sf = _sf()
    try:
        info = sf.info(p)
    except Exception as exc:  # soundfile raises LibsndfileError / RuntimeError
        raise AudioFileError(
            f"cannot read as audio ({_reason(exc)}); readable formats: WAV, FLAC, OGG, MP3", p
        ) from None
    frames = int(info.frames)
    if frames < 0 or frames > 2**62:  # some MP3 streams report no length
        frames = _count_frames(p)
    return AudioInfo(p, int(info.samplerate), int(info.channels), frames,
                     frames / float(info.samplerate), str(info.format), str(info.subtype))


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def _count_frames(p: str) -> int:
    sf = _sf()
    n = 0
    with sf.SoundFile(p) as f:
        for block in f.blocks(blocksize=1 << 16, dtype="float32", always_2d=True):
            n += block.shape[0]
    return n


def _frame_range(info: AudioInfo, start_s, end_s, where: str) -> tuple[int, int]:
    start_s = 0.0 if start_s is None else float(start_s)
    end_s = info.duration_s if end_s is None else float(end_s)
    if not (math.isfinite(start_s) and math.isfinite(end_s)) or start_s < 0 or end_s <= start_s:
        raise AudioFileError(
            f"window {start_s:g}-{end_s:g} s: need 0 <= start_s < end_s", f"{info.path} ({where})")
    if start_s >= info.duration_s:
        raise AudioFileError(
            f"window starts at {start_s:g} s but the file lasts {info.duration_s:.3f} s",
            f"{info.path} ({where})")
    a = int(round(start_s * info.sr))
    b = min(info.frames, int(round(end_s * info.sr)))
    return a, b


def iter_blocks(path, block_frames: int = 65536, start_s: float = 0.0,
                end_s: float | None = None):
    """Read a file (or a window of it) block by block.

    Parameters
    ----------
    path : str or os.PathLike
        Audio file.
    block_frames : int >= 1
        Frames per block (the last block may be shorter).
    start_s : number >= 0
        Start of the window in seconds.
    end_s : number > start_s, optional
        End of the window in seconds (clipped to the file's end); default the file's end.

    Yields
    ------
    block : np.ndarray [shape=(channels, n)], float64, full scale = 1.0
    """
    info = open_audio(path)
    if int(block_frames) != block_frames or block_frames < 1:
        raise AudioFileError(f"block_frames={block_frames!r}: need an integer >= 1", info.path)
    a, b = _frame_range(info, start_s, end_s, "iter_blocks")
    sf = _sf()
    try:
        with sf.SoundFile(info.path) as f:
            if a:
                f.seek(a)
            left = b - a
            while left > 0:
                data = f.read(min(int(block_frames), left), dtype="float64", always_2d=True)
                if data.shape[0] == 0:
                    break
                left -= data.shape[0]
                yield np.ascontiguousarray(data.T)
    except AudioFileError:
        raise
    except Exception as exc:
        raise AudioFileError(f"read failed ({_reason(exc)})", info.path) from None


def read_window(path, start_s: float = 0.0, end_s: float | None = None):
    """Read a window of a file into memory.

    Parameters
    ----------
    path : str or os.PathLike
        Audio file.
    start_s : number >= 0
        Start in seconds.
    end_s : number > start_s, optional
        End in seconds (clipped to the file's end); default the file's end.

    Returns
    -------
    x : np.ndarray [shape=(channels, n)], float64
    sr : int
        Sample rate in Hz.
    """
    info = open_audio(path)
    blocks = list(iter_blocks(path, 1 << 18, start_s, end_s))
    if not blocks:
        return np.zeros((info.channels, 0)), info.sr
    return np.concatenate(blocks, axis=1), info.sr
