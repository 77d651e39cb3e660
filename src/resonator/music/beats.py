"""Beat grids in session time, and phase curves locked to them.

A :class:`BeatGrid` holds the beat times of the music as it is played (each track's analysed
beats placed in the playlist and mapped through the tempo stretch). :meth:`BeatGrid.rate_curve`
turns it into a step :class:`~resonator.graph.Curve` of cycles per second whose exact integral
is a whole number at every beat (times ``cycles_per_beat``), so any oscillator or gate driven
by it (amplitude modulation, pulses) peaks exactly on the beats, with random-access phase.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..graph.curves import Curve


@dataclass
class BeatGrid:
    """Beat times in session seconds (sorted), with the beats per bar used for bars.

    Attributes
    ----------
    times_s : np.ndarray
    beats_per_bar : int
    """

    times_s: np.ndarray
    beats_per_bar: int = 4

    def __post_init__(self):
        self.times_s = np.asarray(self.times_s, dtype=np.float64)

    @property
    def period_s(self) -> float:
        """The median beat period (seconds)."""
        if self.times_s.size < 2:
            return float("nan")
        return float(np.median(np.diff(self.times_s)))

    def counts(self) -> np.ndarray:
        """Beat numbers of the times: consecutive beats count 1, a gap (a track without a
        pulse, a join between tracks) counts as many beats as the local period fits (at
        least 1), so the count runs on evenly through the gap."""
        t = self.times_s
        if t.size == 0:
            return np.zeros(0)
        d = np.diff(t)
        if d.size == 0:
            return np.zeros(1)
        # local period: the median of the 8 intervals around each one
        from scipy.ndimage import median_filter

        local = median_filter(d, size=min(9, d.size), mode="nearest")
        steps = np.maximum(1.0, np.round(d / local))
        return np.concatenate([[0.0], np.cumsum(steps)])

    def rate_curve(self, cycles_per_beat: float) -> tuple[Curve, float]:
        """A step curve of cycles per second, and the phase at session time 0 (in cycles),
        such that ``phase0 + integral(rate)`` equals ``cycles_per_beat * count`` at every beat.

        Before the first beat and after the last, the nearest interval's rate holds.
        """
        t = self.times_s
        if t.size < 2:
            raise ValueError("a beat grid needs at least two beats")
        c = self.counts() * cycles_per_beat
        rates = np.diff(c) / np.diff(t)
        pts = [(float(t[0]), float(rates[0]))]
        for i in range(1, rates.size):
            pts.append((float(t[i]), float(rates[i - 1])))
            pts.append((float(t[i]), float(rates[i]), "step"))
        pts.append((float(t[-1]), float(rates[-1])))
        curve = Curve(pts)
        phase0 = -float(curve.integral(t[0]))
        return curve, phase0

    def bar_times_s(self) -> np.ndarray:
        """Times of every ``beats_per_bar``-th beat count (counts 0, n, 2n, ...)."""
        c = self.counts()
        return self.times_s[np.mod(c, self.beats_per_bar) == 0]
