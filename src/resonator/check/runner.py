"""Running a check: find the targets, scan the file once, read only the windows needed.

:func:`check_file` is the library entry point behind ``resonator check``. Order of work:

1. targets: from the recipe (named on the command line or in the render's JSON sidecar; a
   TOML file with only ``[[target]]`` tables works for any audio file) and ``--target``
   strings; moved to file seconds for window renders (:func:`~.targets.fit_to_file`);
2. one streaming pass (:class:`~.scan.Scan`) for the session-wide measures: loudness,
   short-term loudness, true peak, clicks, per-second spectra;
3. each target's evaluator (:mod:`.kinds`) reads only its (sub-)windows;
4. cooling targets compare with a *plan*: the session graph rendered at a low sample rate
   (16 kHz when the recipe allows) over the trend window only.

The scan runs on its own threads (:class:`~resonator.pipeline.Background`) from the moment
the file is opened, beside the recipe, the plan and the targets that do not read it; those
that do are evaluated after the others, once it has finished (the same calls, so the same
results as one after the other). Memory is bounded by a few blocks plus the windows read
(each at most 30 s, or 60 s for band energy).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..measure.io import open_audio
from .kinds import TARGET_KINDS, Unmeasurable, evaluate
from .targets import (CheckInputError, Target, fit_to_file, targets_from_file,
                      targets_from_session)

__all__ = ["CheckResult", "CheckReport", "CheckContext", "check_file", "read_sidecar"]

MAX_READ_S = 60.0


@dataclass
class CheckResult:
    """One evaluated target (window in file seconds).

    Attributes
    ----------
    target : Target
    measured : float or None
    passed : bool or None
        None: inconclusive (the reading cannot be trusted; ``detail["inconclusive"]`` says
        why).
    detail : dict
    rule : str
        The pass rule as applied, with its numbers and units.
    """

    target: Target
    measured: float | None
    passed: bool | None
    detail: dict = field(default_factory=dict)
    rule: str = ""

    @property
    def status(self) -> str:
        """``"pass"``, ``"fail"`` or ``"inconclusive"``."""
        return "inconclusive" if self.passed is None else "pass" if self.passed else "fail"

    def as_dict(self, offset_s: float = 0.0) -> dict:
        t = self.target
        exp = t.expected if isinstance(t.expected, str) else float(t.expected)
        return {
            "kind": t.kind,
            "name": t.name,
            "window": {"start_s": round(t.start_s, 3), "end_s": round(t.end_s, 3),
                       "phase": t.phase, "session_start_s": round(t.start_s + offset_s, 3),
                       "session_end_s": round(t.end_s + offset_s, 3)},
            "expected": exp,
            "measured": None if self.measured is None else round(self.measured, 6),
            "tolerance": t.tolerance,
            "unit": TARGET_KINDS[t.kind].unit_info.label,
            "rule": self.rule,
            "passed": self.passed,
            "status": self.status,
            "layer": t.layer,
            "source": t.source,
            "detail": self.detail,
        }


@dataclass
class CheckReport:
    """Everything ``resonator check`` found.

    Attributes
    ----------
    file : str
    recipe : str or None
    offset_s : float
        Session second of the file's first sample (window renders).
    duration_s : float
    results : list of CheckResult
    skipped : list of (Target, reason)
    scan : Scan
        The one-pass measures (for plots).
    phases : list of (name, start_s, end_s)
        The recipe's phases in file seconds.
    lints : list of Lint
        The recipe's design lints (:func:`resonator.recipe.lints.lint_recipe`): a render can
        pass every target of a recipe that does not do what it says.
    """

    file: str
    recipe: str | None
    offset_s: float
    duration_s: float
    results: list
    skipped: list
    scan: object = None
    phases: list = field(default_factory=list)
    lints: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when no target failed and at least one passed (inconclusive readings
        neither pass nor fail)."""
        return any(r.passed for r in self.results) and \
            not any(r.passed is False for r in self.results)

    def as_dict(self) -> dict:
        """The JSON structure documented in :mod:`resonator.check`."""
        return {
            "passed": self.passed,
            "file": self.file,
            "recipe": self.recipe,
            "offset_s": self.offset_s,
            "duration_s": round(self.duration_s, 3),
            "results": [r.as_dict(self.offset_s) for r in self.results],
            "skipped": [{"kind": t.kind, "window": {"start_s": round(t.start_s, 3),
                                                    "end_s": round(t.end_s, 3),
                                                    "phase": t.phase},
                         "layer": t.layer, "reason": why} for t, why in self.skipped],
            "lints": [x.as_dict() for x in self.lints],
        }


