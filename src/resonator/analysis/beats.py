"""Beat tracking: dynamic programming at a sub-frame tempo, phase chosen on the onsets.

Method
------
- Local score: the all-band onset envelope plus the bass (< 300 Hz) onset envelope, each divided
  by its standard deviation, lightly smoothed. Bass onsets mark beats in most accompaniments
  (ragtime's left hand: bass on the beat, chord on the off-beat), so the phase that puts beats on
  them wins over the off-beat.
- Dynamic programming (Ellis 2007) with a fractional period per frame (from the tempo or the
  tempo curve) and a log-interval penalty: score(t) = s(t) + max over previous beats u in
  [t - 2P, t - P/2] of score(u) - tightness * log((t - u) / P)^2. Compiled C
  (:func:`resonator.kernels.beat_dp`).
- Phase check: the grid shifted by half a period, a third and two thirds is scored on the
  all-band onsets plus twice the kick band (< 120 Hz; the local score when no kick band is
  given); when a shifted grid sits on clearly stronger onsets, the beats move there. Kicks mark
  beats; a snare on the off-beat eighths (skate punk), the snare of a half-time groove or the
  chord on the third eighth of a 6/8 beat do not, though each is louder in the other bands. On
  the 75 development pieces of the music-with-drums set this puts the truth phase first in 74
  (the all-band plus bass score alone: 68).
- Each beat is moved to the strongest all-band onset within 35 ms, and the frame-to-time
  convention of the onset envelope (``ONSET_DELAY_S``) is removed.
- For the reported beats, a bass that swells (organ, bowed or blown low notes: its flux peaks
  50-90 ms after the note starts) is first moved back in line with the all-band onsets
  (:func:`align_bass`); otherwise it pulls every beat late (a Bach chorale on organ: beats
  +84 ms late, F-measure 0.32; aligned: 0.95).
- Then the timing: where a tracking on the all-band onsets alone agrees with the
  phase found with the bass (within a fifth of a period), its times are used
  (:func:`adopt_timing`), and each beat is moved back from its onset's peak to where that onset
  starts rising (:func:`rise_starts`): swelling notes (organ, strings, winds, choir) peak
  40-130 ms after they start. On the 97 rendered pieces of benchmark batches 1-4 these two
  raise the mean beat F-measure from 0.813 to 0.828 (batch 4: 0.759 to 0.811).
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from . import framewise
from .framewise import FrameSignal, FrameStore, as_frames, head, smoothed

TIGHTNESS = 300.0
LOW_WEIGHT = 1.0
SNAP_S = 0.035
ONSET_DELAY_S = 0.0
SHIFT_MARGIN = 1.15
PHASE_KICK_WEIGHT = 2.0
PHASE_SHIFTS = (0.5, 1.0 / 3.0, 2.0 / 3.0)
BASS_LAG_MAX_S = 0.12
ADOPT_WITHIN = 0.2
RISE_FLOOR_SHARE = 0.2
RISE_MAX_BACK_S = 0.1
RISE_MAX_BACK_SHARE = 0.2
RISE_SELF_S = 0.012


def _stdev(x: np.ndarray) -> float:
    """``np.std`` of ``x`` as float64, block by block (bit for bit; no float64 copy)."""
    return FrameSignal(len(x), lambda a, b: x[a:b].astype(np.float64)).std()


def _scaled(x: np.ndarray, sd: float, a: int, b: int) -> np.ndarray:
    """Frames ``a`` to ``b - 1`` of ``x`` (float64) divided by ``sd``, its standard deviation
    (zeros when ``sd`` is 0)."""
    v = x[a:b].astype(np.float64)
    return v / sd if sd > 0 else np.zeros_like(v)


def _periods(bpm, n: int, fps: float):
    """A function giving the beat period in frames at frame indices (an int or an array), for
    one tempo, one tempo per frame, or a tempo curve ``{"times_s": [...], "bpm": [...]}``
    read at each frame's time."""
    k = 60.0 * fps
    if isinstance(bpm, dict):
        ts, bs = np.asarray(bpm["times_s"], dtype=np.float64), np.asarray(bpm["bpm"], dtype=np.float64)

        def at(idx):
            return k / np.interp(np.asarray(idx) / fps, ts, bs)
    elif np.ndim(bpm):
        per_frame = np.asarray(bpm, dtype=np.float64)
        if per_frame.size != n:
            raise ValueError(f"bpm has {per_frame.size} values for {n} frames")

        def at(idx):
            return k / per_frame[idx]
    else:
        one = k / np.float64(bpm)

        def at(idx):
            return np.full(np.shape(idx), one)
    return at


