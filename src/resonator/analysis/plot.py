"""One PNG per analysed file: the waveform as an envelope, a close-up with the beats, the
tempogram (30-400 BPM) with the tempo and the beats, and the modulation spectrum with the
EEG-style bands shaded. matplotlib (Agg) is imported here only."""
from __future__ import annotations

import os

import numpy as np

BAND_COLOURS = {"delta": "#4c72b0", "theta": "#55a868", "alpha": "#c44e52", "beta": "#8172b2",
                "gamma": "#ccb974"}
#: the tempogram's range and its labelled ticks (plain numbers on the log axis)
TEMPO_AXIS_BPM = (30.0, 400.0)
TEMPO_TICKS_BPM = (30, 40, 60, 80, 120, 160, 240, 320, 400)
MODULATION_TICKS_HZ = (0.5, 1, 2, 4, 8, 13, 30, 50)
#: a waveform longer than this many pixel columns is drawn as its peak envelope per column
WAVE_COLUMNS = 1600
#: length of the close-up with the beats (s)
CLOSE_UP_S = 12.0
BEAT_COLOUR = "#00b7eb"


def _columns(x: np.ndarray, n: int, how) -> np.ndarray:
    """``x`` reduced to at most ``n`` values (``how`` over equal runs: np.max, np.mean)."""
    if x.size <= n:
        return x
    k = int(np.ceil(x.size / n))
    pad = (-x.size) % k
    xx = np.concatenate((x, np.full(pad, x[-1]))) if pad else x
    return how(xx.reshape(-1, k), axis=1)


