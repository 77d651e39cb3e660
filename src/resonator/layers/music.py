"""The music layer: your own music as the energizer, streamed from disk.

What it plays (see :mod:`resonator.music.plan`): one ``file``, a list of ``files`` or a
``folder``, in an ``order`` (as given, shuffled with the session seed, by tempo ascending or
descending), optionally narrowed by ``select`` (criteria on the cached ``resonator analyze``
results: ``{tempo = "110..140 BPM", pulse = "significant"}``); each of these may be given per
phase. Tracks follow each other with equal-power crossfades of ``crossfade_s`` (0: gapless);
the list loops until the session ends.

How it plays it:

- streamed: each file is decoded and resampled to the session rate in pages
  (:mod:`resonator.music.tracks`), so memory does not grow with the music's length;
- ``tempo`` (a factor, may follow the temperature: ``{temperature = "0.85..1.0"}``) slows or
  speeds the music with its pitch kept (:mod:`resonator.music.stretch`);
- ``binaural_shift`` moves the left ear's music up by a few hertz (single-sideband shift,
  :mod:`resonator.music.shift`): every component beats binaurally at the shift;
- ``mod_depth`` > 0 multiplies it by ``(1 + depth cos(2 pi phase)) / (1 + depth)``, at
  ``mod_rate`` or locked to the music's beats (``mod_sync``: ``beat``, ``bar``, or
  ``subdivision`` = the whole number of cycles per beat nearest ``mod_rate``), so the peaks
  sit on the beats.

The output at each sample is a function of its position alone (pages, stretch segments and
the shift's FIR are all placed on absolute grids), so windows render on their own.

Target kinds emitted: ``am_rate`` (free modulation), ``music_beat_lock`` (synced modulation),
``music_tempo`` (where the music has a pulse), ``music_shift``, ``music_track`` (which track
plays, per play) and ``clicks`` over the crossfades.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..errors import GraphError, RecipeError
from ..graph.core import Node
from ._common import PhaseShaper, TWO_PI, am_modulator, const, fail, param_targets
from .base import LayerKind, LayerPlan, ParamInfo, is_set, register, when, when_set

MOD_SYNCS = ("off", "beat", "bar", "subdivision")

MUSIC_PARAMS = {
    "file": ParamInfo("path", "", "one audio file (WAV, FLAC, OGG, MP3), relative to the recipe",
                      automatable=False, applies=when_set("file")),
    "files": ParamInfo("table", [], "a list of audio files played in turn (or a table of "
                       "lists keyed by phase)", automatable=False, applies=when_set("files")),
    "folder": ParamInfo("table", "", "a folder whose audio files are played (or a table of "
                        "folders keyed by phase)", automatable=False, applies=when_set("folder")),
    "order": ParamInfo("table", "given", "given, shuffle (session seed), tempo-ascending or "
                       "tempo-descending (or a table keyed by phase)", automatable=False,
                       applies=lambda p: is_set(p.get("files")) or is_set(p.get("folder"))),
    "select": ParamInfo("table", {}, "keep only tracks whose analysis matches, e.g. {tempo = "
                        "\"110..140 BPM\", pulse = \"significant\"} (or a table keyed by phase)",
                        automatable=False, applies=when_set("select")),
    "crossfade_s": ParamInfo("s", 2.0, "equal-power crossfade between tracks and where a track "
                             "loops (0 = gapless)", range=(0.0, 30.0), automatable=False),
    "tempo": ParamInfo("number", 1.0, "playback speed with the pitch kept (0.85 = 15 % slower); "
                       "may follow the temperature", range=(0.5, 2.0)),
    "binaural_shift": ParamInfo("hz", 0.0, "shift the left ear's music up by this many Hz (a "
                                "binaural beat carried by the music); 0 = off",
                                range=(0.0, 40.0)),
    "mod_rate": ParamInfo("hz", 16.0, "amplitude-modulation rate (with mod_sync = "
                          "\"subdivision\": the rate to come nearest)", range=(0.5, 64.0),
                          applies=lambda p: is_set(p.get("mod_depth")) and
                          p.get("mod_sync", "off") in ("off", "subdivision")),
    "mod_depth": ParamInfo("fraction", 0.0, "amplitude-modulation depth (0 = off)",
                           range=(0.0, 1.0)),
    "mod_sync": ParamInfo("choice", "off", "lock the modulation to the music's beats: beat, bar "
                          "or subdivision", choices=MOD_SYNCS, automatable=False,
                          applies=when_set("mod_depth")),
    "beats_per_bar": ParamInfo("int", 4, "beats in a bar (mod_sync = \"bar\")", range=(1, 16),
                               automatable=False, applies=when("mod_sync", "bar")),
}


class MusicNode(Node):
    """A music source as a stereo graph node (a pure function of position).

    Parameters
    ----------
    source : object with ``read(start, frames) -> float32 (2, frames)``
    sr : int
        The rate the source was planned for (renders at another rate are refused).
    label : str
    input_files : list of Path
        The files it reads (a session's cache keys include the paths its nodes hold).
    estimate_source : object with ``read``, optional
        What loudness passes read instead (:attr:`RenderContext.estimate
        <resonator.graph.core.RenderContext>`): the music un-stretched and unshifted, with the
        loudness of ``source`` at a fraction of its cost. Default: ``source``.
    sparse_source : object with ``read``, optional
        The same stand-in for sparse estimates (:attr:`RenderContext.sparse
        <resonator.graph.core.RenderContext>`: short windows scattered over the session),
        reading exactly the frames asked for. Default: ``estimate_source``.
    stands_in : bool
        True when ``estimate_source`` plays other samples than ``source`` (the music
        stretched or shifted): a measured stage then takes its gain from the stand-in
        (:func:`resonator.mastering.master`).
    """

    def __init__(self, source, sr: int, label: str = "Music", *, input_files=(),
                 estimate_source=None, sparse_source=None, stands_in: bool = False,
                 name=None):
        super().__init__(name=name)
        self.source = source
        self.estimate_source = source if estimate_source is None else estimate_source
        self.sparse_source = self.estimate_source if sparse_source is None else sparse_source
        self.stands_in = bool(stands_in) and estimate_source is not None
        self.sr = int(sr)
        self.label = label
        self.input_files = [Path(f) for f in input_files]
        self.channels = 2

    def describe(self):
        return self.label

    def _prepare(self, ctx):
        if ctx.sr != self.sr:
            raise GraphError(f"music was planned for {self.sr} Hz but the render runs at "
                             f"{ctx.sr} Hz; build the layer for the render's sample rate")

    def prefetch(self, start: int, frames: int) -> None:
        """Start, in the background, the work a read of frames [start, start + frames) needs
        (the segments of a tempo stretch): see :meth:`resonator.render.Renderer.prefetch`."""
        if hasattr(self.source, "prefetch"):
            self.source.prefetch(start, frames)

    def _process(self, ctx, start, frames):
        src = self.source if not ctx.estimate else \
            self.sparse_source if ctx.sparse else self.estimate_source
        return src.read(start, frames).astype(np.float64)


_PLANS: dict[int, tuple] = {}


def music_plan(params, ctx):
    """The :class:`~resonator.music.plan.MusicPlan` of a music layer's parameters (planned
    once per parameter set: the layer, its targets and the layers that follow its beats share
    it)."""
    from ..music.plan import plan_music

    hit = _PLANS.get(id(params))
    if hit is not None and hit[0] is params:
        return hit[1]
    synced = params.get("mod_sync", "off") != "off" and const(params["mod_depth"]) != 0.0
    plan = plan_music(params, ctx, tempo=params.get("tempo", 1.0), need_reports=synced)
    _PLANS[id(params)] = (params, plan)
    while len(_PLANS) > 16:
        _PLANS.pop(next(iter(_PLANS)))
    return plan


def followed_beats(ctx, name: str, param: str = "follow"):
    """The :class:`~resonator.music.beats.BeatGrid` of the session's music layer ``name``,
    for a layer that follows it (pulses on the beats, breaths over whole bars)."""
    if ctx.peer is None:
        fail(ctx, param, "following a music layer needs the session (build the recipe)")
    try:
        kind, params, pctx = ctx.peer(name)
    except RecipeError as exc:
        fail(ctx, param, exc.message)
    if kind != "music":
        fail(ctx, param, f'"{name}" is a {kind} layer; follow names a music layer')
    return music_plan(params, pctx).beat_grid(int(params["beats_per_bar"]))


def _sync_rate(plan, params, ctx):
    """(rate curve, phase0) of beat-locked modulation."""
    grid = plan.beat_grid(int(params["beats_per_bar"]))
    sync = params["mod_sync"]
    if sync == "subdivision" and const(params["mod_rate"]) is None:
        fail(ctx, "mod_rate", "with mod_sync = \"subdivision\" the rate must be one value")
    k = 1.0 / grid.beats_per_bar if sync == "bar" else _sync_k(grid, params)
    return grid.rate_curve(k)


def build_music(params, ctx) -> Node:
    """The layer's stereo node (see the module docstring)."""
    from ..music.shift import ShiftedSource

    plan = music_plan(params, ctx)
    stretched = plan.source()
    shift = params.get("binaural_shift", 0.0)
    sc = const(shift)

    src = stretched
    if sc is None or sc != 0.0:
        src = ShiftedSource(stretched, shift, ctx.sr, ctx.duration_s)
    # loudness estimates read the music un-stretched and unshifted (neither changes its
    # loudness)
    quick = plan.estimate_source(paged=True)
    names = sorted({t.path.name for t in plan.tracks})
    label = f"Music({len(plan.tracks)} file{'s' if len(plan.tracks) != 1 else ''}: " \
            f"{', '.join(names[:3])}{', ...' if len(names) > 3 else ''})"
    # (the stand-in differs from the music itself only where it is stretched or shifted)
    changed = src is not stretched or not plan.timemap.identity
    node: Node = MusicNode(src, ctx.sr, label, input_files=[t.path for t in plan.tracks],
                           estimate_source=quick, stands_in=changed,
                           sparse_source=plan.estimate_source())
    depth = params["mod_depth"]
    d = const(depth)
    if d is not None and d == 0:
        return node
    if params.get("mod_sync", "off") == "off":
        return node * am_modulator(params["mod_rate"], depth)
    rate, phase0 = _sync_rate(plan, params, ctx)

    def func(frac, r, *ex):
        dd = ex[0] if ex else d
        return (1.0 + dd * np.cos(TWO_PI * frac)) / (1.0 + dd)
    return node * PhaseShaper(rate, func, () if d is not None else (depth,), phase0=phase0,
                              label="BeatAM")


