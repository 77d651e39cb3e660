"""Rendering a recipe to a file: build, normalise loudness, stream to WAV/FLAC with a sidecar."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import RecipeError
from ..units import (
    check_sample_rate,
    check_seed,
    format_duration,
    parse_positive_duration,
)
from .model import Recipe, layer_kinds
from .session import Session, build_session


#: a window of a longer session gets an estimated loudness stage
#: (:func:`resonator.mastering.estimate`) instead of a measuring pass over the whole session,
#: so its cost stays bounded by the window, not the session (a 10,000-hour session, with
#: max_duration raised, would otherwise be measured for a 2-second window)
MEASURE_WHOLE_MAX_S = 12 * 3600.0


#: a window of a session at least this long keeps only its own frames from the measuring
#: pass (and the true peaks it may need, measured as it goes: :func:`window_cache`), not the
#: whole session
WINDOW_CACHE_MIN_S = 60.0
#: how far below the estimated loudness a window's measuring pass still measures the true
#: peaks around loud hops (:func:`window_cache`). The 16-window estimate lay within 0.3 dB of the
#: measurement on the recipes checked (``benchmarks/play_speed.py --estimate --windows-count
#: 16``); a larger error only costs rendering the missed frames again
WINDOW_KEEP_MARGIN_DB = 1.0


def get_master() -> Callable | None:
    """The loudness normaliser ``resonator.mastering.master``, or None when not available.

    A seam: tests replace it, and renders work (un-normalised, with a warning) before the
    mastering module exists.
    """
    try:
        from .. import mastering
    except ImportError:
        return None
    return getattr(mastering, "master", None)


class Progress:
    """Progress reporting for renders.

    On a terminal: a tqdm bar on stderr with elapsed time, ETA and the current phase. Elsewhere:
    one plain line per phase change on ``stream`` (or nothing when ``quiet``).

    Parameters
    ----------
    session : Session
    start_s : float
        Window start in the session (to name the phase being rendered).
    stream : file, optional
        Default ``sys.stderr``.
    tty : bool, optional
        Force terminal (bar) or plain mode; default: ``stream.isatty()``.
    quiet : bool
        No output at all.
    """

    def __init__(self, session: Session, start_s: float = 0.0, stream=None, tty=None,
                 quiet: bool = False):
        self.session = session
        self.start_s = start_s
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.quiet = quiet
        self.bar = None
        self.phase = None
        self.label = ""

    def stage(self, label: str, total: int) -> Callable[[int, int], None]:
        """A ``progress(done, total)`` callback for one stage ("measuring", "rendering")."""
        self.close()
        self.label = label
        self.phase = None
        if self.quiet:
            return lambda done, total: None
        if self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=label, unit="frame", unit_scale=True,
                            file=self.stream, dynamic_ncols=True,
                            bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining} "
                                       "{postfix}")
        sr = self.session.sr
        base = self.start_s if label == "rendering" else 0.0
        if self.bar is None:
            self.phase = self.session.phase_at(base)
            print(f"{label}: phase {self.phase} (at {format_duration(base)})", file=self.stream,
                  flush=True)
        else:
            self.phase = self.session.phase_at(base)
            self.bar.set_postfix_str(f"phase {self.phase}")

        def update(done: int, total: int) -> None:
            phase = self.session.phase_at(base + done / sr - 1e-9 if done else base)
            if self.bar is not None:
                self.bar.update(done - self.bar.n)
                if phase != self.phase:
                    self.bar.set_postfix_str(f"phase {phase}")
            elif phase != self.phase:
                print(f"{label}: phase {phase} (at {format_duration(base + done / sr)})",
                      file=self.stream, flush=True)
            self.phase = phase
        return update

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _report(m) -> dict:
    rep = getattr(m, "report", None)
    if callable(rep):
        rep = rep()
    out = dict(rep or {})
    out.setdefault("gain_db", getattr(m, "gain_db", None))
    return out


def render_recipe(recipe, out=None, *, fmt: str | None = None, bits: str | None = None,
                  sr: int | None = None, seed: int | None = None, start=None, duration=None,
                  force: bool = False, normalize: bool = True, progress: Progress | bool = False,
                  block_frames: int | None = None, single_pass: bool = True,
                  mastering_cache: bool = True, make_parents: bool = False,
                  quality: float | None = None):
    """Render a recipe to a WAV, FLAC, MP3, OGG/Vorbis or Opus file with a JSON sidecar.

    Parameters
    ----------
    recipe : Recipe, str or Path
        A loaded recipe or its path.
    out : str or Path, optional
        Output file (default ``renders/<recipe stem>.<fmt>`` in the working folder; a window
        gets a name that says which: ``renders/<stem>_24m00s-24m30s.wav``).
    fmt : {"wav", "flac", "mp3", "ogg", "opus"}, optional
        Default: the suffix of ``out``, else wav. Lossy files are decoded and measured after
        encoding (sidecar ``encoded``: loudness, true peak) and kept under the recipe's
        true-peak ceiling (:func:`resonator.render.render_file`).
    bits : {"16", "24", "32f"}, optional
        WAV and FLAC (default 16); a lossy format encodes the float samples (16 is accepted,
        24 and 32f are refused).
    sr, seed : int, optional
        Override the recipe's sample rate and seed. A lossy format whose encoder does not
        take the recipe's rate renders at the nearest rate it takes (Opus: 48000 Hz for
        44100), with a warning; an ``sr`` it does not take is refused.
    quality : float in [0, 1], optional
        Lossy formats: 0 smallest file .. 1 best (default per format,
        :data:`resonator.render.LOSSY`).
    start, duration : seconds or duration strings, optional
        Render only the window [start, start + duration) of the session (``start`` may also
        be a phase's name: its start) (the samples equal a
        full render's there; loudness gain is still measured on the whole session).
    force : bool
        Overwrite existing files.
    make_parents : bool
        Create the output's folder when missing (always done for the default ``renders/``);
        otherwise a missing folder is refused before any work.
    normalize : bool
        Normalise to the recipe's loudness target and true-peak ceiling with
        ``resonator.mastering.master`` (a full analysis pass before the render).
    progress : Progress or bool
        True: progress on stderr (a bar on a terminal, plain lines otherwise).
    block_frames : int, optional
        Engine block size.
    single_pass : bool
        When normalising, render the graph once: the measuring pass also stores the whole
        session (as float32, the precision the mastering stage works from) in a hidden
        temporary file beside the output, from which the exact true peaks are read and the
        window is replayed through the mastering stage (the file is always deleted, also on
        errors and Ctrl-C). A window of a session of a minute or more keeps only its own
        frames, and measures the true peaks around loud hops as the pass goes
        (:func:`window_cache`); a window of a session whose music is stretched or shifted
        measures its stand-ins' loudness (cached, see ``mastering_cache``) and keeps only its
        own neighbourhood's exact samples (:func:`resonator.mastering.master`, ``window``).
        The output is bit-identical to rendering the graph again (``single_pass=False``).
    mastering_cache : bool
        Take the measured mastering stage from the user cache when it holds this session's
        (the same recipe, rate, seed, code and inputs; see :func:`resonator.mastering.
        stage_key`): no measuring pass at all, the same samples. A measured stage is stored
        there for the next render and for ``resonator play``.

    Returns
    -------
    resonator.render.RenderResult
        With an extra attribute ``session`` (the built Session) and ``mastering`` (the
        mastering report dict or None).
    """
    from ..outputs import new_folders
    from ..audio_formats import FORMATS, LOSSY, check_quality, lossy_rate
    from ..render import DEFAULT_BLOCK, check_render_outputs

    if not isinstance(recipe, Recipe):
        from ..loading import load

        recipe = load(recipe)
    if sr is not None:
        sr = check_sample_rate(sr, where="--rate")
    if seed is not None:
        seed = check_seed(seed, where="--seed")
    if fmt is not None and fmt not in FORMATS:
        raise RecipeError(f"format {fmt!r} is not supported: choose {', '.join(FORMATS)}",
                          "--format")
    name = (fmt or (Path(out).suffix.lower().lstrip(".") if out is not None else "") or
            "wav").lower()
    quality = check_quality(quality, name)
    if name in LOSSY and bits not in (None, "16"):
        raise RecipeError(f"applies to wav and flac; {name} encodes the float samples (its "
                          "size and quality: --quality)", "--bits")
    bits = bits or "16"
    notes = []
    if name in LOSSY and lossy_rate(name, sr or recipe.sample_rate) is not None:
        alt = lossy_rate(name, sr or recipe.sample_rate)
        rates = ", ".join(map(str, LOSSY[name][2]))
        if sr is not None:
            raise RecipeError(f"{sr} Hz cannot be encoded as {name}: it takes {rates} Hz "
                              f"(e.g. --rate {alt})", "--rate")
        sr = alt
        notes.append(f"rendered at {alt} Hz: {name} encodes {rates} Hz, not the recipe's "
                     f"{recipe.sample_rate} Hz")
    rate = sr or recipe.sample_rate
    start_s = 0.0 if start is None else recipe.time_of(start, "--start")
    dur_s = None if duration is None else parse_positive_duration(duration, where="--duration",
                                                                    sr=rate)
    if start_s >= recipe.duration_s:
        raise RecipeError(f"--start {format_duration(start_s)} is at or after the end of the "
                          f"session ({format_duration(recipe.duration_s)})")
    if dur_s is None:
        dur_s = recipe.duration_s - start_s
    if start_s + dur_s > recipe.duration_s + 1e-9:
        raise RecipeError(f"the window {format_duration(start_s)} + {format_duration(dur_s)} "
                          f"passes the end of the session ({format_duration(recipe.duration_s)}"
                          "); shorten --duration")
    default_out = out is None
    if default_out:
        out = Path("renders") / default_name(recipe.stem, fmt or "wav", start_s, dur_s,
                                             recipe.duration_s)
    with new_folders(Path(out).parent):  # a default renders/ made for a run that fails goes again
        out, _ = check_render_outputs(out, fmt=fmt, force=force, inputs=recipe_inputs(recipe),
                                      make_parents=make_parents or default_out)
        if fmt is None and out.suffix.lower().lstrip(".") in FORMATS:
            fmt = out.suffix.lower().lstrip(".")
        session = build_session(recipe, sr=sr, seed=seed)
        if (fmt or out.suffix.lower().lstrip(".") or "wav") == "wav":
            # a WAV's size is known: a disk without room for it is refused before the
            # measuring pass (render_file checks again before writing)
            from ..outputs import check_free_space
            from ..render import _BYTES

            check_free_space(out.parent, int(round(dur_s * session.sr)) *
                             session.node.channels * _BYTES.get(bits, 4) + 4096, str(out))
        block = int(block_frames or DEFAULT_BLOCK)
        prog = progress if isinstance(progress, Progress) else \
            (Progress(session, start_s) if progress else None)
        if prog is not None:
            prog.start_s = start_s

        post = None
        report: dict[str, Any] | None = None
        warnings = list(session.warnings) + notes
        cache = None
        master = None
        stage_state = None  # "cached" (from the user cache), "measured" or "estimated"
        t_start = time.perf_counter()
        try:
            m = None
            master = get_master() if normalize else None
            if normalize and master is None:
                warnings.append("loudness not normalised: resonator.mastering is not available")
            key = None
            if master is not None and mastering_cache and _is_real(master):
                from ..mastering import cached_stage, stage_key

                key = stage_key(session)
                m = cached_stage(session, key)
                stage_state = "cached" if m is not None else None
            window = start_s > 0 or dur_s < recipe.duration_s - 1e-9
            if master is not None and m is None and window and _is_real(master) and \
                    session.duration_s > MEASURE_WHOLE_MAX_S:
                from ..mastering import estimate

                m = estimate(session)  # (seconds, where measuring all would take hours)
                stage_state = "estimated"
                warnings.append(
                    f"the loudness stage of this {format_duration(session.duration_s)} session "
                    f"is estimated from 48 short windows (sessions longer than "
                    f"{format_duration(MEASURE_WHOLE_MAX_S)} are not measured whole for a "
                    "window); render the whole session for the measured stage")
            if master is not None and m is None:
                total_frames = int(round(session.duration_s * session.sr))
                cb = prog.stage("measuring", total_frames) if prog else None
                kw = {}
                # the measuring pass keeps the whole session (a window: its own frames, and
                # the true peaks around loud hops): the exact true peaks it needs afterwards
                # and the window to write are then read back, not rendered again
                cache_bytes = total_frames * session.node.channels * 4
                folder = out.parent if str(out.parent) else Path(".")
                # a graph with stand-ins (stretched music) takes its gain from them: a window
                # then renders only its neighbourhood exactly (resonator.mastering.master)
                stand_in = _is_real(master) and _stand_ins(session)
                if stand_in:
                    from ..mastering import cached_loudness

                    loud = cached_loudness(session, key) if key is not None else None
                    if loud is not None:
                        kw["loudness"] = loud
                    if window:
                        kw["window"] = (start_s, dur_s)
                if stand_in and window:
                    if single_pass:
                        from ..mastering import RawCache, stage_span

                        lo, hi = stage_span(int(round(start_s * session.sr)),
                                            int(round(dur_s * session.sr)), total_frames,
                                            session.sr)
                        cache = RawCache(folder, session.node.channels, lo, hi - lo, block)
                        kw["cache"] = cache
                elif single_pass and _accepts(master, "cache") and window and \
                        session.duration_s >= WINDOW_CACHE_MIN_S and _is_real(master):
                    # a window keeps only its own blocks, and the true peaks it may need
                    cache = window_cache(session, folder, start_s, dur_s, block)
                    kw["cache"] = cache
                elif single_pass and _accepts(master, "cache") and \
                        not _disk_too_small(out.parent, cache_bytes, warnings):
                    from ..mastering import RawCache

                    cache = RawCache(folder, session.node.channels, 0, total_frames, block)
                    kw["cache"] = cache
                if _accepts(master, "twin"):
                    # the same graph again: the measuring pass renders the second half of
                    # the session on another thread
                    kw["twin"] = twin_graph(session)
                    if _accepts(master, "split_share"):
                        kw["split_share"] = balanced_split(session)
                m = master(session.node, session.duration_s, sr=session.sr, seed=session.seed,
                           target_lufs=recipe.loudness_lufs, ceiling_dbtp=recipe.true_peak_dbtp,
                           block_frames=block, progress=cb, **kw)
                if key is not None:
                    stage_state = "measured"
                    from ..mastering import store_loudness, store_stage

                    try:
                        if getattr(m, "span", None) is None:  # (a window's plan is partial)
                            store_stage(session, m, key)
                        if stand_in:
                            store_loudness(session, m, key)
                    except OSError as exc:
                        warnings.append(f"the mastering stage was not cached: {exc}")
            if m is not None:
                post, report = m.post, _report(m)
            lanes = None
            if cache is None and stage_state == "cached":
                lanes = _render_lanes(recipe, session, m, fmt, out, start_s, dur_s, block)
            result = _render_and_report(recipe, session, out, fmt, bits, start_s, dur_s, block,
                                        force, prog, post, report, warnings, normalize,
                                        m if report is not None else None, cache, lanes,
                                        stage_state, quality)
            # the whole call (measuring pass included), so realtime_factor is what a user waited for
            result.seconds = time.perf_counter() - t_start
            return result
        finally:
            if cache is not None:
                cache.close()


def window_cache(session: Session, folder: Path, start_s: float, dur_s: float, block: int):
    """The cache the measuring pass of a window render fills
    (:class:`resonator.mastering.WindowCache`): the window's own blocks, to replay, and the
    true peaks of the hops around those loud enough to become true-peak candidates, chosen
    from a quick loudness estimate (:func:`resonator.mastering.estimate`, 16 windows) less
    :data:`WINDOW_KEEP_MARGIN_DB`, measured as the pass goes. Where the estimate is off by
    more, :func:`resonator.mastering.master` renders the missing frames again: the stage is
    exact either way. A window then writes its own size to disk, not the whole session (a
    45-minute session at 44.1 kHz: 0.95 GB)."""
    import math

    from ..mastering import HOP_S, TP_MARGIN_DB, WindowCache, estimate

    r, sr = session.recipe, session.sr
    est = estimate(session, windows=16).measured_lufs
    keep = 0.0  # (silence measured: keep every sounding hop)
    if math.isfinite(est):
        gain_db = r.loudness_lufs - est + WINDOW_KEEP_MARGIN_DB
        keep = 10 ** ((r.true_peak_dbtp - TP_MARGIN_DB) / 20) / 10 ** (gain_db / 20)
    total = int(round(session.duration_s * sr))
    return WindowCache(folder, session.node.channels, int(round(start_s * sr)),
                       int(round(dur_s * sr)), block, hop=max(1, int(round(HOP_S * sr))),
                       keep_level=keep, session_frames=total)


def _clock(seconds: float) -> str:
    """A time for file names: ``45s``, ``1.5s``, ``24m00s``, ``1h02m03s``."""
    ms = int(round(seconds * 1000))
    s, frac = divmod(ms, 1000)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    tail = f"{sec:02d}" + (f".{frac:03d}".rstrip("0") if frac else "") + "s"
    if h:
        return f"{h}h{m:02d}m{tail}"
    if m:
        return f"{m}m{tail}"
    return tail.lstrip("0") if sec >= 10 or not tail.startswith("0") else tail[1:]


def default_name(stem: str, fmt: str, start_s: float, dur_s: float, session_s: float) -> str:
    """The file name of a render without ``-o``: ``<stem>.<fmt>`` for the whole session,
    ``<stem>_<start>-<end>.<fmt>`` for a window (``focus_24m00s-24m30s.wav``), so a window
    never takes the whole render's name."""
    if start_s <= 0 and start_s + dur_s >= session_s - 1e-9:
        return f"{stem}.{fmt}"
    return f"{stem}_{_clock(start_s)}-{_clock(start_s + dur_s)}.{fmt}"


def _stand_ins(session: Session) -> bool:
    from ..mastering import has_stand_ins

    return has_stand_ins(session.node)


def _is_real(master) -> bool:
    from .. import mastering

    return master is getattr(mastering, "master", None)


def _render_lanes(recipe, session, m, fmt, out, start_s, dur_s, block):
    """For a render whose stage came from the cache: the window as two stretches rendered at
    once by two copies of the graph when the output is a WAV, the stage is a pure gain and
    the window is long enough to be worth a second graph (else None: one stream)."""
    from ..render import Renderer

    fmt = fmt or out.suffix.lower().lstrip(".") or "wav"
    first, frames = int(round(start_s * session.sr)), int(round(dur_s * session.sr))
    if fmt != "wav" or not m.stateless or dur_s < 120 or (os.cpu_count() or 1) < 2:
        return None
    mid = first + (int(round(frames * 0.5 / block)) * block or frames // 2)
    twin = twin_graph(session)
    a = Renderer(session.node, sr=session.sr, seed=session.seed, block_frames=block)
    b = Renderer(twin, sr=session.sr, seed=session.seed, block_frames=block)
    return [a.blocks(first, mid), b.blocks(mid, first + frames)]


def twin_graph(session: Session):
    """A second, independent copy of the session's graph (for a second render lane), made
    before the graph renders: :func:`resonator.graph.copy_graph` (about 1.5 ms for
    mettannealing, where building it again takes 70 ms of start-up), or, for a graph that
    cannot be copied (a music layer's readers and locks), the recipe built again. Either
    renders the same samples as the session's graph."""
    from ..graph.core import copy_graph

    return copy_graph(session.node) or \
        build_session(session.recipe, sr=session.sr, seed=session.seed).node


def recipe_inputs(recipe: Recipe) -> list[Path]:
    """Every file a render of ``recipe`` reads: the recipe, what it extends, and the files its
    layers name (parameters of unit ``path``, relative to the recipe, and the existing files
    or folders named by ``table`` parameters, such as a music layer's ``folder``). Outputs
    must be none of them (:func:`resonator.outputs.check_output`)."""
    files = [Path(s.path) for s in recipe.raw.sources]
    kinds = layer_kinds()
    base = Path(recipe.path).parent

    def named(value):  # the strings of a table value (a string, a list, a table by phase)
        if isinstance(value, str):
            yield value
        elif isinstance(value, (list, tuple)):
            for v in value:
                yield from named(v)
        elif isinstance(value, dict):
            for v in value.values():
                yield from named(v)
    for lay in recipe.layers:
        kind = kinds.get(lay.kind)
        for name, value in lay.params.items():
            unit = getattr(getattr(kind, "params", {}).get(name), "unit", None)
            if unit not in ("path", "table"):
                continue
            for v in named(value):
                if not v:
                    continue
                p = Path(v).expanduser()
                p = p if p.is_absolute() else base / p
                if unit == "path" or p.exists():
                    files.append(p)
    return files


#: what a layer's gain (or level) costs a second while it changes over the session (bound
#: to the temperature, a curve): the dB-to-amplitude of every frame, in the unit of
#: :attr:`resonator.layers.base.LayerKind.cost` (``benchmarks/layer_costs.py``: a tone 0.16
#: with a constant gain, 0.29 with a temperature-bound one; 2026-12-05)
VARYING_GAIN_COST = 0.13


def layer_cost(info) -> float:
    """What one second of a sounding layer (a :class:`~resonator.recipe.session.LayerInfo`)
    costs the measuring pass: its kind's declared :attr:`~resonator.layers.base.LayerKind.cost`
    for its parameters, plus :data:`VARYING_GAIN_COST` when its gain or level changes, in
    units of the pass's own work per second (meter, true-peak screen, scratch cache)."""
    from ..layers.base import varies

    kind = layer_kinds().get(info.kind)
    cost = kind.cost_per_s(info.params) if kind is not None else 1.0
    if varies(info.gain) or varies(info.level):
        cost += VARYING_GAIN_COST
    return cost


def balanced_split(session: Session, points: int = 2000) -> float:
    """The share of the session where the measuring pass's work is halved, so that its two
    lanes (:func:`resonator.mastering.master`) end together.

    The work per second is 1 (the pass's own meter, true-peak screen and cache) plus the
    :func:`layer_cost` of every layer sounding then (envelope above zero; a gated layer
    costs next to nothing). For example mettannealing's Wim Hof breath with its cues costs
    about as much while energizing as its metta drone, beat and breath together, so its
    lanes split a little before the middle. The result depends only on the session (never
    on the block size or the machine).
    """
    t = (np.arange(points) + 0.5) * session.duration_s / points
    work = np.ones(points)
    for info in session.layers:
        work += layer_cost(info) * (np.asarray(info.envelope.evaluate(t)) > 0)
    cum = np.cumsum(work)
    i = int(np.searchsorted(cum, cum[-1] / 2))  # the step where half the work is reached
    before = cum[i - 1] if i else 0.0
    return float((i + (cum[-1] / 2 - before) / work[i]) / points)


def _disk_too_small(folder: Path, cache_bytes: int, warnings: list) -> bool:
    """True (and a warning) when the measuring cache would take more than half the free space
    where the output goes: the graph is then rendered twice instead."""
    import shutil

    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError:
        return False
    if cache_bytes <= free / 2:
        return False
    warnings.append(f"the graph was rendered twice: its measuring cache ({cache_bytes / 1e9:.1f} GB) "
                    f"would take more than half the free disk space ({free / 1e9:.1f} GB)")
    return True


def _replay(cache, m, fmt, out, first: int, frames: int):
    """The cached blocks of the window ``[first, first + frames)`` for the render pass: two
    stretches replayed at once on threads when the output is a WAV and the mastering stage is
    a pure gain (nothing limited, so nothing is metered on the way out), else one stream;
    None without a cache."""
    if cache is None:
        return None
    fmt = fmt or out.suffix.lower().lstrip(".") or "wav"
    if fmt == "wav" and m is not None and getattr(m, "stateless", False):
        return cache.split(2, first, first + frames, release=True)
    return cache.blocks(first, first + frames, release=True)


def _accepts(master, name: str) -> bool:
    import inspect

    try:
        return name in inspect.signature(master).parameters
    except (TypeError, ValueError):
        return False


def _render_and_report(recipe, session, out, fmt, bits, start_s, dur_s, block, force, prog,
                       post, report, warnings, normalize, m, cache, lanes=None,
                       stage_state=None, quality=None):
    from ..render import render_file

    metadata = {
        "recipe": str(recipe.path),
        "recipe_sha256": recipe.sha256(),
        "recipe_files": [str(s.path) for s in recipe.raw.sources],
        "title": recipe.title,
        "session_duration_s": session.duration_s,
        "phases": [{"name": n, "start_s": s, "end_s": e} for n, s, e in session.phases],
        "layers": [{"name": i.name, "kind": i.kind, "phases": i.phases} for i in session.layers],
        "loudness": {"target_lufs": recipe.loudness_lufs,
                     "ceiling_dbtp": recipe.true_peak_dbtp,
                     "normalized": report is not None, "result": report,
                     "stage": stage_state},
        "targets": session.targets,
        "warnings": warnings,
    }
    cb = prog.stage("rendering", int(round(dur_s * session.sr))) if prog else None
    try:
        result = render_file(session.node, out, dur_s, sr=session.sr, seed=session.seed,
                             start_s=start_s, fmt=fmt, bits=bits, block_frames=block,
                             force=force, progress=cb, metadata=metadata, post=post,
                             blocks=lanes or _replay(cache, m, fmt, out,
                                                     int(round(start_s * session.sr)),
                                                     int(round(dur_s * session.sr))),
                             inputs=recipe_inputs(recipe), quality=quality,
                             ceiling_dbtp=recipe.true_peak_dbtp if report is not None else None)
    finally:
        if prog:
            prog.close()
    if normalize and report is not None and _report(m) != report:
        # the output stage metered what it wrote: refresh the report in the sidecar
        report = _report(m)
        if result.sidecar is not None and result.sidecar.exists():
            import json

            from ..outputs import write_text
            info = json.loads(result.sidecar.read_text())
            info["loudness"]["result"] = report
            write_text(result.sidecar, json.dumps(info, indent=2, default=str) + "\n")
    result.session = session
    result.mastering = report
    result.warnings = warnings
    return result
