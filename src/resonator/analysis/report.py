"""The whole analysis of one file or signal, as plain JSON-serialisable data.

Keys of the report (see also the README):

``path``, ``duration_s``, ``sample_rate_hz``, ``channels``,
``tempo`` {``bpm``, ``confidence``, ``pulse_z``, ``pulse_contrast``,
``significant``, ``curve``, ``level_probability``, ``alternatives``, ``level_model``}, ``beats`` (seconds), ``onset_rate_per_s``,
``drum_kit`` {``detected``, ``treble_flatness``} (noise-like treble: a drum kit, whose music gets
the drum model's metrical level, :mod:`resonator.analysis.drums`),
``pulse_clarity``, ``modulation`` {``bands``, ``peaks_hz``, ``peak_shares``,
``peak_floor_ratios``, ``peak_threshold``, ``depth``} (peaks only where they pass the floor test),
``breathing`` {``breaths_per_min``, ``cycle_s``, ``depth``, ``rise_share``, ``periodicity``,
``significant``} or None (the breath-like swell measured in the envelope),
``paced_breathing`` {``breaths_per_min``, ``beats_per_breath``, ``cycle_s``, ``inhale_beats``,
``exhale_beats``} or None (a pace suggested from the tempo),
``binaural`` {``beat_hz``, ``left_hz``, ``right_hz``, ``carrier_hz``,
``left_tones_hz``, ``right_tones_hz``}, ``loudness`` {``integrated_lufs``,
``loudness_range_lu``, ``true_peak_dbtp``}.
"""
from __future__ import annotations

import numpy as np
from scipy import signal

from .features import Features, features_from_file, features_from_signal


PEAK_MARGIN = 256  # frames read beyond each block's ends when finding the onset peaks (at least)


def onset_rate(onset: np.ndarray, fps: float) -> float:
    """Detected onsets per second (adaptive-threshold peak picking of the onset envelope).

    Parameters
    ----------
    onset : np.ndarray [shape=(n,)]
        Onset strength at ``fps`` frames per second.
    fps : number > 0
        Frame rate in Hz.

    Returns
    -------
    float
        Peaks that rise above the local (1 s) mean by half the envelope's standard deviation, at
        least 30 ms apart, divided by the duration in seconds.

    Notes
    -----
    Computed block by block (:mod:`resonator.analysis.framewise`): no array of the envelope's
    length beyond the envelope itself and the peaks. It equals the whole-array computation
    (``scipy.signal.find_peaks`` with ``distance``; ``scipy.ndimage.uniform_filter1d`` in
    ``"nearest"`` mode, whose running sum is carried from block to block), bit for bit, for a
    non-negative envelope (every onset strength is).
    """
    from scipy.signal._peak_finding import _select_by_peak_distance

    from .framewise import BLOCK, as_frames, smoothed

    x = as_frames(onset)
    n = len(x)
    if n < 3:
        return 0.0
    o = smoothed(n, lambda a, b: x[a:b].astype(np.float64))
    sd = o.std()
    if sd == 0:
        return 0.0
    # scipy's local maxima (flat tops at their middle), block by block with a margin
    peaks = []
    for a in range(0, n, BLOCK):
        b = min(a + BLOCK, n)
        margin = PEAK_MARGIN
        while True:
            a0, b0 = max(0, a - margin), min(n, b + margin)
            v = o.compute(a0, b0)
            # a flat top reaching past the margin: read more (its middle may be in the block);
            # a flat stretch of zeros (silence) is no peak of a non-negative envelope
            if not ((a0 > 0 and v[0] == v[1] != 0) or (b0 < n and v[-1] == v[-2] != 0)):
                break
            margin *= 2
        idx = signal.find_peaks(v)[0] + a0
        peaks.append(idx[(idx >= a) & (idx < b)])
    idx = np.concatenate(peaks)
    distance = max(1, int(0.03 * fps))
    if idx.size > 1 and distance > 1:
        idx = idx[_select_by_peak_distance(idx, o.take(idx), distance)]
    # the 1 s running mean at the peaks: uniform_filter1d(o, w, mode="nearest") is a running
    # sum over the edge-extended signal, divided by w (its additions, in its order)
    w = int(fps)
    h1 = w // 2
    h2 = w - h1 - 1
    first = o.compute(0, 1)[0]
    last = o.compute(n - 1, n)[0]

    def ext(i, j):  # frames i .. j - 1 of the signal extended by its end values
        v = np.empty(j - i)
        k0, k1 = max(i, 0), min(j, n)
        v[: max(0, min(j, 0) - i)] = first
        if k1 > k0:
            v[k0 - i:k1 - i] = o.compute(k0, k1)
        v[max(0, n - i):] = last
        return v

    total = 0.0
    for k in range(w):
        total += float(ext(k - h1, k - h1 + 1)[0])
    above = 0
    for a in range(0, n, BLOCK):
        b = min(a + BLOCK, n)
        # running[t] for t in [a, b): total after adding x[t + h2] - x[t - h1 - 1] for t >= 1
        t0 = max(a, 1)
        d = ext(t0 + h2, b + h2) - ext(t0 - h1 - 1, b - h1 - 1)
        run = np.cumsum(np.concatenate(([total], d)))
        run_ab = run if a == 0 else run[1:]
        total = float(run[-1])
        sel = idx[(idx >= a) & (idx < b)]
        if sel.size:
            thr = run_ab[sel - a] / w + 0.5 * sd
            above += int(np.count_nonzero(o.take(sel) > thr))
    return float(above / (n / fps))


