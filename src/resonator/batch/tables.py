"""A sweep's comparison: CSV table, self-contained HTML page, summary plot.

Rows are variant records of :func:`resonator.batch.sweep.sweep` (``name``, ``values``,
``status``, ``passed``, ``targets``...), in variant order. Every target a variant was checked
against becomes a column; a cell holds the measured value and whether it passed.
"""
from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path

__all__ = ["target_columns", "target_error", "write_table_csv", "write_html", "plot_summary"]


def target_columns(rows: list[dict]) -> list[str]:
    """Target labels in first-seen order over all rows."""
    cols: dict[str, None] = {}
    for r in rows:
        for t in r.get("targets") or []:
            cols.setdefault(t["label"], None)
    return list(cols)


def target_error(t: dict) -> float:
    """How close a result came to failing, for the summary plot: ``|measured - expected| /
    tolerance`` for numeric targets within their tolerance (0 on target, 1 at the limit);
    2 for a failed target; 0 for other passed ones (trends, and bounds such as a true peak
    kept far under its ceiling)."""
    if not t.get("passed"):
        return 2.0
    e, m, tol = t.get("expected"), t.get("measured"), t.get("tolerance")
    if isinstance(e, (int, float)) and isinstance(m, (int, float)) and \
            isinstance(tol, (int, float)) and tol > 0:
        err = abs(m - e) / tol
        return err if err <= 1.0 else 0.0
    return 0.0


def _verdict(r: dict) -> str:
    if r["status"] != "ok":
        return "error"
    return "pass" if r["passed"] else "fail"


def write_table_csv(path, rows: list[dict], varies) -> Path:
    """One row per variant: its values, verdict, counts, each target's measured value."""
    import csv

    from ..outputs import atomic_open

    cols = target_columns(rows)
    head = (["variant", "index"] + [v.text for v in varies] +
            ["verdict", "targets_passed", "targets_failed", "targets_skipped"] +
            [f"{c} (measured)" for c in cols] + [f"{c} (passed)" for c in cols] +
            ["render_s", "realtime_factor", "recipe", "render", "check", "error"])
    with atomic_open(path, "w", newline="", label=str(path)) as fh:
        w = csv.writer(fh)
        w.writerow(head)
        for r in rows:
            by = {t["label"]: t for t in r.get("targets") or []}
            ok = [t for t in by.values() if t["passed"]]
            w.writerow([r["name"], r["index"]] + [r["values"].get(v.text) for v in varies] +
                       [_verdict(r), len(ok), len(by) - len(ok), r.get("skipped_targets", "")] +
                       [by[c]["measured"] if c in by else "" for c in cols] +
                       [by[c]["passed"] if c in by else "" for c in cols] +
                       [r.get("render_s", ""), r.get("realtime_factor", ""), r["recipe"],
                        r["render"], r["check"], r.get("error", "")])
    return Path(path)


def plot_summary(path, rows: list[dict], title: str) -> Path:
    """A heat map: one row per variant, one column per target, colour = error in
    tolerances (:func:`target_error`, green passes, red fails), a cross on failures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.colors import LinearSegmentedColormap

    from ..outputs import save_figure

    cols = target_columns(rows)
    grid = np.full((max(1, len(rows)), max(1, len(cols))), np.nan)
    failed = []
    for i, r in enumerate(rows):
        for t in r.get("targets") or []:
            j = cols.index(t["label"])
            grid[i, j] = target_error(t)
            if not t["passed"]:
                failed.append((i, j))
    h = max(3.2, 1.6 + 0.28 * max(1, len(rows)))  # room for the colour bar's label
    w = 3.5 + 0.45 * max(1, len(cols))
    fig, ax = plt.subplots(figsize=(min(w, 30), min(h, 60)))
    cmap = LinearSegmentedColormap.from_list("tol", [(0, "#1a9850"), (0.5, "#fee08b"),
                                                     (0.5001, "#f46d43"), (1, "#a50026")]
                                             ).with_extremes(bad="#dddddd")
    im = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=0, vmax=2, aspect="auto",
                   interpolation="nearest")
    for i, j in failed:
        ax.text(j, i, "x", ha="center", va="center", color="white", fontsize=8)
    for i, r in enumerate(rows):
        if r["status"] != "ok":
            ax.text(0, i, "render failed", va="center", fontsize=7)
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels(cols, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r["name"] for r in rows], fontsize=7)
    ax.set_title(title, fontsize=9)
    cb = fig.colorbar(im, ax=ax, fraction=0.03)
    cb.set_label("error / tolerance\n(1 = the limit; 2 = failed)", fontsize=7)
    fig.tight_layout()
    try:
        return save_figure(fig, path, label=str(path), dpi=100)
    finally:
        plt.close(fig)


def _data_uri(png_path, width: int = 360) -> str | None:
    """A PNG shrunk to ``width`` pixels, as a data: URI (None when the file is missing)."""
    try:
        from PIL import Image

        with Image.open(png_path) as im:
            im = im.convert("RGB")
            if im.width > width:
                im = im.resize((width, max(1, round(im.height * width / im.width))),
                               Image.LANCZOS)
            buf = io.BytesIO()
            im.save(buf, format="PNG", optimize=True)
    except (OSError, ValueError):
        return None
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}
th{background:#f2f2f2;position:sticky;top:0}
td.pass{background:#d9f2d9} td.fail{background:#f8d0cc} td.error{background:#f0c0f0}
td.num{text-align:right;white-space:nowrap}
img.plan{width:240px;display:block}
img.summary{max-width:100%}
small{color:#666}
"""


