"""What the studio's Render and Check buttons do, as library functions.

Both run on a job thread (:mod:`.jobs`) and report progress through it; both use the same
library calls as ``resonator render`` and ``resonator check``.
"""
from __future__ import annotations

from pathlib import Path, PurePosixPath

from ..recipe.render import Progress
from .jobs import Job
from .workspace import StudioPathError, Workspace

FORMATS = ("wav", "flac")
BITS = ("16", "24", "32f")


class _JobProgress(Progress):
    """render_recipe's progress hook, reporting to a job (and cancelling through it)."""

    def __init__(self, session, job: Job):
        super().__init__(session, quiet=True)
        self.job = job

    def stage(self, label, total):
        cb = self.job.callback(label)
        cb(0, total)
        return cb


def render_output(ws: Workspace, recipe_rel: str, fmt: str = "wav", *,
                  window: tuple[float, float] | None = None,
                  session_s: float | None = None) -> tuple[str, Path]:
    """Where the studio renders a recipe: ``renders/<recipe name>.<fmt>`` in the folder, or
    for a window of the session the name ``resonator render`` gives it
    (``renders/<name>_<start>-<end>.<fmt>``, :func:`resonator.recipe.render.default_name`).

    Parameters
    ----------
    window : (start_s, end_s), optional
        Session seconds, ``0 <= start_s < end_s``.
    session_s : float > 0, optional
        The session's length (needed with ``window``).
    """
    from ..recipe.render import default_name

    if fmt not in FORMATS:
        raise StudioPathError(f"format {fmt!r} is not offered: choose {' or '.join(FORMATS)}",
                              status=400)
    stem = PurePosixPath(recipe_rel).stem
    if window is None:
        name = f"{stem}.{fmt}"
    else:
        name = default_name(stem, fmt, window[0], window[1] - window[0], session_s)
    rel = f"renders/{name}"
    return rel, ws._inside(ws.root, PurePosixPath(rel))  # a "renders" link leading out: refused


def render(job: Job, ws: Workspace, recipe_rel: str, *, fmt: str = "wav", bits: str = "16",
           overwrite: bool = False, window: tuple[float, float] | None = None) -> dict:
    """Render a recipe of the folder to ``renders/<name>.<fmt>`` with its sidecar.

    Parameters
    ----------
    job : Job
        Receives the progress (stages "measuring" and "rendering"); cancelling it stops the
        render and removes the partial file.
    ws : Workspace
    recipe_rel : str
        The recipe, as the page names it.
    fmt : {"wav", "flac"}
    bits : {"16", "24", "32f"}
    overwrite : bool
        Replace an earlier render of the same name.
    window : (start_s, end_s), optional
        Render only this part of the session (as ``resonator render --start/--duration``);
        the samples equal that span of the whole render.

    Returns
    -------
    dict
        ``path`` and ``sidecar`` (as the page names them), ``duration_s``, ``peak_dbfs``, ``gain_db``, ``seconds``, ``warnings``.
    """
    from ..loading import load
    from ..recipe.render import render_recipe
    from ..recipe.session import build_session

    if bits not in BITS:
        raise StudioPathError(f"bits {bits!r} are not offered: choose {', '.join(BITS)}",
                              status=400)
    source = ws.resolve(recipe_rel)
    recipe = load(source)
    rel, out = render_output(ws, recipe_rel, fmt, window=window, session_s=recipe.duration_s)
    progress = _JobProgress(build_session(recipe), job)
    start, duration = (None, None) if window is None else (window[0], window[1] - window[0])
    result = render_recipe(recipe, out, fmt=fmt, bits=bits, start=start, duration=duration,
                           force=overwrite, progress=progress, make_parents=True)
    gain = (result.mastering or {}).get("gain_db")
    return {"path": rel, "sidecar": PurePosixPath(rel).with_suffix(".json").as_posix(),
            "duration_s": result.frames / result.sr,
            "peak_dbfs": result.peak_dbfs if result.peak_dbfs > -1e9 else None,
            "gain_db": gain, "seconds": round(result.seconds, 2),
            "warnings": list(result.warnings)}


def check_spans(report: dict) -> list[dict]:
    """The check report's results and skipped targets as spans of the session timeline.

    Each span: ``start_s``, ``end_s`` (session seconds: a window render's results are
    shifted by its ``offset_s``), ``status`` ("pass", "fail",
    "inconclusive" or "skip"), ``kind``, ``name``, ``layer``, and ``expected``,
    ``measured``, ``tolerance``, ``unit``, ``rule`` (results) or ``reason`` (skipped targets,
    and why a reading is inconclusive).
    """
    offset = float(report.get("offset_s") or 0.0)
    spans = []
    for r in report["results"]:
        w = r["window"]
        status = r.get("status") or ("inconclusive" if r["passed"] is None
                                     else "pass" if r["passed"] else "fail")
        span = {"start_s": w.get("session_start_s", w["start_s"] + offset),
                "end_s": w.get("session_end_s", w["end_s"] + offset), "status": status, "kind": r["kind"], "name": r["name"], "layer": r["layer"],
                "expected": r["expected"], "measured": r["measured"],
                "tolerance": r["tolerance"], "unit": r["unit"], "rule": r.get("rule"),
                "phase": w.get("phase")}
        if status == "inconclusive":
            span["reason"] = ((r.get("detail") or {}).get("inconclusive")
                              or "the reading cannot be trusted")
        spans.append(span)
    for s in report["skipped"]:
        w = s["window"]  # (skipped targets keep their planned window: session time)
        spans.append({"start_s": w["start_s"], "end_s": w["end_s"],
                      "status": "skip", "kind": s["kind"], "name": None, "layer": s["layer"],
                      "reason": s["reason"], "phase": w.get("phase")})
    return spans


def check(job: Job, ws: Workspace, audio_rel: str, recipe_rel: str | None = None) -> dict:
    """Check an audio file of the folder against a recipe (default: the one its sidecar names).

    Returns
    -------
    dict
        ``report`` (the JSON of ``resonator check --json``, with ``file`` and ``recipe`` as the
        page names them) and ``spans`` (:func:`check_spans`).
    """
    from ..check import check_file

    audio = ws.resolve(audio_rel)
    recipe = ws.resolve(recipe_rel) if recipe_rel else None
    report = check_file(audio, recipe, progress=job.progress).as_dict()
    report["file"] = audio_rel
    if recipe_rel:
        report["recipe"] = recipe_rel
    elif report.get("recipe"):
        try:
            report["recipe"] = ws.relative(Path(report["recipe"]))
        except StudioPathError:
            pass
    return {"report": report, "spans": check_spans(report)}
