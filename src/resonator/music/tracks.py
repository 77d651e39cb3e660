"""Audio files read in pages at the session's sample rate: bounded memory, random access.

A :class:`TrackReader` serves any range of a file's frames resampled to the session rate as a
pure function of position: page ``k`` (``PAGE_FRAMES`` output frames) is computed from the
input frames around it alone, with a polyphase FIR (:func:`resonator.kernels.resample`, a
Kaiser low-pass; no scipy import, which would cost a player 0.7 s before its first sound)
evaluated at the same input samples with the same taps whatever page asks, so the pages join
without a seam and equal a whole-file :func:`scipy.signal.resample_poly`-style conversion of
the same filter. Reading is sequential where it can be (the file stays open and
reads forward) and seeks otherwise (soundfile seeks are sample-exact for WAV, FLAC, OGG/Vorbis
and MP3 with the bundled libsndfile).

Pages are kept in one least-recently-used store shared by every reader of the process
(:data:`SHARED_PAGE_BYTES` in all), keyed by the file (path, size, modification time), its
rate and the session's: a playlist that loops its tracks, the second lane of a measuring pass,
a stand-in loudness pass and the render after it decode and resample each page once, and
memory does not grow with the file's length or the session's.
"""
from __future__ import annotations

import math
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import AudioFileError

#: output frames per page (any size works: each page reads the input frames its filter needs,
#: from a multiple of the ratio's denominator)
PAGE_FRAMES = 1 << 16
#: bytes of pages kept for all readers together (64 MB: 170 s of stereo at 48 kHz; the four
#: bundled grooves of mettannealing-music take 46 MB)
SHARED_PAGE_BYTES = 64 << 20
#: Kaiser window beta of the anti-alias filter (about -80 dB stop band) and its half length in
#: input samples of the slower side
KAISER_BETA = 8.0
HALF_TAPS = 16


@dataclass(frozen=True)
class TrackInfo:
    """One audio file as the playlist sees it.

    Attributes
    ----------
    path : Path
    sr : int
        The file's sample rate in Hz.
    frames : int
        The file's length in its own frames.
    channels : int
    """

    path: Path
    sr: int
    frames: int
    channels: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sr

    def frames_at(self, sr: int) -> int:
        """Length in frames at the session rate ``sr`` (the resampler's output length)."""
        return int(math.ceil(self.frames * Fraction(sr, self.sr)))


def track_info(path) -> TrackInfo:
    """Describe an audio file (no samples read).

    Raises
    ------
    AudioFileError
        Missing, a folder, unreadable, or holding no audio; the message names the path and
        the formats that work.
    """
    import soundfile as sf

    p = Path(path)
    if not p.exists():
        raise AudioFileError("no such music file", str(p))
    if p.is_dir():
        raise AudioFileError("is a folder, not a music file", str(p))
    try:
        info = sf.info(str(p))
    except Exception as exc:  # soundfile raises LibsndfileError / RuntimeError / TypeError
        raise AudioFileError(f"cannot read it as audio ({exc}); WAV, FLAC, OGG and MP3 work",
                             str(p)) from None
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioFileError("holds no audio", str(p))
    return TrackInfo(p, int(info.samplerate), int(info.frames), int(info.channels))


class _SharedPages:
    """Pages of any file, least recently used out first once they pass ``budget`` bytes;
    thread-safe (a page computed twice by two threads at once is kept once: the same values)."""

    def __init__(self, budget: int):
        self.budget = int(budget)
        self._pages: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> np.ndarray | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple, page: np.ndarray) -> np.ndarray:
        page.setflags(write=False)
        with self._lock:
            old = self._pages.get(key)
            if old is not None:
                return old
            self._pages[key] = page
            self._bytes += page.nbytes
            while self._bytes > self.budget and len(self._pages) > 1:
                _, out = self._pages.popitem(last=False)
                self._bytes -= out.nbytes
        return page

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        return self._bytes


#: the pages of every :class:`TrackReader` of the process
PAGES = _SharedPages(SHARED_PAGE_BYTES)