#: most plays, joins and windows a layer asks ``check`` to measure
MAX_CHECKED = 24


def _spread(items: list, n: int = MAX_CHECKED) -> list:
    if len(items) <= n:
        return items
    return [items[i] for i in np.linspace(0, len(items) - 1, n).round().astype(int)]


def _phase_at(ctx, t: float) -> str:
    for name, a, b in ctx.phases:
        if t < b:
            return name
    return ctx.phases[-1][0] if ctx.phases else "session"


def targets_music(params, ctx):
    """What ``check`` measures on a music layer (see the module docstring).

    Per play (up to :data:`MAX_CHECKED`, spread over the session), in the middle of the part
    where it plays alone: ``music_track`` (the window's analysed tempo is nearest the planned
    file's planned tempo; where the playlist's files differ in tempo by 4 % or more),
    ``music_tempo`` (analysed BPM times the planned tempo factor, within 1 %; when the tempo
    is not 1 throughout) and ``music_beat_lock`` (synced modulation: peaks within 10 ms of
    the planned beats, measured against the plan). Per join: ``music_join`` (no click beyond
    the music's own transients) and ``music_boundary`` (the outgoing file in the 12 s before
    the crossfade, the incoming one in the 12 s after, told by tempo). Across the session:
    ``am_rate`` (free modulation) and ``music_shift``.
    """
    out = []
    depth = const(params["mod_depth"])
    modulated = not (depth is not None and depth == 0)
    sync = params.get("mod_sync", "off")
    if modulated and sync == "off":
        out += param_targets("am_rate", params["mod_rate"], ctx, tolerance=0.1, window_s=8.0)
    shift = params.get("binaural_shift", 0.0)
    if const(shift) is None or const(shift) > 0:
        out += param_targets("music_shift", shift, ctx, tolerance=0.05, window_s=20.0,
                             extra={"hints": {"band": (2000.0, 8000.0)}})
    plan = music_plan(params, ctx)
    dur = ctx.duration_s
    plays = [p for p in plan.schedule() if p["start_s"] < dur - 1.0]
    paths = sorted({p["path"] for p in plays})
    solos = []
    for p in plays:
        a = max(p["start_s"] + p["fade_in_s"], 0.5)
        b = min(p["end_s"] - p["fade_out_s"], dur - 0.5)
        if b - a >= 6.0:
            solos.append((p, a, b))
    tempo_varies = not plan.timemap.identity
    grid = None
    if modulated and sync != "off":
        grid = plan.beat_grid(int(params["beats_per_bar"]))
    # which file plays is told by its tempo: every file's analysed BPM, where it has a pulse
    bpms = {}
    if len(paths) > 1 or tempo_varies:
        for t, rep in zip(plan.tracks, plan.ensure_reports()):
            if rep["tempo"]["bpm"] and rep["tempo"].get("significant"):
                bpms[str(t.path)] = float(rep["tempo"]["bpm"])

    def planned_bpm(c):
        return {p: v * float(plan.timemap.rate(c)) for p, v in bpms.items()}

    def distinct(c, want):
        """The planned tempo of ``want`` is at least 4 % from every other file's."""
        e = planned_bpm(c)
        return want in e and all(abs(math.log(e[want] / v)) > 0.04 for p, v in e.items()
                                 if p != want)
    for p, a, b in _spread(solos):
        c = 0.5 * (a + b)
        base = {"layer": ctx.layer_name, "phase": _phase_at(ctx, c)}
        w = min(b - a, 30.0)
        lo, hi = c - w / 2, c + w / 2
        if len(paths) > 1 and distinct(c, p["path"]):
            out.append(dict(base, kind="music_track", start_s=lo, end_s=hi, expected=1,
                            tolerance=0, hints={"track": p["path"],
                                                 "expected_bpm": planned_bpm(c)}))
        if tempo_varies and p["path"] in bpms:
            r = plan.timemap.rate(np.linspace(lo, hi, 64))
            bpm = bpms[p["path"]]
            want = float(bpm * r.mean())
            out.append(dict(base, kind="music_tempo", start_s=lo, end_s=hi, expected=want,
                            tolerance=0.01 * want + 0.5 * bpm * float(r.max() - r.min())))
        if grid is not None:
            w = min(b - a, 16.0)
            lo, hi = c - w / 2, c + w / 2
            beats = grid.times_s if sync != "bar" else grid.bar_times_s()
            beats = beats[(beats >= lo) & (beats <= hi)]
            if beats.size >= 3:
                cyc = 1.0 if sync == "bar" else float(_sync_k(grid, params))
                out.append(dict(base, kind="music_beat_lock", start_s=lo, end_s=hi,
                                expected=0.0, tolerance=10.0,
                                hints={"beats_s": [round(float(x), 5) for x in beats],
                                        "cycles_per_beat": cyc}))
    for p, q in _spread(list(zip(plays, plays[1:]))):
        j0, j1 = q["start_s"], q["start_s"] + q["fade_in_s"]
        if j0 < 2.5 or j1 > dur - 2.5:
            continue
        base = {"layer": ctx.layer_name, "phase": _phase_at(ctx, j0)}
        out.append(dict(base, kind="music_join", start_s=j0 - 2.0, end_s=j1 + 2.0,
                        expected=1.0, tolerance=0.5,
                        hints={"join_s": (round(j0, 5), round(max(j1, j0 + 0.01), 5))}))
        if p["path"] != q["path"] and distinct(j0 - 6.0, p["path"]) and \
                distinct(j1 + 6.0, q["path"]) and j0 - 12.0 >= p["start_s"] + p["fade_in_s"] \
                and j1 + 12.0 <= q["end_s"] - q["fade_out_s"] and j1 + 12.0 < dur - 0.5:
            out.append(dict(base, kind="music_boundary", start_s=j0 - 12.0, end_s=j1 + 12.0,
                            expected=2, tolerance=0,
                            hints={"join_s": (round(j0, 5), round(j1, 5)),
                                    "out": p["path"], "in": q["path"],
                                    "bpm_before": planned_bpm(j0 - 6.0),
                                    "bpm_after": planned_bpm(j1 + 6.0)}))
    return out


def _sync_k(grid, params) -> float:
    """Modulation cycles per beat for mod_sync beat or subdivision."""
    if params.get("mod_sync") == "subdivision":
        return float(max(1, round(const(params["mod_rate"]) * grid.period_s)))
    return 1.0


def plan_layer_music(params, ctx) -> LayerPlan:
    """Music: broadband and noise-like as a carrier; its modulation rate (a fixed rate; a
    beat-locked one follows the music and is not planned here)."""
    rate = params["mod_rate"] if params.get("mod_sync", "off") == "off" else None
    return LayerPlan(band=(200.0, math.inf), noise_carrier=True, broadband=True, rate=rate,
                     transients=True)


# cost per second (benchmarks/layer_costs.py, 2026-12-05): 130 in mettannealing-music
# (decoding, Rubber Band's time stretch)
register(LayerKind("music", "your own music, streamed from disk: playlists, selection by "
                   "analysis, tempo that cools, binaural shift, beat-locked modulation",
                   MUSIC_PARAMS, build_music, targets_music, plan_layer_music, cost=130.0))
