"""Metrical level of the beat: which of the related periodicities (T, 2T, T/2, 3T, T/3, 3T/2, 2T/3)
is the beat, decided on evidence from the music rather than a tempo prior alone.

The onset autocorrelation finds a pulse, but the same music is periodic at every metrical level
(sixteenths, beats, half bars, bars), and at 3/2 or 2/3 of the beat when the accompaniment groups
notes in twos or threes. For each candidate level (a tempo ``c``, refined to its own comb peak)
the tracker lays a beat grid at ``c`` and these features are measured:

``comb``
    log of the onset comb salience at ``c`` relative to the best anywhere (periodic evidence).
``prior``
    log of the log-normal tempo preference (centre ``PRIOR_BPM`` = 120 BPM, one octave: the
    preferred tempo of van Noorden and Moelants); a tie-breaker, not the decision.
``harm_on``
    harmonic change on the grid against half-way between grid points, log ratio. Chords change
    on beats and bar lines, rarely on off-beats: a level at 3/2 or 2/3 of the beat, or a grid on
    the off-beat, puts its points where chords do not change.
``hemiola``
    metre consistency (:func:`hemiola`): a bar is a whole number of beats, so a level whose
    strongest periodicity beyond itself is at 1.5 periods (a 3/4 bar seen by a grid at two
    beats) is not the beat.
``even``
    evenness of the grid's points (:func:`accent_features`): beats are comparably strong; a
    level where every other point (or two in three) is much weaker runs at the subdivision.
``subdiv``
    strength of the grid's subdivisions against its points (:func:`accent_features`): half-way
    points or thirds nearly as strong as the grid points mean the beat is faster than the grid.

``even`` and ``subdiv`` read one accent ratio from two sides: the points a faster level adds
against the points it shares with the slower one. Together they say: the beat is the level whose
points are comparably strong and whose subdivisions are clearly weaker (the tatum-per-beat
evidence), with the prior deciding only where the accents are ambiguous.

The score of a candidate is (:func:`level_scores`)::

    comb + prior + HARM_WEIGHT * min(harm_on, HARM_SAT)
         - HEMIOLA_WEIGHT * max(0, hemiola - HEMIOLA_FREE)
         - EVEN_WEIGHT * max(0, -even - EVEN_FREE)
         - SUBDIV_WEIGHT * max(0, subdiv + SUBDIV_FREE)

Harmonic change must sit on the grid, but beyond ``HARM_SAT`` more alignment earns nothing (a
grid at twice the beat also sits on every chord change). Without chroma (``hc`` None), or for
unpitched material (:func:`tonality` below ``TONAL_MIN``), the harmonic term is left out.
``HARM_WEIGHT`` and ``HARM_SAT`` were chosen earlier on the development split; the hemiola,
evenness and subdivision settings and the prior's centre (100 -> 120 BPM) on 2026-11-22
(``benchmarks/analysis/tune_levels.py``), ranked by development level accuracy, then the
synthetic known answers of ``benchmarks/analysis/synthetic.py`` (fast waltzes, 3/4 clicks,
slow movements with an eighth-note surface), then the development log-likelihood of the true
level. An earlier onset-density feature did not help and is not used.

The scores also give each level a probability (:func:`level_probabilities`, a softmax at a
temperature fitted on the benchmark pieces), and the report lists the runner-up levels
(:func:`level_alternatives`): where the notated level is a convention the audio cannot settle,
the second reading is named rather than hidden.
"""
from __future__ import annotations

import numpy as np

from ..measure._common import vertex_offset
from .framewise import FrameSignal, FrameStore, SpilledArray, amax, as_frames, head, smoothed

RATIOS = (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0, 1.5, 2.0 / 3.0)
FEATURES = ("comb", "prior", "harm_on", "hemiola", "even", "subdiv")
HARM_WEIGHT = 2.0
HARM_SAT = 0.2
HEMIOLA_WEIGHT = 2.0
HEMIOLA_FREE = 0.0
EVEN_WEIGHT = 2.0
EVEN_FREE = 0.8
SUBDIV_WEIGHT = 3.0
SUBDIV_FREE = 0.2
HC_HALF_S = 0.1
TONAL_MIN = 0.15
LEVEL_TEMPERATURE = 0.5
BLOCK_FRAMES = 8192  # chroma frames per block (3 min at 43 frames/s): memory independent of length


