"""Batch analysis of a music library: many files, many workers, resumable.

:func:`analyze_library` is the library function behind ``resonator analyze FOLDER``. Each
file is one task (:func:`analyze_task`): a worker reads it from storage every worker sees,
hashes it, analyzes it with :func:`resonator.analysis.analyze_file` and returns the report,
a small record. The client (this process) is the only writer: it appends each record to a
JSON Lines log (:class:`~resonator.batch.results.ResultsLog`) the moment it arrives, and
writes a CSV summary (and optionally a JSON list) at the end.

Resuming, keyed by content and analysis
---------------------------------------
A record holds the file's SHA-256 and the *analysis key* (:func:`analysis_key`: the
analysis version and the options that change a report). A rerun with the same log:

* skips, without reading it, a file whose path, size and modification time match a record
  that succeeded with the same key (the hash is trusted, as ``git status`` trusts its index);
* for other files the worker hashes the content first: content already analyzed with the same
  key (a file renamed, moved or touched) gets a copy of that record under its path, without a
  new analysis; anything else is analyzed;
* a file that failed is tried again.

Faults
------
A file that cannot be read or analyzed is recorded as failed with a one-line reason and the
run goes on. A worker process that dies (killed, out of memory) takes no record with it:
Dask runs its task again on another worker, and the client writes each file's record once.
A task that killed ``distributed.scheduler.allowed-failures`` (default 3) workers is recorded
as failed. Memory per worker stays bounded: a worker analyzes one file at a time (analysis
memory grows about 1 MB per minute of audio), at most four tasks per worker are in flight,
and results leave the worker as soon as they arrive.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..errors import ResonatorError
from ..music.library import AUDIO_SUFFIXES, analysis_version, file_sha256
from .executor import Executor, TaskFailed, open_executor
from .results import ResultsLog

__all__ = ["LibraryRun", "analysis_key", "analyze_library", "analyze_task",
           "find_audio_files"]


def find_audio_files(paths: Iterable, *, recursive: bool = True) -> tuple[list[str], list[str]]:
    """The audio files named by ``paths`` (files as given, folders walked).

    Parameters
    ----------
    paths : iterable of str or Path
        Files and folders.
    recursive : bool
        Walk sub-folders too (hidden ones, starting with ".", are left out).

    Returns
    -------
    files : list of str
        Absolute paths, each once, folders' contents in sorted order.
    problems : list of str
        One message per path that gives no file (missing, a device or pipe, or a folder
        without audio).
    """
    out: list[str] = []
    seen: set[str] = set()
    problems: list[str] = []

    def add(f: str) -> None:
        a = os.path.abspath(f)
        if a not in seen:
            seen.add(a)
            out.append(a)

    for p in map(os.fspath, paths):
        if os.path.isdir(p):
            found = []
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if recursive else []
                found += [os.path.join(root, n) for n in names
                          if n.lower().endswith(AUDIO_SUFFIXES) and not n.startswith(".")]
            if not found:
                problems.append(f"{p}: no audio files in this folder (looked for "
                                f"{', '.join(AUDIO_SUFFIXES)}{' in its sub-folders too' if recursive else ''})")
            for f in sorted(found):
                add(f)
        elif os.path.isfile(p):
            add(p)
        elif os.path.exists(p):  # opening a FIFO with no writer would wait for ever
            problems.append(f"{p}: is a device, pipe or socket, not an audio file")
        else:
            problems.append(f"{p}: no such file or folder")
    return out, problems


def analysis_key(*, loudness: bool = True, prior_bpm: float | None = None) -> str:
    """What a report depends on besides the file: the analysis version and the options.

    Two runs with the same key give the same report for the same bytes, so a record with this
    key and the file's hash needs no new analysis. The version is
    :func:`resonator.music.library.analysis_version` (a hash of the analysis code and
    resonator's version, shared with the music layers' analysis cache).
    """
    prior = "default" if prior_bpm is None else f"{float(prior_bpm):g}"
    return (f"analysis {analysis_version()}; loudness {'on' if loudness else 'off'}; "
            f"prior {prior} BPM")


def analyze_task(path: str, key: str, options: dict, known, plot: str | None = None) -> dict:
    """One file's work on a worker: hash, then analyze unless the content is ``known``.

    Parameters
    ----------
    path : str
        Absolute path of the audio file (as every worker sees it).
    key : str
        :func:`analysis_key` of ``options``.
    options : dict
        Keyword arguments of :func:`resonator.analysis.analyze_file` (``loudness``,
        ``prior_bpm``).
    known : collection of str
        Hashes already analyzed with ``key``: such content is not analyzed again.
    plot : str, optional
        Write the analysis plot here.

    Returns
    -------
    dict
        ``path``, ``size``, ``mtime_ns``, ``sha256``, ``analysis`` (the key) and ``status``:
        ``"ok"`` with ``report``, ``"known"`` (no report: copy the one with this hash), or
        ``"failed"`` with ``error`` (one line).
    """
    rec: dict = {"path": path, "analysis": key}
    try:
        st = os.stat(path)
        rec["size"], rec["mtime_ns"] = st.st_size, st.st_mtime_ns
        rec["sha256"] = file_sha256(path)
    except OSError as exc:
        return {**rec, "status": "failed", "error": f"{path}: cannot read this file "
                                                     f"({exc.strerror})"}
    if rec["sha256"] in known:
        return {**rec, "status": "known"}
    from ..analysis import analyze_file

    try:
        if plot is not None:
            os.makedirs(os.path.dirname(plot), exist_ok=True)
        report = analyze_file(path, plot=plot, **options)
    except OSError as exc:
        return {**rec, "status": "failed", "error": f"{plot}: cannot create the plot's folder "
                                                     f"({exc.strerror})"}
    except ResonatorError as exc:
        return {**rec, "status": "failed", "error": str(exc)}
    except MemoryError:
        return {**rec, "status": "failed", "error": f"{path}: not enough memory to analyze "
                                                     "this file on its worker"}
    except Exception as exc:  # a bug must not end a library's run, nor print a traceback
        return {**rec, "status": "failed",
                "error": f"{path}: the analysis failed ({type(exc).__name__}: {exc}); this is "
                         "a bug in resonator, please report it with the file"}
    return {**rec, "status": "ok", "report": report}


@dataclass
class LibraryRun:
    """What :func:`analyze_library` did.

    Attributes
    ----------
    files : int
        Audio files named by the paths.
    analyzed : int
        Analyzed in this run.
    copied : int
        Content already analyzed under another path or time: record copied.
    skipped : int
        Already in the log (same path, size, time and analysis key): not read at all.
    failed : list of str
        One message per file that failed in this run (and per path that gave no file).
    jsonl, csv, json : Path or None
        The files written.
    where : str
        Where the work ran.
    """

    files: int = 0
    analyzed: int = 0
    copied: int = 0
    skipped: int = 0
    failed: list = field(default_factory=list)
    jsonl: Path | None = None
    csv: Path | None = None
    json: Path | None = None
    where: str = ""


def plot_path(plot_dir, root: str | None, path: str) -> str:
    """Where a file's plot goes: its path below ``root`` mirrored under ``plot_dir``, with
    ``.png`` (``a/b/c.flac`` -> ``PLOTS/a/b/c.png``), so equal names in two folders differ."""
    rel = os.path.relpath(path, root) if root else os.path.basename(path)
    if rel.startswith(".."):
        rel = os.path.basename(path)
    return os.path.join(os.fspath(plot_dir), os.path.splitext(rel)[0] + ".png")


def _common_root(files: list[str]) -> str | None:
    if not files:
        return None
    if len(files) == 1:
        return os.path.dirname(files[0])
    return os.path.commonpath(files)


def analyze_library(paths, jsonl, *, csv=None, json=None, plot_dir=None, jobs: int | None = None,
                    cluster: str | None = None, loudness: bool = True,
                    prior_bpm: float | None = None, progress=None,
                    on_record: Callable[[dict], None] | None = None,
                    warn: Callable[[str], None] | None = None,
                    executor: Executor | None = None) -> LibraryRun:
    """Analyze every audio file under ``paths`` on many workers; resumable.

    Parameters
    ----------
    paths : iterable of str or Path
        Audio files and folders (walked with their sub-folders).
    jsonl : str or Path
        The results log (JSON Lines, one record per file; see the module docstring). Created
        when missing; an existing one is continued.
    csv : str or Path, optional
        Summary written at the end: one row (:data:`resonator.analysis.report.CSV_FIELDS`,
        the columns of ``analyze --csv``) per file of ``paths`` that
        has a report in the log, sorted by path.
    json : str or Path, optional
        The same reports as one JSON list, written at the end.
    plot_dir : str or Path, optional
        One PNG per file analyzed in this run, mirroring the folders below ``paths``.
    jobs : int >= 1, optional
        Worker processes on this machine (default: its cores; 1: in this process).
    cluster : str, optional
        Address of a Dask scheduler (see :class:`~resonator.batch.executor.Executor`).
    loudness : bool
        Measure loudness (part of the analysis key).
    prior_bpm : number in [40, 240], optional
        Centre of the tempo prior (part of the analysis key).
    progress : BatchProgress-like, optional
        Built by the caller from the number of files to do: a callable
        ``progress(total) -> object`` with ``update(ok)``, ``write(text)`` and ``close()``.
    on_record : callable(record), optional
        Called with each record written (``status`` ``"ok"`` or ``"failed"``).
    warn : callable(message), optional
        Called before any work for each path that gives no file (also in ``failed``).
    executor : Executor, optional
        Use this (already entered) executor instead of making one from ``jobs``/``cluster``.

    Returns
    -------
    LibraryRun

    Raises
    ------
    ResonatorError
        No audio file at all, an output that cannot be written, an unreachable cluster.
    """
    from ..outputs import check_output, check_output_folder

    if prior_bpm is not None and not 40.0 <= float(prior_bpm) <= 240.0:
        raise ResonatorError(f"{prior_bpm:g} is outside the allowed 40-240 BPM", "--tempo-prior-bpm")
    files, problems = find_audio_files(paths)
    run = LibraryRun(files=len(files), failed=list(problems))
    for msg in problems if warn is not None else ():
        warn(msg)
    if not files:
        raise ResonatorError("no audio file to analyze: " + "; ".join(problems))
    # every output checked before the first file is read
    inputs = files
    jsonl = check_output(jsonl, option="--jsonl", suffixes=(".jsonl",), inputs=inputs,
                         force=True)
    outs = [jsonl]
    if csv is not None:
        csv = check_output(csv, option="--csv", suffixes=(".csv",), inputs=inputs,
                           others=outs, force=True)
        outs.append(csv)
    if json is not None and str(json) != "-":
        json = check_output(json, option="--json", suffixes=(".json",), inputs=inputs,
                            others=outs, force=True)
    if plot_dir is not None:
        check_output_folder(plot_dir, option="--plot")
    key = analysis_key(loudness=loudness, prior_bpm=prior_bpm)
    options = {"loudness": loudness, "prior_bpm": prior_bpm}
    root = _common_root(files)
    run.jsonl, run.csv = jsonl, csv
    run.json = None if json is None else Path(json) if str(json) != "-" else Path("-")

    with ResultsLog(jsonl, option="--jsonl") as log:
        # the index: per path the last record's (offset, size, mtime, hash, ok with this key);
        # per hash the offset of a report made with this key
        by_path: dict[str, tuple] = {}
        by_hash: dict[str, int] = {}
        for offset, rec in log.scan():
            p = rec.get("path")
            if not isinstance(p, str):
                continue
            ok = rec.get("status") == "ok" and rec.get("analysis") == key
            by_path[p] = (offset, rec.get("size"), rec.get("mtime_ns"), ok)
            if ok and isinstance(rec.get("sha256"), str):
                by_hash[rec["sha256"]] = offset
        todo = []
        for f in files:
            old = by_path.get(f)
            if old is not None and old[3]:
                try:
                    st = os.stat(f)
                except OSError:
                    st = None
                if st is not None and (st.st_size, st.st_mtime_ns) == (old[1], old[2]):
                    run.skipped += 1
                    continue
            todo.append(f)
        bar = progress(len(todo)) if progress is not None else None
        try:
            with open_executor(executor, jobs, cluster, needed=bool(todo),
                               check_paths=[root] if root else []) as ex:
                run.where = ex.describe
                known = ex.share(frozenset(by_hash))
                items = ((f, (f, key, options, known,
                              plot_path(plot_dir, root, f) if plot_dir is not None else None))
                         for f in todo)
                for f, rec in ex.map_unordered(analyze_task, items):
                    if isinstance(rec, TaskFailed):
                        rec = {"path": f, "analysis": key, "status": "failed",
                               "error": f"{f}: {rec}"}
                    if rec["status"] == "known":
                        old = log.read(by_hash[rec["sha256"]])
                        report = dict(old["report"], path=f)
                        rec = {**rec, "status": "ok", "report": report, "copied_from": old["path"]}
                        run.copied += 1
                    elif rec["status"] == "ok":
                        run.analyzed += 1
                    else:
                        run.failed.append(rec["error"])
                    offset = log.append(rec)
                    if rec["status"] == "ok":
                        by_path[f] = (offset, rec.get("size"), rec.get("mtime_ns"), True)
                        by_hash.setdefault(rec["sha256"], offset)
                    if bar is not None:
                        bar.update(rec["status"] == "ok")
                    if on_record is not None:
                        on_record(rec)
        finally:
            if bar is not None:
                bar.close()
        reports = sorted((f, by_path[f][0]) for f in files if f in by_path and by_path[f][3])
        if csv is not None:
            _write_csv(csv, (log.read(o)["report"] for _, o in reports))
        if json is not None:
            _write_json_list(json, (log.read(o)["report"] for _, o in reports))
    return run


def _write_csv(path, reports) -> None:
    import csv as _csv

    from ..analysis.report import CSV_FIELDS, csv_row  # the columns of analyze --csv
    from ..outputs import atomic_open

    with atomic_open(path, "w", newline="", label="--csv") as fh:
        w = _csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in reports:
            w.writerow(csv_row(r))


def _write_json_list(path, reports) -> None:
    """A JSON list written one report at a time (the reports are never all in memory)."""
    import json as _json
    import sys

    from ..outputs import atomic_open

    def emit(fh):
        fh.write("[")
        for i, r in enumerate(reports):
            fh.write(("\n" if i == 0 else ",\n") + _json.dumps(r, indent=1))
        fh.write("\n]\n")

    if str(path) == "-":
        emit(sys.stdout)
        sys.stdout.flush()
        return
    with atomic_open(path, "w", label="--json") as fh:
        emit(fh)
