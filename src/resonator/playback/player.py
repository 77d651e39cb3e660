"""Real-time playback of a :class:`~resonator.playback.stream.SessionStream`.

A renderer thread reads the stream ahead into a bounded buffer (:data:`BUFFER_S`); the
audio device's callback takes frames from it. Controls (seek, pause, resume, temperature)
act at the frame :data:`MARGIN_S` after the one sounding: what was buffered beyond it is
dropped and the stream rewound there (when nothing but plain reading happened since), so a
key acts within a tenth of a second however full the buffer is. Underruns (the device asked
and the buffer was empty) are counted.
"""
from __future__ import annotations

import collections
import threading
import time

import numpy as np

BUFFER_S = 1.5  #: how far the renderer reads ahead
MARGIN_S = 0.1  #: controls act this long after the frame sounding now
READ_FRAMES = 2048  #: frames the renderer reads at a time


class Player:
    """Plays a session stream through an audio output: the controller :func:`play` returns.

    Parameters
    ----------
    stream : SessionStream
    output : callable(fill, sr=, channels=) -> object with start() and close(), optional
        Opens the device (default :class:`~resonator.playback.backend.SoundDeviceOutput`
        with ``device``); tests pass a fake that records what it is fed.
    device : int or str, optional
        Output device index or part of its name.

    Attributes
    ----------
    underruns : int
        Times the device asked for frames the renderer had not made yet.
    first_audio_s : float or None
        ``time.perf_counter()`` when the device first got session samples.
    """

    def __init__(self, stream, *, output=None, device=None):
        self.stream = stream
        self.sr = stream.sr
        self._open = output
        self._device = device
        self._ring: collections.deque = collections.deque()  # [frame|None, epoch, data, used]
        self._ring_frames = 0
        self._ring_lock = threading.Lock()
        self._ctl = threading.Lock()  # held by the renderer while reading; by controls
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.done = threading.Event()
        self._head = stream.position  # session frame of the next frame the device gets
        self.underruns = 0
        self.first_audio_s: float | None = None
        self.error: BaseException | None = None
        self._out = None
        self._thread = None

    # ------------------------------------------------------------------ running
    def start(self) -> "Player":
        """Read the first frames, open the output and start playing; returns self."""
        self._produce()  # the first frames are there before the device asks
        if self._open is None:
            from .backend import SoundDeviceOutput

            self._out = SoundDeviceOutput(self._fill, sr=self.sr,
                                          channels=self.stream.channels, device=self._device)
        else:
            self._out = self._open(self._fill, sr=self.sr, channels=self.stream.channels)
        self._out.start()  # the first frames are ready: the renderer starts beside the device
        self._thread = threading.Thread(target=self._run, name="resonator-render", daemon=True)
        self._thread.start()
        return self

    def _produce(self) -> None:
        with self._ctl:
            data, spans = self.stream.read_spans(READ_FRAMES)
            epoch = self.stream.epoch
        with self._ring_lock:
            for off, n, frame in spans:
                if frame is None and self.stream.finished:
                    continue  # past the end: the device drains and stops
                self._ring.append([frame, epoch, data[off:off + n], 0])
                self._ring_frames += n

    def _idle(self) -> bool:
        s = self.stream
        if s.pending:
            return False  # a control waits to be applied (also while paused)
        return s.finished or s.silent or self._ring_frames >= BUFFER_S * self.sr

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if self._idle():
                    self._wake.wait(0.02)
                    self._wake.clear()
                    continue
                self._produce()
        except BaseException as exc:  # noqa: BLE001 - reported by wait()/stop()
            self.error = exc
            self.done.set()

    def _fill(self, frames: int) -> np.ndarray:
        """The device's next ``frames`` frames (its callback)."""
        out = np.zeros((frames, self.stream.channels), dtype=np.float32)
        i = 0
        with self._ring_lock:
            while i < frames and self._ring:
                e = self._ring[0]
                take = min(frames - i, e[2].shape[0] - e[3])
                out[i:i + take] = e[2][e[3]:e[3] + take]
                e[3] += take
                i += take
                self._ring_frames -= take
                if e[0] is not None:
                    self._head = e[0] + e[3]
                if e[3] == e[2].shape[0]:
                    self._ring.popleft()
            short = i < frames
        self._wake.set()
        if short:
            if self.stream.finished:
                self.done.set()
            elif not self.stream.silent:
                self.underruns += 1
        if self.first_audio_s is None and i and np.any(out[:i]):
            self.first_audio_s = time.perf_counter()
        return out

    # ------------------------------------------------------------------ controls
    def _control(self, action) -> None:
        """Drop what is buffered past the margin, rewind the stream there when that is
        safe (nothing but reading happened since), then ``action(stream)``."""
        margin = int(round(MARGIN_S * self.sr))
        with self._ctl:
            with self._ring_lock:
                kept, keep_n, dropped = [], 0, []
                for e in self._ring:
                    avail = e[2].shape[0] - e[3]
                    if keep_n >= margin:
                        dropped.append(e)
                    elif keep_n + avail > margin:
                        cut = e[3] + margin - keep_n
                        kept.append([e[0], e[1], e[2][:cut], e[3]])
                        tail_frame = None if e[0] is None else e[0] + cut
                        dropped.append([tail_frame, e[1], e[2][cut:], 0])
                        keep_n = margin
                    else:
                        kept.append(e)
                        keep_n += avail
                sounding = [e for e in dropped if e[0] is not None]
                ok = all(e[1] == self.stream.epoch for e in sounding) and all(
                    b[0] == a[0] + a[2].shape[0] for a, b in zip(sounding, sounding[1:]))
                if dropped and ok:
                    self._ring = collections.deque(kept)
                    self._ring_frames = sum(e[2].shape[0] - e[3] for e in kept)
                    if sounding:
                        self.stream.rewind(sounding[0][0])
            action(self.stream)
        self._wake.set()

    def pause(self) -> None:
        """Fade out and hold (a tenth of a second from now)."""
        self._control(lambda s: s.pause())

    def resume(self) -> None:
        """Go on where it paused, fading in."""
        self._control(lambda s: s.resume())

    def toggle(self) -> None:
        """Pause when playing, resume when paused."""
        self._control(lambda s: s.resume() if s.paused else s.pause())

    def seek(self, t_s: float) -> None:
        """Go on at ``t_s`` seconds of the session (clamped into it)."""
        self._control(lambda s: s.seek(t_s))

    def seek_by(self, delta_s: float) -> None:
        """Move by ``delta_s`` seconds from the frame sounding now."""
        self.seek(self.position_s + delta_s)

    def next_phase(self) -> None:
        """Jump to the start of the next phase (nothing after the last)."""
        t = self.position_s
        starts = [start for _, start, _ in self.stream.session.phases if start > t + 0.5]
        if starts:
            self.seek(starts[0])

    def previous_phase(self) -> None:
        """Jump to the start of this phase, or of the one before within its first 3 s."""
        t = self.position_s
        starts = [start for _, start, _ in self.stream.session.phases if start <= t]
        if len(starts) > 1 and t - starts[-1] < 3.0:
            self.seek(starts[-2])
        elif starts:
            self.seek(starts[-1])

    def set_temperature(self, offset: float) -> None:
        """Shift the planned temperature by ``offset`` (see
        :meth:`SessionStream.set_temperature`); bound parameters glide there."""
        self._control(lambda s: s.set_temperature(offset))

    def shift_temperature(self, delta: float) -> None:
        """Add ``delta`` to the offset, keeping the temperature heard now within 0..1."""
        planned, _ = self.stream.temperature(self.position_s)
        offset = min(max(self.stream.temperature_offset + delta, -planned), 1.0 - planned)
        self.set_temperature(round(offset, 6))

    @property
    def position(self) -> int:
        """The session frame the device gets next."""
        return self._head

    @property
    def position_s(self) -> float:
        return self._head / self.sr

    @property
    def paused(self) -> bool:
        return self.stream.paused

    @property
    def buffered_s(self) -> float:
        """Seconds read ahead of the device."""
        return self._ring_frames / self.sr

    def status(self) -> dict:
        """What a status line shows: time, phase, temperatures, layers, buffer, underruns."""
        t = self.position_s
        s = self.stream.session
        planned, heard = self.stream.temperature(t)
        at = np.array([t])
        layers = [i.name for i in s.layers if float(i.envelope.evaluate(at)[0]) > 0.0]
        return {"position_s": t, "duration_s": s.duration_s, "phase": s.phase_at(t),
                "temperature_planned": planned, "temperature": heard,
                "temperature_offset": self.stream.temperature_offset, "layers": layers,
                "buffer_s": self.buffered_s, "underruns": self.underruns,
                "paused": self.paused, "gain_estimated": bool(self.stream.mastering.estimated)}

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the session has played to its end (True) or ``timeout`` passed."""
        ended = self.done.wait(timeout)
        if self.error is not None:
            raise self.error
        return ended

    def stop(self) -> None:
        """Stop playing and release the device (safe to call twice)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._out is not None:
            out, self._out = self._out, None
            out.close()
        self.stream.close()
        self.done.set()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def play(session, *, start_s: float = 0.0, device=None, mastering=None, output=None) -> Player:
    """Play a session through the audio output, from any moment, and return its controller.

    Parameters
    ----------
    session : Session, Recipe or path
        What to play (a path may be a TOML recipe or an ``.sbg`` sequence).
    start_s : float >= 0
        Where to start, in seconds.
    device : int or str, optional
        Output device index or part of its name (``resonator play --list-devices``).
    mastering : Mastering, optional
        Mastering stage (default: cached, else estimated while the exact one is measured in
        the background; see :class:`~resonator.playback.stream.SessionStream`).
    output : callable, optional
        Opens the audio output (for tests: a fake device).

    Returns
    -------
    Player
        ``pause()``, ``resume()``, ``seek(t_s)``, ``set_temperature(offset)``, ``stop()``,
        ``position_s``, ``status()``, ``wait()``.

    Raises
    ------
    resonator.playback.backend.NoAudioOutput
        No PortAudio library or no output device.

    Examples
    --------
    >>> import resonator
    >>> p = resonator.play("recipes/focus.toml", start_s=600)   # doctest: +SKIP
    >>> p.set_temperature(0.1); p.seek(1500); p.pause(); p.stop()
    """
    from .stream import SessionStream

    if output is None:  # fail before any rendering when there is no device
        from .backend import output_devices

        if not output_devices():
            from .backend import NoAudioOutput

            raise NoAudioOutput("no audio output device found (PortAudio lists none)")
    stream = SessionStream(session, start_s=start_s, mastering=mastering)
    player = Player(stream, output=output, device=device)
    try:
        return player.start()
    except BaseException:
        player.stop()
        raise
