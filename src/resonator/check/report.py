"""Presenting check results: a text table and JSON (the picture: :mod:`.plot`)."""
from __future__ import annotations

import json

__all__ = ["format_table", "write_json"]


def _clock(s: float) -> str:
    s = max(0.0, s)
    m, sec = divmod(s, 60.0)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{sec:04.1f}" if h else f"{m}:{sec:04.1f}"


def _value(kind, v) -> str:
    """A value of a kind: a word as it is, a number with the kind's unit and precision."""
    if isinstance(v, str):
        return v
    text = kind.unit_info.format(v)
    return f"{kind.measures} {text}" if kind.measures and v is not None else text


def format_table(report) -> str:
    """The results as an aligned text table: target, window (file time; with the session
    time for window renders), expected, measured, the rule applied and the result; then the
    skipped targets and a summary line."""
    from .kinds import TARGET_KINDS
    from .targets import OUTSIDE_WINDOW

    off = float(report.offset_s)
    rows = [("target", "window" + (" (session)" if off else ""), "expected", "measured",
             "rule", "result")]
    for r in report.results:
        t = r.target
        kind = TARGET_KINDS[t.kind]
        label = t.kind + (f" ({t.layer})" if t.layer else "") + (f" '{t.name}'" if t.name
                                                                  else "")
        win = f"{_clock(t.start_s)}-{_clock(t.end_s)}"
        if off:
            win += f" ({_clock(t.start_s + off)}-{_clock(t.end_s + off)})"
        win += f" {t.phase}" if t.phase else ""
        exp = t.expected if isinstance(t.expected, str) else kind.unit_info.format(t.expected)
        res = {"pass": "pass", "fail": "FAIL", "inconclusive": "inconclusive"}[r.status]
        why = r.detail.get("error") or (r.detail.get("inconclusive") if r.passed is None
                                        else None)
        if why:
            res += f" ({why})"
        rows.append((label, win, exp, _value(kind, r.measured), r.rule or "-", res))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row[:5], widths)) + "  " + row[5]
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  ------")
    outside = [t for t, why in report.skipped if why == OUTSIDE_WINDOW]
    skipped = [(t, why) for t, why in report.skipped if why != OUTSIDE_WINDOW]
    if outside:
        lines.append("")
        lines.append(f"{len(outside)} target(s) lie outside the rendered window (session "
                     f"{_clock(off)}-{_clock(off + report.duration_s)}): not measured")
    if skipped:
        lines.append("")
        lines.append(f"skipped {len(skipped)} target(s)" +
                     (" (session times)" if off else "") + ":")
        for t, why in skipped[:12]:
            lines.append(f"  {t.kind}" + (f" ({t.layer})" if t.layer else "") +
                         f" {_clock(t.start_s)}-{_clock(t.end_s)}: {why}")
        if len(skipped) > 12:
            lines.append(f"  ... and {len(skipped) - 12} more (see --json)")
    n_fail = sum(r.passed is False for r in report.results)
    n_open = sum(r.passed is None for r in report.results)
    lines.append("")
    lines.append(f"{'PASS' if report.passed else 'FAIL'}: {len(report.results) - n_fail - n_open}"
                 f" of {len(report.results)} targets passed"
                 + (f", {n_open} inconclusive" if n_open else "") + f" ({report.file})")
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
