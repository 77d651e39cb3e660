"""Loudness-safe output: normalise to a loudness target under a true-peak ceiling, streaming.

Two passes over the graph, never holding the session in memory:

1. **Measure.** Render the graph block by block into a BS.1770 meter
   (:class:`resonator.measure.loudness.LoudnessMeter`, K-weighting only), keep the sample
   peak of every 10 ms hop (a few hundred kB for hours of audio) and a screened true peak for
   the report (:class:`~resonator.measure.loudness.ScreenedTruePeak`). Given a twin graph,
   the two halves of the session are rendered and measured on two threads.
2. **Exact true peaks where the ceiling is at stake.** A hop's 4x-oversampled true peak is at
   most the interpolator's gain (about 6.5 dB) above the sample peaks within reach of it, so
   after the gain is known only the hops that could pass the ceiling are interpolated, exactly
   (float64 arithmetic, direct form: :func:`candidate_true_peaks`) on the float32 samples the
   output is made from, from the cached blocks or from short window renders of the graph
   (equal to the full render's samples); a window render measures them during the pass
   (:class:`WindowCache`). A candidate that can pass neither the ceiling nor the true peak
   the pass already found needs no exact value, and gets none.
3. **Plan the gain.** A static gain moves the integrated loudness onto the target. Where a hop's
   true peak times that gain would pass the ceiling (less a 0.2 dB margin for the gain's own
   movement), a gain reduction is planned for that hop. Because the whole future is known, the
   reduction starts *before* the peak: the per-hop gains are slope-limited to 0.6 dB per 10 ms
   hop both forwards and backwards and joined by raised-cosine segments, whose steepest point
   is pi/2 times their mean slope: under 0.1 dB per millisecond. The result is a pure
   function of time, so the rendered output does not depend on block size. A reduction reaches
   at most :data:`ENVELOPE_REACH_HOPS` hops (a second) from its hop: deeper ones than the slope
   undoes within that ramp more steeply, so the gain at any moment depends only on the true
   peaks within a second of it.

A graph with **stand-ins** (:func:`has_stand_ins`: a music layer whose music is stretched or
shifted, where Rubber Band's stretch is most of the work) takes its gain from a first pass over
its stand-ins (the music un-stretched, unshifted, at a fifth of the cost; the stretch keeps the
loudness), and its reductions from the exact samples' true peaks as above. Both being known
without a pass over the exact session, a window of it renders its exact samples over its own
neighbourhood only (:func:`stage_span`) and equals a full render there.

The render then applies ``post`` to every block: the graph's samples rounded to float32 (the
form :class:`RawCache` keeps on disk; 24-bit mantissa, at most half a 24-bit step at full scale)
times the gain, so a replayed, a re-rendered and a window render give the same bits. When no
hop needs reduction the result is that exact scaling and its loudness is ``measured +
gain_db`` (to float32 rounding); otherwise the output is metered again on the way out and the
report says what came out.
"""
from __future__ import annotations

import dataclasses
import math
import os
import threading
from typing import Callable

import numpy as np

from ._lazy import unique
from .graph.core import Node
from .graph.curves import Curve
from .outputs import punch_hole
from .render import DEFAULT_BLOCK, Renderer, iter_blocks, on_threads, until_stopped

HOP_S = 0.01
SLOPE_DB_PER_HOP = 0.6  # cosine segments peak at pi/2 x average: 0.094 dB per millisecond
TP_MARGIN_DB = 0.2  # room under the ceiling for the gain moving within the interpolator's span
#: hops before and after a hop that its gain reduction reaches, at most (:func:`plan_envelope`)
ENVELOPE_REACH_HOPS = 100
_RUN_FRAMES = 1 << 16
_ITEM = 4  # bytes per cached sample (float32)  # longest stretch of samples read at once for true peaks
#: a measuring pass splits into two lanes when each side holds at least this many 100 ms
#: sub-blocks (the second lane starts 4 of them early to settle its K-weighting filters)
SPLIT_MIN_SUBBLOCKS = 20


@dataclasses.dataclass
class Mastering:
    """The planned output stage of a render.

    Attributes
    ----------
    gain_db : float
        Static gain that moves the measured loudness onto the target.
    measured_lufs, measured_true_peak_dbtp, measured_range_lu : float
        Pass-1 measurements of the unprocessed graph.
    target_lufs, ceiling_dbtp : float
    limited_hops : int
        Number of 10 ms hops that get a gain reduction (0: the output is a pure gain).
    max_reduction_db : float
        Deepest planned gain reduction.
    post : callable(block, start_frame) -> block
        The stage to pass to :func:`resonator.render.render_file`.
    """

    gain_db: float
    measured_lufs: float
    measured_true_peak_dbtp: float
    measured_range_lu: float
    target_lufs: float
    ceiling_dbtp: float
    limited_hops: int
    max_reduction_db: float
    post: Callable[[np.ndarray, int], np.ndarray]
    _envelope: Curve | None = None
    _meter: object = None
    #: the stage without the output meter: ``apply(block, start_frame) -> block``
    apply: Callable[[np.ndarray, int], np.ndarray] | None = None
    #: True for a stage estimated from sparse windows (:func:`estimate`), not measured
    estimated: bool = False
    #: True when the gain comes from the session rendered with its stand-ins
    #: (:class:`StandInLoudness`: ``measured_lufs`` and ``measured_range_lu`` are theirs)
    stand_in: bool = False
    #: integrated loudness of the graph's own samples when the pass measured them all
    #: (NaN otherwise; equal to ``measured_lufs`` without stand-ins)
    exact_lufs: float = math.nan
    #: frames ``(lo, hi)`` the stage was planned for when it is not the whole session (a
    #: window's stand-in stage: :func:`master` with ``window``); None: everywhere
    span: tuple[int, int] | None = None

    @property
    def stateless(self) -> bool:
        """True when ``post`` depends only on each block and its position (nothing limited,
        so nothing is metered on the way out): blocks may then be processed in any order."""
        return self._envelope is None

    @property
    def predicted_lufs(self) -> float:
        """Output loudness when no hop is limited (exact, from the graph's own samples where
        they were measured), else an upper estimate."""
        own = self.exact_lufs if math.isfinite(self.exact_lufs) else self.measured_lufs
        return own + self.gain_db

    def report(self) -> dict:
        """Plain data for sidecars and printing: what was measured, planned and produced."""
        out = {
            "target_lufs": self.target_lufs,
            "ceiling_dbtp": self.ceiling_dbtp,
            "measured_lufs": _r(self.measured_lufs),
            "measured_true_peak_dbtp": _r(self.measured_true_peak_dbtp),
            "loudness_range_lu": _r(self.measured_range_lu),
            "gain_db": _r(self.gain_db),
            "limited_hops": self.limited_hops,
            "max_reduction_db": _r(self.max_reduction_db),
        }
        if self.stand_in:
            out["gain_measured_on"] = "stand-ins"
        if self._meter is not None and self._meter.duration_s > 0:
            out["output_lufs"] = _r(self._meter.integrated())
            out["output_true_peak_dbtp"] = _r(self._meter.true_peak_dbtp())
        elif math.isfinite(self.measured_lufs):
            out["output_lufs"] = _r(self.predicted_lufs)
            out["output_true_peak_dbtp"] = _r(self.measured_true_peak_dbtp + self.gain_db)
        return out


def _r(x: float):
    return None if x is None or not math.isfinite(x) else round(float(x), 3)


