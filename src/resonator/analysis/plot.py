"""One PNG per analysed file: waveform and envelope, tempogram with tempo curve and beats,
modulation spectrum with the EEG-style bands shaded. matplotlib (Agg) is imported here only."""
from __future__ import annotations

import os

import numpy as np

BAND_COLOURS = {"delta": "#4c72b0", "theta": "#55a868", "alpha": "#c44e52", "beta": "#8172b2",
                "gamma": "#ccb974"}


def plot_report(png_path, report: dict, internals: dict) -> str:
    """Draw the analysis figure.

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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..errors import AudioFileError
    from .modulation_report import FMAX_HZ, FMIN_HZ
    from .tempo import BPM_MAX, BPM_MIN, bpm_grid, comb_salience

    feat = internals["features"]
    t = internals["tempo"]
    mod = internals["modulation"]
    beats = np.asarray(internals["beats"])
    fig, ax = plt.subplots(3, 1, figsize=(11, 9), constrained_layout=True)
    name = os.path.basename(str(report.get("path") or "signal"))
    lp = report["tempo"].get("level_probability")
    fig.suptitle(f"{name}: {report['tempo']['bpm'] or 0:.1f} BPM, "
                 f"confidence {report['tempo']['confidence']:.2f}"
                 + ("" if lp is None else f", this metrical level {100 * lp:.0f} %")
                 + ("" if report["tempo"]["significant"] or report["tempo"]["bpm"] is None
                    else f" (no significant pulse: z {report['tempo']['pulse_z']:.1f}, a guess)"))

    te = np.arange(feat.env.size) / feat.env_sr
    a0 = ax[0]
    a0.fill_between(te[: feat.peak.size], -feat.peak, feat.peak, color="0.75", lw=0, label="waveform")
    a0.plot(te, feat.env * (np.pi / 2), color="C1", lw=0.8, label="envelope")
    a0.set_xlim(0, max(feat.duration_s, 1e-3))
    a0.set_xlabel("time (s)")
    a0.set_ylabel("amplitude")
    a0.legend(loc="upper right", fontsize=8)

    a1 = ax[1]
    bpms = bpm_grid(BPM_MIN, BPM_MAX, 0.01)
    sal = comb_salience(t["_acf"], feat.fps, bpms, harmonics=1)
    times = t["_times_s"]
    if times.size:
        dt = times[1] - times[0] if times.size > 1 else 1.0
        a1.pcolormesh(np.concatenate((times - dt / 2, [times[-1] + dt / 2])),
                      np.concatenate((bpms, [bpms[-1] * 1.01])), np.clip(sal.T, 0, None),
                      shading="flat", cmap="magma")
        a1.set_yscale("log")
        if report["tempo"]["curve"]:
            a1.plot(report["tempo"]["curve"]["times_s"], report["tempo"]["curve"]["bpm"], "c-",
                    lw=1.5, label="tempo curve")
        elif report["tempo"]["bpm"]:
            a1.axhline(report["tempo"]["bpm"], color="c", lw=1, label="tempo")
        for alt in report["tempo"].get("alternatives") or []:
            if BPM_MIN <= alt["bpm"] <= BPM_MAX:
                a1.axhline(alt["bpm"], color="c", lw=0.8, ls="--",
                           label=f"{alt['bpm']:.1f} BPM ({100 * alt['probability']:.0f} %)")
        if beats.size:
            a1.plot(beats, np.full(beats.size, BPM_MIN * 1.03), "w|", ms=8, label="beats")
        a1.legend(loc="upper right", fontsize=8)
    a1.set_xlim(0, max(feat.duration_s, 1e-3))
    a1.set_ylabel("tempo (BPM)")
    a1.set_xlabel("time (s)")
    a1.set_title("tempogram (windowed onset autocorrelation)", fontsize=9)

    a2 = ax[2]
    from ..measure.modulation import DEFAULT_BANDS

    for band, (lo, hi) in DEFAULT_BANDS.items():
        a2.axvspan(lo, hi, color=BAND_COLOURS[band], alpha=0.15,
                   label=f"{band} {report['modulation']['bands'][band]:.2f}")
    if mod["_freqs_hz"].size:
        a2.semilogx(mod["_freqs_hz"], mod["_power"], color="k", lw=0.9)
    for p in report["modulation"]["peaks_hz"]:
        a2.axvline(p, color="k", ls=":", lw=0.8)
    a2.set_xlim(FMIN_HZ, FMAX_HZ)
    a2.set_xlabel("modulation frequency (Hz)")
    a2.set_ylabel("share of envelope power")
    a2.legend(loc="upper right", fontsize=8, ncol=5)
    try:
        fig.savefig(png_path, dpi=100)
    except OSError as exc:
        raise AudioFileError(f"cannot write the plot ({exc.strerror})", str(png_path)) from None
    finally:
        plt.close(fig)
    return str(png_path)
