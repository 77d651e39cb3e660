"""Audio output through PortAudio (the ``sounddevice`` package).

Why sounddevice rather than ``pedalboard.io.AudioStream`` (pedalboard is a dependency
already): PortAudio calls us back for exactly the frames the device needs next, so the
player knows which session frame is sounding (seek, pause and the temperature override act
at the next frame not yet played, not after a device buffer we cannot see), and an
underflow is reported to us. Measured here on the ALSA null device: ``import sounddevice``
plus opening and starting a stream took 0.07 s to the first callback, against 0.30 s to
import pedalboard and 0.16 s to open its ``AudioStream``, which only offers a blocking
``write`` of whole buffers. On Linux PortAudio is the system library ``libportaudio2``
(Debian); without it, or without an output device, :class:`NoAudioOutput` says so in one
line.
"""
from __future__ import annotations

import threading

import numpy as np

from ..errors import ResonatorError


class NoAudioOutput(ResonatorError):
    """No way to play audio here: PortAudio missing, no output device, or it cannot open."""


def _sd():
    try:
        import sounddevice
    except OSError as exc:  # the PortAudio shared library is missing
        raise NoAudioOutput(f"no audio output: the PortAudio library is not installed ({exc}); "
                            "on Debian/Ubuntu: apt install libportaudio2") from None
    except ImportError:
        raise NoAudioOutput("no audio output: the sounddevice package is not installed "
                            "(pip install sounddevice)") from None
    return sounddevice


def output_devices() -> list[tuple[int, str, bool]]:
    """(index, name, is the default) of every device with an output channel."""
    sd = _sd()
    try:
        devices = sd.query_devices()
        default = sd.default.device[1]
    except sd.PortAudioError as exc:
        raise NoAudioOutput(f"no audio output: {exc}") from None
    return [(i, d["name"], i == default) for i, d in enumerate(devices)
            if d["max_output_channels"] > 0]


def _choose(device, channels: int):
    devices = output_devices()
    if not devices:
        raise NoAudioOutput("no audio output device found (PortAudio lists none); "
                            "'resonator play --list-devices' shows what there is")
    if device is None:
        return None
    text = str(device).strip()
    if text.isdigit() and any(i == int(text) for i, _, _ in devices):
        return int(text)
    hits = [i for i, name, _ in devices if text.lower() in name.lower()]
    if len(hits) == 1:
        return hits[0]
    names = ", ".join(f"{i}: {name}" for i, name, _ in devices)
    what = "matches several" if hits else "matches no"
    raise NoAudioOutput(f"--device {text!r} {what} output device; choose one of {names}")


class SoundDeviceOutput:
    """A PortAudio output stream that asks ``fill(frames) -> float32 (frames, channels)``.

    Parameters
    ----------
    fill : callable(frames) -> np.ndarray
    sr, channels : int
    device : int or str, optional
        Index or part of the name of an output device (default: the system's).
    blocksize : int
        Frames per callback.
    """

    def __init__(self, fill, *, sr: int, channels: int, device=None, blocksize: int = 2048):
        sd = _sd()
        index = _choose(device, channels)
        self.underflows = 0

        def callback(outdata, frames, time, status):  # PortAudio's thread
            if status.output_underflow:
                self.underflows += 1
            outdata[:] = fill(frames)
        try:
            self._stream = sd.OutputStream(samplerate=sr, channels=channels, dtype="float32",
                                           device=index, blocksize=blocksize,
                                           latency="high", callback=callback)
        except (sd.PortAudioError, ValueError) as exc:
            raise NoAudioOutput(f"cannot open the audio output: {exc}") from None

    def start(self) -> None:
        self._stream.start()

    def close(self) -> None:
        try:
            self._stream.stop()
        finally:
            self._stream.close()


class OutputOpener:
    """Opens the output on a thread while the caller builds the session (PortAudio's set-up
    runs in C, beside the Python work); pass it as :class:`~resonator.playback.Player`'s
    ``output``, which then waits for it.

    Parameters
    ----------
    sr, channels : int
    device : int or str, optional
    """

    def __init__(self, *, sr: int, channels: int, device=None):
        self.sr, self.channels = int(sr), int(channels)
        self._fill = None
        self._out = None
        self._error: BaseException | None = None

        def fill(frames):
            f = self._fill
            return f(frames) if f is not None else np.zeros((frames, self.channels), np.float32)

        def run():
            try:
                self._out = SoundDeviceOutput(fill, sr=self.sr, channels=self.channels,
                                              device=device)
            except BaseException as exc:  # noqa: BLE001 - raised in __call__
                self._error = exc
        self._thread = threading.Thread(target=run, name="resonator-open-output", daemon=True)
        self._thread.start()

    def __call__(self, fill, *, sr: int, channels: int):
        self._thread.join()
        if self._error is not None:
            raise self._error
        if (sr, channels) != (self.sr, self.channels):
            self._out.close()
            raise NoAudioOutput(f"the output was opened for {self.sr} Hz, {self.channels} "
                                f"channels; the session plays at {sr} Hz, {channels}")
        self._fill = fill
        return self._out

    def close(self) -> None:
        """Close the output if it was opened but never handed to a player."""
        self._thread.join()
        if self._out is not None and self._fill is None:
            self._out.close()
            self._out = None