def _pipeline(blocks, consume, progress, total: int, depth: int = 4) -> None:
    """``consume(pos, block)`` for every block, in order, on a worker thread
    (:func:`resonator.pipeline.pipeline`).

    The graph renders the next blocks while the meter (scipy filters and FFTs, which release
    the GIL) and the disk cache take the previous ones: the same calls in the same order as a
    plain loop, so the results are identical. At most ``depth`` blocks wait in between. An error
    on either side stops both and is raised here.
    """
    from .pipeline import pipeline

    def counted():
        done = 0
        for pos, block in blocks:
            yield pos, block
            done += block.shape[1]
            if progress:
                progress(done, total)

    pipeline(counted(), consume, depth)


def _split_frame(first: int, total: int, sr: int, hop: int,
                 at: float | None = None) -> int | None:
    """Frame where a parallel measuring pass splits the window, or None when it cannot.

    The split sits on a 100 ms loudness sub-block edge that is also a hop edge (counted from
    frame 0), so both halves' measurements join exactly, as near as that allows to ``at`` (a
    share of the window, default 0.5). It depends only on the window, the rate and the hop:
    not on the block size nor on the number of cores, so a session measures the same
    wherever it is rendered. The window must start at frame 0 and
    each side must hold at least :data:`SPLIT_MIN_SUBBLOCKS` sub-blocks.
    """
    if first != 0 or sr % 10:
        return None
    unit = math.lcm(sr // 10, int(hop))
    share = 0.5 if at is None else min(max(float(at), 0.0), 1.0)
    k = int(round(total * share / unit))
    low = -(-SPLIT_MIN_SUBBLOCKS * (sr // 10) // unit)  # units in the shortest side
    k = min(max(k, low), (total - SPLIT_MIN_SUBBLOCKS * (sr // 10)) // unit)
    if k < low:
        return None
    return k * unit


def plan_envelope(hop_peaks: np.ndarray, gain: float, ceiling: float, hop_s: float) -> tuple[Curve | None, int, float]:
    """Gain-reduction curve keeping ``hop_peaks * gain * envelope`` under ``ceiling``.

    Returns (curve or None when nothing needs reducing, number of limited hops, deepest
    reduction in dB). The curve is slope-limited to :data:`SLOPE_DB_PER_HOP` per hop in both
    directions and uses raised-cosine segments between hop boundaries. A reduction deeper than
    the slope can undo within :data:`ENVELOPE_REACH_HOPS` hops (60.6 dB) ramps over that many,
    more steeply: the curve at any moment depends only on the peaks of the hops within that
    reach of it (:func:`stage_span`), each point computed from its own hop's need alone, so a
    plan over part of the session gives the same values there as a plan over all of it.
    """
    with np.errstate(divide="ignore"):
        need = np.minimum(1.0, ceiling / np.maximum(hop_peaks * gain, 1e-30))
    hops = np.flatnonzero(need < 1.0)
    limited = int(hops.size)
    if limited == 0:
        return None, 0, 0.0
    # value at boundary b sits between hops b-1 and b: it must not exceed either hop's need,
    # and it rises from a hop's need by at most `step` per hop on either side
    n = len(need)
    value = need[hops]
    reach = ENVELOPE_REACH_HOPS
    step = np.maximum(10 ** (SLOPE_DB_PER_HOP / 20), value ** (-1.0 / (reach + 1)))
    bound = np.ones(n + 1)
    for d in range(reach + 1):  # (hops are distinct, so each assignment's indices are too)
        v = value * step ** d if d else value
        for at in (hops - d, hops + 1 + d):
            ok = (at >= 0) & (at <= n)
            idx = at[ok]
            bound[idx] = np.minimum(bound[idx], v[ok])
    # keep only the points around reductions
    keep = np.flatnonzero(bound < 1.0)
    sel = unique(np.clip(np.concatenate([keep - 1, keep, keep + 1]), 0, n))
    pts = [(float(i * hop_s), float(bound[i]), "cos") for i in sel]
    if pts[0][0] > 0:
        pts.insert(0, (0.0, 1.0))
    return Curve(pts), limited, float(-20 * np.log10(bound.min()))


def has_stand_ins(node: Node) -> bool:
    """True when a node of the graph plays a cheaper stand-in in loudness passes (a music
    layer's stretched or shifted music: :attr:`resonator.graph.core.Node.stands_in`)."""
    from .graph.core import walk

    return any(n.stands_in for n in walk(node))


def stage_span(first: int, total: int, session_frames: int, sr: int) -> tuple[int, int]:
    """The frames ``[lo, hi)`` whose samples decide a stand-in stage's gain reduction over the
    window ``[first, first + total)`` (:func:`master` with ``window``): the window and, on each
    side, the reach of a reduction (:data:`ENVELOPE_REACH_HOPS`) and of the true-peak
    interpolator, with a few hops to spare, inside the session."""
    from .measure.loudness import TP_REACH

    hop = max(1, int(round(HOP_S * sr)))
    pad = ENVELOPE_REACH_HOPS + 6
    lo = (first // hop - pad) * hop - TP_REACH
    hi = ((first + total - 1) // hop + 1 + pad) * hop + TP_REACH
    return max(0, lo), min(int(session_frames), hi)


@dataclasses.dataclass(frozen=True)
class StandInLoudness:
    """The loudness of a session rendered with its stand-ins (:func:`has_stand_ins`): what a
    stand-in stage's gain comes from (:func:`master`).

    Attributes
    ----------
    lufs : float
        Integrated loudness (BS.1770), -inf for silence.
    range_lu : float
        Loudness range (EBU Tech 3342).
    """

    lufs: float
    range_lu: float

    def to_dict(self) -> dict:
        return {"lufs": float(self.lufs), "range_lu": float(self.range_lu)}

    @classmethod
    def from_dict(cls, d: dict) -> "StandInLoudness":
        """Raises KeyError, TypeError or ValueError for anything malformed."""
        vals = [d["lufs"], d["range_lu"]]
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in vals):
            raise TypeError("not a number")
        if math.isnan(vals[0]) or vals[0] == math.inf:
            raise ValueError("lufs is not a loudness")
        return cls(float(vals[0]), float(vals[1]))


def _measure(node: Node, twin: Node | None, first: int, total: int, *, sr: int, seed: int,
             block_frames: int, split_share: float | None, cache, estimate: bool,
             progress: Callable[[int, int], None] | None):
    """One measuring pass over frames ``[first, first + total)``: the K-weighted loudness and
    every hop's sample peak (one :class:`~resonator.measure.loudness.LoudnessMeter`), the
    screened true peaks of each lane, and the blocks stored in ``cache``. With ``twin`` and a
    window long enough the two halves are rendered and measured on two threads
    (:func:`_split_frame`). ``estimate``: the nodes play their stand-ins."""
    from .measure.loudness import LoudnessMeter, ScreenedTruePeak

    hop = max(1, int(round(HOP_S * sr)))
    split = _split_frame(first, total, sr, hop, split_share) \
        if twin is not None else None
    lanes = []  # (node, first frame rendered, frames, first frame kept)
    if split is None:
        lanes.append((node, first, total, first))
    else:
        warm = 4 * (sr // 10)  # 0.4 s of K-weighting warm-up before the second half
        lanes.append((node, first, split - first, first))
        lanes.append((twin, split - warm, first + total - split + warm, split))
    meters, screens = [], []
    stop = threading.Event()  # set when a lane fails: the other one stops too
    done = [0] * len(lanes)
    lock = threading.Lock()

    def run(i):
        lane_node, lane_first, frames, keep = lanes[i]
        meter = LoudnessMeter(sr, node.channels, true_peak=False, peak_hop=hop,
                              first_frame=lane_first, frames=frames)
        screen = ScreenedTruePeak(node.channels)
        meters.append((i, meter))
        screens.append(screen)

        def consume(pos, block):
            meter.update(block)  # loudness and the sample peak of every hop, in one pass
            screen.update(block, meter.block_peak)
            if cache is not None and pos + block.shape[1] > keep:  # (from the split on)
                a = pos + max(keep - pos, 0)
                cache.store(a, block[:, a - pos:] if a > pos else block,
                            meter.hop_peaks[a // hop - meter.hop_base:], screen.value())

        def lane_progress(d, _total):
            if progress is not None:
                with lock:
                    done[i] = d
                    progress(min(sum(done), total), total)

        blocks = until_stopped(iter_blocks(lane_node, frames / sr, sr=sr, seed=seed,
                                           start_s=lane_first / sr, block_frames=block_frames,
                                           estimate=estimate), stop)
        if len(lanes) == 1:
            _pipeline(blocks, consume, lane_progress, frames)  # meter beside the graph
            return
        d = 0  # two lanes already fill two cores: each measures its own blocks
        for pos, block in blocks:
            consume(pos, block)
            d += block.shape[1]
            lane_progress(d, frames)

    if len(lanes) == 1:
        run(0)
    else:
        on_threads([lambda: run(0), lambda: run(1)], stop)
    meters.sort(key=lambda im: im[0])
    meter = meters[0][1]
    if len(meters) > 1:
        meter.absorb(meters[1][1], skip_subblocks=4)
    return meter, screens


def master(node: Node, duration_s: float, *, sr: int, seed: int = 0, start_s: float = 0.0,
           target_lufs: float = -20.0, ceiling_dbtp: float = -1.0,
           block_frames: int = DEFAULT_BLOCK,
           progress: Callable[[int, int], None] | None = None,
           cache: "RawCache | None" = None, twin: Node | None = None,
           split_share: float | None = None,
           window: tuple[float, float] | None = None,
           loudness: StandInLoudness | None = None) -> Mastering:
    """Measure a graph (pass 1) and plan the output gain and peak control.

    A graph with stand-ins (:func:`has_stand_ins`: a music layer whose music is stretched or
    shifted, three quarters of whose cost is Rubber Band's stretch) takes its gain from the
    loudness of the session rendered with the stand-ins (the music where the plan places
    it, un-stretched and unshifted: within a few hundredths of a dB of the music's own
    loudness), a pass at a fraction of the cost, and its gain reduction from the exact
    samples' true peaks as every graph does. As the reduction at any moment depends only on
    the true peaks within :data:`ENVELOPE_REACH_HOPS` of it, a ``window`` then needs the
    exact samples of its own neighbourhood only (:func:`stage_span`), and its stage gives
    the samples a whole-session stage gives there. Any other graph's gain comes from its
    exact samples, over the whole measured stretch.

    Parameters
    ----------
    node : Node
        Output node.
    duration_s, sr, seed, start_s, block_frames
        The render's window and settings (the same as the render that will use ``post``).
    target_lufs : float
        Integrated loudness target (BS.1770), e.g. -20.
    ceiling_dbtp : float
        True-peak ceiling, e.g. -1.
    progress : callable(done_frames, total_frames), optional
        Called after every measured block (``total_frames``: the measured window's; a
        stand-in graph's two passes share it).
    cache : RawCache, optional
        Also store the measured blocks (as float32, the precision ``post`` works at) of the
        cache's window, so the render pass can replay them (:meth:`RawCache.blocks`) instead of
        rendering the graph a second time. With ``window`` and stand-ins it must cover
        :func:`stage_span`'s frames.
    twin : Node, optional
        An independent copy of ``node`` (the same graph built a second time). When given and
        the window starts at frame 0 and is long enough (2 s on each side of the split), the
        second half is rendered and measured on another thread at the same time (see
        :func:`_split_frame`: the split depends only on the window, the rate and
        ``split_share``, never on the block size or the machine, so the result is the same
        everywhere).
    split_share : float in (0, 1), optional
        Where the two lanes split, as a share of the window (default half): a caller that
        knows where the graph is busier can balance the lanes' work. The samples are the same; the loudness differs
        from a serial pass by float rounding only (the K-weighting filters of the second half
        start from 0.4 s of warm-up instead of the first half's state).
    window : (start_s, duration_s), optional
        The only stretch the stage will be applied to. A graph with stand-ins then renders
        its exact samples over :func:`stage_span` of it only, and the stage's ``span`` says
        so (it is not to be used elsewhere, nor cached); ignored for other graphs.
    loudness : StandInLoudness, optional
        A graph with stand-ins: their loudness measured before (the same session, the same
        rate and seed; e.g. from :func:`cached_loudness`), so the stand-in pass is skipped.

    Returns
    -------
    Mastering
    """
    hop = max(1, int(round(HOP_S * sr)))
    total = int(round(duration_s * sr))
    first = int(round(start_s * sr))
    stand_in = has_stand_ins(node)
    if not stand_in:
        loudness = None
    lo, hi = first, first + total  # the frames measured exactly
    if stand_in and window is not None:
        w0, w1 = int(round(window[0] * sr)), int(round(window[1] * sr))
        lo, hi = stage_span(w0, w1, first + total, sr)
        lo = max(lo, first)
    work = (total if stand_in and loudness is None else 0) + (hi - lo)
    base = [0]

    def share(d, _total):  # both passes' frames, as one bar over the measured window
        if progress is not None:
            progress(min(total, (base[0] + d) * total // max(work, 1)), total)

    kw = dict(sr=sr, seed=seed, block_frames=block_frames, split_share=split_share,
              progress=share)
    if stand_in and loudness is None:
        quick, _ = _measure(node, twin, first, total, cache=None, estimate=True, **kw)
        loudness = StandInLoudness(quick.integrated(), quick.loudness_range())
        base[0] = total
    meter, screens = _measure(node, twin, lo, hi - lo, cache=cache, estimate=False, **kw)
    whole = (lo, hi) == (first, first + total)
    exact = meter.integrated() if whole else math.nan
    if loudness is not None:
        measured, lra = loudness.lufs, loudness.range_lu
    else:
        measured, lra = exact, meter.loudness_range()
    peaks, hbase = meter.hop_peaks, meter.hop_base
    if not math.isfinite(measured):  # silence: nothing to normalise
        gain_db = 0.0
    else:
        gain_db = target_lufs - measured
    gain = 10 ** (gain_db / 20)
    ceiling = 10 ** ((ceiling_dbtp - TP_MARGIN_DB) / 20)
    read = _sample_reader(node, sr=sr, seed=seed, first=lo, total=hi - lo,
                          block_frames=block_frames, cache=cache)
    # only the hops over the level and the largest true peak shape the stage: a candidate
    # that can pass neither the level nor the screens' true peak needs no exact value
    known = max(sc.value() for sc in screens)
    hops, hop_tp = candidate_true_peaks(peaks, hop, lo, hi, ceiling / gain, read,
                                        hbase, known_peak=known,
                                        measured=getattr(cache, "true_peaks", None))
    env, limited, deepest = None, 0, 0.0
    if np.any(hop_tp * gain > ceiling):  # a gain plan is needed: only then a dense hop array
        dense = np.zeros(hi // hop + 2)  # to the end: the release must fit
        dense[hops] = hop_tp
        env, limited, deepest = plan_envelope(dense, gain, ceiling, hop / sr)
    tp = max([20 * math.log10(known) if known > 0 else -math.inf] +
             [20 * math.log10(hop_tp.max()) if hop_tp.size and hop_tp.max() > 0 else -math.inf])
    m = _stage(gain_db, measured, tp, lra, target_lufs, ceiling_dbtp, limited, deepest, env, sr,
               node.channels)
    m.stand_in = stand_in
    m.exact_lufs = exact
    m.span = None if whole else (lo, hi)
    return m


def _stage(gain_db, measured, tp, lra, target_lufs, ceiling_dbtp, limited, deepest, env, sr,
           channels, estimated: bool = False) -> Mastering:
    """A :class:`Mastering` with its ``apply`` and ``post`` (``apply`` plus an output meter
    when a reduction is planned)."""
    from .measure.loudness import LoudnessMeter

    gain = 10 ** (gain_db / 20)
    out_meter = LoudnessMeter(sr, channels) if env is not None else None

    def apply(block: np.ndarray, start: int) -> np.ndarray:
        # float32 samples (as cached) times the gain, in float64
        x = block if block.dtype == np.float32 else block.astype(np.float32)
        y = np.multiply(x, gain, dtype=np.float64)
        if env is not None:
            t = np.arange(start, start + block.shape[1], dtype=np.float64) / sr
            y *= env.evaluate(t)
        return y

    def post(block: np.ndarray, start: int) -> np.ndarray:
        y = apply(block, start)
        if out_meter is not None:
            out_meter.update(y)
        return y

    if env is None:  # a pure gain: render_file folds it into the quantiser (same products)
        post.gain = gain

    return Mastering(gain_db, measured, tp, lra, target_lufs, ceiling_dbtp, limited, deepest,
                     post, env, out_meter, apply, estimated)


def candidate_true_peaks(peaks: np.ndarray, hop: int, first: int, end: int, level: float,
                         read, base: int = 0,
                         known_peak: float | None = None,
                         measured=None) -> tuple[np.ndarray, np.ndarray]:
    """The hops that could pass ``level`` and their exact true peaks.

    A hop's interpolated values are at most :func:`~resonator.measure.loudness.true_peak_bound`
    times the largest sample within reach of it, so only hops whose own or neighbouring sample
    peak times that bound exceeds ``level`` can pass it; those are interpolated exactly. The
    peaks are scanned in pieces, so the memory used does not grow with the session.

    With ``known_peak`` (a true peak the caller already has, linear), a candidate's value is
    exact only where it is above ``min(level, known_peak)``, else at most that
    (:func:`~resonator.measure.loudness.hop_true_peaks`' ``exact_above``): what passes
    ``level`` and ``max(known_peak, largest value)`` are the same as without it, and only the
    points a bound from their central taps cannot rule out are interpolated.

    Parameters
    ----------
    peaks : np.ndarray [shape=(hops,)]
        Sample peak of every hop from hop ``base`` on.
    hop : int
        Hop length in frames (hops count from frame 0).
    first, end : int
        The measured frames ``[first, end)``.
    level : float
        Linear level of interest (the ceiling before the gain).
    read : callable(lo, hi) -> np.ndarray [shape=(channels, hi - lo)]
        Samples of frames ``[lo, hi)``.
    base : int
        Hop index of ``peaks[0]``.
    known_peak : float >= 0, optional
        See above.
    measured : callable(hops, exact_above) -> (values, ok), optional
        Values measured already (:meth:`WindowCache.true_peaks`); the hops without one
        (``ok`` False) are measured from ``read``.

    Returns
    -------
    hops : np.ndarray [shape=(m,), dtype=int]
        Absolute hop indices of the candidates, ascending.
    true_peaks : np.ndarray [shape=(m,)]
        Their true peaks (linear, never below their sample peaks; with ``known_peak``, exact
        where above ``min(level, known_peak)``).
    """
    from .measure.loudness import TP_REACH, hop_true_peaks, true_peak_bound

    limit = level / true_peak_bound()
    found = []
    piece = 1 << 20
    for i in range(0, peaks.size, piece):  # a hop is a candidate when it or a neighbour is loud
        lo, hi = max(i - 1, 0), min(i + piece + 1, peaks.size)
        loud = np.flatnonzero(peaks[lo:hi] > limit) + lo
        near = unique(np.concatenate([loud - 1, loud, loud + 1]))
        found.append(near[(near >= i) & (near < min(i + piece, peaks.size))])
    todo = np.concatenate(found).astype(np.int64) + base if found else np.zeros(0, np.int64)
    values = np.zeros(todo.size)
    exact_above = None if known_peak is None or not known_peak > 0 else min(level, known_peak)
    if measured is not None and todo.size:
        values, ok = measured(todo, exact_above)
        values = np.array(values, dtype=np.float64)
        where = np.flatnonzero(~ok)
    else:
        where = np.arange(todo.size)
    # runs of hops whose sample spans touch, read in pieces of bounded length
    per = max(1, _RUN_FRAMES // hop)
    rest = todo[where]
    for idx in np.split(where, np.flatnonzero(np.diff(rest) > 1) + 1):
        for i in range(0, idx.size, per):
            at = idx[i:i + per]
            part = todo[at]
            lo = max(first, int(part[0]) * hop - TP_REACH)
            hi = min(end, (int(part[-1]) + 1) * hop + TP_REACH)
            values[at] = hop_true_peaks(read(lo, hi), lo, part, hop, end, exact_above)
    return todo, values


def _sample_reader(node: Node, *, sr: int, seed: int, first: int, total: int,
                   block_frames: int, cache: "RawCache | None"):
    """``read(lo, hi)``: frames of the measured window rounded to float32 (as ``post`` uses
    them), from the cache where it holds them, else rendered again by the graph (equal to the
    full render's samples): see :class:`_ForwardReader`."""
    forward = _ForwardReader(node, sr=sr, seed=seed, end=first + total,
                             block_frames=block_frames)

    def read(lo, hi):
        if cache is not None and cache.holds(lo, hi):
            return cache.read(lo, hi)
        return forward.read(lo, hi)
    return read


class _ForwardReader:
    """Frames ``[lo, hi)`` of a graph for reads in ascending order, as float32 values.

    The graph is prepared once (:class:`~resonator.render.Renderer`) and walks forward
    through the session: a read that starts within a restart's cost (the warm-up plus two
    blocks) of where the last one ended renders through the gap; a farther one starts a new
    window there. So many short reads cost at most about one more pass over the graph, never
    one preparation and warm-up each.
    """

    def __init__(self, node: Node, *, sr: int, seed: int, end: int, block_frames: int):
        self._args = (node, sr, seed, block_frames)
        self.end = end
        self._renderer = None
        self._gen = None
        self._pieces: list[tuple[int, np.ndarray]] = []  # (start frame, float32 block)
        self._pos = 0  # frames rendered up to here

    def read(self, lo: int, hi: int) -> np.ndarray:
        if self._renderer is None:
            node, sr, seed, block = self._args
            self._renderer = Renderer(node, sr=sr, seed=seed, block_frames=block)
        reach = self._renderer.warmup_frames + 2 * self._renderer.ctx.block_frames
        start = self._pieces[0][0] if self._pieces else self._pos
        if self._gen is None or lo < start or lo > self._pos + reach:
            self._gen = self._renderer.blocks(lo, self.end)
            self._pieces, self._pos = [], lo
        while self._pos < hi:
            pos, block = next(self._gen)
            self._pieces.append((pos, block.astype(np.float32)))
            self._pos = pos + block.shape[1]
        self._pieces = [(p, b) for p, b in self._pieces if p + b.shape[1] > lo]
        x = np.concatenate([b for _, b in self._pieces], axis=1) \
            if len(self._pieces) > 1 else self._pieces[0][1]
        a = lo - self._pieces[0][0]
        return x[:, a:a + hi - lo].astype(np.float64)  # the samples the output is made from


class RawCache:
    """Rendered blocks of a window kept on disk as float32 for a second pass.

    :func:`master` stores every block of the measuring pass that overlaps the window
    [first, first + total) frames; :meth:`blocks` then yields ``(start_frame, block)`` as
    :func:`resonator.render.iter_blocks` would for that window rendered on the same block grid
    (same block boundaries; the values rounded to float32, which is what the mastering stage
    works from: 2.8 GB an hour of 48 kHz stereo rather than 5.5), reading the file back block
    by block. Memory stays at
    one block; the file (hidden, beside the output) is removed by :meth:`close` (use the cache as
    a context manager so an error or Ctrl-C never leaves it behind).

    Parameters
    ----------
    path : Path
        A folder: the data go to an unnamed file there that the system frees however the
        process ends (:func:`resonator.outputs.scratch_file`); or a file path (created,
        truncated, deleted by :meth:`close`).
    channels : int
    first, total : int
        Window start and length in frames.
    block_frames : int
        The engine's block grid.
    """

    def __init__(self, path, channels: int, first: int, total: int, block_frames: int):
        from pathlib import Path

        self.path = Path(path)
        self.channels = int(channels)
        self.first = int(first)
        self.total = int(total)
        self.block_frames = int(block_frames)
        self._written = 0
        self._released = False
        self._stored: set[int] = set()
        self._lock = threading.Lock()
        if self.path.is_dir():
            from .outputs import scratch_file

            self._f = scratch_file(self.path)
            self.path = None
        else:
            self._f = open(self.path, "w+b")

    def store(self, pos: int, block: np.ndarray, hop_peaks=None, known_peak=None) -> None:
        """Keep the part of ``block`` (frames [pos, pos + n)) inside the window.

        A block lies within one block of the render's grid (a whole one, or a piece where a
        window or a measuring lane starts or ends); blocks may arrive in any order (two
        threads measuring two halves store at once), each frame exactly once.
        (``hop_peaks``, ``known_peak``: see :meth:`WindowCache.store`; not needed here.)
        """
        lo = max(self.first - pos, 0)
        hi = min(self.first + self.total - pos, block.shape[1])
        if hi <= lo:
            return
        a, b = pos + lo, pos + hi
        bs, be = self._span(a)
        if b > be:
            raise RuntimeError("RawCache: a block must lie within one block of the render's grid")
        # channel-major blocks, as the window's blocks on the same grid: they are read back
        # with the same lengths and no transposition
        part = np.ascontiguousarray(block[:, lo:hi], dtype=np.float32)
        with self._lock:
            if a in self._stored:
                raise RuntimeError(f"RawCache: frames from {a} stored twice")
            self._stored.add(a)
        fd, base = self._f.fileno(), (bs - self.first) * self.channels
        if (a, b) == (bs, be):
            os.pwrite(fd, memoryview(part).cast("B"), base * _ITEM)
        else:  # a piece of a grid block: each channel's run where it falls in that block
            for c in range(self.channels):
                os.pwrite(fd, memoryview(part[c]).cast("B"),
                          (base + c * (be - bs) + a - bs) * _ITEM)
        with self._lock:
            self._written += b - a

    def _check_readable(self) -> None:
        if not self.complete:
            raise RuntimeError(f"RawCache holds {self._written} of {self.total} frames")
        if self._released:
            raise RuntimeError("RawCache: read after a releasing read")

    def _span(self, pos: int) -> tuple[int, int]:
        """Frames ``[start, end)`` of the stored block (the grid block, cut to the window)
        holding frame ``pos``."""
        B = self.block_frames
        return max(self.first, (pos // B) * B), min(self.first + self.total, (pos // B + 1) * B)

    @property
    def complete(self) -> bool:
        return self._written == self.total

    def holds(self, lo: int, hi: int) -> bool:
        """True when :meth:`read` can give frames ``[lo, hi)``."""
        return self.complete and self.first <= lo <= hi <= self.first + self.total

    def read(self, lo: int, hi: int) -> np.ndarray:
        """The stored frames ``[lo, hi)`` (absolute, inside the window) as float64 (channels, n)
        holding the float32 values."""
        self._check_readable()
        if not self.first <= lo <= hi <= self.first + self.total:
            raise ValueError(f"frames {lo}..{hi} are outside the cached window")
        self._f.flush()
        ch = self.channels
        out = np.empty((ch, hi - lo))
        fd = self._f.fileno()
        pos = lo
        while pos < hi:
            bs, be = self._span(pos)
            n, stop = be - bs, min(hi, be)
            for c in range(ch):  # blocks are stored channel-major
                off = ((bs - self.first) * ch + c * n + pos - bs) * _ITEM
                buf = os.pread(fd, (stop - pos) * _ITEM, off)
                if len(buf) != (stop - pos) * _ITEM:
                    raise RuntimeError("RawCache: the temporary file is shorter than expected")
                out[c, pos - lo:stop - lo] = np.frombuffer(buf, dtype=np.float32)
            pos = stop
        return out

    def blocks(self, lo: int | None = None, hi: int | None = None, *, release: bool = False):
        """Yield ``(start_frame, block)`` for the window (or its frames ``[lo, hi)``) on the
        block grid of the render (a stretch that starts or ends off the grid gets a shorter
        first or last block, as :func:`resonator.render.iter_blocks` yields for a window
        starting there); blocks are float32 (the mastering stage's ``post`` takes them as
        they are).

        ``release``: each block's place in the file is freed once it is read (a last read:
        the cache can be read no more). The pages go back to the system while the blocks
        are written out, instead of all at once when the file closes, and none of them is
        ever written to the disk.
        """
        self._check_readable()
        self._released = self._released or release
        yield from self._blocks(lo, hi, release)

    def _blocks(self, lo, hi, release):
        ch = self.channels
        pos = self.first if lo is None else int(lo)
        end = self.first + self.total if hi is None else int(hi)
        if not self.first <= pos <= end <= self.first + self.total:
            raise ValueError(f"frames {pos}..{end} are outside the cached window")
        self._f.flush()
        fd = self._f.fileno()
        while pos < end:
            bs, be = self._span(pos)
            block = np.empty((ch, be - bs), dtype=np.float32)
            at = (bs - self.first) * ch * _ITEM
            got = os.preadv(fd, [memoryview(block).cast("B")], at)
            if got != block.nbytes:
                raise RuntimeError("RawCache: the temporary file is shorter than expected")
            if release:
                punch_hole(fd, at, block.nbytes)
            stop = min(end, be)
            yield pos, (block if (pos, stop) == (bs, be) else block[:, pos - bs:stop - bs])
            pos = stop

    def split(self, lanes: int = 2, lo: int | None = None, hi: int | None = None, *,
              release: bool = False) -> list:
        """The window's blocks (or those of frames ``[lo, hi)``) as ``lanes`` iterators over
        consecutive stretches (cut on the block grid), for
        :func:`resonator.render.render_file` to process at once (``release``: as
        :meth:`blocks`)."""
        B = self.block_frames
        a = self.first if lo is None else int(lo)
        b = self.first + self.total if hi is None else int(hi)
        cuts = [a]
        for i in range(1, lanes):
            c = int(round((a + (b - a) * i / lanes) / B)) * B
            if cuts[-1] < c < b:
                cuts.append(c)
        cuts.append(b)
        self._check_readable()
        self._released = self._released or release
        return [self._blocks(x, y, release) for x, y in zip(cuts[:-1], cuts[1:])]

    def close(self) -> None:
        """Close and delete the file (safe to call twice)."""
        try:
            self._f.close()
        finally:
            if self.path is not None:
                try:
                    self.path.unlink()
                except FileNotFoundError:
                    pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class WindowCache:
    """What the measuring pass of a window render keeps: the window's own blocks, and the
    true peaks of the hops around loud ones, measured as the pass goes.

    A full render keeps the whole session (:class:`RawCache`) to replay it and reads the
    true-peak candidates' samples back from it; a window replays only its own frames, and
    the candidates (:func:`candidate_true_peaks`: a hop whose sample peak, or a neighbour's,
    passes ``level / true_peak_bound()``) are known only once the gain is, after the pass.
    So the pass measures, block by block, the true peaks (of the samples rounded to float32,
    as the output is made from them) of every hop next to one whose sample peak passes
    ``keep_level / true_peak_bound()``, a level chosen below the one the gain will give (from
    an estimate of the loudness, less a margin: see :func:`resonator.recipe.render.
    window_cache`), each exact where it passes ``min(keep_level, the true peak the lane's
    screen has found so far)`` (:func:`~resonator.measure.loudness.hop_true_peaks`'
    ``exact_above``), which is all :func:`master` needs of them. Nothing but the window goes
    to disk. A candidate this cache has no valid value for (one below ``keep_level``, or at
    the seam of two measuring lanes) is measured from samples rendered again by the graph
    (:func:`_sample_reader`): the stage is the same either way, only slower.

    Parameters
    ----------
    folder : Path
        Where the window's unnamed scratch file goes (:func:`resonator.outputs.scratch_file`).
    channels : int
    first, total : int
        The window, in frames.
    block_frames : int
        The engine's block grid.
    hop : int > 0
        The measuring pass's hop (frames; hops count from frame 0).
    keep_level : float >= 0
        Linear level (0: every sounding hop's neighbourhood is measured, exactly).
    session_frames : int
        Frames in the session (the true peaks read inside it).
    """

    def __init__(self, folder, channels: int, first: int, total: int, block_frames: int, *,
                 hop: int, keep_level: float, session_frames: int):
        from .measure.loudness import TP_REACH, true_peak_bound

        self.window = RawCache(folder, channels, first, total, block_frames)
        self.first, self.total = self.window.first, self.window.total
        self.block_frames = self.window.block_frames
        self.channels = int(channels)
        self.hop = int(hop)
        self.keep_level = float(keep_level)
        self.limit = self.keep_level / true_peak_bound()
        self.reach = int(TP_REACH)
        self.end = int(session_frames)
        #: bytes written to the scratch file (the window)
        self.bytes_written = 0
        #: hops whose true peaks were measured during the pass
        self.measured_hops = 0
        # per measuring lane, under the end frame of its last block: (its last frames, the
        # hops waiting for frames past that block, the hops measured from its last frames)
        self._lanes: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._found: list[tuple[np.ndarray, np.ndarray, float]] = []  # (hops, values, thr)
        self._table = None  # the measured hops sorted, once asked
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ storing
    def store(self, pos: int, block: np.ndarray, hop_peaks=None,
              known_peak: float | None = None) -> None:
        """Keep the window's part of ``block`` (frames ``[pos, pos + n)``) and measure the
        true peaks of the hops around its loud ones. Blocks of one measuring lane come in
        order; two lanes may store at once. ``hop_peaks``: the sample peaks of hops
        ``pos // hop`` to ``(pos + n - 1) // hop`` (whole hops, as :attr:`~resonator.measure.
        loudness.LoudnessMeter.hop_peaks` keeps them; measured here when not given).
        ``known_peak``: a true peak of the session found so far by this lane (linear: its
        :class:`~resonator.measure.loudness.ScreenedTruePeak` value); without it every
        value is exact."""
        from .measure.loudness import hop_true_peaks

        n = block.shape[1]
        end = pos + n
        before = self.window._written
        self.window.store(pos, block)
        self.bytes_written += (self.window._written - before) * self.channels * _ITEM
        hop, R = self.hop, self.reach
        with self._lock:
            lane = self._lanes.pop(pos, None)
        tail, waiting, recent = lane or (block[:, :0], np.zeros(0, np.int64),
                                         np.zeros(0, np.int64))
        if hop_peaks is None:
            hop_peaks = self._hop_peaks(pos, block)
        # hops h - 1 .. h + 1 of each loud hop h (the candidates they may make), those still
        # waiting for frames, less those measured already: a mask from hop h0 on
        h0, nh = pos // hop - 2, (end - 1) // hop - pos // hop + 1
        loud = np.asarray(hop_peaks)[:nh] > self.limit
        back = 2 * hop + 2 * R  # (the next block's hops read back to here)
        if not waiting.size and not loud.any():  # a quiet block: only its last frames count
            with self._lock:
                self._lanes[end] = (np.array(block[:, -back:]) if n >= back else np.concatenate(
                    (tail, block), axis=1)[:, -back:], waiting, recent[recent >= end // hop - 1])
            return
        mask = np.zeros(nh + 4, dtype=bool)
        for k in (1, 2, 3):
            mask[k:k + nh] |= loud
        mask[waiting - h0] = True
        mask[recent[recent >= h0] - h0] = False
        todo = np.flatnonzero(mask) + h0
        if todo.size and (todo[0] < 0 or (todo[-1] + 1) * hop > self.end):
            todo = todo[(todo >= 0) & (todo * hop < self.end)]
        # a hop is measured once the frames its interpolator reads are all at hand; one whose
        # first frames this lane never had (at its start) is left to be measured afterwards
        start = pos - tail.shape[1]
        lo_need = np.maximum(todo * hop - R, 0)
        ready = np.minimum((todo + 1) * hop + R, self.end) <= end
        done = todo[ready & (lo_need >= start)]
        if done.size:
            thr = 0.0  # (exact)
            if known_peak is not None and known_peak > 0 and self.keep_level > 0:
                thr = min(self.keep_level, float(known_peak))
            values = np.empty(done.size)
            inside = lo_need[ready & (lo_need >= start)] >= pos
            if inside.any():
                values[inside] = hop_true_peaks(block, pos, done[inside], hop, self.end,
                                                thr or None, round32=True)
            if not inside.all():  # (hops that read the lane's last frames: a short piece)
                early = done[~inside]
                hi = min(int((early.max() + 1) * hop + R), self.end)
                x = np.concatenate((tail, block[:, :hi - pos]), axis=1)
                values[~inside] = hop_true_peaks(x, start, early, hop, self.end, thr or None,
                                                 round32=True)
            with self._lock:
                self._found.append((done, values, thr))
                self.measured_hops += done.size
                self._table = None
        # the next block's candidates reach back one hop
        tail = block[:, -back:] if n >= back else \
            np.concatenate((tail, block), axis=1)[:, -back:]
        seen = np.concatenate((recent, done))
        with self._lock:
            self._lanes[end] = (np.array(tail), todo[~ready], seen[seen >= end // hop - 1])

    def _hop_peaks(self, pos: int, block: np.ndarray) -> np.ndarray:
        """The sample peaks of the block's part of hops ``pos // hop`` on."""
        hop = self.hop
        off = pos - (pos // hop) * hop
        mags = np.zeros(-(-(off + block.shape[1]) // hop) * hop, dtype=np.float32)
        mags[off:off + block.shape[1]] = np.abs(block).max(axis=0)
        return mags.reshape(-1, hop).max(axis=1)

    # ------------------------------------------------------------------ reading
    @property
    def complete(self) -> bool:
        return self.window.complete

    def true_peaks(self, hops, exact_above: float | None) -> tuple[np.ndarray, np.ndarray]:
        """The values measured during the pass for ``hops`` (ascending) that are good for a
        caller needing them exact above ``exact_above`` (None: exact everywhere): ``(values,
        ok)``, ``ok`` False where there is none (to be measured from samples)."""
        hops = np.asarray(hops, dtype=np.int64)
        if self._table is None:
            if self._found:
                h = np.concatenate([f[0] for f in self._found])
                v = np.concatenate([f[1] for f in self._found])
                t = np.concatenate([np.full(f[0].size, f[2]) for f in self._found])
                order = np.argsort(h, kind="stable")
                self._table = (h[order], v[order], t[order])
            else:
                self._table = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
        h, v, t = self._table
        i = np.minimum(np.searchsorted(h, hops), max(h.size - 1, 0))
        found = (h[i] == hops) if h.size else np.zeros(hops.size, bool)
        # a value exact above t is good for a caller needing exact above e when t <= e
        good = found & (t[i] <= (0.0 if exact_above is None else exact_above)) if h.size \
            else found
        return np.where(good, v[i] if h.size else 0.0, 0.0), good

    def holds(self, lo: int, hi: int) -> bool:
        """True when :meth:`read` can give frames ``[lo, hi)`` (inside the window)."""
        return self.window.holds(lo, hi)

    def read(self, lo: int, hi: int) -> np.ndarray:
        """The window's frames ``[lo, hi)`` (:meth:`RawCache.read`)."""
        return self.window.read(lo, hi)

    def blocks(self, lo: int | None = None, hi: int | None = None, **kw):
        """The window's blocks (:meth:`RawCache.blocks`)."""
        return self.window.blocks(lo, hi, **kw)

    def split(self, lanes: int = 2, lo: int | None = None, hi: int | None = None, **kw):
        """The window's blocks in stretches (:meth:`RawCache.split`)."""
        return self.window.split(lanes, lo, hi, **kw)

    def close(self) -> None:
        """Close and delete the scratch file (safe to call twice)."""
        self.window.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --------------------------------------------------------------------------- the stage cache
STAGE_FORMAT = 1  # bump when measuring or planning changes what a stage holds


def code_digest() -> str:
    """SHA-256 of the name, size and modification time of each of resonator's own files
    (:func:`tree_stamp` of the package: its Python modules and the compiled kernels): any
    edit, rebuild or reinstall of the code makes new keys."""
    global _CODE_DIGEST
    if _CODE_DIGEST is None:
        _CODE_DIGEST = tree_stamp(os.path.dirname(os.path.abspath(__file__)))
    return _CODE_DIGEST


def tree_stamp(root) -> str:
    """SHA-256 of the relative name, size and modification time (ns) of every ``.py`` and
    ``_kernels.*`` file under ``root`` (``__pycache__`` folders left out). Their stat costs
    about 0.7 ms for resonator's 140 modules; hashing the 1.5 MB of source, as the stage key
    did before, 5.5 ms of every render's start-up."""
    import hashlib

    found = []

    def visit(folder, rel):
        for e in os.scandir(folder):
            if e.is_dir(follow_symlinks=False):
                if e.name != "__pycache__":
                    visit(e.path, rel + e.name + "/")
            elif e.name.endswith(".py") or e.name.startswith("_kernels."):
                st = e.stat()
                found.append(f"{rel}{e.name} {st.st_size} {st.st_mtime_ns}")
    visit(os.fspath(root), "")
    return hashlib.sha256("\n".join(sorted(found)).encode()).hexdigest()


_CODE_DIGEST: str | None = None


def _input_files(session) -> list:
    """(path, size, modification time) of every file, and of the files in every folder, that a
    layer's parameters name (a music file, a playlist's folder) or a node holds as a path, so
    an edited music file makes a new key."""
    from pathlib import Path

    from .graph.core import walk

    paths = set()
    base = Path(session.recipe.path).parent

    def visit(value):  # strings and paths anywhere in a layer's parameters (playlists too)
        if isinstance(value, dict):
            for v in value.values():
                visit(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                visit(v)
        elif isinstance(value, (str, Path)) and str(value).strip() and len(str(value)) < 4096:
            path = Path(value)
            path = path if path.is_absolute() else base / path
            try:
                if path.exists():
                    paths.add(path)
            except OSError:
                pass
    for info in session.layers:
        visit(info.params)
    for node in walk(session.node):  # and paths the graph's nodes hold
        for value in vars(node).values():
            items = value if isinstance(value, (list, tuple)) else (value,)
            paths.update(v for v in items if isinstance(v, Path))
    out = []
    for path in sorted(paths):
        found = sorted(path.rglob("*"))[:10000] if path.is_dir() else [path]
        for f in found:
            try:
                st = f.stat()
                out.append([str(f), st.st_size, st.st_mtime_ns])
            except OSError:
                out.append([str(f), None, None])
    return out


def stage_key(session) -> str:
    """The cache key of a session's mastering stage: a digest of everything that shapes it
    (recipe text and the files it extends, rate, seed, loudness target and ceiling, the
    graph's fingerprint, the files its layers read, resonator's code and the versions of
    the libraries that shape the samples)."""
    from .cache import digest
    from .render import dependency_versions, graph_fingerprint

    r = session.recipe
    return digest({
        "stage": STAGE_FORMAT, "recipe": r.sha256(), "sr": int(session.sr),
        "seed": int(session.seed), "target_lufs": float(r.loudness_lufs),
        "ceiling_dbtp": float(r.true_peak_dbtp),
        "graph": graph_fingerprint(session.node, max_array_bytes=1 << 20),
        "files": _input_files(session), "code": code_digest(),
        "versions": dependency_versions(),
    })


def stage_to_dict(m: Mastering) -> dict:
    """A measured stage as plain JSON data (floats round-trip exactly)."""
    env = None
    if m._envelope is not None:
        c = m._envelope
        env = [[float(t), float(v), str(k)] for t, v, k in zip(c.t, c.v, c.kinds)]
    return {"gain_db": float(m.gain_db), "measured_lufs": float(m.measured_lufs),
            "measured_true_peak_dbtp": float(m.measured_true_peak_dbtp),
            "measured_range_lu": float(m.measured_range_lu),
            "target_lufs": float(m.target_lufs), "ceiling_dbtp": float(m.ceiling_dbtp),
            "limited_hops": int(m.limited_hops), "max_reduction_db": float(m.max_reduction_db),
            "envelope": env, "stand_in": bool(m.stand_in), "exact_lufs": float(m.exact_lufs)}


def stage_from_dict(d: dict, sr: int, channels: int) -> Mastering:
    """The stage :func:`stage_to_dict` wrote, with the same ``post`` bit for bit. Raises
    KeyError, TypeError or ValueError for anything malformed."""
    def num(key):
        v = d[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError(f"{key} is not a number")
        return float(v)

    gain_db = num("gain_db")
    if not math.isfinite(gain_db):
        raise ValueError("gain_db is not finite")
    env = d["envelope"]
    curve = None
    if env is not None:
        pts = [(float(t), float(v), str(s)) for t, v, s in env]
        if not pts or not all(math.isfinite(t) and 0.0 < v <= 1.0 for t, v, _ in pts):
            raise ValueError("malformed gain-reduction curve")
        curve = Curve(pts)
    limited = d["limited_hops"]
    if isinstance(limited, bool) or not isinstance(limited, int) or limited < 0:
        raise TypeError("limited_hops is not a count")
    if not isinstance(d["stand_in"], bool):
        raise TypeError("stand_in is not true or false")
    m = _stage(gain_db, num("measured_lufs"), num("measured_true_peak_dbtp"),
               num("measured_range_lu"), num("target_lufs"), num("ceiling_dbtp"), limited,
               num("max_reduction_db"), curve, sr, channels)
    m.stand_in, m.exact_lufs = d["stand_in"], num("exact_lufs")
    return m


def cached_stage(session, key: str | None = None) -> Mastering | None:
    """The session's measured mastering stage from the user cache (see
    :mod:`resonator.cache`), or None when there is none that checks out (missing, stale,
    edited or malformed entries are never used)."""
    from .cache import read_entry

    key = key or stage_key(session)
    payload = read_entry("mastering", key)
    if payload is None:
        return None
    try:
        return stage_from_dict(payload, session.sr, session.node.channels)
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def store_stage(session, m: Mastering, key: str | None = None):
    """Keep a measured stage in the user cache; returns the entry's path (None when caching
    is off). Raises OSError when the cache folder cannot be written."""
    from .cache import write_entry

    if m.estimated:
        raise ValueError("only a measured stage is cached")
    if m.span is not None:
        raise ValueError("a stage planned for a window only is not cached")
    return write_entry("mastering", key or stage_key(session), stage_to_dict(m))


def cached_loudness(session, key: str | None = None) -> StandInLoudness | None:
    """The loudness of the session's stand-ins from the user cache (stored by
    :func:`store_loudness` after a stand-in pass), or None."""
    from .cache import read_entry

    payload = read_entry("loudness", key or stage_key(session))
    if payload is None:
        return None
    try:
        return StandInLoudness.from_dict(payload)
    except (KeyError, TypeError, ValueError):
        return None


def store_loudness(session, m: Mastering, key: str | None = None):
    """Keep the stand-in loudness a measured stage's gain came from (a window's stage too:
    the next window or render of the session then skips the stand-in pass). Returns the
    entry's path (None when caching is off or the stage has no stand-ins). Raises OSError
    when the cache folder cannot be written."""
    from .cache import write_entry

    if not m.stand_in or m.estimated:
        return None
    return write_entry("loudness", key or stage_key(session),
                       StandInLoudness(m.measured_lufs, m.measured_range_lu).to_dict())


# --------------------------------------------------------------------------- first play
def estimate(session, *, renderer: Renderer | None = None, windows: int = 48,
             window_s: float = 0.4, settle_s: float = 0.1) -> Mastering:
    """A mastering stage from sparse windows of the session: for a first play that cannot
    wait for a whole-session pass.

    ``windows`` windows of ``window_s`` seconds are spread over the session (one in each of
    ``windows`` equal stretches, at a golden-ratio offset within it, so that no periodic
    swell is sampled at one phase only), each rendered after ``settle_s`` seconds of its own
    lead-in (enough for the noise filters to settle as far as loudness can tell), as
    estimate renders (``Renderer.blocks(..., estimate=True)``: a layer may play a cheap
    stand-in of the same loudness, as the music layer plays its music as it is, without
    Rubber Band's stretch or the binaural shift). Their 400 ms gating blocks are pooled and
    gated as BS.1770 gates a whole session. Over every
    shipped recipe the estimated loudness lies within 0.21 dB of the full measurement
    (mettannealing-music, with that stand-in: 0.07 dB;
    ``benchmarks/play_speed.py --estimate``; 96 windows: 0.06 dB at twice the cost, 32:
    0.38 dB; 32 windows of 1 s: 0.40 dB: many short windows follow slow swells better than a
    few long ones). The gain is the loudness gain, lowered where
    needed so that the true peaks seen in the windows stay under the ceiling; nothing is
    limited (``limited_hops`` 0, ``estimated`` True). Sessions shorter than the windows
    together are measured fully with :func:`master`.

    Parameters
    ----------
    session : Session
    renderer : Renderer, optional
        A prepared renderer of ``session.node`` to use (its state is left at the last
        window); default: a new one.
    windows : int > 0
    window_s, settle_s : float > 0
    """
    from .measure.loudness import LoudnessMeter, ScreenedTruePeak, gated_loudness

    r = session.recipe
    sr, ch = int(session.sr), int(session.node.channels)
    total = int(round(session.duration_s * sr))
    length, settle = int(round(window_s * sr)), int(round(settle_s * sr))
    if total <= 2 * windows * (length + settle):
        return master(session.node, session.duration_s, sr=sr, seed=session.seed,
                      target_lufs=r.loudness_lufs, ceiling_dbtp=r.true_peak_dbtp)
    if renderer is None:
        renderer = Renderer(session.node, sr=sr, seed=session.seed, block_frames=4096)
    golden = (math.sqrt(5.0) - 1.0) / 2.0
    span = (total - length) / windows
    B = renderer.ctx.block_frames
    powers, screen = [], ScreenedTruePeak(ch)
    for k in range(windows):
        # the lead-in starts on the engine's block grid: no frame is rendered for nothing
        a = ((int((k + (0.5 + k * golden) % 1.0) * span) - settle) // B) * B + settle
        a = min(max(a, 0), total - length)
        meter = LoudnessMeter(sr, ch, true_peak=False)
        for pos, block in renderer.blocks(max(0, a - settle), a + length, warmup_frames=0,
                                          estimate=True, sparse=True):
            if pos + block.shape[1] <= a:
                continue
            part = block[:, max(0, a - pos):]
            meter.update(part)
            screen.update(part)
        powers.append(meter.block_powers())
    measured = gated_loudness(np.concatenate(powers))
    gain_db = r.loudness_lufs - measured if math.isfinite(measured) else 0.0
    tp = screen.dbtp()
    room = r.true_peak_dbtp - TP_MARGIN_DB - tp
    gain_db = min(gain_db, room) if math.isfinite(room) else gain_db
    return _stage(gain_db, measured, tp, math.nan, r.loudness_lufs, r.true_peak_dbtp, 0, 0.0,
                  None, sr, ch, estimated=True)


class BackgroundMeasurement:
    """The exact stage of a session measured on a low-priority background thread.

    The measuring pass (two lanes, as a render measures) runs on graphs built for it, so the
    caller's graph stays free; the result is stored in the cache. Poll :meth:`done`, then
    :meth:`result` (None when it failed or was cancelled; :attr:`error` says why).
    """

    def __init__(self, session, key: str | None = None):
        self.session = session
        self.key = key
        self.error: str | None = None
        self._result: Mastering | None = None
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name="resonator-measure-bg",
                                        daemon=True)
        self._thread.start()

    def _run(self):
        from .recipe.session import build_session

        try:  # lower this thread's priority (Linux: per thread; the lanes inherit it)
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        except (AttributeError, OSError):
            pass
        s, r = self.session, self.session.recipe

        def progress(done, total):
            if self._cancel.is_set():
                raise _Cancelled()
        try:
            node = build_session(r, sr=s.sr, seed=s.seed).node
            from .recipe.render import balanced_split

            twin = build_session(r, sr=s.sr, seed=s.seed).node
            # (a window render may have measured the stand-ins' loudness already)
            m = master(node, s.duration_s, sr=s.sr, seed=s.seed, target_lufs=r.loudness_lufs,
                       ceiling_dbtp=r.true_peak_dbtp, progress=progress, twin=twin,
                       split_share=balanced_split(s), loudness=cached_loudness(s, self.key))
            try:
                store_stage(s, m, self.key)
                store_loudness(s, m, self.key)
            except OSError as exc:
                self.error = f"mastering cache not written: {exc}"
            self._result = m
        except _Cancelled:
            self.error = "cancelled"
        except Exception as exc:  # noqa: BLE001 - reported, the caller keeps its estimate
            self.error = f"{type(exc).__name__}: {exc}"

    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self) -> Mastering | None:
        return self._result if self.done() else None

    def wait(self, timeout: float | None = None) -> Mastering | None:
        self._thread.join(timeout)
        return self.result()

    def cancel(self) -> None:
        """Stop at the next block (the thread ends soon after; nothing is stored)."""
        self._cancel.set()


class _Cancelled(Exception):
    pass
