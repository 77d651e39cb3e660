"""The mastered session as a stream of blocks from any moment, with no audio device.

:class:`SessionStream` is what ``resonator play`` sends to the sound card and what a web app
can send over a socket: ``read(frames)`` returns the next frames of the session after the
mastering stage, as float32, exactly the samples a render of the same span at the same rate
has before quantisation (``mastering.post`` applied to :func:`resonator.render.render_array`).
Between reads the listener may seek, pause and resume, or shift the session temperature:

* the stream starts with a :data:`FADE_S` fade-in (no click when it starts mid-session);
* **seek** fades the sound out over :data:`FADE_S` (those frames are the next ones of the
  session), then starts at the exact frame asked for with a fade-in of the same length;
* **pause** fades out the same way and then gives silence without moving; **resume** goes on
  at the next frame with a fade-in: nothing is skipped or repeated;
* **set_temperature(offset)** shifts the planned temperature by ``offset`` (clamped to
  0..1): the recipe is built again with the shifted temperature, so every temperature-bound
  parameter follows, gliding over :data:`GLIDE_S` (a raised cosine) from the current value;
  the new graph equals the old one up to the current frame and takes over through a
  :data:`XFADE_S` crossfade, so nothing clicks. A seek keeps the offset.

Ordinary renders are untouched by any of this: they never see an override.

The mastering stage comes, in order, from ``mastering=`` when given, from the user cache
(:func:`resonator.mastering.cached_stage`), else from an estimate on sparse windows of the
session (:func:`resonator.mastering.estimate`, within 0.5 dB of the full measurement on
every shipped recipe) while the exact stage is measured on a background thread at low
priority (once a second of sound is out, so that it does not delay the first); when it
arrives the gain glides to it over :data:`GAIN_GLIDE_S` and is stored in the cache, so the
next start is exact from its first sample.
"""
from __future__ import annotations

import math
import threading

import numpy as np

FADE_S = 0.01  #: de-click ramp of pause, resume and seek
XFADE_S = 0.05  #: crossfade from the old graph to the rebuilt one on a temperature override
GLIDE_S = 2.0  #: how long a temperature override glides
GAIN_GLIDE_S = 3.0  #: how long the gain glides from the estimate to the measured stage
DEFAULT_BLOCK = 4096  #: engine block of a stream (the samples do not depend on it)


def _ramp(n: int, i0: int, length: int, rising: bool) -> np.ndarray:
    """Raised-cosine ramp values for ramp samples ``i0 .. i0 + n`` of ``length`` (0 before
    the ramp, 1 after it when rising)."""
    i = np.arange(i0, i0 + n, dtype=np.float64)
    w = 0.5 - 0.5 * np.cos(np.pi * np.clip((i + 0.5) / length, 0.0, 1.0))
    return w if rising else 1.0 - w


class _Source:
    """One prepared graph read forward from a frame, in pieces of any length."""

    def __init__(self, session, frame: int, block_frames: int, end: int):
        from ..render import Renderer

        self.session = session
        self.renderer = Renderer(session.node, sr=session.sr, seed=session.seed,
                                 block_frames=block_frames)
        self.end = end
        self.start(frame)

    def start(self, frame: int) -> None:
        self.pos = int(frame)
        self._gen = self.renderer.blocks(self.pos, self.end) if self.pos < self.end else None
        self._rest = None

    def pull(self, k: int) -> np.ndarray:
        """The next ``k`` frames (fewer at the session's end) as float64 (channels, m)."""
        pieces, need = [], k
        while need > 0 and self.pos < self.end:
            if self._rest is None:
                _, block = next(self._gen)
                self._rest = block
            b = self._rest
            m = min(need, b.shape[1])
            pieces.append(b[:, :m])
            self._rest = None if m == b.shape[1] else b[:, m:]
            self.pos += m
            need -= m
        ch = self.session.node.channels
        if not pieces:
            return np.zeros((ch, 0))
        return np.concatenate(pieces, axis=1) if len(pieces) > 1 else np.array(pieces[0])


