"""Music files as a library: folders, cached analysis, selection by tempo and pulse.

Analysis results (:func:`resonator.analysis.analyze_file`, plus ``beat_onsets``: the beats
moved onto their onsets by :func:`resonator.music.beats.refine_beats`) are cached in a user cache folder,
one JSON file per file *content* (SHA-256 of the bytes) and analysis version (a hash of the
analysis code and resonator's version), so a folder is analysed once, a renamed file is not
analysed again, and an edited file or a new analysis is. The folder is
``$RESONATOR_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/resonator``, else
``~/.cache/resonator``. A folder that cannot be written is skipped with a warning (the
analysis is then redone each run).

A music folder may carry its analysis with it: a :data:`FOLDER_ANALYSIS` file beside the
music holds entries under the same keys (content hash + analysis version), read when the
user cache has none. The bundled music ships one (written by ``python -m
resonator.music.library recipes/music``), so its first play does not analyse for seconds; an
entry of other code or other bytes simply does not match, and the file is then analysed as
usual.

Selection (``select = {tempo = "110..140 BPM", pulse = "significant"}``) keeps the tracks whose
analysis meets every criterion (:data:`CRITERIA`); when none does, the error lists the closest
candidates with their values.
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Callable

from ..errors import RecipeError
from ..units import did_you_mean, parse_duration, quote

#: audio file suffixes a folder contributes (case-insensitive)
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".w64",
                  ".rf64")

#: the file in a music folder that carries the analysis of its music (see the module docstring)
FOLDER_ANALYSIS = "resonator-analysis.json"
_FOLDER_FORMAT = "resonator music analysis 1"

#: selection criteria: name -> (what it reads, unit label, help)
CRITERIA = {
    "tempo": ("tempo in BPM", "BPM", '"110..140 BPM"'),
    "pulse": ("tempo.significant", "", '"significant" (a beat that stands out from noise) or '
              '"any"'),
    "pulse_clarity": ("pulse clarity 0..1", "", '"0.3..1"'),
    "confidence": ("tempo confidence 0..1", "", '"0.5..1"'),
    "duration": ("length", "s", '"2m..10m"'),
    "onset_rate": ("onsets per second", "/s", '"2..8"'),
}


# ------------------------------------------------------------------------------ folders
def folder_tracks(folder, where: str | None = None) -> list[Path]:
    """The audio files directly in ``folder`` (by suffix), sorted by name.

    Raises
    ------
    RecipeError
        The folder is missing, not a folder, or holds no audio file.
    """
    p = Path(folder)
    if not p.exists():
        raise RecipeError(f'music folder "{p}" does not exist', where)
    if not p.is_dir():
        raise RecipeError(f'"{p}" is not a folder (use file = "..." for one file)', where)
    files = sorted((f for f in p.iterdir() if f.suffix.lower() in AUDIO_SUFFIXES and
                    f.is_file()), key=lambda f: f.name.lower())
    if not files:
        raise RecipeError(f'music folder "{p}" holds no audio files '
                          f'({", ".join(AUDIO_SUFFIXES)})', where)
    return files


# ------------------------------------------------------------------------------ cache
_VERSION: str | None = None


def analysis_version() -> str:
    """A short hash of the analysis code (every module of :mod:`resonator.analysis`, and
    :func:`resonator.music.beats.refine_beats`'s module) and resonator's version: cached
    results from other code are not used."""
    global _VERSION
    if _VERSION is None:
        from .. import __version__
        from .. import analysis
        from . import beats

        h = hashlib.sha256(__version__.encode())
        for f in sorted(Path(analysis.__file__).parent.glob("*.py")) + [Path(beats.__file__)]:
            h.update(f.name.encode())
            h.update(f.read_bytes())
        _VERSION = h.hexdigest()[:12]
    return _VERSION


def file_sha256(path) -> str:
    """SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def analysis_key(sha256: str) -> str:
    """The cache key of the analysis of a file whose bytes hash to ``sha256``."""
    from ..cache import digest

    return digest([sha256, analysis_version()])


def analyse(path) -> dict:
    """The report the library keeps for a music file: :func:`resonator.analysis.analyze_file`
    (no loudness) without the path, plus ``beat_onsets`` (the beats moved onto their onsets
    by :func:`resonator.music.beats.refine_beats`, rounded to 0.1 ms)."""
    from ..analysis import analyze_file  # scipy and numba: only when analysing
    from .beats import refine_beats

    rep = analyze_file(path, loudness=False)
    rep.pop("path", None)
    rep["beat_onsets"] = [round(float(b), 4) for b in refine_beats(path, rep.get("beats") or [])]
    return rep


_FOLDERS: dict[tuple, dict] = {}


def folder_analysis(folder) -> dict:
    """The entries (key -> report) of ``folder``'s :data:`FOLDER_ANALYSIS`; empty when it has
    none or it is not one (read once per process and file version)."""
    import json

    p = Path(folder) / FOLDER_ANALYSIS
    try:
        st = p.stat()
    except OSError:
        return {}
    ident = (str(p), st.st_size, st.st_mtime_ns)
    if ident not in _FOLDERS:
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            data = None
        entries = data.get("entries") if isinstance(data, dict) and \
            data.get("format") == _FOLDER_FORMAT else None
        _FOLDERS[ident] = {k: v for k, v in entries.items()
                           if isinstance(v, dict) and "beat_onsets" in v} \
            if isinstance(entries, dict) else {}
    return _FOLDERS[ident]


def write_folder_analysis(folder, *, progress: Callable[[str], None] | None = None) -> Path:
    """Analyse every music file of ``folder`` afresh (:func:`analyse`) and write the
    folder's :data:`FOLDER_ANALYSIS` with their entries (file name, SHA-256, analysis
    version and report under the cache key). Returns the file written."""
    import json

    from ..outputs import write_text

    files = folder_tracks(folder)
    entries, names = {}, {}
    for i, f in enumerate(files):
        (progress or _print_progress)(f"analysing {i + 1}/{len(files)}: {f.name}")
        sha = file_sha256(f)
        key = analysis_key(sha)
        entries[key] = analyse(f)
        names[key] = {"file": f.name, "sha256": sha}
    out = Path(folder) / FOLDER_ANALYSIS
    write_text(out, json.dumps({
        "format": _FOLDER_FORMAT, "analysis_version": analysis_version(),
        "regenerate": "python -m resonator.music.library FOLDER", "files": names,
        "entries": entries}, indent=1, sort_keys=True) + "\n")
    return out


def _print_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class AnalysisCache:
    """Analysis reports of music files, cached per content and analysis version in the user
    cache folder (:func:`resonator.cache.cache_dir`: ``music-analysis/`` and, for the content
    hash of each path, size and time, ``music-files/``).

    Parameters
    ----------
    progress : callable(str), optional
        Told about each file analysed (not about cache hits); default: one line on stderr.
    warn : callable(str), optional
        Told once when the cache cannot be written.
    """

    def __init__(self, *, progress: Callable[[str], None] | None = None,
                 warn: Callable[[str], None] | None = None):
        self.progress = progress or _print_progress
        self.warn = warn or (lambda m: None)
        self._memo: dict[str, dict] = {}
        self._warned = False

    def _key(self, path: Path) -> str:
        """The content hash, remembered per (path, size, mtime) so files are hashed once."""
        from ..cache import digest, read_entry

        st = path.stat()
        ident = digest([str(path.resolve()), st.st_size, st.st_mtime_ns])
        hit = read_entry("music-files", ident)
        if hit is not None and isinstance(hit.get("sha256"), str):
            return hit["sha256"]
        sha = file_sha256(path)
        self._store("music-files", ident, {"path": str(path), "sha256": sha})
        return sha

    def _store(self, kind: str, key: str, payload: dict) -> None:
        from ..cache import cache_dir, write_entry

        try:
            write_entry(kind, key, payload)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                self.warn(f'the music analysis cache "{cache_dir(kind)}" cannot be written '
                          f"({exc}); music is analysed again on every run (set "
                          "RESONATOR_CACHE_DIR)")

    def report(self, path, *, index: int = 0, count: int = 1) -> dict:
        """The analysis report of ``path`` (from the cache or the folder's
        :data:`FOLDER_ANALYSIS`, else analysed and stored)."""
        from ..cache import cache_dir, read_entry

        path = Path(path)
        key = analysis_key(self._key(path))
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        rep = read_entry("music-analysis", key)
        if rep is None or "beat_onsets" not in rep:
            rep = folder_analysis(path.parent).get(key)
        if rep is None:
            where = cache_dir("music-analysis")
            self.progress(f"analysing music {index + 1}/{count}: {path.name}" +
                          (f" (once; cached in {where})" if where else ""))
            rep = analyse(path)
            self._store("music-analysis", key, rep)
        self._memo[key] = rep
        return rep

    def reports(self, paths) -> list[dict]:
        """Reports of several files, in order."""
        paths = list(paths)
        return [self.report(p, index=i, count=len(paths)) for i, p in enumerate(paths)]


# ------------------------------------------------------------------------------ selection
def _value(report: dict, name: str):
    t = report.get("tempo") or {}
    if name == "tempo":
        return t.get("bpm")
    if name == "pulse":
        return bool(t.get("significant"))
    if name == "confidence":
        return t.get("confidence")
    if name == "duration":
        return report.get("duration_s")
    if name == "onset_rate":
        return report.get("onset_rate_per_s")
    return report.get(name)


def parse_select(raw, where: str | None = None) -> dict:
    """Validate a ``select`` table: criterion -> (lo, hi) or, for ``pulse``, a bool.

    Raises
    ------
    RecipeError
        Unknown criteria (with a suggestion) or values that are not ranges.
    """
    from ..units import parse_range
    from ..units import parse_number

    if not isinstance(raw, dict) or not raw:
        raise RecipeError("select must be a table of criteria, for example "
                          '{tempo = "110..140 BPM", pulse = "significant"}; criteria: '
                          + ", ".join(CRITERIA), where)
    out: dict = {}
    for k, v in raw.items():
        if k not in CRITERIA:
            did = did_you_mean(str(k), CRITERIA)
            raise RecipeError(f"unknown selection criterion '{k}'{did or ';'} allowed: "
                              f"{', '.join(CRITERIA)}", where)
        w = f"{where} > {k}" if where else k
        if k == "pulse":
            if v not in ("significant", "any"):
                raise RecipeError(f'pulse must be "significant" or "any", got {quote(v)}', w)
            if v == "significant":
                out[k] = True
            continue
        if k == "tempo":
            def parser(x, *, where=None):
                s = str(x).strip()
                if s.lower().endswith("bpm"):
                    s = s[:-3].strip()
                return parse_number(s, where=where)
        elif k == "duration":
            parser = parse_duration
        else:
            def parser(x, *, where=None):
                s = str(x).strip()
                if s.endswith("/s"):
                    s = s[:-2].strip()
                return parse_number(s, where=where)
        lo, hi = parse_range(v, parser, where=w)
        if lo > hi:
            lo, hi = hi, lo
        out[k] = (lo, hi)
    return out


def _miss(report: dict, crit: dict) -> float:
    """How far a report is from meeting ``crit`` (0: it meets all), relative units."""
    d = 0.0
    for k, want in crit.items():
        v = _value(report, k)
        if k == "pulse":
            d += 0.0 if v else 1.0
            continue
        if v is None:
            d += 10.0
            continue
        lo, hi = want
        scale = max(abs(lo), abs(hi), 1e-9)
        d += max(lo - v, 0.0, v - hi) / scale
    return d


def describe_values(report: dict, names) -> str:
    """``tempo 98.2 BPM, pulse not significant`` for the named criteria."""
    parts = []
    for k in names:
        v = _value(report, k)
        if k == "pulse":
            parts.append("pulse significant" if v else "pulse not significant")
        elif v is None:
            parts.append(f"{k} none")
        elif k == "tempo":
            parts.append(f"tempo {v:.1f} BPM")
        elif k == "duration":
            parts.append(f"duration {v:.0f} s")
        else:
            parts.append(f"{k} {v:.3g}")
    return ", ".join(parts)


def select_tracks(paths: list[Path], reports: list[dict], crit: dict,
                  where: str | None = None) -> list[int]:
    """Indices of the tracks whose reports meet every criterion, in the given order.

    Raises
    ------
    RecipeError
        Nothing matches: the message names the criteria and the closest candidates (up to
        five) with their values.
    """
    keep = [i for i, r in enumerate(reports) if _miss(r, crit) == 0.0]
    if keep:
        return keep
    ranked = sorted(range(len(reports)), key=lambda i: _miss(reports[i], crit))[:5]
    want = ", ".join("pulse significant" if k == "pulse" else
                     f"{k} {lo:g}..{hi:g}{' ' + CRITERIA[k][1] if CRITERIA[k][1] else ''}"
                     for k, (lo, hi) in ((k, v if k != "pulse" else (0, 0))
                                         for k, v in crit.items()))
    near = "; ".join(f'"{paths[i].name}" ({describe_values(reports[i], crit)})' for i in ranked)
    raise RecipeError(f"no music matches select ({want}) among {len(paths)} file(s); closest: "
                      f"{near}", where)


def order_tracks(indices: list[int], order: str, reports: list[dict] | None, seed_key) -> list[int]:
    """Playing order: ``given``, ``shuffle`` (seeded by ``seed_key``), ``tempo-ascending`` or
    ``tempo-descending`` (tracks without a tempo last)."""
    idx = list(indices)
    if order == "given":
        return idx
    if order == "shuffle":
        import numpy as np

        h = int.from_bytes(hashlib.sha256(repr(seed_key).encode()).digest()[:8], "little")
        rng = np.random.default_rng(h)
        return [idx[i] for i in rng.permutation(len(idx))]
    sign = 1.0 if order == "tempo-ascending" else -1.0

    def key(i):
        bpm = _value(reports[i], "tempo")
        return (bpm is None, sign * (bpm or 0.0), i)
    return sorted(idx, key=key)



if __name__ == "__main__":  # regenerate a folder's analysis file: python -m ... FOLDER
    from ..errors import ResonatorError

    try:
        for folder in sys.argv[1:] or ["recipes/music"]:
            print(write_folder_analysis(folder))
    except ResonatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
