"""From a music layer's parameters to its plan: tracks, runs, slots, tempo map and beats.

The plan is what a music layer will play, computed without decoding any audio (file headers
only, plus cached analysis when the layer selects, orders by tempo or locks to beats). The
layer kind builds its signal from it, its targets come from it, and other layers (pulse,
breath) read its beat grid.

Per-phase playlists: ``file``, ``files``, ``folder``, ``order`` and ``select`` each take one
value for the whole session or a table keyed by phase names (``default`` for the phases not
named; unnamed phases otherwise keep the previous phase's playlist). Consecutive phases with
the same playlist form one run, which keeps playing across their boundary.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import AudioFileError, RecipeError
from ..units import did_you_mean, quote
from .beats import BeatGrid, smooth_beats
from .library import AnalysisCache, folder_tracks, order_tracks, parse_select, select_tracks
from .playlist import PlaylistSource, Run, Slot, layout
from .stretch import StretchedSource, TimeMap, UnstretchedSource
from .tracks import TrackInfo, track_info

ORDERS = ("given", "shuffle", "tempo-ascending", "tempo-descending")
PLAYLIST_KEYS = ("file", "files", "folder", "order", "select")


@dataclass
class MusicPlan:
    """What a music layer plays.

    Attributes
    ----------
    tracks : list of TrackInfo
        Every file the layer may play (indices used by runs and slots).
    reports : list of dict or None
        Their analysis reports (None when nothing needed them).
    runs : list of Run
    slots : list of Slot
        Track plays in music-time frames at ``sr``.
    timemap : TimeMap
        Session seconds <-> music seconds.
    sr : int
    duration_s : float
    """

    tracks: list
    reports: list | None
    runs: list
    slots: list
    timemap: TimeMap
    sr: int
    duration_s: float
    cache: AnalysisCache | None = field(default=None, repr=False)

    def session_s(self, frames) -> np.ndarray:
        """Session seconds of music-time frames."""
        return self.timemap.session_s(np.asarray(frames, dtype=np.float64) / self.sr)

    def schedule(self) -> list[dict]:
        """Every track play inside the session: ``track`` (file name), ``path``, ``start_s``,
        ``end_s`` (session seconds, crossfades included), ``fade_in_s``, ``fade_out_s``
        (session seconds of the crossfades), ``music_start_s`` (where in the track it starts:
        always 0), ``run``."""
        out = []
        for s in self.slots:
            a, b = self.session_s([s.start, s.end])
            if a >= self.duration_s:
                break
            fi_end, fo_start = self.session_s([s.start + s.fade_in, s.end - s.fade_out])
            out.append({"track": self.tracks[s.track].path.name,
                        "path": str(self.tracks[s.track].path), "start_s": float(a),
                        "end_s": float(b), "fade_in_s": float(fi_end - a),
                        "fade_out_s": float(b - fo_start), "run": s.run,
                        "label": self.runs[s.run].label})
        return out

    def source(self, *, high_quality: bool = False):
        """The layer's signal source in session frames (``read(start, frames)``)."""
        src = PlaylistSource(self.tracks, self.slots, self.sr)
        if self.timemap.identity:
            return src
        return StretchedSource(src, self.timemap, self.sr, high_quality=high_quality)

    def estimate_source(self, *, paged: bool = False):
        """The stand-in loudness passes and estimates read (:class:`~resonator.music.stretch.
        UnstretchedSource`: the music where the plan places it, at its own tempo; the tempo
        changes nothing of its loudness), with its own file readers. ``paged`` False reads
        exactly the frames asked for (an estimate's short scattered windows cost a fraction
        of a page each); True reads in the shared pages (:data:`~resonator.music.tracks.
        PAGES`: a pass over the session, whose pages the render then reuses)."""
        src = PlaylistSource(self.tracks, self.slots, self.sr, paged=paged)
        if self.timemap.identity:
            return src
        return UnstretchedSource(src, self.timemap, self.sr)

    def beat_grid(self, beats_per_bar: int = 4) -> BeatGrid:
        """The analysed beats of every play (on their onsets, jitter smoothed), in session
        seconds.

        A play contributes the beats between the middles of its crossfades (where it is the
        louder track). Raises RecipeError when no track has a beat.
        """
        reports = self.ensure_reports()
        smooth = {}
        times = []
        for s in self.slots:
            if s.track not in smooth:
                rep = reports[s.track]
                smooth[s.track] = smooth_beats(rep.get("beat_onsets") or rep.get("beats") or [])
            beats = smooth[s.track]
            if beats.size == 0:
                continue
            f = s.start + beats * self.sr
            lo, hi = s.start + s.fade_in / 2, s.end - s.fade_out / 2
            f = f[(f >= lo) & (f < hi)]
            times.append(f)
        if not times or sum(x.size for x in times) < 2:
            raise RecipeError("no beat was found in the music (resonator analyze reports no "
                              "tempo for its files); beat sync needs music with a pulse")
        t = self.session_s(np.concatenate(times))
        return BeatGrid(t[(t >= -1.0) & (t <= self.duration_s + 1.0)], beats_per_bar)

    def ensure_reports(self) -> list[dict]:
        if self.reports is None:
            cache = self.cache or AnalysisCache()
            self.reports = cache.reports([t.path for t in self.tracks])
        return self.reports