class TrackReader:
    """Frames of one file at ``sr`` (stereo float32), a pure function of position.

    Parameters
    ----------
    info : TrackInfo
    sr : int > 0
        The session's sample rate.
    paged : bool
        Read in pages of :data:`PAGE_FRAMES`, kept in the process's shared store
        (:data:`PAGES`: playback and passes read on from where they were, and loops come
        back); False computes exactly the frames asked for unless the store holds every page
        they span (short reads scattered over a file, as a loudness estimate's, which would
        not read the rest of a page), and stores nothing. The frames are the same either
        way.

    Notes
    -----
    Output frame ``m`` is ``sum_i x[i] h[m down - i up + H]`` with ``up / down = sr /
    info.sr`` in lowest terms and ``h`` a Kaiser-windowed sinc of half length ``H`` (at the
    ``up``-times rate). Mono files play in both ears; files with more than two channels keep
    the first two. Outside the file the input is silence.
    """

    def __init__(self, info: TrackInfo, sr: int, *, paged: bool = True):
        from ..measure.loudness import kaiser_lowpass

        self.info = info
        self.sr = int(sr)
        self.paged = bool(paged)
        self.frames = info.frames_at(self.sr)
        q = Fraction(self.sr, info.sr)
        self.up, self.down = q.numerator, q.denominator
        try:  # the file as it is now names its pages in the shared store
            st = os.stat(info.path)
            self._key: tuple | None = (str(Path(info.path).resolve()), st.st_size,
                                       st.st_mtime_ns, info.sr, self.sr)
        except OSError:
            self._key = None  # (reading will say what is wrong)
        self._file = None  # a measure.io.FrameReader while reading
        self._tail = (0, np.zeros((2, 0), dtype=np.float32))  # the last input read
        if self.up == self.down == 1:
            self.h = None
            return
        m = max(self.up, self.down)
        half = HALF_TAPS * m
        half = -(-half // self.down) * self.down  # a multiple of down: whole output offsets
        self.half = half
        self.h = kaiser_lowpass(2 * half + 1, 1.0 / m, KAISER_BETA) * self.up

    # ------------------------------------------------------------------ file access
    def close(self) -> None:
        """Close the file (it reopens on the next read)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def _read_input(self, a: int, b: int) -> np.ndarray:
        """The file's frames [a, b) as float32 (2, b - a), silence outside the file.

        Consecutive outputs need overlapping inputs (the filter reaches back): what the last
        call read is kept, so a read that starts inside it takes the overlap from there and
        reads on from where the file is (a file read elsewhere reopens and seeks)."""
        out = np.zeros((2, b - a), dtype=np.float32)
        lo, hi = max(a, 0), min(b, self.info.frames)
        if hi <= lo:
            return out
        t0, tail = self._tail
        t1 = t0 + tail.shape[1]
        if t0 <= lo < t1 < hi:
            out[:, lo - a: t1 - a] = tail[:, lo - t0:]
            lo = t1
        elif t0 <= lo and hi <= t1:
            out[:, lo - a: hi - a] = tail[:, lo - t0: hi - t0]
            lo = hi
        if lo < hi:
            out[:, lo - a: hi - a] = self._read_file(lo, hi)
        self._tail = (a, out)
        return out

    def _read_file(self, lo: int, hi: int) -> np.ndarray:
        """The file's frames [lo, hi) (inside the file) as float32 (2, hi - lo)."""
        from ..measure.io import FrameReader

        try:
            if self._file is None:
                self._file = FrameReader(self.info.path)
            data = self._file.read(lo, hi - lo)
        except Exception as exc:  # noqa: BLE001 - a file changed or broke under us
            self.close()
            raise AudioFileError(f"cannot read music ({exc})", str(self.info.path)) from None
        out = np.zeros((2, hi - lo), dtype=np.float32)
        n = data.shape[0]
        out[:, :n] = data[:, 0] if data.shape[1] == 1 else data[:, :2].T
        return out

    def _page(self, k: int, compute: bool = True) -> np.ndarray | None:
        """Page ``k`` from the shared store, else computed and stored (None with ``compute``
        False)."""
        key = None if self._key is None else self._key + (k,)
        hit = None if key is None else PAGES.get(key)
        if hit is not None or not compute:
            return hit
        page = self._frames(k * PAGE_FRAMES, PAGE_FRAMES)
        return page if key is None else PAGES.put(key, page)

    def _frames(self, m0: int, count: int) -> np.ndarray:
        """Output frames [m0, m0 + count), computed."""
        x = self._read_input(m0, m0 + count) if self.h is None else \
            self._resampled(m0, count)
        if not np.all(np.isfinite(x)):
            raise AudioFileError("holds non-finite samples", str(self.info.path))
        return x

    def _resampled(self, m0: int, count: int) -> np.ndarray:
        from ..kernels import resample

        up, down, half = self.up, self.down, self.half
        # the input frames the filter reaches: output m reads i with 0 <= m down - i up +
        # half <= 2 half
        i0 = (m0 * down - half) // up
        i1 = ((m0 + count - 1) * down + half) // up + 1
        out = np.empty((2, count), dtype=np.float32)
        resample(self._read_input(i0, i1), self.h, up, down, half, i0, m0, out)
        return out

    # ------------------------------------------------------------------ public
    def read(self, start: int, frames: int) -> np.ndarray:
        """Frames [start, start + frames) at the session rate as float32 (2, frames); silence
        before 0 and past the end."""
        out = np.zeros((2, frames), dtype=np.float32)
        a, b = max(start, 0), min(start + frames, self.frames)
        if b <= a:
            return out
        if not self.paged:
            pages = [self._page(k, compute=False)
                     for k in range(a // PAGE_FRAMES, (b - 1) // PAGE_FRAMES + 1)]
            if any(p is None for p in pages):
                out[:, a - start: b - start] = self._frames(a, b - a)
                return out
        pos = a
        while pos < b:
            k = pos // PAGE_FRAMES
            page = pages[k - a // PAGE_FRAMES] if not self.paged else self._page(k)
            lo = pos - k * PAGE_FRAMES
            n = min(b - pos, PAGE_FRAMES - lo)
            out[:, pos - start: pos - start + n] = page[:, lo: lo + n]
            pos += n
        return out