class SessionStream:
    """Blocks of the mastered session from any moment: seek, pause, temperature override.

    Parameters
    ----------
    session : Session, Recipe or path
        A built session (:func:`resonator.recipe.session.build_session`), a loaded recipe or
        the path of a recipe or ``.sbg`` sequence (loaded with :func:`resonator.loading.load`).
    start_s : float >= 0
        Where to start, in seconds of the session (before its end).
    mastering : Mastering, optional
        The mastering stage to apply (default: cached, else estimated then measured).
    measure : bool
        When the stage is estimated, measure the exact one on a background thread at low
        priority, store it in the cache and glide to it (default True).
    block_frames : int > 0
        Engine block size (the samples do not depend on it).

    Attributes
    ----------
    sr : int
    channels : int
    frames : int
        Length of the session in frames.
    mastering : Mastering
        The stage in use (``mastering.estimated`` until the measured one arrives).
    finished : bool
        True once :meth:`read` reached the session's end.

    Notes
    -----
    Controls may be called from any thread; they take effect at the next :meth:`read`.
    :meth:`rewind` is for a caller that buffers what it read (a player) and wants a control
    to act at a frame it has not played yet: it must not run during a :meth:`read`.

    Examples
    --------
    >>> stream = SessionStream("recipes/focus.toml", start_s=600)     # doctest: +SKIP
    >>> block = stream.read(4800)        # float32 (4800, 2): 0.1 s from 10:00
    >>> stream.set_temperature(+0.1)     # hotter: bound parameters glide there over 2 s
    >>> stream.seek(1200); stream.pause(); stream.resume()
    """

    def __init__(self, session, *, start_s: float = 0.0, mastering=None, measure: bool = True,
                 block_frames: int = DEFAULT_BLOCK):
        from .. import mastering as mastering_mod
        from ..errors import ResonatorError
        from ..recipe.session import Session, build_session

        if not isinstance(session, Session):
            if not hasattr(session, "layers"):
                from ..loading import load

                session = load(session)
            session = build_session(session)
        self.session = session
        self.recipe = session.recipe
        self.sr = int(session.sr)
        self.channels = int(session.node.channels)
        self.frames = int(round(session.duration_s * self.sr))
        start = float(start_s)
        if not (math.isfinite(start) and 0 <= int(round(start * self.sr)) < self.frames):
            from ..units import format_duration

            raise ResonatorError(f"start {format_duration(start)} is outside the session "
                                 f"(0s to {format_duration(session.duration_s)})")
        start = int(round(start * self.sr))
        self.block_frames = int(block_frames)
        self.fade_frames = max(1, int(round(FADE_S * self.sr)))
        self._lock = threading.Lock()
        self._commands: list[tuple] = []
        self._src = _Source(session, start, self.block_frames, self.frames)
        # position-based states, so a rewind replays them exactly
        self._xfade = None  # (old source, first frame, length)
        self._fade_in = start  # first frame of a fade-in (playback starts with one)
        self._fade_out = None  # (first frame, action when done)
        self._gain = None  # (first frame, length, start ratio dB): estimate -> measured
        self._offset_pts: list[tuple] = []  # temperature offset curve (t, v[, shape])
        self._offset = 0.0
        self._requested = 0.0
        self._paused = False
        self._job = None  # a BackgroundMeasurement, or a function that starts one
        self._frames_out = 0  # frames read (the background measurement waits for a second)
        #: counts the changes that a rewind cannot undo (commands, jumps)
        self.epoch = 0
        self.finished = False
        self.measure_error: str | None = None
        # the first block's slow parts (a music stretch) start on their threads now, beside
        # the cache lookup and the estimate
        self._src.renderer.prefetch(start)
        if mastering is None:
            mastering = mastering_mod.cached_stage(session)
            if mastering is None:
                mastering = mastering_mod.estimate(session, renderer=self._src.renderer)
                self._src.start(start)  # the estimate used this graph: back to the start
                if not mastering.estimated:  # a short session was measured whole
                    try:
                        mastering_mod.store_stage(session, mastering)
                    except OSError:
                        pass
                elif measure:  # starts once a second is read (not to delay first audio)
                    self._job = lambda: mastering_mod.BackgroundMeasurement(session)
        self.mastering = mastering

    # ------------------------------------------------------------------ controls
    def _command(self, *cmd) -> None:
        with self._lock:
            self._commands.append(cmd)

    def seek(self, t_s: float) -> None:
        """Go on at ``t_s`` seconds (clamped into the session), exactly at that frame, after
        a :data:`FADE_S` fade-out and with a fade-in of the same length."""
        frame = min(max(int(round(float(t_s) * self.sr)), 0), self.frames - 1)
        self._command("seek", frame)

    def pause(self) -> None:
        """Fade out over :data:`FADE_S` and then give silence without moving."""
        self._command("pause")

    def resume(self) -> None:
        """Go on from the next frame, fading in."""
        self._command("resume")

    def set_temperature(self, offset: float) -> None:
        """Shift the planned temperature by ``offset`` (-1..1; the result is clamped to
        0..1). Every temperature-bound parameter glides to its new value over
        :data:`GLIDE_S` from the next frame on."""
        offset = float(offset)
        if not (math.isfinite(offset) and -1.0 <= offset <= 1.0):
            from ..errors import ResonatorError

            raise ResonatorError(f"a temperature offset is a number from -1 to 1, got {offset!r}")
        with self._lock:
            self._commands.append(("temperature", offset))
            self._requested = offset

    def rewind(self, frame: int) -> None:
        """Go back to ``frame`` (already read, in the current :attr:`epoch`) and read on from
        there as if the frames after it had not been read: for a player that drops what it
        buffered beyond ``frame`` so that a control acts sooner."""
        self._src.start(frame)
        if self._xfade is not None:
            old, first, length = self._xfade
            if frame < first + length:
                old.start(max(frame, first))
        self.finished = False

    @property
    def duration_s(self) -> float:
        """Length of the session in seconds."""
        return self.session.duration_s

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def silent(self) -> bool:
        """Paused and faded out: :meth:`read` gives silence until :meth:`resume`."""
        return self._paused and self._fade_out is None

    @property
    def pending(self) -> bool:
        """Controls wait for the next :meth:`read`."""
        return bool(self._commands)

    @property
    def position(self) -> int:
        """The next frame :meth:`read` gives (commands not yet applied aside)."""
        return self._src.pos

    @property
    def position_s(self) -> float:
        return self._src.pos / self.sr

    @property
    def temperature_offset(self) -> float:
        """The offset asked for last (the sound may still be gliding to it)."""
        return self._requested

    def temperature(self, t_s: float | None = None) -> tuple[float, float]:
        """(planned, heard) session temperature at ``t_s`` (default: the current position)."""
        t = np.array([self.position_s if t_s is None else float(t_s)])
        planned = float(self.session.temperature.evaluate(t)[0])
        return planned, float(np.clip(planned + self._offset_at(t)[0], 0.0, 1.0))

    def _offset_at(self, t: np.ndarray) -> np.ndarray:
        if not self._offset_pts:
            return np.zeros_like(t)
        from ..graph.curves import Curve

        return Curve(self._offset_pts).evaluate(t)

    # ------------------------------------------------------------------ samples
    def read(self, frames: int) -> np.ndarray:
        """The next ``frames`` frames as float32 ``(frames, channels)`` (silence while paused
        and after the session's end; :attr:`finished` is then True)."""
        return self.read_spans(frames)[0]

    def read_spans(self, frames: int):
        """:meth:`read`, and where its frames come from: a list of ``(offset, length,
        session_frame)``, ``session_frame`` None for silence, split wherever the position
        jumps."""
        frames = int(frames)
        out = np.zeros((frames, self.channels), dtype=np.float32)
        spans: list[tuple] = []
        with self._lock:
            commands, self._commands = self._commands, []
        for cmd in commands:
            self._apply(cmd)
        self._poll_job()
        self._frames_out += frames
        i = 0
        while i < frames:
            if self.silent:
                break
            pos = self._src.pos
            k = frames - i
            for edge in self._edges():
                if edge > pos:
                    k = min(k, edge - pos)
            x = self._src.pull(k)
            m = x.shape[1]
            if m == 0:
                self.finished = True
                break
            if self._xfade is not None:
                old, first, length = self._xfade
                y = old.pull(m)
                if y.shape[1] == m:
                    x = y + (x - y) * _ramp(m, pos - first, length, rising=True)
                if pos + m >= first + length:
                    self._xfade = None
            y = self.mastering.apply(x, pos)
            if self._gain is not None:
                first, length, ratio_db = self._gain
                y = y * 10.0 ** (ratio_db * _ramp(m, pos - first, length, rising=False) / 20.0)
                if pos + m >= first + length:
                    self._gain = None
            if self._fade_in is not None:
                y *= _ramp(m, pos - self._fade_in, self.fade_frames, rising=True)
                if pos + m >= self._fade_in + self.fade_frames:
                    self._fade_in = None
            out[i:i + m] = y.T
            spans.append((i, m, pos))
            i += m
            if self._fade_out is not None:
                first, then = self._fade_out
                out[i - m:i] *= _ramp(m, pos - first, self.fade_frames,
                                      rising=False)[:, None].astype(np.float32)
                if pos + m >= first + self.fade_frames:
                    self._fade_out = None
                    self.epoch += 1
                    then()
        if i < frames:
            spans.append((i, frames - i, None))
        return out, spans

    def _edges(self):
        """Frames where a state ends (a read stops there so the next piece sees the change)."""
        if self._fade_out is not None:
            yield self._fade_out[0] + self.fade_frames
        if self._xfade is not None:
            yield self._xfade[1] + self._xfade[2]

    # ------------------------------------------------------------------ internals
    def _apply(self, cmd) -> None:
        self.epoch += 1
        kind = cmd[0]
        pos = self._src.pos
        if kind == "seek":
            frame = cmd[1]
            if self._paused:
                self._jump(frame, fade=False)
            else:
                self._fade_out = (pos, lambda: self._jump(frame, fade=True))
        elif kind == "pause":
            if not self._paused:
                self._paused = True
                self._fade_out = (pos, lambda: None)
        elif kind == "resume":
            if self._paused:
                self._paused = False
                # mid-way through the fade-out: fade in from the gain reached (no step)
                done = pos - self._fade_out[0] if self._fade_out is not None else \
                    self.fade_frames
                self._fade_out = None
                self._fade_in = pos - (self.fade_frames - done)
        elif kind == "temperature":
            self._override(cmd[1])

    def _jump(self, frame: int, *, fade: bool) -> None:
        self._xfade = None
        self._gain = None
        self._fade_in = frame if fade else None
        if self._offset_pts:  # the offset holds where the listener lands: rebuild it flat
            self._offset_pts = [(0.0, self._offset)]
            self._src = _Source(self._build(), frame, self.block_frames, self.frames)
        else:
            self._src.start(frame)
        self.finished = False

    def _override(self, offset: float) -> None:
        if offset == self._offset:
            return
        q = self._src.pos
        t = q / self.sr
        now = float(self._offset_at(np.array([t]))[0])
        pts = [p for p in self._offset_pts if p[0] < t] or [(0.0, now)]
        pts += [(t, now), (t + GLIDE_S, offset, "cos")]
        self._offset_pts, self._offset = pts, offset
        old = self._src
        self._src = _Source(self._build(), q, self.block_frames, self.frames)
        self._xfade = (old, q, max(1, int(round(XFADE_S * self.sr))))

    def _build(self):
        """The session built again with the planned temperature plus the offset curve."""
        from ..graph.curves import Curve
        from ..recipe.session import build_session

        planned = self.session.temperature.evaluate
        shift = Curve(self._offset_pts)

        def heard(t):
            t = np.asarray(t, dtype=np.float64)
            return np.clip(planned(t) + shift.evaluate(t), 0.0, 1.0)
        return build_session(self.recipe, sr=self.sr, seed=self.session.seed,
                             temperature=heard)

    def _start_job(self) -> None:
        if callable(self._job):
            self._job = self._job()

    def _poll_job(self) -> None:
        if self._job is None:
            return
        if callable(self._job):  # a second of sound is out: start measuring
            if self._frames_out >= self.sr:
                self._start_job()
            return
        if not self._job.done():
            return
        job, self._job = self._job, None
        stage = job.result()
        if stage is None:  # the measurement failed: keep the estimate
            self.measure_error = job.error
            return
        ratio_db = self.mastering.gain_db - stage.gain_db
        self.mastering = stage
        if abs(ratio_db) > 1e-12:
            self._gain = (self._src.pos, max(1, int(round(GAIN_GLIDE_S * self.sr))), ratio_db)

    def wait_for_measurement(self, timeout: float | None = None) -> bool:
        """Wait for the background measurement (if any); True once none is running."""
        self._start_job()
        if self._job is not None:
            self._job.wait(timeout)
        return self._job is None or self._job.done()

    def close(self) -> None:
        """Stop a background measurement (nothing is stored then)."""
        if self._job is not None and not callable(self._job):
            self._job.cancel()
        self._job = None
