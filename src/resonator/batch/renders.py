"""Many recipes rendered at once (``resonator render A.toml B.toml ... --jobs N``).

Each recipe is one task (:func:`render_task`) on the executor of :mod:`.executor`: a worker
loads the recipe, renders it to its output path (atomically, with its JSON sidecar) and
optionally checks it; a small record comes back. Outputs are all decided and checked before
the first render.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import ResonatorError
from .executor import Executor, TaskFailed, open_executor

__all__ = ["BatchRender", "render_many", "render_task"]


def render_task(recipe_path: str, out_path: str, options: dict, check: bool) -> dict:
    """One recipe's work on a worker.

    Parameters
    ----------
    recipe_path : str
        A recipe (``.toml``) or SBaGen sequence (``.sbg``), read with
        :func:`resonator.loading.load` (``options["stereo_noise"]`` for sequences).
    out_path : str
        The output file (already checked by the client).
    options : dict
        Keyword arguments of :func:`resonator.recipe.render_recipe` (``fmt``, ``bits``,
        ``sr``, ``seed``, ``start``, ``duration``, ``normalize``), plus ``stereo_noise``.
    check : bool
        Check the render against the recipe's targets.

    Returns
    -------
    dict
        ``status`` ``"ok"`` with ``path``, ``seconds``, ``realtime_factor``, ``peak_dbfs``,
        ``warnings`` and, when checked, ``passed`` and ``failed_targets``; or ``"failed"``
        with ``error``.
    """
    from ..loading import load
    from ..recipe import render_recipe

    opts = dict(options)
    stereo_noise = opts.pop("stereo_noise", False)
    try:
        recipe = load(recipe_path, stereo_noise=stereo_noise)
        res = render_recipe(recipe, out_path, force=True, **opts)
        rec = {"status": "ok", "path": str(res.path), "seconds": round(res.seconds, 3),
               "realtime_factor": round(res.realtime_factor, 1),
               "peak_dbfs": round(res.peak_dbfs, 2), "warnings": list(res.warnings)}
        if check:
            from ..check import check_file

            report = check_file(res.path, recipe)
            rec["passed"] = report.passed
            rec["failed_targets"] = [
                f"{r.target.kind}{' ' + r.target.layer if r.target.layer else ''}: measured "
                f"{r.measured} expected {r.target.expected}" for r in report.results
                if not r.passed]
        return rec
    except ResonatorError as exc:
        return {"status": "failed", "error": str(exc)}
    except MemoryError:
        return {"status": "failed", "error": f"{recipe_path}: not enough memory on its worker"}
    except Exception as exc:  # one recipe's bug must not end the batch, nor print a traceback
        return {"status": "failed", "error": f"{recipe_path}: the render failed "
                f"({type(exc).__name__}: {exc}); this is a bug in resonator, please report it"}


@dataclass
class BatchRender:
    """What :func:`render_many` did: one record per recipe (in the order given), where."""

    records: list = field(default_factory=list)
    where: str = ""

    @property
    def failed(self) -> list:
        """Records that failed to render or (when checked) failed a target."""
        return [r for r in self.records if r["status"] != "ok" or r.get("passed") is False]


def render_many(jobs_list: list[tuple[str, str]], *, options: dict | None = None,
                check: bool = False, jobs: int | None = None, cluster: str | None = None,
                progress: Callable[[int], object] | None = None,
                on_record: Callable[[dict], None] | None = None,
                executor: Executor | None = None) -> BatchRender:
    """Render several recipes on the batch executor.

    Parameters
    ----------
    jobs_list : list of (recipe path, output path)
        Outputs checked by the caller (:func:`resonator.outputs.check_output`).
    options : dict, optional
        See :func:`render_task`.
    check : bool
        Check each render against its recipe's targets.
    jobs, cluster, executor
        Where the renders run (:class:`~resonator.batch.executor.Executor`).
    progress : callable(total) -> BatchProgress-like, optional
    on_record : callable(record), optional
        Each record as it arrives (``recipe`` is set).

    Returns
    -------
    BatchRender

    Raises
    ------
    ResonatorError
        A recipe that cannot be loaded (each is loaded here before any render starts).
    """
    from ..loading import load
    from ..shipped import resolve

    options = dict(options or {})
    for r, _ in jobs_list:
        load(r, stereo_noise=options.get("stereo_noise", False))
    # a shipped recipe's name is its file in the package (the workers get absolute paths)
    paths = [str(resolve(r).resolve()) for r, _ in jobs_list]
    out = BatchRender()
    by_recipe: dict[int, dict] = {}
    bar = progress(len(jobs_list)) if progress is not None else None
    try:
        roots = sorted({str(Path(o).resolve().parent) for _, o in jobs_list} | set(paths))
        with open_executor(executor, jobs, cluster, needed=bool(jobs_list),
                           check_paths=roots) as ex:
            out.where = ex.describe
            items = ((i, (paths[i], str(Path(o).resolve()), options, check))
                     for i, (_, o) in enumerate(jobs_list))
            for i, rec in ex.map_unordered(render_task, items):
                if isinstance(rec, TaskFailed):
                    rec = {"status": "failed", "error": f"{jobs_list[i][0]}: {rec}"}
                rec = {"recipe": jobs_list[i][0], "output": jobs_list[i][1], **rec}
                by_recipe[i] = rec
                if bar is not None:
                    bar.update(rec["status"] == "ok" and rec.get("passed") is not False)
                if on_record is not None:
                    on_record(rec)
    finally:
        if bar is not None:
            bar.close()
    out.records = [by_recipe[i] for i in sorted(by_recipe)]
    return out
