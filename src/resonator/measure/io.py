"""Reading audio files for measurement, in blocks (WAV, FLAC, OGG/Vorbis, MP3 via soundfile)."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from ..errors import AudioFileError

__all__ = ["AudioInfo", "open_audio", "iter_blocks", "read_window", "read_frames",
           "FrameReader"]


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


def read_frames(f, frames: int, dtype: str = "float32") -> np.ndarray:
    """Read up to ``frames`` frames at the position of the open ``soundfile.SoundFile`` ``f``.

    Every reader of audio files goes through here (or :class:`FrameReader`), not
    ``SoundFile.read``: soundfile seeks after every read to keep its own position, and
    libsndfile 1.2.2 (bundled with soundfile 0.14) decodes MP3 wrongly after any seek that
    follows a read (from the second block on, errors of half full scale were measured). One
    libsndfile read, no seek, gives the same samples as reading the file whole.

    Parameters
    ----------
    f : soundfile.SoundFile
        Open for reading.
    frames : int >= 0
    dtype : {"float32", "float64"}

    Returns
    -------
    np.ndarray [shape=(n, channels)], n <= frames (fewer at the end of the file)
    """
    sf = _sf()
    ctype = {"float32": "float", "float64": "double"}[dtype]
    out = np.empty((max(int(frames), 0), f.channels), dtype=dtype)
    got = getattr(sf._snd, f"sf_readf_{ctype}")(
        f._file, sf._ffi.cast(f"{ctype} *", out.ctypes.data), out.shape[0])
    sf._error_check(f._errorcode)
    return out[:got]


#: frames decoded and dropped before a position sought in an MP3 file: the first frame after
#: a seek is decoded without its predecessor (wrong by up to half full scale); one MP3 frame
#: (1152) of lead-in makes the samples exact
MP3_SEEK_LEAD = 2304


def seek_frames(f, first: int) -> None:
    """Put the open, not yet read ``f`` at frame ``first`` exactly (MP3: with a lead-in, see
    :data:`MP3_SEEK_LEAD`); then read with :func:`read_frames`."""
    if first <= 0:
        return
    if f.format == "MP3":
        lead = min(first, MP3_SEEK_LEAD)
        f.seek(first - lead)
        read_frames(f, lead)
    else:
        f.seek(first)


class FrameReader:
    """Frames of an audio file at any position: ``read(first, frames)``. Reading on from where
    the last read ended is one :func:`read_frames`; another position opens the file again and
    seeks before its first read (:func:`seek_frames`), which is exact, where a seek after
    reads is not in libsndfile 1.2.2 (MP3, and FLAC after reads that did not seek)."""

    def __init__(self, path):
        self.path = str(path)
        self._file = None
        self._pos = 0

    def read(self, first: int, frames: int, dtype: str = "float32") -> np.ndarray:
        """Frames [first, first + frames) as (n, channels); fewer at the end of the file."""
        if self._file is not None and self._pos != first:
            self.close()
        if self._file is None:
            self._file = _sf().SoundFile(self.path)
            seek_frames(self._file, first)
            self._pos = first
        data = read_frames(self._file, frames, dtype)
        self._pos += data.shape[0]
        return data

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


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
    if not os.path.isfile(p):  # opening a FIFO with no writer would wait for ever
        raise AudioFileError("is a device, pipe or socket, not an audio file", p)
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
        while True:
            got = read_frames(f, 1 << 16).shape[0]
            if not got:
                return n
            n += got


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
            seek_frames(f, a)
            left = b - a
            while left > 0:
                data = read_frames(f, min(int(block_frames), left), "float64")
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
