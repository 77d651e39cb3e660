"""Recipe sweeps: every combination of some values rendered, checked and compared.

:func:`sweep` is the library function behind ``resonator sweep``. The variants
(:mod:`.variants`) are written as recipe files first and all loaded before anything is
rendered, so a bad value stops the sweep at once with the variant file and place. Each
variant is then one task (:func:`sweep_task`): a worker loads its recipe, renders it, checks
the render against the recipe's written and implied targets, draws its plan, and returns a
small record. The client appends each record to ``sweep.jsonl`` as it arrives and, at the
end, writes the comparison table (``sweep.csv``, ``sweep.html`` with plan thumbnails and
verdicts, self-contained) and ``sweep.png`` (every target's error against its tolerance,
variant by variant).

Output folder (all names follow from the recipe and the ``--vary`` values, so a rerun of the
same sweep finds its files)::

    OUT/recipes/NAME.toml   the variant (extends the base recipe)
    OUT/renders/NAME.wav    its render, with the JSON sidecar NAME.json
    OUT/checks/NAME.json    the check report (resonator check --json)
    OUT/plans/NAME.png      the plan plot
    OUT/sweep.jsonl         one record per finished variant (the resume log)
    OUT/sweep.csv, OUT/sweep.html, OUT/sweep.png

A rerun skips the variants whose record (same recipe text, same render options) and files
are there, and does the rest.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import RecipeError, ResonatorError
from .executor import Executor, TaskFailed, open_executor
from .results import ResultsLog
from .variants import Vary, make_variants, variant_text

__all__ = ["SweepRun", "sweep", "sweep_task", "target_label"]

#: what sweep passes to :func:`resonator.recipe.render_recipe` (besides the paths)
RENDER_OPTIONS = ("sr", "seed", "start", "duration", "bits", "normalize")


@dataclass
class SweepRun:
    """What :func:`sweep` did.

    Attributes
    ----------
    total : int
        Combinations of the ``--vary`` values.
    variants : int
        Variants in this sweep (all, or ``--sample``).
    rendered, skipped : int
        Rendered in this run; already done.
    passed : int
        Variants whose render passed every target.
    failed : list of str
        One line per variant that failed to render or failed a target.
    folder : Path
    table_csv, table_html, plot : Path or None
    where : str
    """

    total: int = 0
    variants: int = 0
    rendered: int = 0
    skipped: int = 0
    passed: int = 0
    failed: list = field(default_factory=list)
    folder: Path | None = None
    table_csv: Path | None = None
    table_html: Path | None = None
    plot: Path | None = None
    where: str = ""


def target_label(r: dict) -> str:
    """A short column name for a check result (:meth:`CheckResult.as_dict`) that stays the
    same when a variant moves the target's window: its name, else kind, layer and phase."""
    if r.get("name"):
        return str(r["name"])
    w = r.get("window") or {}
    return " ".join(str(p) for p in (r["kind"], r.get("layer"), w.get("phase")) if p)


def _labelled(results: list[dict]) -> list[dict]:
    """The check results as table cells, labels made unique (``am_rate beat #2``)."""
    out, seen = [], {}
    for r in results:
        label = target_label(r)
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label = f"{label} #{seen[label]}"
        out.append({"label": label, "kind": r["kind"], "expected": r["expected"],
                    "measured": r["measured"], "tolerance": r["tolerance"], "unit": r["unit"],
                    "passed": r["passed"]})
    return out


def sweep_task(recipe_path: str, render_path: str, check_path: str, plan_path: str,
               options: dict) -> dict:
    """One variant's work on a worker: render, check, plan; a small record back.

    Parameters
    ----------
    recipe_path, render_path, check_path, plan_path : str
        The variant recipe and where its render, check report and plan plot go.
    options : dict
        Keyword arguments of :func:`resonator.recipe.render_recipe` (:data:`RENDER_OPTIONS`).

    Returns
    -------
    dict
        ``status`` ``"ok"`` with ``passed``, ``targets`` (label, kind, expected, measured,
        tolerance, unit, passed), ``skipped_targets``, ``render_s``, ``realtime_factor``;
        or ``status`` ``"failed"`` with ``error`` (one line).
    """
    from ..check import check_file, write_json
    from ..loading import load
    from ..recipe import plot_plan, render_recipe

    try:
        recipe = load(recipe_path)
        res = render_recipe(recipe, render_path, force=True, **options)
        report = check_file(render_path, recipe)
        write_json(report, check_path)
        plot_plan(recipe, plan_path)
    except ResonatorError as exc:
        return {"status": "failed", "error": str(exc)}
    except MemoryError:
        return {"status": "failed", "error": f"{recipe_path}: not enough memory on its worker"}
    except Exception as exc:  # a bug must not end a sweep, nor print a traceback
        return {"status": "failed", "error": f"{recipe_path}: the render or check failed "
                f"({type(exc).__name__}: {exc}); this is a bug in resonator, please report it"}
    data = report.as_dict()
    return {"status": "ok", "passed": data["passed"], "targets": _labelled(data["results"]),
            "skipped_targets": len(data["skipped"]), "render_s": round(res.seconds, 3),
            "realtime_factor": round(res.realtime_factor, 1)}