def _analyze(feat: Features, *, prior_bpm: float | None = None, keep_acf: bool = False,
             release: bool = False):
    """The report and the internals for plots. ``keep_acf``: keep the per-window
    autocorrelations (plots). ``release``: drop the envelope and the chroma from ``feat`` once
    read (the caller owns ``feat`` and draws no plot), so the beat tracking, the stage holding
    the most, does not hold them too."""
    from .beats import adopt_timing, align_bass, bpm_from_beats, rise_starts, track_beats
    from .binaural import detect_binaural
    from .breathing import breath_modulation, breathing_pace
    from .drums import drum_kit
    from .modulation_report import modulation_report
    from .tempo import PRIOR_BPM, estimate_tempo

    if prior_bpm is not None and not 40.0 <= float(prior_bpm) <= 240.0:
        from ..errors import ResonatorError

        raise ResonatorError(f"{prior_bpm:g} is outside the allowed 40-240 BPM", "prior_bpm")
    rate = onset_rate(feat.onset, feat.fps)
    mod = modulation_report(feat.env, feat.env_sr)
    breath = breath_modulation(feat.env, feat.env_sr)
    if release:
        feat.env = np.zeros(0, dtype=feat.env.dtype)
    kit = drum_kit(feat.treble_flatness)
    t = estimate_tempo(feat.onset, feat.fps, prior_bpm=prior_bpm or PRIOR_BPM,
                       onset_low=feat.onset_low, onset_kick=feat.onset_kick, chroma=feat.chroma,
                       chroma_fps=feat.chroma_fps, drum_kit=kit,
                       keep_acf=keep_acf)
    if release:
        feat.chroma = None
    bpm = t["bpm"]
    beats = np.zeros(0)
    if bpm is not None:
        onset = feat.onset  # float32: the tracker reads it block by block
        low = feat.onset_low  # a swelling bass (bowed, blown, organ) would pull every beat late
        if low is not None and low.size:
            low = align_bass(onset, low, feat.fps)
        tempo = bpm if t["curve"] is None else t["curve"]
        beats = track_beats(onset, feat.fps, tempo, onset_low=low, onset_kick=feat.onset_kick)
        # the bass fixes the phase; the timing comes from the all-band onsets and their rise
        beats = adopt_timing(beats, track_beats(onset, feat.fps, tempo))
        beats = rise_starts(onset, feat.fps, beats)
        del onset, low, tempo
        if t["curve"] is None:
            fine = bpm_from_beats(beats)
            if fine is not None and abs(fine / bpm - 1) < 0.03:
                bpm = fine
    level_p, alternatives = None, []
    lv = t.get("_levels")
    if bpm is not None and lv is not None:
        from .metre import level_alternatives

        level_p = round(float(lv["probabilities"][lv["chosen"]]), 3)
        alternatives = level_alternatives(lv["candidates_bpm"], lv["probabilities"], lv["chosen"], bpm)
    report = {
        "path": feat.path,
        "duration_s": round(feat.duration_s, 3),
        "sample_rate_hz": feat.sr_in,
        "channels": feat.channels,
        "tempo": {
            "bpm": None if bpm is None else round(float(bpm), 2),
            "confidence": round(t["confidence"], 3),
            "pulse_z": round(float(t["pulse_z"]), 2),
            "pulse_contrast": round(float(t["pulse_contrast"]), 2),
            "significant": bool(t["significant"]),
            "curve": t["curve"],
            "level_probability": level_p,
            "alternatives": alternatives,
            "level_model": None if lv is None else lv["model"],
        },
        "beats": [round(float(b), 3) for b in beats],
        "onset_rate_per_s": round(rate, 3),
        "pulse_clarity": round(t["pulse_clarity"], 3),
        "drum_kit": {"detected": kit, "treble_flatness": None if feat.treble_flatness is None
                     else round(float(feat.treble_flatness), 3)},
        "modulation": {k: v for k, v in mod.items() if not k.startswith("_")},
        "breathing": breath,
        "paced_breathing": breathing_pace(bpm),
        "binaural": detect_binaural(feat.spec_freqs_hz, feat.spec),
        "loudness": dict(feat.loudness),
    }
    internals = {"features": feat, "tempo": t, "modulation": mod, "beats": beats}
    return report, internals


def analyze_features(feat: Features, **kw) -> dict:
    """Analyze already extracted :class:`~resonator.analysis.features.Features` (see analyze_file)."""
    return _analyze(feat, **kw)[0]