def _phase_table(value, names: list[str], key: str, where, is_table) -> list:
    """One value per phase from a plain value or a table keyed by phase names."""
    if not is_table(value):
        return [value] * len(names)
    bad = [k for k in value if k not in names and k != "default"]
    if bad:
        did = did_you_mean(str(bad[0]), names + ["default"])
        raise RecipeError(f"unknown phase '{bad[0]}' in the per-phase {key}{did or ';'} phases are: "
                          f"{', '.join(names)}", where)
    out: list = []
    first = next((value[n] for n in names if n in value), value.get("default"))
    for n in names:
        if n in value:
            out.append(value[n])
        elif "default" in value:
            out.append(value["default"])
        else:
            out.append(out[-1] if out else first)
    return out


def _resolve(path, base: Path) -> Path:
    p = Path(str(path)).expanduser()
    return p if p.is_absolute() else base / p


def plan_music(params: dict, ctx, *, tempo=None, cache: AnalysisCache | None = None,
               need_reports: bool = False) -> MusicPlan:
    """Plan a music layer (see the module docstring).

    Parameters
    ----------
    params : dict
        The layer's parameters: ``file``, ``files``, ``folder``, ``order``, ``select``,
        ``crossfade_s`` (plain values as the recipe gives them).
    ctx : LayerContext
    tempo : number, Curve or TimeFunction, optional
        The tempo factor (default 1).
    cache : AnalysisCache, optional
    need_reports : bool
        Analyse every track even when neither order nor select needs it (beat sync).

    Raises
    ------
    RecipeError
        Missing or unreadable files, an empty folder, both a file list and a folder for one
        phase, an unknown order or criterion, nothing matching a selection.
    """
    where = ctx.where or None
    names = [p[0] for p in ctx.phases] or ["session"]
    starts = [p[1] for p in ctx.phases] or [0.0]
    base = Path(ctx.recipe_dir)

    def w(key):
        return f"{where}: {key}" if where else key

    def is_phase_table(v):
        return isinstance(v, dict) and bool(v) and all(k in names or k == "default" for k in v)

    per = {}
    for key in PLAYLIST_KEYS:
        v = params.get(key)
        if v in ("", [], {}):
            v = None
        if key == "select":
            per[key] = _phase_table(v, names, key, w(key), is_phase_table) if v is not None \
                else [None] * len(names)
        else:
            per[key] = _phase_table(v, names, key, w(key), lambda x: isinstance(x, dict))
    # each phase's playlist, as a hashable key
    keys = []
    for i in range(len(names)):
        given = [k for k in ("file", "files", "folder") if per[k][i] not in (None, "", [])]
        if not given:
            raise RecipeError("the music layer needs file = \"...\", files = [...] or "
                              f"folder = \"...\"{' for phase ' + quote(names[i]) if len(names) > 1 else ''}",
                              where)
        if len(given) > 1:
            raise RecipeError(f"give one of file, files or folder, not {' and '.join(given)}"
                              f" (phase {quote(names[i])})", where)
        src = per[given[0]][i]
        if given[0] == "files":
            if isinstance(src, str):
                src = [src]
            if not isinstance(src, list) or not all(isinstance(f, str) for f in src):
                raise RecipeError(f"files must be a list of file names, got {quote(src)}",
                                  w("files"))
            src = ("files", tuple(src))
        elif not isinstance(src, str):
            raise RecipeError(f"{given[0]} must be a string, got {quote(src)}", w(given[0]))
        else:
            src = (given[0], src)
        order = per["order"][i] if per["order"][i] is not None else "given"
        if order not in ORDERS:
            did = did_you_mean(str(order), ORDERS)
            raise RecipeError(f"order {quote(order)} is not known{did or ';'} allowed: "
                              f"{', '.join(ORDERS)}", w("order"))
        sel = per["select"][i]
        keys.append((src, order, None if sel is None else
                     tuple(sorted((k, repr(v)) for k, v in sel.items()))
                     if isinstance(sel, dict) else ("bad", repr(sel)), i))

    # files and their infos (shared between phases)
    tracks: list[TrackInfo] = []
    index: dict[Path, int] = {}

    def add(path: Path, key: str) -> int:
        if path not in index:
            try:
                tracks.append(track_info(path))
            except AudioFileError as exc:
                raise RecipeError(f'{key}: music file "{exc.where}": {exc.message}', where) \
                    from None
            index[path] = len(tracks) - 1
        return index[path]

    lists = []
    for src, order, sel, i in keys:
        kind, val = src
        if kind == "folder":
            paths = folder_tracks(_resolve(val, base), w("folder"))
        elif kind == "file":
            paths = [_resolve(val, base)]
        else:
            if not val:
                raise RecipeError("files is empty: name at least one file", w("files"))
            paths = [_resolve(f, base) for f in val]
        lists.append((paths, [add(p, kind) for p in paths], order, per["select"][i]))

    cache = cache or AnalysisCache(warn=ctx.warn)
    need = need_reports or any(sel is not None or order.startswith("tempo")
                               for _, _, order, sel in lists)
    reports = cache.reports([t.path for t in tracks]) if need else None

    # runs: consecutive phases with the same playlist
    timemap = tempo if isinstance(tempo, TimeMap) else TimeMap(1.0 if tempo is None else tempo,
                                                               ctx.duration_s)
    runs: list[Run] = []
    run_keys: list = []
    for i, (paths, idx, order, sel) in enumerate(lists):
        k = keys[i][:3]
        if run_keys and run_keys[-1] == k:
            r = runs[-1]
            runs[-1] = Run(r.order, r.start, None, f"{r.label}, {names[i]}")
            continue
        if sel is not None:
            crit = parse_select(sel, w("select"))
            keep = select_tracks(paths, [reports[j] for j in idx], crit, w("select"))
            idx = [idx[j] for j in keep]
        ordered = order_tracks(idx, order, reports, (ctx.layer_name, i, "shuffle",
                                                     getattr(ctx, "seed", 0)))
        start = int(round(float(timemap.music_s(starts[i])) * ctx.sr)) if runs else 0
        if runs:
            r = runs[-1]
            runs[-1] = Run(r.order, r.start, start, r.label)
        runs.append(Run(tuple(ordered), start, None, names[i]))
        run_keys.append(k)
    cross = int(round(float(params.get("crossfade_s", 0.0)) * ctx.sr))
    until = int(np.ceil(float(timemap.music_s(ctx.duration_s + 2.0)) * ctx.sr))
    slots = layout(tracks, runs, ctx.sr, cross, until)
    return MusicPlan(tracks, reports, runs, slots, timemap, ctx.sr, ctx.duration_s, cache)


__all__ = ["MusicPlan", "plan_music", "ORDERS", "PLAYLIST_KEYS", "Slot"]
