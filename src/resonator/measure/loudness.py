"""Loudness after ITU-R BS.1770-4 and EBU Tech 3342, streaming with bounded memory.

:class:`LoudnessMeter` takes audio in blocks of any size and keeps only one mean square per
channel for every 100 ms of audio, so an hour of 48 kHz stereo costs about 0.6 MB of state.
The array functions are thin wrappers that feed the meter in 65536-frame pieces.

- K-weighting: the two BS.1770 biquads (high shelf + RLB high pass), designed for any sample
  rate from their analog parameters (at 48 kHz they equal the standard's coefficients), run in
  one compiled pass (:func:`resonator.kernels.kweight_sums`) that also squares, sums per 100 ms sub-block and takes the sample peak; filter
  state is carried across blocks, so results do not depend on the block size.
- Gating blocks: 400 ms with a 100 ms hop (75 % overlap), absolute gate -70 LUFS, relative gate
  -10 LU (integrated) or -20 LU (loudness range). 100 ms sub-block edges fall at
  ``round(k * sr / 10)`` samples.
- True peak: 4x oversampling with a 161-tap Kaiser windowed-sinc polyphase interpolator
  (flat within 0.001 dB up to 0.8 x Nyquist, -0.1 dB at 0.83 x Nyquist), state carried across
  blocks; the interpolated grid sits on quarter-sample positions. Only outputs whose whole
  filter span lies inside the audio are used (no ringing from an imagined silence before the
  first sample), and the sample peak is always a lower bound. The meter interpolates exactly
  (float64, :func:`resonator.kernels.hop_tp`) only the 32-frame hops whose neighbourhood's sample
  peak times :func:`true_peak_bound` could pass the running true peak (loud music: about 10 %),
  so the result is the exact maximum of every interpolated point, for any block size.
"""
from __future__ import annotations

import math

import numpy as np

from .._lazy import percentile
from ..kernels import hop_tp, kweight_sums, screened_tp
from ._common import MeasureError, as_2d, as_block, check_sr

__all__ = [
    "LoudnessMeter",
    "integrated_loudness",
    "true_peak_dbtp",
    "loudness_range",
    "short_term_loudness",
    "k_weighting_sos",
]

ABS_GATE_LUFS = -70.0
_OFFSET = -0.691
_FEED_FRAMES = 65536


