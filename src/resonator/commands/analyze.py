"""``resonator analyze``: tempo, beats, pulse, modulation spectrum, binaural beat and loudness of music.

Only formats: the work is :func:`resonator.analysis.analyze_file`. Nothing heavy is imported at
module level (no librosa, numba or matplotlib), so ``resonator --help`` stays fast.
"""
from __future__ import annotations

import argparse
import os
import sys

NAME = "analyze"
HELP = "analyze the rhythm of existing music: tempo, beats, pulse, modulation bands, binaural beat, loudness"
EXAMPLE = "resonator analyze music/track.flac --json report.json"
MORE_EXAMPLES = (
    "\n  resonator analyze ~/Music/ --jobs 4          (a library: in parallel, resumable)"
    "\n  resonator analyze /shared/music/ --cluster tcp://10.0.0.5:8786 --jsonl music.jsonl"
    "\n  resonator analyze music/ --csv summary.csv --plot plots/"
    "\n  resonator analyze a.wav b.mp3 --json - "
    "\n  resonator analyze adagio.flac --tempo-prior-bpm 50"
    "\n\nfolders (or --jobs, --cluster, --jsonl) run as a library: every audio file below the "
    "folders,"
    "\non worker processes or a Dask cluster; each result is appended to a JSON Lines log as it"
    "\narrives (default ./FOLDER.analysis.jsonl) and the CSV summary (default beside it) is written"
    "\nat the end. Run the same command again to continue: files already analyzed (same content,"
    "\nsame analysis) are skipped. Exit codes: 0 all analyzed, 1 some failed, 2 none or bad input."
)


def configure(parser: argparse.ArgumentParser) -> None:
    from ._batch import add_executor_options

    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="audio files (WAV, FLAC, OGG, MP3; any rate, mono or stereo) or folders "
                             "(every audio file below them, as a library: see below)")
    parser.add_argument("--json", metavar="FILE",
                        help="write the full reports as a JSON list, one object per file ('-' for "
                             "stdout; an existing file is replaced)")
    parser.add_argument("--csv", metavar="FILE",
                        help="write one summary row per file ('-' for stdout)")
    parser.add_argument("--plot", metavar="DIR|FILE.png",
                        help="one PNG per file into the folder DIR (created if missing; named "
                             "after each file, made unique when names repeat), or FILE.png "
                             "(also .svg, .pdf) when one file is analyzed")
    parser.add_argument("--tempo-prior-bpm", metavar="BPM", type=float, default=None,
                        help="the tempo you expect (40-240; default 120): centre of the prior that "
                             "decides between metrical levels, e.g. 50 for a slow movement read at "
                             "twice its beat")
    parser.add_argument("--no-loudness", action="store_true",
                        help="skip the loudness measurement (faster on long files)")
    parser.add_argument("--jsonl", metavar="FILE.jsonl",
                        help="library runs: the results log, one JSON line per file, appended as "
                             "results arrive; an existing log is continued (default "
                             "./FOLDER.analysis.jsonl)")
    add_executor_options(parser)
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="library runs: no line per file, only failures and the summary")


def plot_paths(files: list[str], target: str) -> list[str]:
    """Where each file's plot goes: ``target`` itself when it names a picture (one file), else
    ``target/<stem>.png``; files with the same stem get their extension in the name
    (``a.wav.png``, ``a.flac.png``), and names still repeated get ``-2``, ``-3`` ... in input
    order, so no plot overwrites another."""
    from ..outputs import FIGURE_SUFFIXES

    if os.path.splitext(target)[1].lower() in FIGURE_SUFFIXES:
        return [target] * len(files)
    stems = [os.path.splitext(os.path.basename(f))[0] for f in files]
    names = [os.path.basename(f) if stems.count(st) > 1 else st for f, st in zip(files, stems)]
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = seen.get(n, 0) + 1
        seen[n] = k
        out.append(os.path.join(target, (n if k == 1 else f"{n}-{k}") + ".png"))
    return out


def _check_outputs(args, files: list[str]) -> list[str] | None:
    """Check --json, --csv and --plot before any analysis; the plot path of each file."""
    from ..errors import ResonatorError
    from ..outputs import FIGURE_SUFFIXES, check_output, check_output_folder

    done = []
    for opt, path in (("--json", args.json), ("--csv", args.csv)):
        if path and path != "-":
            check_output(path, option=opt, suffixes=(f".{opt[2:]}",), inputs=files,
                         others=done, force=True)
            done.append(path)
    if args.json == "-" and args.csv == "-":
        raise ResonatorError("only one of --json and --csv can go to standard output", "--csv -")
    if not args.plot:
        return None
    if os.path.splitext(args.plot)[1].lower() in FIGURE_SUFFIXES and not os.path.isdir(args.plot):
        if len(files) > 1:
            raise ResonatorError(f"names one picture but {len(files)} files are analyzed: give a "
                                 "folder for one plot per file", f"--plot {args.plot}")
        check_output(args.plot, option="--plot", suffixes=FIGURE_SUFFIXES, inputs=files,
                     others=done, force=True)
        return plot_paths(files, args.plot)
    _plot_folder_name(args.plot)
    check_output_folder(args.plot, option="--plot")
    pngs = plot_paths(files, args.plot)
    for png in pngs:
        check_output(png, option="--plot", inputs=files, others=done, force=True)
    return pngs