def write_html(path, rows: list[dict], varies, title: str, summary_png=None,
               sampled: tuple[int, int] | None = None) -> Path:
    """A self-contained page (pictures inlined): summary plot, then one row per variant
    with its values, plan thumbnail, verdict and every target's measured value."""
    from ..outputs import write_text

    esc = html.escape
    cols = target_columns(rows)
    folder = Path(path).parent
    n_pass = sum(1 for r in rows if r["status"] == "ok" and r["passed"])
    out = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'>",
           f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{esc(title)}</h1>",
           f"<p>{n_pass} of {len(rows)} variants pass every target"
           + (f" ({sampled[0]} of {sampled[1]} combinations sampled)"
              if sampled and sampled[0] < sampled[1] else "") + ".</p>"]
    uri = _data_uri(summary_png, width=1400) if summary_png else None
    if uri:
        out.append(f"<img class='summary' src='{uri}' alt='summary plot'>")
    out.append("<table><tr><th>variant</th>" + "".join(f"<th>{esc(v.text)}</th>" for v in varies)
               + "<th>plan</th><th>verdict</th>"
               + "".join(f"<th>{esc(c)}</th>" for c in cols) + "<th>files</th></tr>")
    for r in rows:
        by = {t["label"]: t for t in r.get("targets") or []}
        verdict = _verdict(r)
        cells = [f"<td>{esc(r['name'])}</td>"]
        cells += [f"<td>{esc(str(r['values'].get(v.text, '')))}</td>" for v in varies]
        thumb = _data_uri(r["plan"]) if r["status"] == "ok" else None
        cells.append(f"<td><img class='plan' src='{thumb}' alt='plan'></td>" if thumb
                     else "<td></td>")
        if verdict == "error":
            cells.append(f"<td class='error'>render failed<br><small>{esc(r.get('error', ''))}"
                         "</small></td>")
        else:
            ok = sum(t["passed"] for t in by.values())
            cells.append(f"<td class='{verdict}'>{verdict.upper()}<br><small>{ok}/{len(by)} "
                         "targets</small></td>")
        for c in cols:
            t = by.get(c)
            if t is None:
                cells.append("<td></td>")
                continue
            m = t["measured"]
            shown = "-" if m is None else (f"{m:.4g}" if isinstance(m, float) else str(m))
            tip = f"expected {t['expected']} +- {t['tolerance']} {t['unit']}".strip()
            cells.append(f"<td class='num {'pass' if t['passed'] else 'fail'}' "
                         f"title='{esc(tip)}'>{esc(shown)} {esc(t['unit'] or '')}</td>")
        links = [f"<a href='{esc(os.path.relpath(r[k], folder))}'>{k}</a>"
                 for k in ("recipe", "render", "check") if r.get(k)]
        cells.append(f"<td>{' '.join(links)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table></body></html>")
    return write_text(path, "\n".join(out) + "\n", label=str(path))
