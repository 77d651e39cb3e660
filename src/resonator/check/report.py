"""Presenting check results: a text table and JSON (the picture: :mod:`.plot`)."""
from __future__ import annotations

import json
import math

__all__ = ["format_table", "write_json"]


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
    from ..outputs import write_text

    write_text(path, json.dumps(report.as_dict(), indent=2, default=_default) + "\n")


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