def tonality(chroma: np.ndarray) -> float:
    """Energy-weighted mean of 1 - spectral flatness of the chroma frames: about 0.03 for noise
    and drums, 0.28-0.6 for the pitched music of the benchmark set. Below :data:`TONAL_MIN` the
    harmonic-change evidence is not used. (Read in blocks of ``BLOCK_FRAMES`` frames.)"""
    c = as_frames(chroma)
    if c.size == 0:
        return 0.0
    eps = 1e-9 * max(amax(c), 1e-12)
    num = den = 0.0
    for i in range(0, c.shape[0], BLOCK_FRAMES):
        cb = c[i:i + BLOCK_FRAMES].astype(np.float64) + eps
        e = cb.sum(axis=1)
        flat = np.exp(np.log(cb).mean(axis=1)) / cb.mean(axis=1)
        num += float(np.sum(e * (1.0 - flat)))
        den += float(np.sum(e))
    return num / den


def harmonic_change(chroma: np.ndarray, cfps: float, half_s: float = HC_HALF_S) -> np.ndarray:
    """Harmonic change function: cosine distance between the mean chroma of the ``half_s``
    seconds before and after each frame (Harte et al. 2006, without the tonal-centroid step).

    Parameters
    ----------
    chroma : np.ndarray [shape=(n, 12)]
        Pitch-class magnitudes per frame.
    cfps : number > 0
        Chroma frame rate in Hz.

    Returns
    -------
    np.ndarray [shape=(n,)]
        0 (no change) to 1 (orthogonal pitch content); 0 near the ends and in silence.
        (:func:`harmonic_change_signal` gives the same values block by block.)
    """
    sig = harmonic_change_signal(chroma, cfps, half_s)
    return sig.compute(0, sig.n)


def harmonic_change_signal(chroma, cfps: float, half_s: float = HC_HALF_S) -> FrameSignal:
    """:func:`harmonic_change` as a :class:`~resonator.analysis.framewise.FrameSignal`: its
    values read on demand, bit for bit, holding no array of the chroma's length (a spilled
    chroma gives spilled intermediate values, :class:`~resonator.analysis.framewise.FrameStore`).

    The chroma is read ``BLOCK_FRAMES`` frames at a time (with ``w`` more on either side);
    each block's change and energy are kept, and scaled by the largest energy when read.
    """
    c = as_frames(chroma)
    n = c.shape[0]
    w = max(1, int(round(half_s * cfps)))
    top = amax(c) if n else 0.0
    if n < 2 * w + 1 or top <= 0:
        return FrameSignal(n, lambda a, b: np.zeros(b - a))
    spill = isinstance(c, SpilledArray)
    dist = FrameStore(n - 2 * w + 1, dtype=np.float64, spill=spill)
    near = FrameStore(n - 2 * w + 1, dtype=np.float64, spill=spill)  # min(|a|, |b|)
    top_m = 0.0
    # frames t = w .. n - w in blocks; each block reads its frames and w more on either side
    for t0 in range(w, n - w + 1, BLOCK_FRAMES):
        t1 = min(t0 + BLOCK_FRAMES, n - w + 1)
        lc = np.log1p(10.0 * c[t0 - w:t1 + w].astype(np.float64) / top)
        cs = np.concatenate((np.zeros((1, 12)), np.cumsum(lc, axis=0)))
        t = np.arange(w, w + t1 - t0)  # frames t0 .. t1 - 1 in the block's numbering
        a = cs[t] - cs[t - w]
        b = cs[t + w] - cs[t]
        na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
        ok = (na > 1e-9) & (nb > 1e-9)
        db = np.zeros(t.size)
        db[ok] = 1.0 - np.einsum("ij,ij->i", a[ok], b[ok]) / (na[ok] * nb[ok])
        mb = np.minimum(na, nb)
        dist.append(db)
        near.append(mb)
        top_m = max(top_m, float(mb.max()))
    top_m = max(top_m, 1e-12)
    dist, near = dist.array(), near.array()

    def compute(a, b):
        # energy-weighted: a change into or out of near-silence counts less than one between
        # chords
        out = np.zeros(b - a)
        i0, i1 = max(a, w), min(b, n - w + 1)
        if i1 > i0:
            mm = near[i0 - w:i1 - w] / top_m
            np.sqrt(mm, out=mm)
            out[i0 - a:i1 - a] = dist[i0 - w:i1 - w] * mm
        return out

    return FrameSignal(n, compute)