def _key(recipe, options: dict) -> str:
    """What a variant's results depend on: every recipe text it reads and the options."""
    h = hashlib.sha256(recipe.sha256().encode())
    h.update(json.dumps(options, sort_keys=True, default=str).encode())
    return h.hexdigest()


def _check_window(recipe, start, duration, sr) -> None:
    """``--start``/``--duration`` checked once against the base recipe, before any variant is
    written (not found wrong in every render)."""
    from ..units import format_duration, parse_positive_duration

    start_s = recipe.time_of(start, "--start") if start is not None else 0.0
    if start_s < 0:
        raise RecipeError(f"{start!r} is negative: give a time from the session's start",
                          "--start")
    if duration is not None:
        parse_positive_duration(duration, where="--duration", sr=sr or recipe.sample_rate)
    if start_s >= recipe.duration_s:
        raise RecipeError(f"{format_duration(start_s)} is at or after the end of the session "
                          f"({format_duration(recipe.duration_s)})", "--start")


def _write_variants(raw, variants, varies, folders, options):
    """Write each variant's recipe and load it, before anything is rendered; a variant that is
    no recipe is named by its values (its file is removed with every other file this run
    wrote). Returns ``(paths, keys)`` by variant name."""
    from ..loading import load
    from ..outputs import write_text

    paths, keys, created = {}, {}, []
    try:
        for v in variants:
            p = folders["recipes"] / f"{v.name}.toml"
            text = variant_text(raw, v, varies, folder=folders["recipes"])
            if not p.is_file() or p.read_text(encoding="utf-8") != text:
                if not p.exists():
                    created.append(p)
                write_text(p, text, label=str(p))
            try:
                keys[v.name] = _key(load(p), options)
            except ResonatorError as exc:
                given = ", ".join(f"{k}={x}" for k, x in v.labels.items())
                raise RecipeError(f"{given} makes an invalid recipe: {exc.message}",
                                  "--vary") from None
            paths[v.name] = {"recipe": str(p),
                             "render": str(folders["renders"] / f"{v.name}.wav"),
                             "check": str(folders["checks"] / f"{v.name}.json"),
                             "plan": str(folders["plans"] / f"{v.name}.png")}
    except BaseException:  # a variant that is no recipe: none of this run's files stay
        for p in created:
            p.unlink(missing_ok=True)
        raise
    return paths, keys