_PICTURE_TYPOS = (".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".eps", ".ps",
                  ".svgz", ".html")


def _plot_folder_name(path: str) -> None:
    """``--plot NAME.jpg`` (a picture format resonator does not write) is a typo, not a folder
    to make; other names (``plots.v2``) and existing folders are folders."""
    from ..errors import ResonatorError
    from ..outputs import FIGURE_SUFFIXES

    ext = os.path.splitext(path.rstrip("/"))[1]
    if ext.lower() in _PICTURE_TYPOS and not os.path.isdir(path):
        raise ResonatorError(f"the extension '{ext}' is not a picture format ("
                             f"{', '.join(FIGURE_SUFFIXES)}); for one plot per file give a "
                             "folder name without an extension", f"--plot {path}")


def _summary(r: dict) -> str:
    t = r["tempo"]
    m = r["modulation"]
    bands = " ".join(f"{k} {v:.2f}" for k, v in m["bands"].items())
    bpm = "none" if t["bpm"] is None else f"{t['bpm']:.2f} BPM"
    level = ""
    alt = t.get("alternatives") or []
    if t.get("level_probability") is not None:
        level = f"; this level {100 * t['level_probability']:.0f} %"
        if t.get("level_model") == "drum kit":
            level += " by the drum-kit model"
        if alt:
            level += f", {alt[0]['bpm']:.2f} BPM {100 * alt[0]['probability']:.0f} %"
    if t["bpm"] is not None and not t["significant"]:
        from ..analysis.tempo import PULSE_CONTRAST

        why = f"z {t['pulse_z']:.1f}"
        if t["pulse_contrast"] < PULSE_CONTRAST:
            why += f", {t['pulse_contrast']:.1f} sd over the tempogram"
        level = f"; no significant pulse: {why}, a guess"
    lines = [
        f"{r['path']}: {r['duration_s']:.1f} s, {r['channels']} ch, {r['sample_rate_hz']} Hz",
        f"  tempo {bpm} (confidence {t['confidence']:.2f}"
        + (", changes" if t["curve"] else "") + level + f"), {len(r['beats'])} beats, "
        f"onsets {r['onset_rate_per_s']:.2f}/s, pulse clarity {r['pulse_clarity']:.2f}",
        f"  modulation {bands}; peaks {', '.join(f'{p:g} Hz' for p in m['peaks_hz']) or 'none'}",
    ]
    b, p = r["breathing"], r["paced_breathing"]
    if b:
        lines.append(f"  breath-like swell {b['breaths_per_min']:.2f}/min, depth {b['depth']:.2f}, rising "
                     f"{100 * b['rise_share']:.0f} % of the cycle" if b["significant"] else
                     f"  no breath-like swell (strongest slow cycle {b['breaths_per_min']:.1f}/min, "
                     f"periodicity {b['periodicity']:.2f}, depth {b['depth']:.2f})")
    if p:
        lines.append(f"  paced breathing to the beat {p['breaths_per_min']:.2f}/min = {p['beats_per_breath']} "
                     f"beats ({p['inhale_beats']} in, {p['exhale_beats']} out)")
    bi = r["binaural"]
    lines.append("  binaural " + (f"{bi['beat_hz']:g} Hz (L {bi['left_hz']:g} Hz, R {bi['right_hz']:g} Hz)"
                                  if bi["beat_hz"] is not None else "none"))
    lo = r["loudness"]
    if lo.get("integrated_lufs") is not None:
        lines.append(f"  loudness {lo['integrated_lufs']:.1f} LUFS, range {lo['loudness_range_lu']} LU, "
                     f"true peak {lo['true_peak_dbtp']:.1f} dBTP")
    return "\n".join(lines)


def _write(path: str, text: str) -> None:
    from ..outputs import echo, write_text

    if path == "-":
        echo(text, end="")
    else:
        write_text(path, text, newline="")


