"""The check as a picture (``resonator check --plot``): spectrogram with a dB colour bar,
envelope, short-term loudness and one labelled lane per target, failures in red with what was
measured against what was expected; the time axis is session time, so a window render lines
up with the plan. matplotlib (Agg) is imported here only."""
from __future__ import annotations

import math

import numpy as np

__all__ = ["check_figure", "plot_report", "PASS_COLOUR", "FAIL_COLOUR", "OPEN_COLOUR"]

PASS_COLOUR = "#2ca02c"
FAIL_COLOUR = "#d62728"
#: a reading that could not be trusted (neither pass nor fail)
OPEN_COLOUR = "#ff9f1c"
#: more targets than this share lanes by kind and layer
MAX_LANES = 40
#: the spectrogram shows this many dB below its loudest band
SPECTRUM_RANGE_DB = 80.0


def _number(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    return f"{v:.4g}" if math.isfinite(v) else str(v)


def _lane_label(result, with_time: bool, offset_s: float = 0.0) -> str:
    from ..plotting import clock

    t = result.target
    label = t.kind + (f" ({t.layer})" if t.layer else "") + (f" '{t.name}'" if t.name else "")
    if with_time:
        label += (f" {t.phase}" if t.phase else "") + f" {clock(t.start_s + offset_s)}"
    return label


def _lanes(results, offset_s: float = 0.0) -> list[tuple[str, list]]:
    """(label, results) per lane, top to bottom: one per target (targets that share kind,
    layer and name also show their phase and session start), or one per kind and layer when
    there are more than :data:`MAX_LANES`."""
    if len(results) <= MAX_LANES:
        plain = [_lane_label(r, False) for r in results]
        dup = {x for x in plain if plain.count(x) > 1}
        return [(_lane_label(r, p in dup, offset_s), [r]) for r, p in zip(results, plain)]
    groups: dict[str, list] = {}
    for r in results:
        groups.setdefault(_lane_label(r, False), []).append(r)
    return [(f"{k} x{len(v)}" if len(v) > 1 else k, v) for k, v in groups.items()]


def _windows_read(result, share: float = 0.9) -> list[tuple[float, float]]:
    """The windows (file seconds) a target was measured in, when they cover less than
    ``share`` of its span (a long span is read in a few sample windows); else []."""
    t = result.target
    rows = (result.detail or {}).get("windows")
    if not isinstance(rows, list):
        return []
    read = []
    for w in rows:
        try:
            w0, w1 = max(float(w["start_s"]), t.start_s), min(float(w["end_s"]), t.end_s)
        except (TypeError, KeyError, ValueError):
            return []
        if w1 > w0:
            read.append((w0, w1))
    return read if read and sum(w1 - w0 for w0, w1 in read) < share * (t.end_s - t.start_s) \
        else []


def _colour(passed) -> str:
    return OPEN_COLOUR if passed is None else PASS_COLOUR if passed else FAIL_COLOUR


def check_figure(report):
    """The check as a matplotlib Figure (see :func:`plot_report`).

    Axes (each named by ``get_label()``): ``spectrum`` (48 log bands per second, colour bar
    in dB on axes ``colorbar``; phase names that fit), ``envelope`` (50 ms RMS, dBFS),
    ``loudness`` (3 s short-term, LUFS) and ``targets``: one lane per target, labelled with
    its kind, layer and name (and its phase or start when several share those), a bar over
    its window in green (passed), red (failed) or amber (inconclusive); a failed bar says
    ``measured M vs expected E unit``. Times are session time (x in seconds, ticks ``m:ss``):
    a window render is drawn where it lies in the session and its title says so.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba

    from ..plotting import clock, clock_ticks, label_axes, phase_labels

    sc = report.scan
    off = float(report.offset_s)
    end = off + float(report.duration_s)
    lanes = _lanes(report.results, off)
    lane_h = 0.28 * max(len(lanes), 1) + 0.5
    fig = plt.figure(figsize=(12, 7.0 + lane_h), layout="constrained")
    gs = fig.add_gridspec(4, 2, height_ratios=[2.4, 1.0, 1.0, lane_h], width_ratios=[60, 1])
    ax_s = fig.add_subplot(gs[0, 0])
    cax = fig.add_subplot(gs[0, 1])
    ax_e = fig.add_subplot(gs[1, 0], sharex=ax_s)
    ax_l = fig.add_subplot(gs[2, 0], sharex=ax_s)
    ax_t = fig.add_subplot(gs[3, 0], sharex=ax_s)
    label_axes((ax_s, cax, ax_e, ax_l, ax_t),
               ("spectrum", "colorbar", "envelope", "loudness", "targets"))
    n_fail = sum(r.passed is False for r in report.results)
    n_open = sum(r.passed is None for r in report.results)
    verdict = "PASS" if report.passed else "FAIL"
    window = f"; this file is {clock(off)}-{clock(end)} of the session" if off > 0 else ""
    fig.suptitle(f"{report.file}: {verdict}, {len(report.results) - n_fail - n_open} of "
                 f"{len(report.results)} targets passed"
                 + (f", {n_open} inconclusive" if n_open else "")
                 + (f", {len(report.skipped)} skipped" if report.skipped else "") + window,
                 fontsize=11)
    # spectrogram
    if sc is not None and sc.spec_db.size:
        t = (np.asarray(sc.spec_times_s) + off) 
        z = np.asarray(sc.spec_db, dtype=float)
        top = float(np.max(z))
        mesh = ax_s.pcolormesh(t, sc.spec_bands_hz, z.T, shading="nearest", cmap="magma",
                               vmin=top - SPECTRUM_RANGE_DB, vmax=top)
        cb = fig.colorbar(mesh, cax=cax)
        cb.set_label("dB, mean square per band\n(a full-scale sine: -3 dB)", fontsize=8)
        ax_s.plot(t, sc.centroid_hz, color="cyan", lw=0.8, label="spectral centroid")
        ax_s.set_yscale("log")
        ax_s.set_ylim(sc.spec_bands_hz[0], sc.spec_bands_hz[-1])
        ax_s.legend(loc="upper right", fontsize=7)
    else:
        cax.set_axis_off()
    ax_s.set_ylabel("Hz (48 bands)")
    # envelope and loudness
    if sc is not None:
        ax_e.plot((np.asarray(sc.rms_times_s) + off) , sc.rms_db, lw=0.5, color="0.3")
        if sc.meter is not None:
            tt, lufs = sc.meter.short_term(3.0, 1.0)
            ax_l.plot((tt + off) , lufs, lw=0.8, color="C0")
    ax_e.set_ylabel("envelope\n50 ms RMS, dBFS", fontsize=8)
    ax_l.set_ylabel("short-term\nLUFS", fontsize=8)
    ax_s.set_xlim(off , end )
    # phases
    for _, a, _ in report.phases[1:]:
        for ax in (ax_s, ax_e, ax_l, ax_t):
            ax.axvline((a + off) , color="0.6", lw=0.6, ls=":")
    phase_labels(ax_s, [(n, a + off, b + off) for n, a, b in report.phases], y=0.93,
                 color="white")
    # target lanes
    sampled_any = False
    for i, (label, rs) in enumerate(lanes):
        row = len(lanes) - 1 - i
        for r in rs:
            t = r.target
            a, b = (t.start_s + off) , (t.end_s + off) 
            read = _windows_read(r)
            if read:  # only these windows were measured: the rest of the span is pale
                sampled_any = True
                colour = to_rgba(_colour(r.passed))
                ax_t.broken_barh([(a, max(b - a, 1e-9))] +
                                 [(w0 + off, w1 - w0) for w0, w1 in read], (row + 0.15, 0.7),
                                 facecolors=[colour[:3] + (0.3,)] + [colour] * len(read),
                                 label=label)
            else:
                ax_t.broken_barh([(a, max(b - a, 1e-9))], (row + 0.15, 0.7),
                                 facecolors=_colour(r.passed), label=label)
            if r.passed is False:
                d = r.as_dict(off)
                unit_txt = f" {d['unit']}" if d["unit"] else ""
                text = (f"measured {_number(r.measured)} vs expected "
                        f"{_number(d['expected'])}{unit_txt}" if r.measured is not None else
                        f"not found (expected {_number(d['expected'])}{unit_txt})")
                room = 0.3 * (end - off)  # after the bar, else before it, else on it
                if end - b >= room:
                    x, ha, colour, text = b, "left", FAIL_COLOUR, f"  {text}"
                elif a - off >= room:
                    x, ha, colour, text = a, "right", FAIL_COLOUR, f"{text}  "
                else:
                    x, ha, colour, text = a, "left", "white", f"  {text}"
                ax_t.text(x, row + 0.5, text, va="center", ha=ha, fontsize=7, color=colour,
                          clip_on=True)
    if sampled_any:
        ax_t.set_title("pale: a target's span, solid: the windows measured in it", fontsize=7,
                       loc="right")
    ax_t.set_yticks([len(lanes) - 1 - i + 0.5 for i in range(len(lanes))],
                    [label for label, _ in lanes], fontsize=7)
    ax_t.set_ylim(0, max(len(lanes), 1))
    clock_ticks(ax_t.xaxis, end - off)
    ax_t.set_xlabel("session time (m:ss)")
    for ax in (ax_s, ax_e, ax_l):
        ax.tick_params(labelbottom=False)
    return fig


def plot_report(report, path) -> str:
    """Write the check's PNG (:func:`check_figure`).

    Parameters
    ----------
    report : CheckReport
    path : str or Path
        PNG to write.

    Returns
    -------
    path : str
    """
    import matplotlib.pyplot as plt

    from ..outputs import save_figure

    fig = check_figure(report)
    try:
        save_figure(fig, path, dpi=100)  # atomic; .png, .svg or .pdf
    finally:
        plt.close(fig)
    return str(path)