def track_beats(onset: np.ndarray, fps: float, bpm, *,
                onset_low: np.ndarray | None = None, onset_kick: np.ndarray | None = None,
                tightness: float = TIGHTNESS,
                low_weight: float = LOW_WEIGHT, snap_s: float = SNAP_S) -> np.ndarray:
    """Beat times in seconds.

    Block by block (:mod:`resonator.analysis.framewise`): besides its inputs (arrays or
    spilled arrays) the tracker holds blocks of ``framewise.BLOCK`` frames and one int32
    back-pointer per frame (0.7 kB per second of audio), in a
    :class:`~resonator.analysis.framewise.FrameStore` that spills beyond 256 kB; the beats are
    those of the whole-array computation, bit for bit.

    Parameters
    ----------
    onset : np.ndarray [shape=(n,)]
        All-band onset strength at ``fps`` frames per second (float32 or float64).
    fps : number > 0
        Frame rate in Hz.
    bpm : number in (0, 600], np.ndarray [shape=(n,)] or dict
        Tempo in BPM: one value, one per frame, or a tempo curve ``{"times_s": [...],
        "bpm": [...]}`` (:func:`resonator.analysis.tempo.estimate_tempo`'s ``curve``), read
        at each frame's time by linear interpolation.
    onset_low : np.ndarray [shape=(n,)], optional
        Bass onset strength; weighted by ``low_weight`` in the local score.
    onset_kick : np.ndarray [shape=(n,)], optional
        Kick-band (< 120 Hz) onset strength, for the phase check only.
    tightness : number >= 0
        Penalty on deviations of beat intervals from the period (larger: steadier beats).
    low_weight : number >= 0
        Weight of the bass onsets.
    snap_s : number >= 0
        Largest move, in seconds, when snapping a beat to its onset peak.

    Returns
    -------
    beats_s : np.ndarray [shape=(k,)]
        Increasing beat times in seconds (empty when there is no pulse or no tempo).
    """
    from ..kernels import beat_dp

    o = as_frames(onset)
    if not np.issubdtype(o.dtype, np.floating):
        o = np.asarray(o, dtype=np.float64)
    n = len(o)
    if n < 4 or bpm is None:
        return np.zeros(0)
    period_at = _periods(bpm, n, fps)
    longest = 0.0
    for a in range(0, n, framewise.BLOCK):
        p = period_at(np.arange(a, min(a + framewise.BLOCK, n)))
        if not np.all(np.isfinite(p)):
            return np.zeros(0)
        longest = max(longest, float(p.max()))
    sd = _stdev(o)
    if sd == 0:
        return np.zeros(0)
    low = None
    if onset_low is not None and low_weight > 0:
        low = head(as_frames(onset_low), n)
        sd_low = _stdev(low)

    def local(a, b):
        v = _scaled(o, sd, a, b)
        return v if low is None else v + low_weight * _scaled(low, sd_low, a, b)

    s = smoothed(n, local)
    # last beat: best cumulative score within the last period of the active part (the frames
    # above 5 % of the maximum; only the first and last blocks holding some are read again)
    tops = [(a, float(v.max())) for a, v in s.blocks()]
    thr = 0.05 * max(t for _, t in tops)
    live = [a for a, t in tops if t > thr]
    start, end = 0, n - 1
    if live:
        b0, b1 = live[0], live[-1]
        start = b0 + int(np.flatnonzero(s.compute(b0, min(b0 + s.block, n)) > thr)[0])
        end = b1 + int(np.flatnonzero(s.compute(b1, min(b1 + s.block, n)) > thr)[-1])
    lo = max(0, int(end - period_at(end)))
    # the programme block by block: each call gets the last `hist` cumulative scores before it
    # (the kernel reads no score or period of those history frames)
    hist = int(np.ceil(2.0 * longest)) + 1
    back = FrameStore(n, dtype=np.int32, spill=True)
    cum_end = np.empty(end + 1 - lo)
    prev = np.zeros(0)
    for a, v in s.blocks():
        b = a + v.size
        h = prev.size
        score = np.empty(h + v.size)
        score[h:] = v
        period = np.empty(h + v.size)
        period[h:] = period_at(np.arange(a, b))
        cum = np.empty(h + v.size)
        cum[:h] = prev
        bk = np.empty(h + v.size, dtype=np.int64)
        beat_dp(score, period, float(tightness), cum, bk, h)
        bk = bk[h:]
        back.append(np.where(bk >= 0, bk + (a - h), -1).astype(np.int32))
        i0, i1 = max(lo, a), min(end + 1, b)
        if i1 > i0:
            cum_end[i0 - lo:i1 - lo] = cum[h + i0 - a:h + i1 - a]
        prev = cum[max(0, cum.size - hist):].copy()
    del prev, score, period, cum, bk
    t = lo + int(np.argmax(cum_end))
    back = back.array()
    path = []
    b0, near = t + 1, None  # back-pointers of frames b0 .. t read a block at a time
    while t >= 0:
        path.append(t)
        if t < b0:
            b0 = max(0, t + 1 - framewise.BLOCK)
            near = back[b0:t + 1]
        t = int(near[t - b0])
    del back, near
    frames = np.array(path[::-1], dtype=np.float64)
    # drop leading beats before the music starts
    frames = frames[frames >= start - 0.25 * period_at(start)]
    if frames.size == 0:
        return frames
    # phase check: the grid against its shifts by half a period (and by thirds), scored on the
    # all-band onsets plus the kick band: kicks mark beats, snares and off-beat chops do not
    fi = frames.astype(int)

    def max3(y):
        return ndimage.maximum_filter1d(y, 3)

    if onset_kick is not None and PHASE_KICK_WEIGHT > 0:
        kick = head(as_frames(onset_kick), n)
        sd_kick = _stdev(kick)
        sp = smoothed(n, lambda a, b: _scaled(o, sd, a, b)
                      + PHASE_KICK_WEIGHT * _scaled(kick, sd_kick, a, b), margin=1, post=max3)
    else:
        sp = smoothed(n, local, margin=1, post=max3)
    shifted = [fi]
    for share in PHASE_SHIFTS:
        moved = fi + np.round(share * period_at(fi)).astype(int)
        shifted.append(moved[moved < n])
    at = np.split(sp.take(np.concatenate(shifted)), np.cumsum([m.size for m in shifted])[:-1])
    best, best_v = None, SHIFT_MARGIN * at[0].mean()
    for moved, vals in zip(shifted[1:], at[1:]):
        v = vals.mean() if moved.size else -np.inf
        if v > best_v:
            best, best_v = moved, v
    if best is not None:
        frames = best.astype(np.float64)
    # snap to the strongest all-band onset within snap_s
    if snap_s > 0:
        w = int(round(snap_s * fps))
        so = smoothed(n, lambda a, b: _scaled(o, sd, a, b))
        f = frames.astype(int)
        frames = (f - w + np.argmax(so.windows(f, w, w), axis=1)).astype(np.float64)
    beats = frames / fps - ONSET_DELAY_S
    beats = np.unique(np.round(beats[beats >= 0], 4))
    return beats