def run(args: argparse.Namespace) -> int:
    from ..errors import AudioFileError, KernelsUnavailable, ResonatorError

    prior = args.tempo_prior_bpm
    if prior is not None and not 40.0 <= prior <= 240.0:
        raise ResonatorError(f"{prior:g} is outside the allowed 40-240 BPM", "--tempo-prior-bpm")
    from ..batch.library import find_audio_files

    if args.jobs or args.cluster or args.jsonl or any(os.path.isdir(p) for p in args.paths):
        return run_library(args)
    files, problems = find_audio_files(args.paths, recursive=False)
    for msg in problems:
        print(f"resonator analyze: skipped: {msg}", file=sys.stderr)
    pngs = _check_outputs(args, files) if files else None
    from ..analysis import analyze_file
    from ..outputs import echo

    from ..progress import TerminalProgress

    it = files
    # one file: its reading and analysing stages on a terminal (a folder: one bar of files)
    bar = TerminalProgress(enabled=len(files) == 1 and sys.stderr.isatty(),
                           units={"reading": "frame"})
    if len(files) > 1 and sys.stderr.isatty():
        from tqdm import tqdm

        it = tqdm(files, desc="analyze", unit="file", file=sys.stderr)
    reports, failed, plotted = [], len(problems), []
    quiet_stdout = "-" in (args.json, args.csv)
    for i, f in enumerate(it):
        png = pngs[i] if pngs else None
        try:
            with bar:
                r = analyze_file(f, loudness=not args.no_loudness, plot=png, prior_bpm=prior,
                                 progress=bar)
        except KernelsUnavailable:
            raise  # every file would fail alike: one line, not one per file
        except ResonatorError as exc:
            failed += 1
            print(f"resonator analyze: skipped: {exc}", file=sys.stderr)
            continue
        except Exception as exc:  # a bug must not end a folder's run half-way, nor print a traceback
            failed += 1
            print(f"resonator analyze: skipped: {f}: the analysis failed ({type(exc).__name__}: {exc}); "
                  "this is a bug in resonator, please report it with the file", file=sys.stderr)
            continue
        reports.append(r)
        if png:
            plotted.append(png)
        if not quiet_stdout:
            echo(_summary(r) + (f"\n  plot {png}" if png else ""))
    if not reports:  # nothing to write: no empty report left behind
        raise AudioFileError("no file could be analyzed (see the messages above)", ", ".join(args.paths))
    if args.json:
        import json

        _write(args.json, json.dumps(reports, indent=1) + "\n")
    if args.csv:
        import csv
        import io

        buf = io.StringIO()
        from ..analysis.report import CSV_FIELDS, csv_row

        w = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in reports:
            w.writerow(csv_row(r))
        _write(args.csv, buf.getvalue())
    if plotted:
        where = args.plot if len(plotted) > 1 else plotted[0]
        print(f"resonator analyze: {len(plotted)} plot{'s' if len(plotted) > 1 else ''} written "
              f"to {where}", file=sys.stderr)
    return 1 if failed else 0


def _one_line(r: dict) -> str:
    """A file's result in one line (library runs)."""
    t = r["tempo"]
    bpm = "no tempo" if t["bpm"] is None else f"{t['bpm']:.2f} BPM"
    if t["bpm"] is not None and not t["significant"]:
        bpm += " (no significant pulse)"
    return f"{r['path']}: {bpm}, confidence {t['confidence']:.2f}, {r['duration_s']:.1f} s"


def run_library(args: argparse.Namespace) -> int:
    """Folders, ``--jobs``, ``--cluster`` or ``--jsonl``: :func:`resonator.batch.analyze_library`."""
    from ..batch.library import analyze_library
    from ..batch.progress import BatchProgress
    from ..errors import AudioFileError
    from ..outputs import echo

    jsonl = args.jsonl
    if jsonl is None:
        folders = [p for p in args.paths if os.path.isdir(p)]
        name = os.path.basename(os.path.abspath(folders[0])) if folders else "library"
        jsonl = f"{name or 'library'}.analysis.jsonl"
    csv = args.csv or os.path.splitext(jsonl)[0] + ".csv"
    if args.plot and os.path.splitext(args.plot)[1].lower() in (".png", ".svg", ".pdf"):
        raise AudioFileError("a library run draws one plot per file: give a folder",
                             f"--plot {args.plot}")
    if args.plot:
        _plot_folder_name(args.plot)
    bar = None

    def progress(total: int):
        nonlocal bar
        bar = BatchProgress(total, "analyze")
        return bar

    def on_record(rec: dict) -> None:
        if rec["status"] != "ok":
            bar.write(f"resonator analyze: skipped: {rec['error']}", sys.stderr)
        elif not args.quiet and args.json != "-":
            bar.write(_one_line(rec["report"]))

    try:
        run = analyze_library(args.paths, jsonl, csv=csv, json=args.json, plot_dir=args.plot,
                              jobs=args.jobs, cluster=args.cluster,
                              loudness=not args.no_loudness, prior_bpm=args.tempo_prior_bpm,
                              progress=progress, on_record=on_record,
                              warn=lambda msg: print(f"resonator analyze: skipped: {msg}",
                                                     file=sys.stderr))
    except KeyboardInterrupt:
        if os.path.exists(jsonl):
            print(f"resonator analyze: every result that arrived is in {jsonl}: run the same "
                  "command again to continue", file=sys.stderr)
        raise
    done = run.analyzed + run.copied + run.skipped
    text = (f"{run.files} audio files: {run.analyzed} analyzed"
            + (f" ({run.where})" if run.analyzed else "")
            + (f", {run.copied} known under another name or date" if run.copied else "")
            + (f", {run.skipped} already in {run.jsonl}" if run.skipped else "")
            + (f", {len(run.failed)} failed" if run.failed else "")
            + f"; results {run.jsonl}, summary {run.csv}")
    if args.json == "-":
        print(text, file=sys.stderr)
    else:
        echo(text)
    if done == 0:
        raise AudioFileError("no file could be analyzed (see the messages above)",
                             ", ".join(args.paths))
    return 1 if run.failed else 0