def k_weighting_sos(sr: float) -> np.ndarray:
    """BS.1770 K-weighting filter as second-order sections.

    Parameters
    ----------
    sr : number > 0
        Sample rate in Hz (above about 3.4 kHz so the shelf lies below Nyquist).

    Returns
    -------
    sos : np.ndarray [shape=(2, 6)]
        Pre-filter (high shelf, +4 dB above about 1.7 kHz) then RLB high pass (38 Hz).
    """
    sr = check_sr(sr)
    # Shelf (libebur128 / pyloudnorm parametrisation; reproduces the 48 kHz table exactly).
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / sr)
    vh = 10.0 ** (gain_db / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf = [
        (vh + vb * k / q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / q + k * k) / a0,
    ]
    f0, q = 38.13547087613982, 0.5003270373238773
    k = math.tan(math.pi * f0 / sr)
    a0 = 1.0 + k / q + k * k
    hp = [1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    return np.array([shelf, hp], dtype=np.float64)


def _channel_weights(channels: int) -> np.ndarray:
    if channels == 5:  # L R C Ls Rs
        return np.array([1.0, 1.0, 1.0, 1.41, 1.41])
    if channels == 6:  # L R C LFE Ls Rs (SMPTE order); LFE is not measured
        return np.array([1.0, 1.0, 1.0, 0.0, 1.41, 1.41])
    return np.ones(channels)


def _true_peak_filter(oversample: int = 4, taps_per_phase: int = 40) -> np.ndarray:
    """Polyphase interpolation filter, shape (oversample, taps_per_phase), unity passband gain."""
    # odd length: a group delay of a whole number of input samples keeps the oversampled grid
    # on the quarter-sample positions (an even length would shift it by 1/8 sample)
    n = oversample * taps_per_phase + 1
    h = kaiser_lowpass(n, 0.92 / oversample, beta=9.0) * oversample
    h = np.concatenate((h, np.zeros(oversample - 1)))
    # phase p holds taps p, p + L, p + 2L, ...: y[L*m + p] = sum_k h[p + L*k] x[m - k]
    return h.reshape(-1, oversample).T.copy()


def kaiser_lowpass(numtaps: int, cutoff: float, beta: float) -> np.ndarray:
    """Windowed-sinc low-pass FIR with unity DC gain (``scipy.signal.firwin`` with a Kaiser
    window, written out so the meter does not import scipy.signal).

    Parameters
    ----------
    numtaps : int > 0
    cutoff : float in (0, 1)
        Cutoff relative to the Nyquist frequency.
    beta : float >= 0
        Kaiser window shape.

    Returns
    -------
    h : np.ndarray [shape=(numtaps,)]
    """
    m = np.arange(numtaps, dtype=np.float64) - 0.5 * (numtaps - 1)
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(numtaps, beta)
    return h / np.sum(h)


class ScreenedTruePeak:
    """True peak (4x oversampling, the meter's interpolator) evaluated around candidate peaks
    only: the fast streaming estimate for reports.

    Only the points next to local maxima of ``|x|`` within ``margin_db`` of the running true
    peak are interpolated (in float64, direct form). The inter-sample overshoot of content
    below half the Nyquist frequency stays under 3 dB, so for such content the result equals
    the full meter's; content near Nyquist can hide a higher peak between low samples (use
    :class:`LoudnessMeter` or :func:`hop_true_peaks` where a bound is needed).

    Parameters
    ----------
    channels : int
    margin_db : float
        Local maxima of ``|x|`` within this many dB of the running true peak are
        interpolated (inter-sample overshoot of content below 0.5 x Nyquist stays under 3 dB).
    """

    def __init__(self, channels: int, margin_db: float = 4.0):
        self.h = _true_peak_filter()  # (4, taps)
        self.taps = self.h.shape[1]
        self.half = self.taps // 2 + 1
        self.ch = channels
        self.margin = 10 ** (-margin_db / 20)
        self.tail = np.zeros((channels, 0))
        self.peak = 0.0  # sample peak of the samples scanned so far
        self.tp = 0.0
        self._fresh = True

    def update(self, x: np.ndarray, block_peak: float = 0.0) -> None:
        """Add a (channels, n) block.

        ``block_peak`` (optional): the block's largest ``|x|`` when known (the meter's, from
        the same pass; never less): the margin then counts from it too, so a rising level (a
        fade-in) does not send most of its local maxima to the interpolator (none of those
        can hold the true peak of content below half the Nyquist frequency), and the
        interpolator's cheap bound (:func:`resonator.kernels.screened_tp`'s ``reach``)
        needs no search for the largest sample around each candidate.
        """
        x = np.ascontiguousarray(x, dtype=np.float64)
        n = x.shape[1]
        if n == 0:
            return
        half, T = self.half, self.tail.shape[1]
        if self._fresh:  # the first samples are never at the centre of a scan
            self.peak = max(self.peak, float(np.max(np.abs(x[:, :half]))))
            self._fresh = False
        thr = max(self.tp, self.peak, block_peak) * self.margin
        if T == 2 * half and n >= 3 * half:
            # the stream is tail + x: scan the seam in a small joined buffer, the rest in x
            head = np.concatenate((self.tail, x[:, :3 * half]), axis=1)
            self.tp, self.peak = screened_tp(head, self.h, half, T + half, thr,
                                             self.tp, self.peak)
            self.tp, self.peak = screened_tp(x, self.h, half, n - half, thr, self.tp,
                                             self.peak, block_peak)
            self.tail = x[:, n - 2 * half:].copy()
            return
        buf = np.concatenate((self.tail, x), axis=1) if T else x
        m = buf.shape[1]
        if m - half > half:
            self.tp, self.peak = screened_tp(buf, self.h, half, m - half, thr, self.tp,
                                             self.peak)
            self.tail = np.array(buf[:, m - 2 * half:])
        else:
            self.tail = np.array(buf)

    def value(self) -> float:
        """Highest true peak, linear (never below the sample peak); 0 for silence."""
        return max(self.tp, self.peak, float(np.max(np.abs(self.tail), initial=0.0)))

    def dbtp(self) -> float:
        """Highest true peak in dBTP (never below the sample peak); -inf for silence."""
        p = self.value()
        return 20 * math.log10(p) if p > 0 else -math.inf


def true_peak_bound() -> float:
    """Largest gain of the true-peak interpolator: ``max_p sum_k |h[p, k]|`` (about 2.1,
    6.5 dB). No interpolated value exceeds this times the largest absolute sample within
    :data:`TP_REACH` frames of its time."""
    return float(np.max(np.sum(np.abs(_TP_H), axis=1)))


def hop_true_peaks(x: np.ndarray, x_first: int, hops, hop: int, total: int,
                   exact_above: float | None = None, round32: bool = False) -> np.ndarray:
    """Exact true peak (linear, float64 direct form) of each given hop of a signal.

    The interpolated points of hop ``h`` are those of :class:`LoudnessMeter`'s interpolator at
    times ``[h * hop, (h + 1) * hop)`` whose whole filter span lies inside ``[0, total)``; the
    result is also never below the hop's sample peak. It depends only on the samples, not on
    how they were cut.

    With ``exact_above`` (a level > 0), a point is interpolated only where a bound from its
    central taps says it could pass that level: a hop's result is then its exact true peak
    (the same bits) when that is above ``exact_above``, and at most ``exact_above`` (at least
    its sample peak) otherwise. For a caller that needs only the hops over a level and the
    largest one above a peak it already knows, this skips most of the work.

    Parameters
    ----------
    x : np.ndarray [shape=(channels, n)]
        Samples of frames ``[x_first, x_first + n)``, covering every hop's frames widened by
        :data:`TP_REACH` on both sides (clipped to ``[0, total)``).
    x_first : int >= 0
    hops : array-like of int [shape=(m,)]
        Hop indices.
    hop : int > 0
        Hop length in frames.
    total : int
        Length of the whole signal in frames.
    exact_above : float > 0, optional
        See above (default: every hop exact).
    round32 : bool
        Of ``x`` rounded to float32 (the samples a render's output is made from), without
        copying it: the same bits as ``x.astype(np.float32)`` given.

    Returns
    -------
    np.ndarray [shape=(m,)]
    """
    out = np.zeros(len(hops))
    hop_tp(np.ascontiguousarray(x, dtype=np.float64), _TP_H, int(x_first),
           np.ascontiguousarray(hops, dtype=np.int64), int(hop), int(total), out,
           -1.0 if exact_above is None else float(exact_above), bool(round32))
    return out


def _lufs(power: np.ndarray | float):
    with np.errstate(divide="ignore"):
        return _OFFSET + 10.0 * np.log10(power)


_TP_H = _true_peak_filter()
TP_REACH = (_TP_H.shape[1] - 1) // 2 + 1  # frames either side of a hop its true peak reads
_TP_HOP = 32  # the meter's screening hops (>= TP_REACH: a hop's reach ends in its neighbours)
_TP_FIRST = 16  # the loudest candidates interpolated first, to raise the running maximum


class LoudnessMeter:
    """Streaming BS.1770-4 / EBU R128 meter: integrated, short-term, range and true peak.

    Parameters
    ----------
    sr : number > 0
        Sample rate in Hz.
    channels : int >= 1
        Number of channels of every block given to :meth:`update`.
    weights : sequence of float [len=channels], optional
        Channel weights G_i. Default 1.0 for every channel, except 5 channels (L R C Ls Rs:
        1, 1, 1, 1.41, 1.41) and 6 channels (L R C LFE Ls Rs: LFE weighted 0).
    true_peak : bool
        Track the 4x oversampled true peak (the costliest part; switch off when not needed).
    peak_hop : int >= 0
        When > 0, also keep the sample peak of every hop of this many frames
        (:attr:`hop_peaks`), in the same pass as the K-weighting.
    first_frame : int >= 0
        Frame index (in the stream the hops count in) of the first sample given.
    frames : int >= 0, optional
        The expected length in frames, if known: the per-sub-block sums (and the hop peaks)
        are kept in arrays made once at that size (zero pages: memory comes in as they are
        written), not grown by doubling (whose copies and spare half raised a long input's
        peak memory).

    Notes
    -----
    Memory is O(number of 100 ms sub-blocks) plus the current block. Feed blocks in time order.

    Examples
    --------
    >>> meter = LoudnessMeter(48000, 2)
    >>> for block in blocks:          # each np.ndarray [shape=(2, n)]
    ...     meter.update(block)
    >>> meter.integrated(), meter.true_peak_dbtp(), meter.loudness_range()
    """

    def __init__(self, sr, channels: int, *, weights=None, true_peak: bool = True,
                 peak_hop: int = 0, first_frame: int = 0, frames: int | None = None):
        self.sr = check_sr(sr, "LoudnessMeter sr")
        if self.sr < 4000:
            raise MeasureError(f"sample rate {sr!r} Hz is too low for K-weighting (need >= 4000)",
                               "LoudnessMeter sr")
        if int(channels) != channels or channels < 1:
            raise MeasureError(f"channels must be an integer >= 1, got {channels!r}",
                               "LoudnessMeter channels")
        self.channels = int(channels)
        if weights is None:
            self.weights = _channel_weights(self.channels)
        else:
            self.weights = np.asarray(weights, dtype=np.float64)
            if self.weights.shape != (self.channels,) or np.any(self.weights < 0):
                raise MeasureError(
                    f"weights must be {self.channels} numbers >= 0, got {weights!r}",
                    "LoudnessMeter weights",
                )
        sos = k_weighting_sos(self.sr)
        self._co = np.ascontiguousarray(sos[:, [0, 1, 2, 4, 5]].ravel())
        self._zi = np.zeros((self.channels, 4))
        self._pos = 0  # frames consumed
        self._k = 1  # index of the next sub-block edge to reach
        self._next_edge = self._edge(1)
        self._acc = np.zeros(self.channels)
        # sum of squares per 100 ms sub-block (a 1 s margin on the expected count)
        cap = max(1024, int(max(0, int(frames)) * 10 // self.sr) + 12) if frames else 1024
        self._sub = np.zeros((cap, self.channels))
        self._sub_len = np.zeros(cap, dtype=np.int64)
        self._nsub = 0
        self._track_tp = bool(true_peak)
        if self._track_tp:
            self._tp_buf = np.zeros((self.channels, 0))  # frames from _tp_first on
            self._tp_first = 0
            self._tp_next = 0  # first screening hop not yet done
        self._peak = 0.0
        self._tp = 0.0
        #: the largest absolute sample of the last block given to :meth:`update`
        self.block_peak = 0.0
        self.peak_hop = int(peak_hop)
        self.first_frame = int(first_frame)
        if self.peak_hop < 0 or self.first_frame < 0:
            raise MeasureError(f"peak_hop and first_frame must be >= 0, got {peak_hop!r} and "
                               f"{first_frame!r}", "LoudnessMeter")
        self.hop_base = self.first_frame // self.peak_hop if self.peak_hop else 0
        hops = 0
        if self.peak_hop:  # every hop the expected frames touch, else room to grow
            hops = -(-(self.first_frame + int(frames)) // self.peak_hop) - self.hop_base \
                if frames else 1024
        self._hop_peaks = np.zeros(max(hops, 1024 if self.peak_hop else 0), dtype=np.float32)

    @property
    def hop_peaks(self) -> np.ndarray:
        """Sample peak (all channels; float32 rounded up, never below it) of every hop of ``peak_hop`` frames seen so far,
        from hop :attr:`hop_base`: hops count from frame 0 of the stream whose frame
        ``first_frame`` was the meter's first sample (empty without ``peak_hop``). About
        0.7 MB an hour of 48 kHz audio with 10 ms hops."""
        if not self.peak_hop:
            return self._hop_peaks
        return self._hop_peaks[: -(-(self.first_frame + self._pos) // self.peak_hop)
                               - self.hop_base]

    def _edge(self, k):
        return np.rint(np.asarray(k) * self.sr / 10.0).astype(np.int64)

    # ------------------------------------------------------------------ feeding
    def update(self, block) -> None:
        """Add the next block of audio.

        Parameters
        ----------
        block : np.ndarray [shape=(channels, n) or (n,) for one channel], n >= 0
            Samples, full scale = 1.0. Any block size; blocks follow each other in time.
        """
        x = as_block(block, self.channels, "LoudnessMeter.update")
        n = x.shape[1]
        self.block_peak = 0.0
        if n == 0:
            return
        if self._track_tp:
            self._update_true_peak(x)
        start, end = self._pos, self._pos + n
        if self._next_edge > end:
            cuts = np.array([n], dtype=np.int64)
        else:
            # edges of complete sub-blocks inside (start, end]
            kmax = self._k + int((end - self._next_edge) * 10 // self.sr) + 2
            edges = self._edge(np.arange(self._k, kmax + 1))
            edges = edges[edges <= end]
            cuts = np.concatenate((edges - start, [n])).astype(np.int64)
        seg = np.empty((self.channels, cuts.shape[0]))
        seg[:, 0] = self._acc  # the open sub-block's sum goes on in the kernel
        hop = self.peak_hop
        if hop:
            f0 = self.first_frame + start
            h0 = f0 // hop
            need = (f0 + n - 1) // hop + 1 - self.hop_base
            if need > self._hop_peaks.size:
                grown = np.zeros(max(2 * self._hop_peaks.size, need), dtype=np.float32)
                grown[: self._hop_peaks.size] = self._hop_peaks
                self._hop_peaks = grown
            view = self._hop_peaks[h0 - self.hop_base:need]
            left = (h0 + 1) * hop - f0
        else:
            view, left = self._hop_peaks, 0
        peak = kweight_sums(np.ascontiguousarray(x, dtype=np.float64), self._co, self._zi,
                            cuts, seg, left, hop, view)
        self._peak = max(self._peak, peak)
        self.block_peak = peak
        if cuts.shape[0] == 1:
            self._acc = seg[:, 0].copy()
        else:
            sums = seg[:, :-1].T.copy()
            prev = np.concatenate(([self._edge(self._k - 1)], edges))
            self._append(sums, np.diff(prev))
            self._acc = seg[:, -1].copy()
            self._k += len(edges)
            self._next_edge = int(self._edge(self._k))
        self._pos = end

    def absorb(self, other: "LoudnessMeter", skip_subblocks: int = 0) -> None:
        """Continue this meter with another one's measurements (parallel measuring).

        ``other`` measured the audio that follows this meter's, starting ``skip_subblocks``
        100 ms sub-blocks earlier (a warm-up for its filters, dropped here). This meter must end
        on a sub-block edge and ``other`` must have started on one.
        """
        if self._acc.any() or self._pos != int(self._edge(self._k - 1)):
            raise MeasureError("absorb: this meter does not end on a 100 ms edge",
                               "LoudnessMeter.absorb")
        n = other._nsub - skip_subblocks
        if n < 0:
            raise MeasureError("absorb: the other meter is shorter than its warm-up",
                               "LoudnessMeter.absorb")
        self._append(other._sub[skip_subblocks:other._nsub].copy(),
                     other._sub_len[skip_subblocks:other._nsub].copy())
        self._k += n
        warm = int(other._edge(skip_subblocks))
        self._pos += other._pos - warm
        self._next_edge = int(self._edge(self._k))
        self._acc = other._acc.copy()
        self._zi = other._zi.copy()
        self._peak = max(self._peak, other._peak)
        if self.peak_hop and other.peak_hop == self.peak_hop:
            ours, theirs = self.hop_peaks, other.hop_peaks
            at = other.hop_base - self.hop_base  # where their first hop falls in ours
            joined = np.zeros(max(ours.size, at + theirs.size), dtype=np.float32)
            joined[: ours.size] = ours
            joined[at:at + theirs.size] = np.maximum(joined[at:at + theirs.size], theirs)
            self._hop_peaks = joined

    def _append(self, sums: np.ndarray, lengths: np.ndarray) -> None:
        m = sums.shape[0]
        if self._nsub + m > self._sub.shape[0]:
            cap = max(2 * self._sub.shape[0], self._nsub + m)
            grown = np.zeros((cap, self.channels))
            grown[: self._nsub] = self._sub[: self._nsub]
            self._sub = grown
            glen = np.zeros(cap, dtype=np.int64)
            glen[: self._nsub] = self._sub_len[: self._nsub]
            self._sub_len = glen
        self._sub[self._nsub : self._nsub + m] = sums
        self._sub_len[self._nsub : self._nsub + m] = lengths
        self._nsub += m

    def _update_true_peak(self, x: np.ndarray) -> None:
        # Hops of _TP_HOP frames are done once every point they hold (the interpolator's
        # outputs there) has its whole filter span in the stream seen so far. A point is at
        # most true_peak_bound() times the largest sample within TP_REACH frames (its hop and
        # the two next to it), so only hops where that could pass the running true peak are
        # interpolated (exactly, float64: hop_tp); the loudest go first to raise it.
        end = self._pos + x.shape[1]
        buf = np.concatenate((self._tp_buf, x), axis=1)
        first, hop, reach = self._tp_first, _TP_HOP, (_TP_H.shape[1] - 1) // 2
        h0, h1 = self._tp_next, (end - reach) // hop
        if h1 > h0:
            lo, hi = (h0 - 1) * hop, (h1 + 1) * hop  # neighbours included
            a, b = max(lo, first), min(hi, end)
            mag = np.zeros(hi - lo)
            mag[a - lo:b - lo] = np.max(np.abs(buf[:, a - first:b - first]), axis=0)
            p = mag.reshape(-1, hop).max(axis=1)
            near = np.maximum(np.maximum(p[:-2], p[1:-1]), p[2:])  # hops h0 .. h1 - 1
            bound = true_peak_bound() * (1.0 + 1e-9)  # (a rounding's margin)
            todo = np.flatnonzero(near * bound > self._tp)
            if todo.size > _TP_FIRST:
                top = todo[np.argsort(-near[todo], kind="stable")[:_TP_FIRST]]
                self._tp = max(self._tp, self._hop_tp(buf, first, h0 + np.sort(top), end))
                todo = todo[near[todo] * bound > self._tp]
            if todo.size:
                self._tp = max(self._tp, self._hop_tp(buf, first, h0 + todo, end))
            self._tp_next = h1
        keep = max(first, self._tp_next * hop - reach)  # the next hops' spans start here
        self._tp_buf = np.ascontiguousarray(buf[:, keep - first:])
        self._tp_first = keep

    @staticmethod
    def _hop_tp(buf, first, hops, total) -> float:
        out = np.zeros(hops.size)
        hop_tp(buf, _TP_H, first, hops.astype(np.int64), _TP_HOP, total, out)
        return float(out.max())

    # ------------------------------------------------------------------ results
    @property
    def duration_s(self) -> float:
        """Seconds of audio given so far."""
        return self._pos / self.sr

    def _blocks(self, nsub_per_block: int, hop_sub: int = 1):
        """Mean square per channel of windows of ``nsub_per_block`` sub-blocks.

        Returns (power (nblocks,), start sub-block index (nblocks,)).
        """
        ns = self._nsub
        if ns < nsub_per_block:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        cs = np.concatenate((np.zeros((1, self.channels)), np.cumsum(self._sub[:ns], axis=0)))
        cl = np.concatenate(([0], np.cumsum(self._sub_len[:ns])))
        starts = np.arange(0, ns - nsub_per_block + 1, hop_sub)
        stops = starts + nsub_per_block
        ms = (cs[stops] - cs[starts]) / (cl[stops] - cl[starts])[:, None]
        return ms @ self.weights, starts

    def integrated(self) -> float:
        """Integrated (gated) loudness in LUFS; ``-inf`` when every block is below -70 LUFS
        or less than 400 ms was given."""
        return gated_loudness(self.block_powers())

    def block_powers(self) -> np.ndarray:
        """Weighted mean square of every 400 ms gating block (100 ms apart) so far: the
        values :meth:`integrated` gates; pool several meters' with :func:`gated_loudness`."""
        return self._blocks(4)[0]

    def short_term(self, window_s: float = 3.0, hop_s: float = 1.0):
        """Loudness of sliding windows (EBU short-term when ``window_s`` = 3).

        Parameters
        ----------
        window_s : number > 0, multiple of 0.1
            Window length in seconds.
        hop_s : number > 0, multiple of 0.1
            Step between windows in seconds.

        Returns
        -------
        times_s : np.ndarray [shape=(m,)]
            Centre of each complete window, in seconds from the start.
        lufs : np.ndarray [shape=(m,)]
            Ungated loudness of each window in LUFS (``-inf`` for digital silence).
        """
        w, h = _tenths(window_s, "window_s"), _tenths(hop_s, "hop_s")
        power, starts = self._blocks(w, h)
        return (starts + w / 2.0) / 10.0, _lufs(power)

    def loudness_range(self) -> float:
        """Loudness range (LRA) in LU after EBU Tech 3342: 3 s windows every 100 ms, absolute
        gate -70 LUFS, relative gate -20 LU, then P95 - P10. 0.0 when fewer than two windows
        pass the gates."""
        power, _ = self._blocks(30, 1)
        st = _lufs(power)
        st = st[st > ABS_GATE_LUFS]
        if st.size == 0:
            return 0.0
        rel = _lufs(np.mean(10.0 ** ((st - _OFFSET) / 10.0))) - 20.0
        st = st[st > rel]
        if st.size < 2:
            return 0.0
        lo, hi = percentile(st, [10.0, 95.0])
        return float(hi - lo)

    def true_peak_dbtp(self) -> float:
        """Highest true peak over all channels in dBTP (4x oversampled, never below the
        sample peak); ``-inf`` for silence."""
        if not self._track_tp:
            raise MeasureError("this meter was made with true_peak=False", "LoudnessMeter")
        peak = max(self._tp, self._peak)
        end = self._pos
        pending = np.arange(self._tp_next, -(-end // _TP_HOP), dtype=np.int64)
        if pending.size:  # the last hops (their points whose span passes the end left out)
            peak = max(peak, self._hop_tp(self._tp_buf, self._tp_first, pending, end))
        return float(20.0 * math.log10(peak)) if peak > 0 else float("-inf")

    def sample_peak_dbfs(self) -> float:
        """Highest absolute sample value in dBFS; ``-inf`` for silence."""
        return float(20.0 * math.log10(self._peak)) if self._peak > 0 else float("-inf")


def _tenths(value_s, name: str) -> int:
    v = float(value_s)
    n = int(round(v * 10.0))
    if n < 1 or abs(n - v * 10.0) > 1e-6:
        raise MeasureError(f"{name}={value_s!r} s: must be a positive multiple of 0.1 s",
                           "short-term loudness")
    return n


def gated_loudness(powers) -> float:
    """Integrated loudness (LUFS) of 400 ms gating-block powers (from
    :meth:`LoudnessMeter.block_powers`, possibly pooled from several excerpts): absolute gate
    -70 LUFS, relative gate -10 LU; ``-inf`` when nothing passes."""
    return _gated_mean(np.asarray(powers, dtype=np.float64), -10.0)


def _gated_mean(power: np.ndarray, rel_gate_lu: float) -> float:
    if power.size == 0:
        return float("-inf")
    loud = _lufs(power)
    keep = loud > ABS_GATE_LUFS
    if not np.any(keep):
        return float("-inf")
    rel = _lufs(np.mean(power[keep])) + rel_gate_lu
    keep &= loud > rel
    return float(_lufs(np.mean(power[keep])))


# ---------------------------------------------------------------------- array wrappers
def _meter_for(x, sr, *, true_peak: bool, where: str) -> LoudnessMeter:
    a = as_2d(x, where)
    meter = LoudnessMeter(sr, a.shape[0], true_peak=true_peak)
    for i in range(0, a.shape[1], _FEED_FRAMES):
        meter.update(a[:, i : i + _FEED_FRAMES])
    return meter


def integrated_loudness(x, sr) -> float:
    """Integrated loudness, ITU-R BS.1770-4 with gating.

    Parameters
    ----------
    x : np.ndarray [shape=(channels, n) or (n,)]
        Audio, full scale = 1.0.
    sr : number > 0
        Sample rate in Hz.

    Returns
    -------
    lufs : float
        Integrated loudness in LUFS; ``-inf`` for silence or audio shorter than 400 ms.
    """
    return _meter_for(x, sr, true_peak=False, where="integrated_loudness").integrated()


def true_peak_dbtp(x, sr) -> float:
    """True peak over all channels in dBTP, 4x polyphase oversampling.

    Parameters
    ----------
    x : np.ndarray [shape=(channels, n) or (n,)]
        Audio, full scale = 1.0.
    sr : number > 0
        Sample rate in Hz.

    Returns
    -------
    dbtp : float
        ``20 log10`` of the largest interpolated absolute value; ``-inf`` for silence.
    """
    return _meter_for(x, sr, true_peak=True, where="true_peak_dbtp").true_peak_dbtp()


def loudness_range(x, sr) -> float:
    """Loudness range (LRA) in LU after EBU Tech 3342.

    Parameters
    ----------
    x : np.ndarray [shape=(channels, n) or (n,)]
        Audio, full scale = 1.0.
    sr : number > 0
        Sample rate in Hz.

    Returns
    -------
    lra_lu : float >= 0
    """
    return _meter_for(x, sr, true_peak=False, where="loudness_range").loudness_range()


def short_term_loudness(x, sr, window_s: float = 3.0, hop_s: float = 1.0):
    """Short-term loudness of sliding windows.

    Parameters
    ----------
    x : np.ndarray [shape=(channels, n) or (n,)]
        Audio, full scale = 1.0.
    sr : number > 0
        Sample rate in Hz.
    window_s : number > 0, multiple of 0.1
        Window length in seconds (3.0 is EBU short-term).
    hop_s : number > 0, multiple of 0.1
        Step between windows in seconds.

    Returns
    -------
    times_s : np.ndarray [shape=(m,)]
        Centre of each complete window in seconds.
    lufs : np.ndarray [shape=(m,)]
        Ungated loudness of each window in LUFS.
    """
    meter = _meter_for(x, sr, true_peak=False, where="short_term_loudness")
    return meter.short_term(window_s, hop_s)