def bass_lag(onset: np.ndarray, onset_low: np.ndarray, fps: float, *,
             max_lag_s: float = BASS_LAG_MAX_S) -> int:
    """Frames by which the bass onset envelope trails the all-band one (0 when it does not).

    Low notes of bowed, blown and organ sounds swell: their < 300 Hz flux peaks 50-90 ms after
    the note starts, while the all-band flux (the higher partials, the bow or breath noise)
    peaks within 10-25 ms. Summed unaligned, the bass pulls every beat late. The lag is the
    peak of the cross-correlation of the two mean-removed envelopes over ``-max_lag_s`` to
    ``+max_lag_s``; a peak at either end of that range (no clear alignment: a melody without
    bass, unrelated lines) or at a negative lag counts as 0.

    Parameters
    ----------
    onset, onset_low : np.ndarray [shape=(n,)]
        All-band and bass onset strength at ``fps`` frames per second.
    fps : number > 0
        Frame rate in Hz.
    max_lag_s : number > 0
        Longest lag considered, in seconds.

    Returns
    -------
    int
        Lag in frames, 0 <= lag < ``max_lag_s * fps``.
    """
    o = as_frames(onset)
    low = head(as_frames(onset_low), len(o))
    m = int(round(max_lag_s * fps))
    n = len(low)
    if n < 4 * m:
        return 0
    # (x - mean) / std of each as float64, the statistics taken block by block (bit for bit)
    stats = []
    for x in (o, low):
        sig = FrameSignal(len(x), lambda i, j, x=x: x[i:j].astype(np.float64))
        stats.append((np.float64(sig.sum()) / len(x), sig.std()))
    if stats[0][1] == 0 or stats[1][1] == 0:
        return 0

    def standard(x, st, i, j):
        v = x[i:j].astype(np.float64)
        v -= st[0]
        v /= st[1]
        return v

    # cc[k + m] = sum over i of a[i] b[i + k] (a, b standardised), block by block of a
    cc = np.zeros(2 * m + 1)
    for i0 in range(0, n, framewise.BLOCK):
        i1 = min(i0 + framewise.BLOCK, n)
        j0 = max(0, i0 - m)
        a = standard(o, stats[0], i0, i1)
        b = standard(low, stats[1], j0, min(n, i1 + m))
        for k in range(-m, m + 1):
            lo, hi = max(i0, -k), min(i1, n - k)
            if hi > lo:
                cc[k + m] += np.dot(a[lo - i0:hi - i0], b[lo + k - j0:hi + k - j0])
    k = int(np.argmax(cc)) - m
    return k if 0 < k < m else 0


