"""Music with a drum kit: detecting the kit, and the metrical level a listener taps along to.

The general level choice (:mod:`resonator.analysis.metre`) was built on scores: its features
and weights encode notation habits (a hornpipe's beat, alla breve, slow movements with an
eighth-note surface). Music with a drum kit follows other conventions: the tap-along beat is the
quarter note of a 4/4 groove at any tempo from 60 to 200 BPM, the kick and the snare alternate on
it, the hi-hats run at its subdivision. Where a kit is detected, the level is chosen by a model
of its own; everything else keeps the general model unchanged.

Detection (:func:`drum_kit`)
    A drum kit's cymbals, hi-hats and snares are noise above 3 kHz; pitched instruments put their
    treble energy into partials. The treble flatness (energy-weighted spectral flatness of the
    3-10 kHz band, :class:`~resonator.analysis.features.FeatureStream`) is 0.01-0.09 on the 73
    pieces of the score corpus (batches 1-3: piano, strings, winds, choir, organ, harpsichord,
    guitar, banjo, marimba...) and above ``DRUM_FLATNESS`` = 0.10 on 255 of the 274 development
    pieces of the music-with-drums corpus (those below: brushed or sparse kits under loud
    comping, mostly MMA's country, blues and swing grooves; they keep the general model). The
    treble must also hold :data:`~resonator.analysis.features.TREBLE_MIN_SHARE` (-27 dB) of the
    energy, else the flatness is None: the faint, smooth leakage of a pitched click is as flat as
    noise (that leaves 248 of 274).

Level model (:func:`level_features`, :func:`level_scores`)
    The candidates are the general model's (the comb peak at 1, 2, 1/2, 3, 1/3, 3/2, 2/3 of its
    tempo, each refined to its own comb peak) plus 4/3 and 3/4, so that a drum-and-bass break
    whose comb peaks at 4/3 of the half bar still offers the half bar. Each candidate ``c`` (beat
    period ``P``) is described by

    - the general model's six features (:data:`resonator.analysis.metre.FEATURES`: comb, prior,
      harmonic change, hemiola, evenness, subdivision; NaN counts as 0);
    - ``log2(c / prior_bpm)`` and its square (a tempo preference the fit shapes);
    - the autocorrelation of the all-band onset envelope and of the kick-band (< 120 Hz) onset
      envelope at ``q P / 4`` for ``q`` in :data:`LAGS_QUARTERS` (a quarter of a beat to four
      beats): the rhythm pattern seen from the candidate's beat. A kick that repeats every two
      or four beats and an onset stream that repeats every beat mark the tap-along level; the
      hi-hat's subdivisions show at ``P / 4`` and ``P / 2``;
    - the autocorrelation of the bass-band (< 300 Hz) onset envelope at ``q P / 4`` for ``q`` in
      :data:`LOW_LAGS_QUARTERS` (half a beat to four beats): the bass line's repetition at the
      candidate's half beat, beat, two beats and bar (seventh session: leave-one-source-out
      level accuracy 0.865 -> 0.876 on the development batches).

    The score is a linear function of these features (a conditional logit: the probability of a
    candidate is the softmax of the scores). The weights :data:`WEIGHTS` were fitted by
    ``benchmarks/analysis/fit_drum_levels.py`` on the development batches d1-d7 of
    ``benchmarks/analysis/drums_dataset.py`` only (L2 penalty 5 on standardised features), which
    re-fits them reproducibly and reports the leave-one-source-out accuracy.
"""
from __future__ import annotations

import numpy as np

from . import metre

DRUM_FLATNESS = 0.10
RATIOS = metre.RATIOS + (4.0 / 3.0, 3.0 / 4.0)
LAGS_QUARTERS = (1, 2, 3, 4, 6, 8, 12, 16)
LOW_LAGS_QUARTERS = (2, 4, 8, 16)
FEATURES = (metre.FEATURES + ("log2_tempo", "log2_tempo_sq")
            + tuple(f"acf_all_{q}" for q in LAGS_QUARTERS)
            + tuple(f"acf_kick_{q}" for q in LAGS_QUARTERS)
            + tuple(f"acf_low_{q}" for q in LOW_LAGS_QUARTERS))