def analysis_figure(report: dict, internals: dict):
    """The analysis figure as a matplotlib Figure (see :func:`plot_report`).

    Axes, top to bottom: ``waveform`` (peak envelope per pixel column for long files, the
    smoothed amplitude envelope, beats as ticks when they are far enough apart), ``beats``
    (a close-up of :data:`CLOSE_UP_S` seconds from the first beat, each beat a vertical
    line), ``tempogram`` (30-400 BPM on a log axis labelled in plain numbers, the tempo or
    tempo curve, alternatives dashed, beats as ticks along the top when they are far enough
    apart to be seen) and
    ``modulation`` (the envelope's modulation spectrum with the delta-gamma bands shaded).
    Each axes has its name as ``get_label()``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import label_axes, plain_log_ticks
    from .modulation_report import FMAX_HZ, FMIN_HZ
    from .tempo import bpm_grid, comb_salience

    feat = internals["features"]
    t = internals["tempo"]
    mod = internals["modulation"]
    beats = np.asarray(internals["beats"], dtype=float)
    dur = max(float(feat.duration_s), 1e-3)
    fig, ax = plt.subplots(4, 1, figsize=(11, 11), constrained_layout=True,
                           gridspec_kw={"height_ratios": [1.0, 0.8, 1.3, 1.1]})
    label_axes(ax, ("waveform", "beats", "tempogram", "modulation"))
    name = os.path.basename(str(report.get("path") or "signal"))
    tempo = report["tempo"]
    lp = tempo.get("level_probability")
    fig.suptitle(f"{name}: {tempo['bpm'] or 0:.1f} BPM, confidence {tempo['confidence']:.2f}"
                 + ("" if lp is None else f", this metrical level {100 * lp:.0f} %")
                 + ("" if tempo["significant"] or tempo["bpm"] is None
                    else f" (no significant pulse: z {tempo['pulse_z']:.1f}, a guess)"))

    # waveform: per-column peak envelope (a long file would be a solid block of lines)
    env = np.asarray(feat.env, dtype=float) * (np.pi / 2)
    peak = np.asarray(feat.peak, dtype=float)
    te = np.arange(env.size) / feat.env_sr
    a0 = ax[0]
    if peak.size:
        pk = _columns(peak, WAVE_COLUMNS, np.max)
        tp = np.linspace(0.0, peak.size / feat.env_sr, pk.size)
        a0.fill_between(tp, -pk, pk, color="0.72", lw=0, label="waveform (peak)")
    ev = _columns(env, WAVE_COLUMNS, np.mean)
    a0.plot(np.linspace(0.0, te[-1] if te.size else 0.0, ev.size), ev, color="C1", lw=0.9,
            label="envelope")
    if beats.size and beats.size <= WAVE_COLUMNS / 6:
        a0.vlines(beats, 0.9, 1.0, transform=a0.get_xaxis_transform(), color=BEAT_COLOUR,
                  lw=1.0, label="beats")
    a0.set_xlim(0, dur)
    a0.set_xlabel("time (s)")
    a0.set_ylabel("amplitude")
    a0.legend(loc="upper right", fontsize=8)

    # close-up: beats drawn one by one
    a1 = ax[1]
    start = 0.0
    if beats.size:
        start = max(0.0, min(float(beats[0]) - 0.5, dur - CLOSE_UP_S))
    stop = min(dur, start + CLOSE_UP_S)
    sel = (te >= start) & (te <= stop)
    a1.plot(te[sel], env[sel], color="C1", lw=1.0)
    if peak.size:
        tpk = np.arange(peak.size) / feat.env_sr
        s2 = (tpk >= start) & (tpk <= stop)
        a1.fill_between(tpk[s2], -peak[s2], peak[s2], color="0.8", lw=0)
    shown = beats[(beats >= start) & (beats <= stop)]
    a1.vlines(shown, 0.0, 1.0, transform=a1.get_xaxis_transform(), color=BEAT_COLOUR, lw=1.4,
              label=f"beats ({shown.size} here, {beats.size} in all)")
    a1.set_xlim(start, max(stop, start + 1e-3))
    a1.set_xlabel("time (s)")
    a1.set_ylabel("amplitude")
    a1.set_title(f"close-up {start:.1f}-{stop:.1f} s", fontsize=9)
    a1.legend(loc="upper right", fontsize=8)

    # tempogram over 30-400 BPM
    a2 = ax[2]
    lo_bpm, hi_bpm = TEMPO_AXIS_BPM
    times = np.asarray(t["_times_s"])
    if times.size and t.get("_acf") is not None:
        bpms = bpm_grid(lo_bpm, hi_bpm, 0.01)
        sal = comb_salience(t["_acf"], feat.fps, bpms, harmonics=1)
        dt = times[1] - times[0] if times.size > 1 else 1.0
        a2.pcolormesh(np.concatenate((times - dt / 2, [times[-1] + dt / 2])),
                      np.concatenate((bpms, [bpms[-1] * 1.01])), np.clip(sal.T, 0, None),
                      shading="flat", cmap="magma")
    a2.set_yscale("log")
    a2.set_ylim(lo_bpm, hi_bpm)
    plain_log_ticks(a2.yaxis, TEMPO_TICKS_BPM)
    if tempo["curve"]:
        a2.plot(tempo["curve"]["times_s"], tempo["curve"]["bpm"], "c-", lw=1.5,
                label="tempo curve")
    elif tempo["bpm"]:
        a2.axhline(tempo["bpm"], color="c", lw=1.2, label=f"tempo {tempo['bpm']:.1f} BPM")
    for alt in tempo.get("alternatives") or []:
        if lo_bpm <= alt["bpm"] <= hi_bpm:
            a2.axhline(alt["bpm"], color="c", lw=0.8, ls="--",
                       label=f"{alt['bpm']:.1f} BPM ({100 * alt['probability']:.0f} %)")
    if beats.size and beats.size <= WAVE_COLUMNS / 6:  # denser ones: see the close-up
        a2.vlines(beats, 0.94, 1.0, transform=a2.get_xaxis_transform(), color=BEAT_COLOUR,
                  lw=0.8, label="beats")
    a2.set_xlim(0, dur)
    a2.set_ylabel("tempo (BPM)")
    a2.set_xlabel("time (s)")
    a2.set_title("tempogram (windowed onset autocorrelation)", fontsize=9)
    if a2.get_legend_handles_labels()[0]:
        a2.legend(loc="lower right", fontsize=8)

    # modulation spectrum
    a3 = ax[3]
    from ..measure.modulation import DEFAULT_BANDS

    for band, (lo, hi) in DEFAULT_BANDS.items():
        a3.axvspan(lo, hi, color=BAND_COLOURS[band], alpha=0.15,
                   label=f"{band} {report['modulation']['bands'][band]:.2f}")
    if mod["_freqs_hz"].size:
        a3.semilogx(mod["_freqs_hz"], mod["_power"], color="k", lw=0.9)
    for p in report["modulation"]["peaks_hz"]:
        a3.axvline(p, color="k", ls=":", lw=0.8)
    a3.set_xscale("log")
    a3.set_xlim(FMIN_HZ, FMAX_HZ)
    plain_log_ticks(a3.xaxis, [f for f in MODULATION_TICKS_HZ if FMIN_HZ <= f <= FMAX_HZ])
    a3.set_xlabel("modulation frequency (Hz)")
    a3.set_ylabel("share of envelope power")
    a3.legend(loc="upper right", fontsize=8, ncol=5)
    return fig


def plot_report(png_path, report: dict, internals: dict) -> str:
    """Draw the analysis figure (:func:`analysis_figure`) into a PNG.

    Parameters
    ----------
    png_path : str or os.PathLike
        Output PNG file (its folder must exist).
    report : dict
        The report from :func:`resonator.analysis.report._analyze`.
    internals : dict
        Its arrays: ``features``, ``tempo`` (with ``_times_s``, ``_acf``), ``modulation`` (with
        ``_freqs_hz``, ``_power``), ``beats``.

    Returns
    -------
    str
        The path written.
    """
    import matplotlib.pyplot as plt

    fig = analysis_figure(report, internals)
    from ..outputs import save_figure

    try:
        save_figure(fig, png_path, dpi=100)
    finally:
        plt.close(fig)
    return str(png_path)
