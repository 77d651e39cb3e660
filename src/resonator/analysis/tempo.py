"""Tempo from an onset-strength envelope: windowed autocorrelation, comb salience, prior, curve.

Method
------
1. The onset envelope is cut into 12 s windows every 1 s; each window's mean is removed and its
   autocorrelation (lags up to 6 s) is normalised by its value at lag 0 (a local tempogram).
   The windows are computed ``ACF_BLOCK`` at a time: once for their mean (steps 2 and 4), and
   again, once the tempo is chosen, for each window's local tempo and the pulse clarity (step
   3), so no windows-by-lags matrix grows with the duration.
2. The salience of a tempo T (period P = 60/T s) is a comb over the windows' mean
   autocorrelation, read by linear interpolation at fractional lags (no hop quantisation):
   ``A(P) + A(2P)/2 + A(3P)/3``, weighted by a log-normal prior centred on
   ``prior_bpm`` (120 BPM by default, one octave wide). The tempo grid is 40-240 BPM in steps of 0.1 %.
3. Each window's local tempo is the salience peak within a factor 1.3 of the global tempo;
   their median-smoothed sequence is the tempo curve, reported when it moves.

4. The metrical level (T, 2T, T/2, 3T, T/3, 3T/2, 2T/3 of the comb peak) is then chosen on
   evidence: harmonic change on each candidate's beat grid, metre consistency (hemiola), the
   evenness of the grid's accents and the strength of its subdivisions
   (:mod:`resonator.analysis.metre`); ``levels=False`` keeps the comb-and-prior peak. Music
   with a drum kit (``drum_kit=True``) has a level model of its own, fitted to the tap-along
   beat (:mod:`resonator.analysis.drums`: 4T/3 and 3T/4 are candidates too, and the rhythm
   pattern of the all-band and kick onsets is read at fractions and multiples of each
   candidate's period).
5. Significance: the comb salience at the reported tempo is divided by its standard error
   under "no periodicity" (Bartlett's formula for an autocorrelation at long lags, with the
   envelope's own short-lag correlation, a Hann taper and the windows' overlap;
   :func:`pulse_significance`). Below ``PULSE_Z`` (``PULSE_Z_SHORT`` for inputs shorter than two
   windows) the pulse is not told apart from noise: the tempo is still the best guess, but
   ``significant`` is False and the confidence 0. The tempo's comb salience must also stand
   out of the whole tempogram (:func:`pulse_contrast` >= ``PULSE_CONTRAST``): a slowly
   changing mix of drones and noise lifts the salience at every tempo alike, and its largest
   value then passes the z test (a sleep-descent render had z 4.1 at "120 BPM").

The final BPM of a steady piece is refined again from the tracked beats
(:func:`resonator.analysis.beats.track_beats`).
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from ..measure._common import vertex_offset

WIN_S = 12.0
HOP_S = 1.0
MAX_LAG_S = 6.0
BPM_MIN, BPM_MAX = 40.0, 240.0
PRIOR_BPM = 120.0
PRIOR_OCTAVES = 1.0
AGREE = 0.04
PULSE_Z = 4.0
PULSE_Z_SHORT = 5.0
SHORT_LAG_S = 0.15
#: the tempo's raw comb salience over the tempogram's median, in robust standard deviations
#: (1.4826 x the median absolute deviation), that a beat needs: pulse-free sounds measured
#: 2.7-3.0 (white and brown noise, a gliding binaural pair, a sleep-descent render), the
#: significant development pieces of both corpora 4.2 and more (benchmarks/analysis/README.md)
PULSE_CONTRAST = 3.5
HANN_VARIANCE = 35.0 / 18.0


def bpm_grid(bpm_min: float = BPM_MIN, bpm_max: float = BPM_MAX, step: float = 0.001) -> np.ndarray:
    """Log-spaced tempo grid in BPM, ``step`` relative spacing."""
    n = int(np.ceil(np.log(bpm_max / bpm_min) / np.log1p(step))) + 1
    return bpm_min * (1.0 + step) ** np.arange(n)


ACF_BLOCK = 32


def local_autocorrelation_blocks(onset: np.ndarray, fps: float, *, win_s: float = WIN_S,
                                 hop_s: float = HOP_S, max_lag_s: float = MAX_LAG_S,
                                 block: int | None = None):
    """:func:`local_autocorrelation` a few windows at a time: memory that does not grow with
    the input's length (an hour holds 3600 windows of 1035 lags: 30 MB as one float64 matrix).

    Parameters
    ----------
    onset, fps, win_s, hop_s, max_lag_s
        As for :func:`local_autocorrelation`.
    block : int >= 1, optional
        Windows per yielded block (default :data:`ACF_BLOCK`).

    Yields
    ------
    times_s : np.ndarray [shape=(b,)]
        Centre times of the block's windows in seconds.
    acf : np.ndarray [shape=(b, lags)]
        Their normalised autocorrelations (float64), in window order; concatenated over the
        blocks they equal :func:`local_autocorrelation`'s matrix.
    """
    from .framewise import as_frames

    o = as_frames(onset)
    if not np.issubdtype(o.dtype, np.floating):
        o = np.asarray(o, dtype=np.float64)
    win = int(round(win_s * fps))
    hop = max(1, int(round(hop_s * fps)))
    if len(o) < win:
        win = max(len(o), 2)
        o = np.pad(np.asarray(o, dtype=np.float64), (0, win - len(o)))
    max_lag = min(int(round(max_lag_s * fps)), win - 1)
    starts = np.arange(0, len(o) - win + 1, hop)
    # lags up to max_lag only: win + max_lag points avoid circular wrap-around
    nfft = 1 << int(np.ceil(np.log2(win + max_lag + 1)))
    taper = np.hanning(win)
    block = max(1, int(ACF_BLOCK if block is None else block))
    for i in range(0, starts.size, block):
        # the frames the block's windows cover, read once (the envelope may be spilled)
        first, last = int(starts[i]), int(starts[min(i + block, starts.size) - 1])
        view = np.lib.stride_tricks.sliding_window_view(o[first:last + win], win)
        seg = view[starts[i:i + block] - first].astype(np.float64)  # (it may be float32)
        seg -= seg.mean(axis=1, keepdims=True)
        seg *= taper
        spec = np.fft.rfft(seg, n=nfft, axis=1)
        del seg
        ac = np.fft.irfft(spec.real ** 2 + spec.imag ** 2, n=nfft, axis=1)[:, : max_lag + 1]
        del spec
        z = ac[:, :1]
        yield (starts[i:i + block] + win / 2) / fps, np.divide(ac, z, out=np.zeros_like(ac),
                                                                 where=z > 1e-12)


def local_autocorrelation(onset: np.ndarray, fps: float, *, win_s: float = WIN_S,
                          hop_s: float = HOP_S, max_lag_s: float = MAX_LAG_S):
    """Normalised autocorrelation of the onset envelope in sliding windows.

    Parameters
    ----------
    onset : np.ndarray [shape=(n,)]
        Onset strength, ``fps`` frames per second.
    fps : number > 0
        Frame rate in Hz.
    win_s, hop_s, max_lag_s : number > 0
        Window length, window hop and longest lag in seconds. Inputs shorter than a window are
        analysed as one window.

    Returns
    -------
    times_s : np.ndarray [shape=(w,)]
        Centre time of each window in seconds.
    acf : np.ndarray [shape=(w, lags)]
        Autocorrelation per window, 1 at lag 0 (0 everywhere for a silent window); lag j frames.
        (:func:`estimate_tempo` reads it block by block, :func:`local_autocorrelation_blocks`,
        and never holds it whole.)
    """
    times, acf = zip(*local_autocorrelation_blocks(onset, fps, win_s=win_s, hop_s=hop_s,
                                                   max_lag_s=max_lag_s))
    return np.concatenate(times), np.concatenate(acf)


def mean_autocorrelation(onset: np.ndarray, fps: float) -> np.ndarray:
    """The windows' mean of :func:`local_autocorrelation` (read block by block: no matrix).

    Returns
    -------
    np.ndarray [shape=(lags,)]
    """
    total, count = 0.0, 0
    for _, ab in local_autocorrelation_blocks(onset, fps):
        total = total + ab.sum(axis=0)
        count += ab.shape[0]
    return total / max(count, 1)


def comb_salience(acf: np.ndarray, fps: float, bpms: np.ndarray, harmonics: int = 3) -> np.ndarray:
    """Comb salience ``sum_k A(k P) / k`` of tempo candidates, interpolated at fractional lags.

    Parameters
    ----------
    acf : np.ndarray [shape=(lags,) or (w, lags)]
        Autocorrelation(s), lag j frames.
    fps : number > 0
        Frame rate in Hz.
    bpms : np.ndarray [shape=(c,)]
        Candidate tempi in BPM.
    harmonics : int >= 1
        Number of comb teeth; teeth beyond the longest lag count as 0.

    Returns
    -------
    salience : np.ndarray [shape=(c,) or (w, c)]
    """
    a = np.atleast_2d(acf)
    lags = np.arange(a.shape[1], dtype=np.float64)
    period = 60.0 * fps / np.asarray(bpms, dtype=np.float64)
    sal = np.zeros((a.shape[0], period.size))
    for k in range(1, harmonics + 1):
        pos = k * period
        ok = pos <= lags[-1]
        i0 = np.floor(pos[ok]).astype(int)
        fr = pos[ok] - i0
        i1 = np.minimum(i0 + 1, lags.size - 1)
        sal[:, ok] += (a[:, i0] * (1 - fr) + a[:, i1] * fr) / k
    return sal[0] if np.ndim(acf) == 1 else sal


def tempo_prior(bpms: np.ndarray, prior_bpm: float = PRIOR_BPM,
                octaves: float = PRIOR_OCTAVES) -> np.ndarray:
    """Log-normal tempo prior, 1 at ``prior_bpm``, standard deviation ``octaves`` octaves."""
    return np.exp(-0.5 * (np.log2(np.asarray(bpms) / prior_bpm) / octaves) ** 2)


def pulse_significance(salience: float, short_rho2: float, n_frames: int, fps: float, *,
                       win_s: float = WIN_S, harmonics: int = 3) -> float:
    """How many standard errors a comb salience stands above what a pulse-free envelope gives.

    Under the null hypothesis of no periodicity, a normalised autocorrelation at a lag beyond
    the envelope's own correlation has mean 0 and variance ``(1 + 2 sum_k rho_k^2) / N`` over N
    frames (Bartlett), times ``35/18`` for a Hann taper. Averaged over windows of ``win_s`` that
    overlap, about ``n / win`` of them are independent. The comb adds ``harmonics`` teeth with
    weights ``1/k``, so its variance is that of one lag times ``sum 1/k^2``.

    Parameters
    ----------
    salience : number
        Comb salience (no prior) of the mean windowed autocorrelation at the tempo tested.
    short_rho2 : number >= 0
        Mean over the windows of ``sum rho_k^2`` over lags up to ``SHORT_LAG_S`` (the envelope's
        own correlation: onset peaks are a few frames wide).
    n_frames : int > 0
        Length of the onset envelope in frames.
    fps : number > 0
        Frame rate in Hz.

    Returns
    -------
    float
        ``salience / standard error`` (a z-score). The tempo chosen is the best of many, and
        sparse or heavy-tailed envelopes spread more than Bartlett assumes, so the thresholds
        are set on measurement (``benchmarks/analysis/pulse_null.py``, 240 signals: white, pink
        and brown noise, random clicks, rain-like noise, noisy drones of 6-90 s): the largest
        null value was 3.49 from 24 s on (``PULSE_Z`` = 4) and 4.54 below (``PULSE_Z_SHORT`` =
        5). The 138 rendered corpus pieces score 2.0-90 (median 29).
    """
    win = min(int(round(win_s * fps)), max(int(n_frames), 2))
    var = HANN_VARIANCE * (1.0 + 2.0 * float(short_rho2)) / win
    var *= sum(1.0 / k ** 2 for k in range(1, harmonics + 1))
    var /= max(1.0, n_frames / win)
    return float(salience / np.sqrt(var)) if var > 0 else 0.0


def pulse_contrast(raw: np.ndarray, salience: float) -> float:
    """How far a tempo's comb salience stands out of the whole tempogram.

    Parameters
    ----------
    raw : np.ndarray [shape=(k,)]
        Comb salience (no prior) over the tempo grid (:func:`bpm_grid`).
    salience : number
        Comb salience at the tempo.

    Returns
    -------
    float
        ``(salience - median(raw)) / (1.4826 MAD(raw))`` (1e6 when the tempogram is flat
        under a higher salience: finite for JSON); a beat needs ``PULSE_CONTRAST``.
    """
    med = float(np.median(raw))
    spread = 1.4826 * float(np.median(np.abs(raw - med)))
    if spread > 0:
        return float((salience - med) / spread)
    return 1e6 if salience > med else 0.0


def estimate_tempo(onset: np.ndarray, fps: float, *, prior_bpm: float = PRIOR_BPM,
                   prior_octaves: float = PRIOR_OCTAVES, onset_low: np.ndarray | None = None,
                   onset_kick: np.ndarray | None = None,
                   chroma: np.ndarray | None = None, chroma_fps: float | None = None,
                   levels: bool = True, drum_kit: bool = False, keep_acf: bool = False) -> dict:
    """Global tempo, its confidence, the pulse clarity and the local tempo curve.

    Parameters
    ----------
    onset : np.ndarray [shape=(n,)]
        Onset strength envelope at ``fps`` frames per second (at least about 2 s).
    fps : number > 0
        Frame rate in Hz.
    prior_bpm : number in [40, 240]
        Centre of the log-normal tempo prior in BPM (chooses among metrical levels).
    prior_octaves : number > 0
        Width (standard deviation) of the prior in octaves.
    onset_low : np.ndarray [shape=(n,)], optional
        Bass onset strength (metrical-level evidence and candidate beat grids).
    onset_kick : np.ndarray [shape=(n,)], optional
        Kick-band onset strength (the phase of the candidate beat grids).
    chroma : np.ndarray [shape=(m, 12)], optional
        Chroma at ``chroma_fps`` frames per second (harmonic-change evidence).
    levels : bool
        Choose the metrical level on evidence (:mod:`resonator.analysis.metre`); False keeps the
        comb-and-prior peak.
    drum_kit : bool
        The music has a drum kit (:func:`resonator.analysis.drums.drum_kit`): choose the level
        with the drum model (:mod:`resonator.analysis.drums`; needs ``onset_kick``, else the
        general model is used).
    keep_acf : bool
        Also return the per-window autocorrelation matrix as ``_acf`` (for plots; it grows with
        the input: 8.3 kB per second). Otherwise ``_acf`` is None and the windows are read in
        blocks twice (for the mean, then for the local tempi): memory that does not grow with
        the duration beyond one value per window.

    Returns
    -------
    dict
        ``bpm`` (float; None when the signal has no pulse), ``confidence`` (0-1: share of 12 s
        windows whose local tempo is within 4 % of ``bpm``; 0 when the pulse is not
        significant), ``pulse_z`` (:func:`pulse_significance` at ``bpm``),
        ``pulse_contrast`` (:func:`pulse_contrast` at ``bpm``), ``significant``
        (``pulse_z`` >= ``PULSE_Z``, or ``PULSE_Z_SHORT`` below two windows, and
        ``pulse_contrast`` >= ``PULSE_CONTRAST``),
        ``pulse_clarity`` (0-1: mean normalised autocorrelation of the onset envelope at the
        beat period), ``curve`` (None when steady, else ``{"times_s": [...], "bpm": [...]}``
        one point per second), and the private arrays ``_times_s``, ``_local_bpm``, ``_acf``
        (None unless ``keep_acf``) used by the plots and the tracker.
    """
    times, kept, total, count, rho2 = [], [], 0.0, 0, 0.0
    short = max(1, int(round(SHORT_LAG_S * fps)))
    for tb, ab in local_autocorrelation_blocks(onset, fps):
        times.append(tb)
        total = total + ab.sum(axis=0)
        count += ab.shape[0]
        rho2 += float(np.sum(ab[:, 1:short + 1] ** 2))
        if keep_acf:
            kept.append(ab)
    times = np.concatenate(times)
    acf = np.concatenate(kept) if keep_acf else None
    del kept
    mean_acf = total / count
    bpms = bpm_grid()
    raw = comb_salience(mean_acf, fps, bpms)
    sal = raw * tempo_prior(bpms, prior_bpm, prior_octaves)
    if not np.any(sal > 0):
        return {"bpm": None, "confidence": 0.0, "pulse_clarity": 0.0, "curve": None,
                "pulse_z": 0.0, "pulse_contrast": 0.0, "significant": False,
                "_times_s": times, "_local_bpm": np.full(times.size, np.nan), "_acf": acf,
                "_levels": None}
    i = int(np.argmax(sal))
    # parabolic refinement on the log-tempo grid
    if 0 < i < sal.size - 1:
        d = vertex_offset(sal[i - 1], sal[i], sal[i + 1])
        bpm = float(bpms[i] * (1.001 ** d))
    else:
        bpm = float(bpms[i])
    lv = None
    if levels:
        from . import drums, metre

        hc = None
        if chroma is not None and chroma_fps and metre.tonality(chroma) >= metre.TONAL_MIN:
            hc = metre.harmonic_change_signal(chroma, chroma_fps)
        kit = bool(drum_kit) and onset_kick is not None
        cands, feats = metre.level_features(bpm, raw, bpms, onset, fps, onset_low, hc,
                                            chroma_fps or 1.0, prior_bpm, prior_octaves,
                                            acf=mean_acf, onset_kick=onset_kick,
                                            ratios=drums.RATIOS if kit else metre.RATIOS)
        if cands.size:
            if kit:
                kick_acf = mean_autocorrelation(onset_kick, fps)
                low_acf = (mean_autocorrelation(onset_low, fps) if onset_low is not None
                           else np.zeros_like(kick_acf))
                feats = drums.level_features(cands, feats, mean_acf, kick_acf, low_acf, fps, prior_bpm)
                prob = drums.level_probabilities(feats)
            else:
                prob = metre.level_probabilities(feats)
            k = int(np.argmax(prob))
            bpm = float(cands[k])
            lv = {"candidates_bpm": cands, "features": feats, "chosen": k, "probabilities": prob,
                  "model": "drum kit" if kit else "general"}
    lag = 60.0 * fps / bpm
    j0 = int(np.floor(lag))
    fr = lag - j0
    local, clar = [], []
    # second pass over the windows (or the kept matrix): each window's tempo and its
    # autocorrelation at the beat period
    for ab in [acf] if acf is not None else (ab for _, ab in local_autocorrelation_blocks(onset, fps)):
        local.append(local_tempi(ab, fps, bpm))
        clar.append(ab[:, j0] * (1 - fr) + ab[:, min(j0 + 1, ab.shape[1] - 1)] * fr)
    local, clar = np.concatenate(local), np.concatenate(clar)
    agree = np.abs(local / bpm - 1.0) <= AGREE
    curve = tempo_curve(times, local, bpm)
    from .framewise import as_frames

    n = len(as_frames(onset))
    at_bpm = float(comb_salience(mean_acf, fps, np.array([bpm]))[0])
    z = pulse_significance(at_bpm, rho2 / count, n, fps)
    contrast = pulse_contrast(raw, at_bpm)
    significant = z >= (PULSE_Z if n >= 2 * WIN_S * fps else PULSE_Z_SHORT) and \
        contrast >= PULSE_CONTRAST
    return {
        "bpm": bpm,
        "confidence": float(np.mean(agree)) if significant else 0.0,
        "pulse_z": z,
        "pulse_contrast": contrast,
        "significant": bool(significant),
        "pulse_clarity": float(np.clip(np.mean(clar), 0.0, 1.0)),
        "curve": curve,
        "_times_s": times,
        "_local_bpm": local,
        "_acf": acf,
        "_levels": lv,
    }


def local_tempi(acf: np.ndarray, fps: float, bpm: float, spread: float = 1.3) -> np.ndarray:
    """Each window's tempo: its comb-salience peak within a factor ``spread`` of ``bpm``."""
    bpms = bpm_grid(max(BPM_MIN / 2, bpm / spread), min(BPM_MAX * 2, bpm * spread))
    sal = comb_salience(acf, fps, bpms)
    local = bpms[np.argmax(sal, axis=1)]
    local[~np.any(sal > 0, axis=1)] = np.nan
    return local