def sweep(recipe, varies: list[Vary], out_dir=None, *, sample: int | None = None,
          sample_seed: int = 0, write_recipes_only: bool = False, jobs: int | None = None,
          cluster: str | None = None, sr: int | None = None, seed: int | None = None,
          start=None, duration=None, bits: str = "16", normalize: bool = True,
          progress: Callable[[int], object] | None = None,
          on_record: Callable[[dict], None] | None = None,
          executor: Executor | None = None) -> SweepRun:
    """Render and check every variant of a recipe; write the comparison table and plot.

    Parameters
    ----------
    recipe : str or Path
        The base recipe (TOML), or a shipped recipe's name (``"focus"``).
    varies : list of Vary
        :func:`resonator.batch.variants.parse_vary` of each ``--vary``.
    out_dir : str or Path, optional
        Output folder (default ``sweeps/<recipe stem>``; layout in the module docstring).
    sample : int >= 1, optional
        Render only this many combinations, chosen at random with ``sample_seed``.
    write_recipes_only : bool
        Write the variant recipes and stop (render them later, e.g. with
        ``resonator render OUT/recipes/*.toml --jobs N``).
    jobs, cluster
        Where the renders run (:class:`~resonator.batch.executor.Executor`).
    sr, seed, start, duration, bits, normalize
        As :func:`resonator.recipe.render_recipe` (a window ``start``/``duration`` renders
        and checks only that part of each variant).
    progress : callable(total) -> BatchProgress-like, optional
    on_record : callable(record), optional
        Called with each variant's record as it is written.
    executor : Executor, optional
        An entered executor to use instead of one made from ``jobs``/``cluster``.

    Returns
    -------
    SweepRun

    Raises
    ------
    ResonatorError
        A bad ``--vary``, a variant that is not a valid recipe (its file and place are
        named), an output folder that cannot be written.
    """
    from ..loading import load
    from ..outputs import OutputError, check_output_folder, new_folders
    from ..recipe.loader import load_raw
    from ..shipped import resolve

    base = resolve(recipe)  # a file, or a shipped recipe by name ("focus")
    if base.suffix.lower() == ".sbg":
        raise RecipeError("a sweep varies a TOML recipe: convert the sequence first with "
                          f"'resonator import {base}' and sweep the .toml it writes", str(base))
    base_recipe = load(base)  # the base itself must be valid (its own errors and places)
    _check_window(base_recipe, start, duration, sr)
    raw = load_raw(base)
    variants, total = make_variants(varies, sample=sample, sample_seed=sample_seed)
    out = Path(out_dir) if out_dir is not None else Path("sweeps") / base.stem
    above = out.parent if str(out.parent) else Path(".")
    if out_dir is not None and not above.is_dir():  # the folder you name is made, not those above
        raise OutputError(f"{above} is a file, not a folder" if above.exists() else
                          f"the folder {above} does not exist: create it first "
                          f"(mkdir -p {above})", f"--output {out}")
    options = {"sr": sr, "seed": seed, "start": start, "duration": duration, "bits": bits,
               "normalize": normalize}
    kinds = ("recipes", "renders", "checks", "plans")
    # folders made for this run go again if it fails before any render
    with new_folders(out, *(out / k for k in kinds)):
        check_output_folder(out, option="--output")
        folders = {k: check_output_folder(out / k, option="--output") for k in kinds}
        paths, keys = _write_variants(raw, variants, varies, folders, options)
    run = SweepRun(total=total, variants=len(variants), folder=out)
    if write_recipes_only:
        return run

    records: dict[str, dict] = {}
    with ResultsLog(out / "sweep.jsonl", option="sweep log") as log:
        for _, rec in log.scan():
            name = rec.get("name")
            if name in keys and rec.get("key") == keys[name] and rec.get("status") == "ok" \
                    and all(os.path.exists(paths[name][k]) for k in ("render", "check")):
                records[name] = rec
        todo = [v for v in variants if v.name not in records]
        run.skipped = len(variants) - len(todo)
        bar = progress(len(todo)) if progress is not None else None
        try:
            with open_executor(executor, jobs, cluster, needed=bool(todo),
                               check_paths=[str(out.resolve())]) as ex:
                run.where = ex.describe
                items = ((v, (str(Path(paths[v.name]["recipe"]).resolve()),
                              str(Path(paths[v.name]["render"]).resolve()),
                              str(Path(paths[v.name]["check"]).resolve()),
                              str(Path(paths[v.name]["plan"]).resolve()), options))
                         for v in todo)
                for v, res in ex.map_unordered(sweep_task, items):
                    if isinstance(res, TaskFailed):
                        res = {"status": "failed", "error": f"{paths[v.name]['recipe']}: {res}"}
                    rec = {"name": v.name, "index": v.index, "values": v.labels,
                           "key": keys[v.name], **paths[v.name], **res}
                    log.append(rec)
                    records[v.name] = rec
                    run.rendered += res["status"] == "ok"
                    if bar is not None:
                        bar.update(res["status"] == "ok" and res["passed"])
                    if on_record is not None:
                        on_record(rec)
        finally:
            if bar is not None:
                bar.close()
    rows = [records[v.name] for v in variants if v.name in records]
    for rec in rows:
        if rec["status"] != "ok":
            run.failed.append(f"{rec['name']}: {rec['error']}")
        elif rec["passed"]:
            run.passed += 1
        else:
            bad = [t for t in rec["targets"] if not t["passed"]]
            run.failed.append(f"{rec['name']}: failed " + "; ".join(
                f"{t['label']} measured {t['measured']} expected {t['expected']} "
                f"+- {t['tolerance']} {t['unit']}".rstrip() for t in bad))
    from .tables import plot_summary, write_html, write_table_csv

    title = f"Sweep of {base.name}: " + ", ".join(v.text for v in varies)
    run.table_csv = write_table_csv(out / "sweep.csv", rows, varies)
    run.plot = plot_summary(out / "sweep.png", rows, title)
    run.table_html = write_html(out / "sweep.html", rows, varies, title, run.plot,
                                sampled=(len(variants), total))
    return run