def analyze_signal(x: np.ndarray, sr: float, *, loudness: bool = True,
                   prior_bpm: float | None = None) -> dict:
    """Analyze an in-memory signal.

    Parameters
    ----------
    x : np.ndarray [shape=(n,) or (channels, n)]
        Audio samples (float, full scale 1.0).
    sr : number > 0
        Sample rate in Hz.
    loudness : bool
        Measure loudness (integrated LUFS, range, true peak).
    prior_bpm : number in [40, 240], optional
        Centre of the tempo prior in BPM (default 120).

    Returns
    -------
    dict
        The report (see :func:`analyze_file`), with ``path`` None.
    """
    return _analyze(features_from_signal(x, sr, loudness=loudness, peaks=False),
                    prior_bpm=prior_bpm, release=True)[0]


def analyze_file(path, *, loudness: bool = True, plot=None, prior_bpm: float | None = None,
                 progress=None) -> dict:
    """Rhythmic analysis of one audio file, as plain data.

    Parameters
    ----------
    path : str or os.PathLike
        WAV, FLAC, OGG or MP3 file, any sample rate, mono or stereo (more channels: the first two
        are left and right for binaural detection; all are mixed for the rest).
    loudness : bool
        Measure loudness (the true-peak oversampler is the costliest part of the pass).
    plot : str or os.PathLike, optional
        Write a PNG here: waveform and envelope, tempogram with tempo curve and beats,
        modulation spectrum with the bands shaded.
    prior_bpm : number in [40, 240], optional
        Centre of the tempo prior in BPM (default 120).
    progress : callable(stage, done, total), optional
        Told ``("reading", frames read, frames)`` during the pass over the file, then
        ``("analysing", 0, 1)`` and ``("analysing", 1, 1)`` around tempo, beats and metre
        (:class:`resonator.progress.TerminalProgress` draws it on a terminal).

    Returns
    -------
    dict
        JSON-serialisable report; keys listed in this module's docstring.

    Raises
    ------
    AudioFileError
        The file cannot be read as audio.
    """
    # the plot-only arrays (sample peaks, per-window autocorrelations) grow with the duration:
    # kept only for a plot
    feat = features_from_file(path, loudness=loudness, peaks=plot is not None,
                              progress=progress)
    if progress is not None:
        progress("analysing", 0, 1)
    report, internals = _analyze(feat, prior_bpm=prior_bpm, keep_acf=plot is not None,
                                 release=plot is None)
    if progress is not None:
        progress("analysing", 1, 1)
    if plot is not None:
        from .plot import plot_report

        plot_report(plot, report, internals)
    return report


#: columns of the CSV summary (``resonator analyze --csv``, library runs), one row per file
CSV_FIELDS = [
    "path", "duration_s", "tempo_bpm", "tempo_confidence", "tempo_significant", "tempo_pulse_z",
    "tempo_changes",
    "tempo_level_probability", "tempo_alternative_bpm", "tempo_level_model", "drum_kit", "beats",
    "onset_rate_per_s", "pulse_clarity", "delta", "theta", "alpha", "beta", "gamma",
    "modulation_peaks_hz", "breath_swell_per_min", "breath_swell_depth", "breath_swell_significant",
    "paced_breaths_per_min", "beats_per_breath", "binaural_beat_hz",
    "integrated_lufs", "loudness_range_lu", "true_peak_dbtp",
]


def csv_row(r: dict) -> dict:
    """A report (:func:`analyze_file`) as one row of :data:`CSV_FIELDS` (the analyze and
    library summaries)."""
    t, m, lo = r["tempo"], r["modulation"], r["loudness"]
    b, p = r["breathing"] or {}, r["paced_breathing"] or {}
    return {
        "path": r["path"], "duration_s": r["duration_s"], "tempo_bpm": t["bpm"],
        "tempo_confidence": t["confidence"], "tempo_significant": t["significant"],
        "tempo_pulse_z": t["pulse_z"], "tempo_changes": t["curve"] is not None,
        "tempo_level_probability": t.get("level_probability"),
        "tempo_alternative_bpm": (t.get("alternatives") or [{}])[0].get("bpm"),
        "tempo_level_model": t.get("level_model"), "drum_kit": r["drum_kit"]["detected"],
        "beats": len(r["beats"]), "onset_rate_per_s": r["onset_rate_per_s"],
        "pulse_clarity": r["pulse_clarity"], **m["bands"],
        "modulation_peaks_hz": " ".join(f"{p:g}" for p in m["peaks_hz"]),
        "breath_swell_per_min": b.get("breaths_per_min") if b.get("significant") else None,
        "breath_swell_depth": b.get("depth"), "breath_swell_significant": b.get("significant"),
        "paced_breaths_per_min": p.get("breaths_per_min"), "beats_per_breath": p.get("beats_per_breath"),
        "binaural_beat_hz": r["binaural"]["beat_hz"],
        "integrated_lufs": lo.get("integrated_lufs"), "loudness_range_lu": lo.get("loudness_range_lu"),
        "true_peak_dbtp": lo.get("true_peak_dbtp"),
    }