def align_bass(onset: np.ndarray, onset_low: np.ndarray, fps: float) -> np.ndarray:
    """The bass onset envelope moved earlier by its :func:`bass_lag` (zeros fill the end).

    Used for the final beat placement only; the tempo and metrical-level analysis read the
    envelopes as measured.

    Returns
    -------
    np.ndarray or SpilledArray [shape=(n,)]
        ``onset_low`` itself when there is no lag; a
        :class:`~resonator.analysis.framewise.SpilledArray` when ``onset_low`` is one.
    """
    lag = bass_lag(onset, onset_low, fps)
    if not lag:
        return onset_low
    low = as_frames(onset_low)
    n = len(low)
    out = FrameStore(n, dtype=low.dtype, spill=isinstance(low, framewise.SpilledArray))
    for a in range(lag, n, framewise.BLOCK):
        out.append(low[a:min(a + framewise.BLOCK, n)])
    out.append(np.zeros(min(lag, n), dtype=low.dtype))
    return out.array()


def adopt_timing(beats_s: np.ndarray, timing_s: np.ndarray, *, within: float = ADOPT_WITHIN) -> np.ndarray:
    """Take each beat's time from a second tracking where the two agree.

    The reported beats are tracked on the all-band plus the bass onsets: the bass decides the
    phase (ragtime's left hand on the beat, the chord off it). Its timing is poor where the bass
    swells (organ, strings, choir: the < 300 Hz flux peaks up to 130 ms after the note starts)
    and better read from a tracking on the all-band onsets alone. Where that tracking has a beat
    within ``within`` of the median beat period of a beat, its time is used; elsewhere (the
    all-band tracking took the off-beat, or missed) the beat stays.

    Parameters
    ----------
    beats_s : np.ndarray [shape=(k,)]
        Increasing beat times in seconds (the phase reference).
    timing_s : np.ndarray [shape=(m,)]
        Increasing beat times in seconds from the all-band tracking at the same tempo.
    within : number in (0, 0.5)
        Largest distance, as a share of the median beat period, to adopt a time.

    Returns
    -------
    np.ndarray [shape=(k',)]
        Increasing, unique beat times (k' <= k).
    """
    b = np.asarray(beats_s, dtype=np.float64)
    t = np.asarray(timing_s, dtype=np.float64)
    if b.size < 2 or t.size == 0:
        return b
    tol = within * float(np.median(np.diff(b)))
    j = np.clip(np.searchsorted(t, b), 1, max(t.size - 1, 1))
    left, right = t[j - 1], t[np.minimum(j, t.size - 1)]
    near = np.where(np.abs(right - b) < np.abs(left - b), right, left)
    return np.unique(np.where(np.abs(near - b) < tol, near, b))