def tempo_curve(times_s: np.ndarray, local_bpm: np.ndarray, bpm: float, *,
                min_change: float = 0.08) -> dict | None:
    """Median-smoothed local tempo, or None when it stays within ``min_change`` of ``bpm``.

    Parameters
    ----------
    times_s : np.ndarray [shape=(w,)]
        Window centres in seconds.
    local_bpm : np.ndarray [shape=(w,)]
        Local tempi in BPM (NaN for silent windows).
    bpm : number > 0
        Global tempo in BPM.
    min_change : number > 0
        Relative spread (max - min) / bpm of the smoothed curve that counts as a tempo change;
        at least a fifth of the windows must also lie more than 4 % away from ``bpm``.

    Returns
    -------
    dict or None
        ``{"times_s": [...], "bpm": [...]}`` rounded to 0.01 s and 0.01 BPM.
    """
    ok = np.isfinite(local_bpm)
    if ok.sum() < 5:
        return None
    sm = ndimage.median_filter(np.where(ok, local_bpm, bpm), size=5, mode="nearest")
    spread = (sm.max() - sm.min()) / bpm
    off = np.mean(np.abs(sm / bpm - 1.0) > AGREE)
    if spread < min_change or off < 0.2:
        return None
    return {"times_s": [round(float(t), 2) for t in times_s],
            "bpm": [round(float(b), 2) for b in sm]}