def read_sidecar(path) -> dict | None:
    """The JSON sidecar of a render (``x.wav`` -> ``x.json``), or None when there is none."""
    side = Path(path).with_suffix(".json")
    if not side.is_file():
        return None
    try:
        data = json.loads(side.read_text())
    except (OSError, ValueError) as exc:
        raise CheckInputError(f"the sidecar cannot be read as JSON ({exc})", str(side)) from None
    return data if isinstance(data, dict) else None


class CheckContext:
    """What evaluators may use: window reads, the scan, the plan.

    Attributes
    ----------
    path : str
    sr, channels : int
    duration_s : float
    scan : Scan
    gain_db : float or None
        The gain the render applied after its graph (its sidecar's normalisation; 0 when
        not normalised), so the file's levels compare with the plan's; None when unknown.
    """

    def __init__(self, path, info, scan, plan=None, offset_s: float = 0.0,
                 gain_db: float | None = None):
        from ..pipeline import Background

        self.path = str(path)
        self.info = info
        self.sr = info.sr
        self.channels = info.channels
        self._job = scan if isinstance(scan, Background) else None
        self._scan = None if self._job is not None else scan
        self.duration_s = scan.duration_s if self._scan is not None else info.duration_s
        self._plan = plan
        self.offset_s = float(offset_s)
        self.gain_db = gain_db
        self._memo = {}
        self.wait_for_scan = True
        self.scan_progress = None

    @property
    def scan(self):
        """The :class:`~.scan.Scan` (may still be running on its own thread: then this waits
        for it, or raises :class:`_ScanPending` while ``wait_for_scan`` is false)."""
        if self._scan is None and self._job is not None:
            if not self._job.done() and not self.wait_for_scan:
                raise _ScanPending
            self._scan = self._job.result(self.scan_progress)
        return self._scan

    def memo(self, key, compute):
        """Cache a measurement shared by several targets (a binaural pair: beat, carrier)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def read(self, start_s: float, end_s: float, limit_s: float = MAX_READ_S):
        """Audio of [start_s, end_s) in file seconds (at most ``limit_s``, centred),
        float64 (channels, n), and the sample rate."""
        start_s = max(0.0, float(start_s))
        end_s = min(float(end_s), self.duration_s)
        if end_s - start_s > limit_s:
            c = 0.5 * (start_s + end_s)
            start_s, end_s = c - limit_s / 2, c + limit_s / 2
        if end_s - start_s < 1.0 / self.sr * 16:
            from ..measure import MeasureError
            raise MeasureError(f"window {start_s:.3f}-{end_s:.3f} s is too short")
        a = int(round(start_s * self.sr))
        b = int(round(end_s * self.sr))
        x = np.empty((self.channels, b - a))
        import soundfile as sf

        from ..measure.io import read_frames, seek_frames

        with sf.SoundFile(self.path) as f:  # float32 blocks into one float64 array
            seek_frames(f, a)
            pos = 0
            while pos < b - a:
                d = read_frames(f, min(1 << 16, b - a - pos))
                if d.shape[0] == 0:
                    break
                x[:, pos : pos + d.shape[0]] = d.T
                pos += d.shape[0]
        return x[:, :pos], self.sr

    def power_track(self, start_s: float, end_s: float, hop_s: float = 0.05):
        """Mean power over channels in hops of ``hop_s`` (streamed): (power, hop centres in
        file seconds)."""
        import soundfile as sf

        hop = max(1, int(round(hop_s * self.sr)))
        a = int(round(max(0.0, start_s) * self.sr))
        b = int(round(min(end_s, self.duration_s) * self.sr))
        out, acc = [], np.zeros(0)
        from ..measure.io import read_frames, seek_frames

        with sf.SoundFile(self.path) as f:
            seek_frames(f, a)
            left = b - a
            while left > 0:
                d = read_frames(f, min(1 << 16, left))
                if d.shape[0] == 0:
                    break
                left -= d.shape[0]
                acc = np.concatenate((acc, np.einsum("nc,nc->n", d, d, dtype=np.float64)
                                      / d.shape[1]))
                whole = (acc.size // hop) * hop
                out.append(acc[:whole].reshape(-1, hop).mean(axis=1))
                acc = acc[whole:]
        pw = np.concatenate(out) if out else np.zeros(0)
        return pw, (a + (np.arange(pw.size) + 0.5) * hop) / self.sr

    def stream_meter(self, start_s: float, end_s: float, true_peak: bool = False):
        """A LoudnessMeter fed with [start_s, end_s) block by block (any length)."""
        from ..measure.io import iter_blocks
        from ..measure.loudness import LoudnessMeter

        meter = LoudnessMeter(self.sr, self.channels, true_peak=true_peak)
        for block in iter_blocks(self.path, 1 << 16, max(0.0, start_s),
                                 min(end_s, self.duration_s)):
            meter.update(block)
        return meter

    def slow_envelope(self, start_s: float, end_s: float, band=None, max_hz: float = 4.0):
        """Channel-averaged Hilbert envelope of a window, streamed (any length).

        Returns (env, env_sr). ``band`` (lo, hi) band-passes first (causal, state carried).
        """
        from scipy import signal

        from ..measure.io import iter_blocks
        from ..measure.modulation import EnvelopeStream

        stream = EnvelopeStream(self.sr, self.channels, max_hz=max_hz)
        sos, zi = None, None
        if band is not None:
            lo, hi = float(band[0]), min(float(band[1]), 0.45 * self.sr)
            sos = signal.butter(2, [lo, hi], "bandpass", fs=self.sr, output="sos")
            zi = np.zeros((sos.shape[0], self.channels, 2))
        for block in iter_blocks(self.path, 1 << 17, max(0.0, start_s),
                                 min(end_s, self.duration_s)):
            if sos is not None:
                block, zi = signal.sosfilt(sos, block, axis=-1, zi=zi)
            stream.update(block)
        stream.finish()
        return stream.envelope, stream.env_sr

    @property
    def has_plan(self) -> bool:
        return self._plan is not None

    def plan_read(self, start_s: float, end_s: float):
        """What the recipe plans for [start_s, end_s) file seconds: the session rendered at
        the plan's low rate (no mastering, the same seed), float64 (channels, n), and that
        rate; None without a recipe. For telling a weak planned component (inconclusive)
        from a missing one (a failure)."""
        if self._plan is None:
            return None
        return self.memo(("plan", round(start_s, 4), round(end_s, 4)),
                         lambda: self._plan.read(start_s, end_s))

    def plan_short_term(self, times_s: np.ndarray, a: float, b: float):
        """Planned short-term loudness (LUFS, any offset) at these window centres (file s)."""
        return self._plan.short_term(times_s, a, b)

    def plan_centroid(self, a: float, b: float):
        """Planned per-second spectral centroid over [a, b] file seconds: (times, Hz)."""
        return self._plan.centroid(a, b)


class Plan:
    """The session graph rendered at a low sample rate, measured on demand.

    At the file's rate when a layer has transients of its own (music): decoded and time-
    stretched at the session's rate, music is not the band-limited copy of itself at a lower
    rate (Rubber Band's frames are samples). The mettannealing-music grooves at 12 kHz moved
    their 3 s loudness by up to 1.0 dB and their envelope peaks by up to 12 ms against 48
    kHz (0.12 dB in the mix's cooling, where the plan at 48 kHz matches to 1e-8 dB).

    Parameters
    ----------
    recipe : Recipe
    offset_s : float
        Session second of the file's first sample.
    seed : int, optional
    """

    RATES = (8000, 12000, 16000, 24000)
    BLOCK = 1 << 15  # frames per block of the plan's renders
    #: the shortest span (s) rendered in two lanes (:meth:`_blocks`)
    LANES_MIN_S = 120.0

    def __init__(self, recipe, offset_s: float, seed=None, sr_hint=None):
        self.recipe = recipe
        self.offset_s = offset_s
        self.seed = seed
        self.sr_hint = sr_hint
        self._session = None
        self._cache = {}

    def session(self):
        if self._session is None:
            from ..errors import ResonatorError
            from ..recipe.session import build_session

            last = None
            rates = [r for r in self.RATES if r < (self.sr_hint or 48000)] + \
                [self.sr_hint or self.recipe.sample_rate]
            for sr in rates:
                try:
                    self._session = build_session(self.recipe, sr=sr, seed=self.seed)
                    break
                except ResonatorError as exc:
                    last = exc
            if self._session is None:
                raise last
            full = self.sr_hint or self.recipe.sample_rate
            if self._session.sr < full and any(i.plan.transients for i in self._session.layers):
                self._session = build_session(self.recipe, sr=full, seed=self.seed)
        return self._session

    def _measure(self, a_file: float, b_file: float):
        """Render the plan over file seconds [a, b] (whole seconds around them) once and
        keep its short-term loudness and per-second centroid (streamed, bounded memory)."""
        from ..measure.loudness import LoudnessMeter
        from .scan import SpectrumStream

        s = self.session()
        a = max(0, math.floor(a_file + self.offset_s))
        b = min(math.ceil(b_file + self.offset_s), s.duration_s)
        key = (a, b)
        if key in self._cache:
            return self._cache[key]
        meter = LoudnessMeter(s.sr, 2, true_peak=False)
        spec = SpectrumStream(s.sr, 2)
        for block in self._blocks(a, b - a):
            meter.update(block)
            spec.update(np.asarray(block, dtype=np.float32))
        tt, lufs = meter.short_term(3.0, 1.0)
        out = (tt + a - self.offset_s, lufs, spec.times_s + a - self.offset_s, spec.centroid_hz)
        self._cache = {key: out}
        return out

    def _blocks(self, start_s: float, duration_s: float):
        """The plan's blocks of the session's [start_s, start_s + duration_s), in order, as
        :func:`resonator.render.iter_blocks` gives them (without their frames).

        A span of :attr:`LANES_MIN_S` or more is rendered in two lanes at once (on a machine
        with two cores or more): this thread renders the first half with the session's graph
        while a second copy (:func:`resonator.recipe.render.twin_graph`) renders the second
        half from a block-grid frame into a temporary file, read back in order afterwards.
        A window render repeats a full render's samples (:class:`resonator.render.Renderer`
        starts it early by the graph's warm-up, and the blocks keep their grid), so the
        blocks are those of one lane, bit for bit. Not done where a filter's warm-up is cut
        short (:attr:`resonator.graph.filters.Filter.warmup_residual` above its 1e-17): the
        second half could then differ in the last bits; nor without a temporary file."""
        import tempfile
        import threading

        from ..recipe.render import twin_graph
        from ..render import Renderer, iter_blocks, until_stopped

        s, B = self.session(), self.BLOCK
        if duration_s < self.LANES_MIN_S or (os.cpu_count() or 1) < 2:
            for _, block in iter_blocks(s.node, duration_s, sr=s.sr, seed=s.seed,
                                        start_s=start_s, block_frames=B):
                yield block
            return
        first = int(round(start_s * s.sr))
        end = first + int(round(duration_s * s.sr))
        one = Renderer(s.node, sr=s.sr, seed=s.seed, block_frames=B)
        spill = None
        if all(getattr(n, "warmup_residual", 0.0) <= 1e-17 for n in one.nodes):
            try:
                spill = tempfile.TemporaryFile(prefix="resonator-plan-")
            except OSError:  # no folder for temporary files: one lane
                pass
        if spill is None:
            for _, block in one.blocks(first, end):
                yield block
            return
        mid = (first + end) // 2 // B * B
        two = Renderer(twin_graph(s), sr=s.sr, seed=s.seed, block_frames=B)
        stop, failed, shapes = threading.Event(), [], []
        with spill:
            def second():
                try:
                    for _, block in until_stopped(two.blocks(mid, end), stop):
                        spill.write(np.ascontiguousarray(block).tobytes())
                        shapes.append(block.shape)
                except BaseException as exc:  # noqa: BLE001 - raised on this thread below
                    failed.append(exc)

            lane = threading.Thread(target=second, name="resonator-plan-lane", daemon=True)
            lane.start()
            try:
                for _, block in one.blocks(first, mid):
                    yield block
                lane.join()
            finally:
                stop.set()
                lane.join()
            if failed and isinstance(failed[0], OSError):  # no room for it: render it here
                for _, block in one.blocks(mid, end):
                    yield block
                return
            if failed:
                raise failed[0]
            spill.seek(0)
            for shape in shapes:
                block = np.empty(shape)
                spill.readinto(memoryview(block).cast("B"))
                yield block

    def read(self, a_file: float, b_file: float):
        """The plan's audio over file seconds [a, b): float64 (channels, n) and its rate."""
        from ..render import render_array

        s = self.session()
        a = max(0.0, a_file + self.offset_s)
        b = min(b_file + self.offset_s, s.duration_s)
        return render_array(s.node, b - a, sr=s.sr, seed=s.seed, start_s=a), s.sr

    def short_term(self, times_s: np.ndarray, a_file: float, b_file: float) -> np.ndarray:
        """3 s loudness of the plan at the given centres (file seconds)."""
        tt, lufs, _, _ = self._measure(a_file, b_file)
        return np.interp(times_s, tt, lufs, left=np.nan, right=np.nan)

    def centroid(self, a_file: float, b_file: float):
        """(times in file seconds, centroid in Hz) of the plan over the window."""
        _, _, ct, c = self._measure(a_file, b_file)
        sel = (ct >= a_file) & (ct <= b_file)
        return ct[sel], c[sel]


def _resolve_recipe_path(name: str, sidecar_dir: Path) -> Path | None:
    p = Path(name)
    if p.is_file():
        return p
    q = sidecar_dir / p
    if q.is_file():
        return q
    q = sidecar_dir / p.name
    return q if q.is_file() else None


def _is_target_file(path: Path) -> bool:
    import tomllib

    from ..recipe.loader import MAX_RECIPE_BYTES

    try:
        if path.stat().st_size > MAX_RECIPE_BYTES:
            return False  # (loading it says what is wrong)
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return "layer" not in data and "extends" not in data


def check_file(path, recipe=None, *, targets: list | None = None,
               tolerance_scale: float = 1.0, use_sidecar: bool = True,
               progress=None) -> CheckReport:
    """Check an audio file against a recipe's written and implied targets.

    Parameters
    ----------
    path : str or Path
        WAV, FLAC, OGG or MP3.
    recipe : str, Path or Recipe, optional
        The recipe (or a TOML file with only ``[[target]]`` tables). Default: the recipe
        named in the render's sidecar (``path`` with ``.json``), when there is one.
    targets : list of Target, optional
        More targets (``--target``, :func:`~.targets.parse_target_arg`): in file seconds,
        or session seconds for those read with a ``session:`` prefix. A window that does not
        lie inside the audio is an error (CheckInputError), never skipped.
    tolerance_scale : float > 0
        Multiplies every tolerance (not the trend rho threshold).
    use_sidecar : bool
        Read the sidecar for the recipe, the window offset and normalisation.
    progress : callable(stage, done, total), optional
        Told ``("scanning", frames read, frames)`` during the one pass over the file, then
        ``("measuring", targets evaluated, targets)`` (:class:`resonator.progress.
        TerminalProgress` draws it on a terminal).

    Returns
    -------
    CheckReport

    Raises
    ------
    CheckInputError, RecipeError, AudioFileError
        Bad input: no targets at all, an empty or unreadable file or recipe, a written
        target outside the audio.
    """
    from ..pipeline import Background, Cancelled
    from .scan import Scan

    if not tolerance_scale > 0:
        raise CheckInputError(f"--tolerance-scale must be > 0, got {tolerance_scale!r}")
    info = open_audio(path)
    if info.frames == 0:
        raise CheckInputError("holds no audio (0 frames): nothing to measure", info.path)
    # the one pass over the file runs on its own threads from here, beside the recipe, the
    # plan and every target that does not read it
    scan_at = [0]

    def run_scan(cancelled):
        def seen(done, total):
            scan_at[0] = done
            if cancelled():
                raise Cancelled("check stopped")
        return Scan(info.path, progress=seen)

    job = Background(run_scan, name="resonator-check-scan")
    try:
        return _check(path, info, job, scan_at, recipe, targets, tolerance_scale, use_sidecar,
                      progress)
    except BaseException:
        job.cancel()
        raise


def _check(path, info, job, scan_at, recipe, targets, tolerance_scale, use_sidecar,
           progress) -> CheckReport:
    side = read_sidecar(path) if use_sidecar else None
    offset = float(side.get("start_s", 0.0) or 0.0) if side else 0.0
    normalized = bool(((side or {}).get("loudness") or {}).get("normalized", False)) \
        if side else None
    rec = None
    recipe_name = None
    all_targets: list[Target] = []
    session_s = None
    plan = None
    if recipe is None and side and side.get("recipe"):
        rp = _resolve_recipe_path(str(side["recipe"]), Path(info.path).parent)
        if rp is None:
            raise CheckInputError(f"the sidecar names the recipe {side['recipe']!r}, which "
                                  "cannot be found; pass the recipe after the file",
                                  str(Path(info.path).with_suffix(".json")))
        recipe = rp
    if isinstance(recipe, (str, os.PathLike)):
        rp = Path(recipe)
        if rp.is_file() and _is_target_file(rp):
            all_targets += targets_from_file(rp)
            recipe_name = str(rp)
        else:  # (imported only here: the recipe layer loads the render engine)
            from ..loading import load

            rec = load(rp)
    elif recipe is not None:
        from ..recipe.model import Recipe

        if not isinstance(recipe, Recipe):
            raise TypeError(f"recipe must be a path or a Recipe, not {type(recipe).__name__}")
        rec = recipe
    if rec is not None:
        recipe_name = str(rec.path)
        seed = (side or {}).get("seed")
        plan = Plan(rec, offset, seed=seed, sr_hint=info.sr)
        # one session (at the plan's low rate) serves the targets and the plan; bands and
        # Nyquist limits use the file's rate
        session = plan.session()
        session_s = session.duration_s
        ts = targets_from_session(session, sr=info.sr)
        if normalized is False:
            ts = [t for t in ts if not t.params.get("needs_normalized")]
        all_targets += ts
    # written targets (--target, a target file) are in file seconds unless they say session
    all_targets = [replace(t, start_s=t.start_s + offset, end_s=t.end_s + offset)
                   if t.params.get("time_base") == "file" else t
                   for t in all_targets + list(targets or [])]
    if not all_targets:
        raise CheckInputError("nothing to check: give a recipe (or a render with a sidecar "
                              "naming one) or --target KIND:START-END:EXPECTED:TOL")
    fit_to_file(all_targets, offset, info.duration_s, session_s)  # bad windows: before work

    def prepare(duration_s):
        kept, skipped = fit_to_file(all_targets, offset, duration_s, session_s)
        skipped += [(t, t.params["unmeasurable"]) for t in kept
                    if t.params.get("unmeasurable")]
        kept = [t for t in kept if not t.params.get("unmeasurable")]
        if normalized is False and rec is not None:
            skipped += [(t, "the render was not loudness-normalised")
                        for t in targets_from_session_placeholder(rec)]
        kept = [replace(t, tolerance=t.tolerance * tolerance_scale)
                if TARGET_KINDS[t.kind].scales_tolerance else t for t in kept]
        return kept, skipped

    shown = [-1]

    def scanning():  # from this thread only, rising
        if scan_at[0] > shown[0]:
            shown[0] = scan_at[0]
            progress("scanning", scan_at[0], info.frames)

    # the targets are evaluated while the scan runs (those that need it wait for it), on the
    # header's length; a file whose frames turn out otherwise is measured again on the
    # scanned length
    kept, skipped = prepare(info.duration_s)
    gain_db = _render_gain_db(side)
    ctx = CheckContext(info.path, info, job, plan, offset, gain_db=gain_db)
    ctx.scan_progress = None if progress is None else scanning
    results = _evaluate_all(kept, ctx, skipped, progress)
    scan = ctx.scan
    if scan.frames == 0:
        raise CheckInputError("holds no audio (0 frames): nothing to measure", info.path)
    if scan.frames != info.frames:
        kept, skipped = prepare(scan.duration_s)
        ctx = CheckContext(info.path, info, scan, plan, offset, gain_db=gain_db)
        results = _evaluate_all(kept, ctx, skipped, progress)
    phases, lints = [], []
    if rec is not None:
        from ..recipe.lints import lint_recipe

        phases = [(p.name, p.start_s - offset, p.end_s - offset) for p in rec.phases]
        lints = lint_recipe(rec)
    return CheckReport(info.path, recipe_name, offset, scan.duration_s, results, skipped, scan,
                       phases, lints)


def _render_gain_db(side) -> float | None:
    """The gain (dB) a render applied after its graph, from its sidecar: 0 un-normalised,
    the normalisation's gain otherwise; None without a sidecar (a file made elsewhere)."""
    loud = (side or {}).get("loudness")
    if not isinstance(loud, dict):
        return None
    if not loud.get("normalized"):
        return 0.0
    gain = (loud.get("result") or {}).get("gain_db")
    return float(gain) if isinstance(gain, (int, float)) else None


class _ScanPending(BaseException):
    """A target needs the scan before it has finished (evaluated after the others). Not an
    Exception: no evaluator's ``except Exception`` takes it for a measuring fault."""


def _evaluate_all(kept, ctx: CheckContext, skipped: list, progress) -> list:
    """Evaluate every target, in order of the results; those that need the scan while it
    still runs are evaluated last (the same calls: the same results). Unmeasurable ones go
    to ``skipped`` (in the targets' order).

    Progress keeps the order of a scan followed by the measuring: while the scan runs, its
    progress is shown (between targets, and while waiting for it); once it has ended, the
    targets already evaluated are counted, then each further one."""
    n = len(kept)
    out: list = [None] * n
    later = []
    done = 0
    live = progress is None or ctx._job is None

    def count(k):
        nonlocal live
        if progress is None:
            return
        if not live and ctx._job.done():
            ctx.scan_progress()  # its last position: the whole file
            for j in range(k):
                progress("measuring", j, n)
            live = True
        if live:
            progress("measuring", k, n)
        else:
            ctx.scan_progress()

    for wait in (False, True):
        ctx.wait_for_scan = wait
        if wait and later and not live:
            ctx._job.result(ctx.scan_progress)
        for i in (later if wait else range(n)):
            count(done)
            try:
                r = evaluate(kept[i], ctx)
            except _ScanPending:
                later.append(i)
                continue
            except Unmeasurable as exc:  # planned components overlap: skipped with the reason
                out[i] = exc.message
            except Exception:
                if ctx._job is not None:  # a fault of the file: the scan says it first
                    ctx._job.result()
                raise
            else:
                if r.passed is None:
                    r.detail.setdefault("inconclusive", "the reading cannot be trusted")
                out[i] = CheckResult(kept[i], r.measured, r.passed, r.detail, r.rule)
            done += 1
    if progress is not None and not live:
        ctx._job.result(ctx.scan_progress)
    count(n)
    skipped += [(t, r) for t, r in zip(kept, out) if isinstance(r, str)]
    return [r for r in out if isinstance(r, CheckResult)]


def targets_from_session_placeholder(rec) -> list[Target]:
    """Loudness and true-peak targets left out for an un-normalised render (for the report)."""
    return [Target("loudness", 0.0, rec.duration_s, rec.loudness_lufs, 0.5, source="session"),
            Target("true_peak", 0.0, rec.duration_s, rec.true_peak_dbtp, 0.1,
                   source="session")]