def _sample(x, rate: float, times_s: np.ndarray, radius: int = 1) -> np.ndarray:
    """Largest value of ``x`` (an array or a :class:`~resonator.analysis.framewise.FrameSignal`)
    within ``radius`` frames of each time (frames beyond the ends count as the end frame)."""
    n = x.n if isinstance(x, FrameSignal) else x.size
    if n == 0 or times_s.size == 0:
        return np.zeros(times_s.size)
    idx = np.clip(np.round(times_s * rate).astype(int), 0, n - 1)
    if isinstance(x, FrameSignal):  # (frames beyond the ends: the end frame is in the window)
        return x.windows(idx, radius, radius).max(axis=1)
    near = np.clip(idx[:, None] + np.arange(-radius, radius + 1)[None, :], 0, n - 1)
    return x[near].max(axis=1)


def refine_peak(sal: np.ndarray, bpms: np.ndarray, bpm: float, width: float = 0.03) -> tuple[float, float]:
    """Largest salience within ``width`` (relative) of ``bpm``, parabolically refined.

    Returns (bpm, salience)."""
    sel = np.flatnonzero(np.abs(np.log(bpms / bpm)) < width)
    if sel.size == 0:
        return float(bpm), 0.0
    i = int(sel[np.argmax(sal[sel])])
    y1 = sal[i]
    if 0 < i < sal.size - 1:
        d = vertex_offset(sal[i - 1], y1, sal[i + 1])
        step = bpms[i + 1] / bpms[i]
        return float(bpms[i] * step ** d), float(y1)
    return float(bpms[i]), float(y1)


def _acf_at(acf: np.ndarray, lag: float) -> float:
    """Mean autocorrelation at a fractional lag in frames (NaN beyond the longest lag)."""
    if acf is None or lag > acf.size - 1:
        return np.nan
    i0 = int(np.floor(lag))
    fr = lag - i0
    return float(acf[i0] * (1 - fr) + acf[min(i0 + 1, acf.size - 1)] * fr)


def hemiola(acf: np.ndarray, fps: float, bpm: float) -> float:
    """Evidence that a beat at ``bpm`` does not divide the bar: ``A(1.5P) - max(A(P), A(2P))``.

    A bar is a whole number of beats. When the music is more periodic at one and a half beat
    periods ``P`` than at one or two, the bar is 1.5 candidate beats long: the candidate is the
    wrong level (84 BPM for a waltz at 168 BPM: its bar is three 168 BPM beats, 1.5 periods
    at 84 BPM). Multiples of 1.5P (3P) are left out: they are multiples of that bar too.

    Parameters
    ----------
    acf : np.ndarray [shape=(lags,)]
        Mean normalised autocorrelation of the onset envelope, lag j frames.
    fps : number > 0
        Frame rate in Hz.
    bpm : number > 0
        Candidate beat tempo.

    Returns
    -------
    float
        Positive when the 1.5-period lag dominates (inconsistent); 0 when a lag is out of range.
    """
    p = 60.0 * fps / bpm
    half = _acf_at(acf, 1.5 * p)
    whole = np.nanmax([_acf_at(acf, p), _acf_at(acf, 2 * p), -np.inf])
    if not np.isfinite(half) or not np.isfinite(whole):
        return 0.0
    return float(half - whole)


