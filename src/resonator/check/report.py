"""Presenting check results: a text table, JSON, and a PNG plot (matplotlib, imported lazily)."""
from __future__ import annotations

import json
import math

__all__ = ["format_table", "write_json", "plot_report"]


def _fmt(v, unit: str = "") -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if not math.isfinite(v):
        return str(v)
    a = abs(v)
    s = f"{v:.0f}" if unit in ("clicks", "strikes") else (
        f"{v:.4g}" if a >= 100 else f"{v:.3f}" if a >= 1 else f"{v:.4f}")
    return f"{s} {unit}".strip()


def _clock(s: float) -> str:
    s = max(0.0, s)
    m, sec = divmod(s, 60.0)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{sec:04.1f}" if h else f"{m}:{sec:04.1f}"


def format_table(report) -> str:
    """The results as an aligned text table (target, window, expected, measured, tolerance,
    result), followed by skipped targets and a summary line."""
    rows = [("target", "window", "expected", "measured", "tolerance", "result")]
    for r in report.results:
        t = r.target
        from .kinds import TARGET_KINDS

        unit = TARGET_KINDS[t.kind].unit_info.label
        label = t.kind + (f" ({t.layer})" if t.layer else "") + (f" '{t.name}'" if t.name
                                                                  else "")
        win = f"{_clock(t.start_s)}-{_clock(t.end_s)}" + (f" {t.phase}" if t.phase else "")
        if t.kind == "loudness_trend":
            exp, tol = f"{t.expected}", f"bump <= {t.tolerance:g} dB"
            meas = f"bump {r.measured:.2f} dB, rho {r.detail.get('rho_binned')}" \
                if r.measured is not None else "-"
        elif t.kind == "centroid_trend":
            exp, tol = f"{t.expected}", f"|rho| >= {t.tolerance:g}"
            meas = f"rho {r.measured:.3f}" if r.measured is not None else "-"
        elif t.kind in ("true_peak", "splatter"):
            exp, tol = f"<= {_fmt(t.expected, unit)}", f"{t.tolerance:g}"
            meas = _fmt(r.measured, unit)
        elif t.kind in ("fade_in", "fade_out"):
            exp, tol = f"raised cosine {t.expected:g} s", "mid -6 +/- 4 dB"
            meas = f"mid {r.measured:.1f} dB" if r.measured is not None else "-"
        else:
            exp, tol = _fmt(t.expected, unit), f"{t.tolerance:g}"
            meas = _fmt(r.measured, unit)
        res = "pass" if r.passed else "FAIL"
        if "error" in r.detail:
            res += f" ({r.detail['error']})"
        rows.append((label, win, exp, meas, tol, res))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row[:5], widths)) + "  " + row[5]
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  ------")
    if report.skipped:
        lines.append("")
        lines.append(f"skipped {len(report.skipped)} target(s):")
        for t, why in report.skipped[:12]:
            lines.append(f"  {t.kind}" + (f" ({t.layer})" if t.layer else "") +
                         f" {_clock(t.start_s)}-{_clock(t.end_s)}: {why}")
        if len(report.skipped) > 12:
            lines.append(f"  ... and {len(report.skipped) - 12} more (see --json)")
    n_fail = sum(not r.passed for r in report.results)
    lines.append("")
    lines.append(f"{'PASS' if report.passed else 'FAIL'}: {len(report.results) - n_fail} of "
                 f"{len(report.results)} targets passed ({report.file})")
    return "\n".join(lines)


def write_json(report, path) -> None:
    """Write :meth:`CheckReport.as_dict` to ``path`` (``-`` for standard output)."""
    text = json.dumps(report.as_dict(), indent=2, default=_default) + "\n"
    if str(path) == "-":
        import sys
        sys.stdout.write(text)
    else:
        with open(path, "w") as f:
            f.write(text)


def _default(o):
    try:
        import numpy as np
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:  # pragma: no cover
        pass
    return str(o)


def plot_report(report, path) -> str:
    """Spectrogram, 50 ms envelope and short-term loudness over time, targets marked.

    Parameters
    ----------
    report : CheckReport
    path : str or Path
        PNG to write.

    Returns
    -------
    path : str
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    sc = report.scan
    fig, axes = plt.subplots(3, 1, figsize=(12, 8), sharex=True,
                             gridspec_kw={"height_ratios": [2, 1, 1]})
    unit, div = ("min", 60.0) if report.duration_s > 600 else ("s", 1.0)
    ax = axes[0]
    if sc.spec_db.size:
        t = sc.spec_times_s / div
        z = np.where(sc.spec_db > -190, sc.spec_db, np.nan)  # bands with no FFT bin: blank
        ok = np.isfinite(z)
        ax.pcolormesh(t, sc.spec_bands_hz, z.T, shading="nearest", cmap="magma",
                      vmin=np.percentile(z[ok], 5) if ok.any() else None,
                      vmax=np.max(z[ok]) if ok.any() else None)
        ax.plot(t, sc.centroid_hz, color="cyan", lw=0.8, label="spectral centroid")
        ax.set_yscale("log")
        ax.legend(loc="upper right", fontsize=7)
    ax.set_ylabel("Hz")
    ax.set_title(f"{report.file}: {'PASS' if report.passed else 'FAIL'}")
    axes[1].plot(sc.rms_times_s / div, sc.rms_db, lw=0.5, color="0.3")
    axes[1].set_ylabel("envelope\n50 ms RMS dBFS")
    if sc.meter is not None:
        tt, lufs = sc.meter.short_term(3.0, 1.0)
        axes[2].plot(tt / div, lufs, lw=0.8, color="C0")
    axes[2].set_ylabel("short-term\nLUFS")
    axes[2].set_xlabel(f"time in the file ({unit})")
    axes[2].set_xlim(0, report.duration_s / div)
    for name, a, b in report.phases:
        if b <= 0 or a >= report.duration_s:
            continue
        a = max(a, 0.0)
        for ax in axes:
            ax.axvline(a / div, color="0.6", lw=0.6, ls=":")
        axes[0].text(a / div, sc.spec_bands_hz[-1] if sc.spec_db.size else 1, name,
                     fontsize=7, va="top", color="w")
    for i, r in enumerate(report.results):
        t = r.target
        color = "tab:green" if r.passed else "tab:red"
        y = 0.92 - 0.06 * (i % 12)
        for ax in axes[1:]:
            ax.axvspan(t.start_s / div, t.end_s / div, color=color, alpha=0.07)
        axes[1].annotate(t.kind, ((t.start_s + t.end_s) / 2 / div, y), xycoords=("data",
                         "axes fraction"), fontsize=6, color=color, ha="center")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)
