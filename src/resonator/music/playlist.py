"""Playlists laid out in music time: tracks one after another with equal-power crossfades.

A playlist is a list of *runs*; a run plays one ordered list of tracks over a span of music
time, looping the list until the span ends. Within a run, track ``j + 1`` starts ``C`` frames
before track ``j`` ends (``C`` the crossfade, at most half of either track); over those
frames ``j`` fades out with ``cos(pi/2 x)`` while ``j + 1`` fades in with ``sin(pi/2 x)``,
``x`` going from 0 to 1: the power of two unrelated tracks stays constant. With ``C = 0`` the
tracks join sample to sample (gapless loops). Where one run gives way to the next (a phase
with another playlist) the same crossfade is centred on the boundary.

:class:`PlaylistSource` renders the layout as a pure function of the music-time frame, reading
each track through a :class:`~resonator.music.tracks.TrackReader` (so memory holds a few pages
per track, whatever the playlist's length).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tracks import TrackInfo, TrackReader

#: open readers kept (more tracks than that are reopened when they play again)
KEEP_READERS = 4


@dataclass(frozen=True)
class Run:
    """One stretch of music time that plays one ordered list of tracks.

    Attributes
    ----------
    order : tuple of int
        Indices into the playlist's tracks, in playing order (the order repeats).
    start : int
        Music-time frame where the run takes over (centre of the crossfade into it; 0 for the
        first run).
    end : int or None
        Music-time frame where the next run takes over (None: the last run).
    label : str
        What the run is for (the phase names), for plans.
    """

    order: tuple
    start: int
    end: int | None
    label: str = ""


@dataclass(frozen=True)
class Slot:
    """One play of one track: music-time frames [start, end), fades at both ends."""

    track: int
    start: int
    end: int
    fade_in: int
    fade_out: int
    run: int


def layout(tracks: list[TrackInfo], runs: list[Run], sr: int, crossfade: int,
           until: int) -> list[Slot]:
    """The slots of every run up to music-time frame ``until``.

    Parameters
    ----------
    tracks : list of TrackInfo
    runs : list of Run
        In order, each ``start`` at the previous one's ``end``.
    sr : int
        Session rate (track lengths are counted at it).
    crossfade : int >= 0
        Crossfade in frames (shortened to half the shorter track where needed).
    until : int
        Lay out slots until this frame is covered.

    Returns
    -------
    list of Slot
        Sorted by start.
    """
    lengths = [t.frames_at(sr) for t in tracks]
    # crossfade at the start of each run (centred on its start frame)
    joins = [0] + [min(crossfade, lengths[r.order[0]] // 2) for r in runs[1:]]
    slots: list[Slot] = []
    for ri, run in enumerate(runs):
        order = list(run.order)
        pos, fade_in = run.start - joins[ri] // 2, joins[ri]
        # the fade into the next run: frames [cut, cut + joins[ri + 1])
        cut = None if run.end is None else run.end - joins[ri + 1] // 2
        j = 0
        while pos < until:
            t = order[j % len(order)]
            length = lengths[t]
            fade_out = min(crossfade, length // 2, lengths[order[(j + 1) % len(order)]] // 2)
            end = pos + length
            if cut is not None and end - fade_out >= cut:
                # the next run takes over inside this track: fade out over its join
                end = max(min(end, cut + joins[ri + 1]), pos + fade_in + 1)
                slots.append(Slot(t, pos, end, fade_in, min(end - pos - fade_in,
                                                             max(end - cut, 0)), ri))
                break
            slots.append(Slot(t, pos, end, fade_in, fade_out, ri))
            pos, fade_in = end - fade_out, fade_out
            j += 1
        if cut is not None and cut >= until:
            break
    return slots


class PlaylistSource:
    """The music-time signal of a layout, float32 (2, frames), a pure function of position.

    Parameters
    ----------
    tracks : list of TrackInfo
    slots : list of Slot
        From :func:`layout`.
    sr : int
    paged : bool
        Read the files in pages (playback); False for short scattered reads (see
        :class:`~resonator.music.tracks.TrackReader`). The samples are the same.
    """

    def __init__(self, tracks: list[TrackInfo], slots: list[Slot], sr: int, *,
                 paged: bool = True):
        self.tracks = tracks
        self.slots = slots
        self.sr = int(sr)
        self.paged = bool(paged)
        self._starts = np.array([s.start for s in slots], dtype=np.int64)
        self._ends = np.array([s.end for s in slots], dtype=np.int64)
        # the longest slot bounds how far back a slot that still sounds can start
        self._longest = int((self._ends - self._starts).max()) if slots else 0
        self._readers: dict[int, TrackReader] = {}

    def reader(self, track: int) -> TrackReader:
        """The reader of ``tracks[track]`` (a few kept open)."""
        r = self._readers.pop(track, None)
        if r is None:
            r = TrackReader(self.tracks[track], self.sr, paged=self.paged)
        self._readers[track] = r  # most recent last
        while len(self._readers) > KEEP_READERS:
            old = next(iter(self._readers))
            self._readers.pop(old).close()
        return r

    def close(self) -> None:
        for r in self._readers.values():
            r.close()
        self._readers.clear()

    def slots_in(self, start: int, frames: int) -> list[int]:
        """Indices of the slots that sound in [start, start + frames)."""
        hi = int(np.searchsorted(self._starts, start + frames, side="left"))
        lo = int(np.searchsorted(self._starts, start - self._longest, side="left"))
        return [i for i in range(lo, hi) if self._ends[i] > start]

    def read(self, start: int, frames: int) -> np.ndarray:
        out = np.zeros((2, frames), dtype=np.float32)
        for i in self.slots_in(start, frames):
            s = self.slots[i]
            a, b = max(start, s.start), min(start + frames, s.end)
            x = self.reader(s.track).read(a - s.start, b - a)
            if s.fade_in and a < s.start + s.fade_in:
                n = min(b, s.start + s.fade_in) - a
                g = np.sin(0.5 * np.pi * (np.arange(a, a + n) - s.start + 0.5) / s.fade_in)
                x[:, :n] *= g.astype(np.float32)
            if s.fade_out and b > s.end - s.fade_out:
                lo = max(a, s.end - s.fade_out)
                g = np.cos(0.5 * np.pi * (np.arange(lo, b) - (s.end - s.fade_out) + 0.5)
                           / s.fade_out)
                x[:, lo - a:] *= g.astype(np.float32)
            out[:, a - start: b - start] += x
        return out