# BEGIN fitted by benchmarks/analysis/fit_drum_levels.py --write (do not edit by hand)
WEIGHTS = {
    "comb": 0.260496,
    "prior": 1.70277,
    "harm_on": 0.553042,
    "hemiola": 0.179407,
    "even": 0.175914,
    "subdiv": 0.378048,
    "log2_tempo": 0.126648,
    "log2_tempo_sq": -0.851387,
    "acf_all_1": 0.79182,
    "acf_all_2": 1.07016,
    "acf_all_3": -0.489947,
    "acf_all_4": 1.05791,
    "acf_all_6": 0.591202,
    "acf_all_8": 0.359771,
    "acf_all_12": 2.16157,
    "acf_all_16": 0.688621,
    "acf_kick_1": -1.5511,
    "acf_kick_2": -0.0985708,
    "acf_kick_3": 0.724064,
    "acf_kick_4": -1.35737,
    "acf_kick_6": -0.343114,
    "acf_kick_8": 3.10854,
    "acf_kick_12": 1.22002,
    "acf_kick_16": 3.2287,
    "acf_low_2": -0.830113,
    "acf_low_4": 2.96173,
    "acf_low_8": 0.994335,
    "acf_low_16": 3.99549,
}
# END fitted


def drum_kit(treble_flatness: float | None) -> bool:
    """Whether the music has a drum kit: noise-like treble (:data:`DRUM_FLATNESS`).

    Parameters
    ----------
    treble_flatness : number in [0, 1] or None
        :attr:`resonator.analysis.features.Features.treble_flatness` (None: no treble at all).

    Returns
    -------
    bool
    """
    return treble_flatness is not None and float(treble_flatness) >= DRUM_FLATNESS


def _acf_at(acf: np.ndarray, lag: float) -> float:
    """Autocorrelation at a fractional lag in frames; 0 beyond the longest lag."""
    if lag > acf.size - 1:
        return 0.0
    i0 = int(np.floor(lag))
    fr = lag - i0
    return float(acf[i0] * (1 - fr) + acf[min(i0 + 1, acf.size - 1)] * fr)


def level_features(cands: np.ndarray, general: np.ndarray, acf: np.ndarray, kick_acf: np.ndarray,
                   low_acf: np.ndarray, fps: float, prior_bpm: float = 120.0) -> np.ndarray:
    """The drum model's features of each candidate tempo (see the module docstring).

    Parameters
    ----------
    cands : np.ndarray [shape=(k,)]
        Candidate tempi in BPM (:func:`resonator.analysis.metre.level_features` with
        ``ratios=RATIOS``).
    general : np.ndarray [shape=(k, 6)]
        Their general features (same call).
    acf, kick_acf, low_acf : np.ndarray [shape=(lags,)]
        Mean windowed autocorrelation of the all-band, the kick-band and the bass-band onset
        envelope (:func:`resonator.analysis.tempo.mean_autocorrelation`).
    fps : number > 0
        Frame rate of the envelopes in Hz.
    prior_bpm : number > 0
        The tempo preference's centre in BPM.

    Returns
    -------
    np.ndarray [shape=(k, len(FEATURES))]
        Finite values (NaN features count as 0).
    """
    c = np.asarray(cands, dtype=np.float64)
    rows = []
    for j, bpm in enumerate(c):
        period = 60.0 * fps / bpm
        lt = np.log2(bpm / prior_bpm)
        rows.append([*np.nan_to_num(np.asarray(general[j], dtype=np.float64)), lt, lt * lt]
                    + [_acf_at(acf, q * period / 4) for q in LAGS_QUARTERS]
                    + [_acf_at(kick_acf, q * period / 4) for q in LAGS_QUARTERS]
                    + [_acf_at(low_acf, q * period / 4) for q in LOW_LAGS_QUARTERS])
    return np.array(rows, dtype=np.float64).reshape(-1, len(FEATURES))


def level_scores(feats: np.ndarray, weights: dict | None = None) -> np.ndarray:
    """Score of each candidate: ``feats @ weights`` (larger is more likely the tap-along beat).

    Parameters
    ----------
    feats : np.ndarray [shape=(k, len(FEATURES))]
        :func:`level_features`.
    weights : dict, optional
        Feature name -> weight (default :data:`WEIGHTS`).
    """
    w = WEIGHTS if weights is None else weights
    return np.asarray(feats, dtype=np.float64) @ np.array([w[k] for k in FEATURES])


def level_probabilities(feats: np.ndarray, weights: dict | None = None) -> np.ndarray:
    """Probability of each candidate being the tap-along beat: ``softmax(level_scores)``
    (the conditional logit's own scale: no temperature).

    Returns
    -------
    np.ndarray [shape=(k,)]
        Non-negative, summing to 1 (empty for no candidates).
    """
    s = level_scores(feats, weights)
    if s.size == 0:
        return s
    p = np.exp(s - s.max())
    return p / p.sum()