def rise_starts(onset: np.ndarray, fps: float, beats_s: np.ndarray, *,
                floor_share: float = RISE_FLOOR_SHARE, max_back_s: float = RISE_MAX_BACK_S,
                max_back_share: float = RISE_MAX_BACK_SHARE) -> np.ndarray:
    """Move each beat from its onset's peak back to where that onset starts rising.

    A note that swells (bowed, blown, sung) has its spectral-flux peak 40-130 ms after it
    starts; a struck note peaks within a frame or two. From the frame of each beat the onset
    strength (standardised, lightly smoothed) is followed backwards while it keeps falling (a
    rise of 5 % of the peak's height is tolerated) and stays above ``floor_share`` of the way
    from the envelope's median to the peak, at most ``max_back_s`` and ``max_back_share`` of the
    median beat period.

    Parameters
    ----------
    onset : np.ndarray [shape=(n,)]
        All-band onset strength at ``fps`` frames per second.
    fps : number > 0
        Frame rate in Hz.
    beats_s : np.ndarray [shape=(k,)]
        Beat times in seconds, each on an onset peak.
    floor_share : number in [0, 1)
        Where the rise starts, as a share of the peak's height above the median.
    max_back_s : number >= 0
        Longest move in seconds.
    max_back_share : number >= 0
        Longest move as a share of the median beat period.

    Returns
    -------
    np.ndarray [shape=(k,)]
        Beat times in seconds, each at or before its input time.
    """
    b = np.asarray(beats_s, dtype=np.float64)
    o = as_frames(onset)
    if b.size == 0 or len(o) == 0:
        return b
    sd = _stdev(o)
    if sd == 0:
        return b
    # the smoothed standardised onsets, block by block: their median, and each beat's frame
    # with the `reach` frames before it
    so = smoothed(o.size, lambda i, j: _scaled(o, sd, i, j))
    floor = float(so.median())
    period = float(np.median(np.diff(b))) if b.size > 1 else max_back_s / max(max_back_share, 1e-9)
    reach = int(min(max_back_s, max_back_share * period) * fps)
    frames = [min(int(round(t * fps)), o.size - 1) for t in b]
    near = so.windows(frames, reach, 0)  # near[i, reach - (f - k)] = so[k]
    out = np.empty(b.size)
    for i, (t, f) in enumerate(zip(b, frames)):
        w = near[i]
        height = w[reach] - floor
        thr = floor + floor_share * height
        k = f
        while k > 0 and f - k < reach and thr <= w[reach - f + k - 1] <= w[reach - f + k] + 0.05 * height:
            k -= 1
        # an instant attack already rises over about RISE_SELF_S (analysis window, smoothing):
        # only the slower part of a rise moves the beat
        out[i] = min(t, k / fps + RISE_SELF_S)
    return out


def bpm_from_beats(beats_s: np.ndarray) -> float | None:
    """Tempo in BPM from a least-squares line through beat number versus beat time.

    Parameters
    ----------
    beats_s : np.ndarray [shape=(k,)]
        Beat times in seconds, k >= 4.

    Returns
    -------
    float or None
        60 / slope, or None for fewer than 4 beats.
    """
    b = np.asarray(beats_s, dtype=np.float64)
    if b.size < 4:
        return None
    ibi = np.diff(b)
    med = np.median(ibi)
    # index beats by their rounded number of periods so a missing beat does not bend the fit
    idx = np.concatenate(([0], np.cumsum(np.maximum(1, np.round(ibi / med)))))
    slope = np.polyfit(idx, b, 1)[0]
    return float(60.0 / slope) if slope > 0 else None