def accent_features(strength: np.ndarray, fps: float, beats: np.ndarray) -> tuple[float, float]:
    """Evenness of a beat grid and the drop from its points to their subdivisions.

    Parameters
    ----------
    strength : np.ndarray [shape=(n,)] or FrameSignal
        Non-negative accent strength (onset envelope) at ``fps`` (:func:`accent_strength`).
    beats : np.ndarray [shape=(k,)]
        The candidate's beat times in seconds.

    Returns
    -------
    even : float
        log of (mean of the weaker phases / mean of the strongest phase) when the grid points
        are grouped in twos and in threes, the smaller of the two: near 0 when the points are
        comparably strong (beats), strongly negative when every other point is weak (the grid
        runs at the level of the off-beats). NaN for fewer than 8 beats.
    subdiv : float
        log of (mean strength half-way between grid points, or at the thirds, whichever is
        larger / mean strength on the grid): near 0 when the subdivisions are as strong as the
        grid (the grid is slower than the beat), strongly negative below the beat level.
    """
    if beats.size < 8:
        return np.nan, np.nan
    g = _sample(strength, fps, beats, radius=2)
    d = np.diff(beats)
    mids = _sample(strength, fps, beats[:-1] + 0.5 * d, radius=2)
    thirds = np.concatenate([_sample(strength, fps, beats[:-1] + f * d, radius=2) for f in (1 / 3, 2 / 3)])
    ev = []
    for k in (2, 3):
        n = (g.size // k) * k
        ph = g[:n].reshape(-1, k).mean(axis=0)
        j = int(np.argmax(ph))
        ev.append(np.delete(ph, j).mean() / max(ph[j], 1e-9))
    even = float(np.log(min(ev) + 1e-3))
    gm = g.mean() + 1e-3
    subdiv = float(np.log(max(mids.mean(), thirds.mean()) + 1e-3) - np.log(gm))
    return even, subdiv


def accent_strength(onset: np.ndarray, onset_low: np.ndarray | None) -> FrameSignal:
    """All-band plus bass onset strength, each divided by its standard deviation, lightly
    smoothed, median removed and clipped at 0 (the tracker's local score without its floor),
    computed block by block when read (:class:`~resonator.analysis.framewise.FrameSignal`)."""
    from .beats import _scaled, _stdev

    o = as_frames(onset)
    low = None if onset_low is None else head(as_frames(onset_low), len(o))
    sd, sd_low = _stdev(o), (None if low is None else _stdev(low))

    def local(a, b):
        v = _scaled(o, sd, a, b)
        return v if low is None else v + _scaled(low, sd_low, a, b)

    s = smoothed(len(o), local)
    med = s.median()
    return FrameSignal(len(o), lambda a, b: np.maximum(s.compute(a, b) - med, 0.0))


def level_features(bpm: float, sal: np.ndarray, bpms: np.ndarray, onset: np.ndarray, fps: float,
                   onset_low: np.ndarray | None, hc: np.ndarray | None, cfps: float,
                   prior_bpm: float = 120.0, prior_octaves: float = 1.0,
                   acf: np.ndarray | None = None,
                   onset_kick: np.ndarray | None = None,
                   ratios: tuple = RATIOS) -> tuple[np.ndarray, np.ndarray]:
    """Candidate tempi related to ``bpm`` and their evidence (see the module docstring).

    Parameters
    ----------
    bpm : number > 0
        The strongest pulse found (a starting point; its level may be wrong).
    sal, bpms : np.ndarray [shape=(c,)]
        Comb salience (no prior) over the tempo grid ``bpms``.
    onset, onset_low : np.ndarray [shape=(n,)]
        All-band and bass onset strength at ``fps``.
    hc : np.ndarray [shape=(m,)], FrameSignal or None
        Harmonic change function at ``cfps`` (:func:`harmonic_change_signal`; None:
        ``harm_on`` is NaN).
    acf : np.ndarray [shape=(lags,)], optional
        Mean autocorrelation of ``onset`` (:func:`resonator.analysis.tempo.local_autocorrelation`
        averaged over windows) for ``hemiola``; None: ``hemiola`` is 0.
    onset_kick : np.ndarray [shape=(n,)], optional
        Kick-band onset strength: the phase of each candidate's beat grid
        (:func:`resonator.analysis.beats.track_beats`).
    ratios : tuple of number > 0
        The candidates' tempi relative to ``bpm`` (default :data:`RATIOS`).

    Returns
    -------
    cands : np.ndarray [shape=(k,)]
        Candidate tempi in BPM (the first is ``bpm``'s own peak).
    feats : np.ndarray [shape=(k, len(FEATURES))]
    """
    from .beats import track_beats

    smax = float(np.max(sal)) if sal.size else 0.0
    cands, rows = [], []
    o = as_frames(onset)
    strength = accent_strength(o, onset_low)
    for r in ratios:
        c0 = bpm * r
        if not (bpms[0] <= c0 <= bpms[-1]):
            continue
        c, s = refine_peak(sal, bpms, c0)
        if any(abs(c / x - 1) < 0.02 for x in cands):
            continue
        comb = np.log(max(s, 1e-3 * smax, 1e-9) / max(smax, 1e-9))
        prior = -0.5 * (np.log2(c / prior_bpm) / prior_octaves) ** 2
        harm_on = np.nan
        beats = track_beats(o, fps, c, onset_low=onset_low, onset_kick=onset_kick, snap_s=0.0)
        if hc is not None and hc.size:
            harm_on = 0.0
            if beats.size >= 4:
                mids = 0.5 * (beats[:-1] + beats[1:])
                hb, hm = _sample(hc, cfps, beats[:-1]), _sample(hc, cfps, mids)
                harm_on = float(np.log((hb.mean() + 1e-3) / (hm.mean() + 1e-3)))
        hem = hemiola(acf, fps, c) if acf is not None else 0.0
        even, subdiv = accent_features(strength, fps, beats)
        cands.append(c)
        rows.append([comb, prior, harm_on, hem, even, subdiv])
    return np.array(cands), np.array(rows, dtype=np.float64).reshape(-1, len(FEATURES))


def level_scores(feats: np.ndarray, prior_weight: float = 1.0, harm_weight: float = HARM_WEIGHT,
                 harm_sat: float = HARM_SAT, hemiola_weight: float = HEMIOLA_WEIGHT,
                 hemiola_free: float = HEMIOLA_FREE, even_weight: float = EVEN_WEIGHT,
                 even_free: float = EVEN_FREE, subdiv_weight: float = SUBDIV_WEIGHT,
                 subdiv_free: float = SUBDIV_FREE) -> np.ndarray:
    """Score of each candidate (larger is better)::

        comb + prior_weight * prior + harm_weight * min(harm_on, harm_sat)
             - hemiola_weight * max(0, hemiola - hemiola_free)
             - even_weight * max(0, -even - even_free)
             - subdiv_weight * max(0, subdiv + subdiv_free)

    The harmonic term is left out when ``harm_on`` is NaN; a NaN ``even`` or ``subdiv`` (too
    few beats) costs nothing. Feature columns follow :data:`FEATURES` (a three-column array of
    the older ``comb, prior, harm_on`` features is accepted and scored without the new terms).
    """
    f = np.asarray(feats, dtype=np.float64)
    h = np.minimum(f[:, 2], harm_sat)
    out = f[:, 0] + prior_weight * f[:, 1] + np.where(np.isfinite(h), harm_weight * h, 0.0)
    if f.shape[1] >= 6:
        out = out - hemiola_weight * np.maximum(0.0, np.nan_to_num(f[:, 3]) - hemiola_free)
        out = out - even_weight * np.maximum(0.0, np.nan_to_num(-f[:, 4] - even_free))
        out = out - subdiv_weight * np.maximum(0.0, np.nan_to_num(f[:, 5] + subdiv_free))
    return out


def level_probabilities(feats: np.ndarray, temperature: float = LEVEL_TEMPERATURE, **kw) -> np.ndarray:
    """How likely each candidate is the notated beat: ``softmax(level_scores / temperature)``.

    The metrical level is often a matter of notation (an Adagio at 44 BPM with a sixteenth-note
    surface and an Allegro at 88 with eighths sound alike), so the report names the runner-up
    levels with these probabilities instead of hiding them. ``LEVEL_TEMPERATURE`` = 0.5 is the
    rounded maximum-likelihood temperature on the 73 rendered pieces of benchmark batches 1-3
    (0.46; ``benchmarks/analysis/tune_levels.py --calibrate``).

    Parameters
    ----------
    feats : np.ndarray [shape=(k, len(FEATURES))]
        Candidate features from :func:`level_features`.
    temperature : number > 0
        Softmax temperature; smaller is more confident.
    **kw
        Passed to :func:`level_scores`.

    Returns
    -------
    np.ndarray [shape=(k,)]
        Non-negative, summing to 1 (empty for no candidates).
    """
    s = level_scores(feats, **kw)
    if s.size == 0:
        return s
    z = (s - s.max()) / float(temperature)
    p = np.exp(z)
    return p / p.sum()


def choose_level(cands: np.ndarray, feats: np.ndarray, **kw) -> int:
    """Index of the candidate with the largest :func:`level_scores`."""
    return int(np.argmax(level_scores(feats, **kw)))


def level_alternatives(cands: np.ndarray, probabilities: np.ndarray, chosen: int, bpm: float, *,
                       min_probability: float = 0.05, limit: int = 3) -> list[dict]:
    """The runner-up metrical levels as report entries, most likely first.

    Parameters
    ----------
    cands : np.ndarray [shape=(k,)]
        Candidate tempi in BPM (:func:`level_features`).
    probabilities : np.ndarray [shape=(k,)]
        :func:`level_probabilities` of the candidates.
    chosen : int
        Index of the reported level.
    bpm : number > 0
        The reported tempo (after refinement from the beats); alternatives are scaled with it.
    min_probability : number in [0, 1]
        Leave out levels less likely than this.
    limit : int >= 0
        At most this many entries.

    Returns
    -------
    list of dict
        ``{"bpm", "ratio", "probability"}``: ``ratio`` is the alternative's tempo over the
        reported one as a simple fraction (0.5 = half time, 3.0 = the triplet subdivision,
        0.667 = two beats of the alternative per three reported), ``bpm`` = ``ratio * bpm``.
    """
    from fractions import Fraction

    out = []
    for j in np.argsort(-np.asarray(probabilities)):
        j = int(j)
        if j == chosen or probabilities[j] < min_probability or len(out) >= limit:
            continue
        ratio = float(Fraction(float(cands[j] / cands[chosen])).limit_denominator(6))
        out.append({"bpm": round(ratio * float(bpm), 2), "ratio": round(ratio, 3),
                    "probability": round(float(probabilities[j]), 3)})
    return out
